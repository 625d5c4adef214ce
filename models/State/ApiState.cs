using System.Collections.Immutable;
using System.Runtime.InteropServices;
using static Mmspec.Models.State.AddressSpaceLayout;

namespace Mmspec.Models.State;

/// <summary>
/// The abstract state of the API as a client sees it: pages it owns, live heap blocks, and per space a
/// map from virtual page to physical page and rights. Immutable: every transition returns a new state.
/// The kernel half is shared per PML4 slot: a slot in <see cref="SharedSlots"/> is one set of mappings that
/// every space sees (as real kernels arrange it); any other slot is each space's own.
/// </summary>
public sealed record ApiState
{
    private ApiState(int spaces, ImmutableSortedSet<int> sharedSlots)
    {
        SharedSlots = sharedSlots;
        SpaceMappings = Enumerable.Repeat(ImmutableSortedDictionary<ulong, Mapping>.Empty, spaces).ToImmutableArray();
    }

    /// <summary>Kernel-half PML4 slots (510, 511) whose mappings all spaces share.</summary>
    public ImmutableSortedSet<int> SharedSlots { get; }

    /// <summary>Every kernel slot is shared: one kernel half for all spaces.</summary>
    public bool SharedKernelHalf => KernelSlots.All(SharedSlots.Contains);

    public PageSet ClientPages { get; private init; } = PageSet.Empty;

    public ImmutableSortedDictionary<ulong, ulong> HeapBlocks { get; private init; } = ImmutableSortedDictionary<ulong, ulong>.Empty;

    /// <summary>Mappings in the shared kernel slots, seen by every space.</summary>
    public ImmutableSortedDictionary<ulong, Mapping> SharedMappings { get; private init; } = ImmutableSortedDictionary<ulong, Mapping>.Empty;

    /// <summary>Per space: its user half and its own (unshared) kernel slots.</summary>
    public ImmutableArray<ImmutableSortedDictionary<ulong, Mapping>> SpaceMappings { get; private init; }

    public ImmutableList<Region> Regions { get; private init; } = [];

    /// <summary>The last key a transition changed, linked to the ones before it (<see cref="StateChange"/>); null at boot.</summary>
    public StateChange? LastChange { get; private init; }

    // One per boot, kept by every transition: states of one lineage share a history.
    private readonly object lineage = new();

    public int SpaceCount => SpaceMappings.Length;

    /// <summary>
    /// A booted machine with nothing mapped yet: the boot mappings (the direct map and anything else the
    /// kernel half held at boot, as observed) are added with <see cref="WithBootMapping"/>.
    /// </summary>
    public static ApiState Boot(int spaces, IEnumerable<int> sharedSlots)
    {
        var slots = sharedSlots.ToImmutableSortedSet();
        if (slots.Any(slot => !KernelSlots.Contains(slot)))
            throw new ArgumentOutOfRangeException(nameof(sharedSlots), "only kernel-half PML4 slots (510, 511) can be shared");
        return new ApiState(spaces, slots);
    }

    /// <summary>The reference's layout: the whole kernel half shared or not, and optionally the direct map as 512 pages of 2 MiB.</summary>
    public static ApiState Initial(int spaces, bool sharedKernelHalf, bool directMapLargePages)
    {
        ApiState state = Boot(spaces, sharedKernelHalf ? KernelSlots : []);
        if (!directMapLargePages)
            return state;
        for (ulong offset = 0; offset < DirectMapSize; offset += LargePageSize)
            for (int space = 0; space < (sharedKernelHalf ? 1 : spaces); space++)
                state = state.WithBootMapping(space, KernelBase + offset, new Mapping(offset, LargePageSize, Rights.Write, MappingKind.DirectMap));
        return state;
    }

    /// <summary>A mapping of any size that the kernel made itself (found at boot); in a shared slot it is added once.</summary>
    public ApiState WithBootMapping(int space, ulong virtualBase, Mapping mapping)
    {
        if (!IsKernel(virtualBase) || mapping.Kind is not (MappingKind.DirectMap or MappingKind.Boot))
            throw new ArgumentException($"a boot mapping is a direct-map or boot page of the kernel half, not {mapping} at 0x{virtualBase:X}", nameof(mapping));
        return With(space, virtualBase, mapping);
    }

    // ---- queries ----

