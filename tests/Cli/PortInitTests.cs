using System.Diagnostics;
using System.Text.Json;
using System.Text.RegularExpressions;
using Mmspec.Cli.Port;
using Mmspec.NativeClient;
using Mmspec.Tests.Native;

namespace Mmspec.Tests.Cli;

/// <summary>
/// <c>mmspec port init DIR</c>: its output builds with make as written, loads in the host, and fails check with a panic
/// that names the hook to fill in; it never overwrites a port under way unless forced.
/// </summary>
[Trait("Category", "Cli")]
public sealed partial class PortInitTests
{
    [Fact]
    [Trait("Category", "Native")]
    public void Output_builds_with_make_and_check_fails_at_boot_naming_mmspec_init_and_the_glue_file()
    {
        using var scratch = new ScratchDirectory();
        string port = scratch["my-kernel/port"]; // missing, parent included: port init creates it
        CliRun init = CliRun.Of("port", "init", port);
        Assert.True(init.ExitCode == 0, init.ToString());
        Assert.All(PortInit.Files, file => Assert.True(File.Exists(Path.Combine(port, file)), file));
        Assert.Contains($"MMSPEC_INCLUDE ?= {Path.GetFullPath(NativeAssets.IncludeDirectory)}\n", File.ReadAllText(Path.Combine(port, "Makefile")));

        string build = Make(port);
        Assert.DoesNotContain("warning:", build, StringComparison.Ordinal);
        string library = Path.Combine(port, BuildTemplates.LibraryName);
        Assert.True(File.Exists(library), build);

        _ = NativeBuild.Host; // mmspec-host built in native/build/, where check finds it
        CliRun check = CliRun.Of("check", "--impl", $"native:{library}", "--max-test", "3", "--report", scratch["reports"]);

        Assert.True(check.ExitCode == 1, check.ToString());
        string stub = GlueTemplate.PanicText("mmspec_init");
        Assert.Contains($"panicked (PortStub): kernel panic (PortStub) in mmspec_init: {stub}", check.Stdout);
        // Every property boots first, so every one stops there: the one hook is the whole story, at boot.
        JsonElement[] properties = new ReportFiles(scratch["reports"]).Properties.ToArray();
        Assert.NotEmpty(properties);
        Assert.All(properties, property =>
        {
            JsonElement failure = property.GetProperty("failure");
            Assert.Equal("DMAP-04", failure.GetProperty("clause").GetString());
            Assert.Contains(stub, failure.GetProperty("message").GetString(), StringComparison.Ordinal);
        });
    }

    // The host's own list of symbols (server.c) is what the glue must define: each a stub naming itself, each exported.
    [Fact]
    public void Glue_stubs_every_symbol_the_host_needs_each_naming_itself()
    {
        string server = File.ReadAllText(Path.Combine(NativeAssets.HostSourceDirectory, "server.c"));
        string[] needed = NeededSymbol().Matches(server).Select(match => match.Groups["name"].Value).ToArray();
        Assert.Contains("mmspec_init", needed);
        Assert.Contains("vmfree", needed);
        Assert.All(needed, symbol =>
        {
            Assert.Matches($@"\b{symbol}\([^)]*\)\n\{{\n(?:    .*\n)*    NOT_IMPLEMENTED\(""{symbol}""\);\n\}}", GlueTemplate.Text);
            Assert.Contains($"        {symbol};\n", BuildTemplates.Exports);
        });
        Assert.Contains("\"PortStub: mmspec port: not implemented: \" function \" (fill it in in mmspec_glue.c)\"", GlueTemplate.Text);
        Assert.Equal("PortStub: mmspec port: not implemented: kfree (fill it in in mmspec_glue.c)", GlueTemplate.PanicText("kfree"));
    }

    [Fact]
    public void Refuses_to_overwrite_a_port_under_way_in_one_line_with_exit_2_and_writes_nothing()
    {
        using var scratch = new ScratchDirectory();
        string makefile = scratch.Write("Makefile", "# mine\n");
        string notes = scratch.Write("notes.txt", "not a file port init writes\n");

        CliRun run = CliRun.Of("port", "init", scratch.Path);

        Assert.True(run.ExitCode == 2, run.ToString());
        Assert.Equal($"mmspec: port init {scratch.Path}: already holds Makefile; not overwritten (--force overwrites them)\n", run.Stderr.ReplaceLineEndings("\n"));
        Assert.Equal("# mine\n", File.ReadAllText(makefile));
        Assert.False(File.Exists(scratch[GlueTemplate.FileName]), "nothing is written when anything would be overwritten");
        Assert.True(File.Exists(notes));
    }

    [Fact]
    public void Force_overwrites_the_files_it_writes_and_leaves_the_rest()
    {
        using var scratch = new ScratchDirectory();
        scratch.Write(GlueTemplate.FileName, "/* an old attempt */\n");
        string notes = scratch.Write("notes.txt", "kept\n");

        CliRun run = CliRun.Of("port", "init", scratch.Path, "--force");

        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Equal(GlueTemplate.Text, File.ReadAllText(scratch[GlueTemplate.FileName]));
        Assert.Equal("kept\n", File.ReadAllText(notes));
    }

    [Fact]
    public void A_file_in_place_of_the_directory_is_a_usage_error()
    {
        using var scratch = new ScratchDirectory();
        string file = scratch.Write("port", "");

        CliRun run = CliRun.Of("port", "init", file);

        Assert.True(run.ExitCode == 2, run.ToString());
        Assert.Equal($"mmspec: port init {file}: is a file, not a directory\n", run.Stderr.ReplaceLineEndings("\n"));
    }

    private static string Make(string directory)
    {
        var start = new ProcessStartInfo("make") { WorkingDirectory = directory, UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        using Process make = Process.Start(start) ?? throw new InvalidOperationException("could not start make");
        Task<string> output = make.StandardOutput.ReadToEndAsync();
        Task<string> errors = make.StandardError.ReadToEndAsync();
        Assert.True(make.WaitForExit(TimeSpan.FromMinutes(1)), "make took more than a minute");
        string all = output.Result + errors.Result;
        Assert.True(make.ExitCode == 0, $"make failed ({make.ExitCode}):\n{all}");
        return all;
    }

    [GeneratedRegex(@"need\(library, ""(?<name>[a-z_]+)""\)")]
    private static partial Regex NeededSymbol();
}
