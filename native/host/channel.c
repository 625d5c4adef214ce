/*
 * The fast channel (protocol 9): requests and answers through shared memory instead of the socket, while
 * the suite and the worker each have a core to themselves and so can wait by spinning. On the 2-core VM
 * of bench/README.md a round trip over the socket costs about 11 µs on one core (two context switches),
 * and one through shared memory with both sides spinning on separate cores well under a microsecond
 * (58 ns in bench/round-trips/pingpong.c's spinning placement; native/README.md, "Round trips").
 *
 * The channel is the CHANNEL_BYTES of the RAM file past the RAM. Each direction has a state word that
 * says how its next message goes; the side that waits owns it and the side that sends may only move it
 * from SPIN to READY, with a compare-and-swap:
 *
 *   request_state  the worker sets SPIN before it answers (only if the suite spins for that answer: the
 *                  suite asks for spinning call by call), or leaves BLOCK; the suite, with a request to
 *                  send, swaps SPIN for READY after writing the request into the channel, or, finding
 *                  BLOCK, sends it on the socket. The worker spins up to CHANNEL_SPIN_US for READY, then
 *                  swaps SPIN for BLOCK and reads the socket; whoever swaps first decides the path.
 *   answer_state   the same the other way: the suite sets SPIN before a request it will spin for, the
 *                  worker swaps it for READY after writing the answer, or answers on the socket.
 *
 * Everything else (the end of a machine, the server's report that it ended, the watchdog's shutdown) still
 * goes over the socket, which a waiting side reads once its spinning gives up.
 */
#define _GNU_SOURCE
#include <string.h>
#include <time.h>

#include "host.h"

static unsigned char *shared; /* the channel of the machine being served; NULL: the socket only */

void channel_attach(void *base)
{
    shared = base;
    if (shared)
        __atomic_store_n((uint32_t *)(shared + CHANNEL_REQUEST_STATE), CH_BLOCK, __ATOMIC_SEQ_CST);
}

static uint32_t *state(size_t offset) { return (uint32_t *)(shared + offset); }

static int swap(size_t offset, uint32_t from, uint32_t to)
{
    return __atomic_compare_exchange_n(state(offset), &from, to, 0, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
}

static long elapsed_us(const struct timespec *since)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (now.tv_sec - since->tv_sec) * 1000000L + (now.tv_nsec - since->tv_nsec) / 1000;
}

/* Spins until the word at offset leaves SPIN or CHANNEL_SPIN_US pass; true when it was made READY. */
static int spin_for_ready(size_t offset)
{
    struct timespec start;
    clock_gettime(CLOCK_MONOTONIC, &start);
    for (unsigned n = 1;; n++) {
        if (__atomic_load_n(state(offset), __ATOMIC_ACQUIRE) == CH_READY)
            return 1;
        if (n % 64 == 0 && elapsed_us(&start) > CHANNEL_SPIN_US)
            return !swap(offset, CH_SPIN, CH_BLOCK); /* lost the race: it became READY just now */
        __builtin_ia32_pause();
    }
}

int channel_receive(int fd, unsigned char *request, unsigned char *body, size_t body_room)
{
    if (shared && __atomic_load_n(state(CHANNEL_REQUEST_STATE), __ATOMIC_ACQUIRE) != CH_BLOCK && spin_for_ready(CHANNEL_REQUEST_STATE)) {
        memcpy(request, shared + CHANNEL_REQUEST, REQUEST_BYTES);
        uint32_t length = get_u32(request + 4);
        if (length > body_room || length > CHANNEL_ANSWER - CHANNEL_REQUEST - REQUEST_BYTES)
            return -2;
        memcpy(body, shared + CHANNEL_REQUEST + REQUEST_BYTES, length);
        __atomic_store_n(state(CHANNEL_REQUEST_STATE), CH_BLOCK, __ATOMIC_SEQ_CST);
        return 1;
    }
    int got = read_full(fd, request, REQUEST_BYTES);
    if (got <= 0)
        return got;
    uint32_t length = get_u32(request + 4);
    if (length > body_room)
        return -2;
    return length == 0 || read_full(fd, body, length) > 0 ? 1 : -1;
}

int channel_send(int fd, const struct iovec *parts, int count)
{
    size_t total = 0;
    for (int i = 0; i < count; i++)
        total += parts[i].iov_len;
    if (shared && __atomic_load_n(state(CHANNEL_ANSWER_STATE), __ATOMIC_ACQUIRE) == CH_SPIN && total <= CHANNEL_BYTES - CHANNEL_ANSWER) {
        unsigned char *at = shared + CHANNEL_ANSWER;
        for (int i = 0; i < count; i++) {
            memcpy(at, parts[i].iov_base, parts[i].iov_len);
            at += parts[i].iov_len;
        }
        /* The suite spins for this answer, so it will for its next request as well: wait for that by spinning. */
        __atomic_store_n(state(CHANNEL_REQUEST_STATE), CH_SPIN, __ATOMIC_SEQ_CST);
        if (swap(CHANNEL_ANSWER_STATE, CH_SPIN, CH_READY))
            return 0;
    }
    return write_parts(fd, parts, count);
}
