using Mmspec.Models.State;

namespace Mmspec.SpecTests.Execution;

/// <summary>
/// Every write a call makes must be its business (PHYS-09): after each step, the frames each recorded call wrote
/// (<see cref="CallRecord.Written"/>) are compared with who held them before the step. Free frames and frames no
/// one the suite sees holds (an allocator's bitmap, a table pool, heap pages between blocks) may be written by
/// any call; a client page, a vmalloc page, a page holding live heap blocks or a page table only by the calls
/// whose business it is. A write that no one can see (a scribble into a page the suite never marked) is named
/// here, at the call that made it.
/// </summary>
public static class WriteCheck
{
    /// <summary>
    /// Checks the calls recorded since the last check, against the ownership after the previous step, and returns
    /// every frame they wrote (the context's own set, good until the next step's check); null when a call could not tell (an implementation without write tracking). The calls of a
    /// batch are judged one by one where the port told what each wrote; otherwise their writes are known only as a
    /// whole (<see cref="SequenceContext.UnjudgedWrites"/>), and they are not judged.
    /// </summary>
    public static HashSet<ulong>? AfterStep(SequenceContext ctx)
    {
        // The sets are the thread's, emptied for each step: a hog's or a teardown's step writes and frees thousands of frames.
        FrameBits released = WriteCheck.released ??= new FrameBits(); // frames an earlier call of this step gave back: free for the calls after it
        HashSet<int> changedSpaces = WriteCheck.changedSpaces ??= []; // spaces whose tables an earlier call of this step may have freed
        released.Clear(ctx.Implementation.RamSize);
        changedSpaces.Clear();
        HashSet<ulong>? all = ctx.StepWrites;
        all.Clear();
        List<(ulong Page, Owner Owner)>? regionPages = null; // found once a step, for however many vmfrees it makes
        CallTrace trace = ctx.Trace;
        for (int index = ctx.WritesCheckedUpTo; index < trace.Count;)
        {
            if (trace.RunAt(index, out int first, out int left) is { } run)
            {
                // A batch's run: only its calls that wrote something are judged, each in its place among the pages the
                // run gives back (a drain's or a teardown's thousands of calls mostly write nothing).
                int end = first + left;
                if (run.Function != ApiFunction.mm_phys_free_page)
                    for (int call = run.NextWriting(first); call < end; call = run.NextWriting(call + 1))
                        CheckCall(ctx, run.Summary(call), index + (call - first), released, changedSpaces, ref all, ref regionPages);
                else
                    for (int call = first, next = run.NextWriting(first); call < end; call++)
                    {
                        if (call != next)
                        {
                            released.Add(run.Summary(call).FirstArgument);
                            continue;
                        }
                        CheckCall(ctx, run.Summary(call), index + (call - first), released, changedSpaces, ref all, ref regionPages);
                        next = run.NextWriting(call + 1);
                    }
                index += left;
                continue;
            }
            // The summary, not the record: a call's record is made only once something reads it whole.
            CheckCall(ctx, trace.Summary(index), index, released, changedSpaces, ref all, ref regionPages);
            index++;
        }
        ctx.WritesCheckedUpTo = ctx.Trace.Count;
        return all;
    }

    /// <summary>Judges what call <paramref name="index"/> wrote, adds it to <paramref name="all"/> (null once a call could not tell), and learns what it gave back.</summary>
    private static void CheckCall(SequenceContext ctx, CallSummary call, int index, FrameBits released, HashSet<int> changedSpaces, ref HashSet<ulong>? all,
                                  ref List<(ulong Page, Owner Owner)>? regionPages)
    {
        if (call.Written is not { } written)
        {
            if (!call.InBatch)
                all = null; // a call that could not tell
        }
        else
            for (int at = 0; at < written.Count; at++) // by index: an enumerator per call of a batch's thousands
            {
                ulong frame = written[at];
                all?.Add(frame);
                if (!released.Contains(frame) && Unexplained(ctx, call, index, frame, changedSpaces) is { } holder)
                    ctx.Fail("PHYS-09", $"{ctx.Trace[index].Call} wrote frame 0x{frame:X}, which is {holder}: not this call's to write",
                        state: [new FrameUnchangedCheck(frame, holder, index)]);
            }
        Release(ctx, call, index, released, changedSpaces, ref regionPages);
    }

    [ThreadStatic] private static FrameBits? released;
    [ThreadStatic] private static HashSet<int>? changedSpaces;

