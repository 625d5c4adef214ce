using System.Buffers.Binary;
using System.Diagnostics;
using System.Net.Sockets;

namespace Mmspec.NativeClient;

/// <summary>
/// The long-lived <c>mmspec-host</c> process of one library: it loads the library once and hands every
/// connection, one machine, to a worker process that puts the library's globals back as loaded first
/// (native/README.md, "The host protocol"), so a sequence costs neither a process start and a dlopen nor a
/// new process's page faults. Started on first use and started again if it has died.
/// </summary>
public sealed class HostServer : IDisposable
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(20);

    /// <summary>How long a server stopped by closing its stdin may take to kill its workers' process groups and exit.</summary>
    private static readonly TimeSpan StopTimeout = TimeSpan.FromSeconds(2);

    private readonly object gate = new();
    private readonly Queue<string> stderrTail = new();
    private Process? process;
    private string socketName = "";
    private bool disposed;

    private readonly string? hostOrigin;

    /// <param name="hostOrigin">Where <paramref name="hostPath"/> came from ("MMSPEC_HOST"), for the message when it cannot be started.</param>
    public HostServer(string libraryPath, string hostPath, string? hostOrigin = null)
    {
        LibraryPath = libraryPath;
        HostPath = hostPath;
        this.hostOrigin = hostOrigin;
    }

    public string LibraryPath { get; }

    /// <summary>When this server's machines wait by spinning on the fast channel (<see cref="SameCore"/>); auto by default.</summary>
    public SpinPolicy Spin { get; init; } = SpinPolicy.Auto;

    public string HostPath { get; }

    // The worker each thread's last machine ran on, asked for again by its next one: a thread keeps to one worker, where
    // its set-up snapshots are, and two threads checking at once do not take each other's (a worker serves one machine).
    private readonly ThreadLocal<int> home = new();

    /// <summary>The worker a machine of this thread was given (the greeting's pid): its next machine asks for it too.</summary>
    public void CameTo(int worker) => home.Value = worker;

    /// <summary>
    /// A connection to a new machine, asking for the worker <paramref name="wanted"/> (a snapshot's; 0: this thread's
    /// last, see <see cref="CameTo"/>), which the server gives when it is idle, else the one idle last; its first bytes
    /// from the server are the greeting.
    /// </summary>
    public Socket Connect(int wanted = 0)
    {
        if (wanted == 0)
            wanted = home.Value;
        for (int attempt = 0; ; attempt++)
        {
            string name = EnsureRunning();
            var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
            try
            {
                socket.Connect(new UnixDomainSocketEndPoint("\0" + name));
                Span<byte> ask = stackalloc byte[4];
                BinaryPrimitives.WriteUInt32LittleEndian(ask, (uint)wanted);
                socket.Send(ask);
                return socket;
            }
            catch (SocketException) when (attempt == 0 && HasDied())
            {
                socket.Dispose(); // the server died since the last machine: start a new one, once
            }
            catch
            {
                socket.Dispose();
                throw;
            }
        }
    }

    /// <summary>Starts the server now if it is not running: it loads the library, so this is how a library that cannot be loaded is found.</summary>
    /// <exception cref="InvalidOperationException">The server did not start; the message says why (its stderr).</exception>
    /// <exception cref="UnusableHostException">The host file could not be started at all.</exception>
    public void Start() => EnsureRunning();

    /// <summary>The server's pid while it runs, else 0.</summary>
    public int ProcessId
    {
        get
        {
            lock (gate)
                return process is { HasExited: false } running ? running.Id : 0;
        }
    }

    private bool HasDied()
    {
        lock (gate)
            return process is null || process.HasExited;
    }

    private string EnsureRunning()
    {
        lock (gate)
        {
            ObjectDisposedException.ThrowIf(disposed, this);
            if (process is { HasExited: false })
                return socketName;
            process?.Dispose();
            process = null;
            socketName = $"mmspec-{Environment.ProcessId}-{Guid.NewGuid():N}";
            process = Start(socketName);
            return socketName;
        }
    }

    private Process Start(string name)
    {
        var start = new ProcessStartInfo(HostPath)
        {
            UseShellExecute = false,
            RedirectStandardInput = true, // the server exits, killing its machines, when this end closes
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        start.ArgumentList.Add(LibraryPath);
        start.ArgumentList.Add(name);
        Process started;
        try
        {
            started = Process.Start(start) ?? throw new InvalidOperationException($"could not start {HostPath}");
        }
        catch (System.ComponentModel.Win32Exception refused)
        {
            // execve failed: checked for before, but e.g. a text file with the execute bit passes that check.
            throw HostFile.CannotStart(HostPath, hostOrigin, refused.Message);
        }
        started.ErrorDataReceived += (_, line) =>
        {
            if (line.Data is null)
                return;
            lock (stderrTail)
            {
                stderrTail.Enqueue(ForeignText.Printable(line.Data));
                while (stderrTail.Count > 8)
                    stderrTail.Dequeue();
            }
        };
        started.BeginErrorReadLine();
        Task<string?> ready = started.StandardOutput.ReadLineAsync();
        string? line = ready.Wait(StartTimeout) ? ready.Result : null;
        string expected = $"mmspec-host {NativeProtocol.Version}";
        if (line == expected)
            return started;
        Kill(started);
        started.WaitForExit(); // also waits for stderr to be read to its end
        string why = line is null ? Tail() : $"it speaks \"{line}\", not \"{expected}\" (rebuild it: make -C native)";
        if (why.Length == 0)
            why = started.HasExited ? $"it exited with code {started.ExitCode} (rebuild it: make -C native)" : "it did not start in time";
        started.Dispose();
        throw new InvalidOperationException($"{HostPath} could not serve {LibraryPath}: {why}");
    }

    private string Tail()
    {
        lock (stderrTail)
            return string.Join(" | ", stderrTail);
    }

    private static void Kill(Process target)
    {
        try
        {
            target.Kill();
        }
        catch (Exception killFailed) when (killFailed is InvalidOperationException or System.ComponentModel.Win32Exception)
        {
        }
    }

    /// <summary>
    /// Stops the server: closing its stdin makes it kill every worker's process group (the machines and whatever
    /// they forked) and exit; a server that does not is killed, and its workers then kill their own groups
    /// (they get a signal when their parent dies).
    /// </summary>
    public void Dispose()
    {
        Process? stopping;
        lock (gate)
        {
            if (disposed)
                return;
            disposed = true;
            home.Dispose();
            stopping = process;
            process = null;
        }
        if (stopping is null)
            return;
        try
        {
            stopping.StandardInput.Close();
        }
        catch (IOException)
        {
            // already gone: the pipe is broken
        }
        if (!stopping.WaitForExit(StopTimeout))
            Kill(stopping);
        stopping.Dispose();
    }
}
