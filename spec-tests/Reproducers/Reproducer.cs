using Mmspec.SpecTests.Properties;

namespace Mmspec.SpecTests.Reproducers;

/// <summary>The reproducers of a failed property, for front ends (the CLI's reports).</summary>
public static class Reproducer
{
    /// <summary>A C function calling the spec API in the shrunk order, asserting the expected results.</summary>
    public static string C(PropertyResult result, RunSettings settings, string implementation) =>
        CReproducer.Render(result, settings, implementation);

    /// <summary>An xunit test against the port that fails while the bug is there.</summary>
    public static string CSharp(PropertyResult result, RunSettings settings, string factoryExpression) =>
        CSharpReproducer.Render(result, settings, factoryExpression);
}
