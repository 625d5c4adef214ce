namespace Mmspec.NativeClient;

/// <summary>
/// Where a machine's stdout and stderr go: a file the suite creates next to the machine's RAM and the
/// machine hands to its server, which writes there what the machine prints and keeps the last MiB of it
/// (native/README.md). Its last lines are quoted when the machine dies ("host stderr: …").
/// </summary>
internal sealed class MachineLog : IDisposable
{
    private const int TailBytes = 4096;
    private const int TailLines = 8;

    private readonly FileStream file;

    public MachineLog(string path)
    {
        Path = path;
        file = new FileStream(path, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.ReadWrite | FileShare.Delete);
    }

    public string Path { get; }

    /// <summary>Bytes in the log now: the host keeps it to at most the last MiB of what the machine printed.</summary>
    public long Length => file.Length;

    /// <summary>The last lines written, joined with " | "; empty when the machine wrote nothing.</summary>
    public string Tail()
    {
        try
        {
            long length = file.Length;
            int count = (int)Math.Min(length, TailBytes);
            var bytes = new byte[count];
            file.Position = length - count;
            file.ReadExactly(bytes);
            string[] lines = System.Text.Encoding.UTF8.GetString(bytes).Split('\n', StringSplitOptions.RemoveEmptyEntries);
            return ForeignText.Printable(string.Join(" | ", lines.TakeLast(TailLines)));
        }
        catch (IOException)
        {
            return "";
        }
    }

    /// <summary>Removes the name once the machine has opened the file; this process keeps reading it.</summary>
    public void Unlink() => ScratchFile.Delete(Path);

    public void Dispose()
    {
        file.Dispose();
        Unlink();
    }
}
