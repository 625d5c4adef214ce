using Mmspec.Reference.Api;
using Mmspec.Reference.Memory;
using Mmspec.Reference.Paging;
using static Mmspec.Tests.Reference.TestKernel;

namespace Mmspec.Tests.Reference;

public class VmfindTests
{
    private const ulong LowerEnd = 0x0000800000000000;
    private const ulong UpperStart = 0xFFFF800000000000;

    [Theory]
    [InlineData(0x1000UL, 0x3000UL, 2UL, 0x1000UL)]
    [InlineData(0x1000UL, 0x2FFFUL, 2UL, NADDR)]   // `to` is exclusive and rounded down
    [InlineData(0x1000UL, 0x2FFFUL, 1UL, 0x1000UL)]
    [InlineData(0x1001UL, 0x5000UL, 3UL, 0x2000UL)] // `from` is rounded up
    [InlineData(0x1001UL, 0x5000UL, 4UL, NADDR)]
    [InlineData(0x1001UL, 0x5FFFUL, 4UL, NADDR)]
    [InlineData(0x1001UL, 0x6000UL, 4UL, 0x2000UL)]
    [InlineData(0x1FFFUL, 0x2000UL, 1UL, NADDR)]
    [InlineData(0UL, 0x1000UL, 1UL, 0UL)]
    [InlineData(0UL, 0xFFFUL, 1UL, NADDR)]         // rounded down, `to` leaves no whole page
    [InlineData(0UL, 0UL, 1UL, NADDR)]
    [InlineData(0x5000UL, 0x5000UL, 1UL, NADDR)]
    [InlineData(0x6000UL, 0x5000UL, 1UL, NADDR)]
    [InlineData(0xFFFFFFFFFFFFFFF0UL, ulong.MaxValue, 1UL, NADDR)]
    public void RangeBounds(ulong from, ulong to, ulong npages, ulong expected)
    {
        (MmApi api, ulong space) = CreateWithSpace();

        Assert.Equal(expected, api.vmfind(space, from, to, npages));
    }

    [Theory]
    [InlineData(0x0000UL, 1UL, 0x0000UL)]
    [InlineData(0x1000UL, 1UL, 0x1000UL)]
    [InlineData(0x1000UL, 2UL, 0x1000UL)]
    [InlineData(0x1000UL, 3UL, 0x7000UL)]
    [InlineData(0x0000UL, 3UL, 0x0000UL)]
    [InlineData(0x3000UL, 1UL, 0x4000UL)]
    [InlineData(0x3000UL, 2UL, 0x4000UL)]
    [InlineData(0x4000UL, 3UL, 0x7000UL)]
    [InlineData(0x6000UL, 1UL, 0x7000UL)]
    public void ReturnsTheLowestFitSkippingMappedPages(ulong from, ulong npages, ulong expected)
    {
        (MmApi api, ulong space) = CreateWithSpace();
        api.mm_map_single(space, 0x3000, 0x200000, USER);
        api.mm_map_single(space, 0x6000, 0x201000, USER);
        var before = KernelSnapshot.Take(api);

        Assert.Equal(expected, api.vmfind(space, from, 0x100000, npages));

        before.AssertUnchanged(api);
    }

    [Fact]
    public void AMappedPageJustAtTheEndDoesNotBlock_OneInsideDoes()
    {
        (MmApi api, ulong space) = CreateWithSpace();
        api.mm_map_single(space, 0x5000, 0x200000, USER);

        Assert.Equal(0x1000UL, api.vmfind(space, 0x1000, 0x5000, 4));
        Assert.Equal(0x1000UL, api.vmfind(space, 0x1000, 0x6000, 4));
        Assert.Equal(NADDR, api.vmfind(space, 0x2000, 0x6000, 4));
        Assert.Equal(0x6000UL, api.vmfind(space, 0x5000, 0x7000, 1));
    }

    [Fact]
    public void SearchesOnlyTheGivenSpace()
    {
        MmApi api = Create();
        ulong a = api.mm_space_create(), b = api.mm_space_create();
        api.mm_map_single(a, 0x1000, 0x200000, USER);

        Assert.Equal(0x2000UL, api.vmfind(a, 0x1000, 0x10000, 1));
        Assert.Equal(0x1000UL, api.vmfind(b, 0x1000, 0x10000, 1));
    }

