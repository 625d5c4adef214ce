/*
 * x86-64 4-level page tables kept in simulated RAM. The kernel half (PML4 slots 510 and 511) is one
 * pair of PDPTs shared by every space; the direct map is 512 2 MiB pages under slot 510.
 */
#include <string.h>

#include "sample.h"

#define ENTRIES 512
#define FIRST_KERNEL_SLOT 510

static uintptr_t kernel_pdpt[ENTRIES - FIRST_KERNEL_SLOT];

static unsigned index_at(uintptr_t virt, int level) { return (unsigned)((virt >> (PAGE_SHIFT + 9 * (level - 1))) & 0x1FF); }
static uintptr_t span_of(int level) { return MM_PAGE_SIZE << (9 * (level - 1)); }
static bool is_leaf(uint64_t entry, int level) { return level == 1 || ((level == 2 || level == 3) && (entry & PTE_PS)); }

#if defined(MMSPEC_BUG_MAP_GET_CACHE_IGNORES_SPACE) || defined(MMSPEC_BUG_MAP_GET_CACHE_SURVIVES_VMFREE)
/* A one-entry cache of the last mm_map_get hit (a software TLB), emptied when a mapping changes. */
static struct {
    bool valid;
    uintptr_t root, page;
    struct leaf leaf;
} lookup_cache;

static void lookup_cache_flush(void) { lookup_cache.valid = false; }
#endif

static uintptr_t new_table(void)
{
    uintptr_t page = mm_phys_alloc_page();
    if (page != MM_NADDR)
        memset(table_of(page), 0, MM_PAGE_SIZE);
    return page;
}

void paging_init(void)
{
    for (int slot = 0; slot < ENTRIES - FIRST_KERNEL_SLOT; slot++)
        kernel_pdpt[slot] = new_table();
    uintptr_t directory = new_table();
    uint64_t *pd = table_of(directory);
    for (uintptr_t i = 0; i < ENTRIES; i++)
        pd[i] = (i * LARGE_PAGE_SIZE) | PTE_P | PTE_RW | PTE_PS | PTE_NX;
    table_of(kernel_pdpt[index_at(MM_KERNEL_BASE, 4) - FIRST_KERNEL_SLOT])[index_at(MM_KERNEL_BASE, 3)] = directory | PTE_P | PTE_RW;
}

uintptr_t paging_new_space(void)
{
#ifdef MMSPEC_BUG_SPACE_ROOT_NOT_ZEROED
    uintptr_t root = mm_phys_alloc_page(); /* "only the kernel slots matter, and RAM is zero": not once pages are recycled */
#else
    uintptr_t root = new_table();
#endif
    if (root == MM_NADDR)
        return MM_NADDR;
#ifdef MMSPEC_BUG_SPACE_COPIES_USER_HALF
    /* a new space starts as a copy of the first one, whose user half "is always empty" */
    static uintptr_t first_root;
    if (first_root != 0)
        memcpy(table_of(root), table_of(first_root), MM_PAGE_SIZE);
    else
        first_root = root;
#endif
    for (int slot = FIRST_KERNEL_SLOT; slot < ENTRIES; slot++)
        table_of(root)[slot] = kernel_pdpt[slot - FIRST_KERNEL_SLOT] | PTE_P | PTE_RW;
    return root;
}

uintptr_t paging_root(mm_space_t space)
{
    uintptr_t root = MM_PHYS(space);
    if (space < mmspec_ram_base || root >= ram_size || !page_aligned(root))
        kpanic("UnknownAddressSpace", "0x%lx is not an address space", (unsigned long)space);
    return root;
}

uint64_t paging_leaf_bits(uint64_t flags)
{
    return PTE_P | ((flags & MM_PAGE_WRITE) ? PTE_RW : 0) | ((flags & MM_PAGE_USER) ? PTE_US : 0)
         | ((flags & MM_PAGE_EXEC) ? 0 : PTE_NX);
}

uint64_t paging_flags_of(uint64_t entry)
{
    return ((entry & PTE_RW) ? MM_PAGE_WRITE : 0) | ((entry & PTE_US) ? MM_PAGE_USER : 0) | ((entry & PTE_NX) ? 0 : MM_PAGE_EXEC);
}

bool paging_find(uintptr_t root, uintptr_t virt, struct leaf *out)
{
    uintptr_t table = root;
    for (int level = 4; level >= 1; level--) {
        uint64_t entry = table_of(table)[index_at(virt, level)];
        if (!(entry & PTE_P))
            return false;
        if (is_leaf(entry, level)) {
            out->size = span_of(level);
            out->base = virt & ~(out->size - 1);
            out->entry = entry;
            out->level = level;
            return true;
        }
        table = entry & PTE_ADDR;
    }
    return false;
}

