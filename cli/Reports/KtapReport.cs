using System.Globalization;
using Mmspec.SpecTests.Execution;
using Mmspec.SpecTests.Properties;

namespace Mmspec.Cli.Reports;

/// <summary>
/// results.ktap: the run in KTAP version 1, the format KUnit and kselftest print, so that kernel CI tooling that
/// already parses KTAP reads mmspec's verdicts. One test per property, in run order, with a subtest per clause of the
/// run that the property checks, carrying what that property found about the clause.
/// </summary>
/// <remarks>
/// How verdicts map, for a property (top level):
/// <list type="bullet">
/// <item>pass: <c>ok</c>; fail: <c>not ok</c>;</item>
/// <item>expected-fail: <c>ok … # XFAIL</c>, as kselftest prints an expected failure: the gate accepts it, so CI must not go red;</item>
/// <item>not-applicable: <c>ok … # SKIP</c>, with no subtests;</item>
/// <item>interrupted: <c>not ok</c>, after a diagnostic saying so: the run did not finish, so it must not read as green.</item>
/// </list>
/// An interrupted run keeps the plan of the whole run (or shard): the properties a signal kept from running follow as
/// <c>not ok … # SKIP not run</c>, so a reader sees how much is missing instead of a shorter run that looks complete,
/// and a parser that ignores directives still sees a failure.
/// For a clause under a property: <c>ok</c> when the property passed; <c>not ok</c> when it broke the clause, preceded
/// by the failure (message, where, seed, replay line, swarm configuration, the shrunk sequence with the values the
/// implementation returned, the reproducer files) as diagnostic lines; <c>ok … # XFAIL</c> when it broke the clause as
/// the expectations file says, with the same diagnostics; <c>ok … # SKIP untested</c> when the property stopped at
/// other clauses' failures or was interrupted first, as the clause table counts it untested.
/// </remarks>
public static class KtapReport
{
    public static string Render(CheckOutcome outcome, IReadOnlyDictionary<string, FailureReproducers> reproducers)
    {
        IReadOnlyList<string> notRun = NotRun(outcome);
        var ktap = new KtapWriter();
        ktap.Header(outcome.Properties.Count + notRun.Count);
        CheckOptions options = outcome.Options;
        ktap.Diagnostic($"mmspec check: {outcome.Implementation.Name}, profile {CheckOptions.ProfileName(options.Profile)}, seed {options.Seed} (0x{options.Seed:X}), "
                        + $"max-test {options.MaxTest}, RAM {options.RamSize >> 10} KiB, shard {options.Shard}");

        int number = 0;
        foreach (PropertyOutcome property in outcome.Properties)
            AppendProperty(ktap, ++number, property, outcome, reproducers);
        foreach (string id in notRun)
            ktap.Result(ok: false, ++number, id, $"SKIP not run: the run was interrupted by {outcome.Interrupted}");

        foreach (StaleExpectation stale in outcome.StaleExpectations)
            ktap.Diagnostic(stale.Message);
        ktap.Diagnostic($"{outcome.Implementation.Name}: {VerdictNames.Gate(outcome)}; properties: {outcome.PropertyTotals()}; clauses: {outcome.ClauseTotals()}");
        return ktap.ToString();
    }

    // The properties of the run's plan after the last that ran: none unless a signal stopped the run.
    private static IReadOnlyList<string> NotRun(CheckOutcome outcome)
    {
        if (outcome.Interrupted is null)
            return [];
        return WorkPlan.Units(outcome.Options.Profile, outcome.Options.Shard).Select(unit => unit.Id)
            .Skip(outcome.Properties.Count).ToList();
    }

