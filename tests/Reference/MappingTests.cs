using Mmspec.Reference.Api;
using Mmspec.Reference.Kernel;
using Mmspec.Reference.Memory;
using Mmspec.Reference.Paging;
using Mmspec.Reference.Physical;
using Mmspec.Reference.Virtual;
using static Mmspec.Tests.Reference.TestKernel;

namespace Mmspec.Tests.Reference;

/// <summary>mm_map_single, mm_map_get and mm_umap_single on 4 KiB pages (the direct map has its own tests).</summary>
public class MappingTests
{
    internal const ulong UserVirt = 0x0000000040201000;
    internal const ulong KernelVirt = 0xFFFFFF8000000000; // PML4 slot 511, outside the direct map
    private const EntryFlags TableUser = EntryFlags.Present | EntryFlags.Writable | EntryFlags.User;
    private const EntryFlags TableKernel = EntryFlags.Present | EntryFlags.Writable;

    private static EntryFlags LeafFlags(ulong flags) =>
        EntryFlags.Present
        | ((flags & WRITE) != 0 ? EntryFlags.Writable : 0)
        | ((flags & USER) != 0 ? EntryFlags.User : 0)
        | ((flags & EXEC) != 0 ? 0 : EntryFlags.NoExecute);

    [Theory]
    [InlineData(0UL)]
    [InlineData(1UL)]
    [InlineData(2UL)]
    [InlineData(3UL)]
    [InlineData(4UL)]
    [InlineData(5UL)]
    [InlineData(6UL)]
    [InlineData(7UL)]
    public void Flags_RoundTripAndEncodeTheLeaf_UserHalf(ulong flags)
    {
        (MmApi api, ulong space) = CreateWithSpace();
        ulong frame = api.mm_phys_alloc_page();

        Assert.Equal(0, api.mm_map_single(space, UserVirt, frame, flags));

        Assert.Equal(frame, api.MapGet(space, UserVirt, out ulong got));
        Assert.Equal(flags, got);
        Leaf leaf = Assert.NotNull(Leaf(api, space, UserVirt));
        Assert.Equal(PageLevel.Pt, leaf.Level);
        Assert.Equal(frame | (ulong)LeafFlags(flags), leaf.Entry.Raw);
    }

    [Theory]
    [InlineData(0UL, KernelVirt)]
    [InlineData(2UL, KernelVirt)]
    [InlineData(4UL, KernelVirt)]
    [InlineData(6UL, KernelVirt)]
    [InlineData(6UL, KernelBase + GiB)]
    [InlineData(6UL, 0xFFFFFFFFFFFFF000UL)]
    public void Flags_RoundTripAndEncodeTheLeaf_KernelHalf(ulong flags, ulong virt)
    {
        (MmApi api, ulong space) = CreateWithSpace();
        ulong frame = api.mm_phys_alloc_page();

        Assert.Equal(0, api.mm_map_single(space, virt, frame, flags));

        Assert.Equal(frame, api.MapGet(space, virt, out ulong got));
        Assert.Equal(flags, got);
        Assert.Equal(frame | (ulong)LeafFlags(flags), Assert.NotNull(Leaf(api, space, virt)).Entry.Raw);
    }

    [Theory]
    [InlineData(0x0000000000000000UL)]
    [InlineData(0x00007FFFFFFFF000UL)]
    [InlineData(0xFFFF800000000000UL)]
    [InlineData(0xFFFFFEFFFFFFF000UL)]
    public void UserPages_MayBeMappedAnywhereBelowTheKernelBoundary(ulong virt)
    {
        (MmApi api, ulong space) = CreateWithSpace();

        Assert.Equal(0, api.mm_map_single(space, virt, 0x200000, USER | WRITE));

        Assert.Equal(0x200000UL, api.MapGet(space, virt, out ulong flags));
        Assert.Equal(USER | WRITE, flags);
    }

    [Theory]
    [InlineData(0UL)]
    [InlineData(1UL)]
    [InlineData(0x7FFUL)]
    [InlineData(0xFFFUL)]
    public void MapGet_KeepsTheOffsetInsideThePage(ulong offset)
    {
        (MmApi api, ulong space) = CreateWithSpace();
        api.mm_map_single(space, UserVirt, 0x345000, USER);

        Assert.Equal(0x345000 + offset, api.MapGet(space, UserVirt + offset));
        Assert.Equal(NADDR, api.MapGet(space, UserVirt + Page + offset));
        Assert.Equal(NADDR, api.MapGet(space, UserVirt - Page + offset));
    }

