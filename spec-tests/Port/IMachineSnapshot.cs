namespace Mmspec.SpecTests.Port;

/// <summary>
/// A machine's whole state, taken by <see cref="IMmImplementation.Snapshot"/>. Each <see cref="Restore"/> is a new
/// machine in exactly that state, sharing nothing with the others or with the machine it was taken from: to the calls
/// made on it, the same machine as the one snapshotted. Restores may be made from several threads at once. A restore
/// may decline (null) where the implementation cannot make one now (a native machine restores only in the worker that
/// keeps its data): the suite then boots a machine and sets it up as without a snapshot.
/// </summary>
public interface IMachineSnapshot
{
    IMmImplementation? Restore();
}
