using Mmspec.Reference.Heap;
using Mmspec.Reference.Kernel;
using Mmspec.Reference.Memory;
using Mmspec.Reference.Paging;
using Mmspec.Reference.Physical;
using Mmspec.Reference.Virtual;
using Mmspec.SpecTests.Port;

namespace Mmspec.Zoo.Bugs;

// ---------------------------------------------------------------- physical allocator

/// <summary>The contiguous run search lets one used frame inside a run pass as free.</summary>
public sealed class RunAcrossUsedFrame(ulong ramSize, ulong reservedLow) : PhysicalAllocator(ramSize, reservedLow)
{
    public override PhysAddr? AllocateContiguous(ulong count)
    {
        if (count == 0 || count > (ulong)FreeFrames)
            return null;
        int frames = (int)(RamSize / Layout.PageSize), start = 0, length = 0;
        bool skipped = false;
        for (int frame = 0; frame < frames; frame++)
        {
            ulong address = (ulong)frame * Layout.PageSize;
            if (IsReserved(address))
                continue;
            if (!IsAllocated(address))
            {
                if (length == 0)
                    start = frame;
                length++;
            }
            else if (length > 0 && !skipped)
            {
                skipped = true; // BUG: a single used frame does not break the run
                length++;
            }
            else
            {
                length = 0;
                skipped = false;
            }
            if ((ulong)length >= count)
            {
                MarkUsed(start, (int)count);
                return new PhysAddr((ulong)start * Layout.PageSize);
            }
        }
        return null;
    }
}

/// <summary>Marks one page fewer than it hands out: the run's last page stays free.</summary>
public sealed class ContiguousShortByOne(ulong ramSize, ulong reservedLow) : PhysicalAllocator(ramSize, reservedLow)
{
    public override PhysAddr? AllocateContiguous(ulong count)
    {
        PhysAddr? start = base.AllocateContiguous(count);
        if (start is { } run)
            FreePage(run.Value + (count - 1) * Layout.PageSize); // BUG: off by one, the run's last page is never marked used
        return start;
    }
}

// ---------------------------------------------------------------- page tables

/// <summary>New table pages are not zeroed: stale contents become entries.</summary>
public sealed class UnzeroedTables(SimulatedRam ram, PhysicalAllocator frames) : PageTables(ram, frames)
{
    public override PhysAddr? AllocateTable() => Frames.AllocatePage(); // BUG: no Ram.ZeroFrame
}

/// <summary>Pruning unlinks an empty table from its parent but never gives the page back.</summary>
public sealed class PruneWithoutFree(SimulatedRam ram, PhysicalAllocator frames) : PageTables(ram, frames)
{
    protected override void PruneEmptyTables(PhysAddr root, VirtAddr virt, int emptiedLevel)
    {
        for (int level = emptiedLevel; MayFreeTable(virt, level); level++)
        {
            PhysAddr parent = root;
            for (int walk = PageLevel.Pml4; walk > level + 1; walk--)
                parent = ReadEntry(parent, virt.TableIndex(walk)).Address;
            int index = virt.TableIndex(level + 1);
            if (!IsEmpty(ReadEntry(parent, index).Address))
                return;
            WriteEntry(parent, index, PageTableEntry.Empty); // BUG: the table page is not freed
        }
    }
}

// ---------------------------------------------------------------- heap

/// <summary>Large blocks get size / 4096 pages, rounded down: the block's tail overlaps its neighbour.</summary>
public sealed class LargeRoundsDown(PhysicalAllocator frames) : KernelHeap(frames)
{
    protected override ulong PagesForLargeBlock(ulong size) => Math.Max(1, size / Layout.PageSize);
}

/// <summary>Slots start 8 bytes into their slot (an 8-byte header that breaks 16-byte alignment).</summary>
public sealed class MisalignedSlots(PhysicalAllocator frames) : KernelHeap(frames)
{
    protected override ulong SlotOffset(Slab slab, int slot) => base.SlotOffset(slab, slot) + 8;
}