static bool table_empty(uintptr_t table)
{
    const uint64_t *entries = table_of(table);
    for (int i = 0; i < ENTRIES; i++)
        if (entries[i])
            return false;
    return true;
}

static void unlink_table(uintptr_t parent, unsigned index)
{
    uintptr_t child = table_of(parent)[index] & PTE_ADDR;
    table_of(parent)[index] = 0;
    mm_phys_free_page(child);
}

int paging_map(uintptr_t root, uintptr_t virt, uintptr_t phys, uint64_t leaf_flags)
{
    uint64_t table_flags = PTE_P | PTE_RW | (is_kernel(virt) ? 0 : PTE_US);
    uintptr_t created_parent[3];
    unsigned created_index[3];
    int created = 0;
    uintptr_t table = root;
    for (int level = 4; level > 1; level--) {
        unsigned index = index_at(virt, level);
        uint64_t entry = table_of(table)[index];
#ifndef MMSPEC_BUG_MAP_INTO_LARGE_PAGE
        if ((entry & PTE_P) && is_leaf(entry, level)) /* (the bug: every present entry above a PT is taken for a table) */
            return -MMSPEC_EEXIST;
#endif
        if (!(entry & PTE_P)) {
            uintptr_t child = new_table();
            if (child == MM_NADDR) {
#ifdef MMSPEC_BUG_MAP_ENOMEM_DANGLING_TABLE
                /* gives back the tables it took, but leaves them linked from their parents */
                while (created-- > 0)
                    mm_phys_free_page(table_of(created_parent[created])[created_index[created]] & PTE_ADDR);
#else
                while (created-- > 0)
                    unlink_table(created_parent[created], created_index[created]);
#endif
                return -MMSPEC_ENOMEM;
            }
            entry = child | table_flags;
            table_of(table)[index] = entry;
            created_parent[created] = table;
            created_index[created++] = index;
        }
        table = entry & PTE_ADDR;
    }
    uint64_t *slot = &table_of(table)[index_at(virt, 1)];
    if (*slot & PTE_P)
        return -MMSPEC_EEXIST;
    *slot = phys | leaf_flags;
#ifdef MMSPEC_BUG_MAP_GET_CACHE_IGNORES_SPACE
    lookup_cache_flush();
#endif
    return 0;
}

/* Clears the leaf covering virt, then frees the tables that leaves empty (never a PML4 or a kernel PDPT). */
void paging_remove(uintptr_t root, uintptr_t virt)
{
    uintptr_t tables[5];
    unsigned indices[5];
    tables[4] = root;
    int level = 4;
    for (;;) {
        indices[level] = index_at(virt, level);
        uint64_t entry = table_of(tables[level])[indices[level]];
        if (!(entry & PTE_P))
            return;
        if (is_leaf(entry, level))
            break;
        tables[level - 1] = entry & PTE_ADDR;
        level--;
    }
    table_of(tables[level])[indices[level]] = 0;
    tlb_flush_page(virt);
#ifdef MMSPEC_BUG_MAP_GET_CACHE_IGNORES_SPACE
    lookup_cache_flush();
#endif
    for (; level < 4; level++) {
        if (level == 3 && is_kernel(virt))
            return;
        if (!table_empty(tables[level]))
            return;
        unlink_table(tables[level + 1], indices[level + 1]);
    }
}

#define RAW_MASK (((uintptr_t)1 << 48) - 1)

static uintptr_t canonical(uintptr_t raw) { return (raw & ((uintptr_t)1 << 47)) ? raw | ~RAW_MASK : raw; }

static bool walk(uintptr_t table, int level, uintptr_t table_base, uintptr_t raw_first, uintptr_t raw_last, leaf_visitor visit, void *arg)
{
    uintptr_t span = span_of(level);
    unsigned first = raw_first > table_base ? (unsigned)((raw_first - table_base) / span) : 0;
    uintptr_t last_index = (raw_last - table_base) / span;
    unsigned last = last_index > ENTRIES - 1 ? ENTRIES - 1 : (unsigned)last_index;
    const uint64_t *entries = table_of(table);
    for (unsigned index = first; index <= last; index++) {
        uint64_t entry = entries[index];
        if (!(entry & PTE_P))
            continue;
        uintptr_t start = table_base + (uintptr_t)index * span;
        if (is_leaf(entry, level)) {
            struct leaf leaf = { .base = canonical(start), .size = span, .entry = entry, .level = level };
            if (!visit(&leaf, arg))
                return false;
        } else if (!walk(entry & PTE_ADDR, level - 1, start, raw_first, raw_last, visit, arg)) {
            return false;
        }
    }
    return true;
}

