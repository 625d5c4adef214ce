using System.Text;
using Mmspec.SpecTests.Execution;
using Mmspec.SpecTests.Properties;

namespace Mmspec.Cli.Reports;

/// <summary>
/// report.md: a summary to paste into a pull request. One header line says what was checked and the
/// verdict; the clause table follows; each failure gets its shrunk sequence as C and both reproducers,
/// folded, so the page stays short until someone wants the code. It holds no timings, so a run's page is the same
/// byte for byte whenever the same seed is run again.
/// </summary>
public static class MarkdownReport
{
    public static string Render(CheckOutcome outcome, IReadOnlyDictionary<string, FailureReproducers> reproducers)
    {
        var md = new StringBuilder();
        CheckOptions options = outcome.Options;
        md.AppendLine($"## mmspec check: `{outcome.Implementation.Name}` · profile `{CheckOptions.ProfileName(options.Profile)}` · "
                      + $"seed `{options.Seed}` · **{VerdictNames.Gate(outcome)}**");
        md.AppendLine();
        // No timings here: the same seed gives the same page, byte for byte (report.json and junit.xml have them).
        md.AppendLine($"max-test {options.MaxTest} · RAM {options.RamSize >> 10} KiB · shard {options.Shard}  ");
        if (outcome.Interrupted is { } signal)
            md.AppendLine($"**Interrupted by {signal}**: {outcome.Properties.Count} of {outcome.UnitsPlanned} properties ran, the last only in part  ");
        md.AppendLine($"Properties: {outcome.Properties.Count} ({outcome.PropertyTotals()})  ");
        md.AppendLine($"Clauses: {outcome.Clauses.Count} ({outcome.ClauseTotals()})");
        md.AppendLine();

        if (outcome.StaleExpectations.Count > 0)
        {
            md.AppendLine("### Expectations to trim");
            md.AppendLine();
            foreach (StaleExpectation stale in outcome.StaleExpectations)
                md.AppendLine($"- {Escape(stale.Message)}");
            md.AppendLine();
        }

        foreach (FoundFailure found in outcome.Failures)
            AppendFailure(md, found, outcome, reproducers.GetValueOrDefault(found.Key));

        md.AppendLine("### Clauses");
        md.AppendLine();
        md.AppendLine("| clause | verdict | decided by |");
        md.AppendLine("| --- | --- | --- |");
        foreach (ClauseOutcome clause in outcome.Clauses)
        {
            string verdict = clause.Verdict is ClauseVerdict.Fail ? $"**{VerdictNames.Of(clause.Verdict)}**" : VerdictNames.Of(clause.Verdict);
            md.AppendLine($"| {clause.Id} | {verdict} | {(clause.DecidedBy is { } by ? $"`{by}`" : "")} |");
        }
        return md.ToString();
    }

    private static void AppendFailure(StringBuilder md, FoundFailure found, CheckOutcome outcome, FailureReproducers? reproducers)
    {
        Failure failure = found.Failure;
        md.AppendLine($"### {(found.Expected ? "Expected failure" : "Failure")}: {failure.Violation.Clause} broken in `{found.PropertyId}`");
        md.AppendLine();
        md.AppendLine($"> {Escape(failure.Violation.Message)}");
        md.AppendLine();
        md.AppendLine($"{char.ToUpperInvariant(failure.Where[0])}{failure.Where[1..]}. Replay: "
                      + $"`{Invocation.Command} {outcome.Options.ReplayCommand(outcome.Implementation.Name)}`");
        md.AppendLine();
        if (failure.Configuration is { } drawn)
        {
            md.AppendLine($"Swarm configuration: {Escape(drawn)}.");
            md.AppendLine();
        }
        md.AppendLine("```c");
        foreach (string line in TraceText.Lines(failure.Trace))
            md.AppendLine(line);
        md.AppendLine("```");
        md.AppendLine();
        if (reproducers is not null)
        {
            AppendFolded(md, $"C reproducer ({reproducers.CFile})", "c", reproducers.C);
            AppendFolded(md, $"C# reproducer, xunit against the port ({reproducers.CSharpFile})", "csharp", reproducers.CSharp);
        }
    }

    private static void AppendFolded(StringBuilder md, string summary, string language, string code)
    {
        md.AppendLine($"<details><summary>{summary}</summary>");
        md.AppendLine();
        md.AppendLine($"```{language}");
        md.AppendLine(code.TrimEnd());
        md.AppendLine("```");
        md.AppendLine();
        md.AppendLine("</details>");
        md.AppendLine();
    }

    // Messages quote C (e.g. a->b, x | y): keep them from turning into Markdown tables or HTML.
    private static string Escape(string text) => text.Replace("|", "\\|").Replace("<", "&lt;").Replace("\n", " ");
}
