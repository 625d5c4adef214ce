using Mmspec.Reference.Api;
using Mmspec.Reference.Kernel;
using Mmspec.Reference.Memory;
using Mmspec.Reference.Physical;
using static Mmspec.Tests.Reference.TestKernel;

namespace Mmspec.Tests.Reference;

public class PhysicalAllocatorTests
{
    [Fact]
    public void Boot_TakesThreePagesAndReservesTheLowMiB()
    {
        MmApi api = Create();

        Assert.Equal(FreeAfterBoot(), api.Kernel.Frames.FreeFrames);
        Assert.Equal(1024 - 256 - 3, api.Kernel.Frames.FreeFrames);
        for (ulong frame = 0; frame < MiB; frame += Page)
        {
            Assert.True(api.Kernel.Frames.IsReserved(frame));
            Assert.False(api.Kernel.Frames.IsAllocated(frame));
        }
        Assert.False(api.Kernel.Frames.IsReserved(MiB));
    }

    [Fact]
    public void CreatingASpace_TakesOnePage()
    {
        MmApi api = Create();

        api.mm_space_create();

        Assert.Equal(FreeAfterBoot() - 1, api.Kernel.Frames.FreeFrames);
    }

    [Fact]
    public void AllocPage_ReturnsTheLowestFreePageFirst()
    {
        MmApi api = Create();

        Assert.Equal(MiB + 3 * Page, api.mm_phys_alloc_page());
        Assert.Equal(MiB + 4 * Page, api.mm_phys_alloc_page());
        Assert.Equal(MiB + 5 * Page, api.mm_phys_alloc_page());
        api.mm_phys_free_page(MiB + 4 * Page);
        Assert.Equal(MiB + 4 * Page, api.mm_phys_alloc_page());
        Assert.Equal(MiB + 6 * Page, api.mm_phys_alloc_page());
    }

    [Fact]
    public void AllocPage_HandsOutEveryUsablePageOnceAndNeverTheReservedOnes()
    {
        MmApi api = Create();

        List<ulong> pages = ExhaustFrames(api);

        Assert.Equal(FreeAfterBoot(), pages.Count);
        Assert.Equal(pages.Count, pages.Distinct().Count());
        Assert.All(pages, p =>
        {
            Assert.Equal(0UL, p % Page);
            Assert.InRange(p, MiB, SmallRam - Page);
            Assert.True(api.Kernel.Frames.IsAllocated(p));
        });
        Assert.Equal(pages.OrderBy(p => p), pages);
        Assert.Equal(NADDR, api.mm_phys_alloc_page());
        Assert.Equal(NADDR, api.mm_phys_alloc_contiguous(1));
    }

    [Fact]
    public void FreedPages_CanBeAllocatedAgain()
    {
        MmApi api = Create();
        List<ulong> pages = ExhaustFrames(api);

        foreach (ulong page in pages)
            api.mm_phys_free_page(page);

        Assert.Equal(FreeAfterBoot(), api.Kernel.Frames.FreeFrames);
        Assert.Equal(pages, ExhaustFrames(api));
    }

    [Fact]
    public void Contiguous_ReturnsTheLowestRunOfReallyFreePages()
    {
        MmApi api = Create();
        ulong a = api.mm_phys_alloc_page();
        ulong b = api.mm_phys_alloc_page();
        ulong c = api.mm_phys_alloc_page();
        api.mm_phys_free_page(b); // a one-page hole at b

        ulong run = api.mm_phys_alloc_contiguous(3);

        Assert.Equal(c + Page, run);
        for (ulong i = 0; i < 3; i++)
            Assert.True(api.Kernel.Frames.IsAllocated(run + i * Page));
        Assert.Equal(b, api.mm_phys_alloc_contiguous(1));
        Assert.True(api.Kernel.Frames.IsAllocated(a));
        Assert.Equal(FreeAfterBoot() - 6, api.Kernel.Frames.FreeFrames);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(63)]
    [InlineData(64)]
    [InlineData(65)]
    [InlineData(200)]
    [InlineData(764)]
    [InlineData(765)]
    public void Contiguous_RunIsAllocatedAndCountedOrNothingIsTaken(int count)
    {
        MmApi api = Create();
        api.mm_phys_alloc_page(); // misalign the run against bitmap words
        var before = KernelSnapshot.Take(api);
        int free = api.Kernel.Frames.FreeFrames;

        ulong run = api.mm_phys_alloc_contiguous((ulong)count);

        if (count > free)
        {
            Assert.Equal(NADDR, run);
            before.AssertUnchanged(api);
            return;
        }
        Assert.Equal(MiB + 4 * Page, run);
        for (int i = 0; i < count; i++)
            Assert.True(api.Kernel.Frames.IsAllocated(run + (ulong)i * Page));
        Assert.False(api.Kernel.Frames.IsAllocated(run + (ulong)count * Page));
        Assert.Equal(free - count, api.Kernel.Frames.FreeFrames);
    }

