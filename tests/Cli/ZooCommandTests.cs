using Mmspec.Zoo;

namespace Mmspec.Tests.Cli;

[Trait("Category", "Cli")]
public sealed class ZooCommandTests
{
    [Fact]
    public void Zoo_lists_every_member_one_name_per_line_and_nothing_else()
    {
        CliRun run = CliRun.Of("zoo");
        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Equal(ZooCatalogue.All.Select(member => member.Name), run.Stdout.TrimEnd('\n').Split('\n'));
        Assert.Equal("", run.Stderr);
    }
}
