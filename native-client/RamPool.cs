namespace Mmspec.NativeClient;

/// <summary>
/// The RAM files of one factory's machines, reused from one machine to the next (zeroed in between). A new
/// mapping costs a page fault per page on first touch, on both sides, and on a virtual machine a fault costs
/// microseconds: a sequence touches hundreds of pages, so reusing the file and its mappings (this process's and
/// the host workers') saves more than all of the sequence's round trips cost. A RAM goes back to the pool only once
/// its machine is known to be over (the server says so), so nothing else can write into it.
/// </summary>
public sealed class RamPool : IDisposable
{
    private readonly object gate = new();
    /// <summary>Sequences run on five RAM sizes (see SequenceRam), and each thread checking keeps a file of each for its set-up snapshots.</summary>
    private const int MaxIdle = 16;

    private readonly List<SharedRam> idle = [];
    // RAM files a set-up snapshot will be restored into (RentExact), while the snapshot lives: a machine of another
    // thread that took one would make that restore decline, so they are rented last and evicted last.
    private readonly Dictionary<string, WeakReference<object>> held = [];
    private bool disposed;

    public RamPool()
    {
        DeleteLeftovers();
        Prefix = Path.Combine(Folder, $"mmspec-{Environment.ProcessId}-{Guid.NewGuid():N}-");
    }

    /// <summary>The start of every RAM file's path from this pool (and so of its machines' logs): mmspec-&lt;pid&gt;-&lt;pool&gt;-.</summary>
    public string Prefix { get; }

    /// <summary>Zeroed RAM of <paramref name="size"/> bytes, reused if one is idle.</summary>
    public SharedRam Rent(ulong size)
    {
        SharedRam? reused = null;
        lock (gate)
        {
            ObjectDisposedException.ThrowIf(disposed, this);
            int index = idle.FindLastIndex(candidate => candidate.Size == size && !IsHeld(candidate));
            if (index >= 0)
            {
                reused = idle[index];
                idle.RemoveAt(index);
            }
        }
        if (reused is null)
            return new SharedRam(NewPath(), size);
        reused.Clear();
        return reused;
    }

    /// <summary>
    /// Keeps the RAM file at <paramref name="path"/> for <paramref name="snapshot"/>, while that lives: <see cref="Rent"/>
    /// makes a new file rather than hand it to another machine, and it is evicted after every file that is not kept.
    /// </summary>
    public void Hold(string path, object snapshot)
    {
        lock (gate)
        {
            foreach (string gone in held.Where(pair => !pair.Value.TryGetTarget(out _)).Select(pair => pair.Key).ToList())
                held.Remove(gone);
            held[path] = new WeakReference<object>(snapshot);
        }
    }

    /// <summary>
    /// Lets go of the file <paramref name="snapshot"/> kept (a restore it declined: the suite takes another), at once
    /// rather than when the snapshot is collected, so that the next machines reuse it instead of making new files.
    /// </summary>
    public void Release(string path, object snapshot)
    {
        lock (gate)
            if (held.TryGetValue(path, out WeakReference<object>? kept) && kept.TryGetTarget(out object? holder) && ReferenceEquals(holder, snapshot))
                held.Remove(path);
    }

    private bool IsHeld(SharedRam ram) => held.TryGetValue(ram.Path, out WeakReference<object>? snapshot) && snapshot.TryGetTarget(out _);

    /// <summary>The RAM file at <paramref name="path"/>, zeroed, if it is idle; null when it is in use or gone.</summary>
    public SharedRam? RentExact(string path, ulong size)
    {
        SharedRam? found;
        lock (gate)
        {
            ObjectDisposedException.ThrowIf(disposed, this);
            int index = idle.FindIndex(candidate => candidate.Size == size && candidate.Path == path);
            if (index < 0)
                return null;
            found = idle[index];
            idle.RemoveAt(index);
        }
        found.Clear();
        return found;
    }

    /// <summary>Takes back the RAM of a machine that is over.</summary>
    public void Return(SharedRam ram)
    {
        lock (gate)
        {
            if (!disposed)
            {
                idle.Add(ram);
                if (idle.Count <= MaxIdle)
                    return;
                int evicted = Math.Max(idle.FindIndex(candidate => !IsHeld(candidate)), 0);
                ram = idle[evicted]; // the least recently returned goes, a file kept for a snapshot last
                idle.RemoveAt(evicted);
            }
        }
        ram.Dispose();
    }

    private static string Folder => Directory.Exists("/dev/shm") ? "/dev/shm" : Path.GetTempPath();

    private string NewPath() => $"{Prefix}{Guid.NewGuid():N}.ram";

    /// <summary>The files of suites that were killed before they could delete them (mmspec-&lt;pid&gt;-…, that pid gone).</summary>
    private static void DeleteLeftovers()
    {
        if (!Directory.Exists("/proc/self"))
            return; // no way to tell whether a pid is alive
        foreach (string file in Directory.EnumerateFiles(Folder, "mmspec-*"))
        {
            string[] parts = Path.GetFileName(file).Split('-');
            if (parts.Length < 3 || !int.TryParse(parts[1], out int pid) || Directory.Exists($"/proc/{pid}"))
                continue;
            try
            {
                File.Delete(file);
            }
            catch (Exception busy) when (busy is IOException or UnauthorizedAccessException)
            {
            }
        }
    }

    /// <summary>Deletes the idle RAM files; RAM still rented is deleted when returned.</summary>
    public void Dispose()
    {
        lock (gate)
        {
            if (disposed)
                return;
            disposed = true;
            foreach (SharedRam ram in idle)
                ram.Dispose();
            idle.Clear();
        }
    }
}
