using Mmspec.SpecTests.Adapters;
using Mmspec.NativeClient;
using Mmspec.SpecTests.Catalogue;
using Mmspec.SpecTests.Properties;
using Mmspec.SpecTests.Port;
using Xunit.Abstractions;

namespace Mmspec.Tests.Native;

/// <summary>
/// The native sample (native/sample, built by `make -C native`) through the isolated host must pass every
/// property of the catalogue in both profiles, like the reference, with the same settings as `check`
/// (100 sequences per property, the default seed).
/// </summary>
[Trait("Category", "Native")]
public sealed class NativeSampleTests(ITestOutputHelper output)
{
    public static TheoryData<string, Profile> Cases()
    {
        var cases = new TheoryData<string, Profile>();
        foreach (ISpecProperty property in PropertyCatalogue.All)
            foreach (Profile profile in new[] { Profile.Default, Profile.Strict })
                cases.Add(property.Id, profile);
        return cases;
    }

    [Theory, MemberData(nameof(Cases))]
    public void Sample_passes(string propertyId, Profile profile)
    {
        using var factory = new NativeFactory(NativeBuild.Sample);
        PropertyResult result = PropertyCatalogue.Find(propertyId).Check(factory, new RunSettings(profile));
        output.WriteLine($"{factory.Name} {propertyId} ({profile}): {result.Tests} sequences, {result.Steps} checked steps in " +
                         $"{result.Elapsed.TotalSeconds:F2} s = {Rate(result):F0} steps/s");
        Assert.True(result.Verdict == Verdict.Passed, result.Failure?.Describe());
    }

    [Fact]
    public void A_panic_is_reported_and_the_machine_goes_on()
    {
        using var factory = new NativeFactory(NativeBuild.Sample);
        using IMmImplementation machine = factory.Create(8 << 20);
        ulong page = machine.mm_phys_alloc_page();
        machine.mm_phys_free_page(page);
        var panic = Assert.Throws<ImplementationPanicException>(() => machine.mm_phys_free_page(page));
        Assert.Equal("FreeOfUnallocatedPage", panic.Reason);
        Assert.Equal(page, machine.mm_phys_alloc_page());
    }

    [Fact]
    public void Heap_pointers_are_direct_map_addresses_of_the_shared_ram()
    {
        using var factory = new NativeFactory(NativeBuild.Sample);
        using IMmImplementation machine = factory.Create(8 << 20);
        ulong block = machine.kmalloc(40);
        Assert.Equal(0UL, block % 16);
        Assert.True(block >= NativeImplementation.KernelBase && block - NativeImplementation.KernelBase < machine.RamSize, $"0x{block:X}");
        machine.Ram.WriteU64(machine.MM_PHYS(block), 0x1234);
        Assert.Equal(0x1234UL, machine.Ram.ReadU64(machine.MM_PHYS(block)));
        machine.kfree(block);
        Assert.Throws<ImplementationPanicException>(() => machine.kfree(block));
    }

    /// <summary>Checked steps per second, native sample vs the in-process reference, on the same sequences.</summary>
    [Fact]
    public void Throughput_against_the_reference()
    {
        var settings = new RunSettings(Profile.Default);
        ISpecProperty property = PropertyCatalogue.Find("stateful.mixed");
        PropertyResult reference = property.Check(new ReferenceFactory(), settings);
        using var factory = new NativeFactory(NativeBuild.Sample);
        PropertyResult native = property.Check(factory, settings);
        output.WriteLine($"stateful.mixed, {settings.MaxTest} sequences: reference {reference.Steps} steps in {reference.Elapsed.TotalSeconds:F2} s = {Rate(reference):F0} steps/s; " +
                         $"native sample {native.Steps} steps in {native.Elapsed.TotalSeconds:F2} s = {Rate(native):F0} steps/s " +
                         $"({Rate(native) / Rate(reference):P0} of the reference)");
        Assert.Equal(Verdict.Passed, native.Verdict);
        Assert.Equal(reference.Steps, native.Steps);
    }

    private static double Rate(PropertyResult result) => result.Steps / Math.Max(result.Elapsed.TotalSeconds, 1e-9);
}
