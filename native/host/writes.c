/*
 * Write sets: which frames of the machine's RAM one call wrote (native/README.md, "Write sets").
 *
 * The worker write-protects its mapping of the RAM and learns what the implementation wrote from the
 * protection it lost. The suite writes through a mapping of its own, which is never protected, so its marks
 * never count. Two mechanisms, chosen by measurement (bench/write-sets/mechanisms.c):
 *
 *   uffd     userfaultfd in asynchronous write-protect mode (Linux 6.7+): a write clears the page's protection in
 *            the kernel without a fault reaching the process; after the call one PAGEMAP_SCAN ioctl lists the
 *            written pages and protects them again. About 10 us a call writing a frame or two; a call that
 *            faulted nowhere wrote nothing and needs no scan (faults_seen).
 *   mprotect where userfaultfd is refused: the RAM is read-only to the implementation; a write faults, the
 *            SIGSEGV handler records the frame and opens it, and after the call the frames written are closed
 *            again. About 13 us for one frame, but 55 us for four and 230 us for sixteen.
 *
 * A fault outside the RAM, or on a frame the handler did not close, is the implementation's own crash: the
 * handler puts the default action back and returns, and the instruction faults again, for real.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "host.h"
#include "uffd_abi.h"

static int mode = WRITES_OFF;
static int uffd = -1, pagemap = -1;
static unsigned char *base;
static size_t size;

/* The mprotect mechanism's frames opened during the call, and which are open. */
static uint32_t opened[WRITES_MAX];
static uint32_t opened_count;
static int overflowed;
static unsigned char *is_open; /* one flag per frame of the RAM */
static size_t is_open_frames;

static int uffd_start(void)
{
    if (uffd >= 0)
        return 0;
    uffd = (int)syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK | UFFD_USER_MODE_ONLY);
    if (uffd < 0)
        return -1;
    struct uffdio_api api = { .api = UFFD_API, .features = FEATURE_WP_ASYNC | FEATURE_WP_UNPOPULATED | FEATURE_WP_HUGETLBFS_SHMEM };
    pagemap = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
    if (ioctl(uffd, UFFDIO_API, &api) < 0 || pagemap < 0) {
        close(uffd);
        uffd = -1;
        return -1;
    }
    return 0;
}

/*
 * The mappings this worker has registered and write-protected whole, which stay so from machine to machine: a
 * mapping protected before needs only its written pages protected again (protect_written), about 8 us and 65 ns a
 * page written, where UFFDIO_WRITEPROTECT of the whole RAM costs 85 ns a page whether written or not (170 us for
 * 8 MiB, at every machine's HELLO). A first protection marks unpopulated pages too (FEATURE_WP_UNPOPULATED), so
 * later a page with no entry is still watched.
 */
#define ARMED_KEPT 16
static struct { unsigned char *base; size_t size; } armed[ARMED_KEPT];

static int is_armed(void)
{
    for (int i = 0; i < ARMED_KEPT; i++)
        if (armed[i].base == base && armed[i].size == size)
            return 1;
    return 0;
}

static void arm(void)
{
    for (int i = 0; i < ARMED_KEPT; i++)
        if (armed[i].base == NULL) {
            armed[i].base = base;
            armed[i].size = size;
            return;
        }
}

void writes_unmapped(void *ram)
{
    for (int i = 0; i < ARMED_KEPT; i++)
        if (armed[i].base == ram)
            armed[i].base = NULL;
}

static long scan(uint64_t start, uint64_t end, struct scan_region *regions, uint64_t room, uint64_t *walk_end)
{
    struct scan_arg arg = {
        .size = sizeof arg, .flags = SCAN_WP_MATCHING | SCAN_CHECK_WPASYNC,
        .start = start, .end = end, .vec = (uintptr_t)regions, .vec_len = room, .max_pages = room,
        .category_mask = PAGE_WRITTEN, .return_mask = PAGE_WRITTEN,
    };
    long n = ioctl(pagemap, SCAN_IOCTL, &arg);
    *walk_end = arg.walk_end;
    return n;
}

/* Protects again every page of an armed mapping written since it was last protected, whatever it says. */
static int protect_written(void)
{
    static struct scan_region regions[64];
    uint64_t at = (uintptr_t)base, end = (uintptr_t)base + size;
    while (at < end) {
        uint64_t from = at;
        if (scan(from, end, regions, 64, &at) < 0 || at <= from)
            return -1; /* failed, or no progress: the caller falls back to "cannot tell" */
    }
    return 0;
}

/*
 * The process's page faults (all its threads), read when every page of the RAM was protected: a write into a protected
 * page is a fault even when the kernel resolves it (UFFD_FEATURE_WP_ASYNC) or makes it on the process's behalf (a
 * read() into RAM), so a call that faulted nowhere wrote nothing, and its answer needs no scan (about 1 us against 5-9
 * us for a scan of 8 MiB; most calls, lookups and the sample's allocator among them, write no RAM). Read before a scan,
 * not after: a write racing the scan faults after it, or the scan lists it. Writes the kernel makes through
 * get_user_pages count too (an O_DIRECT read into RAM does: native/checks/write_faults.c).
 */
static long faults_seen = -1;

