using Mmspec.Reference.Memory;
using Mmspec.Reference.Physical;

namespace Mmspec.Reference.Paging;

/// <summary>
/// Reads and edits 4-level page tables stored in simulated RAM. Walks read one level at a time;
/// every table page comes zeroed from the physical allocator and goes back to it once empty.
/// </summary>
public partial class PageTables(SimulatedRam ram, PhysicalAllocator frames)
{
    protected SimulatedRam Ram { get; } = ram;

    protected PhysicalAllocator Frames { get; } = frames;

    // How many present entries each table page holds, counted when the table is made and kept by WriteEntry: a search
    // that has met all of a table's entries knows the rest of it is empty without reading it (vmfind past tables
    // that each map one page would otherwise read every page table whole).
    private readonly ushort[] presentEntries = new ushort[ram.FrameCount];

    /// <summary>A copy over <paramref name="copiedRam"/> and <paramref name="copiedFrames"/> (a copied machine's), with the same counts.</summary>
    internal PageTables Copy(SimulatedRam copiedRam, PhysicalAllocator copiedFrames)
    {
        var copy = new PageTables(copiedRam, copiedFrames);
        presentEntries.CopyTo(copy.presentEntries, 0);
        return copy;
    }

    public PageTableEntry ReadEntry(PhysAddr table, int index) => new(Ram.ReadU64(EntryAddress(table, index)));

    public void WriteEntry(PhysAddr table, int index, PageTableEntry entry)
    {
        ulong address = EntryAddress(table, index);
        bool was = new PageTableEntry(Ram.ReadU64(address)).IsPresent;
        Ram.WriteU64(address, entry.Raw);
        if (was != entry.IsPresent)
            presentEntries[table.Value / Layout.PageSize] += (ushort)(was ? -1 : 1);
    }

    /// <summary>How many of the table's entries are present.</summary>
    public int PresentEntries(PhysAddr table) => presentEntries[table.Value / Layout.PageSize];

    /// <summary>A new table page (<see cref="AllocateTable"/>), its present entries counted, or null when physical memory is exhausted.</summary>
    public PhysAddr? CreateTable()
    {
        if (AllocateTable() is not { } table)
            return null;
        int present = 0;
        foreach (ulong raw in Ram.FrameWords(table.Value))
            present += (int)(raw & 1); // zero for a zeroed page; a variant that leaves a page as it was keeps what it held
        presentEntries[table.Value / Layout.PageSize] = (ushort)present;
        return table;
    }

    /// <summary>A fresh, zeroed table page, or null when physical memory is exhausted.</summary>
    public virtual PhysAddr? AllocateTable()
    {
        PhysAddr? page = Frames.AllocatePage();
        if (page is { } table)
            Ram.ZeroFrame(table.Value);
        return page;
    }

    /// <summary>
    /// Whether every entry of the table is zero, in one vectorised search: unmapping a region page by page empties a
    /// table from its first entry on, and an entry-by-entry scan would read the emptied prefix again for every page. A
    /// table with a present entry is not empty: its count says so without a read (a region unmapped page by page asks
    /// after every page, of a table still holding the rest).
    /// </summary>
    public bool IsEmpty(PhysAddr table) =>
        PresentEntries(table) == 0 && Ram.IndexOfNonZeroWord(table.Value, 0, PageTableEntry.EntriesPerTable - 1) < 0;

    /// <summary>The leaf that translates <paramref name="virt"/>, or null when no page maps it.</summary>
    public Leaf? FindLeaf(PhysAddr root, VirtAddr virt)
    {
        PhysAddr table = root;
        // No loop bound: every present PT entry is a leaf, so the walk returns at level 1 at the latest.
        for (int level = PageLevel.Pml4; ; level--)
        {
            int index = virt.TableIndex(level);
            PageTableEntry entry = ReadEntry(table, index);
            if (!entry.IsPresent)
                return null;
            if (IsLeaf(entry, level))
                return new Leaf(Layout.AlignDown(virt.Value, PageLevel.EntrySpan(level)), entry.Address, level, entry, table, index);
            table = entry.Address;
        }
    }

    /// <summary>
    /// Maps one 4 KiB page, creating missing tables with <paramref name="tableFlags"/>. Refuses to map over
    /// any page already covering the address; on exhaustion gives back every table this call created.
    /// </summary>
    public MapStatus Map(PhysAddr root, VirtAddr virt, PhysAddr frame, EntryFlags leafFlags, EntryFlags tableFlags)
    {
        Span<int> createdIndex = stackalloc int[3];
        Span<ulong> createdParent = stackalloc ulong[3];
        int created = 0;
        PhysAddr table = root;
        for (int level = PageLevel.Pml4; level > PageLevel.Pt; level--)
        {
            int index = virt.TableIndex(level);
            PageTableEntry entry = ReadEntry(table, index);
            if (entry.IsPresent && IsLeaf(entry, level))
                return MapStatus.AlreadyMapped;
            if (!entry.IsPresent)
            {
                if (CreateTable() is not { } child)
                {
                    for (int undo = created - 1; undo >= 0; undo--)
                        Unlink(new PhysAddr(createdParent[undo]), createdIndex[undo]);
                    return MapStatus.OutOfMemory;
                }
                entry = PageTableEntry.Create(child, tableFlags | EntryFlags.Present);
                WriteEntry(table, index, entry);
                createdParent[created] = table.Value;
                createdIndex[created++] = index;
            }
            table = entry.Address;
        }
        int leafIndex = virt.TableIndex(PageLevel.Pt);
        if (ReadEntry(table, leafIndex).IsPresent)
            return MapStatus.AlreadyMapped;
        WriteEntry(table, leafIndex, PageTableEntry.Create(frame, leafFlags | EntryFlags.Present));
        return MapStatus.Mapped;
    }