    /// <summary>Who held the frame, when this call had no business writing it; null when the write is explained.</summary>
    /// <param name="index">The call's place in the trace: a vmfree's or a mapping call's other arguments are read from its record there.</param>
    private static string? Unexplained(SequenceContext ctx, CallSummary summary, int index, ulong frame, HashSet<int> changedSpaces)
    {
        if (!ctx.Owned.TryGetOwner(frame, out Owner owner))
            return null; // free, or private to the implementation
        ApiFunction function = summary.Function;
        switch (owner.Kind)
        {
            case OwnerKind.Client:
                return function == ApiFunction.mm_phys_free_page && summary.FirstArgument == frame ? null : owner.ToString();
            case OwnerKind.Region:
                return function == ApiFunction.vmfree && Covers(ctx, ctx.Trace[index].Call, owner) ? null : owner.ToString();
            case OwnerKind.Heap:
                // Heap metadata lives beside the blocks; any call that may allocate internally may write it. The
                // physical allocator sits below the heap, and lookups change nothing.
                return IsPhysical(function) || IsLookup(function) ? owner.ToString() : null;
            default:
                TableReach reach = owner.Reach;
                if (reach.Shared)
                    return IsPhysical(function) || IsLookup(function) ? $"{owner} of the shared kernel half" : null;
                if (!IsMapping(function))
                    return $"{owner} of {Spaces(reach)}";
                ApiCall call = ctx.Trace[index].Call; // a mapping call is a record of its own (CallTrace)
                // The kernel half is every space's, even where each space keeps its own copy of it: a change there
                // may be written into every space's tables.
                bool mine = reach.Reaches(SpaceOf(call)) || changedSpaces.Any(reach.Reaches) || InKernelHalf(call);
                return mine ? null : $"{owner} of {Spaces(reach)}";
        }
    }

    /// <summary>What an earlier call of the step gave back, so that a later call may take and write it.</summary>
    private static void Release(SequenceContext ctx, CallSummary summary, int index, FrameBits released, HashSet<int> changedSpaces,
                                ref List<(ulong Page, Owner Owner)>? regionPages)
    {
        if (summary.End != CallEnd.Returned)
            return;
        if (summary.Function == ApiFunction.mm_phys_free_page)
            released.Add(summary.FirstArgument);
        if (!IsMapping(summary.Function))
            return;
        ApiCall call = ctx.Trace[index].Call; // a mapping call is a record of its own (CallTrace)
        changedSpaces.Add(SpaceOf(call));
        if (call.Function != ApiFunction.vmfree)
            return;
        regionPages ??= ctx.Owned.PagesOf(OwnerKind.Region);
        foreach ((ulong page, Owner owner) in regionPages)
            if (Covers(ctx, call, owner))
                released.Add(page);
    }

    private static bool Covers(SequenceContext ctx, ApiCall vmfree, Owner region)
    {
        ulong start = vmfree.Args[1].Value, pages = vmfree.Args[2].Value;
        bool sameSpace = region.Space == SpaceOf(vmfree) || region.Space < 0 || ctx.Model.IsShared(region.Address);
        return sameSpace && region.Address >= start && (region.Address - start) / AddressSpaceLayout.PageSize < pages;
    }

    private static bool IsPhysical(ApiFunction function) =>
        function is ApiFunction.mm_phys_alloc_page or ApiFunction.mm_phys_alloc_contiguous or ApiFunction.mm_phys_free_page;

    private static bool IsLookup(ApiFunction function) => function is ApiFunction.mm_map_get or ApiFunction.vmfind;

    /// <summary>The calls that change a space's tables: the mapping calls, regions and space creation.</summary>
    private static bool IsMapping(ApiFunction function) =>
        function is ApiFunction.mm_map_single or ApiFunction.mm_umap_single or ApiFunction.vmalloc or ApiFunction.vmfree
            or ApiFunction.mmspec_space_create;

    /// <summary>A mapping call on a kernel address (vmalloc: a window reaching the kernel half).</summary>
    private static bool InKernelHalf(ApiCall call) =>
        call.Function != ApiFunction.mmspec_space_create && call.Args.Count > 2 &&
        (AddressSpaceLayout.IsKernel(call.Args[1].Value) || call.Function == ApiFunction.vmalloc && AddressSpaceLayout.IsKernel(call.Args[2].Value));

    private static int SpaceOf(ApiCall call) => call.Args.Count > 0 && call.Args[0].Kind == ArgKind.Space ? (int)call.Args[0].Value : -1;

    private static string Spaces(TableReach reach)
    {
        var named = Enumerable.Range(0, 64).Where(space => (reach.Spaces & (1UL << space)) != 0).Select(space => $"space{space}").ToList();
        return named.Count == 0 ? "no space" : string.Join(" and ", named);
    }
}
