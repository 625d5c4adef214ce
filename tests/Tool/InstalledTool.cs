using System.Diagnostics;
using System.Reflection;
using System.Runtime.InteropServices;
using Mmspec.Tests.Native;

namespace Mmspec.Tests.Tool;

/// <summary>
/// mmspec as a user gets it: `dotnet pack cli` (from the build this test run already made, no rebuild), then
/// `dotnet tool install --tool-path` from that folder, into a scratch directory outside the repository. NuGet's
/// package cache is a scratch folder too, so a package of the same version packed earlier is never the one installed.
/// Made once for all the tests of <see cref="ToolPackageTests"/>.
/// </summary>
public sealed class InstalledTool : IDisposable
{
    public InstalledTool()
    {
        Root = Directory.CreateTempSubdirectory("mmspec-tool-").FullName;
        string packages = Directory.CreateDirectory(Path.Combine(Root, "packages")).FullName;
        string configuration = typeof(Mmspec.Cli.Program).Assembly.GetCustomAttribute<AssemblyConfigurationAttribute>()?.Configuration ?? "Debug";
        Run("dotnet", NativeBuild.RepositoryRoot, ["pack", Path.Combine(NativeBuild.RepositoryRoot, "cli"), "--configuration", configuration, "--no-build", "--output", packages]);
        Package = Directory.GetFiles(packages, "mmspec.*.nupkg").Single();
        ToolPath = Path.Combine(Root, "tools");
        Run("dotnet", Root, ["tool", "install", "--tool-path", ToolPath, "--add-source", packages, "mmspec"]);
        Work = Directory.CreateDirectory(Path.Combine(Root, "work")).FullName;
        Cache = Path.Combine(Root, "cache");
    }

    /// <summary>The scratch directory holding everything below.</summary>
    public string Root { get; }

    public string Package { get; }

    public string ToolPath { get; }

    /// <summary>The installed command, as `dotnet tool install --tool-path` puts it.</summary>
    public string Command => Path.Combine(ToolPath, "mmspec");

    /// <summary>A working directory outside the repository, for the user's own files.</summary>
    public string Work { get; }

    /// <summary>The per-user cache the installed tool is pointed at ($MMSPEC_CACHE), where it compiles its host.</summary>
    public string Cache { get; }

    /// <summary>The installed tool, run in <see cref="Work"/> with <see cref="Cache"/> as its cache.</summary>
    public (int ExitCode, string Output) Mmspec(IReadOnlyDictionary<string, string>? environment, params string[] args)
    {
        var all = new Dictionary<string, string> { ["MMSPEC_CACHE"] = Cache };
        foreach ((string name, string value) in environment ?? new Dictionary<string, string>())
            all[name] = value;
        return Execute(Command, Work, args, all);
    }

    /// <summary>Copies a file into <see cref="Work"/>, so nothing of the repository (its native/build/mmspec-host) is beside it.</summary>
    public string CopyIn(string file)
    {
        string copy = Path.Combine(Work, Path.GetFileName(file));
        File.Copy(file, copy, overwrite: true);
        return copy;
    }

    public void Dispose() => Directory.Delete(Root, recursive: true);

    private void Run(string program, string directory, string[] args)
    {
        (int exit, string output) = Execute(program, directory, args, new Dictionary<string, string>());
        if (exit != 0)
            throw new InvalidOperationException($"{program} {string.Join(' ', args)} exited {exit}:\n{output}");
    }

    /// <summary>Any program, as the user would run it there (make, say), with mmspec's variables unset.</summary>
    public static (int ExitCode, string Output) Execute(string program, string directory, string[] args) =>
        Execute(program, directory, args, new Dictionary<string, string>(), nugetPackages: null);

    private (int ExitCode, string Output) Execute(string program, string directory, string[] args, IReadOnlyDictionary<string, string> environment) =>
        Execute(program, directory, args, environment, Path.Combine(Root, "nuget"));

    private static (int ExitCode, string Output) Execute(string program, string directory, string[] args, IReadOnlyDictionary<string, string> environment, string? nugetPackages)
    {
        var start = new ProcessStartInfo(program)
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = directory,
        };
        foreach (string arg in args)
            start.ArgumentList.Add(arg);
        if (nugetPackages is not null)
            start.Environment["NUGET_PACKAGES"] = nugetPackages;
        start.Environment["DOTNET_ROOT"] = DotnetRoot;
        start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        start.Environment["DOTNET_NOLOGO"] = "1";
        foreach (string name in new[] { "MMSPEC_HOST", "CC", "MMSPEC_CACHE" })
            start.Environment.Remove(name);
        foreach ((string name, string value) in environment)
            start.Environment[name] = value;
        using Process process = Process.Start(start) ?? throw new InvalidOperationException($"could not start {program}");
        Task<string> errors = process.StandardError.ReadToEndAsync();
        Task<string> output = process.StandardOutput.ReadToEndAsync();
        if (!process.WaitForExit(TimeSpan.FromMinutes(3)))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{program} {string.Join(' ', args)} did not finish within 3 minutes");
        }
        process.WaitForExit();
        return (process.ExitCode, output.Result + errors.Result);
    }

    // The runtime this test runs on: .../dotnet/shared/Microsoft.NETCore.App/<version>/ lies three levels below it.
    private static string DotnetRoot =>
        Path.GetFullPath(Path.Combine(RuntimeEnvironment.GetRuntimeDirectory(), "..", "..", ".."));
}
