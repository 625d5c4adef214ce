using System.Collections.Immutable;
using static Mmspec.Models.State.AddressSpaceLayout;

namespace Mmspec.Models.State;

/// <summary>
/// The abstract state of the API as a client sees it: pages it owns, live heap blocks, and per space a
/// map from virtual page to physical page and rights. Immutable: every transition returns a new state.
/// With <see cref="SharedKernelHalf"/> all spaces see one kernel half, as real kernels arrange it.
/// </summary>
public sealed record ApiState
{
    private ApiState(int spaces, bool sharedKernelHalf)
    {
        SharedKernelHalf = sharedKernelHalf;
        UserMappings = Enumerable.Repeat(ImmutableSortedDictionary<ulong, Mapping>.Empty, spaces).ToImmutableArray();
    }

    public bool SharedKernelHalf { get; }

    public ImmutableSortedSet<ulong> ClientPages { get; private init; } = [];

    public ImmutableSortedDictionary<ulong, ulong> HeapBlocks { get; private init; } = ImmutableSortedDictionary<ulong, ulong>.Empty;

    public ImmutableSortedDictionary<ulong, Mapping> KernelMappings { get; private init; } = ImmutableSortedDictionary<ulong, Mapping>.Empty;

    /// <summary>Per space; with a shared kernel half these hold user addresses only.</summary>
    public ImmutableArray<ImmutableSortedDictionary<ulong, Mapping>> UserMappings { get; private init; }

    public ImmutableList<Region> Regions { get; private init; } = [];

    public int SpaceCount => UserMappings.Length;

    /// <summary>A fresh machine: spaces with nothing mapped but, if given, the direct map's 2 MiB pages.</summary>
    public static ApiState Initial(int spaces, bool sharedKernelHalf, bool directMapLargePages)
    {
        var state = new ApiState(spaces, sharedKernelHalf);
        if (!directMapLargePages)
            return state;
        for (ulong offset = 0; offset < DirectMapSize; offset += LargePageSize)
            for (int space = 0; space < (sharedKernelHalf ? 1 : spaces); space++)
                state = state.With(space, KernelBase + offset, new Mapping(offset, LargePageSize, Rights.Write, MappingKind.DirectMap));
        return state;
    }

    // ---- queries ----

    /// <summary>The mapping covering virt in a space, with its virtual base.</summary>
    public (ulong Base, Mapping Mapping)? Lookup(int space, ulong virt)
    {
        var map = MapOf(space, virt);
        ulong small = virt & ~(PageSize - 1), large = virt & ~(LargePageSize - 1);
        if (map.TryGetValue(small, out Mapping mapping) && mapping.Size == PageSize)
            return (small, mapping);
        if (map.TryGetValue(large, out mapping) && mapping.Size == LargePageSize)
            return (large, mapping);
        return null;
    }

    /// <summary>Every mapping a space can see, in address order.</summary>
    public IEnumerable<(ulong Base, Mapping Mapping)> MappingsOf(int space)
    {
        IEnumerable<KeyValuePair<ulong, Mapping>> all = SharedKernelHalf
            ? UserMappings[space].Concat(KernelMappings)
            : UserMappings[space];
        return all.Select(pair => (pair.Key, pair.Value));
    }

    /// <summary>Each mapping once: per-space user mappings, then the shared kernel half as space -1.</summary>
    public IEnumerable<(int Space, ulong Base, Mapping Mapping)> DistinctMappings()
    {
        for (int space = 0; space < SpaceCount; space++)
            foreach ((ulong virt, Mapping mapping) in UserMappings[space])
                yield return (space, virt, mapping);
        foreach ((ulong virt, Mapping mapping) in KernelMappings)
            yield return (-1, virt, mapping);
    }

    public bool IsRangeFree(int space, ulong start, ulong pages)
    {
        ulong last = start + (pages * PageSize - 1);
        foreach ((ulong baseAddress, Mapping mapping) in MappingsOf(space))
            if (baseAddress <= last && start <= baseAddress + (mapping.Size - 1))
                return false;
        return true;
    }

