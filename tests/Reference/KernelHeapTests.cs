using Mmspec.Reference.Api;
using Mmspec.Reference.Memory;
using static Mmspec.Tests.Reference.TestKernel;

namespace Mmspec.Tests.Reference;

public class KernelHeapTests
{
    public static readonly TheoryData<ulong> Sizes = new() { 0, 1, 15, 16, 17, 31, 48, 100, 1000, 2047, 2048, 2049, 4095, 4096, 4097, 10000, 65536 };

    [Theory]
    [MemberData(nameof(Sizes))]
    public void Kmalloc_ReturnsAnAlignedDirectMapPointerIntoAllocatedRam(ulong size)
    {
        (MmApi api, ulong space) = CreateWithSpace();

        ulong ptr = api.kmalloc(size);

        Assert.NotEqual(0UL, ptr);
        Assert.Equal(0UL, ptr % 16);
        Assert.True(ptr >= KernelBase, $"0x{ptr:X} is not a kernel address");
        ulong phys = MmApi.MM_PHYS(ptr);
        ulong length = Math.Max(size, 1);
        Assert.True(api.Kernel.Ram.Contains(phys, length), $"block 0x{phys:X}+{length} is not inside RAM");
        for (ulong page = phys & ~(Page - 1); page < phys + length; page += Page)
            Assert.True(api.Kernel.Frames.IsAllocated(page), $"block page 0x{page:X} is not allocated");
        Assert.Equal(phys, api.MapGet(space, ptr, out ulong flags));
        Assert.Equal(WRITE, flags);
        Assert.Equal(1, api.Kernel.Heap.LiveBlocks);
    }

    [Theory]
    [MemberData(nameof(Sizes))]
    public void Kmalloc_ThenKfree_GivesEveryPageBack(ulong size)
    {
        MmApi api = Create();
        var before = KernelSnapshot.Take(api);

        api.kfree(api.kmalloc(size));

        Assert.Equal(before.AllocatedFrames, KernelSnapshot.Take(api).AllocatedFrames);
        Assert.Equal(before.FreeFrames, api.Kernel.Frames.FreeFrames);
        Assert.Equal(0, api.Kernel.Heap.LiveBlocks);
    }

    [Fact]
    public void KmallocZero_ReturnsUniqueNonNullPointersThatKfreeAccepts()
    {
        MmApi api = Create();

        ulong a = api.kmalloc(0), b = api.kmalloc(0), c = api.kmalloc(0);

        Assert.NotEqual(0UL, a);
        Assert.Equal(3, new[] { a, b, c }.Distinct().Count());
        api.kfree(b);
        api.kfree(a);
        api.kfree(c);
        Assert.Equal(0, api.Kernel.Heap.LiveBlocks);
        Assert.Equal(FreeAfterBoot(), api.Kernel.Frames.FreeFrames);
    }

    [Fact]
    public void ManyBlocks_NeverOverlapEachOtherOrForeignPages()
    {
        MmApi api = Create(16 * MiB);
        var random = new Random(1234);
        var blocks = new List<(ulong Phys, ulong Length)>();
        for (int i = 0; i < 600; i++)
        {
            ulong size = (ulong)(random.Next(10) == 0 ? random.Next(2049, 12000) : random.Next(0, 2049));
            ulong ptr = api.kmalloc(size);
            Assert.NotEqual(0UL, ptr);
            blocks.Add((MmApi.MM_PHYS(ptr), Math.Max(size, 1)));
        }
        ulong page = api.mm_phys_alloc_page(); // a page the heap does not own

        blocks.Sort();
        for (int i = 1; i < blocks.Count; i++)
            Assert.True(blocks[i - 1].Phys + blocks[i - 1].Length <= blocks[i].Phys,
                $"0x{blocks[i - 1].Phys:X}+{blocks[i - 1].Length} overlaps 0x{blocks[i].Phys:X}");
        Assert.All(blocks, b => Assert.True(b.Phys + b.Length <= page || b.Phys >= page + Page));
        Assert.Equal(600, api.Kernel.Heap.LiveBlocks);
    }

    [Fact]
    public void Contents_AreKeptUntilFreed()
    {
        MmApi api = Create(16 * MiB);
        var random = new Random(99);
        var live = new List<(ulong Ptr, byte[] Data)>();
        void Allocate(int count)
        {
            for (int i = 0; i < count; i++)
            {
                ulong size = (ulong)(random.Next(8) == 0 ? random.Next(2049, 9000) : random.Next(1, 2049));
                ulong ptr = api.kmalloc(size);
                Assert.NotEqual(0UL, ptr);
                byte[] data = new byte[size];
                random.NextBytes(data);
                api.Kernel.Ram.Write(MmApi.MM_PHYS(ptr), data);
                live.Add((ptr, data));
            }
        }

        Allocate(300);
        for (int i = live.Count - 1; i >= 0; i -= 2)
        {
            api.kfree(live[i].Ptr);
            live.RemoveAt(i);
        }
        Allocate(300);

        foreach ((ulong ptr, byte[] data) in live)
        {
            byte[] back = new byte[data.Length];
            api.Kernel.Ram.Read(MmApi.MM_PHYS(ptr), back);
            Assert.Equal(data, back);
        }
        Assert.Equal(live.Count, api.Kernel.Heap.LiveBlocks);
    }

