using Mmspec.Models.State;
using Mmspec.SpecTests.Execution;

namespace Mmspec.SpecTests.Sequences;

/// <summary>Which of the pages a <see cref="Hog"/> took it gives back, so that memory is short in different shapes.</summary>
public enum LeaveFree
{
    /// <summary>The lowest pages: first fit finds them at once.</summary>
    Lowest,

    /// <summary>The highest pages: the end of RAM, which may end inside a bitmap word.</summary>
    Highest,

    /// <summary>Evenly spread: every free page alone.</summary>
    Scattered,

    /// <summary>
    /// Pairs of pages around a full 64-page word: the last page before it and the first after it. Bitmap allocators
    /// keep 64 pages per word; a run search that skips a full word must not count the pages on both sides as one run.
    /// </summary>
    WordEdges,
}

/// <summary>
/// Memory pressure: the client takes every free page but <see cref="Leave"/>, so that what follows (kmalloc growing
/// its heap, mm_map_single needing a table, vmalloc, creating a space, a contiguous run) runs at exhaustion, and
/// must fail cleanly or roll back. The pages are the client's, unmarked (they stand for memory in use, and thousands of
/// marks would be re-read after every step); steps may free or map them like any other, <see cref="Release"/> gives them back.
/// </summary>
public sealed record Hog(int Leave, LeaveFree Where = LeaveFree.Lowest) : Operation
{
    public override string Clause => "PHYS-01";

    public override IReadOnlyList<string> Clauses => ["PHYS-01", "PHYS-02", "PHYS-04", "PHYS-06"];

    public override bool Apply(SequenceContext ctx)
    {
        var seen = new bool[ctx.RamPages]; // a frame each: a hog hands out every page of RAM
        ulong ramSize = ctx.Implementation.RamSize; // read once: the judge runs for each of thousands of pages
        OwnershipMap owned = ctx.Owned;
        List<ulong> taken = ctx.AllocateAllRecorded(Clause, page =>
        {
            // A page of RAM handed out once and held by nobody: the thousands of pages that are fine cost a test each,
            // and only a page that is not is judged clause by clause.
            bool inRam = AddressSpaceLayout.IsPageAligned(page) && page < ramSize;
            if (inRam && !seen[page / AddressSpaceLayout.PageSize] && !owned.Contains(page))
            {
                seen[page / AddressSpaceLayout.PageSize] = true;
                return;
            }
            ctx.CheckResult(inRam, $"r != 0x{page:X}", "PHYS-02", $"mm_phys_alloc_page() returned 0x{page:X}, not a page of RAM (0x{ramSize:X} bytes)");
            ctx.Fail(Clause, $"mm_phys_alloc_page() returned page 0x{page:X}, which is still in use as {owned.OwnerOf(page) ?? "a page it returned before"}",
                expected: $"r != 0x{page:X}");
        });
        List<ulong> ordered = InAddressOrder(taken) ? taken : [.. taken.Order()]; // most allocators hand pages out in order: no sort of thousands
        HashSet<ulong> back = [.. GivenBack(ordered)];
        var kept = new List<ulong>(ordered.Count);
        var given = new List<ulong>(back.Count);
        foreach (ulong page in ordered)
            (back.Contains(page) ? given : kept).Add(page);
        // In address order, in one batch: a native port paid a round trip for each of up to hundreds of pages.
        if (given.Count > 0)
            ctx.FreePagesBatched("PHYS-06", given);
        ctx.Model = ctx.Model.PagesAllocated(kept);
        ctx.Hogged = ctx.Hogged.Union(kept);
        return true;
    }

    public override IEnumerable<Operation> Simpler() =>
        Leave > 0 || Where != LeaveFree.Lowest ? [new Hog(0)] : [];

    private static bool InAddressOrder(List<ulong> pages)
    {
        for (int index = 1; index < pages.Count; index++)
            if (pages[index] < pages[index - 1])
                return false;
        return true;
    }

    /// <summary>Which of the pages taken (<paramref name="pages"/>, in address order) to give back.</summary>
    private IEnumerable<ulong> GivenBack(List<ulong> pages)
    {
        int leave = Math.Min(Leave, pages.Count);
        if (leave == 0)
            return [];
        return Where switch
        {
            LeaveFree.Highest => pages.TakeLast(leave),
            LeaveFree.Scattered => Enumerable.Range(0, leave).Select(i => pages[i * pages.Count / leave]),
            LeaveFree.WordEdges => WordEdges(pages, leave),
            _ => pages.Take(leave),
        };
    }

    /// <summary>Up to <paramref name="leave"/> pages as (last page before word w, first page after it), w a full 64-page word of taken pages, spread over RAM.</summary>
    private static IEnumerable<ulong> WordEdges(List<ulong> pages, int leave)
    {
        const ulong word = 64 * AddressSpaceLayout.PageSize;
        var taken = pages.ToHashSet();
        var pairs = new List<(ulong Before, ulong After)>();
        for (ulong start = word; start + word < pages[^1]; start += word)
        {
            bool full = true;
            for (ulong page = start; page < start + word && full; page += AddressSpaceLayout.PageSize)
                full = taken.Contains(page);
            if (full && taken.Contains(start - AddressSpaceLayout.PageSize) && taken.Contains(start + word))
                pairs.Add((start - AddressSpaceLayout.PageSize, start + word));
        }
        int wanted = Math.Max(1, leave / 2);
        if (pairs.Count == 0)
            return pages.Take(leave);
        return Enumerable.Range(0, Math.Min(wanted, pairs.Count)).Select(i => pairs[i * pairs.Count / Math.Min(wanted, pairs.Count)])
            .SelectMany(pair => new[] { pair.Before, pair.After });
    }
}

/// <summary>Gives back what a <see cref="Hog"/> took and the client still holds unmapped: all of it, or every other page (fragmenting what is free).</summary>
public sealed record Release(int Every) : Operation
{
    public override string Clause => "PHYS-06";

    public override IReadOnlyList<string> Clauses => ["PHYS-06"];

    public override bool Apply(SequenceContext ctx)
    {
        var mapped = FreePage.ClientMapped(ctx.Model).ToHashSet();
        // The client's pages come in address order: no sort of the thousands a hog took, and loops, not queries, over them.
        var held = new List<ulong>(ctx.Model.ClientPages.Count);
        foreach (ulong page in ctx.Model.ClientPages)
            if (ctx.Hogged.Contains(page) && !mapped.Contains(page))
                held.Add(page);
        int every = Math.Max(Every, 1);
        var freed = new List<ulong>(held.Count / every + 1);
        for (int index = 0; index < held.Count; index += every)
            freed.Add(held[index]);
        if (freed.Count == 0)
            return false;
        ctx.FreePagesBatched(Clause, freed);
        ctx.Model = ctx.Model.PagesFreed(freed);
        ctx.Hogged = ctx.Hogged.Except(freed);
        foreach (ulong page in freed)
            ctx.Patterns.ForgetPage(page); // a page the hog took may have been freed and handed out, and marked, since
        return true;
    }

    public override IEnumerable<Operation> Simpler() => Every != 1 ? [new Release(1)] : [];
}