    [Fact]
    public void Contiguous_CanTakeAllOfFreeMemoryInOneRun()
    {
        MmApi api = Create();

        ulong run = api.mm_phys_alloc_contiguous((ulong)FreeAfterBoot());

        Assert.Equal(MiB + 3 * Page, run);
        Assert.Equal(0, api.Kernel.Frames.FreeFrames);
        Assert.Equal(NADDR, api.mm_phys_alloc_page());
    }

    [Theory]
    [InlineData(0UL)]
    [InlineData(1025UL)]
    [InlineData(1UL << 32)]
    [InlineData(ulong.MaxValue)]
    public void Contiguous_ZeroOrMoreThanRamFailsAndTakesNothing(ulong count)
    {
        MmApi api = Create();
        var before = KernelSnapshot.Take(api);

        Assert.Equal(NADDR, api.mm_phys_alloc_contiguous(count));

        before.AssertUnchanged(api);
    }

    [Fact]
    public void Contiguous_OnFragmentedMemoryFindsOnlyRealRuns()
    {
        MmApi api = Create();
        List<ulong> pages = ExhaustFrames(api);
        for (int i = 0; i < pages.Count; i += 2)
            api.mm_phys_free_page(pages[i]);
        var fragmented = KernelSnapshot.Take(api);

        Assert.Equal(NADDR, api.mm_phys_alloc_contiguous(2));
        fragmented.AssertUnchanged(api);

        api.mm_phys_free_page(pages[301]); // joins pages[300..302] into a run of three
        ulong run = api.mm_phys_alloc_contiguous(2);
        Assert.Equal(pages[300], run);
        Assert.True(api.Kernel.Frames.IsAllocated(pages[300]));
        Assert.True(api.Kernel.Frames.IsAllocated(pages[301]));
        Assert.False(api.Kernel.Frames.IsAllocated(pages[302]));
        Assert.Equal(NADDR, api.mm_phys_alloc_contiguous(2));
        Assert.Equal(pages[0], api.mm_phys_alloc_page());
    }

    [Fact]
    public void FreeFrames_TracksEveryOperation()
    {
        MmApi api = Create();
        int free = api.Kernel.Frames.FreeFrames;

        ulong page = api.mm_phys_alloc_page();
        Assert.Equal(free - 1, api.Kernel.Frames.FreeFrames);
        ulong run = api.mm_phys_alloc_contiguous(10);
        Assert.Equal(free - 11, api.Kernel.Frames.FreeFrames);
        for (ulong i = 0; i < 10; i++)
            api.mm_phys_free_page(run + i * Page);
        api.mm_phys_free_page(page);
        Assert.Equal(free, api.Kernel.Frames.FreeFrames);
    }

    [Theory]
    [InlineData(0x104001UL, PanicReason.FreeOfUnalignedAddress)]
    [InlineData(0x104800UL, PanicReason.FreeOfUnalignedAddress)]
    [InlineData(ulong.MaxValue, PanicReason.FreeOfUnalignedAddress)]
    [InlineData(SmallRam, PanicReason.FreeOutsideRam)]
    [InlineData(1UL << 30, PanicReason.FreeOutsideRam)]
    [InlineData(0xFFFFFFFFFFFFF000UL, PanicReason.FreeOutsideRam)]
    [InlineData(0UL, PanicReason.FreeOfReservedPage)]
    [InlineData(0x1000UL, PanicReason.FreeOfReservedPage)]
    [InlineData(0xFF000UL, PanicReason.FreeOfReservedPage)]
    [InlineData(0x200000UL, PanicReason.FreeOfUnallocatedPage)]
    [InlineData(SmallRam - 4096, PanicReason.FreeOfUnallocatedPage)]
    public void FreePage_MisusePanicsAndChangesNothing(ulong address, PanicReason reason)
    {
        MmApi api = Create();
        api.mm_phys_alloc_page();
        api.mm_phys_alloc_page();
        var before = KernelSnapshot.Take(api);

        AssertPanics(reason, () => api.mm_phys_free_page(address));

        before.AssertUnchanged(api);
    }