static long page_faults(void)
{
    struct rusage usage;
    return getrusage(RUSAGE_SELF, &usage) == 0 ? usage.ru_minflt + usage.ru_majflt : -1;
}

static int uffd_protect(void)
{
    faults_seen = page_faults();
    if (is_armed())
        return protect_written();
    struct uffdio_register reg = { .range = { (uintptr_t)base, size }, .mode = UFFDIO_REGISTER_MODE_WP };
    if (ioctl(uffd, UFFDIO_REGISTER, &reg) < 0 && errno != EBUSY)
        return -1;
    struct uffdio_writeprotect wp = { .range = { (uintptr_t)base, size }, .mode = UFFDIO_WRITEPROTECT_MODE_WP };
    if (ioctl(uffd, UFFDIO_WRITEPROTECT, &wp) < 0)
        return -1;
    arm();
    return 0;
}

static void on_write_fault(int signal, siginfo_t *info, void *context)
{
    (void)context;
    uintptr_t at = (uintptr_t)info->si_addr;
    size_t frame = (at - (uintptr_t)base) / MM_PAGE_SIZE;
    if (mode != WRITES_MPROTECT || at < (uintptr_t)base || at >= (uintptr_t)base + size || is_open[frame]
        || mprotect(base + frame * MM_PAGE_SIZE, MM_PAGE_SIZE, PROT_READ | PROT_WRITE) < 0) {
        /* Not a write we track: the implementation's own crash. Fault again with the default action. */
        struct sigaction fatal = { .sa_handler = SIG_DFL };
        sigaction(signal, &fatal, NULL);
        return;
    }
    is_open[frame] = 1;
    if (opened_count < WRITES_MAX)
        opened[opened_count++] = (uint32_t)frame;
    else
        overflowed = 1;
}

static int mprotect_protect(void)
{
    size_t frames = size / MM_PAGE_SIZE;
    if (frames > is_open_frames) {
        unsigned char *grown = realloc(is_open, frames);
        if (grown == NULL)
            return -1;
        is_open = grown;
        is_open_frames = frames;
    }
    memset(is_open, 0, frames);
    opened_count = 0;
    overflowed = 0;
    struct sigaction handler = { .sa_sigaction = on_write_fault, .sa_flags = SA_SIGINFO | SA_NODEFER };
    sigemptyset(&handler.sa_mask);
    if (sigaction(SIGSEGV, &handler, NULL) < 0 || sigaction(SIGBUS, &handler, NULL) < 0)
        return -1;
    return mprotect(base, size, PROT_READ);
}

int writes_attach(void *ram, size_t bytes, int wanted)
{
    if (mode == WRITES_MPROTECT && base != NULL && base != ram)
        mprotect(base, size, PROT_READ | PROT_WRITE); /* the last machine's RAM, if still mapped, is no longer watched */
    base = ram;
    size = bytes;
    mode = WRITES_OFF;
    if (wanted == WRITES_OFF)
        return mode;
    if (wanted != WRITES_MPROTECT && uffd_start() == 0 && uffd_protect() == 0)
        mode = WRITES_UFFD;
    else if (wanted != WRITES_UFFD && mprotect_protect() == 0)
        mode = WRITES_MPROTECT;
    return mode;
}

int writes_mode(void) { return mode; }

/*
 * The frames written since the last collect, as byte offsets into RAM, into out (at most WRITES_MAX); the
 * frames are protected again. Returns how many, or -1 when there were more than WRITES_MAX (or the scan
 * failed): the suite then knows only that it cannot tell.
 */
int writes_collect(uint64_t *out)
{
    if (mode == WRITES_UFFD) {
        long faults = page_faults();
        if (faults >= 0 && faults == faults_seen)
            return 0;
        faults_seen = faults;
        static struct scan_region regions[WRITES_MAX];
        uint64_t walk_end;
        long n = scan((uintptr_t)base, (uintptr_t)base + size, regions, WRITES_MAX, &walk_end);
        int count = 0, full = n < 0 || walk_end < (uintptr_t)base + size;
        for (long i = 0; i < n; i++)
            for (uint64_t at = regions[i].start; at < regions[i].end && count < WRITES_MAX; at += MM_PAGE_SIZE)
                out[count++] = at - (uintptr_t)base;
        if (full) {
            /* The scan failed, or max_pages stopped it: protect the rest again, and say the set is incomplete. */
            if (uffd_protect() < 0)
                faults_seen = -1; /* pages may be left open: the next answer scans whatever the faults say */
            return -1;
        }
        return count;
    }
    if (mode == WRITES_MPROTECT) {
        int count = (int)opened_count;
        for (uint32_t i = 0; i < opened_count; i++) {
            mprotect(base + (size_t)opened[i] * MM_PAGE_SIZE, MM_PAGE_SIZE, PROT_READ);
            is_open[opened[i]] = 0;
            out[i] = (uint64_t)opened[i] * MM_PAGE_SIZE;
        }
        opened_count = 0;
        if (overflowed) {
            overflowed = 0;
            mprotect(base, size, PROT_READ);
            memset(is_open, 0, size / MM_PAGE_SIZE);
            return -1;
        }
        return count;
    }
    return 0;
}
