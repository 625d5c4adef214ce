namespace Mmspec.SpecTests.Port;

/// <summary>
/// A machine's whole state, taken by <see cref="IMmImplementation.Snapshot"/>. Each <see cref="Restore"/> is a new
/// machine in exactly that state, sharing nothing with the others or with the machine it was taken from: to the calls
/// made on it, the same machine as the one snapshotted. Restores may be made from several threads at once.
/// </summary>
public interface IMachineSnapshot
{
    IMmImplementation Restore();
}
