/*
 * mmspec-host: runs a C implementation of the memory-management API out of the suite's process.
 *
 * server.c is the long-lived part: it loads the library once and hands each connection (one
 * machine) to a worker process it forked; snapshot.c puts the library's globals back as loaded before
 * every machine; machine.c is one machine: it maps that machine's RAM, calls mmspec_init and serves
 * the suite's requests until the connection closes; wire.c holds the protocol's fields and socket I/O.
 * Protocol: native/README.md.
 */
#ifndef MMSPEC_HOST_H
#define MMSPEC_HOST_H

#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#include "mmspec.h"

#define HOST_PROTOCOL_VERSION 9u /* 3: a server with worker processes, one connection per machine; 4: write sets; 5: kfree and mm_map_get batches; 6: kmalloc batches; 7: set-up snapshots; 8: the suite names the worker it wants; 9: the fast channel */

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
    OP_KFREES = 17, /* batch: the teardown frees every block the client still holds */
    OP_MAP_GETS = 18, /* batch: the suite's cross-check asks mm_map_get about a few pages after every step */
    OP_KMALLOCS = 19, /* batch: a kmalloc burst fills a slab, tens of blocks of one size */
    OP_SNAPSHOT = 20, /* keeps the library's data as it is, for HELLO to restore a machine in this state (arg2) */
};

/* ST_ENDED is written by the server, not the machine: the machine is over; result = 0, or the worker's wait status if it died. */
enum status { ST_OK = 0, ST_PANIC = 1, ST_BAD_REQUEST = 2, ST_ENDED = 3 };

#define WANTED_BYTES 4    /* suite -> server first: u32 the pid of the worker wanted (its snapshot's), 0 any */
#define WANTED_TIMEOUT_MS 2000
#define GREETING_BYTES 8  /* server -> suite then: u32 protocol version, u32 the pid of the machine's worker */
#define REQUEST_BYTES 48  /* u32 opcode, u32 body length, u64 args[5]; then the body */
/*
 * u32 status, u32 body length, u64 result, u64 flags, i32 frames written, u32 write tracking; then the body, then
 * that many u64 offsets into RAM of the frames the request wrote (-1: more than WRITES_MAX, or unknown).
 */
#define RESPONSE_BYTES 32
#define TEXT_MAX 1024
#define BATCH_PAGES 4096  /* pages per batch request: bodies stay under 32 KiB */
#define MAP_GETS_MAX 1024 /* lookups per batch: their answers and a panic's text fit one body */

/* The library's entry points, resolved once by the server and inherited by every machine. */
struct implementation {
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
};

extern struct implementation impl;

/*
 * A worker's messages to the server on its control socket, one byte each: CONTROL_LOG carries the fd of
 * the machine's log (the server writes the worker's output there), CONTROL_DONE says the machine ended and
 * the worker waits for the next, CONTROL_RETIRED that it ended and the worker is leaving: it has served its
 * last machine, or the machine left processes behind (the server then kills the worker's process group).
 */
#define CONTROL_LOG 'l'
#define CONTROL_DONE 'd'
#define CONTROL_RETIRED 'r'

/* A machine's log keeps at most LOG_MAX bytes: when more come, the oldest go, all but the last LOG_KEEP. */
#define LOG_MAX (1u << 20)
#define LOG_KEEP (LOG_MAX / 2)

/* writes.c: which frames of RAM a request wrote. HELLO's arg1 asks for a mechanism; every answer says which runs. */
enum write_tracking { WRITES_OFF = 0, WRITES_UFFD = 1, WRITES_MPROTECT = 2, WRITES_AUTO = 3 };
#define WRITES_MAX 16384 /* frames one answer lists; beyond, the answer says it cannot tell */
int writes_attach(void *ram, size_t bytes, int wanted);
int writes_mode(void);
int writes_collect(uint64_t *out);
/* Before the worker unmaps a RAM mapping: a mapping at the same address later is a new one, to protect whole. */
void writes_unmapped(void *ram);

/*
 * channel.c: the fast channel, the last CHANNEL_BYTES of the RAM file (past the RAM): two state words, a request
 * and an answer laid out as on the socket. Either side may send on the socket instead; see channel.c.
 */
#define CHANNEL_BYTES (256u * 1024)
#define CHANNEL_REQUEST_STATE 0 /* u32, enum channel_state: how the next request comes */
#define CHANNEL_ANSWER_STATE 64 /* u32: how the next answer goes (a cache line apart: each side spins on one) */
#define CHANNEL_REQUEST 4096    /* the request's 48 bytes, then its body */
#define CHANNEL_ANSWER 65536    /* the answer's 32 bytes, its body, the frames written */
#define CHANNEL_SPIN_US 200     /* how long the worker spins for a request before it reads the socket */
enum channel_state { CH_BLOCK = 0, CH_SPIN = 1, CH_READY = 2 };
/* The machine's channel (NULL: the socket only); requests and answers go through it when the suite spins. */
void channel_attach(void *base);
/* The next request into request (REQUEST_BYTES) and its body; 1, 0 if the suite closed the connection, -1 on an I/O failure, -2 for a body longer than body_room. */
int channel_receive(int fd, unsigned char *request, unsigned char *body, size_t body_room);
/* One answer of count parts; 0, or -1 once the suite is gone. */
int channel_send(int fd, const struct iovec *parts, int count);

/* One machine on connection fd; returns 0 when the suite closed it, else the exit code for a protocol failure. */
int run_machine(int fd, int control);

/* The library's writable data: saved once after dlopen, written back before each machine. */
int snapshot_take(void *library);
void snapshot_restore(void);
/* Set-up machines' library data (OP_SNAPSHOT), one a slot, put back over snapshot_restore()'s for a machine restored from one. */
#define SNAPSHOTS_KEPT 12 /* a set-up machine per RAM size a property uses (five) and per thread checking at once */
int booted_take(int slot);
void booted_restore(int slot);

/* wire.c: the protocol's little-endian fields. */
void put_u32(unsigned char *p, uint32_t v);
void put_u64(unsigned char *p, uint64_t v);
uint32_t get_u32(const unsigned char *p);
uint64_t get_u64(const unsigned char *p);

/* Reads exactly length bytes; returns 1, 0 if the peer closed before the first byte, -1 on a short read or an error. */
int read_full(int fd, void *buffer, size_t length);

/* Writes all of buffer; returns 0, or -1 once the peer is gone (never raises SIGPIPE). */
int write_full(int fd, const void *buffer, size_t length);
/* Writes count buffers (at most 8) as one message where the socket takes them at once; 0 or -1 as write_full. */
int write_parts(int fd, const struct iovec *parts, int count);

/* Sends one control byte and, with it, a copy of fd; returns 0, or -1 once the peer is gone. */
int send_fd(int control, char byte, int fd);

/* One control byte into *byte, and the fd sent with it (-1 if none); returns -1 once the peer is gone. */
int receive_fd(int control, char *byte);

#endif /* MMSPEC_HOST_H */
