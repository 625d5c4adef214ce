using Mmspec.Reference.Api;
using Mmspec.Reference.Memory;
using Mmspec.Reference.Paging;
using static Mmspec.Tests.Reference.TestKernel;

namespace Mmspec.Tests.Reference;

/// <summary>The low 1 GiB of physical memory, mapped at KERNEL_BASE with 2 MiB pages.</summary>
public class DirectMapTests
{
    [Theory]
    [InlineData(0UL)]
    [InlineData(0x1234UL)]
    [InlineData(0x3FFFFFFFUL)]
    [InlineData(0x40000000UL)]
    [InlineData(0x000FFFFFFFFFFFFFUL)]
    public void Virtualize_And_Phys_AreExactInverseOffsets(ulong phys)
    {
        Assert.Equal(phys + 0xFFFFFF0000000000, MmApi.MM_VIRTUALIZE(phys));
        Assert.Equal(phys, MmApi.MM_PHYS(MmApi.MM_VIRTUALIZE(phys)));
        Assert.Equal(phys, MmApi.MM_PHYS(0xFFFFFF0000000000 + phys));
    }

    [Fact]
    public void Virtualize_And_Phys_DoNoChecking()
    {
        Assert.Equal(0x0000010000000000UL, MmApi.MM_PHYS(0));
        Assert.Equal(0x0000010000001000UL, MmApi.MM_PHYS(0x1000));
        Assert.Equal(0xFFFFFEFFFFFFFFFFUL, MmApi.MM_VIRTUALIZE(ulong.MaxValue));
        Assert.Equal(0UL, MmApi.MM_VIRTUALIZE(1UL << 40)); // wraps past 2^64
    }

    [Theory]
    [InlineData(0UL)]
    [InlineData(0x1000UL)]
    [InlineData(0x1FFFFFUL)]
    [InlineData(0x200000UL)]
    [InlineData(0x400001UL)]
    [InlineData(0x123456UL)]
    [InlineData(SmallRam - 1)]
    [InlineData(SmallRam)]
    [InlineData(0x12345678UL)]
    [InlineData(GiB - 1)]
    public void MapGet_OnTheDirectMap_ReturnsPhysWithOffsetAndWriteOnly(ulong phys)
    {
        (MmApi api, ulong space) = CreateWithSpace();

        Assert.Equal(phys, api.MapGet(space, MmApi.MM_VIRTUALIZE(phys), out ulong flags));
        Assert.Equal(WRITE, flags);
    }

    [Fact]
    public void DirectMap_EndsAfterOneGiB()
    {
        (MmApi api, ulong space) = CreateWithSpace();

        Assert.Equal(NADDR, api.MapGet(space, KernelBase + GiB));
        Assert.Equal(NADDR, api.MapGet(space, KernelBase - 1));
    }

    [Fact]
    public void DirectMap_CoversOneGiBWhateverTheRamSize()
    {
        foreach (ulong ram in new[] { 2 * MiB, 16 * MiB, GiB })
        {
            (MmApi api, ulong space) = CreateWithSpace(ram);
            Assert.Equal(GiB - 4096, api.MapGet(space, KernelBase + GiB - 4096));
            Assert.Equal(ram - 8, api.MapGet(space, MmApi.MM_VIRTUALIZE(ram - 8)));
        }
    }

    [Fact]
    public void DirectMap_Are512SupervisorWritableNoExecute2MiBPages()
    {
        (MmApi api, ulong space) = CreateWithSpace();
        const EntryFlags expected = EntryFlags.Present | EntryFlags.Writable | EntryFlags.PageSize | EntryFlags.NoExecute;

        for (ulong index = 0; index < 512; index++)
        {
            ulong virt = KernelBase + index * (2 * MiB) + 0x5000;
            Leaf leaf = Assert.NotNull(Leaf(api, space, virt));
            Assert.Equal(PageLevel.Pd, leaf.Level);
            Assert.Equal(KernelBase + index * (2 * MiB), leaf.VirtualBase);
            Assert.Equal(index * (2 * MiB) | (ulong)expected, leaf.Entry.Raw);
        }
        Assert.Equal(EntryFlags.Present | EntryFlags.Writable, Assert.NotNull(EntryAt(api, space, KernelBase, PageLevel.Pdpt)).Flags);
    }

    [Theory]
    [InlineData(0UL)]
    [InlineData(0x5000UL)]
    [InlineData(0x3FF000UL)]
    public void UmapSize1_OnTheDirectMap_NaddrAndStillMapped(ulong offset)
    {
        (MmApi api, ulong space) = CreateWithSpace();
        var before = KernelSnapshot.Take(api);

        Assert.Equal(NADDR, api.mm_umap_single(space, KernelBase + offset, 1));

        before.AssertUnchanged(api);
        Assert.Equal(offset, api.MapGet(space, KernelBase + offset));
    }

