namespace Mmspec.Models.State;

/// <summary>The API's permission bits as the spec names them (MM_PAGE_USER, MM_PAGE_WRITE, MM_PAGE_EXEC).</summary>
[Flags]
public enum Rights : ulong
{
    None = 0,
    User = 1,
    Write = 2,
    Exec = 4,
}

/// <summary>
/// Who put a mapping there: the client through mm_map_single, vmalloc, the kernel's direct map (a page that
/// translates 0xFFFFFF0000000000 + p to p), or another mapping the kernel half held at boot.
/// </summary>
public enum MappingKind
{
    Client,
    Region,
    DirectMap,
    Boot,
}

/// <summary>What the model says one virtual page (4 KiB, 2 MiB or 1 GiB) maps to.</summary>
public readonly record struct Mapping(ulong Phys, ulong Size, Rights Rights, MappingKind Kind)
{
    public override string ToString() => $"{Kind} -> 0x{Phys:X} ({Size / 1024} KiB, {Rights})";
}

/// <summary>A region vmalloc returned, kept so that it can be freed and its pages told apart from the client's.</summary>
public sealed record Region(int Space, ulong Start, ulong Pages, Rights Rights)
{
    /// <summary>The region's last byte: inclusive, because a region may end at the top of the address space.</summary>
    public ulong Last => Start + (Pages * AddressSpaceLayout.PageSize - 1);
}
