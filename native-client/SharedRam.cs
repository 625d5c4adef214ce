using System.Buffers.Binary;
using System.IO.MemoryMappedFiles;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Mmspec.SpecTests.Port;

namespace Mmspec.NativeClient;

/// <summary>
/// The simulated RAM of a native implementation: a file in shared memory that the host process maps as
/// its RAM and this process maps too, so the suite's page-table walks and pattern checks read it
/// directly, with no round trip to the host.
/// </summary>
public sealed class SharedRam : IRamAccess, IDisposable
{
    private readonly MemoryMappedFile file;
    private readonly MemoryMappedViewAccessor view;
    private readonly nint start;
    private readonly int length;
    private bool disposed;

    // The frames written since the last Clear, by the suite here and by the machine as its answers list them, so
    // that Clear zeroes those alone (a sequence writes a few dozen frames of 8 MiB); unknown when an answer could not tell.
    private readonly ulong[] dirty;
    private bool dirtyUnknown;

    public SharedRam(string path, ulong size)
    {
        if (size == 0 || size > int.MaxValue || size % 4096 != 0)
            throw new ArgumentOutOfRangeException(nameof(size), $"RAM size {size} must be a non-zero multiple of 4 KiB below 2 GiB");
        Path = path;
        Size = size;
        long fileBytes = (long)size + FastChannel.Bytes; // the machine's fast channel lies past its RAM
        using (var stream = new FileStream(path, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.ReadWrite))
            stream.SetLength(fileBytes);
        file = MemoryMappedFile.CreateFromFile(path, FileMode.Open, null, fileBytes, MemoryMappedFileAccess.ReadWrite);
        view = file.CreateViewAccessor(0, fileBytes, MemoryMappedFileAccess.ReadWrite);
        bool added = false;
        view.SafeMemoryMappedViewHandle.DangerousAddRef(ref added);
        start = view.SafeMemoryMappedViewHandle.DangerousGetHandle() + (nint)view.PointerOffset;
        length = (int)size;
        dirty = new ulong[(size / Frame + 63) / 64];
    }

    private const ulong Frame = 4096;

    public string Path { get; }

    public ulong Size { get; }

    /// <summary>The whole RAM as bytes (valid until disposal; never outside the mapping, so never a wild access).</summary>
    private Span<byte> Bytes
    {
        get
        {
            ObjectDisposedException.ThrowIf(disposed, this);
            return MemoryMarshal.CreateSpan(ref Unsafe.AddByteOffset(ref Unsafe.NullRef<byte>(), (nuint)start), length);
        }
    }

    /// <summary>Where the file's fast channel (<see cref="FastChannel.Bytes"/> past the RAM) is mapped here.</summary>
    internal nint ChannelStart
    {
        get
        {
            ObjectDisposedException.ThrowIf(disposed, this);
            return start + length;
        }
    }

    public ulong ReadU64(ulong phys) => BinaryPrimitives.ReadUInt64LittleEndian(Bytes.Slice(Offset(phys, 8), 8));

    public void WriteU64(ulong phys, ulong value)
    {
        BinaryPrimitives.WriteUInt64LittleEndian(Bytes.Slice(Offset(phys, 8), 8), value);
        MarkDirty(phys, 8);
    }

    public void Read(ulong phys, Span<byte> destination) => Bytes.Slice(Offset(phys, destination.Length), destination.Length).CopyTo(destination);

    public void Write(ulong phys, ReadOnlySpan<byte> source)
    {
        source.CopyTo(Bytes.Slice(Offset(phys, source.Length), source.Length));
        MarkDirty(phys, source.Length);
    }

    /// <summary>
    /// What one answer of the machine says it wrote: <paramref name="count"/> frame offsets in <paramref name="listed"/>
    /// (little-endian u64s), or a negative count when it could not tell, and then the next Clear zeroes everything.
    /// </summary>
    public void WrittenByMachine(int count, ReadOnlySpan<byte> listed)
    {
        if (count < 0)
        {
            dirtyUnknown = true;
            return;
        }
        for (int i = 0; i < count; i++)
            MarkDirty(BinaryPrimitives.ReadUInt64LittleEndian(listed[(i * sizeof(ulong))..]), 1);
    }

    private void MarkDirty(ulong phys, int count)
    {
        if (count == 0)
            return;
        for (ulong frame = phys / Frame; frame <= (phys + (ulong)count - 1) / Frame && frame < (ulong)dirty.Length * 64; frame++)
            dirty[frame / 64] |= 1UL << (int)(frame % 64);
    }

    private int Offset(ulong phys, int count) =>
        phys <= Size && Size - phys >= (ulong)count
            ? (int)phys
            : throw new ArgumentOutOfRangeException(nameof(phys), $"physical 0x{phys:X} (+{count}) lies outside the {Size}-byte RAM");

    /// <summary>Zeroes the RAM for the next machine: the frames written since the last time, or all of it when that is not known.</summary>
    public void Clear()
    {
        Span<byte> bytes = Bytes;
        if (dirtyUnknown)
            bytes.Clear();
        else
            foreach (int frame in FramesWritten())
                bytes.Slice(frame * (int)Frame, (int)Frame).Clear();
        Array.Clear(dirty);
        dirtyUnknown = false;
    }

    /// <summary>The frames written since the last <see cref="Clear"/> (every frame when that is not known), in order: the only ones that may not be zero.</summary>
    public IEnumerable<int> FramesWritten()
    {
        for (int word = 0; word < dirty.Length; word++)
            for (ulong bits = dirtyUnknown ? ulong.MaxValue : dirty[word]; bits != 0; bits &= bits - 1)
            {
                int frame = word * 64 + System.Numerics.BitOperations.TrailingZeroCount(bits);
                if ((ulong)frame * Frame < Size)
                    yield return frame;
            }
    }

    public void Dispose()
    {
        if (disposed)
            return;
        disposed = true;
        view.SafeMemoryMappedViewHandle.DangerousRelease();
        view.Dispose();
        file.Dispose();
        ScratchFile.Delete(Path);
    }
}
