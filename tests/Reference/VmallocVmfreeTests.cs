using Mmspec.Reference.Api;
using Mmspec.Reference.Memory;
using Mmspec.Reference.Paging;
using static Mmspec.Tests.Reference.TestKernel;

namespace Mmspec.Tests.Reference;

public class VmallocVmfreeTests
{
    private const ulong Region = 0x10000000; // 2 MiB aligned, far from anything else
    private const ulong RegionEnd = 0x20000000;

    private static ulong[] FramesOf(MmApi api, ulong space, ulong start, int npages) =>
        Enumerable.Range(0, npages).Select(i => api.MapGet(space, start + (ulong)i * Page)).ToArray();

    [Theory]
    [InlineData(0UL)]
    [InlineData(1UL)]
    [InlineData(2UL)]
    [InlineData(3UL)]
    [InlineData(4UL)]
    [InlineData(5UL)]
    [InlineData(6UL)]
    [InlineData(7UL)]
    public void Vmalloc_MapsFreshZeroedPagesWithTheGivenFlags(ulong flags)
    {
        (MmApi api, ulong space) = CreateWithSpace();
        DirtyFreeFrames(api);
        int free = api.Kernel.Frames.FreeFrames;

        ulong region = api.vmalloc(space, Region, RegionEnd, 5, flags);

        Assert.Equal(Region, region);
        ulong[] frames = FramesOf(api, space, region, 5);
        Assert.Equal(5, frames.Distinct().Count());
        foreach (ulong frame in frames)
        {
            Assert.NotEqual(NADDR, frame);
            Assert.True(api.Kernel.Frames.IsAllocated(frame));
            Assert.All(ReadPage(api, frame), b => Assert.Equal(0, b));
        }
        for (ulong i = 0; i < 5; i++)
        {
            api.MapGet(space, region + i * Page, out ulong got);
            Assert.Equal(flags, got);
        }
        Assert.Equal(NADDR, api.MapGet(space, region + 5 * Page));
        Assert.Equal(free - 5 - 3, api.Kernel.Frames.FreeFrames); // 5 pages + PDPT, PD, PT
    }

    [Theory]
    [InlineData(0UL)]
    [InlineData(2UL)]
    [InlineData(4UL)]
    [InlineData(6UL)]
    public void Vmalloc_InTheKernelHalfIsSeenByEverySpace(ulong flags)
    {
        MmApi api = Create();
        ulong a = api.mm_space_create(), b = api.mm_space_create();

        ulong region = api.vmalloc(a, KernelBase, ulong.MaxValue, 3, flags);

        Assert.Equal(KernelBase + GiB, region);
        for (ulong i = 0; i < 3; i++)
        {
            Assert.Equal(api.MapGet(a, region + i * Page), api.MapGet(b, region + i * Page, out ulong got));
            Assert.Equal(flags, got);
        }
    }

    [Fact]
    public void Vmalloc_WithUser_SearchesOnlyUserSpace()
    {
        (MmApi api, ulong space) = CreateWithSpace();
        ulong from = KernelBase - 2 * Page;

        Assert.Equal(KernelBase + GiB, api.vmalloc(space, from, ulong.MaxValue, 4, WRITE));
        var before = KernelSnapshot.Take(api);
        Assert.Equal(NADDR, api.vmalloc(space, from, ulong.MaxValue, 4, USER | WRITE));
        Assert.Equal(NADDR, api.vmalloc(space, KernelBase, ulong.MaxValue, 1, USER));
        before.AssertUnchanged(api);
        Assert.Equal(from, api.vmalloc(space, from, ulong.MaxValue, 2, USER | WRITE));
        Assert.Equal(0x1000UL, api.vmalloc(space, 0x1000, ulong.MaxValue, 2, USER));
    }

