/*
 * One machine, served by a worker on one connection. Its first request, HELLO,
 * names the machine's RAM (a shared-memory file the suite created and sized) and its log file; the
 * machine maps the RAM, hands the log to the server (which writes there what the worker prints), calls mmspec_init and serves
 * requests, strictly alternating with the answers, until the suite closes the connection.
 *
 * A panic through the hook longjmps back to the command loop and is reported. A crash or a hang is
 * not handled here at all: the process dies (or the suite kills it) and the server reports how.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "host.h"

static uintptr_t ram_base;
static size_t ram_size;
static int channel = -1;
static sigjmp_buf panic_jump;
static volatile int in_call;
static char panic_text[TEXT_MAX];
static uint64_t batch[BATCH_PAGES];
static volatile uint64_t batch_done; /* survives a panic's longjmp: names the call that panicked */
static unsigned char body[BATCH_PAGES * 8];

/*
 * The set-up machines whose library data booted_take() kept (OP_SNAPSHOT), and on which RAM each ran: a machine is
 * restored from one only on the same RAM file mapped at the same address, since a kernel keeps host pointers into RAM.
 */
static struct { uint64_t id; char ram[256]; size_t ram_size; uintptr_t ram_base; uint64_t used; } snapshots[SNAPSHOTS_KEPT];
/* snapshots[].used and mappings[].used: when each was last taken, restored or mapped, so the least used goes */
static uint64_t use_clock;
static uint64_t snapshots_taken;
static char ram_path[256];

__attribute__((noreturn)) static void panic_hook(const char *reason)
{
    snprintf(panic_text, sizeof panic_text, "%s", reason ? reason : "(no reason)");
    if (!in_call) {
        fprintf(stderr, "mmspec-host: kernel panic outside a call: %s\n", panic_text);
        _exit(3);
    }
    siglongjmp(panic_jump, 1);
}

/* An answer, with the frames the request wrote after its body (collected here, so every answer has them). */
static void respond(uint32_t status, uint64_t result, uint64_t flags, const void *payload, size_t length)
{
    static uint64_t written[WRITES_MAX];
    static unsigned char listed[WRITES_MAX * 8];
    int count = writes_collect(written);
    unsigned char header[RESPONSE_BYTES];
    put_u32(header, status);
    put_u32(header + 4, (uint32_t)length);
    put_u64(header + 8, result);
    put_u64(header + 16, flags);
    put_u32(header + 24, (uint32_t)count);
    put_u32(header + 28, (uint32_t)writes_mode());
    for (int i = 0; i < count; i++)
        put_u64(listed + 8 * i, written[i]);
    struct iovec parts[3] = {
        { .iov_base = header, .iov_len = RESPONSE_BYTES },
        { .iov_base = (void *)payload, .iov_len = length },
        { .iov_base = listed, .iov_len = count > 0 ? (size_t)count * 8 : 0 },
    };
    if (channel_send(channel, parts, 3) < 0)
        _exit(4); /* the suite went away */
}

/* kmalloc/kfree cross the boundary: host pointers inside RAM <-> the spec's direct-map addresses. */
static uint64_t pointer_to_spec(void *pointer)
{
    uintptr_t p = (uintptr_t)pointer;
    if (p == 0)
        return 0;
    if (p >= ram_base && p - ram_base < ram_size)
        return MM_KERNEL_BASE + (p - ram_base);
    return p; /* not in RAM at all: shown to the suite as is, which rejects it */
}

static void *pointer_from_spec(uint64_t address)
{
    if (address >= MM_KERNEL_BASE)
        return (void *)(ram_base + (uintptr_t)(address - MM_KERNEL_BASE));
    return (void *)(uintptr_t)address;
}

