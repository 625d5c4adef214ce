using System.Buffers.Binary;
using Mmspec.SpecTests.Port;

namespace Mmspec.NativeClient;

/// <summary>How the host learns what a call wrote (native/README.md, "Write sets"); HELLO asks for one.</summary>
public enum WriteTracking
{
    /// <summary>Not at all: calls carry no write sets.</summary>
    Off = 0,

    /// <summary>userfaultfd in asynchronous write-protect mode, with PAGEMAP_SCAN (Linux 6.7+).</summary>
    Uffd = 1,

    /// <summary>The RAM read-only to the implementation, each first write a recorded fault.</summary>
    Mprotect = 2,

    /// <summary>Uffd where the kernel allows it, else Mprotect: the default.</summary>
    Auto = 3,
}

/// <summary>
/// The frames a machine's answers say were written, gathered from answer to answer until the suite takes them
/// (a batch of requests, such as counting free pages, is one set).
/// </summary>
internal sealed class HostWrites : IWriteTracking
{
    /// <summary>Frames one answer lists at most (the host's WRITES_MAX); beyond, it says it cannot tell.</summary>
    public const int MaxListed = 16384;

    private readonly List<ulong> pending = [];
    private bool unknown;

    /// <summary>The mechanism the machine runs, as its answers say.</summary>
    public WriteTracking Mode { get; private set; } = WriteTracking.Off;

    /// <summary>
    /// <c>$MMSPEC_WRITE_TRACKING</c> (off, uffd, mprotect or auto) for tests and for a kernel where neither
    /// mechanism is wanted; auto when unset.
    /// </summary>
    public static WriteTracking Wanted => Environment.GetEnvironmentVariable("MMSPEC_WRITE_TRACKING") switch
    {
        null or "" or "auto" => WriteTracking.Auto,
        "off" => WriteTracking.Off,
        "uffd" => WriteTracking.Uffd,
        "mprotect" => WriteTracking.Mprotect,
        string other => throw new InvalidOperationException($"MMSPEC_WRITE_TRACKING={other}: expected off, uffd, mprotect or auto"),
    };

    /// <summary>The header's count (-1: the host cannot tell) and mode, and the offsets listed after the body.</summary>
    public void Absorb(int count, uint mode, ReadOnlySpan<byte> listed)
    {
        Mode = (WriteTracking)mode;
        if (count < 0)
        {
            unknown = true;
            return;
        }
        for (int i = 0; i < count; i++)
            pending.Add(BinaryPrimitives.ReadUInt64LittleEndian(listed[(i * sizeof(ulong))..]));
    }

    public IReadOnlyList<ulong>? TakeWrittenFrames()
    {
        ulong[]? taken = unknown ? null : pending.Distinct().Order().ToArray();
        pending.Clear();
        unknown = false;
        return taken;
    }
}
