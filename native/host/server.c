/*
 *   mmspec-host <library.so> <socket-name>
 *
 * Loads the library once (a missing symbol exits 2 and names it), listens on the abstract Unix
 * socket <socket-name>, prints "mmspec-host <protocol version>" on stdout when ready, and forks one
 * machine per connection. The fork happens before the library has run a single line of its own, so
 * every machine starts from its pristine globals, as if freshly loaded. When a machine ends, for any
 * reason, the server writes one last answer on its connection, ST_ENDED with the wait status: that
 * is how the suite learns that a machine died of SIGSEGV rather than just closing. When the suite
 * goes away (end of file on stdin), the server kills every machine and exits.
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

#define MACHINES_MAX 256 /* the suite has one or two machines alive per library at a time */

static struct { pid_t pid; int fd; } machines[MACHINES_MAX];
static int machine_count;
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

static void load(const char *path)
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

__attribute__((noreturn)) static void become_machine(int listener, int connection, pid_t server)
{
    prctl(PR_SET_PDEATHSIG, SIGKILL); /* no orphaned machines if the server is killed */
    if (getppid() != server)
        _exit(0);
    signal(SIGCHLD, SIG_DFL);
    signal(SIGPIPE, SIG_DFL);
    close(listener);
    close(child_signal_pipe[0]);
    close(child_signal_pipe[1]);
    for (int i = 0; i < machine_count; i++)
        close(machines[i].fd); /* other machines' connections must close when they end, not when this one does */
    _exit(run_machine(connection));
}

static void accept_machine(int listener, pid_t server)
{
    int connection = accept4(listener, NULL, NULL, SOCK_CLOEXEC);
    if (connection < 0)
        return;
    unsigned char greeting[GREETING_BYTES];
    put_u32(greeting, HOST_PROTOCOL_VERSION);
    if (machine_count == MACHINES_MAX) {
        put_u32(greeting + 4, 0); /* pid 0: no machine, the suite reports the limit */
        write_full(connection, greeting, GREETING_BYTES);
        close(connection);
        return;
    }
    pid_t pid = fork();
    if (pid == 0)
        become_machine(listener, connection, server);
    if (pid < 0) {
        put_u32(greeting + 4, 0);
        write_full(connection, greeting, GREETING_BYTES);
        close(connection);
        return;
    }
    put_u32(greeting + 4, (uint32_t)pid);
    write_full(connection, greeting, GREETING_BYTES);
    machines[machine_count].pid = pid;
    machines[machine_count].fd = connection;
    machine_count++;
}

/* The last answer on a machine's connection: how it ended. Nobody may be listening any more, which is fine. */
static void reap_machines(void)
{
    int status;
    pid_t pid;
    while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
        for (int i = 0; i < machine_count; i++) {
            if (machines[i].pid != pid)
                continue;
            unsigned char ended[RESPONSE_BYTES] = { 0 };
            put_u32(ended, ST_ENDED);
            put_u64(ended + 8, (uint64_t)(uint32_t)status);
            write_full(machines[i].fd, ended, RESPONSE_BYTES);
            close(machines[i].fd);
            machines[i] = machines[--machine_count];
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

    load(argv[1]);
    int listener = listen_on(argv[2]);
    if (pipe2(child_signal_pipe, O_CLOEXEC | O_NONBLOCK) < 0)
        die("cannot create a pipe%s", "");
    struct sigaction on_exit = { .sa_handler = on_child, .sa_flags = SA_RESTART | SA_NOCLDSTOP };
    sigaction(SIGCHLD, &on_exit, NULL);

    printf("mmspec-host %u\n", HOST_PROTOCOL_VERSION);
    fflush(stdout);
    pid_t server = getpid();
    for (;;) {
        struct pollfd watched[3] = {
            { .fd = STDIN_FILENO, .events = POLLIN },
            { .fd = listener, .events = POLLIN },
            { .fd = child_signal_pipe[0], .events = POLLIN },
        };
        if (poll(watched, 3, -1) < 0) {
            if (errno == EINTR)
                continue;
            die("poll failed%s", "");
        }
        if (watched[2].revents) {
            char drain[64];
            while (read(child_signal_pipe[0], drain, sizeof drain) > 0) {
            }
            reap_machines();
        }
        if (watched[1].revents & POLLIN)
            accept_machine(listener, server);
        if (watched[0].revents) {
            char ignored[64];
            if (read(STDIN_FILENO, ignored, sizeof ignored) <= 0) {
                for (int i = 0; i < machine_count; i++)
                    kill(machines[i].pid, SIGKILL);
                return 0; /* the suite is gone */
            }
        }
    }
}
