using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;

namespace Mmspec.NativeClient;

/// <summary>
/// Compiles <c>mmspec-host</c> from the sources mmspec carries (<see cref="NativeAssets"/>) with the system's C
/// compiler, once per source version and compiler, into a per-user cache. This is how an installed tool gets its
/// host: a port needs a C compiler anyway, and a host built here matches the machine's libc and architecture,
/// which a binary packed elsewhere might not (native/README.md, "Installing the tool", has the measurement).
/// </summary>
public static class HostBuild
{
    public const string HostName = "mmspec-host";

    /// <summary>The compiler: <c>$CC</c>, else <c>cc</c>.</summary>
    public static string Compiler => Environment.GetEnvironmentVariable("CC") is { Length: > 0 } named ? named : "cc";

    /// <summary>
    /// The cache root: <c>$MMSPEC_CACHE</c>, else <c>$XDG_CACHE_HOME/mmspec</c>, else <c>~/.cache/mmspec</c>.
    /// </summary>
    public static string CacheRoot
    {
        get
        {
            if (Environment.GetEnvironmentVariable("MMSPEC_CACHE") is { Length: > 0 } named)
                return Path.GetFullPath(named);
            string? xdg = Environment.GetEnvironmentVariable("XDG_CACHE_HOME");
            string root = xdg is { Length: > 0 } ? xdg : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache");
            return Path.Combine(Path.GetFullPath(root), "mmspec");
        }
    }

    /// <summary>
    /// The cached host for these sources and this compiler, compiled first if it is not there. Concurrent callers
    /// (shards started together) each compile into a file of their own and rename it into place, so none ever
    /// runs a half-written host.
    /// </summary>
    /// <exception cref="InvalidOperationException">The sources are missing, or the compiler cannot be run or fails; the message says which.</exception>
    public static string Ensure()
    {
        string sources, include;
        try
        {
            sources = NativeAssets.HostSourceDirectory;
            include = NativeAssets.IncludeDirectory;
        }
        catch (FileNotFoundException missing)
        {
            throw new InvalidOperationException($"{HostName} cannot be built: {missing.Message}");
        }
        string[] files = Directory.GetFiles(sources, "*.c").Order(StringComparer.Ordinal).ToArray();
        string folder = Path.Combine(CacheRoot, "host-" + Fingerprint(files, sources, include));
        string host = Path.Combine(folder, HostName);
        if (File.Exists(host))
            return host;
        Directory.CreateDirectory(folder);
        string partial = Path.Combine(folder, $".{HostName}.{Environment.ProcessId}.{Guid.NewGuid():N}");
        try
        {
            Compile(files, sources, include, partial);
            File.Move(partial, host, overwrite: true);
        }
        finally
        {
            File.Delete(partial);
        }
        return host;
    }

    private static void Compile(string[] files, string sources, string include, string output)
    {
        var start = new ProcessStartInfo(Compiler)
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (string argument in new[] { "-O2", "-I", include, "-I", sources, "-o", output })
            start.ArgumentList.Add(argument);
        foreach (string file in files)
            start.ArgumentList.Add(file);
        start.ArgumentList.Add("-ldl");
        Process compiler;
        try
        {
            compiler = Process.Start(start) ?? throw new InvalidOperationException($"could not start {Compiler}");
        }
        catch (System.ComponentModel.Win32Exception refused)
        {
            throw new InvalidOperationException($"{HostName} must be compiled on first native use, and the C compiler '{Compiler}' cannot be run ({refused.Message}); set CC, or MMSPEC_HOST to a built host");
        }
        using (compiler)
        {
            Task<string> errors = compiler.StandardError.ReadToEndAsync();
            compiler.StandardOutput.ReadToEnd();
            compiler.WaitForExit();
            if (compiler.ExitCode != 0)
                throw new InvalidOperationException($"compiling {HostName} with '{Compiler}' failed (exit {compiler.ExitCode}): {errors.Result.Trim()}");
        }
    }

    // The cache key: the compiler's name and every byte of the sources and the header, so an upgraded tool
    // never runs a host of older sources.
    private static string Fingerprint(string[] files, string sources, string include)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        hash.AppendData(Encoding.UTF8.GetBytes(Compiler + "\n"));
        foreach (string file in files.Concat(Directory.GetFiles(sources, "*.h").Order(StringComparer.Ordinal)).Append(Path.Combine(include, NativeAssets.HeaderName)))
        {
            hash.AppendData(Encoding.UTF8.GetBytes(Path.GetFileName(file) + "\n"));
            hash.AppendData(File.ReadAllBytes(file));
        }
        return Convert.ToHexStringLower(hash.GetHashAndReset())[..16];
    }
}