// ---------------------------------------------------------------- regions

/// <summary>vmfind treats to as inclusive.</summary>
public sealed class InclusiveTo(SimulatedRam ram, PhysicalAllocator frames, PageTables tables) : RegionManager(ram, frames, tables)
{
    public override ulong? Find(AddressSpace space, ulong from, ulong to, ulong npages, bool userOnly = false) =>
        base.Find(space, from, to > ulong.MaxValue - Layout.PageSize ? to : to + Layout.PageSize, npages, userOnly);
}

/// <summary>vmfind rounds from down instead of up.</summary>
public sealed class FromRoundedDown(SimulatedRam ram, PhysicalAllocator frames, PageTables tables) : RegionManager(ram, frames, tables)
{
    public override ulong? Find(AddressSpace space, ulong from, ulong to, ulong npages, bool userOnly = false) =>
        base.Find(space, Layout.AlignDown(from, Layout.PageSize), to, npages, userOnly);
}

/// <summary>vmfind's free-run search only looks at 4 KiB leaves: 2 MiB and 1 GiB pages count as free.</summary>
public sealed class IgnoresLargePages(SimulatedRam ram, PhysicalAllocator frames, PageTables tables) : RegionManager(ram, frames, tables)
{
    protected override ulong? FreeRunIn(AddressSpace space, ulong first, ulong last, ulong npages)
    {
        ulong cursor = first, length = npages * Layout.PageSize;
        foreach (Leaf leaf in Tables.LeavesIn(space.Root, first, last).Where(leaf => leaf.Level == PageLevel.Pt)) // BUG: large pages are not seen as occupied
        {
            if (leaf.VirtualBase - cursor >= length)
                return cursor;
            cursor = leaf.VirtualBase + leaf.Size;
            if (cursor == 0 || cursor > last)
                return null;
        }
        return last - cursor + 1 >= length ? cursor : null;
    }
}

/// <summary>vmalloc does not give back the pages it mapped when it runs out half way.</summary>
public sealed class NoRollback(SimulatedRam ram, PhysicalAllocator frames, PageTables tables) : RegionManager(ram, frames, tables)
{
    protected override void Release(AddressSpace space, ulong region, ulong pages)
    {
        // BUG: the half-built region stays mapped and its pages allocated
    }
}

/// <summary>vmalloc creates intermediate tables without the user bit.</summary>
public sealed class TablesWithoutUser(SimulatedRam ram, PhysicalAllocator frames, PageTables tables) : RegionManager(ram, frames, tables)
{
    protected override bool MapFreshPage(AddressSpace space, VirtAddr virt, EntryFlags leafFlags, EntryFlags tableFlags) =>
        base.MapFreshPage(space, virt, leafFlags, tableFlags & ~EntryFlags.User);
}

/// <summary>vmalloc ignores MM_PAGE_EXEC: every region page is no-execute.</summary>
public sealed class ExecIgnored(SimulatedRam ram, PhysicalAllocator frames, PageTables tables) : RegionManager(ram, frames, tables)
{
    protected override bool MapFreshPage(AddressSpace space, VirtAddr virt, EntryFlags leafFlags, EntryFlags tableFlags) =>
        base.MapFreshPage(space, virt, leafFlags | EntryFlags.NoExecute, tableFlags);
}

