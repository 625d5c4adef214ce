using Mmspec.Reference.Api;
using Mmspec.Models.State;
using Mmspec.Reference.Kernel;
using Mmspec.SpecTests.Adapters;
using Mmspec.SpecTests.Catalogue;
using Mmspec.SpecTests.Execution;
using Mmspec.SpecTests.Port;
using Mmspec.SpecTests.Properties;
using Mmspec.SpecTests.Sequences;
using Mmspec.Zoo;
using Mmspec.Zoo.Bugs;

namespace Mmspec.Tests.Conformance;

/// <summary>
/// Sequences start from a snapshot of a machine set up before (<see cref="SetUpSnapshot"/>) where the port can take
/// one: the run must be the run a fresh boot gives, call for call, and a restored machine must share nothing with the
/// snapshot or with another machine restored from it.
/// </summary>
public sealed class SetUpSnapshotTests
{
    private static readonly AddressPick UserLow = new(Area.UserLow, 0);

    // Every area once, a hog and its release, and a count of free pages after every step: each reads the machine's state.
    private static readonly IReadOnlyList<Operation> Varied =
    [
        new AllocPages(3, Contiguous: true),
        new MapSingle(0, UserLow, 0, Rights.Write),
        new Kmalloc(48),
        new KmallocBurst(512, 9),
        new VmAlloc(1, new SearchRange(UserLow, 1024, 0), 5, Rights.Write),
        new CreateSpace(),
        new Hog(2),
        new FreePage(0),
        new Release(2),
        new Kfree(0),
        new VmFree(0, FreeExtent.FirstHalf),
        new UnmapSingle(0, UserLow, 0),
    ];

    [Fact]
    public void A_run_restored_from_the_snapshot_is_the_run_a_fresh_boot_gives()
    {
        var factory = new ReferenceFactory();
        SequenceResult booted = SequenceRunner.Run(factory, Profile.Default, Varied, countFreePages: true, restore: false);
        SequenceResult snapshotted = SequenceRunner.Run(factory, Profile.Default, Varied, countFreePages: true); // sets up, snapshots
        SequenceResult restored = SequenceRunner.Run(factory, Profile.Default, Varied, countFreePages: true);    // starts from it

        Assert.True(booted.Passed, booted.Violation?.Message);
        Assert.NotNull(SetUpSnapshots.Find(factory, SequenceRunner.DefaultRamSize, Profile.Default, AuditMode.Incremental));
        // Each thread keeps its own (properties run in parallel; a native snapshot serves one machine at a time).
        bool foundElsewhere = true;
        var elsewhere = new Thread(() => foundElsewhere = SetUpSnapshots.Find(factory, SequenceRunner.DefaultRamSize, Profile.Default, AuditMode.Incremental) is not null);
        elsewhere.Start();
        elsewhere.Join();
        Assert.False(foundElsewhere);
        foreach (SequenceResult run in new[] { snapshotted, restored })
        {
            Assert.True(run.Passed, run.Violation?.Message);
            Assert.Equal(booted.StepsApplied, run.StepsApplied);
            Assert.Equal(TraceText.Lines(booted.Trace), TraceText.Lines(run.Trace));
            Assert.Equal(booted.FreeCounts!.Select(Free), run.FreeCounts!.Select(Free));
        }
    }

    private static (int, int, int, int) Free(FreeCount count) => (count.Step, count.Free, count.Expected, count.Held);

    [Theory]
    [InlineData("stateful.mixed")]
    [InlineData("stateful.regions")]
    public void A_property_checks_the_same_steps_with_snapshots_as_without(string property)
    {
        var settings = new RunSettings(Profile.Default, MaxTest: 40);
        PropertyResult restored = PropertyCatalogue.Find(property).Check(new ReferenceFactory(), settings);
        // The same reference behind a decorator, which cannot snapshot: every sequence boots and sets up.
        PropertyResult booted = PropertyCatalogue.Find(property).Check(new DecoratedFactory("reference", inner => new PortDecorator(inner)), settings);

        Assert.Equal(Verdict.Passed, restored.Verdict);
        Assert.Equal(booted.Verdict, restored.Verdict);
        Assert.Equal(booted.Tests, restored.Tests);
        Assert.Equal(booted.Steps, restored.Steps);
    }

