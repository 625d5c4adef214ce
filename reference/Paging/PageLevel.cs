using Mmspec.Reference.Memory;

namespace Mmspec.Reference.Paging;

/// <summary>Geometry of the four paging levels: 4 = PML4, 3 = PDPT, 2 = PD, 1 = PT.</summary>
public static class PageLevel
{
    public const int Pml4 = 4;
    public const int Pdpt = 3;
    public const int Pd = 2;
    public const int Pt = 1;

    /// <summary>Bytes of address space one entry at this level covers.</summary>
    public static ulong EntrySpan(int level) => Layout.PageSize << (9 * (level - 1));

    /// <summary>Only PDPT and PD entries may be leaves with the page-size bit (1 GiB and 2 MiB pages).</summary>
    public static bool CanBeLargeLeaf(int level) => level is Pdpt or Pd;
}

/// <summary>A present leaf entry found by a walk: the page it maps and where the entry lives.</summary>
public readonly record struct Leaf(ulong VirtualBase, PhysAddr Frame, int Level, PageTableEntry Entry, PhysAddr Table, int Index)
{
    public ulong Size => PageLevel.EntrySpan(Level);
}

/// <summary>Why a mapping request was refused.</summary>
public enum MapStatus
{
    Mapped,
    InvalidArgument,
    AlreadyMapped,
    OutOfMemory,
}
