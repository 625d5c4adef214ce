/*
 *   mmspec-host <library.so> <socket-name>
 *
 * Loads the library once (a missing symbol exits 2 and names it), saves its writable data as loaded,
 * listens on the abstract Unix socket <socket-name>, prints "mmspec-host <protocol version>" on
 * stdout when ready, and then hands every connection, one machine each, to a worker: a child
 * process forked from the server, which restores the library's data before each machine, so every
 * machine starts from the library's globals as loaded. A worker serves one machine at a time and
 * many in turn (a new process for every machine would pay for its page faults every time); it is
 * retired after MACHINES_PER_WORKER machines, and replaced when it dies.
 *
 * When a machine ends, for any reason, the server writes one last answer on its connection,
 * ST_ENDED with the wait status (0 when the machine simply ended): that is how the suite learns
 * that a machine died of SIGSEGV rather than just closing. When the suite goes away (end of file on
 * stdin), the server kills every worker and exits.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "host.h"

struct implementation impl;

#define WORKERS_MAX 64 /* the suite has one or two machines alive per library at a time */
#define MACHINES_PER_WORKER 100

/* connection: the machine it serves (the server's copy, for the last answer), IDLE or RETIRED. */
#define IDLE (-1)
#define RETIRED (-2) /* served its last machine and is exiting: never given another */
static struct { pid_t pid; int control; int connection; } workers[WORKERS_MAX];
static int worker_count;
static int child_signal_pipe[2] = { -1, -1 };

void put_u32(unsigned char *p, uint32_t v) { for (int i = 0; i < 4; i++) p[i] = (unsigned char)(v >> (8 * i)); }
void put_u64(unsigned char *p, uint64_t v) { for (int i = 0; i < 8; i++) p[i] = (unsigned char)(v >> (8 * i)); }
uint32_t get_u32(const unsigned char *p) { uint32_t v = 0; for (int i = 3; i >= 0; i--) v = v << 8 | p[i]; return v; }
uint64_t get_u64(const unsigned char *p) { uint64_t v = 0; for (int i = 7; i >= 0; i--) v = v << 8 | p[i]; return v; }

int write_full(int fd, const void *buffer, size_t length)
{
    size_t done = 0;
    while (done < length) {
        ssize_t n = send(fd, (const char *)buffer + done, length - done, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        done += (size_t)n;
    }
    return 0;
}

__attribute__((noreturn)) static void die(const char *fmt, const char *arg)
{
    fprintf(stderr, "mmspec-host: ");
    fprintf(stderr, fmt, arg);
    fprintf(stderr, "\n");
    exit(2);
}

static void *need(void *library, const char *name)
{
    void *symbol = dlsym(library, name);
    if (symbol == NULL)
        die("the library does not export %s", name);
    return symbol;
}

static void *load(const char *path)
{
    void *library = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (library == NULL)
        die("%s", dlerror());
    impl.init = (void (*)(const struct mmspec_env *))need(library, "mmspec_init");
    impl.space_create = (mm_space_t (*)(void))need(library, "mmspec_space_create");
    impl.space_root = (uintptr_t (*)(mm_space_t))need(library, "mmspec_space_root");
    impl.capabilities = (uint32_t (*)(void))dlsym(library, "mmspec_capabilities");
    impl.phys_alloc_page = (uintptr_t (*)(void))need(library, "mm_phys_alloc_page");
    impl.phys_alloc_contiguous = (uintptr_t (*)(size_t))need(library, "mm_phys_alloc_contiguous");
    impl.phys_free_page = (void (*)(uintptr_t))need(library, "mm_phys_free_page");
    impl.kmalloc = (void *(*)(size_t))need(library, "kmalloc");
    impl.kfree = (void (*)(void *))need(library, "kfree");
    impl.map_single = (int (*)(mm_space_t, uintptr_t, uintptr_t, uint64_t))need(library, "mm_map_single");
    impl.map_get = (uintptr_t (*)(mm_space_t, uintptr_t, uint64_t *))need(library, "mm_map_get");
    impl.umap_single = (uintptr_t (*)(mm_space_t, uintptr_t, uint32_t))need(library, "mm_umap_single");
    impl.vmfind = (uintptr_t (*)(const mm_space_t, uintptr_t, uintptr_t, size_t))need(library, "vmfind");
    impl.vmalloc = (uintptr_t (*)(mm_space_t, uintptr_t, uintptr_t, size_t, uint64_t))need(library, "vmalloc");
    impl.vmfree = (int (*)(mm_space_t, uintptr_t, size_t))need(library, "vmfree");
    return library;
}

static int listen_on(const char *name)
{
    struct sockaddr_un address = { .sun_family = AF_UNIX };
    size_t length = strlen(name);
    if (length == 0 || length + 1 > sizeof address.sun_path)
        die("bad socket name %s", name);
    memcpy(address.sun_path + 1, name, length); /* abstract namespace: nothing to clean up in the file system */
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || bind(fd, (struct sockaddr *)&address, (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + length)) < 0 ||
        listen(fd, 16) < 0)
        die("cannot listen on %s", name);
    return fd;
}

