/*
 * Hostile runners: the sample kernel with one hostile act wrapped around its entry points. They test
 * the host, not the spec: what an implementation may do to the process it runs in (fork, flood its
 * log, die or hang while booting) must end with its machine and still give a verdict. The zoo
 * (-DMMSPEC_BUG_<NAME>) is for bugs against the spec; these are build/libhostile-<name>.so, each
 * built with -DMMSPEC_HOSTILE_<NAME>.
 *
 * The Makefile renames the sample's mmspec_init, mmspec_space_create, mmspec_space_root and mm_map_get to
 * sample_<name> (-D on the command line, so the sample's sources stay as they are); the wrappers below
 * export the real names, do their act and call the sample's.
 */
#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "mmspec.h"

#undef mmspec_init
#undef mmspec_space_create
#undef mmspec_space_root
#undef mm_map_get

#define EXPORT __attribute__((visibility("default")))

EXPORT void mmspec_init(const struct mmspec_env *env);
EXPORT mm_space_t mmspec_space_create(void);
EXPORT uintptr_t mmspec_space_root(uintptr_t space);
EXPORT uintptr_t mm_map_get(mm_space_t space, uintptr_t virt, uint64_t *flags);

/* Direct-map lookups of physical addresses from here up misbehave (map-get-*): the low pages stay sound, so
 * the suite's boot and its first lookups work and only an address the generator draws finds the fault. */
#define HOSTILE_LOOKUP_FROM ((uintptr_t)4 << 20)

/* The name a forked child shows in /proc/<pid>/comm, so that a test can look for survivors. */
#define SLEEPER_NAME "mmspec-sleeper"

/* What a flooding call writes to stderr: 10 MiB, as the library that once grew /dev/shm to 650 MB did. */
#define FLOOD_BYTES (10u << 20)

#if defined(MMSPEC_HOSTILE_FORK_SLEEPER)
/* A helper process the kernel starts at boot and never stops: it must die with its machine. */
static void start_sleeper(void)
{
    pid_t child = fork();
    if (child != 0)
        return; /* the parent boots on; a failed fork is no matter here */
    prctl(PR_SET_NAME, SLEEPER_NAME);
    for (;;)
        pause();
}
#endif

#if defined(MMSPEC_HOSTILE_STDERR_FLOOD)
static unsigned flood_calls; /* per machine: the host restores the library's globals as loaded */

/* FLOOD_BYTES of numbered lines on stderr, the last of which says how much was written. */
static void flood(void)
{
    static char block[64 * 1024];
    flood_calls++;
    for (size_t i = 0; i < sizeof block; i += 64) {
        memset(block + i, 'x', 63);
        block[i + 63] = '\n';
    }
    for (size_t written = 0; written < FLOOD_BYTES;) {
        ssize_t n = write(STDERR_FILENO, block, sizeof block);
        if (n <= 0)
            break;
        written += (size_t)n;
    }
    fprintf(stderr, "stderr-flood: call %u wrote %u bytes\n", flood_calls, FLOOD_BYTES);
}
#endif

EXPORT void mmspec_init(const struct mmspec_env *env)
{
#if defined(MMSPEC_HOSTILE_FORK_SLEEPER)
    start_sleeper();
#elif defined(MMSPEC_HOSTILE_INIT_PANICS)
    env->panic("InitRefused: this kernel refuses to boot on any machine");
#elif defined(MMSPEC_HOSTILE_INIT_SEGFAULT)
    fprintf(stderr, "init-segfault: about to write through NULL\n");
    *(volatile int *)(uintptr_t)0 = 1;
#elif defined(MMSPEC_HOSTILE_INIT_HANG)
    fprintf(stderr, "init-hang: spinning forever\n");
    for (volatile unsigned long spin = 0;; spin++) {
    }
#endif
    sample_mmspec_init(env);
}

EXPORT mm_space_t mmspec_space_create(void)
{
#if defined(MMSPEC_HOSTILE_STDERR_FLOOD)
    flood();
#endif
    return sample_mmspec_space_create();
}

/* A root the suite cannot walk: inside the root page (root-unaligned), or past any RAM (root-beyond-ram). */
EXPORT uintptr_t mmspec_space_root(uintptr_t space)
{
#if defined(MMSPEC_HOSTILE_ROOT_UNALIGNED)
    return sample_mmspec_space_root(space) + 8;
#elif defined(MMSPEC_HOSTILE_ROOT_BEYOND_RAM)
    return sample_mmspec_space_root(space) | ((uintptr_t)1 << 52);
#else
    return sample_mmspec_space_root(space);
#endif
}

EXPORT uintptr_t mm_map_get(mm_space_t space, uintptr_t virt, uint64_t *flags)
{
#if defined(MMSPEC_HOSTILE_MAP_GET_SEGFAULTS) || defined(MMSPEC_HOSTILE_MAP_GET_PANICS)
    if (virt >= MM_KERNEL_BASE + HOSTILE_LOOKUP_FROM && virt < MM_KERNEL_BASE + MM_DIRECT_MAP_SIZE) {
#if defined(MMSPEC_HOSTILE_MAP_GET_SEGFAULTS)
        fprintf(stderr, "map-get-segfaults: looking up 0x%llx through NULL\n", (unsigned long long)virt);
        return *(volatile uintptr_t *)(uintptr_t)0;
#else
        mmspec_panic_hook("LookupRefused: direct-map lookups above 4 MiB are not in this kernel");
#endif
    }
#endif
    return sample_mm_map_get(space, virt, flags);
}
