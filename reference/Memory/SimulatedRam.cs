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
    private readonly byte[]?[] frames;

    // The dirty log: a flag per frame and the frames flagged, so that taking it costs what was written, not the RAM size.
    private readonly bool[] written;
    private readonly List<int> writtenFrames = [];

    public SimulatedRam(ulong size = Layout.DefaultRamSize)
    {
        if (size == 0 || !Layout.IsPageAligned(size) || size > Layout.MaxRamSize)
            throw new ArgumentOutOfRangeException(nameof(size), $"RAM size 0x{size:X} must be a non-zero multiple of 4 KiB, at most 1 GiB");
        Size = size;
        frames = new byte[]?[size / Layout.PageSize];
        written = new bool[frames.Length];
    }

    private SimulatedRam(SimulatedRam original)
    {
        Size = original.Size;
        frames = Array.ConvertAll(original.frames, frame => (byte[]?)frame?.Clone());
        written = (bool[])original.written.Clone();
        writtenFrames = [.. original.writtenFrames];
    }

    /// <summary>A RAM of its own with the same contents and the same dirty log.</summary>
    public SimulatedRam Copy() => new(this);

    /// <summary>
    /// The physical addresses of the frames written (or zeroed) since the last call, in increasing order, and
    /// a fresh log: every write counts, whoever made it.
    /// </summary>
    public IReadOnlyList<ulong> TakeWrittenFrames()
    {
        if (writtenFrames.Count == 0)
            return [];
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

    private byte[] Backing(ulong address) =>
        frames[address / Layout.PageSize] ??= new byte[Layout.PageSize];

    private void CheckWord(ulong address)
    {
        if ((address & 7) != 0)
            throw new ArgumentException($"word access at 0x{address:X} is not 8-byte aligned", nameof(address));
        CheckRange(address, 8);
    }

    private void CheckRange(ulong address, ulong length)
    {
        if (!Contains(address, length))
            throw new ArgumentOutOfRangeException(nameof(address), $"access 0x{address:X}+0x{length:X} lies outside RAM (0x{Size:X} bytes)");
    }
}
