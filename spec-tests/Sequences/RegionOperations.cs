using Mmspec.Models.Mmu;
using Mmspec.Models.State;
using Mmspec.SpecTests.Execution;
using static Mmspec.SpecTests.Execution.SequenceContext;

namespace Mmspec.SpecTests.Sequences;

/// <summary>A vmfind/vmalloc search window: from an address pick, over a span of pages, optionally unaligned or (misuse) reversed.</summary>
public readonly record struct SearchRange(AddressPick From, ulong SpanPages, ulong Misalign, bool Reversed = false)
{
    public (ulong From, ulong To) Resolve()
    {
        ulong from = From.Resolve() + Misalign;
        ulong span = SpanPages * AddressSpaceLayout.PageSize;
        ulong to = ulong.MaxValue - from < span ? ulong.MaxValue : from + span;
        return Reversed ? (to, from) : (from, to);
    }

    /// <summary>The pages a fitting region may use: [from rounded up, to rounded down), per segment.</summary>
    public ulong? LowestFit(ApiState model, int space, ulong npages, bool userOnly)
    {
        (ulong from, ulong to) = Resolve();
        ulong first = (from + AddressSpaceLayout.PageSize - 1) & ~(AddressSpaceLayout.PageSize - 1);
        ulong end = to & ~(AddressSpaceLayout.PageSize - 1);
        if (npages == 0 || first < from || first >= end || npages > (1UL << 36))
            return null;
        foreach ((ulong segmentFirst, ulong segmentLast, bool kernel) in AddressSpaceLayout.Segments)
        {
            if (userOnly && kernel)
                continue;
            ulong low = Math.Max(first, segmentFirst), high = Math.Min(end - 1, segmentLast);
            if (low <= high && high - low + 1 >= npages * AddressSpaceLayout.PageSize && model.LowestFreeRun(space, low, high, npages) is { } fit)
                return fit;
        }
        return null;
    }
}

/// <summary>vmfind: the result must be a free, aligned run inside the window; none only if none exists.</summary>
public sealed record VmFind(int Space, SearchRange Range, ulong Pages) : Operation
{
    public override string Clause => "VM-01";

    public override IReadOnlyList<string> Clauses => ["VM-01", "VM-02", "VM-03", "VM-07", "VM-12", "VM-D01", "VM-D02", "VM-D03"];

    public override bool Apply(SequenceContext ctx)
    {
        int space = ctx.SpaceOf(Space);
        (ulong from, ulong to) = Range.Resolve();
        var call = ApiCall.VmFind(space, from, to, Pages);
        if (RegionChecks.IsMisuse(Range, Pages) && !ctx.Strict)
            return RegionChecks.Misused(ctx, call, Range, Pages);
        ulong result = ctx.Call(Clause, call).Value;
        RegionChecks.CheckPlacement(ctx, call, space, Range, Pages, result, userOnly: false, allowExhaustion: false);
        return true;
    }

    public override IEnumerable<Operation> Simpler() => Pages > 1 ? [this with { Pages = 1 }] : [];
}

/// <summary>vmalloc: placed like vmfind, then every page mapped with the flags to a fresh page nobody else holds.</summary>
public sealed record VmAlloc(int Space, SearchRange Range, ulong Pages, Rights Flags) : Operation
{
    public override string Clause => "VM-05";

    public override IReadOnlyList<string> Clauses => ["VM-04", "VM-05", "VM-06", "VM-07", "VM-11", "VM-12", "VM-D04", "VM-D05", "VM-D06"];