    [Fact]
    public void Vmalloc_WithoutUser_MayReturnAUserHalfAddress()
    {
        (MmApi api, ulong space) = CreateWithSpace();

        ulong region = api.vmalloc(space, Region, ulong.MaxValue, 1, WRITE);

        Assert.Equal(Region, region);
        Assert.Equal(EntryFlags.Present | EntryFlags.Writable | EntryFlags.NoExecute, Assert.NotNull(Leaf(api, space, region)).Entry.Flags);
    }

    [Fact]
    public void Vmalloc_SkipsMappedPages()
    {
        (MmApi api, ulong space) = CreateWithSpace();
        api.mm_map_single(space, Region + 2 * Page, 0x200000, USER);

        Assert.Equal(Region + 3 * Page, api.vmalloc(space, Region, RegionEnd, 3, USER));
        Assert.Equal(Region, api.vmalloc(space, Region, RegionEnd, 2, USER));
        Assert.Equal(0x200000UL, api.MapGet(space, Region + 2 * Page));
    }

    [Theory]
    [InlineData(1UL, 8UL)]
    [InlineData(1UL, 0x10UL | 2)]
    [InlineData(1UL, 1UL << 63)]
    [InlineData(1UL, ulong.MaxValue)]
    [InlineData(0UL, 2UL)]
    [InlineData(1UL << 36, 2UL)]
    [InlineData(ulong.MaxValue, 2UL)]
    [InlineData(766UL, 2UL)]
    public void Vmalloc_BadFlagsZeroOrTooManyPages_NaddrAndNothingChanges(ulong npages, ulong flags)
    {
        (MmApi api, ulong space) = CreateWithSpace();
        var before = KernelSnapshot.Take(api);

        Assert.Equal(NADDR, api.vmalloc(space, Region, ulong.MaxValue, npages, flags));

        before.AssertUnchanged(api);
    }

    [Fact]
    public void Vmalloc_WhenNoRegionFits_NaddrAndNothingChanges()
    {
        (MmApi api, ulong space) = CreateWithSpace();
        api.mm_map_single(space, Region + Page, 0x200000, USER);
        var before = KernelSnapshot.Take(api);

        Assert.Equal(NADDR, api.vmalloc(space, Region, Region + 3 * Page, 2, USER));
        Assert.Equal(NADDR, api.vmalloc(space, KernelBase, KernelBase + GiB, 1, WRITE));

        before.AssertUnchanged(api);
    }

    /// <summary>
    /// (free frames left, pages asked). A fresh region needs PDPT + PD + PT + one PT per further 512 pages;
    /// with <paramref name="shared"/> a neighbouring page already owns the PDPT and PD. The cases run out on a
    /// table of the first page, on a later data page, on page 512's data page, or on page 512's PT after its
    /// data page was taken; -1 means "all of RAM".
    /// </summary>
    [Theory]
    [InlineData(false, 1, 1UL)]
    [InlineData(false, 2, 1UL)]
    [InlineData(false, 3, 1UL)]
    [InlineData(false, 4, 2UL)]
    [InlineData(false, 10, 10UL)]
    [InlineData(false, 515, 513UL)]
    [InlineData(false, 516, 513UL)]
    [InlineData(false, -1, 764UL)]
    [InlineData(true, 1, 1UL)]
    [InlineData(true, 2, 2UL)]
    [InlineData(true, 513, 513UL)]
    [InlineData(true, 514, 513UL)]
    [InlineData(true, -1, 761UL)]
    public void Vmalloc_RunningOutPartWay_GivesEverythingBack(bool shared, int free, ulong npages)
    {
        (MmApi api, ulong space) = CreateWithSpace();
        if (shared)
            Assert.Equal(0, api.mm_map_single(space, Region - Page, 0x200000, USER));
        if (free >= 0)
            LeaveFree(api, free);
        var before = KernelSnapshot.Take(api);
        Assert.True(npages <= (ulong)before.FreeFrames);

        Assert.Equal(NADDR, api.vmalloc(space, Region, RegionEnd, npages, USER | WRITE));

        before.AssertUnchanged(api);
        Assert.Equal(NADDR, api.MapGet(space, Region));
        if (shared)
            Assert.Equal(0x200000UL, api.MapGet(space, Region - Page));
        else
            Assert.Equal(0UL, Assert.NotNull(EntryAt(api, space, Region, PageLevel.Pml4)).Raw);
    }

