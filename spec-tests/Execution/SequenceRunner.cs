using System.Diagnostics;
using Mmspec.Models.State;
using Mmspec.SpecTests.Catalogue;
using Mmspec.SpecTests.Port;
using Mmspec.SpecTests.Sequences;

namespace Mmspec.SpecTests.Execution;

/// <summary>What one sequence did: the calls made, and the first violation if any.</summary>
public sealed record SequenceResult(Violation? Violation, IReadOnlyList<CallRecord> Trace, int StepsApplied, TimeSpan Elapsed)
{
    public bool Passed => Violation is null;
}

/// <summary>
/// Runs one sequence on a fresh machine: two spaces, a baseline of free memory, the steps with an audit
/// after each, then a teardown that gives everything back and counts, by exhaustion, that nothing leaked.
/// </summary>
public static class SequenceRunner
{
    public const ulong DefaultRamSize = 8UL << 20;

    public static SequenceResult Run(IImplementationFactory factory, Profile profile, IReadOnlyList<Operation> steps, ulong ramSize = DefaultRamSize)
    {
        var clock = Stopwatch.StartNew();
        using IMmImplementation implementation = factory.Create(ramSize);
        var ctx = new SequenceContext(implementation, profile);
        int applied = 0;
        try
        {
            Setup(ctx);
            foreach (Operation step in steps)
            {
                ctx.Step++;
                if (!step.Apply(ctx))
                    continue;
                applied++;
                Audit.AfterStep(ctx, step.Clause);
            }
            ctx.Step++;
            Teardown(ctx);
            return new SequenceResult(null, ctx.Trace, applied, clock.Elapsed);
        }
        catch (ViolationException violation)
        {
            return new SequenceResult(violation.Violation, ctx.Trace, applied, clock.Elapsed);
        }
    }

    private static void Setup(SequenceContext ctx)
    {
        for (int space = 0; space < ctx.Spaces.Length; space++)
        {
            ulong handle = ctx.Call("DMAP-04", $"{ctx.Space(space)} = <create space>", ctx.Implementation.CreateSpace, SequenceContext.Hex);
            ctx.Check(handle != AddressSpaceLayout.Naddr, "DMAP-04", "a fresh machine could not create an address space");
            ctx.Spaces[space] = handle;
            ctx.Roots[space] = ctx.Implementation.SpaceRoot(handle);
        }
        Audit.AfterStep(ctx, "DMAP-04");
        ctx.BaselineTablePages = ctx.Owned.Count;
        List<ulong> all = DrainFreePages(ctx);
        foreach (ulong page in all)
            ctx.Implementation.mm_phys_free_page(page);
        ctx.BaselineFreePages = all.Count;
        ctx.Trace.Clear();
    }

    private static void Teardown(SequenceContext ctx)
    {
        while (!ctx.Model.HeapBlocks.IsEmpty)
            new Kfree(0).Apply(ctx);
        while (!ctx.Model.Regions.IsEmpty)
            new VmFree(0, FreeExtent.Whole).Apply(ctx);
        foreach ((int owner, ulong virt, Mapping mapping) in ctx.Model.DistinctMappings().ToList())
        {
            if (mapping.Kind != MappingKind.Client)
                continue;
            int space = Math.Max(owner, 0); // the shared kernel half (-1) is reached through any space
            ctx.Call("MAP-11", $"mm_umap_single({ctx.Space(space)}, {SequenceContext.Hex(virt)}, 1)",
                () => ctx.Implementation.mm_umap_single(ctx.Spaces[space], virt, 1), SequenceContext.Hex);
            ctx.Model = ctx.Model.Unmapped(space, virt);
        }
        while (!ctx.Model.ClientPages.IsEmpty)
            new FreePage(0).Apply(ctx);
        Audit.AfterStep(ctx, "PHYS-06");

        int expected = ctx.BaselineFreePages - (ctx.Owned.Count - ctx.BaselineTablePages);
        int available = DrainFreePages(ctx).Count;
        if (ctx.Strict)
            ctx.Check(ctx.Owned.Count == ctx.BaselineTablePages, "MAP-D05",
                $"after everything was freed, {ctx.Owned.Count - ctx.BaselineTablePages} page table(s) beyond the boot tables remain");
        int allowance = ctx.Strict ? 0 : HeapCacheAllowance;
        ctx.Check(available >= expected - allowance, "PHYS-06",
            $"after everything was freed only {available} pages could be allocated; {expected} were free at the start (less tables still in use): {expected - available} page(s) leaked");
        ctx.Check(available <= expected, "PHYS-01",
            $"after everything was freed {available} pages could be allocated, more than the {expected} that exist: a page in use was handed out");
    }

    /// <summary>Default profile: a heap may keep a few pages cached after its last block is freed.</summary>
    public const int HeapCacheAllowance = 8;

    private static List<ulong> DrainFreePages(SequenceContext ctx)
    {
        var pages = new List<ulong>();
        ulong limit = ctx.RamPages + 1;
        for (ulong page = ctx.Implementation.mm_phys_alloc_page(); page != AddressSpaceLayout.Naddr; page = ctx.Implementation.mm_phys_alloc_page())
        {
            pages.Add(page);
            ctx.Check((ulong)pages.Count <= limit, "PHYS-04", "mm_phys_alloc_page() kept returning pages beyond the size of RAM");
        }
        return pages;
    }
}
