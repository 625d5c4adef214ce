using Mmspec.SpecTests.Catalogue;
using Mmspec.SpecTests.Properties;

namespace Mmspec.Cli;

/// <summary>What a run concludes about one clause of the spec.</summary>
public enum ClauseVerdict
{
    /// <summary>A property that checks the clause ran to the end without breaking anything.</summary>
    Pass,

    /// <summary>A property broke the clause, and the expectations file does not excuse it.</summary>
    Fail,

    /// <summary>A property broke the clause, as the expectations file says it would.</summary>
    ExpectedFail,

    /// <summary>No property run in this profile and shard checks the clause.</summary>
    NotApplicable,

    /// <summary>Every property that checks the clause stopped at a failure of another clause first.</summary>
    Untested,
}

/// <summary>What a run concludes about one property of the catalogue.</summary>
public enum PropertyVerdict
{
    Pass,
    Fail,
    ExpectedFail,

    /// <summary>The property declared itself inapplicable to the implementation.</summary>
    NotApplicable,

    /// <summary>A signal stopped the run while the property ran, before it broke anything.</summary>
    Interrupted,
}

/// <summary>The one spelling of each verdict, shared by the console and every report.</summary>
public static class VerdictNames
{
    public static string Of(ClauseVerdict verdict) => verdict switch
    {
        ClauseVerdict.Pass => "pass",
        ClauseVerdict.Fail => "fail",
        ClauseVerdict.ExpectedFail => "expected-fail",
        ClauseVerdict.NotApplicable => "not-applicable",
        ClauseVerdict.Untested => "untested",
        _ => throw new ArgumentOutOfRangeException(nameof(verdict), verdict, null),
    };

    public static string Of(PropertyVerdict verdict) => verdict switch
    {
        PropertyVerdict.Pass => "pass",
        PropertyVerdict.Fail => "fail",
        PropertyVerdict.ExpectedFail => "expected-fail",
        PropertyVerdict.NotApplicable => "not-applicable",
        PropertyVerdict.Interrupted => "interrupted",
        _ => throw new ArgumentOutOfRangeException(nameof(verdict), verdict, null),
    };

    /// <summary>The run's verdict: a failure found before a signal still makes it nonconformant.</summary>
    public static string Gate(CheckOutcome outcome) =>
        outcome.Conformant ? "conformant" : outcome.Count(PropertyVerdict.Fail) == 0 && outcome.Interrupted is not null ? "interrupted" : "nonconformant";

    /// <summary>As clauses.md spells the kind in a clause heading.</summary>
    public static string Of(ClauseKind kind) => kind switch
    {
        ClauseKind.Normative => "normative",
        ClauseKind.Interpretation => "interpretation",
        ClauseKind.ImplementationDefined => "implementation-defined",
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, null),
    };
}

/// <summary>A property as run: its result, every failure it found, and the verdict after expectations.</summary>
public sealed record PropertyOutcome(ISpecProperty Property, PropertyResult Result, PropertyVerdict Verdict, IReadOnlyList<FoundFailure> Failures)
{
    public string Id => Property.Id;
}

/// <summary>One failure a property found (as a result of its own, which is what a reproducer renders), and whether it was expected.</summary>
public sealed record FoundFailure(PropertyResult Result, bool Expected)
{
    public string PropertyId => Result.PropertyId;

    public Failure Failure => Result.Failure!;

    public string Clause => Failure.Violation.Clause;

    /// <summary>Unique in a run (a property reports each clause once): names the failure's reproducer files.</summary>
    public string Key => $"{PropertyId}.{Clause}";
}

/// <summary>A clause's verdict, the property that decided it, and every property run that checks it.</summary>
/// <param name="Kind">Null for a clause a failure named that is not in the catalogue's profile (e.g. '?').</param>
public sealed record ClauseOutcome(string Id, ClauseKind? Kind, ClauseVerdict Verdict, string? DecidedBy, IReadOnlyList<string> CoveredBy);

/// <summary>An expectations-file entry whose clause or property passed: the line can be trimmed.</summary>
public sealed record StaleExpectation(ExpectedFailure Entry, string Message);
