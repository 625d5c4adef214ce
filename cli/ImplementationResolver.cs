using Mmspec.SpecTests.Adapters;
using Mmspec.NativeClient;
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

    /// <exception cref="UsageException">
    /// An unknown form, an unknown zoo member, a native library that is missing or does not load, or timeouts
    /// given for an implementation that runs in-process.
    /// </exception>
    public static ResolvedImplementation Resolve(string spec, TimeSpan? callTimeout = null, TimeSpan? sequenceTimeout = null)
    {
        if (spec.StartsWith(NativePrefix, StringComparison.Ordinal))
            return ResolveNative(spec[NativePrefix.Length..], callTimeout, sequenceTimeout);
        if (callTimeout is not null || sequenceTimeout is not null)
            throw new UsageException($"--call-timeout and --sequence-timeout apply to native:<path> implementations only, not '{spec}', which runs in-process");
        if (spec == CheckOptions.ReferenceImplementation)
            return new ResolvedImplementation("reference", new ReferenceFactory(), "new ReferenceFactory()");
        if (spec.StartsWith(ZooPrefix, StringComparison.Ordinal))
            return ResolveZoo(spec[ZooPrefix.Length..]);
        throw new UsageException($"--impl '{spec}': expected reference, zoo:<name> (list names with: mmspec zoo) or native:<path>");
    }

    private static ResolvedImplementation ResolveZoo(string name)
    {
        ZooMember member = ZooCatalogue.All.Concat(ZooCatalogue.Combinations).FirstOrDefault(m => m.Name == name)
            ?? throw new UsageException($"--impl zoo:{name}: no zoo member named '{name}' (list them with: mmspec zoo)");
        return new ResolvedImplementation(member.Factory.Name, member.Factory, $"Mmspec.Zoo.ZooCatalogue.Find(\"{member.Name}\").Factory");
    }

    /// <summary>
    /// A native library is loaded in its host server before anything runs, so that a missing file, a host that
    /// cannot be run or a library that does not load (not a shared object, a missing symbol) is a configuration
    /// error (exit 2), not a conformance failure. No machine is booted here: mmspec_init is the implementation's
    /// code, so its panic, crash or hang is a verdict of the run (DMAP-04 at boot), not a reason to refuse it.
    /// </summary>
    private static ResolvedImplementation ResolveNative(string path, TimeSpan? callTimeout, TimeSpan? sequenceTimeout)
    {
        if (path.Length == 0)
            throw new UsageException("--impl native:<path>: the path to the native library is missing");
        if (!File.Exists(path))
            throw new UsageException($"--impl native:{path}: no such file");
        string library = Path.GetFullPath(path);
        NativeFactory? factory = null;
        try
        {
            factory = new NativeFactory(library, callTimeout: callTimeout, sequenceTimeout: sequenceTimeout);
            factory.Start();
            string literal = library.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal);
            string timeouts = (callTimeout is { } call ? $", callTimeout: System.TimeSpan.FromSeconds({Seconds(call)})" : "")
                + (sequenceTimeout is { } sequence ? $", sequenceTimeout: System.TimeSpan.FromSeconds({Seconds(sequence)})" : "");
            return new ResolvedImplementation(factory.Name, factory, $"new Mmspec.NativeClient.NativeFactory(\"{literal}\"{timeouts})");
        }
        catch (Exception failure) when (failure is IOException or InvalidOperationException) // FileNotFound and UnusableHost are IOExceptions
        {
            factory?.Dispose();
            throw new UsageException($"--impl native:{path}: cannot be loaded: {failure.Message.ReplaceLineEndings(" ")}");
        }
    }

    private static string Seconds(TimeSpan span) => span.TotalSeconds.ToString("R", System.Globalization.CultureInfo.InvariantCulture);
}
