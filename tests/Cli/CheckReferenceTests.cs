using System.Text.Json;
using System.Xml.Linq;
using Mmspec.Cli;
using Mmspec.SpecTests.Catalogue;
using Mmspec.SpecTests.Properties;

namespace Mmspec.Tests.Cli;

/// <summary>The reference is conformant in both profiles, and a run leaves the three reports behind.</summary>
[Trait("Category", "Cli")]
public sealed class CheckReferenceTests
{
    // The one full default run of these tests: everything else uses a small --max-test.
    [Fact]
    public void Full_default_run_on_the_reference_exits_0_and_writes_the_three_reports()
    {
        using var scratch = new ScratchDirectory();
        CliRun run = CliRun.Of("check", "--report", scratch.Path);

        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Contains("reference: conformant", run.Stdout);
        Assert.Matches(@"(?m)^PHYS-01\s+pass\s+stateful\.", run.Stdout);
        int units = WorkPlan.Units(Profile.Default).Count;
        Assert.Contains($"[1/{units}] {PropertyCatalogue.All[0].Id}: running", run.Stderr);

        var reports = new ReportFiles(scratch.Path);
        JsonElement json = reports.Json;
        Assert.Equal("reference", json.GetProperty("implementation").GetString());
        Assert.Equal("default", json.GetProperty("profile").GetString());
        Assert.Equal(RunSettings.DefaultSeed, json.GetProperty("seed").GetUInt64());
        Assert.Equal(100, json.GetProperty("maxTest").GetInt32());
        Assert.Equal("1/1", json.GetProperty("shard").GetString());
        Assert.Equal("conformant", ReportFiles.Verdict(json));
        Assert.Equal(WorkPlan.Units(Profile.Default).Select(p => p.Id), reports.Properties.Select(p => p.GetProperty("id").GetString()));
        Assert.All(reports.Properties, property =>
        {
            Assert.Equal("pass", ReportFiles.Verdict(property));
            Assert.Equal(100, property.GetProperty("tests").GetInt32());
            Assert.True(property.GetProperty("steps").GetInt64() > 0);
        });
        Assert.Equal(ClauseCatalogue.Load().InProfile(Profile.Default).Select(c => c.Id), reports.Clauses.Select(c => c.GetProperty("id").GetString()));
        Assert.All(reports.Clauses, clause => Assert.Equal("pass", ReportFiles.Verdict(clause)));

        XElement suite = Assert.Single(reports.Junit.Root!.Elements("testsuite"));
        Assert.Equal(units, suite.Elements("testcase").Count());
        Assert.All(suite.Elements("testcase"), testCase => Assert.Equal("reference", (string?)testCase.Attribute("classname")));
        Assert.Empty(suite.Descendants("failure"));
        Assert.Equal("0", (string?)suite.Attribute("failures"));

        string header = reports.Markdown.Split('\n')[0];
        Assert.Contains("`reference`", header);
        Assert.Contains("`default`", header);
        Assert.Contains($"`{RunSettings.DefaultSeed}`", header);
        Assert.Contains("**conformant**", header);
        Assert.Contains("| PHYS-01 | pass |", reports.Markdown);
        Assert.False(Directory.Exists(scratch["repro"]), "a passing run has nothing to reproduce");
    }

    [Fact]
    public void Strict_profile_runs_the_implementation_defined_clauses_too()
    {
        using var scratch = new ScratchDirectory();
        CliRun run = CliRun.Of("check", "--profile", "strict", "--max-test", "5", "--seed", "0x2A", "--report", scratch.Path);

        Assert.True(run.ExitCode == 0, run.ToString());
        var reports = new ReportFiles(scratch.Path);
        Assert.Equal("strict", reports.Json.GetProperty("profile").GetString());
        Assert.Equal(42UL, reports.Json.GetProperty("seed").GetUInt64());
        Assert.Equal(ClauseCatalogue.Load().InProfile(Profile.Strict).Select(c => c.Id), reports.Clauses.Select(c => c.GetProperty("id").GetString()));
        Assert.Contains(reports.Clauses, clause => clause.GetProperty("kind").GetString() == "implementation-defined");
        Assert.DoesNotContain(reports.Clauses, clause => ReportFiles.Verdict(clause) is "fail" or "untested");
    }

    [Theory]
    [InlineData("5M", 5UL << 20)]
    [InlineData("2048K", 2UL << 20)]
    [InlineData("16781312", 16781312UL)]
    public void Ram_size_is_taken_as_given_and_reported(string ram, ulong bytes)
    {
        using var scratch = new ScratchDirectory();
        CliRun run = CliRun.Of("check", "--ram", ram, "--max-test", "3", "--report", scratch.Path);

        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Contains($"RAM {bytes >> 10} KiB", run.Stderr);
        Assert.Equal(bytes, new ReportFiles(scratch.Path).Json.GetProperty("ramSize").GetUInt64());
    }

    [Theory]
    [InlineData("zoo:umap-wrong-phys", "zoo:umap-wrong-phys")]
    [InlineData("native:/home/me/my kernel/libmm.so", "'native:/home/me/my kernel/libmm.so'")]
    [InlineData("native:/tmp/it's.so", "'native:/tmp/it'\\''s.so'")]
    public void The_replay_command_keeps_every_option_and_quotes_for_the_shell(string implementation, string quoted)
    {
        var options = new CheckOptions { Seed = 7, MaxTest = 20, RamSize = 5UL << 20, CallTimeout = TimeSpan.FromSeconds(0.5), SequenceTimeout = TimeSpan.FromSeconds(60) };
        Assert.Equal($"check --impl {quoted} --profile default --seed 7 --max-test 20 --ram 5242880 --call-timeout 0.5 --sequence-timeout 60",
            options.ReplayCommand(implementation));
    }

    [Fact]
    public void A_failure_at_another_ram_size_replays_with_it()
    {
        using var scratch = new ScratchDirectory();
        CliRun run = CliRun.Of("check", "--impl", "zoo:umap-wrong-phys", "--ram", "16M", "--report", scratch.Path);

        Assert.True(run.ExitCode == 1, run.ToString());
        var reports = new ReportFiles(scratch.Path);
        Assert.Contains("--ram 16777216`", reports.Markdown);
        JsonElement failure = reports.Properties.Select(p => p.GetProperty("failure")).First(f => f.ValueKind == JsonValueKind.Object);
        Assert.InRange(failure.GetProperty("ramSize").GetUInt64(), (16UL << 20) - 63 * 4096, 16UL << 20);
    }
}
