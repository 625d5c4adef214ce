using Mmspec.Models.Mmu;

namespace Mmspec.Tests.Models;

/// <summary>
/// Sparse RAM for the MMU model: unwritten words read as zero, like a zeroed table page.
/// Unaligned reads throw, because the walker must only ever read whole entries.
/// </summary>
internal sealed class FakePhysicalMemory : IPhysicalMemory
{
    private readonly Dictionary<ulong, ulong> _words = new();

    public long Reads { get; private set; }

    public ulong ReadU64(ulong physicalAddress)
    {
        if (physicalAddress % 8 != 0)
        {
            throw new ArgumentException($"unaligned read at 0x{physicalAddress:X}", nameof(physicalAddress));
        }

        Reads++;
        return _words.TryGetValue(physicalAddress, out ulong value) ? value : 0;
    }

    public ulong Peek(ulong physicalAddress) => _words.TryGetValue(physicalAddress, out ulong value) ? value : 0;

    public void WriteU64(ulong physicalAddress, ulong value)
    {
        if (value == 0)
        {
            _words.Remove(physicalAddress);
        }
        else
        {
            _words[physicalAddress] = value;
        }
    }
}

/// <summary>
/// Builds 4-level tables by hand for the model's tests. Deliberately spells out the x86 bits itself
/// instead of using the model's constants, so a wrong constant in the model cannot cancel out here.
/// Levels are plain ints, 4 = PML4 .. 1 = PT.
/// </summary>
internal sealed class PageTableBuilder
{
    public const ulong P = 1UL << 0;
    public const ulong RW = 1UL << 1;
    public const ulong US = 1UL << 2;
    public const ulong PS = 1UL << 7;
    public const ulong NX = 1UL << 63;
    public const ulong UserTable = P | RW | US;
    public const ulong KernelTable = P | RW;
    public const ulong AddressMask = 0x000F_FFFF_FFFF_F000;

    private ulong _nextTable;

    /// <param name="firstTablePage">Where table pages are carved from, one 4 KiB page after another.</param>
    public PageTableBuilder(ulong firstTablePage = 0x10_0000)
    {
        _nextTable = firstTablePage;
        Root = NewTable();
    }

    public FakePhysicalMemory Ram { get; } = new();

    public ulong Root { get; }

    /// <summary>Every table page handed out, in order, the root first.</summary>
    public List<ulong> Tables { get; } = new();

    public ulong NewTable()
    {
        ulong table = _nextTable;
        _nextTable += 0x1000;
        Tables.Add(table);
        return table;
    }

    public static int Index(ulong virt, int level) => (int)((virt >> (12 + (9 * (level - 1)))) & 0x1FF);

    public void SetEntry(ulong table, int index, ulong entry) => Ram.WriteU64(table + ((ulong)index * 8), entry);

    public ulong GetEntry(ulong table, int index) => Ram.Peek(table + ((ulong)index * 8));

    /// <summary>Walks (creating as needed) down to the table that holds virt's entry at <paramref name="level"/>.</summary>
    public ulong TableAt(ulong virt, int level, ulong intermediateFlags = UserTable)
    {
        ulong table = Root;
        for (int l = 4; l > level; l--)
        {
            int i = Index(virt, l);
            ulong entry = GetEntry(table, i);
            if ((entry & P) == 0)
            {
                ulong child = NewTable();
                SetEntry(table, i, child | intermediateFlags);
                table = child;
            }
            else
            {
                table = entry & AddressMask;
            }
        }

        return table;
    }

    /// <summary>Writes a leaf at <paramref name="leafLevel"/> (adding PS above level 1).</summary>
    public void Map(ulong virt, ulong phys, int leafLevel, ulong leafFlags, ulong intermediateFlags = UserTable)
    {
        ulong table = TableAt(virt, leafLevel, intermediateFlags);
        ulong ps = leafLevel > 1 ? PS : 0;
        SetEntry(table, Index(virt, leafLevel), phys | leafFlags | ps);
    }

    public void Map4K(ulong virt, ulong phys, ulong flags, ulong intermediateFlags = UserTable) =>
        Map(virt, phys, 1, flags, intermediateFlags);

    public void Map2M(ulong virt, ulong phys, ulong flags, ulong intermediateFlags = UserTable) =>
        Map(virt, phys, 2, flags, intermediateFlags);

    public void Map1G(ulong virt, ulong phys, ulong flags, ulong intermediateFlags = UserTable) =>
        Map(virt, phys, 3, flags, intermediateFlags);

    /// <summary>Sets and clears bits of the existing entry on virt's path at <paramref name="level"/>.</summary>
    public void Update(ulong virt, int level, ulong set = 0, ulong clear = 0)
    {
        ulong table = Root;
        for (int l = 4; l > level; l--)
        {
            table = GetEntry(table, Index(virt, l)) & AddressMask;
        }

        int index = Index(virt, level);
        SetEntry(table, index, (GetEntry(table, index) | set) & ~clear);
    }
}