    [Fact]
    public void FreePage_TwicePanicsAsUnallocated()
    {
        MmApi api = Create();
        ulong page = api.mm_phys_alloc_page();
        api.mm_phys_free_page(page);
        var before = KernelSnapshot.Take(api);

        AssertPanics(PanicReason.FreeOfUnallocatedPage, () => api.mm_phys_free_page(page));

        before.AssertUnchanged(api);
    }

    [Fact]
    public void BootTables_AreTheFirstThreeUsablePages()
    {
        MmApi api = Create();
        Assert.True(api.Kernel.Frames.IsAllocated(MiB));
        Assert.True(api.Kernel.Frames.IsAllocated(MiB + 2 * Page));
        Assert.False(api.Kernel.Frames.IsAllocated(MiB + 3 * Page));
    }

    [Fact]
    public void AllocatorPagesAreNotZeroed_ContentsSurviveFreeAndReallocation()
    {
        MmApi api = Create();
        ulong page = api.mm_phys_alloc_page();
        api.Kernel.Ram.WriteU64(page + 8, 0xDEADBEEF);
        api.mm_phys_free_page(page);

        Assert.Equal(page, api.mm_phys_alloc_page());
        Assert.Equal(0xDEADBEEFUL, api.Kernel.Ram.ReadU64(page + 8));
    }

    [Fact]
    public void LargerRam_IsUsedUpToItsLastPage()
    {
        MmApi api = Create(16 * MiB);

        ulong run = api.mm_phys_alloc_contiguous((ulong)FreeAfterBoot(16 * MiB));

        Assert.Equal(MiB + 3 * Page, run);
        Assert.True(api.Kernel.Frames.IsAllocated(16 * MiB - Page));
        Assert.False(api.Kernel.Frames.IsAllocated(16 * MiB));
    }

    /// <summary>Random page allocs, frees and contiguous requests, each checked against a scan of IsAllocated.</summary>
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void RandomOperations_AgreeWithABruteForceScan(int seed)
    {
        MmApi api = Create(16 * MiB);
        var random = new Random(seed);
        var live = new List<ulong>();
        ulong frames = 16 * MiB / Page;
        ulong? LowestRun(ulong count)
        {
            ulong run = 0;
            for (ulong frame = 0; frame < frames; frame++)
            {
                bool free = frame * Page >= MiB && !api.Kernel.Frames.IsAllocated(frame * Page);
                run = free ? run + 1 : 0;
                if (run == count)
                    return (frame + 1 - count) * Page;
            }
            return null;
        }

        for (int step = 0; step < 4000; step++)
        {
            int op = random.Next(10);
            if (op < 4)
            {
                ulong? expected = LowestRun(1);
                ulong page = api.mm_phys_alloc_page();
                Assert.Equal(expected ?? NADDR, page);
                if (page != NADDR)
                    live.Add(page);
            }
            else if (op < 7 && live.Count > 0)
            {
                int index = random.Next(live.Count);
                api.mm_phys_free_page(live[index]);
                live.RemoveAt(index);
            }
            else
            {
                ulong count = (ulong)random.Next(1, 80);
                ulong? expected = LowestRun(count);
                int free = api.Kernel.Frames.FreeFrames;
                ulong run = api.mm_phys_alloc_contiguous(count);
                Assert.Equal(expected ?? NADDR, run);
                if (run == NADDR)
                {
                    Assert.Equal(free, api.Kernel.Frames.FreeFrames);
                    continue;
                }
                for (ulong i = 0; i < count; i++)
                    live.Add(run + i * Page);
            }
            Assert.Equal(FreeAfterBoot(16 * MiB) - live.Count, api.Kernel.Frames.FreeFrames);
        }
    }

