using Mmspec.Models.State;
using Mmspec.SpecTests.Execution;
using static Mmspec.SpecTests.Execution.SequenceContext;

namespace Mmspec.SpecTests.Sequences;

/// <summary>mm_map_single of a page the client holds (or, strict, a deliberately bad argument).</summary>
public sealed record MapSingle(int Space, AddressPick Virt, LivePick Which, Rights Flags, BadMapping Bad = BadMapping.None) : Operation
{
    public override string Clause => "MAP-01";

    public override IReadOnlyList<string> Clauses => ["MAP-01", "MAP-02", "MAP-03", "MAP-04", "MAP-05", "MAP-16", "MAP-D01", "MAP-D02", "MAP-D04", "DMAP-D05"];

    public override bool Apply(SequenceContext ctx)
    {
        int space = ctx.SpaceOf(Space);
        ulong virt = Virt.Resolve();
        bool kernelUser = AddressSpaceLayout.IsKernel(virt) && Flags.HasFlag(Rights.User);
        bool canonical = AddressSpaceLayout.IsCanonical(virt);
        if (ctx.Model.ClientPages.IsEmpty)
            return false;
        ulong phys = ctx.Model.ClientPages[ctx.Live.Choose(Which, LiveKind.Page, ctx.Model.ClientPages)];
        ulong flags = (ulong)Flags;
        switch (Bad)
        {
            case BadMapping.UnalignedVirt: virt += 0x10; break;
            case BadMapping.UnalignedPhys: phys += 0x10; break;
            case BadMapping.InvalidFlags: flags |= 0x100; break;
        }
        bool mapped = canonical && ctx.Model.Lookup(space, virt) is not null;
        bool valid = Bad == BadMapping.None && canonical && !kernelUser && !mapped;
        if (!valid && !ctx.Strict)
            return false; // the spec does not say what these do: only the strict profile has an answer
        var call = ApiCall.MapSingle(space, virt, phys, flags);
        int result = (int)ctx.Call(Clause, call).Value;
        if (canonical)
            ctx.Touch(space, virt & ~(AddressSpaceLayout.PageSize - 1));
        if (!valid)
        {
            int expected = mapped && Bad == BadMapping.None && !kernelUser ? -17 : -22;
            ctx.CheckResult(result == expected, $"r == {expected}", mapped ? "MAP-D02" : Bad == BadMapping.None && canonical ? "DMAP-D05" : "MAP-D01",
                $"{call} returned {result}; expected {expected} with nothing changed");
            return true;
        }
        if (result != 0)
        {
            ctx.CheckResult(result < 0 && ctx.ExhaustionPlausible(3), "r == 0", Clause, $"{call} failed with {result}");
            return true;
        }
        ctx.Model = ctx.Model.Mapped(space, virt, phys, Flags);
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
}

/// <summary>mm_map_get at an offset inside a page: physical address with the offset, and the flags.</summary>
public sealed record MapGet(int Space, AddressPick Virt, ulong Offset, bool WithFlags = true) : Operation
{
    public override string Clause => "MAP-07";

    public override IReadOnlyList<string> Clauses => ["MAP-07", "MAP-08", "MAP-09", "MAP-04", "DMAP-05", "DMAP-08", "MAP-D06"];

    public override bool Apply(SequenceContext ctx)
    {
        int space = ctx.SpaceOf(Space);
        ulong virt = Virt.Resolve() + Offset;
        if (!AddressSpaceLayout.IsCanonical(virt) && !ctx.Strict)
            return false;
        var call = ApiCall.MapGet(space, virt, WithFlags);
        CallOutcome outcome = ctx.Call(WithFlags ? Clause : "MAP-08", call);
        ulong result = outcome.Value, flags = outcome.Flags ?? 0;
        var expected = AddressSpaceLayout.IsCanonical(virt) ? ctx.Model.Lookup(space, virt) : null;
        if (expected is not { } found)
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
    public override string Clause => "MAP-10";

    public override IReadOnlyList<string> Clauses => ["MAP-10", "MAP-11", "MAP-12", "MAP-13", "MAP-14", "MAP-15", "MAP-17", "MAP-D07", "MAP-D08", "MAP-D09"];

    public override bool Apply(SequenceContext ctx)
    {
        int space = ctx.SpaceOf(Space);
        ulong virt = Virt.Resolve();
        bool canonical = AddressSpaceLayout.IsCanonical(virt);
        if ((!canonical || Size > 1) && !ctx.Strict)
            return false;
        var call = ApiCall.Unmap(space, virt, Size);
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
