using Mmspec.SpecTests.Adapters;
using Mmspec.SpecTests.Catalogue;
using Mmspec.SpecTests.Execution;
using Mmspec.SpecTests.Port;
using Mmspec.SpecTests.Properties;
using Mmspec.SpecTests.Sequences;
using Mmspec.Zoo;
using Xunit.Abstractions;

namespace Mmspec.Tests.Conformance;

/// <summary>
/// PHYS-09 inside a batch: a port that tells what each call of a batch wrote (<see cref="IWriteTracking.TakeBatchWrites"/>,
/// as the reference's does) has each call judged as if made singly, so a hog's allocation that writes a client page is
/// named at that allocation; a port that tells only the whole batch's writes has none of them judged.
/// </summary>
public sealed class BatchWriteTests(ITestOutputHelper output)
{
    private static readonly RunSettings Settings = new(Profile.Default, MaxFailures: 1);

    [Fact]
    public void An_allocation_in_a_hog_that_writes_a_client_page_is_named_at_that_allocation()
    {
        PropertyResult result = PropertyCatalogue.Find("stateful.physical")
            .Check(new DecoratedFactory("batch-alloc-writes-client-page", inner => new BatchAllocTouchesClientPage(inner, tell: true)), Settings);

        Failure failure = Assert.IsType<Failure>(result.Failure);
        output.WriteLine(failure.Describe());
        Assert.Equal("PHYS-09", failure.Violation.Clause);
        Assert.Matches(@"^mm_phys_alloc_page\(\) wrote frame 0x[0-9A-F]+, which is a page the client allocated: not this call's to write$", failure.Violation.Message);
        Assert.Contains(failure.Steps, step => step.Contains("Hog", StringComparison.Ordinal));
    }

    [Fact]
    public void The_same_writes_told_only_as_the_whole_batch_are_not_judged()
    {
        PropertyResult result = PropertyCatalogue.Find("stateful.physical")
            .Check(new DecoratedFactory("batch-alloc-writes-client-page-untold", inner => new BatchAllocTouchesClientPage(inner, tell: false)), Settings);

        Assert.True(result.Verdict == Verdict.Passed, result.Failure?.Describe());
    }

    [Fact]
    public void The_references_batches_record_what_each_call_wrote()
    {
        SequenceResult result = SequenceRunner.Run(new ReferenceFactory(), Profile.Default, [new AllocPages(2, Contiguous: false), new Hog(3), new Release(1)]);

        Assert.Null(result.Violation);
        var hogged = result.Trace.Where(call => call.Step == 2).ToList();
        Assert.True(hogged.Count > 100, $"{hogged.Count} calls");
        Assert.All(hogged, call => Assert.True(!call.InBatch && call.Written is not null, call.ToString()));
        Assert.All(result.Trace.Where(call => call.CrossCheck), call => Assert.True(!call.InBatch && call.Written is { Count: 0 }, call.ToString()));
    }

    [Fact]
    public void A_call_write_log_reads_as_the_list_of_every_calls_writes()
    {
        IReadOnlyList<ulong>[] calls = [[], [0x1000], [], [], [0x2000, 0x3000], []];
        var log = new CallWriteLog();
        foreach (IReadOnlyList<ulong> frames in calls)
            log.Add(frames);

        Assert.Equal(calls.Length, log.Count);
        Assert.Equal(calls, log.ToList());
        Assert.Equal(calls, Enumerable.Range(0, log.Count).Select(call => log[call]).ToList());
        Assert.Equal(calls.Reverse(), Enumerable.Range(0, log.Count).Reverse().Select(call => log[call]).ToList()); // asked out of order too
        Assert.Throws<ArgumentOutOfRangeException>(() => log[calls.Length]);
        Assert.Throws<ArgumentOutOfRangeException>(() => log[-1]);
    }

    /// <summary>Writes a word back unchanged: only the write set can tell.</summary>
    private static void TouchUnchanged(IMmImplementation machine, ulong phys) => machine.Ram.WriteU64(phys, machine.Ram.ReadU64(phys));

    /// <summary>
    /// Allocates every free page as one batch, taking the write log after each call when it <paramref name="tell"/>s;
    /// inside that batch each allocation writes into the last page a single call handed out and the client still holds.
    /// </summary>
    private sealed class BatchAllocTouchesClientPage(IMmImplementation inner, bool tell) : PortDecorator(inner), IMmImplementation, IWriteTracking
    {
        private readonly List<ulong> handedOut = [];
        private List<IReadOnlyList<ulong>>? log;
        private bool inBatch;

        public override IWriteTracking? Writes => this;

        public IReadOnlyList<ulong>? TakeWrittenFrames() => Inner.Writes!.TakeWrittenFrames();

        public IReadOnlyList<IReadOnlyList<ulong>>? TakeBatchWrites()
        {
            List<IReadOnlyList<ulong>>? taken = log;
            log = null;
            return taken;
        }

        public IReadOnlyList<ulong> AllocatePagesUntilExhausted(int limit)
        {
            var pages = new List<ulong>();
            log = tell ? [] : null;
            inBatch = true;
            try
            {
                while (pages.Count < limit)
                {
                    ulong page = mm_phys_alloc_page();
                    log?.Add(Inner.Writes!.TakeWrittenFrames()!);
                    if (page == ulong.MaxValue)
                        break;
                    pages.Add(page);
                }
            }
            finally
            {
                inBatch = false;
            }
            return pages;
        }

        public override ulong mm_phys_alloc_page()
        {
            ulong page = Inner.mm_phys_alloc_page();
            if (inBatch && handedOut.Count > 0)
                TouchUnchanged(Inner, handedOut[^1] + 0x800);
            else if (!inBatch && page != ulong.MaxValue)
                handedOut.Add(page);
            return page;
        }

        public override void mm_phys_free_page(ulong addr)
        {
            Inner.mm_phys_free_page(addr);
            handedOut.Remove(addr);
        }
    }
}
