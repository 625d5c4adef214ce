using System.Diagnostics;
using Mmspec.Models.Mmu;
using Mmspec.Models.State;
using Mmspec.SpecTests.Catalogue;
using Mmspec.SpecTests.Port;
using Mmspec.SpecTests.Sequences;

namespace Mmspec.SpecTests.Execution;

/// <summary>
/// What one sequence did: the calls made, and the first violation if any. <paramref name="LeakAtTeardown"/> says the
/// violation is pages the teardown's count found missing; <paramref name="FreeCounts"/> holds the free pages counted
/// after each step when the run was asked to (see <see cref="LeakTrace"/>).
/// </summary>
public sealed record SequenceResult(Violation? Violation, IReadOnlyList<CallRecord> Trace, int StepsApplied, TimeSpan Elapsed,
    bool LeakAtTeardown = false, IReadOnlyList<FreeCount>? FreeCounts = null)
{
    public bool Passed => Violation is null;

    /// <summary>The violation is the teardown's one count after everything went back, which does not say which phase lost the pages.</summary>
    internal bool CountedOnceAtTeardown { get; init; }
}

/// <summary>
/// Free pages counted right after a step, how many the model says should be free then, and the pages then held
/// that came from the allocator (what a C reproducer's count subtracts, see <see cref="FreePagesCheck"/>).
/// </summary>
public sealed record FreeCount(int Step, Operation Operation, int Free, int Expected, int Held);

/// <summary>
/// Runs one sequence on a fresh machine: two spaces, a baseline of free memory, the steps with an audit and a
/// cross-check of mm_map_get's answers (<see cref="ApiViewCheck"/>) after each, then a teardown that gives
/// everything back and counts, by exhaustion, that nothing leaked.
/// </summary>
public static class SequenceRunner
{
    public const ulong DefaultRamSize = 8UL << 20;

    /// <param name="countFreePages">Count free pages after every step, as <see cref="LeakTrace"/> needs (a drain per step: for shrunk sequences only).</param>
    /// <param name="picture">Keeps a picture of the state where the run fails (a picture per step: for shrunk sequences only).</param>
    /// <param name="audit">How the audit walks the tables after each step (incremental by default).</param>
    /// <param name="restore">Start from a snapshot of a machine set up before, where the port can snapshot (<see cref="SetUpSnapshot"/>).</param>
    public static SequenceResult Run(IImplementationFactory factory, Profile profile, IReadOnlyList<Operation> steps, ulong ramSize = DefaultRamSize,
                                     bool countFreePages = false, StatePictureRecorder? picture = null, AuditMode audit = AuditMode.Incremental,
                                     bool restore = true)
    {
        // The teardown counts free pages once, after everything went back: a drain of RAM after each of its phases
        // would cost most of a short sequence. Only when that count comes up short (or long) is the sequence run again
        // counting after each phase, which names the phase, and so the clause, that lost the pages.
        SequenceResult once = Run(factory, profile, steps, ramSize, countFreePages, picture, audit, restore, countEachPhase: countFreePages);
        if (!once.CountedOnceAtTeardown)
            return once;
        SequenceResult phased = Run(factory, profile, steps, ramSize, countFreePages, picture, audit, restore, countEachPhase: true);
        SequenceResult attributed = phased.Violation is null ? once : phased; // a run that does not fail again is no evidence
        return attributed with { Elapsed = once.Elapsed + phased.Elapsed, CountedOnceAtTeardown = false };
    }

