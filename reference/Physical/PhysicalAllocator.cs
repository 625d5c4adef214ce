using System.Numerics;
using Mmspec.Reference.Memory;

namespace Mmspec.Reference.Physical;

/// <summary>
/// A bitmap frame allocator (bit set = frame in use). Searches go a 64-bit word at a time and skip
/// whole runs inside a word, so the cost grows with the number of words, never with pages one by one.
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

    /// <summary>Walks runs of free bits word by word; a word that is all free or all used costs one step.</summary>
    protected int? FindFreeRun(int count)
    {
        int runStart = 0, runLength = 0;
        for (int word = firstCandidateWord; word < bitmap.Length; word++)
        {
            ulong bits = bitmap[word];
            if (bits == 0)
            {
                if (runLength == 0)
                    runStart = word * 64;
                runLength += 64;
                if (runLength >= count)
                    return runStart;
                continue;
            }
            int position = 0;
            while (position < 64)
            {
                ulong rest = bits >> position;
                if ((rest & 1) == 0)
                {
                    int free = rest == 0 ? 64 - position : BitOperations.TrailingZeroCount(rest);
                    if (runLength == 0)
                        runStart = word * 64 + position;
                    runLength += free;
                    if (runLength >= count)
                        return runStart;
                    position += free;
                }
                else
                {
                    // A word used to its end has ~rest == 0, whose count is 64: that ends the word too.
                    int used = BitOperations.TrailingZeroCount(~rest);
                    runLength = 0;
                    position += used;
                }
            }
        }
        return null;
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
