using Mmspec.SpecTests.Adapters;
using Mmspec.SpecTests.Catalogue;
using Mmspec.SpecTests.Execution;
using Mmspec.SpecTests.Port;
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

    /// <summary>Refuses every contiguous request of more than one page, however much is free.</summary>
    private sealed class NoContiguous(IMmImplementation inner) : PortDecorator(inner)
    {
        public override ulong mm_phys_alloc_contiguous(ulong count) => count > 1 ? ulong.MaxValue : base.mm_phys_alloc_contiguous(count);
    }
}
