using Mmspec.Models.Mmu;
using static Mmspec.Tests.Models.PageTableBuilder;

namespace Mmspec.Tests.Models;

/// <summary>Leaf and table census of the MMU model, on tables built by hand.</summary>
public class MmuEnumerationTests
{
    private static readonly Permissions UserRwx = new(Writable: true, User: true, Executable: true);

    /// <summary>
    /// Seven leaves of all three sizes in both halves, mapped out of order. Table pages come out of the
    /// builder in this order: root 0x100000; slot 511: 0x101000..0x103000; slot 0: 0x104000, 0x105000;
    /// slot 256: 0x106000..0x108000; PT under slot 0: 0x109000; slot 510: 0x10A000; slot 255: 0x10B000..0x10D000.
    /// </summary>
    private static PageTableBuilder MixedSpace()
    {
        var b = new PageTableBuilder();
        b.Map4K(0xFFFF_FFFF_FFFF_F000, 0x9000, P | RW, KernelTable);
        b.Map2M(0x0000_0000_0020_0000, 0x60_0000, P | RW | US);
        b.Map4K(0xFFFF_8000_0000_0000, 0x8000, P | RW | US);
        b.Map4K(0x0000_0000_0000_1000, 0x2000, P | US);
        b.Map1G(0xFFFF_FF00_0000_0000, 0, P | RW | NX, KernelTable);
        b.Map4K(0x0000_7FFF_FFFF_F000, 0x7000, P | RW | US | NX);
        b.Map4K(0x0000_0000_0000_3000, 0x3000, P | RW | US);
        return b;
    }

    [Fact]
    public void Leaves_ComeInIncreasingVirtualOrderWithSignExtendedBases()
    {
        var b = MixedSpace();

        var leaves = Mmu.EnumerateLeaves(b.Ram, b.Root).ToList();

        MappedLeaf[] expected =
        [
            new(0x0000_0000_0000_1000, 0x2000, PageSize.Size4KiB, new Permissions(false, true, true)),
            new(0x0000_0000_0000_3000, 0x3000, PageSize.Size4KiB, UserRwx),
            new(0x0000_0000_0020_0000, 0x60_0000, PageSize.Size2MiB, UserRwx),
            new(0x0000_7FFF_FFFF_F000, 0x7000, PageSize.Size4KiB, new Permissions(true, true, false)),
            new(0xFFFF_8000_0000_0000, 0x8000, PageSize.Size4KiB, UserRwx),
            new(0xFFFF_FF00_0000_0000, 0, PageSize.Size1GiB, new Permissions(true, false, false)),
            new(0xFFFF_FFFF_FFFF_F000, 0x9000, PageSize.Size4KiB, new Permissions(true, false, true)),
        ];
        Assert.Equal(expected, leaves);
    }

    [Fact]
    public void Leaves_OfChosenSlotsOnly_ReportTheTablesTheyPassThrough()
    {
        var b = MixedSpace();
        var passed = new List<TablePage>();

        var leaves = Mmu.EnumerateLeaves(b.Ram, b.Root, slot => slot is 510 or 511, passed.Add).ToList();

        Assert.Equal([0xFFFF_FF00_0000_0000UL, 0xFFFF_FFFF_FFFF_F000UL], leaves.Select(leaf => leaf.VirtualBase));
        Assert.Equal(Mmu.EnumerateTables(b.Ram, b.Root, slot => slot is 510 or 511).Select(table => table.PhysicalAddress).Order(),
                     passed.Select(table => table.PhysicalAddress).Order());
        Assert.Equal([0x100000UL, 0x101000UL, 0x102000UL, 0x103000UL, 0x10A000UL], passed.Select(table => table.PhysicalAddress).Order());
    }

