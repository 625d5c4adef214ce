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

/* ---- spec types and constants ------------------------------------------------------------ */

/* An address space. Opaque to the suite: whatever your mmspec_space_create() returns. */
typedef uintptr_t mm_space_t;

#define MM_NADDR ((uintptr_t)-1)
#define MM_PAGE_SIZE ((uintptr_t)4096)

/* Permission flags of mm_map_single/vmalloc/mm_map_get (reference/Api/MmApi.cs, models/State/Rights.cs). */
#define MM_PAGE_USER ((uint64_t)1)
#define MM_PAGE_WRITE ((uint64_t)2)
#define MM_PAGE_EXEC ((uint64_t)4)

/* The spec's kernel/user boundary; the direct map of the low 1 GiB starts there. */
#define MM_KERNEL_BASE ((uintptr_t)0xFFFFFF0000000000ull)
#define MM_DIRECT_MAP_SIZE ((uintptr_t)1 << 30)

/* errno values used by the reference for int results (returned negated). */
#define MMSPEC_EINVAL 22
#define MMSPEC_EEXIST 17
#define MMSPEC_ENOMEM 12

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
#define MM_VIRTUALIZE(p) ((uintptr_t)(p) + mmspec_ram_base)
/* Pointer obtained from MM_VIRTUALIZE -> physical address. */
#define MM_PHYS(v) ((uintptr_t)(v) - mmspec_ram_base)
/* Physical address -> the direct-map address of the *simulated* machine (what page tables map). */
#define MMSPEC_DMAP_ADDR(p) ((uintptr_t)(p) + MM_KERNEL_BASE)

/* ---- what the implementation exports ----------------------------------------------------- */

/* Called once, before anything else, with RAM zeroed. Build the kernel half here. */
void mmspec_init(const struct mmspec_env *env);

/* A new memory space (kernel half present), or MM_NADDR when memory is exhausted. */
mm_space_t mmspec_space_create(void);

/* Physical address of the space's PML4 (what CR3 would hold). */
uintptr_t mmspec_space_root(mm_space_t space);

/* Optional (weak lookup by the host): MMSPEC_CAP_* bits; absent means 0. */
uint32_t mmspec_capabilities(void);

/* Mirrors spec-tests/Port/Capabilities.cs. */
#define MMSPEC_CAP_DIRECT_MAP_LARGE_PAGES (1u << 0) /* direct map uses 2 MiB pages */
#define MMSPEC_CAP_SHARED_KERNEL_HALF (1u << 1)     /* one kernel half for all spaces */
#define MMSPEC_CAP_PANICS_ON_MISUSE (1u << 2)       /* double free etc. call the panic hook */
#define MMSPEC_CAP_REFERENCE_DECISIONS (1u << 3)    /* behaves as the reference: strict profile */

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
int vmfree(mm_space_t pd, uintptr_t addr, size_t npages);

#ifdef __cplusplus
}
#endif

#endif /* MMSPEC_H */
