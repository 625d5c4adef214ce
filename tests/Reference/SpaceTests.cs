using Mmspec.Reference.Api;
using Mmspec.Reference.Memory;
using Mmspec.Reference.Paging;
using static Mmspec.Tests.Reference.TestKernel;

namespace Mmspec.Tests.Reference;

/// <summary>Address spaces: creation, the handle, and calls on a handle that is not a space.</summary>
public class SpaceTests
{
    [Fact]
    public void SpaceCreate_TakesOneZeroedPageForItsRoot()
    {
        MmApi api = Create();
        DirtyFreeFrames(api);
        int free = api.Kernel.Frames.FreeFrames;

        ulong space = api.mm_space_create();

        Assert.Equal(free - 1, api.Kernel.Frames.FreeFrames);
        PhysAddr root = Root(api, space);
        Assert.Equal(KernelBase + root.Value, space);
        Assert.True(api.Kernel.Frames.IsAllocated(root.Value));
        Assert.Equal(2, NonZeroEntries(api, root));
        Assert.True(api.Kernel.Tables.ReadEntry(root, 510).IsPresent);
        Assert.True(api.Kernel.Tables.ReadEntry(root, 511).IsPresent);
        Assert.Equal(NADDR, api.MapGet(space, 0x1000));
    }

    [Fact]
    public void SpaceCreate_WhenRamIsExhausted_NaddrAndNothingChanges()
    {
        MmApi api = Create();
        ExhaustFrames(api);
        var before = KernelSnapshot.Take(api);

        Assert.Equal(NADDR, api.mm_space_create());

        before.AssertUnchanged(api);
    }

    [Fact]
    public void Spaces_AreDistinctAndCounted()
    {
        MmApi api = Create();
        ulong[] spaces = [api.mm_space_create(), api.mm_space_create(), api.mm_space_create()];

        Assert.Equal(3, spaces.Distinct().Count());
        Assert.Equal(3, api.Kernel.Spaces.Count);
        Assert.Equal(FreeAfterBoot() - 3, api.Kernel.Frames.FreeFrames);
    }

    public static readonly TheoryData<string> Calls = new()
    {
        "mm_space_root", "mm_map_single", "mm_map_get", "mm_umap_single", "vmfind", "vmalloc", "vmfree",
    };

    [Theory]
    [MemberData(nameof(Calls))]
    public void UnknownSpace_Panics(string call)
    {
        (MmApi api, ulong space) = CreateWithSpace();
        api.mm_map_single(space, 0x1000, 0x200000, USER);
        ulong bogus = space + Page; // a direct-map pointer that is not a PML4 handed out as a space
        var before = KernelSnapshot.Take(api);

        Action action = call switch
        {
            "mm_space_root" => () => api.mm_space_root(bogus),
            "mm_map_single" => () => api.mm_map_single(bogus, 0x2000, 0x200000, USER),
            "mm_map_get" => () => { ulong flags = 0; api.mm_map_get(bogus, 0x1000, ref flags); },
            "mm_umap_single" => () => api.mm_umap_single(bogus, 0x1000, 0),
            "vmfind" => () => api.vmfind(bogus, 0, ulong.MaxValue, 1),
            "vmalloc" => () => api.vmalloc(bogus, 0, ulong.MaxValue, 1, USER),
            "vmfree" => () => api.vmfree(bogus, 0x1000, 1),
            _ => throw new ArgumentException(call),
        };

        AssertPanics(PanicReason.UnknownAddressSpace, action);
        before.AssertUnchanged(api);
    }

    [Fact]
    public void KernelHalfEntries_AreTheSameTablesInEverySpace()
    {
        MmApi api = Create();
        ulong a = api.mm_space_create(), b = api.mm_space_create();

        PageTableEntry slot510 = api.Kernel.Tables.ReadEntry(Root(api, a), 510);
        Assert.Equal(slot510, api.Kernel.Tables.ReadEntry(Root(api, b), 510));
        Assert.Equal(EntryFlags.Present | EntryFlags.Writable, slot510.Flags);
        Assert.NotEqual(slot510.Address, api.Kernel.Tables.ReadEntry(Root(api, a), 511).Address);
    }
}