    [Fact]
    public void KernelMappingsBlockEverySpace()
    {
        MmApi api = Create();
        ulong a = api.mm_space_create(), b = api.mm_space_create();
        api.mm_map_single(a, KernelBase + GiB, 0x200000, WRITE);

        Assert.Equal(KernelBase + GiB + Page, api.vmfind(b, KernelBase + GiB, ulong.MaxValue, 1));
    }

    [Fact]
    public void SkipsTheDirectMap()
    {
        (MmApi api, ulong space) = CreateWithSpace();

        Assert.Equal(KernelBase + GiB, api.vmfind(space, KernelBase, ulong.MaxValue, 1));
        Assert.Equal(KernelBase + GiB, api.vmfind(space, KernelBase + 0x5000, ulong.MaxValue, 3));
        Assert.Equal(NADDR, api.vmfind(space, KernelBase, KernelBase + GiB, 1));
        Assert.Equal(NADDR, api.vmfind(space, KernelBase + 0x1000, KernelBase + 0x3000, 1));
    }

    [Fact]
    public void FindsTheHoleLeftByARemovedDirectMapPage()
    {
        (MmApi api, ulong space) = CreateWithSpace();
        api.mm_umap_single(space, KernelBase + 6 * MiB, 0);

        Assert.Equal(KernelBase + 6 * MiB, api.vmfind(space, KernelBase, ulong.MaxValue, 512));
        Assert.Equal(KernelBase + GiB, api.vmfind(space, KernelBase, ulong.MaxValue, 513));
    }

    [Fact]
    public void SkipsAndStartsAfterA1GiBPageCoveringFrom()
    {
        (MmApi api, ulong space) = CreateWithSpace();
        Assert.Equal(0, api.mm_map_single(space, 0x1000, 0x200000, USER));
        PageTableEntry pml4 = Assert.NotNull(EntryAt(api, space, 0, PageLevel.Pml4));
        api.Kernel.Tables.WriteEntry(pml4.Address, 1, PageTableEntry.Create(new PhysAddr(GiB),
            EntryFlags.Present | EntryFlags.Writable | EntryFlags.User | EntryFlags.PageSize));

        Assert.Equal(2 * GiB, api.vmfind(space, GiB + 0x5000, 4 * GiB, 1));
        Assert.Equal(0x2000UL, api.vmfind(space, 0x1000, 4 * GiB, 1));
        Assert.Equal(2 * GiB, api.vmfind(space, 0x1000, 4 * GiB, (GiB - 0x2000) / Page + 1));
        Assert.Equal(0x2000UL, api.vmfind(space, 0x1000, 4 * GiB, (GiB - 0x2000) / Page));
    }

    [Fact]
    public void NeverCrossesTheNonCanonicalHole()
    {
        (MmApi api, ulong space) = CreateWithSpace();

        Assert.Equal(NADDR, api.vmfind(space, LowerEnd - Page, UpperStart + Page, 2));
        Assert.Equal(LowerEnd - Page, api.vmfind(space, LowerEnd - Page, UpperStart + Page, 1));
        Assert.Equal(UpperStart, api.vmfind(space, LowerEnd - Page, UpperStart + 2 * Page, 2));
        Assert.Equal(NADDR, api.vmfind(space, LowerEnd, UpperStart, 1));
        Assert.Equal(UpperStart, api.vmfind(space, LowerEnd + 0x1234000, ulong.MaxValue, 1));

        api.mm_map_single(space, LowerEnd - Page, 0x200000, USER);
        Assert.Equal(UpperStart, api.vmfind(space, LowerEnd - Page, UpperStart + Page, 1));
    }

    [Fact]
    public void NeverCrossesTheKernelBoundary()
    {
        (MmApi api, ulong space) = CreateWithSpace();
        api.mm_umap_single(space, KernelBase, 0); // so that free kernel pages start right at the boundary

        Assert.Equal(NADDR, api.vmfind(space, KernelBase - Page, KernelBase + Page, 2));
        Assert.Equal(KernelBase - Page, api.vmfind(space, KernelBase - Page, KernelBase + Page, 1));
        Assert.Equal(KernelBase, api.vmfind(space, KernelBase - Page, KernelBase + 2 * Page, 2));
        Assert.Equal(KernelBase - 2 * Page, api.vmfind(space, KernelBase - 2 * Page, KernelBase + 2 * Page, 2));
    }