    [Fact]
    public void IdleHeap_HoldsNoPages()
    {
        MmApi api = Create(16 * MiB);
        var start = KernelSnapshot.Take(api);
        var random = new Random(5);
        var ptrs = new List<ulong>();
        for (int i = 0; i < 500; i++)
            ptrs.Add(api.kmalloc((ulong)(random.Next(6) == 0 ? random.Next(2049, 20000) : random.Next(0, 2049))));
        Assert.True(api.Kernel.Frames.FreeFrames < start.FreeFrames);

        foreach (ulong ptr in ptrs.OrderBy(_ => random.Next()))
            api.kfree(ptr);

        Assert.Equal(0, api.Kernel.Heap.LiveBlocks);
        Assert.Equal(start.FreeFrames, api.Kernel.Frames.FreeFrames);
        Assert.Equal(start.AllocatedFrames, KernelSnapshot.Take(api).AllocatedFrames);
    }

    [Fact]
    public void KfreeNull_DoesNothing()
    {
        MmApi api = Create();
        api.kmalloc(40);
        var before = KernelSnapshot.Take(api);

        api.kfree(0);

        before.AssertUnchanged(api);
    }

    [Theory]
    [InlineData(SmallRam)]
    [InlineData(SmallRam + 1)]
    [InlineData(1UL << 40)]
    [InlineData(1UL << 63)]
    [InlineData(ulong.MaxValue - 15)]
    [InlineData(ulong.MaxValue)]
    public void Kmalloc_OfAnUnsatisfiableSize_ReturnsNullAndChangesNothing(ulong size)
    {
        MmApi api = Create();
        api.kmalloc(16);
        var before = KernelSnapshot.Take(api);

        Assert.Equal(0UL, api.kmalloc(size));

        before.AssertUnchanged(api);
    }

    [Theory]
    [InlineData(0UL)]
    [InlineData(1UL)]
    [InlineData(2048UL)]
    [InlineData(2049UL)]
    [InlineData(10000UL)]
    public void Kmalloc_WhenRamIsExhausted_ReturnsNullAndChangesNothing(ulong size)
    {
        MmApi api = Create();
        List<ulong> taken = ExhaustFrames(api);
        var before = KernelSnapshot.Take(api);

        Assert.Equal(0UL, api.kmalloc(size));

        before.AssertUnchanged(api);
        api.mm_phys_free_page(taken[^1]);
        api.mm_phys_free_page(taken[^2]);
        api.mm_phys_free_page(taken[^3]);
        Assert.NotEqual(0UL, api.kmalloc(size)); // works again once pages are back
    }

    [Fact]
    public void Kmalloc_LargeBlockNeedsAContiguousRun()
    {
        MmApi api = Create();
        List<ulong> pages = ExhaustFrames(api);
        for (int i = 0; i < pages.Count; i += 2)
            api.mm_phys_free_page(pages[i]);
        var before = KernelSnapshot.Take(api);

        Assert.Equal(0UL, api.kmalloc(2 * Page));

        before.AssertUnchanged(api);
        Assert.NotEqual(0UL, api.kmalloc(Page));
    }

    [Fact]
    public void Kfree_Twice_WhileItsPageIsStillInUse_PanicsAsDoubleFree()
    {
        MmApi api = Create();
        ulong a = api.kmalloc(16);
        api.kmalloc(16);
        api.kfree(a);
        var before = KernelSnapshot.Take(api);

        AssertPanics(PanicReason.HeapDoubleFree, () => api.kfree(a));

        before.AssertUnchanged(api);
    }

    [Theory]
    [InlineData(16UL)]
    [InlineData(2048UL)]
    [InlineData(5000UL)]
    public void Kfree_Twice_PanicsAndChangesNothing(ulong size)
    {
        MmApi api = Create();
        ulong ptr = api.kmalloc(size);
        api.kfree(ptr);
        var before = KernelSnapshot.Take(api);

        Assert.Throws<KernelPanicException>(() => api.kfree(ptr));

        before.AssertUnchanged(api);
    }

    /// <summary>
    /// decisions.md: "kfree twice panics (double free)". When the block was the last one of its page the
    /// reference has already returned the page, and the second kfree is reported as a foreign pointer.
    /// </summary>
    [Theory]
    [InlineData(16UL)]
    [InlineData(5000UL)]
    public void Kfree_Twice_AfterItsPageWentBack_ReportsAForeignPointer(ulong size)
    {
        MmApi api = Create();
        ulong ptr = api.kmalloc(size);
        api.kfree(ptr);

        AssertPanics(PanicReason.HeapFreeOfForeignPointer, () => api.kfree(ptr));
    }

