using Mmspec.Models.Mmu;
using Mmspec.Models.State;
using Mmspec.SpecTests.Execution;
using static Mmspec.SpecTests.Execution.SequenceContext;

namespace Mmspec.SpecTests.Sequences;

/// <summary>
/// mm_map_single of a page the client holds, or with a bad argument: a non-canonical, unaligned or already mapped
/// <c>virt</c>, MM_PAGE_USER in kernel space, an unaligned <c>phys</c> or one beyond RAM, an invalid flag bit.
/// </summary>
public sealed record MapSingle(int Space, AddressPick Virt, LivePick Which, Rights Flags, BadMapping Bad = BadMapping.None) : Operation
{
    /// <summary>The misuse clause when the step's arguments are misuse whatever the state (a mapped virt is known only when it runs).</summary>
    public override string Clause => Virt.Area switch
    {
        Area.NonCanonical => "MAP-19",
        _ when Bad is BadMapping.UnalignedVirt or BadMapping.UnalignedPhys => "MAP-22",
        Area.DirectMap => "MAP-20",
        _ when Bad == BadMapping.InvalidFlags => "MAP-23",
        _ when Virt.IsKernel && Flags.HasFlag(Rights.User) => "MAP-21",
        _ when Bad == BadMapping.PhysBeyondRam => "MAP-24",
        _ => "MAP-01",
    };

    public override IReadOnlyList<string> Clauses => ["MAP-01", "MAP-02", "MAP-03", "MAP-04", "MAP-05", "MAP-16", "MAP-19", "MAP-20", "MAP-21", "MAP-22", "MAP-23", "MAP-24",
        "MAP-D01", "MAP-D02", "MAP-D04", "DMAP-D05"];

    public override bool Apply(SequenceContext ctx)
    {
        int space = ctx.SpaceOf(Space);
        ulong virt = Virt.Resolve();
        if (ctx.Model.ClientPages.IsEmpty)
            return false;
        ulong phys = ctx.Model.ClientPages[ctx.Live.Choose(Which, LiveKind.Page, ctx.Model.ClientPages)];
        ulong flags = (ulong)Flags;
        switch (Bad)
        {
            case BadMapping.UnalignedVirt: virt += 0x10; break;
            case BadMapping.UnalignedPhys: phys += 0x10; break;
            case BadMapping.InvalidFlags: flags |= 0x100; break;
            case BadMapping.PhysBeyondRam: phys = ctx.Implementation.RamSize; break;
        }
        bool canonical = AddressSpaceLayout.IsCanonical(virt);
        bool kernelUser = AddressSpaceLayout.IsKernel(virt) && Flags.HasFlag(Rights.User);
        var present = canonical ? ctx.Model.Lookup(space, virt) : null;
        // A page beyond RAM mapped into a region's range would make its vmfree's outcome depend on the kernel (VM-D09).
        if (Bad == BadMapping.PhysBeyondRam && ctx.Model.Regions.Any(region => region.Start <= virt && virt <= region.Last))
            return false;
        bool valid = canonical && !kernelUser && present is null && (Bad == BadMapping.None || Bad == BadMapping.PhysBeyondRam && ctx.Strict);
        var call = ApiCall.MapSingle(space, virt, phys, flags);
        if (valid)
        {
            int result = (int)ctx.Call(Clause, call).Value;
            ctx.Touch(space, virt);
            if (result != 0)
            {
                ctx.CheckResult(result < 0 && ctx.ExhaustionPlausible(3), "r == 0", Bad == BadMapping.PhysBeyondRam ? "MAP-D01" : Clause, $"{call} failed with {result}");
                return true;
            }
            ctx.Model = ctx.Model.Mapped(space, virt, phys, Flags);
            return true;
        }
        if (ctx.Strict)
        {
            int result = (int)ctx.Call(Clause, call).Value;
            if (canonical)
                ctx.Touch(space, virt & ~(AddressSpaceLayout.PageSize - 1));
            bool mapped = present is not null, goodArguments = Bad is BadMapping.None or BadMapping.PhysBeyondRam;
            int expected = mapped && goodArguments && !kernelUser ? -17 : -22;
            ctx.CheckResult(result == expected, $"r == {expected}", mapped ? "MAP-D02" : goodArguments && canonical ? "DMAP-D05" : "MAP-D01",
                $"{call} returned {result}; expected {expected} with nothing changed");
            return true;
        }
        return Misused(ctx, space, virt, phys, call, present, kernelUser);
    }

