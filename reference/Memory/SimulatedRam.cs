using System.Buffers.Binary;
using System.Runtime.InteropServices;

namespace Mmspec.Reference.Memory;

/// <summary>
/// Physical memory of the simulated machine. Frames are backed lazily, so a 1 GiB machine costs host
/// memory only for the frames that were written; an unwritten frame reads as zeros. Like a hypervisor's dirty
/// log, it records which frames were written (<see cref="TakeWrittenFrames"/>), so that a checker can ask what one
/// call wrote.
/// </summary>
public sealed class SimulatedRam
{
    private byte[]?[] frames;

    // Frames whose backing a copy holds too (see Copy): cloned before this RAM first writes them, so that copies
    // share what neither has written since, and a copy costs the frame index, not the frames.
    private bool[] shared;

    // The dirty log: a flag per frame and the frames flagged, so that taking it costs what was written, not the RAM size.
    private bool[] written;
    private readonly List<int> writtenFrames = [];

    public SimulatedRam(ulong size = Layout.DefaultRamSize)
    {
        if (size == 0 || !Layout.IsPageAligned(size) || size > Layout.MaxRamSize)
            throw new ArgumentOutOfRangeException(nameof(size), $"RAM size 0x{size:X} must be a non-zero multiple of 4 KiB, at most 1 GiB");
        Size = size;
        frames = new byte[]?[size / Layout.PageSize];
        shared = new bool[frames.Length];
        written = new bool[frames.Length];
    }

    private SimulatedRam(SimulatedRam original)
    {
        ObjectDisposedException.ThrowIf(original.released, original);
        Size = original.Size;
        (frames, shared, written) = FrameIndexPool.Take(original.frames.Length);
        Array.Copy(original.frames, frames, frames.Length);
        for (int frame = 0; frame < frames.Length; frame++)
            if (frames[frame] is not null)
                shared[frame] = original.shared[frame] = true;
        Array.Copy(original.written, written, written.Length);
        writtenFrames = [.. original.writtenFrames];
    }

    /// <summary>
    /// A RAM of its own with the same contents and the same dirty log. The two share each frame's backing until one
    /// of them writes it: copying many machines from one snapshot costs what each then writes.
    /// </summary>
    public SimulatedRam Copy() => new(this);

    /// <summary>
    /// The physical addresses of the frames written (or zeroed) since the last call, in increasing order, and
    /// a fresh log: every write counts, whoever made it.
    /// </summary>
    public IReadOnlyList<ulong> TakeWrittenFrames()
    {
        if (writtenFrames.Count == 0)
            return [];
        if (writtenFrames.Count == 1)
        {
            written[writtenFrames[0]] = false;
            IReadOnlyList<ulong> one = OneFrame(writtenFrames[0]);
            writtenFrames.Clear();
            return one;
        }
        writtenFrames.Sort();
        var taken = new ulong[writtenFrames.Count];
        for (int i = 0; i < taken.Length; i++)
        {
            written[writtenFrames[i]] = false;
            taken[i] = (ulong)writtenFrames[i] * Layout.PageSize;
        }
        writtenFrames.Clear();
        return taken;
    }

    // A call that wrote one frame (most allocations write one word of the bitmap) is told so by a list made once per frame,
    // shared by every machine and never changed: a drain's thousands of calls allocate no log of their own.
    private static IReadOnlyList<ulong>[] oneFrameLists = [];

    private static IReadOnlyList<ulong> OneFrame(int frame)
    {
        IReadOnlyList<ulong>[] lists = Volatile.Read(ref oneFrameLists);
        if (frame >= lists.Length)
        {
            var grown = new IReadOnlyList<ulong>[Math.Max(frame + 1, lists.Length * 2)];
            lists.CopyTo(grown, 0);
            Volatile.Write(ref oneFrameLists, lists = grown); // a race loses a few lists, made again: never a wrong one
        }
        return lists[frame] ??= Array.AsReadOnly(new[] { (ulong)frame * Layout.PageSize });
    }

