/*
 * mmspec.h - the hosted contract between a C implementation of the memory-management API
 * (shared/spec/memory-management.rst) and the mmspec conformance suite.
 *
 * An implementation is built as a shared library against this header. The suite's host process
 * (native/build/mmspec-host) loads it, hands it a block of simulated physical RAM that the suite
 * shares, calls mmspec_init() once, then calls the spec functions one at a time.
 *
 * Two address worlds meet here:
 *  - the simulated machine: physical addresses 0 .. ram_size, and virtual addresses as the spec
 *    defines them (kernel space from MM_KERNEL_BASE, the direct map at MM_KERNEL_BASE + p). Page
 *    tables, mm_map_get/mm_umap_single/vmfind/vmalloc/vmfree arguments and results are in this
 *    world: they describe the simulated machine.
 *  - the host: your code runs as an ordinary process, so the direct-map pointer it dereferences for
 *    physical address p is MM_VIRTUALIZE(p) == ram_base + p. The host translates kmalloc results
 *    and kfree arguments between host pointers and the spec's direct-map addresses
 *    (MM_KERNEL_BASE + p), so kmalloc simply returns MM_VIRTUALIZE(phys of the block).
 *
 * A kernel that has its own MM_PAGE_*, MM_NADDR, mm_space_t or spec prototypes can include this header
 * from the same file as its own headers: define MMSPEC_HARNESS_ONLY first and you get only the harness
 * part (struct mmspec_env, the hosted state, the hooks), with every constant namespaced (MMSPEC_NADDR,
 * MMSPEC_PAGE_SIZE, MMSPEC_PAGE_USER, ..., MMSPEC_VIRTUALIZE, MMSPEC_PHYS).
 *
 * See native/README.md for the porting guide and the host protocol.
 */
#ifndef MMSPEC_H
#define MMSPEC_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define MMSPEC_ABI_VERSION 1u

/* ---- constants, namespaced (always defined) ------------------------------------------------ */

#define MMSPEC_NADDR ((uintptr_t)-1)
#define MMSPEC_PAGE_SIZE ((uintptr_t)4096)

/* Permission flags of mm_map_single/vmalloc/mm_map_get as the suite passes and reads them. If your
 * kernel uses other values, translate at the entry points (native/README.md, "Flags"). */
#define MMSPEC_PAGE_USER ((uint64_t)1)
#define MMSPEC_PAGE_WRITE ((uint64_t)2)
#define MMSPEC_PAGE_EXEC ((uint64_t)4)

/* The spec's kernel/user boundary; the direct map of (at least) the low 1 GiB starts there. */
#define MMSPEC_KERNEL_BASE ((uintptr_t)0xFFFFFF0000000000ull)
#define MMSPEC_DIRECT_MAP_SIZE ((uintptr_t)1 << 30)

/* errno values used by the reference for int results (returned negated; only strict checks them). */
#define MMSPEC_EINVAL 22
#define MMSPEC_EEXIST 17
#define MMSPEC_ENOMEM 12

/* ---- spec types and constants (left out with MMSPEC_HARNESS_ONLY) --------------------------- */

#ifndef MMSPEC_HARNESS_ONLY
/* An address space. Opaque to the suite: whatever your mmspec_space_create() returns. */
typedef uintptr_t mm_space_t;

#define MM_NADDR MMSPEC_NADDR
#define MM_PAGE_SIZE MMSPEC_PAGE_SIZE
#define MM_PAGE_USER MMSPEC_PAGE_USER
#define MM_PAGE_WRITE MMSPEC_PAGE_WRITE
#define MM_PAGE_EXEC MMSPEC_PAGE_EXEC
#define MM_KERNEL_BASE MMSPEC_KERNEL_BASE
#define MM_DIRECT_MAP_SIZE MMSPEC_DIRECT_MAP_SIZE
#endif

/* ---- the harness environment ------------------------------------------------------------- */

struct mmspec_env {
    /* Host pointer to simulated physical address 0; RAM is ram_size bytes, page aligned. */
    void *ram_base;
    size_t ram_size;
    /*
     * Kernel panic. Does not return: the host abandons the current call and reports the panic to
     * the suite as "kernel panic" with this text. Convention: "Name: details", where Name is a
     * short identifier such as "FreeOfUnallocatedPage" or "HeapDoubleFree" (the suite shows the
     * part before the first ':' as the panic reason). Panic before changing any state: the suite
     * keeps using the machine after a panic it expected.
     */
    void (*panic)(const char *reason) __attribute__((noreturn));
};

