namespace Mmspec.Models.Mmu;

/// <summary>
/// One page holding a page table, as reached by a walk.
/// </summary>
/// <param name="PhysicalAddress">4 KiB aligned address of the table.</param>
/// <param name="Level">The level the walk used it at (the root is <see cref="PagingLevel.Pml4"/>).</param>
/// <param name="VirtualBase">Canonical first virtual address whose walk reads this table (first path found).</param>
public readonly record struct TablePage(ulong PhysicalAddress, PagingLevel Level, ulong VirtualBase)
{
    public override string ToString() => $"{Level.Name()} table at 0x{PhysicalAddress:X} (covers from 0x{VirtualBase:X16})";
}

/// <summary>
/// Thrown by the enumerations when a present entry has a reserved bit set. A census cannot skip
/// such an entry silently: the hardware would fault on every address behind it, and a kernel that
/// wrote it has a bug the census exists to find.
/// </summary>
public sealed class MalformedPageTableException : InvalidOperationException
{
    public MalformedPageTableException(ulong tablePhysical, PagingLevel level, int index, ulong entry, ulong virtualBase)
        : base($"Reserved bit set in {level.Name()} entry {index} of table 0x{tablePhysical:X} " +
               $"(entry 0x{entry:X16}, covering 0x{virtualBase:X16})")
    {
        TablePhysical = tablePhysical;
        Level = level;
        Index = index;
        Entry = entry;
        VirtualBase = virtualBase;
    }

    public ulong TablePhysical { get; }
    public PagingLevel Level { get; }
    public int Index { get; }
    public ulong Entry { get; }
    public ulong VirtualBase { get; }
}