    public override bool Apply(SequenceContext ctx)
    {
        int space = ctx.SpaceOf(Space);
        (ulong from, ulong to) = Range.Resolve();
        bool user = Flags.HasFlag(Rights.User);
        // MM_PAGE_USER over a window reaching kernel space: refusing, placing the region in the window's user part,
        // or mapping it in kernel space as asked or supervisor-only are all readings (VM-11); the reference
        // searches user space only (VM-D04).
        bool userInKernel = user && to - 1 >= AddressSpaceLayout.KernelBase;
        var call = ApiCall.VmAlloc(space, from, to, Pages, (ulong)Flags);
        if (RegionChecks.IsMisuse(Range, Pages) && !ctx.Strict)
            return RegionChecks.Misused(ctx, call, Range, Pages);
        ulong result = ctx.Call(Clause, call).Value;
        RegionChecks.CheckPlacement(ctx, call, space, Range, Pages, result, userOnly: user && ctx.Strict, allowExhaustion: true, mayRefuse: userInKernel && !ctx.Strict);
        if (result == AddressSpaceLayout.Naddr)
            return true;
        Rights rights = Flags;
        var ram = new RamView(ctx.Implementation.Ram, ctx.Implementation.RamSize);
        var frames = new List<ulong>();
        var taken = new HashSet<ulong>(); // frames's, to look up: a region has hundreds of pages
        for (ulong page = 0; page < Pages; page++)
        {
            ulong virt = result + page * AddressSpaceLayout.PageSize;
            Translation translation = Mmu.Lookup(ram, ctx.Roots[space], virt);
            ctx.Check(translation.IsOk, "VM-05", $"{call}: page 0x{virt:X} of the region is not mapped ({(translation.IsOk ? "" : translation.Fault.ToString())})");
            ulong frame = translation.Leaf.PhysicalBase;
            if (page == 0 && user && AddressSpaceLayout.IsKernel(result) && !ctx.Strict)
            {
                rights = BootState.RightsOf(translation.Leaf.Permissions);
                ctx.Check(rights == Flags || rights == (Flags & ~Rights.User), "VM-11",
                    $"{call}: the region's first page 0x{virt:X} is mapped {translation.Leaf.Permissions}; in kernel space it may be mapped with {Flags} or without MM_PAGE_USER");
            }
            ctx.Check(translation.Leaf.Size == PageSize.Size4KiB && frame < ctx.Implementation.RamSize, "VM-06", $"{call}: page 0x{virt:X} maps {translation.Leaf}, not a 4 KiB page of RAM");
            ctx.Check(ctx.Owned.OwnerOf(frame) is null && !taken.Contains(frame), "VM-06",
                $"{call}: page 0x{virt:X} maps physical page 0x{frame:X}, which is already {ctx.Owned.OwnerOf(frame) ?? "used by this region"}");
            if (ctx.Strict)
                ctx.Check(IsZero(ctx, frame), "VM-D05", $"{call}: physical page 0x{frame:X} behind 0x{virt:X} was not zeroed");
            frames.Add(frame);
            taken.Add(frame);
            ctx.Touch(space, virt);
        }
        ctx.Model = ctx.Model.RegionAllocated(new Region(space, result, Pages, rights), frames);
        ctx.Live.Allocated(LiveKind.Region, result);
        foreach (ulong frame in frames)
            ctx.Patterns.MarkPage(frame);
        return true;
    }

    public override IEnumerable<Operation> Simpler()
    {
        if (Pages > 1)
            yield return this with { Pages = Pages / 2 };
        if (Flags != Rights.Write)
            yield return this with { Flags = Rights.Write };
    }

    private static bool IsZero(SequenceContext ctx, ulong frame)
    {
        Span<byte> page = stackalloc byte[(int)AddressSpaceLayout.PageSize];
        ctx.Implementation.Ram.Read(frame, page);
        return !page.ContainsAnyExcept((byte)0);
    }
}

/// <summary>
/// vmalloc of about every free page (free pages less <paramref name="Slack"/>), in a window whose tables may not
/// exist yet: the data pages fit, the tables may not, so the call can run out half way and must then undo
/// everything it did.
/// </summary>
public sealed record VmAllocRemaining(int Space, AddressPick From, int Slack, Rights Flags) : Operation
{
    public override string Clause => "VM-07";

    public override IReadOnlyList<string> Clauses => ["VM-07", "VM-04", "VM-05", "VM-06"];

