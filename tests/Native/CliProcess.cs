using System.Diagnostics;
using Mmspec.Tests.Cli;

namespace Mmspec.Tests.Native;

/// <summary>
/// The mmspec command line as a process of its own (dotnet mmspec.dll): its exit code as a shell sees it, its
/// own environment (MMSPEC_HOST can be set without touching this process, whose tests run in parallel), and its
/// own pid, which names its /dev/shm files (mmspec-&lt;pid&gt;-…) apart from this process's.
/// </summary>
internal sealed class CliProcess : IDisposable
{
    private readonly Process process;
    private readonly Task<string> stdout;
    private readonly System.Text.StringBuilder stderr = new();
    private readonly TaskCompletionSource stderrEnded = new();

    private CliProcess(Process process)
    {
        this.process = process;
        stdout = process.StandardOutput.ReadToEndAsync();
        // Line by line, so that a test can wait for progress (e.g. a property running) before it acts.
        process.ErrorDataReceived += (_, line) =>
        {
            if (line.Data is null)
                stderrEnded.TrySetResult();
            else
                lock (stderr)
                    stderr.AppendLine(line.Data);
        };
        process.BeginErrorReadLine();
    }

    /// <param name="ownSession">Start it as a session and process group of its own (setsid), as a shell starts a job:
    /// a signal sent to the group reaches it and its host server, as Ctrl-C in a terminal would, and no test process.</param>
    public static CliProcess Start(IReadOnlyDictionary<string, string>? environment, params string[] args) => Start(environment, false, args);

    public static CliProcess Start(IReadOnlyDictionary<string, string>? environment, bool ownSession, params string[] args)
    {
        var start = new ProcessStartInfo(ownSession ? "setsid" : "dotnet")
        {
            UseShellExecute = false,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = NativeBuild.RepositoryRoot,
        };
        if (ownSession)
            start.ArgumentList.Add("dotnet"); // setsid execs it in the same process: the pid stays the CLI's
        start.ArgumentList.Add(typeof(Mmspec.Cli.Program).Assembly.Location);
        foreach (string arg in args)
            start.ArgumentList.Add(arg);
        start.Environment.Remove("MMSPEC_HOST");
        foreach ((string name, string value) in environment ?? new Dictionary<string, string>())
            start.Environment[name] = value;
        return new CliProcess(Process.Start(start) ?? throw new InvalidOperationException("could not start dotnet"));
    }

    /// <summary>Runs to the end (at most two minutes).</summary>
    public static (CliRun Run, int Pid) Run(IReadOnlyDictionary<string, string>? environment, params string[] args)
    {
        using CliProcess cli = Start(environment, args);
        return (cli.WaitForExit(TimeSpan.FromMinutes(2)), cli.Id);
    }

    public int Id => process.Id;

    /// <summary>The start of every /dev/shm file this run makes.</summary>
    public static string ScratchPrefix(int pid) => $"/dev/shm/mmspec-{pid}-";

    public CliRun WaitForExit(TimeSpan timeout)
    {
        if (!process.WaitForExit(timeout))
        {
            Kill();
            Assert.Fail($"mmspec did not finish within {timeout}");
        }
        process.WaitForExit(); // and its output to its end
        stderrEnded.Task.Wait(TimeSpan.FromSeconds(10));
        return new CliRun(process.ExitCode, stdout.Result, Stderr);
    }

    public string Stderr
    {
        get
        {
            lock (stderr)
                return stderr.ToString();
        }
    }

    /// <summary>Waits until stderr holds <paramref name="text"/> (e.g. progress of a property), at most <paramref name="timeout"/>.</summary>
    public void WaitForStderr(string text, TimeSpan timeout)
    {
        var clock = Stopwatch.StartNew();
        while (!Stderr.Contains(text, StringComparison.Ordinal))
        {
            if (process.HasExited || clock.Elapsed > timeout)
                Assert.Fail($"mmspec never wrote '{text}' to stderr:\n{Stderr}");
            Thread.Sleep(50);
        }
    }

    /// <summary>Sends a signal with kill(1): to the process, or to its whole process group (see <c>ownSession</c>).</summary>
    public void Signal(string name, bool toGroup = false)
    {
        using Process kill = Process.Start("kill", [$"-{name}", "--", toGroup ? $"-{process.Id}" : $"{process.Id}"])
                             ?? throw new InvalidOperationException("could not start kill");
        kill.WaitForExit();
    }

    /// <summary>SIGKILL to the mmspec process alone, as if it crashed: whatever it started is left to fend for itself.</summary>
    public void Kill()
    {
        process.Kill(entireProcessTree: false);
        process.WaitForExit(); // reaped, so its /proc entry is gone and its pid counts as dead
    }

    public void Dispose()
    {
        if (!process.HasExited)
            Kill();
        process.Dispose();
    }
}
