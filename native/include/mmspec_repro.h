/*
 * mmspec_repro.h - what a generated C reproducer (repro/<property>.c) needs besides the spec's API: heap pointers
 * as the suite records them, the marks the suite writes into the pages and blocks it holds, and the state checks
 * it asserts (page walks with mmspec_walk.h, page tables by census). Header-only; include after mmspec.h.
 * native/README.md ("Reproducers") describes how to build and run one with native/repro/main.c.
 */
#ifndef MMSPEC_REPRO_H
#define MMSPEC_REPRO_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "mmspec.h"
#include "mmspec_walk.h"

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Heap pointers. The suite records kmalloc results as the spec's direct-map addresses (MMSPEC_KERNEL_BASE + phys);
 * a hosted kmalloc returns MMSPEC_VIRTUALIZE(phys). These convert as the host does: NULL stays NULL, and a pointer
 * outside RAM passes through untranslated. (On a kernel whose direct map is the spec's, both are the identity.)
 */
static inline uintptr_t mmspec_repro_spec_pointer(const void *host, size_t ram_size)
{
    uintptr_t p = (uintptr_t)host;
    if (p == 0)
        return 0;
    return p >= mmspec_ram_base && p - mmspec_ram_base < ram_size ? MMSPEC_KERNEL_BASE + (p - mmspec_ram_base) : p;
}

static inline void *mmspec_repro_host_pointer(uintptr_t spec, size_t ram_size)
{
    if (spec >= MMSPEC_KERNEL_BASE && spec - MMSPEC_KERNEL_BASE < ram_size)
        return (void *)MMSPEC_VIRTUALIZE(spec - MMSPEC_KERNEL_BASE);
    return (void *)spec;
}

/* A mark: length (1..8) bytes of value, little-endian, at physical address phys (x86-64 is little-endian). */
static inline void mmspec_repro_mark(uintptr_t phys, uint64_t value, size_t length)
{
    memcpy((void *)MMSPEC_VIRTUALIZE(phys), &value, length);
}

/* Whether the mark mmspec_repro_mark(phys, value, length) wrote is still there. */
static inline int mmspec_repro_holds(uintptr_t phys, uint64_t value, size_t length)
{
    return memcmp((const void *)MMSPEC_VIRTUALIZE(phys), &value, length) == 0;
}

/* Whether virt translates through a leaf of size bytes at frame with exactly the effective rights flags. */
static inline int mmspec_repro_maps(uintptr_t root, uintptr_t virt, uintptr_t frame, uintptr_t size, uint64_t flags, size_t ram_size)
{
    struct mmspec_walk_leaf leaf;
    return mmspec_walk(root, virt, ram_size, &leaf) == MMSPEC_WALK_MAPPED && leaf.size == size && leaf.frame == frame && leaf.flags == flags;
}

/* Whether the walk of virt meets a not-present entry (no translation, and no malformed entry on the way). */
static inline int mmspec_repro_unmapped(uintptr_t root, uintptr_t virt, size_t ram_size)
{
    struct mmspec_walk_leaf leaf;
    return mmspec_walk(root, virt, ram_size, &leaf) == MMSPEC_WALK_NOT_MAPPED;
}

/* The census of page tables: every distinct table page reachable from any of the roots, roots included. */
struct mmspec_repro_census {
    uintptr_t pages[8192];
    size_t count;
};

static inline int mmspec_repro_census_add_(uintptr_t table, int level, void *arg)
{
    struct mmspec_repro_census *census = (struct mmspec_repro_census *)arg;
    (void)level;
    for (size_t i = 0; i < census->count; i++)
        if (census->pages[i] == table)
            return 0;
    if (census->count < sizeof census->pages / sizeof census->pages[0])
        census->pages[census->count++] = table;
    return 0;
}

/* How many distinct page-table pages the spaces use together (a table shared by two spaces counts once). */
static inline size_t mmspec_repro_count_tables(const uintptr_t *roots, size_t spaces, size_t ram_size)
{
    static struct mmspec_repro_census census;
    census.count = 0;
    for (size_t i = 0; i < spaces; i++)
        (void)mmspec_walk_tables(roots[i], ram_size, mmspec_repro_census_add_, &census);
    return census.count;
}

/* Whether the physical page is the root or a page table of any of the spaces. */
static inline int mmspec_repro_is_table(const uintptr_t *roots, size_t spaces, uintptr_t page, size_t ram_size)
{
    for (size_t i = 0; i < spaces; i++)
        if (mmspec_walk_is_table(roots[i], page, ram_size))
            return 1;
    return 0;
}

#ifdef __cplusplus
}
#endif

#endif /* MMSPEC_REPRO_H */
