/*
 * x86-64 4-level page tables in simulated RAM, every table from the private pool.
 *
 * Kernel half: PML4 slot 510 is SHARED (every PML4 points to one PDPT whose entries 0..3 are the
 * 1 GiB direct-map leaves of physical 0..4 GiB; the rest of that PDPT holds kernel mappings every
 * space sees). Slot 511 is PRIVATE: each space gets its own PDPT, copied from a boot template, so
 * mappings there are seen only by the space that made them.
 */
#include <string.h>

#include "alt.h"

#define RAW_MASK (((uintptr_t)1 << 48) - 1)

static uintptr_t shared_pdpt;
static uint64_t private_template[ENTRIES]; /* what a new space's slot-511 PDPT starts as */
static bool dmap_slot_user; /* some slot-510 leaf is USER: every PML4 entry 510 carries US */

static unsigned index_at(uintptr_t virt, int level) { return (unsigned)((virt >> (PAGE_SHIFT + 9 * (level - 1))) & 0x1FF); }
static uintptr_t span_of(int level) { return MM_PAGE_SIZE << (9 * (level - 1)); }
static bool is_leaf(uint64_t entry, int level) { return level == 1 || ((level == 2 || level == 3) && (entry & PTE_PS)); }
static uintptr_t canonical(uintptr_t raw) { return (raw & ((uintptr_t)1 << 47)) ? raw | ~RAW_MASK : raw; }

void paging_init(void)
{
    shared_pdpt = pool_take();
    if (shared_pdpt == MM_NADDR)
        kpanic("BootOutOfTables", "no pool page for the direct map");
    uint64_t *pdpt = table_at(shared_pdpt);
    /* 4 GiB even on a smaller machine: physical addresses past RAM are simply not backed. */
    for (uintptr_t i = 0; i < DIRECT_MAP_GIBS; i++)
        pdpt[i] = (i * GIB) | PTE_P | PTE_RW | PTE_PS | PTE_NX;
    memset(private_template, 0, sizeof private_template);
    dmap_slot_user = false;
}

uintptr_t paging_new_root(void)
{
    uintptr_t root = pool_take();
    if (root == MM_NADDR)
        return MM_NADDR;
    uintptr_t private_pdpt = pool_take();
    if (private_pdpt == MM_NADDR) {
        pool_give(root);
        return MM_NADDR;
    }
    memcpy(table_at(private_pdpt), private_template, MM_PAGE_SIZE);
    uint64_t *pml4 = table_at(root);
    pml4[SLOT_DMAP] = shared_pdpt | PTE_P | PTE_RW | (dmap_slot_user ? PTE_US : 0);
    pml4[SLOT_PRIVATE] = private_pdpt | PTE_P | PTE_RW;
    return root;
}

uint64_t paging_leaf_bits(uint64_t flags)
{
    return PTE_P | ((flags & MM_PAGE_WRITE) ? PTE_RW : 0) | ((flags & MM_PAGE_USER) ? PTE_US : 0)
         | ((flags & MM_PAGE_EXEC) ? 0 : PTE_NX);
}

uintptr_t leaf_phys(const struct leaf *leaf) { return leaf->entry & PTE_ADDR & ~(uint64_t)(leaf->size - 1); }

bool paging_lookup(uintptr_t root, uintptr_t virt, struct path *out)
{
    uintptr_t table = root;
    uint64_t us_rw = PTE_US | PTE_RW, nx = 0;
    for (int level = 4; level >= 1; level--) {
        unsigned index = index_at(virt, level);
        uint64_t entry = table_at(table)[index];
        out->table[level] = table;
        out->index[level] = index;
        if (!(entry & PTE_P))
            return false;
        us_rw &= entry;
        nx |= entry & PTE_NX;
        if (is_leaf(entry, level)) {
            out->leaf.size = span_of(level);
            out->leaf.base = virt & ~(out->leaf.size - 1);
            out->leaf.entry = entry;
            out->leaf.level = level;
            out->us_rw = us_rw;
            out->nx = nx;
            return true;
        }
        table = entry & PTE_ADDR;
    }
    return false;
}

static bool table_empty(uintptr_t table)
{
    const uint64_t *entries = table_at(table);
    for (unsigned i = 0; i < ENTRIES; i++)
        if (entries[i])
            return false;
    return true;
}

/* Clears the leaf `path` found, then gives emptied tables back to the pool. The PML4s and the
 * kernel PDPTs (shared slot 510, per-space slot 511) are never freed: spaces point at them. */
