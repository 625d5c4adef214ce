using Mmspec.SpecTests.Adapters;
using Mmspec.SpecTests.Catalogue;
using Mmspec.SpecTests.Execution;
using Mmspec.SpecTests.Port;
using Mmspec.SpecTests.Sequences;
using Mmspec.Zoo;

namespace Mmspec.Tests.Conformance;

/// <summary>
/// A kmalloc burst is made in one batch (<see cref="IMmImplementation.KmallocUntilNull"/>) and judged call by call:
/// a bad block is named at the call that returned it, the trace ends there as a reproducer replays it, a NULL ends
/// the burst and is judged as a single kmalloc's, and each call carries its own write set where the port tells.
/// </summary>
public sealed class KmallocBurstTests
{
    [Fact]
    public void A_bad_block_in_a_burst_is_named_at_its_call_and_the_trace_ends_there()
    {
        var factory = new DecoratedFactory("fifth-kmalloc-misaligned", inner => new MisalignsCall(inner, 5));
        SequenceResult result = SequenceRunner.Run(factory, Profile.Default, [new KmallocBurst(64, 20)]);

        Assert.Equal("HEAP-02", result.Violation?.Clause);
        Assert.Equal(1, result.Violation!.Step);
        Assert.Equal(5, result.Trace.Count(record => record.Call.Function == ApiFunction.kmalloc));
        Assert.Equal(ApiFunction.kmalloc, result.Trace[^1].Call.Function);
        Assert.Contains("not 16-byte aligned", result.Violation.Message, StringComparison.Ordinal);
        Assert.Equal(5, result.Trace.Count);
    }

    [Fact]
    public void A_burst_on_the_reference_records_every_call_with_its_own_write_set_and_marks_every_block()
    {
        SequenceResult result = SequenceRunner.Run(new ReferenceFactory(), Profile.Default, [new KmallocBurst(512, 9)]);

        Assert.True(result.Passed, result.Violation?.Message);
        CallRecord[] burst = [.. result.Trace.Where(record => record.Step == 1 && record.Call.Function == ApiFunction.kmalloc)];
        Assert.Equal(9, burst.Length);
        Assert.All(burst, record => Assert.False(record.InBatch));
        Assert.All(burst, record => Assert.NotNull(record.Written));
        Assert.Equal(9, burst.Select(record => record.Outcome.Value).Distinct().Count());
    }

    [Fact]
    public void A_burst_that_meets_null_stops_and_judges_it_as_a_single_kmalloc()
    {
        var factory = new DecoratedFactory("null-after-three", inner => new NullAfter(inner, 3));
        SequenceResult result = SequenceRunner.Run(factory, Profile.Default, [new KmallocBurst(64, 20)]);

        // A NULL with pages to spare is HEAP-06, shown by the free run found right after it.
        Assert.Equal("HEAP-06", result.Violation?.Clause);
        Assert.Equal(4, result.Trace.Count(record => record.Call.Function == ApiFunction.kmalloc && record.Step == 1));
        Assert.Equal(0UL, result.Trace.Last(record => record.Call.Function == ApiFunction.kmalloc).Outcome.Value);
    }

    /// <summary>The <paramref name="call"/>th kmalloc returns its block moved by 8 bytes.</summary>
    private sealed class MisalignsCall(IMmImplementation inner, int call) : PortDecorator(inner)
    {
        private int calls;

        public override ulong kmalloc(ulong size)
        {
            ulong block = Inner.kmalloc(size);
            return ++calls == call ? block + 8 : block;
        }
    }

    /// <summary>kmalloc returns NULL after <paramref name="blocks"/> blocks, with memory to spare.</summary>
    private sealed class NullAfter(IMmImplementation inner, int blocks) : PortDecorator(inner)
    {
        private int calls;

        public override ulong kmalloc(ulong size) => ++calls > blocks ? 0 : Inner.kmalloc(size);
    }
}
