using Mmspec.Models.Mmu;
using Mmspec.Reference.Api;
using Mmspec.Reference.Kernel;
using Mmspec.Reference.Memory;
using Mmspec.Tests.Reference;

namespace Mmspec.Tests.Integration;

/// <summary>The independent MMU model reads the reference's page tables and must agree with what the API says.</summary>
public sealed class ReferenceThroughMmuTests
{
    private const ulong KernelBase = 0xFFFFFF0000000000;

    private sealed class RamReader(SimulatedRam ram) : IPhysicalMemory
    {
        public ulong ReadU64(ulong physicalAddress) => ram.ReadU64(physicalAddress);
    }

    private static (MmApi Api, ulong Space, ulong Root, IPhysicalMemory Ram) Boot()
    {
        (MmApi api, ulong space) = TestKernel.CreateWithSpace(8UL << 20);
        return (api, space, api.mm_space_root(space), new RamReader(api.Kernel.Ram));
    }

    [Fact]
    public void The_direct_map_is_512_supervisor_writable_no_execute_2MiB_pages_over_the_low_GiB()
    {
        (_, _, ulong root, IPhysicalMemory ram) = Boot();
        var directMap = Mmu.EnumerateLeaves(ram, root).Where(leaf => leaf.VirtualBase >= KernelBase).ToList();

        Assert.Equal(512, directMap.Count);
        for (int index = 0; index < directMap.Count; index++)
        {
            MappedLeaf leaf = directMap[index];
            Assert.Equal(KernelBase + (ulong)index * (2UL << 20), leaf.VirtualBase);
            Assert.Equal((ulong)index * (2UL << 20), leaf.PhysicalBase);
            Assert.Equal(PageSize.Size2MiB, leaf.Size);
            Assert.Equal(new Permissions(Writable: true, User: false, Executable: false), leaf.Permissions);
        }
    }

    [Theory]
    [InlineData(0x123456UL)]
    [InlineData(0x3FFFFFFFUL)]
    public void Virtualized_addresses_translate_back_through_the_hardware_walk(ulong phys)
    {
        (MmApi api, ulong space, ulong root, IPhysicalMemory ram) = Boot();
        Translation translation = Mmu.Translate(ram, root, MmApi.MM_VIRTUALIZE(phys), Access.SupervisorWrite);

        Assert.True(translation.IsOk, translation.ToString());
        Assert.Equal(phys, translation.PhysicalAddress);
        Assert.Equal(FaultReason.UserToSupervisor, Mmu.Translate(ram, root, MmApi.MM_VIRTUALIZE(phys), Access.UserRead).Fault.Reason);
        Assert.Equal(FaultReason.ExecuteNoExecute, Mmu.Translate(ram, root, MmApi.MM_VIRTUALIZE(phys), Access.SupervisorExecute).Fault.Reason);
        ulong flags = 0;
        Assert.Equal(phys, api.mm_map_get(space, MmApi.MM_VIRTUALIZE(phys), ref flags));
    }

    [Theory]
    [InlineData(0UL)]
    [InlineData(1UL)]
    [InlineData(2UL)]
    [InlineData(3UL)]
    [InlineData(4UL)]
    [InlineData(5UL)]
    [InlineData(6UL)]
    [InlineData(7UL)]
    public void Mappings_made_through_the_api_have_exactly_their_flags_in_hardware(ulong flags)
    {
        (MmApi api, ulong space, ulong root, IPhysicalMemory ram) = Boot();
        ulong frame = api.mm_phys_alloc_page();
        ulong virt = (flags & MmApi.MM_PAGE_USER) != 0 ? 0x7FFF_0000_0000UL : KernelBase + (2UL << 30);
        Assert.Equal(0, api.mm_map_single(space, virt, frame, flags));

        Translation translation = Mmu.Lookup(ram, root, virt + 0x7A);
        Assert.True(translation.IsOk, translation.ToString());
        Assert.Equal(frame + 0x7A, translation.PhysicalAddress);
        Assert.Equal(PageSize.Size4KiB, translation.Size);
        Assert.Equal((flags & MmApi.MM_PAGE_USER) != 0, translation.Permissions.User);
        Assert.Equal((flags & MmApi.MM_PAGE_WRITE) != 0, translation.Permissions.Writable);
        Assert.Equal((flags & MmApi.MM_PAGE_EXEC) != 0, translation.Permissions.Executable);
        Assert.Equal((flags & MmApi.MM_PAGE_WRITE) != 0, Mmu.Translate(ram, root, virt, Access.SupervisorWrite).IsOk);
    }

    [Fact]
    public void Unmapped_pages_fault_and_their_tables_are_gone_from_the_census()
    {
        (MmApi api, ulong space, ulong root, IPhysicalMemory ram) = Boot();
        int tablesBefore = Mmu.EnumerateTables(ram, root).Count();
        ulong region = api.vmalloc(space, 0x1000_0000, 0x2000_0000, 3, MmApi.MM_PAGE_USER | MmApi.MM_PAGE_WRITE);
        Assert.Equal(tablesBefore + 3, Mmu.EnumerateTables(ram, root).Count());
        Assert.Equal(3, Mmu.EnumerateLeaves(ram, root).Count(leaf => leaf.VirtualBase < KernelBase));

        Assert.Equal(0, api.vmfree(space, region, 3));
        Assert.Equal(FaultReason.NotPresent, Mmu.Lookup(ram, root, region).Fault.Reason);
        Assert.Equal(tablesBefore, Mmu.EnumerateTables(ram, root).Count());
    }
}
