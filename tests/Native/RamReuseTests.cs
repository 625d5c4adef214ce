using Mmspec.NativeClient;
using Mmspec.SpecTests.Port;

namespace Mmspec.Tests.Native;

/// <summary>
/// A machine's RAM file goes back to the pool and is zeroed for the next machine, frame by frame where the machine's
/// answers listed what it wrote: the next machine must find all of it zero (mmspec_init is promised zeroed RAM).
/// </summary>
[Trait("Category", "Native")]
public sealed class RamReuseTests
{
    private const ulong Ram = 8UL << 20;

    [Theory]
    [InlineData(WriteTracking.Auto)]
    [InlineData(WriteTracking.Mprotect)]
    [InlineData(WriteTracking.Off)]
    public void The_ram_a_machine_wrote_is_all_zero_for_the_next(WriteTracking tracking)
    {
        using var pool = new RamPool();
        using var server = new HostServer(NativeBuild.Sample, NativeFactory.FindHost(NativeBuild.Sample));
        server.Start();
        using (var machine = new NativeImplementation(server, pool, Ram, NativeFactory.DefaultCallTimeout, NativeFactory.DefaultSequenceTimeout, tracking))
        {
            IMmImplementation port = machine;
            ulong space = port.CreateSpace();
            port.FreePages(port.AllocatePagesUntilExhausted(int.MaxValue));
            IReadOnlyList<ulong> blocks = port.KmallocUntilNull(96, 200);
            ulong page = port.mm_phys_alloc_page();
            Assert.Equal(0, port.mm_map_single(space, 0x7F_0000_0000, page, 2));
            Assert.NotEqual(ulong.MaxValue, port.vmalloc(space, 0x10_0000, 0x40_0000_0000, 7, 2));
            port.Ram.WriteU64(page + 8, 0x5EED); // the suite's own writes count too
            Assert.NotEmpty(blocks);
            Assert.True(NonZeroFrames(port.Ram) > 0);
        }

        using SharedRam reused = pool.Rent(Ram); // the machine's, zeroed: the pool holds no other
        Assert.Equal(0, NonZeroFrames(reused));
    }

    [Fact]
    public void A_snapshot_that_declined_a_restore_lets_go_of_its_ram_file()
    {
        // The suite forgets a snapshot whose restore declined and takes another; until then the snapshot kept its RAM
        // file from other machines, and until a collection it still did, so every decline cost a new file.
        using var pool = new RamPool();
        using var server = new HostServer(NativeBuild.Sample, NativeFactory.FindHost(NativeBuild.Sample));
        server.Start();
        IMachineSnapshot? snapshot;
        using (IMmImplementation machine = Machine(server, pool, Ram))
        {
            machine.CreateSpace();
            snapshot = machine.Snapshot();
        }
        Assert.NotNull(snapshot);
        int files = RamFiles(pool);
        using (Machine(server, pool, Ram / 2)) // keeps the snapshot's worker busy: the restore reaches another one
            Assert.Null(snapshot.Restore());
        Assert.Equal(files + 1, RamFiles(pool)); // the busy machine's

        using SharedRam next = pool.Rent(Ram);
        Assert.Equal(files + 1, RamFiles(pool)); // the snapshot's file again, not a new one
        GC.KeepAlive(snapshot);
    }

    private static NativeImplementation Machine(HostServer server, RamPool pool, ulong ram) =>
        new(server, pool, ram, NativeFactory.DefaultCallTimeout, NativeFactory.DefaultSequenceTimeout, WriteTracking.Auto);

    private static int RamFiles(RamPool pool) =>
        Directory.GetFiles(Path.GetDirectoryName(pool.Prefix)!, Path.GetFileName(pool.Prefix) + "*.ram").Length;

    [Fact]
    public void Without_a_list_of_what_was_written_the_whole_ram_is_zeroed()
    {
        using var pool = new RamPool();
        SharedRam ram = pool.Rent(Ram);
        ram.WriteU64(0x3000, 1);
        ram.WrittenByMachine(-1, []);
        ram.Clear(); // whole: the machine may have written anywhere
        Assert.Equal(0, NonZeroFrames(ram));
        ram.WrittenByMachine(1, BitConverter.GetBytes(0x5000UL));
        ram.WriteU64(0x5008, 2);
        ram.WriteU64(Ram - 8, 3);
        ram.Clear();
        Assert.Equal(0, NonZeroFrames(ram));
        pool.Return(ram);
    }

    private static int NonZeroFrames(IRamAccess ram)
    {
        var frame = new byte[4096];
        int count = 0;
        for (ulong phys = 0; phys < Ram; phys += 4096)
        {
            ram.Read(phys, frame);
            if (frame.AsSpan().IndexOfAnyExcept((byte)0) >= 0)
                count++;
        }
        return count;
    }
}
