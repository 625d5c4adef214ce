/*
 * Hostile runners: the sample kernel with one hostile act wrapped around its entry points. They test
 * the host, not the spec: what an implementation may do to the process it runs in (fork, flood its
 * log, die or hang while booting) must end with its machine and still give a verdict. The zoo
 * (-DMMSPEC_BUG_<NAME>) is for bugs against the spec; these are build/libhostile-<name>.so, each
 * built with -DMMSPEC_HOSTILE_<NAME>.
 *
 * The Makefile renames the sample's mmspec_init and mmspec_space_create to sample_mmspec_init and
 * sample_mmspec_space_create (-D on the command line, so the sample's sources stay as they are); the
 * wrappers below export the real names, do their act and call the sample's.
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

#define EXPORT __attribute__((visibility("default")))

EXPORT void mmspec_init(const struct mmspec_env *env);
EXPORT mm_space_t mmspec_space_create(void);

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
