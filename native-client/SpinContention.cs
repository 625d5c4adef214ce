using Microsoft.Win32.SafeHandles;

namespace Mmspec.NativeClient;

/// <summary>
/// Whether spinning pays: a machine whose caller and worker spin on two cores of their own is fast only while nothing
/// else wants those cores. So <see cref="SpinPolicy.Auto"/> spins, and watches what spinning machines lose: the time
/// their two tasks waited runnable for a core (the scheduler's run delay, the second field of
/// <c>/proc/self/task/TID/schedstat</c> and <c>/proc/PID/schedstat</c>), beyond an <see cref="SpinBackoff.Allowance"/> a
/// machine, summed over a <see cref="SpinBackoff.Window"/> of spinning machines' lives. A window that lost more than a
/// third was sharing cores with someone: the next 32 machines share one core with their worker instead, twice as many
/// after each such window in a row, up to 1,024; a window that did not lose starts the count again. Measured on the
/// 2-core VM (bench/README.md's machine), `check --impl native:… --jobs 1` with 5 ms windows: quiet, windows lost 0 %
/// but for a few of 21–30 %, and 731 of 763 machines spun; beside one CPU hog, windows lost 31–78 %, and 45 of 621
/// machines spun. Passes of the default properties, interleaved, quiet: 0.75–0.93 s with 10 ms windows, 0.80–0.95 s
/// with 20 ms ones and a quarter; beside a hog 1.07–1.25 s, 1.13–1.39 s, and 1.05–1.47 s not spinning at all.
/// Where schedstat cannot be read, nothing spins.
/// </summary>
/// <remarks>
/// This replaced a look at <c>/proc/loadavg</c>'s count of runnable tasks at each machine start, which saw a moment,
/// not a machine's life: the compiler thread or the host finishing the last machine, caught by eight looks in a
/// row, stopped a quiet box from spinning for whole passes (bench runs read 7,259 and 7,741 checked steps/s where
/// spinning gave 14,800–17,300).
/// </remarks>
internal static class SpinContention
{
    /// <summary>The decision every machine of this process shares.</summary>
    public static SpinBackoff Shared { get; } = new();

    private static readonly object Gate = new();
    private static readonly Dictionary<string, SafeFileHandle> Open = [];

    /// <summary>Run delay so far of the caller's thread <paramref name="thread"/>, or null where it cannot be read.</summary>
    public static TimeSpan? OfThread(int thread) => RunDelay($"/proc/self/task/{thread}/schedstat");

    /// <summary>Run delay so far of the (single-threaded) process <paramref name="pid"/>, or null where it cannot be read.</summary>
    public static TimeSpan? OfProcess(int pid) => RunDelay($"/proc/{pid}/schedstat");

    /// <summary>
    /// One pread of a handle kept open per task (a worker serves machine after machine; the kernel writes the line
    /// anew at every read). A task that has gone fails the read, and its handle is dropped: a handle never follows a
    /// reused pid to another task.
    /// </summary>
    private static TimeSpan? RunDelay(string path)
    {
        SafeFileHandle? handle = null;
        try
        {
            lock (Gate)
            {
                if (!Open.TryGetValue(path, out handle))
                {
                    if (Open.Count >= 64)
                        Clear();
                    Open[path] = handle = File.OpenHandle(path);
                }
            }
            Span<byte> line = stackalloc byte[96];
            line = line[..RandomAccess.Read(handle, line, 0)];
            int first = line.IndexOf((byte)' ');
            if (first < 0)
                return null;
            Span<byte> rest = line[(first + 1)..];
            int second = rest.IndexOf((byte)' ');
            return second > 0 && long.TryParse(rest[..second], out long nanoseconds) ? TimeSpan.FromTicks(nanoseconds / 100) : null;
        }
        catch (Exception unreadable) when (unreadable is IOException or UnauthorizedAccessException or ObjectDisposedException)
        {
            lock (Gate)
            {
                if (handle is not null && Open.Remove(path))
                    handle.Dispose();
            }
            return null;
        }
    }

    private static void Clear()
    {
        foreach (SafeFileHandle handle in Open.Values)
            handle.Dispose();
        Open.Clear();
    }
}

/// <summary>The back-off of <see cref="SpinContention"/>: what spinning machines lost decides whether the next ones spin.</summary>
internal sealed class SpinBackoff
{
    /// <summary>Spinning machines' lives summed before a verdict.</summary>
    public static readonly TimeSpan Window = TimeSpan.FromMilliseconds(10);

    /// <summary>
    /// What a machine may lose without it counting: the host's server, which hands the machine over on the caller's
    /// core, may still be finishing when the machine starts, and a machine of one step lives about 100 µs.
    /// </summary>
    public static readonly TimeSpan Allowance = TimeSpan.FromMicroseconds(50);

    /// <summary>Contended: the two tasks together waited more than this share (one over it) of the window.</summary>
    private const int LostShareOver = 3;

    public const int FirstBackoff = 32, MaxBackoff = 1024;
    private readonly object gate = new();
    private int backoff, nextBackoff = FirstBackoff;
    private bool unwatchable;
    private TimeSpan windowLife, windowLost;

    /// <summary>Whether the machine starting now may spin; a machine that may not counts down the back-off.</summary>
    public bool MaySpin()
    {
        lock (gate)
        {
            if (unwatchable)
                return false;
            if (backoff == 0)
                return true;
            backoff--;
            return false;
        }
    }

    /// <summary>
    /// A spinning machine ended: <paramref name="lost"/> of its <paramref name="life"/> its two tasks waited for a
    /// core. Judged over a window of spinning machines, not one: a compiler thread or a kernel thread that takes a
    /// core for a few milliseconds costs one machine that much, and backing off for it would cost the next ones more.
    /// </summary>
    public void Spun(TimeSpan life, TimeSpan lost)
    {
        lock (gate)
        {
            windowLife += life;
            windowLost += lost > Allowance ? lost - Allowance : TimeSpan.Zero;
            if (windowLife < Window)
                return;
            if (windowLost.Ticks * LostShareOver > windowLife.Ticks)
            {
                backoff = nextBackoff;
                nextBackoff = Math.Min(nextBackoff * 2, MaxBackoff);
            }
            else
            {
                nextBackoff = FirstBackoff;
            }
            (windowLife, windowLost) = (TimeSpan.Zero, TimeSpan.Zero);
        }
    }

    /// <summary>A spinning machine's run delay could not be read: spinning that cannot be watched is not done again.</summary>
    public void CannotWatch()
    {
        lock (gate)
            unwatchable = true;
    }
}