    public static readonly TheoryData<string> ForeignPointers = new()
    {
        "user address", "non-canonical", "beyond RAM in the direct map", "reserved page", "page from mm_phys_alloc_page",
        "unaligned inside a block", "interior of a 32-byte block", "second page of a large block", "interior of a large block",
        "tail of a 48-byte slab page", "vmalloc'd kernel page",
    };

    [Theory]
    [MemberData(nameof(ForeignPointers))]
    public void Kfree_OfAPointerKmallocDidNotReturn_PanicsAndChangesNothing(string kind)
    {
        (MmApi api, ulong space) = CreateWithSpace();
        ulong small32 = api.kmalloc(32);
        ulong small48 = api.kmalloc(48);
        ulong large = api.kmalloc(3 * Page);
        ulong page = api.mm_phys_alloc_page();
        ulong vm = api.vmalloc(space, KernelBase, ulong.MaxValue, 1, WRITE);
        Assert.NotEqual(NADDR, vm);
        ulong ptr = kind switch
        {
            "user address" => 0x1000,
            "non-canonical" => 0x0000800000000000,
            "beyond RAM in the direct map" => MmApi.MM_VIRTUALIZE(SmallRam),
            "reserved page" => MmApi.MM_VIRTUALIZE(0x1000),
            "page from mm_phys_alloc_page" => MmApi.MM_VIRTUALIZE(page),
            "unaligned inside a block" => small32 + 1,
            "interior of a 32-byte block" => small32 + 16,
            "second page of a large block" => large + Page,
            "interior of a large block" => large + 64,
            "tail of a 48-byte slab page" => (small48 & ~(Page - 1)) + 85 * 48,
            "vmalloc'd kernel page" => vm,
            _ => throw new ArgumentException(kind),
        };
        var before = KernelSnapshot.Take(api);

        AssertPanics(PanicReason.HeapFreeOfForeignPointer, () => api.kfree(ptr));

        before.AssertUnchanged(api);
        api.kfree(small32);
        api.kfree(small48);
        api.kfree(large);
        Assert.Equal(0, api.Kernel.Heap.LiveBlocks);
    }

    [Fact]
    public void LiveBlocks_CountsAllocationsMinusFrees()
    {
        MmApi api = Create();
        ulong a = api.kmalloc(1), b = api.kmalloc(3000), c = api.kmalloc(0);
        Assert.Equal(3, api.Kernel.Heap.LiveBlocks);
        api.kfree(b);
        Assert.Equal(2, api.Kernel.Heap.LiveBlocks);
        api.kfree(a);
        api.kfree(c);
        Assert.Equal(0, api.Kernel.Heap.LiveBlocks);
    }

    [Theory]
    [InlineData(0x1000UL)]                  // user half
    [InlineData(KernelBase - 16)]           // just below the direct map
    [InlineData(KernelBase + SmallRam)]     // the direct map, one byte past RAM
    public void Kfree_OfAPointerOutsideTheDirectMapOfRam_PanicsNamingThePointerAsPassed(ulong ptr)
    {
        MmApi api = Create();

        KernelPanicException panic = Assert.Throws<KernelPanicException>(() => api.kfree(ptr));

        Assert.Equal(PanicReason.HeapFreeOfForeignPointer, panic.Reason);
        Assert.Contains($"kfree(0x{ptr:X}): not a heap pointer", panic.Message);
    }

    [Fact]
    public void Kfree_OfThePointerToPhysicalZero_IsJudgedByTheHeap()
    {
        // Physical 0 lies in RAM, so the pointer passes the API's range check and the heap refuses it.
        MmApi api = Create();

        KernelPanicException panic = Assert.Throws<KernelPanicException>(() => api.kfree(KernelBase));

        Assert.Equal(PanicReason.HeapFreeOfForeignPointer, panic.Reason);
        Assert.Contains("kfree: 0x0 (physical) was not returned by kmalloc", panic.Message);
    }

    /// <summary>A block above the largest slab class takes whole pages, as few as hold it.</summary>
    [Theory]
    [InlineData(2049UL, 1)]
    [InlineData(4096UL, 1)]
    [InlineData(4097UL, 2)]
    [InlineData(8192UL, 2)]
    [InlineData(8193UL, 3)]
    public void Kmalloc_LargeBlockTakesSizeRoundedUpToWholePages(ulong size, int pages)
    {
        MmApi api = Create();
        int before = api.Kernel.Frames.FreeFrames;

        Assert.NotEqual(0UL, api.kmalloc(size));

        Assert.Equal(before - pages, api.Kernel.Frames.FreeFrames);
    }
}
