using Mmspec.Models.State;

namespace Mmspec.SpecTests.Execution;

/// <summary>The suite's own calls for counting free memory, which a black box allows only by exhaustion.</summary>
public sealed partial class SequenceContext
{
    /// <summary>Counts free pages the only way a black box allows: allocating until MM_NADDR.</summary>
    public List<ulong> DrainFreePages(string clause)
    {
        List<ulong> pages = Guarded(clause, "allocating every free page to count them",
            () => AsOwnList(Implementation.AllocatePagesUntilExhausted(BeyondRam)));
        CheckWithinRam(pages);
        return pages;
    }

    /// <summary>One page more than RAM holds: the most any drain asks for, so that an allocator that never says MM_NADDR is caught.</summary>
    private int BeyondRam => (int)Math.Min(RamPages + 1, int.MaxValue);

    /// <summary>The drained pages as a list of the suite's own: the port's list when it made a fresh one, a copy otherwise.</summary>
    private static List<ulong> AsOwnList(IReadOnlyList<ulong> pages) => pages as List<ulong> ?? [.. pages];

    private void CheckWithinRam(List<ulong> drained) =>
        Check(drained.Count < BeyondRam, "PHYS-04", "mm_phys_alloc_page() kept returning pages beyond the size of RAM");

    /// <summary>Pages a <see cref="Sequences.Hog"/> step took (the client may have freed or mapped some since).</summary>
    public PageSet Hogged { get; set; } = PageSet.Empty; // a bit per page: a hog adds thousands at once

    /// <summary>
    /// mm_phys_alloc_page until MM_NADDR as a step's calls: made in one batch (a hog makes thousands) and recorded
    /// one by one, the last one MM_NADDR, each page handed to <paramref name="judge"/> right after its call is recorded,
    /// so that a failure judged at a call ends the trace there, as a reproducer replays it. A panic or crash is a
    /// violation of <paramref name="clause"/>.
    /// </summary>
    public List<ulong> AllocateAllRecorded(string clause, Action<ulong> judge)
    {
        List<ulong> pages;
        IReadOnlyList<IReadOnlyList<ulong>>? perCall = null;
        try
        {
            pages = Batch(() => AsOwnList(Implementation.AllocatePagesUntilExhausted(BeyondRam)), out perCall);
        }
        catch (Exception failure) when (failure is not ViolationException)
        {
            CallEnd end = failure is Port.ImplementationPanicException ? CallEnd.Panicked : CallEnd.Crashed;
            Trace.Add(new CallRecord(Step, ApiCall.AllocPage(), end, default, $"one of the calls allocating every free page: {failure.GetType().Name}") { InBatch = true });
            Fail(clause, $"mm_phys_alloc_page(), called until it returns MM_NADDR, {Port.ImplementationFault.How(failure)}: {failure.GetType().Name}: {failure.Message}");
            throw;
        }
        // Every page, then the call that said MM_NADDR (a drain that reached the limit fails here first).
        IReadOnlyList<IReadOnlyList<ulong>>? written = CallByCall(perCall, pages.Count + 1);
        CheckWithinRam(pages);
        CallRun run = Trace.StartRun(Step, ApiFunction.mm_phys_alloc_page, 0, pages, valuesReturned: true, past: AddressSpaceLayout.Naddr, written);
        for (int index = 0; index < pages.Count; index++)
        {
            Trace.Extend(run);
            judge(pages[index]);
        }
        Trace.Extend(run); // the call that said MM_NADDR
        return pages;
    }

    public void GiveBack(string clause, List<ulong> pages) =>
        Guarded(clause, "freeing the pages allocated to count them", () =>
        {
            Implementation.FreePages(pages);
            Actions.Add(new FreePagesCounted(Trace.Count, Step)); // recorded once whole: a C reproducer counts them again
            return 0;
        });

    /// <summary>
    /// Evidence against a failed allocation: allocates every free page (and gives them back) and returns the
    /// first run of <paramref name="pages"/> consecutive ones, with how many were free; null when there is none,
    /// which includes asking for more pages than were ever free.
    /// </summary>
    public (ulong Run, int Free)? FreeRunAfterFailure(string clause, ulong pages)
    {
        if (pages > (ulong)BaselineFreePages)
            return null;
        List<ulong> free = CountFreePages(clause);
        return FirstRun(free, pages) is { } run ? (run, free.Count) : null;
    }

    /// <summary>The pages free right now, found by allocating every one and giving them all back in the same order.</summary>
    public List<ulong> CountFreePages(string clause)
    {
        List<ulong> free = DrainFreePages(clause);
        GiveBack(clause, free);
        return free;
    }

    /// <summary>The first run of <paramref name="count"/> consecutive pages among <paramref name="pages"/>, if any.</summary>
    public static ulong? FirstRun(IEnumerable<ulong> pages, ulong count)
    {
        ulong run = 0, previous = 0;
        foreach (ulong page in pages.Order())
        {
            run = run > 0 && page == previous + AddressSpaceLayout.PageSize ? run + 1 : 1;
            previous = page;
            if (run == count)
                return page - (count - 1) * AddressSpaceLayout.PageSize;
        }
        return null;
    }

    /// <summary>
    /// Calls the suite makes for itself, outside the recorded steps: a panic, crash or hang there is still a
    /// verdict on the implementation, never an exception out of the runner.
    /// </summary>
    public T Guarded<T>(string clause, string what, Func<T> calls)
    {
        try
        {
            return Unjudged(calls); // their writes are no recorded call's
        }
        catch (Exception crash) when (crash is not ViolationException)
        {
            Fail(clause, $"{what} failed: {crash.GetType().Name}: {crash.Message}");
            throw;
        }
    }
}
