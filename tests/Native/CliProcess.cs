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
    private readonly Task<string> stderr;

    private CliProcess(Process process)
    {
        this.process = process;
        stdout = process.StandardOutput.ReadToEndAsync();
        stderr = process.StandardError.ReadToEndAsync();
    }

    public static CliProcess Start(IReadOnlyDictionary<string, string>? environment, params string[] args)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            UseShellExecute = false,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = NativeBuild.RepositoryRoot,
        };
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
        return new CliRun(process.ExitCode, stdout.Result, stderr.Result);
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
