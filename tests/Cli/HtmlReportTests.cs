using System.Text.RegularExpressions;
using Mmspec.Cli;
using Mmspec.Cli.Reports;
using Mmspec.Models.State;
using Mmspec.SpecTests.Adapters;
using Mmspec.SpecTests.Catalogue;
using Mmspec.SpecTests.Execution;
using Mmspec.SpecTests.Properties;

namespace Mmspec.Tests.Cli;

/// <summary>
/// report.html without a browser: it fetches nothing (no URL at all, a policy forbidding any), and text from the
/// implementation, which may hold markup and control characters (a native panic message is its bytes), stays text.
/// </summary>
[Trait("Category", "Cli")]
public sealed partial class HtmlReportTests
{
    private const string Hostile = "</blockquote><script>alert('x')</script>\u0001\u001b[31m & \"done\"";

    [Fact]
    public void The_page_is_self_contained()
    {
        string html = HtmlReport.Render(OutcomeWith(Hostile), new Dictionary<string, FailureReproducers>());

        Assert.DoesNotContain("http://", html, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("https://", html, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotMatch(@"(?i)\b(src|href)\s*=|url\(|@import", html);
        Assert.Contains("content=\"default-src 'none'; style-src 'unsafe-inline'\"", html);
    }

    [Fact]
    public void Markup_and_control_characters_from_the_implementation_are_escaped()
    {
        string html = HtmlReport.Render(OutcomeWith(Hostile), new Dictionary<string, FailureReproducers>());

        Assert.DoesNotContain("<script", html, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("&lt;/blockquote&gt;&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;<span class=\"ctl\">\\x01</span><span class=\"ctl\">\\x1B</span>[31m &amp; &quot;done&quot;", html);
        Assert.Contains("panic Refused &lt;img&gt;<span class=\"ctl\">\\x07</span>", html); // the trace's panic reason
        Assert.Contains("<h3>The state after step 1 &lt;b&gt;</h3>", html);
        Assert.Contains("the walk stopped &lt;here&gt;<span class=\"ctl\">\\x00</span>", html);
        Assert.DoesNotMatch(@"[\x00-\x08\x0B-\x1F\x7F]", html);
        Assert.Equal(1, Regex.Count(html, "<blockquote>")); // the message did not close it early
    }

    [Fact]
    public void Differences_carry_the_diff_class_and_an_id()
    {
        string html = HtmlReport.Render(OutcomeWith("a message"), new Dictionary<string, FailureReproducers>());

        Assert.Matches("<i class=\"u-free diff\" id=\"f0-model-frame-0\" data-frame=\"0\" data-phys=\"0x0\"", html);
        Assert.Matches("<i class=\"u-stray diff\" id=\"f0-impl-frame-0\" data-frame=\"0\" data-phys=\"0x0\"", html);
        Assert.Matches("<tr class=\"diff\" id=\"f0-space0-tables-0x400000\" data-space=\"0\" data-virt=\"0x400000\">", html);
        Assert.Equal(3, DiffElement().Count(html)); // the two cells of frame 0 and the mapping: nothing else
        Assert.Contains("<span class=\"verdict nonconformant\" id=\"verdict\">nonconformant</span>", html);
        Assert.Matches("<tr><td>MAP-10</td><td class=\"fail\">fail</td><td><code>stateful.mapping</code></td></tr>", html);
    }

    /// <summary>
    /// A run in which stateful.mapping broke MAP-10 with <paramref name="message"/>, its one call panicking, and a
    /// picture of 8 frames in which frame 0 is mapped by a leaf the model does not have.
    /// </summary>
    private static CheckOutcome OutcomeWith(string message)
    {
        FrameUse[] model = Enumerable.Repeat(FrameUse.Free, 8).ToArray();
        FrameUse[] implementation = [FrameUse.Stray, .. model[1..]];
        var stray = new MappingRange(0x400000, AddressSpaceLayout.PageSize, 0, Rights.Write, "4 KiB pages", Differs: true);
        var picture = new StatePicture("after step 1 <b>", 1, false, 8 * AddressSpaceLayout.PageSize, model, implementation, new HashSet<int>(),
            [new SpacePicture(0, [], [stray], "the walk stopped <here>\0")]);
        var trace = new List<CallRecord> { new(1, ApiCall.Kfree(0xFFFFFF0000105000), CallEnd.Panicked, default, "Refused <img>\u0007") };
        var failure = new Failure(7, new Violation("MAP-10", message, 1), ["new Kfree(...)"], trace, 0, new ReplayRecipe("null", false)) { Picture = picture };
        ISpecProperty property = PropertyCatalogue.All.Single(p => p.Id == "stateful.mapping");
        var result = new PropertyResult(property.Id, Verdict.Failed, 1, 1, TimeSpan.Zero, [failure], Completed: false);
        List<PropertyOutcome> properties = [ClauseVerdicts.ForProperty(property, result, Expectations.None)];
        IReadOnlyList<ClauseOutcome> clauses = ClauseVerdicts.ForClauses(ClauseCatalogue.Load(), Profile.Default, properties);
        return new CheckOutcome(new ResolvedImplementation("reference", new ReferenceFactory(), "new ReferenceFactory()"), new CheckOptions(), 1, properties, clauses,
            Expectations.None, [], TimeSpan.Zero);
    }

    [GeneratedRegex("class=\"[^\"]*\\bdiff\\b")]
    private static partial Regex DiffElement();
}
