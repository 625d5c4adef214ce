using System.Numerics;
using Mmspec.Reference.Memory;
using Mmspec.Reference.Physical;

namespace Mmspec.Reference.Heap;

/// <summary>
/// kmalloc/kfree with malloc(3)/free(3) semantics. Small blocks live in slab pages of one size class
/// each; blocks above the largest class get their own contiguous pages. Every operation is a hash
/// lookup or a sorted-set step: O(log n) in the number of slabs. A slab page that empties goes back
/// to the physical allocator, so an idle heap holds no memory.
/// </summary>
public class KernelHeap(PhysicalAllocator frames)
{
    public const ulong Alignment = 16;

    /// <summary>Each a multiple of the alignment, so every slot of a slab is aligned.</summary>
    protected static readonly ulong[] SizeClasses = [16, 32, 48, 64, 96, 128, 192, 256, 384, 512, 768, 1024, 2048];

    private readonly Dictionary<ulong, Slab> slabs = [];
    private readonly SortedSet<ulong>[] slabsWithRoom = SizeClasses.Select(_ => new SortedSet<ulong>()).ToArray();
    private readonly Dictionary<ulong, ulong> largeBlocks = [];

    protected PhysicalAllocator Frames { get; } = frames;

    public int LiveBlocks { get; private set; }

    /// <summary>
    /// A heap of its own in the same state, over <paramref name="copiedFrames"/> (the copy of this heap's allocator), for
    /// <see cref="Kernel.MemoryManager.Copy"/>, which copies only the reference's own parts.
    /// </summary>
    internal KernelHeap Copy(PhysicalAllocator copiedFrames)
    {
        var copy = new KernelHeap(copiedFrames) { LiveBlocks = LiveBlocks };
        foreach ((ulong page, Slab slab) in slabs)
            copy.slabs.Add(page, slab.Copy());
        for (int sizeClass = 0; sizeClass < slabsWithRoom.Length; sizeClass++)
            copy.slabsWithRoom[sizeClass].UnionWith(slabsWithRoom[sizeClass]);
        foreach ((ulong block, ulong pages) in largeBlocks)
            copy.largeBlocks.Add(block, pages);
        return copy;
    }

    /// <summary>The physical address of a new block, or null when memory is exhausted.</summary>
    public PhysAddr? Allocate(ulong size)
    {
        PhysAddr? block = size <= SizeClasses[^1] ? AllocateSmall(ClassOf(Math.Max(size, 1))) : AllocateLarge(size);
        if (block is not null)
            LiveBlocks++;
        return block;
    }

    /// <summary>Frees a block given by its physical address; a pointer the heap did not hand out is fatal.</summary>
    public void Free(ulong block)
    {
        if (largeBlocks.Remove(block, out ulong pages))
        {
            for (ulong page = 0; page < pages; page++)
                Frames.FreePage(block + page * Layout.PageSize);
        }
        else
        {
            FreeSmall(block);
        }
        LiveBlocks--;
    }

    /// <summary>Rounds up to whole pages (without overflow: any size); more pages than RAM has are refused by the allocator.</summary>
    protected virtual ulong PagesForLargeBlock(ulong size) =>
        size / Layout.PageSize + (size % Layout.PageSize == 0 ? 0UL : 1UL);

    private PhysAddr? AllocateLarge(ulong size)
    {
        ulong pages = PagesForLargeBlock(size);
        PhysAddr? block = Frames.AllocateContiguous(pages);
        if (block is { } start)
            largeBlocks.Add(start.Value, pages);
        return block;
    }

    private PhysAddr? AllocateSmall(int sizeClass)
    {
        SortedSet<ulong> candidates = slabsWithRoom[sizeClass];
        Slab slab;
        if (candidates.Count > 0)
        {
            slab = slabs[candidates.Min];
        }
        else
        {
            if (Frames.AllocatePage() is not { } page)
                return null;
            slab = new Slab(page.Value, sizeClass);
            slabs.Add(page.Value, slab);
            candidates.Add(page.Value);
        }
        int slot = slab.TakeSlot();
        if (slab.IsFull)
            candidates.Remove(slab.Page);
        return new PhysAddr(slab.Page + SlotOffset(slab, slot));
    }

    private void FreeSmall(ulong block)
    {
        ulong page = Layout.AlignDown(block, Layout.PageSize);
        if (!slabs.TryGetValue(page, out Slab? slab) || (block - page) % SizeClasses[slab.SizeClass] != 0
            || (int)((block - page) / SizeClasses[slab.SizeClass]) >= slab.SlotCount)
            throw new KernelPanicException(PanicReason.HeapFreeOfForeignPointer, $"kfree: 0x{block:X} (physical) was not returned by kmalloc");
        int slot = (int)((block - page) / SizeClasses[slab.SizeClass]);
        if (!slab.ReleaseSlot(slot))
            throw new KernelPanicException(PanicReason.HeapDoubleFree, $"kfree: block at 0x{block:X} (physical) is already free");
        if (slab.IsEmpty)
        {
            slabs.Remove(page);
            slabsWithRoom[slab.SizeClass].Remove(page);
            Frames.FreePage(page);
        }
        else
        {
            slabsWithRoom[slab.SizeClass].Add(page);
        }
    }

    protected virtual ulong SlotOffset(Slab slab, int slot) => (ulong)slot * SizeClasses[slab.SizeClass];

    private static int ClassOf(ulong size)
    {
        for (int index = 0; ; index++)
            if (SizeClasses[index] >= size)
                return index;
    }

    /// <summary>One page carved into equal slots; a bitmap records which slots are live.</summary>
    protected sealed class Slab(ulong page, int sizeClass)
    {
        private readonly ulong[] used = new ulong[(SlotsIn(sizeClass) + 63) / 64];

        public ulong Page { get; } = page;

        public int SizeClass { get; } = sizeClass;

        public int SlotCount { get; } = SlotsIn(sizeClass);

        public int Live { get; private set; }

        public bool IsFull => Live == SlotCount;

        public Slab Copy()
        {
            var copy = new Slab(Page, SizeClass) { Live = Live };
            used.CopyTo(copy.used, 0);
            return copy;
        }

        public bool IsEmpty => Live == 0;

        public int TakeSlot()
        {
            for (int word = 0; ; word++)
            {
                if (used[word] == ulong.MaxValue)
                    continue;
                int slot = word * 64 + BitOperations.TrailingZeroCount(~used[word]);
                used[word] |= 1UL << (slot % 64);
                Live++;
                return slot;
            }
        }

        /// <summary>False when the slot was not live: a double free.</summary>
        public bool ReleaseSlot(int slot)
        {
            ulong bit = 1UL << (slot % 64);
            if ((used[slot / 64] & bit) == 0)
                return false;
            used[slot / 64] &= ~bit;
            Live--;
            return true;
        }

        private static int SlotsIn(int sizeClass) => (int)(Layout.PageSize / SizeClasses[sizeClass]);
    }
}