void paging_leaves_in(uintptr_t root, uintptr_t first, uintptr_t last, leaf_visitor visit, void *arg)
{
    walk(root, 4, 0, first & RAW_MASK, last & RAW_MASK, visit, arg);
}

/* ---- spec entry points ---------------------------------------------------------------------- */

EXPORT int mm_map_single(mm_space_t space, uintptr_t virt, uintptr_t phys, uint64_t flags)
{
    uintptr_t root = paging_root(space);
#ifdef MMSPEC_BUG_MAP_NONCANONICAL_ALIASES
    if (!page_aligned(virt) || !page_aligned(phys) || phys >= ((uintptr_t)1 << 52) /* no canonical check */
#else
    if (!is_canonical(virt) || !page_aligned(virt) || !page_aligned(phys) || phys >= ((uintptr_t)1 << 52)
#endif
        || (flags & ~MM_FLAGS_ALL) || (is_kernel(virt) && (flags & MM_PAGE_USER)))
        return -MMSPEC_EINVAL;
    uint64_t bits = paging_leaf_bits(flags);
#ifdef MMSPEC_BUG_MAP_GET_CACHE_SURVIVES_VMFREE
    lookup_cache_flush(); /* the cache is flushed by the mapping calls; vmfree's unmaps go round it */
#endif
#ifdef MMSPEC_BUG_MAP_IGNORES_EXEC
    bits |= PTE_NX; /* every page ends up no-execute */
#endif
    return paging_map(root, virt, phys, bits);
}

EXPORT uintptr_t mm_map_get(mm_space_t space, uintptr_t virt, uint64_t *flags)
{
    uintptr_t root = paging_root(space);
    struct leaf leaf;
#if defined(MMSPEC_BUG_MAP_GET_CACHE_IGNORES_SPACE)
    if (lookup_cache.valid && lookup_cache.page == (virt & ~(MM_PAGE_SIZE - 1))) { /* the bug: the space is not compared */
        leaf = lookup_cache.leaf;
        goto found;
    }
#elif defined(MMSPEC_BUG_MAP_GET_CACHE_SURVIVES_VMFREE)
    if (lookup_cache.valid && lookup_cache.root == root && lookup_cache.page == (virt & ~(MM_PAGE_SIZE - 1))) {
        leaf = lookup_cache.leaf;
        goto found;
    }
#endif
#ifdef MMSPEC_BUG_MAP_GET_NONCANONICAL_ALIASES
    if (!paging_find(root, virt, &leaf)) /* no canonical check: the walk reads bits 47..12 only */
#else
    if (!is_canonical(virt) || !paging_find(root, virt, &leaf))
#endif
        return MM_NADDR;
#if defined(MMSPEC_BUG_MAP_GET_CACHE_IGNORES_SPACE) || defined(MMSPEC_BUG_MAP_GET_CACHE_SURVIVES_VMFREE)
    lookup_cache.valid = true;
    lookup_cache.root = root;
    lookup_cache.page = virt & ~(MM_PAGE_SIZE - 1);
    lookup_cache.leaf = leaf;
found:
#endif
    if (flags)
        *flags = paging_flags_of(leaf.entry);
    return (leaf.entry & PTE_ADDR & ~(leaf.size - 1)) + (virt - leaf.base);
}

EXPORT uintptr_t mm_umap_single(mm_space_t space, uintptr_t virt, uint32_t size)
{
    uintptr_t root = paging_root(space);
    struct leaf leaf;
#ifdef MMSPEC_BUG_MAP_GET_CACHE_SURVIVES_VMFREE
    lookup_cache_flush();
#endif
#ifdef MMSPEC_BUG_UMAP_NONCANONICAL_ALIASES
    if (!page_aligned(virt) || size > 1 || !paging_find(root, virt, &leaf)) /* no canonical check */
#else
    if (!is_canonical(virt) || !page_aligned(virt) || size > 1 || !paging_find(root, virt, &leaf))
#endif
        return MM_NADDR;
    if (size == 1 && leaf.level != 1)
        return MM_NADDR;
#ifdef MMSPEC_BUG_UMAP_SEGFAULT
    if (size == 0) {
        /* "the caller always passes a leaf cache": it does not */
        struct leaf *volatile cache = NULL;
        leaf.entry = cache->entry;
    }
#endif
    paging_remove(root, virt);
#ifdef MMSPEC_BUG_UMAP_RETURNS_ENTRY
    return leaf.entry & ~PTE_NX; /* the raw entry, flag bits and all */
#else
    return leaf.entry & PTE_ADDR & ~(leaf.size - 1);
#endif
}
