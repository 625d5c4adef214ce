using System.Text.Json;
using Mmspec.Cli;
using Mmspec.Cli.Reports;
using Mmspec.SpecTests.Adapters;
using Mmspec.SpecTests.Catalogue;
using Mmspec.SpecTests.Properties;
using Mmspec.Zoo;

namespace Mmspec.Tests.Cli;

/// <summary>
/// results.ktap parses as KTAP version 1 (<see cref="KtapGrammar"/>) and says what the other reports say: a test per
/// property, a subtest per clause, failures with their shrunk sequence and seed as diagnostics.
/// </summary>
[Trait("Category", "Cli")]
public sealed class KtapReportTests
{
    [Fact]
    public void Passing_run_of_the_reference_is_KTAP_with_every_property_and_clause_ok()
    {
        using var scratch = new ScratchDirectory();
        CliRun run = CliRun.Of("check", "--shard", "1/3", "--max-test", "5", "--report", scratch.Path);
        Assert.True(run.ExitCode == 0, run.ToString());

        string ktap = new ReportFiles(scratch.Path).Ktap;
        IReadOnlyList<KtapTest> tests = KtapGrammar.Parse(ktap);

        Assert.StartsWith("KTAP version 1\n1..3\n", ktap, StringComparison.Ordinal);
        Assert.Equal(WorkPlan.Units(Profile.Default, Shard.Parse("1/3")).Select(unit => unit.Id), tests.Select(test => test.Name));
        Assert.All(tests, property =>
        {
            Assert.True(property.Ok && property.Directive is null, property.ToString());
            Assert.NotEmpty(property.Subtests);
            Assert.All(property.Subtests, clause => Assert.True(clause.Ok && clause.Directive is null, clause.ToString()));
            Assert.All(property.Subtests, clause => Assert.True(ClauseCatalogue.Load().Contains(clause.Name), clause.Name));
        });
        Assert.Contains("    # Subtest: stateful.physical\n", ktap, StringComparison.Ordinal);
        Assert.EndsWith("# reference: conformant; properties: 3 pass, 0 fail, 0 expected-fail; clauses: " + ClauseTotals(scratch.Path) + "\n", ktap, StringComparison.Ordinal);
    }

    [Fact]
    public void Failing_zoo_member_is_not_ok_at_its_property_and_clause_with_the_shrunk_sequence_and_seed_as_diagnostics()
    {
        ZooMember member = ZooCatalogue.Find("umap-wrong-phys");
        using var scratch = new ScratchDirectory();
        CliRun run = CliRun.Of("check", "--impl", "zoo:umap-wrong-phys", "--shard", CheckZooTests.ShardHolding(member.CaughtBy), "--report", scratch.Path);
        Assert.True(run.ExitCode == 1, run.ToString());

        var reports = new ReportFiles(scratch.Path);
        KtapTest property = Assert.Single(KtapGrammar.Parse(reports.Ktap));
        Assert.Equal(member.CaughtBy, property.Name);
        Assert.False(property.Ok);
        Assert.Null(property.Directive);

        JsonElement[] failures = reports.Property(member.CaughtBy).GetProperty("failures").EnumerateArray().ToArray();
        Assert.NotEmpty(failures);
        foreach (JsonElement failure in failures)
        {
            string clause = failure.GetProperty("clause").GetString()!;
            KtapTest subtest = property.Subtest(clause);
            Assert.False(subtest.Ok, subtest.ToString());
            Assert.Null(subtest.Directive);
            Assert.Contains($"seed {failure.GetProperty("seed").GetUInt64()} (0x{failure.GetProperty("seed").GetUInt64():X}), RAM 0x800000 bytes", subtest.Diagnostics);
            Assert.StartsWith($"{clause}: {failure.GetProperty("message").GetString()}", subtest.Diagnostics[0], StringComparison.Ordinal);
            Assert.Contains(subtest.Diagnostics, line => line.StartsWith("replay: ", StringComparison.Ordinal) && line.Contains("--impl zoo:umap-wrong-phys", StringComparison.Ordinal));
            int sequence = subtest.Diagnostics.ToList().IndexOf("shrunk sequence:");
            Assert.True(sequence > 0, string.Join("\n", subtest.Diagnostics));
            string[] trace = failure.GetProperty("trace").EnumerateArray().Select(call => "  " + call.GetProperty("text").GetString()).ToArray();
            Assert.Equal(trace, subtest.Diagnostics.Skip(sequence + 1).Take(trace.Length));
            Assert.Contains($"reproducers: repro/{member.CaughtBy}.{clause}.c, repro/{member.CaughtBy}.{clause}.cs", subtest.Diagnostics);
        }
        // The clauses the property checks but did not break are untested, as in the clause table: skipped, not passed.
        Assert.All(property.Subtests.Where(sub => sub.Ok), sub => Assert.Equal("SKIP", sub.Directive));
        Assert.Equal(failures.Length, property.Subtests.Count(sub => !sub.Ok));
    }

