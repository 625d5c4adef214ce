using Mmspec.Reference.Heap;
using Mmspec.Reference.Memory;
using Mmspec.Reference.Paging;
using Mmspec.Reference.Physical;
using Mmspec.Reference.Virtual;

namespace Mmspec.Reference.Kernel;

/// <summary>
/// Builds the kernel's parts. A variant of the kernel (for instance one with a deliberate bug) supplies
/// a factory that returns a derived part; the kernel itself knows nothing of variants.
/// </summary>
public class ComponentFactory
{
    public static readonly ComponentFactory Default = new();

    public virtual PhysicalAllocator CreateAllocator(ulong ramSize, ulong reservedLow) => new(ramSize, reservedLow);

    public virtual PageTables CreatePageTables(SimulatedRam ram, PhysicalAllocator frames) => new(ram, frames);

    public virtual KernelHeap CreateHeap(PhysicalAllocator frames) => new(frames);

    public virtual RegionManager CreateRegions(SimulatedRam ram, PhysicalAllocator frames, PageTables tables) => new(ram, frames, tables);
}

/// <summary>The simulated machine's shape.</summary>
public sealed record MachineOptions(ulong RamSize = Layout.DefaultRamSize, ulong ReservedLow = Layout.ReservedLowMemory);
