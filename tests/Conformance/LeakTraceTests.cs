using Mmspec.SpecTests.Adapters;
using Mmspec.SpecTests.Catalogue;
using Mmspec.SpecTests.Execution;
using Mmspec.SpecTests.Port;
using Mmspec.SpecTests.Properties;
using Mmspec.SpecTests.Sequences;
using Mmspec.Zoo;
using Xunit.Abstractions;

namespace Mmspec.Tests.Conformance;

/// <summary>A leak found at teardown is traced, on the shrunk sequence, to the step after which the pages stayed missing.</summary>
[Trait("Category", "Zoo")] // whole stateful searches of buggy kernels: too slow for every mutant of a mutation run
public sealed class LeakTraceTests(ITestOutputHelper output)
{
    [Fact]
    public void A_contiguous_allocation_that_takes_a_page_too_many_is_blamed_on_that_allocation_not_the_teardown()
    {
        var factory = new DecoratedFactory("contiguous-takes-one-more", inner => new ContiguousTakesOneMore(inner));
        PropertyResult result = PropertyCatalogue.Find("stateful.physical").Check(factory, new RunSettings(Profile.Default));
        Failure failure = result.Failure!;
        output.WriteLine(failure.Describe());

        Assert.Equal("PHYS-03", failure.Violation.Clause);
        Assert.Contains("page(s) missing from then on (traced from the teardown, which found:", failure.Violation.Message);
        CallRecord last = failure.Trace[^1];
        Assert.Equal(ApiFunction.mm_phys_alloc_contiguous, last.Call.Function);
        Assert.Equal(failure.Violation.Step, last.Step);
    }

    [Fact]
    public void In_strict_one_lost_page_is_traced_to_the_step_that_lost_it()
    {
        var factory = new DecoratedFactory("contiguous-takes-one-more", inner => new ContiguousTakesOneMore(inner));
        IReadOnlyList<Operation> steps = [new AllocPages(2, Contiguous: true), new FreePage(0), new FreePage(0)];
        SequenceResult found = SequenceRunner.Run(factory, Profile.Strict, steps);
        Assert.True(found.LeakAtTeardown, found.Violation?.ToString());

        SequenceResult traced = LeakTrace.Attribute(factory, Profile.Strict, steps, SequenceRunner.DefaultRamSize, found);

        Assert.Equal("PHYS-03", traced.Violation!.Clause);
        Assert.Equal(1, traced.Violation.Step);
        Assert.Contains("1 page(s) missing from then on", traced.Violation.Message);
    }

    [Fact]
    public void The_teardown_counts_once_and_a_short_count_is_traced_to_the_phase_that_lost_the_pages()
    {
        IReadOnlyList<Operation> steps = [new Kmalloc(16384), new Kmalloc(16384), new Kmalloc(16384), new AllocPages(1, Contiguous: false)];
        Assert.True(SequenceRunner.Run(new ReferenceFactory(), Profile.Default, steps).Passed);

        var factory = new DecoratedFactory("kfree-does-nothing", inner => new KfreeDoesNothing(inner));
        SequenceResult found = SequenceRunner.Run(factory, Profile.Default, steps);

        // The heap's phase, not the one count after everything went back, which alone cannot say which phase lost them.
        Assert.Equal("HEAP-07", found.Violation?.Clause);
        Assert.StartsWith("after every block was kfree'd, only", found.Violation!.Message);
        Assert.True(found.LeakAtTeardown);
        Assert.Equal(3, found.Trace.Count(call => call.Call.Function == ApiFunction.kfree));
    }

    [Fact]
    public void A_violation_that_is_no_leak_is_left_as_it_is()
    {
        ZooMember member = ZooCatalogue.Find("umap-wrong-phys");
        PropertyResult result = PropertyCatalogue.Find(member.CaughtBy).Check(member.Factory, new RunSettings(Profile.Default));

        Assert.DoesNotContain("traced from the teardown", result.Failure!.Violation.Message);
    }

    /// <summary>kfree returns and frees nothing: every block's pages stay the heap's.</summary>
    private sealed class KfreeDoesNothing(IMmImplementation inner) : PortDecorator(inner)
    {
        public override void kfree(ulong ptr)
        {
        }
    }

    /// <summary>mm_phys_alloc_contiguous(n) takes n + 1 pages and hands out the first n: one page lost per call.</summary>
    private sealed class ContiguousTakesOneMore(IMmImplementation inner) : PortDecorator(inner)
    {
        public override ulong mm_phys_alloc_contiguous(ulong count) => count == 0 ? base.mm_phys_alloc_contiguous(0) : base.mm_phys_alloc_contiguous(count + 1);
    }
}
