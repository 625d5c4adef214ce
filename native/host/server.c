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
 * stdin, or SIGTERM or SIGHUP), the server kills every worker and exits. SIGINT is ignored: a terminal's
 * Ctrl-C is for the suite, which stops after its current sequence and then closes stdin.
 *
 * Nothing an implementation starts outlives its machine: each worker leads a process group of its
 * own, which whatever the implementation forks inherits, and the server kills the whole group when
 * the worker dies (crashed, or killed by the suite for a hang), retires, or the server shuts down.
 * A machine that ends normally but leaves processes behind (the worker is a child subreaper, so even
 * orphaned descendants are its children and one waitpid tells) retires its worker the same way.
 *
 * A worker's stdout and stderr are a pipe to the server, which copies what comes into the log file
 * of the worker's current machine and keeps at most its last LOG_MAX bytes there, so that a library
 * printing megabytes a call cannot fill /dev/shm.
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
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "host.h"

struct implementation impl;

#define WORKERS_MAX 64 /* the suite has one or two machines alive per library at a time */
#define MACHINES_PER_WORKER 1000 /* bounds what a library leaks in a worker; each retirement loses the set-up snapshots kept there */

/*
 * connection: the machine it serves (the server's copy, for the last answer), IDLE or RETIRED.
 * output: the read end of the worker's stdout and stderr (-1 once every writer has closed it);
 * log: the current machine's log (-1 between machines), holding log_size bytes.
 */
#define IDLE (-1)
#define RETIRED (-2) /* served its last machine and is exiting: never given another */
static struct { pid_t pid; int control; int connection; int output; int log; size_t log_size; unsigned long idled; } workers[WORKERS_MAX];
static int worker_count;
static unsigned long idle_clock; /* workers[].idled: when each last became idle, so that the latest serves next */
static int signal_pipe[2] = { -1, -1 }; /* SIGNAL_CHILD or SIGNAL_STOP, written by the signal handlers */

#define SIGNAL_CHILD 'c'
#define SIGNAL_STOP 's'

#define OUTPUT_CHUNK (64 * 1024)      /* one read of a worker's output; well under LOG_KEEP */
#define OUTPUT_DRAIN (4u * LOG_MAX)   /* the most read at a machine's end: all it wrote is in the pipe by then */

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

static void on_signal(int signal)
{
    int saved = errno;
    char what = signal == SIGCHLD ? SIGNAL_CHILD : SIGNAL_STOP;
    ssize_t ignored = write(signal_pipe[1], &what, 1);
    (void)ignored;
    errno = saved;
}

/* A worker's group: the worker and whatever its machines forked. Only while the worker is unreaped does its pid name that group. */
static void kill_group(int w)
{
    kill(-workers[w].pid, SIGKILL);
}

/*
 * Appends to the current machine's log, first dropping all but the last LOG_KEEP bytes (less this chunk)
 * if the log would grow past LOG_MAX: the end of what a machine printed is what the suite quotes.
 */
static void log_append(int w, const char *data, size_t length)
{
    static char kept[LOG_KEEP];
    int log = workers[w].log;
    if (workers[w].log_size + length > LOG_MAX) {
        size_t keep = LOG_KEEP - length, from = workers[w].log_size - keep;
        if (pread(log, kept, keep, (off_t)from) != (ssize_t)keep || pwrite(log, kept, keep, 0) != (ssize_t)keep || ftruncate(log, (off_t)keep) < 0)
            keep = ftruncate(log, 0) < 0 ? workers[w].log_size : 0; /* keep what can be kept; never grow past the cap */
        workers[w].log_size = keep;
    }
    if (pwrite(log, data, length, (off_t)workers[w].log_size) == (ssize_t)length)
        workers[w].log_size += length;
}

/* Copies up to limit bytes of what the worker printed into its machine's log (dropped between machines). */
static void copy_output(int w, size_t limit)
{
    static char chunk[OUTPUT_CHUNK];
    for (size_t copied = 0; copied < limit && workers[w].output >= 0;) {
        ssize_t n = read(workers[w].output, chunk, sizeof chunk);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return; /* EAGAIN: nothing more for now */
        if (n == 0) {
            close(workers[w].output); /* every writer is gone: nothing more will come */
            workers[w].output = -1;
            return;
        }
        if (workers[w].log >= 0)
            log_append(w, chunk, (size_t)n);
        copied += (size_t)n;
    }
}