    private static SequenceResult Run(IImplementationFactory factory, Profile profile, IReadOnlyList<Operation> steps, ulong ramSize,
                                      bool countFreePages, StatePictureRecorder? picture, AuditMode audit, bool restore, bool countEachPhase)
    {
        var clock = Stopwatch.StartNew();
        (IMmImplementation? started, SetUpSnapshot? setUp, Violation? startFailure) = Start(factory, profile, ramSize, audit, restore);
        if (started is null)
            return new SequenceResult(startFailure, [], 0, clock.Elapsed);
        using IMmImplementation implementation = started;
        SequenceContext ctx = setUp?.Resume(implementation, profile, audit) ?? new SequenceContext(implementation, profile) { AuditMode = audit };
        var freeCounts = new List<FreeCount>();
        int applied = 0;
        try
        {
            if (setUp is null)
            {
                Setup(ctx);
                if (restore && SetUpSnapshot.Take(ctx) is { } taken)
                    SetUpSnapshots.Keep(factory, ramSize, ctx, taken);
            }
            picture?.SetUp(ctx);
            foreach (Operation step in steps)
            {
                ctx.Step++;
                if (!step.Apply(ctx))
                    continue;
                applied++;
                picture?.Applied(ctx);
                (int Space, ulong Virt)[] touched = [.. ctx.Touched]; // the audit clears them; the cross-check asks about them too
                Audit.AfterStep(ctx, step.Clause);
                ApiViewCheck.AfterStep(ctx, touched);
                if (countFreePages)
                    freeCounts.Add(new FreeCount(ctx.Step, step, ctx.CountFreePages(step.Clause).Count, ctx.EstimatedFreePages, ctx.HeldFromAllocator));
                picture?.Passed(ctx, step);
            }
            ctx.Step++;
            Teardown(ctx, countEachPhase);
            return new SequenceResult(null, ctx.Trace, applied, clock.Elapsed, FreeCounts: freeCounts);
        }
        catch (ViolationException violation)
        {
            picture?.Failed(ctx, steps);
            return new SequenceResult(violation.Violation, ctx.Trace, applied, clock.Elapsed, ctx.LeakAtTeardown, freeCounts)
            {
                CountedOnceAtTeardown = ctx.CountedOnceAtTeardown,
            };
        }
    }

    /// <summary>A fresh machine; booting is the implementation's code too (mmspec_init), so its panic, crash or hang is a verdict.</summary>
    internal static (IMmImplementation? Machine, Violation? Failure) Boot(IImplementationFactory factory, ulong ramSize)
    {
        try
        {
            return (factory.Create(ramSize), null);
        }
        catch (Exception boot) when (boot is ImplementationPanicException or ImplementationCrashedException)
        {
            return (null, new Violation("DMAP-04", $"at boot, booting a fresh machine with 0x{ramSize:X} bytes of RAM {ImplementationFault.How(boot)}: {boot.Message}", 0));
        }
    }

    /// <summary>
    /// The machine to run on: restored from the set-up snapshot kept for these settings where there is one and the port
    /// makes it (<see cref="SetUpSnapshot"/> then says what the setup learned), else booted (and <c>SetUp</c> is null).
    /// </summary>
    private static (IMmImplementation? Machine, SetUpSnapshot? SetUp, Violation? Failure) Start(IImplementationFactory factory, Profile profile,
                                                                                                 ulong ramSize, AuditMode audit, bool restore)
    {
        if (restore && SetUpSnapshots.Find(factory, ramSize, profile, audit) is { } setUp)
        {
            (IMmImplementation? restored, Violation? failure) = Restore(setUp, ramSize);
            if (restored is not null || failure is not null)
                return (restored, setUp, failure);
            SetUpSnapshots.Forget(factory, ramSize, profile, audit, setUp); // declined: boot, and snapshot the machine set up
        }
        (IMmImplementation? booted, Violation? bootFailure) = Boot(factory, ramSize);
        return (booted, null, bootFailure);
    }

    /// <summary>A machine restored from a set-up snapshot: the port's code too, so its panic or crash is a verdict as a boot's is.</summary>
    private static (IMmImplementation? Machine, Violation? Failure) Restore(SetUpSnapshot setUp, ulong ramSize)
    {
        try
        {
            return (setUp.Restore(), null);
        }
        catch (Exception restore) when (restore is ImplementationPanicException or ImplementationCrashedException)
        {
            return (null, new Violation("DMAP-04", $"at boot, restoring a machine of 0x{ramSize:X} bytes of RAM set up before {ImplementationFault.How(restore)}: {restore.Message}", 0));
        }
    }

