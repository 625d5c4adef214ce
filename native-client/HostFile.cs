using System.Runtime.InteropServices;

namespace Mmspec.NativeClient;

/// <summary>
/// Checks that the host file can be run before the first server is started, so that a wrong
/// <c>$MMSPEC_HOST</c> is one line naming the file and the cause rather than an exception from deep in
/// Process.Start at the first machine.
/// </summary>
internal static class HostFile
{
    private const int ExecuteOk = 1; // X_OK

    /// <param name="origin">Where the path came from, for the message: "MMSPEC_HOST", or null for a path found or given.</param>
    /// <exception cref="FileNotFoundException">No host where one was looked for (run make).</exception>
    /// <exception cref="UnusableHostException">The file is missing although named, a directory, or not executable.</exception>
    public static void Check(string path, string? origin)
    {
        if (Directory.Exists(path))
            throw Unusable(path, origin, "is a directory, not the mmspec-host executable");
        if (!File.Exists(path))
        {
            if (origin is null)
                throw new FileNotFoundException($"mmspec-host not found at {path} (run `make -C native`)", path);
            throw Unusable(path, origin, "does not exist");
        }
        // access(2) rather than the mode bits: it answers for this process's user and groups, and for a file
        // system mounted noexec.
        if (Access(path, ExecuteOk) != 0)
            throw Unusable(path, origin, $"is not executable ({Marshal.GetLastPInvokeErrorMessage()})");
    }

    /// <summary>A file that passed <see cref="Check"/> and still cannot be started (e.g. not a program at all: "Exec format error").</summary>
    public static UnusableHostException CannotStart(string path, string? origin, string why) => Unusable(path, origin, $"cannot be started: {why}");

    private static UnusableHostException Unusable(string path, string? origin, string reason)
    {
        string named = origin is null ? $"the host {path}" : $"{origin}={path}";
        return new UnusableHostException(path, reason, $"{named} {reason}");
    }

    [DllImport("libc", EntryPoint = "access", SetLastError = true)]
    private static extern int Access([MarshalAs(UnmanagedType.LPUTF8Str)] string path, int mode);
}
