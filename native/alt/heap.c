/*
 * kmalloc/kfree: a boundary-tag heap with in-band headers.
 *
 * The heap takes ARENAS of contiguous pages from its own allocator (4 pages normally, fewer when
 * memory is fragmented, a dedicated run for a block that does not fit an arena). An arena starts with
 * a 16-byte arena header and is then carved into blocks, each preceded by a 16-byte block header
 * (its size, its predecessor's size, a used/free magic), so every payload is 16-byte aligned. Free
 * blocks sit on one doubly linked list (links inside their payload; first fit) and merge with free
 * neighbours on kfree. An arena that becomes one free block goes straight back to the allocator, so a
 * heap with no live blocks holds no pages. kmalloc(0) returns NULL.
 *
 * The one host-side table, owner[], records which arena a heap page belongs to: kfree uses it to tell
 * a heap pointer from a foreign one without trusting bytes in RAM, then walks the arena's headers to
 * tell a live block from an interior pointer or a double free, all before changing anything.
 */
#include <string.h>

#include "alt.h"

#define ARENA_PAGES 4
#define ARENA_MAGIC 0x414C5441u /* "ALTA" */
#define USED_MAGIC 0x55534544u
#define FREE_MAGIC 0x46524545u
#define HEADER 16u
#define MIN_BLOCK 32u /* a header plus the two free-list links */

struct arena {
    uint32_t magic;
    uint32_t pages;
    uint64_t reserved;
};

struct block {
    uint32_t size;      /* the whole block, header included, a multiple of 16 */
    uint32_t prev_size; /* the block just below in the arena, 0 for the first */
    uint32_t magic;
    uint32_t reserved;
};

struct links {
    uintptr_t next, prev; /* physical addresses of free blocks, 0 = none (page 0 is never heap) */
};

_Static_assert(sizeof(struct arena) == HEADER && sizeof(struct block) == HEADER, "16-byte headers");

static uint32_t owner[MAX_FRAMES]; /* heap page -> its arena's first frame + 1; 0 = not the heap's */
static uintptr_t free_head;

static struct arena *arena_at(uintptr_t phys) { return (struct arena *)MM_VIRTUALIZE(phys); }
static struct block *block_at(uintptr_t phys) { return (struct block *)MM_VIRTUALIZE(phys); }
static struct links *links_of(uintptr_t phys) { return (struct links *)MM_VIRTUALIZE(phys + HEADER); }
static uintptr_t arena_end(uintptr_t arena) { return arena + (uintptr_t)arena_at(arena)->pages * MM_PAGE_SIZE; }

void heap_init(void)
{
    memset(owner, 0, sizeof owner);
    free_head = 0;
}

static void list_push(uintptr_t b)
{
    block_at(b)->magic = FREE_MAGIC;
    links_of(b)->prev = 0;
    links_of(b)->next = free_head;
    if (free_head)
        links_of(free_head)->prev = b;
    free_head = b;
}

static void list_unlink(uintptr_t b)
{
    struct links *l = links_of(b);
    if (l->prev)
        links_of(l->prev)->next = l->next;
    else
        free_head = l->next;
    if (l->next)
        links_of(l->next)->prev = l->prev;
}

/* Takes `pages` contiguous pages and makes them an arena holding one free block. */
static bool grow(size_t pages)
{
    uintptr_t base = mm_phys_alloc_contiguous(pages);
    if (base == MM_NADDR)
        return false;
    *arena_at(base) = (struct arena){ .magic = ARENA_MAGIC, .pages = (uint32_t)pages };
    for (size_t i = 0; i < pages; i++)
        owner[(base >> PAGE_SHIFT) + i] = (uint32_t)(base >> PAGE_SHIFT) + 1;
    uintptr_t b = base + HEADER;
    *block_at(b) = (struct block){ .size = (uint32_t)(pages * MM_PAGE_SIZE - HEADER), .prev_size = 0 };
    list_push(b);
    return true;
}

/* Carves a used block of `need` bytes out of free block b; a big enough rest stays free. */
static void *take(uintptr_t b, uint32_t need)
{
    list_unlink(b);
    struct block *blk = block_at(b);
    if (blk->size - need >= MIN_BLOCK) {
        uintptr_t rest = b + need;
        uintptr_t end = arena_end(((uintptr_t)owner[b >> PAGE_SHIFT] - 1) << PAGE_SHIFT);
        *block_at(rest) = (struct block){ .size = blk->size - need, .prev_size = need };
        if (rest + block_at(rest)->size < end)
            block_at(rest + block_at(rest)->size)->prev_size = block_at(rest)->size;
        blk->size = need;
        list_push(rest);
    }
    blk->magic = USED_MAGIC;
    return (void *)MM_VIRTUALIZE(b + HEADER);
}

