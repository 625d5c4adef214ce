using Mmspec.NativeClient;
using Mmspec.SpecTests.Catalogue;
using Mmspec.SpecTests.Port;
using Mmspec.SpecTests.Properties;
using Mmspec.Zoo;

namespace Mmspec.Bench.Suite;

/// <summary>One zoo member's catching property run with one seed.</summary>
public sealed record DetectionRun(ulong Seed, bool Detected, int Tests, TimeSpan? Detection, TimeSpan Total, int ShrunkSteps, int Shrinks);

/// <summary>How fast the suite rejects one zoo member (C#, or native: <c>native:</c> before its name), over several seeds; <paramref name="Allowed"/> is the longest shrunk sequence it may have.</summary>
public sealed record ZooDetection(string Name, string CaughtBy, int? Allowed, IReadOnlyList<DetectionRun> Runs)
{
    public bool Native => Name.StartsWith("native:", StringComparison.Ordinal);

    public IReadOnlyList<DetectionRun> Detected => Runs.Where(run => run.Detected).ToList();

    public double? MedianDetectionMs => Median(Detected.Select(run => (run.Detection ?? run.Total).TotalMilliseconds));

    public double? MedianTotalMs => Median(Detected.Select(run => run.Total.TotalMilliseconds));

    public double? MedianTests => Median(Detected.Select(run => (double)run.Tests));

    public double? MedianShrunkSteps => Median(Detected.Select(run => (double)run.ShrunkSteps));

    public static double? Median(IEnumerable<double> values)
    {
        double[] sorted = values.Order().ToArray();
        if (sorted.Length == 0)
            return null;
        int middle = sorted.Length / 2;
        return sorted.Length % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
    }
}

/// <summary>Runs each zoo member's catching property (default profile, 100 sequences at most) with several seeds.</summary>
public static class ZooDetections
{
    /// <summary>The suite's default seed and the next ones: reproducible, and the first is what `mmspec check` uses.</summary>
    public static IReadOnlyList<ulong> Seeds(int count) =>
        Enumerable.Range(0, count).Select(i => RunSettings.DefaultSeed + (ulong)i).ToList();

    public static IReadOnlyList<ZooDetection> Measure(IReadOnlyList<ulong> seeds, Action<string>? progress = null) =>
        ZooCatalogue.All.Select(member =>
        {
            progress?.Invoke(member.Name);
            return new ZooDetection(member.Name, member.CaughtBy, member.MaxShrunkSteps, seeds.Select(seed => Run(member.Factory, member.CaughtBy, seed)).ToList());
        }).ToList();

    /// <summary>The native zoo (<see cref="NativeZooCatalogue"/>) built in <paramref name="buildFolder"/>; members not built are left out.</summary>
    public static IReadOnlyList<ZooDetection> MeasureNative(string buildFolder, IReadOnlyList<ulong> seeds, Action<string>? progress = null) =>
        NativeZooCatalogue.All.Where(member => File.Exists(member.Library(buildFolder))).Select(member =>
        {
            progress?.Invoke($"native:{member.Name}");
            TimeSpan? timeout = member.Name.EndsWith("-hang", StringComparison.Ordinal) ? TimeSpan.FromMilliseconds(400) : null; // each shrink candidate waits for it
            var runs = seeds.Select(seed =>
            {
                using var factory = new NativeFactory(member.Library(buildFolder), callTimeout: timeout);
                return Run(factory, member.CaughtBy, seed);
            }).ToList();
            return new ZooDetection($"native:{member.Name}", member.CaughtBy, null, runs);
        }).ToList();

    private static DetectionRun Run(IImplementationFactory factory, string caughtBy, ulong seed)
    {
        var timed = new TimedFactory(factory);
        PropertyResult result = PropertyCatalogue.Find(caughtBy).Check(timed, new RunSettings(Profile.Default, seed));
        return result.Failure is { } failure
            ? new DetectionRun(seed, true, result.Tests, timed.DetectedAfter(result.Tests), result.Elapsed, failure.Steps.Count, failure.Shrinks)
            : new DetectionRun(seed, false, result.Tests, null, result.Elapsed, 0, 0);
    }
}
