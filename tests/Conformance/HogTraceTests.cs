using Mmspec.SpecTests.Catalogue;
using Mmspec.SpecTests.Execution;
using Mmspec.SpecTests.Port;
using Mmspec.SpecTests.Sequences;
using Mmspec.Zoo;

namespace Mmspec.Tests.Conformance;

/// <summary>
/// A hog's allocations are made in one batch and judged one by one: a page in use handed out in the middle of it is
/// named at that call, and the trace ends there, so that the reproducer's last call is the one that broke the clause.
/// </summary>
public sealed class HogTraceTests
{
    [Fact]
    public void A_page_in_use_handed_out_by_a_hog_is_the_last_call_of_the_trace()
    {
        var factory = new DecoratedFactory("hands-out-the-held-page", inner => new HandsOutHeldPage(inner, 40));
        SequenceResult result = SequenceRunner.Run(factory, Profile.Default, [new AllocPages(1, Contiguous: false), new Hog(0)]);

        Assert.Equal("PHYS-01", result.Violation?.Clause);
        Assert.Equal(2, result.Violation!.Step);
        ulong held = result.Trace.First(record => record.Step == 1).Outcome.Value;
        Assert.Equal($"r != 0x{held:X}", result.Violation.Expected);
        Assert.Equal(held, result.Trace[^1].Outcome.Value);
        Assert.Equal(40, result.Trace.Count(record => record.Step == 2));
    }

    /// <summary>After the setup's count of free pages, the first page allocated comes back as the <paramref name="call"/>th allocation after it.</summary>
    private sealed class HandsOutHeldPage(IMmImplementation inner, int call) : PortDecorator(inner)
    {
        private bool drained; // the setup's count ends with MM_NADDR
        private ulong held = ulong.MaxValue;
        private int after;

        public override ulong mm_phys_alloc_page()
        {
            if (held != ulong.MaxValue && ++after == call)
                return held;
            ulong page = Inner.mm_phys_alloc_page();
            if (page == ulong.MaxValue)
                drained = true;
            else if (drained && held == ulong.MaxValue)
                held = page;
            return page;
        }
    }
}
