using System.Text;
using System.Text.RegularExpressions;
using Mmspec.SpecTests.Properties;

namespace Mmspec.SpecTests.Reproducers;

/// <summary>
/// A failure as an xunit test against the port: it replays the shrunk input through the same checks the
/// property made, so it fails while the bug is there and passes once it is fixed.
/// </summary>
public static partial class CSharpReproducer
{
    public const string Namespace = "Mmspec.Reproducers";

    /// <param name="factoryExpression">C# that creates the implementation's factory, e.g. <c>new ReferenceFactory()</c>.</param>
    public static string Render(PropertyResult result, RunSettings settings, string factoryExpression)
    {
        Failure failure = result.Failure ?? throw new ArgumentException("the property passed: nothing to reproduce", nameof(result));
        string name = ClassName(result);
        var cs = new StringBuilder();
        cs.AppendLine($"// mmspec reproducer: property {result.PropertyId}, profile {settings.Profile}, seed {failure.Seed}.");
        foreach (string line in failure.Violation.ToString().Split('\n'))
            cs.AppendLine($"// {line}");
        cs.AppendLine("using Mmspec.Models.State;");
        cs.AppendLine("using Mmspec.SpecTests.Adapters;");
        cs.AppendLine("using Mmspec.SpecTests.Catalogue;");
        cs.AppendLine("using Mmspec.SpecTests.Execution;");
        cs.AppendLine("using Mmspec.SpecTests.Port;");
        cs.AppendLine("using Mmspec.SpecTests.Properties;");
        cs.AppendLine("using Mmspec.SpecTests.Sequences;");
        cs.AppendLine("using Xunit;");
        cs.AppendLine();
        cs.AppendLine($"namespace {Namespace};");
        cs.AppendLine();
        cs.AppendLine($"public sealed class Reproduce_{name}");
        cs.AppendLine("{");
        cs.AppendLine("    [Fact]");
        cs.AppendLine($"    public void Seed_{failure.Seed}_{Identifier(failure.Violation.Clause)}()");
        cs.AppendLine("    {");
        cs.AppendLine($"        IImplementationFactory factory = {factoryExpression};");
        cs.AppendLine("        using var hosts = factory as System.IDisposable; // a native factory keeps a host process and RAM files");
        cs.AppendLine($"        Profile profile = Profile.{settings.Profile};");
        cs.AppendLine($"        Violation? violation = {Indent(failure.Replay.CSharp, "        ")};");
        cs.AppendLine("        Assert.True(violation is null, violation?.ToString());");
        cs.AppendLine("    }");
        cs.AppendLine("}");
        return cs.ToString();
    }

    /// <summary>The class and method the reproducer declares, for a harness that compiles and runs it.</summary>
    public static (string Class, string Method) EntryPoint(PropertyResult result) =>
        ($"{Namespace}.Reproduce_{ClassName(result)}", $"Seed_{result.Failure!.Seed}_{Identifier(result.Failure.Violation.Clause)}");

    // Property and clause: the reproducers of every failure of a run compile together in one project.
    private static string ClassName(PropertyResult result) => $"{Identifier(result.PropertyId)}_{Identifier(result.Failure!.Violation.Clause)}";

    private static string Indent(string code, string indent) => code.Replace("\n", "\n" + indent, StringComparison.Ordinal);

    /// <summary>An ID (property or clause) as a C or C# identifier fragment.</summary>
    internal static string Identifier(string id) => NotIdentifier().Replace(id, "_");

    [GeneratedRegex("[^A-Za-z0-9]")]
    private static partial Regex NotIdentifier();
}
