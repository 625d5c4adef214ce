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
    public void A_batch_run_reads_back_as_the_compact_entries_it_replaces_in_its_place()
    {
        IReadOnlyList<ulong> wrote = [0x5000];
        List<ulong> pages = [0x10000, 0x11000, 0x12000];
        var byEntries = new CallTrace();
        var byRuns = new CallTrace();
        foreach (CallTrace trace in new[] { byEntries, byRuns })
            trace.Add(new CallRecord(1, ApiCall.AllocPage(), CallEnd.Returned, new CallOutcome(0x9000)));
        for (int call = 0; call <= pages.Count; call++) // the pages, then the call that said MM_NADDR
            byEntries.AddReturned(2, ApiFunction.mm_phys_alloc_page, 0, call < pages.Count ? pages[call] : ulong.MaxValue, call == 1 ? wrote : []);
        byEntries.AddReturned(3, ApiFunction.kmalloc, 48, 0xFFFF_8000_0010_0000, null);
        byEntries.AddReturned(4, ApiFunction.mm_phys_free_page, 0x11000, 0, []);
        byEntries.AddReturned(4, ApiFunction.mm_phys_free_page, 0x12000, 0, []);

        CallRun allocations = byRuns.StartRun(2, ApiFunction.mm_phys_alloc_page, 0, pages, valuesReturned: true, past: ulong.MaxValue, [[], wrote, [], []]);
        byRuns.Extend(allocations);
        byRuns.Extend(allocations, 3);
        CallRun burst = byRuns.StartRun(3, ApiFunction.kmalloc, 48, [0xFFFF_8000_0010_0000], valuesReturned: true, past: 0, written: null);
        byRuns.Extend(burst);
        byRuns.Extend(byRuns.StartRun(4, ApiFunction.mm_phys_free_page, 0, [0x11000, 0x12000], valuesReturned: false, past: 0, [[], []]), 2);

        Assert.Equal(byEntries.Count, byRuns.Count);
        Assert.Equal(byEntries.Select(record => record.ToString()), byRuns.Select(record => record.ToString()));
        Assert.Equal(Enumerable.Range(0, byEntries.Count).Select(byEntries.Summary), Enumerable.Range(0, byRuns.Count).Select(byRuns.Summary));
        Assert.Same(byRuns[2], byRuns[2]); // read twice, one record
        Assert.Same(wrote, byRuns[2].Written);
        Assert.True(byRuns[5].InBatch); // a run without per-call writes
        Assert.Throws<InvalidOperationException>(() => byRuns.Extend(burst)); // a run that is not the last piece
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
