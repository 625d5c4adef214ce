using System.Numerics;
using Mmspec.Reference.Memory;

namespace Mmspec.Reference.Physical;

/// <summary>
/// A bitmap frame allocator (bit set = frame in use). Searches go a 64-bit word at a time with a few bit
/// operations per word, so the cost grows with the number of words, never with pages or runs of pages.
/// </summary>
public class PhysicalAllocator
{
    private const ulong Full = ulong.MaxValue;
    private readonly ulong[] bitmap;
    private readonly int frameCount;
    private readonly int reservedFrames;

    // No word below this index has a free bit: single-page searches start here.
    private int firstCandidateWord;

    public PhysicalAllocator(ulong ramSize, ulong reservedLow = Layout.ReservedLowMemory)
    {
        if (!Layout.IsPageAligned(ramSize) || ramSize == 0)
            throw new ArgumentOutOfRangeException(nameof(ramSize), "RAM size must be a non-zero multiple of 4 KiB");
        if (!Layout.IsPageAligned(reservedLow) || reservedLow >= ramSize)
            throw new ArgumentOutOfRangeException(nameof(reservedLow), "the reserved region must be page aligned and smaller than RAM");
        frameCount = (int)(ramSize / Layout.PageSize);
        reservedFrames = (int)(reservedLow / Layout.PageSize);
        bitmap = new ulong[(frameCount + 63) / 64];
        SetRange(0, reservedFrames);
        SetRange(frameCount, bitmap.Length * 64 - frameCount);
        FreeFrames = frameCount - reservedFrames;
    }

    /// <summary>An allocator of its own in the same state as <paramref name="original"/>.</summary>
    protected PhysicalAllocator(PhysicalAllocator original)
    {
        bitmap = (ulong[])original.bitmap.Clone();
        frameCount = original.frameCount;
        reservedFrames = original.reservedFrames;
        firstCandidateWord = original.firstCandidateWord;
        FreeFrames = original.FreeFrames;
    }

    /// <summary>A copy of this allocator's state, for <see cref="Kernel.MemoryManager.Copy"/>, which copies only the reference's own parts.</summary>
    internal PhysicalAllocator Copy() => new(this);

    public ulong RamSize => (ulong)frameCount * Layout.PageSize;

    public int FreeFrames { get; private set; }

    public bool IsAllocated(ulong address) =>
        address < RamSize && (ulong)reservedFrames <= address / Layout.PageSize && IsSet((int)(address / Layout.PageSize));

    public bool IsReserved(ulong address) => address < (ulong)reservedFrames * Layout.PageSize;

    /// <summary>The lowest free frame, or null when none is left.</summary>
    public virtual PhysAddr? AllocatePage()
    {
        for (int word = firstCandidateWord; word < bitmap.Length; word++)
        {
            if (bitmap[word] == Full)
                continue;
            firstCandidateWord = word;
            int frame = word * 64 + BitOperations.TrailingZeroCount(~bitmap[word]);
            MarkUsed(frame, 1);
            return FrameAddress(frame);
        }
        firstCandidateWord = bitmap.Length;
        return null;
    }

    /// <summary>The lowest run of <paramref name="count"/> free frames, or null (count 0 included).</summary>
    public virtual PhysAddr? AllocateContiguous(ulong count)
    {
        if (count == 0 || count > (ulong)FreeFrames)
            return null;
        int? start = FindFreeRun((int)count);
        if (start is null)
            return null;
        MarkUsed(start.Value, (int)count);
        return FrameAddress(start.Value);
    }

    /// <summary>Frees one frame; misuse is fatal, as in a kernel, rather than silent corruption.</summary>
    public virtual void FreePage(ulong address)
    {
        if (!Layout.IsPageAligned(address))
            throw new KernelPanicException(PanicReason.FreeOfUnalignedAddress, $"mm_phys_free_page(0x{address:X}): not page aligned");
        if (address >= RamSize)
            throw new KernelPanicException(PanicReason.FreeOutsideRam, $"mm_phys_free_page(0x{address:X}): outside RAM");
        if (IsReserved(address))
            throw new KernelPanicException(PanicReason.FreeOfReservedPage, $"mm_phys_free_page(0x{address:X}): reserved low memory");
        int frame = (int)(address / Layout.PageSize);
        if (!IsSet(frame))
            throw new KernelPanicException(PanicReason.FreeOfUnallocatedPage, $"mm_phys_free_page(0x{address:X}): page is not allocated");
        bitmap[frame / 64] &= ~(1UL << (frame % 64));
        FreeFrames++;
        firstCandidateWord = Math.Min(firstCandidateWord, frame / 64);
    }

    /// <summary>
    /// The lowest run of <paramref name="count"/> free frames, a word at a time whatever the fragmentation: a run
    /// carried over from lower words ends at the word's lowest used bit, a run inside the word is found with
    /// log2(count) shift-and-AND steps, and the free bits at the word's top start the next carried run.
    /// </summary>
    protected int? FindFreeRun(int count)
    {
        int runStart = 0, runLength = 0;
        for (int word = firstCandidateWord; word < bitmap.Length; word++)
        {
            ulong used = bitmap[word];
            if (used == 0)
            {
                if (runLength == 0)
                    runStart = word * 64;
                runLength += 64;
                if (runLength >= count)
                    return runStart;
                continue;
            }
            if (runLength > 0 && runLength + BitOperations.TrailingZeroCount(used) >= count)
                return runStart;
            if (count <= 64 && FirstRunInWord(~used, count) is var bit and >= 0)
                return word * 64 + bit;
            runLength = BitOperations.LeadingZeroCount(used);
            runStart = word * 64 + 64 - runLength;
        }
        return null;
    }

    /// <summary>The lowest bit that starts <paramref name="count"/> consecutive set bits of <paramref name="free"/>, or -1.</summary>
    private static int FirstRunInWord(ulong free, int count)
    {
        // After each step, bit i is set when bits i .. i + length - 1 are all free; shifts bring in used bits at the top.
        int length = 1;
        for (; length * 2 <= count; length *= 2)
            free &= free >> length;
        if (length < count)
            free &= free >> (count - length);
        return free == 0 ? -1 : BitOperations.TrailingZeroCount(free);
    }

    protected void MarkUsed(int firstFrame, int count)
    {
        SetRange(firstFrame, count);
        FreeFrames -= count;
    }

    private static PhysAddr FrameAddress(int frame) => new((ulong)frame * Layout.PageSize);

    private bool IsSet(int frame) => (bitmap[frame / 64] & (1UL << (frame % 64))) != 0;

    private void SetRange(int firstFrame, int count)
    {
        int frame = firstFrame, end = firstFrame + count;
        while (frame < end)
        {
            int bit = frame % 64;
            int span = Math.Min(64 - bit, end - frame);
            ulong mask = span == 64 ? Full : ((1UL << span) - 1) << bit;
            bitmap[frame / 64] |= mask;
            frame += span;
        }
    }
}
