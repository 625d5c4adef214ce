using Mmspec.Reference.Memory;

namespace Mmspec.Reference.Paging;

/// <summary>The API's permission bits (MM_PAGE_USER, MM_PAGE_WRITE, MM_PAGE_EXEC), distinct from PTE bits.</summary>
[Flags]
public enum PageAccess : ulong
{
    None = 0,
    User = 1,
    Write = 2,
    Exec = 4,
}

public static class PageAccessBits
{
    public const PageAccess All = PageAccess.User | PageAccess.Write | PageAccess.Exec;

    public static bool IsValid(ulong flags) => (flags & ~(ulong)All) == 0;

    public static EntryFlags ToLeafFlags(PageAccess access) =>
        EntryFlags.Present
        | (access.HasFlag(PageAccess.Write) ? EntryFlags.Writable : EntryFlags.None)
        | (access.HasFlag(PageAccess.User) ? EntryFlags.User : EntryFlags.None)
        | (access.HasFlag(PageAccess.Exec) ? EntryFlags.None : EntryFlags.NoExecute);

    /// <summary>Intermediate entries grant everything the half allows, so the leaf alone decides a page's permissions.</summary>
    public static EntryFlags TableFlagsFor(VirtAddr virt) =>
        EntryFlags.Present | EntryFlags.Writable | (virt.IsKernel ? EntryFlags.None : EntryFlags.User);

    public static PageAccess FromLeaf(PageTableEntry leaf) =>
        (leaf.Has(EntryFlags.Writable) ? PageAccess.Write : PageAccess.None)
        | (leaf.Has(EntryFlags.User) ? PageAccess.User : PageAccess.None)
        | (leaf.Has(EntryFlags.NoExecute) ? PageAccess.None : PageAccess.Exec);
}