static uintptr_t first_fit(uint32_t need)
{
    for (uintptr_t b = free_head; b; b = links_of(b)->next)
        if (block_at(b)->size >= need)
            return b;
    return 0;
}

EXPORT void *kmalloc(size_t size)
{
    /* Checked before any rounding: SIZE_MAX and friends cannot overflow into a small request. */
    if (size == 0 || size > ram_bytes)
        return NULL;
    size_t need = (size + HEADER + 15) & ~(size_t)15;
    if (need < MIN_BLOCK)
        need = MIN_BLOCK;
    uintptr_t b = first_fit((uint32_t)need);
    if (!b) {
        size_t dedicated = (need + HEADER + PAGE_MASK) >> PAGE_SHIFT;
        if (dedicated > ARENA_PAGES) {
            if (!grow(dedicated))
                return NULL;
        } else {
            /* Prefer a full arena; under fragmentation settle for the smallest run that fits. */
            size_t pages = ARENA_PAGES;
            while (!grow(pages))
                if (--pages < dedicated)
                    return NULL;
        }
        b = free_head; /* grow() pushed the new arena's block at the head */
    }
    return take(b, (uint32_t)need);
}

static void release_arena(uintptr_t arena)
{
    size_t pages = arena_at(arena)->pages;
    arena_at(arena)->magic = 0;
    for (size_t i = 0; i < pages; i++) {
        owner[(arena >> PAGE_SHIFT) + i] = 0;
        mm_phys_free_page(arena + i * MM_PAGE_SIZE);
    }
}

EXPORT void kfree(void *ptr)
{
    if (ptr == NULL)
        return;
    uintptr_t host = (uintptr_t)ptr;
    if (host < mmspec_ram_base || host - mmspec_ram_base >= ram_bytes || (host & 15))
        kpanic("HeapBadFree", "kfree(%p): not a heap pointer", ptr);
    uintptr_t b = MM_PHYS(host) - HEADER;
    uint32_t arena_frame = owner[MM_PHYS(host) >> PAGE_SHIFT];
    if (arena_frame == 0)
        kpanic("HeapBadFree", "kfree(%p): physical 0x%lx is not on a heap page", ptr, (unsigned long)MM_PHYS(host));
    uintptr_t arena = ((uintptr_t)arena_frame - 1) << PAGE_SHIFT, end = arena_end(arena);
    if (arena_at(arena)->magic != ARENA_MAGIC)
        kpanic("HeapCorrupted", "kfree(%p): arena at 0x%lx lost its header", ptr, (unsigned long)arena);
    uintptr_t at = arena + HEADER;
    while (at < b) {
        uint32_t size = block_at(at)->size;
        if (size < MIN_BLOCK || size > end - at)
            kpanic("HeapCorrupted", "kfree(%p): block at 0x%lx has size %u", ptr, (unsigned long)at, size);
        at += size;
    }
    if (at != b)
        kpanic("HeapBadFree", "kfree(%p): not the start of a block (interior, or freed and merged)", ptr);
    if (block_at(b)->magic == FREE_MAGIC)
        kpanic("HeapDoubleFree", "kfree(%p): block at 0x%lx is already free", ptr, (unsigned long)b);
    if (block_at(b)->magic != USED_MAGIC)
        kpanic("HeapCorrupted", "kfree(%p): block header damaged", ptr);

    /* Valid: merge with the free neighbours, then either give the arena back or list the block. */
    uint32_t size = block_at(b)->size;
    uintptr_t next = b + size;
    if (next < end && block_at(next)->magic == FREE_MAGIC) {
        list_unlink(next);
        size += block_at(next)->size;
    }
    uint32_t prev_size = block_at(b)->prev_size;
    if (prev_size && block_at(b - prev_size)->magic == FREE_MAGIC) {
        list_unlink(b - prev_size);
        b -= prev_size;
        size += block_at(b)->size;
        prev_size = block_at(b)->prev_size;
    }
    if (b == arena + HEADER && b + size == end) {
        release_arena(arena);
        return;
    }
    *block_at(b) = (struct block){ .size = size, .prev_size = prev_size };
    if (b + size < end)
        block_at(b + size)->prev_size = size;
    list_push(b);
}
