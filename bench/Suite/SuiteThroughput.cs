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
}

/// <summary>The suite's own speed: what `mmspec check` does, property by property, in this process.</summary>
public static class SuiteThroughput
{
    public static IReadOnlyList<ISpecProperty> DefaultProfileProperties { get; } =
        PropertyCatalogue.All.Where(property => property.MinimumProfile == Profile.Default).ToList();

    /// <summary>
    /// Runs every default-profile property with the default seed and the audit <paramref name="audit"/>;
    /// <paramref name="warmUp"/> first makes a small untimed pass so that JIT compilation of the suite is not counted
    /// (once per process is enough).
    /// </summary>
    public static ThroughputRun Measure(IImplementationFactory implementation, int maxTest, bool warmUp, AuditMode audit = AuditMode.Incremental)
    {
        if (warmUp)
            foreach (ISpecProperty property in DefaultProfileProperties)
                property.Check(implementation, new RunSettings(Profile.Default, MaxTest: 2, Audit: audit));
        var results = DefaultProfileProperties
            .Select(property => property.Check(implementation, new RunSettings(Profile.Default, MaxTest: maxTest, Audit: audit)))
            .ToList();
        return new ThroughputRun(implementation.Name, maxTest, audit, results);
    }
}