    /// <summary>The lowest free run of pages in [first, last] (page aligned, inside one segment), if any.</summary>
    public ulong? LowestFreeRun(int space, ulong first, ulong last, ulong pages)
    {
        ulong length = pages * PageSize, cursor = first;
        foreach ((ulong baseAddress, Mapping mapping) in MappingsOf(space))
        {
            ulong end = baseAddress + (mapping.Size - 1);
            if (end < cursor)
                continue;
            if (baseAddress > last)
                break;
            if (baseAddress > cursor && baseAddress - cursor >= length)
                return cursor;
            if (end >= last)
                return null;
            cursor = end + 1;
        }
        return last - cursor + 1 >= length ? cursor : null;
    }

    // ---- transitions ----

    public ApiState PageAllocated(ulong page) => this with { ClientPages = ClientPages.Add(page) };

    public ApiState PageFreed(ulong page) => this with { ClientPages = ClientPages.Remove(page) };

    public ApiState BlockAllocated(ulong pointer, ulong size) => this with { HeapBlocks = HeapBlocks.Add(pointer, size) };

    public ApiState BlockFreed(ulong pointer) => this with { HeapBlocks = HeapBlocks.Remove(pointer) };

    public ApiState Mapped(int space, ulong virt, ulong phys, Rights rights, MappingKind kind = MappingKind.Client) =>
        With(space, virt, new Mapping(phys, PageSize, rights, kind));

    public ApiState Unmapped(int space, ulong virtualBase) =>
        IsSharedKernel(virtualBase)
            ? this with { KernelMappings = KernelMappings.Remove(virtualBase) }
            : this with { UserMappings = UserMappings.SetItem(space, UserMappings[space].Remove(virtualBase)) };

    public ApiState RegionAllocated(Region region, IReadOnlyList<ulong> frames)
    {
        ApiState state = this with { Regions = Regions.Add(region) };
        for (int page = 0; page < frames.Count; page++)
            state = state.Mapped(region.Space, region.Start + (ulong)page * PageSize, frames[page], region.Rights, MappingKind.Region);
        return state;
    }

    /// <summary>
    /// vmfree: every 4 KiB page mapped in the range is unmapped and its physical page freed, whoever mapped
    /// it (a client page mapped into the range is freed too); regions wholly inside are forgotten, others trimmed.
    /// </summary>
    public ApiState RangeFreed(int space, ulong start, ulong pages)
    {
        if (pages == 0)
            return this;
        ulong last = start + (pages * PageSize - 1); // inclusive: the range may end at the top of the address space
        ApiState state = this;
        foreach ((ulong baseAddress, Mapping mapping) in MappingsOf(space).ToList())
            if (baseAddress >= start && baseAddress <= last && mapping.Size == PageSize)
                state = state.Unmapped(space, baseAddress).PageFreed(mapping.Phys);
        var regions = state.Regions.SelectMany(region => state.Trim(region, space, start, last)).ToImmutableList();
        return state with { Regions = regions };
    }

    private IEnumerable<Region> Trim(Region region, int space, ulong start, ulong last)
    {
        bool sameSpace = region.Space == space || (IsSharedKernel(region.Start) && IsSharedKernel(start));
        if (!sameSpace || region.Last < start || region.Start > last)
        {
            yield return region;
            yield break;
        }
        if (region.Start < start)
            yield return region with { Pages = (start - region.Start) / PageSize };
        if (region.Last > last)
            yield return region with { Start = last + 1, Pages = (region.Last - last) / PageSize };
    }

    private bool IsSharedKernel(ulong virt) => SharedKernelHalf && IsKernel(virt);

    private ImmutableSortedDictionary<ulong, Mapping> MapOf(int space, ulong virt) =>
        IsSharedKernel(virt) ? KernelMappings : UserMappings[space];

    private ApiState With(int space, ulong virtualBase, Mapping mapping) =>
        IsSharedKernel(virtualBase)
            ? this with { KernelMappings = KernelMappings.SetItem(virtualBase, mapping) }
            : this with { UserMappings = UserMappings.SetItem(space, UserMappings[space].SetItem(virtualBase, mapping)) };
}
