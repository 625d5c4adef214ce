using Mmspec.Reference.Kernel;
using Mmspec.Reference.Memory;
using Mmspec.Reference.Paging;
using Mmspec.Reference.Virtual;

namespace Mmspec.Reference.Api;

/// <summary>
/// The spec's C-shaped surface, names and all: plain 64-bit addresses, MM_NADDR for failure, negative
/// errno values for int results. Everything below this class works with typed values.
/// </summary>
public class MmApi(MemoryManager kernel)
{
    public const ulong MM_PAGE_SIZE = Layout.PageSize;
    public const ulong MM_NADDR = ulong.MaxValue;
    public const ulong MM_KERNEL_BASE = Layout.KernelBase;
    public const ulong MM_PAGE_USER = (ulong)PageAccess.User;
    public const ulong MM_PAGE_WRITE = (ulong)PageAccess.Write;
    public const ulong MM_PAGE_EXEC = (ulong)PageAccess.Exec;

    public const int EINVAL = 22;
    public const int EEXIST = 17;
    public const int ENOMEM = 12;

    public MmApi(MachineOptions? options = null)
        : this(new MemoryManager(options))
    {
    }

    public MemoryManager Kernel { get; } = kernel;

    public static ulong MM_VIRTUALIZE(ulong phys) => phys + Layout.KernelBase;

    public static ulong MM_PHYS(ulong virt) => virt - Layout.KernelBase;

    public ulong mm_phys_alloc_page() => OrNaddr(Kernel.Frames.AllocatePage()?.Value);

    public ulong mm_phys_alloc_contiguous(ulong count) => OrNaddr(Kernel.Frames.AllocateContiguous(count)?.Value);

    public void mm_phys_free_page(ulong addr) => Kernel.Frames.FreePage(addr);

    public ulong kmalloc(ulong size) => Kernel.Heap.Allocate(size) is { } block ? MM_VIRTUALIZE(block.Value) : 0;

    public void kfree(ulong ptr)
    {
        if (ptr == 0)
            return;
        if (ptr < Layout.KernelBase || MM_PHYS(ptr) >= Kernel.Ram.Size)
            throw new KernelPanicException(PanicReason.HeapFreeOfForeignPointer, $"kfree(0x{ptr:X}): not a heap pointer");
        Kernel.Heap.Free(MM_PHYS(ptr));
    }

    /// <summary>A new address space (mm_space_t is the PML4's kernel pointer), or MM_NADDR when RAM is exhausted.</summary>
    public ulong mm_space_create() => OrNaddr(Kernel.CreateSpace()?.Handle);

    public ulong mm_space_root(ulong space) => Kernel.SpaceOf(space).Root.Value;

    public int mm_map_single(ulong space, ulong virt, ulong phys, ulong flags) =>
        Kernel.Map(Kernel.SpaceOf(space), virt, phys, flags) switch
        {
            MapStatus.Mapped => 0,
            MapStatus.AlreadyMapped => -EEXIST,
            MapStatus.OutOfMemory => -ENOMEM,
            _ => -EINVAL,
        };

    /// <summary>On failure <paramref name="flags"/> keeps its value, as a C caller's variable would.</summary>
    public ulong mm_map_get(ulong space, ulong virt, ref ulong flags)
    {
        if (Kernel.Translate(Kernel.SpaceOf(space), virt) is not { } translation)
            return MM_NADDR;
        flags = (ulong)translation.Access;
        return translation.Phys;
    }

    public ulong mm_umap_single(ulong space, ulong virt, uint size) =>
        OrNaddr(Kernel.Unmap(Kernel.SpaceOf(space), virt, (UnmapSize)size));

    public ulong vmfind(ulong space, ulong from, ulong to, ulong npages) =>
        OrNaddr(Kernel.Regions.Find(Kernel.SpaceOf(space), from, to, npages));

    public ulong vmalloc(ulong space, ulong from, ulong to, ulong npages, ulong flags) =>
        OrNaddr(Kernel.Regions.Allocate(Kernel.SpaceOf(space), from, to, npages, flags));

    public int vmfree(ulong space, ulong addr, ulong npages) =>
        Kernel.Regions.Free(Kernel.SpaceOf(space), addr, npages) == RegionFreeStatus.Freed ? 0 : -EINVAL;

    private static ulong OrNaddr(ulong? value) => value ?? MM_NADDR;
}