    private void MarkWritten(ulong address)
    {
        int frame = (int)(address / Layout.PageSize);
        if (written[frame])
            return;
        written[frame] = true;
        writtenFrames.Add(frame);
    }

    public ulong Size { get; }

    public int FrameCount => frames.Length;

    /// <summary>How many frames hold host memory (were written and not zeroed since).</summary>
    public int BackedFrames => frames.Count(f => f is not null);

    public bool Contains(ulong address, ulong length = 1) =>
        length <= Size && address <= Size - length;

    public ulong ReadU64(ulong address)
    {
        CheckWord(address);
        byte[]? frame = frames[address / Layout.PageSize];
        return frame is null ? 0 : BinaryPrimitives.ReadUInt64LittleEndian(frame.AsSpan((int)(address & (Layout.PageSize - 1))));
    }

    public void WriteU64(ulong address, ulong value)
    {
        CheckWord(address);
        byte[] frame = Backing(address);
        MarkWritten(address);
        BinaryPrimitives.WriteUInt64LittleEndian(frame.AsSpan((int)(address & (Layout.PageSize - 1))), value);
    }

    public void Read(ulong address, Span<byte> destination)
    {
        CheckRange(address, (ulong)destination.Length);
        while (!destination.IsEmpty)
        {
            int offset = (int)(address & (Layout.PageSize - 1));
            int chunk = Math.Min(destination.Length, (int)Layout.PageSize - offset);
            byte[]? frame = frames[address / Layout.PageSize];
            if (frame is null)
                destination[..chunk].Clear();
            else
                frame.AsSpan(offset, chunk).CopyTo(destination);
            destination = destination[chunk..];
            address += (ulong)chunk;
        }
    }

    public void Write(ulong address, ReadOnlySpan<byte> source)
    {
        CheckRange(address, (ulong)source.Length);
        while (!source.IsEmpty)
        {
            int offset = (int)(address & (Layout.PageSize - 1));
            int chunk = Math.Min(source.Length, (int)Layout.PageSize - offset);
            source[..chunk].CopyTo(Backing(address).AsSpan(offset, chunk));
            MarkWritten(address);
            source = source[chunk..];
            address += (ulong)chunk;
        }
    }

    /// <summary>
    /// The index of the first non-zero 64-bit word among words [<paramref name="first"/>, <paramref name="last"/>]
    /// of a frame, or -1: a page-table walk skips a run of empty entries with one vectorised search instead of
    /// reading the entries one by one. Words outside the frame are an <see cref="ArgumentOutOfRangeException"/>.
    /// </summary>
    public int IndexOfNonZeroWord(ulong frameAddress, int first, int last)
    {
        if (first > last)
            throw new ArgumentOutOfRangeException(nameof(first), $"words [{first}, {last}] are an empty range");
        int found = FrameWords(frameAddress)[first..(last + 1)].IndexOfAnyExcept(0UL);
        return found < 0 ? -1 : first + found;
    }

    /// <summary>
    /// A frame as read-only 64-bit words, in place (all zeros when never written): a page-table scan reads a
    /// table's entries without a call per entry. Valid until the frame is next written or zeroed.
    /// </summary>
    public ReadOnlySpan<ulong> FrameWords(ulong frameAddress)
    {
        if (!Layout.IsPageAligned(frameAddress))
            throw new ArgumentException($"0x{frameAddress:X} is not a frame address", nameof(frameAddress));
        CheckRange(frameAddress, Layout.PageSize);
        byte[]? frame = frames[frameAddress / Layout.PageSize];
        return MemoryMarshal.Cast<byte, ulong>(frame ?? ZeroFrameBytes);
    }

    private static readonly byte[] ZeroFrameBytes = new byte[Layout.PageSize];