    [Theory]
    [InlineData(SmallRam)]
    [InlineData(1UL << 30)]
    [InlineData((1UL << 52) - 4096)]
    public void PhysOutsideRam_IsAllowedAsDeviceMemory(ulong phys)
    {
        (MmApi api, ulong space) = CreateWithSpace();

        Assert.Equal(0, api.mm_map_single(space, UserVirt, phys, WRITE));

        Assert.Equal(phys + 0x10, api.MapGet(space, UserVirt + 0x10));
        Assert.Equal(phys, Assert.NotNull(Leaf(api, space, UserVirt)).Entry.Raw & PageTableEntry.AddressMask);
    }

    public static readonly TheoryData<ulong, ulong, ulong> InvalidMaps = new()
    {
        { UserVirt + 1, 0x200000, 0 },                       // unaligned virt
        { UserVirt + 0x800, 0x200000, 0 },
        { UserVirt, 0x200001, 0 },                           // unaligned phys
        { UserVirt, 0x200FFF, 0 },
        { 0x0000800000000000, 0x200000, 0 },                 // non-canonical virt
        { 0xFFFF7FFFFFFFF000, 0x200000, 0 },
        { 0x1234000000000000, 0x200000, 0 },
        { UserVirt, 1UL << 52, 0 },                          // phys >= 2^52
        { UserVirt, 0xFFFFFFFFFFFFF000, 0 },
        { UserVirt, 0x200000, 8 },                           // invalid flag bits
        { UserVirt, 0x200000, 0x10 | WRITE },
        { UserVirt, 0x200000, 1UL << 63 },
        { UserVirt, 0x200000, ulong.MaxValue },
        { KernelVirt, 0x200000, USER },                      // USER on a kernel address
        { KernelBase + GiB, 0x200000, USER | WRITE | EXEC },
        { 0xFFFFFFFFFFFFF000, 0x200000, USER },
        { KernelBase + 0x1000, 0x200000, USER },             // ... even inside the direct map (not -EEXIST)
    };

    [Theory]
    [MemberData(nameof(InvalidMaps))]
    public void MapSingle_BadArguments_EinvalAndNothingChanges(ulong virt, ulong phys, ulong flags)
    {
        (MmApi api, ulong space) = CreateWithSpace();
        var before = KernelSnapshot.Take(api);

        Assert.Equal(-MmApi.EINVAL, api.mm_map_single(space, virt, phys, flags));

        before.AssertUnchanged(api);
    }

    [Theory]
    [InlineData(UserVirt, 0x345000UL, USER)]
    [InlineData(UserVirt, 0x346000UL, USER)]
    [InlineData(UserVirt, 0x345000UL, WRITE | EXEC)]
    [InlineData(KernelVirt, 0x345000UL, WRITE)]
    public void MapSingle_OverAnExistingPage_EexistAndNothingChanges(ulong virt, ulong phys, ulong flags)
    {
        (MmApi api, ulong space) = CreateWithSpace();
        Assert.Equal(0, api.mm_map_single(space, virt, 0x345000, (virt < KernelBase ? USER : 0) | WRITE));
        var before = KernelSnapshot.Take(api);

        Assert.Equal(-MmApi.EEXIST, api.mm_map_single(space, virt, phys, flags));

        before.AssertUnchanged(api);
        Assert.Equal(0x345000UL, api.MapGet(space, virt, out ulong got));
        Assert.Equal((virt < KernelBase ? USER : 0) | WRITE, got);
    }

    [Fact]
    public void KernelMappings_AreSharedByEverySpace_UserMappingsAreNot()
    {
        MmApi api = Create();
        ulong a = api.mm_space_create(), b = api.mm_space_create();

        Assert.Equal(0, api.mm_map_single(a, KernelVirt, 0x300000, WRITE));
        Assert.Equal(0, api.mm_map_single(a, UserVirt, 0x301000, USER));
        Assert.Equal(0, api.mm_map_single(a, 0xFFFF800000000000, 0x302000, USER));
        ulong c = api.mm_space_create();

        foreach (ulong other in new[] { b, c })
        {
            Assert.Equal(0x300000UL, api.MapGet(other, KernelVirt, out ulong flags));
            Assert.Equal(WRITE, flags);
            Assert.Equal(NADDR, api.MapGet(other, UserVirt));
            Assert.Equal(NADDR, api.MapGet(other, 0xFFFF800000000000));
        }
        Assert.Equal(0, api.mm_map_single(b, UserVirt, 0x303000, USER)); // each space has its own user half
        Assert.Equal(0x301000UL, api.MapGet(a, UserVirt));
        Assert.Equal(-MmApi.EEXIST, api.mm_map_single(c, KernelVirt, 0x304000, WRITE));
        Assert.Equal(0x300000UL, api.mm_umap_single(b, KernelVirt, 1));
        Assert.Equal(NADDR, api.MapGet(a, KernelVirt));
    }

