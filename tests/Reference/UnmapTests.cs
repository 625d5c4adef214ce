using Mmspec.Reference.Api;
using Mmspec.Reference.Memory;
using Mmspec.Reference.Paging;
using static Mmspec.Tests.Reference.TestKernel;

namespace Mmspec.Tests.Reference;

/// <summary>mm_umap_single on 4 KiB pages and table reclamation; 1 GiB pages written by hand (the direct map has its own tests).</summary>
public class UnmapTests
{
    private const ulong UserVirt = MappingTests.UserVirt;
    private const ulong KernelVirt = MappingTests.KernelVirt;

    [Theory]
    [InlineData(UserVirt + 1, 1U)]
    [InlineData(UserVirt + 0x800, 0U)]
    [InlineData(0x0000800000000000UL, 0U)]
    [InlineData(0xFFFF7FFFFFFFF000UL, 1U)]
    [InlineData(UserVirt + Page, 1U)]
    [InlineData(UserVirt + Page, 0U)]
    [InlineData(0x10000000UL, 0U)]
    [InlineData(KernelVirt + Page, 0U)]
    [InlineData(UserVirt, 2U)]
    [InlineData(UserVirt, uint.MaxValue)]
    public void UmapSingle_BadOrUnmapped_NaddrAndNothingChanges(ulong virt, uint size)
    {
        (MmApi api, ulong space) = CreateWithSpace();
        api.mm_map_single(space, UserVirt, 0x200000, USER);
        api.mm_map_single(space, KernelVirt, 0x201000, WRITE);
        var before = KernelSnapshot.Take(api);

        Assert.Equal(NADDR, api.mm_umap_single(space, virt, size));

        before.AssertUnchanged(api);
    }

    [Theory]
    [InlineData(UserVirt, 0U)]
    [InlineData(UserVirt, 1U)]
    [InlineData(0xFFFF800000000000UL, 1U)]
    [InlineData(KernelVirt, 0U)]
    [InlineData(KernelBase + GiB, 1U)]
    public void UmapSingle_ReturnsTheFrameKeepsItAllocatedAndFreesEmptyTables(ulong virt, uint size)
    {
        (MmApi api, ulong space) = CreateWithSpace();
        ulong frame = api.mm_phys_alloc_page();
        var before = KernelSnapshot.Take(api);
        Assert.Equal(0, api.mm_map_single(space, virt, frame, virt < KernelBase ? USER : WRITE));
        Assert.True(api.Kernel.Frames.FreeFrames < before.FreeFrames);

        Assert.Equal(frame, api.mm_umap_single(space, virt, size));

        Assert.Equal(NADDR, api.MapGet(space, virt));
        Assert.True(api.Kernel.Frames.IsAllocated(frame));
        before.AssertUnchanged(api); // every table (PT, PD, user PDPT) went back and was unlinked
    }

    [Fact]
    public void UmapSingle_KeepsTablesThatStillHoldMappings()
    {
        (MmApi api, ulong space) = CreateWithSpace();
        int free = api.Kernel.Frames.FreeFrames;
        api.mm_map_single(space, UserVirt, 0x200000, USER);
        api.mm_map_single(space, UserVirt + Page, 0x201000, USER);
        api.mm_map_single(space, UserVirt + (2UL << 20), 0x202000, USER); // same PD, another PT
        Assert.Equal(free - 4, api.Kernel.Frames.FreeFrames);

        Assert.Equal(0x200000UL, api.mm_umap_single(space, UserVirt, 1));
        Assert.Equal(free - 4, api.Kernel.Frames.FreeFrames);
        Assert.Equal(0x201000UL, api.MapGet(space, UserVirt + Page));

        Assert.Equal(0x201000UL, api.mm_umap_single(space, UserVirt + Page, 1));
        Assert.Equal(free - 3, api.Kernel.Frames.FreeFrames);
        Assert.Equal(0UL, Assert.NotNull(EntryAt(api, space, UserVirt, PageLevel.Pd)).Raw);

        Assert.Equal(0x202000UL, api.mm_umap_single(space, UserVirt + (2UL << 20), 0));
        Assert.Equal(free, api.Kernel.Frames.FreeFrames);
        Assert.Equal(0UL, Assert.NotNull(EntryAt(api, space, UserVirt, PageLevel.Pml4)).Raw);
    }

