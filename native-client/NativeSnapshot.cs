using Mmspec.SpecTests.Port;

namespace Mmspec.NativeClient;

/// <summary>
/// A native machine as it stood when snapshotted: the worker that ran it keeps the library's data
/// (<see cref="NativeOp.Snapshot"/>), this side keeps the RAM's non-zero frames and the spaces' handles. A kernel holds
/// host pointers into its RAM, so a machine is restored only by that worker, on that RAM file (mapped where it was):
/// <see cref="Restore"/> declines (null) when the file is in use or the connection reaches another worker, and the
/// suite then boots a machine as before.
/// </summary>
internal sealed class NativeSnapshot : IMachineSnapshot
{
    private const int Frame = 4096;
    private readonly HostServer server;
    private readonly RamPool rams;
    private readonly ulong ramSize;
    private readonly (int Frame, byte[] Data)[] image;
    private readonly TimeSpan callTimeout, sequenceTimeout;
    private readonly WriteTracking writeTracking;

    public NativeSnapshot(HostServer server, RamPool rams, SharedRam ram, ulong id, int worker, ulong[] spaces, TimeSpan callTimeout, TimeSpan sequenceTimeout,
        WriteTracking writeTracking)
    {
        Worker = worker;
        this.server = server;
        this.rams = rams;
        ramSize = ram.Size;
        RamPath = ram.Path;
        Id = id;
        Spaces = spaces;
        this.callTimeout = callTimeout;
        this.sequenceTimeout = sequenceTimeout;
        this.writeTracking = writeTracking;
        image = NonZeroFrames(ram);
        rams.Hold(RamPath, this);
    }

    /// <summary>The process id of the worker that keeps it: a restore asks the server for that worker.</summary>
    public int Worker { get; }

    /// <summary>The worker's name for the library data it keeps.</summary>
    public ulong Id { get; }

    public string RamPath { get; }

    public ulong[] Spaces { get; }

    public IMmImplementation? Restore()
    {
        try
        {
            return new NativeImplementation(server, rams, ramSize, callTimeout, sequenceTimeout, writeTracking, this);
        }
        catch (SnapshotDeclinedException)
        {
            rams.Release(RamPath, this); // the suite forgets a snapshot that declined and takes another
            return null;
        }
    }

    /// <summary>Writes the snapshot's RAM into <paramref name="ram"/>, zeroed: the frames that were not zero.</summary>
    public void PutBack(SharedRam ram)
    {
        foreach ((int frame, byte[] data) in image)
            ram.Write((ulong)frame * Frame, data);
    }

    /// <summary>The frames that are not zero, among those the RAM knows were written since it was zeroed for this machine.</summary>
    private static (int Frame, byte[] Data)[] NonZeroFrames(SharedRam ram)
    {
        var frames = new List<(int, byte[])>();
        var data = new byte[Frame];
        foreach (int frame in ram.FramesWritten())
        {
            ram.Read((ulong)frame * Frame, data);
            if (data.AsSpan().IndexOfAnyExcept((byte)0) >= 0)
            {
                frames.Add((frame, data));
                data = new byte[Frame];
            }
        }
        return [.. frames];
    }
}

/// <summary>A snapshot that cannot be restored now (its RAM file in use, or another worker reached).</summary>
internal sealed class SnapshotDeclinedException(string why) : Exception($"the snapshot cannot be restored: {why}");
