/* Internal interface of the sample implementation: shared between its translation units. */
#ifndef SAMPLE_H
#define SAMPLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mmspec.h"

#define EXPORT __attribute__((visibility("default")))

#define PAGE_SHIFT 12
#define LARGE_PAGE_SIZE ((uintptr_t)2 << 20)
#define RESERVED_LOW ((uintptr_t)1 << 20)
#define MAX_RAM ((uintptr_t)1 << 30)
#define MAX_FRAMES (MAX_RAM >> PAGE_SHIFT)

/* Architectural x86-64 page-table entry bits. */
#define PTE_P ((uint64_t)1 << 0)
#define PTE_RW ((uint64_t)1 << 1)
#define PTE_US ((uint64_t)1 << 2)
#define PTE_PS ((uint64_t)1 << 7)
#define PTE_NX ((uint64_t)1 << 63)
#define PTE_ADDR ((uint64_t)0x000FFFFFFFFFF000ull)

#define LOWER_HALF_END ((uintptr_t)0x0000800000000000ull)
#define UPPER_HALF_START ((uintptr_t)0xFFFF800000000000ull)
#define MM_FLAGS_ALL (MM_PAGE_USER | MM_PAGE_WRITE | MM_PAGE_EXEC)

/* Stubs a real kernel would have. */
#define tlb_flush_page(virt) ((void)(virt))
#define mm_lock() ((void)0)
#define mm_unlock() ((void)0)

/* kernel.c */
extern size_t ram_size;
extern size_t frame_count;
__attribute__((noreturn, format(printf, 2, 3))) void kpanic(const char *name, const char *fmt, ...);

/* phys.c */
void phys_init(void);
bool phys_is_allocated(uintptr_t addr);
size_t phys_free_frames(void);

/* paging.c */
struct leaf {
    uintptr_t base;   /* first virtual address of the page */
    uintptr_t size;   /* 4 KiB, 2 MiB or 1 GiB */
    uint64_t entry;   /* the raw entry */
    int level;        /* 1 = PT, 2 = PD, 3 = PDPT */
};

static inline uint64_t *table_of(uintptr_t phys) { return (uint64_t *)MM_VIRTUALIZE(phys); }
static inline bool is_canonical(uintptr_t v) { uintptr_t top = v >> 47; return top == 0 || top == 0x1FFFF; }
static inline bool is_kernel(uintptr_t v) { return v >= MM_KERNEL_BASE; }
static inline bool page_aligned(uintptr_t v) { return (v & (MM_PAGE_SIZE - 1)) == 0; }

void paging_init(void);
uintptr_t paging_new_space(void);
uintptr_t paging_root(mm_space_t space);
bool paging_find(uintptr_t root, uintptr_t virt, struct leaf *out);
int paging_map(uintptr_t root, uintptr_t virt, uintptr_t phys, uint64_t leaf_flags);
void paging_remove(uintptr_t root, uintptr_t virt);
uint64_t paging_leaf_bits(uint64_t flags);
uint64_t paging_flags_of(uint64_t entry);
/* Calls visit for every present leaf intersecting [first, last] (one canonical segment), in order; stops when it returns false. */
typedef bool (*leaf_visitor)(const struct leaf *leaf, void *arg);
void paging_leaves_in(uintptr_t root, uintptr_t first, uintptr_t last, leaf_visitor visit, void *arg);

/* heap.c */
void heap_init(void);

#endif