/* The current machine's log, sent by its worker before mmspec_init. */
static void set_log(int w, int log)
{
    if (workers[w].log >= 0)
        close(workers[w].log);
    struct stat file;
    workers[w].log = log;
    workers[w].log_size = fstat(log, &file) == 0 ? (size_t)file.st_size : 0;
}

/* Whether a machine that ended left processes running; reaps the ones that have exited. */
static int left_behind(void)
{
    for (;;) {
        pid_t child = waitpid(-1, NULL, WNOHANG);
        if (child > 0)
            continue;
        return child == 0; /* 0: a descendant still runs; -1 (ECHILD): none */
    }
}

/* A worker's end when its server is gone (PR_SET_PDEATHSIG, or its control socket closed). */
__attribute__((noreturn)) static void on_server_death(int signal)
{
    (void)signal;
    kill(0, SIGKILL); /* the worker's whole group, itself included */
    _exit(0);
}

/*
 * A worker: machines one after another, each on the connection the server sends, until retired. It
 * leads a process group (set on both sides of the fork, so that neither can act before it exists) and
 * is a child subreaper, so that what its machines fork stays in its group and, orphaned, its child.
 */
__attribute__((noreturn)) static void become_worker(int listener, int control, int output, pid_t server)
{
    setpgid(0, 0);
    prctl(PR_SET_CHILD_SUBREAPER, 1);
    signal(SIGTERM, on_server_death);
    prctl(PR_SET_PDEATHSIG, SIGTERM); /* no orphaned workers, nor their processes, if the server is killed */
    if (getppid() != server)
        on_server_death(SIGTERM);
    signal(SIGCHLD, SIG_DFL);
    signal(SIGPIPE, SIG_DFL);
    signal(SIGINT, SIG_DFL);
    signal(SIGHUP, SIG_DFL);
    int null_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (null_fd < 0 || dup2(null_fd, STDIN_FILENO) < 0 || dup2(output, STDOUT_FILENO) < 0 || dup2(output, STDERR_FILENO) < 0)
        _exit(6);
    close(null_fd);
    close(output);
    close(listener);
    close(signal_pipe[0]);
    close(signal_pipe[1]);
    for (int i = 0; i < worker_count; i++) {
        close(workers[i].control); /* other workers' channels, machines and logs are none of this one's business */
        if (workers[i].connection >= 0)
            close(workers[i].connection);
        if (workers[i].output >= 0)
            close(workers[i].output);
        if (workers[i].log >= 0)
            close(workers[i].log);
    }
    /* The library's data back as loaded while no machine waits for it: before the first machine, then after each. */
    snapshot_restore();
    for (int served = 0; served < MACHINES_PER_WORKER; served++) {
        char byte = 0;
        int connection = receive_fd(control, &byte);
        if (connection < 0)
            on_server_death(SIGTERM); /* the server is gone */
        int code = run_machine(connection, control);
        if (code != 0)
            _exit(code); /* the server reports the code as the machine's end */
        fflush(NULL); /* what the implementation printed belongs in this machine's log, not the next one's */
        close(connection);
        int leaving = served + 1 == MACHINES_PER_WORKER || left_behind();
        if (write(control, leaving ? "r" : "d", 1) != 1)
            on_server_death(SIGTERM);
        if (leaving)
            break; /* the server kills what the machine left, with this worker */
        snapshot_restore();
    }
    _exit(0);
}

/*
 * An idle worker, forked if there is none; -1 if none can be had. The one that became idle last: the suite's next
 * machine on a thread mostly follows that thread's last, and a worker keeps the set-up snapshots of the machines it
 * served (OP_SNAPSHOT), which it alone can restore: a restore names that worker (wanted), and gets it when it is idle.
 */