    /// <summary>The mapping covering virt in a space (a 4 KiB, 2 MiB or 1 GiB page), with its virtual base.</summary>
    public (ulong Base, Mapping Mapping)? Lookup(int space, ulong virt)
    {
        var map = MapOf(space, virt);
        foreach (ulong size in PageSizes)
        {
            ulong pageBase = virt & ~(size - 1);
            if (map.TryGetValue(pageBase, out Mapping mapping) && mapping.Size == size)
                return (pageBase, mapping);
        }
        return null;
    }

    /// <summary>Every mapping a space can see, in address order.</summary>
    public IEnumerable<(ulong Base, Mapping Mapping)> MappingsOf(int space)
    {
        IEnumerable<KeyValuePair<ulong, Mapping>> all = SharedMappings.IsEmpty
            ? SpaceMappings[space]
            : Merge(SpaceMappings[space], SharedMappings);
        return all.Select(pair => (pair.Key, pair.Value));
    }

    /// <summary>Each mapping once: per-space mappings, then the shared kernel slots as space -1.</summary>
    public IEnumerable<(int Space, ulong Base, Mapping Mapping)> DistinctMappings()
    {
        for (int space = 0; space < SpaceCount; space++)
            foreach ((ulong virt, Mapping mapping) in SpaceMappings[space])
                yield return (space, virt, mapping);
        foreach ((ulong virt, Mapping mapping) in SharedMappings)
            yield return (-1, virt, mapping);
    }

    /// <summary>Whether every space sees the mapping at virt (it lies in a shared kernel slot).</summary>
    public bool IsShared(ulong virt) => IsKernel(virt) && SharedSlots.Contains(Pml4Slot(virt));

    /// <summary>
    /// The changes since <paramref name="earlier"/>, oldest first (a key may appear more than once); null when
    /// this state is not reached from it by transitions (then only comparing the two whole states tells).
    /// </summary>
    public List<StateChange>? ChangesSince(ApiState earlier)
    {
        var changes = new List<StateChange>();
        return ChangesSince(earlier, changes) ? changes : null;
    }

    /// <summary>
    /// <see cref="ChangesSince(ApiState)"/> into <paramref name="changes"/> (cleared first), for a caller that asks after
    /// every step; false when this state is not reached from <paramref name="earlier"/>.
    /// </summary>
    public bool ChangesSince(ApiState earlier, List<StateChange> changes)
    {
        changes.Clear();
        if (!ReferenceEquals(lineage, earlier.lineage))
            return false; // booted apart: their histories share no state
        for (StateChange? change = LastChange; !ReferenceEquals(change, earlier.LastChange); change = change.Previous)
        {
            if (change is null)
            {
                changes.Clear();
                return false;
            }
            changes.Add(change);
        }
        changes.Reverse();
        return true;
    }

    public bool IsRangeFree(int space, ulong start, ulong pages) =>
        pages == 0 || !MappingsOverlapping(space, start, start + (pages * PageSize - 1)).Any();

    /// <summary>Ranges of at most this many pages are looked up page by page (<see cref="MappingsOverlapping"/>).</summary>
    private const ulong ProbedPages = 64;

    /// <summary>
    /// Every mapping a space can see that overlaps [<paramref name="start"/>, <paramref name="last"/>], in address order.
    /// A short range is looked up page by page, a few tree searches each: merging the space's whole map with the
    /// shared one (the direct map alone may be hundreds of entries) cost more than the steps that ask.
    /// </summary>
    public IEnumerable<(ulong Base, Mapping Mapping)> MappingsOverlapping(int space, ulong start, ulong last)
    {
        if (last < start)
            yield break;
        if (IsPageAligned(start) && (last - start) / PageSize < ProbedPages)
        {
            ulong? previous = null;
            for (ulong page = start; ; page += PageSize)
            {
                // Every mapping is whole pages at an address aligned to its size: it overlaps the range iff it maps one of its pages.
                if (Lookup(space, page) is { } found && found.Base != previous)
                {
                    previous = found.Base;
                    yield return found;
                }
                if (last - page < PageSize)
                    yield break;
            }
        }
        foreach ((ulong baseAddress, Mapping mapping) in MappingsOf(space))
        {
            if (baseAddress > last)
                yield break;
            if (baseAddress + (mapping.Size - 1) >= start)
                yield return (baseAddress, mapping);
        }
    }

