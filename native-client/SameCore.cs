using System.Diagnostics;
using System.Runtime.InteropServices;

namespace Mmspec.NativeClient;

/// <summary>
/// Runs a machine's worker and the thread that calls it on one core. A call is a round trip with nothing to do in
/// parallel, and a wake-up across cores is dear on a VM: on the 2-core machine of bench/README.md a round trip costs
/// several times more across cores than on one (bench/round-trips/pingpong.c; native/README.md, "Round trips").
/// Each machine takes the core the fewest live machines of this process hold, so properties checked in parallel
/// spread over the cores; the server (while it hands the machine over) and the worker are pinned there, and so is
/// the thread that calls, before each request unless it already is, until the machine ends.
/// The exception is a machine that has the box to itself: a machine created while no other of this process is live
/// gets its worker a core of its own, beside the caller's, unless the last such machines lost time to other tasks
/// (<see cref="SpinContention"/>), and while no other machine is live both sides wait by spinning on the fast channel
/// (<see cref="Spins"/>, <see cref="FastChannel"/>) instead of switching.
/// <c>$MMSPEC_SAME_CORE=off</c> leaves placement to the scheduler (and never spins); <see cref="SpinPolicy"/> says
/// when to spin. A refused pin only costs speed.
/// </summary>
internal sealed class SameCore : IDisposable
{
    private static readonly bool Enabled = Environment.GetEnvironmentVariable("MMSPEC_SAME_CORE") != "off";
    private static int live; // machines of this process, on any core
    private static readonly ulong[] AllowedMask = StartMask();
    private static readonly int[] Allowed = CoresOf(AllowedMask);
    private static readonly int[] LiveOn = new int[Allowed.Length];
    private static readonly object Gate = new();
    private static readonly Dictionary<int, int> PinnedTo = []; // pid -> the core it was last pinned to

    private static readonly Dictionary<int, SameCore> Holder = []; // thread id -> the machine it is pinned for

    [ThreadStatic] private static SameCore? pinnedBy; // the fast path: the machine the current thread is pinned for

    private readonly int slot = -1;
    private readonly int workerSlot = -1; // the worker's core when it has one of its own, else the machine's
    private int follower; // the thread this machine last pinned
    private static long starts; // machines created so far: one created while this one spun stopped its spinning
    private readonly long startNumber;
    private readonly bool watched; // spinning under SpinPolicy.Auto: what it lost to other tasks decides the next machines'
    private int watchedThread, watchedWorker;
    private TimeSpan lostBefore;
    private long watchedSince;

    /// <summary>Takes the core the fewest live machines hold, and pins the calling thread there.</summary>
    public SameCore(SpinPolicy spin = SpinPolicy.Auto)
    {
        if (!Enabled || Allowed.Length < 2)
            return;
        lock (Gate)
        {
            slot = 0;
            for (int i = 1; i < Allowed.Length; i++)
                if (LiveOn[i] < LiveOn[slot])
                    slot = i;
            // The back-off counts only machines that could have spun: with another machine live, nothing spins anyway.
            bool spins = live == 0 && (spin == SpinPolicy.Alone || spin == SpinPolicy.Auto && SpinContention.Shared.MaySpin());
            workerSlot = spins ? (slot + 1) % Allowed.Length : slot;
            watched = spins && spin == SpinPolicy.Auto;
            startNumber = ++starts;
            LiveOn[slot]++;
            if (WorkerHasOwnCore)
                LiveOn[workerSlot]++;
            live++;
        }
        Follow();
    }

    /// <summary>
    /// Whether a call waits for its answer by spinning: the worker has a core of its own and no other machine is live
    /// (one that started since shares a core with someone, and spinning there would only take turns from it).
    /// </summary>
    public bool Spins => WorkerHasOwnCore && Volatile.Read(ref live) == 1;

    /// <summary>The machine's worker runs on a core of its own, beside its caller's.</summary>
    public bool WorkerHasOwnCore => workerSlot != slot;

    /// <summary>Pins a process of the host to the machine's core: the server, or the machine's <paramref name="worker"/> (to its own core if it has one).</summary>
    public void Pin(int pid, bool worker = false)
    {
        if (slot < 0 || pid <= 0)
            return;
        int core = Allowed[worker ? workerSlot : slot];
        if (worker && watched && watchedWorker == 0)
            Watch(pid);
        lock (Gate)
        {
            // Moving a process costs more than the check: a worker that served the last machine here stays here.
            if (PinnedTo.TryGetValue(pid, out int already) && already == core)
                return;
            if (PinnedTo.Count > 4096)
                PinnedTo.Clear();
            PinnedTo[pid] = core;
        }
        _ = Posix.SetAffinity(pid, OnlyCore(core));
    }

