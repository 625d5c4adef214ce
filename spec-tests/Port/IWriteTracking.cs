namespace Mmspec.SpecTests.Port;

/// <summary>
/// Which frames of RAM the implementation wrote: its write set, call by call. In-process the simulated RAM keeps a
/// dirty log; behind the host, the host write-protects the machine's RAM and lists what a call wrote
/// (native/README.md, "Write sets"). The suite takes the set right before a call (what it wrote itself since is
/// dropped) and right after it: that is what the call wrote.
/// </summary>
public interface IWriteTracking
{
    /// <summary>
    /// The physical addresses of the frames written since the last call of this method, in increasing order, or
    /// null when the implementation cannot tell this time (the host lists at most 1,024 frames an answer); the log
    /// starts afresh.
    /// </summary>
    IReadOnlyList<ulong>? TakeWrittenFrames();

    /// <summary>
    /// What each call of the last batch (<see cref="IMmImplementation.FreePages"/>, <see cref="IMmImplementation.KfreeAll"/>,
    /// <see cref="IMmImplementation.MapGetAll"/>, <see cref="IMmImplementation.AllocatePagesUntilExhausted"/>) wrote, in
    /// call order, for a port that learns it call by call; then each call of the batch is judged by its own writes, as
    /// if made singly. Null when the port knows only what the whole batch wrote (<see cref="TakeWrittenFrames"/> after
    /// it). Taking it clears it.
    /// </summary>
    IReadOnlyList<IReadOnlyList<ulong>>? TakeBatchWrites() => null;
}
