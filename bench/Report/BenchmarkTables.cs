using System.Reflection;
using BenchmarkDotNet.Exporters;
using BenchmarkDotNet.Loggers;
using BenchmarkDotNet.Reports;

namespace Mmspec.Bench.Report;

/// <summary>One BenchmarkDotNet summary as GitHub markdown: its category, scenario, environment and results table.</summary>
public sealed record BenchmarkTable(string Title, string Scenario, string Environment, string Table)
{
    public static BenchmarkTable Of(Summary summary)
    {
        var log = new AccumulationLogger();
        MarkdownExporter.GitHub.ExportToLog(summary, log);
        string text = log.GetLog().ReplaceLineEndings("\n");
        // The export opens with a ``` block: the environment, a blank line, then the settings shared by every row
        // (job, category), which the section's heading and the README's preamble already give.
        int open = text.IndexOf("```", StringComparison.Ordinal);
        int close = open < 0 ? -1 : text.IndexOf("```", open + 3, StringComparison.Ordinal);
        string block = close < 0 ? "" : text[(open + 3)..close].Trim('\n');
        int blank = block.IndexOf("\n\n", StringComparison.Ordinal);
        string environment = blank < 0 ? block : block[..blank];
        string table = close < 0 ? text : text[(close + 3)..];
        BenchmarkDotNet.Running.BenchmarkCase? first = summary.BenchmarksCases.FirstOrDefault();
        string title = first?.Descriptor.Categories.FirstOrDefault() ?? summary.Title;
        string scenario = first?.Descriptor.Type.GetCustomAttribute<ScenarioAttribute>()?.Text ?? "";
        return new BenchmarkTable(title, scenario, environment, table.Trim('\n'));
    }
}
