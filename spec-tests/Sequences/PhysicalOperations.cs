using Mmspec.Models.State;
using Mmspec.SpecTests.Execution;
using static Mmspec.SpecTests.Execution.SequenceContext;

namespace Mmspec.SpecTests.Sequences;

/// <summary>mm_phys_alloc_page, or mm_phys_alloc_contiguous(count) when count is given.</summary>
public sealed record AllocPages(ulong Count, bool Contiguous) : Operation
{
    public override string Clause => Contiguous ? "PHYS-03" : "PHYS-01";

    public override IReadOnlyList<string> Clauses => ["PHYS-01", "PHYS-02", "PHYS-03", "PHYS-04", "PHYS-05", "DMAP-08", "PHYS-D01", "PHYS-D02", "PHYS-D03"];

    public override bool Apply(SequenceContext ctx)
    {
        if (Contiguous && Count == 0 && !ctx.Strict)
            return false;
        ulong result = ctx.Call(Clause, Contiguous ? ApiCall.AllocContiguous(Count) : ApiCall.AllocPage()).Value;
        ulong count = Contiguous ? Count : 1;
        ulong? lowest = ctx.Strict ? LowestFreeRun(ctx, count) : null;
        if (result == AddressSpaceLayout.Naddr)
        {
            if (ctx.Strict)
                ctx.CheckResult(lowest is null, $"r == 0x{lowest:X}", count == 0 ? "PHYS-D03" : "PHYS-D02", $"returned MM_NADDR though 0x{lowest:X} starts {count} free page(s)");
            else
                CheckNoFreeRun(ctx, count);
            return true;
        }
        ctx.CheckResult(count > 0, "r == MM_NADDR", "PHYS-D03", "mm_phys_alloc_contiguous(0) must return MM_NADDR");
        ctx.CheckResult(AddressSpaceLayout.IsPageAligned(result), "r % MM_PAGE_SIZE == 0", "PHYS-02", $"0x{result:X} is not page aligned");
        ulong bytes = count * AddressSpaceLayout.PageSize;
        ctx.CheckResult(result < ctx.Implementation.RamSize && (ctx.Implementation.RamSize - result) / AddressSpaceLayout.PageSize >= count,
            $"r + 0x{bytes:X} <= 0x{ctx.Implementation.RamSize:X}", "PHYS-02", $"0x{result:X} (+{count} pages) is not inside RAM");
        var pages = new List<ulong>((int)count);
        for (ulong page = result; page < result + bytes; page += AddressSpaceLayout.PageSize)
        {
            ctx.CheckResult(ctx.Owned.OwnerOf(page) is null, $"r > 0x{page:X} || r + 0x{bytes:X} <= 0x{page:X}", Contiguous ? "PHYS-03" : "PHYS-01",
                $"returned page 0x{page:X}, which is still in use as {ctx.Owned.OwnerOf(page)}");
            pages.Add(page);
            ctx.Live.Allocated(LiveKind.Page, page);
            ctx.Patterns.MarkPage(page);
        }
        // The model changes once for the run: a state per page would copy the client's page set page by page.
        ctx.Model = ctx.Model.PagesAllocated(pages);
        if (!ctx.Hogged.IsEmpty)
            ctx.Hogged = ctx.Hogged.Except(pages); // freed since a hog took them: pages of their own now
        if (lowest is { } expected)
            ctx.CheckResult(result == expected, $"r == 0x{expected:X}", "PHYS-D02", $"returned 0x{result:X}; first fit is 0x{expected:X}");
        return true;
    }

    public override IEnumerable<Operation> Simpler() =>
        Contiguous && Count > 1 ? [this with { Count = Count / 2 }, this with { Contiguous = false, Count = 1 }] : [];

    /// <summary>
    /// MM_NADDR is wrong only where the suite can show a free run of <paramref name="count"/> pages existed: it
    /// allocates every free page right after the call and looks for one. Fragmentation, and pages the
    /// implementation keeps for itself, are its business.
    /// </summary>
    private static void CheckNoFreeRun(SequenceContext ctx, ulong count)
    {
        if (ctx.FreeRunAfterFailure("PHYS-04", count) is ({ } run, int free))
            ctx.CheckResult(false, "r != MM_NADDR", "PHYS-04", count == 1
                ? $"returned MM_NADDR, but right after it mm_phys_alloc_page() still handed out {free} page(s), e.g. 0x{run:X}"
                : $"returned MM_NADDR, but right after it the {count} pages 0x{run:X}..0x{run + count * AddressSpaceLayout.PageSize - 1:X} could each be allocated: a free run existed");
    }

    /// <summary>In the strict profile every page in use is known, so first fit can be computed exactly.</summary>
    private static ulong? LowestFreeRun(SequenceContext ctx, ulong count)
    {
        if (count == 0)
            return null;
        ulong run = 0;
        for (ulong page = ReferenceReservedBytes; page < ctx.Implementation.RamSize; page += AddressSpaceLayout.PageSize)
        {
            run = ctx.Owned.Contains(page) ? 0 : run + 1;
            if (run == count)
                return page - (count - 1) * AddressSpaceLayout.PageSize;
        }
        return null;
    }

    /// <summary>The reference keeps the low 1 MiB (PHYS-D01).</summary>
    public const ulong ReferenceReservedBytes = 1UL << 20;
}

/// <summary>mm_phys_free_page of a page the client holds.</summary>
public sealed record FreePage(LivePick Which) : Operation
{
    public override string Clause => "PHYS-06";

    public override IReadOnlyList<string> Clauses => ["PHYS-06", "PHYS-07"];

