using Mmspec.SpecTests.Catalogue;
using Mmspec.SpecTests.Properties;

namespace Mmspec.Cli;

/// <summary>
/// The deterministic work of a run: the properties of the one catalogue that apply to the profile, in
/// catalogue order. A property's result depends only on the implementation and the run settings, never on
/// which job ran it, so sharding by position splits a run without changing any result.
/// </summary>
public static class WorkPlan
{
    public static IReadOnlyList<ISpecProperty> Units(Profile profile) =>
        PropertyCatalogue.All.Where(property => Applies(property, profile)).ToList();

    public static IReadOnlyList<ISpecProperty> Units(Profile profile, Shard shard) =>
        Units(profile).Where((_, position) => shard.Takes(position)).ToList();

    private static bool Applies(ISpecProperty property, Profile profile) =>
        property.MinimumProfile == Profile.Default || profile == Profile.Strict;
}