static void serve(uint32_t op, const uint64_t *a, uint64_t *result, uint64_t *flags)
{
    switch (op) {
    case OP_HELLO:
        *result = HOST_PROTOCOL_VERSION;
        *flags = (uint64_t)ram_base; /* where the RAM lies in this worker: the suite names pointers into it by offset */
        break;
    case OP_PHYS_ALLOC_PAGE: *result = impl.phys_alloc_page(); break;
    case OP_PHYS_ALLOC_CONTIGUOUS: *result = impl.phys_alloc_contiguous((size_t)a[0]); break;
    case OP_PHYS_FREE_PAGE: impl.phys_free_page((uintptr_t)a[0]); break;
    case OP_KMALLOC: *result = pointer_to_spec(impl.kmalloc((size_t)a[0])); break;
    case OP_KFREE: impl.kfree(pointer_from_spec(a[0])); break;
    case OP_MAP_SINGLE: *result = (uint64_t)(int64_t)impl.map_single(a[0], a[1], a[2], a[3]); break;
    case OP_MAP_GET: {
        uint64_t out = a[3]; /* the caller's variable keeps its value on failure */
        *result = impl.map_get(a[0], a[1], a[2] ? &out : NULL);
        *flags = out;
        break;
    }
    case OP_UMAP_SINGLE: *result = impl.umap_single(a[0], a[1], (uint32_t)a[2]); break;
    case OP_VMFIND: *result = impl.vmfind(a[0], a[1], a[2], (size_t)a[3]); break;
    case OP_VMALLOC: *result = impl.vmalloc(a[0], a[1], a[2], (size_t)a[3], a[4]); break;
    case OP_VMFREE: *result = (uint64_t)(int64_t)impl.vmfree(a[0], a[1], (size_t)a[2]); break;
    case OP_SPACE_CREATE: *result = impl.space_create(); break;
    case OP_SPACE_ROOT: *result = impl.space_root(a[0]); break;
    case OP_PHYS_ALLOC_PAGES: {
        uint64_t n = 0;
        while (n < a[0]) {
            uintptr_t page = impl.phys_alloc_page();
            if (page == MM_NADDR)
                break;
            batch[n++] = page;
        }
        *result = n;
        break;
    }
    case OP_PHYS_FREE_PAGES:
        for (batch_done = 0; batch_done < a[0]; batch_done++)
            impl.phys_free_page((uintptr_t)batch[batch_done]);
        break;
    case OP_KFREES:
        for (batch_done = 0; batch_done < a[0]; batch_done++)
            impl.kfree(pointer_from_spec(batch[batch_done]));
        break;
    case OP_KMALLOCS: {
        /* kmalloc(arg1) until it returns NULL or arg0 blocks were handed out: result = the blocks, in batch[]. */
        for (batch_done = 0; batch_done < a[0]; batch_done++) {
            uint64_t block = pointer_to_spec(impl.kmalloc((size_t)a[1]));
            if (block == 0)
                break;
            batch[batch_done] = block;
        }
        *result = batch_done;
        break;
    }
    case OP_MAP_GETS:
        /* Each (space, virt) pair is read, then replaced by the answer (address, flags); flags start at 0. */
        for (batch_done = 0; batch_done < a[0]; batch_done++) {
            uint64_t space = batch[2 * batch_done], virt = batch[2 * batch_done + 1], out = 0;
            batch[2 * batch_done] = impl.map_get(space, virt, &out);
            batch[2 * batch_done + 1] = out;
        }
        break;
    default: break;
    }
}

/* Runs one request; returns 1 when the implementation panicked through the hook. */
__attribute__((noinline)) static int guarded_serve(uint32_t op, const uint64_t *args, uint64_t *result, uint64_t *flags)
{
    in_call = 1;
    if (sigsetjmp(panic_jump, 0) != 0) {
        in_call = 0;
        return 1;
    }
    serve(op, args, result, flags);
    in_call = 0;
    return 0;
}

__attribute__((noinline)) static int guarded_init(const struct mmspec_env *env)
{
    in_call = 1;
    if (sigsetjmp(panic_jump, 0) != 0) {
        in_call = 0;
        return 1;
    }
    impl.init(env);
    in_call = 0;
    return 0;
}

