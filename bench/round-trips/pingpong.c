/*
 * What does one round trip between the suite and mmspec-host cost on this machine, and how much of it is the
 * placement of the two processes? (issue 18, native throughput; results in native/README.md, "Round trips")
 *
 * A parent and a forked child exchange a 48-byte request and a 32-byte answer, the sizes of a typical call,
 * over a Unix stream socketpair, as the client and a worker do: 100,000 round trips, placed three ways:
 *
 *   free       the scheduler places both (each wake-up may cross to the other core)
 *   one core   both pinned to the first allowed core (a wake-up is a switch on the same core)
 *   two cores  each pinned to a core of its own (every wake-up crosses)
 *   spinning   each on a core of its own, the messages in shared memory and each side spinning on a state word
 *              for the other's (the fast channel, native/host/channel.c, without its fall-back to the socket)
 *
 * Build and run: gcc -O2 bench/round-trips/pingpong.c -o /tmp/pingpong && /tmp/pingpong [round trips]
 */
#define _GNU_SOURCE
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

enum { REQUEST = 48, ANSWER = 32 };

static int exact(int fd, char *buf, size_t n, int reading)
{
    size_t done = 0;
    while (done < n) {
        ssize_t r = reading ? read(fd, buf + done, n - done) : write(fd, buf + done, n - done);
        if (r <= 0)
            return -1;
        done += (size_t)r;
    }
    return 0;
}

static void pin(int cpu)
{
    if (cpu < 0)
        return;
    cpu_set_t only;
    CPU_ZERO(&only);
    CPU_SET(cpu, &only);
    if (sched_setaffinity(0, sizeof only, &only) != 0)
        perror("sched_setaffinity");
}

/* Nanoseconds per round trip with the parent on parent_cpu and the child on child_cpu (-1: not pinned). */
static double measure(long trips, int parent_cpu, int child_cpu)
{
    int fds[2];
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, fds) != 0) {
        perror("socketpair");
        exit(1);
    }
    cpu_set_t before;
    sched_getaffinity(0, sizeof before, &before);
    pid_t child = fork();
    if (child == 0) {
        close(fds[0]);
        pin(child_cpu);
        char request[REQUEST], answer[ANSWER];
        memset(answer, 0, sizeof answer);
        while (exact(fds[1], request, sizeof request, 1) == 0) {
            memcpy(answer, request, sizeof answer); /* an answer that depends on the request */
            if (exact(fds[1], answer, sizeof answer, 0) != 0)
                break;
        }
        _exit(0);
    }
    close(fds[1]);
    pin(parent_cpu);
    char request[REQUEST], answer[ANSWER];
    memset(request, 0, sizeof request);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (long i = 0; i < trips; i++) {
        memcpy(request, &i, sizeof i);
        if (exact(fds[0], request, sizeof request, 0) != 0 || exact(fds[0], answer, sizeof answer, 1) != 0) {
            fprintf(stderr, "the child went away\n");
            exit(1);
        }
        long echoed;
        memcpy(&echoed, answer, sizeof echoed);
        if (echoed != i) {
            fprintf(stderr, "round trip %ld answered %ld\n", i, echoed);
            exit(1);
        }
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    close(fds[0]);
    waitpid(child, NULL, 0);
    sched_setaffinity(0, sizeof before, &before);
    return ((t1.tv_sec - t0.tv_sec) * 1e9 + (t1.tv_nsec - t0.tv_nsec)) / (double)trips;
}

/* The spinning placement: a shared page holds a sequence word (odd: a request is there, even: its answer) and the messages. */
struct shared_page { volatile long sequence; char request[REQUEST]; char answer[ANSWER]; };

static void await(struct shared_page *page, long value)
{
    while (__atomic_load_n(&page->sequence, __ATOMIC_ACQUIRE) != value)
        __builtin_ia32_pause();
}

static double measure_spinning(long trips, int parent_cpu, int child_cpu)
{
    struct shared_page *page = mmap(NULL, sizeof *page, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (page == MAP_FAILED) {
        perror("mmap");
        exit(1);
    }
    page->sequence = 0;
    cpu_set_t before;
    sched_getaffinity(0, sizeof before, &before);
    pid_t child = fork();
    if (child == 0) {
        pin(child_cpu);
        for (long i = 0; i < trips; i++) {
            await(page, 2 * i + 1);
            memcpy(page->answer, page->request, sizeof page->answer);
            __atomic_store_n(&page->sequence, 2 * i + 2, __ATOMIC_RELEASE);
        }
        _exit(0);
    }
    pin(parent_cpu);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (long i = 0; i < trips; i++) {
        memcpy(page->request, &i, sizeof i);
        __atomic_store_n(&page->sequence, 2 * i + 1, __ATOMIC_RELEASE);
        await(page, 2 * i + 2);
        long echoed;
        memcpy(&echoed, page->answer, sizeof echoed);
        if (echoed != i) {
            fprintf(stderr, "round trip %ld answered %ld\n", i, echoed);
            exit(1);
        }
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    waitpid(child, NULL, 0);
    munmap(page, sizeof *page);
    sched_setaffinity(0, sizeof before, &before);
    return ((t1.tv_sec - t0.tv_sec) * 1e9 + (t1.tv_nsec - t0.tv_nsec)) / (double)trips;
}

int main(int argc, char **argv)
{
    long trips = argc > 1 ? atol(argv[1]) : 100000;
    cpu_set_t allowed;
    sched_getaffinity(0, sizeof allowed, &allowed);
    int first = -1, second = -1;
    for (int cpu = 0; cpu < CPU_SETSIZE; cpu++)
        if (CPU_ISSET(cpu, &allowed)) {
            if (first < 0)
                first = cpu;
            else if (second < 0)
                second = cpu;
        }
    printf("%-10s %12s\n", "placement", "ns/trip");
    printf("%-10s %12.0f\n", "free", measure(trips, -1, -1));
    printf("%-10s %12.0f\n", "one core", measure(trips, first, first));
    if (second >= 0) {
        printf("%-10s %12.0f\n", "two cores", measure(trips, first, second));
        printf("%-10s %12.0f\n", "spinning", measure_spinning(trips, first, second));
    }
    return 0;
}
