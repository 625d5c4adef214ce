/*
 * The page-table pool: the top pages of RAM, set aside at boot and managed here, never by the page
 * allocator. Tables therefore never compete with callers for pages (exhausting the allocator cannot
 * starve mm_map_single), and running out of tables is a separate, recoverable condition: -ENOMEM.
 * Free pool pages are tracked by a host-side bitmap (bit set = free); lowest free page first.
 */
#include <string.h>

#include "alt.h"

#define POOL_MAX (MAX_FRAMES / 2)
#define WORDS (POOL_MAX / 64)

static uint64_t free_map[WORDS];
static size_t first;  /* first frame of the pool */
static size_t count;  /* pages in the pool */
static size_t low_word; /* no word below this index has a free bit */

void pool_init(size_t first_frame, size_t pages)
{
    memset(free_map, 0, sizeof free_map);
    first = first_frame;
    count = pages > POOL_MAX ? POOL_MAX : pages;
    for (size_t i = 0; i < count; i++)
        free_map[i / 64] |= (uint64_t)1 << (i % 64);
    low_word = 0;
}

bool pool_owns(uintptr_t phys)
{
    size_t frame = phys >> PAGE_SHIFT;
    return frame >= first && frame - first < count;
}

uintptr_t pool_take(void)
{
    for (size_t word = low_word; word < (count + 63) / 64; word++) {
        if (!free_map[word])
            continue;
        low_word = word;
        size_t i = word * 64 + (size_t)__builtin_ctzll(free_map[word]);
        free_map[word] &= ~((uint64_t)1 << (i % 64));
        uintptr_t phys = (uintptr_t)(first + i) << PAGE_SHIFT;
        memset(table_at(phys), 0, MM_PAGE_SIZE); /* a table starts with every entry absent */
        return phys;
    }
    low_word = (count + 63) / 64;
    return MM_NADDR;
}

void pool_give(uintptr_t phys)
{
    if (!pool_owns(phys) || !page_aligned(phys))
        kpanic("PoolCorrupted", "0x%lx is not a page-table pool page", (unsigned long)phys);
    size_t i = (phys >> PAGE_SHIFT) - first;
    if ((free_map[i / 64] >> (i % 64)) & 1)
        kpanic("PoolCorrupted", "pool page 0x%lx given back twice", (unsigned long)phys);
    free_map[i / 64] |= (uint64_t)1 << (i % 64);
    if (i / 64 < low_word)
        low_word = i / 64;
}
