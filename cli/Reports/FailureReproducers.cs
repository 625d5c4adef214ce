using Mmspec.SpecTests.Reproducers;

namespace Mmspec.Cli.Reports;

/// <summary>
/// The two reproducers of one failure, made by spec-tests from the shrunk sequence: C for a kernel
/// developer's own harness, C# (xunit, against the port) for this repository. Files are relative to the report directory
/// and named after the property and the clause (<c>repro/stateful.mapping.MAP-11.c</c>).
/// </summary>
public sealed record FailureReproducers(string C, string CSharp, string CFile, string CSharpFile)
{
    public static FailureReproducers For(FoundFailure found, CheckOutcome outcome) => new(
        Reproducer.C(found.Result, outcome.Options.Settings, outcome.Implementation.Name),
        Reproducer.CSharp(found.Result, outcome.Options.Settings, outcome.Implementation.FactoryExpression),
        $"repro/{found.Key}.c",
        $"repro/{found.Key}.cs");
}