    /// <summary>Starts watching a spinning machine's two tasks once its worker is known (<see cref="SpinContention"/>).</summary>
    private void Watch(int worker)
    {
        if (LostSoFar(follower, worker) is { } lost)
            (watchedThread, watchedWorker, lostBefore, watchedSince) = (follower, worker, lost, Stopwatch.GetTimestamp());
    }

    /// <summary>The watched machine ends: tells <see cref="SpinContention"/> what it lost, if it spun alone all its life.</summary>
    private void EndWatch()
    {
        if (watchedWorker == 0 || Volatile.Read(ref starts) != startNumber || follower != watchedThread)
            return;
        if (LostSoFar(watchedThread, watchedWorker) is { } lost)
            SpinContention.Shared.Spun(Stopwatch.GetElapsedTime(watchedSince), lost - lostBefore);
    }

    /// <summary>The run delay of the caller's thread and the worker together; null, and no more spinning, where either cannot be read.</summary>
    private static TimeSpan? LostSoFar(int thread, int worker)
    {
        if (SpinContention.OfThread(thread) is { } caller && SpinContention.OfProcess(worker) is { } served)
            return caller + served;
        SpinContention.Shared.CannotWatch();
        return null;
    }

    /// <summary>Before a request: pins the calling thread to the machine's core unless it already is.</summary>
    public void Follow()
    {
        if (slot < 0 || pinnedBy == this)
            return;
        int thread = Posix.ThreadId();
        if (Posix.SetAffinity(0, OnlyCore(Allowed[slot])) != 0)
            return;
        pinnedBy = this;
        int left = 0;
        lock (Gate)
        {
            // A machine called from a new thread lets the one it pinned before go (rare: a sequence runs on one thread).
            if (follower != 0 && follower != thread && Holder.TryGetValue(follower, out var holder) && holder == this)
            {
                Holder.Remove(follower);
                left = follower;
            }
            Holder[thread] = this;
            follower = thread;
        }
        if (left != 0)
            _ = Posix.SetAffinity(left, AllowedMask);
    }

    /// <summary>
    /// The machine is over: its core is free again, and so is the thread it last pinned, unless another machine has
    /// pinned that thread since. Any thread may end a machine (a test's clean-up, a finaliser), so the thread is
    /// freed by its id, to every core the process started with.
    /// </summary>
    public void Dispose()
    {
        if (slot < 0)
            return;
        EndWatch();
        int freed = 0;
        lock (Gate)
        {
            LiveOn[slot]--;
            if (WorkerHasOwnCore)
                LiveOn[workerSlot]--;
            live--;
            if (follower != 0 && Holder.TryGetValue(follower, out var holder) && holder == this)
            {
                Holder.Remove(follower);
                freed = follower;
            }
            follower = 0;
        }
        if (pinnedBy == this)
            pinnedBy = null;
        if (freed != 0)
            _ = Posix.SetAffinity(freed, AllowedMask);
    }

    private static ulong[] OnlyCore(int core)
    {
        var mask = new ulong[Posix.MaskWords];
        mask[core / 64] = 1UL << (core % 64);
        return mask;
    }

    private static ulong[] StartMask()
    {
        var mask = new ulong[Posix.MaskWords];
        return OperatingSystem.IsLinux() && Posix.GetAffinity(0, mask) == 0 ? mask : new ulong[Posix.MaskWords];
    }

    private static int[] CoresOf(ulong[] mask)
    {
        var cores = new List<int>();
        for (int core = 0; core < mask.Length * 64; core++)
            if ((mask[core / 64] >> (core % 64) & 1) != 0)
                cores.Add(core);
        return [.. cores];
    }

    private static class Posix
    {
        public const int MaskWords = 16; // cpu_set_t: 1,024 CPUs

        public static int GetAffinity(int pid, ulong[] mask) => GetAffinity(pid, (nuint)(mask.Length * sizeof(ulong)), mask);

        public static int SetAffinity(int pid, ulong[] mask) => SetAffinity(pid, (nuint)(mask.Length * sizeof(ulong)), mask);

        [DllImport("libc", EntryPoint = "gettid")]
        public static extern int ThreadId();

        [DllImport("libc", EntryPoint = "sched_getaffinity")]
        private static extern int GetAffinity(int pid, nuint size, [Out] ulong[] mask);

        [DllImport("libc", EntryPoint = "sched_setaffinity")]
        private static extern int SetAffinity(int pid, nuint size, ulong[] mask);
    }
}

/// <summary>When a machine's worker gets a core of its own and both sides wait by spinning (<see cref="SameCore"/>).</summary>
public enum SpinPolicy
{
    /// <summary>While no other machine of the process is live, unless spinning lately lost time to other tasks (<see cref="SpinContention"/>): the default.</summary>
    Auto,

    /// <summary>While no other machine of the process is live, however busy the cores are (tests).</summary>
    Alone,

    /// <summary>Never: every machine's worker shares its caller's core, and every call goes over the socket.</summary>
    Off,
}