/// <summary>vmfree frees the physical pages but leaves them mapped.</summary>
public sealed class FreeStillMapped(SimulatedRam ram, PhysicalAllocator frames, PageTables tables) : RegionManager(ram, frames, tables)
{
    public override RegionFreeStatus Free(AddressSpace space, ulong address, ulong npages)
    {
        if (npages == 0)
            return RegionFreeStatus.Freed;
        if (!VirtAddr.IsCanonical(address) || !Layout.IsPageAligned(address) || npages > 1UL << 36
            || Segment.Of(address) is not { } segment || segment.Last - address < npages * Layout.PageSize - 1)
            return RegionFreeStatus.InvalidArgument;
        var leaves = Tables.LeavesIn(space.Root, address, address + npages * Layout.PageSize - 1).ToList();
        var seen = new HashSet<ulong>();
        foreach (Leaf leaf in leaves)
            if (leaf.Level != PageLevel.Pt || !Frames.IsAllocated(leaf.Frame.Value) || !seen.Add(leaf.Frame.Value))
                return RegionFreeStatus.InvalidArgument;
        foreach (Leaf leaf in leaves)
            Frames.FreePage(leaf.Frame.Value); // BUG: the leaf is not cleared
        return RegionFreeStatus.Freed;
    }
}

// ---------------------------------------------------------------- memory manager (map, map_get, umap)

/// <summary>mm_map_get adds only the low 12 bits of the offset, even inside a 2 MiB page.</summary>
public sealed class LargePageOffsetMasked(MachineOptions options) : MemoryManager(options)
{
    public override (ulong Phys, PageAccess Access)? Translate(AddressSpace space, ulong virt)
    {
        if (!VirtAddr.TryCreate(virt, out VirtAddr address) || Tables.FindLeaf(space.Root, address) is not { } leaf)
            return null;
        return (leaf.Frame.Value + (virt & (Layout.PageSize - 1)), PageAccessBits.FromLeaf(leaf.Entry)); // BUG: 0xFFF for every page size
    }
}

/// <summary>mm_umap_single returns the page but forgets to clear the entry.</summary>
public sealed class UnmapLeavesPresent(MachineOptions options) : MemoryManager(options)
{
    public override ulong? Unmap(AddressSpace space, ulong virt, UnmapSize size)
    {
        if (!VirtAddr.TryCreate(virt, out VirtAddr address) || !address.IsPageAligned || !Enum.IsDefined(size)
            || Tables.FindLeaf(space.Root, address) is not { } leaf)
            return null;
        if (size == UnmapSize.Small && leaf.Level != PageLevel.Pt)
            return null;
        return leaf.Frame.Value; // BUG: Tables.RemoveLeaf is never called
    }
}

/// <summary>mm_umap_single returns the raw entry (flags and all) instead of the physical address.</summary>
public sealed class UnmapReturnsEntry(MachineOptions options) : MemoryManager(options)
{
    public override ulong? Unmap(AddressSpace space, ulong virt, UnmapSize size)
    {
        Leaf? leaf = VirtAddr.TryCreate(virt, out VirtAddr address) ? Tables.FindLeaf(space.Root, address) : null;
        ulong? frame = base.Unmap(space, virt, size);
        return frame is null ? null : leaf!.Value.Entry.Raw; // BUG: the PTE, not its address
    }
}

/// <summary>mm_umap_single with size 1 also removes 2 MiB and 1 GiB pages.</summary>
public sealed class UnmapSmallRemovesLarge(MachineOptions options) : MemoryManager(options)
{
    public override ulong? Unmap(AddressSpace space, ulong virt, UnmapSize size) =>
        base.Unmap(space, virt, size == UnmapSize.Small ? UnmapSize.Any : size); // BUG: size is ignored
}

/// <summary>The user/kernel check is one page early: a USER mapping of the last user page is refused.</summary>
public sealed class BoundaryOffByOne(MachineOptions options) : MemoryManager(options)
{
    public override MapStatus Map(AddressSpace space, ulong virt, ulong phys, ulong flags) =>
        (flags & (ulong)PageAccess.User) != 0 && virt >= Layout.KernelBase - Layout.PageSize && virt < Layout.KernelBase
            ? MapStatus.InvalidArgument // BUG: virt + PAGE_SIZE >= MM_KERNEL_BASE
            : base.Map(space, virt, phys, flags);
}

