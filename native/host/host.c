/*
 * mmspec-host: runs one C implementation of the memory-management API in its own process.
 *
 *   mmspec-host <library.so> <shm-file> <ram-bytes>
 *
 * Maps <shm-file> (shared with the suite, which reads and writes it directly) as the simulated RAM,
 * dlopens the library, calls mmspec_init, then serves fixed-size binary requests on stdin and
 * answers on stdout (protocol in native/README.md). A panic through the hook longjmps back to the
 * command loop and is reported; a crash or hang is not handled here at all: the process dies (or is
 * killed by the suite) and the suite sees end of file.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <unistd.h>

#include "mmspec.h"

enum opcode {
    OP_HELLO = 0,
    OP_PHYS_ALLOC_PAGE = 1,
    OP_PHYS_ALLOC_CONTIGUOUS = 2,
    OP_PHYS_FREE_PAGE = 3,
    OP_KMALLOC = 4,
    OP_KFREE = 5,
    OP_MAP_SINGLE = 6,
    OP_MAP_GET = 7,
    OP_UMAP_SINGLE = 8,
    OP_VMFIND = 9,
    OP_VMALLOC = 10,
    OP_VMFREE = 11,
    OP_SPACE_CREATE = 12,
    OP_SPACE_ROOT = 13,
    OP_EXIT = 14,
    OP_PHYS_ALLOC_PAGES = 15, /* batch: the suite counts free memory by exhaustion several times a sequence */
    OP_PHYS_FREE_PAGES = 16,
};

#define HOST_PROTOCOL_VERSION 2u /* 2: batch opcodes and request bodies */

enum status { ST_OK = 0, ST_PANIC = 1, ST_BAD_REQUEST = 2 };

#define REQUEST_BYTES 48  /* u32 opcode, u32 body length, u64 args[5]; then the body */
#define RESPONSE_BYTES 24 /* u32 status, u32 body length, u64 result, u64 flags; then the body */
#define TEXT_MAX 1024
#define BATCH_PAGES 4096  /* pages per batch request: bodies stay under 32 KiB */

static struct {
    void (*init)(const struct mmspec_env *);
    mm_space_t (*space_create)(void);
    uintptr_t (*space_root)(mm_space_t);
    uint32_t (*capabilities)(void);
    uintptr_t (*phys_alloc_page)(void);
    uintptr_t (*phys_alloc_contiguous)(size_t);
    void (*phys_free_page)(uintptr_t);
    void *(*kmalloc)(size_t);
    void (*kfree)(void *);
    int (*map_single)(mm_space_t, uintptr_t, uintptr_t, uint64_t);
    uintptr_t (*map_get)(mm_space_t, uintptr_t, uint64_t *);
    uintptr_t (*umap_single)(mm_space_t, uintptr_t, uint32_t);
    uintptr_t (*vmfind)(const mm_space_t, uintptr_t, uintptr_t, size_t);
    uintptr_t (*vmalloc)(mm_space_t, uintptr_t, uintptr_t, size_t, uint64_t);
    int (*vmfree)(mm_space_t, uintptr_t, size_t);
} impl;

static uintptr_t ram_base;
static size_t ram_size;
static int in_fd = -1, out_fd = -1;
static sigjmp_buf panic_jump;
static volatile int in_call;
static char panic_text[TEXT_MAX];
static uint64_t batch[BATCH_PAGES];
static volatile uint64_t batch_done; /* survives a panic's longjmp: names the call that panicked */
static unsigned char body[BATCH_PAGES * 8];

static void die(const char *fmt, const char *arg)
{
    fprintf(stderr, "mmspec-host: ");
    fprintf(stderr, fmt, arg);
    fprintf(stderr, "\n");
    exit(2);
}

__attribute__((noreturn)) static void panic_hook(const char *reason)
{
    snprintf(panic_text, sizeof panic_text, "%s", reason ? reason : "(no reason)");
    if (!in_call) {
        fprintf(stderr, "mmspec-host: kernel panic outside a call: %s\n", panic_text);
        _exit(3);
    }
    siglongjmp(panic_jump, 1);
}

static void *need(void *library, const char *name)
{
    void *symbol = dlsym(library, name);
    if (symbol == NULL)
        die("the library does not export %s", name);
    return symbol;
}

static int read_full(int fd, void *buffer, size_t length)
{
    size_t done = 0;
    while (done < length) {
        ssize_t n = read(fd, (char *)buffer + done, length - done);
        if (n == 0)
            return done == 0 ? 0 : -1;
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        done += (size_t)n;
    }
    return 1;
}

static void write_full(int fd, const void *buffer, size_t length)
{
    size_t done = 0;
    while (done < length) {
        ssize_t n = write(fd, (const char *)buffer + done, length - done);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            _exit(4); /* the suite went away */
        done += (size_t)n;
    }
}

