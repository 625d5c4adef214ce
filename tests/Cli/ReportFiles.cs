using System.Text.Json;
using System.Xml.Linq;

namespace Mmspec.Tests.Cli;

/// <summary>The reports a check run wrote into its --report directory, read back as a CI system would.</summary>
public sealed class ReportFiles
{
    public ReportFiles(string directory)
    {
        Directory = directory;
        Json = JsonDocument.Parse(File.ReadAllText(Path.Combine(directory, "report.json"))).RootElement;
        Junit = XDocument.Load(Path.Combine(directory, "junit.xml"));
        Markdown = File.ReadAllText(Path.Combine(directory, "report.md"));
        Ktap = File.ReadAllText(Path.Combine(directory, "results.ktap"));
    }

    public string Directory { get; }

    public JsonElement Json { get; }

    public XDocument Junit { get; }

    public string Markdown { get; }

    public string Ktap { get; }

    public IEnumerable<JsonElement> Properties => Json.GetProperty("properties").EnumerateArray();

    public IEnumerable<JsonElement> Clauses => Json.GetProperty("clauses").EnumerateArray();

    public JsonElement Property(string id) => Properties.Single(property => property.GetProperty("id").GetString() == id);

    public JsonElement Clause(string id) => Clauses.Single(clause => clause.GetProperty("id").GetString() == id);

    public static string Verdict(JsonElement element) => element.GetProperty("verdict").GetString()!;
}