    [Fact]
    public void RegionsMayCrossPml4SlotsInsideOneSegment()
    {
        (MmApi api, ulong space) = CreateWithSpace();
        const ulong slot1 = 512 * GiB, slot511 = 0xFFFFFF8000000000;

        Assert.Equal(slot1 - Page, api.vmfind(space, slot1 - Page, slot1 + Page, 2));
        Assert.Equal(slot511 - Page, api.vmfind(space, slot511 - Page, slot511 + Page, 2));
        api.mm_map_single(space, slot1, 0x200000, USER);
        api.mm_map_single(space, slot511, 0x200000, WRITE);
        Assert.Equal(NADDR, api.vmfind(space, slot1 - Page, slot1 + 2 * Page, 2));
        Assert.Equal(slot511 + Page, api.vmfind(space, slot511 - Page, slot511 + 3 * Page, 2));
    }

    [Fact]
    public void TopOfTheAddressSpace()
    {
        (MmApi api, ulong space) = CreateWithSpace();

        Assert.Equal(0xFFFFFFFFFFFFE000UL, api.vmfind(space, 0xFFFFFFFFFFFFE000, ulong.MaxValue, 1));
        Assert.Equal(NADDR, api.vmfind(space, 0xFFFFFFFFFFFFE000, ulong.MaxValue, 2));
        api.mm_map_single(space, 0xFFFFFFFFFFFFE000, 0x200000, WRITE);
        Assert.Equal(0xFFFFFFFFFFFFD000UL, api.vmfind(space, 0xFFFFFFFFFFFFD000, ulong.MaxValue, 1));
        Assert.Equal(NADDR, api.vmfind(space, 0xFFFFFFFFFFFFD000, ulong.MaxValue, 2));
        Assert.Equal(NADDR, api.vmfind(space, 0xFFFFFFFFFFFFE000, ulong.MaxValue, 1));
    }

    [Theory]
    [InlineData(0UL)]
    [InlineData(1UL << 35 | 1)]
    [InlineData(1UL << 36)]
    [InlineData(1UL << 52)]
    [InlineData(1UL << 63)]
    [InlineData(ulong.MaxValue)]
    public void ZeroOrOversizedCounts_Naddr(ulong npages)
    {
        (MmApi api, ulong space) = CreateWithSpace();
        var before = KernelSnapshot.Take(api);

        Assert.Equal(NADDR, api.vmfind(space, 0, ulong.MaxValue, npages));

        before.AssertUnchanged(api);
    }

    [Fact]
    public void AnEmpty128TiBHalfFitsExactly()
    {
        (MmApi api, ulong space) = CreateWithSpace();
        const ulong halfPages = 1UL << 35;

        Assert.Equal(0UL, api.vmfind(space, 0, LowerEnd, halfPages));
        Assert.Equal(0UL, api.vmfind(space, 0, ulong.MaxValue, halfPages));
        Assert.Equal(NADDR, api.vmfind(space, Page, LowerEnd, halfPages));
        Assert.Equal(Page, api.vmfind(space, Page, LowerEnd, halfPages - 1));
        Assert.Equal(NADDR, api.vmfind(space, Page, ulong.MaxValue, halfPages));
        Assert.Equal(UpperStart, api.vmfind(space, UpperStart, KernelBase, (KernelBase - UpperStart) / Page));
        Assert.Equal(NADDR, api.vmfind(space, UpperStart, KernelBase, (KernelBase - UpperStart) / Page + 1));
    }

    /// <summary>Random pages mapped over two page tables; random queries checked against a page-by-page scan.</summary>
    [Theory]
    [InlineData(11)]
    [InlineData(12)]
    public void RandomQueries_AgreeWithAPageByPageScan(int seed)
    {
        (MmApi api, ulong space) = CreateWithSpace();
        var random = new Random(seed);
        const ulong window = 0x400000; // 1024 pages, two PTs
        for (int i = 0; i < 300; i++)
            api.mm_map_single(space, (ulong)random.Next(1024) * Page, 0x200000, USER);
        bool[] mapped = Enumerable.Range(0, 1100).Select(p => api.MapGet(space, (ulong)p * Page) != NADDR).ToArray();

        for (int query = 0; query < 400; query++)
        {
            ulong from = (ulong)random.Next((int)window);
            ulong to = from + (ulong)random.Next(0x30000);
            ulong npages = (ulong)random.Next(1, 9);
            ulong expected = NADDR;
            for (ulong start = (from + Page - 1) / Page; (start + npages) * Page <= to; start++)
            {
                bool fits = true;
                for (ulong p = start; p < start + npages && fits; p++)
                    fits = !mapped[p];
                if (fits)
                {
                    expected = start * Page;
                    break;
                }
            }
            Assert.True(expected == api.vmfind(space, from, to, npages), $"vmfind(0x{from:X}, 0x{to:X}, {npages}) should be 0x{expected:X}");
        }
    }

