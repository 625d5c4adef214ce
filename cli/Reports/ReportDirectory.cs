using Mmspec.SpecTests.Catalogue;
using Mmspec.SpecTests.Properties;

namespace Mmspec.Cli.Reports;

/// <summary>
/// The <c>--report</c> directory: report.json, junit.xml, report.md, report.html, results.ktap and repro/ with one C and one C# file per
/// failure. Created before the run starts, so a path that cannot be written fails in a second, not after the run.
/// </summary>
public sealed class ReportDirectory
{
    public const string JsonFile = "report.json";

    public const string JunitFile = "junit.xml";

    public const string MarkdownFile = "report.md";

    public const string KtapFile = "results.ktap";
    public const string HtmlFile = "report.html";

    private ReportDirectory(string path) => Path = path;

    public string Path { get; }

    /// <exception cref="UsageException">The directory cannot be created, or a file cannot be written in it.</exception>
    public static ReportDirectory Prepare(string path)
    {
        Guard(path, () =>
        {
            Directory.CreateDirectory(path);
            // An existing directory may still refuse files: find out now, not after the run.
            string probe = System.IO.Path.Combine(path, $".mmspec-write-probe-{Environment.ProcessId}");
            File.WriteAllText(probe, "");
            File.Delete(probe);
        });
        return new ReportDirectory(path);
    }

    public void Write(CheckOutcome outcome)
    {
        Dictionary<string, FailureReproducers> reproducers = outcome.Failures
            .ToDictionary(found => found.Key, found => FailureReproducers.For(found, outcome));
        Guard(Path, () =>
        {
            RemoveEarlierReproducers();
            File.WriteAllText(In(JsonFile), JsonReport.Render(outcome, reproducers));
            File.WriteAllText(In(JunitFile), JunitReport.Render(outcome));
            File.WriteAllText(In(MarkdownFile), MarkdownReport.Render(outcome, reproducers));
            File.WriteAllText(In(KtapFile), KtapReport.Render(outcome, reproducers));
            File.WriteAllText(In(HtmlFile), HtmlReport.Render(outcome, reproducers));
            if (reproducers.Count > 0)
                Directory.CreateDirectory(In("repro"));
            foreach (FailureReproducers reproducer in reproducers.Values)
            {
                File.WriteAllText(In(reproducer.CFile), reproducer.C);
                File.WriteAllText(In(reproducer.CSharpFile), reproducer.CSharp);
            }
        });
    }

    // A directory reused across runs must not keep the reproducer of a failure this run no longer has.
    // Only files named as check names them (<property>.<clause>.c/.cs) are touched: anything else in repro/ is the user's.
    private void RemoveEarlierReproducers()
    {
        if (!Directory.Exists(In("repro")))
            return;
        foreach (string file in Directory.EnumerateFiles(In("repro")))
            if (IsReproducerName(System.IO.Path.GetFileName(file)))
                File.Delete(file);
    }

    private static bool IsReproducerName(string name)
    {
        string stem = name.EndsWith(".cs", StringComparison.Ordinal) ? name[..^3] : name.EndsWith(".c", StringComparison.Ordinal) ? name[..^2] : "";
        return PropertyCatalogue.All.Any(property => stem.StartsWith(property.Id + ".", StringComparison.Ordinal)
                                                     && ClauseCatalogue.Load().Contains(stem[(property.Id.Length + 1)..]));
    }

    private string In(string relative) => System.IO.Path.Combine(Path, relative);

    private static void Guard(string path, Action write)
    {
        try
        {
            write();
        }
        catch (Exception error) when (error is IOException or UnauthorizedAccessException)
        {
            throw new UsageException($"--report {path}: cannot write there: {error.Message}");
        }
    }
}
