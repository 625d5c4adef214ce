using Mmspec.Tests.Native;

namespace Mmspec.Tests.Tool;

/// <summary>
/// The installed tool works where its users work, in a directory of their own: it finds mmspec.h and compiles
/// its host from the sources it carries, checks a native library there, and says so when it cannot build the host.
/// </summary>
[Trait("Category", "Tool")]
public sealed class ToolPackageTests(InstalledTool tool) : IClassFixture<InstalledTool>
{
    [Fact]
    public void The_package_carries_the_header_and_the_host_sources()
    {
        using var package = System.IO.Compression.ZipFile.OpenRead(tool.Package);
        string[] entries = package.Entries.Select(entry => entry.FullName).ToArray();
        Assert.Contains(entries, name => name.EndsWith("/native/include/mmspec.h", StringComparison.Ordinal));
        foreach (string source in new[] { "server.c", "machine.c", "snapshot.c", "wire.c", "channel.c", "host.h" })
            Assert.Contains(entries, name => name.EndsWith("/native/host/" + source, StringComparison.Ordinal));
        Assert.Contains(entries, name => name.EndsWith("/DotnetToolSettings.xml", StringComparison.Ordinal));
    }

    [Fact]
    public void The_installed_tool_passes_the_native_sample_and_rejects_a_native_zoo_member_from_outside_the_repository()
    {
        string sample = tool.CopyIn(NativeBuild.Sample);
        string buggy = tool.CopyIn(NativeBuild.ZooMember("umap-segfault"));
        Assert.False(File.Exists(Path.Combine(tool.Work, "mmspec-host")));

        (int passed, string passOutput) = tool.Mmspec(null, "check", "--impl", "native:" + sample);
        Assert.True(passed == 0, passOutput);
        Assert.Contains("conformant", passOutput, StringComparison.Ordinal);
        // The host was compiled into the cache, since none was beside the library or in a repository around the tool.
        string host = Assert.Single(Directory.GetFiles(tool.Cache, "mmspec-host", SearchOption.AllDirectories));

        DateTime built = File.GetLastWriteTimeUtc(host);
        (int failed, string failOutput) = tool.Mmspec(null, "check", "--impl", "native:" + buggy, "--report", Path.Combine(tool.Work, "report"));
        Assert.True(failed == 1, failOutput);
        Assert.Contains("nonconformant", failOutput, StringComparison.Ordinal);
        Assert.True(File.Exists(Path.Combine(tool.Work, "report", "junit.xml")));
        Assert.Equal(built, File.GetLastWriteTimeUtc(Assert.Single(Directory.GetFiles(tool.Cache, "mmspec-host", SearchOption.AllDirectories))));
    }

    [Fact]
    public void A_host_that_cannot_be_compiled_is_a_usage_error_naming_the_compiler()
    {
        string sample = tool.CopyIn(NativeBuild.Sample);
        var noCompiler = new Dictionary<string, string>
        {
            ["CC"] = "/nonexistent/cc",
            ["MMSPEC_CACHE"] = Path.Combine(tool.Root, "cache-without-compiler"),
        };
        (int exit, string output) = tool.Mmspec(noCompiler, "check", "--impl", "native:" + sample);
        Assert.True(exit == 2, output);
        Assert.Contains("/nonexistent/cc", output, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", output, StringComparison.Ordinal); // one line, no stack trace
    }

    [Fact]
    public void An_installed_port_starts_with_port_init_builds_against_the_installed_header_and_names_the_hook_to_fill_in()
    {
        (int printed, string include) = tool.Mmspec(null, "port", "include");
        Assert.True(printed == 0, include);
        string folder = include.Trim();
        Assert.StartsWith(tool.ToolPath, folder, StringComparison.Ordinal); // the tool's own copy, not the repository's
        Assert.True(File.Exists(Path.Combine(folder, "mmspec.h")));

        string port = Path.Combine(tool.Work, "port");
        (int initialised, string initOutput) = tool.Mmspec(null, "port", "init", port);
        Assert.True(initialised == 0, initOutput);
        Assert.Contains($"MMSPEC_INCLUDE ?= {folder}\n", File.ReadAllText(Path.Combine(port, "Makefile")), StringComparison.Ordinal);
        (int made, string build) = InstalledTool.Execute("make", port, ["-C", port]);
        Assert.True(made == 0, build);

        (int checkedExit, string output) = tool.Mmspec(null, "check", "--impl", "native:" + Path.Combine(port, "libport.so"), "--max-test", "3");
        Assert.True(checkedExit == 1, output);
        Assert.Contains("not implemented: mmspec_init (fill it in in mmspec_glue.c)", output, StringComparison.Ordinal);
    }
}
