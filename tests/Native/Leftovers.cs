using System.Diagnostics;
using System.Runtime.InteropServices;

namespace Mmspec.Tests.Native;

/// <summary>
/// What a native run can leave behind: processes (the host server, its workers and whatever a library forked,
/// all of which carry the library's path on their command line, since they are forks of the server) and files
/// in /dev/shm. Processes die asynchronously after a SIGKILL, so the checks wait a little for them to go.
/// </summary>
internal static class Leftovers
{
    /// <summary>The name hostile/hostile.c gives the child that fork-sleeper leaves running.</summary>
    public const string SleeperName = "mmspec-sleeper";

    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(5);

    /// <summary>Live processes with <paramref name="library"/> as an argument (a zombie's command line is empty: it counts as gone).</summary>
    public static IReadOnlyList<int> ProcessesOf(string library) =>
        Pids().Where(pid => Read($"/proc/{pid}/cmdline")?.Split('\0').Contains(library, StringComparer.Ordinal) == true).ToList();

    /// <summary>Live (not zombie) processes named <see cref="SleeperName"/>, with their process groups.</summary>
    public static IReadOnlyList<(int Pid, int Group)> Sleepers() =>
        Pids().Select(pid => (Pid: pid, Stat: Stat(pid))).Where(p => p.Stat is { } stat && stat.Name == SleeperName && stat.State != 'Z')
            .Select(p => (p.Pid, p.Stat!.Value.Group)).ToList();

    /// <summary>The process group of a live process, or null once it is gone.</summary>
    public static int? GroupOf(int pid) => Stat(pid)?.Group;

    /// <summary>The files in /dev/shm whose path starts with <paramref name="prefix"/>.</summary>
    public static IReadOnlyList<string> FilesStartingWith(string prefix) =>
        Directory.EnumerateFiles(Path.GetDirectoryName(prefix)!, Path.GetFileName(prefix) + "*").ToList();

    /// <summary>Fails unless every process of <paramref name="library"/> and every sleeper is gone within a few seconds.</summary>
    public static void AssertNoProcessesOf(string library)
    {
        IReadOnlyList<int> left = [];
        IReadOnlyList<(int Pid, int Group)> sleepers = [];
        for (var clock = Stopwatch.StartNew(); clock.Elapsed < Patience; Thread.Sleep(50))
        {
            left = ProcessesOf(library);
            sleepers = Sleepers();
            if (left.Count == 0 && sleepers.Count == 0)
                return;
        }
        Assert.Fail($"still running {Patience.TotalSeconds} s later: {string.Join(", ", left.Select(Describe))}; sleepers: {string.Join(", ", sleepers.Select(s => s.Pid))}");
    }

    /// <summary>Fails unless <paramref name="condition"/> holds within a few seconds.</summary>
    public static void AssertSoon(Func<bool> condition, string what)
    {
        for (var clock = Stopwatch.StartNew(); clock.Elapsed < Patience; Thread.Sleep(50))
            if (condition())
                return;
        Assert.Fail($"not within {Patience.TotalSeconds} s: {what}");
    }

    public static void AssertNoFilesStartingWith(string prefix)
    {
        IReadOnlyList<string> files = FilesStartingWith(prefix);
        Assert.True(files.Count == 0, $"left in /dev/shm: {string.Join(", ", files)}");
    }

    /// <summary>kill(2) of one process (never a group: pid must be positive).</summary>
    public static void Signal(int pid, int signal)
    {
        Assert.True(pid > 0);
        Assert.Equal(0, SendSignal(pid, signal));
    }

    public const int SigKill = 9;
    public const int SigSegv = 11;

    [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int SendSignal(int pid, int signal);

    private static string Describe(int pid) => $"{pid} ({Stat(pid)?.Name ?? "gone"})";

    private static IEnumerable<int> Pids() =>
        Directory.EnumerateDirectories("/proc").Select(Path.GetFileName).Select(name => int.TryParse(name, out int pid) ? pid : 0).Where(pid => pid > 0);

    /// <summary>/proc/&lt;pid&gt;/stat: the name in parentheses, then the state and, two fields on, the process group.</summary>
    private static (string Name, char State, int Group)? Stat(int pid)
    {
        string? stat = Read($"/proc/{pid}/stat");
        if (stat is null)
            return null;
        int open = stat.IndexOf('('), close = stat.LastIndexOf(')');
        string[] fields = stat[(close + 2)..].Split(' ');
        return (stat[(open + 1)..close], fields[0][0], int.Parse(fields[2], System.Globalization.CultureInfo.InvariantCulture));
    }

    private static string? Read(string path)
    {
        try
        {
            return File.ReadAllText(path);
        }
        catch (Exception gone) when (gone is IOException or UnauthorizedAccessException)
        {
            return null; // exited since the listing
        }
    }
}
