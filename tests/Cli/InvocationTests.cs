using Mmspec.Cli;

namespace Mmspec.Tests.Cli;

/// <summary>The replay line names mmspec as the user ran it, so it can be pasted back into the same shell.</summary>
public sealed class InvocationTests
{
    private static readonly string Root = NativeRoot();

    [Fact]
    public void Run_from_a_clone_is_dotnet_run_of_the_project_relative_to_the_working_directory()
    {
        string dll = Path.Combine(Root, "cli", "bin", "Release", "net10.0", "mmspec.dll");
        Assert.Equal("dotnet run --project cli --", Invocation.Find(Path.Combine(Path.GetDirectoryName(dll)!, "mmspec"), dll, Root));
    }

    [Fact]
    public void Run_through_the_dotnet_host_names_the_dll()
    {
        Assert.Equal("dotnet /opt/mmspec/mmspec.dll", Invocation.Find("/usr/bin/dotnet", "/opt/mmspec/mmspec.dll", "/home/me/kernel"));
        Assert.Equal("dotnet 'my tools/mmspec.dll'", Invocation.Find("/usr/bin/dotnet", "/home/me/my tools/mmspec.dll", "/home/me"));
    }

    [Fact]
    public void An_installed_tool_is_mmspec()
    {
        Assert.Equal("mmspec", Invocation.Find("/home/me/.dotnet/tools/mmspec", "/home/me/.dotnet/tools/.store/mmspec/1.0.0/mmspec/1.0.0/tools/net10.0/any/mmspec.dll", "/home/me/kernel"));
    }

    private static string NativeRoot() => Mmspec.Tests.Native.NativeBuild.RepositoryRoot;
}
