using Mmspec.Models.State;
using Mmspec.SpecTests.Adapters;
using Mmspec.SpecTests.Catalogue;
using Mmspec.SpecTests.Execution;
using Mmspec.SpecTests.Port;
using Mmspec.SpecTests.Properties;
using Mmspec.SpecTests.Sequences;
using Mmspec.Zoo;

namespace Mmspec.Tests.Conformance;

/// <summary>The default profile judges what the spec says: never an implementation-defined clause, and failures only on evidence.</summary>
public sealed class DefaultProfileTests
{
    [Fact]
    public void An_implementation_defined_clause_in_the_default_profile_is_a_suite_bug_not_a_verdict()
    {
        using IMmImplementation machine = new ReferenceFactory().Create(SequenceRunner.DefaultRamSize);
        var ctx = new SequenceContext(machine, Profile.Default);

        var bug = Assert.Throws<InvalidOperationException>(() => ctx.Fail("PHYS-D02", "first fit"));
        Assert.Contains("implementation-defined clause PHYS-D02", bug.Message);
        Assert.Throws<ViolationException>(() => ctx.Fail("PHYS-02", "outside RAM"));
        Assert.Throws<ViolationException>(() => new SequenceContext(machine, Profile.Strict).Fail("PHYS-D02", "first fit"));
    }

    [Fact]
    public void A_contiguous_failure_is_a_violation_when_a_free_run_existed_and_names_it()
    {
        var factory = new DecoratedFactory("no-contiguous", inner => new NoContiguous(inner));
        SequenceResult result = SequenceRunner.Run(factory, Profile.Default, [new AllocPages(150, true)]);

        Assert.Equal("PHYS-04", result.Violation?.Clause);
        Assert.Matches("the 150 pages 0x[0-9A-F]+\\.\\.0x[0-9A-F]+ could each be allocated", result.Violation!.Message);
    }

    [Fact]
    public void A_contiguous_failure_larger_than_free_memory_is_accepted()
    {
        var factory = new DecoratedFactory("no-contiguous", inner => new NoContiguous(inner));
        Assert.True(SequenceRunner.Run(factory, Profile.Default, [new AllocPages(2048, true)]).Passed);
    }

    [Theory]
    [InlineData(new ulong[] { 0x3000, 0x1000, 0x2000 }, 3UL, 0x1000UL)]
    [InlineData(new ulong[] { 0x1000, 0x3000, 0x4000 }, 2UL, 0x3000UL)]
    [InlineData(new ulong[] { 0x1000, 0x3000, 0x5000 }, 2UL, null)]
    [InlineData(new ulong[] { 0x5000 }, 1UL, 0x5000UL)]
    public void FirstRun_finds_consecutive_pages_in_any_order(ulong[] pages, ulong count, ulong? expected) =>
        Assert.Equal(expected, SequenceContext.FirstRun(pages, count));

    [Fact]
    public void A_direct_map_that_stops_at_the_end_of_RAM_is_conformant_but_not_the_reference()
    {
        var factory = new DecoratedFactory("direct-map-ends-with-ram", inner => new DirectMapEndsWithRam(inner));
        ISpecProperty property = PropertyCatalogue.Find("directmap.roundtrip");

        Assert.Equal(Verdict.Passed, property.Check(factory, new RunSettings(Profile.Default)).Verdict);
        PropertyResult strict = property.Check(factory, new RunSettings(Profile.Strict));
        Assert.Equal("DMAP-05", strict.Failure?.Violation.Clause);
        Assert.Matches("mm_map_get\\(space0, 0x[0-9A-F]+\\) = MM_NADDR", strict.Failure!.Violation.Message);
    }

    /// <summary>mm_map_get sees no direct map past the end of RAM, as with a direct map built only over RAM.</summary>
    private sealed class DirectMapEndsWithRam(IMmImplementation inner) : PortDecorator(inner)
    {
        public override ulong mm_map_get(ulong space, ulong virt) =>
            virt - AddressSpaceLayout.KernelBase >= RamSize && virt >= AddressSpaceLayout.KernelBase ? ulong.MaxValue : base.mm_map_get(space, virt);
    }

    [Fact]
    public void A_failure_that_does_not_reproduce_on_replay_is_still_reported_with_its_clause_and_trace()
    {
        ISpecProperty property = PropertyCatalogue.Find("heap.alignment");
        var alwaysBuggy = new FlakyFactory(buggyMachines: int.MaxValue);
        Assert.Equal(Verdict.Failed, property.Check(alwaysBuggy, new RunSettings(Profile.Default)).Verdict);
        // Same seed, same machines: this time the last one, the replay of the shrunk sequence, is correct.
        PropertyResult result = property.Check(new FlakyFactory(alwaysBuggy.Created - 1), new RunSettings(Profile.Default));

        Assert.Equal(Verdict.Failed, result.Verdict);
        Assert.Equal("HEAP-02", result.Failure!.Violation.Clause);
        Assert.Contains("did not reproduce on replay", result.Failure.Violation.Message);
        Assert.Contains(result.Failure.Trace, call => call.Call.ToString().StartsWith("kmalloc(", StringComparison.Ordinal));
    }

    /// <summary>Its first machines return heap blocks 8 bytes off alignment; the later ones are correct.</summary>
    private sealed class FlakyFactory(int buggyMachines) : IImplementationFactory
    {
        private readonly ReferenceFactory inner = new("flaky");
        public int Created { get; private set; }

        public string Name => "flaky";

        public IMmImplementation Create(ulong ramSize)
        {
            IMmImplementation machine = inner.Create(ramSize);
            return ++Created <= buggyMachines ? new Misaligned(machine) : machine;
        }

        private sealed class Misaligned(IMmImplementation inner) : PortDecorator(inner)
        {
            public override ulong kmalloc(ulong size) => base.kmalloc(size) is var pointer and not 0 ? pointer + 8 : 0;
        }
    }

    /// <summary>Refuses every contiguous request of more than one page, however much is free.</summary>
    private sealed class NoContiguous(IMmImplementation inner) : PortDecorator(inner)
    {
        public override ulong mm_phys_alloc_contiguous(ulong count) => count > 1 ? ulong.MaxValue : base.mm_phys_alloc_contiguous(count);
    }
}