    [Fact]
    public void NewSpace_HasAnEmptyUserHalfAndTheSharedKernelSlots()
    {
        MmApi api = Create();
        ulong a = api.mm_space_create(), b = api.mm_space_create();
        PhysAddr rootA = Root(api, a), rootB = Root(api, b);

        Assert.NotEqual(rootA, rootB);
        Assert.Equal(KernelBase + rootA.Value, a);
        for (int slot = 0; slot < 510; slot++)
            Assert.Equal(0UL, api.Kernel.Tables.ReadEntry(rootB, slot).Raw);
        for (int slot = 510; slot < 512; slot++)
        {
            PageTableEntry entry = api.Kernel.Tables.ReadEntry(rootA, slot);
            Assert.Equal(TableKernel, entry.Flags);
            Assert.Equal(entry, api.Kernel.Tables.ReadEntry(rootB, slot));
            Assert.True(api.Kernel.Frames.IsAllocated(entry.Address.Value));
        }
    }

    [Theory]
    [InlineData(0UL)]
    [InlineData(USER | WRITE | EXEC)]
    public void IntermediateEntries_AreUserWritableInTheUserHalf(ulong flags)
    {
        (MmApi api, ulong space) = CreateWithSpace();
        Assert.Equal(0, api.mm_map_single(space, UserVirt, 0x200000, flags));
        Assert.Equal(0, api.mm_map_single(space, 0xFFFFFEFFFFFFF000, 0x200000, flags));

        foreach (ulong virt in new[] { UserVirt, 0xFFFFFEFFFFFFF000 })
            for (int level = PageLevel.Pml4; level > PageLevel.Pt; level--)
                Assert.Equal(TableUser, Assert.NotNull(EntryAt(api, space, virt, level)).Flags);
    }

    [Fact]
    public void IntermediateEntries_AreSupervisorWritableInTheKernelHalf()
    {
        (MmApi api, ulong space) = CreateWithSpace();
        Assert.Equal(0, api.mm_map_single(space, KernelVirt, 0x200000, 0));
        Assert.Equal(0, api.mm_map_single(space, KernelBase + GiB, 0x200000, 0));

        foreach (ulong virt in new[] { KernelVirt, KernelBase + GiB })
            for (int level = PageLevel.Pml4; level > PageLevel.Pt; level--)
                Assert.Equal(TableKernel, Assert.NotNull(EntryAt(api, space, virt, level)).Flags);
    }

    [Fact]
    public void NewTables_AreZeroed_EvenFromDirtyFrames()
    {
        (MmApi api, ulong space) = CreateWithSpace();
        DirtyFreeFrames(api);

        Assert.Equal(0, api.mm_map_single(space, UserVirt, 0x200000, USER));

        for (int level = PageLevel.Pml4 - 1; level >= PageLevel.Pt; level--)
        {
            PageTableEntry parent = Assert.NotNull(EntryAt(api, space, UserVirt, level + 1));
            Assert.Equal(1, NonZeroEntries(api, parent.Address));
        }
        Assert.Equal(NADDR, api.MapGet(space, UserVirt + Page));
        Assert.Equal(NADDR, api.MapGet(space, UserVirt + (2UL << 20)));
    }

    [Theory]
    [InlineData(UserVirt, 3)]
    [InlineData(0xFFFF800000000000UL, 3)]
    [InlineData(KernelVirt, 2)]
    public void MapSingle_WithoutPagesForTables_EnomemAndGivesTablesBack(ulong virt, int tablesNeeded)
    {
        for (int free = 0; free < tablesNeeded; free++)
        {
            (MmApi api, ulong space) = CreateWithSpace();
            LeaveFree(api, free);
            var before = KernelSnapshot.Take(api);

            Assert.Equal(-MmApi.ENOMEM, api.mm_map_single(space, virt, 0x200000, WRITE));

            before.AssertUnchanged(api);
            Assert.Equal(NADDR, api.MapGet(space, virt));
        }
        (MmApi enough, ulong s) = CreateWithSpace();
        LeaveFree(enough, tablesNeeded);
        Assert.Equal(0, enough.mm_map_single(s, virt, 0x200000, WRITE));
        Assert.Equal(0, enough.Kernel.Frames.FreeFrames);
    }

