using Mmspec.Models.State;
using Mmspec.SpecTests.Port;
using static Mmspec.SpecTests.Execution.SequenceContext;

namespace Mmspec.SpecTests.Execution;

/// <summary>
/// The API's own view of the state, cross-checked after every step. The audit walks the page tables itself, so an
/// implementation whose <c>mm_map_get</c> answers from something else (a translation cache a step forgot to flush,
/// or one that confuses spaces) passes it. So after each step the suite asks <c>mm_map_get</c>, with flags, about a
/// few addresses and compares every answer with the model: the pages the step touched, in every space (a space
/// that does not see an address must say MM_NADDR), a couple of other mapped pages, and one unmapped neighbour.
/// The calls are recorded like the step's own, so shrinking and both reproducers replay them.
/// </summary>
public static class ApiViewCheck
{
    /// <summary>Touched pages asked about per step (in every space): a vmalloc of 600 pages is sampled, not read back whole.</summary>
    public const int TouchedSample = 6;

    /// <summary>Other client and region pages asked about per step, rotating with the step number over all of them.</summary>
    public const int OtherSample = 2;

    /// <summary>Asks about what step <see cref="SequenceContext.Step"/> touched (<paramref name="touched"/>) and a sample of the rest.</summary>
    public static void AfterStep(SequenceContext ctx, IReadOnlyList<(int Space, ulong Virt)> touched)
    {
        try
        {
            List<(int Space, ulong Virt)> asked = Addresses(ctx, touched);
            // Asked in one batch (one round trip for a native implementation), then recorded and judged one by one as
            // if made singly: the trace ends at the first wrong answer, as it would have.
            var answers = new List<(ulong Result, ulong Flags)>(asked.Count);
            Exception? failed = null;
            IReadOnlyList<IReadOnlyList<ulong>>? perCall = null;
            try
            {
                ctx.Batch(() =>
                {
                    ctx.Implementation.MapGetAll([.. asked.Select(address => (ctx.Spaces[address.Space], address.Virt))], answers);
                    return 0;
                }, out perCall);
            }
            catch (Exception failure) when (failure is not ViolationException)
            {
                failed = failure;
            }
            IReadOnlyList<IReadOnlyList<ulong>>? written = ctx.CallByCall(perCall, asked.Count);
            for (int index = 0; index < asked.Count; index++)
            {
                (int space, ulong virt) = asked[index];
                ApiCall call = ApiCall.MapGet(space, virt, wantFlags: true);
                if (index < answers.Count)
                {
                    ctx.Trace.Add(new CallRecord(ctx.Step, call, CallEnd.Returned, new CallOutcome(answers[index].Result, answers[index].Flags))
                    {
                        Written = written?[index],
                        InBatch = written is null,
                        CrossCheck = true, // the trace shows which calls the suite made on its own
                    });
                    Compare(ctx, space, virt, answers[index].Result, answers[index].Flags);
                    continue;
                }
                Failed(ctx, call, ClauseOf(ctx.Model.Lookup(space, virt)),
                    failed ?? new ImplementationCrashedException($"the port answered {answers.Count} of {asked.Count} mm_map_get calls and said nothing of the rest"));
            }
        }
        catch (ViolationException broken)
        {
            // A wrong answer, a panic or a crash: the message says that the suite made the call, not the step.
            throw new ViolationException(broken.Violation with { Message = $"the suite's cross-check after step {ctx.Step}: {broken.Violation.Message}" });
        }
    }