/// <summary>mm_map_single never checks canonicity: it walks with bits 47..12, so a non-canonical address aliases the other half.</summary>
public sealed class NonCanonicalAlias(MachineOptions options) : MemoryManager(options)
{
    private const ulong Low48 = (1UL << 48) - 1;

    public override MapStatus Map(AddressSpace space, ulong virt, ulong phys, ulong flags)
    {
        ulong walked = virt & Low48;
        if ((walked & (1UL << 47)) != 0)
            walked |= ~Low48; // what the table walk effectively addresses
        return base.Map(space, walked, phys, flags);
    }
}

/// <summary>mm_map_single hard-codes R/W: every mapping is writable.</summary>
public sealed class MapAlwaysWritable(MachineOptions options) : MemoryManager(options)
{
    public override MapStatus Map(AddressSpace space, ulong virt, ulong phys, ulong flags) =>
        base.Map(space, virt, phys, PageAccessBits.IsValid(flags) ? flags | (ulong)PageAccess.Write : flags);
}

// ---------------------------------------------------------------- port decorators

/// <summary>mm_map_get returns the page's address without the in-page offset.</summary>
public sealed class MapGetDropsOffset(IMmImplementation inner) : PortDecorator(inner)
{
    public override ulong mm_map_get(ulong space, ulong virt, out ulong flags)
    {
        ulong phys = Inner.mm_map_get(space, virt, out flags);
        return phys == ulong.MaxValue ? phys : phys & ~(Layout.PageSize - 1);
    }

    public override ulong mm_map_get(ulong space, ulong virt)
    {
        ulong phys = Inner.mm_map_get(space, virt);
        return phys == ulong.MaxValue ? phys : phys & ~(Layout.PageSize - 1);
    }
}

/// <summary>kfree poisons the block one word past its (16-byte rounded) end: the next block's first word.</summary>
public sealed class KfreePoisonsNeighbour(IMmImplementation inner) : PortDecorator(inner)
{
    private readonly Dictionary<ulong, ulong> sizes = [];

    public override ulong kmalloc(ulong size)
    {
        ulong block = Inner.kmalloc(size);
        if (block != 0)
            sizes[block] = size;
        return block;
    }

    public override void kfree(ulong ptr)
    {
        if (sizes.Remove(ptr, out ulong size))
        {
            ulong rounded = (Math.Max(size, 1) + 15) & ~15UL;
            ulong phys = ptr - Layout.KernelBase;
            for (ulong offset = 0; offset < rounded + 8; offset += 8) // BUG: <= instead of <
                if (phys + offset + 8 <= Inner.RamSize)
                    Inner.Ram.WriteU64(phys + offset, 0xDEADBEEFDEADBEEF);
        }
        Inner.kfree(ptr);
    }
}

/// <summary>mm_map_single lost its kernel-address check: USER mappings of kernel addresses are accepted.</summary>
public sealed class KernelUserAccepted(MachineOptions options) : MemoryManager(options)
{
    public override MapStatus Map(AddressSpace space, ulong virt, ulong phys, ulong flags)
    {
        if (!VirtAddr.TryCreate(virt, out VirtAddr page) || !page.IsPageAligned || !Layout.IsPageAligned(phys)
            || !PhysAddr.TryCreate(phys, out PhysAddr frame) || !PageAccessBits.IsValid(flags))
            return MapStatus.InvalidArgument;
        // BUG: no "kernel address with MM_PAGE_USER" check
        return Tables.Map(space.Root, page, frame, PageAccessBits.ToLeafFlags((PageAccess)flags), PageAccessBits.TableFlagsFor(page));
    }
}

/// <summary>vmfree's loop stops after the first page: the rest of the region stays mapped and allocated.</summary>
public sealed class FreeFirstPageOnly(SimulatedRam ram, PhysicalAllocator frames, PageTables tables) : RegionManager(ram, frames, tables)
{
    public override RegionFreeStatus Free(AddressSpace space, ulong address, ulong npages) =>
        base.Free(space, address, Math.Min(npages, 1)); // BUG: loop bound
}