static int idle_worker(int listener, pid_t server, pid_t wanted)
{
    int latest = -1;
    for (int i = 0; i < worker_count; i++)
        if (workers[i].connection == IDLE && workers[i].pid == wanted)
            return i; /* the worker holding the suite's snapshot */
    for (int i = 0; i < worker_count; i++)
        if (workers[i].connection == IDLE && (latest < 0 || workers[i].idled > workers[latest].idled))
            latest = i;
    if (latest >= 0)
        return latest;
    if (worker_count == WORKERS_MAX)
        return -1;
    int pair[2], output[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) < 0)
        return -1;
    if (pipe2(output, O_CLOEXEC) < 0) {
        close(pair[0]);
        close(pair[1]);
        return -1;
    }
    pid_t pid = fork();
    if (pid == 0) {
        close(pair[0]);
        close(output[0]);
        become_worker(listener, pair[1], output[1], server);
    }
    close(pair[1]);
    close(output[1]);
    if (pid < 0) {
        close(pair[0]);
        close(output[0]);
        return -1;
    }
    setpgid(pid, pid); /* also done by the worker: whichever runs first, the group exists before anything is forked into it */
    fcntl(output[0], F_SETFL, O_NONBLOCK);
    workers[worker_count].pid = pid;
    workers[worker_count].control = pair[0];
    workers[worker_count].connection = IDLE;
    workers[worker_count].output = output[0];
    workers[worker_count].log = -1;
    workers[worker_count].log_size = 0;
    workers[worker_count].idled = 0;
    return worker_count++;
}

static void accept_machine(int listener, pid_t server)
{
    int connection = accept4(listener, NULL, NULL, SOCK_CLOEXEC);
    if (connection < 0)
        return;
    /* The suite names the worker it wants first (its snapshot's, or 0): it writes that at once, so a short wait
     * is enough, and a client that says nothing in time gets no machine rather than stalling the server. */
    unsigned char wanted[WANTED_BYTES];
    struct pollfd ready = { .fd = connection, .events = POLLIN };
    int polled;
    do
        polled = poll(&ready, 1, WANTED_TIMEOUT_MS); /* a worker that just ended interrupts it with SIGCHLD */
    while (polled < 0 && errno == EINTR);
    if (polled != 1 || read_full(connection, wanted, WANTED_BYTES) != 1) {
        close(connection);
        return;
    }
    unsigned char greeting[GREETING_BYTES];
    put_u32(greeting, HOST_PROTOCOL_VERSION);
    int w = idle_worker(listener, server, (pid_t)get_u32(wanted));
    put_u32(greeting + 4, w < 0 ? 0 : (uint32_t)workers[w].pid); /* pid 0: no machine, the suite reports it */
    if (w < 0 || write_full(connection, greeting, GREETING_BYTES) < 0 || send_fd(workers[w].control, 'm', connection) < 0) {
        if (w >= 0)
            kill_group(w); /* it may or may not have the connection: replace it */
        close(connection);
        return;
    }
    workers[w].connection = connection;
}

/*
 * The last answer on a machine's connection: how it ended, once all it printed is in its log. Nobody may
 * be listening any more, which is fine.
 */
static void end_machine(int w, int status)
{
    copy_output(w, OUTPUT_DRAIN);
    if (workers[w].log >= 0)
        close(workers[w].log);
    workers[w].log = -1;
    if (workers[w].connection < 0)
        return;
    unsigned char ended[RESPONSE_BYTES] = { 0 };
    put_u32(ended, ST_ENDED);
    put_u64(ended + 8, (uint64_t)(uint32_t)status);
    write_full(workers[w].connection, ended, RESPONSE_BYTES);
    close(workers[w].connection);
    workers[w].connection = IDLE;
    workers[w].idled = ++idle_clock;
}

/*
 * Ends the machines of workers that have died, and kills what they left: a dead worker is looked at
 * before it is reaped, while its zombie still holds its pid, so that the group of that number is its
 * own and no one else's. Other children are orphans of dead workers (the server is a subreaper too).
 */
static void reap_workers(void)
{
    for (;;) {
        siginfo_t info = { 0 };
        if (waitid(P_ALL, 0, &info, WEXITED | WNOHANG | WNOWAIT) < 0 || info.si_pid == 0)
            return;
        pid_t pid = info.si_pid;
        int w = -1;
        for (int i = 0; i < worker_count; i++)
            if (workers[i].pid == pid)
                w = i;
        if (w >= 0)
            kill_group(w);
        int status;
        if (waitpid(pid, &status, 0) != pid)
            return;
        if (w < 0)
            continue;
        end_machine(w, status);
        close(workers[w].control);
        if (workers[w].output >= 0)
            close(workers[w].output);
        workers[w] = workers[--worker_count];
    }
}

