/*
 * The physical page allocator: a bitmap in host memory (bit set = page FREE), so nothing it knows is
 * written into RAM, and a handed-out page is the caller's alone.
 *
 * mm_phys_alloc_page takes the HIGHEST free page; mm_phys_alloc_contiguous is BEST FIT (the shortest
 * maximal free run that is long enough, the lowest of equals). Only page 0 is reserved. Pages are not
 * zeroed. The pool (pool.c) lies above `limit` and its bits are never set here, so it is never handed
 * out and freeing one of its pages is caught as misuse.
 */
#include <string.h>

#include "alt.h"

#define WORDS (MAX_FRAMES / 64)

static uint64_t free_map[WORDS];
static size_t limit;       /* frames [1, limit) belong to the allocator */
static size_t free_pages;
static size_t high_words;  /* no word at or above this index has a free bit */

static bool is_free(size_t frame) { return (free_map[frame / 64] >> (frame % 64)) & 1; }
static void set_free(size_t frame) { free_map[frame / 64] |= (uint64_t)1 << (frame % 64); }
static void set_used(size_t frame) { free_map[frame / 64] &= ~((uint64_t)1 << (frame % 64)); }

void frames_init(size_t first_pool_frame)
{
    memset(free_map, 0, sizeof free_map);
    limit = first_pool_frame;
    for (size_t frame = 1; frame < limit; frame++)
        set_free(frame);
    free_pages = limit > 1 ? limit - 1 : 0;
    high_words = (limit + 63) / 64;
}

size_t frames_free(void) { return free_pages; }

bool frames_is_live(uintptr_t phys)
{
    size_t frame = phys >> PAGE_SHIFT;
    return page_aligned(phys) && frame >= 1 && frame < limit && !is_free(frame);
}

EXPORT uintptr_t mm_phys_alloc_page(void)
{
    while (high_words > 0) {
        uint64_t word = free_map[high_words - 1];
        if (word) {
            size_t frame = (high_words - 1) * 64 + 63 - (size_t)__builtin_clzll(word);
            set_used(frame);
            free_pages--;
            return (uintptr_t)frame << PAGE_SHIFT;
        }
        high_words--;
    }
    return MM_NADDR;
}

/* First frame >= frame whose bit equals `want` (free or used), or `end` when there is none below it. */
static size_t scan(size_t frame, size_t end, bool want)
{
    while (frame < end) {
        uint64_t word = free_map[frame / 64];
        if (!want)
            word = ~word;
        word &= ~(uint64_t)0 << (frame % 64); /* ignore the bits below frame */
        if (word) {
            size_t found = (frame & ~(size_t)63) + (size_t)__builtin_ctzll(word);
            return found < end ? found : end;
        }
        frame = (frame & ~(size_t)63) + 64;
    }
    return end;
}

EXPORT uintptr_t mm_phys_alloc_contiguous(size_t count)
{
    if (count == 0 || count > free_pages)
        return MM_NADDR;
    size_t best = 0, best_len = SIZE_MAX;
    for (size_t start = scan(1, limit, true); start < limit;) {
        size_t end = scan(start, limit, false);
        size_t len = end - start;
        if (len >= count && len < best_len) {
            best = start;
            best_len = len;
            if (len == count)
                break; /* nothing can fit tighter, and any later exact fit is higher */
        }
        start = scan(end, limit, true);
    }
    if (best_len == SIZE_MAX)
        return MM_NADDR;
    for (size_t frame = best; frame < best + count; frame++)
        set_used(frame);
    free_pages -= count;
    return (uintptr_t)best << PAGE_SHIFT;
}

EXPORT void mm_phys_free_page(uintptr_t addr)
{
    /* Every check comes before the bitmap changes: the suite keeps using the machine after a panic. */
    if (!page_aligned(addr))
        kpanic("FreeOfUnalignedAddress", "mm_phys_free_page(0x%lx): not page aligned", (unsigned long)addr);
    if (addr >= ram_bytes)
        kpanic("FreeOutsideRam", "mm_phys_free_page(0x%lx): outside RAM", (unsigned long)addr);
    size_t frame = addr >> PAGE_SHIFT;
    if (frame == 0)
        kpanic("FreeOfReservedPage", "mm_phys_free_page(0x%lx): page 0 is reserved", (unsigned long)addr);
    if (frame >= limit)
        kpanic("FreeOfPoolPage", "mm_phys_free_page(0x%lx): a page-table pool page", (unsigned long)addr);
    if (is_free(frame))
        kpanic("FreeOfUnallocatedPage", "mm_phys_free_page(0x%lx): page is not allocated", (unsigned long)addr);
    set_free(frame);
    free_pages++;
    if (frame / 64 + 1 > high_words)
        high_words = frame / 64 + 1;
}
