using Mmspec.SpecTests.Execution;

namespace Mmspec.Tests.Conformance;

/// <summary>
/// The trace keeps a batch's calls as compact entries (<see cref="CallTrace.AddReturned"/>): read back, each must be the
/// record the batch would have added itself, in its place among the records added whole, across chunk boundaries.
/// </summary>
public sealed class CallTraceTests
{
    [Fact]
    public void Compact_entries_read_back_as_the_records_they_stand_for_in_order()
    {
        var trace = new CallTrace();
        IReadOnlyList<ulong> wrote = [0x5000];
        var expected = new List<string>();
        for (int index = 0; index < 600; index++) // more than two chunks
        {
            ulong value = 0x1000 * (ulong)(index + 1);
            switch (index % 5)
            {
                case 0:
                    trace.AddReturned(3, ApiFunction.mm_phys_alloc_page, 0, value, wrote);
                    expected.Add(new CallRecord(3, ApiCall.AllocPage(), CallEnd.Returned, new CallOutcome(value)) { Written = wrote }.ToString());
                    break;
                case 1:
                    trace.AddReturned(3, ApiFunction.mm_phys_free_page, value, 0, null);
                    expected.Add(new CallRecord(3, ApiCall.FreePage(value), CallEnd.Returned, default) { InBatch = true }.ToString());
                    break;
                case 2:
                    trace.AddReturned(4, ApiFunction.kmalloc, 48, value, []);
                    expected.Add(new CallRecord(4, ApiCall.Kmalloc(48), CallEnd.Returned, new CallOutcome(value)) { Written = [] }.ToString());
                    break;
                case 3:
                    trace.AddReturned(4, ApiFunction.kfree, value, 0, null);
                    expected.Add(new CallRecord(4, ApiCall.Kfree(value), CallEnd.Returned, default) { InBatch = true }.ToString());
                    break;
                default:
                    var whole = new CallRecord(5, ApiCall.MapGet(1, value, wantFlags: true), CallEnd.Panicked, default, "oops") { CrossCheck = true };
                    trace.Add(whole);
                    expected.Add(whole.ToString());
                    break;
            }
        }

        Assert.Equal(600, trace.Count);
        Assert.Equal(expected, trace.Select(record => record.ToString()));
        Assert.Same(trace[257], trace[257]); // read twice, one record
        CallRecord allocated = trace[255];
        Assert.Equal((3, CallEnd.Returned, 0x100000UL, false), (allocated.Step, allocated.End, allocated.Outcome.Value, allocated.InBatch));
        Assert.Same(wrote, allocated.Written);
        Assert.True(trace[256].InBatch);
        Assert.Null(trace[256].Written);
    }

    [Fact]
    public void A_summary_says_what_the_record_says_without_making_one()
    {
        var trace = new CallTrace();
        trace.AddReturned(1, ApiFunction.mm_phys_free_page, 0x7000, 0, [0x7000]);
        trace.Add(new CallRecord(2, ApiCall.VmFree(0, 0x40000000, 3), CallEnd.Crashed, default, "SIGSEGV"));

        Assert.Equal(new CallSummary(ApiFunction.mm_phys_free_page, 0x7000, CallEnd.Returned, trace[0].Written, false), trace.Summary(0));
        Assert.Equal(new CallSummary(ApiFunction.vmfree, 0, CallEnd.Crashed, null, false), trace.Summary(1)); // space0 is argument 0
        Assert.Throws<ArgumentOutOfRangeException>(() => trace.Summary(2));
        Assert.Throws<ArgumentException>(() => trace.AddReturned(1, ApiFunction.vmalloc, 0, 0, null));
        trace.Clear();
        Assert.Empty(trace);
    }
}
