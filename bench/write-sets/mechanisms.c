/*
 * How can mmspec-host learn which frames of a machine's RAM one call wrote? (issue 18, item 1)
 * Measures, on the machine it runs on, the cost per call of each candidate, for calls writing K random
 * frames of an 8 MiB shared-memory RAM (2,048 frames), as the host maps it (MAP_SHARED on a memfd):
 *
 *   none      the call alone (K 8-byte writes): the baseline
 *   mprotect  RAM read-only before the call; a SIGSEGV handler records the frame and makes it writable
 *   mprotect-kept  the same, but RAM stays read-only between calls (the suite writes through a mapping of
 *             its own): after the call only the frames written are protected again
 *   uffd-wp   userfaultfd asynchronous write-protect: the kernel marks written pages itself, no fault reaches
 *             the process; after the call one PAGEMAP_SCAN ioctl lists them and protects them again
 *   shadow    a copy of every frame; after the call compare each frame with its copy (memcmp), re-copy written
 *
 * Every mechanism's answer is checked against the frames the call really wrote.
 * Build and run: gcc -O2 bench/write-sets/mechanisms.c -o /tmp/mechanisms && /tmp/mechanisms (results in
 * native/README.md, "Write sets").
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "../../native/host/uffd_abi.h"

#define FRAMES 2048
#define PAGE 4096
#define CALLS 20000

static unsigned char *ram;
static int written[FRAMES], written_count;
static unsigned char dirty[FRAMES];

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1e9 + t.tv_nsec;
}

static uint64_t rng = 88172645463325252ULL;
static unsigned next_frame(void) { rng ^= rng << 13; rng ^= rng >> 7; rng ^= rng << 17; return (unsigned)(rng % FRAMES); }

/* One "call": writes k frames (one word each), remembers which. */
static int truth[FRAMES], truth_count;
static void call(int k)
{
    truth_count = 0;
    for (int i = 0; i < k; i++) {
        unsigned f = next_frame();
        ((volatile uint64_t *)(ram + (size_t)f * PAGE))[(rng >> 20) & 511] = rng;
        truth[truth_count++] = (int)f;
    }
}

static void check(const char *who)
{
    for (int i = 0; i < truth_count; i++)
        if (!dirty[truth[i]]) { fprintf(stderr, "%s missed frame %d\n", who, truth[i]); exit(1); }
    for (int i = 0; i < written_count; i++)
        dirty[written[i]] = 0;
    written_count = 0;
}

static void record(int f) { if (!dirty[f]) { dirty[f] = 1; written[written_count++] = f; } }

static void on_fault(int sig, siginfo_t *info, void *context)
{
    (void)sig; (void)context;
    uintptr_t at = (uintptr_t)info->si_addr;
    if (at < (uintptr_t)ram || at >= (uintptr_t)ram + (size_t)FRAMES * PAGE)
        abort();
    int f = (int)((at - (uintptr_t)ram) / PAGE);
    record(f);
    mprotect(ram + (size_t)f * PAGE, PAGE, PROT_READ | PROT_WRITE);
}

static double run_none(int k)
{
    double start = now();
    for (int c = 0; c < CALLS; c++) { call(k); truth_count = 0; }
    return (now() - start) / CALLS;
}

static double run_mprotect(int k)
{
    struct sigaction action = { .sa_sigaction = on_fault, .sa_flags = SA_SIGINFO };
    sigaction(SIGSEGV, &action, NULL);
    double start = now();
    for (int c = 0; c < CALLS; c++) {
        mprotect(ram, (size_t)FRAMES * PAGE, PROT_READ);
        call(k);
        mprotect(ram, (size_t)FRAMES * PAGE, PROT_READ | PROT_WRITE); /* the suite writes between calls */
        check("mprotect");
    }
    return (now() - start) / CALLS;
}

static double run_mprotect_kept(int k)
{
    struct sigaction action = { .sa_sigaction = on_fault, .sa_flags = SA_SIGINFO };
    sigaction(SIGSEGV, &action, NULL);
    mprotect(ram, (size_t)FRAMES * PAGE, PROT_READ);
    double start = now();
    for (int c = 0; c < CALLS; c++) {
        call(k);
        for (int i = 0; i < written_count; i++)
            mprotect(ram + (size_t)written[i] * PAGE, PAGE, PROT_READ);
        check("mprotect-kept");
    }
    double took = (now() - start) / CALLS;
    mprotect(ram, (size_t)FRAMES * PAGE, PROT_READ | PROT_WRITE);
    return took;
}

