using Mmspec.Models.Mmu;
using Mmspec.NativeClient;
using Mmspec.SpecTests.Execution;
using Mmspec.SpecTests.Port;

namespace Mmspec.Tests.Native;

/// <summary>
/// The host tells which frames each call wrote (native/README.md, "Write sets"), by either mechanism: what a
/// mapping writes is the tables of its new path, a lookup writes nothing, the suite's own writes never count, and
/// a crash under write protection is still the implementation's crash.
/// </summary>
public sealed class NativeWriteSetTests
{
    public static TheoryData<WriteTracking> Mechanisms => new() { WriteTracking.Uffd, WriteTracking.Mprotect };

    [Theory, MemberData(nameof(Mechanisms))]
    public void A_mapping_writes_the_tables_of_its_new_path_and_a_lookup_nothing(WriteTracking mechanism)
    {
        using var factory = new NativeFactory(NativeBuild.Sample, writeTracking: mechanism);
        using IMmImplementation machine = factory.Create(8 << 20);
        IWriteTracking writes = Assert.IsAssignableFrom<IWriteTracking>(machine.Writes);
        Assert.Equal(mechanism, Assert.IsType<NativeImplementation>(machine).WriteTracking);
        ulong space = machine.CreateSpace();
        ulong root = machine.SpaceRoot(space);
        Assert.NotEmpty(writes.TakeWrittenFrames()!); // creating a space fills its root, at least

        ulong page = machine.mm_phys_alloc_page();
        machine.Ram.WriteU64(page, 0x5A5A); // the suite's mark, through its own mapping
        var ram = new RamView(machine.Ram, machine.RamSize);
        HashSet<ulong> before = Mmu.EnumerateTables(ram, root).Select(table => table.PhysicalAddress).ToHashSet();
        writes.TakeWrittenFrames();

        Assert.Equal(0, machine.mm_map_single(space, 0x400000, page, 0x3));
        IReadOnlyList<ulong> written = writes.TakeWrittenFrames()!;

        HashSet<ulong> made = Mmu.EnumerateTables(ram, root).Select(table => table.PhysicalAddress).Except(before).ToHashSet();
        Assert.NotEmpty(made);
        Assert.Superset(made, written.ToHashSet());
        Assert.Contains(root, written);
        Assert.DoesNotContain(page, written);
        Assert.Equal(written.Order(), written);

        Assert.Equal(page, machine.mm_map_get(space, 0x400000, out _));
        Assert.Empty(writes.TakeWrittenFrames()!);
    }

    [Theory, MemberData(nameof(Mechanisms))]
    public void A_crash_under_write_protection_is_still_the_implementations_crash(WriteTracking mechanism)
    {
        using var factory = new NativeFactory(NativeBuild.Hostile("map-get-segfaults"), writeTracking: mechanism);
        using IMmImplementation machine = factory.Create(8 << 20);
        ulong space = machine.CreateSpace();
        ulong above4MiB = machine.MM_VIRTUALIZE(5UL << 20); // where this runner dereferences NULL
        var crash = Assert.Throws<ImplementationCrashedException>(() => machine.mm_map_get(space, above4MiB, out _));
        Assert.Equal("SIGSEGV", crash.Signal);
    }

    [Theory, MemberData(nameof(Mechanisms))]
    public void A_call_writing_more_than_a_thousand_frames_lists_every_one(WriteTracking mechanism)
    {
        // The sample zeroes every page vmalloc hands out: 1,200 pages are 1,200 frames written by one call, which an
        // answer listing at most 1,024 could only report as unknown (and the audit would fall back to the whole state).
        const ulong pages = 1200;
        using var factory = new NativeFactory(NativeBuild.Sample, writeTracking: mechanism);
        using IMmImplementation machine = factory.Create(8 << 20);
        IWriteTracking writes = Assert.IsAssignableFrom<IWriteTracking>(machine.Writes);
        ulong space = machine.CreateSpace();
        writes.TakeWrittenFrames();

        ulong region = machine.vmalloc(space, 0x400000, 0x80000000, pages, 0x3);
        Assert.NotEqual(ulong.MaxValue, region); // MM_NADDR
        IReadOnlyList<ulong>? written = writes.TakeWrittenFrames();

        Assert.NotNull(written);
        var frames = written.ToHashSet();
        for (ulong page = 0; page < pages; page++)
        {
            ulong frame = machine.mm_map_get(space, region + page * 4096, out _);
            Assert.Contains(frame, frames);
        }
    }

