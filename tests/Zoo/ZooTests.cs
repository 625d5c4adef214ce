using Mmspec.SpecTests.Adapters;
using Mmspec.SpecTests.Catalogue;
using Mmspec.SpecTests.Properties;
using Mmspec.Zoo;
using Xunit.Abstractions;

namespace Mmspec.Tests.Zoo;

/// <summary>Every zoo member must be rejected by the property it names, in the default profile, with a short counterexample.</summary>
public sealed class ZooTests(ITestOutputHelper output)
{
    public static TheoryData<string> Members()
    {
        var names = new TheoryData<string>();
        foreach (ZooMember member in ZooCatalogue.All)
            names.Add(member.Name);
        return names;
    }

    public static TheoryData<string> CatchingProperties()
    {
        var ids = new TheoryData<string>();
        foreach (string id in ZooCatalogue.All.Select(member => member.CaughtBy).Distinct())
            ids.Add(id);
        return ids;
    }

    [Theory]
    [Trait("Category", "Zoo")]
    [MemberData(nameof(Members))]
    public void Member_is_caught(string name)
    {
        ZooMember member = ZooCatalogue.Find(name);
        PropertyResult result = PropertyCatalogue.Find(member.CaughtBy).Check(member.Factory, new RunSettings(Profile.Default));
        output.WriteLine($"{member.Factory.Name} vs {member.CaughtBy}: {result.Verdict} after {result.Tests} sequence(s), {result.Elapsed.TotalSeconds:F2} s");
        if (result.Failure is { } failure)
            output.WriteLine(failure.Describe());
        Assert.Equal(Verdict.Failed, result.Verdict);
        Assert.True(result.Failure!.Steps.Count <= member.MaxShrunkSteps,
            $"shrunk to {result.Failure.Steps.Count} steps, more than the {member.MaxShrunkSteps} allowed");
    }

    [Fact]
    [Trait("Category", "Zoo")]
    public void Catalogue_has_at_least_20_members_with_unique_names()
    {
        Assert.True(ZooCatalogue.All.Count >= 20, $"only {ZooCatalogue.All.Count} members");
        Assert.Equal(ZooCatalogue.All.Count, ZooCatalogue.All.Select(member => member.Name).Distinct().Count());
        Assert.All(ZooCatalogue.All, member => Assert.Equal("zoo:" + member.Name, member.Factory.Name));
        Assert.All(ZooCatalogue.All, member => PropertyCatalogue.Find(member.CaughtBy));
    }

    [Theory]
    [Trait("Category", "Zoo")]
    [MemberData(nameof(CatchingProperties))]
    public void Reference_passes_each_catching_property(string propertyId)
    {
        PropertyResult result = PropertyCatalogue.Find(propertyId).Check(new ReferenceFactory(), new RunSettings(Profile.Default));
        Assert.True(result.Verdict == Verdict.Passed, result.Failure?.Describe());
    }
}