    [Theory]
    [InlineData(false, 4, 1UL)]
    [InlineData(false, 5, 2UL)]
    [InlineData(false, 13, 10UL)]
    [InlineData(false, 517, 513UL)]
    [InlineData(true, 2, 1UL)]
    [InlineData(true, 513, 512UL)]
    public void Vmalloc_ExactlyEnoughMemory_Succeeds(bool shared, int free, ulong npages)
    {
        (MmApi api, ulong space) = CreateWithSpace();
        if (shared)
            Assert.Equal(0, api.mm_map_single(space, Region - Page, 0x200000, USER));
        LeaveFree(api, free);

        Assert.Equal(Region, api.vmalloc(space, Region, RegionEnd, npages, USER | WRITE));

        Assert.Equal(0, api.Kernel.Frames.FreeFrames);
        Assert.NotEqual(NADDR, api.MapGet(space, Region + (npages - 1) * Page));
    }

    [Fact]
    public void Vmalloc_IntoAnExistingKernelTable_NeedsOnlyDataPages()
    {
        (MmApi api, ulong space) = CreateWithSpace();
        Assert.Equal(KernelBase + GiB, api.vmalloc(space, KernelBase, ulong.MaxValue, 1, WRITE));
        LeaveFree(api, 1);

        Assert.Equal(KernelBase + GiB + Page, api.vmalloc(space, KernelBase, ulong.MaxValue, 1, WRITE));
        Assert.Equal(0, api.Kernel.Frames.FreeFrames);
    }

    [Fact]
    public void Vmalloc_ThenVmfree_RestoresTheAllocator()
    {
        (MmApi api, ulong space) = CreateWithSpace();
        var before = KernelSnapshot.Take(api);

        ulong region = api.vmalloc(space, Region, RegionEnd, 600, USER | WRITE);
        Assert.Equal(Region, region);
        Assert.Equal(before.FreeFrames - 600 - 4, api.Kernel.Frames.FreeFrames); // two PTs

        Assert.Equal(0, api.vmfree(space, region, 600));

        var after = KernelSnapshot.Take(api);
        Assert.Equal(before.FreeFrames, after.FreeFrames);
        Assert.Equal(before.AllocatedFrames, after.AllocatedFrames);
        Assert.All(FramesOf(api, space, region, 600), f => Assert.Equal(NADDR, f));
        Assert.Equal(0UL, Assert.NotNull(EntryAt(api, space, region, PageLevel.Pml4)).Raw);
    }

    [Fact]
    public void VmallocAndVmfree_AcrossAPml4SlotBoundary_BuildAndReclaimBothSides()
    {
        (MmApi api, ulong space) = CreateWithSpace();
        var before = KernelSnapshot.Take(api);
        const ulong start = 512 * GiB - 2 * Page;

        Assert.Equal(start, api.vmalloc(space, start, ulong.MaxValue, 4, USER | WRITE));
        Assert.Equal(before.FreeFrames - 4 - 6, api.Kernel.Frames.FreeFrames); // PDPT, PD and PT on each side
        Assert.Equal(0, api.vmfree(space, start, 4));

        Assert.Equal(before.FreeFrames, api.Kernel.Frames.FreeFrames);
        Assert.Equal(before.AllocatedFrames, KernelSnapshot.Take(api).AllocatedFrames);
        Assert.Equal(0, NonZeroEntries(api, Root(api, space)) - 2);
    }

    [Fact]
    public void Vmfree_InTheKernelHalf_UnmapsForEverySpace()
    {
        MmApi api = Create();
        ulong a = api.mm_space_create(), b = api.mm_space_create();
        int free = api.Kernel.Frames.FreeFrames;
        ulong region = api.vmalloc(a, KernelBase, ulong.MaxValue, 3, WRITE);

        Assert.Equal(0, api.vmfree(b, region, 3));

        Assert.Equal(NADDR, api.MapGet(a, region));
        Assert.Equal(free, api.Kernel.Frames.FreeFrames);
    }