static void put_u32(unsigned char *p, uint32_t v) { for (int i = 0; i < 4; i++) p[i] = (unsigned char)(v >> (8 * i)); }
static void put_u64(unsigned char *p, uint64_t v) { for (int i = 0; i < 8; i++) p[i] = (unsigned char)(v >> (8 * i)); }
static uint32_t get_u32(const unsigned char *p) { uint32_t v = 0; for (int i = 3; i >= 0; i--) v = v << 8 | p[i]; return v; }
static uint64_t get_u64(const unsigned char *p) { uint64_t v = 0; for (int i = 7; i >= 0; i--) v = v << 8 | p[i]; return v; }

static void respond(uint32_t status, uint64_t result, uint64_t flags, const void *payload, size_t length)
{
    unsigned char header[RESPONSE_BYTES];
    put_u32(header, status);
    put_u32(header + 4, (uint32_t)length);
    put_u64(header + 8, result);
    put_u64(header + 16, flags);
    write_full(out_fd, header, RESPONSE_BYTES);
    if (length)
        write_full(out_fd, payload, length);
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
        *flags = impl.capabilities ? impl.capabilities() : 0;
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
    if (op == OP_EXIT || op > OP_PHYS_FREE_PAGES)
        return ST_BAD_REQUEST;
    if ((op == OP_PHYS_ALLOC_PAGES || op == OP_PHYS_FREE_PAGES) && args[0] > BATCH_PAGES)
        return ST_BAD_REQUEST;
    if (init_panicked)
        return ST_PANIC;
    return guarded_serve(op, args, result, flags) ? ST_PANIC : ST_OK;
}

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: mmspec-host <library.so> <shm-file> <ram-bytes>\n");
        return 2;
    }
    struct rlimit no_core = { 0, 0 };
    setrlimit(RLIMIT_CORE, &no_core); /* a crashing implementation is expected here: no core dumps */

    /* Keep the protocol channel private: whatever the implementation prints goes to stderr. */
    in_fd = dup(STDIN_FILENO);
    out_fd = dup(STDOUT_FILENO);
    int null_fd = open("/dev/null", O_RDONLY);
    if (in_fd < 0 || out_fd < 0 || null_fd < 0 || dup2(null_fd, STDIN_FILENO) < 0 || dup2(STDERR_FILENO, STDOUT_FILENO) < 0)
        die("cannot set up the protocol channel%s", "");
    close(null_fd);

    char *end = NULL;
    unsigned long long size = strtoull(argv[3], &end, 0);
    if (end == argv[3] || *end || size == 0 || size % MM_PAGE_SIZE)
        die("bad RAM size %s", argv[3]);
    ram_size = (size_t)size;
    int shm = open(argv[2], O_RDWR);
    if (shm < 0)
        die("cannot open %s", argv[2]);
    void *ram = mmap(NULL, ram_size, PROT_READ | PROT_WRITE, MAP_SHARED, shm, 0);
    if (ram == MAP_FAILED)
        die("cannot map %s", argv[2]);
    close(shm);
    ram_base = (uintptr_t)ram;

    void *library = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
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

    struct mmspec_env env = { .ram_base = ram, .ram_size = ram_size, .panic = panic_hook };
    /* A panic during init is reported as the answer to the first request (HELLO). */
    int init_panicked = guarded_init(&env);

    unsigned char request[REQUEST_BYTES];
    for (;;) {
        int got = read_full(in_fd, request, REQUEST_BYTES);
        if (got <= 0)
            return got == 0 ? 0 : 5;
        uint32_t op = get_u32(request);
        uint32_t body_length = get_u32(request + 4);
        uint64_t args[5];
        for (int i = 0; i < 5; i++)
            args[i] = get_u64(request + 8 + 8 * i);
        if (body_length > sizeof body || body_length % 8)
            return 6; /* the suite and host disagree on the protocol: nothing sensible to answer */
        if (body_length && read_full(in_fd, body, body_length) <= 0)
            return 5;
        for (uint32_t i = 0; i < body_length / 8; i++)
            batch[i] = get_u64(body + 8 * i);
        if (op == OP_EXIT)
            return 0;
        if (op == OP_PHYS_FREE_PAGES && args[0] != body_length / 8) {
            respond(ST_BAD_REQUEST, 0, 0, "page count and body differ", strlen("page count and body differ"));
            continue;
        }
        uint64_t result = 0, flags = 0;
        uint32_t status = dispatch(op, args, init_panicked, &result, &flags);
        if (status == ST_OK && op == OP_PHYS_ALLOC_PAGES) {
            for (uint64_t i = 0; i < result; i++)
                put_u64(body + 8 * i, batch[i]);
            respond(status, result, flags, body, (size_t)result * 8);
        } else {
            const char *text = status == ST_OK ? "" : status == ST_PANIC ? panic_text : "unknown opcode";
            static char located[TEXT_MAX + 128];
            if (status == ST_PANIC && op == OP_PHYS_FREE_PAGES) {
                snprintf(located, sizeof located, "%s (in mm_phys_free_page(0x%llx), call %llu of %llu in the batch)", panic_text,
                         (unsigned long long)batch[batch_done], (unsigned long long)batch_done + 1, (unsigned long long)args[0]);
                text = located;
            }
            respond(status, result, flags, text, strnlen(text, TEXT_MAX));
        }
    }
}
