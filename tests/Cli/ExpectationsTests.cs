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
    [InlineData("MAP-17   # known: mm_umap_single returns the raw entry")]
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
        Assert.Equal("MAP-17", property.GetProperty("failure").GetProperty("clause").GetString());
        XElement testCase = reports.Junit.Descendants("testcase").Single(t => (string?)t.Attribute("name") == Member.CaughtBy);
        Assert.Null(testCase.Element("failure"));
        Assert.StartsWith("expected failure [MAP-17]", (string?)testCase.Element("skipped")?.Attribute("message"));
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
}
