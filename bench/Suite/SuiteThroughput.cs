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
    /// median of <paramref name="passes"/> timed passes by checked steps per second, after <paramref name="warmUps"/>
    /// untimed passes of the same size, so that what is timed is the suite's steady state (code jitted and tiered up, as
    /// BenchmarkDotNet's own warm-up does), not the first seconds of a process: with tiered compilation and dynamic PGO a
    /// pass of the reference still got faster from the first pass to the second and the second to the third (about
    /// 3.2, 1.8 and 1.1-1.2 s), and then stayed there. `mmspec check` itself compiles optimised from the start instead
    /// (cli's TieredCompilation), and its time is measured apart.
    /// </summary>
    public static ThroughputRun Measure(IImplementationFactory implementation, int maxTest, int warmUps, AuditMode audit = AuditMode.Incremental, int passes = 1)
    {
        // At least warmUps passes, then more while a pass still ran clearly faster than the one before it (tiering goes
        // on for a pass or two more on a slow day), at most MaxWarmUps in all.
        TimeSpan? previous = null;
        for (int warmUp = 0; warmUp < MaxWarmUps; warmUp++)
        {
            TimeSpan took = Pass(implementation, maxTest, audit).Elapsed;
            bool stillWarming = previous is not { } before || took.TotalSeconds < before.TotalSeconds * SteadyWithin;
            previous = took;
            if (warmUp + 1 >= warmUps && !stillWarming)
                break;
        }
        var timed = Enumerable.Range(0, Math.Max(passes, 1)).Select(_ => Pass(implementation, maxTest, audit)).OrderBy(run => run.StepsPerSecond).ToList();
        return timed[timed.Count / 2] with { Passes = timed.Count };
    }

    /// <summary>The most warm-up passes a measurement makes.</summary>
    public const int MaxWarmUps = 6;

    /// <summary>A pass within this fraction of the one before it is taken for the steady state.</summary>
    private const double SteadyWithin = 0.9;

    private static ThroughputRun Pass(IImplementationFactory implementation, int maxTest, AuditMode audit)
    {
        var results = DefaultProfileProperties
            .Select(property => property.Check(implementation, new RunSettings(Profile.Default, MaxTest: maxTest, Audit: audit)))
            .ToList();
        return new ThroughputRun(implementation.Name, maxTest, audit, results);
    }
}