    [Fact]
    public void Vmfree_SkipsUnmappedPages()
    {
        (MmApi api, ulong space) = CreateWithSpace();
        var before = KernelSnapshot.Take(api);
        ulong region = api.vmalloc(space, Region, RegionEnd, 4, USER);
        ulong hole = api.mm_umap_single(space, region + Page, 1);
        api.mm_phys_free_page(hole);

        Assert.Equal(0, api.vmfree(space, region - 16 * Page, 40));

        Assert.Equal(before.AllocatedFrames, KernelSnapshot.Take(api).AllocatedFrames);
        Assert.Equal(before.FreeFrames, api.Kernel.Frames.FreeFrames);
    }

    [Fact]
    public void Vmfree_OfAnUnmappedRangeOrZeroPages_ChangesNothing()
    {
        (MmApi api, ulong space) = CreateWithSpace();
        ulong region = api.vmalloc(space, Region, RegionEnd, 4, USER);
        var before = KernelSnapshot.Take(api);

        Assert.Equal(0, api.vmfree(space, RegionEnd, 100));
        Assert.Equal(0, api.vmfree(space, region, 0));
        Assert.Equal(0, api.vmfree(space, KernelBase + GiB, 1));

        before.AssertUnchanged(api);
    }

    public static readonly TheoryData<string> BadFrees = new()
    {
        "unaligned", "half-page unaligned", "non-canonical", "crosses into the hole", "crosses the kernel boundary",
        "wraps past the top", "too many pages", "ulong.MaxValue pages", "covers a direct-map page",
        "partly covers the direct map", "a frame mapped twice", "an unallocated frame", "device memory", "a reserved frame",
        "a 1 GiB page",
    };

    [Theory]
    [MemberData(nameof(BadFrees))]
    public void Vmfree_BadRegions_EinvalAndNothingChanges(string kind)
    {
        (MmApi api, ulong space) = CreateWithSpace();
        ulong region = api.vmalloc(space, Region, RegionEnd, 4, USER | WRITE);
        ulong kernelRegion = api.vmalloc(space, KernelBase, ulong.MaxValue, 2, WRITE);
        Assert.Equal(KernelBase + GiB, kernelRegion);
        api.mm_map_single(space, 0x00007FFFFFFFF000, api.mm_phys_alloc_page(), USER);
        api.mm_map_single(space, KernelBase - Page, api.mm_phys_alloc_page(), USER);
        api.mm_map_single(space, 0xFFFFFFFFFFFFF000, api.mm_phys_alloc_page(), WRITE);
        ulong after = region + 4 * Page;
        (ulong addr, ulong npages) = kind switch
        {
            "unaligned" => (region + 1, 4UL),
            "half-page unaligned" => (region + 0x800, 4UL),
            "non-canonical" => (0x0000800000000000UL, 1UL),
            "crosses into the hole" => (0x00007FFFFFFFF000UL, 2UL),
            "crosses the kernel boundary" => (KernelBase - Page, 2UL),
            "wraps past the top" => (0xFFFFFFFFFFFFF000UL, 2UL),
            "too many pages" => (region, (1UL << 36) + 1),
            "ulong.MaxValue pages" => (region, ulong.MaxValue),
            "covers a direct-map page" => (KernelBase + 4 * MiB, 1UL),
            "partly covers the direct map" => (kernelRegion - Page, 3UL),
            "a frame mapped twice" => Map(api, space, after, api.MapGet(space, region), region, 5),
            "an unallocated frame" => Map(api, space, after, SmallRam - Page, region, 5),
            "device memory" => Map(api, space, after, SmallRam, region, 5),
            "a reserved frame" => Map(api, space, after, 0x1000, region, 5),
            "a 1 GiB page" => HugeAt(api, space, region),
            _ => throw new ArgumentException(kind),
        };
        var before = KernelSnapshot.Take(api);

        Assert.Equal(-MmApi.EINVAL, api.vmfree(space, addr, npages));

        before.AssertUnchanged(api);
    }

