using System.Text.Json;
using System.Text.RegularExpressions;
using Mmspec.Tests.Native;

namespace Mmspec.Tests.Cli;

/// <summary>
/// --jobs N checks up to N properties at once: the verdicts, counterexamples, reports and the order of the output are
/// those of one property after another; only the times differ. An interrupted run reports every property it started.
/// </summary>
[Trait("Category", "Cli")]
public sealed partial class JobsTests
{
    [Fact]
    public void Several_jobs_give_the_verdicts_counterexamples_and_output_of_one()
    {
        using var scratch = new ScratchDirectory();
        CliRun one = CliRun.Of("check", "--impl", "zoo:kfree-poisons-neighbour", "--max-test", "30", "--jobs", "1", "--report", scratch["one"]);
        CliRun three = CliRun.Of("check", "--impl", "zoo:kfree-poisons-neighbour", "--max-test", "30", "--jobs", "3", "--report", scratch["three"]);

        Assert.True(one.ExitCode == 1, one.ToString());
        Assert.Equal(one.ExitCode, three.ExitCode);
        Assert.Equal(WithoutTimes(one.Stdout.Replace(scratch["one"], "<reports>")), WithoutTimes(three.Stdout.Replace(scratch["three"], "<reports>")));
        Assert.Equal(WithoutTimes(one.Stderr.Replace(scratch["one"], "<reports>")), WithoutTimes(three.Stderr.Replace(scratch["three"], "<reports>")));
        Assert.Equal(Properties(scratch["one"]), Properties(scratch["three"]));
        Assert.Equal(File.ReadAllText(Path.Combine(scratch["one"], "results.ktap")).Split('\n').Length,
                     File.ReadAllText(Path.Combine(scratch["three"], "results.ktap")).Split('\n').Length);
    }

    [Theory]
    [InlineData("0")]
    [InlineData("65")]
    [InlineData("two")]
    public void A_number_of_jobs_out_of_range_is_a_usage_error(string jobs)
    {
        CliRun run = CliRun.Of("check", "--jobs", jobs);
        Assert.True(run.ExitCode == 2, run.ToString());
        Assert.Contains($"--jobs '{jobs}'", run.Stderr);
    }

    [Fact]
    public void An_interrupted_run_of_two_jobs_reports_both_properties_it_started_as_interrupted()
    {
        using var scratch = new ScratchDirectory();
        using CliProcess check = CliProcess.Start(null, "check", "--max-test", "1000000", "--jobs", "2", "--report", scratch.Path);
        check.WaitForStderr(": running", TimeSpan.FromMinutes(1));
        Thread.Sleep(1000);
        check.Signal("INT");
        CliRun run = check.WaitForExit(TimeSpan.FromMinutes(1));

        Assert.True(run.ExitCode == 130, run.ToString());
        Assert.Contains("interrupted by SIGINT: 2 of 9 properties ran", run.Stdout);
        JsonElement report = JsonDocument.Parse(File.ReadAllText(Path.Combine(scratch.Path, "report.json"))).RootElement;
        var verdicts = report.GetProperty("properties").EnumerateArray().Select(property => property.GetProperty("verdict").GetString()).ToList();
        Assert.Equal(["interrupted", "interrupted"], verdicts);
    }

    private static string WithoutTimes(string text) => Times().Replace(text, "<time>");

    /// <summary>Per property: its id, verdict, tests, steps and failures' clauses, messages and shrunk sequences.</summary>
    private static string Properties(string reportDirectory)
    {
        JsonElement report = JsonDocument.Parse(File.ReadAllText(Path.Combine(reportDirectory, "report.json"))).RootElement;
        return string.Join("\n", report.GetProperty("properties").EnumerateArray().Select(property =>
            $"{property.GetProperty("id")} {property.GetProperty("verdict")} {property.GetProperty("tests")} {property.GetProperty("steps")} "
            + (property.TryGetProperty("failures", out JsonElement failures) ? WithoutTimes(failures.ToString()) : "")));
    }

    [GeneratedRegex(@"\d+(\.\d+)? (s|ms)\b")]
    private static partial Regex Times();
}