/* The suite is gone, or asks the server to stop: every worker's group dies with it. */
__attribute__((noreturn)) static void shut_down(void)
{
    for (int i = 0; i < worker_count; i++)
        kill_group(i);
    exit(0);
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
    if (pipe2(signal_pipe, O_CLOEXEC | O_NONBLOCK) < 0)
        die("cannot create a pipe%s", "");
    prctl(PR_SET_CHILD_SUBREAPER, 1); /* what a dead worker's processes leave is reaped here, not piled up under init */
    struct sigaction on_exit = { .sa_handler = on_signal, .sa_flags = SA_RESTART | SA_NOCLDSTOP };
    sigaction(SIGCHLD, &on_exit, NULL);
    struct sigaction on_stop = { .sa_handler = on_signal, .sa_flags = SA_RESTART };
    sigaction(SIGTERM, &on_stop, NULL);
    sigaction(SIGHUP, &on_stop, NULL);
    /* Ctrl-C in a terminal reaches the whole foreground group, the suite included, which stops after its current
     * sequence and then closes stdin: the server must not pull the machines from under that sequence first. */
    signal(SIGINT, SIG_IGN);

    printf("mmspec-host %u\n", HOST_PROTOCOL_VERSION);
    fflush(stdout);
    pid_t server = getpid();
    for (;;) {
        /* Each worker twice: its control socket at 3 + i, its output at 3 + watching + i (fd -1, ignored, once closed). */
        struct pollfd watched[3 + 2 * WORKERS_MAX] = {
            { .fd = STDIN_FILENO, .events = POLLIN },
            { .fd = listener, .events = POLLIN },
            { .fd = signal_pipe[0], .events = POLLIN },
        };
        int watching = worker_count;
        for (int i = 0; i < watching; i++) {
            watched[3 + i] = (struct pollfd){ .fd = workers[i].control, .events = POLLIN };
            watched[3 + watching + i] = (struct pollfd){ .fd = workers[i].output, .events = POLLIN };
        }
        if (poll(watched, (nfds_t)(3 + 2 * watching), -1) < 0) {
            if (errno == EINTR)
                continue;
            die("poll failed%s", "");
        }
        /*
         * Control first: a machine's log arrives before anything it prints. A worker that says it is done has
         * finished its machine normally; one that retires is leaving, and with it whatever its machines left.
         */
        for (int i = 0; i < watching; i++) {
            char byte = 0;
            if (!(watched[3 + i].revents & POLLIN))
                continue;
            int fd = receive_fd(workers[i].control, &byte);
            if (fd >= 0 && byte == CONTROL_LOG) {
                set_log(i, fd);
                continue;
            }
            if (fd >= 0)
                close(fd);
            if (byte != CONTROL_DONE && byte != CONTROL_RETIRED)
                continue; /* its end closed (the worker is exiting): reaped below */
            if (byte == CONTROL_RETIRED)
                kill_group(i);
            end_machine(i, 0);
            if (byte == CONTROL_RETIRED)
                workers[i].connection = RETIRED;
        }
        for (int i = 0; i < watching; i++)
            if (watched[3 + watching + i].revents)
                copy_output(i, LOG_MAX); /* a bounded share, so that one flood does not hold up the others */
        if (watched[2].revents) {
            char signals[64];
            int stop = 0;
            ssize_t n;
            while ((n = read(signal_pipe[0], signals, sizeof signals)) > 0)
                stop = stop || memchr(signals, SIGNAL_STOP, (size_t)n) != NULL;
            if (stop)
                shut_down();
            reap_workers();
        }
        if (watched[1].revents & POLLIN)
            accept_machine(listener, server);
        if (watched[0].revents) {
            char ignored[64];
            if (read(STDIN_FILENO, ignored, sizeof ignored) <= 0)
                shut_down(); /* the suite is gone */
        }
    }
}
