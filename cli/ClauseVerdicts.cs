using Mmspec.SpecTests.Catalogue;
using Mmspec.SpecTests.Properties;

namespace Mmspec.Cli;

/// <summary>
/// Turns property results into verdicts. A property stops at its first violation, so one failure says
/// nothing about the other clauses that property checks: they pass only if another property checked them
/// to the end, and are otherwise untested.
/// </summary>
public static class ClauseVerdicts
{
    public static PropertyVerdict ForProperty(ISpecProperty property, PropertyResult result, Expectations expectations) => result.Verdict switch
    {
        Verdict.Passed => PropertyVerdict.Pass,
        Verdict.NotApplicable => PropertyVerdict.NotApplicable,
        _ when expectations.Expects(property.Id) || result.Failure is { } failure && expectations.Expects(failure.Violation.Clause)
            => PropertyVerdict.ExpectedFail,
        _ => PropertyVerdict.Fail,
    };

    /// <summary>
    /// One verdict per clause of the profile, in catalogue order, then one for any other clause a failure
    /// named (so that no failure drops out of the table).
    /// </summary>
    public static IReadOnlyList<ClauseOutcome> ForClauses(ClauseCatalogue catalogue, Profile profile, IReadOnlyList<PropertyOutcome> properties)
    {
        IEnumerable<string> inProfile = catalogue.InProfile(profile).Select(clause => clause.Id);
        IEnumerable<string> elsewhere = properties.Select(p => p.Failure?.Violation.Clause).OfType<string>();
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
        List<PropertyOutcome> broke = properties.Where(p => p.Failure?.Violation.Clause == id).ToList();
        if (broke.Count > 0)
        {
            // One failure nobody expected is enough to fail the clause.
            PropertyOutcome? unexpected = broke.FirstOrDefault(p => p.Verdict == PropertyVerdict.Fail);
            return unexpected is not null
                ? new ClauseOutcome(id, kind, ClauseVerdict.Fail, unexpected.Id, coveredBy)
                : new ClauseOutcome(id, kind, ClauseVerdict.ExpectedFail, broke[0].Id, coveredBy);
        }
        if (coveredBy.Count == 0)
            return new ClauseOutcome(id, kind, ClauseVerdict.NotApplicable, null, coveredBy);
        PropertyOutcome? passed = properties.FirstOrDefault(p => p.Verdict == PropertyVerdict.Pass && coveredBy.Contains(p.Id));
        return passed is not null
            ? new ClauseOutcome(id, kind, ClauseVerdict.Pass, passed.Id, coveredBy)
            : new ClauseOutcome(id, kind, ClauseVerdict.Untested, coveredBy[0], coveredBy);
    }
}
