using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using Mmspec.Models.State;
using Mmspec.SpecTests.Catalogue;
using Mmspec.SpecTests.Port;

namespace Mmspec.SpecTests.Execution;

/// <summary>
/// A machine the setup has just prepared (booted, its two spaces created, its free pages counted), snapshotted with
/// everything the suite learned preparing it: the model of the boot state, the audit's walks and owners, the baseline.
/// Every later sequence on the same implementation, RAM size, profile and audit (and thread) starts from a restored copy instead
/// of booting and setting up again; shrinking, which runs hundreds of candidates, gains most. Only where the port can
/// snapshot (<see cref="IMmImplementation.Snapshot"/>): a restored machine is, to every call, the machine set up.
/// </summary>
public sealed class SetUpSnapshot
{
    private readonly IMachineSnapshot machine;
    private readonly ulong[] spaces, roots;
    private readonly ApiState model;
    private readonly IReadOnlyList<(ulong Base, Mapping Mapping)> bootKernelOwn;
    private readonly KeyValuePair<WalkPart, PartMemo>[] walks;
    private readonly OwnershipMap owned;
    private readonly ulong[]? unjudgedWrites;
    private readonly int baselineTablePages;
    private readonly PageSet freeAtBaseline;

    private SetUpSnapshot(IMachineSnapshot machine, SequenceContext ctx)
    {
        this.machine = machine;
        spaces = [.. ctx.Spaces];
        roots = [.. ctx.Roots];
        model = ctx.Model;
        bootKernelOwn = ctx.BootKernelOwn;
        walks = [.. ctx.LastWalks];
        owned = ctx.Owned.Copy(ctx.Implementation.RamSize);
        unjudgedWrites = ctx.UnjudgedWrites?.ToArray();
        baselineTablePages = ctx.BaselineTablePages;
        freeAtBaseline = ctx.FreeAtBaseline;
    }

    /// <summary>
    /// The machine and context as the setup left them; null when the port cannot snapshot its machine. The port's code
    /// too: a panic or crash taking it is a violation at boot, as a failed setup is.
    /// </summary>
    public static SetUpSnapshot? Take(SequenceContext ctx)
    {
        IMachineSnapshot? machine = null;
        try
        {
            machine = ctx.Implementation.Snapshot();
        }
        catch (Exception fault) when (fault is ImplementationPanicException or ImplementationCrashedException)
        {
            ctx.Fail("DMAP-04", $"at boot, snapshotting the machine just set up {ImplementationFault.How(fault)}: {fault.Message}");
        }
        return machine is null ? null : new SetUpSnapshot(machine, ctx);
    }

    /// <summary>A new machine in the state snapshotted; null when the port declines to make one now.</summary>
    public IMmImplementation? Restore() => machine.Restore();

    /// <summary>A context for <paramref name="restored"/> (made by <see cref="Restore"/>) that knows it as the setup knew the machine snapshotted.</summary>
    public SequenceContext Resume(IMmImplementation restored, Profile profile, AuditMode audit)
    {
        var ctx = new SequenceContext(restored, profile) { AuditMode = audit };
        ctx.Spaces.AddRange(spaces);
        ctx.Roots.AddRange(roots);
        ctx.Model = model;
        ctx.BootKernelOwn = bootKernelOwn;
        ctx.AdoptAudit(walks, owned);
        ctx.UnjudgedWrites = unjudgedWrites is null ? null : [.. unjudgedWrites];
        ctx.BaselineTablePages = baselineTablePages;
        ctx.FreeAtBaseline = freeAtBaseline; // read only from here on
        return ctx;
    }
}

/// <summary>
/// The set-up snapshots of each factory, by RAM size, profile and audit, and by thread: properties that run in parallel
/// (`check --jobs`) each keep their own, since a native snapshot is restored on one RAM file, one machine at a time.
/// </summary>
public static class SetUpSnapshots
{
    private static readonly ConditionalWeakTable<IImplementationFactory, ConcurrentDictionary<Key, SetUpSnapshot>> byFactory = [];

    private readonly record struct Key(ulong Ram, Profile Profile, AuditMode Audit, int Thread)
    {
        public static Key Of(ulong ram, Profile profile, AuditMode audit) => new(ram, profile, audit, Environment.CurrentManagedThreadId);
    }

    public static SetUpSnapshot? Find(IImplementationFactory factory, ulong ramSize, Profile profile, AuditMode audit) =>
        byFactory.TryGetValue(factory, out var kept) && kept.TryGetValue(Key.Of(ramSize, profile, audit), out SetUpSnapshot? snapshot) ? snapshot : null;

    public static void Keep(IImplementationFactory factory, ulong ramSize, SequenceContext ctx, SetUpSnapshot snapshot) =>
        byFactory.GetOrCreateValue(factory).TryAdd(Key.Of(ramSize, ctx.Profile, ctx.AuditMode), snapshot);

    /// <summary>Drops a snapshot the port declined to restore, so that the next setup takes another (a native worker retires, say).</summary>
    public static void Forget(IImplementationFactory factory, ulong ramSize, Profile profile, AuditMode audit, SetUpSnapshot snapshot)
    {
        if (byFactory.TryGetValue(factory, out var kept))
            kept.TryRemove(new KeyValuePair<Key, SetUpSnapshot>(Key.Of(ramSize, profile, audit), snapshot));
    }
}
