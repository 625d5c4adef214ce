using Mmspec.Reference.Api;
using Mmspec.Reference.Heap;
using Mmspec.Reference.Kernel;
using Mmspec.Reference.Memory;
using Mmspec.Reference.Paging;
using Mmspec.Reference.Physical;
using Mmspec.Reference.Virtual;
using static Mmspec.Tests.Reference.TestKernel;

namespace Mmspec.Tests.Reference;

/// <summary>The machine a caller gets without options: 1 GiB of RAM (the whole direct map), low 1 MiB reserved.</summary>
public class DefaultMachineTests
{
    [Fact]
    public void WithoutOptions_TheMachineHas1GiBOfRam_AndKeepsItsFirstMiB()
    {
        var api = new MmApi();

        Assert.Equal(Layout.DefaultRamSize, api.Kernel.Ram.Size);
        Assert.Equal(GiB, api.Kernel.Ram.Size);
        Assert.Equal(FreeAfterBoot(GiB), api.Kernel.Frames.FreeFrames);
        ulong first = api.mm_phys_alloc_page();
        Assert.True(first >= MiB, $"0x{first:X} lies in the reserved first MiB");
        Assert.True(api.Kernel.Frames.IsReserved(0));
        Assert.True(api.Kernel.Frames.IsReserved(MiB - Page));
    }

    /// <summary>The zoo builds its buggy machines this way: the parts come from the factory the kernel is given.</summary>
    [Fact]
    public void A_component_factory_given_to_the_kernel_makes_its_parts()
    {
        var factory = new RecordingFactory();

        var kernel = new MemoryManager(new MachineOptions(SmallRam), factory);

        Assert.Same(factory.Allocator, kernel.Frames);
        Assert.Same(factory.Tables, kernel.Tables);
        Assert.Same(factory.Heap, kernel.Heap);
        Assert.Same(factory.Regions, kernel.Regions);
    }

    private sealed class RecordingFactory : ComponentFactory
    {
        public PhysicalAllocator? Allocator { get; private set; }

        public PageTables? Tables { get; private set; }

        public KernelHeap? Heap { get; private set; }

        public RegionManager? Regions { get; private set; }

        public override PhysicalAllocator CreateAllocator(ulong ramSize, ulong reservedLow) => Allocator = base.CreateAllocator(ramSize, reservedLow);

        public override PageTables CreatePageTables(SimulatedRam ram, PhysicalAllocator frames) => Tables = base.CreatePageTables(ram, frames);

        public override KernelHeap CreateHeap(PhysicalAllocator frames) => Heap = base.CreateHeap(frames);

        public override RegionManager CreateRegions(SimulatedRam ram, PhysicalAllocator frames, PageTables tables) =>
            Regions = base.CreateRegions(ram, frames, tables);
    }
}