static uint32_t dispatch(uint32_t op, const uint64_t *args, int init_panicked, uint64_t *result, uint64_t *flags)
{
    if (op == OP_EXIT || op > OP_KMALLOCS)
        return ST_BAD_REQUEST;
    if ((op == OP_PHYS_ALLOC_PAGES || op == OP_PHYS_FREE_PAGES || op == OP_KFREES || op == OP_KMALLOCS) && args[0] > BATCH_PAGES)
        return ST_BAD_REQUEST;
    if (op == OP_MAP_GETS && args[0] > MAP_GETS_MAX)
        return ST_BAD_REQUEST;
    if (init_panicked)
        return ST_PANIC;
    return guarded_serve(op, args, result, flags) ? ST_PANIC : ST_OK;
}

/*
 * The suite reuses its RAM files from machine to machine, and so does a worker reuse its mappings of
 * them: the pages stay mapped, so the next machine on the same RAM pays no page faults for them. A set-up
 * snapshot is restored only at the address its RAM was mapped at, so there is a mapping for every snapshot
 * kept, and the one used longest ago makes room.
 */
#define MAPPINGS_KEPT SNAPSHOTS_KEPT
static struct { char path[256]; size_t size; void *base; void *channel; uint64_t used; } mappings[MAPPINGS_KEPT];

/* The RAM file at path mapped as RAM (size bytes) and, past it, its channel into *channel (NULL where it cannot be). */
static void *map_ram(const char *path, size_t size, void **channel_out)
{
    for (int i = 0; i < MAPPINGS_KEPT; i++)
        if (mappings[i].base != NULL && mappings[i].size == size && strcmp(mappings[i].path, path) == 0) {
            mappings[i].used = ++use_clock;
            *channel_out = mappings[i].channel;
            return mappings[i].base;
        }
    if (strlen(path) >= sizeof mappings[0].path)
        return NULL;
    int shm = open(path, O_RDWR | O_CLOEXEC);
    if (shm < 0) {
        fprintf(stderr, "mmspec-host: cannot open %s: %s\n", path, strerror(errno));
        return NULL;
    }
    void *ram = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, shm, 0);
    /* A mapping of its own, so that a write past the end of RAM faults rather than lands in the channel. */
    struct stat file;
    int room = fstat(shm, &file) == 0 && (uint64_t)file.st_size >= (uint64_t)size + CHANNEL_BYTES;
    void *channel = ram == MAP_FAILED || !room ? MAP_FAILED : mmap(NULL, CHANNEL_BYTES, PROT_READ | PROT_WRITE, MAP_SHARED, shm, (off_t)size);
    close(shm);
    if (ram == MAP_FAILED) {
        fprintf(stderr, "mmspec-host: cannot map %s: %s\n", path, strerror(errno));
        return NULL;
    }
    if (channel == MAP_FAILED)
        channel = NULL; /* a file without the room: the socket alone */
    int slot = 0;
    for (int i = 1; i < MAPPINGS_KEPT; i++)
        if (mappings[i].used < mappings[slot].used)
            slot = i; /* an empty slot, else the mapping used longest ago */
    if (mappings[slot].base != NULL) {
        writes_unmapped(mappings[slot].base);
        munmap(mappings[slot].base, mappings[slot].size);
        if (mappings[slot].channel != NULL)
            munmap(mappings[slot].channel, CHANNEL_BYTES);
    }
    snprintf(mappings[slot].path, sizeof mappings[slot].path, "%s", path);
    mappings[slot].size = size;
    mappings[slot].base = ram;
    mappings[slot].channel = channel;
    mappings[slot].used = ++use_clock;
    *channel_out = channel;
    return ram;
}

/*
 * HELLO: arg0 = RAM bytes, arg1 = the write tracking wanted (enum write_tracking), arg2 = the snapshot to restore
 * (0: boot with mmspec_init), body = the RAM file's path and the log file's path, each NUL-terminated.
 * Returns 0 once the RAM is mapped and the log handed to the server; a malformed HELLO is a protocol
 * mismatch.
 */
