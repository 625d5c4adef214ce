using System.Text.Json;
using Mmspec.Tests.Native;

namespace Mmspec.Tests.Cli;

/// <summary>
/// SIGINT and SIGTERM stop a run after its current sequence: what ran is printed and written, marked interrupted,
/// nothing is left behind, and the exit code is the shell's 128 + signal. Runs the real command line, since only a
/// process receives signals.
/// </summary>
[Trait("Category", "Cli")]
public sealed class InterruptTests
{
    [Theory]
    [InlineData("INT", "SIGINT", 130)]
    [InlineData("TERM", "SIGTERM", 143)]
    public void A_signal_stops_the_run_after_the_current_sequence_with_reports_marked_interrupted(string signal, string name, int exitCode)
    {
        using var scratch = new ScratchDirectory();
        // One property at a time, so that exactly one was running (JobsTests has several at once).
        using CliProcess check = CliProcess.Start(null, "check", "--max-test", "1000000", "--jobs", "1", "--report", scratch.Path);
        check.WaitForStderr(": running", TimeSpan.FromMinutes(1)); // inside a property, not before one
        Thread.Sleep(1000);
        check.Signal(signal);
        CliRun run = check.WaitForExit(TimeSpan.FromMinutes(1));

        Assert.True(run.ExitCode == exitCode, run.ToString());
        Assert.Contains($"interrupted by {name}: 1 of 9 properties ran", run.Stdout);
        Assert.Contains("reference: interrupted", run.Stdout);
        JsonElement report = JsonDocument.Parse(File.ReadAllText(Path.Combine(scratch.Path, "report.json"))).RootElement;
        Assert.Equal(name, report.GetProperty("interrupted").GetString());
        Assert.False(report.GetProperty("conformant").GetBoolean());
        JsonElement property = Assert.Single(report.GetProperty("properties").EnumerateArray());
        Assert.Equal("interrupted", property.GetProperty("verdict").GetString());
        Assert.InRange(property.GetProperty("tests").GetInt32(), 1, 999_999);
        Assert.Contains($"**Interrupted by {name}**", File.ReadAllText(Path.Combine(scratch.Path, "report.md")));
    }

    /// <summary>Ctrl-C in a terminal signals the whole job: the suite and its host server, but the machines run on until the suite lets go.</summary>
    [Fact]
    [Trait("Category", "Native")]
    public void Ctrl_C_on_a_native_run_stops_it_without_a_false_crash_and_leaves_no_process_or_RAM_file()
    {
        using var scratch = new ScratchDirectory();
        string library = scratch["libsample-interrupted.so"]; // a copy of its own: other tests' hosts load the sample too
        File.Copy(NativeBuild.Sample, library);
        using CliProcess check = CliProcess.Start(null, ownSession: true, "check", "--impl", $"native:{library}", "--max-test", "1000000");
        check.WaitForStderr(": running", TimeSpan.FromMinutes(1));
        Thread.Sleep(2000);
        check.Signal("INT", toGroup: true);
        CliRun run = check.WaitForExit(TimeSpan.FromMinutes(1));

        Assert.True(run.ExitCode == 130, run.ToString());
        Assert.Contains("interrupted by SIGINT", run.Stdout);
        Assert.DoesNotContain("FAILURE", run.Stdout); // the sample is conformant: no machine was pulled away mid-sequence
        Leftovers.AssertNoProcessesOf(library);
        Leftovers.AssertNoFilesStartingWith(CliProcess.ScratchPrefix(check.Id));
    }
}