    /// <summary>
    /// What to ask, in order, each (space, page) once: the touched pages first, so that a stale answer is asked for
    /// before any other lookup can have replaced it in a cache; then the other pages; then the unmapped neighbour.
    /// </summary>
    private static List<(int Space, ulong Virt)> Addresses(SequenceContext ctx, IReadOnlyList<(int Space, ulong Virt)> touched)
    {
        var asked = new List<(int Space, ulong Virt)>();
        List<(int Space, ulong Page)> pages = Sample(TouchedPages(touched), TouchedSample);
        // The space the step changed first, then every other: a cache that ignores spaces hands the other spaces its answer.
        foreach ((int touchedSpace, ulong page) in pages)
        {
            AddOnce(asked, (touchedSpace, page));
            for (int space = 0; space < ctx.Model.SpaceCount; space++)
                AddOnce(asked, (space, page));
        }
        List<(int Space, ulong Page)> others = OtherPages(ctx);
        foreach ((int space, ulong page) in others)
            AddOnce(asked, (space, page));
        if (UnmappedNeighbour(ctx, pages.Concat(others)) is { } neighbour)
            AddOnce(asked, neighbour);
        return asked;
    }

    private static void AddOnce(List<(int Space, ulong Virt)> asked, (int Space, ulong Virt) address)
    {
        if (!asked.Contains(address))
            asked.Add(address);
    }

    /// <summary>The touched pages, page aligned, canonical (the default profile asks nothing of other addresses), each once, in order.</summary>
    private static List<(int Space, ulong Page)> TouchedPages(IReadOnlyList<(int Space, ulong Virt)> touched)
    {
        var pages = new List<(int Space, ulong Page)>(touched.Count);
        var seen = new HashSet<(int Space, ulong Page)>();
        foreach ((int space, ulong virt) in touched)
        {
            ulong page = virt & ~(AddressSpaceLayout.PageSize - 1);
            if (AddressSpaceLayout.IsCanonical(page) && seen.Add((space, page)))
                pages.Add((space, page));
        }
        return pages;
    }

    /// <summary>At most <paramref name="count"/> of <paramref name="all"/>: the first, the last and evenly spaced ones between.</summary>
    private static List<T> Sample<T>(List<T> all, int count)
    {
        if (all.Count <= count)
            return all;
        return Enumerable.Range(0, count).Select(index => all[(int)((long)index * (all.Count - 1) / (count - 1))]).ToList();
    }

    /// <summary>
    /// <see cref="OtherSample"/> of the pages the client and its regions have mapped, spread over them; the choice moves
    /// one page per step, so that a long sequence asks about every one. (The kernel's own mappings change only when a
    /// step unmaps them, and then the step touched them.) A page of the shared kernel half is asked in a space that
    /// changes with the step.
    /// </summary>
    private static List<(int Space, ulong Page)> OtherPages(SequenceContext ctx)
    {
        ApiState model = ctx.Model;
        var maps = new List<(int Space, (ulong Virt, Mapping Mapping)[] Pages)>(model.SpaceCount + 1);
        for (int space = 0; space < model.SpaceCount; space++)
            maps.Add((space, ClientMappings.In(model.SpaceMappings[space])));
        maps.Add((ctx.Step % model.SpaceCount, ClientMappings.In(model.SharedMappings)));
        int total = maps.Sum(map => map.Pages.Length);
        var chosen = new List<(int Space, ulong Page)>(OtherSample);
        for (int pick = 0; pick < Math.Min(OtherSample, total); pick++)
        {
            int index = (ctx.Step + pick * total / OtherSample) % total;
            foreach ((int space, (ulong Virt, Mapping Mapping)[] pages) in maps)
            {
                if (index < pages.Length)
                {
                    chosen.Add((space, pages[index].Virt));
                    break;
                }
                index -= pages.Length;
            }
        }
        return chosen;
    }

    /// <summary>The page after (else before) the first of <paramref name="pages"/> whose neighbour the model says is unmapped in its space.</summary>
    private static (int Space, ulong Virt)? UnmappedNeighbour(SequenceContext ctx, IEnumerable<(int Space, ulong Page)> pages)
    {
        const ulong lastPage = ulong.MaxValue & ~(AddressSpaceLayout.PageSize - 1);
        foreach ((int space, ulong page) in pages)
        {
            if (page < lastPage && IsUnmapped(ctx, space, page + AddressSpaceLayout.PageSize))
                return (space, page + AddressSpaceLayout.PageSize);
            if (page > 0 && IsUnmapped(ctx, space, page - AddressSpaceLayout.PageSize))
                return (space, page - AddressSpaceLayout.PageSize);
        }
        return null;
    }

