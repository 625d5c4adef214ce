using System.Text.Json;
using System.Xml.Linq;
using Mmspec.Zoo;

namespace Mmspec.Tests.Cli;

/// <summary>An expectations file excuses the failures it lists, and says which of its lines passed and can go.</summary>
[Trait("Category", "Cli")]
public sealed class ExpectationsTests
{
    private static readonly ZooMember Member = ZooCatalogue.Find("umap-wrong-phys");

    [Theory]
    [InlineData("MAP-17   # known: mm_umap_single returns the raw entry\nMAP-11\nMAP-13  # the same bug, seen by other sequences")]
    [InlineData("# by property rather than clause\nstateful.mapping\n")]
    public void Listed_failure_is_expected_fail_and_exits_0(string expectations)
    {
        using var scratch = new ScratchDirectory();
        string file = scratch.Write("expect.txt", expectations);
        CliRun run = CliRun.Of("check", "--impl", "zoo:umap-wrong-phys", "--shard", CheckZooTests.ShardHolding(Member.CaughtBy),
            "--expect", file, "--report", scratch["reports"]);

        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Matches(@"(?m)^MAP-17\s+expected-fail\s+stateful\.mapping$", run.Stdout);
        Assert.Contains("zoo:umap-wrong-phys: conformant", run.Stdout);
        var reports = new ReportFiles(scratch["reports"]);
        Assert.Equal("conformant", ReportFiles.Verdict(reports.Json));
        JsonElement property = reports.Property(Member.CaughtBy);
        Assert.Equal("expected-fail", ReportFiles.Verdict(property));
        // the bug breaks MAP-11, MAP-13 and MAP-17; which the search finds first depends on the generators
        string first = property.GetProperty("failure").GetProperty("clause").GetString()!;
        Assert.Contains(first, new[] { "MAP-11", "MAP-13", "MAP-17" });
        XElement testCase = reports.Junit.Descendants("testcase").Single(t => (string?)t.Attribute("name") == Member.CaughtBy);
        Assert.Null(testCase.Element("failure"));
        Assert.StartsWith($"expected failure [{first}]", (string?)testCase.Element("skipped")?.Attribute("message"));
        Assert.Contains("Expected failure: MAP-17", reports.Markdown);
    }

    [Fact]
    public void Failure_of_a_clause_not_listed_still_exits_1()
    {
        using var scratch = new ScratchDirectory();
        string file = scratch.Write("expect.txt", "HEAP-01\n");
        CliRun run = CliRun.Of("check", "--impl", "zoo:umap-wrong-phys", "--shard", CheckZooTests.ShardHolding(Member.CaughtBy), "--expect", file);

        Assert.True(run.ExitCode == 1, run.ToString());
        Assert.Matches(@"(?m)^MAP-17\s+fail\s+stateful\.mapping$", run.Stdout);
    }

    [Fact]
    public void Listed_clause_that_passed_is_reported_for_trimming()
    {
        using var scratch = new ScratchDirectory();
        string file = scratch.Write("expect.txt", "# fixed since\n\nHEAP-01  # was: kmalloc returned NULL\n");
        CliRun run = CliRun.Of("check", "--shard", CheckZooTests.ShardHolding("stateful.heap"), "--max-test", "5",
            "--expect", file, "--report", scratch["reports"]);

        Assert.True(run.ExitCode == 0, run.ToString());
        string trim = $"HEAP-01 (line 3) expected to fail but passed: trim it from {file}";
        Assert.Contains(trim, run.Stdout);
        var reports = new ReportFiles(scratch["reports"]);
        JsonElement stale = Assert.Single(reports.Json.GetProperty("staleExpectations").EnumerateArray());
        Assert.Equal("HEAP-01", stale.GetProperty("id").GetString());
        Assert.Equal(3, stale.GetProperty("line").GetInt32());
        Assert.Contains(trim, reports.Markdown);
        Assert.Contains(trim, reports.Junit.Descendants("system-out").Single().Value);
    }

    [Fact]
    public void Listed_clause_no_property_of_this_shard_checks_is_not_reported_stale()
    {
        using var scratch = new ScratchDirectory();
        string file = scratch.Write("expect.txt", "DMAP-03\n");
        CliRun run = CliRun.Of("check", "--shard", CheckZooTests.ShardHolding("stateful.heap"), "--max-test", "5", "--expect", file);

        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.DoesNotContain("trim it", run.Stdout);
    }

    /// <summary>umap-wrong-phys breaks the umap clauses, map-get-drops-offset the lookup ones: both in stateful.mapping.</summary>
    private static readonly ZooMember TwoBugs = ZooCatalogue.Find("umap-wrong-phys+map-get-drops-offset");

    [Fact]
    public void An_expected_clause_does_not_hide_a_second_bug_of_the_same_property()
    {
        using var scratch = new ScratchDirectory();
        string file = scratch.Write("expect.txt", "# the umap bug is known\nMAP-11\nMAP-13\nMAP-17\n");
        CliRun run = CliRun.Of("check", "--impl", $"zoo:{TwoBugs.Name}", "--shard", CheckZooTests.ShardHolding(TwoBugs.CaughtBy),
            "--expect", file, "--report", scratch["reports"]);

        Assert.True(run.ExitCode == 1, run.ToString());
        var reports = new ReportFiles(scratch["reports"]);
        JsonElement property = reports.Property(TwoBugs.CaughtBy);
        Assert.Equal("fail", ReportFiles.Verdict(property));
        JsonElement[] failures = property.GetProperty("failures").EnumerateArray().ToArray();
        string[] unexpected = failures.Where(f => !f.GetProperty("expected").GetBoolean()).Select(f => f.GetProperty("clause").GetString()!).ToArray();
        Assert.NotEmpty(unexpected);
        Assert.All(unexpected, clause => Assert.Contains(clause, new[] { "MAP-07", "DMAP-05" }));
        Assert.Contains(failures, f => f.GetProperty("expected").GetBoolean());
        foreach (string clause in unexpected)
        {
            Assert.Matches($"(?m)^{clause}\\s+fail\\s+{TwoBugs.CaughtBy}$", run.Stdout);
            Assert.True(File.Exists(scratch[$"reports/repro/{TwoBugs.CaughtBy}.{clause}.c"]));
        }
    }

    [Fact]
    public void Max_failures_1_stops_each_property_at_its_first_failure_nobody_expected()
    {
        using var scratch = new ScratchDirectory();
        CliRun run = CliRun.Of("check", "--impl", $"zoo:{TwoBugs.Name}", "--shard", CheckZooTests.ShardHolding(TwoBugs.CaughtBy),
            "--max-failures", "1", "--report", scratch.Path);

        Assert.True(run.ExitCode == 1, run.ToString());
        JsonElement property = new ReportFiles(scratch.Path).Property(TwoBugs.CaughtBy);
        Assert.Single(property.GetProperty("failures").EnumerateArray());
        Assert.False(property.GetProperty("completed").GetBoolean());
        Assert.Contains("--max-failures 1", new ReportFiles(scratch.Path).Markdown);
    }
}
