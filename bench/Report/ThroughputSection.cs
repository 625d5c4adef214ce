using System.Globalization;
using System.Text;
using Mmspec.Bench.Suite;
using Mmspec.SpecTests.Properties;

namespace Mmspec.Bench.Report;

/// <summary>The suite's own speed in bench/README.md: checked steps per second under each audit, issue 18's targets, and the cost of a step against the state.</summary>
public static class ThroughputSection
{
    private static readonly CultureInfo Invariant = CultureInfo.InvariantCulture;

    /// <summary>Issue 18's targets.</summary>
    public const double InProcessTarget = 50_000, NativeTarget = 15_000, CheckSecondsTarget = 3;

    /// <summary>Issue #5's target: the native sample at least half the reference's checked steps per second.</summary>
    public const double NativeShareTarget = 0.5;

    public static void Write(StringBuilder md, RunResults run)
    {
        md.AppendLine("## Suite throughput").AppendLine();
        md.AppendLine("Every default-profile property with the default seed, as `mmspec check` runs them, after at least three untimed warm-up");
        md.AppendLine($"passes of the same size, more until {SuiteThroughput.SteadyPasses} passes in a row did not beat the fastest before them by 5 %, at most {SuiteThroughput.MaxWarmUps}");
        md.AppendLine("(the steady state, as BenchmarkDotNet measures; passes: the median of that many timed passes);");
        md.AppendLine("a checked step is one API call applied and checked against the model, the MMU walk of every space and the");
        md.AppendLine("ownership audit; the time is the whole property's, so generating the sequences, each machine's set-up and the");
        md.AppendLine("teardown's leak count are paid for but not counted as steps (a hog's thousands of calls are one step). The reference");
        md.AppendLine("starts every sequence but the first from a snapshot of a machine set up before (`SetUpSnapshot`). The native sample runs");
        md.AppendLine("outside this process, in mmspec-host's worker processes, over shared memory, with the same properties, seed and");
        md.AppendLine("sequences; its sequences start from a set-up snapshot too, which the worker that took it restores.");
        md.AppendLine("Each runs twice: with the default incremental audit, and with `--audit full` (every table, mark and owner after");
        md.AppendLine("every step), the baseline; Ratio is the incremental run's checked steps per second over the full one's.").AppendLine();
        md.AppendLine("| implementation | how it runs | audit | sequences per property (at most) | passes | properties passed | checked steps | time | checked steps/s | Ratio |");
        md.AppendLine("| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
        Rows(md, "reference", "in-process", run.Reference, run.ReferenceFull, "not run");
        Rows(md, run.Native?.Implementation ?? "native sample", "mmspec-host workers, a machine per sequence", run.Native, run.NativeFull, run.NativeStatus);
        md.AppendLine();
        WriteTargets(md, run);
        WriteStepCost(md, run.StepCosts);
        if (run.Reference is null)
            return;
        md.AppendLine("Per property (checked steps/s, incremental audit):").AppendLine();
        md.AppendLine("| property | reference steps | reference steps/s | native steps | native steps/s | native / reference |");
        md.AppendLine("| --- | ---: | ---: | ---: | ---: | ---: |");
        foreach (PropertyResult result in run.Reference.Results)
        {
            PropertyResult? sample = run.Native?.Results.FirstOrDefault(other => other.PropertyId == result.PropertyId);
            string nativeSteps = sample is null ? "" : sample.Steps.ToString("N0", Invariant);
            string nativeRate = sample is null ? "" : (sample.Steps / sample.Elapsed.TotalSeconds).ToString("N0", Invariant);
            string ratio = sample is null ? "" : (sample.Steps / sample.Elapsed.TotalSeconds / (result.Steps / result.Elapsed.TotalSeconds)).ToString("0.00", Invariant) + "×";
            md.AppendLine(Invariant, $"| {result.PropertyId} | {result.Steps:N0} | {result.Steps / result.Elapsed.TotalSeconds:N0} | {nativeSteps} | {nativeRate} | {ratio} |");
        }
        md.AppendLine();
    }

    private static void Rows(StringBuilder md, string name, string how, ThroughputRun? incremental, ThroughputRun? full, string missing)
    {
        if (incremental is null)
        {
            md.AppendLine(Invariant, $"| {name} | {how} | | | | | | | {missing} | |");
            return;
        }
        string ratio = full is null ? "" : string.Create(Invariant, $"{incremental.StepsPerSecond / full.StepsPerSecond:0.00}×");
        md.AppendLine(Invariant, $"| {name} | {how} | incremental | {Row(incremental)} | {ratio} |");
        if (full is not null)
            md.AppendLine(Invariant, $"| {name} | {how} | full | {Row(full)} | baseline |");
    }

    private static void WriteTargets(StringBuilder md, RunResults run)
    {
        md.AppendLine("Issue 18's targets:").AppendLine();
        md.AppendLine("| target | measured | required | |");
        md.AppendLine("| --- | ---: | ---: | --- |");
        Target(md, "checked steps/s in-process (reference, incremental audit)", run.Reference?.StepsPerSecond, InProcessTarget, "N0", atLeast: true);
        Target(md, "checked steps/s native (sample, incremental audit)", run.Native?.StepsPerSecond, NativeTarget, "N0", atLeast: true);
        double? check = run.CheckSeconds.Count == 0 ? null : run.CheckSeconds.Min();
        string times = run.CheckSeconds.Count == 0 ? "" : $" (runs: {string.Join(", ", run.CheckSeconds.Select(s => s.ToString("F2", Invariant)))} s; the best counts)";
        Target(md, $"`mmspec check` of the reference, Release, build excluded, seconds{times}", check, CheckSecondsTarget, "F2", atLeast: false);
        if (run.CheckSecondsOneJob is { } oneJob)
            Target(md, "the same with `--jobs 1` (one property at a time, one core)", oneJob, CheckSecondsTarget, "F2", atLeast: false);
        if (run.Reference is { } reference && run.Native is { } native)
            Target(md, "native sample's checked steps/s over the reference's (issue #5)", native.StepsPerSecond / reference.StepsPerSecond, NativeShareTarget, "0.00", atLeast: true);
        if (run.ReferenceFull is { } referenceFull && run.NativeFull is { } nativeFull)
            Target(md, "the same with `--audit full` on both (the same checks after every step, as issue #5 was measured)", nativeFull.StepsPerSecond / referenceFull.StepsPerSecond, NativeShareTarget, "0.00", atLeast: true);
        md.AppendLine();
        if (run.Reference is not null && run.Native is not null)
        {
            // Why the two ratios differ, so that a reader of a failing row knows what it measures.
            md.AppendLine("Issue #5 asked the native sample for half the in-process rate when both paid the whole-state audit after every");
            md.AppendLine("step, and the audit was most of a step's cost. The incremental audit made that cost small for both, and what is");
            md.AppendLine("left differs in kind: the reference learns what a call wrote from its simulated RAM for nothing, while a native");
            md.AppendLine("call pays a round trip and the host's write tracking (userfaultfd faults and a scan; native/README.md, \"Write");
            md.AppendLine("sets\" and \"Throughput\"). So issue 18 gave each its own target above; the second ratio still compares the two");
            md.AppendLine("under the same checks.").AppendLine();
        }
    }

    private static void Target(StringBuilder md, string name, double? measured, double required, string format, bool atLeast)
    {
        string verdict = measured is not { } value ? "not run" : (atLeast ? value >= required : value <= required) ? "✅ pass" : "❌ fail";
        string shown = measured?.ToString(format, Invariant) ?? "";
        md.AppendLine(Invariant, $"| {name} | {shown} | {(atLeast ? "≥" : "≤")} {required.ToString(format, Invariant)} | {verdict} |");
    }

    private static void WriteStepCost(StringBuilder md, IReadOnlyList<StepCostRow> rows)
    {
        if (rows.Count == 0)
            return;
        md.AppendLine("Cost of one checked step against the live state (bench/Suite/StepCost.cs): a vmalloc of N pages in space0, then");
        md.AppendLine(Invariant, $"{StepCost.Cycles} cycles of four steps in space1 (allocate a page, map it, unmap it, free it); a step's cost is the");
        md.AppendLine("run's time with the cycles less its time without them, over the steps added, best of 5 runs each. Flat is the goal:").AppendLine();
        md.AppendLine("| live mappings | incremental audit, µs/step | full audit, µs/step | full / incremental |");
        md.AppendLine("| ---: | ---: | ---: | ---: |");
        foreach (StepCostRow row in rows)
            md.AppendLine(Invariant, $"| {row.LiveMappings:N0} | {row.IncrementalUs:F1} | {row.FullUs:F1} | {row.Ratio:0.0}× |");
        md.AppendLine();
    }

    private static string Row(ThroughputRun run) =>
        string.Create(Invariant, $"{run.MaxTest} | {run.Passes} | {run.Passed}/{run.Results.Count} | {run.Steps:N0} | {run.Elapsed.TotalSeconds:F1} s | {run.StepsPerSecond:N0}");
}