    private static bool IsUnmapped(SequenceContext ctx, int space, ulong virt) =>
        AddressSpaceLayout.IsCanonical(virt) && ctx.Model.Lookup(space, virt) is null;

    /// <summary>The clause an answer is judged by, from what the model maps at the address (<paramref name="expected"/>).</summary>
    private static string ClauseOf((ulong Base, Mapping Mapping)? expected) => expected switch
    {
        null => "MAP-09",
        { Mapping.Kind: MappingKind.DirectMap } => "DMAP-05",
        _ => "MAP-07",
    };

    /// <summary>The call of the batch that panicked or crashed: recorded so, and a violation of the clause it was asked under.</summary>
    private static void Failed(SequenceContext ctx, ApiCall call, string clause, Exception failure)
    {
        ctx.Trace.Add(failure is ImplementationPanicException panic
            ? new CallRecord(ctx.Step, call, CallEnd.Panicked, default, panic.Reason) { InBatch = true, CrossCheck = true }
            : new CallRecord(ctx.Step, call, CallEnd.Crashed, default, failure.GetType().Name) { InBatch = true, CrossCheck = true });
        ctx.Fail(clause, EndedBadly(call, failure));
    }

    /// <summary>One mm_map_get's answer, judged as a MapGet step would judge it, with a message that says the suite asked.</summary>
    private static void Compare(SequenceContext ctx, int space, ulong virt, ulong result, ulong flags)
    {
        var expected = ctx.Model.Lookup(space, virt);
        string clause = ClauseOf(expected);
        if (expected is not { } found)
        {
            ctx.CheckResult(result == AddressSpaceLayout.Naddr, "r == MM_NADDR", clause,
                $"mm_map_get({ctx.Space(space)}, {Hex(virt)}) returned {Hex(result)}; the page is not mapped in {ctx.Space(space)}{MappedElsewhere(ctx, space, virt)}");
            return;
        }
        ulong phys = found.Mapping.Phys + (virt - found.Base);
        ctx.CheckResult(result == phys, $"r == 0x{phys:X}", clause,
            $"mm_map_get({ctx.Space(space)}, {Hex(virt)}) returned {Hex(result)}; the page maps 0x{phys:X} in {ctx.Space(space)}");
        // The kernel's own pages carry the rights it chose at boot; only the strict profile pins them (DMAP-D07), as in MapGet.
        bool kernelsOwn = found.Mapping.Kind is MappingKind.DirectMap or MappingKind.Boot;
        if (kernelsOwn && !ctx.Strict)
            return;
        ulong rights = (ulong)found.Mapping.Rights;
        ctx.CheckResult(flags == rights, $"flags == ({ApiCall.FlagNames(rights)})", kernelsOwn ? "DMAP-D07" : "MAP-04",
            $"mm_map_get({ctx.Space(space)}, {Hex(virt)}) reported flags {ApiCall.FlagNames(flags)}; the page was mapped with {ApiCall.FlagNames(rights)}");
    }

    /// <summary>For a page unmapped in one space: the other spaces that map it, which a space-blind answer may have come from.</summary>
    private static string MappedElsewhere(SequenceContext ctx, int space, ulong virt)
    {
        var others = new List<string>();
        for (int other = 0; other < ctx.Model.SpaceCount; other++)
            if (other != space && ctx.Model.Lookup(other, virt) is { } there)
                others.Add($"{ctx.Space(other)} maps it to 0x{there.Mapping.Phys + (virt - there.Base):X}");
        return others.Count == 0 ? "" : $" ({string.Join(", ", others)})";
    }
}