static int attach(const uint64_t *args, uint32_t body_length, int control)
{
    const char *requested = (const char *)body;
    size_t ram_path_length = strnlen(requested, body_length);
    if (ram_path_length == body_length || ram_path_length >= sizeof ram_path)
        return -1;
    const char *log_path = requested + ram_path_length + 1;
    if (strnlen(log_path, body_length - ram_path_length - 1) == body_length - ram_path_length - 1)
        return -1;
    if (args[0] == 0 || args[0] % MM_PAGE_SIZE)
        return -1;

    /*
     * Whatever the implementation prints goes down the worker's output pipe to the server, which keeps
     * the latest of it in this log (at most LOG_MAX bytes): the suite quotes its tail when the machine dies.
     */
    int log = open(log_path, O_RDWR | O_CLOEXEC);
    if (log < 0)
        return -1;
    int handed = send_fd(control, CONTROL_LOG, log);
    close(log);
    if (handed < 0)
        return -1;

    snprintf(ram_path, sizeof ram_path, "%s", requested);
    void *shared = NULL;
    void *ram = map_ram(requested, (size_t)args[0], &shared);
    if (ram == NULL)
        return -1;
    channel_attach(shared);
    ram_base = (uintptr_t)ram;
    ram_size = (size_t)args[0];
    /* From here on, what the implementation writes into RAM is known request by request; HELLO's answer lists
     * what mmspec_init wrote. */
    writes_attach(ram, ram_size, args[1] <= WRITES_AUTO ? (int)args[1] : WRITES_OFF);
    return 0;
}

/* The slot of snapshot `id` if this worker holds it and can restore it on the RAM just attached, else -1. */
static int restorable(uint64_t id)
{
    for (int slot = 0; slot < SNAPSHOTS_KEPT; slot++)
        if (id != 0 && snapshots[slot].id == id)
            return ram_size == snapshots[slot].ram_size && ram_base == snapshots[slot].ram_base && strcmp(ram_path, snapshots[slot].ram) == 0 ? slot : -1;
    return -1;
}

/*
 * OP_SNAPSHOT: keeps the library's data as it stands, in the slot of the same RAM file if there is one, else in the
 * one restored or taken longest ago (an empty one first: a suite checking on several threads keeps a snapshot per
 * thread and RAM size, and evicting one still in use would make its restores decline and snapshot again);
 * result = the snapshot's id, which HELLO's arg2 names to restore it.
 */
static void take_snapshot(int init_panicked)
{
    int slot = 0;
    for (int i = 1; i < SNAPSHOTS_KEPT; i++)
        if (snapshots[i].used < snapshots[slot].used)
            slot = i;
    for (int i = 0; i < SNAPSHOTS_KEPT; i++)
        if (snapshots[i].id != 0 && strcmp(snapshots[i].ram, ram_path) == 0)
            slot = i;
    snapshots[slot].id = 0;
    if (init_panicked || booted_take(slot) != 0) {
        respond(ST_BAD_REQUEST, 0, 0, "cannot snapshot this machine", strlen("cannot snapshot this machine"));
        return;
    }
    snapshots[slot].id = ((uint64_t)getpid() << 32) | ++snapshots_taken;
    snprintf(snapshots[slot].ram, sizeof snapshots[slot].ram, "%s", ram_path);
    snapshots[slot].ram_size = ram_size;
    snapshots[slot].ram_base = ram_base;
    snapshots[slot].used = ++use_clock;
    respond(ST_OK, snapshots[slot].id, 0, NULL, 0);
}

