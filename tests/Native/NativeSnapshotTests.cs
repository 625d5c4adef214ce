using Mmspec.Models.State;
using Mmspec.NativeClient;
using Mmspec.SpecTests.Catalogue;
using Mmspec.SpecTests.Execution;
using Mmspec.SpecTests.Port;
using Mmspec.SpecTests.Sequences;

namespace Mmspec.Tests.Native;

/// <summary>
/// A native machine set up once is snapshotted (the worker keeps the library's data, the suite the RAM) and later
/// sequences restore it: the restored machine answers as the one snapshotted would have, and a restore the worker
/// cannot make (another worker reached, the RAM file in use) declines, and the suite boots as before.
/// </summary>
[Trait("Category", "Native")]
public sealed class NativeSnapshotTests
{
    private const ulong Ram = 8UL << 20;

    private static readonly AddressPick UserLow = new(Area.UserLow, 0);

    private static readonly IReadOnlyList<Operation> Steps =
    [
        new AllocPages(3, Contiguous: true),
        new MapSingle(0, UserLow, 0, Rights.Write),
        new KmallocBurst(96, 12),
        new VmAlloc(1, new SearchRange(UserLow, 1024, 0), 5, Rights.Write),
        new Hog(2),
        new Release(2),
        new Kfree(0),
    ];

    [Fact]
    public void A_sequence_restored_from_a_native_snapshot_is_the_run_a_fresh_boot_gives()
    {
        using var factory = new NativeFactory(NativeBuild.Sample);
        SequenceResult booted = SequenceRunner.Run(factory, Profile.Default, Steps, countFreePages: true, restore: false);
        SequenceResult first = SequenceRunner.Run(factory, Profile.Default, Steps, countFreePages: true); // sets up, snapshots
        SetUpSnapshot? kept = SetUpSnapshots.Find(factory, Ram, Profile.Default, AuditMode.Incremental);
        SequenceResult restored = SequenceRunner.Run(factory, Profile.Default, Steps, countFreePages: true);

        Assert.True(booted.Passed, booted.Violation?.Message);
        Assert.NotNull(kept);
        Assert.Same(kept, SetUpSnapshots.Find(factory, Ram, Profile.Default, AuditMode.Incremental)); // restored, not declined
        foreach (SequenceResult run in new[] { first, restored })
        {
            Assert.True(run.Passed, run.Violation?.Message);
            Assert.Equal(TraceText.Lines(booted.Trace), TraceText.Lines(run.Trace));
            Assert.Equal(booted.FreeCounts!.Select(count => (count.Free, count.Expected)), run.FreeCounts!.Select(count => (count.Free, count.Expected)));
        }
    }

    [Fact]
    public void A_restored_machine_answers_as_the_snapshotted_one_and_a_restore_declines_where_it_cannot_be_made()
    {
        using var factory = new NativeFactory(NativeBuild.Sample);
        IMmImplementation original = factory.Create(Ram);
        ulong space = original.CreateSpace();
        ulong block = original.kmalloc(200);
        IMachineSnapshot snapshot = original.Snapshot()!;
        Assert.Null(snapshot.Restore()); // its RAM file is the live machine's
        (ulong Page, ulong Block) next = (original.mm_phys_alloc_page(), original.kmalloc(200));
        original.Dispose();

        using (IMmImplementation? elsewhere = WhileTheWorkerIsBusy(factory, snapshot))
            Assert.Null(elsewhere); // the connection reached another worker, which does not hold the snapshot

        using IMmImplementation restored = snapshot.Restore()!;
        Assert.NotNull(restored);
        Assert.Equal(next, (restored.mm_phys_alloc_page(), restored.kmalloc(200)));
        restored.kfree(block); // live in the snapshot's state
        Assert.Equal(0, restored.mm_map_single(space, 0x40_0000, next.Page, 2));
        Assert.Equal(next.Page, restored.mm_map_get(space, 0x40_0000));
    }

    /// <summary>
    /// Two threads' snapshots on two workers: each restore asks the server for its own snapshot's worker, though the
    /// other worker became idle last (which a new machine would be given), so neither declines.
    /// </summary>
    [Fact]
    public void A_restore_is_routed_to_the_worker_that_holds_its_snapshot()
    {
        using var factory = new NativeFactory(NativeBuild.Sample);
        var first = (NativeImplementation)factory.Create(Ram);
        var second = (NativeImplementation)factory.Create(Ram); // the first is busy: another worker
        Assert.NotEqual(first.HostProcessId, second.HostProcessId);
        (IMachineSnapshot First, IMachineSnapshot Second) snapshots = (first.Snapshot()!, second.Snapshot()!);
        var workers = (first.HostProcessId, second.HostProcessId);
        first.Dispose();
        second.Dispose(); // idle last: a new machine would go there

        for (int round = 0; round < 2; round++)
        {
            using (var restored = (NativeImplementation)snapshots.First.Restore()!)
                Assert.Equal(workers.Item1, restored.HostProcessId);
            using (var restored = (NativeImplementation)snapshots.Second.Restore()!)
                Assert.Equal(workers.Item2, restored.HostProcessId);
        }
    }

    [Fact]
    public void A_kernel_with_state_outside_its_globals_and_ram_runs_without_snapshots()
    {
        using var factory = new NativeFactory(NativeBuild.Sample);
        using IMmImplementation machine = factory.Create(Ram);
        Environment.SetEnvironmentVariable("MMSPEC_SNAPSHOTS", "off");
        try
        {
            Assert.Null(machine.Snapshot());
        }
        finally
        {
            Environment.SetEnvironmentVariable("MMSPEC_SNAPSHOTS", null);
        }
        Assert.NotNull(machine.Snapshot());
    }

    /// <summary>Restores while a fresh machine occupies the worker that holds the snapshot (the first idle one).</summary>
    private static IMmImplementation? WhileTheWorkerIsBusy(NativeFactory factory, IMachineSnapshot snapshot)
    {
        using IMmImplementation busy = factory.Create(Ram / 2); // another RAM size: the snapshot's file stays idle
        return snapshot.Restore();
    }
}
