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
}
