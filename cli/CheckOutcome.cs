namespace Mmspec.Cli;

/// <summary>Everything one <c>check</c> run found, ready for the console and the reports.</summary>
public sealed record CheckOutcome(
    ResolvedImplementation Implementation,
    CheckOptions Options,
    int UnitsInRun,
    IReadOnlyList<PropertyOutcome> Properties,
    IReadOnlyList<ClauseOutcome> Clauses,
    Expectations Expectations,
    IReadOnlyList<StaleExpectation> StaleExpectations,
    TimeSpan Wall)
{
    /// <summary>The gate: no failure the expectations file does not excuse.</summary>
    public bool Conformant => Properties.All(property => property.Verdict != PropertyVerdict.Fail);

    /// <summary>Every failure of the run, expected or not, property by property in the order found.</summary>
    public IEnumerable<FoundFailure> Failures => Properties.SelectMany(property => property.Failures);

    public int Count(ClauseVerdict verdict) => Clauses.Count(clause => clause.Verdict == verdict);

    public int Count(PropertyVerdict verdict) => Properties.Count(property => property.Verdict == verdict);

    /// <summary>"40 pass, 1 fail, …", every clause verdict in a fixed order so totals line up between runs.</summary>
    public string ClauseTotals() =>
        string.Join(", ", Enum.GetValues<ClauseVerdict>().Select(verdict => $"{Count(verdict)} {VerdictNames.Of(verdict)}"));

    public string PropertyTotals() =>
        string.Join(", ", Enum.GetValues<PropertyVerdict>().Where(v => v != PropertyVerdict.NotApplicable || Count(v) > 0)
            .Select(verdict => $"{Count(verdict)} {VerdictNames.Of(verdict)}"));
}
