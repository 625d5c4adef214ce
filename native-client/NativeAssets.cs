namespace Mmspec.NativeClient;

/// <summary>
/// The C files mmspec carries for native implementations: <c>mmspec.h</c> (the contract a port builds against)
/// and the sources of <c>mmspec-host</c>. The build copies them beside the assembly under <c>native/</c>, so an
/// installed tool and a build in the repository find them the same way; a test host that does not copy them
/// finds them in the enclosing repository.
/// </summary>
public static class NativeAssets
{
    public const string HeaderName = "mmspec.h";

    /// <summary>The folder holding <c>mmspec.h</c>, for <c>-I</c>.</summary>
    /// <exception cref="FileNotFoundException">Neither beside the assembly nor in an enclosing repository.</exception>
    public static string IncludeDirectory => Find(Path.Combine("native", "include"), HeaderName);

    /// <summary>The folder holding the host's C sources (<c>server.c</c>, <c>machine.c</c>, …).</summary>
    /// <exception cref="FileNotFoundException">Neither beside the assembly nor in an enclosing repository.</exception>
    public static string HostSourceDirectory => Find(Path.Combine("native", "host"), "server.c");

    private static string Find(string folder, string file)
    {
        for (DirectoryInfo? at = new(AppContext.BaseDirectory); at is not null; at = at.Parent)
        {
            string candidate = Path.Combine(at.FullName, folder);
            if (File.Exists(Path.Combine(candidate, file)))
                return candidate;
        }
        throw new FileNotFoundException($"{Path.Combine(folder, file)} is not beside mmspec ({AppContext.BaseDirectory}): the installation is incomplete");
    }
}
