using Mmspec.Reference.Memory;
using Mmspec.Reference.Paging;
using Mmspec.Reference.Physical;

namespace Mmspec.Reference.Virtual;

/// <summary>vmfind, vmalloc and vmfree: contiguous virtual regions backed by fresh physical pages.</summary>
public class RegionManager(SimulatedRam ram, PhysicalAllocator frames, PageTables tables)
{
    /// <summary>Pages in the 48-bit address space: a larger request can never fit.</summary>
    private const ulong MaxPages = 1UL << 36;

    protected SimulatedRam Ram { get; } = ram;

    protected PhysicalAllocator Frames { get; } = frames;

    protected PageTables Tables { get; } = tables;

    /// <summary>The lowest free region of npages inside [from, to) and inside one segment, or null.</summary>
    public virtual ulong? Find(AddressSpace space, ulong from, ulong to, ulong npages, bool userOnly = false)
    {
        if (npages == 0 || npages > MaxPages)
            return null;
        // Counted in whole pages, so that rounding `from` up cannot overflow.
        ulong firstPage = from / Layout.PageSize + (from % Layout.PageSize == 0 ? 0UL : 1UL);
        ulong endPage = to / Layout.PageSize;
        if (firstPage >= endPage)
            return null;
        ulong first = firstPage * Layout.PageSize, last = endPage * Layout.PageSize - 1;
        foreach (Segment segment in Segment.All)
        {
            if (userOnly && segment.IsKernel)
                continue;
            ulong low = Math.Max(first, segment.First), high = Math.Min(last, segment.Last);
            if (low <= high && FreeRunIn(space, low, high, npages) is { } found)
                return found;
        }
        return null;
    }

    /// <summary>Finds a region and backs it with zeroed pages; all or nothing.</summary>
    public virtual ulong? Allocate(AddressSpace space, ulong from, ulong to, ulong npages, ulong flags)
    {
        if (!PageAccessBits.IsValid(flags))
            return null;
        var access = (PageAccess)flags;
        if (npages > (ulong)Frames.FreeFrames || Find(space, from, to, npages, access.HasFlag(PageAccess.User)) is not { } region)
            return null;
        EntryFlags leafFlags = PageAccessBits.ToLeafFlags(access);
        EntryFlags tableFlags = PageAccessBits.TableFlagsFor(new VirtAddr(region));
        for (ulong page = 0; page < npages; page++)
        {
            var virt = new VirtAddr(region + page * Layout.PageSize);
            if (!MapFreshPage(space, virt, leafFlags, tableFlags))
            {
                Release(space, region, page);
                return null;
            }
        }
        return region;
    }

    /// <summary>Unmaps the region and frees its pages; checks everything before changing anything.</summary>
    public virtual RegionFreeStatus Free(AddressSpace space, ulong address, ulong npages)
    {
        if (npages == 0)
            return RegionFreeStatus.Freed;
        // The segments tile the canonical address space, so no segment means a non-canonical address.
        if (!Layout.IsPageAligned(address) || npages > MaxPages
            || Segment.Of(address) is not { } segment || segment.Last - address < npages * Layout.PageSize - 1)
            return RegionFreeStatus.InvalidArgument;
        ulong last = address + npages * Layout.PageSize - 1;
        var leaves = new List<Leaf>((int)Math.Min(npages, 1024)); // no more leaves than pages: a region's fit at once, a far bigger range grows
        leaves.AddRange(Tables.LeavesIn(space.Root, address, last));
        var frames = new HashSet<ulong>();
        foreach (Leaf leaf in leaves)
            if (leaf.Level != PageLevel.Pt || !Frames.IsAllocated(leaf.Frame.Value) || !frames.Add(leaf.Frame.Value))
                return RegionFreeStatus.InvalidArgument;
        foreach (Leaf leaf in leaves)
            UnmapAndFree(space, leaf);
        return RegionFreeStatus.Freed;
    }

    /// <summary>The lowest address in [first, last] (one canonical half) that starts npages unmapped pages, or null.</summary>
    protected virtual ulong? FreeRunIn(AddressSpace space, ulong first, ulong last, ulong npages) =>
        Tables.LowestFreeRun(space.Root, first, last, npages);

    protected virtual bool MapFreshPage(AddressSpace space, VirtAddr virt, EntryFlags leafFlags, EntryFlags tableFlags)
    {
        if (Frames.AllocatePage() is not { } frame)
            return false;
        Ram.ZeroFrame(frame.Value);
        if (Tables.Map(space.Root, virt, frame, leafFlags, tableFlags) == MapStatus.Mapped)
            return true;
        Frames.FreePage(frame.Value);
        return false;
    }

    /// <summary>Gives back the first <paramref name="pages"/> pages of a half-built region.</summary>
    protected virtual void Release(AddressSpace space, ulong region, ulong pages)
    {
        if (pages > 0)
        {
            var leaves = new List<Leaf>((int)pages); // the pages mapped so far, each a leaf
            leaves.AddRange(Tables.LeavesIn(space.Root, region, region + pages * Layout.PageSize - 1));
            foreach (Leaf leaf in leaves)
                UnmapAndFree(space, leaf);
        }
    }

    protected void UnmapAndFree(AddressSpace space, Leaf leaf)
    {
        Tables.RemoveLeaf(space.Root, new VirtAddr(leaf.VirtualBase), leaf);
        Frames.FreePage(leaf.Frame.Value);
    }
}
