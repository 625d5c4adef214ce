using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using Mmspec.Cli.Reports;
using Mmspec.Models.State;

namespace Mmspec.Tests.Cli;

/// <summary>
/// report.html as a browser shows it: check writes it for a zoo member whose vmfree frees a region's frame but leaves it
/// mapped, headless Chromium loads it, and both the page's DOM and a screenshot show the frame and the mapping the
/// failure names as highlighted. Chromium missing is a failure (.ci/run installs Debian's package), never a skip.
/// </summary>
[Trait("Category", "Cli")]
public sealed partial class HtmlReportBrowserTests
{
    private const string Member = "free-page-still-mapped";

    [Fact]
    public void The_failing_frame_and_mapping_are_highlighted_in_the_rendered_page()
    {
        _ = HeadlessChromium.Program; // first: without it there is nothing to look at, and the run would be wasted
        using var scratch = new ScratchDirectory();
        CliRun run = CliRun.Of("check", "--impl", $"zoo:{Member}", "--shard", CheckZooTests.ShardHolding("stateful.regions"), "--max-failures", "1",
            "--report", scratch.Path);
        Assert.True(run.ExitCode == 1, run.ToString());
        string page = scratch[ReportDirectory.HtmlFile];
        Assert.DoesNotMatch("(?i)https?://", File.ReadAllText(page));

        // The failure names the page the tables still map and the frame behind it: those are what must stand out.
        JsonElement failure = new ReportFiles(scratch.Path).Property("stateful.regions").GetProperty("failure");
        string message = failure.GetProperty("message").GetString()!;
        Match named = TranslatedButUnmapped().Match(message);
        Assert.True(named.Success, $"the failure is not the stale mapping this test looks for: {message}");
        int space = int.Parse(named.Groups["space"].Value, CultureInfo.InvariantCulture);
        ulong virt = ulong.Parse(named.Groups["virt"].Value, NumberStyles.HexNumber, CultureInfo.InvariantCulture);
        ulong phys = ulong.Parse(named.Groups["phys"].Value, NumberStyles.HexNumber, CultureInfo.InvariantCulture);
        int frame = (int)(phys / AddressSpaceLayout.PageSize);

        string dom = HeadlessChromium.DumpDom(page, scratch.Path);
        Assert.Matches($"<i class=\"u-stray diff\" id=\"f0-impl-frame-{frame}\" data-frame=\"{frame}\"", dom);
        Assert.Matches($"<i class=\"u-free diff\" id=\"f0-model-frame-{frame}\" data-frame=\"{frame}\"", dom);
        Assert.Contains(DifferingRanges().Matches(dom), range => range.Groups["space"].Value == $"{space}" && range.Groups["side"].Value == "tables"
            && ulong.Parse(range.Groups["first"].Value, NumberStyles.HexNumber, CultureInfo.InvariantCulture) <= virt
            && virt <= ulong.Parse(range.Groups["last"].Value, NumberStyles.HexNumber, CultureInfo.InvariantCulture));

        const int width = 1280, height = 2400;
        byte[] png = HeadlessChromium.Screenshot(page, scratch.Path, width, height);
        PngPixels pixels = PngPixels.Read(png);
        Assert.Equal((width, height), (pixels.Width, pixels.Height));
        Assert.True(png.Length > 10_000 && pixels.DistinctColours() > 16, $"the screenshot looks blank: {png.Length} bytes, {pixels.DistinctColours()} colours");
        // The highlight colour is used for differences only: two outlined frame cells and an edged table row are well over 100 pixels.
        (byte red, byte green, byte blue) = Rgb(HtmlStyle.DiffColour);
        int highlighted = pixels.Count(red, green, blue);
        Assert.True(highlighted >= 100, $"only {highlighted} pixels of the highlight colour {HtmlStyle.DiffColour} in the screenshot");
    }

    private static (byte, byte, byte) Rgb(string hex) =>
        (Convert.ToByte(hex[1..3], 16), Convert.ToByte(hex[3..5], 16), Convert.ToByte(hex[5..7], 16));

    [GeneratedRegex(@"space(?<space>\d+) 0x(?<virt>[0-9A-F]+): the MMU translates it \(4 KiB page 0x[0-9A-F]+ -> 0x(?<phys>[0-9A-F]+) ")]
    private static partial Regex TranslatedButUnmapped();

    [GeneratedRegex("<tr class=\"diff\" id=\"f0-space(?<space>\\d+)-(?<side>model|tables)-0x[0-9A-F]+\"[^>]*><td><code>0x(?<first>[0-9A-F]+)–0x(?<last>[0-9A-F]+)</code>")]
    private static partial Regex DifferingRanges();
}