    private static (ulong, ulong) Map(MmApi api, ulong space, ulong virt, ulong phys, ulong addr, ulong npages)
    {
        Assert.False(api.Kernel.Frames.IsAllocated(SmallRam - Page));
        Assert.Equal(0, api.mm_map_single(space, virt, phys, USER));
        return (addr, npages);
    }

    /// <summary>A hand-written 1 GiB page right after the region's 1 GiB; the freed range reaches into it.</summary>
    private static (ulong, ulong) HugeAt(MmApi api, ulong space, ulong region)
    {
        PageTableEntry pml4 = Assert.NotNull(EntryAt(api, space, region, PageLevel.Pml4));
        api.Kernel.Tables.WriteEntry(pml4.Address, 1, PageTableEntry.Create(new PhysAddr(GiB),
            EntryFlags.Present | EntryFlags.Writable | EntryFlags.User | EntryFlags.PageSize));
        return (region, (GiB - region) / Page + 1);
    }

    [Fact]
    public void Vmfree_OfARegionEndingAtTheTopOfTheUserHalf_Succeeds()
    {
        (MmApi api, ulong space) = CreateWithSpace();
        const ulong end = 0x0000800000000000, top = end - Page;
        int free = api.Kernel.Frames.FreeFrames;
        Assert.Equal(top, api.vmalloc(space, top, end, 1, USER | WRITE));

        Assert.Equal(0, api.vmfree(space, top, 1));

        Assert.Equal(NADDR, api.MapGet(space, top));
        Assert.Equal(free, api.Kernel.Frames.FreeFrames);
    }

    [Fact]
    public void Vmfree_OfAPrefix_LeavesTheNextPageMapped()
    {
        (MmApi api, ulong space) = CreateWithSpace();
        ulong region = api.vmalloc(space, 0x400000, 0x800000, 2, WRITE);
        Assert.Equal(0x400000UL, region);
        ulong second = api.MapGet(space, region + Page);

        Assert.Equal(0, api.vmfree(space, region, 1));

        Assert.Equal(NADDR, api.MapGet(space, region));
        Assert.Equal(second, api.MapGet(space, region + Page));
        Assert.True(api.Kernel.Frames.IsAllocated(second));
    }

    [Fact]
    public void Vmalloc_FailingOnItsFirstPage_LeavesOtherMappingsAlone()
    {
        (MmApi api, ulong space) = CreateWithSpace();
        ulong phys = api.mm_phys_alloc_page();
        Assert.Equal(0, api.mm_map_single(space, 0x8000000000, phys, USER | WRITE)); // PML4 slot 1: no table shared with address 0
        LeaveFree(api, 1); // the data page, but none of the three tables address 0 needs
        var before = KernelSnapshot.Take(api);

        Assert.Equal(NADDR, api.vmalloc(space, 0, Page, 1, USER | WRITE));

        before.AssertUnchanged(api);
        Assert.Equal(phys, api.MapGet(space, 0x8000000000));
    }

    [Fact]
    public void Vmfree_OfBillionsOfPages_WithTheirRegionsInside_FreesThemAndNothingElse()
    {
        (MmApi api, ulong space) = CreateWithSpace();
        ulong region = api.vmalloc(space, Region, RegionEnd, 3, WRITE);
        ulong phys = api.MapGet(space, region + Page);
        const ulong Billions = 1UL << 31; // more pages than an int counts, within one segment of the user half

        Assert.Equal(0, api.vmfree(space, 0, Billions));

        Assert.Equal(NADDR, api.MapGet(space, region + Page));
        Assert.False(api.Kernel.Frames.IsAllocated(phys));
    }
}
