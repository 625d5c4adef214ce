namespace Mmspec.NativeClient;

/// <summary>The suite's own files in /dev/shm (RAM, machine logs): deleted when done with, and already gone is fine.</summary>
internal static class ScratchFile
{
    public static void Delete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (IOException)
        {
        }
    }
}