    [Fact]
    public void UmapSize0_OnTheDirectMap_RemovesThe2MiBPageFromEverySpace()
    {
        MmApi api = Create();
        ulong a = api.mm_space_create(), b = api.mm_space_create();
        ulong virt = KernelBase + 4 * MiB + 0x7000;

        Assert.Equal(4 * MiB, api.mm_umap_single(a, virt, 0));

        ulong c = api.mm_space_create();
        foreach (ulong space in new[] { a, b, c })
        {
            Assert.Equal(NADDR, api.MapGet(space, KernelBase + 4 * MiB));
            Assert.Equal(NADDR, api.MapGet(space, KernelBase + 6 * MiB - 1));
            Assert.Equal(4 * MiB - 1, api.MapGet(space, KernelBase + 4 * MiB - 1));
            Assert.Equal(6 * MiB, api.MapGet(space, KernelBase + 6 * MiB));
        }
        Assert.Equal(NADDR, api.mm_umap_single(b, virt, 0));
    }

    [Fact]
    public void UmapSize0_OnTheDirectMap_FreesNoPageAndChangesOnlyThatEntry()
    {
        (MmApi api, ulong space) = CreateWithSpace();
        var before = KernelSnapshot.Take(api);
        PageTableEntry pd = Assert.NotNull(EntryAt(api, space, KernelBase, PageLevel.Pdpt));

        Assert.Equal(2 * MiB, api.mm_umap_single(space, KernelBase + 2 * MiB, 0));

        var after = KernelSnapshot.Take(api);
        Assert.Equal(before.FreeFrames, after.FreeFrames);
        Assert.Equal(before.AllocatedFrames, after.AllocatedFrames);
        Assert.Equal(0UL, api.Kernel.Tables.ReadEntry(pd.Address, 1).Raw);
        Assert.Equal(511, NonZeroEntries(api, pd.Address));
    }

    [Fact]
    public void RemovedDirectMapPage_CanBeMappedAgainWith4KiBPagesVisibleEverywhere()
    {
        MmApi api = Create();
        ulong a = api.mm_space_create(), b = api.mm_space_create();
        api.mm_umap_single(a, KernelBase, 0);
        ulong frame = api.mm_phys_alloc_page();

        Assert.Equal(0, api.mm_map_single(a, KernelBase + 0x3000, frame, WRITE | EXEC));
        Assert.Equal(frame, api.MapGet(b, KernelBase + 0x3000, out ulong flags));
        Assert.Equal(WRITE | EXEC, flags);
        Assert.Equal(NADDR, api.MapGet(b, KernelBase + 0x4000));
        Assert.Equal(frame, api.mm_umap_single(b, KernelBase + 0x3000, 1));
        Assert.Equal(NADDR, api.MapGet(a, KernelBase + 0x3000));
    }

    [Fact]
    public void RemovingTheWholeDirectMap_FreesItsPageDirectoryButNotTheSharedPdpt()
    {
        (MmApi api, ulong space) = CreateWithSpace();
        int free = api.Kernel.Frames.FreeFrames;
        PageTableEntry pd = Assert.NotNull(EntryAt(api, space, KernelBase, PageLevel.Pdpt));

        for (ulong index = 0; index < 512; index++)
            Assert.Equal(index * 2 * MiB, api.mm_umap_single(space, KernelBase + index * 2 * MiB, 0));

        Assert.Equal(free + 1, api.Kernel.Frames.FreeFrames);
        Assert.False(api.Kernel.Frames.IsAllocated(pd.Address.Value));
        Assert.Equal(0UL, Assert.NotNull(EntryAt(api, space, KernelBase, PageLevel.Pdpt)).Raw);
        Assert.True(Assert.NotNull(EntryAt(api, space, KernelBase, PageLevel.Pml4)).IsPresent);
    }

    [Theory]
    [InlineData(0UL)]
    [InlineData(0x1000UL)]
    [InlineData(0x1FF000UL)]
    [InlineData(0x3FFFF000UL)]
    public void MapSingle_InsideTheDirectMap_EexistAndNothingChanges(ulong offset)
    {
        (MmApi api, ulong space) = CreateWithSpace();
        var before = KernelSnapshot.Take(api);

        Assert.Equal(-MmApi.EEXIST, api.mm_map_single(space, KernelBase + offset, 0x200000, WRITE));

        before.AssertUnchanged(api);
    }

    [Fact]
    public void HeapAndPageTables_AreReachableThroughTheDirectMap()
    {
        (MmApi api, ulong space) = CreateWithSpace();
        ulong ptr = api.kmalloc(64);
        api.Kernel.Ram.WriteU64(MmApi.MM_PHYS(ptr), 0x1122334455667788);

        ulong phys = api.MapGet(space, ptr);

        Assert.Equal(0x1122334455667788UL, api.Kernel.Ram.ReadU64(phys));
        Assert.Equal(api.mm_space_root(space), api.MapGet(space, space));
    }
}
