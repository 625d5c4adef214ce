using System.Collections.Immutable;
using System.Runtime.CompilerServices;
using Mmspec.Models.State;

namespace Mmspec.SpecTests.Execution;

/// <summary>
/// The mappings the client made (mm_map_single's and vmalloc's) in one map of the model, in address order, found once
/// per map: the maps are immutable and most of them (the direct map, a space a step did not touch) are the same objects
/// step after step, so a step pays for what it changed, not for enumerating the direct map again.
/// </summary>
public static class ClientMappings
{
    public static (ulong Virt, Mapping Mapping)[] In(ImmutableSortedDictionary<ulong, Mapping> map) =>
        ByMap.GetValue(map, static map =>
            [.. map.Where(pair => pair.Value.Kind is MappingKind.Client or MappingKind.Region).Select(pair => (pair.Key, pair.Value))]);

    private static readonly ConditionalWeakTable<ImmutableSortedDictionary<ulong, Mapping>, (ulong Virt, Mapping Mapping)[]> ByMap = new();
}