    public override bool Apply(SequenceContext ctx)
    {
        ulong pages = (ulong)Math.Max(1, ctx.EstimatedFreePages - Slack);
        return new VmAlloc(Space, new SearchRange(From, 1UL << 35, 0), pages, Flags).Apply(ctx);
    }

    public override IEnumerable<Operation> Simpler() => Flags != Rights.Write ? [this with { Flags = Rights.Write }] : [];
}

/// <summary>vmfree of a region vmalloc returned: all of it, its first half, or (strict) with unmapped margins.</summary>
public sealed record VmFree(LivePick Which, FreeExtent Extent) : Operation
{
    public override string Clause => "VM-08";

    public override IReadOnlyList<string> Clauses => ["VM-08", "VM-09", "VM-10", "VM-D07", "VM-D08"];

    public override bool Apply(SequenceContext ctx)
    {
        if (ctx.Model.Regions.IsEmpty)
            return false;
        Region region = ctx.Model.Regions[ctx.Live.Choose(Which, LiveKind.Region, ctx.Model.Regions.Select(r => r.Start).ToList())];
        (ulong start, ulong pages) = Extent switch
        {
            FreeExtent.FirstHalf when region.Pages > 1 => (region.Start, region.Pages / 2),
            FreeExtent.WithMargins => (region.Start - AddressSpaceLayout.PageSize, region.Pages + 2),
            _ => (region.Start, region.Pages),
        };
        if (Extent == FreeExtent.WithMargins && (!ctx.Strict || !ctx.Model.IsRangeFree(region.Space, start, 1)
            || region.Last == ulong.MaxValue || !ctx.Model.IsRangeFree(region.Space, region.Last + 1, 1)
            || AddressSpaceLayout.Segments.All(s => !(s.First <= start && region.Last + AddressSpaceLayout.PageSize <= s.Last))))
            return false;
        var call = ApiCall.VmFree(region.Space, start, pages);
        bool holes = !ctx.Model.IsWholeRegion(region.Space, start, pages);
        if (holes && !ctx.Strict)
        {
            // Pages unmapped since vmalloc: skipping them or panicking before changing anything are both readings (VM-10).
            if (ctx.CallMayPanic(Clause, call) is null)
            {
                ctx.Model = ctx.Model.RegionSplitAtHoles(region); // what is left can still be freed, run by run
                return true;
            }
        }
        else
        {
            int result = (int)ctx.Call(Clause, call).Value;
            if (ctx.Strict)
                ctx.CheckResult(result == 0, "r == 0", "VM-D07", $"{call} returned {result}; expected 0");
        }
        for (ulong page = 0; page < pages; page++)
        {
            ulong virt = start + page * AddressSpaceLayout.PageSize;
            if (ctx.Model.Lookup(region.Space, virt) is { } mapping)
                ctx.Patterns.ForgetPage(mapping.Mapping.Phys);
            ctx.Touch(region.Space, virt);
        }
        ctx.Model = ctx.Model.RangeFreed(region.Space, start, pages);
        return true;
    }

    public override IEnumerable<Operation> Simpler() => Extent != FreeExtent.Whole || !Which.IsSimplest ? [new VmFree(0, FreeExtent.Whole)] : [];
}

/// <summary>
/// Misuse (default profile): vmfree of a range that is no region vmalloc returned: pages the client mapped with
/// mm_map_single, nothing at all, the direct map, the non-canonical hole (VM-13). Ranges holding part of a region
/// are VmFree's (VM-10), and the strict profile leaves this out.
/// </summary>
public sealed record VmFreeNotRegion(int Space, AddressPick At, ulong Pages) : Operation
{
    public override string Clause => "VM-13";

    public override IReadOnlyList<string> Clauses => ["VM-13"];

