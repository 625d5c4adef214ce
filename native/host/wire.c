/*
 * The host's wire: the little-endian fields of the protocol (native/README.md), whole reads and writes on
 * a stream socket, and file descriptors passed over a control socket. server.c and machine.c both use them.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "host.h"

void put_u32(unsigned char *p, uint32_t v) { for (int i = 0; i < 4; i++) p[i] = (unsigned char)(v >> (8 * i)); }
void put_u64(unsigned char *p, uint64_t v) { for (int i = 0; i < 8; i++) p[i] = (unsigned char)(v >> (8 * i)); }
uint32_t get_u32(const unsigned char *p) { uint32_t v = 0; for (int i = 3; i >= 0; i--) v = v << 8 | p[i]; return v; }
uint64_t get_u64(const unsigned char *p) { uint64_t v = 0; for (int i = 7; i >= 0; i--) v = v << 8 | p[i]; return v; }

int read_full(int fd, void *buffer, size_t length)
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

int write_full(int fd, const void *buffer, size_t length)
{
    struct iovec whole = { .iov_base = (void *)buffer, .iov_len = length };
    return write_parts(fd, &whole, 1);
}

int write_parts(int fd, const struct iovec *parts, int count)
{
    /* One sendmsg for the whole answer: written piece by piece, the suite would wake at the first piece and
     * sleep again for the next, two context switches more on every round trip. */
    struct iovec rest[8];
    if (count > 8)
        return -1;
    memcpy(rest, parts, (size_t)count * sizeof *parts);
    struct iovec *at = rest;
    size_t sent = 0; /* of the first part not yet whole */
    for (;;) {
        while (count > 0 && sent >= at->iov_len) { /* parts sent whole, empty ones included */
            sent -= at->iov_len;
            at++;
            count--;
        }
        if (count == 0)
            return 0;
        at->iov_base = (char *)at->iov_base + sent;
        at->iov_len -= sent;
        struct msghdr message = { .msg_iov = at, .msg_iovlen = (size_t)count };
        ssize_t n = sendmsg(fd, &message, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR) {
            sent = 0;
            continue;
        }
        if (n <= 0)
            return -1;
        sent = (size_t)n;
    }
}

int send_fd(int control, char byte, int fd)
{
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

int receive_fd(int control, char *byte)
{
    struct iovec data = { .iov_base = byte, .iov_len = 1 };
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