static void on_child(int signal)
{
    (void)signal;
    int saved = errno;
    ssize_t ignored = write(child_signal_pipe[1], "c", 1);
    (void)ignored;
    errno = saved;
}

static int send_fd(int control, int fd)
{
    char byte = 'm';
    struct iovec data = { .iov_base = &byte, .iov_len = 1 };
    union { struct cmsghdr header; char space[CMSG_SPACE(sizeof(int))]; } control_data;
    memset(&control_data, 0, sizeof control_data);
    struct msghdr message = { .msg_iov = &data, .msg_iovlen = 1, .msg_control = control_data.space, .msg_controllen = sizeof control_data.space };
    struct cmsghdr *header = CMSG_FIRSTHDR(&message);
    header->cmsg_level = SOL_SOCKET;
    header->cmsg_type = SCM_RIGHTS;
    header->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(header), &fd, sizeof fd);
    return sendmsg(control, &message, MSG_NOSIGNAL) == 1 ? 0 : -1;
}

static int receive_fd(int control)
{
    char byte;
    struct iovec data = { .iov_base = &byte, .iov_len = 1 };
    union { struct cmsghdr header; char space[CMSG_SPACE(sizeof(int))]; } control_data;
    struct msghdr message = { .msg_iov = &data, .msg_iovlen = 1, .msg_control = control_data.space, .msg_controllen = sizeof control_data.space };
    if (recvmsg(control, &message, MSG_CMSG_CLOEXEC) != 1)
        return -1;
    struct cmsghdr *header = CMSG_FIRSTHDR(&message);
    if (header == NULL || header->cmsg_type != SCM_RIGHTS)
        return -1;
    int fd;
    memcpy(&fd, CMSG_DATA(header), sizeof fd);
    return fd;
}

/* A worker: machines one after another, each on the connection the server sends, until retired. */
__attribute__((noreturn)) static void become_worker(int listener, int control, pid_t server)
{
    prctl(PR_SET_PDEATHSIG, SIGKILL); /* no orphaned workers if the server is killed */
    if (getppid() != server)
        _exit(0);
    signal(SIGCHLD, SIG_DFL);
    signal(SIGPIPE, SIG_DFL);
    close(listener);
    close(child_signal_pipe[0]);
    close(child_signal_pipe[1]);
    for (int i = 0; i < worker_count; i++) {
        close(workers[i].control); /* other workers' channels and machines are none of this one's business */
        if (workers[i].connection >= 0)
            close(workers[i].connection);
    }
    for (int served = 0; served < MACHINES_PER_WORKER; served++) {
        int connection = receive_fd(control);
        if (connection < 0)
            _exit(0);
        snapshot_restore();
        int code = run_machine(connection);
        if (code != 0)
            _exit(code); /* the server reports the code as the machine's end */
        fflush(NULL); /* what the implementation printed belongs in this machine's log, not the next one's */
        close(connection);
        if (write(control, served + 1 < MACHINES_PER_WORKER ? "d" : "r", 1) != 1)
            _exit(0);
    }
    _exit(0);
}

/* An idle worker, forked if there is none; -1 if none can be had. */
static int idle_worker(int listener, pid_t server)
{
    for (int i = 0; i < worker_count; i++)
        if (workers[i].connection == IDLE)
            return i;
    if (worker_count == WORKERS_MAX)
        return -1;
    int pair[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) < 0)
        return -1;
    pid_t pid = fork();
    if (pid == 0) {
        close(pair[0]);
        become_worker(listener, pair[1], server);
    }
    close(pair[1]);
    if (pid < 0) {
        close(pair[0]);
        return -1;
    }
    workers[worker_count].pid = pid;
    workers[worker_count].control = pair[0];
    workers[worker_count].connection = IDLE;
    return worker_count++;
}