void paging_remove(const struct path *path)
{
    int level = path->leaf.level;
    table_at(path->table[level])[path->index[level]] = 0;
    for (; level < 4; level++) {
        if (level == 3 && is_kernel(path->leaf.base))
            return;
        if (!table_empty(path->table[level]))
            return;
        table_at(path->table[level + 1])[path->index[level + 1]] = 0;
        pool_give(path->table[level]);
    }
}

int paging_map(uintptr_t root, uintptr_t virt, uintptr_t phys, uint64_t leaf_bits)
{
    /* Intermediate entries never restrict: the leaf decides (US only in the user half by default). */
    uint64_t link = PTE_P | PTE_RW | (is_kernel(virt) ? 0 : PTE_US);
    uintptr_t parent[3], child[3];
    unsigned slot[3];
    int made = 0;
    uintptr_t table = root;
    for (int level = 4; level > 1; level--) {
        unsigned index = index_at(virt, level);
        uint64_t entry = table_at(table)[index];
        if (entry & PTE_P) {
            /* Present entries exist only above tables this call did not create: nothing to undo. */
            if (is_leaf(entry, level))
                return -MMSPEC_EEXIST;
            table = entry & PTE_ADDR;
            continue;
        }
        uintptr_t fresh = pool_take();
        if (fresh == MM_NADDR) {
            while (made-- > 0) {
                table_at(parent[made])[slot[made]] = 0;
                pool_give(child[made]);
            }
            return -MMSPEC_ENOMEM;
        }
        table_at(table)[index] = fresh | link;
        parent[made] = table;
        slot[made] = index;
        child[made++] = fresh;
        table = fresh;
    }
    uint64_t *entry = &table_at(table)[index_at(virt, 1)];
    if (*entry & PTE_P)
        return -MMSPEC_EEXIST;
    *entry = phys | leaf_bits;
    return 0;
}

/*
 * A USER leaf at a kernel address (mm_map_single accepts it): the kernel-half links on its path get
 * US too, so the effective rights are what was asked. The links above other kernel leaves then allow
 * US as well, which changes nothing for them: their own leaves are supervisor-only. Slot 510 is
 * shared, so its PML4 entry changes in every space (and in spaces created later).
 */
void paging_grant_user(uintptr_t root, uintptr_t virt)
{
    uintptr_t table = root;
    for (int level = 4; level > 1; level--) {
        uint64_t *entry = &table_at(table)[index_at(virt, level)];
        if (!(*entry & PTE_P) || is_leaf(*entry, level))
            return;
        *entry |= PTE_US;
        table = *entry & PTE_ADDR;
    }
    if (index_at(virt, 4) == SLOT_DMAP) {
        dmap_slot_user = true;
        for (size_t i = 0; i < space_count(); i++)
            table_at(space_root_at(i))[SLOT_DMAP] |= PTE_US;
    }
}

/*
 * The first leaf met scanning [lo, hi] (raw 48-bit addresses) downwards or upwards. Absent entries are
 * skipped whole, whatever they span, so the cost follows the number of tables, not of pages.
 */
static bool extreme_leaf(uintptr_t table, int level, uintptr_t base, uintptr_t lo, uintptr_t hi, bool highest, struct leaf *out)
{
    uintptr_t span = span_of(level);
    unsigned first = lo > base ? (unsigned)((lo - base) / span) : 0;
    uintptr_t last_index = (hi - base) / span;
    unsigned last = last_index > ENTRIES - 1 ? ENTRIES - 1 : (unsigned)last_index;
    const uint64_t *entries = table_at(table);
    for (unsigned n = 0; n <= last - first; n++) {
        unsigned i = highest ? last - n : first + n;
        uint64_t entry = entries[i];
        if (!(entry & PTE_P))
            continue;
        uintptr_t start = base + (uintptr_t)i * span;
        if (is_leaf(entry, level)) {
            out->base = canonical(start);
            out->size = span;
            out->entry = entry;
            out->level = level;
            return true;
        }
        if (extreme_leaf(entry & PTE_ADDR, level - 1, start, lo, hi, highest, out))
            return true;
    }
    return false;
}

bool paging_highest_leaf(uintptr_t root, uintptr_t first, uintptr_t last, struct leaf *out)
{
    return extreme_leaf(root, 4, 0, first & RAW_MASK, last & RAW_MASK, true, out);
}

bool paging_lowest_leaf(uintptr_t root, uintptr_t first, uintptr_t last, struct leaf *out)
{
    return extreme_leaf(root, 4, 0, first & RAW_MASK, last & RAW_MASK, false, out);
}