    /// <summary>
    /// Default profile: a panic, or any error result, is accepted, and the audit checks that nothing changed; a
    /// success only where the spec's words allow one (MAP-20 to MAP-24), and then exactly what was asked.
    /// </summary>
    private bool Misused(SequenceContext ctx, int space, ulong virt, ulong phys, ApiCall call, (ulong Base, Mapping Mapping)? present, bool kernelUser)
    {
        bool canonical = AddressSpaceLayout.IsCanonical(virt);
        bool unaligned = Bad is BadMapping.UnalignedVirt or BadMapping.UnalignedPhys;
        string clause = !canonical ? "MAP-19" : unaligned ? "MAP-22" : present is not null ? "MAP-20" : Clause;
        CallOutcome? outcome = ctx.CallMayPanic(clause, call);
        if (canonical)
            ctx.Touch(space, virt & ~(AddressSpaceLayout.PageSize - 1));
        if (outcome is not { Value: 0 })
            return true; // refused or panicked: the audit checks that nothing changed
        ctx.CheckResult(canonical, "r != 0", "MAP-19",
            $"{call} returned 0, but no page can map the non-canonical 0x{virt:X} (a walk that ignores bits 63..48 maps its canonical twin 0x{Misuse.CanonicalTwin(virt):X})");
        ctx.CheckResult(!unaligned, "r != 0", "MAP-22",
            $"{call} returned 0, but no 4 KiB page maps 0x{virt:X} .. +MM_PAGE_SIZE to 0x{phys:X} .. +MM_PAGE_SIZE: one of them is not page aligned");
        if (present is ({ } pageBase, { } old))
        {
            ctx.CheckResult(old.Size == AddressSpaceLayout.PageSize, "r != 0", "MAP-20",
                $"{call} returned 0 inside the {old.Size >> 20} MiB page 0x{pageBase:X} -> 0x{old.Phys:X}: only a 4 KiB page can be mapped, so a success can only leave the large page (and not map 0x{phys:X}) or break it up");
            ctx.CheckResult(old.Kind is MappingKind.Client or MappingKind.Region, "r != 0", "MAP-20",
                $"{call} returned 0 over the kernel's own page 0x{pageBase:X} ({old}), which the kernel keeps mapped");
        }
        Rights rights = Flags;
        if (kernelUser)
        {
            Translation translation = Misuse.Walk(ctx, space, virt);
            ctx.Check(translation.IsOk, "MAP-01", $"{call} returned 0, but 0x{virt:X} is not mapped ({(translation.IsOk ? "" : translation.Fault.ToString())})");
            rights = BootState.RightsOf(translation.Leaf.Permissions);
            ctx.Check(rights == Flags || rights == (Flags & ~Rights.User), "MAP-21",
                $"{call} returned 0 and mapped 0x{virt:X} {translation.Leaf.Permissions}; in kernel space it may be mapped with {Flags} or without MM_PAGE_USER");
        }
        // A remap replaced the old 4 KiB page: a vmalloc page nobody maps any more is the client's to free, as after an unmap.
        if (present is { Mapping.Kind: MappingKind.Region } replaced)
            ctx.Model = ctx.Model.PageAllocated(replaced.Mapping.Phys);
        ctx.Model = ctx.Model.Mapped(space, virt, phys, rights);
        return true;
    }