    [Fact]
    public void StandaloneAllocator_ValidatesItsGeometry()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new PhysicalAllocator(0));
        Assert.Throws<ArgumentOutOfRangeException>(() => new PhysicalAllocator(4097));
        Assert.Throws<ArgumentOutOfRangeException>(() => new PhysicalAllocator(MiB, MiB));
        Assert.Throws<ArgumentOutOfRangeException>(() => new PhysicalAllocator(2 * MiB, 100));
        var allocator = new PhysicalAllocator(2 * MiB);
        Assert.Equal(256, allocator.FreeFrames);
        Assert.Equal(2 * MiB, allocator.RamSize);
    }

    [Fact]
    public void Machine_RejectsRamAboveOneGiBOrTooSmallToBoot()
    {
        Assert.ThrowsAny<ArgumentException>(() => new MemoryManager(new MachineOptions(2 * GiB)));
        Assert.Throws<InvalidOperationException>(() => new MemoryManager(new MachineOptions(MiB + 2 * Page)));
        Assert.Equal(0, new MemoryManager(new MachineOptions(MiB + 3 * Page)).Frames.FreeFrames);
    }

    [Fact]
    public void RamThatEndsInsideABitmapWord_NeverHandsOutFramesPastItsEnd()
    {
        // 266 frames: the bitmap's last word has 10 frames of RAM and 54 bits past its end.
        const ulong ramSize = MiB + 10 * Page;
        MmApi api = Create(ramSize);

        List<ulong> pages = ExhaustFrames(api);

        Assert.Equal(FreeAfterBoot(ramSize), pages.Count);
        Assert.All(pages, page => Assert.True(page < ramSize, $"0x{page:X} lies outside RAM"));
        Assert.Equal(NADDR, api.mm_phys_alloc_contiguous(1));
        Assert.False(api.Kernel.Frames.IsAllocated(ramSize));
    }

    [Fact]
    public void StandaloneAllocator_WithoutAReservedRegion_StillRejectsZeroAndUnalignedRam()
    {
        Assert.Equal("ramSize", Assert.Throws<ArgumentOutOfRangeException>(() => new PhysicalAllocator(0, reservedLow: 0)).ParamName);
        Assert.Equal("ramSize", Assert.Throws<ArgumentOutOfRangeException>(() => new PhysicalAllocator(Page + 1, reservedLow: 0)).ParamName);
        Assert.Equal(1, new PhysicalAllocator(Page, reservedLow: 0).FreeFrames);
    }

    [Fact]
    public void Contiguous_CountsAWhollyFreeBitmapWordOnce()
    {
        MmApi api = Create();
        ExhaustFrames(api);
        const ulong word = 2 * MiB; // frames 512..575: exactly one 64-bit word of the bitmap
        for (ulong page = word; page < word + 64 * Page; page += Page)
            api.mm_phys_free_page(page);
        api.mm_phys_free_page(700 * Page); // two lone frames: 66 free, but the longest run is 64
        api.mm_phys_free_page(702 * Page);

        Assert.Equal(NADDR, api.mm_phys_alloc_contiguous(65));
        Assert.Equal(66, api.Kernel.Frames.FreeFrames);
        Assert.Equal(word, api.mm_phys_alloc_contiguous(64));
    }

    [Fact]
    public void Contiguous_FindsARunThatEndsOneBitmapWordAndStartsTheNext()
    {
        MmApi api = Create();
        ExhaustFrames(api);
        for (ulong frame = 316; frame < 324; frame++) // bits 60..63 of word 4 and 0..3 of word 5: the only free frames
            api.mm_phys_free_page(frame * Page);

        Assert.Equal(NADDR, api.mm_phys_alloc_contiguous(9));
        Assert.Equal(316 * Page, api.mm_phys_alloc_contiguous(8));
    }

    [Fact]
    public void Contiguous_FindsARunAtTheStartOfTheLowestWordThatHasFreeFrames()
    {
        MmApi api = Create();
        ExhaustFrames(api);
        for (ulong frame = 320; frame < 328; frame++) // bits 0..7 of word 5; every word below is full
            api.mm_phys_free_page(frame * Page);

        Assert.Equal(320 * Page, api.mm_phys_alloc_contiguous(4));
    }
}
