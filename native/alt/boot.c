/*
 * Boot, panics, and the address-space handles.
 *
 * Memory layout chosen at boot (all of it in globals, which the host restores between machines):
 *   page 0                      reserved, never handed out
 *   [1, pool)                   the page allocator (frames.c)
 *   [pool, ram_pages)           the page-table pool (pool.c): max(64, ram_pages / 8) pages at the top
 * Space handles are small integers (index + 1), not pointers, so a stale or forged handle is caught.
 */
#include <stdarg.h>
#include <stdio.h>

#include "alt.h"

MMSPEC_DEFINE_HOSTED_STATE;

size_t ram_bytes;
size_t ram_pages;

static bool booted;
static uintptr_t roots[MAX_SPACES]; /* PML4 of space handle i + 1 */
static size_t spaces;

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

static size_t pool_size_for(size_t pages)
{
    size_t pool = pages / 8 > 64 ? pages / 8 : 64;
    /* Absurdly small machines: keep at least half of RAM for the allocator. */
    if (pool > pages / 2)
        pool = pages / 2;
    return pool;
}

EXPORT void mmspec_init(const struct mmspec_env *env)
{
    mmspec_hosted_setup(env);
    /* The host restores our globals before every machine; seeing them booted means it did not. */
    if (booted)
        kpanic("BootedTwice", "mmspec_init on globals that have already booted");
    booted = true;
    ram_bytes = env->ram_size & ~PAGE_MASK;
    if (ram_bytes > MAX_RAM)
        ram_bytes = MAX_RAM; /* the rest is simply not used */
    ram_pages = ram_bytes >> PAGE_SHIFT;
    size_t pool = pool_size_for(ram_pages);
    frames_init(ram_pages - pool);
    pool_init(ram_pages - pool, pool);
    paging_init();
    heap_init();
    spaces = 0;
}

EXPORT mm_space_t mmspec_space_create(void)
{
    if (spaces == MAX_SPACES)
        return MM_NADDR;
    uintptr_t root = paging_new_root();
    if (root == MM_NADDR)
        return MM_NADDR;
    roots[spaces++] = root;
    return (mm_space_t)spaces;
}

uintptr_t space_root_of(mm_space_t space)
{
    if (space == 0 || space > spaces)
        kpanic("UnknownAddressSpace", "0x%lx is not a space handle", (unsigned long)space);
    return roots[space - 1];
}

EXPORT uintptr_t mmspec_space_root(mm_space_t space)
{
    return space_root_of(space);
}

size_t space_count(void) { return spaces; }
uintptr_t space_root_at(size_t index) { return roots[index]; }
