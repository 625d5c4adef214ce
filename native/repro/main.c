/*
 * mmspec-repro: runs one C reproducer (repro/<property>.c of a failed check) on a fresh hosted machine,
 * outside the suite's host.
 *
 *     gcc -O2 -Wall -Wextra -Werror -I native/include -DMMSPEC_REPRODUCE=mmspec_reproduce_stateful_mapping \
 *         -o repro native/repro/main.c stateful.mapping.c path/to/libyourkernel.so
 *     ./repro 0x7FF000      # the RAM size the reproducer names (bytes; decimal, 0x hex, or a K/M/G suffix)
 *
 * It allocates the RAM (page-aligned and zeroed), sets up struct mmspec_env with a panic hook that reports
 * the panic on stderr and exits 3, calls mmspec_init, then the reproducer. Exit 0: the reproducer ran to its
 * end, every assertion held. A failed assert() aborts (SIGABRT); a crash or a hang of the implementation is
 * what it is.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "mmspec.h"

#ifndef MMSPEC_REPRODUCE
#define MMSPEC_REPRODUCE mmspec_reproduce
#endif

/* The reproducer's own view of the hosted direct map (the library keeps its own copy, set by mmspec_init). */
MMSPEC_DEFINE_HOSTED_STATE;

void MMSPEC_REPRODUCE(void);

__attribute__((noreturn)) static void panic_hook(const char *reason)
{
    fprintf(stderr, "mmspec-repro: kernel panic: %s\n", reason ? reason : "(no reason)");
    fflush(stderr);
    _exit(3);
}

static int parse_size(const char *text, size_t *size)
{
    char *end;
    unsigned long long value = strtoull(text, &end, 0);
    unsigned long long unit = 1;
    switch (*end) {
    case 'k': case 'K': unit = 1ull << 10; end++; break;
    case 'm': case 'M': unit = 1ull << 20; end++; break;
    case 'g': case 'G': unit = 1ull << 30; end++; break;
    default: break;
    }
    if (end == text || *end != '\0' || value == 0 || value > (~0ull >> 1) / unit)
        return -1;
    value *= unit;
    if (value % MMSPEC_PAGE_SIZE != 0)
        return -1;
    *size = (size_t)value;
    return 0;
}

int main(int argc, char **argv)
{
    size_t ram_size;
    if (argc != 2 || parse_size(argv[1], &ram_size) != 0) {
        fprintf(stderr, "usage: %s RAM_BYTES   (a multiple of 4096, e.g. 0x800000 or 8M: the size the reproducer names)\n", argv[0]);
        return 2;
    }
    void *ram = mmap(NULL, ram_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (ram == MAP_FAILED) {
        perror("mmspec-repro: mmap of the RAM");
        return 2;
    }
    struct mmspec_env env = { .ram_base = ram, .ram_size = ram_size, .panic = panic_hook };
    mmspec_hosted_setup(&env);
    mmspec_init(&env);
    MMSPEC_REPRODUCE();
    printf("mmspec-repro: every assertion held\n");
    return 0;
}
