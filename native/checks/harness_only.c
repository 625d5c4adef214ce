/*
 * Compiled by `make -C native` (syntax only): a port's glue file that includes its kernel's own headers,
 * whose names collide with the spec's, together with mmspec.h in harness-only mode.
 */
#include <stdint.h>

/* What a kernel header might define under the spec's names, with its own values. */
#define MM_PAGE_USER (1ull << 2)
#define MM_PAGE_WRITE (1ull << 1)
#define MM_NADDR ((uintptr_t)0)
typedef struct kernel_space *mm_space_t;
uintptr_t mm_phys_alloc_page(void);

#define MMSPEC_HARNESS_ONLY
#include "mmspec.h"

/* The hooks, in the harness's own terms, next to the kernel's definitions. */
MMSPEC_DEFINE_HOSTED_STATE;

uintptr_t mmspec_space_create(void)
{
    uintptr_t page = mm_phys_alloc_page();
    return page == MM_NADDR ? MMSPEC_NADDR : MMSPEC_VIRTUALIZE(page);
}

/* Kernel flags to the suite's flags, as mm_map_get must report them. */
uint64_t glue_flags_to_suite(uint64_t kernel_flags)
{
    return ((kernel_flags & MM_PAGE_USER) ? MMSPEC_PAGE_USER : 0) | ((kernel_flags & MM_PAGE_WRITE) ? MMSPEC_PAGE_WRITE : 0);
}
