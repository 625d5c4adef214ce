using Mmspec.Models.State;
using Mmspec.SpecTests.Adapters;
using Mmspec.SpecTests.Catalogue;
using Mmspec.SpecTests.Execution;
using Mmspec.SpecTests.Port;
using Mmspec.SpecTests.Properties;
using Mmspec.SpecTests.Sequences;
using Mmspec.Zoo;

namespace Mmspec.Tests.Conformance;

/// <summary>An implementation that breaks inside the suite's own bookkeeping calls gets a verdict, not a crashed runner.</summary>
public sealed class RunnerRobustnessTests
{
    [Fact]
    public void A_crash_while_the_suite_counts_free_pages_is_a_violation()
    {
        var factory = new DecoratedFactory("crashes-on-1000th-alloc", inner => new CrashesAfter(inner, 1000));
        SequenceResult result = SequenceRunner.Run(factory, Profile.Default, [new Kmalloc(16)]);
        Assert.False(result.Passed);
        Assert.Equal("PHYS-06", result.Violation!.Clause);
        Assert.Contains("allocating every free page to count them failed: InvalidOperationException", result.Violation.Message);
    }

    [Fact]
    public void The_same_sequence_passes_on_the_reference()
    {
        Assert.True(SequenceRunner.Run(new ReferenceFactory(), Profile.Default, [new Kmalloc(16)]).Passed);
    }

    [Fact]
    public void A_panic_while_booting_a_later_machine_is_a_violation_at_boot()
    {
        var factory = new PanicsAtBoot(fromMachine: 2);
        PropertyResult result = PropertyCatalogue.Find("heap.alignment").Check(factory, new RunSettings(Profile.Default));

        Assert.Equal(Verdict.Failed, result.Verdict);
        Assert.Equal("DMAP-04", result.Failure!.Violation.Clause);
        Assert.Contains("at boot, booting a fresh machine with 0x800000 bytes of RAM panicked (BootFailed)", result.Failure.Violation.Message);
    }

    [Theory]
    [InlineData(Area.DirectMap, 0, 0u, "MAP-13")]
    [InlineData(Area.DirectMap, 0, 1u, "MAP-14")]
    [InlineData(Area.UserLow, 0, 1u, "MAP-12")]
    public void A_panic_on_a_valid_unmap_is_blamed_on_the_clause_of_that_call(Area area, int index, uint size, string clause)
    {
        var factory = new DecoratedFactory("umap-panics", inner => new UnmapPanics(inner));
        SequenceResult result = SequenceRunner.Run(factory, Profile.Default, [new UnmapSingle(0, new AddressPick(area, index), size)]);

        Assert.Equal(clause, result.Violation?.Clause);
        Assert.Contains("panicked (UnmapUnsupported) on a valid call", result.Violation!.Message);
    }

    [Theory]
    [InlineData(8UL, "0x")]             // unaligned: inside the root page
    [InlineData(1UL << 52, "0x1")]      // beyond any physical address the walk can hold
    public void A_root_that_is_no_page_of_RAM_is_a_verdict_not_an_error(ulong offset, string shown)
    {
        var factory = new DecoratedFactory("bad-root", inner => new RootMovedBy(inner, offset));
        SequenceResult result = SequenceRunner.Run(factory, Profile.Default, [new Kmalloc(16)]);

        Assert.Equal("MAP-18", result.Violation?.Clause);
        Assert.Contains($"at boot, mmspec_space_root(space0) = {shown}", result.Violation!.Message);
        Assert.Equal(0, result.Violation.Step);
    }

    [Fact]
    public void A_crash_in_a_direct_map_lookup_is_a_verdict_and_shrinking_boots_a_fresh_machine()
    {
        var factory = new DecoratedFactory("map-get-crashes-high", inner => new MapGetCrashesAbove(inner, 4UL << 20));
        PropertyResult result = PropertyCatalogue.Find("directmap.roundtrip").Check(factory, new RunSettings(Profile.Default));

        Assert.Equal(Verdict.Failed, result.Verdict);
        Failure failure = result.Failure!;
        Assert.Equal("DMAP-05", failure.Violation.Clause);
        Assert.Contains("crashed: host crashed: SIGSEGV", failure.Violation.Message);
        // The replay ran on a machine booted after the crash, not on the dead one.
        Assert.DoesNotContain("did not reproduce", failure.Violation.Message);
        ulong phys = Convert.ToUInt64(Assert.Single(failure.Steps)["p = 0x".Length..], 16);
        Assert.True(phys >= 4UL << 20, failure.Steps[0]);
        Assert.Equal(CallEnd.Crashed, failure.Trace[^1].End);
    }

    [Fact]
    public void A_panic_at_boot_of_the_direct_map_machine_is_a_violation_at_boot()
    {
        PropertyResult result = PropertyCatalogue.Find("directmap.roundtrip").Check(new PanicsAtBoot(fromMachine: 1), new RunSettings(Profile.Default));

        Failure failure = result.Failure!;
        Assert.Equal("DMAP-04", failure.Violation.Clause);
        Assert.Equal(0, failure.Violation.Step);
        Assert.Contains("at boot, booting a fresh machine with 0x800000 bytes of RAM panicked (BootFailed)", failure.Violation.Message);
        Assert.Equal(["at boot"], failure.Steps);
    }

    private sealed class RootMovedBy(IMmImplementation inner, ulong offset) : PortDecorator(inner)
    {
        public override ulong SpaceRoot(ulong space) => base.SpaceRoot(space) + offset;
    }

    /// <summary>Segfaults looking up any direct-map address at or above a physical bound, as a native port would.</summary>
    private sealed class MapGetCrashesAbove(IMmImplementation inner, ulong bound) : PortDecorator(inner)
    {
        public override ulong mm_map_get(ulong space, ulong virt) =>
            virt - AddressSpaceLayout.KernelBase >= bound && virt >= AddressSpaceLayout.KernelBase
                ? throw new ImplementationCrashedException("host crashed: SIGSEGV", signal: "SIGSEGV")
                : base.mm_map_get(space, virt);
    }

    private sealed class UnmapPanics(IMmImplementation inner) : PortDecorator(inner)
    {
        public override ulong mm_umap_single(ulong space, ulong virt, uint size) =>
            throw new ImplementationPanicException("UnmapUnsupported", "kernel panic (UnmapUnsupported): not in this kernel");
    }

    /// <summary>Its mmspec_init panics from the given machine on, as a kernel whose boot depends on leftover state would.</summary>
    private sealed class PanicsAtBoot(int fromMachine) : IImplementationFactory
    {
        private readonly ReferenceFactory inner = new("panics-at-boot");
        private int created;

        public string Name => "panics-at-boot";

        public IMmImplementation Create(ulong ramSize) =>
            ++created < fromMachine ? inner.Create(ramSize) : throw new ImplementationPanicException("BootFailed", "kernel panic (BootFailed) in mmspec_init: no memory map");
    }

    private sealed class CrashesAfter(IMmImplementation inner, int allocations) : PortDecorator(inner)
    {
        private int made;

        public override ulong mm_phys_alloc_page() =>
            ++made < allocations ? base.mm_phys_alloc_page() : throw new InvalidOperationException("simulated crash");
    }
}
