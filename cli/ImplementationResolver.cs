using Mmspec.SpecTests.Adapters;
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
            throw NativeNotSupported(spec[NativePrefix.Length..]);
        throw new UsageException($"--impl '{spec}': expected reference, zoo:<name> (list names with: mmspec zoo) or native:<path>");
    }

    private static ResolvedImplementation ResolveZoo(string name)
    {
        ZooMember member = ZooCatalogue.All.FirstOrDefault(m => m.Name == name)
            ?? throw new UsageException($"--impl zoo:{name}: no zoo member named '{name}' (list them with: mmspec zoo)");
        return new ResolvedImplementation(member.Factory.Name, member.Factory, $"Mmspec.Zoo.ZooCatalogue.Find(\"{member.Name}\").Factory");
    }

    // A missing path is reported first: it is the mistake the user can fix today.
    private static UsageException NativeNotSupported(string path)
    {
        if (path.Length == 0)
            return new UsageException("--impl native:<path>: the path to the native library is missing");
        if (!File.Exists(path) && !Directory.Exists(path))
            return new UsageException($"--impl native:{path}: no such file");
        return new UsageException("native implementations are not supported yet (issue 5)");
    }
}
