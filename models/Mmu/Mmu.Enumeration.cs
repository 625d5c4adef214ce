using System.Buffers;

namespace Mmspec.Models.Mmu;

public static partial class Mmu
{
    /// <summary>
    /// Every present leaf reachable from <paramref name="rootTablePhys"/>, in increasing (unsigned) virtual
    /// address order, with canonical virtual bases and the same effective rights <see cref="Lookup"/> reports.
    /// A table reached through two entries yields its leaves once per path, because each path is a distinct
    /// mapping. Throws <see cref="MalformedPageTableException"/> on a present entry with a reserved bit set.
    /// </summary>
    /// <param name="pml4Slots">Only the PML4 slots it accepts (all when null): a slot several roots share is walked once.</param>
    /// <param name="tables">Given every table the walk passes through (the root first), once per path, so that one walk serves both enumerations.</param>
    public static IEnumerable<MappedLeaf> EnumerateLeaves(IPhysicalMemory ram, ulong rootTablePhys, Predicate<int>? pml4Slots = null, Action<TablePage>? tables = null)
    {
        // Checked here, not inside the iterator, so a bad argument fails at the call rather than at first MoveNext.
        CheckArguments(ram, rootTablePhys);
        return Leaves(ram, rootTablePhys, pml4Slots, tables);
    }

    /// <summary>
    /// The root and every table page reachable through present non-leaf entries, root first, then depth first
    /// in increasing virtual address order. Within one call a table page is listed once, at the level and
    /// virtual base of the first path that reaches it, and is not descended into again: a table shared by two
    /// entries (or a recursive self-map) counts as one page of memory. A table shared by two roots is listed
    /// by each root's enumeration. Frames of 2 MiB / 1 GiB leaves are never taken for tables.
    /// Throws <see cref="MalformedPageTableException"/> on a present entry with a reserved bit set.
    /// </summary>
    /// <param name="pml4Slots">Only the PML4 slots it accepts (all when null); the root is always listed.</param>
    public static IEnumerable<TablePage> EnumerateTables(IPhysicalMemory ram, ulong rootTablePhys, Predicate<int>? pml4Slots = null)
    {
        CheckArguments(ram, rootTablePhys);
        return Tables(ram, rootTablePhys, pml4Slots);
    }

    private static IEnumerable<MappedLeaf> Leaves(IPhysicalMemory ram, ulong root, Predicate<int>? pml4Slots, Action<TablePage>? tables)
    {
        foreach (Node node in Traverse(ram, root, seenTables: null, pml4Slots))
        {
            if (node.IsLeaf)
            {
                yield return node.Leaf;
            }
            else
            {
                tables?.Invoke(node.Table);
            }
        }
    }

    private static IEnumerable<TablePage> Tables(IPhysicalMemory ram, ulong root, Predicate<int>? pml4Slots)
    {
        foreach (Node node in Traverse(ram, root, seenTables: new HashSet<ulong>(), pml4Slots))
        {
            if (!node.IsLeaf)
            {
                yield return node.Table;
            }
        }
    }

    /// <summary>
    /// Depth-first pre-order over the tree, kept as an explicit stack of at most four cursors (one per level)
    /// rather than nested iterators, so every entry costs no allocation. Each table page on the path is read whole
    /// when the walk enters it (one copy of its 512 entries, not 512 reads): nothing writes memory during a walk.
    /// Visiting entries in index order gives increasing virtual addresses: the lower half (PML4 slots 0..255) comes
    /// before the sign-extended upper half (256..511) in unsigned order too.
    /// </summary>
    private static IEnumerable<Node> Traverse(IPhysicalMemory ram, ulong root, HashSet<ulong>? seenTables, Predicate<int>? pml4Slots)
    {
        const int Entries = PagingLevels.EntriesPerTable;
        var path = new Cursor[4];
        ulong[] tables = ArrayPool<ulong>.Shared.Rent(4 * Entries); // the path's table pages, a level each
        try
        {
            int depth = 0;
            path[0] = new Cursor(root, PagingLevel.Pml4, 0, Permissions.All);
            seenTables?.Add(root);
            yield return Node.ForTable(new TablePage(root, PagingLevel.Pml4, 0));
            ram.ReadU64s(root, tables.AsSpan(0, Entries));

            while (depth >= 0)
            {
                Cursor cursor = path[depth];
                if (cursor.NextIndex == Entries)
                {
                    depth--;
                    continue;
                }

                // An absent entry is almost always zero: a run of them is skipped at once (vectorised), not entry by entry.
                int index = cursor.NextIndex;
                int nonZero = tables.AsSpan((depth * Entries) + index, Entries - index).IndexOfAnyExcept(0UL);
                if (nonZero < 0)
                {
                    depth--;
                    continue;
                }

                index += nonZero;
                path[depth].NextIndex = index + 1;
                if (depth == 0 && pml4Slots is not null && !pml4Slots(index))
                {
                    continue;
                }

                var entry = new PageTableEntry(tables[(depth * Entries) + index]);
                EntryKind kind = Classify(entry, cursor.Level);
                if (kind == EntryKind.NotPresent)
                {
                    continue;
                }

                ulong virtualBase = SignExtend(cursor.VirtualBase + ((ulong)index * cursor.Level.EntrySpan()));
                if (kind == EntryKind.Reserved)
                {
                    throw new MalformedPageTableException(cursor.Table, cursor.Level, index, entry.Raw, virtualBase);
                }

                Permissions rights = cursor.Rights.Restrict(entry);
                if (kind == EntryKind.Leaf)
                {
                    PageSize size = LeafSize(cursor.Level);
                    yield return Node.ForLeaf(new MappedLeaf(virtualBase, LeafFrame(entry, size), size, rights));
                    continue;
                }

                ulong child = entry.Address;
                if (seenTables is not null && !seenTables.Add(child))
                {
                    continue;
                }

                PagingLevel childLevel = cursor.Level.Next();
                yield return Node.ForTable(new TablePage(child, childLevel, virtualBase));
                depth++;
                path[depth] = new Cursor(child, childLevel, virtualBase, rights);
                ram.ReadU64s(child, tables.AsSpan(depth * Entries, Entries));
            }
        }
        finally
        {
            ArrayPool<ulong>.Shared.Return(tables);
        }
    }

    /// <summary>Position inside one table of the current path, with the rights granted by the entries above it.</summary>
    private struct Cursor(ulong table, PagingLevel level, ulong virtualBase, Permissions rights)
    {
        public readonly ulong Table = table;
        public readonly PagingLevel Level = level;
        public readonly ulong VirtualBase = virtualBase;
        public readonly Permissions Rights = rights;
        public int NextIndex = 0;
    }

    private readonly struct Node
    {
        private Node(bool isLeaf, MappedLeaf leaf, TablePage table)
        {
            IsLeaf = isLeaf;
            Leaf = leaf;
            Table = table;
        }

        public bool IsLeaf { get; }
        public MappedLeaf Leaf { get; }
        public TablePage Table { get; }

        public static Node ForLeaf(MappedLeaf leaf) => new(isLeaf: true, leaf, default);
        public static Node ForTable(TablePage table) => new(isLeaf: false, default, table);
    }
}
