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
    /// <summary>Sequences run on a few RAM sizes (see SequenceRam), so a few idle files of each are kept.</summary>
    private const int MaxIdle = 8;

    private readonly List<SharedRam> idle = [];
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
            int index = idle.FindLastIndex(candidate => candidate.Size == size);
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
                ram = idle[0]; // the least recently returned goes
                idle.RemoveAt(0);
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
