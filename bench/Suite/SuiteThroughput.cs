using Mmspec.SpecTests.Catalogue;
using Mmspec.SpecTests.Execution;
using Mmspec.SpecTests.Port;
using Mmspec.SpecTests.Properties;

namespace Mmspec.Bench.Suite;

/// <summary>One implementation checked by every default-profile property: the checked steps and the time they took.</summary>
public sealed record ThroughputRun(string Implementation, int MaxTest, AuditMode Audit, IReadOnlyList<PropertyResult> Results)
{
    /// <summary>Calls the runner applied and checked against the model, the MMU walk and the ownership audit.</summary>
    public long Steps => Results.Sum(result => result.Steps);

    public TimeSpan Elapsed => TimeSpan.FromTicks(Results.Sum(result => result.Elapsed.Ticks));

    public double StepsPerSecond => Steps / Elapsed.TotalSeconds;

    public int Passed => Results.Count(result => result.Verdict == Verdict.Passed);

    /// <summary>How many timed passes this one is the median of.</summary>
    public int Passes { get; init; } = 1;
}

/// <summary>The suite's own speed: what `mmspec check` does, property by property, in this process.</summary>
public static class SuiteThroughput
{
    public static IReadOnlyList<ISpecProperty> DefaultProfileProperties { get; } =
        PropertyCatalogue.All.Where(property => property.MinimumProfile == Profile.Default).ToList();

    /// <summary>
    /// Runs every default-profile property with the default seed and the audit <paramref name="audit"/>, and returns the
    /// median of <paramref name="passes"/> timed passes by checked steps per second, after untimed passes of the same
    /// size until the steady state (code jitted and tiered up, as BenchmarkDotNet's own warm-up does), not the first
    /// seconds of a process: with tiered compilation and dynamic PGO a pass of the reference ran 2.3, 1.2, 0.88, 0.43 and
    /// then 0.40 s, and a rule that stopped at the first pass within 10 % of the one before it could stop at the third
    /// and time passes still tiering up (one bench run read the reference at 25,152 checked steps/s, half of the runs
    /// before and after it). So warm-up goes on until two passes in a row did not beat the fastest before them by 5 %,
    /// at least <paramref name="warmUps"/>, at most <see cref="MaxWarmUps"/>; <paramref name="progress"/> hears each
    /// pass's time. `mmspec check` itself compiles optimised from the start instead (cli's TieredCompilation), and its
    /// time is measured apart.
    /// </summary>
    public static ThroughputRun Measure(IImplementationFactory implementation, int maxTest, int warmUps, AuditMode audit = AuditMode.Incremental, int passes = 1,
                                        Action<string>? progress = null)
    {
        TimeSpan fastest = TimeSpan.MaxValue;
        int notFaster = 0;
        for (int warmUp = 0; warmUp < MaxWarmUps; warmUp++)
        {
            TimeSpan took = Pass(implementation, maxTest, audit).Elapsed;
            notFaster = took.TotalSeconds < fastest.TotalSeconds * SteadyWithin ? 0 : notFaster + 1;
            fastest = took < fastest ? took : fastest;
            progress?.Invoke($"warm-up pass {warmUp + 1}: {took.TotalSeconds:F3} s");
            if (warmUp + 1 >= warmUps && notFaster >= SteadyPasses)
                break;
        }
        var timed = Enumerable.Range(0, Math.Max(passes, 1)).Select(_ => Pass(implementation, maxTest, audit)).OrderBy(run => run.StepsPerSecond).ToList();
        progress?.Invoke($"timed passes: {string.Join(", ", timed.Select(run => $"{run.Elapsed.TotalSeconds:F3} s"))}");
        return timed[timed.Count / 2] with { Passes = timed.Count };
    }

    /// <summary>The most warm-up passes a measurement makes.</summary>
    public const int MaxWarmUps = 12;

    /// <summary>A pass that does not beat the fastest before it by this factor is not faster.</summary>
    private const double SteadyWithin = 0.95;

    /// <summary>Passes in a row not faster that make the steady state.</summary>
    public const int SteadyPasses = 2;

    private static ThroughputRun Pass(IImplementationFactory implementation, int maxTest, AuditMode audit)
    {
        var results = DefaultProfileProperties
            .Select(property => property.Check(implementation, new RunSettings(Profile.Default, MaxTest: maxTest, Audit: audit)))
            .ToList();
        return new ThroughputRun(implementation.Name, maxTest, audit, results);
    }
}
