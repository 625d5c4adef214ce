namespace Mmspec.Cli;

/// <summary>
/// How the user ran mmspec, so that a replay line can be pasted back into the same shell: the installed tool
/// (<c>mmspec</c>), <c>dotnet run --project</c> in a clone (the build output lies under the project's bin/),
/// or <c>dotnet path/to/mmspec.dll</c>.
/// </summary>
public static class Invocation
{
    public static string Command { get; } = Find(Environment.ProcessPath, typeof(Invocation).Assembly.Location, Directory.GetCurrentDirectory());

    /// <param name="process">The running executable: mmspec's app host, the dotnet host, or a test runner.</param>
    /// <param name="assembly">mmspec.dll.</param>
    public static string Find(string? process, string assembly, string workingDirectory)
    {
        string name = Path.GetFileNameWithoutExtension(process ?? "");
        if (name == "dotnet")
            return $"dotnet {CheckOptions.ShellQuoted(Relative(assembly, workingDirectory))}";
        // <project>/bin/<configuration>/<framework>/mmspec.dll: built by dotnet build or dotnet run in a clone.
        DirectoryInfo? framework = new FileInfo(assembly).Directory;
        DirectoryInfo? project = framework?.Parent?.Parent?.Parent;
        if (framework?.Parent?.Parent?.Name == "bin" && project is not null && File.Exists(Path.Combine(project.FullName, "Mmspec.Cli.csproj")))
            return $"dotnet run --project {CheckOptions.ShellQuoted(Relative(project.FullName, workingDirectory))} --";
        return "mmspec";
    }

    private static string Relative(string path, string workingDirectory)
    {
        string relative = Path.GetRelativePath(workingDirectory, path);
        return relative.StartsWith("..", StringComparison.Ordinal) ? path : relative;
    }
}
