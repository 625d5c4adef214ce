/*
 * vmfind, vmalloc, vmfree. Placement is HIGHEST fit: the topmost free run of the window, searched
 * segment by segment from the kernel half down. The search walks leaves from the top of the window
 * (paging_highest_leaf), so absent tables count as one free stretch and large leaves as one occupied
 * stretch: windows of 2^35 pages cost a few table scans.
 */
#include "alt.h"

#define MAX_PAGES ((uintptr_t)1 << 36) /* pages in a 48-bit address space */

struct segment {
    uintptr_t first, last;
};

/* Highest first, for the highest fit. */
static const struct segment segments[] = {
    { MM_KERNEL_BASE, UINTPTR_MAX },
    { USER_HIGH_FIRST, USER_HIGH_LAST },
    { 0, USER_LOW_LAST },
};
#define SEGMENTS (sizeof segments / sizeof segments[0])

static const struct segment *segment_of(uintptr_t addr)
{
    for (size_t i = 0; i < SEGMENTS; i++)
        if (segments[i].first <= addr && addr <= segments[i].last)
            return &segments[i];
    return NULL;
}

/* The highest r with [r, r + length) free inside [low, high] (page aligned low, high + 1). */
static uintptr_t highest_fit(uintptr_t root, uintptr_t low, uintptr_t high, uintptr_t length)
{
    uintptr_t top = high; /* the free stretch under consideration ends here (inclusive) */
    for (;;) {
        struct leaf leaf;
        if (!paging_highest_leaf(root, low, top, &leaf))
            return top - low + 1 >= length ? top - length + 1 : MM_NADDR;
        uintptr_t leaf_last = leaf.base + (leaf.size - 1);
        if (leaf_last < top && top - leaf_last >= length)
            return top - length + 1;
        if (leaf.base <= low)
            return MM_NADDR;
        top = leaf.base - 1;
    }
}

static uintptr_t find_region(uintptr_t root, uintptr_t from, uintptr_t to, size_t npages)
{
    if (npages == 0 || npages > MAX_PAGES || from > UINTPTR_MAX - PAGE_MASK)
        return MM_NADDR;
    uintptr_t first = (from + PAGE_MASK) & ~PAGE_MASK; /* [from, to) rounded inwards */
    uintptr_t end = to & ~PAGE_MASK;
    if (first >= end)
        return MM_NADDR;
    uintptr_t length = npages * MM_PAGE_SIZE;
    for (size_t i = 0; i < SEGMENTS; i++) {
        uintptr_t low = first > segments[i].first ? first : segments[i].first;
        uintptr_t high = end - 1 < segments[i].last ? end - 1 : segments[i].last;
        if (low > high || high - low + 1 < length)
            continue;
        uintptr_t found = highest_fit(root, low, high, length);
        if (found != MM_NADDR)
            return found;
    }
    return MM_NADDR;
}

EXPORT uintptr_t vmfind(const mm_space_t pd, uintptr_t from, uintptr_t to, size_t npages)
{
    return find_region(space_root_of(pd), from, to, npages);
}

/* Unmaps the first `pages` pages of a region this module mapped and frees their frames. */
static void undo(uintptr_t root, uintptr_t region, size_t pages)
{
    for (size_t i = 0; i < pages; i++) {
        struct path path;
        if (!paging_lookup(root, region + i * MM_PAGE_SIZE, &path))
            continue;
        uintptr_t frame = leaf_phys(&path.leaf);
        paging_remove(&path);
        mm_phys_free_page(frame);
    }
}

EXPORT uintptr_t vmalloc(mm_space_t pd, uintptr_t from, uintptr_t to, size_t npages, uint64_t flags)
{
    uintptr_t root = space_root_of(pd);
    if (flags & ~API_FLAGS)
        return MM_NADDR;
    uintptr_t region = find_region(root, from, to, npages);
    if (region == MM_NADDR || npages > frames_free())
        return MM_NADDR;
    /* USER in the kernel half: mapped supervisor-only rather than refused. Pages are not zeroed. */
    uint64_t bits = paging_leaf_bits(is_kernel(region) ? flags & ~MM_PAGE_USER : flags);
    for (size_t i = 0; i < npages; i++) {
        uintptr_t page = mm_phys_alloc_page();
        if (page != MM_NADDR) {
            if (paging_map(root, region + i * MM_PAGE_SIZE, page, bits) == 0)
                continue;
            mm_phys_free_page(page); /* the table pool ran out */
        }
        undo(root, region, i);
        return MM_NADDR;
    }
    return region;
}

/*
 * Unmaps every mapped 4 KiB page of the range; holes are skipped. A frame is freed only if the page
 * allocator has it live, so a page mapped twice in the range is freed once, and a mapping of device
 * memory, page 0 or a pool page is only unmapped: vmfree never panics.
 */
EXPORT int vmfree(mm_space_t pd, uintptr_t addr, size_t npages)
{
    uintptr_t root = space_root_of(pd);
    if (npages == 0)
        return 0;
    if (!is_canonical(addr) || !page_aligned(addr) || npages > MAX_PAGES)
        return -MMSPEC_EINVAL;
    const struct segment *seg = segment_of(addr);
    uintptr_t span = npages * MM_PAGE_SIZE - 1;
    if (seg == NULL || seg->last - addr < span)
        return -MMSPEC_EINVAL;
    uintptr_t last = addr + span;
    struct leaf leaf;
    /* First pass, changing nothing: a large page anywhere in the range refuses the whole call. */
    for (uintptr_t cursor = addr; paging_lowest_leaf(root, cursor, last, &leaf);) {
        if (leaf.level != 1)
            return -MMSPEC_EINVAL;
        if (leaf.base >= last - PAGE_MASK)
            break;
        cursor = leaf.base + MM_PAGE_SIZE;
    }
    for (uintptr_t cursor = addr; paging_lowest_leaf(root, cursor, last, &leaf);) {
        struct path path;
        if (paging_lookup(root, leaf.base, &path)) {
            uintptr_t frame = leaf_phys(&path.leaf);
            paging_remove(&path);
            if (frames_is_live(frame))
                mm_phys_free_page(frame);
        }
        if (leaf.base >= last - PAGE_MASK)
            break;
        cursor = leaf.base + MM_PAGE_SIZE;
    }
    return 0;
}