    public override IEnumerable<Operation> Simpler() =>
        Flags != Rights.None || !Which.IsSimplest ? [this with { Flags = Rights.None, Which = 0 }] : [];
}

public enum BadMapping
{
    None,
    UnalignedVirt,
    UnalignedPhys,
    InvalidFlags,
    PhysBeyondRam,
}

/// <summary>mm_map_get at an offset inside a page: physical address with the offset, and the flags.</summary>
public sealed record MapGet(int Space, AddressPick Virt, ulong Offset, bool WithFlags = true) : Operation
{
    public override string Clause => "MAP-07";

    public override IReadOnlyList<string> Clauses => ["MAP-07", "MAP-08", "MAP-09", "MAP-19", "MAP-04", "DMAP-05", "DMAP-08", "MAP-D06"];

    public override bool Apply(SequenceContext ctx)
    {
        int space = ctx.SpaceOf(Space);
        ulong virt = Virt.Resolve() + Offset;
        var call = ApiCall.MapGet(space, virt, WithFlags);
        if (!AddressSpaceLayout.IsCanonical(virt))
        {
            // No page maps a non-canonical address (MAP-19): not even its canonical twin's.
            ulong naddr = ctx.Call("MAP-19", call).Value;
            ctx.CheckResult(naddr == AddressSpaceLayout.Naddr, "r == MM_NADDR", "MAP-19",
                $"{call} returned {Hex(naddr)} for a non-canonical address, which no page maps{Misuse.TwinMapped(ctx, space, virt)}");
            return true;
        }
        CallOutcome outcome = ctx.Call(WithFlags ? Clause : "MAP-08", call);
        ulong result = outcome.Value, flags = outcome.Flags ?? 0;
        if (ctx.Model.Lookup(space, virt) is not { } found)
        {
            ctx.CheckResult(result == AddressSpaceLayout.Naddr, "r == MM_NADDR", "MAP-09", $"{call} returned {Hex(result)} for an unmapped address");
            return true;
        }
        ulong phys = found.Mapping.Phys + (virt - found.Base);
        bool directMap = found.Mapping.Kind == MappingKind.DirectMap;
        // The kernel's own pages carry the rights it chose at boot; only the strict profile pins them (DMAP-D07).
        bool kernelsOwn = directMap || found.Mapping.Kind == MappingKind.Boot;
        ctx.CheckResult(result == phys, $"r == 0x{phys:X}", directMap ? "DMAP-05" : "MAP-07", $"{call} returned {Hex(result)}; the page maps 0x{phys:X}");
        if (WithFlags && (!kernelsOwn || ctx.Strict))
            ctx.CheckResult(flags == (ulong)found.Mapping.Rights, $"flags == ({ApiCall.FlagNames((ulong)found.Mapping.Rights)})", kernelsOwn ? "DMAP-D07" : "MAP-04",
                $"{call} reported flags {ApiCall.FlagNames(flags)}; the page was mapped with {ApiCall.FlagNames((ulong)found.Mapping.Rights)}");
        return true;
    }

    public override IEnumerable<Operation> Simpler() => Offset > 0 || !WithFlags ? [this with { Offset = 0, WithFlags = true }] : [];
}

/// <summary>mm_umap_single with size 0 (any page) or 1 (4 KiB only), including the direct map's 2 MiB pages.</summary>
public sealed record UnmapSingle(int Space, AddressPick Virt, uint Size) : Operation
{
    public override string Clause => Virt.Area == Area.NonCanonical ? "MAP-19" : "MAP-10";

    public override IReadOnlyList<string> Clauses => ["MAP-10", "MAP-11", "MAP-12", "MAP-13", "MAP-14", "MAP-15", "MAP-17", "MAP-19", "MAP-D07", "MAP-D08", "MAP-D09"];