    /// <summary>Zeroes a whole frame by dropping its backing, which also returns the host memory.</summary>
    public void ZeroFrame(ulong frameAddress)
    {
        if (!Layout.IsPageAligned(frameAddress))
            throw new ArgumentException($"0x{frameAddress:X} is not a frame address", nameof(frameAddress));
        CheckRange(frameAddress, Layout.PageSize);
        frames[frameAddress / Layout.PageSize] = null;
        MarkWritten(frameAddress);
    }

    private byte[] Backing(ulong address)
    {
        int index = (int)(address / Layout.PageSize);
        byte[]? frame = frames[index];
        if (frame is not null && !shared[index])
            return frame;
        shared[index] = false;
        byte[] own = FramePool.Take();
        if (frame is not null)
            frame.CopyTo(own, 0);
        return frames[index] = own;
    }

    /// <summary>
    /// Ends this RAM: the frames it alone holds go back to be reused by the next RAM made on this thread (a checker
    /// makes thousands of short-lived machines, and a fresh 4 KiB array each is most of what they allocate). Any access
    /// after this is an <see cref="ObjectDisposedException"/>. Frames shared with a copy stay with the copy.
    /// </summary>
    public void Release()
    {
        if (released)
            return;
        released = true;
        for (int index = 0; index < frames.Length; index++)
        {
            if (frames[index] is { } frame && !shared[index])
                FramePool.Give(frame);
            frames[index] = null;
        }
        FrameIndexPool.Give(frames, shared, written); // the next copy of a RAM this size indexes its frames with them
        (frames, shared, written) = ([], [], []);
    }

    private bool released;

    private void CheckWord(ulong address)
    {
        if ((address & 7) != 0)
            throw new ArgumentException($"word access at 0x{address:X} is not 8-byte aligned", nameof(address));
        CheckRange(address, 8);
    }

    private void CheckRange(ulong address, ulong length)
    {
        ObjectDisposedException.ThrowIf(released, this);
        if (!Contains(address, length))
            throw new ArgumentOutOfRangeException(nameof(address), $"access 0x{address:X}+0x{length:X} lies outside RAM (0x{Size:X} bytes)");
    }
}

/// <summary>
/// The frame index and flags of RAMs that ended on this thread, for the next copies of a RAM of the same size: a checker
/// restores thousands of machines from one snapshot, and their indexes were most of what a restore allocated. The index
/// comes with no frame in it; a copy writes every dirty-log flag, and every sharing flag of a frame it backs (a frame's
/// sharing flag is read only while the frame is backed, as after a frame is zeroed).
/// </summary>
internal static class FrameIndexPool
{
    // One: a checker ends a machine and restores the next, so one index is ever waiting.
    [ThreadStatic]
    private static (byte[]?[] Frames, bool[] Shared, bool[] Written)? kept;

    public static (byte[]?[] Frames, bool[] Shared, bool[] Written) Take(int frames)
    {
        if (kept is not { } index || index.Frames.Length != frames)
            return (new byte[]?[frames], new bool[frames], new bool[frames]);
        kept = null; // one RAM's alone
        return index;
    }

    public static void Give(byte[]?[] frames, bool[] shared, bool[] written) => kept = (frames, shared, written);
}

/// <summary>Zeroed 4 KiB frames released by machines that ended on this thread, for the next ones to back their frames with.</summary>
internal static class FramePool
{
    // Enough for a few machines' worth of written frames; beyond that, frames are left to the collector.
    private const int Kept = 4096;

    [ThreadStatic]
    private static Stack<byte[]>? free;

    public static byte[] Take()
    {
        if (free is { Count: > 0 } pool)
        {
            byte[] frame = pool.Pop();
            Array.Clear(frame);
            return frame;
        }
        return new byte[Layout.PageSize];
    }

    public static void Give(byte[] frame)
    {
        free ??= new Stack<byte[]>();
        if (free.Count < Kept)
            free.Push(frame);
    }
}