    /// <summary>Clears a leaf and frees the tables this leaves empty, bottom up, as far as policy allows.</summary>
    public void RemoveLeaf(PhysAddr root, VirtAddr virt, Leaf leaf)
    {
        WriteEntry(leaf.Table, leaf.Index, PageTableEntry.Empty);
        PruneEmptyTables(root, virt, leaf.Level);
    }

    /// <summary>Tables shared by every space (the kernel half's PDPTs) and roots are never freed.</summary>
    protected virtual bool MayFreeTable(VirtAddr virt, int tableLevel) =>
        tableLevel < PageLevel.Pml4 && !(virt.IsKernel && tableLevel == PageLevel.Pdpt);

    protected virtual void PruneEmptyTables(PhysAddr root, VirtAddr virt, int emptiedLevel)
    {
        for (int level = emptiedLevel; MayFreeTable(virt, level); level++)
        {
            (PhysAddr parent, int index) = EntryPointingTo(root, virt, level);
            PhysAddr table = ReadEntry(parent, index).Address;
            if (!IsEmpty(table))
                return;
            Unlink(parent, index);
        }
    }

    /// <summary>
    /// Every leaf intersecting [<paramref name="from"/>, <paramref name="last"/>] (canonical addresses of one
    /// canonical half), in address order. Descends only into present entries, so an empty 512 GiB, 1 GiB or
    /// 2 MiB subtree costs one read, and the empty entries of a table are skipped with one vectorised search:
    /// the cost follows the number of mappings and tables, not the size of the range.
    /// </summary>
    public IEnumerable<Leaf> LeavesIn(PhysAddr root, ulong from, ulong last)
    {
        ulong rawFrom = from & RawMask, rawLast = last & RawMask;
        // One cursor per level instead of one nested iterator per table: a leaf costs one step of one iterator.
        var tables = new PhysAddr[PageLevel.Pml4 + 1];
        var bases = new ulong[PageLevel.Pml4 + 1];
        var next = new int[PageLevel.Pml4 + 1];
        var lastIndex = new int[PageLevel.Pml4 + 1];
        int level = PageLevel.Pml4;
        tables[level] = root;
        (next[level], lastIndex[level]) = IndexRange(level, 0, rawFrom, rawLast);
        while (level <= PageLevel.Pml4)
        {
            int index = NextNonEmpty(tables[level], next[level], lastIndex[level]);
            if (index < 0)
            {
                level++;
                continue;
            }
            next[level] = index + 1;
            PageTableEntry entry = ReadEntry(tables[level], index);
            if (!entry.IsPresent)
                continue;
            ulong start = bases[level] + (ulong)index * PageLevel.EntrySpan(level);
            if (IsLeaf(entry, level))
            {
                yield return new Leaf(Canonical(start), entry.Address, level, entry, tables[level], index);
                continue;
            }
            level--;
            tables[level] = entry.Address;
            bases[level] = start;
            (next[level], lastIndex[level]) = IndexRange(level, start, rawFrom, rawLast);
        }
    }

    /// <summary>The entries of a table at <paramref name="tableBase"/> that intersect [rawFrom, rawLast].</summary>
    private static (int First, int Last) IndexRange(int level, ulong tableBase, ulong rawFrom, ulong rawLast)
    {
        ulong span = PageLevel.EntrySpan(level);
        int first = rawFrom > tableBase ? (int)((rawFrom - tableBase) / span) : 0;
        int last = (int)Math.Min((ulong)PageTableEntry.EntriesPerTable - 1, (rawLast - tableBase) / span);
        return (first, last);
    }

    private const ulong RawMask = (1UL << 48) - 1;

    /// <summary>The first entry in [index, last] that is not all zeros, or -1; empty entries are skipped in bulk.</summary>
    private int NextNonEmpty(PhysAddr table, int index, int last) =>
        index > last ? -1 : Ram.IndexOfNonZeroWord(table.Value, index, last);

    private static ulong Canonical(ulong raw) => (raw & (1UL << 47)) != 0 ? raw | ~RawMask : raw;

    private (PhysAddr Table, int Index) EntryPointingTo(PhysAddr root, VirtAddr virt, int childLevel)
    {
        PhysAddr table = root;
        for (int level = PageLevel.Pml4; level > childLevel + 1; level--)
            table = ReadEntry(table, virt.TableIndex(level)).Address;
        return (table, virt.TableIndex(childLevel + 1));
    }

    private void Unlink(PhysAddr parent, int index)
    {
        PhysAddr child = ReadEntry(parent, index).Address;
        WriteEntry(parent, index, PageTableEntry.Empty);
        Frames.FreePage(child.Value);
    }

    protected static bool IsLeaf(PageTableEntry entry, int level) =>
        level == PageLevel.Pt || (PageLevel.CanBeLargeLeaf(level) && entry.IsPageSize);

    private static ulong EntryAddress(PhysAddr table, int index) => table.Value + (ulong)index * 8;
}
