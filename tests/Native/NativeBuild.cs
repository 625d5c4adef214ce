using System.Diagnostics;

namespace Mmspec.Tests.Native;

/// <summary>Builds native/ once per test run with the machine's C compiler (`make -C native`) and locates its outputs.</summary>
public static class NativeBuild
{
    private static readonly Lazy<string> Built = new(Build, LazyThreadSafetyMode.ExecutionAndPublication);

    /// <summary>The repository root: the folder holding mmspec.sln, found by walking up from the test binaries.</summary>
    public static string RepositoryRoot { get; } = FindRoot();

    /// <summary>native/build/, after a successful make.</summary>
    public static string BuildFolder => Built.Value;

    public static string Sample => Path.Combine(BuildFolder, "libsample.so");

    public static string ZooMember(string bug) => Path.Combine(BuildFolder, $"libsample-{bug}.so");

    /// <summary>A hostile runner (native/hostile/): the sample with one act against the host, e.g. "fork-sleeper".</summary>
    public static string Hostile(string name) => Path.Combine(BuildFolder, $"libhostile-{name}.so");

    public static string Host => Path.Combine(BuildFolder, "mmspec-host");

    private static string FindRoot()
    {
        for (DirectoryInfo? folder = new(AppContext.BaseDirectory); folder is not null; folder = folder.Parent)
            if (File.Exists(Path.Combine(folder.FullName, "mmspec.sln")))
                return folder.FullName;
        throw new InvalidOperationException($"no mmspec.sln above {AppContext.BaseDirectory}");
    }

    private static string Build()
    {
        var start = new ProcessStartInfo("make", ["-C", Path.Combine(RepositoryRoot, "native")])
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using Process make = Process.Start(start) ?? throw new InvalidOperationException("could not start make");
        Task<string> output = make.StandardOutput.ReadToEndAsync();
        Task<string> errors = make.StandardError.ReadToEndAsync();
        if (!make.WaitForExit(TimeSpan.FromMinutes(3)))
        {
            make.Kill(entireProcessTree: true);
            throw new InvalidOperationException("make -C native took more than 3 minutes");
        }
        if (make.ExitCode != 0)
            throw new InvalidOperationException($"make -C native failed ({make.ExitCode}):\n{output.Result}\n{errors.Result}");
        return Path.Combine(RepositoryRoot, "native", "build");
    }
}
