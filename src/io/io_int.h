/* SPDX-License-Identifier: MIT */
/*
 * io_int.h - private to src/io: the handle, the one operation future that
 * every waiting I/O call is (read, write, write_all, accept, connect,
 * readiness), and the errno mapping.
 *
 * An operation's poll is always the same loop: ask the registration
 * whether the direction is ready (a cached bit; if not, link the waiter
 * and return PENDING), try the system call, and on EAGAIN clear the bit
 * with the tick seen and loop. errno is read right after the system call
 * into a local, never after a suspension (a task may resume on another
 * thread).
 */
#ifndef RILL_IO_INT_H
#define RILL_IO_INT_H

#include "core/atomic.h"
#include "core/core.h"
#include "core/describe.h"
#include "rill/io.h"
#include "rt/rt.h"

#include <limits.h>
#include <sys/socket.h>

struct rill_io {
    rill__ioreg_t *reg;
    int fd;
    bool is_socket; /* send/sendmsg with MSG_NOSIGNAL; shutdown on close */
    bool is_stream; /* a stream socket: a short read or write means the
                       kernel is drained (full) now (rill__ioreg_clear_drained)
                     */
    bool nodelay;   /* accepted sockets get TCP_NODELAY (listeners) */
    int family;     /* AF_INET, AF_INET6, AF_UNIX; 0 for other fds */
    /* 0 open, IO_CLOSING while rill_io_close runs, IO_CLOSED after: free
     * waits for a close in progress, whose last access to io is the
     * store of IO_CLOSED (release; free's acquire load pairs). */
    _Atomic int closed;
    _Atomic int last_errno; /* relaxed: a value for logs only */
    rill__reactor_t *reactor;
};

struct rill_listener {
    rill_io_t io;
    int port;
};

enum { IO_CLOSING = 1, IO_CLOSED = 2 };

/* What an operation does once its direction is ready. */
enum io_kind {
    IO_READY,
    IO_READ,
    IO_READV,
    IO_WRITE,
    IO_WRITEV,
    IO_WRITE_ALL,
    IO_READ_EXACT,
    IO_ACCEPT,
    IO_CONNECT,
};

/* The private layout of rill_io_op_t. */
typedef struct io_op {
    rill_future_t base;
    rill_io_t *io;
    rill__io_waiter_t wt;
    int kind;
    int interest;
    union {
        void *rbuf;
        const void *wbuf;
        const struct iovec *iov;
        rill_io_t **conn; /* accept: where the new handle goes */
    } u;
    size_t len; /* bytes, or iovcnt */
    size_t *out;
    size_t done; /* write_all, read_exact: bytes moved so far */
} io_op_t;

_Static_assert((int)RILL_IO_READ == (int)RILL__WANT_READ &&
                   (int)RILL_IO_WRITE == (int)RILL__WANT_WRITE,
               "rill/io.h and rt/reactor.h disagree on interest bits");
_Static_assert(sizeof(io_op_t) <= sizeof(rill_io_op_t),
               "rill_io_op_t too small for io_op_t");

/* Initialise op for kind on io (fields per kind set by the caller). */
void rill__io_op_init(io_op_t *op, rill_io_t *io, int kind, int interest);
/* Poll op once (the future's poll). */
int rill__io_op_poll(io_op_t *op, rill_cx_t *cx);
/* Withdraw op (the future's cancel: nothing to undo beyond the waiter). */
void rill__io_op_unwait(io_op_t *op);

/* errno of a failed system call on io as a status (records it for
 * rill_io_last_errno when it is RILL_ESYS). */
int rill__io_status(rill_io_t *io, int e);

/* Register fd (non-blocking already) on reactor r into a new handle.
 * On failure fd is not closed. */
int rill__io_make(rill__reactor_t *r, int fd, int family, rill_io_t **out);
/* The handle's parts for a listener (its io is embedded). */
int rill__io_init_embedded(rill_io_t *io, rill__reactor_t *r, int fd,
                           int family);
void rill__io_fini_embedded(rill_io_t *io);

/* The reactor for cfg (its runtime, or the calling task's); NULL with a
 * misuse report when there is none. */
rill__reactor_t *rill__io_reactor_for(const char *api,
                                      const rill_io_config_t *cfg);

/* The address of a socket as text (net.c). */
int rill__io_addr(const rill_io_t *io, bool peer, char *buf, size_t len);

#endif /* RILL_IO_INT_H */
