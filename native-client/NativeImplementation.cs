using System.Buffers.Binary;
using System.Diagnostics;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Text;
using Mmspec.SpecTests.Port;

namespace Mmspec.NativeClient;

/// <summary>
/// A C implementation behind the port: one machine, run by a worker process of the library's
/// <see cref="HostServer"/> and reached over its own connection; each call is one request and one response, and
/// RAM is shared memory read and written in place. A kernel panic through the hook surfaces as
/// <see cref="ImplementationPanicException"/>; a crash, or no reply within the per-call timeout or the
/// sequence's budget of time spent in calls (the machine is then killed), as
/// <see cref="ImplementationCrashedException"/>. The free-page counts the suite makes are batched. Once the
/// machine is gone every later call throws at once. Dispose ends the machine and gives its RAM back to the pool.
/// </summary>
public sealed class NativeImplementation : IMmImplementation, IRamAccess
{
    public const ulong KernelBase = 0xFFFFFF0000000000;

    private const int GreetingBytes = 8;
    private static readonly TimeSpan GreetingTimeout = TimeSpan.FromSeconds(20);
    private static readonly TimeSpan EndTimeout = TimeSpan.FromSeconds(2);

    private readonly RamPool rams;
    private readonly SharedRam ram;
    private readonly MachineLog log;
    private readonly Socket connection;
    private readonly Timer watchdog;
    private readonly TimeSpan timeout;
    private readonly TimeSpan sequenceTimeout;
    private readonly byte[] request = new byte[NativeProtocol.RequestBytes + NativeProtocol.MaxBody];
    // Room for the longest body and a typical list of written frames; grown for an answer listing more (a vmalloc of
    // thousands of zeroed pages), so that a machine does not start with the 128 KiB the longest list needs.
    private byte[] response = new byte[NativeProtocol.ResponseBytes + NativeProtocol.MaxBody + 1024 * sizeof(ulong)];
    private readonly HostWrites writes = new();
    private readonly object gate = new();
    private bool waiting;
    private bool hung;
    private bool endedStatusSeen;
    private ImplementationCrashedException? death;
    private bool disposed;
    private TimeSpan budgetLeft;
    private ulong workerRam;
    private readonly List<ulong> spaces = [];

    /// <summary>
    /// A fresh machine from <paramref name="server"/> on zeroed RAM of <paramref name="ramSize"/> bytes
    /// from <paramref name="rams"/>, which gets the RAM back once the machine is over.
    /// </summary>
    public NativeImplementation(HostServer server, RamPool rams, ulong ramSize, TimeSpan callTimeout, TimeSpan sequenceTimeout,
        WriteTracking writeTracking = WriteTracking.Auto)
        : this(server, rams, ramSize, callTimeout, sequenceTimeout, writeTracking, null)
    {
    }

