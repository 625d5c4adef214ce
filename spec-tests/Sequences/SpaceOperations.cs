using Mmspec.Models.Mmu;
using Mmspec.Models.State;
using Mmspec.SpecTests.Execution;

namespace Mmspec.SpecTests.Sequences;

/// <summary>
/// mmspec_space_create in the middle of a sequence, after pages were handed out, marked and freed and mappings
/// made: a new space must come with an empty user half (MAP-16) and the kernel half every space had at boot
/// (DMAP-04), whatever page it gets for its PML4. Later steps use it like the first two (see <see cref="SequenceContext.SpaceOf"/>).
/// </summary>
public sealed record CreateSpace : Operation
{
    public override string Clause => "DMAP-04";

    public override IReadOnlyList<string> Clauses => ["DMAP-04", "MAP-16", "MAP-18"];

    public override bool Apply(SequenceContext ctx)
    {
        if (ctx.Spaces.Count >= SequenceContext.MaxSpaces)
            return false;
        int index = ctx.Spaces.Count;
        var call = ApiCall.CreateSpace(index);
        ulong handle = ctx.Call(Clause, call).Value;
        if (handle == AddressSpaceLayout.Naddr)
        {
            CheckRefusal(ctx, call);
            return true;
        }
        ctx.AddSpace(handle, $"after step {ctx.Step}'s {call}");
        ctx.Model = ctx.Model.SpaceCreated(ctx.BootKernelOwn);
        CheckUserHalfEmpty(ctx, index);
        return true; // the audit after the step compares the whole new space with the model
    }

    /// <summary>
    /// A space takes pages (a PML4, and copies of kernel tables where the spaces share none): refusing is wrong only
    /// when, right after, more pages are free than all the boot's tables took and then some.
    /// </summary>
    private static void CheckRefusal(SequenceContext ctx, ApiCall call)
    {
        int enough = ctx.BaselineTablePages + 16;
        if (ctx.ExhaustionPlausible((ulong)enough))
            return;
        int free = ctx.CountFreePages("DMAP-04").Count;
        ctx.CheckResult(free < enough, "r != MM_NADDR", "DMAP-04", $"{call} returned MM_NADDR, but right after it {free} pages were free");
    }

    /// <summary>The PML4 slots of the user half (0-255): a walk of them reads none of the kernel half's direct map.</summary>
    private static readonly Predicate<int> UserHalf = slot => slot < PagingLevels.EntriesPerTable / 2;

    /// <summary>Reported as MAP-16 before the audit sees it as a mismatch: mappings in a new space's user half were made by nobody.</summary>
    private static void CheckUserHalfEmpty(SequenceContext ctx, int index)
    {
        var ram = new RamView(ctx.Implementation.Ram, ctx.Implementation.RamSize);
        try
        {
            foreach (MappedLeaf leaf in Mmu.EnumerateLeaves(ram, ctx.Roots[index], UserHalf).Take(1))
                ctx.Fail("MAP-16", $"the new space{index}'s user half maps {leaf}: a new space has no user mappings",
                    state: [TranslationCheck.Of(ctx.Model, index, leaf.VirtualBase)]);
            // Its tables stand beside the boot tables: they are not freed when everything else is (strict MAP-D05).
            ctx.BaselineTablePages += Mmu.EnumerateTables(ram, ctx.Roots[index]).Count(table => !ctx.Owned.Contains(table.PhysicalAddress));
        }
        catch (Exception unwalkable) when (unwalkable is MalformedPageTableException or WalkOutsideRamException)
        {
            ctx.Fail("MAP-16", $"the new space{index}'s page tables cannot be walked: {unwalkable.Message}");
        }
    }
}
