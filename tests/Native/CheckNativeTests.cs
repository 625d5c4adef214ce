using Mmspec.Tests.Cli;

namespace Mmspec.Tests.Native;

/// <summary>The CLI front end on native libraries: the sample is conformant, a crashing member is not.</summary>
[Trait("Category", "Native")]
public sealed class CheckNativeTests
{
    [Fact]
    public void Check_of_the_native_sample_exits_0()
    {
        CliRun run = CliRun.Of("check", "--impl", $"native:{NativeBuild.Sample}", "--max-test", "10");
        Assert.True(run.ExitCode == 0, run.ToString());
    }

    [Fact]
    public void Check_of_a_segfaulting_member_exits_1_and_names_the_crash()
    {
        CliRun run = CliRun.Of("check", "--impl", $"native:{NativeBuild.ZooMember("umap-segfault")}", "--max-test", "30");
        Assert.True(run.ExitCode == 1, run.ToString());
        Assert.Contains("SIGSEGV", run.Stdout);
    }
}
