/* Boot, panics and the mmspec entry points that are not spec functions. */
#include <stdarg.h>
#include <stdio.h>

#include "sample.h"

MMSPEC_DEFINE_HOSTED_STATE;

size_t ram_size;
size_t frame_count;

void kpanic(const char *name, const char *fmt, ...)
{
    static char text[256];
    int used = snprintf(text, sizeof text, "%s: ", name);
    va_list args;
    va_start(args, fmt);
    vsnprintf(text + used, sizeof text - (size_t)used, fmt, args);
    va_end(args);
    mmspec_panic_hook(text);
}

EXPORT void mmspec_init(const struct mmspec_env *env)
{
    static bool booted; /* init runs once, on the globals as loaded: a second boot would be a host bug */
    mmspec_hosted_setup(env);
    if (booted)
        kpanic("BootedTwice", "mmspec_init on globals that have already booted");
    booted = true;
    ram_size = env->ram_size > MAX_RAM ? MAX_RAM : env->ram_size & ~(MM_PAGE_SIZE - 1);
    frame_count = ram_size >> PAGE_SHIFT;
    phys_init();
    heap_init();
    paging_init();
}

EXPORT mm_space_t mmspec_space_create(void)
{
    uintptr_t root = paging_new_space();
    return root == MM_NADDR ? MM_NADDR : MM_VIRTUALIZE(root);
}

EXPORT uintptr_t mmspec_space_root(mm_space_t space)
{
    return paging_root(space);
}

EXPORT uint32_t mmspec_capabilities(void)
{
    return MMSPEC_CAP_DIRECT_MAP_LARGE_PAGES | MMSPEC_CAP_SHARED_KERNEL_HALF | MMSPEC_CAP_PANICS_ON_MISUSE
         | MMSPEC_CAP_REFERENCE_DECISIONS;
}
