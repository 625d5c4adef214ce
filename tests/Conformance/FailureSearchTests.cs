using Mmspec.SpecTests.Catalogue;
using Mmspec.SpecTests.Properties;
using Mmspec.Zoo;
using Xunit.Abstractions;

namespace Mmspec.Tests.Conformance;

/// <summary>
/// A property keeps looking after a failure whose clause is expected, or until --max-failures: one broken clause
/// cannot hide another in the same property, and every failure found is shrunk on its own.
/// </summary>
[Trait("Category", "Zoo")] // whole stateful searches of buggy kernels: too slow for every mutant of a mutation run
public sealed class FailureSearchTests(ITestOutputHelper output)
{
    private static readonly ZooMember TwoBugs = ZooCatalogue.Find("umap-wrong-phys+map-get-drops-offset");

    [Fact]
    public void With_one_failure_allowed_the_property_stops_at_its_first_failure()
    {
        PropertyResult result = Check(new RunSettings(Profile.Default));

        Failure only = Assert.Single(result.Failures);
        Assert.False(result.Completed);
        Assert.Equal(Verdict.Failed, result.Verdict);
        output.WriteLine(only.Describe());
    }

    [Fact]
    public void An_expected_clause_does_not_stop_the_property_and_the_other_bug_is_found()
    {
        string first = Check(new RunSettings(Profile.Default)).Failure!.Violation.Clause;

        PropertyResult result = Check(new RunSettings(Profile.Default, ExpectedClauses: new HashSet<string> { first }));

        Assert.Equal(first, result.Failures[0].Violation.Clause);
        Assert.True(result.Failures.Count >= 2, $"only {first} was found");
        Failure second = result.Failures[1];
        Assert.NotEqual(first, second.Violation.Clause);
        Assert.False(result.Completed); // it stopped at the first failure nobody expected
        Assert.NotEmpty(second.Trace);
        foreach (Failure failure in result.Failures)
            output.WriteLine(failure.Describe());
    }

    [Fact]
    public void Every_distinct_clause_gets_its_own_shrunk_sequence_and_the_run_is_deterministic()
    {
        var settings = new RunSettings(Profile.Default, MaxFailures: RunSettings.MaxFailuresBound);
        PropertyResult result = Check(settings);
        PropertyResult again = Check(settings);

        Assert.True(result.Completed);
        Assert.True(result.Failures.Count >= 2);
        Assert.Equal(result.Failures.Count, result.Failures.Select(f => f.Violation.Clause).Distinct().Count());
        Assert.Equal(result.Failures.Select(f => f.Describe()), again.Failures.Select(f => f.Describe()));
        // Shrunk one by one: none is longer than the zoo's bound for either bug alone.
        Assert.All(result.Failures, failure => Assert.InRange(failure.Steps.Count, 1, TwoBugs.MaxShrunkSteps));
    }

    [Fact]
    public void A_passing_implementation_is_searched_once()
    {
        PropertyResult result = PropertyCatalogue.Find("stateful.mapping").Check(new Mmspec.SpecTests.Adapters.ReferenceFactory(),
            new RunSettings(Profile.Default, MaxTest: 10, MaxFailures: RunSettings.MaxFailuresBound));

        Assert.Equal(Verdict.Passed, result.Verdict);
        Assert.Equal(10, result.Tests);
        Assert.Empty(result.Failures);
        Assert.True(result.Completed);
    }

    private static PropertyResult Check(RunSettings settings) => PropertyCatalogue.Find(TwoBugs.CaughtBy).Check(TwoBugs.Factory, settings);
}
