using Mmspec.Reference.Api;
using Mmspec.Reference.Memory;
using static Mmspec.Tests.Reference.TestKernel;

namespace Mmspec.Tests.Reference;

/// <summary>
/// A slab's slot bitmap spans several 64-bit words for the small classes (256 slots of 16 bytes,
/// 128 of 32, 85 of 48): every slot of the page must be handed out, past the first word, before a
/// second page is taken, and a freed slot in a later word must be found again.
/// </summary>
public class SlabCapacityTests
{
    [Theory]
    [InlineData(16UL, 256)]
    [InlineData(32UL, 128)]
    [InlineData(48UL, 85)]
    [InlineData(2048UL, 2)] // the largest class still shares a page; only larger blocks get pages of their own
    public void ASlab_HandsOutEverySlotOfItsPage_ThenTakesANewPage(ulong size, int slots)
    {
        MmApi api = Create();

        var blocks = new List<ulong>();
        for (int i = 0; i < slots; i++)
            blocks.Add(MmApi.MM_PHYS(api.kmalloc(size)));

        ulong page = blocks[0] & ~(Page - 1);
        Assert.All(blocks, block => Assert.Equal(page, block & ~(Page - 1)));
        Assert.Equal(Enumerable.Range(0, slots).Select(slot => page + (ulong)slot * size), blocks.Order());
        Assert.Equal(FreeAfterBoot() - 1, api.Kernel.Frames.FreeFrames);

        ulong next = MmApi.MM_PHYS(api.kmalloc(size));

        Assert.NotEqual(page, next & ~(Page - 1));
        Assert.Equal(FreeAfterBoot() - 2, api.Kernel.Frames.FreeFrames);
        Assert.Equal(slots + 1, api.Kernel.Heap.LiveBlocks);
    }

    [Fact]
    public void ASlotFreedPastTheFirstBitmapWord_IsTheOneHandedOutNext()
    {
        MmApi api = Create();
        var pointers = new List<ulong>();
        for (int i = 0; i < 256; i++)
            pointers.Add(api.kmalloc(16));
        ulong freed = pointers[200];

        api.kfree(freed);
        Assert.Equal(FreeAfterBoot() - 1, api.Kernel.Frames.FreeFrames);

        Assert.Equal(freed, api.kmalloc(16));
        Assert.Equal(FreeAfterBoot() - 1, api.Kernel.Frames.FreeFrames);
        Assert.Equal(256, api.Kernel.Heap.LiveBlocks);
    }

    [Fact]
    public void ASlotPastTheFirstBitmapWord_IsFreedOnlyOnce()
    {
        MmApi api = Create();
        var pointers = new List<ulong>();
        for (int i = 0; i < 100; i++)
            pointers.Add(api.kmalloc(16));

        api.kfree(pointers[70]);

        AssertPanics(PanicReason.HeapDoubleFree, () => api.kfree(pointers[70]));
        Assert.Equal(99, api.Kernel.Heap.LiveBlocks);
    }

    [Fact]
    public void ABlockComesFromTheLowestSlabWithRoom()
    {
        MmApi api = Create();
        List<ulong> blocks = Enumerable.Range(0, 8).Select(_ => MmApi.MM_PHYS(api.kmalloc(1024))).ToList(); // two full pages of 4 slots
        ulong low = blocks.Min(), high = blocks.Max();
        Assert.NotEqual(low & ~(Page - 1), high & ~(Page - 1));

        api.kfree(MmApi.MM_VIRTUALIZE(high)); // the higher page gets room first
        api.kfree(MmApi.MM_VIRTUALIZE(low));

        Assert.Equal(low, MmApi.MM_PHYS(api.kmalloc(1024)));
        Assert.Equal(high, MmApi.MM_PHYS(api.kmalloc(1024)));
    }
}
