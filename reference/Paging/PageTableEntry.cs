using Mmspec.Reference.Memory;

namespace Mmspec.Reference.Paging;

/// <summary>Architectural x86-64 page-table entry bits used by the reference.</summary>
[Flags]
public enum EntryFlags : ulong
{
    None = 0,
    Present = 1UL << 0,
    Writable = 1UL << 1,
    User = 1UL << 2,
    PageSize = 1UL << 7,
    NoExecute = 1UL << 63,
}

/// <summary>One 8-byte entry of a 4-level page table: flags plus a frame address in bits 12..51.</summary>
public readonly record struct PageTableEntry(ulong Raw)
{
    public const ulong AddressMask = 0x000F_FFFF_FFFF_F000;
    public const int EntriesPerTable = 512;

    public static readonly PageTableEntry Empty = new(0);

    public static PageTableEntry Create(PhysAddr frame, EntryFlags flags)
    {
        if (!frame.IsPageAligned)
            throw new ArgumentException($"{frame} is not page aligned", nameof(frame));
        return new PageTableEntry(frame.Value | (ulong)flags);
    }

    public bool IsPresent => Has(EntryFlags.Present);

    public bool IsPageSize => Has(EntryFlags.PageSize);

    public EntryFlags Flags => (EntryFlags)(Raw & ~AddressMask);

    public PhysAddr Address => new(Raw & AddressMask);

    public bool Has(EntryFlags flag) => (Raw & (ulong)flag) == (ulong)flag;

    public override string ToString() => IsPresent ? $"PTE 0x{Raw:X16} -> {Address} [{Flags}]" : "PTE (not present)";
}