    /// <summary>A machine restored from <paramref name="from"/>; throws <see cref="SnapshotDeclinedException"/> when it cannot be.</summary>
    internal NativeImplementation(HostServer server, RamPool rams, ulong ramSize, TimeSpan callTimeout, TimeSpan sequenceTimeout,
        WriteTracking writeTracking, NativeSnapshot? from)
    {
        timeout = callTimeout;
        this.sequenceTimeout = sequenceTimeout;
        budgetLeft = TimeSpan.MaxValue; // mmspec_init is not the sequence's time
        LibraryPath = server.LibraryPath;
        this.rams = rams;
        this.server = server;
        this.writeTracking = writeTracking;
        ram = from is null ? rams.Rent(ramSize) : rams.RentExact(from.RamPath, ramSize) ?? throw new SnapshotDeclinedException("its RAM file is in use");
        from?.PutBack(ram);
        channel = new FastChannel(ram.ChannelStart);
        channel.Reset();
        try
        {
            log = new MachineLog(System.IO.Path.ChangeExtension(ram.Path, $"{Guid.NewGuid():N}.log"));
            core = new SameCore(server.Spin);
            server.Start();
            core.Pin(server.ProcessId);
            connection = server.Connect(from?.Worker ?? 0);
        }
        catch
        {
            log?.Dispose();
            core?.Dispose();
            rams.Return(ram); // no machine has seen it
            throw;
        }
        watchdog = new Timer(_ => OnTimeout());
        try
        {
            HostProcessId = Greet(server.HostPath); // checks the protocol version; the worker is the same program
            server.CameTo(HostProcessId);
            core.Pin(HostProcessId, worker: true);
            workerRam = Call(NativeOp.Hello, [ramSize, (ulong)writeTracking, from?.Id ?? 0], WriteHelloBody()).Flags; // where the worker maps the RAM
            if (from is not null)
            {
                if (BinaryPrimitives.ReadUInt64LittleEndian(response.AsSpan(NativeProtocol.ResponseBytes)) != 1)
                    throw new SnapshotDeclinedException($"worker {HostProcessId} does not hold it");
                spaces.AddRange(from.Spaces);
            }
            writes.TakeWrittenFrames(); // what mmspec_init wrote is the boot state's, not a call's
            budgetLeft = sequenceTimeout;
            log.Unlink(); // the machine has opened it by the time it answers
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    private readonly HostServer server;
    private readonly WriteTracking writeTracking;
    private readonly FastChannel channel;
    private SameCore? core;

    /// <summary>
    /// The machine as it stands: the worker keeps the library's data (<see cref="NativeOp.Snapshot"/>), this side the RAM's
    /// written frames. A restore needs the same worker and the same RAM file, idle (see <see cref="NativeSnapshot"/>).
    /// Null where it cannot be taken, and with <c>$MMSPEC_SNAPSHOTS=off</c>, for a kernel whose state is not all in its
    /// globals and its RAM (native/README.md, "Set-up snapshots").
    /// </summary>
    public IMachineSnapshot? Snapshot()
    {
        if (disposed || death is not null || Environment.GetEnvironmentVariable("MMSPEC_SNAPSHOTS") == "off")
            return null;
        ulong id;
        try
        {
            id = Call(NativeOp.Snapshot).Result;
        }
        catch (InvalidOperationException)
        {
            return null; // the worker cannot (its memory, a machine whose init panicked)
        }
        return new NativeSnapshot(server, rams, ram, id, HostProcessId, [.. spaces], timeout, sequenceTimeout, writeTracking);
    }

    /// <summary>Reads the server's greeting: its protocol version and the pid of the worker that runs the machine.</summary>
    private int Greet(string hostPath)
    {
        connection.ReceiveTimeout = (int)GreetingTimeout.TotalMilliseconds;
        bool complete = ReadFully(0, GreetingBytes);
        connection.ReceiveTimeout = 0;
        if (!complete)
            throw new InvalidOperationException($"{hostPath} did not greet a new machine (rebuild it: make -C native)");
        uint version = BinaryPrimitives.ReadUInt32LittleEndian(response);
        int pid = (int)BinaryPrimitives.ReadUInt32LittleEndian(response.AsSpan(4));
        if (version != NativeProtocol.Version)
            throw new InvalidOperationException($"{hostPath} speaks protocol version {version}, not {NativeProtocol.Version} (rebuild it: make -C native)");
        if (pid == 0)
            throw new InvalidOperationException($"{hostPath} has no worker for another machine");
        return pid;
    }

    /// <summary>HELLO's body: the RAM file's path and the log's, each NUL-terminated, padded to whole u64s.</summary>
    private int WriteHelloBody()
    {
        byte[] paths = Encoding.UTF8.GetBytes(ram.Path + "\0" + log.Path + "\0");
        int length = (paths.Length + 7) / 8 * 8;
        if (length > NativeProtocol.MaxBody)
            throw new InvalidOperationException($"the machine's file names are too long: {ram.Path}");
        Array.Clear(request, NativeProtocol.RequestBytes, length);
        paths.CopyTo(request, NativeProtocol.RequestBytes);
        return length;
    }

    public string LibraryPath { get; }

    /// <summary>The process id of the worker running the machine (for diagnostics and tests).</summary>
    public int HostProcessId { get; }

    public ulong RamSize => ram.Size;

    /// <summary>Whether the machine's worker has a core of its own beside the caller's (<see cref="SameCore"/>; for diagnostics and tests).</summary>
    public bool WorkerHasOwnCore => core?.WorkerHasOwnCore == true;

    /// <summary>Whether a call now waits for its answer by spinning on the fast channel (<see cref="FastChannel"/>).</summary>
    public bool Spins => core?.Spins == true;

    /// <summary>The answers that came through the fast channel rather than the socket (for diagnostics and tests).</summary>
    public int ChannelledAnswers { get; private set; }

    /// <summary>The size of the machine's log (its stdout and stderr) now, in bytes (for diagnostics and tests).</summary>
    public long LogBytes => log.Length;

    /// <summary>This machine's RAM; the file outlives the machine (it is reused), so every access checks the machine is still there.</summary>
    public IRamAccess Ram => this;

    /// <summary>The frames each call wrote, as the host saw them; null when the host runs no write tracking.</summary>
    public IWriteTracking? Writes => writes.Mode == WriteTracking.Off ? null : writes;

    /// <summary>The mechanism the host runs for this machine (auto resolved; off where none could be set up).</summary>
    public WriteTracking WriteTracking => writes.Mode;

    private SharedRam LiveRam
    {
        get
        {
            ObjectDisposedException.ThrowIf(disposed, this);
            return ram;
        }
    }

    ulong IRamAccess.ReadU64(ulong phys) => LiveRam.ReadU64(phys);

    void IRamAccess.WriteU64(ulong phys, ulong value) => LiveRam.WriteU64(phys, value);

    void IRamAccess.Read(ulong phys, Span<byte> destination) => LiveRam.Read(phys, destination);

    void IRamAccess.Write(ulong phys, ReadOnlySpan<byte> source) => LiveRam.Write(phys, source);

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

    public ulong CreateSpace()
    {
        ulong space = Call(NativeOp.SpaceCreate).Result;
        if (space != ulong.MaxValue)
            spaces.Add(space);
        return space;
    }

    /// <summary>A call as messages show it: space handles by name, since a handle may be a host pointer.</summary>
    private string Describe(NativeOp op, ReadOnlySpan<ulong> a) => NativeProtocol.Describe(op, a, SpaceName);

    private string? SpaceName(ulong handle) => spaces.IndexOf(handle) is int index and >= 0 ? $"space{index}" : null;

    /// <summary>Text from the implementation, printable and without what changes from run to run (see <see cref="ForeignText"/>).</summary>
    private string Foreign(string text) => ForeignText.Normalised(text, workerRam, ram.Size, spaces);

    public ulong SpaceRoot(ulong space) => Call(NativeOp.SpaceRoot, space).Result;

    public IReadOnlyList<ulong> AllocatePagesUntilExhausted(int limit) => UntilFailure(NativeOp.PhysAllocPages, limit);

    public IReadOnlyList<ulong> KmallocUntilNull(ulong size, int count) => UntilFailure(NativeOp.Kmallocs, count, size);

    /// <summary>
    /// A batch that repeats one call until it fails or <paramref name="limit"/> results came (<see cref="NativeOp.PhysAllocPages"/>,
    /// <see cref="NativeOp.Kmallocs"/>), in requests of at most <see cref="NativeProtocol.BatchPages"/>; <paramref name="argument"/> is the call's.
    /// </summary>
    private List<ulong> UntilFailure(NativeOp op, int limit, ulong argument = 0)
    {
        var results = new List<ulong>(Math.Min(limit, 1 << 16));
        while (results.Count < limit)
        {
            int want = Math.Min(limit - results.Count, NativeProtocol.BatchPages);
            int got = (int)Call(op, [(ulong)want, argument]).Result;
            for (int i = 0; i < got; i++)
                results.Add(BinaryPrimitives.ReadUInt64LittleEndian(response.AsSpan(NativeProtocol.ResponseBytes + i * sizeof(ulong))));
            if (got < want)
                break;
        }
        return results;
    }

    public void FreePages(IReadOnlyList<ulong> pages) => EachInBatches(NativeOp.PhysFreePages, pages);

    public void KfreeAll(IReadOnlyList<ulong> pointers) => EachInBatches(NativeOp.Kfrees, pointers);

    public void MapGetAll(IReadOnlyList<(ulong Space, ulong Virt)> queries, List<(ulong Result, ulong Flags)> answers)
    {
        for (int done = 0; done < queries.Count; done += NativeProtocol.MapGetsMax)
        {
            int count = Math.Min(queries.Count - done, NativeProtocol.MapGetsMax);
            for (int i = 0; i < count; i++)
            {
                BinaryPrimitives.WriteUInt64LittleEndian(request.AsSpan(NativeProtocol.RequestBytes + 16 * i), queries[done + i].Space);
                BinaryPrimitives.WriteUInt64LittleEndian(request.AsSpan(NativeProtocol.RequestBytes + 16 * i + 8), queries[done + i].Virt);
            }
            int answered = 0; // a crash leaves no answer
            try
            {
                Call(NativeOp.MapGets, [(ulong)count], 16 * count);
                answered = count;
            }
            catch (ImplementationPanicException)
            {
                answered = (int)BinaryPrimitives.ReadUInt64LittleEndian(response.AsSpan(8)); // those before the panic
                throw;
            }
            finally
            {
                for (int i = 0; i < answered; i++)
                    answers.Add((BinaryPrimitives.ReadUInt64LittleEndian(response.AsSpan(NativeProtocol.ResponseBytes + 16 * i)),
                                 BinaryPrimitives.ReadUInt64LittleEndian(response.AsSpan(NativeProtocol.ResponseBytes + 16 * i + 8))));
            }
        }
    }

    /// <summary>One call per value, as few requests as the body allows (<see cref="NativeProtocol.BatchPages"/> values each).</summary>
    private void EachInBatches(NativeOp op, IReadOnlyList<ulong> values)
    {
        for (int done = 0; done < values.Count; done += NativeProtocol.BatchPages)
        {
            int count = Math.Min(values.Count - done, NativeProtocol.BatchPages);
            for (int i = 0; i < count; i++)
                BinaryPrimitives.WriteUInt64LittleEndian(request.AsSpan(NativeProtocol.RequestBytes + i * sizeof(ulong)), values[done + i]);
            Call(op, [(ulong)count], count * sizeof(ulong));
        }
    }

    private (ulong Result, ulong Flags) Call(NativeOp op, ulong a0 = 0, ulong a1 = 0, ulong a2 = 0, ulong a3 = 0, ulong a4 = 0) =>
        Call(op, [a0, a1, a2, a3, a4]);

    /// <summary>
    /// One request (with <paramref name="bodyBytes"/> of body already in <see cref="request"/>), one response
    /// (its body left in <see cref="response"/>). Throws on a panic, a crash, a hang or a dead machine.
    /// </summary>
    private (ulong Result, ulong Flags) Call(NativeOp op, ReadOnlySpan<ulong> args, int bodyBytes = 0)
    {
        ObjectDisposedException.ThrowIf(disposed, this);
        Span<ulong> a = stackalloc ulong[5];
        args.CopyTo(a);
        if (death is not null)
            throw new ImplementationCrashedException($"host is gone ({(death.Hung ? "it hung" : death.Signal ?? "it died")}); {Describe(op, a)} not run",
                death.Hung, death.Signal);
        PutRequest(op, a, bodyBytes);
        TimeSpan allowed = timeout < budgetLeft ? timeout : budgetLeft;
        if (allowed <= TimeSpan.Zero)
        {
            hung = true;
            throw HostDied(Describe(op, a), allowed, waitStatus: null);
        }
        lock (gate)
            waiting = true;
        long started = Stopwatch.GetTimestamp();
        watchdog.Change(allowed, Timeout.InfiniteTimeSpan);
        core?.Follow();
        bool spinning = core?.Spins == true;
        bool complete;
        try
        {
            if (spinning)
                channel.WillSpin();
            try
            {
                if (!channel.TrySend(request.AsSpan(0, NativeProtocol.RequestBytes + bodyBytes)))
                    SendFully(NativeProtocol.RequestBytes + bodyBytes);
            }
            catch (SocketException)
            {
                // The machine ended between two calls (its worker was killed, say) and the server has closed the
                // connection: the last answer it left there says how, so it is read rather than lost.
            }
            bool channelled = spinning && channel.TryReceive(ref response, NativeProtocol.ResponseBytes);
            if (channelled)
                ChannelledAnswers++;
            complete = channelled || ReadFully(0, NativeProtocol.ResponseBytes);
            int length = complete ? (int)BinaryPrimitives.ReadUInt32LittleEndian(response.AsSpan(4)) : 0;
            int written = complete ? BinaryPrimitives.ReadInt32LittleEndian(response.AsSpan(24)) : 0;
            complete = complete && length <= NativeProtocol.MaxBody && written <= HostWrites.MaxListed;
            int rest = length + Math.Max(written, 0) * sizeof(ulong);
            if (complete && NativeProtocol.ResponseBytes + rest > response.Length)
                Array.Resize(ref response, NativeProtocol.ResponseBytes + rest);
            complete = complete && (channelled || ReadFully(NativeProtocol.ResponseBytes, rest));
            if (complete)
            {
                uint mode = BinaryPrimitives.ReadUInt32LittleEndian(response.AsSpan(28));
                ReadOnlySpan<byte> listed = response.AsSpan(NativeProtocol.ResponseBytes + length);
                writes.Absorb(written, mode, listed);
                ram.WrittenByMachine((WriteTracking)mode == WriteTracking.Off ? -1 : written, listed);
            }
        }
        catch (Exception lost) when (lost is SocketException or ObjectDisposedException)
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
            throw HostDied(Describe(op, a), allowed, waitStatus: null);
        uint status = BinaryPrimitives.ReadUInt32LittleEndian(response);
        ulong result = BinaryPrimitives.ReadUInt64LittleEndian(response.AsSpan(8));
        ulong flags = BinaryPrimitives.ReadUInt64LittleEndian(response.AsSpan(16));
        switch (status)
        {
            case NativeProtocol.StatusOk:
                return (result, flags);
            case NativeProtocol.StatusPanic:
                // A batch of lookups puts the answers before the panic ahead of the text (see NativeOp.MapGets).
                int answers = op == NativeOp.MapGets ? 16 * (int)Math.Min(result, (ulong)NativeProtocol.MapGetsMax) : 0;
                string text = Foreign(ForeignText.Printable(Encoding.UTF8.GetString(response, NativeProtocol.ResponseBytes + answers,
                    Math.Clamp((int)BinaryPrimitives.ReadUInt32LittleEndian(response.AsSpan(4)) - answers, 0, NativeProtocol.MaxText))));
                int colon = text.IndexOf(':');
                string reason = colon > 0 ? text[..colon].Trim() : text;
                throw new ImplementationPanicException(reason, $"kernel panic ({reason}) in {Describe(op, a)}: {text}");
            case NativeProtocol.StatusEnded:
                endedStatusSeen = true;
                throw HostDied(Describe(op, a), allowed, waitStatus: (int)result);
            default:
                throw new InvalidOperationException($"mmspec-host rejected {Describe(op, a)} (status {status}): a protocol mismatch");
        }
    }

    /// <summary>A request's 48 bytes into <see cref="request"/>, ahead of the <paramref name="bodyBytes"/> of body already there.</summary>
    private void PutRequest(NativeOp op, ReadOnlySpan<ulong> args, int bodyBytes = 0)
    {
        Span<byte> r = request;
        BinaryPrimitives.WriteUInt32LittleEndian(r, (uint)op);
        BinaryPrimitives.WriteUInt32LittleEndian(r[4..], (uint)bodyBytes);
        for (int i = 0; i < 5; i++)
            BinaryPrimitives.WriteUInt64LittleEndian(r[(8 + 8 * i)..], i < args.Length ? args[i] : 0);
    }

    private void SendFully(int count)
    {
        for (int sent = 0; sent < count;)
            sent += connection.Send(request, sent, count - sent, SocketFlags.None);
    }

    private bool ReadFully(int offset, int count)
    {
        while (count > 0)
        {
            int read = connection.Receive(response, offset, count, SocketFlags.None);
            if (read <= 0)
                return false;
            offset += read;
            count -= read;
        }
        return true;
    }

    /// <summary>The watchdog: kills a machine that has not answered in time, and unblocks the read waiting for it.</summary>
    private void OnTimeout()
    {
        lock (gate)
        {
            if (!waiting)
                return;
            hung = true;
        }
        _ = Posix.Kill(HostProcessId, Posix.SigKill);
        try
        {
            connection.Shutdown(SocketShutdown.Both);
        }
        catch (Exception gone) when (gone is SocketException or ObjectDisposedException)
        {
        }
    }

    /// <param name="waitStatus">How the machine ended, as the server's waitpid saw it; null when that is not known.</param>
    private ImplementationCrashedException HostDied(string call, TimeSpan allowed, int? waitStatus)
    {
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
        else if (waitStatus is { } ended && (ended & 0x7F) != 0)
        {
            signal = NativeProtocol.SignalName(ended & 0x7F);
            what = $"host crashed: {signal} in {call}";
        }
        else if (waitStatus is { } exited)
        {
            what = $"host exited with code {(exited >> 8) & 0xFF} in {call}";
        }
        else
        {
            what = $"host closed its connection in {call}";
        }
        string tail = Foreign(log.Tail());
        if (tail.Length > 0)
            what += $" (host stderr: {tail})";
        death = new ImplementationCrashedException(what, hung, signal);
        return death;
    }

    /// <summary>
    /// Closing the connection ends the machine: the worker reads end of file and finishes it, and the server
    /// reports that it has (a few context switches: waiting for it means the next machine finds the worker and
    /// the RAM ready rather than forking and faulting anew). Only then does the RAM go back to the pool; the RAM
    /// of a machine that does not end is deleted.
    /// </summary>
    public void Dispose()
    {
        if (disposed)
            return;
        disposed = true;
        watchdog.Dispose();
        core?.Dispose();
        log.Dispose();
        bool over = endedStatusSeen || death is null && EndMachine();
        connection.Dispose();
        if (over)
            rams.Return(ram);
        else
            ram.Dispose();
    }

    /// <summary>Ends a machine that is waiting for a request; true once the server has reported it gone.</summary>
    private bool EndMachine()
    {
        try
        {
            // A worker spinning for the next request would see the end of the socket only once it stops spinning.
            PutRequest(NativeOp.Exit, []);
            channel.TrySend(request.AsSpan(0, NativeProtocol.RequestBytes));
            connection.Shutdown(SocketShutdown.Send);
            connection.ReceiveTimeout = (int)EndTimeout.TotalMilliseconds;
            while (ReadFully(0, NativeProtocol.ResponseBytes))
            {
                if (BinaryPrimitives.ReadUInt32LittleEndian(response) == NativeProtocol.StatusEnded)
                    return true;
            }
        }
        catch (SocketException)
        {
        }
        _ = Posix.Kill(HostProcessId, Posix.SigKill); // did not end in time: make sure, and do not reuse its RAM
        return false;
    }

    private static class Posix
    {
        public const int SigKill = 9;

        /// <summary>kill(2), for a worker's own pid only: never 0 or negative, which would signal whole process groups.</summary>
        public static int Kill(int pid, int signal) => pid > 0 ? SendSignal(pid, signal) : -1;

        [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
        private static extern int SendSignal(int pid, int signal);
    }
}