/*
 * Hosted direct map. The implementation defines the variable (MMSPEC_DEFINE_HOSTED_STATE in one
 * .c file) and sets it with mmspec_hosted_setup() from mmspec_init().
 */
extern uintptr_t mmspec_ram_base;
extern void (*mmspec_panic_hook)(const char *reason) __attribute__((noreturn));

#define MMSPEC_DEFINE_HOSTED_STATE \
    uintptr_t mmspec_ram_base; \
    void (*mmspec_panic_hook)(const char *reason) __attribute__((noreturn))

static inline void mmspec_hosted_setup(const struct mmspec_env *env)
{
    mmspec_ram_base = (uintptr_t)env->ram_base;
    mmspec_panic_hook = env->panic;
}

/* Physical address -> pointer your code can dereference (host view of the direct map). */
#define MMSPEC_VIRTUALIZE(p) ((uintptr_t)(p) + mmspec_ram_base)
/* Pointer obtained from MMSPEC_VIRTUALIZE -> physical address. */
#define MMSPEC_PHYS(v) ((uintptr_t)(v) - mmspec_ram_base)
/* Physical address -> the direct-map address of the *simulated* machine (what page tables map). */
#define MMSPEC_DMAP_ADDR(p) ((uintptr_t)(p) + MMSPEC_KERNEL_BASE)

#ifndef MMSPEC_HARNESS_ONLY
#define MM_VIRTUALIZE(p) MMSPEC_VIRTUALIZE(p)
#define MM_PHYS(v) MMSPEC_PHYS(v)
#endif

/* ---- what the implementation exports ----------------------------------------------------- */

/* Called once, before anything else, with RAM zeroed. Build the kernel half here: the suite observes it
 * (page sizes, extent, which kernel PML4 slots the spaces share) rather than assuming a layout. */
void mmspec_init(const struct mmspec_env *env);

/* A new memory space (kernel half present), or MMSPEC_NADDR when memory is exhausted. The handle is
 * opaque (uintptr_t, any value but MMSPEC_NADDR): it is passed back to the spec functions as is. */
uintptr_t mmspec_space_create(void);

/* Physical address of the space's PML4 (what CR3 would hold): page aligned, inside RAM. */
uintptr_t mmspec_space_root(uintptr_t space);

/* Optional and no longer read: the suite observes what these bits used to declare (the direct map's
 * page sizes, which kernel slots are shared), and the profile is chosen with `check --profile`. The
 * bits stay defined so that existing ports compile; the host ignores the value. */
uint32_t mmspec_capabilities(void);
#define MMSPEC_CAP_DIRECT_MAP_LARGE_PAGES (1u << 0)
#define MMSPEC_CAP_SHARED_KERNEL_HALF (1u << 1)
#define MMSPEC_CAP_PANICS_ON_MISUSE (1u << 2)
#define MMSPEC_CAP_REFERENCE_DECISIONS (1u << 3)

#ifndef MMSPEC_HARNESS_ONLY
/* The spec's functions, as the spec declares them. */
uintptr_t mm_phys_alloc_page(void);
uintptr_t mm_phys_alloc_contiguous(size_t count);
void mm_phys_free_page(uintptr_t addr);

void *kmalloc(size_t size);
void kfree(void *ptr);

int mm_map_single(mm_space_t space, uintptr_t virt, uintptr_t phys, uint64_t flags);
uintptr_t mm_map_get(mm_space_t space, uintptr_t virt, uint64_t *flags);
uintptr_t mm_umap_single(mm_space_t space, uintptr_t virt, uint32_t size);

uintptr_t vmfind(const mm_space_t pd, uintptr_t from, uintptr_t to, size_t npages);
uintptr_t vmalloc(mm_space_t pd, uintptr_t from, uintptr_t to, size_t npages, uint64_t flags);

/*
 * The spec names vmfree() but gives no prototype: this one is mmspec's. The default profile never reads
 * its result; only strict checks 0 / -EINVAL (VM-D07). A kernel whose vmfree returns void exports a
 * wrapper under this name and renames its own (e.g. with -Dvmfree=kernel_vmfree on its sources):
 *
 *     int vmfree(mm_space_t pd, uintptr_t addr, size_t npages) { kernel_vmfree(pd, addr, npages); return 0; }
 */
int vmfree(mm_space_t pd, uintptr_t addr, size_t npages);
#endif

#ifdef __cplusplus
}
#endif

#endif /* MMSPEC_H */
