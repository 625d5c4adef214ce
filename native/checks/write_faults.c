/*
 * What host/writes.c relies on to skip a scan (faults_seen): under asynchronous userfaultfd write protection, every
 * kind of write into a protected page of RAM moves the process's page-fault count, and nothing else is needed to
 * write there. Each case below writes into a page protected afresh and checks that the count moved, then that a
 * second write into the same page, no longer protected, does not (the count is not just always moving).
 *
 * Built by `make -C native` as build/write-faults and run by NativeWriteSetTests with a scratch file's folder as its
 * argument (for the O_DIRECT case, which a filesystem without O_DIRECT skips). Exit 0: every case counted; 1: one did
 * not (its line says which); 2: userfaultfd's asynchronous mode is refused here.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#include "../host/uffd_abi.h"

#define PAGES 16
#define PAGE 4096

static unsigned char *ram;
static int uffd;
static int failures;

static long faults(void)
{
    struct rusage usage;
    getrusage(RUSAGE_SELF, &usage);
    return usage.ru_minflt + usage.ru_majflt;
}

static void protect(void)
{
    struct uffdio_writeprotect wp = { .range = { (uintptr_t)ram, PAGES * PAGE }, .mode = UFFDIO_WRITEPROTECT_MODE_WP };
    if (ioctl(uffd, UFFDIO_WRITEPROTECT, &wp) < 0) {
        perror("UFFDIO_WRITEPROTECT");
        exit(2);
    }
}

static void expect(const char *what, long before, int moved)
{
    long after = faults();
    int counted = after != before;
    printf("%-58s %s\n", what, counted == moved ? "ok" : moved ? "NOT COUNTED" : "counted, but should not be");
    failures += counted != moved;
}

int main(int argc, char **argv)
{
    int memory = memfd_create("write-faults", MFD_CLOEXEC);
    if (memory < 0 || ftruncate(memory, PAGES * PAGE) < 0)
        return perror("memfd"), 2;
    ram = mmap(NULL, PAGES * PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, memory, 0);
    if (ram == MAP_FAILED)
        return perror("mmap"), 2;
    memset(ram, 1, PAGES * PAGE / 2); /* the upper half stays untouched by this mapping */
    uffd = (int)syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK | UFFD_USER_MODE_ONLY);
    struct uffdio_api api = { .api = UFFD_API, .features = FEATURE_WP_ASYNC | FEATURE_WP_UNPOPULATED | FEATURE_WP_HUGETLBFS_SHMEM };
    struct uffdio_register reg = { .range = { (uintptr_t)ram, PAGES * PAGE }, .mode = UFFDIO_REGISTER_MODE_WP };
    if (uffd < 0 || ioctl(uffd, UFFDIO_API, &api) < 0 || ioctl(uffd, UFFDIO_REGISTER, &reg) < 0)
        return perror("userfaultfd"), 2;

    protect();
    long before = faults();
    ram[0 * PAGE + 8] = 2;
    expect("a store into a protected page", before, 1);
    before = faults();
    ram[0 * PAGE + 16] = 2;
    expect("a second store into the same page", before, 0);

    before = faults();
    ram[(PAGES - 1) * PAGE] = 2;
    expect("a store into a page this mapping never touched", before, 1);

    int pipe_ends[2];
    if (pipe(pipe_ends) < 0 || write(pipe_ends[1], "mmspec", 6) != 6)
        return perror("pipe"), 2;
    protect();
    before = faults();
    if (read(pipe_ends[0], ram + 2 * PAGE, 6) != 6)
        return perror("read"), 2;
    expect("a read() into a protected page", before, 1);

    static char block[PAGE] __attribute__((aligned(PAGE)));
    memset(block, 7, sizeof block);
    char path[4096];
    snprintf(path, sizeof path, "%s/write-faults-%d.tmp", argc > 1 ? argv[1] : ".", (int)getpid());
    int file = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (file < 0 || write(file, block, sizeof block) != (ssize_t)sizeof block || fsync(file) < 0)
        return perror(path), 2;
    close(file);
    file = open(path, O_RDONLY | O_DIRECT | O_CLOEXEC);
    if (file >= 0) {
        protect();
        before = faults();
        ssize_t got = pread(file, ram + 4 * PAGE, PAGE, 0);
        if (got == PAGE)
            expect("an O_DIRECT read into a protected page (get_user_pages)", before, 1);
        else
            printf("%-58s skipped (O_DIRECT read refused here)\n", "an O_DIRECT read into a protected page");
        close(file);
    } else {
        printf("%-58s skipped (no O_DIRECT here)\n", "an O_DIRECT read into a protected page");
    }
    unlink(path);

    struct iovec into = { ram + 6 * PAGE, 8 }, from = { block, 8 };
    protect();
    before = faults();
    if (process_vm_readv(getpid(), &into, 1, &from, 1, 0) != 8)
        return perror("process_vm_readv"), 2;
    expect("process_vm_readv into a protected page", before, 1);
    return failures ? 1 : 0;
}
