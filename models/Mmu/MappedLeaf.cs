namespace Mmspec.Models.Mmu;

/// <summary>The three translation granularities of 4-level paging; the value is the size in bytes.</summary>
public enum PageSize : ulong
{
    Size4KiB = 1UL << 12,
    Size2MiB = 1UL << 21,
    Size1GiB = 1UL << 30,
}

/// <summary>
/// One present leaf: the whole page it maps, not a single address, so a census can compare
/// pages and a translation can be checked against the page it landed in.
/// </summary>
/// <param name="VirtualBase">Canonical (sign-extended) first virtual address of the page.</param>
/// <param name="PhysicalBase">First physical address of the frame, aligned to <paramref name="Size"/>.</param>
/// <param name="Size">Page size, which also says at which level the leaf entry sits.</param>
/// <param name="Permissions">Effective rights over the whole path, not just the leaf entry's bits.</param>
public readonly record struct MappedLeaf(ulong VirtualBase, ulong PhysicalBase, PageSize Size, Permissions Permissions)
{
    public ulong Bytes => (ulong)Size;

    /// <summary>The level whose entry is the leaf: PT for 4 KiB, PD for 2 MiB, PDPT for 1 GiB.</summary>
    public PagingLevel Level => Size switch
    {
        PageSize.Size1GiB => PagingLevel.Pdpt,
        PageSize.Size2MiB => PagingLevel.Pd,
        _ => PagingLevel.Pt,
    };

    /// <summary>Written as an offset test so a page ending at 2^64 does not overflow.</summary>
    public bool Contains(ulong virt) => virt - VirtualBase < Bytes;

    public override string ToString() =>
        $"{SizeName(Size)} page 0x{VirtualBase:X16} -> 0x{PhysicalBase:X} ({Permissions})";

    internal static string SizeName(PageSize size) => size switch
    {
        PageSize.Size1GiB => "1 GiB",
        PageSize.Size2MiB => "2 MiB",
        PageSize.Size4KiB => "4 KiB",
        _ => $"{(ulong)size}-byte",
    };
}
