namespace Mmspec.NativeClient;

/// <summary>
/// The file named as <c>mmspec-host</c> cannot be run at all: it does not exist, is a directory, is not
/// executable, or is not a program the system can start. A configuration error, found before any machine
/// runs; <see cref="Exception.Message"/> names the file, where the name came from and the cause.
/// </summary>
public sealed class UnusableHostException(string path, string reason, string message) : IOException(message)
{
    public string HostPath { get; } = path;

    /// <summary>The cause alone ("is a directory", "is not executable", …).</summary>
    public string Reason { get; } = reason;
}