    [Fact]
    public void UmapSingle_NeverFreesTheSharedKernelPdpts()
    {
        MmApi api = Create();
        ulong a = api.mm_space_create(), b = api.mm_space_create();
        PageTableEntry slot511 = Assert.NotNull(EntryAt(api, a, KernelVirt, PageLevel.Pml4));
        int free = api.Kernel.Frames.FreeFrames;

        api.mm_map_single(a, KernelVirt, 0x200000, WRITE);
        Assert.Equal(free - 2, api.Kernel.Frames.FreeFrames); // PD + PT under the shared PDPT
        Assert.Equal(0x200000UL, api.mm_umap_single(b, KernelVirt, 1));

        Assert.Equal(free, api.Kernel.Frames.FreeFrames);
        Assert.Equal(slot511, EntryAt(api, a, KernelVirt, PageLevel.Pml4));
        Assert.Equal(slot511, EntryAt(api, b, KernelVirt, PageLevel.Pml4));
        Assert.True(api.Kernel.Frames.IsAllocated(slot511.Address.Value));
        Assert.Equal(0, NonZeroEntries(api, slot511.Address));
        Assert.Equal(0, api.mm_map_single(b, KernelVirt, 0x200000, WRITE)); // and it still works
        Assert.Equal(0x200000UL, api.MapGet(a, KernelVirt));
    }

    /// <summary>A 1 GiB user page written by hand at 0x40000000 (PDPT slot 1 of PML4 slot 0).</summary>
    private static (MmApi Api, ulong Space) WithHugePage()
    {
        (MmApi api, ulong space) = CreateWithSpace();
        Assert.Equal(0, api.mm_map_single(space, 0x1000, 0x200000, USER)); // builds the PDPT
        PageTableEntry pml4 = Assert.NotNull(EntryAt(api, space, 0, PageLevel.Pml4));
        api.Kernel.Tables.WriteEntry(pml4.Address, 1, PageTableEntry.Create(new PhysAddr(3 * GiB),
            EntryFlags.Present | EntryFlags.Writable | EntryFlags.User | EntryFlags.PageSize));
        return (api, space);
    }

    [Fact]
    public void HugePage_MapGetKeepsTheOffsetAndReportsFlags()
    {
        (MmApi api, ulong space) = WithHugePage();

        Assert.Equal(3 * GiB + 0x12345678, api.MapGet(space, GiB + 0x12345678, out ulong flags));
        Assert.Equal(USER | WRITE | EXEC, flags);
        Assert.Equal(4 * GiB - 1, api.MapGet(space, 2 * GiB - 1));
        Assert.Equal(PageLevel.Pdpt, Assert.NotNull(Leaf(api, space, GiB + Page)).Level);
    }

    [Fact]
    public void HugePage_CannotBeMappedOverOrRemovedAsA4KiBPage()
    {
        (MmApi api, ulong space) = WithHugePage();
        var before = KernelSnapshot.Take(api);

        Assert.Equal(-MmApi.EEXIST, api.mm_map_single(space, GiB + 0x200000, 0x300000, USER));
        Assert.Equal(NADDR, api.mm_umap_single(space, GiB + 0x200000, 1));

        before.AssertUnchanged(api);
        Assert.Equal(3 * GiB, api.mm_umap_single(space, GiB + 0x200000, 0));
        Assert.Equal(NADDR, api.MapGet(space, GiB + 0x200000));
        Assert.Equal(0x200000UL, api.MapGet(space, 0x1000));
    }
}
