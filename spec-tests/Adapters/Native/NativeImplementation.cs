using System.Buffers.Binary;
using System.Diagnostics;
using System.Text;
using Mmspec.SpecTests.Port;

namespace Mmspec.SpecTests.Adapters.Native;

/// <summary>
/// A C implementation behind the port, running in its own <c>mmspec-host</c> process: each call is one
/// request and one response over the host's stdin/stdout; RAM is shared memory read and written in place.
/// A kernel panic through the hook surfaces as <see cref="ImplementationPanicException"/>; a crash, or no
/// reply within the per-call timeout or the sequence's budget of time spent in calls (the host is then
/// killed), as <see cref="ImplementationCrashedException"/>. The free-page counts the suite makes are batched.
/// Once the host is gone every later call throws at once. Dispose kills the host and deletes the RAM file.
/// </summary>
public sealed class NativeImplementation : IMmImplementation
{
    public const ulong KernelBase = 0xFFFFFF0000000000;

    private readonly SharedRam ram;
    private readonly Process host;
    private readonly Stream requests;
    private readonly Stream responses;
    private readonly Timer watchdog;
    private readonly TimeSpan timeout;
    private readonly TimeSpan sequenceTimeout;
    private readonly byte[] request = new byte[NativeProtocol.RequestBytes + NativeProtocol.MaxBody];
    private readonly byte[] response = new byte[NativeProtocol.ResponseBytes + NativeProtocol.MaxBody];
    private readonly Queue<string> stderrTail = new();
    private readonly object gate = new();
    private bool waiting;
    private bool hung;
    private ImplementationCrashedException? death;
    private bool disposed;
    private TimeSpan budgetLeft;

