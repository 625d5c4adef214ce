using System.Reflection;
using Mmspec.SpecTests.Adapters;
using Mmspec.SpecTests.Catalogue;
using Mmspec.SpecTests.Properties;
using Xunit.Abstractions;

namespace Mmspec.Tests.Conformance;

/// <summary>The whole property catalogue against the reference, in both profiles: the reference must pass everything.</summary>
public sealed class ReferenceConformanceTests(ITestOutputHelper output)
{
    [Theory, PropertyTraits("stateful.physical"), InlineData(Profile.Default), InlineData(Profile.Strict)]
    public void Physical_pages(Profile profile) => ReferencePasses("stateful.physical", profile);

    [Theory, PropertyTraits("stateful.heap"), InlineData(Profile.Default), InlineData(Profile.Strict)]
    public void Kernel_heap(Profile profile) => ReferencePasses("stateful.heap", profile);

    [Theory, PropertyTraits("stateful.mapping"), InlineData(Profile.Default), InlineData(Profile.Strict)]
    public void Single_page_mappings(Profile profile) => ReferencePasses("stateful.mapping", profile);

    [Theory, PropertyTraits("stateful.regions"), InlineData(Profile.Default), InlineData(Profile.Strict)]
    public void Virtual_regions(Profile profile) => ReferencePasses("stateful.regions", profile);

    [Theory, PropertyTraits("stateful.mixed"), InlineData(Profile.Default), InlineData(Profile.Strict)]
    public void Everything_mixed(Profile profile) => ReferencePasses("stateful.mixed", profile);

    [Theory, PropertyTraits("directmap.roundtrip"), InlineData(Profile.Default), InlineData(Profile.Strict)]
    public void Direct_map(Profile profile) => ReferencePasses("directmap.roundtrip", profile);

    [Theory, PropertyTraits("heap.alignment"), InlineData(Profile.Default), InlineData(Profile.Strict)]
    public void Heap_alignment(Profile profile) => ReferencePasses("heap.alignment", profile);

    [Theory, PropertyTraits("phys.alignment"), InlineData(Profile.Default), InlineData(Profile.Strict)]
    public void Physical_alignment(Profile profile) => ReferencePasses("phys.alignment", profile);

    [Theory, PropertyTraits("vmfind.bounds"), InlineData(Profile.Default), InlineData(Profile.Strict)]
    public void Vmfind_bounds(Profile profile) => ReferencePasses("vmfind.bounds", profile);

    [Fact, PropertyTraits("boot.layout")]
    public void Boot_layout() => ReferencePasses("boot.layout", Profile.Strict);

    [Fact]
    public void Every_catalogue_property_has_a_test_here()
    {
        var tested = typeof(ReferenceConformanceTests).GetMethods()
            .Select(method => method.GetCustomAttribute<PropertyTraitsAttribute>()?.PropertyId)
            .OfType<string>().ToHashSet();
        var untested = PropertyCatalogue.All.Select(property => property.Id).Where(id => !tested.Contains(id)).ToList();
        Assert.True(untested.Count == 0, $"properties with no test: {string.Join(", ", untested)}");
    }

    private void ReferencePasses(string propertyId, Profile profile)
    {
        PropertyResult result = PropertyCatalogue.Find(propertyId).Check(new ReferenceFactory(), new RunSettings(profile));
        output.WriteLine($"{propertyId} ({profile}): {result.Tests} sequences, {result.Steps} checked steps in {result.Elapsed.TotalSeconds:F2} s " +
                         $"= {result.Steps / Math.Max(result.Elapsed.TotalSeconds, 1e-9):F0} steps/s");
        Assert.True(result.Verdict == Verdict.Passed, result.Failure?.Describe());
    }
}