static void accept_machine(int listener, pid_t server)
{
    int connection = accept4(listener, NULL, NULL, SOCK_CLOEXEC);
    if (connection < 0)
        return;
    unsigned char greeting[GREETING_BYTES];
    put_u32(greeting, HOST_PROTOCOL_VERSION);
    int w = idle_worker(listener, server);
    put_u32(greeting + 4, w < 0 ? 0 : (uint32_t)workers[w].pid); /* pid 0: no machine, the suite reports it */
    if (w < 0 || write_full(connection, greeting, GREETING_BYTES) < 0 || send_fd(workers[w].control, connection) < 0) {
        if (w >= 0)
            kill(workers[w].pid, SIGKILL); /* it may or may not have the connection: replace it */
        close(connection);
        return;
    }
    workers[w].connection = connection;
}

/* The last answer on a machine's connection: how it ended. Nobody may be listening any more, which is fine. */
static void end_machine(int w, int status)
{
    if (workers[w].connection < 0)
        return;
    unsigned char ended[RESPONSE_BYTES] = { 0 };
    put_u32(ended, ST_ENDED);
    put_u64(ended + 8, (uint64_t)(uint32_t)status);
    write_full(workers[w].connection, ended, RESPONSE_BYTES);
    close(workers[w].connection);
    workers[w].connection = IDLE;
}

static void reap_workers(void)
{
    int status;
    pid_t pid;
    while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
        for (int i = 0; i < worker_count; i++) {
            if (workers[i].pid != pid)
                continue;
            end_machine(i, status);
            close(workers[i].control);
            workers[i] = workers[--worker_count];
            break;
        }
    }
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: mmspec-host <library.so> <socket-name>\n");
        return 2;
    }
    struct rlimit no_core = { 0, 0 };
    setrlimit(RLIMIT_CORE, &no_core); /* a crashing implementation is expected here: no core dumps */
    signal(SIGPIPE, SIG_IGN);

    void *library = load(argv[1]);
    if (snapshot_take(library) != 0)
        die("cannot save the writable data of %s", argv[1]);
    int listener = listen_on(argv[2]);
    if (pipe2(child_signal_pipe, O_CLOEXEC | O_NONBLOCK) < 0)
        die("cannot create a pipe%s", "");
    struct sigaction on_exit = { .sa_handler = on_child, .sa_flags = SA_RESTART | SA_NOCLDSTOP };
    sigaction(SIGCHLD, &on_exit, NULL);

    printf("mmspec-host %u\n", HOST_PROTOCOL_VERSION);
    fflush(stdout);
    pid_t server = getpid();
    for (;;) {
        struct pollfd watched[3 + WORKERS_MAX] = {
            { .fd = STDIN_FILENO, .events = POLLIN },
            { .fd = listener, .events = POLLIN },
            { .fd = child_signal_pipe[0], .events = POLLIN },
        };
        int watching = worker_count;
        for (int i = 0; i < watching; i++)
            watched[3 + i] = (struct pollfd){ .fd = workers[i].control, .events = POLLIN };
        if (poll(watched, (nfds_t)(3 + watching), -1) < 0) {
            if (errno == EINTR)
                continue;
            die("poll failed%s", "");
        }
        /* A worker that says it is done has finished its machine normally; one that closed its end is exiting. */
        for (int i = 0; i < watching; i++) {
            char done;
            if (!(watched[3 + i].revents & POLLIN) || read(workers[i].control, &done, 1) != 1)
                continue;
            end_machine(i, 0);
            if (done == 'r')
                workers[i].connection = RETIRED;
        }
        if (watched[2].revents) {
            char drain[64];
            while (read(child_signal_pipe[0], drain, sizeof drain) > 0) {
            }
            reap_workers();
        }
        if (watched[1].revents & POLLIN)
            accept_machine(listener, server);
        if (watched[0].revents) {
            char ignored[64];
            if (read(STDIN_FILENO, ignored, sizeof ignored) <= 0) {
                for (int i = 0; i < worker_count; i++)
                    kill(workers[i].pid, SIGKILL);
                return 0; /* the suite is gone */
            }
        }
    }
}
