using System.Text;
using Mmspec.SpecTests.Execution;
using Mmspec.SpecTests.Properties;

namespace Mmspec.Cli.Reports;

/// <summary>
/// report.html: the run as one page to look at, self-contained (inline style, no script, nothing fetched: a content
/// security policy forbids it), so that it can be opened from a CI artifact as is. The verdict, then each failure with
/// its shrunk sequence step by step and the values returned, a picture of the state where it failed (see
/// <see cref="HtmlStatePicture"/>) and its reproducers folded, then the clause table. Like report.md it holds no
/// timings: the same seed gives the same page.
/// </summary>
public static class HtmlReport
{
    public static string Render(CheckOutcome outcome, IReadOnlyDictionary<string, FailureReproducers> reproducers)
    {
        var html = new StringBuilder();
        CheckOptions options = outcome.Options;
        string verdict = VerdictNames.Gate(outcome);
        html.AppendLine("<!DOCTYPE html>");
        html.AppendLine("<html lang=\"en\"><head><meta charset=\"utf-8\">");
        html.AppendLine("<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">");
        html.AppendLine($"<title>mmspec check: {Html.Text(outcome.Implementation.Name)}: {verdict}</title>");
        html.AppendLine($"<style>{HtmlStyle.Sheet}</style></head><body>");
        html.AppendLine($"<h1>mmspec check: <code>{Html.Text(outcome.Implementation.Name)}</code> <span class=\"verdict {verdict}\" id=\"verdict\">{verdict}</span></h1>");
        html.AppendLine($"<p class=\"meta\">profile {CheckOptions.ProfileName(options.Profile)} · seed {options.Seed} (0x{options.Seed:X}) · max-test {options.MaxTest} · "
                        + $"RAM {options.RamSize >> 10} KiB · shard {Html.Text(options.Shard.ToString())}</p>");
        if (outcome.Interrupted is { } signal)
            html.AppendLine($"<p><strong>Interrupted by {Html.Text(signal)}</strong>: {outcome.Properties.Count} of {outcome.UnitsPlanned} properties ran, the last only in part.</p>");
        html.AppendLine($"<p class=\"meta\">Properties: {outcome.Properties.Count} ({outcome.PropertyTotals()}) · Clauses: {outcome.Clauses.Count} ({outcome.ClauseTotals()})</p>");
        if (outcome.StaleExpectations.Count > 0)
        {
            html.AppendLine("<h2>Expectations to trim</h2><ul>");
            foreach (StaleExpectation stale in outcome.StaleExpectations)
                html.AppendLine($"<li>{Html.Text(stale.Message)}</li>");
            html.AppendLine("</ul>");
        }

        int index = 0;
        foreach (FoundFailure found in outcome.Failures)
            AppendFailure(html, found, outcome, reproducers.GetValueOrDefault(found.Key), $"f{index++}");

        AppendClauses(html, outcome);
        html.AppendLine("</body></html>");
        return html.ToString();
    }

    private static void AppendFailure(StringBuilder html, FoundFailure found, CheckOutcome outcome, FailureReproducers? reproducers, string prefix)
    {
        Failure failure = found.Failure;
        html.AppendLine($"<section class=\"failure\" id=\"{prefix}\" data-clause=\"{Html.Attribute(failure.Violation.Clause)}\" data-property=\"{Html.Attribute(found.PropertyId)}\">");
        html.AppendLine($"<h2>{(found.Expected ? "Expected failure" : "Failure")}: {Html.Text(failure.Violation.Clause)} broken in <code>{Html.Text(found.PropertyId)}</code></h2>");
        html.AppendLine($"<blockquote>{Html.Text(failure.Violation.Message)}</blockquote>");
        html.AppendLine($"<p>{Html.Text(char.ToUpperInvariant(failure.Where[0]) + failure.Where[1..])}. Replay: "
                        + $"<code>{Html.Text($"{Invocation.Command} {outcome.Options.ReplayCommand(outcome.Implementation.Name)}")}</code></p>");
        if (failure.Configuration is { } drawn)
            html.AppendLine($"<p class=\"meta\">Swarm configuration: {Html.Text(drawn)}.</p>");
        AppendSequence(html, failure);
        if (failure.Picture is { } picture)
            HtmlStatePicture.Render(html, picture, prefix);
        else
            html.AppendLine("<p class=\"meta\">No picture of the state: this property does not run sequences on a machine it can walk, or the failure came before any state could be seen or did not reproduce on replay.</p>");
        if (reproducers is not null)
        {
            AppendFolded(html, $"C reproducer ({reproducers.CFile})", reproducers.C);
            AppendFolded(html, $"C# reproducer, xunit against the port ({reproducers.CSharpFile})", reproducers.CSharp);
        }
        html.AppendLine("</section>");
    }

    /// <summary>The shrunk steps in order, each with the calls it made and what they returned (a step may make none: it did not apply).</summary>
    private static void AppendSequence(StringBuilder html, Failure failure)
    {
        html.AppendLine("<h3>The shrunk sequence, step by step</h3>");
        html.AppendLine("<table class=\"trace\"><tr><th>step</th><th>call</th><th>returned</th></tr>");
        ILookup<int, TraceLine> byStep = TraceText.Entries(failure.Trace).ToLookup(line => line.Step);
        IEnumerable<int> steps = Enumerable.Range(1, failure.Steps.Count).Concat(byStep.Select(group => group.Key).Where(step => step > failure.Steps.Count || step < 1)).Distinct();
        foreach (int step in steps.Order())
        {
            string failing = step == failure.Violation.Step ? " failing" : "";
            string name = step >= 1 && step <= failure.Steps.Count ? failure.Steps[step - 1] : step < 1 ? "setup" : "teardown: everything given back and counted";
            html.AppendLine($"<tr class=\"step{failing}\"><td>{step}</td><td colspan=\"2\">{Html.Text(name)}{(failing != "" ? " ← fails here" : "")}</td></tr>");
            if (!byStep.Contains(step))
                html.AppendLine($"<tr class=\"call{failing}\"><td></td><td colspan=\"2\">no call (the step did not apply to the state then)</td></tr>");
            foreach (TraceLine line in byStep[step])
                html.AppendLine(line.Call is { } call ? CallRow(call, failing) : $"<tr class=\"call{failing}\"><td></td><td colspan=\"2\">{Html.Text(line.Text)}</td></tr>");
        }
        html.AppendLine("</table>");
    }

    private static string CallRow(CallRecord call, string failing)
    {
        string kind = call.End != CallEnd.Returned ? " fault" : call.CrossCheck ? " cross" : "";
        string note = call.CrossCheck ? " (the suite's cross-check)" : "";
        return $"<tr class=\"call{kind}{failing}\"><td></td><td><code>{Html.Text(call.Call.ToString())}</code></td><td><code>{Html.Text(call.Returned)}</code>{note}</td></tr>";
    }

    private static void AppendClauses(StringBuilder html, CheckOutcome outcome)
    {
        html.AppendLine("<h2>Clauses</h2>");
        html.AppendLine("<table class=\"clauses\" id=\"clauses\"><tr><th>clause</th><th>verdict</th><th>decided by</th></tr>");
        foreach (ClauseOutcome clause in outcome.Clauses)
        {
            string verdict = VerdictNames.Of(clause.Verdict);
            html.AppendLine($"<tr><td>{Html.Text(clause.Id)}</td><td class=\"{verdict}\">{verdict}</td><td>{(clause.DecidedBy is { } by ? $"<code>{Html.Text(by)}</code>" : "")}</td></tr>");
        }
        html.AppendLine("</table>");
    }

    private static void AppendFolded(StringBuilder html, string summary, string code) =>
        html.AppendLine($"<details><summary>{Html.Text(summary)}</summary><pre>{Html.Text(code.TrimEnd())}</pre></details>");
}