    private static void AppendProperty(KtapWriter ktap, int number, PropertyOutcome property, CheckOutcome outcome,
                                       IReadOnlyDictionary<string, FailureReproducers> reproducers)
    {
        // Before the subtests: the parent's result line must follow its subtest block directly.
        if (property.Verdict is PropertyVerdict.Interrupted)
            ktap.Diagnostic($"interrupted by {outcome.Interrupted} after {property.Result.Tests} test(s), before it ran to the end: nothing broke in what ran");
        if (property.Verdict is not PropertyVerdict.NotApplicable)
        {
            List<string> clauses = ClausesOf(property, outcome);
            KtapWriter subtests = ktap.Nested();
            subtests.Header(clauses.Count, property.Id);
            for (int i = 0; i < clauses.Count; i++)
                AppendClause(subtests, i + 1, clauses[i], property, outcome, reproducers);
        }

        switch (property.Verdict)
        {
            case PropertyVerdict.Pass:
                ktap.Result(ok: true, number, property.Id);
                break;
            case PropertyVerdict.Fail:
                ktap.Result(ok: false, number, property.Id);
                break;
            case PropertyVerdict.ExpectedFail:
                ktap.Result(ok: true, number, property.Id, $"XFAIL {Clauses(property.Failures)} broken, as {Source(outcome)} expects");
                break;
            case PropertyVerdict.NotApplicable:
                ktap.Result(ok: true, number, property.Id, "SKIP not applicable to this implementation");
                break;
            case PropertyVerdict.Interrupted:
                ktap.Result(ok: false, number, property.Id);
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(property), property.Verdict, "a property verdict KTAP has no mapping for");
        }
    }

    // The run's clauses (the profile's, then any other a failure named) that this property checks or broke, in the clause table's order.
    private static List<string> ClausesOf(PropertyOutcome property, CheckOutcome outcome) =>
        outcome.Clauses.Select(clause => clause.Id)
            .Where(id => property.Property.Clauses.Contains(id) || property.Failures.Any(found => found.Clause == id))
            .ToList();

    private static void AppendClause(KtapWriter subtests, int number, string clause, PropertyOutcome property, CheckOutcome outcome,
                                     IReadOnlyDictionary<string, FailureReproducers> reproducers)
    {
        FoundFailure? found = property.Failures.FirstOrDefault(failure => failure.Clause == clause);
        if (found is not null)
        {
            AppendFailure(subtests, found, outcome, reproducers.GetValueOrDefault(found.Key));
            if (found.Expected)
                subtests.Result(ok: true, number, clause, $"XFAIL listed in {Source(outcome)}");
            else
                subtests.Result(ok: false, number, clause);
            return;
        }
        switch (property.Verdict)
        {
            case PropertyVerdict.Pass:
                subtests.Result(ok: true, number, clause);
                break;
            case PropertyVerdict.Interrupted:
                subtests.Result(ok: true, number, clause, $"SKIP untested: interrupted by {outcome.Interrupted} before {property.Id} ran to the end");
                break;
            default:
                subtests.Result(ok: true, number, clause, $"SKIP untested: {property.Id} stopped its sequences at {Clauses(property.Failures)} first");
                break;
        }
    }

    private static void AppendFailure(KtapWriter subtests, FoundFailure found, CheckOutcome outcome, FailureReproducers? files)
    {
        Failure failure = found.Failure;
        subtests.Diagnostic($"{failure.Violation.Clause}: {failure.Violation.Message}");
        subtests.Diagnostic($"{failure.Where}");
        subtests.Diagnostic($"seed {failure.Seed.ToString(CultureInfo.InvariantCulture)} (0x{failure.Seed:X}), RAM 0x{failure.RamSize:X} bytes");
        if (failure.Configuration is { } drawn)
            subtests.Diagnostic($"swarm configuration: {drawn}");
        subtests.Diagnostic($"replay: {Invocation.Command} {outcome.Options.ReplayCommand(outcome.Implementation.Name)}");
        subtests.Diagnostic("shrunk sequence:");
        foreach (string line in TraceText.Lines(failure.Trace))
            subtests.Diagnostic($"  {line}");
        if (files is not null)
            subtests.Diagnostic($"reproducers: {files.CFile}, {files.CSharpFile}");
    }

    private static string Clauses(IEnumerable<FoundFailure> failures) => string.Join(", ", failures.Select(found => found.Clause).Distinct());

    private static string Source(CheckOutcome outcome) => outcome.Expectations.Source ?? "the expectations file";
}
