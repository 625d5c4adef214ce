namespace Mmspec.Tests.Cli;

/// <summary>A user mistake exits 2 with one line on stderr naming it: no help dump, no stack trace, nothing run.</summary>
[Trait("Category", "Cli")]
public sealed class UsageErrorTests
{
    [Theory]
    [InlineData("check --bogus", "'--bogus'")]
    [InlineData("check --profile lax", "--profile 'lax'")]
    [InlineData("check --shard 3/2", "--shard '3/2'")]
    [InlineData("check --shard 0/2", "--shard '0/2'")]
    [InlineData("check --shard 1/0", "--shard '1/0'")]
    [InlineData("check --shard half", "--shard 'half'")]
    [InlineData("check --max-failures 0", "--max-failures '0'")]
    [InlineData("check --max-failures 65", "--max-failures '65'")]
    [InlineData("check --seed 12x", "--seed '12x'")]
    [InlineData("check --seed", "--seed")]
    [InlineData("check --max-test 0", "--max-test '0'")]
    [InlineData("check --ram 1M", "--ram '1M'")]
    [InlineData("check --ram 2G", "--ram '2G'")]
    [InlineData("check --ram 5000", "--ram '5000'")]
    [InlineData("check --ram 8MB", "--ram '8MB'")]
    [InlineData("check --ram 99999999999999999999G", "--ram '99999999999999999999G'")]
    [InlineData("check --impl zoo:no-such-bug", "no-such-bug")]
    [InlineData("check --impl mine", "--impl 'mine'")]
    [InlineData("check --impl native:/no/such/libmm.so", "native:/no/such/libmm.so: no such file")]
    [InlineData("check --expect /no/such/expectations.txt", "/no/such/expectations.txt: no such file")]
    [InlineData("check --impl zoo:umap-wrong-phys --report /proc", "--report /proc: cannot write there")]
    [InlineData("check --audit lazy", "--audit 'lazy'")]
    [InlineData("check --call-timeout 0", "--call-timeout '0'")]
    [InlineData("check --sequence-timeout soon", "--sequence-timeout 'soon'")]
    [InlineData("check --call-timeout 5", "native:<path> implementations only")]
    [InlineData("check --impl zoo:umap-wrong-phys --sequence-timeout 5", "native:<path> implementations only")]
    [InlineData("check stray-argument", "'stray-argument'")]
    [InlineData("frobnicate", "'frobnicate'")]
    [InlineData("", "command")]
    public void Mistake_exits_2_with_one_line_naming_it(string commandLine, string named)
    {
        CliRun run = CliRun.Of(commandLine.Split(' ', StringSplitOptions.RemoveEmptyEntries));
        AssertOneLineUsageError(run, named);
    }

    [Fact]
    public void Native_file_that_is_not_a_library_is_a_configuration_error()
    {
        using var scratch = new ScratchDirectory();
        string library = scratch.Write("libmm.so", "not really a library");
        CliRun run = CliRun.Of("check", "--impl", $"native:{library}");
        AssertOneLineUsageError(run, $"--impl native:{library}: cannot be loaded: ");
    }

    [Fact]
    public void Expectations_file_with_an_unknown_ID_is_refused_with_its_line_number()
    {
        using var scratch = new ScratchDirectory();
        string file = scratch.Write("expect.txt", "# known failures\nMAP-13   # returns the raw entry\n\nMAP-99\n");
        CliRun run = CliRun.Of("check", "--expect", file);
        AssertOneLineUsageError(run, $"{file}:4: unknown ID 'MAP-99'");
    }

    [Fact]
    public void Report_directory_that_cannot_be_created_is_refused_before_anything_runs()
    {
        using var scratch = new ScratchDirectory();
        string file = scratch.Write("occupied", "a file where the directory should go");
        CliRun run = CliRun.Of("check", "--report", Path.Combine(file, "reports"));
        AssertOneLineUsageError(run, "--report");
    }

    private static void AssertOneLineUsageError(CliRun run, string named)
    {
        Assert.True(run.ExitCode == 2, run.ToString());
        Assert.Equal("", run.Stdout);
        string[] lines = run.Stderr.TrimEnd().Split('\n');
        Assert.True(lines.Length == 1, $"expected one line on stderr:\n{run.Stderr}");
        Assert.StartsWith("mmspec: ", lines[0]);
        Assert.Contains(named, lines[0]);
        Assert.DoesNotContain("Exception", lines[0]);
    }
}
