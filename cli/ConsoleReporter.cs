using System.Diagnostics;
using Mmspec.SpecTests.Properties;

namespace Mmspec.Cli;

/// <summary>
/// The console side of <c>check</c>: progress on stderr while properties run (so it never mixes with what a
/// script reads), then the clause table, totals and failures on stdout.
/// </summary>
public sealed class ConsoleReporter(TextWriter stdout, TextWriter stderr)
{
    private readonly Stopwatch clock = new();

    public void Starting(ResolvedImplementation implementation, CheckOptions options, int units, int unitsInRun)
    {
        clock.Restart();
        string share = options.Shard == Shard.Whole ? "" : $" (shard {options.Shard} of the run's {unitsInRun})";
        stderr.WriteLine($"mmspec check: {implementation.Name}, profile {CheckOptions.ProfileName(options.Profile)}, "
                         + $"seed {options.Seed} (0x{options.Seed:X}), max-test {options.MaxTest}, RAM {options.RamSize >> 10} KiB: {Properties(units)}{share}");
    }

    public void PropertyStarted(int position, int units, ISpecProperty property) =>
        stderr.WriteLine($"[{position}/{units}] {property.Id}: running ({Seconds(clock.Elapsed)} elapsed)");

    public void PropertyFinished(int position, int units, PropertyOutcome outcome)
    {
        PropertyResult result = outcome.Result;
        string broke = outcome.Failures.Count > 0 ? $" [{string.Join(", ", outcome.Failures.Select(Label))}]" : "";
        stderr.WriteLine($"[{position}/{units}] {outcome.Id}: {VerdictNames.Of(outcome.Verdict)}{broke} after {result.Tests} test(s), "
                         + $"{result.Steps} step(s) in {Seconds(result.Elapsed)} ({Seconds(clock.Elapsed)} elapsed)");
    }

    public void Summary(CheckOutcome outcome)
    {
        int idWidth = Math.Max("clause".Length, outcome.Clauses.Select(c => c.Id.Length).DefaultIfEmpty(0).Max());
        int verdictWidth = "not-applicable".Length;
        stdout.WriteLine($"{"clause".PadRight(idWidth)}  {"verdict".PadRight(verdictWidth)}  decided by");
        foreach (ClauseOutcome clause in outcome.Clauses)
            stdout.WriteLine($"{clause.Id.PadRight(idWidth)}  {VerdictNames.Of(clause.Verdict).PadRight(verdictWidth)}  {clause.DecidedBy ?? "-"}".TrimEnd());
        stdout.WriteLine();
        stdout.WriteLine($"clauses: {outcome.Clauses.Count} ({outcome.ClauseTotals()})");
        stdout.WriteLine($"properties: {outcome.Properties.Count} ({outcome.PropertyTotals()}) in {Seconds(outcome.Wall)}");

        foreach (FoundFailure found in outcome.Failures)
        {
            stdout.WriteLine();
            stdout.WriteLine($"{(found.Expected ? "EXPECTED FAILURE" : "FAILURE")} {found.PropertyId}: {found.Failure.Describe()}");
        }

        if (outcome.Failures.Any())
        {
            stdout.WriteLine();
            stdout.WriteLine($"replay: {Invocation.Command} {outcome.Options.ReplayCommand(outcome.Implementation.Name)}");
        }

        if (outcome.StaleExpectations.Count > 0)
            stdout.WriteLine();
        foreach (StaleExpectation stale in outcome.StaleExpectations)
            stdout.WriteLine(stale.Message);

        stdout.WriteLine();
        if (outcome.Interrupted is { } signal)
            stdout.WriteLine($"interrupted by {signal}: {outcome.Properties.Count} of {Properties(outcome.UnitsPlanned)} ran (the last only in part); the verdicts above cover what ran");
        stdout.WriteLine($"{outcome.Implementation.Name}: {VerdictNames.Gate(outcome)}"
                         + (outcome.Conformant ? "" : $" ({Properties(outcome.Count(PropertyVerdict.Fail))} failed)"));
    }

    private static string Label(FoundFailure found) => found.Expected ? $"{found.Clause} expected" : found.Clause;

    public void ReportsWritten(string directory) => stderr.WriteLine($"reports written to {directory}");

    private static string Properties(int count) => count == 1 ? "1 property" : $"{count} properties";

    private static string Seconds(TimeSpan elapsed) => $"{elapsed.TotalSeconds:F1} s";
}
