using System.Runtime.InteropServices;

namespace Mmspec.Cli;

/// <summary>
/// SIGINT and SIGTERM ask a run to stop, not kill it: the property running ends after its current sequence, the
/// run prints and writes what it found, marked interrupted, disposes its machines (so no host process or RAM file
/// outlives it) and exits 128 + the signal's number, as a shell expects of a process a signal ended.
/// </summary>
public sealed class Interruption : IDisposable
{
    private readonly CancellationTokenSource requested = new();
    private readonly List<PosixSignalRegistration> registrations = [];

    /// <summary>Never requested: for in-process runs (tests), which no signal reaches. One instance serves them all.</summary>
    public static Interruption None { get; } = new();

    /// <summary>Stops on SIGINT (Ctrl-C) and SIGTERM instead of the runtime's default of ending the process at once.</summary>
    public static Interruption FromSignals()
    {
        var interruption = new Interruption();
        foreach (PosixSignal signal in new[] { PosixSignal.SIGINT, PosixSignal.SIGTERM })
            interruption.registrations.Add(PosixSignalRegistration.Create(signal, context =>
            {
                context.Cancel = true; // a second signal changes nothing: the run is already on its way out
                interruption.Request(context.Signal == PosixSignal.SIGINT ? "SIGINT" : "SIGTERM");
            }));
        return interruption;
    }

    public CancellationToken Token => requested.Token;

    /// <summary>The signal that asked the run to stop ("SIGINT"), or null.</summary>
    public string? Signal { get; private set; }

    /// <summary>130 after SIGINT, 143 after SIGTERM.</summary>
    public int ExitCode => Signal == "SIGINT" ? 128 + 2 : 128 + 15;

    public void Request(string signal)
    {
        Signal ??= signal;
        requested.Cancel();
    }

    public void Dispose()
    {
        foreach (PosixSignalRegistration registration in registrations)
            registration.Dispose();
        requested.Dispose();
    }
}
