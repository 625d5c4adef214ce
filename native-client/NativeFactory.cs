using Mmspec.SpecTests.Port;

namespace Mmspec.NativeClient;

/// <summary>
/// Fresh machines backed by a C implementation built against native/include/mmspec.h: one
/// <c>mmspec-host</c> server loads the library, and each <see cref="Create"/> has one of its worker processes
/// run a machine on shared-memory RAM of its own, so a crash, a hang or a scribble ends one machine and never
/// the suite.
/// Dispose stops the server.
/// </summary>
public sealed class NativeFactory : IImplementationFactory, IDisposable
{
    private readonly HostServer server;
    private readonly RamPool rams;

    public static readonly TimeSpan DefaultCallTimeout = TimeSpan.FromSeconds(2);

    /// <summary>Time a sequence's calls may take together: far above what a correct implementation needs (well under 1 s).</summary>
    public static readonly TimeSpan DefaultSequenceTimeout = TimeSpan.FromSeconds(30);

    /// <param name="libraryPath">The implementation's shared library.</param>
    /// <param name="hostPath">mmspec-host; by default found or built by <see cref="FindHost"/>.</param>
    /// <param name="callTimeout">How long one call may take before the machine is declared hung and killed (default 2 s).</param>
    /// <param name="sequenceTimeout">
    /// How long all the calls on one machine (one sequence) may take together (default 30 s): catches an
    /// implementation that slows down step after step without any single call reaching the call timeout.
    /// </param>
    /// <param name="writeTracking">How the host learns what each call wrote; by default <c>$MMSPEC_WRITE_TRACKING</c>, else auto.</param>
    /// <param name="spin">When a machine alone waits by spinning on the fast channel; by default <c>$MMSPEC_SPIN</c> (auto, alone or off), else auto.</param>
    public NativeFactory(string libraryPath, string? hostPath = null, TimeSpan? callTimeout = null, TimeSpan? sequenceTimeout = null,
        WriteTracking? writeTracking = null, SpinPolicy? spin = null)
    {
        Name = "native:" + libraryPath;
        LibraryPath = Path.GetFullPath(libraryPath);
        if (!File.Exists(LibraryPath))
            throw new FileNotFoundException($"native library not found: {libraryPath}", LibraryPath);
        HostPath = hostPath is null ? FindHost(LibraryPath) : Path.GetFullPath(hostPath);
        string? origin = hostPath is null && HostFromEnvironment is not null ? "MMSPEC_HOST" : null;
        HostFile.Check(HostPath, origin);
        WriteTracking = writeTracking ?? HostWrites.Wanted; // a wrong $MMSPEC_WRITE_TRACKING is a configuration error, found before any machine
        CallTimeout = callTimeout ?? DefaultCallTimeout;
        SequenceTimeout = sequenceTimeout ?? DefaultSequenceTimeout;
        rams = new RamPool();
        server = new HostServer(LibraryPath, HostPath, origin) { Spin = spin ?? SpinWanted };
    }

    public string Name { get; }

    public string LibraryPath { get; }

    public string HostPath { get; }

    public TimeSpan CallTimeout { get; }

    public TimeSpan SequenceTimeout { get; }

    /// <summary>The write tracking each machine asks its host for (it may run less: auto falls back, a kernel may refuse uffd).</summary>
    public WriteTracking WriteTracking { get; }

    /// <summary>
    /// Every file this factory makes in /dev/shm (RAM and machine logs) starts with this path, and no other
    /// factory's does: a test can tell that nothing of this factory's was left behind.
    /// </summary>
    public string ScratchPrefix => rams.Prefix;

    /// <summary>
    /// Starts the server, which loads the library: a library that cannot be loaded (not a shared object, a
    /// missing symbol) or a host that cannot serve it throws here, before any machine and without running
    /// any of the library's code but its constructors. mmspec_init runs in <see cref="Create"/>, where its
    /// panic, crash or hang is the implementation's fault like any other call's.
    /// </summary>
    /// <exception cref="InvalidOperationException">The server did not start; the message says why.</exception>
    /// <exception cref="UnusableHostException">The host file cannot be started at all.</exception>
    public void Start() => server.Start();

    /// <summary>A fresh machine: the library's globals as loaded, and zeroed RAM.</summary>
    /// <exception cref="ImplementationPanicException">mmspec_init panicked.</exception>
    /// <exception cref="ImplementationCrashedException">mmspec_init crashed, or hung past the call timeout.</exception>
    public IMmImplementation Create(ulong ramSize) => new NativeImplementation(server, rams, ramSize, CallTimeout, SequenceTimeout, WriteTracking);

    /// <summary>Stops the server and with it any machine still running; machines handed out are still their owners' to dispose.</summary>
    public void Dispose()
    {
        server.Dispose();
        rams.Dispose();
    }

    /// <summary><c>$MMSPEC_SPIN</c>: auto when unset; a wrong value is a configuration error, found before any machine.</summary>
    private static SpinPolicy SpinWanted => Environment.GetEnvironmentVariable("MMSPEC_SPIN") switch
    {
        null or "" or "auto" => SpinPolicy.Auto,
        "alone" => SpinPolicy.Alone,
        "off" => SpinPolicy.Off,
        string other => throw new InvalidOperationException($"MMSPEC_SPIN={other}: expected auto, alone or off"),
    };

    private static string? HostFromEnvironment => Environment.GetEnvironmentVariable("MMSPEC_HOST") is { Length: > 0 } named ? named : null;

    /// <summary>
    /// Where mmspec-host is for a library: $MMSPEC_HOST, beside the library, native/build/ of a repository
    /// enclosing mmspec or the working directory (a build with `make -C native`), else compiled from the sources
    /// mmspec carries into the per-user cache (<see cref="HostBuild"/>: how an installed tool gets its host).
    /// </summary>
    /// <exception cref="InvalidOperationException">No host was found and none could be compiled.</exception>
    public static string FindHost(string libraryPath)
    {
        const string HostName = HostBuild.HostName;
        if (HostFromEnvironment is { } fromEnvironment)
            return Path.GetFullPath(fromEnvironment);
        string beside = Path.Combine(Path.GetDirectoryName(Path.GetFullPath(libraryPath)) ?? ".", HostName);
        if (File.Exists(beside))
            return beside;
        foreach (string start in new[] { AppContext.BaseDirectory, Directory.GetCurrentDirectory() })
        {
            for (DirectoryInfo? folder = new(start); folder is not null; folder = folder.Parent)
            {
                string candidate = Path.Combine(folder.FullName, "native", "build", HostName);
                if (File.Exists(candidate))
                    return candidate;
            }
        }
        return HostBuild.Ensure();
    }
}
