/* vmfind, vmalloc, vmfree: contiguous virtual regions inside one segment, backed by fresh zeroed pages. */
#include <stdlib.h>
#include <string.h>

#include "sample.h"

#define MAX_PAGES ((uintptr_t)1 << 36) /* pages in a 48-bit address space */

struct segment {
    uintptr_t first, last;
    bool kernel;
};

static const struct segment segments[] = {
    { 0, LOWER_HALF_END - 1, false },
    { UPPER_HALF_START, MM_KERNEL_BASE - 1, false },
    { MM_KERNEL_BASE, UINTPTR_MAX, true },
};
#define SEGMENTS (sizeof segments / sizeof segments[0])

static const struct segment *segment_of(uintptr_t addr)
{
    for (size_t i = 0; i < SEGMENTS; i++)
        if (segments[i].first <= addr && addr <= segments[i].last)
            return &segments[i];
    return NULL;
}

struct gap_search {
    uintptr_t cursor, last, length, found;
    bool done;
};

static bool gap_visit(const struct leaf *leaf, void *arg)
{
    struct gap_search *s = arg;
    if (leaf->base > s->cursor && leaf->base - s->cursor >= s->length) {
        s->found = s->cursor;
        s->done = true;
        return false;
    }
    uintptr_t end = leaf->base + leaf->size;
    if (end == 0 || end > s->last) {
        s->done = true; /* the page reaches the end of the range */
        return false;
    }
    if (end > s->cursor)
        s->cursor = end;
    return true;
}

static uintptr_t find_region(uintptr_t root, uintptr_t from, uintptr_t to, size_t npages, bool user_only)
{
    if (npages == 0 || npages > MAX_PAGES || from > UINTPTR_MAX - (MM_PAGE_SIZE - 1))
        return MM_NADDR;
    uintptr_t first = (from + MM_PAGE_SIZE - 1) & ~(MM_PAGE_SIZE - 1);
    uintptr_t end = to & ~(MM_PAGE_SIZE - 1);
#ifdef MMSPEC_BUG_VMFIND_INCLUSIVE_TO
    if (end <= UINTPTR_MAX - MM_PAGE_SIZE)
        end += MM_PAGE_SIZE; /* reads "from .. to" as including the page at to */
#endif
    if (first >= end)
        return MM_NADDR;
    uintptr_t length = npages * MM_PAGE_SIZE;
    for (size_t i = 0; i < SEGMENTS; i++) {
        const struct segment *seg = &segments[i];
        if (user_only && seg->kernel)
            continue;
        uintptr_t low = first > seg->first ? first : seg->first;
        uintptr_t high = end - 1 < seg->last ? end - 1 : seg->last;
        if (low > high || high - low + 1 < length)
            continue;
        struct gap_search s = { .cursor = low, .last = high, .length = length, .found = MM_NADDR, .done = false };
        paging_leaves_in(root, low, high, gap_visit, &s);
        if (s.done && s.found != MM_NADDR)
            return s.found;
        if (!s.done && high - s.cursor + 1 >= length)
            return s.cursor;
    }
    return MM_NADDR;
}

EXPORT uintptr_t vmfind(const mm_space_t pd, uintptr_t from, uintptr_t to, size_t npages)
{
#ifdef MMSPEC_BUG_VMFIND_HANG
    /* A retry loop whose exit condition can never hold for regions of more than 4 pages. */
    for (volatile size_t tries = 0; npages > 4; tries++)
        __asm__ volatile("" ::: "memory");
#endif
    return find_region(paging_root(pd), from, to, npages, false);
}

/* Unmaps and frees every mapped page of [region, region + pages * 4 KiB). */
static void release(uintptr_t root, uintptr_t region, size_t pages)
{
    for (size_t i = 0; i < pages; i++) {
        uintptr_t virt = region + i * MM_PAGE_SIZE;
        struct leaf leaf;
        if (!paging_find(root, virt, &leaf))
            continue;
        paging_remove(root, virt);
#ifndef MMSPEC_BUG_VMFREE_LEAKS
        mm_phys_free_page(leaf.entry & PTE_ADDR);
#endif
    }
}

EXPORT uintptr_t vmalloc(mm_space_t pd, uintptr_t from, uintptr_t to, size_t npages, uint64_t flags)
{
    uintptr_t root = paging_root(pd);
    if (flags & ~MM_FLAGS_ALL)
        return MM_NADDR;
    if (npages > phys_free_frames())
        return MM_NADDR;
    uintptr_t region = find_region(root, from, to, npages, (flags & MM_PAGE_USER) != 0);
    if (region == MM_NADDR)
        return MM_NADDR;
    uint64_t bits = paging_leaf_bits(flags);
    for (size_t i = 0; i < npages; i++) {
        uintptr_t page = mm_phys_alloc_page();
        if (page != MM_NADDR) {
            memset((void *)MM_VIRTUALIZE(page), 0, MM_PAGE_SIZE);
            if (paging_map(root, region + i * MM_PAGE_SIZE, page, bits) == 0)
                continue;
            mm_phys_free_page(page);
        }
        release(root, region, i);
        return MM_NADDR;
    }
    return region;
}

struct free_check {
    uint64_t *seen;  /* one bit per frame */
    uintptr_t *pages; /* virtual addresses of the leaves, in order */
    size_t count;
    bool ok;
};

static uint64_t *seen_frames;
static uintptr_t *leaf_pages;

static bool free_visit(const struct leaf *leaf, void *arg)
{
    struct free_check *c = arg;
    uintptr_t frame = leaf->entry & PTE_ADDR;
    if (leaf->level != 1 || !phys_is_allocated(frame) || (c->seen[(frame >> PAGE_SHIFT) / 64] >> ((frame >> PAGE_SHIFT) % 64)) & 1) {
        c->ok = false;
        return false;
    }
    c->seen[(frame >> PAGE_SHIFT) / 64] |= (uint64_t)1 << ((frame >> PAGE_SHIFT) % 64);
    c->pages[c->count++] = leaf->base;
    return true;
}

EXPORT int vmfree(mm_space_t pd, uintptr_t addr, size_t npages)
{
    uintptr_t root = paging_root(pd);
    if (npages == 0)
        return 0;
    const struct segment *seg = segment_of(addr);
    if (!is_canonical(addr) || !page_aligned(addr) || npages > MAX_PAGES || seg == NULL
        || seg->last - addr < npages * MM_PAGE_SIZE - 1)
        return -MMSPEC_EINVAL;
    if (seen_frames == NULL) {
        seen_frames = calloc((frame_count + 63) / 64, sizeof *seen_frames);
        leaf_pages = calloc(frame_count + 1, sizeof *leaf_pages);
        if (seen_frames == NULL || leaf_pages == NULL)
            kpanic("OutOfHostMemory", "vmfree scratch");
    }
    struct free_check c = { .seen = seen_frames, .pages = leaf_pages, .count = 0, .ok = true };
    paging_leaves_in(root, addr, addr + npages * MM_PAGE_SIZE - 1, free_visit, &c);
    for (size_t i = 0; i < c.count; i++) { /* clear the scratch bits again */
        struct leaf leaf;
        if (paging_find(root, c.pages[i], &leaf)) {
            uintptr_t frame = (leaf.entry & PTE_ADDR) >> PAGE_SHIFT;
            seen_frames[frame / 64] &= ~((uint64_t)1 << (frame % 64));
        }
    }
    if (!c.ok)
        return -MMSPEC_EINVAL;
    for (size_t i = 0; i < c.count; i++)
        release(root, c.pages[i], 1);
    return 0;
}