    [Fact]
    public void Leaves_AgreeWithLookupAtBothEndsOfEveryPage()
    {
        var b = MixedSpace();
        b.Update(0x3000, 2, clear: US);
        b.Update(0xFFFF_8000_0000_0000, 3, clear: RW, set: NX);

        var leaves = Mmu.EnumerateLeaves(b.Ram, b.Root).ToList();

        Assert.Equal(7, leaves.Count);
        Assert.Equal(new Permissions(false, false, true), leaves[0].Permissions); // both 4 KiB pages under that PDE
        Assert.Equal(new Permissions(true, false, true), leaves[1].Permissions);
        Assert.Equal(UserRwx, leaves[2].Permissions); // the neighbouring 2 MiB PDE is untouched
        Assert.Equal(new Permissions(false, true, false), leaves[4].Permissions);
        foreach (MappedLeaf leaf in leaves)
        {
            Assert.Equal(leaf, Mmu.Lookup(b.Ram, b.Root, leaf.VirtualBase).Leaf);
            Assert.Equal(leaf, Mmu.Lookup(b.Ram, b.Root, leaf.VirtualBase + leaf.Bytes - 1).Leaf);
        }
    }

    [Fact]
    public void Tables_RootFirstThenDepthFirstInVirtualOrder()
    {
        var b = MixedSpace();

        var tables = Mmu.EnumerateTables(b.Ram, b.Root).ToList();

        TablePage[] expected =
        [
            new(0x10_0000, PagingLevel.Pml4, 0),
            new(0x10_4000, PagingLevel.Pdpt, 0),
            new(0x10_5000, PagingLevel.Pd, 0),
            new(0x10_9000, PagingLevel.Pt, 0),
            new(0x10_B000, PagingLevel.Pdpt, 0x0000_7F80_0000_0000),
            new(0x10_C000, PagingLevel.Pd, 0x0000_7FFF_C000_0000),
            new(0x10_D000, PagingLevel.Pt, 0x0000_7FFF_FFE0_0000),
            new(0x10_6000, PagingLevel.Pdpt, 0xFFFF_8000_0000_0000),
            new(0x10_7000, PagingLevel.Pd, 0xFFFF_8000_0000_0000),
            new(0x10_8000, PagingLevel.Pt, 0xFFFF_8000_0000_0000),
            new(0x10_A000, PagingLevel.Pdpt, 0xFFFF_FF00_0000_0000),
            new(0x10_1000, PagingLevel.Pdpt, 0xFFFF_FF80_0000_0000),
            new(0x10_2000, PagingLevel.Pd, 0xFFFF_FFFF_C000_0000),
            new(0x10_3000, PagingLevel.Pt, 0xFFFF_FFFF_FFE0_0000),
        ];
        Assert.Equal(expected, tables);
        Assert.Equal(b.Tables.Order(), tables.Select(t => t.PhysicalAddress).Order());
    }

    [Fact]
    public void EmptySpace_HasOnlyItsRoot()
    {
        var b = new PageTableBuilder();
        b.SetEntry(b.Root, 5, 0x20_0000 | RW | US | PS); // garbage in a non-present entry is ignored

        Assert.Empty(Mmu.EnumerateLeaves(b.Ram, b.Root));
        Assert.Equal([new TablePage(b.Root, PagingLevel.Pml4, 0)], Mmu.EnumerateTables(b.Ram, b.Root));
    }

    [Fact]
    public void HugeLeafFrames_AreNotMistakenForTables()
    {
        var b = new PageTableBuilder();
        b.Map2M(0x20_0000, 0x200_0000, P | RW | US);
        b.Map1G(0x4000_0000, 0x4000_0000, P | RW | US);
        // Make both frames look like tables full of present entries: a walker that descended would find them.
        for (int i = 0; i < 512; i += 7)
        {
            b.SetEntry(0x200_0000, i, 0x300_0000 | P | RW | US);
            b.SetEntry(0x4000_0000, i, 0x300_0000 | P | RW | US);
            b.SetEntry(0x300_0000, i, 0x500_0000 | P | RW | US);
        }

        var leaves = Mmu.EnumerateLeaves(b.Ram, b.Root).ToList();
        var tables = Mmu.EnumerateTables(b.Ram, b.Root).ToList();

        Assert.Equal([0x20_0000UL, 0x4000_0000UL], leaves.Select(l => l.VirtualBase));
        Assert.Equal([PageSize.Size2MiB, PageSize.Size1GiB], leaves.Select(l => l.Size));
        Assert.Equal(b.Tables, tables.Select(t => t.PhysicalAddress));
    }