    [Fact]
    public void A_restored_machine_shares_nothing_with_the_snapshot_or_another_restored_machine()
    {
        var factory = new ReferenceFactory();
        using IMmImplementation original = factory.Create(SequenceRunner.DefaultRamSize);
        ulong space = original.CreateSpace();
        ulong block = original.kmalloc(100);
        IMachineSnapshot snapshot = original.Snapshot()!;
        ulong nextPage = original.mm_phys_alloc_page();
        original.Ram.WriteU64(nextPage, 0xDEAD);

        using IMmImplementation first = snapshot.Restore()!;
        Assert.Equal(nextPage, first.mm_phys_alloc_page());
        Assert.Equal(0UL, first.Ram.ReadU64(nextPage));
        first.Ram.WriteU64(nextPage, 0xBEEF);
        Assert.Equal(0, first.mm_map_single(space, 0x400000, nextPage, MmApi.MM_PAGE_WRITE));
        first.kfree(block);

        using IMmImplementation second = snapshot.Restore()!;
        Assert.Equal(nextPage, second.mm_phys_alloc_page());
        Assert.Equal(0UL, second.Ram.ReadU64(nextPage));
        Assert.Equal(MmApi.MM_NADDR, second.mm_map_get(space, 0x400000));
        second.kfree(block); // still live here: freed only in the first
        Assert.Equal(0xDEADUL, original.Ram.ReadU64(nextPage));
        Assert.Equal(original.SpaceRoot(space), second.SpaceRoot(space));
    }

    [Fact]
    public void A_variant_kernel_or_a_decorated_port_is_not_snapshotted()
    {
        Assert.Null(new MemoryManager(new MachineOptions(SequenceRunner.DefaultRamSize), new ZooComponents { Heap = frames => new MisalignedSlots(frames) }).Copy());
        Assert.Null(new BoundaryOffByOne(new MachineOptions(SequenceRunner.DefaultRamSize)).Copy());
        using IMmImplementation decorated = new PortDecorator(new ReferenceFactory().Create(SequenceRunner.DefaultRamSize));
        Assert.Null(decorated.Snapshot());
        Assert.NotNull(new MemoryManager(new MachineOptions(SequenceRunner.DefaultRamSize)).Copy());
    }

    [Fact]
    public void A_crash_restoring_the_snapshot_is_a_verdict_at_boot()
    {
        var factory = new DecoratedFactory("restore-crashes", inner => new RestoreCrashes(inner));
        Assert.True(SequenceRunner.Run(factory, Profile.Default, [new Kmalloc(16)]).Passed); // sets up and snapshots

        SequenceResult restored = SequenceRunner.Run(factory, Profile.Default, [new Kmalloc(16)]);
        Assert.Equal("DMAP-04", restored.Violation?.Clause);
        Assert.Equal("at boot, restoring a machine of 0x800000 bytes of RAM set up before crashed: the worker died", restored.Violation!.Message);
    }

    [Fact]
    public void A_crash_taking_the_snapshot_is_a_verdict_at_boot()
    {
        var factory = new DecoratedFactory("snapshot-crashes", inner => new SnapshotCrashes(inner));
        SequenceResult result = SequenceRunner.Run(factory, Profile.Default, [new Kmalloc(16)]);

        Assert.Equal("DMAP-04", result.Violation?.Clause);
        Assert.Equal("at boot, snapshotting the machine just set up crashed: the worker died", result.Violation!.Message);
    }

    private sealed class SnapshotCrashes(IMmImplementation inner) : PortDecorator(inner), IMmImplementation
    {
        public IMachineSnapshot Snapshot() => throw new ImplementationCrashedException("the worker died");
    }

    private sealed class RestoreCrashes(IMmImplementation inner) : PortDecorator(inner), IMmImplementation
    {
        public IMachineSnapshot Snapshot() => new Crashing();

        private sealed class Crashing : IMachineSnapshot
        {
            public IMmImplementation? Restore() => throw new ImplementationCrashedException("the worker died");
        }
    }
}