int run_machine(int fd, int control)
{
    channel = fd;
    /* Until HELLO names this machine's RAM, the channel of the worker's last machine is another machine's now. */
    channel_attach(NULL);
    int attached = 0, init_panicked = 0, declined = 0;
    unsigned char request[REQUEST_BYTES];
    for (;;) {
        int got = channel_receive(channel, request, body, sizeof body);
        if (got <= 0)
            return got == 0 ? 0 : got == -2 ? 6 : 5;
        uint32_t op = get_u32(request);
        uint32_t body_length = get_u32(request + 4);
        uint64_t args[5];
        for (int i = 0; i < 5; i++)
            args[i] = get_u64(request + 8 + 8 * i);
        if (body_length % 8)
            return 6; /* the suite and host disagree on the protocol: nothing sensible to answer */
        if (op == OP_EXIT)
            return 0;
        if (!attached) {
            if (op != OP_HELLO || attach(args, body_length, control) < 0)
                return 6;
            attached = 1;
            if (args[2] != 0) {
                /* A restore: the suite has put the snapshot's RAM back; the library's data goes back here, and
                 * mmspec_init is not called. A snapshot this worker does not hold is declined: body = 0. */
                int slot = restorable(args[2]);
                uint64_t restored = slot >= 0;
                if (restored) {
                    booted_restore(slot);
                    snapshots[slot].used = ++use_clock;
                }
                declined = !restored;
                put_u64(body, restored);
                respond(ST_OK, HOST_PROTOCOL_VERSION, (uint64_t)ram_base, body, 8);
                continue;
            }
            struct mmspec_env env = { .ram_base = (void *)ram_base, .ram_size = ram_size, .panic = panic_hook };
            /* A panic during init is reported as the answer to HELLO and to every later request. */
            init_panicked = guarded_init(&env);
        }
        if (declined) {
            respond(ST_BAD_REQUEST, 0, 0, "restore declined", strlen("restore declined"));
            continue;
        }
        if (op == OP_SNAPSHOT) {
            take_snapshot(init_panicked);
            continue;
        }
        for (uint32_t i = 0; i < body_length / 8; i++)
            batch[i] = get_u64(body + 8 * i);
        if (((op == OP_PHYS_FREE_PAGES || op == OP_KFREES) && args[0] != body_length / 8)
            || (op == OP_MAP_GETS && args[0] * 2 != body_length / 8)) {
            respond(ST_BAD_REQUEST, 0, 0, "count and body differ", strlen("count and body differ"));
            continue;
        }
        uint64_t result = 0, flags = 0;
        uint32_t status = dispatch(op, args, init_panicked, &result, &flags);
        if (status == ST_OK && (op == OP_PHYS_ALLOC_PAGES || op == OP_MAP_GETS || op == OP_KMALLOCS)) {
            size_t words = op == OP_MAP_GETS ? (size_t)args[0] * 2 : (size_t)result;
            for (size_t i = 0; i < words; i++)
                put_u64(body + 8 * i, batch[i]);
            respond(status, result, flags, body, words * 8);
        } else {
            const char *text = status == ST_OK ? "" : status == ST_PANIC ? panic_text : "unknown opcode";
            static char located[TEXT_MAX + 128];
            if (status == ST_PANIC && (op == OP_PHYS_FREE_PAGES || op == OP_KFREES)) {
                snprintf(located, sizeof located, "%s (in %s(0x%llx), call %llu of %llu in the batch)", panic_text,
                         op == OP_KFREES ? "kfree" : "mm_phys_free_page",
                         (unsigned long long)batch[batch_done], (unsigned long long)batch_done + 1, (unsigned long long)args[0]);
                text = located;
            }
            if (status == ST_PANIC && op == OP_KMALLOCS) {
                snprintf(located, sizeof located, "%s (in kmalloc(%llu), call %llu of at most %llu in the batch)", panic_text,
                         (unsigned long long)args[1], (unsigned long long)batch_done + 1, (unsigned long long)args[0]);
                text = located;
            }
            if (status == ST_PANIC && op == OP_MAP_GETS) {
                /* result = the calls answered before the one that panicked; body = their answers, then the text */
                uint64_t answered = batch_done;
                for (uint64_t i = 0; i < 2 * answered; i++)
                    put_u64(body + 8 * i, batch[i]);
                size_t length = strnlen(panic_text, TEXT_MAX);
                memcpy(body + 16 * answered, panic_text, length);
                respond(status, answered, flags, body, 16 * answered + length);
                continue;
            }
            respond(status, result, flags, text, strnlen(text, TEXT_MAX));
        }
    }
}
