using Mmspec.Reference.Api;
using Mmspec.Reference.Kernel;
using Mmspec.Reference.Memory;
using Mmspec.Reference.Paging;

namespace Mmspec.Tests.Reference;

/// <summary>Builds small reference kernels and reads their state for the unit tests.</summary>
internal static class TestKernel
{
    public const ulong MiB = 1UL << 20;
    public const ulong GiB = 1UL << 30;
    public const ulong Page = MmApi.MM_PAGE_SIZE;
    public const ulong NADDR = MmApi.MM_NADDR;
    public const ulong KernelBase = MmApi.MM_KERNEL_BASE;
    public const ulong USER = MmApi.MM_PAGE_USER;
    public const ulong WRITE = MmApi.MM_PAGE_WRITE;
    public const ulong EXEC = MmApi.MM_PAGE_EXEC;

    /// <summary>4 MiB: 1024 frames, 256 of them reserved, 3 taken by boot.</summary>
    public const ulong SmallRam = 4 * MiB;

    /// <summary>Frames usable after boot on a machine of <paramref name="ramSize"/> (no space created).</summary>
    public static int FreeAfterBoot(ulong ramSize = SmallRam) => (int)((ramSize - MiB) / Page) - 3;

    public static MmApi Create(ulong ramSize = SmallRam) => new(new MachineOptions(ramSize));

    /// <summary>A kernel and one address space.</summary>
    public static (MmApi Api, ulong Space) CreateWithSpace(ulong ramSize = SmallRam)
    {
        MmApi api = Create(ramSize);
        ulong space = api.mm_space_create();
        Assert.NotEqual(NADDR, space);
        return (api, space);
    }

    /// <summary>Written into the flags before each mm_map_get, so a call that forgets to set them is caught.</summary>
    public const ulong FlagsSentinel = 0xF0;

    /// <summary>mm_map_get, ignoring the flags.</summary>
    public static ulong MapGet(this MmApi api, ulong space, ulong virt) => api.MapGet(space, virt, out _);

    /// <summary>mm_map_get with the flags variable preset to <see cref="FlagsSentinel"/>.</summary>
    public static ulong MapGet(this MmApi api, ulong space, ulong virt, out ulong flags)
    {
        flags = FlagsSentinel;
        return api.mm_map_get(space, virt, ref flags);
    }

    public static PhysAddr Root(MmApi api, ulong space) => new(api.mm_space_root(space));

    public static Leaf? Leaf(MmApi api, ulong space, ulong virt) =>
        api.Kernel.Tables.FindLeaf(Root(api, space), new VirtAddr(virt));

    /// <summary>The raw entry at <paramref name="level"/> on the walk to virt (4 = the PML4 entry), or null if the walk stops earlier.</summary>
    public static PageTableEntry? EntryAt(MmApi api, ulong space, ulong virt, int level)
    {
        var address = new VirtAddr(virt);
        PhysAddr table = Root(api, space);
        for (int current = PageLevel.Pml4; ; current--)
        {
            PageTableEntry entry = api.Kernel.Tables.ReadEntry(table, address.TableIndex(current));
            if (current == level)
                return entry;
            if (!entry.IsPresent || entry.IsPageSize || current == PageLevel.Pt)
                return null;
            table = entry.Address;
        }
    }

    /// <summary>Allocates every free frame; returns them in allocation order.</summary>
    public static List<ulong> ExhaustFrames(MmApi api)
    {
        var taken = new List<ulong>();
        for (ulong page; (page = api.mm_phys_alloc_page()) != NADDR;)
            taken.Add(page);
        Assert.Equal(0, api.Kernel.Frames.FreeFrames);
        return taken;
    }

    /// <summary>Takes frames until exactly <paramref name="free"/> are left; returns what it took.</summary>
    public static List<ulong> LeaveFree(MmApi api, int free)
    {
        List<ulong> taken = ExhaustFrames(api);
        for (int i = 0; i < free; i++)
        {
            api.mm_phys_free_page(taken[^1]);
            taken.RemoveAt(taken.Count - 1);
        }
        Assert.Equal(free, api.Kernel.Frames.FreeFrames);
        return taken;
    }

    /// <summary>Writes a non-zero pattern into every free frame, so zeroing (or its absence) is visible.</summary>
    public static void DirtyFreeFrames(MmApi api, byte pattern = 0xA5)
    {
        byte[] fill = new byte[Page];
        Array.Fill(fill, pattern);
        for (ulong frame = 0; frame < api.Kernel.Ram.Size; frame += Page)
            if (!api.Kernel.Frames.IsAllocated(frame) && !api.Kernel.Frames.IsReserved(frame))
                api.Kernel.Ram.Write(frame, fill);
    }

    public static byte[] ReadPage(MmApi api, ulong frame)
    {
        byte[] data = new byte[Page];
        api.Kernel.Ram.Read(frame, data);
        return data;
    }

    public static int NonZeroEntries(MmApi api, PhysAddr table)
    {
        int count = 0;
        for (int index = 0; index < PageTableEntry.EntriesPerTable; index++)
            if (api.Kernel.Tables.ReadEntry(table, index).Raw != 0)
                count++;
        return count;
    }

    public static void AssertPanics(PanicReason reason, Action action)
    {
        KernelPanicException panic = Assert.Throws<KernelPanicException>(action);
        Assert.Equal(reason, panic.Reason);
    }
}

/// <summary>
/// Everything a failed call must leave alone: the allocator's view of every frame, its free count, the
/// heap's live blocks, the spaces, and every byte of RAM (which holds all page tables).
/// </summary>
internal sealed class KernelSnapshot
{
    private KernelSnapshot(ulong[] allocatedFrames, int freeFrames, int liveBlocks, int spaces, byte[] ram)
    {
        AllocatedFrames = allocatedFrames;
        FreeFrames = freeFrames;
        LiveBlocks = liveBlocks;
        Spaces = spaces;
        Ram = ram;
    }

    public ulong[] AllocatedFrames { get; }

    public int FreeFrames { get; }

    public int LiveBlocks { get; }

    public int Spaces { get; }

    public byte[] Ram { get; }

    public static KernelSnapshot Take(MmApi api)
    {
        MemoryManager kernel = api.Kernel;
        var allocated = new List<ulong>();
        for (ulong frame = 0; frame < kernel.Ram.Size; frame += TestKernel.Page)
            if (kernel.Frames.IsAllocated(frame))
                allocated.Add(frame);
        byte[] ram = new byte[kernel.Ram.Size];
        kernel.Ram.Read(0, ram);
        return new KernelSnapshot([.. allocated], kernel.Frames.FreeFrames, kernel.Heap.LiveBlocks, kernel.Spaces.Count, ram);
    }

    /// <summary>Asserts that <paramref name="api"/>'s state is exactly the one captured here.</summary>
    public void AssertUnchanged(MmApi api) => AssertSameAs(Take(api));

    public void AssertSameAs(KernelSnapshot now)
    {
        Assert.Equal(FreeFrames, now.FreeFrames);
        Assert.Equal(AllocatedFrames, now.AllocatedFrames);
        Assert.Equal(LiveBlocks, now.LiveBlocks);
        Assert.Equal(Spaces, now.Spaces);
        Assert.Equal(Ram.Length, now.Ram.Length);
        int differs = Ram.AsSpan().CommonPrefixLength(now.Ram);
        Assert.True(differs == Ram.Length, $"RAM changed at physical 0x{differs:X}: 0x{Ram[Math.Min(differs, Ram.Length - 1)]:X2} -> 0x{now.Ram[Math.Min(differs, Ram.Length - 1)]:X2}");
    }
}
