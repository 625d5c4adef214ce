using System.Diagnostics;

namespace Mmspec.Tests.Cli;

/// <summary>
/// Debian's Chromium, headless, on a local file: the DOM after parsing, or a screenshot. Missing is a failure, not a
/// skip: .ci/run installs it, so a machine without it is a setup that would otherwise pass without looking at the page.
/// </summary>
public static class HeadlessChromium
{
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(2);

    public static string Program =>
        new[] { "/usr/bin/chromium", "/usr/bin/chromium-browser" }.FirstOrDefault(File.Exists)
        ?? throw new InvalidOperationException("Chromium is not installed (/usr/bin/chromium is missing): the HTML report's browser test needs it; "
                                               + ".ci/run installs it, or run: apt-get update && apt-get install -y chromium");

    /// <summary>The document as the browser built it (--dump-dom prints the serialized DOM).</summary>
    public static string DumpDom(string htmlFile, string scratch) => Run(scratch, "--dump-dom", new Uri(htmlFile).AbsoluteUri);

    /// <summary>A PNG of the first <paramref name="height"/> pixels of the page at the given width.</summary>
    public static byte[] Screenshot(string htmlFile, string scratch, int width, int height)
    {
        string png = Path.Combine(scratch, "screenshot.png");
        Run(scratch, $"--screenshot={png}", $"--window-size={width},{height}", "--hide-scrollbars", new Uri(htmlFile).AbsoluteUri);
        Assert.True(File.Exists(png), $"chromium wrote no screenshot at {png}");
        return File.ReadAllBytes(png);
    }

    private static string Run(string scratch, params string[] arguments)
    {
        // Its own profile directory: no state from (or clash with) any other Chromium on the machine.
        string[] common = ["--headless", "--no-sandbox", "--disable-gpu", $"--user-data-dir={Path.Combine(scratch, "chromium-profile")}"];
        var start = new ProcessStartInfo(Program, [.. common, .. arguments]) { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        using Process chromium = Process.Start(start) ?? throw new InvalidOperationException($"could not start {start.FileName}");
        Task<string> stdout = chromium.StandardOutput.ReadToEndAsync();
        Task<string> stderr = chromium.StandardError.ReadToEndAsync();
        if (!chromium.WaitForExit(Timeout))
        {
            chromium.Kill(entireProcessTree: true);
            chromium.WaitForExit();
            Assert.Fail($"chromium did not finish within {Timeout.TotalSeconds} s: {string.Join(' ', arguments)}\n{stderr.Result}");
        }
        Assert.True(chromium.ExitCode == 0, $"chromium exited {chromium.ExitCode}: {string.Join(' ', arguments)}\n{stderr.Result}");
        return stdout.Result;
    }
}
