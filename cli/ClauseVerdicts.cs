using Mmspec.SpecTests.Catalogue;
using Mmspec.SpecTests.Properties;

namespace Mmspec.Cli;

/// <summary>
/// Turns property results into verdicts. A property that failed cut short every sequence that broke a clause,
/// so its failures say nothing about the other clauses it checks: they pass only if another property checked
/// them to the end, and are otherwise untested.
/// </summary>
public static class ClauseVerdicts
{
    /// <summary>The property's verdict: it fails when any of its failures is not expected.</summary>
    public static PropertyOutcome ForProperty(ISpecProperty property, PropertyResult result, Expectations expectations)
    {
        List<FoundFailure> failures = result.Failures
            .Select(failure => new FoundFailure(result.Only(failure), expectations.Expects(property, failure.Violation.Clause))).ToList();
        PropertyVerdict verdict = result.Verdict switch
        {
            Verdict.Passed when result.Interrupted => PropertyVerdict.Interrupted,
            Verdict.Passed => PropertyVerdict.Pass,
            Verdict.NotApplicable => PropertyVerdict.NotApplicable,
            _ when failures.All(found => found.Expected) => PropertyVerdict.ExpectedFail,
            _ => PropertyVerdict.Fail,
        };
        return new PropertyOutcome(property, result, verdict, failures);
    }

    /// <summary>
    /// One verdict per clause of the profile, in catalogue order, then one for any other clause a failure
    /// named (so that no failure drops out of the table).
    /// </summary>
    public static IReadOnlyList<ClauseOutcome> ForClauses(ClauseCatalogue catalogue, Profile profile, IReadOnlyList<PropertyOutcome> properties)
    {
        IEnumerable<string> inProfile = catalogue.InProfile(profile).Select(clause => clause.Id);
        IEnumerable<string> elsewhere = properties.SelectMany(p => p.Failures).Select(found => found.Clause);
        return inProfile.Concat(elsewhere).Distinct(StringComparer.Ordinal)
            .Select(id => Decide(id, catalogue.TryGet(id, out Clause? clause) ? clause.Kind : null, properties))
            .ToList();
    }

    /// <summary>Expectations whose clause or property passed in this run. Not run or untested says nothing, so those stay.</summary>
    public static IReadOnlyList<StaleExpectation> Stale(Expectations expectations, IReadOnlyList<PropertyOutcome> properties, IReadOnlyList<ClauseOutcome> clauses)
    {
        bool Passed(string id) =>
            clauses.Any(c => c.Id == id && c.Verdict == ClauseVerdict.Pass)
            || properties.Any(p => p.Id == id && p.Verdict == PropertyVerdict.Pass);
        return expectations.Entries.Where(entry => Passed(entry.Id))
            .Select(entry => new StaleExpectation(entry, $"{entry.Id} (line {entry.Line}) expected to fail but passed: trim it from {expectations.Source}"))
            .ToList();
    }

    private static ClauseOutcome Decide(string id, ClauseKind? kind, IReadOnlyList<PropertyOutcome> properties)
    {
        List<string> coveredBy = properties.Where(p => p.Verdict != PropertyVerdict.NotApplicable && p.Property.Clauses.Contains(id))
            .Select(p => p.Id).ToList();
        List<FoundFailure> broke = properties.SelectMany(p => p.Failures).Where(found => found.Clause == id).ToList();
        if (broke.Count > 0)
        {
            // One failure nobody expected is enough to fail the clause.
            FoundFailure? unexpected = broke.FirstOrDefault(found => !found.Expected);
            return unexpected is not null
                ? new ClauseOutcome(id, kind, ClauseVerdict.Fail, unexpected.PropertyId, coveredBy)
                : new ClauseOutcome(id, kind, ClauseVerdict.ExpectedFail, broke[0].PropertyId, coveredBy);
        }
        if (coveredBy.Count == 0)
            return new ClauseOutcome(id, kind, ClauseVerdict.NotApplicable, null, coveredBy);
        PropertyOutcome? passed = properties.FirstOrDefault(p => p.Verdict == PropertyVerdict.Pass && coveredBy.Contains(p.Id));
        return passed is not null
            ? new ClauseOutcome(id, kind, ClauseVerdict.Pass, passed.Id, coveredBy)
            : new ClauseOutcome(id, kind, ClauseVerdict.Untested, coveredBy[0], coveredBy);
    }
}
