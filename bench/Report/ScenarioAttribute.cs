namespace Mmspec.Bench.Report;

/// <summary>What a benchmark class measures, in a sentence or two for bench/README.md, next to the code it describes.</summary>
[AttributeUsage(AttributeTargets.Class)]
public sealed class ScenarioAttribute(string text) : Attribute
{
    public string Text { get; } = text;
}
