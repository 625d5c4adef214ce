/* mm_map_single, mm_map_get, mm_umap_single: the single-page entry points over paging.c. */
#include "alt.h"

#define PHYS_LIMIT ((uintptr_t)1 << 52)

EXPORT int mm_map_single(mm_space_t space, uintptr_t virt, uintptr_t phys, uint64_t flags)
{
    uintptr_t root = space_root_of(space);
    if (!is_canonical(virt) || !page_aligned(virt) || !page_aligned(phys) || phys >= PHYS_LIMIT || (flags & ~API_FLAGS))
        return -MMSPEC_EINVAL;
    /* USER at a kernel address is accepted and honoured (the spec does not forbid it). */
    int result = paging_map(root, virt, phys, paging_leaf_bits(flags));
    if (result == 0 && is_kernel(virt) && (flags & MM_PAGE_USER))
        paging_grant_user(root, virt);
    return result;
}

EXPORT uintptr_t mm_map_get(mm_space_t space, uintptr_t virt, uint64_t *flags)
{
    uintptr_t root = space_root_of(space);
    struct path path;
    if (!is_canonical(virt) || !paging_lookup(root, virt, &path))
        return MM_NADDR;
    if (flags)
        *flags = ((path.us_rw & PTE_US) ? MM_PAGE_USER : 0) | ((path.us_rw & PTE_RW) ? MM_PAGE_WRITE : 0)
               | (path.nx ? 0 : MM_PAGE_EXEC);
    return leaf_phys(&path.leaf) + (virt - path.leaf.base);
}

/*
 * size 1: only a 4 KiB leaf; size 0: any leaf. The result is the frame virt referred to, so inside a
 * large page it is the large page's base plus virt's offset in it (the whole large page is removed).
 */
EXPORT uintptr_t mm_umap_single(mm_space_t space, uintptr_t virt, uint32_t size)
{
    uintptr_t root = space_root_of(space);
    struct path path;
    if (size > 1 || !is_canonical(virt) || !page_aligned(virt) || !paging_lookup(root, virt, &path))
        return MM_NADDR;
    if (size == 1 && path.leaf.level != 1)
        return MM_NADDR;
    uintptr_t frame = leaf_phys(&path.leaf) + (virt - path.leaf.base);
    paging_remove(&path);
    return frame;
}