    private static void Setup(SequenceContext ctx)
    {
        for (int space = 0; space < SequenceContext.BootSpaces; space++)
        {
            ulong handle = ctx.Guarded("DMAP-04", "creating an address space on a fresh machine", ctx.Implementation.CreateSpace);
            ctx.Check(handle != AddressSpaceLayout.Naddr, "DMAP-04", "a fresh machine could not create an address space");
            ctx.AddSpace(handle, "at boot");
        }
        BootObservation boot = ObserveBoot(ctx);
        ulong ram = ctx.Implementation.RamSize;
        if (boot.FirstAudit is { } audited && ctx.AuditMode == AuditMode.Incremental)
        {
            // The same tables, read word for word, as a setup audited before: its walks and owners hold, nothing since
            // is unaccounted for, and a new machine has no marks yet.
            ctx.AdoptAudit(audited.Walks, audited.Owners);
            ctx.UnjudgedWrites = [];
        }
        else
        {
            Audit.AfterStep(ctx, "DMAP-04");
            if (ctx.AuditMode == AuditMode.Both && boot.FirstAudit is { } earlier && !(earlier.Owners.SameAs(ctx.Owned) && SameWalks(earlier.Walks, ctx.LastWalks)))
                throw new AuditDisagreementException("the setup's audit of a boot observed before differs from what it found then");
            boot.FirstAudit = (new Dictionary<WalkPart, PartMemo>(ctx.LastWalks), ctx.Owned.Copy(ram));
        }
        ctx.BaselineTablePages = ctx.Owned.Count;
        List<ulong> all = ctx.DrainFreePages("PHYS-06");
        ctx.GiveBack("PHYS-06", all);
        ulong ramSize = ctx.Implementation.RamSize;
        foreach (ulong page in all)
            ctx.Check(AddressSpaceLayout.IsPageAligned(page) && page < ramSize, "PHYS-02",
                $"mm_phys_alloc_page(), called until it returned MM_NADDR on a fresh machine, returned 0x{page:X}, not a page of RAM (0x{ramSize:X} bytes)");
        ctx.FreeAtBaseline = PageSet.Of(all);
        ctx.Trace.Clear();
        ctx.WritesCheckedUpTo = 0;
        ctx.Actions.Clear(); // the reproducer's setup counts the free pages itself
    }

    private static bool SameWalks(IReadOnlyDictionary<WalkPart, PartMemo> earlier, IReadOnlyDictionary<WalkPart, PartMemo> now) =>
        earlier.Count == now.Count && earlier.All(pair => now.TryGetValue(pair.Key, out PartMemo? memo) && memo.Tables.SequenceEqual(pair.Value.Tables));

    /// <summary>The kernel half the implementation built becomes the model's starting state (see <see cref="BootState"/>).</summary>
    private static BootObservation ObserveBoot(SequenceContext ctx)
    {
        BootObservation boot;
        try
        {
            boot = BootState.Observe(new RamView(ctx.Implementation.Ram, ctx.Implementation.RamSize), ctx.Roots);
        }
        catch (MalformedPageTableException malformed)
        {
            ctx.Fail("DMAP-04", $"at boot, the page tables hold a malformed entry: {malformed.Message}");
            throw;
        }
        catch (WalkOutsideRamException outside)
        {
            ctx.Fail("DMAP-04", $"at boot, the page tables point outside RAM: {outside.Message}");
            throw;
        }
        ctx.Model = boot.State;
        ctx.BootKernelOwn = boot.KernelOwn;
        BootState.CheckDirectMap(ctx, boot);
        return boot;
    }