    /// <summary>Whether every page of the range is still mapped by a region vmalloc made (none was unmapped since).</summary>
    public bool IsWholeRegion(int space, ulong start, ulong pages)
    {
        for (ulong page = 0; page < pages; page++)
            if (Lookup(space, start + page * PageSize) is not { Mapping.Kind: MappingKind.Region, Mapping.Size: PageSize })
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

    /// <summary>
    /// A memory space created after boot: an empty user half, the shared kernel slots as every space sees them,
    /// and in each unshared kernel slot <paramref name="ownKernelMappings"/> (what the first space held there at boot).
    /// </summary>
    public ApiState SpaceCreated(IEnumerable<(ulong Base, Mapping Mapping)> ownKernelMappings)
    {
        var own = ImmutableSortedDictionary<ulong, Mapping>.Empty;
        foreach ((ulong virtualBase, Mapping mapping) in ownKernelMappings)
        {
            if (IsShared(virtualBase) || mapping.Kind is not (MappingKind.DirectMap or MappingKind.Boot))
                throw new ArgumentException($"a new space's own kernel mapping is a boot mapping of an unshared slot, not {mapping} at 0x{virtualBase:X}", nameof(ownKernelMappings));
            own = own.Add(virtualBase, mapping);
        }
        return this with { SpaceMappings = SpaceMappings.Add(own), LastChange = Changed(StateKeyKind.Space, SpaceCount, (ulong)SpaceCount) };
    }

    public ApiState PageAllocated(ulong page) =>
        this with { ClientPages = ClientPages.Add(page), LastChange = Changed(StateKeyKind.ClientPage, -1, page) };

    public ApiState PageFreed(ulong page) =>
        this with { ClientPages = ClientPages.Remove(page), LastChange = Changed(StateKeyKind.ClientPage, -1, page) };

    /// <summary>Many pages allocated at once (a hog taking all memory): as <see cref="PageAllocated"/> on each, in one pass.</summary>
    public ApiState PagesAllocated(IReadOnlyCollection<ulong> pages) => WithClientPages(pages, ClientPages.Union(pages));

    /// <summary>Many pages freed at once (the teardown giving everything back): as <see cref="PageFreed"/> on each, in one pass.</summary>
    public ApiState PagesFreed(IReadOnlyCollection<ulong> pages) => WithClientPages(pages, ClientPages.Except(pages));

    public ApiState BlockAllocated(ulong pointer, ulong size) =>
        this with { HeapBlocks = HeapBlocks.Add(pointer, size), LastChange = Changed(StateKeyKind.HeapBlock, -1, pointer) };

    /// <summary>Many blocks allocated at once (a kmalloc burst): as <see cref="BlockAllocated"/> on each, in order, as one transition.</summary>
    public ApiState BlocksAllocated(IReadOnlyList<(ulong Pointer, ulong Size)> blocks)
    {
        ImmutableSortedDictionary<ulong, ulong>.Builder added = HeapBlocks.ToBuilder(); // nodes it made are changed in place, not copied per block
        foreach ((ulong pointer, ulong size) in blocks)
            added.Add(pointer, size);
        return this with { HeapBlocks = added.ToImmutable(), LastChange = ChangedEach(StateKeyKind.HeapBlock, blocks.Select(block => block.Pointer)) };
    }

    public ApiState BlockFreed(ulong pointer) =>
        this with { HeapBlocks = HeapBlocks.Remove(pointer), LastChange = Changed(StateKeyKind.HeapBlock, -1, pointer) };

    /// <summary>Many blocks freed at once (the teardown giving every block back): as <see cref="BlockFreed"/> on each, as one transition.</summary>
    public ApiState BlocksFreed(IReadOnlyCollection<ulong> pointers) =>
        this with { HeapBlocks = Without(HeapBlocks, pointers), LastChange = ChangedEach(StateKeyKind.HeapBlock, pointers) };

    // Through a builder, which changes in place the nodes it made: RemoveRange copies a path of the tree per block.
    private static ImmutableSortedDictionary<ulong, ulong> Without(ImmutableSortedDictionary<ulong, ulong> blocks, IEnumerable<ulong> pointers)
    {
        ImmutableSortedDictionary<ulong, ulong>.Builder left = blocks.ToBuilder();
        left.RemoveRange(pointers);
        return left.ToImmutable();
    }

    public ApiState Mapped(int space, ulong virt, ulong phys, Rights rights, MappingKind kind = MappingKind.Client) =>
        With(space, virt, new Mapping(phys, PageSize, rights, kind));

    public ApiState Unmapped(int space, ulong virtualBase) => WithMap(space, virtualBase, map => map.Remove(virtualBase));

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
        foreach ((ulong baseAddress, Mapping mapping) in MappingsOverlapping(space, start, last).ToList())
            if (baseAddress >= start && mapping.Size == PageSize)
                state = state.Unmapped(space, baseAddress).PageFreed(mapping.Phys);
        var regions = state.Regions.SelectMany(region => state.Trim(region, space, start, last)).ToImmutableList();
        return state with { Regions = regions };
    }

