using System.Diagnostics;
using System.Net.Sockets;

namespace Mmspec.SpecTests.Adapters.Native;

/// <summary>
/// The long-lived <c>mmspec-host</c> process of one library: it loads the library once and hands every
/// connection, one machine, to a worker process that puts the library's globals back as loaded first
/// (native/README.md, "The host protocol"), so a sequence costs neither a process start and a dlopen nor a
/// new process's page faults. Started on first use and started again if it has died.
/// </summary>
public sealed class HostServer : IDisposable
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(20);

    private readonly object gate = new();
    private readonly Queue<string> stderrTail = new();
    private Process? process;
    private string socketName = "";
    private bool disposed;

    public HostServer(string libraryPath, string hostPath)
    {
        LibraryPath = libraryPath;
        HostPath = hostPath;
    }

    public string LibraryPath { get; }

    public string HostPath { get; }

    /// <summary>A connection to a new machine; its first bytes are the server's greeting.</summary>
    public Socket Connect()
    {
        for (int attempt = 0; ; attempt++)
        {
            string name = EnsureRunning();
            var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
            try
            {
                socket.Connect(new UnixDomainSocketEndPoint("\0" + name));
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
        Process started = Process.Start(start) ?? throw new InvalidOperationException($"could not start {HostPath}");
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

    /// <summary>Stops the server; its machines die with it (they are killed when their parent dies).</summary>
    public void Dispose()
    {
        Process? stopping;
        lock (gate)
        {
            if (disposed)
                return;
            disposed = true;
            stopping = process;
            process = null;
        }
        if (stopping is null)
            return;
        Kill(stopping);
        _ = Task.Run(() =>
        {
            stopping.WaitForExit(2000);
            stopping.Dispose();
        });
    }
}
