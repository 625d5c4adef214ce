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
    /// <summary>The signal that stopped the run early ("SIGINT"), or null when it ran to the end.</summary>
    public string? Interrupted { get; init; }

    /// <summary>The properties this run (or shard) was to run; fewer ran when it was interrupted.</summary>
    public int UnitsPlanned { get; init; }

    /// <summary>The gate: no failure the expectations file does not excuse, and the run not cut short.</summary>
    public bool Conformant => Interrupted is null && Properties.All(property => property.Verdict != PropertyVerdict.Fail);

    /// <summary>Every failure of the run, expected or not, property by property in the order found.</summary>
    public IEnumerable<FoundFailure> Failures => Properties.SelectMany(property => property.Failures);

    public int Count(ClauseVerdict verdict) => Clauses.Count(clause => clause.Verdict == verdict);

    public int Count(PropertyVerdict verdict) => Properties.Count(property => property.Verdict == verdict);

    /// <summary>"40 pass, 1 fail, …", every clause verdict in a fixed order so totals line up between runs.</summary>
    public string ClauseTotals() =>
        string.Join(", ", Enum.GetValues<ClauseVerdict>().Select(verdict => $"{Count(verdict)} {VerdictNames.Of(verdict)}"));

    public string PropertyTotals() =>
        string.Join(", ", Enum.GetValues<PropertyVerdict>().Where(v => v is not (PropertyVerdict.NotApplicable or PropertyVerdict.Interrupted) || Count(v) > 0)
            .Select(verdict => $"{Count(verdict)} {VerdictNames.Of(verdict)}"));
}