    /// <summary>
    /// A region some of whose pages were unmapped since vmalloc becomes one region per run of pages it still
    /// maps, so that each run can be freed on its own; a region with no page left is forgotten.
    /// </summary>
    public ApiState RegionSplitAtHoles(Region region)
    {
        var runs = new List<Region>();
        ulong runStart = 0, runPages = 0;
        for (ulong page = 0; page < region.Pages; page++)
        {
            ulong virt = region.Start + page * PageSize;
            if (IsWholeRegion(region.Space, virt, 1))
            {
                runStart = runPages == 0 ? virt : runStart;
                runPages++;
                continue;
            }
            if (runPages > 0)
                runs.Add(region with { Start = runStart, Pages = runPages });
            runPages = 0;
        }
        if (runPages > 0)
            runs.Add(region with { Start = runStart, Pages = runPages });
        int index = Regions.IndexOf(region);
        return this with { Regions = Regions.RemoveAt(index).InsertRange(index, runs) };
    }

    private IEnumerable<Region> Trim(Region region, int space, ulong start, ulong last)
    {
        bool sameSpace = region.Space == space || (IsShared(region.Start) && IsShared(start));
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

    private ImmutableSortedDictionary<ulong, Mapping> MapOf(int space, ulong virt) =>
        IsShared(virt) ? SharedMappings : SpaceMappings[space];

    private ApiState With(int space, ulong virtualBase, Mapping mapping) => WithMap(space, virtualBase, map => map.SetItem(virtualBase, mapping));

    /// <summary>The map that holds <paramref name="virtualBase"/> (the shared one, or the space's own) changed, and the change recorded.</summary>
    private ApiState WithMap(int space, ulong virtualBase, Func<ImmutableSortedDictionary<ulong, Mapping>, ImmutableSortedDictionary<ulong, Mapping>> change) =>
        IsShared(virtualBase)
            ? this with { SharedMappings = change(SharedMappings), LastChange = Changed(StateKeyKind.Mapping, -1, virtualBase) }
            : this with { SpaceMappings = SpaceMappings.SetItem(space, change(SpaceMappings[space])), LastChange = Changed(StateKeyKind.Mapping, space, virtualBase) };

    private ApiState WithClientPages(IEnumerable<ulong> changed, PageSet pages) =>
        this with { ClientPages = pages, LastChange = ChangedEach(StateKeyKind.ClientPage, changed) };

    private StateChange Changed(StateKeyKind kind, int space, ulong key) => new(kind, space, key, LastChange);

    /// <summary>The history after one bulk transition: one change naming its keys, in order, after <see cref="LastChange"/>.</summary>
    private StateChange? ChangedEach(StateKeyKind kind, IEnumerable<ulong> keys)
    {
        ulong[] changed = [.. keys];
        return changed.Length switch
        {
            0 => LastChange,
            1 => new StateChange(kind, -1, changed[0], LastChange),
            _ => new StateChange(kind, -1, changed[^1], LastChange) { Bulk = ImmutableCollectionsMarshal.AsImmutableArray(changed) },
        };
    }

    /// <summary>Two address-ordered maps as one address-ordered sequence (a space's own pages and the shared slots interleave).</summary>
    private static IEnumerable<KeyValuePair<ulong, Mapping>> Merge(
        ImmutableSortedDictionary<ulong, Mapping> first, ImmutableSortedDictionary<ulong, Mapping> second)
    {
        using var a = first.GetEnumerator();
        using var b = second.GetEnumerator();
        bool hasA = a.MoveNext(), hasB = b.MoveNext();
        while (hasA || hasB)
        {
            if (hasA && (!hasB || a.Current.Key < b.Current.Key))
            {
                yield return a.Current;
                hasA = a.MoveNext();
            }
            else
            {
                yield return b.Current;
                hasB = b.MoveNext();
            }
        }
    }
}
