using Mmspec.Reference.Heap;
using Mmspec.Reference.Memory;
using Mmspec.Reference.Paging;
using Mmspec.Reference.Physical;
using Mmspec.Reference.Virtual;

namespace Mmspec.Reference.Kernel;

/// <summary>
/// The reference kernel's memory manager over a simulated machine, with typed inputs and results.
/// <see cref="Api.MmApi"/> puts the spec's C-shaped surface on top of it.
/// </summary>
public class MemoryManager
{
    /// <summary>The kernel half (PML4 slots 510 and 511) is one set of tables shared by every space.</summary>
    public const int FirstKernelSlot = 510;

    private readonly Dictionary<ulong, AddressSpace> spaces = [];
    private readonly PhysAddr[] kernelPdpts = new PhysAddr[PageTableEntry.EntriesPerTable - FirstKernelSlot];

    public MemoryManager(MachineOptions? options = null, ComponentFactory? factory = null)
    {
        options ??= new MachineOptions();
        factory ??= ComponentFactory.Default;
        Ram = new SimulatedRam(options.RamSize);
        Frames = factory.CreateAllocator(options.RamSize, options.ReservedLow);
        Tables = factory.CreatePageTables(Ram, Frames);
        Heap = factory.CreateHeap(Frames);
        Regions = factory.CreateRegions(Ram, Frames, Tables);
        BuildKernelHalf();
    }

    // A machine of its own in the state of `original`: the copy shares no mutable part with it.
    private MemoryManager(MemoryManager original)
    {
        Ram = original.Ram.Copy();
        Frames = original.Frames.Copy();
        Tables = original.Tables.Copy(Ram, Frames);
        Heap = original.Heap.Copy(Frames);
        Regions = new RegionManager(Ram, Frames, Tables);
        spaces = new Dictionary<ulong, AddressSpace>(original.spaces);
        kernelPdpts = (PhysAddr[])original.kernelPdpts.Clone();
    }

    /// <summary>
    /// A copy of this machine as it stands, to carry on apart from it (a snapshot of a booted machine, restored for
    /// every test that starts from it); null for a variant kernel, whose parts may hold state of their own.
    /// </summary>
    public MemoryManager? Copy() =>
        IsReferenceKernel ? new MemoryManager(this) : null;

    private bool IsReferenceKernel =>
        GetType() == typeof(MemoryManager) && Frames.GetType() == typeof(PhysicalAllocator) && Tables.GetType() == typeof(PageTables)
        && Heap.GetType() == typeof(KernelHeap) && Regions.GetType() == typeof(RegionManager);

    public SimulatedRam Ram { get; }

    public PhysicalAllocator Frames { get; }

    public PageTables Tables { get; }

    public KernelHeap Heap { get; }

    public RegionManager Regions { get; }

    public IReadOnlyCollection<AddressSpace> Spaces => spaces.Values;

    /// <summary>A new space: a zeroed PML4 whose kernel slots point at the shared kernel tables.</summary>
    public AddressSpace? CreateSpace()
    {
        if (Tables.CreateTable() is not { } root)
            return null;
        for (int slot = 0; slot < kernelPdpts.Length; slot++)
            Tables.WriteEntry(root, FirstKernelSlot + slot, PageTableEntry.Create(kernelPdpts[slot], EntryFlags.Present | EntryFlags.Writable));
        var space = new AddressSpace(root);
        spaces.Add(space.Handle, space);
        return space;
    }

    public AddressSpace SpaceOf(ulong handle) =>
        spaces.TryGetValue(handle, out AddressSpace? space)
            ? space
            : throw new KernelPanicException(PanicReason.UnknownAddressSpace, $"0x{handle:X} is not an address space");

    public virtual MapStatus Map(AddressSpace space, ulong virt, ulong phys, ulong flags)
    {
        if (!VirtAddr.TryCreate(virt, out VirtAddr page) || !page.IsPageAligned || !Layout.IsPageAligned(phys)
            || !PhysAddr.TryCreate(phys, out PhysAddr frame) || !PageAccessBits.IsValid(flags))
            return MapStatus.InvalidArgument;
        var access = (PageAccess)flags;
        if (page.IsKernel && access.HasFlag(PageAccess.User))
            return MapStatus.InvalidArgument;
        return Tables.Map(space.Root, page, frame, PageAccessBits.ToLeafFlags(access), PageAccessBits.TableFlagsFor(page));
    }

    /// <summary>The physical address behind <paramref name="virt"/> (page offset included) and its permissions.</summary>
    public virtual (ulong Phys, PageAccess Access)? Translate(AddressSpace space, ulong virt)
    {
        if (!VirtAddr.TryCreate(virt, out VirtAddr address) || Tables.FindLeaf(space.Root, address) is not { } leaf)
            return null;
        return (leaf.Frame.Value + (virt - leaf.VirtualBase), PageAccessBits.FromLeaf(leaf.Entry));
    }

    /// <summary>Removes the page containing virt if its size is allowed; returns the page's physical base.</summary>
    public virtual ulong? Unmap(AddressSpace space, ulong virt, UnmapSize size)
    {
        if (!VirtAddr.TryCreate(virt, out VirtAddr address) || !address.IsPageAligned || !Enum.IsDefined(size)
            || Tables.FindLeaf(space.Root, address) is not { } leaf)
            return null;
        if (size == UnmapSize.Small && leaf.Level != PageLevel.Pt)
            return null;
        Tables.RemoveLeaf(space.Root, address, leaf);
        return leaf.Frame.Value;
    }

    // The direct map: 512 supervisor, writable, no-execute 2 MiB pages covering the low 1 GiB, under slot 510.
    private void BuildKernelHalf()
    {
        for (int slot = 0; slot < kernelPdpts.Length; slot++)
            kernelPdpts[slot] = TakeBootTable();
        PhysAddr directMap = TakeBootTable();
        EntryFlags large = EntryFlags.Present | EntryFlags.Writable | EntryFlags.PageSize | EntryFlags.NoExecute;
        for (int index = 0; index < PageTableEntry.EntriesPerTable; index++)
            Tables.WriteEntry(directMap, index, PageTableEntry.Create(new PhysAddr((ulong)index * Layout.LargePageSize), large));
        var directMapBase = new VirtAddr(Layout.KernelBase);
        Tables.WriteEntry(kernelPdpts[directMapBase.TableIndex(PageLevel.Pml4) - FirstKernelSlot], directMapBase.TableIndex(PageLevel.Pdpt),
            PageTableEntry.Create(directMap, EntryFlags.Present | EntryFlags.Writable));
    }

    private PhysAddr TakeBootTable() =>
        Tables.CreateTable() ?? throw new InvalidOperationException("RAM too small to hold the kernel's page tables");
}

/// <summary>mm_umap_single's size argument.</summary>
public enum UnmapSize : uint
{
    Any = 0,
    Small = 1,
}