    [Fact]
    public void SharedTable_IsOneTablePageButEveryPathIsALeaf()
    {
        var b = new PageTableBuilder();
        ulong shared = b.NewTable();
        b.SetEntry(shared, 0, 0x4000_0000 | P | RW | US | PS);
        b.SetEntry(b.Root, 1, shared | UserTable);
        b.SetEntry(b.Root, 3, shared | P | US); // the same PDPT, reached read-only

        var leaves = Mmu.EnumerateLeaves(b.Ram, b.Root).ToList();
        var tables = Mmu.EnumerateTables(b.Ram, b.Root).ToList();

        Assert.Equal(
            [
                new MappedLeaf(0x0080_0000_0000, 0x4000_0000, PageSize.Size1GiB, UserRwx),
                new MappedLeaf(0x0180_0000_0000, 0x4000_0000, PageSize.Size1GiB, new Permissions(false, true, true)),
            ],
            leaves);
        Assert.Equal(
            [new TablePage(b.Root, PagingLevel.Pml4, 0), new TablePage(shared, PagingLevel.Pdpt, 0x0080_0000_0000)],
            tables);
    }

    [Fact]
    public void TableSharedByTwoRoots_IsListedByEachRoot()
    {
        var b = new PageTableBuilder();
        ulong kernelPdpt = b.NewTable();
        ulong otherRoot = b.NewTable();
        b.SetEntry(kernelPdpt, 2, 0x8000_0000 | P | RW | PS);
        b.SetEntry(b.Root, 511, kernelPdpt | KernelTable);
        b.SetEntry(otherRoot, 511, kernelPdpt | KernelTable);

        var first = Mmu.EnumerateTables(b.Ram, b.Root).ToList();
        var second = Mmu.EnumerateTables(b.Ram, otherRoot).ToList();

        Assert.Equal([b.Root, kernelPdpt], first.Select(t => t.PhysicalAddress));
        Assert.Equal([otherRoot, kernelPdpt], second.Select(t => t.PhysicalAddress));
        Assert.Equal(0xFFFF_FF80_0000_0000UL, second[1].VirtualBase);
        Assert.Equal(0xFFFF_FF80_8000_0000UL, Assert.Single(Mmu.EnumerateLeaves(b.Ram, otherRoot)).VirtualBase);
    }

    [Fact]
    public void RecursiveSelfMap_TerminatesListsTheRootOnceAndExposesItAsAPage()
    {
        var b = new PageTableBuilder();
        b.Map4K(0x1000, 0x2000, P | RW | US);
        b.SetEntry(b.Root, 511, b.Root | KernelTable);

        var tables = Mmu.EnumerateTables(b.Ram, b.Root).ToList();
        var leaves = Mmu.EnumerateLeaves(b.Ram, b.Root).ToList();

        Assert.Single(tables, t => t.PhysicalAddress == b.Root);
        Assert.Equal(b.Tables.Order(), tables.Select(t => t.PhysicalAddress).Order());
        // Through slot 511 four times the walk ends on the root itself, as the CPU's would.
        MappedLeaf top = Assert.Single(leaves, l => l.VirtualBase == 0xFFFF_FFFF_FFFF_F000);
        Assert.Equal(b.Root, top.PhysicalBase);
        Assert.Equal(b.Root, Mmu.Lookup(b.Ram, b.Root, 0xFFFF_FFFF_FFFF_F000).PhysicalAddress);
        Assert.True(leaves.Zip(leaves.Skip(1)).All(pair => pair.First.VirtualBase < pair.Second.VirtualBase));
    }

