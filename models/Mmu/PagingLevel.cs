namespace Mmspec.Models.Mmu;

/// <summary>
/// A level of the 4-level walk, numbered as the SDM does (the root is level 4).
/// <see cref="None"/> is only used for faults raised before any table is read
/// (a non-canonical address is a #GP on real hardware, not a walk failure).
/// </summary>
public enum PagingLevel
{
    None = 0,
    Pt = 1,
    Pd = 2,
    Pdpt = 3,
    Pml4 = 4,
}

/// <summary>Address arithmetic for one level; kept apart so the walker reads as the SDM's prose.</summary>
public static class PagingLevels
{
    /// <summary>Number of entries in every table at every level (4 KiB table / 8-byte entry).</summary>
    public const int EntriesPerTable = 512;

    /// <summary>Lowest virtual-address bit that selects this level's entry (12, 21, 30, 39).</summary>
    public static int IndexShift(this PagingLevel level) => 12 + (9 * ((int)level - 1));

    /// <summary>How many bytes of virtual address space one entry at this level covers.</summary>
    public static ulong EntrySpan(this PagingLevel level) => 1UL << level.IndexShift();

    /// <summary>The 9-bit index this level uses for <paramref name="virt"/>.</summary>
    public static int IndexOf(this PagingLevel level, ulong virt) => (int)((virt >> level.IndexShift()) & 0x1FF);

    /// <summary>The level below this one; only meaningful for levels 4..2.</summary>
    public static PagingLevel Next(this PagingLevel level) => level - 1;

    public static string Name(this PagingLevel level) => level switch
    {
        PagingLevel.Pml4 => "PML4",
        PagingLevel.Pdpt => "PDPT",
        PagingLevel.Pd => "PD",
        PagingLevel.Pt => "PT",
        _ => "no level",
    };
}