    public override bool Apply(SequenceContext ctx)
    {
        int space = ctx.SpaceOf(Space);
        ulong virt = Virt.Resolve();
        bool canonical = AddressSpaceLayout.IsCanonical(virt);
        if (Size > 1 && !ctx.Strict)
            return false;
        var call = ApiCall.Unmap(space, virt, Size);
        if (!canonical && !ctx.Strict)
        {
            // No page maps a non-canonical address (MAP-19): a panic, or MM_NADDR, with nothing changed; the twin stays.
            if (ctx.CallMayPanic("MAP-19", call) is { Value: var removed })
                ctx.CheckResult(removed == AddressSpaceLayout.Naddr, "r == MM_NADDR", "MAP-19",
                    $"{call} returned {Hex(removed)} for a non-canonical address, which no page maps{Misuse.TwinMapped(ctx, space, virt)}");
            ctx.Touch(space, Misuse.CanonicalTwin(virt));
            return true;
        }
        var found = canonical ? ctx.Model.Lookup(space, virt) : null;
        ulong result = ctx.Call(ClauseOfCall(found, virt), call).Value;
        if (canonical)
            ctx.Touch(space, virt);
        if (found is not { } mapping || Size > 1)
        {
            ctx.CheckResult(result == AddressSpaceLayout.Naddr, "r == MM_NADDR", Size > 1 ? "MAP-D07" : "MAP-12", $"{call} returned {Hex(result)}; nothing should be unmapped");
            return true;
        }
        bool large = mapping.Mapping.Size != AddressSpaceLayout.PageSize;
        if (large && Size == 1)
        {
            ctx.CheckResult(result == AddressSpaceLayout.Naddr, "r == MM_NADDR", "MAP-14", $"{call} returned {Hex(result)} for a {mapping.Mapping.Size >> 20} MiB page with size 1");
            return true;
        }
        if (virt != mapping.Base && !ctx.Strict)
        {
            // Inside a large page but not at its base: refusing, or removing the page and returning its base or
            // the 4 KiB frame virt refers to, are all readings of the spec's words (MAP-17).
            ulong frame = mapping.Mapping.Phys + (virt - mapping.Base);
            if (result == AddressSpaceLayout.Naddr)
                return true;
            ctx.CheckResult(result == mapping.Mapping.Phys || result == frame, $"r == MM_NADDR || r == 0x{mapping.Mapping.Phys:X} || r == 0x{frame:X}", "MAP-17",
                $"{call} returned {Hex(result)}; inside the {mapping.Mapping.Size >> 20} MiB page 0x{mapping.Base:X} -> 0x{mapping.Mapping.Phys:X} it may return MM_NADDR, the page's base or the frame 0x{frame:X}");
        }
        else
        {
            string clause = !large ? "MAP-11" : virt == mapping.Base ? "MAP-13" : result == AddressSpaceLayout.Naddr ? "MAP-D07" : "MAP-D08";
            ctx.CheckResult(result == mapping.Mapping.Phys, $"r == 0x{mapping.Mapping.Phys:X}", clause, $"{call} returned {Hex(result)}; the page maps 0x{mapping.Mapping.Phys:X}");
        }
        ctx.Model = ctx.Model.Unmapped(space, mapping.Base);
        if (mapping.Mapping.Kind == MappingKind.Region)
            ctx.Model = ctx.Model.PageAllocated(mapping.Mapping.Phys); // the caller now holds the page umap handed back
        return true;
    }

    public override IEnumerable<Operation> Simpler() => Size != 1 ? [this with { Size = 1 }] : [];

    /// <summary>The clause a panic or crash of the call breaks: the one that says what this call must do.</summary>
    private string ClauseOfCall((ulong Base, Mapping Mapping)? found, ulong virt) => found switch
    {
        _ when Size > 1 => "MAP-D07",
        null => "MAP-12",
        { Mapping.Size: AddressSpaceLayout.PageSize } => "MAP-11",
        _ when Size == 1 => "MAP-14",
        { Base: var pageBase } => pageBase == virt ? "MAP-13" : "MAP-17",
    };
}
