using System.Diagnostics;
using System.Text.Json;

namespace Mmspec.Tests.Cli;

/// <summary>
/// SIGINT and SIGTERM stop a run after its current sequence: what ran is printed and written, marked interrupted,
/// and the exit code is the shell's 128 + signal. Runs the real executable, since only a process receives signals.
/// </summary>
[Trait("Category", "Cli")]
public sealed class InterruptTests
{
    [Theory]
    [InlineData("INT", "SIGINT", 130)]
    [InlineData("TERM", "SIGTERM", 143)]
    public async Task A_signal_stops_the_run_after_the_current_sequence_with_reports_marked_interrupted(string signal, string name, int exitCode)
    {
        using var scratch = new ScratchDirectory();
        var start = new ProcessStartInfo(Path.Combine(AppContext.BaseDirectory, "mmspec"),
            ["check", "--max-test", "1000000", "--report", scratch.Path])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        using Process check = Process.Start(start)!;
        Task<string> stdout = check.StandardOutput.ReadToEndAsync();
        // Wait until the first property is running, so the signal lands inside a property, not before one.
        string? line;
        while ((line = check.StandardError.ReadLine()) is not null && !line.Contains(": running", StringComparison.Ordinal))
        {
        }
        Task<string> stderr = check.StandardError.ReadToEndAsync();
        Thread.Sleep(1500);
        using (Process kill = Process.Start("kill", [$"-{signal}", check.Id.ToString()])!)
            kill.WaitForExit();

        bool exited = check.WaitForExit(TimeSpan.FromSeconds(60));
        if (!exited)
            check.Kill(entireProcessTree: true);
        Assert.True(exited, "the run did not stop within 60 s of the signal");
        string output = await stdout;
        Assert.True(check.ExitCode == exitCode, $"exit {check.ExitCode}\n{output}\n{await stderr}");
        Assert.Contains($"interrupted by {name}: 1 of 9 properties ran", output);
        Assert.Contains("reference: interrupted", output);

        JsonElement report = JsonDocument.Parse(File.ReadAllText(Path.Combine(scratch.Path, "report.json"))).RootElement;
        Assert.Equal(name, report.GetProperty("interrupted").GetString());
        Assert.False(report.GetProperty("conformant").GetBoolean());
        JsonElement property = Assert.Single(report.GetProperty("properties").EnumerateArray());
        Assert.Equal("interrupted", property.GetProperty("verdict").GetString());
        Assert.InRange(property.GetProperty("tests").GetInt32(), 1, 999_999);
        Assert.Contains($"**Interrupted by {name}**", File.ReadAllText(Path.Combine(scratch.Path, "report.md")));
    }
}
