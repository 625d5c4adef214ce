using System.Buffers.Binary;

namespace Mmspec.Bench.Baselines;

/// <summary>
/// The textbook first-fit heap (K&amp;R's malloc) over a byte array: one address-ordered free list threaded
/// through the free blocks themselves, searched from its head for the first block big enough, which is split;
/// a freed block is put back in address order and merged with free neighbours. Every block starts with a
/// 16-byte header holding its size, so payloads stay 16-byte aligned like kmalloc's.
/// </summary>
public sealed class FirstFitHeap
{
    private const long Header = 16;
    private const long MinimumBlock = 32;
    private const long None = -1;

    // A free block: [size:8][next free block's offset, or -1:8]; an allocated block: [size:8][unused:8].
    private readonly byte[] arena;
    private long freeHead;

    public FirstFitHeap(int arenaBytes)
    {
        arena = new byte[arenaBytes & ~15];
        freeHead = 0;
        SetSize(0, arena.Length);
        SetNext(0, None);
    }

    /// <summary>The payload's offset in the arena (never 0), or 0 when no free block is big enough.</summary>
    public long Allocate(ulong size)
    {
        long need = Math.Max(MinimumBlock, (long)((Math.Max(size, 1) + 15) & ~15UL) + Header);
        for (long previous = None, block = freeHead; block != None; previous = block, block = Next(block))
        {
            long blockSize = Size(block);
            if (blockSize < need)
                continue;
            long next = Next(block);
            if (blockSize - need >= MinimumBlock)
            {
                long rest = block + need;
                SetSize(rest, blockSize - need);
                SetNext(rest, next);
                next = rest;
                SetSize(block, need);
            }
            Link(previous, next);
            return block + Header;
        }
        return 0;
    }

    public void Free(long payload)
    {
        long block = payload - Header, size = Size(block);
        long previous = None, next = freeHead;
        while (next != None && next < block)
        {
            previous = next;
            next = Next(next);
        }
        if (next != None && block + size == next)
        {
            size += Size(next);
            next = Next(next);
        }
        if (previous != None && previous + Size(previous) == block)
        {
            SetSize(previous, Size(previous) + size);
            SetNext(previous, next);
            return;
        }
        SetSize(block, size);
        SetNext(block, next);
        Link(previous, block);
    }

    private void Link(long previous, long block)
    {
        if (previous == None)
            freeHead = block;
        else
            SetNext(previous, block);
    }

    private long Size(long block) => BinaryPrimitives.ReadInt64LittleEndian(arena.AsSpan((int)block));

    private void SetSize(long block, long size) => BinaryPrimitives.WriteInt64LittleEndian(arena.AsSpan((int)block), size);

    private long Next(long block) => BinaryPrimitives.ReadInt64LittleEndian(arena.AsSpan((int)block + 8));

    private void SetNext(long block, long next) => BinaryPrimitives.WriteInt64LittleEndian(arena.AsSpan((int)block + 8), next);
}