    /// <summary>
    /// Long runs: free pages carried from one page table into the next, across a table that does not exist
    /// (pages 1,536–2,047 are never mapped), and windows that end on, start on or straddle a mapping.
    /// </summary>
    [Theory]
    [InlineData(21)]
    [InlineData(22)]
    [InlineData(23)]
    public void RandomLongQueries_AcrossTables_AgreeWithAPageByPageScan(int seed)
    {
        (MmApi api, ulong space) = CreateWithSpace();
        var random = new Random(seed);
        const int Pages = 3072; // six page tables' worth
        for (int i = 0; i < 24; i++)
        {
            int page = random.Next(Pages);
            if (page / 512 != 3)
                api.mm_map_single(space, (ulong)page * Page, 0x200000, USER);
        }
        bool[] mapped = Enumerable.Range(0, Pages + 1024).Select(p => api.MapGet(space, (ulong)p * Page) != NADDR).ToArray();

        for (int query = 0; query < 300; query++)
        {
            ulong from = (ulong)random.Next(Pages) * Page + (ulong)random.Next(2) * 0x800;
            ulong npages = (ulong)random.Next(1, 700);
            ulong to = from + (npages + (ulong)random.Next(1200)) * Page;
            ulong expected = NADDR;
            for (ulong start = (from + Page - 1) / Page; (start + npages) * Page <= to; start++)
            {
                ulong p = start;
                while (p < start + npages && !mapped[p])
                    p++;
                if (p == start + npages)
                {
                    expected = start * Page;
                    break;
                }
                start = p; // the loop's start++ moves past the mapped page
            }
            Assert.True(expected == api.vmfind(space, from, to, npages), $"vmfind(0x{from:X}, 0x{to:X}, {npages}) should be 0x{expected:X}");
        }
    }

    /// <summary>
    /// Page tables holding one or two mappings each, at their first, last or any entry, some unmapped again: a search
    /// that has met every present entry of a table takes the rest of it as free without reading it (the table's count
    /// of present entries), and must still agree with a page-by-page scan, on the machine and on a copy of it.
    /// </summary>
    [Theory]
    [InlineData(31)]
    [InlineData(32)]
    public void Sparse_page_tables_agree_with_a_page_by_page_scan(int seed)
    {
        (MmApi api, ulong space) = CreateWithSpace();
        var random = new Random(seed);
        const int Tables = 8, Pages = Tables * 512;
        for (int table = 0; table < Tables; table++)
        {
            int[] at = [0, 511, random.Next(512), random.Next(512)];
            for (int mapping = 0; mapping < 1 + table % 2; mapping++)
                api.mm_map_single(space, (ulong)(table * 512 + at[(table + mapping) % at.Length]) * Page, 0x200000, USER);
        }
        ulong unmapped = (ulong)(5 * 512 + 511) * Page; // a table whose count went down again (it keeps its other mapping)
        api.mm_map_single(space, unmapped, 0x200000, USER);
        api.mm_umap_single(space, unmapped, 1);
        var copy = new MmApi(api.Kernel.Copy()!);
        bool[] mapped = Enumerable.Range(0, Pages + 512).Select(p => api.MapGet(space, (ulong)p * Page) != NADDR).ToArray();

        for (int query = 0; query < 300; query++)
        {
            ulong from = (ulong)random.Next(Pages) * Page;
            ulong npages = (ulong)random.Next(1, 1100);
            ulong to = from + (npages + (ulong)random.Next(1500)) * Page;
            ulong expected = NADDR;
            for (ulong start = from / Page; (start + npages) * Page <= to && expected == NADDR; start++)
                if (Enumerable.Range(0, (int)npages).All(offset => start + (ulong)offset >= (ulong)mapped.Length || !mapped[start + (ulong)offset]))
                    expected = start * Page;
            Assert.True(expected == api.vmfind(space, from, to, npages), $"vmfind(0x{from:X}, 0x{to:X}, {npages}) should be 0x{expected:X}");
            Assert.Equal(expected, copy.vmfind(space, from, to, npages));
        }
    }