    /// <summary>
    /// Gives everything back in phases, each audited, and counts free pages by exhaustion: once at the end, or, when
    /// <paramref name="countEachPhase"/>, after each phase, so that a leak is reported against the call that should
    /// have released the pages.
    /// </summary>
    private static void Teardown(SequenceContext ctx, bool countEachPhase)
    {
        Release(ctx, "HEAP-07", "every block was kfree'd", !ctx.Model.HeapBlocks.IsEmpty, countEachPhase, () =>
        {
            // In one batch: a native heap holding hundreds of blocks would otherwise pay a round trip for each.
            List<ulong> blocks = [.. ctx.Model.HeapBlocks.Keys];
            ctx.KfreeBatched("HEAP-07", blocks);
            ctx.Model = ctx.Model.BlocksFreed(blocks);
            ctx.LiveBlockStarts.Clear();
            foreach (ulong pointer in blocks)
                ctx.Patterns.ForgetBlock(pointer);
        });
        Release(ctx, "VM-09", "every region was vmfree'd", !ctx.Model.Regions.IsEmpty, countEachPhase, () =>
        {
            while (!ctx.Model.Regions.IsEmpty)
                new VmFree(0, FreeExtent.Whole).Apply(ctx);
        });
        List<(int Owner, ulong Virt)> clientMappings = ClientMappingsOf(ctx.Model);
        Release(ctx, "MAP-10", "every mm_map_single mapping was unmapped", clientMappings.Count > 0, countEachPhase, () =>
        {
            foreach ((int owner, ulong virt) in clientMappings)
            {
                int space = Math.Max(owner, 0); // the shared kernel half (-1) is reached through any space
                ctx.Call("MAP-11", ApiCall.Unmap(space, virt, 1));
                ctx.Model = ctx.Model.Unmapped(space, virt);
            }
        });
        // The last phase always counts: alone, it counts what every phase gave back, and a failure then is traced to its
        // phase by a run that counts each (Run).
        string freed = countEachPhase ? "every page the client held was freed"
            : "everything was given back (every block kfree'd, region vmfree'd, mapping unmapped and page freed)";
        Release(ctx, "PHYS-06", freed, true, countEachPhase, release: () =>
        {
            var held = ctx.Model.ClientPages.ToList();
            ctx.FreePagesBatched("PHYS-06", held);
            ctx.Model = ctx.Model.PagesFreed(held);
            foreach (ulong page in held)
                ctx.Patterns.ForgetPage(page);
        }, last: true);
        if (ctx.Strict)
            ctx.Check(ctx.Owned.Count == ctx.BaselineTablePages, "MAP-D05",
                $"after everything was freed, {ctx.Owned.Count - ctx.BaselineTablePages} page table(s) beyond the boot tables remain");
    }

    /// <summary>
    /// Every mm_map_single mapping, as <see cref="ApiState.DistinctMappings"/> orders them (each space's, then the shared
    /// kernel half's as space -1), from the client's mappings of each map (<see cref="ClientMappings"/>): not the direct map again.
    /// </summary>
    private static List<(int Owner, ulong Virt)> ClientMappingsOf(ApiState model)
    {
        var found = new List<(int Owner, ulong Virt)>();
        for (int space = 0; space <= model.SpaceCount; space++)
        {
            bool shared = space == model.SpaceCount;
            foreach ((ulong virt, Mapping mapping) in ClientMappings.In(shared ? model.SharedMappings : model.SpaceMappings[space]))
                if (mapping.Kind == MappingKind.Client)
                    found.Add((shared ? -1 : space, virt));
        }
        return found;
    }

    /// <summary>One phase of the teardown: what it gives back, then the audit, then (the last phase, or each when <paramref name="countEachPhase"/>) the count of free pages.</summary>
    /// <param name="last">The machine ends with this phase's count, so the pages it took need not go back (2,000 calls on 8 MiB).</param>
    private static void Release(SequenceContext ctx, string clause, string what, bool anything, bool countEachPhase, Action release, bool last = false)
    {
        if (!anything)
            return;
        release();
        Audit.AfterStep(ctx, clause);
        if (!countEachPhase && !last)
            return;
        int expected = ctx.EstimatedFreePages;
        List<ulong> free = ctx.DrainFreePages(clause);
        ctx.CountedOnceAtTeardown = !countEachPhase; // this count is the teardown's only one
        int allowance = LeakAllowance(ctx.Profile);
        ctx.LeakAtTeardown = free.Count < expected - allowance;
        // What a reproducer checks is counted only for a failure: counting the pages held reads the whole ownership map.
        if (ctx.LeakAtTeardown)
            ctx.Fail(clause, $"after {what}, only {free.Count} pages could be allocated; {expected} should be free (the pages free at the start, less tables still in use): {expected - free.Count} page(s) leaked",
                state: [new FreePagesCheck(what, ctx.HeldFromAllocator, allowance, AtMost: false)]);
        if (free.Count > expected)
            ctx.Fail("PHYS-01", $"after {what}, {free.Count} pages could be allocated, more than the {expected} that should be free: a page in use was handed out",
                state: [new FreePagesCheck(what, ctx.HeldFromAllocator, 0, AtMost: true)]);
        ctx.CountedOnceAtTeardown = false;
        if (!last)
            ctx.GiveBack(clause, free);
    }

    /// <summary>Default profile: a heap may keep a few pages cached after its last block is freed.</summary>
    public const int HeapCacheAllowance = 8;

    /// <summary>Free pages that may be missing from the count without a leak: the heap's cache in default, none in strict.</summary>
    public static int LeakAllowance(Profile profile) => profile == Profile.Strict ? 0 : HeapCacheAllowance;
}
