using System.Diagnostics;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;
using Mmspec.Bench;
using Mmspec.Bench.Report;
using Mmspec.Bench.Suite;
using Mmspec.SpecTests.Adapters;
using Mmspec.SpecTests.Execution;
using Mmspec.NativeClient;

// Usage: Mmspec.Bench [--readme FILE] [--command-started UNIX_SECONDS] [--native LIB] [--native-max-test N] [--seeds N] [--skip-benchmarks] [--skip-suite] [--check-seconds S,S,...] [--check-seconds-one-job S] [-- BenchmarkDotNet args]
// bench/run.sh is the one command; the options exist so that a part can be run on its own while working on it.
var options = BenchOptions.Parse(args);
DateTime started = DateTime.UtcNow;
var clock = Stopwatch.StartNew();

IReadOnlyList<Summary> summaries = options.SkipBenchmarks
    ? []
    : BenchmarkSwitcher.FromAssembly(typeof(BenchConfig).Assembly).Run(options.BenchmarkArgs, new BenchConfig()).ToList();

// Untimed passes before the timed ones: at least three, more until the steady state (SuiteThroughput.Measure).
const int WarmUps = 3;
// Timed passes, the median of which counts: on the shared 2-core machine one pass of the reference varied 0.39-0.57 s
// from one to the next in the steady state, and the native sample's up to 2x (two processes ping-ponging).
const int TimedPasses = 5;
ThroughputRun? reference = null, referenceFull = null, native = null, nativeFull = null;
IReadOnlyList<StepCostRow> stepCosts = [];
string nativeStatus = "not run";
IReadOnlyList<ulong> seeds = ZooDetections.Seeds(options.Seeds);
IReadOnlyList<ZooDetection> zoo = [];
if (!options.SkipSuite)
{
    Console.Error.WriteLine("suite throughput: reference, in-process");
    reference = SuiteThroughput.Measure(new ReferenceFactory(), maxTest: 100, warmUps: WarmUps, passes: TimedPasses, progress: Progress);
    Console.Error.WriteLine("suite throughput: reference, in-process, --audit full (the baseline)");
    referenceFull = SuiteThroughput.Measure(new ReferenceFactory(), maxTest: 100, warmUps: WarmUps, AuditMode.Full, passes: TimedPasses, progress: Progress);
    Console.Error.WriteLine("step cost against live mappings");
    stepCosts = StepCost.Measure([10, 100, 1000]);
    try
    {
        using var sample = new NativeFactory(options.NativeLibrary);
        Console.Error.WriteLine($"suite throughput: {sample.Name}");
        native = SuiteThroughput.Measure(sample, options.NativeMaxTest, warmUps: WarmUps, passes: TimedPasses, progress: Progress);
        Console.Error.WriteLine($"suite throughput: {sample.Name}, --audit full");
        nativeFull = SuiteThroughput.Measure(sample, options.NativeMaxTest, warmUps: WarmUps, AuditMode.Full, passes: TimedPasses, progress: Progress);
    }
    catch (FileNotFoundException missing)
    {
        nativeStatus = $"not built ({missing.Message})";
    }
    zoo = [.. ZooDetections.Measure(seeds, name => Console.Error.WriteLine($"zoo detection: {name}")),
           .. ZooDetections.MeasureNative(Path.GetDirectoryName(Path.GetFullPath(options.NativeLibrary))!, seeds, name => Console.Error.WriteLine($"zoo detection: {name}"))];
}

TimeSpan? commandTime = options.CommandStarted is { } unixSeconds
    ? DateTimeOffset.UtcNow - DateTimeOffset.FromUnixTimeSeconds(unixSeconds)
    : null;
var results = new RunResults(started, clock.Elapsed, commandTime, summaries.Select(BenchmarkTable.Of).ToList(), TargetOutcome.Check(summaries),
                             reference, native, nativeStatus, zoo, seeds)
{
    ReferenceFull = referenceFull,
    NativeFull = nativeFull,
    StepCosts = stepCosts,
    CheckSeconds = options.CheckSeconds ?? [],
    CheckSecondsOneJob = options.CheckSecondsOneJob,
};
string readme = ReadmeWriter.Render(results);
if (options.ReadmePath is { } path)
{
    File.WriteAllText(path, readme);
    Console.Error.WriteLine($"wrote {path}");
}
else
{
    Console.WriteLine(readme);
}
foreach (TargetOutcome target in results.Targets)
    Console.Error.WriteLine($"target {(target.Met ? "met" : "MISSED")}: {target.Target.Name}: {target.Speedup:F1}x (>= {target.Target.Minimum}x)");
return 0;

static void Progress(string line) => Console.Error.WriteLine($"  {line}");