    public NativeImplementation(string libraryPath, string hostPath, ulong ramSize, TimeSpan callTimeout, TimeSpan sequenceTimeout)
    {
        timeout = callTimeout;
        this.sequenceTimeout = sequenceTimeout;
        budgetLeft = TimeSpan.MaxValue; // starting the host and mmspec_init are not the sequence's time
        LibraryPath = libraryPath;
        string folder = Directory.Exists("/dev/shm") ? "/dev/shm" : System.IO.Path.GetTempPath();
        ram = new SharedRam(System.IO.Path.Combine(folder, $"mmspec-{Environment.ProcessId}-{Guid.NewGuid():N}.ram"), ramSize);
        try
        {
            var start = new ProcessStartInfo(hostPath)
            {
                UseShellExecute = false,
                RedirectStandardInput = true,
                RedirectStandardOutput = true,
                RedirectStandardError = true,
            };
            start.ArgumentList.Add(libraryPath);
            start.ArgumentList.Add(ram.Path);
            start.ArgumentList.Add(ramSize.ToString(System.Globalization.CultureInfo.InvariantCulture));
            host = Process.Start(start) ?? throw new InvalidOperationException($"could not start {hostPath}");
        }
        catch
        {
            ram.Dispose();
            throw;
        }
        host.ErrorDataReceived += (_, line) =>
        {
            if (line.Data is null)
                return;
            lock (stderrTail)
            {
                stderrTail.Enqueue(line.Data);
                while (stderrTail.Count > 8)
                    stderrTail.Dequeue();
            }
        };
        host.BeginErrorReadLine();
        requests = host.StandardInput.BaseStream;
        responses = host.StandardOutput.BaseStream;
        watchdog = new Timer(_ => OnTimeout());
        try
        {
            (ulong version, ulong caps) = Call(NativeOp.Hello);
            if (version != NativeProtocol.Version)
                throw new InvalidOperationException($"{hostPath} speaks protocol version {version}, not {NativeProtocol.Version} (rebuild it: make -C native)");
            Capabilities = (Capabilities)(int)caps;
            budgetLeft = sequenceTimeout;
            ram.Unlink(); // the host has mapped the RAM by the time it answers
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    public string LibraryPath { get; }

    /// <summary>The host's process id (for diagnostics and tests).</summary>
    public int HostProcessId => host.Id;

    public Capabilities Capabilities { get; }

    public ulong RamSize => ram.Size;

    public IRamAccess Ram => ram;

    public ulong MM_PAGE_SIZE => 4096;

    public ulong MM_VIRTUALIZE(ulong phys) => phys + KernelBase;

    public ulong MM_PHYS(ulong virt) => virt - KernelBase;

    public ulong mm_phys_alloc_page() => Call(NativeOp.PhysAllocPage).Result;

    public ulong mm_phys_alloc_contiguous(ulong count) => Call(NativeOp.PhysAllocContiguous, count).Result;

    public void mm_phys_free_page(ulong addr) => Call(NativeOp.PhysFreePage, addr);

    public ulong kmalloc(ulong size) => Call(NativeOp.Kmalloc, size).Result;

    public void kfree(ulong ptr) => Call(NativeOp.Kfree, ptr);

    public int mm_map_single(ulong space, ulong virt, ulong phys, ulong flags) => (int)(long)Call(NativeOp.MapSingle, space, virt, phys, flags).Result;

    public ulong mm_map_get(ulong space, ulong virt, out ulong flags)
    {
        (ulong result, ulong reported) = Call(NativeOp.MapGet, space, virt, 1, 0);
        flags = reported;
        return result;
    }

    public ulong mm_map_get(ulong space, ulong virt) => Call(NativeOp.MapGet, space, virt, 0, 0).Result;

    public ulong mm_umap_single(ulong space, ulong virt, uint size) => Call(NativeOp.UmapSingle, space, virt, size).Result;

    public ulong vmfind(ulong space, ulong from, ulong to, ulong npages) => Call(NativeOp.Vmfind, space, from, to, npages).Result;

    public ulong vmalloc(ulong space, ulong from, ulong to, ulong npages, ulong flags) => Call(NativeOp.Vmalloc, space, from, to, npages, flags).Result;

    public int vmfree(ulong space, ulong addr, ulong npages) => (int)(long)Call(NativeOp.Vmfree, space, addr, npages).Result;

    public ulong CreateSpace() => Call(NativeOp.SpaceCreate).Result;

    public ulong SpaceRoot(ulong space) => Call(NativeOp.SpaceRoot, space).Result;

    public IReadOnlyList<ulong> AllocatePagesUntilExhausted(int limit)
    {
        var pages = new List<ulong>();
        while (pages.Count < limit)
        {
            int want = Math.Min(limit - pages.Count, NativeProtocol.BatchPages);
            int got = (int)Call(NativeOp.PhysAllocPages, [(ulong)want]).Result;
            for (int i = 0; i < got; i++)
                pages.Add(BinaryPrimitives.ReadUInt64LittleEndian(response.AsSpan(NativeProtocol.ResponseBytes + i * sizeof(ulong))));
            if (got < want)
                break;
        }
        return pages;
    }

    public void FreePages(IReadOnlyList<ulong> pages)
    {
        for (int done = 0; done < pages.Count; done += NativeProtocol.BatchPages)
        {
            int count = Math.Min(pages.Count - done, NativeProtocol.BatchPages);
            for (int i = 0; i < count; i++)
                BinaryPrimitives.WriteUInt64LittleEndian(request.AsSpan(NativeProtocol.RequestBytes + i * sizeof(ulong)), pages[done + i]);
            Call(NativeOp.PhysFreePages, [(ulong)count], count * sizeof(ulong));
        }
    }

    private (ulong Result, ulong Flags) Call(NativeOp op, ulong a0 = 0, ulong a1 = 0, ulong a2 = 0, ulong a3 = 0, ulong a4 = 0) =>
        Call(op, [a0, a1, a2, a3, a4]);

    /// <summary>
    /// One request (with <paramref name="bodyBytes"/> of body already in <see cref="request"/>), one response
    /// (its body left in <see cref="response"/>). Throws on a panic, a crash, a hang or a dead host.
    /// </summary>
    private (ulong Result, ulong Flags) Call(NativeOp op, ReadOnlySpan<ulong> args, int bodyBytes = 0)
    {
        ObjectDisposedException.ThrowIf(disposed, this);
        Span<ulong> a = stackalloc ulong[5];
        args.CopyTo(a);
        if (death is not null)
            throw new ImplementationCrashedException($"host is gone ({(death.Hung ? "it hung" : death.Signal ?? "it died")}); {NativeProtocol.Describe(op, a)} not run",
                death.Hung, death.Signal);
        Span<byte> r = request;
        BinaryPrimitives.WriteUInt32LittleEndian(r, (uint)op);
        BinaryPrimitives.WriteUInt32LittleEndian(r[4..], (uint)bodyBytes);
        for (int i = 0; i < a.Length; i++)
            BinaryPrimitives.WriteUInt64LittleEndian(r[(8 + 8 * i)..], a[i]);
        TimeSpan allowed = timeout < budgetLeft ? timeout : budgetLeft;
        if (allowed <= TimeSpan.Zero)
        {
            hung = true;
            throw HostDied(NativeProtocol.Describe(op, a), allowed);
        }
        lock (gate)
            waiting = true;
        long started = Stopwatch.GetTimestamp();
        watchdog.Change(allowed, Timeout.InfiniteTimeSpan);
        bool complete;
        try
        {
            requests.Write(request, 0, NativeProtocol.RequestBytes + bodyBytes);
            requests.Flush();
            complete = ReadFully(0, NativeProtocol.ResponseBytes);
            int length = complete ? (int)BinaryPrimitives.ReadUInt32LittleEndian(response.AsSpan(4)) : 0;
            complete = complete && length <= NativeProtocol.MaxBody && ReadFully(NativeProtocol.ResponseBytes, length);
        }
        catch (IOException)
        {
            complete = false;
        }
        finally
        {
            lock (gate)
                waiting = false;
            watchdog.Change(Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
            if (budgetLeft != TimeSpan.MaxValue)
                budgetLeft -= Stopwatch.GetElapsedTime(started);
        }
        if (!complete)
            throw HostDied(NativeProtocol.Describe(op, a), allowed);
        uint status = BinaryPrimitives.ReadUInt32LittleEndian(response);
        ulong result = BinaryPrimitives.ReadUInt64LittleEndian(response.AsSpan(8));
        ulong flags = BinaryPrimitives.ReadUInt64LittleEndian(response.AsSpan(16));
        switch (status)
        {
            case NativeProtocol.StatusOk:
                return (result, flags);
            case NativeProtocol.StatusPanic:
                string text = Encoding.UTF8.GetString(response, NativeProtocol.ResponseBytes,
                    Math.Min((int)BinaryPrimitives.ReadUInt32LittleEndian(response.AsSpan(4)), NativeProtocol.MaxText));
                int colon = text.IndexOf(':');
                string reason = colon > 0 ? text[..colon].Trim() : text;
                throw new ImplementationPanicException(reason, $"kernel panic ({reason}) in {NativeProtocol.Describe(op, a)}: {text}");
            default:
                throw new InvalidOperationException($"mmspec-host rejected {NativeProtocol.Describe(op, a)} (status {status}): a protocol mismatch");
        }
    }

    private bool ReadFully(int offset, int count)
    {
        while (count > 0)
        {
            int read = responses.Read(response, offset, count);
            if (read <= 0)
                return false;
            offset += read;
            count -= read;
        }
        return true;
    }

    private void OnTimeout()
    {
        lock (gate)
        {
            if (!waiting)
                return;
            hung = true;
        }
        try
        {
            host.Kill();
        }
        catch (Exception killFailed) when (killFailed is InvalidOperationException or System.ComponentModel.Win32Exception)
        {
        }
    }

    private ImplementationCrashedException HostDied(string call, TimeSpan allowed)
    {
        try
        {
            host.Kill();
        }
        catch (Exception killFailed) when (killFailed is InvalidOperationException or System.ComponentModel.Win32Exception)
        {
        }
        host.WaitForExit(2000);
        string? signal = null;
        string what;
        if (hung && allowed < timeout)
        {
            what = $"host hung: the sequence's calls used up their {sequenceTimeout.TotalSeconds:0.###} s budget by {call}";
        }
        else if (hung)
        {
            what = $"host hung: no reply within {timeout.TotalSeconds:0.###} s in {call}";
        }
        else if (host.HasExited && host.ExitCode > 128)
        {
            signal = NativeProtocol.SignalName(host.ExitCode - 128);
            what = $"host crashed: {signal} in {call}";
        }
        else
        {
            what = host.HasExited ? $"host exited with code {host.ExitCode} in {call}" : $"host closed its output in {call}";
        }
        string tail;
        lock (stderrTail)
            tail = string.Join(" | ", stderrTail);
        if (tail.Length > 0)
            what += $" (host stderr: {tail})";
        death = new ImplementationCrashedException(what, hung, signal);
        return death;
    }

    public void Dispose()
    {
        if (disposed)
            return;
        disposed = true;
        watchdog.Dispose();
        try
        {
            host.Kill();
        }
        catch (Exception killFailed) when (killFailed is InvalidOperationException or System.ComponentModel.Win32Exception)
        {
        }
        ram.Dispose();
        // Reaping the killed host is left to the thread pool: the next sequence need not wait for it.
        Process killed = host;
        _ = Task.Run(() =>
        {
            killed.WaitForExit(2000);
            killed.Dispose();
        });
    }
}