    [Theory, MemberData(nameof(Mechanisms))]
    public void Machines_on_one_worker_and_one_RAM_file_each_see_every_write(WriteTracking mechanism)
    {
        // A worker keeps its mapping of a RAM file from machine to machine and protects again only what the last
        // machine wrote (host/writes.c, protect_written): the frames one machine's vmalloc wrote must count again when
        // the next machine's vmalloc writes them.
        using var factory = new NativeFactory(NativeBuild.Sample, writeTracking: mechanism);
        int? worker = null;
        for (int machineIndex = 0; machineIndex < 3; machineIndex++)
        {
            using IMmImplementation machine = factory.Create(8 << 20);
            var native = Assert.IsType<NativeImplementation>(machine);
            Assert.Equal(worker ?? native.HostProcessId, native.HostProcessId); // one thread keeps to one worker
            worker = native.HostProcessId;
            IWriteTracking writes = Assert.IsAssignableFrom<IWriteTracking>(machine.Writes);
            ulong space = machine.CreateSpace();
            writes.TakeWrittenFrames();

            ulong region = machine.vmalloc(space, 0x400000, 0x80000000, 64, 0x3);
            var frames = writes.TakeWrittenFrames()!.ToHashSet();
            for (ulong page = 0; page < 64; page++)
                Assert.Contains(machine.mm_map_get(space, region + page * 4096, out _), frames);
        }
    }

    [Theory, MemberData(nameof(Mechanisms))]
    public void A_write_after_calls_that_wrote_nothing_is_still_seen(WriteTracking mechanism)
    {
        // The host skips the scan after a call that faulted nowhere (host/writes.c, faults_seen): lookups write nothing,
        // and the first call after them that writes must still list what it wrote, and the one after it nothing.
        using var factory = new NativeFactory(NativeBuild.Sample, writeTracking: mechanism);
        using IMmImplementation machine = factory.Create(8 << 20);
        IWriteTracking writes = Assert.IsAssignableFrom<IWriteTracking>(machine.Writes);
        ulong space = machine.CreateSpace();
        ulong root = machine.SpaceRoot(space);
        writes.TakeWrittenFrames();
        for (int lookup = 0; lookup < 3; lookup++)
        {
            Assert.Equal(ulong.MaxValue, machine.mm_map_get(space, 0x400000, out _));
            Assert.Empty(writes.TakeWrittenFrames()!);
        }

        ulong page = machine.mm_phys_alloc_page();
        Assert.Equal(0, machine.mm_map_single(space, 0x400000, page, 0x3));
        Assert.Contains(root, writes.TakeWrittenFrames()!);
        Assert.Equal(0, machine.mm_map_single(space, 0x401000, page, 0x3)); // the same page table, one entry more
        IReadOnlyList<ulong> again = writes.TakeWrittenFrames()!;
        Assert.Single(again);
        Assert.Equal(page, machine.mm_map_get(space, 0x401000, out _));
        Assert.Empty(writes.TakeWrittenFrames()!);
    }

    [Fact]
    public void Every_kind_of_write_into_protected_RAM_moves_the_fault_count_the_host_skips_scans_by()
    {
        // host/writes.c skips the scan after a call whose page-fault count did not move: native/checks/write_faults.c
        // writes into protected pages every way it can (a store, a read(), an O_DIRECT read, process_vm_readv) on this
        // machine's kernel, and fails where one of them did not count.
        (int exit, string output) = ProgramRun.Execute(Path.Combine(NativeBuild.BuildFolder, "write-faults"), [NativeBuild.BuildFolder], TimeSpan.FromSeconds(30));
        Assert.True(exit == 0, output);
        Assert.Contains("a store into a protected page", output);
        Assert.DoesNotContain("NOT COUNTED", output);
    }

    [Fact]
    public void Without_write_tracking_calls_carry_no_write_sets()
    {
        using var factory = new NativeFactory(NativeBuild.Sample, writeTracking: WriteTracking.Off);
        using IMmImplementation machine = factory.Create(8 << 20);
        machine.CreateSpace();
        Assert.Null(machine.Writes);
    }
}