    public override bool Apply(SequenceContext ctx)
    {
        if (ctx.Model.ClientPages.Count == 0)
            return false;
        ulong page = ctx.Model.ClientPages[ctx.Live.Choose(Which, LiveKind.Page, ctx.Model.ClientPages)];
        if (IsMapped(ctx.Model, page))
            return false; // freeing a page that is still mapped is the caller's bug, not a test of the callee
        Free(ctx, page);
        return true;
    }

    /// <summary>mm_phys_free_page of a page the client holds, and the model after it.</summary>
    internal static void Free(SequenceContext ctx, ulong page)
    {
        ctx.Call("PHYS-06", ApiCall.FreePage(page));
        ctx.Model = ctx.Model.PageFreed(page);
        ctx.Live.Freed(LiveKind.Page, page);
        ctx.Hogged = ctx.Hogged.Remove(page);
        ctx.Patterns.ForgetPage(page);
    }

    public override IEnumerable<Operation> Simpler() => !Which.IsSimplest ? [new FreePage(0)] : [];

    internal static bool IsMapped(ApiState model, ulong page) => ClientMapped(model).Contains(page);

    /// <summary>The physical pages the client has mapped with mm_map_single, once for each mapping.</summary>
    internal static IEnumerable<ulong> ClientMapped(ApiState model) =>
        model.SpaceMappings.Append(model.SharedMappings).SelectMany(ClientMappings.In)
            .Where(entry => entry.Mapping.Kind == MappingKind.Client).Select(entry => entry.Mapping.Phys);
}

public enum BadFree
{
    Unaligned,
    Reserved,
    OutsideRam,
    NotAllocated,
}

/// <summary>
/// mm_phys_free_page of an address the client does not hold: unaligned (inside a page it holds), a page the kernel
/// kept (reserved), beyond RAM, or not allocated (strict: the first page nobody uses; default: a page of its own
/// freed a second time). Strict: a panic (PHYS-D05, PHYS-D06). Default: a panic or nothing changed (PHYS-08).
/// </summary>
public sealed record FreeBadPage(BadFree Kind) : Operation
{
    public override string Clause => "PHYS-08";

    public override IReadOnlyList<string> Clauses => ["PHYS-08", "PHYS-01", "PHYS-06", "PHYS-D05", "PHYS-D06", "DMAP-D04"];

    public override bool Apply(SequenceContext ctx)
    {
        if (!ctx.Strict)
            return Misused(ctx);
        ulong? address = Kind switch
        {
            BadFree.Unaligned => (ctx.Model.ClientPages.IsEmpty ? 0x100000UL : ctx.Model.ClientPages[0]) + 8,
            BadFree.Reserved => 0x1000,
            BadFree.OutsideRam => ctx.Implementation.RamSize,
            _ => FirstUnusedPage(ctx),
        };
        if (address is not { } bad)
            return false;
        ctx.CallExpectingPanic(Kind == BadFree.NotAllocated ? "PHYS-D06" : "PHYS-D05", ApiCall.FreePage(bad));
        return true;
    }

    /// <summary>
    /// Default profile: what is reserved, and which pages are free, are the kernel's business, so the addresses are
    /// ones the suite knows the client does not hold: 8 bytes into a page it holds, the lowest page that was
    /// neither free at the start nor is a known table, the end of RAM, or a page just allocated and freed.
    /// </summary>
    private bool Misused(SequenceContext ctx)
    {
        if (Kind == BadFree.NotAllocated)
            return AllocatedAndFreed(ctx) is not { } freed || FreeBad(ctx, freed); // MM_NADDR is judged as any allocation

        ulong? address = Kind switch
        {
            BadFree.Unaligned => ctx.Model.ClientPages.IsEmpty ? null : ctx.Model.ClientPages[0] + 8,
            BadFree.Reserved => KeptByTheKernel(ctx),
            _ => ctx.Implementation.RamSize,
        };
        return address is { } bad && FreeBad(ctx, bad);
    }

    private static bool FreeBad(SequenceContext ctx, ulong bad)
    {
        var call = ApiCall.FreePage(bad);
        if (ctx.CallMayPanic("PHYS-08", call) is not null)
            Misuse.CheckNothingFreed(ctx, "PHYS-08", call);
        return true;
    }

    /// <summary>The lowest page of RAM the kernel kept from the start (not free then, no page table the suite knows).</summary>
    private static ulong? KeptByTheKernel(SequenceContext ctx)
    {
        for (ulong page = 0; page < ctx.Implementation.RamSize; page += AddressSpaceLayout.PageSize)
            if (!ctx.FreeAtBaseline.Contains(page) && !ctx.Owned.Contains(page))
                return page;
        return null;
    }

    /// <summary>A page allocated and freed again in this step, as any other: a second free of it is a double free of a free page.</summary>
    private static ulong? AllocatedAndFreed(SequenceContext ctx)
    {
        int held = ctx.Model.ClientPages.Count;
        new AllocPages(1, Contiguous: false).Apply(ctx);
        if (ctx.Model.ClientPages.Count == held)
            return null;
        ulong page = ctx.Trace[^1].Outcome.Value;
        FreePage.Free(ctx, page);
        return page;
    }

    private static ulong? FirstUnusedPage(SequenceContext ctx)
    {
        for (ulong page = AllocPages.ReferenceReservedBytes; page < ctx.Implementation.RamSize; page += AddressSpaceLayout.PageSize)
            if (!ctx.Owned.Contains(page))
                return page;
        return null;
    }
}
