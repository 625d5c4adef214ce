/*
 * Internal interface of the "alt" implementation: a second conformant implementation of the spec that
 * makes every implementation-defined choice differently from the sample (see native/alt/README.md).
 */
#ifndef ALT_H
#define ALT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mmspec.h"

#define EXPORT __attribute__((visibility("default")))

#define PAGE_SHIFT 12
#define PAGE_MASK (MM_PAGE_SIZE - 1)
#define GIB ((uintptr_t)1 << 30)
#define MAX_RAM GIB                          /* host-side metadata is sized for this much RAM */
#define MAX_FRAMES (MAX_RAM >> PAGE_SHIFT)   /* 262144 */
#define DIRECT_MAP_GIBS 4                    /* the direct map: 4 x 1 GiB leaves under PML4 slot 510 */
#define MAX_SPACES 64
#define ENTRIES 512

/* Architectural x86-64 entry bits. */
#define PTE_P ((uint64_t)1 << 0)
#define PTE_RW ((uint64_t)1 << 1)
#define PTE_US ((uint64_t)1 << 2)
#define PTE_PS ((uint64_t)1 << 7)
#define PTE_NX ((uint64_t)1 << 63)
#define PTE_ADDR ((uint64_t)0x000FFFFFFFFFF000ull)

#define API_FLAGS (MM_PAGE_USER | MM_PAGE_WRITE | MM_PAGE_EXEC)
#define SLOT_DMAP 510u    /* shared by every space */
#define SLOT_PRIVATE 511u /* one PDPT per space */

/* Canonical segments: a region never crosses from one into another. */
#define USER_LOW_LAST ((uintptr_t)0x00007FFFFFFFFFFFull)
#define USER_HIGH_FIRST ((uintptr_t)0xFFFF800000000000ull)
#define USER_HIGH_LAST (MM_KERNEL_BASE - 1)

static inline bool is_canonical(uintptr_t v) { uintptr_t top = v >> 47; return top == 0 || top == 0x1FFFF; }
static inline bool is_kernel(uintptr_t v) { return v >= MM_KERNEL_BASE; }
static inline bool page_aligned(uintptr_t v) { return (v & PAGE_MASK) == 0; }
static inline uint64_t *table_at(uintptr_t phys) { return (uint64_t *)MM_VIRTUALIZE(phys); }

/* boot.c */
extern size_t ram_bytes; /* usable RAM (page multiple, at most MAX_RAM) */
extern size_t ram_pages;
__attribute__((noreturn, format(printf, 2, 3))) void kpanic(const char *name, const char *fmt, ...);
uintptr_t space_root_of(mm_space_t space); /* panics on an unknown handle */
size_t space_count(void);
uintptr_t space_root_at(size_t index);

/* frames.c: the page allocator over [1, limit); page 0 is reserved, the pool lies above limit */
void frames_init(size_t limit);
bool frames_is_live(uintptr_t phys);
size_t frames_free(void);

/* pool.c: page-table pages, never handed out by the page allocator */
void pool_init(size_t first_frame, size_t pages);
uintptr_t pool_take(void); /* a zeroed page, or MM_NADDR */
void pool_give(uintptr_t phys);
bool pool_owns(uintptr_t phys);

/* paging.c */
struct leaf {
    uintptr_t base;  /* canonical virtual address of the page */
    uintptr_t size;  /* 4 KiB, 2 MiB or 1 GiB */
    uint64_t entry;
    int level;       /* 1 = PT, 2 = PD, 3 = PDPT */
};
struct path {
    uintptr_t table[5]; /* table[l]: the level-l table walked through */
    unsigned index[5];
    struct leaf leaf;
    uint64_t us_rw;     /* AND of US and RW over every level */
    uint64_t nx;        /* OR of NX over every level */
};
void paging_init(void);
uintptr_t paging_new_root(void);
bool paging_lookup(uintptr_t root, uintptr_t virt, struct path *out);
int paging_map(uintptr_t root, uintptr_t virt, uintptr_t phys, uint64_t leaf_bits);
void paging_remove(const struct path *path);
void paging_grant_user(uintptr_t root, uintptr_t virt);
uint64_t paging_leaf_bits(uint64_t flags);
uintptr_t leaf_phys(const struct leaf *leaf); /* the leaf's physical base */
/* Highest / lowest present leaf intersecting [first, last] (inclusive, one canonical segment). */
bool paging_highest_leaf(uintptr_t root, uintptr_t first, uintptr_t last, struct leaf *out);
bool paging_lowest_leaf(uintptr_t root, uintptr_t first, uintptr_t last, struct leaf *out);

/* heap.c */
void heap_init(void);

#endif