    [Fact]
    public void MapSingle_IntoExistingTables_NeedsNoFreePage()
    {
        (MmApi api, ulong space) = CreateWithSpace();
        api.mm_map_single(space, UserVirt, 0x200000, USER);
        ExhaustFrames(api);

        Assert.Equal(0, api.mm_map_single(space, UserVirt + Page, 0x201000, USER));
        Assert.Equal(0x201000UL, api.MapGet(space, UserVirt + Page));
    }

    [Theory]
    [InlineData(0x0000800000000000UL)]
    [InlineData(0xFFFF7FFFFFFFFFFFUL)]
    [InlineData(0x8000000000000000UL)]
    public void MapGet_NonCanonical_Naddr(ulong virt)
    {
        (MmApi api, ulong space) = CreateWithSpace();
        Assert.Equal(NADDR, api.MapGet(space, virt));
    }

    /// <summary>decisions.md: "Non-canonical or unmapped: MM_NADDR, flags untouched."</summary>
    [Theory]
    [InlineData(UserVirt)]
    [InlineData(0x0000800000000000UL)]
    [InlineData(KernelBase + GiB)]
    public void MapGet_Failure_LeavesFlagsUntouched(ulong virt)
    {
        (MmApi api, ulong space) = CreateWithSpace();
        ulong flags = 0xDEAD;

        Assert.Equal(NADDR, api.mm_map_get(space, virt, ref flags));

        Assert.Equal(0xDEADUL, flags);
    }

    [Fact]
    public void MapGet_Success_OverwritesFlags()
    {
        (MmApi api, ulong space) = CreateWithSpace();
        api.mm_map_single(space, UserVirt, 0x200000, 0);
        ulong flags = 0xDEAD;

        Assert.Equal(0x200000UL, api.mm_map_get(space, UserVirt, ref flags));

        Assert.Equal(0UL, flags);
    }

    /// <summary>
    /// Each table page's count of present entries (what lets vmfind stop reading a table once it has met them all)
    /// follows every map and unmap, starts from what a new table page holds, and is copied with the machine.
    /// </summary>
    [Fact]
    public void A_tables_count_of_present_entries_follows_maps_and_unmaps()
    {
        (MmApi api, ulong space) = CreateWithSpace();
        for (ulong page = 0; page < 5; page++)
            Assert.Equal(0, api.mm_map_single(space, UserVirt + page * Page, api.mm_phys_alloc_page(), USER));
        PhysAddr pt = Assert.NotNull(EntryAt(api, space, UserVirt, PageLevel.Pd)).Address;
        PhysAddr pd = Assert.NotNull(EntryAt(api, space, UserVirt, PageLevel.Pdpt)).Address;
        Assert.Equal(5, api.Kernel.Tables.PresentEntries(pt));
        Assert.Equal(1, api.Kernel.Tables.PresentEntries(pd));

        api.mm_umap_single(space, UserVirt + Page, 1);
        api.Kernel.Tables.WriteEntry(pt, (int)((UserVirt >> 12) & 511) + 2, PageTableEntry.Create(new PhysAddr(0x7000), EntryFlags.Writable)); // not present
        Assert.Equal(3, api.Kernel.Tables.PresentEntries(pt));
        MemoryManager copy = api.Kernel.Copy()!;
        api.mm_umap_single(space, UserVirt, 1);
        Assert.Equal(2, api.Kernel.Tables.PresentEntries(pt));
        Assert.Equal(3, copy.Tables.PresentEntries(pt));

        // A table made on a page that still holds entries (a kernel that does not zero them) counts what it holds.
        var stale = new MemoryManager(new MachineOptions(SmallRam), new StaleTablePages());
        AddressSpace fresh = stale.CreateSpace()!;
        Assert.Equal(3 + 2, stale.Tables.PresentEntries(fresh.Root)); // what the page held, and the two kernel slots
    }

    /// <summary>Table pages that come with three present entries and one that is not (ignored) in their lower half.</summary>
    private sealed class StaleTablePages : ComponentFactory
    {
        public override PageTables CreatePageTables(SimulatedRam ram, PhysicalAllocator frames) => new Stale(ram, frames);

        private sealed class Stale(SimulatedRam ram, PhysicalAllocator frames) : PageTables(ram, frames)
        {
            public override PhysAddr? AllocateTable()
            {
                PhysAddr? page = base.AllocateTable();
                if (page is { } table)
                    foreach ((int index, ulong raw) in new[] { (0, 0x1003UL), (7, 0x2001UL), (9, 0x2000UL), (100, 0x3007UL) })
                        Ram.WriteU64(table.Value + (ulong)index * 8, raw);
                return page;
            }
        }
    }
}
