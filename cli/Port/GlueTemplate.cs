namespace Mmspec.Cli.Port;

/// <summary>
/// mmspec_glue.c as <c>mmspec port init</c> writes it: every symbol the host looks up (native/host/server.c), each a
/// stub that panics through the host's hook with a text naming itself and this file, so that a library built from it
/// unchanged fails <c>check</c> with "panicked (PortStub)" at the first hook still to fill in, not with a crash.
/// </summary>
public static class GlueTemplate
{
    public const string FileName = "mmspec_glue.c";

    /// <summary>The panic reason of every stub: the part of the text before the first ':', which the suite shows.</summary>
    public const string PanicReason = "PortStub";

    /// <summary>What a stub's panic text says about <paramref name="hook"/>, as the suite's message quotes it.</summary>
    public static string PanicText(string hook) => $"{PanicReason}: mmspec port: not implemented: {hook} (fill it in in {FileName})";

    public const string Text =
        """
        /*
         * mmspec_glue.c - the glue between your kernel's memory manager and the mmspec host (written by
         * `mmspec port init`; it is yours now). Built unchanged, every function here panics with
         * "mmspec port: not implemented: <function> (fill it in in mmspec_glue.c)", and `mmspec check` reports the
         * first one it reaches: mmspec_init, at boot. Fill them in one by one; the porting guide (native/README.md in
         * mmspec, "Porting your kernel's mm code") says what each must do.
         *
         *  1. The hooks: mmspec_init (your boot code), mmspec_space_create, mmspec_space_root.
         *  2. Flag translation, both ways, for a kernel whose flag values are not the spec's.
         *  3. The spec's functions. Each stub is weak: when one of your kernel's sources (KERNEL_SRC in the Makefile)
         *     defines the function under the spec's name and prototype, the linker takes yours and drops the stub.
         *     When your kernel names it differently or takes other arguments, fill the stub in as a wrapper.
         *
         * Heap pointers and physical memory: your code reaches physical address p at MM_VIRTUALIZE(p) (the simulated
         * RAM in this process), and kmalloc returns such a pointer; page tables describe the simulated machine, with
         * the direct map at MM_KERNEL_BASE + p. Locks and TLB flushes are no-ops here; calls are strictly sequential.
         *
         * If your kernel's headers define MM_NADDR, MM_PAGE_*, mm_space_t or the spec's prototypes themselves, define
         * MMSPEC_HARNESS_ONLY before including mmspec.h and use the MMSPEC_* names (native/README.md, "Names that collide").
         */
        #include <stddef.h>
        #include <stdint.h>

        #include "mmspec.h"

        /* #include "your kernel's mm headers" */

        MMSPEC_DEFINE_HOSTED_STATE; /* the hosted direct map and panic hook: in exactly one file of the library */

        /* Panics through the host's hook (it does not return): the suite reports "panicked (PortStub)" with this text. */
        #define NOT_IMPLEMENTED(function) \
            mmspec_panic_hook("PortStub: mmspec port: not implemented: " function " (fill it in in mmspec_glue.c)")

        /* Stubs your kernel's own definitions replace at link time (see 3. above). */
        #define SPEC_STUB __attribute__((weak))

        /* ---- 1. the hooks ------------------------------------------------------------------------------------ */

        /* Boot: called once per machine, with RAM [0, env->ram_size) zeroed (2 MiB to 1 GiB, page aligned). */
        void mmspec_init(const struct mmspec_env *env)
        {
            mmspec_hosted_setup(env); /* keep this first: MM_VIRTUALIZE and the panic hook depend on it */
            /* Initialise your frame allocator over [0, env->ram_size), then build the kernel half of the page tables:
             * the direct map of at least [0, min(RAM, 1 GiB)) at MM_KERNEL_BASE, supervisor-only. E.g.
             *     my_frames_init(env->ram_size);
             *     my_paging_init();
             */
            NOT_IMPLEMENTED("mmspec_init");
        }

        /* A new address space with the kernel half present, or MM_NADDR when memory is exhausted. The handle is
         * opaque to the suite (any value but MM_NADDR): it comes back as the space argument of the spec's functions. */
        uintptr_t mmspec_space_create(void)
        {
            /* E.g. struct my_space *space = my_space_new(); return space ? (uintptr_t)space : MM_NADDR; */
            NOT_IMPLEMENTED("mmspec_space_create");
        }

        /* The physical address of the space's PML4 (what CR3 would hold): the suite walks your tables from there. */
        uintptr_t mmspec_space_root(uintptr_t space)
        {
            /* E.g. return ((struct my_space *)space)->pml4_phys; */
            (void)space;
            NOT_IMPLEMENTED("mmspec_space_root");
        }

        /* ---- 2. flag translation ------------------------------------------------------------------------------ */

        /* The spec's flags (MM_PAGE_USER 1, MM_PAGE_WRITE 2, MM_PAGE_EXEC 4, as the suite passes them to
         * mm_map_single and vmalloc) to your kernel's. If your kernel uses the spec's values, return flags. */
        uint64_t mmspec_port_flags_to_kernel(uint64_t flags)
        {
            (void)flags;
            NOT_IMPLEMENTED("mmspec_port_flags_to_kernel");
        }

        /* Your kernel's flags back to the spec's, for what mm_map_get reports. If they are the spec's, return them. */
        uint64_t mmspec_port_flags_from_kernel(uint64_t kernel_flags)
        {
            (void)kernel_flags;
            NOT_IMPLEMENTED("mmspec_port_flags_from_kernel");
        }

        /* ---- 3. the spec's functions (shared/spec/memory-management.rst) -------------------------------------- */

        /* One free physical page, or MM_NADDR. */
        SPEC_STUB uintptr_t mm_phys_alloc_page(void)
        {
            NOT_IMPLEMENTED("mm_phys_alloc_page");
        }

        /* count physically contiguous free pages, or MM_NADDR. */
        SPEC_STUB uintptr_t mm_phys_alloc_contiguous(size_t count)
        {
            (void)count;
            NOT_IMPLEMENTED("mm_phys_alloc_contiguous");
        }

        SPEC_STUB void mm_phys_free_page(uintptr_t addr)
        {
            (void)addr;
            NOT_IMPLEMENTED("mm_phys_free_page");
        }

        /* A heap block as a pointer your code can use: MM_VIRTUALIZE(its physical address); NULL when out of memory. */
        SPEC_STUB void *kmalloc(size_t size)
        {
            (void)size;
            NOT_IMPLEMENTED("kmalloc");
        }

        SPEC_STUB void kfree(void *ptr)
        {
            (void)ptr;
            NOT_IMPLEMENTED("kfree");
        }

        /* E.g. return my_map(space, virt, phys, mmspec_port_flags_to_kernel(flags)); 0 or a negative errno. */
        SPEC_STUB int mm_map_single(mm_space_t space, uintptr_t virt, uintptr_t phys, uint64_t flags)
        {
            (void)space, (void)virt, (void)phys, (void)flags;
            NOT_IMPLEMENTED("mm_map_single");
        }

        /* The physical address virt maps to, or MM_NADDR; when flags is not NULL, the mapping's flags in the spec's
         * terms (mmspec_port_flags_from_kernel). */
        SPEC_STUB uintptr_t mm_map_get(mm_space_t space, uintptr_t virt, uint64_t *flags)
        {
            (void)space, (void)virt, (void)flags;
            NOT_IMPLEMENTED("mm_map_get");
        }

        SPEC_STUB uintptr_t mm_umap_single(mm_space_t space, uintptr_t virt, uint32_t size)
        {
            (void)space, (void)virt, (void)size;
            NOT_IMPLEMENTED("mm_umap_single");
        }

        SPEC_STUB uintptr_t vmfind(const mm_space_t pd, uintptr_t from, uintptr_t to, size_t npages)
        {
            (void)pd, (void)from, (void)to, (void)npages;
            NOT_IMPLEMENTED("vmfind");
        }

        SPEC_STUB uintptr_t vmalloc(mm_space_t pd, uintptr_t from, uintptr_t to, size_t npages, uint64_t flags)
        {
            (void)pd, (void)from, (void)to, (void)npages, (void)flags;
            NOT_IMPLEMENTED("vmalloc");
        }

        /* mmspec's prototype (the spec gives none): a kernel whose vmfree returns void wraps it here and returns 0. */
        SPEC_STUB int vmfree(mm_space_t pd, uintptr_t addr, size_t npages)
        {
            (void)pd, (void)addr, (void)npages;
            NOT_IMPLEMENTED("vmfree");
        }

        """;
}
