using Mmspec.SpecTests.Adapters;
using Mmspec.SpecTests.Catalogue;
using Mmspec.SpecTests.Properties;
using Xunit.Abstractions;

namespace Mmspec.Tests.Conformance;

/// <summary>The whole property catalogue against the reference, in both profiles: the reference must pass everything.</summary>
public sealed class ReferenceConformanceTests(ITestOutputHelper output)
{
    public static TheoryData<string, Profile> Cases()
    {
        var cases = new TheoryData<string, Profile>();
        foreach (ISpecProperty property in PropertyCatalogue.All)
            foreach (Profile profile in Enum.GetValues<Profile>())
                if (profile >= property.MinimumProfile)
                    cases.Add(property.Id, profile);
        return cases;
    }

    [Theory]
    [Trait("Category", "Conformance")]
    [MemberData(nameof(Cases))]
    public void Reference_passes(string propertyId, Profile profile)
    {
        ISpecProperty property = PropertyCatalogue.Find(propertyId);
        PropertyResult result = property.Check(new ReferenceFactory(), new RunSettings(profile));
        output.WriteLine($"{propertyId} ({profile}): {result.Tests} sequences, {result.Steps} checked steps in {result.Elapsed.TotalSeconds:F2} s " +
                         $"= {result.Steps / Math.Max(result.Elapsed.TotalSeconds, 1e-9):F0} steps/s");
        Assert.True(result.Verdict == Verdict.Passed, result.Failure?.Describe());
    }
}
