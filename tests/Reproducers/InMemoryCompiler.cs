using System.Reflection;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Mmspec.SpecTests.Properties;
using Mmspec.Zoo;

namespace Mmspec.Tests.Reproducers;

/// <summary>Compiles a generated C# reproducer against the suite's assemblies and runs its test method.</summary>
internal static class InMemoryCompiler
{
    public static Assembly Compile(string source)
    {
        // The reproducer needs these loaded before their locations can be referenced.
        Type[] anchors = [typeof(PropertyCatalogue), typeof(ZooCatalogue), typeof(Mmspec.Models.State.ApiState), typeof(Assert), typeof(FactAttribute)];
        var references = AppDomain.CurrentDomain.GetAssemblies()
            .Concat(anchors.Select(type => type.Assembly))
            .Where(assembly => !assembly.IsDynamic && assembly.Location.Length > 0)
            .Select(assembly => assembly.Location).Distinct()
            .Select(location => MetadataReference.CreateFromFile(location));
        CSharpCompilation compilation = CSharpCompilation.Create(
            $"Reproducer{Guid.NewGuid():N}",
            [CSharpSyntaxTree.ParseText(source, new CSharpParseOptions(LanguageVersion.Latest))],
            references,
            new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary, nullableContextOptions: NullableContextOptions.Enable));
        using var image = new MemoryStream();
        var emitted = compilation.Emit(image);
        var errors = emitted.Diagnostics.Where(d => d.Severity == DiagnosticSeverity.Error).Select(d => d.ToString()).ToList();
        Assert.True(emitted.Success, $"the reproducer does not compile:\n{string.Join("\n", errors)}\n---\n{source}");
        return Assembly.Load(image.ToArray());
    }

    /// <summary>Runs the test method; the assertion it threw, or null when it passed.</summary>
    public static Exception? Run(Assembly assembly, string className, string methodName)
    {
        Type type = assembly.GetType(className) ?? throw new InvalidOperationException($"no class {className}");
        MethodInfo method = type.GetMethod(methodName) ?? throw new InvalidOperationException($"no method {methodName}");
        try
        {
            method.Invoke(Activator.CreateInstance(type), []);
            return null;
        }
        catch (TargetInvocationException thrown)
        {
            return thrown.InnerException;
        }
    }
}
