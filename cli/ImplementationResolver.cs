using Mmspec.SpecTests.Adapters;
using Mmspec.SpecTests.Adapters.Native;
using Mmspec.SpecTests.Execution;
using Mmspec.SpecTests.Port;
using Mmspec.Zoo;

namespace Mmspec.Cli;

/// <summary>An implementation to check, with the C# expression that creates it again in a reproducer.</summary>
public sealed record ResolvedImplementation(string Name, IImplementationFactory Factory, string FactoryExpression);

/// <summary>Turns the <c>--impl</c> value into a factory of fresh machines.</summary>
public static class ImplementationResolver
{
    public const string ZooPrefix = "zoo:";

    public const string NativePrefix = "native:";

    /// <exception cref="UsageException">An unknown form, an unknown zoo member, a missing or (for now) any native library.</exception>
    public static ResolvedImplementation Resolve(string spec)
    {
        if (spec == CheckOptions.ReferenceImplementation)
            return new ResolvedImplementation("reference", new ReferenceFactory(), "new ReferenceFactory()");
        if (spec.StartsWith(ZooPrefix, StringComparison.Ordinal))
            return ResolveZoo(spec[ZooPrefix.Length..]);
        if (spec.StartsWith(NativePrefix, StringComparison.Ordinal))
            return ResolveNative(spec[NativePrefix.Length..]);
        throw new UsageException($"--impl '{spec}': expected reference, zoo:<name> (list names with: mmspec zoo) or native:<path>");
    }

    private static ResolvedImplementation ResolveZoo(string name)
    {
        ZooMember member = ZooCatalogue.All.FirstOrDefault(m => m.Name == name)
            ?? throw new UsageException($"--impl zoo:{name}: no zoo member named '{name}' (list them with: mmspec zoo)");
        return new ResolvedImplementation(member.Factory.Name, member.Factory, $"Mmspec.Zoo.ZooCatalogue.Find(\"{member.Name}\").Factory");
    }

    /// <summary>
    /// A native library is loaded once in a host before anything runs, so that a missing file, a missing host
    /// or a library that does not load is a configuration error (exit 2), not a conformance failure.
    /// </summary>
    private static ResolvedImplementation ResolveNative(string path)
    {
        if (path.Length == 0)
            throw new UsageException("--impl native:<path>: the path to the native library is missing");
        if (!File.Exists(path))
            throw new UsageException($"--impl native:{path}: no such file");
        string library = Path.GetFullPath(path);
        try
        {
            var factory = new NativeFactory(library);
            using (factory.Create(SequenceRunner.DefaultRamSize))
            {
            }
            string literal = library.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal);
            return new ResolvedImplementation(factory.Name, factory, $"new Mmspec.SpecTests.Adapters.Native.NativeFactory(\"{literal}\")");
        }
        catch (Exception failure) when (failure is FileNotFoundException or ImplementationCrashedException or IOException or InvalidOperationException)
        {
            throw new UsageException($"--impl native:{path}: cannot be loaded: {failure.Message.ReplaceLineEndings(" ")}");
        }
    }
}
