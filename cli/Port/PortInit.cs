using Mmspec.NativeClient;

namespace Mmspec.Cli.Port;

/// <summary>
/// <c>mmspec port init DIR</c>: writes the starting point of a port of a kernel's memory manager (the glue, a Makefile
/// against the mmspec.h this mmspec carries, the export list and a README). It never overwrites a file of a port
/// already under way unless told to: the glue is where the user's work goes.
/// </summary>
public static class PortInit
{
    /// <summary>Every file it writes, in the order it lists them.</summary>
    public static IReadOnlyList<string> Files { get; } =
        [GlueTemplate.FileName, BuildTemplates.MakefileName, BuildTemplates.ExportsName, ReadmeTemplate.FileName];

    public static int Run(string directory, bool force, TextWriter stdout, TextWriter stderr)
    {
        try
        {
            Write(directory, force);
            stdout.WriteLine($"wrote {string.Join(", ", Files)} in {directory}");
            string library = Path.Combine(directory, BuildTemplates.LibraryName);
            stdout.WriteLine($"next: fill in {Path.Combine(directory, GlueTemplate.FileName)}, then: make -C {CheckOptions.ShellQuoted(directory)} && "
                             + $"{Invocation.Command} check --impl {CheckOptions.ShellQuoted($"native:{library}")}");
            return ExitCodes.Success;
        }
        catch (UsageException mistake)
        {
            stderr.WriteLine($"mmspec: {mistake.Message}");
            return ExitCodes.UsageError;
        }
    }

    /// <exception cref="UsageException">
    /// DIR is a file, already holds a file it would write (without <paramref name="force"/>), cannot be written, or
    /// this mmspec's copy of mmspec.h is missing.
    /// </exception>
    public static void Write(string directory, bool force)
    {
        if (File.Exists(directory))
            throw new UsageException($"port init {directory}: is a file, not a directory");
        List<string> existing = Files.Where(file => Path.Exists(Path.Combine(directory, file))).ToList();
        if (existing.Count > 0 && !force)
            throw new UsageException($"port init {directory}: already holds {string.Join(", ", existing)}; not overwritten (--force overwrites them)");

        Dictionary<string, string> contents = new()
        {
            [GlueTemplate.FileName] = GlueTemplate.Text,
            [BuildTemplates.MakefileName] = BuildTemplates.Makefile(IncludeDirectory()),
            [BuildTemplates.ExportsName] = BuildTemplates.Exports,
            [ReadmeTemplate.FileName] = ReadmeTemplate.Text(Invocation.Command),
        };
        try
        {
            Directory.CreateDirectory(directory);
            foreach (string file in Files)
                File.WriteAllText(Path.Combine(directory, file), contents[file]);
        }
        catch (Exception error) when (error is IOException or UnauthorizedAccessException)
        {
            throw new UsageException($"port init {directory}: cannot write there: {error.Message}");
        }
    }

    // The Makefile names the header's folder as an absolute path: the port lives outside mmspec's tree.
    private static string IncludeDirectory()
    {
        try
        {
            return Path.GetFullPath(NativeAssets.IncludeDirectory);
        }
        catch (FileNotFoundException missing)
        {
            throw new UsageException($"port init: {missing.Message}");
        }
    }
}