    public override bool Apply(SequenceContext ctx)
    {
        int space = ctx.SpaceOf(Space);
        ulong start = At.Resolve(), length = Pages * AddressSpaceLayout.PageSize;
        if (ctx.Strict || Pages == 0 || ulong.MaxValue - start < length - 1)
            return false;
        ulong last = start + (length - 1);
        var inRange = ctx.Model.MappingsOverlapping(space, start, last).ToList();
        // Only the client's 4 KiB pages may go: a region's page is VM-10's case, and the kernel's own 4 KiB pages stay.
        if (inRange.Any(m => m.Mapping.Kind == MappingKind.Region || m.Mapping.Size == AddressSpaceLayout.PageSize && m.Mapping.Kind != MappingKind.Client))
            return false;
        var clientPages = inRange.Where(m => m.Mapping.Kind == MappingKind.Client).ToList();
        // Released pages are freed: a page mapped at two places, or one the client no longer holds, would be freed while
        // still in use, and a later release would free it again under whoever got it next (the caller's bug, as in FreePage).
        var mappedTwice = FreePage.ClientMapped(ctx.Model).GroupBy(phys => phys).Where(group => group.Count() > 1).Select(group => group.Key).ToHashSet();
        if (clientPages.Any(m => mappedTwice.Contains(m.Mapping.Phys)
                                 || (m.Mapping.Phys < ctx.Implementation.RamSize && !ctx.Model.ClientPages.Contains(m.Mapping.Phys))))
            return false;
        var call = ApiCall.VmFree(space, start, Pages);
        if (ctx.CallMayPanic(Clause, call) is null)
            return true; // the audit checks that nothing changed
        foreach ((ulong pageBase, Mapping _) in inRange)
            ctx.Touch(space, pageBase);
        int left = clientPages.Count(m => Misuse.Walk(ctx, space, m.Base).IsOk);
        if (left == clientPages.Count)
            return true; // refused (or nothing to free): the audit checks that nothing changed
        ctx.Check(left == 0, Clause,
            $"{call} unmapped {clientPages.Count - left} of the {clientPages.Count} pages the client mapped in the range and left {left}: it may release them all, as a region's, or none");
        // Released as a region's pages are: unmapped, and each physical page freed.
        foreach ((ulong _, Mapping mapping) in clientPages)
        {
            ctx.Patterns.ForgetPage(mapping.Phys);
            ctx.Live.Freed(LiveKind.Page, mapping.Phys);
            ctx.Hogged = ctx.Hogged.Remove(mapping.Phys);
        }
        ctx.Model = ctx.Model.RangeFreed(space, start, Pages);
        return true;
    }

    public override IEnumerable<Operation> Simpler() => Pages > 1 ? [this with { Pages = 1 }] : [];
}

public enum FreeExtent
{
    Whole,
    FirstHalf,
    WithMargins,
}

/// <summary>Placement rules vmfind and vmalloc share.</summary>
internal static class RegionChecks
{
    /// <summary>More pages than a 48-bit address space holds: no region has them, and npages * 4096 may overflow.</summary>
    public const ulong MaxPages = 1UL << 36;

    /// <summary>A search no region can satisfy (VM-12): no pages, too many, from above to, a window inside the non-canonical hole.</summary>
    public static bool IsMisuse(SearchRange range, ulong pages)
    {
        (ulong from, ulong to) = range.Resolve();
        bool inHole = !AddressSpaceLayout.IsCanonical(from) && from < HoleEnd && to <= HoleEnd;
        return pages == 0 || pages > MaxPages || range.Reversed || inHole;
    }

    /// <summary>The first canonical address above the non-canonical hole.</summary>
    private const ulong HoleEnd = 0xFFFF800000000000;

    /// <summary>
    /// Default profile (VM-12): MM_NADDR or a panic, with nothing changed (the audit checks it); for no pages, also a
    /// canonical, page-aligned address inside the window, with nothing mapped. vmalloc records no region either way.
    /// </summary>
    public static bool Misused(SequenceContext ctx, ApiCall call, SearchRange range, ulong pages)
    {
        if (ctx.CallMayPanic("VM-12", call) is not { Value: var result } || result == AddressSpaceLayout.Naddr)
            return true;
        (ulong from, ulong to) = range.Resolve();
        string why = pages == 0 ? "no pages" : pages > MaxPages ? $"{pages} pages, more than the address space holds" : range.Reversed ? "from above to" : "a window inside the non-canonical hole";
        ctx.CheckResult(pages == 0 && AddressSpaceLayout.IsPageAligned(result) && AddressSpaceLayout.IsCanonical(result) && result >= from && result <= to,
            "r == MM_NADDR", "VM-12", $"{call} returned 0x{result:X} for a search no region can satisfy ({why})");
        return true;
    }

