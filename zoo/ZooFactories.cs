using Mmspec.Reference.Api;
using Mmspec.Reference.Heap;
using Mmspec.Reference.Kernel;
using Mmspec.Reference.Memory;
using Mmspec.Reference.Paging;
using Mmspec.Reference.Physical;
using Mmspec.Reference.Virtual;
using Mmspec.SpecTests.Adapters;
using Mmspec.SpecTests.Port;

namespace Mmspec.Zoo;

/// <summary>A component factory whose parts can each be replaced by a buggy subclass.</summary>
public sealed class ZooComponents : ComponentFactory
{
    public Func<ulong, ulong, PhysicalAllocator>? Allocator { get; init; }

    public Func<SimulatedRam, PhysicalAllocator, PageTables>? Tables { get; init; }

    public Func<PhysicalAllocator, KernelHeap>? Heap { get; init; }

    public Func<SimulatedRam, PhysicalAllocator, PageTables, RegionManager>? Regions { get; init; }

    public override PhysicalAllocator CreateAllocator(ulong ramSize, ulong reservedLow) =>
        Allocator?.Invoke(ramSize, reservedLow) ?? base.CreateAllocator(ramSize, reservedLow);

    public override PageTables CreatePageTables(SimulatedRam ram, PhysicalAllocator frames) =>
        Tables?.Invoke(ram, frames) ?? base.CreatePageTables(ram, frames);

    public override KernelHeap CreateHeap(PhysicalAllocator frames) => Heap?.Invoke(frames) ?? base.CreateHeap(frames);

    public override RegionManager CreateRegions(SimulatedRam ram, PhysicalAllocator frames, PageTables tables) =>
        Regions?.Invoke(ram, frames, tables) ?? base.CreateRegions(ram, frames, tables);
}

/// <summary>A reference machine whose MemoryManager is a buggy subclass.</summary>
public sealed class KernelVariantFactory(string name, Func<MachineOptions, MemoryManager> kernel) : IImplementationFactory
{
    public string Name { get; } = name;

    public IMmImplementation Create(ulong ramSize) => new ReferenceImplementation(new MmApi(kernel(new MachineOptions(ramSize))));
}

/// <summary>A machine (the reference unless <paramref name="over"/> says otherwise) seen through a port decorator that changes one call.</summary>
public sealed class DecoratedFactory(string name, Func<IMmImplementation, IMmImplementation> decorate, IImplementationFactory? over = null) : IImplementationFactory
{
    private readonly IImplementationFactory inner = over ?? new ReferenceFactory(name);

    public string Name { get; } = name;

    public IMmImplementation Create(ulong ramSize) => decorate(inner.Create(ramSize));
}

/// <summary>Forwards every call to the wrapped implementation; a zoo member overrides the one it breaks.</summary>
public class PortDecorator(IMmImplementation inner) : IMmImplementation
{
    protected IMmImplementation Inner { get; } = inner;

    public ulong RamSize => Inner.RamSize;

    public IRamAccess Ram => Inner.Ram;

    public virtual IWriteTracking? Writes => Inner.Writes;

    public virtual ulong mm_phys_alloc_page() => Inner.mm_phys_alloc_page();

    public virtual ulong mm_phys_alloc_contiguous(ulong count) => Inner.mm_phys_alloc_contiguous(count);

    public virtual void mm_phys_free_page(ulong addr) => Inner.mm_phys_free_page(addr);

    public virtual ulong kmalloc(ulong size) => Inner.kmalloc(size);

    public virtual void kfree(ulong ptr) => Inner.kfree(ptr);

    public virtual int mm_map_single(ulong space, ulong virt, ulong phys, ulong flags) => Inner.mm_map_single(space, virt, phys, flags);

    public virtual ulong mm_map_get(ulong space, ulong virt, out ulong flags) => Inner.mm_map_get(space, virt, out flags);

    public virtual ulong mm_map_get(ulong space, ulong virt) => Inner.mm_map_get(space, virt);

    public virtual ulong mm_umap_single(ulong space, ulong virt, uint size) => Inner.mm_umap_single(space, virt, size);

    public virtual ulong vmfind(ulong space, ulong from, ulong to, ulong npages) => Inner.vmfind(space, from, to, npages);

    public virtual ulong vmalloc(ulong space, ulong from, ulong to, ulong npages, ulong flags) => Inner.vmalloc(space, from, to, npages, flags);

    public virtual int vmfree(ulong space, ulong addr, ulong npages) => Inner.vmfree(space, addr, npages);

    public ulong MM_PAGE_SIZE => Inner.MM_PAGE_SIZE;

    public virtual ulong MM_VIRTUALIZE(ulong phys) => Inner.MM_VIRTUALIZE(phys);

    public virtual ulong MM_PHYS(ulong virt) => Inner.MM_PHYS(virt);

    public virtual ulong CreateSpace() => Inner.CreateSpace();

    public virtual ulong SpaceRoot(ulong space) => Inner.SpaceRoot(space);

    public void Dispose()
    {
        Inner.Dispose();
        GC.SuppressFinalize(this);
    }
}
