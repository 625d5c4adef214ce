using Mmspec.SpecTests.Port;

namespace Mmspec.SpecTests.Execution;

/// <summary>A step's calls made in one batch and recorded one by one, as if made singly (see <see cref="Batch{T}"/>).</summary>
public sealed partial class SequenceContext
{
    /// <summary>
    /// mm_phys_free_page on each page, in one batch (teardown gives back hundreds of pages at once): recorded
    /// call by call as if made singly. A panic or crash is a violation of <paramref name="clause"/> that names the
    /// batch, since which of its calls failed is not known.
    /// </summary>
    public void FreePagesBatched(string clause, IReadOnlyList<ulong> pages) =>
        Batched(clause, pages, ApiFunction.mm_phys_free_page, "pages the client held", () => Implementation.FreePages(pages));

    /// <summary>kfree on each block, in one batch (teardown gives back every block at once), as <see cref="FreePagesBatched"/>.</summary>
    public void KfreeBatched(string clause, IReadOnlyList<ulong> pointers) =>
        Batched(clause, pointers, ApiFunction.kfree, "blocks the client held", () => Implementation.KfreeAll(pointers));

    /// <summary>
    /// kmalloc(<paramref name="size"/>) until NULL or <paramref name="count"/> blocks, in one batch (a burst), then each
    /// call recorded and handed to <paramref name="judge"/> in turn, as if made singly: a failure judged at a call ends
    /// the trace there, as a reproducer replays it. A panic or crash is a violation of <paramref name="clause"/>.
    /// </summary>
    public void KmallocEach(string clause, ulong size, int count, Action<ulong> judge)
    {
        IReadOnlyList<ulong> blocks;
        IReadOnlyList<IReadOnlyList<ulong>>? perCall;
        try
        {
            blocks = Batch(() => Implementation.KmallocUntilNull(size, count), out perCall);
        }
        catch (Exception failure) when (failure is not ViolationException)
        {
            CallEnd end = failure is ImplementationPanicException ? CallEnd.Panicked : CallEnd.Crashed;
            Trace.Add(new CallRecord(Step, ApiCall.Kmalloc(size), end, default, $"one of the calls of kmalloc({size}) in a row: {failure.GetType().Name}") { InBatch = true });
            Fail(clause, $"kmalloc({size}), called up to {count} times in a row, {ImplementationFault.How(failure)}: {failure.GetType().Name}: {failure.Message}");
            throw;
        }
        int calls = blocks.Count < count ? blocks.Count + 1 : blocks.Count; // the last one NULL, unless all were handed out
        IReadOnlyList<IReadOnlyList<ulong>>? written = CallByCall(perCall, calls);
        CallRun run = Trace.StartRun(Step, ApiFunction.kmalloc, size, AsOwnList(blocks), valuesReturned: true, past: 0, written);
        for (int index = 0; index < calls; index++)
        {
            Trace.Extend(run);
            judge(index < blocks.Count ? blocks[index] : 0);
        }
    }

    private void Batched(string clause, IReadOnlyList<ulong> values, ApiFunction function, string what, Action calls)
    {
        IReadOnlyList<IReadOnlyList<ulong>>? perCall = null;
        try
        {
            Batch(() =>
            {
                calls();
                return 0;
            }, out perCall);
        }
        catch (Exception failure) when (failure is not ViolationException)
        {
            // Which call of the batch failed is not known: all are recorded, the last one with how the batch ended.
            CallEnd end = failure is ImplementationPanicException ? CallEnd.Panicked : CallEnd.Crashed;
            for (int index = 0; index < values.Count - 1; index++)
                Trace.AddReturned(Step, function, values[index], 0, written: null);
            if (values.Count > 0)
                Trace.Add(new CallRecord(Step, CallTrace.CallOf(function, values[^1]), end, default, $"one of the batch's {values.Count} calls: {(failure is ImplementationPanicException p ? p.Reason : failure.GetType().Name)}") { InBatch = true });
            Fail(clause, $"{function} on each of the {values.Count} {what} ({string.Join(", ", values.Take(8).Select(Hex))}{(values.Count > 8 ? ", ..." : "")}) {ImplementationFault.How(failure)}: {failure.GetType().Name}: {failure.Message}");
        }
        IReadOnlyList<IReadOnlyList<ulong>>? written = CallByCall(perCall, values.Count);
        Trace.Extend(Trace.StartRun(Step, function, 0, values, valuesReturned: false, past: 0, written), values.Count);
    }
}