    /// <summary>
    /// An unaligned window: a result must still lie inside it (VM-01), but the spec does not say whether the
    /// window is rounded inward (the reference, VM-D01) or refused, so the default profile accepts MM_NADDR.
    /// </summary>
    private static bool Unaligned(SearchRange range) => !AddressSpaceLayout.IsPageAligned(range.Resolve().From) || !AddressSpaceLayout.IsPageAligned(range.Resolve().To);

    public static void CheckPlacement(SequenceContext ctx, ApiCall call, int space, SearchRange range, ulong pages, ulong result, bool userOnly, bool allowExhaustion, bool mayRefuse = false)
    {
        // The lowest fit judges a refusal that nothing else excuses, and in strict every result; a region placed elsewhere
        // in default needs none.
        if (result == AddressSpaceLayout.Naddr)
        {
            bool excused = mayRefuse || allowExhaustion && ctx.ExhaustionPlausible(pages + 3) || !ctx.Strict && Unaligned(range);
            ulong? fit = excused ? null : range.LowestFit(ctx.Model, space, pages, userOnly);
            ctx.CheckResult(fit is null, $"r == 0x{fit:X}", "VM-07", $"{call} returned MM_NADDR, but 0x{fit:X} starts {pages} free page(s) in range");
            return;
        }
        ulong? lowest = ctx.Strict ? range.LowestFit(ctx.Model, space, pages, userOnly) : null;
        (ulong from, ulong to) = range.Resolve();
        ulong length = pages * AddressSpaceLayout.PageSize;
        ctx.CheckResult(AddressSpaceLayout.IsPageAligned(result), "r % MM_PAGE_SIZE == 0", "VM-01", $"{call} returned 0x{result:X}, not page aligned");
        ctx.CheckResult(result >= from && result <= to && to - result >= length, $"r >= 0x{from:X} && r + {length} <= 0x{to:X}", "VM-01", $"{call} returned 0x{result:X}: [0x{result:X}, +{pages} pages) is not inside [0x{from:X}, 0x{to:X})");
        bool oneSegment = AddressSpaceLayout.Segments.Any(s => s.First <= result && result - s.First <= s.Last - s.First && s.Last - result >= length - 1);
        ctx.Check(oneSegment, "DMAP-01", $"{call} returned 0x{result:X}: the region is not canonical or crosses the user/kernel boundary");
        if (!ctx.Model.IsRangeFree(space, result, pages))
        {
            // The mapped page the region overlaps first, known before the call: the result must leave it out.
            ulong last = result + (length - 1);
            ulong mapped = ctx.Model.MappingsOverlapping(space, result, last).Select(m => Math.Max(m.Base, result)).First();
            ctx.CheckResult(false, $"r > 0x{mapped:X} || r + 0x{length:X} <= 0x{mapped:X}", "VM-02",
                $"{call} returned 0x{result:X}, but part of [0x{result:X}, +{pages} pages) is mapped");
        }
        if (userOnly)
            ctx.CheckResult(!AddressSpaceLayout.IsKernel(result), $"r < 0x{AddressSpaceLayout.KernelBase:X}", "VM-D04", $"{call} placed a MM_PAGE_USER region in kernel space");
        if (ctx.Strict)
            ctx.CheckResult(result == lowest, $"r == {Hex(lowest ?? AddressSpaceLayout.Naddr)}", "VM-D02", $"{call} returned 0x{result:X}; the lowest fit is {Hex(lowest ?? AddressSpaceLayout.Naddr)}");
    }
}
