/*
 * mmspec_walk.h - a header-only x86-64 page walker over the hosted RAM, for reproducers and your own checks.
 *
 * The suite judges an implementation by walking its page tables as the CPU would; a C reproducer that asserts
 * the state after a call (a wrong, missing or extra mapping, wrong permissions, a frame used as a page table)
 * walks them the same way with these functions. Configuration: 4-level paging, EFER.NXE = 1, MAXPHYADDR = 52.
 * Only P, R/W, U/S, PS (at PDPT and PD level; reserved in a PML4E, PAT in a PTE) and NX are read; R/W and U/S
 * are ANDed down the path, NX is ORed. A present 1 GiB / 2 MiB leaf with address bits below its size set
 * (other than bit 12, PAT) has a reserved bit set, and so does a PML4E with PS.
 *
 * Every table is read through MMSPEC_VIRTUALIZE, so mmspec_ram_base must be set (mmspec_hosted_setup); a table
 * pointer at or beyond ram_size is reported rather than followed. Include after mmspec.h.
 */
#ifndef MMSPEC_WALK_H
#define MMSPEC_WALK_H

#include <stddef.h>
#include <stdint.h>

#include "mmspec.h"

#ifdef __cplusplus
extern "C" {
#endif

enum mmspec_walk_status {
    MMSPEC_WALK_MAPPED = 0,      /* a present leaf translates the address */
    MMSPEC_WALK_NOT_MAPPED = 1,  /* an entry on the way is not present */
    MMSPEC_WALK_NONCANONICAL = 2,
    MMSPEC_WALK_RESERVED = 3,    /* a present entry has a reserved bit set: the CPU faults */
    MMSPEC_WALK_OUTSIDE_RAM = 4, /* a table on the way lies (partly) outside RAM */
};

struct mmspec_walk_leaf {
    uintptr_t phys;  /* what the walked address translates to */
    uintptr_t base;  /* first virtual address of the leaf page */
    uintptr_t frame; /* first physical address of the leaf page */
    uintptr_t size;  /* 4 KiB, 2 MiB or 1 GiB */
    uint64_t flags;  /* effective rights as MMSPEC_PAGE_USER | MMSPEC_PAGE_WRITE | MMSPEC_PAGE_EXEC */
    int level;       /* 1 = PT, 2 = PD, 3 = PDPT */
};

#define MMSPEC_PTE_P ((uint64_t)1 << 0)
#define MMSPEC_PTE_RW ((uint64_t)1 << 1)
#define MMSPEC_PTE_US ((uint64_t)1 << 2)
#define MMSPEC_PTE_PS ((uint64_t)1 << 7)
#define MMSPEC_PTE_NX ((uint64_t)1 << 63)
#define MMSPEC_PTE_ADDR ((uint64_t)0x000FFFFFFFFFF000ull)

/* Bytes one entry spans at a level: 4 KiB at 1 (PT) up to 512 GiB at 4 (PML4). */
static inline uint64_t mmspec_walk_span(int level)
{
    return (uint64_t)1 << (12 + 9 * (level - 1));
}

static inline int mmspec_walk_canonical(uintptr_t virt)
{
    uintptr_t top = virt >> 47;
    return top == 0 || top == 0x1FFFF;
}

/* One entry of the table at physical address table, or MMSPEC_WALK_OUTSIDE_RAM when the table is not in RAM. */
static inline int mmspec_walk_entry(uintptr_t table, unsigned index, size_t ram_size, uint64_t *entry)
{
    if ((table & (MMSPEC_PAGE_SIZE - 1)) != 0 || table >= ram_size || ram_size - table < MMSPEC_PAGE_SIZE)
        return MMSPEC_WALK_OUTSIDE_RAM;
    *entry = ((const volatile uint64_t *)MMSPEC_VIRTUALIZE(table))[index];
    return MMSPEC_WALK_MAPPED;
}

/* Whether a present entry at level is a leaf (1), a table (0) or malformed (-1). */
static inline int mmspec_walk_kind(uint64_t entry, int level)
{
    if (level == 1)
        return 1;
    if ((entry & MMSPEC_PTE_PS) == 0)
        return 0;
    if (level == 4)
        return -1;
    uint64_t reserved = (mmspec_walk_span(level) - 1) & ~(((uint64_t)1 << 13) - 1);
    return (entry & reserved) != 0 ? -1 : 1;
}

/* Translates virt through the space whose PML4 is at physical root; fills *leaf when it returns MMSPEC_WALK_MAPPED
 * (and zeroes it otherwise). */
static inline int mmspec_walk(uintptr_t root, uintptr_t virt, size_t ram_size, struct mmspec_walk_leaf *leaf)
{
    struct mmspec_walk_leaf none = { 0, 0, 0, 0, 0, 0 };
    *leaf = none; /* zero unless mapped */
    if (!mmspec_walk_canonical(virt))
        return MMSPEC_WALK_NONCANONICAL;
    uintptr_t table = root;
    int writable = 1, user = 1, executable = 1;
    for (int level = 4; level >= 1; level--) {
        uint64_t entry;
        unsigned index = (unsigned)((virt >> (12 + 9 * (level - 1))) & 511);
        if (mmspec_walk_entry(table, index, ram_size, &entry) != MMSPEC_WALK_MAPPED)
            return MMSPEC_WALK_OUTSIDE_RAM;
        if ((entry & MMSPEC_PTE_P) == 0)
            return MMSPEC_WALK_NOT_MAPPED;
        int kind = mmspec_walk_kind(entry, level);
        if (kind < 0)
            return MMSPEC_WALK_RESERVED;
        writable &= (entry & MMSPEC_PTE_RW) != 0;
        user &= (entry & MMSPEC_PTE_US) != 0;
        executable &= (entry & MMSPEC_PTE_NX) == 0;
        if (kind == 1) {
            uint64_t size = mmspec_walk_span(level);
            leaf->size = (uintptr_t)size;
            leaf->base = virt & ~(uintptr_t)(size - 1);
            leaf->frame = (uintptr_t)(entry & MMSPEC_PTE_ADDR & ~(size - 1));
            leaf->phys = leaf->frame + (virt - leaf->base);
            leaf->flags = (user ? MMSPEC_PAGE_USER : 0) | (writable ? MMSPEC_PAGE_WRITE : 0) | (executable ? MMSPEC_PAGE_EXEC : 0);
            leaf->level = level;
            return MMSPEC_WALK_MAPPED;
        }
        table = (uintptr_t)(entry & MMSPEC_PTE_ADDR);
    }
    return MMSPEC_WALK_NOT_MAPPED; /* not reached: level 1 entries are leaves */
}

/*
 * Visits the root and every table reachable from it through present non-leaf entries (each page once, at the
 * first path that reaches it), depth first in address order. visit(table, level, arg) returns nonzero to stop;
 * the result is then 1. Otherwise 0, or MMSPEC_WALK_RESERVED / MMSPEC_WALK_OUTSIDE_RAM negated when the
 * tables hold a malformed entry or point outside RAM. Tables found are remembered in seen[] (up to max_tables;
 * beyond that a table shared by two paths may be visited twice).
 */
typedef int (*mmspec_walk_table_visitor)(uintptr_t table, int level, void *arg);

static inline int mmspec_walk_tables(uintptr_t root, size_t ram_size, mmspec_walk_table_visitor visit, void *arg)
{
    enum { max_tables = 4096 };
    static uintptr_t seen[max_tables];
    size_t seen_count = 0;
    struct { uintptr_t table; int level; unsigned next; } path[4];
    int depth = 0;
    uint64_t entry;
    if (mmspec_walk_entry(root, 0, ram_size, &entry) != MMSPEC_WALK_MAPPED)
        return -MMSPEC_WALK_OUTSIDE_RAM;
    if (visit(root, 4, arg))
        return 1;
    seen[seen_count++] = root;
    path[0].table = root;
    path[0].level = 4;
    path[0].next = 0;
    while (depth >= 0) {
        if (path[depth].next == 512) {
            depth--;
            continue;
        }
        unsigned index = path[depth].next++;
        int level = path[depth].level;
        if (mmspec_walk_entry(path[depth].table, index, ram_size, &entry) != MMSPEC_WALK_MAPPED)
            return -MMSPEC_WALK_OUTSIDE_RAM;
        if ((entry & MMSPEC_PTE_P) == 0)
            continue;
        int kind = mmspec_walk_kind(entry, level);
        if (kind < 0)
            return -MMSPEC_WALK_RESERVED;
        if (kind == 1)
            continue;
        uintptr_t child = (uintptr_t)(entry & MMSPEC_PTE_ADDR);
        int known = 0;
        for (size_t i = 0; i < seen_count && !known; i++)
            known = seen[i] == child;
        if (known)
            continue;
        if (mmspec_walk_entry(child, 0, ram_size, &entry) != MMSPEC_WALK_MAPPED)
            return -MMSPEC_WALK_OUTSIDE_RAM;
        if (visit(child, level - 1, arg))
            return 1;
        if (seen_count < max_tables)
            seen[seen_count++] = child;
        depth++;
        path[depth].table = child;
        path[depth].level = level - 1;
        path[depth].next = 0;
    }
    return 0;
}

static inline int mmspec_walk_is_page_(uintptr_t table, int level, void *arg)
{
    (void)level;
    return table == *(const uintptr_t *)arg;
}

static inline int mmspec_walk_no_table_(uintptr_t table, int level, void *arg)
{
    (void)table;
    (void)level;
    (void)arg;
    return 0;
}

/* Whether the physical page frame is the root or a page table of the space whose PML4 is at root. */
static inline int mmspec_walk_is_table(uintptr_t root, uintptr_t frame, size_t ram_size)
{
    return mmspec_walk_tables(root, ram_size, mmspec_walk_is_page_, &frame) == 1;
}

/* Whether every table of the space lies in RAM and no present entry has a reserved bit set. */
static inline int mmspec_walk_sound(uintptr_t root, size_t ram_size)
{
    return mmspec_walk_tables(root, ram_size, mmspec_walk_no_table_, NULL) == 0;
}

#ifdef __cplusplus
}
#endif

#endif /* MMSPEC_WALK_H */