static int pagemap = -1;
static struct scan_region regions[FRAMES];
static int uffd_setup(void)
{
    int uffd = (int)syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK | UFFD_USER_MODE_ONLY);
    if (uffd < 0) { perror("userfaultfd"); return -1; }
    struct uffdio_api api = { .api = UFFD_API, .features = FEATURE_WP_ASYNC | FEATURE_WP_UNPOPULATED | FEATURE_WP_HUGETLBFS_SHMEM };
    if (ioctl(uffd, UFFDIO_API, &api) < 0) { perror("UFFDIO_API"); return -1; }
    struct uffdio_register reg = { .range = { (uintptr_t)ram, (size_t)FRAMES * PAGE }, .mode = UFFDIO_REGISTER_MODE_WP };
    if (ioctl(uffd, UFFDIO_REGISTER, &reg) < 0) { perror("UFFDIO_REGISTER"); return -1; }
    struct uffdio_writeprotect wp = { .range = { (uintptr_t)ram, (size_t)FRAMES * PAGE }, .mode = UFFDIO_WRITEPROTECT_MODE_WP };
    if (ioctl(uffd, UFFDIO_WRITEPROTECT, &wp) < 0) { perror("UFFDIO_WRITEPROTECT"); return -1; }
    pagemap = open("/proc/self/pagemap", O_RDONLY);
    return pagemap < 0 ? -1 : 0;
}

/* Lists the written pages and protects them again, in one ioctl. */
static void uffd_collect(void)
{
    struct scan_arg arg = {
        .size = sizeof arg, .flags = SCAN_WP_MATCHING | SCAN_CHECK_WPASYNC,
        .start = (uintptr_t)ram, .end = (uintptr_t)ram + (size_t)FRAMES * PAGE,
        .vec = (uintptr_t)regions, .vec_len = FRAMES,
        .category_mask = PAGE_WRITTEN, .return_mask = PAGE_WRITTEN,
    };
    long n = ioctl(pagemap, SCAN_IOCTL, &arg);
    if (n < 0) { perror("PAGEMAP_SCAN"); exit(1); }
    for (long i = 0; i < n; i++)
        for (uint64_t a = regions[i].start; a < regions[i].end; a += PAGE)
            record((int)((a - (uintptr_t)ram) / PAGE));
}

static double run_uffd(int k)
{
    truth_count = 0; /* what the last mechanism's calls wrote is not this one's to find */
    uffd_collect();
    check("uffd-wp");
    double start = now();
    for (int c = 0; c < CALLS; c++) {
        call(k);
        uffd_collect();
        check("uffd-wp");
    }
    return (now() - start) / CALLS;
}

static unsigned char *shadow;
static double run_shadow(int k)
{
    memcpy(shadow, ram, (size_t)FRAMES * PAGE);
    int calls = CALLS / 20; /* it is slow */
    double start = now();
    for (int c = 0; c < calls; c++) {
        call(k);
        for (int f = 0; f < FRAMES; f++)
            if (memcmp(ram + (size_t)f * PAGE, shadow + (size_t)f * PAGE, PAGE) != 0) {
                record(f);
                memcpy(shadow + (size_t)f * PAGE, ram + (size_t)f * PAGE, PAGE);
            }
        check("shadow");
    }
    return (now() - start) / calls;
}

int main(void)
{
    int fd = memfd_create("ram", MFD_CLOEXEC);
    if (fd < 0 || ftruncate(fd, (off_t)FRAMES * PAGE) < 0) { perror("memfd"); return 1; }
    ram = mmap(NULL, (size_t)FRAMES * PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    shadow = malloc((size_t)FRAMES * PAGE);
    memset(ram, 1, (size_t)FRAMES * PAGE); /* every frame resident, as after a few sequences */
    int ks[] = { 1, 4, 16, 64 };
    setvbuf(stdout, NULL, _IONBF, 0);
    printf("frames written per call | none ns | mprotect ns | mprotect-kept ns | uffd-wp ns | shadow ns\n");
    for (unsigned i = 0; i < sizeof ks / sizeof ks[0]; i++) {
        int k = ks[i];
        double none = run_none(k), mp = run_mprotect(k), kept = run_mprotect_kept(k), sh = run_shadow(k);
        double uf = -1;
        static int uffd_ready = -2;
        if (uffd_ready == -2)
            uffd_ready = uffd_setup();
        if (uffd_ready == 0)
            uf = run_uffd(k);
        printf("%d | %.0f | %.0f | %.0f | %.0f | %.0f\n", k, none, mp, kept, uf, sh);
    }
    return 0;
}
