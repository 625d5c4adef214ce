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

    [Fact]
    public void Control_characters_in_a_panic_text_are_escaped_in_every_report()
    {
        using var scratch = new ScratchDirectory();
        CliRun run = CliRun.Of("check", "--impl", $"native:{NativeBuild.ZooMember("panic-text-controls")}", "--max-test", "20", "--report", scratch.Path);

        Assert.True(run.ExitCode == 1, run.ToString());
        Assert.Contains("\\x1B[1;31mno contiguous allocator", run.Stdout);
        Assert.DoesNotContain('\x1B', run.Stdout);
        var reports = new ReportFiles(scratch.Path);
        Assert.Contains("\\x07", reports.Markdown);
        Assert.Contains(reports.Junit.Descendants("failure"), failure => ((string?)failure.Attribute("message") ?? failure.Value).Contains("\\x1B", StringComparison.Ordinal));
        Assert.True(Directory.EnumerateFiles(scratch["repro"]).Any());
    }

    [Fact]
    public void Check_with_a_short_call_timeout_reports_a_hang_and_its_replay_keeps_the_timeout()
    {
        string reports = Path.Combine(Path.GetTempPath(), $"mmspec-hang-{Guid.NewGuid():N}");
        try
        {
            CliRun run = CliRun.Of("check", "--impl", $"native:{NativeBuild.ZooMember("vmfind-hang")}", "--call-timeout", "0.3",
                "--max-test", "20", "--report", reports);
            Assert.True(run.ExitCode == 1, run.ToString());
            Assert.Contains("host hung: no reply within 0.3 s", run.Stdout);
            string replay = File.ReadAllText(Directory.EnumerateFiles(Path.Combine(reports, "repro"), "vmfind.bounds.*.cs").First());
            Assert.Contains("callTimeout: System.TimeSpan.FromSeconds(0.3)", replay);
        }
        finally
        {
            if (Directory.Exists(reports))
                Directory.Delete(reports, recursive: true);
        }
    }
}
