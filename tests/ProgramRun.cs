using System.Diagnostics;

namespace Mmspec.Tests;

/// <summary>A program the tests build or ship (gcc, a C reproducer, a native check), run to its end.</summary>
internal static class ProgramRun
{
    /// <summary>Runs a process to its end or kills it at the timeout (exit -1, a hang); stdout and stderr together.</summary>
    public static (int Exit, string Log) Execute(string program, string[] arguments, TimeSpan timeout)
    {
        var start = new ProcessStartInfo(program, arguments) { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        using Process process = Process.Start(start) ?? throw new InvalidOperationException($"could not start {program}");
        // Both read at once: one read to its end before the other would wait forever on a child filling the other pipe.
        Task<string> stdout = process.StandardOutput.ReadToEndAsync();
        Task<string> stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(timeout))
        {
            process.Kill(entireProcessTree: true);
            process.WaitForExit();
            return (-1, $"killed after {timeout.TotalSeconds} s (a hang)\n{stdout.Result}{stderr.Result}");
        }
        return (process.ExitCode, stdout.Result + stderr.Result);
    }
}
