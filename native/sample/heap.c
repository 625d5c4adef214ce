/*
 * kmalloc/kfree: slabs of one size class per page for blocks up to 2 KiB, whole contiguous pages
 * above that. Bookkeeping lives in a per-frame descriptor array outside the simulated RAM (a
 * kernel's "struct page" array), so every block of a slab page is usable and 16-byte aligned.
 * A slab page that empties goes straight back to the physical allocator.
 */
#include <string.h>

#include "sample.h"

#define NONE_FRAME UINT32_MAX

static const uint16_t class_size[] = { 16, 32, 48, 64, 96, 128, 192, 256, 384, 512, 768, 1024, 2048 };
#define CLASSES (sizeof class_size / sizeof class_size[0])
#define LARGEST 2048u

enum frame_kind { FRAME_OTHER = 0, FRAME_SLAB, FRAME_LARGE_HEAD, FRAME_LARGE_TAIL };

struct frame_desc {
    uint8_t kind;
    uint8_t size_class;
    uint16_t live;
    uint32_t pages;               /* FRAME_LARGE_HEAD: length of the block in pages */
    uint32_t prev, next;          /* FRAME_SLAB with room: the class's list */
    uint64_t used[4];             /* FRAME_SLAB: live slots (at most 256) */
};

static struct frame_desc desc[MAX_FRAMES];
static uint32_t with_room[CLASSES];

void heap_init(void)
{
    memset(desc, 0, sizeof(struct frame_desc) * frame_count);
    for (size_t c = 0; c < CLASSES; c++)
        with_room[c] = NONE_FRAME;
}

#ifdef MMSPEC_BUG_SLAB_LAST_SLOT_CROSSES_PAGE
/* DIV_ROUND_UP where it should round down: 48, 96, 192, 384 and 768-byte slabs get one slot that runs into the next page */
static unsigned slots_of(unsigned size_class) { return (unsigned)((MM_PAGE_SIZE + class_size[size_class] - 1) / class_size[size_class]); }
#else
static unsigned slots_of(unsigned size_class) { return (unsigned)(MM_PAGE_SIZE / class_size[size_class]); }
#endif

static void list_add(uint32_t frame)
{
    struct frame_desc *d = &desc[frame];
    d->prev = NONE_FRAME;
    d->next = with_room[d->size_class];
    if (d->next != NONE_FRAME)
        desc[d->next].prev = frame;
    with_room[d->size_class] = frame;
}

static void list_remove(uint32_t frame)
{
    struct frame_desc *d = &desc[frame];
    if (d->prev != NONE_FRAME)
        desc[d->prev].next = d->next;
    else
        with_room[d->size_class] = d->next;
    if (d->next != NONE_FRAME)
        desc[d->next].prev = d->prev;
}

static void *alloc_small(unsigned size_class)
{
    uint32_t frame = with_room[size_class];
    if (frame == NONE_FRAME) {
        uintptr_t page = mm_phys_alloc_page();
#ifndef MMSPEC_BUG_HEAP_GROWS_UNCHECKED
        if (page == MM_NADDR) /* (the bug: "the heap always gets its page") */
            return NULL;
#endif
        frame = (uint32_t)(page >> PAGE_SHIFT);
        memset(&desc[frame], 0, sizeof desc[frame]);
        desc[frame].kind = FRAME_SLAB;
        desc[frame].size_class = (uint8_t)size_class;
        list_add(frame);
    }
    struct frame_desc *d = &desc[frame];
    unsigned slot = 0;
    for (unsigned word = 0; word < 4; word++) {
        if (d->used[word] != UINT64_MAX) {
#ifdef MMSPEC_BUG_SLAB_SLOT_WORD_OFFSET
            slot = (unsigned)__builtin_ctzll(~d->used[word]); /* the bit's index in its word, not in the slab */
#else
            slot = word * 64 + (unsigned)__builtin_ctzll(~d->used[word]);
#endif
            break;
        }
    }
    d->used[slot / 64] |= (uint64_t)1 << (slot % 64);
    if (++d->live == slots_of(size_class))
        list_remove(frame);
    uintptr_t block = ((uintptr_t)frame << PAGE_SHIFT) + (uintptr_t)slot * class_size[size_class];
#ifdef MMSPEC_BUG_KMALLOC_MISALIGNED
    block += 8; /* "room for a header" that never got written */
#endif
    return (void *)MM_VIRTUALIZE(block);
}

EXPORT void *kmalloc(size_t size)
{
    if (size <= LARGEST) {
        unsigned size_class = 0;
        while (class_size[size_class] < (size ? size : 1))
            size_class++;
        return alloc_small(size_class);
    }
#ifdef MMSPEC_BUG_KMALLOC_LARGE_PANICS
    kpanic("HeapLargeUnsupported", "kmalloc(%zu): no large-block support", size); /* a valid call */
#endif
    if (size > ram_size)
        return NULL;
    size_t pages = (size + MM_PAGE_SIZE - 1) / MM_PAGE_SIZE;
    uintptr_t first = mm_phys_alloc_contiguous(pages);
    if (first == MM_NADDR)
        return NULL;
    uint32_t frame = (uint32_t)(first >> PAGE_SHIFT);
    desc[frame].kind = FRAME_LARGE_HEAD;
    desc[frame].pages = (uint32_t)pages;
    for (size_t i = 1; i < pages; i++)
        desc[frame + i].kind = FRAME_LARGE_TAIL;
    return (void *)MM_VIRTUALIZE(first);
}

EXPORT void kfree(void *ptr)
{
    if (ptr == NULL)
        return;
    uintptr_t host = (uintptr_t)ptr;
#ifdef MMSPEC_BUG_KMALLOC_MISALIGNED
    if ((host & 15) == 8)
        host -= 8;
#endif
    uintptr_t block = MM_PHYS(host);
    if (host < mmspec_ram_base || block >= ram_size)
        kpanic("HeapFreeOfForeignPointer", "kfree(%p): not a heap pointer", ptr);
    uint32_t frame = (uint32_t)(block >> PAGE_SHIFT);
    struct frame_desc *d = &desc[frame];
    uintptr_t offset = block & (MM_PAGE_SIZE - 1);
    if (d->kind == FRAME_LARGE_HEAD && offset == 0) {
        uint32_t pages = d->pages;
        for (uint32_t i = 0; i < pages; i++) {
            desc[frame + i].kind = FRAME_OTHER;
            mm_phys_free_page(block + (uintptr_t)i * MM_PAGE_SIZE);
        }
        return;
    }
    if (d->kind != FRAME_SLAB || offset % class_size[d->size_class] != 0)
        kpanic("HeapFreeOfForeignPointer", "kfree(%p): 0x%lx (physical) was not returned by kmalloc", ptr, (unsigned long)block);
    unsigned slot = (unsigned)(offset / class_size[d->size_class]);
    uint64_t bit = (uint64_t)1 << (slot % 64);
    if (slot >= slots_of(d->size_class))
        kpanic("HeapFreeOfForeignPointer", "kfree(%p): past the last slot", ptr);
    if (!(d->used[slot / 64] & bit))
        kpanic("HeapDoubleFree", "kfree(%p): block at 0x%lx (physical) is already free", ptr, (unsigned long)block);
    bool was_full = d->live == slots_of(d->size_class);
    d->used[slot / 64] &= ~bit;
    d->live--;
    if (d->live == 0) {
        if (!was_full)
            list_remove(frame);
        d->kind = FRAME_OTHER;
        mm_phys_free_page(block - offset);
    } else if (was_full) {
        list_add(frame);
    }
}
