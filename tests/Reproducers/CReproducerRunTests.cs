using System.Text.RegularExpressions;
using Mmspec.NativeClient;
using Mmspec.SpecTests.Catalogue;
using Mmspec.SpecTests.Properties;
using Mmspec.SpecTests.Reproducers;
using Mmspec.Tests.Native;
using Mmspec.Zoo;
using Xunit.Abstractions;

namespace Mmspec.Tests.Reproducers;

/// <summary>
/// Every zoo member's C reproducer, compiled with gcc and native/repro/main.c, runs to its end on the native
/// sample (exit 0) and, for the native zoo, fails on the member's own build (an assertion, a panic, a crash, or
/// a hang killed by the timeout). A C# zoo member's bug is in C#, so only the sample run applies there; its
/// reproducer must still assert something at its last step.
/// </summary>
[Trait("Category", "Native")]
public sealed partial class CReproducerRunTests(ITestOutputHelper output)
{
    private static readonly TimeSpan RunTimeout = TimeSpan.FromSeconds(20);

    public static TheoryData<string> CSharpZoo() => [.. ZooCatalogue.All.Select(member => member.Name)];

    /// <summary>The native members and the property that catches each (<see cref="NativeZooCatalogue"/>).</summary>
    public static TheoryData<string, string> NativeZoo()
    {
        var data = new TheoryData<string, string>();
        foreach (NativeZooMember member in NativeZooCatalogue.All)
            data.Add(member.Name, member.CaughtBy);
        return data;
    }

    [Theory]
    [MemberData(nameof(CSharpZoo))]
    public void CSharp_zoo_reproducer_passes_on_the_sample_and_asserts_at_its_last_step(string name)
    {
        ZooMember member = ZooCatalogue.Find(name);
        var settings = new RunSettings(Profile.Default);
        PropertyResult result = PropertyCatalogue.Find(member.CaughtBy).Check(member.Factory, settings);
        Assert.Equal(Verdict.Failed, result.Verdict);
        string c = Reproducer.C(result, settings, $"zoo:{name}");
        output.WriteLine(c);

        string executable = Compile(c, result, NativeBuild.Sample, $"cs-{name}");
        (int exit, string log) = Run(executable, result.Failure!.RamSize);
        output.WriteLine($"on the sample: exit {exit}\n{log}");
        Assert.True(exit == 0, $"the reproducer of {name} fails on the sample (exit {exit}):\n{log}");
        AssertShape(result, c);
    }

    [Theory]
    [MemberData(nameof(NativeZoo))]
    public void Native_zoo_reproducer_fails_on_its_bug_and_passes_on_the_sample(string bug, string propertyId)
    {
        var settings = new RunSettings(Profile.Default);
        PropertyResult result;
        using (var factory = new NativeFactory(NativeBuild.ZooMember(bug), callTimeout: bug == "vmfind-hang" ? TimeSpan.FromMilliseconds(400) : null))
            result = PropertyCatalogue.Find(propertyId).Check(factory, settings);
        Assert.Equal(Verdict.Failed, result.Verdict);
        string c = Reproducer.C(result, settings, $"native:libsample-{bug}.so");
        output.WriteLine(c);

        (int onSample, string sampleLog) = Run(Compile(c, result, NativeBuild.Sample, $"native-{bug}-sample"), result.Failure!.RamSize);
        output.WriteLine($"on the sample: exit {onSample}\n{sampleLog}");
        (int onBug, string bugLog) = Run(Compile(c, result, NativeBuild.ZooMember(bug), $"native-{bug}"), result.Failure!.RamSize);
        output.WriteLine($"on libsample-{bug}.so: exit {onBug}\n{bugLog}");
        Assert.True(onSample == 0, $"the reproducer of {bug} fails on the sample (exit {onSample}):\n{sampleLog}");
        Assert.True(onBug != 0, $"the reproducer of {bug} passes on the bug's own build:\n{bugLog}");
        AssertShape(result, c);
    }

    /// <summary>The drain buffer holds every page of RAM and one more, and the failing step asserts something real.</summary>
    private static void AssertShape(PropertyResult result, string c)
    {
        Failure failure = result.Failure!;
        if (failure.Replay.DrainsFreePages)
            Assert.Contains($"drained[{failure.RamSize / 4096 + 1}]", c);
        int last = c.LastIndexOf("/* step ", StringComparison.Ordinal);
        Assert.True(last >= 0, "the reproducer has no step");
        string tail = c[last..];
        Assert.Contains("assert(", tail);
        Assert.DoesNotContain("the violation is in the state after this call", c);
    }

    private static string Compile(string source, PropertyResult result, string library, string name)
    {
        string folder = Path.Combine(Path.GetTempPath(), $"mmspec-repro-{Environment.ProcessId}");
        Directory.CreateDirectory(folder);
        string file = Path.Combine(folder, $"{name}.c");
        File.WriteAllText(file, source);
        string executable = Path.Combine(folder, name);
        string native = Path.Combine(NativeBuild.RepositoryRoot, "native");
        string function = $"mmspec_reproduce_{Identifier().Replace(result.PropertyId, "_")}";
        (int exit, string log) = ProgramRun.Execute("gcc", ["-O2", "-Wall", "-Wextra", "-Werror", "-I", Path.Combine(native, "include"), $"-DMMSPEC_REPRODUCE={function}",
            "-o", executable, Path.Combine(native, "repro", "main.c"), file, library], TimeSpan.FromMinutes(2));
        Assert.True(exit == 0, $"gcc failed on {file} ({exit}):\n{log}\n---\n{source}");
        return executable;
    }

    private static (int Exit, string Log) Run(string executable, ulong ramSize) =>
        ProgramRun.Execute(executable, [$"0x{ramSize:X}"], RunTimeout);

    [GeneratedRegex("[^A-Za-z0-9]")]
    private static partial Regex Identifier();
}