    [Fact]
    public void LargeSearchesStayCorrectAroundScatteredMappings()
    {
        (MmApi api, ulong space) = CreateWithSpace();
        // Pages mapped at the start of every 1 GiB of the first 8 GiB.
        for (ulong g = 0; g < 8; g++)
            api.mm_map_single(space, g * GiB, 0x200000, USER);

        Assert.Equal(Page, api.vmfind(space, 0, LowerEnd, GiB / Page - 1));
        Assert.Equal(7 * GiB + Page, api.vmfind(space, 0, LowerEnd, GiB / Page));
        Assert.Equal(3 * GiB + Page, api.vmfind(space, 3 * GiB, LowerEnd, 1000));
    }

    /// <summary>
    /// A page-table entry without the present bit maps nothing, whatever its other bits hold (a kernel may keep
    /// swap or bookkeeping bits there): vmfind counts it as free and vmfree finds nothing to free in it.
    /// </summary>
    [Fact]
    public void A_non_present_entry_with_other_bits_set_is_free()
    {
        (MmApi api, ulong space) = CreateWithSpace();
        const ulong Mapped = 0x400000;
        Assert.Equal(0, api.mm_map_single(space, Mapped, api.mm_phys_alloc_page(), USER | WRITE));
        PhysAddr pageTable = EntryAt(api, space, Mapped, PageLevel.Pd)!.Value.Address;
        const ulong FrameAndRightsWithoutPresent = 0x123006, WriteOnly = 0x2;
        api.Kernel.Ram.WriteU64(pageTable.Value + 8, FrameAndRightsWithoutPresent);
        api.Kernel.Ram.WriteU64(pageTable.Value + 16, WriteOnly);

        Assert.Equal(Mapped + Page, api.vmfind(space, Mapped, Mapped + 4 * Page, 3));
        Assert.Equal(0, api.vmfree(space, Mapped + Page, 2));
        Assert.Equal(WriteOnly, api.Kernel.Ram.ReadU64(pageTable.Value + 16));
    }

    /// <summary>A run that fills the range exactly, up to `to`, fits: in absent tables and inside a page table.</summary>
    [Fact]
    public void A_run_that_ends_exactly_at_to_fits()
    {
        (MmApi api, ulong space) = CreateWithSpace();
        Assert.Equal(0x200000UL, api.vmfind(space, 0x200000, 0x200000 + 16 * Page, 16)); // no page table below 1 GiB yet

        const ulong Base = 0x400000; // mappings at Base and Base + 5 pages leave exactly 4 free pages between them
        Assert.Equal(0, api.mm_map_single(space, Base, api.mm_phys_alloc_page(), USER));
        Assert.Equal(0, api.mm_map_single(space, Base + 5 * Page, api.mm_phys_alloc_page(), USER));

        Assert.Equal(Base + Page, api.vmfind(space, Base, Base + 5 * Page, 4));
        Assert.Equal(NADDR, api.vmfind(space, Base, Base + 5 * Page, 5));
        Assert.Equal(NADDR, api.vmfind(space, Base, Base + 5 * Page - 1, 4));
    }

    /// <summary>
    /// Inside a page table the search steps over windows of the request's size whose last page is mapped; a
    /// mapping just past the window must not make it step over a window that fits.
    /// </summary>
    [Fact]
    public void A_mapping_just_past_a_fitting_window_leaves_it_found()
    {
        (MmApi api, ulong space) = CreateWithSpace();
        const ulong Base = 0x400000; // the first entry of a page table
        Assert.Equal(0, api.mm_map_single(space, Base + 3 * Page, api.mm_phys_alloc_page(), USER));

        Assert.Equal(Base, api.vmfind(space, Base, Base + 16 * Page, 2));
        Assert.Equal(Base + 4 * Page, api.vmfind(space, Base, Base + 16 * Page, 4));
    }

    /// <summary>
    /// A request far larger than a page table holds runs on through page tables into absent ones, also when the
    /// search starts inside a page table (with nothing carried over, where the step over mapped windows applies).
    /// </summary>
    [Theory]
    [InlineData(0UL)]
    [InlineData(0x400000UL)]
    public void A_request_of_billions_of_pages_starts_after_the_last_mapping_in_its_way(ulong from)
    {
        (MmApi api, ulong space) = CreateWithSpace();
        Assert.Equal(0, api.mm_map_single(space, 0x400000, api.mm_phys_alloc_page(), USER));

        Assert.Equal(0x401000UL, api.vmfind(space, from, LowerEnd, 1UL << 33));
    }
}
