using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;
using Mmspec.SpecTests.Execution;
using Mmspec.SpecTests.Properties;

namespace Mmspec.Cli.Reports;

/// <summary>
/// report.json: the whole run for machines. Written from plain records below, so the file's shape is
/// visible in one place and does not change when spec-tests' types do.
/// </summary>
public static class JsonReport
{
    private static readonly JsonSerializerOptions Options = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        // The file is read by tools, not embedded in HTML: keep C's '<', '&' and quotes readable.
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    public static string Render(CheckOutcome outcome, IReadOnlyDictionary<string, FailureReproducers> reproducers)
    {
        var report = new Report(
            Implementation: outcome.Implementation.Name,
            Profile: CheckOptions.ProfileName(outcome.Options.Profile),
            Seed: outcome.Options.Seed,
            SeedHex: $"0x{outcome.Options.Seed:X}",
            MaxTest: outcome.Options.MaxTest,
            RamSize: outcome.Options.RamSize,
            Shard: outcome.Options.Shard.ToString(),
            Verdict: VerdictNames.Gate(outcome),
            Conformant: outcome.Conformant,
            Interrupted: outcome.Interrupted,
            ElapsedSeconds: Seconds(outcome.Wall),
            Totals: new Totals(
                Enum.GetValues<ClauseVerdict>().ToDictionary(v => VerdictNames.Of(v), v => outcome.Count(v)),
                Enum.GetValues<PropertyVerdict>().ToDictionary(v => VerdictNames.Of(v), v => outcome.Count(v))),
            MaxFailures: outcome.Options.MaxFailures,
            Properties: outcome.Properties.Select(p => Property(p, reproducers)).ToList(),
            Clauses: outcome.Clauses.Select(c => new ClauseEntry(c.Id, c.Kind is { } kind ? VerdictNames.Of(kind) : null, VerdictNames.Of(c.Verdict), c.DecidedBy, c.CoveredBy)).ToList(),
            ExpectationsFile: outcome.Expectations.Source,
            StaleExpectations: outcome.StaleExpectations.Select(s => new StaleEntry(s.Entry.Id, s.Entry.Line, s.Message)).ToList());
        return JsonSerializer.Serialize(report, Options) + "\n";
    }

    private static PropertyEntry Property(PropertyOutcome outcome, IReadOnlyDictionary<string, FailureReproducers> reproducers)
    {
        PropertyResult result = outcome.Result;
        List<FailureEntry> failures = outcome.Failures.Select(found => Failure(found, reproducers.GetValueOrDefault(found.Key))).ToList();
        return new PropertyEntry(outcome.Id, outcome.Property.Title, VerdictNames.Of(outcome.Verdict), result.Tests, result.Steps,
            Seconds(result.Elapsed), outcome.Property.Clauses, result.Completed, failures.FirstOrDefault(), failures);
    }

    private static FailureEntry Failure(FoundFailure found, FailureReproducers? reproducers)
    {
        Failure failure = found.Failure;
        return new FailureEntry(
            Clause: failure.Violation.Clause,
            Expected: found.Expected,
            Message: failure.Violation.Message,
            Step: failure.Violation.Step,
            Seed: failure.Seed,
            RamSize: failure.RamSize,
            Shrinks: failure.Shrinks,
            Configuration: failure.Configuration,
            Steps: failure.Steps,
            Trace: failure.Trace.Select(call => new CallEntry(call.Step, call.Call.ToString(), call.Returned, call.ToString())).ToList(),
            Description: failure.Describe(),
            Reproducers: reproducers is null ? null : new ReproducerEntry(reproducers.C, reproducers.CSharp, reproducers.CFile, reproducers.CSharpFile));
    }

    private static double Seconds(TimeSpan elapsed) => Math.Round(elapsed.TotalSeconds, 3);

    private sealed record Report(
        string Implementation, string Profile, ulong Seed, string SeedHex, int MaxTest, ulong RamSize, string Shard, string Verdict, bool Conformant,
        string? Interrupted, double ElapsedSeconds, Totals Totals, int MaxFailures, IReadOnlyList<PropertyEntry> Properties, IReadOnlyList<ClauseEntry> Clauses,
        string? ExpectationsFile, IReadOnlyList<StaleEntry> StaleExpectations);

    private sealed record Totals(IReadOnlyDictionary<string, int> Clauses, IReadOnlyDictionary<string, int> Properties);

    /// <param name="Completed">The property ran all its tests; false when it stopped at --max-failures.</param>
    /// <param name="Failure">The first of <paramref name="Failures"/>, for readers that expect one.</param>
    private sealed record PropertyEntry(
        string Id, string Title, string Verdict, int Tests, long Steps, double ElapsedSeconds, IReadOnlyList<string> Clauses, bool Completed,
        FailureEntry? Failure, IReadOnlyList<FailureEntry> Failures);

    /// <param name="Steps">The shrunk sequence as generated steps.</param>
    /// <param name="Trace">The calls the shrunk sequence made, with what the implementation returned.</param>
    private sealed record FailureEntry(
        string Clause, bool Expected, string Message, int Step, ulong Seed, ulong RamSize, int Shrinks, string? Configuration, IReadOnlyList<string> Steps, IReadOnlyList<CallEntry> Trace,
        string Description, ReproducerEntry? Reproducers);

    private sealed record CallEntry(int Step, string Call, string Returned, string Text);

    private sealed record ReproducerEntry(
        string C,
        [property: JsonPropertyName("csharp")] string CSharp,
        string CFile,
        [property: JsonPropertyName("csharpFile")] string CSharpFile);

    private sealed record ClauseEntry(string Id, string? Kind, string Verdict, string? DecidedBy, IReadOnlyList<string> CoveredBy);

    private sealed record StaleEntry(string Id, int Line, string Message);
}
