/* Physical pages: a first-fit bitmap allocator (bit set = frame in use); the low 1 MiB is reserved. */
#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "sample.h"

#define WORDS (MAX_FRAMES / 64)

static uint64_t used_map[WORDS];
static size_t word_count;
static size_t reserved_frames;
static size_t free_frames;
static size_t hint; /* no word below it has a free bit */

static bool frame_used(size_t frame) { return (used_map[frame / 64] >> (frame % 64)) & 1; }

static void mark(size_t first, size_t count, bool used)
{
    for (size_t frame = first; frame < first + count; frame++) {
        if (used)
            used_map[frame / 64] |= (uint64_t)1 << (frame % 64);
        else
            used_map[frame / 64] &= ~((uint64_t)1 << (frame % 64));
    }
}

void phys_init(void)
{
    memset(used_map, 0, sizeof used_map);
    word_count = (frame_count + 63) / 64;
    reserved_frames = RESERVED_LOW >> PAGE_SHIFT;
    if (reserved_frames > frame_count)
        reserved_frames = frame_count;
    mark(0, reserved_frames, true);
    mark(frame_count, word_count * 64 - frame_count, true); /* the tail of the last word is not RAM */
    free_frames = frame_count - reserved_frames;
    hint = 0;
}

size_t phys_free_frames(void) { return free_frames; }

bool phys_is_allocated(uintptr_t addr)
{
    size_t frame = addr >> PAGE_SHIFT;
    return addr < ram_size && frame >= reserved_frames && frame_used(frame);
}

EXPORT uintptr_t mm_phys_alloc_page(void)
{
    for (size_t word = hint; word < word_count; word++) {
        if (used_map[word] == UINT64_MAX)
            continue;
        hint = word;
        size_t frame = word * 64 + (size_t)__builtin_ctzll(~used_map[word]);
        mark(frame, 1, true);
        free_frames--;
        return (uintptr_t)frame << PAGE_SHIFT;
    }
    hint = word_count;
    return MM_NADDR;
}

EXPORT uintptr_t mm_phys_alloc_contiguous(size_t count)
{
#ifdef MMSPEC_BUG_CONTIGUOUS_ABORT
    assert(count <= 512); /* "cannot happen" in a kernel that never asked for more than 2 MiB */
#endif
#ifdef MMSPEC_BUG_PANIC_TEXT_CONTROLS
    /* a kernel whose panic message is coloured for its serial console, with a bell and a stray byte */
    if (count > 1)
        kpanic("ContiguousUnsupported", "\x1b[1;31mno contiguous allocator\x1b[0m\a (count %zu)\x01", count);
#endif
    if (count == 0 || count > free_frames)
        return MM_NADDR;
    size_t run_start = 0, run = 0;
    for (size_t frame = hint * 64; frame < frame_count; frame++) {
        if (frame % 64 == 0 && used_map[frame / 64] == UINT64_MAX && frame + 64 <= frame_count) {
#ifndef MMSPEC_BUG_CONTIGUOUS_RUN_ACROSS_FULL_WORD
            run = 0; /* (the bug: the fast path skips a full word but the run before it goes on counting) */
#endif
            frame += 63;
            continue;
        }
#ifdef MMSPEC_BUG_CONTIGUOUS_INCLUDES_USED
        /* Off by one: the page that would complete the run is not checked. */
        if (frame_used(frame) && run + 1 != count) {
#else
        if (frame_used(frame)) {
#endif
            run = 0;
            continue;
        }
        if (run++ == 0)
            run_start = frame;
        if (run == count) {
#ifdef MMSPEC_BUG_CONTIGUOUS_INCLUDES_USED
            for (size_t f = run_start; f < run_start + count; f++)
                if (!frame_used(f))
                    free_frames--;
#else
            free_frames -= count;
#endif
            mark(run_start, count, true);
            return (uintptr_t)run_start << PAGE_SHIFT;
        }
    }
    return MM_NADDR;
}

EXPORT void mm_phys_free_page(uintptr_t addr)
{
    if (!page_aligned(addr))
        kpanic("FreeOfUnalignedAddress", "mm_phys_free_page(0x%lx): not page aligned", (unsigned long)addr);
    if (addr >= ram_size)
        kpanic("FreeOutsideRam", "mm_phys_free_page(0x%lx): outside RAM", (unsigned long)addr);
    size_t frame = addr >> PAGE_SHIFT;
    if (frame < reserved_frames)
        kpanic("FreeOfReservedPage", "mm_phys_free_page(0x%lx): reserved low memory", (unsigned long)addr);
    if (!frame_used(frame))
        kpanic("FreeOfUnallocatedPage", "mm_phys_free_page(0x%lx): page is not allocated", (unsigned long)addr);
    mark(frame, 1, false);
    free_frames++;
    if (frame / 64 < hint)
        hint = frame / 64;
#ifdef MMSPEC_BUG_FREE_SCRIBBLES_NEXT
    /* A free-list link written one page too far: into a page this call does not own. */
    if (frame + 1 < frame_count)
        *(volatile uint64_t *)MM_VIRTUALIZE(addr + MM_PAGE_SIZE) = 0xDEADBEEFull;
#endif
}
