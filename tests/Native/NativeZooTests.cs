using Mmspec.SpecTests.Adapters.Native;
using Mmspec.SpecTests.Port;
using Mmspec.SpecTests.Catalogue;
using Mmspec.SpecTests.Properties;
using Xunit.Abstractions;

namespace Mmspec.Tests.Native;

/// <summary>
/// The native bug zoo (native/build/libsample-&lt;bug&gt;.so, one -DMMSPEC_BUG_&lt;BUG&gt; each): every member is
/// caught by the property named here, in the default profile, and the hostile ones (crash, abort, hang,
/// panic on a valid call, scribbling) are reported as what they are while the runner itself carries on.
/// </summary>
[Trait("Category", "Native")]
public sealed class NativeZooTests(ITestOutputHelper output)
{
    /// <summary>Short, so that shrinking a hang (one timeout per failing candidate) stays quick.</summary>
    private static readonly TimeSpan HangTimeout = TimeSpan.FromMilliseconds(400);

    /// <summary>
    /// Runs with the default 100 tests: a run stops at its first failure, and FsCheck's sizes grow with the test
    /// number, so the first failing sequence is short and cheap to shrink (fewer tests make sizes grow faster).
    /// </summary>
    [Theory]
    // hostile
    [InlineData("umap-segfault", "stateful.mapping", "MAP-", "host crashed: SIGSEGV")]
    [InlineData("contiguous-abort", "stateful.physical", "PHYS-", "host crashed: SIGABRT")]
    [InlineData("vmfind-hang", "vmfind.bounds", "VM-", "host hung: no reply within")]
    [InlineData("kmalloc-large-panics", "heap.alignment", "HEAP-", "panicked (HeapLargeUnsupported)")]
    [InlineData("free-scribbles-next", "stateful.physical", "PHYS-01", "lost the pattern")]
    [InlineData("panic-text-controls", "stateful.physical", "PHYS-", "no contiguous allocator\\x1B[0m\\x07")]
    // ordinary
    [InlineData("vmfind-inclusive-to", "vmfind.bounds", "VM-01", null)]
    [InlineData("umap-returns-entry", "stateful.mapping", "MAP-1", null)]
    [InlineData("kmalloc-misaligned", "heap.alignment", "HEAP-02", null)]
    [InlineData("contiguous-includes-used", "stateful.physical", "PHYS-03", null)]
    // vmalloc's rollback releases pages as vmfree does: the leak is traced to the vmalloc that failed (VM-07)
    [InlineData("vmfree-leaks", "stateful.regions", "VM-09|PHYS-06|VM-07", null)]
    [InlineData("map-ignores-exec", "stateful.mapping", "MAP-04", null)]
    public void Zoo_member_is_caught(string bug, string propertyId, string clause, string? message)
    {
        using var factory = new NativeFactory(NativeBuild.ZooMember(bug), callTimeout: bug == "vmfind-hang" ? HangTimeout : null);
        PropertyResult result = PropertyCatalogue.Find(propertyId).Check(factory, new RunSettings(Profile.Default));
        output.WriteLine($"{factory.Name} {propertyId}: {result.Verdict} after {result.Tests} sequences in {result.Elapsed.TotalSeconds:F2} s");
        if (result.Failure is { } failure)
            output.WriteLine(failure.Describe());
        Assert.Equal(Verdict.Failed, result.Verdict);
        Failure found = result.Failure!;
        Assert.True(clause.Split('|').Any(prefix => found.Violation.Clause.StartsWith(prefix, StringComparison.Ordinal)),
            $"expected a violation of {clause}, got {found.Violation.Clause}: {found.Violation.Message}");
        if (message is not null)
            Assert.Contains(message, found.Violation.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Every_zoo_member_built_by_make_has_a_test()
    {
        string[] built = Directory.GetFiles(NativeBuild.BuildFolder, "libsample-*.so")
            .Select(path => Path.GetFileNameWithoutExtension(path)["libsample-".Length..]).Order(StringComparer.Ordinal).ToArray();
        string[] tested = typeof(NativeZooTests).GetMethod(nameof(Zoo_member_is_caught))!
            .GetCustomAttributes(typeof(InlineDataAttribute), false).Cast<InlineDataAttribute>()
            .Select(data => (string)data.GetData(null!).Single()[0]).Order(StringComparer.Ordinal).ToArray();
        Assert.True(built.Length >= 8, $"only {built.Length} zoo members");
        Assert.Equal(built, tested);
    }

    [Fact]
    public void A_crashed_host_fails_every_later_call_without_taking_the_runner_down()
    {
        using var factory = new NativeFactory(NativeBuild.ZooMember("umap-segfault"));
        using var machine = (NativeImplementation)factory.Create(8 << 20);
        ulong space = machine.CreateSpace();
        var crash = Assert.Throws<ImplementationCrashedException>(() => machine.mm_umap_single(space, 0xFFFFFF0000000000, 0));
        Assert.Equal("SIGSEGV", crash.Signal);
        Assert.Throws<ImplementationCrashedException>(() => machine.mm_phys_alloc_page());
        using var fresh = factory.Create(8 << 20);
        Assert.NotEqual(ulong.MaxValue, fresh.mm_phys_alloc_page());
    }

    [Fact]
    public void A_crash_quotes_what_the_machine_last_wrote_to_stderr()
    {
        using var factory = new NativeFactory(NativeBuild.ZooMember("contiguous-abort"));
        using var machine = factory.Create(8 << 20);

        var crash = Assert.Throws<ImplementationCrashedException>(() => machine.mm_phys_alloc_contiguous(513));

        Assert.Equal("SIGABRT", crash.Signal);
        Assert.Contains("host stderr: ", crash.Message, StringComparison.Ordinal);
        Assert.Contains("count <= 512", crash.Message, StringComparison.Ordinal); // assert()'s own message
    }

    [Fact]
    public void A_hung_host_is_killed_after_the_timeout()
    {
        using var factory = new NativeFactory(NativeBuild.ZooMember("vmfind-hang"), callTimeout: HangTimeout);
        using var machine = (NativeImplementation)factory.Create(8 << 20);
        ulong space = machine.CreateSpace();
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var hang = Assert.Throws<ImplementationCrashedException>(() => machine.vmfind(space, 0x400000, 0x800000, 5));
        Assert.True(hang.Hung);
        Assert.Contains("vmfind(", hang.Message, StringComparison.Ordinal);
        // The watchdog's timer counts whole milliseconds and may fire a little before this stopwatch says the
        // timeout is up (seen once under load: ~0.42 s total); what matters is that it waited, then gave up.
        Assert.InRange(clock.Elapsed, HangTimeout - TimeSpan.FromMilliseconds(50), HangTimeout + TimeSpan.FromSeconds(5));
    }
}