    [Fact]
    public void Expected_failures_are_ok_with_XFAIL_and_keep_their_diagnostics()
    {
        ZooMember member = ZooCatalogue.Find("umap-wrong-phys");
        using var scratch = new ScratchDirectory();
        string expect = scratch.Write("expected.txt", $"{member.CaughtBy}\n");
        CliRun run = CliRun.Of("check", "--impl", "zoo:umap-wrong-phys", "--shard", CheckZooTests.ShardHolding(member.CaughtBy), "--max-test", "30",
            "--expect", expect, "--report", scratch["reports"]);
        Assert.True(run.ExitCode == 0, run.ToString());

        KtapTest property = Assert.Single(KtapGrammar.Parse(new ReportFiles(scratch["reports"]).Ktap));
        Assert.True(property.Ok);
        Assert.Equal("XFAIL", property.Directive);
        KtapTest[] broken = property.Subtests.Where(sub => sub.Directive == "XFAIL").ToArray();
        Assert.NotEmpty(broken);
        Assert.All(broken, clause => Assert.True(clause.Ok && clause.Diagnostics.Contains("shrunk sequence:"), clause.ToString()));
        Assert.All(property.Subtests, clause => Assert.True(clause.Ok, clause.ToString()));
    }

    // A signal keeps the plan of the whole run: the property it cut short fails, the ones it kept from running are skipped.
    [Fact]
    public void Interrupted_run_plans_every_unit_fails_the_cut_property_and_skips_those_not_run()
    {
        IReadOnlyList<ISpecProperty> units = WorkPlan.Units(Profile.Default);
        ISpecProperty first = units[0];
        var cut = new PropertyResult(first.Id, Verdict.Passed, 3, 42, TimeSpan.FromSeconds(1), [], Completed: false, Interrupted: true);
        PropertyOutcome ran = ClauseVerdicts.ForProperty(first, cut, Expectations.None);
        var outcome = new CheckOutcome(new ResolvedImplementation("reference", new ReferenceFactory(), "new ReferenceFactory()"), new CheckOptions(), units.Count,
            [ran], ClauseVerdicts.ForClauses(ClauseCatalogue.Load(), Profile.Default, [ran]), Expectations.None, [], TimeSpan.FromSeconds(1))
        {
            Interrupted = "SIGINT",
            UnitsPlanned = units.Count,
        };

        string ktap = KtapReport.Render(outcome, new Dictionary<string, FailureReproducers>());
        IReadOnlyList<KtapTest> tests = KtapGrammar.Parse(ktap);

        Assert.Equal(units.Select(unit => unit.Id), tests.Select(test => test.Name));
        Assert.False(tests[0].Ok);
        Assert.Null(tests[0].Directive);
        Assert.Contains(tests[0].Diagnostics, line => line.StartsWith("interrupted by SIGINT after 3 test(s)", StringComparison.Ordinal));
        Assert.All(tests[0].Subtests, clause => Assert.Equal("SKIP", clause.Directive));
        Assert.All(tests.Skip(1), test =>
        {
            Assert.False(test.Ok);
            Assert.Equal("SKIP", test.Directive);
            Assert.Equal("not run: the run was interrupted by SIGINT", test.Reason);
            Assert.Empty(test.Subtests);
        });
    }

    private static string ClauseTotals(string reports)
    {
        JsonElement totals = new ReportFiles(reports).Json.GetProperty("totals").GetProperty("clauses");
        return string.Join(", ", totals.EnumerateObject().Select(verdict => $"{verdict.Value.GetInt32()} {verdict.Name}"));
    }
}