    [Fact]
    public void ReservedPsInPml4Entry_MakesTheCensusThrow()
    {
        var b = new PageTableBuilder();
        b.Map4K(0x0000_0100_0000_0000, 0x2000, P | RW | US); // PML4 slot 2
        b.Update(0x0000_0100_0000_0000, 4, set: PS);

        var e = Assert.Throws<MalformedPageTableException>(() => Mmu.EnumerateLeaves(b.Ram, b.Root).ToList());
        Assert.Equal(PagingLevel.Pml4, e.Level);
        Assert.Equal(2, e.Index);
        Assert.Equal(b.Root, e.TablePhysical);
        Assert.Equal(0x0000_0100_0000_0000UL, e.VirtualBase);
        Assert.Throws<MalformedPageTableException>(() => Mmu.EnumerateTables(b.Ram, b.Root).ToList());
    }

    [Fact]
    public void MisalignedHugeFrame_MakesTheCensusThrow()
    {
        var b = new PageTableBuilder();
        b.Map2M(0xFFFF_8000_0040_0000, 0x20_0000 | 0x4000, P | RW | US);

        var e = Assert.Throws<MalformedPageTableException>(() => Mmu.EnumerateLeaves(b.Ram, b.Root).ToList());

        Assert.Equal(PagingLevel.Pd, e.Level);
        Assert.Equal(2, e.Index);
        Assert.Equal(0xFFFF_8000_0040_0000UL, e.VirtualBase);
        Assert.Equal(0x20_4000UL | P | RW | US | PS, e.Entry);
        Assert.Contains("entry 0x0000000000204087", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void BadArguments_AreRejectedAtTheCallNotAtTheFirstMoveNext()
    {
        var ram = new FakePhysicalMemory();

        Assert.Throws<ArgumentOutOfRangeException>(() => Mmu.EnumerateLeaves(ram, 0x123));
        Assert.Throws<ArgumentOutOfRangeException>(() => Mmu.EnumerateTables(ram, 0x123));
        Assert.Throws<ArgumentNullException>(() => Mmu.EnumerateLeaves(null!, 0x1000));
    }

    [Fact]
    public void Census_ReadsEachPresentTableOnce()
    {
        var b = MixedSpace();

        long before = b.Ram.Reads;
        int count = Mmu.EnumerateTables(b.Ram, b.Root).Count();

        Assert.Equal(14, count);
        Assert.Equal(14L * 512, b.Ram.Reads - before);
    }

    [Fact]
    public void Leaves_AfterRunsOfZeroAndOfNonZeroAbsentEntries_AreAllFound()
    {
        // The walk skips runs of zero entries at once; an absent entry with other bits set (a swap entry, say) is
        // still absent, and neither may hide the entries after it, at the start, middle or end of a table.
        var b = new PageTableBuilder();
        b.Map4K(0x0000_0000_0000_0000, 0x2000, P | RW | US);
        b.Map4K(0x0000_0000_0010_0000, 0x3000, P | RW | US); // PT index 256
        b.Map4K(0x0000_0000_001F_F000, 0x4000, P | RW | US); // PT index 511, the table's last entry
        ulong pt = b.TableAt(0, 1);
        b.SetEntry(pt, 1, 0xDEAD_0000);   // present bit clear, address bits set
        b.SetEntry(pt, 300, 0x8000_0000_0000_0002); // NX and RW, not present

        var leaves = Mmu.EnumerateLeaves(b.Ram, b.Root).ToList();

        Assert.Equal([0UL, 0x10_0000UL, 0x1F_F000UL], leaves.Select(leaf => leaf.VirtualBase));
        Assert.Equal([0x2000UL, 0x3000UL, 0x4000UL], leaves.Select(leaf => leaf.PhysicalBase));
    }
}
