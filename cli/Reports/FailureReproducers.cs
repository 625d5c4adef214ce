using Mmspec.SpecTests.Reproducers;

namespace Mmspec.Cli.Reports;

/// <summary>
/// The two reproducers of one failure, made by spec-tests from the shrunk sequence: C for a kernel
/// developer's own harness, C# (xunit, against the port) for this repository. Files are relative to the report directory.
/// </summary>
public sealed record FailureReproducers(string C, string CSharp, string CFile, string CSharpFile)
{
    public static FailureReproducers For(PropertyOutcome failed, CheckOutcome outcome) => new(
        Reproducer.C(failed.Result, outcome.Options.Settings, outcome.Implementation.Name),
        Reproducer.CSharp(failed.Result, outcome.Options.Settings, outcome.Implementation.FactoryExpression),
        $"repro/{failed.Id}.c",
        $"repro/{failed.Id}.cs");
}
