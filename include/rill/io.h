/* SPDX-License-Identifier: MIT */
/*
 * rill/io.h - file descriptors on the runtime's reactor: readiness, reads
 * and writes that wait without blocking a worker, TCP and Unix stream
 * sockets, and connections as rill streams.
 *
 * A rill_io_t owns one file descriptor registered with a runtime's epoll
 * reactor (edge-triggered, once). Every call that may wait works, like
 * every waiting call in rill, in a task (the task suspends) and on a plain
 * thread (the thread parks); either way the reactor delivers readiness.
 * Each call tries the system call first and waits only when the kernel
 * says EAGAIN, so a socket with data costs one read(2).
 *
 *     static void *serve(void *arg) {           // one task per client
 *         rill_io_t *conn = arg;
 *         char buf[4096];
 *         size_t n;
 *         while (rill_io_read(conn, buf, sizeof buf, &n) == 0)
 *             if (rill_io_write_all(conn, buf, n, NULL) != 0)
 *                 break;
 *         rill_io_free(conn);
 *         return NULL;
 *     }
 *     ...
 *     rill_listener_t *l;
 *     rill_listen(&l, "127.0.0.1:8080", NULL);
 *     rill_io_t *conn;
 *     while (rill_accept(l, &conn) == 0)
 *         rill_spawn(NULL, serve, conn, NULL);  // detached; see rill/rt.h
 *
 * Errors are return values, never errno: a task may resume on another
 * worker thread after a wait, where errno is another thread's. A system
 * error rill has no code for is RILL_ESYS (rill_io_last_errno on the
 * handle gives the errno value for logs).
 *
 * Addresses are strings: "127.0.0.1:8080", "[::1]:8080", "localhost:80"
 * (numeric hosts and localhost only: resolving names blocks, do it on the
 * blocking pool), and "unix:/path/to/socket". Port 0 asks the kernel for a
 * free port; rill_listener_port tells which.
 *
 * SIGPIPE never kills the program: writes use MSG_NOSIGNAL (sockets) and a
 * peer that went away is RILL_EPIPE or RILL_ECONNRESET.
 *
 * Lifetime: rill_io_free (and rill_listener_free) before the runtime's
 * rill_runtime_free. rill_io_close ends a handle early: every call waiting
 * on it, in any task or thread, returns RILL_ECLOSED; the fd itself is
 * closed by rill_io_free (so its number cannot be reused under a call
 * still running on another thread).
 */
#ifndef RILL_IO_H
#define RILL_IO_H

#include "core.h"
#include "rt.h"
#include "stream.h"

#include <stdint.h>
#include <sys/uio.h>

#ifdef __cplusplus
extern "C" {
#endif

/* A file descriptor registered with a runtime's reactor. */
typedef struct rill_io rill_io_t;

/* A listening stream socket (TCP or Unix). */
typedef struct rill_listener rill_listener_t;

/* Readiness interest (a bit set). */
enum {
    RILL_IO_READ = 1,  /* readable, or the peer closed its side */
    RILL_IO_WRITE = 2, /* writable */
};

/*
 * Options for rill_io_new, rill_listen, rill_connect. NULL or a zeroed
 * struct means: the runtime of the calling task; defaults below.
 */
typedef struct rill_io_config {
    /* The runtime whose reactor serves the fd. NULL: the calling task's;
     * required when called from a plain thread. */
    rill_runtime_t *runtime;
    /* rill_listen: the accept backlog (0 = SOMAXCONN). */
    int backlog;
    /* rill_listen: SO_REUSEPORT (several listeners on one port). */
    bool reuseport;
    /* TCP sockets made by rill_listen's accepts and rill_connect:
     * TCP_NODELAY is on unless this is set. */
    bool nagle;
} rill_io_config_t;

/* ------------------------------------------------------------------------ */
/* Handles                                                                   */
/* ------------------------------------------------------------------------ */

/*
 * rill_io_new - register fd with the reactor (it is made non-blocking and
 * close-on-exec).
 * Returns: 0; RILL_EINVAL (NULL io, fd < 0, no runtime, fd not pollable
 *   such as a regular file, fd already registered); RILL_ENOMEM;
 *   RILL_ESHUTDOWN.
 * Ownership: on success *io owns fd (rill_io_free closes it); on failure
 *   fd is still the caller's.
 * Threads: any.
 * Waits: never.
 */
RILL_API RILL_NODISCARD int rill_io_new(rill_io_t **io, int fd,
                                        const rill_io_config_t *cfg);

/*
 * rill_io_close - end the handle: calls waiting on it return RILL_ECLOSED
 * (a read already inside read(2) on another thread may see end of file
 * instead), later calls too; a socket is shut down in both directions.
 * Idempotent. It does not touch io after waking the waiters, so a woken
 * owner may free io at once (closing a listener that an accept stream
 * owns ends the stream, which frees the listener).
 * Ownership: the handle stays allocated until rill_io_free.
 * Threads: any, concurrently with calls on io.
 */
RILL_API void rill_io_close(rill_io_t *io);

/*
 * rill_io_free - deregister, close the fd and free the handle. NULL is
 * accepted.
 * Threads: any; no call on io may run or start meanwhile.
 * Ownership: consumes io and closes its fd.
 */
RILL_API void rill_io_free(rill_io_t *io);

/* rill_io_fd - the file descriptor (for setsockopt and the like; do not
 * close it).
 * Returns: the fd; -1 for NULL.
 * Waits: never.
 * Threads: both.
 */
RILL_API int rill_io_fd(const rill_io_t *io);

/*
 * rill_io_last_errno - the errno of this handle's last RILL_ESYS, for
 * logs (0 if none). Read it after the call that failed, in the same task.
 * Returns: the errno, or 0.
 * Waits: never.
 * Threads: the task or thread that made the failed call.
 */
RILL_API int rill_io_last_errno(const rill_io_t *io);

/* ------------------------------------------------------------------------ */
/* Readiness                                                                 */
/* ------------------------------------------------------------------------ */

/*
 * rill_io_ready - wait until io is ready for `interest` (RILL_IO_READ,
 * RILL_IO_WRITE or both). Readiness is edge-triggered underneath but
 * cached: it stays set until a call on the handle sees EAGAIN.
 * Returns: 0 (ready for at least one direction asked); RILL_ECLOSED;
 *   RILL_ECANCELED; RILL_EINVAL (NULL io, interest 0).
 * Waits: until ready. Threads: any.
 */
RILL_API RILL_NODISCARD int rill_io_ready(rill_io_t *io, int interest);

/* rill_io_ready_timeout - as rill_io_ready; RILL_ETIMEDOUT after timeout.
 * Returns: as rill_io_ready, or RILL_ETIMEDOUT.
 * Waits: at most timeout.
 * Threads: both (a task, or a plain thread: the call parks it).
 */
RILL_API RILL_NODISCARD int rill_io_ready_timeout(rill_io_t *io, int interest,
                                                  rill_duration_t timeout);

/*
 * An I/O operation as a future (the _op form), for rill_select-like
 * composition, rill_await_timeout and hand-written futures. Lives in
 * caller storage; initialise it with one of the rill_io_*_op calls, then
 * rill_await it (or poll it). Fields are private.
 */
typedef struct rill_io_op {
    rill_future_t base;
    void *private_[16];
} rill_io_op_t;

/*
 * rill_io_ready_op - readiness as a future; its final status is what
 * rill_io_ready returns.
 * Threads: both; op and the buffers stay the caller's until it completes or is
 *   withdrawn.
 */
RILL_API void rill_io_ready_op(rill_io_op_t *op, rill_io_t *io, int interest);

/* ------------------------------------------------------------------------ */
/* Reading and writing                                                       */
/* ------------------------------------------------------------------------ */

/*
 * rill_io_read - read up to len bytes (len > 0); *n gets how many.
 * Returns: 0 (*n >= 1); RILL_DONE at end of file / the peer shut down its
 *   writing side (*n = 0); RILL_ECONNRESET; RILL_ECLOSED; RILL_ECANCELED
 *   (no byte was taken); RILL_ESYS; RILL_EINVAL.
 * Waits: while nothing can be read. Threads: any.
 */
RILL_API RILL_NODISCARD int rill_io_read(rill_io_t *io, void *buf, size_t len,
                                         size_t *n);

/* rill_io_try_read - as rill_io_read, never waits: RILL_EAGAIN.
 * Returns: as rill_io_read, or RILL_EAGAIN.
 * Waits: never.
 * Threads: both.
 */
RILL_API RILL_NODISCARD int rill_io_try_read(rill_io_t *io, void *buf,
                                             size_t len, size_t *n);

/* rill_io_read_timeout - as rill_io_read; RILL_ETIMEDOUT (no byte taken).
 * Returns: as rill_io_read, or RILL_ETIMEDOUT.
 * Waits: at most timeout.
 * Threads: both (a task, or a plain thread: the call parks it).
 */
RILL_API RILL_NODISCARD int rill_io_read_timeout(rill_io_t *io, void *buf,
                                                 size_t len, size_t *n,
                                                 rill_duration_t timeout);

/* rill_io_read_op - rill_io_read as a future (*n written on completion).
 * Threads: both; op and the buffers stay the caller's until it completes or is
 *   withdrawn.
 */
RILL_API void rill_io_read_op(rill_io_op_t *op, rill_io_t *io, void *buf,
                              size_t len, size_t *n);

/*
 * rill_io_readv - as rill_io_read into iovcnt buffers (readv(2)).
 * Returns, Waits, Threads: as rill_io_read.
 */
RILL_API RILL_NODISCARD int
rill_io_readv(rill_io_t *io, const struct iovec *iov, int iovcnt, size_t *n);

/*
 * rill_io_read_exact - read exactly len bytes into buf (Go's io.ReadFull,
 * tokio's read_exact): for messages of a known size. *got (may be NULL)
 * counts what was read, also when the call fails: after RILL_ETIMEDOUT,
 * RILL_ECANCELED or an error, exactly buf[0 .. *got) were taken from the
 * socket and nothing after (a cancel loses no byte).
 * Returns: 0 (all len bytes; also for len 0); RILL_DONE at end of file
 *   before any byte (*got = 0: the peer ended between messages);
 *   RILL_EPROTO at end of file after some bytes (the peer ended inside
 *   one); as rill_io_read otherwise.
 * Waits: until len bytes came, or the end. Threads: any.
 */
RILL_API RILL_NODISCARD int rill_io_read_exact(rill_io_t *io, void *buf,
                                               size_t len, size_t *got);

/* rill_io_read_exact_timeout - as rill_io_read_exact; RILL_ETIMEDOUT
 * after timeout, with *got telling how much was read.
 * Returns: as rill_io_read_exact, or RILL_ETIMEDOUT.
 * Waits: at most timeout.
 * Threads: both (a task, or a plain thread: the call parks it).
 */
RILL_API RILL_NODISCARD int rill_io_read_exact_timeout(rill_io_t *io, void *buf,
                                                       size_t len, size_t *got,
                                                       rill_duration_t timeout);

/* rill_io_read_exact_op - rill_io_read_exact as a future.
 * Threads: both; op and the buffer stay the caller's until it completes or
 *   is withdrawn.
 */
RILL_API void rill_io_read_exact_op(rill_io_op_t *op, rill_io_t *io, void *buf,
                                    size_t len, size_t *got);

/*
 * rill_io_write - write up to len bytes (len > 0): as many as the kernel
 * takes at once; *n gets how many.
 * Returns: 0 (*n >= 1); RILL_EPIPE / RILL_ECONNRESET (the peer is gone);
 *   RILL_ECLOSED; RILL_ECANCELED (nothing written); RILL_ESYS;
 *   RILL_EINVAL.
 * Waits: while nothing can be written. Threads: any.
 */
RILL_API RILL_NODISCARD int rill_io_write(rill_io_t *io, const void *buf,
                                          size_t len, size_t *n);

/* rill_io_try_write - as rill_io_write, never waits: RILL_EAGAIN.
 * Returns: as rill_io_write, or RILL_EAGAIN.
 * Waits: never.
 * Threads: both.
 */
RILL_API RILL_NODISCARD int rill_io_try_write(rill_io_t *io, const void *buf,
                                              size_t len, size_t *n);

/* rill_io_writev - as rill_io_write from iovcnt buffers (writev(2)).
 * Returns: as rill_io_write.
 * Waits: as rill_io_write.
 * Threads: both (a task, or a plain thread: the call parks it).
 */
RILL_API RILL_NODISCARD int
rill_io_writev(rill_io_t *io, const struct iovec *iov, int iovcnt, size_t *n);

/* rill_io_try_writev - as rill_io_writev, never waits: RILL_EAGAIN.
 * Returns: as rill_io_writev, or RILL_EAGAIN (nothing written).
 * Waits: never.
 * Threads: both.
 */
RILL_API RILL_NODISCARD int rill_io_try_writev(rill_io_t *io,
                                               const struct iovec *iov,
                                               int iovcnt, size_t *n);

/*
 * rill_io_write_all - write all len bytes. *written (may be NULL) counts
 * what went out, also when the call fails: after RILL_ETIMEDOUT,
 * RILL_ECANCELED or an error, exactly buf[0 .. *written) were written and
 * nothing after (bytes are never lost or doubled by a cancel).
 * Returns: 0; as rill_io_write.
 * Waits: until all is written. Threads: any.
 */
RILL_API RILL_NODISCARD int rill_io_write_all(rill_io_t *io, const void *buf,
                                              size_t len, size_t *written);

/* rill_io_write_all_timeout - as rill_io_write_all; RILL_ETIMEDOUT after
 * timeout, with *written telling how much went out.
 * Returns: as rill_io_write_all, or RILL_ETIMEDOUT.
 * Waits: at most timeout.
 * Threads: both (a task, or a plain thread: the call parks it).
 */
RILL_API RILL_NODISCARD int
rill_io_write_all_timeout(rill_io_t *io, const void *buf, size_t len,
                          size_t *written, rill_duration_t timeout);

/* rill_io_write_all_op - rill_io_write_all as a future.
 * Threads: both; op and the buffers stay the caller's until it completes or is
 *   withdrawn.
 */
RILL_API void rill_io_write_all_op(rill_io_op_t *op, rill_io_t *io,
                                   const void *buf, size_t len,
                                   size_t *written);

/* ------------------------------------------------------------------------ */
/* Stream sockets                                                            */
/* ------------------------------------------------------------------------ */

/*
 * rill_listen - a listening socket on addr ("127.0.0.1:0", "[::1]:8080",
 * "unix:/path"; SO_REUSEADDR is set on TCP; a Unix path is not removed
 * first).
 * Returns: 0; RILL_EINVAL (NULL, an address that does not parse, no
 *   runtime); RILL_EADDRINUSE; RILL_EMFILE; RILL_ENOMEM; RILL_ESYS.
 * Ownership: the caller owns *l (rill_listener_free). On failure nothing is
 *   made.
 * Threads: any.
 * Waits: never.
 */
RILL_API RILL_NODISCARD int rill_listen(rill_listener_t **l, const char *addr,
                                        const rill_io_config_t *cfg);

/*
 * rill_accept - the next connection.
 * Returns: 0 (*conn is a new handle you own); RILL_EMFILE (out of file
 *   descriptors: the connection stays queued, the listener keeps working;
 *   close some and try again); RILL_ECLOSED; RILL_ECANCELED; RILL_ENOMEM;
 *   RILL_ESYS.
 * Waits: until a client connects. Threads: any.
 * Ownership: on 0 the caller owns *conn (rill_io_free); otherwise nothing is
 *   made.
 */
RILL_API RILL_NODISCARD int rill_accept(rill_listener_t *l, rill_io_t **conn);

/* rill_accept_timeout - as rill_accept; RILL_ETIMEDOUT.
 * Returns: as rill_accept, or RILL_ETIMEDOUT.
 * Ownership: as rill_accept.
 * Waits: at most timeout.
 * Threads: both (a task, or a plain thread: the call parks it).
 */
RILL_API RILL_NODISCARD int rill_accept_timeout(rill_listener_t *l,
                                                rill_io_t **conn,
                                                rill_duration_t timeout);

/*
 * rill_listener_into_stream - the connections as a stream of rill_io_t *
 * (each item a handle the consumer owns; the stream frees those it
 * discards). Errors of accept are error items; the stream goes on. After
 * RILL_EMFILE or RILL_ENOMEM it waits 1 ms before the next accept,
 * doubling up to 100 ms while the error lasts. Closing the listener
 * (rill_listener_close) ends the stream.
 * Returns: 0; RILL_EINVAL; RILL_ENOMEM (l is then still yours).
 * Ownership: the stream owns l. On failure l stays the caller's.
 * Waits: never.
 * Threads: both.
 */
RILL_API RILL_NODISCARD int rill_listener_into_stream(rill_listener_t *l,
                                                      rill_stream_t **out);

/* rill_listener_port - the bound TCP port (0 for a Unix socket).
 * Returns: the port.
 * Waits: never.
 * Threads: both.
 */
RILL_API int rill_listener_port(const rill_listener_t *l);

/* rill_listener_close - as rill_io_close for the listening socket.
 * Threads: any, concurrently with calls on l.
 */
RILL_API void rill_listener_close(rill_listener_t *l);

/* rill_listener_free - close and free. NULL is accepted.
 * Ownership: consumes l.
 * Threads: any; no call on l may run or start meanwhile.
 */
RILL_API void rill_listener_free(rill_listener_t *l);

/*
 * rill_connect - connect a stream socket to addr.
 * Returns: 0; RILL_ECONNREFUSED (also: no socket file at a Unix path);
 *   RILL_ETIMEDOUT (the kernel's own connect timeout); RILL_EAGAIN (a Unix
 *   listener's backlog is full: Linux cannot wait for room there, try
 *   again later); RILL_EINVAL; RILL_EMFILE; RILL_ECANCELED; RILL_ENOMEM;
 *   RILL_ESYS.
 * Ownership: the caller owns *conn. On failure nothing is made.
 * Waits: until connected or refused. Threads: any.
 */
RILL_API RILL_NODISCARD int rill_connect(rill_io_t **conn, const char *addr,
                                         const rill_io_config_t *cfg);

/* rill_connect_timeout - as rill_connect; RILL_ETIMEDOUT after timeout
 * (the half-open socket is closed).
 * Returns: as rill_connect.
 * Ownership: as rill_connect.
 * Waits: at most timeout.
 * Threads: both (a task, or a plain thread: the call parks it).
 */
RILL_API RILL_NODISCARD int rill_connect_timeout(rill_io_t **conn,
                                                 const char *addr,
                                                 rill_duration_t timeout,
                                                 const rill_io_config_t *cfg);

/*
 * rill_io_shutdown_write - shut down the writing side (the peer reads end
 * of file; reading goes on).
 * Returns: 0; RILL_ECLOSED; RILL_ESYS.
 * Waits: never.
 * Threads: both.
 */
RILL_API int rill_io_shutdown_write(rill_io_t *io);

/* Socket options. Returns: 0; RILL_EINVAL (not a socket of that kind);
 * RILL_ESYS.
 * Waits: never.
 * Threads: both.
 */
RILL_API int rill_io_set_nodelay(rill_io_t *io, bool on);
RILL_API int rill_io_set_keepalive(rill_io_t *io, bool on);

/*
 * rill_io_local_addr / rill_io_peer_addr - the socket's address as text
 * ("127.0.0.1:5555", "[::1]:80", "unix:/path"), at most len bytes.
 * Returns: 0; RILL_EINVAL; RILL_ESYS (not connected).
 * Waits: never.
 * Threads: both.
 */
RILL_API int rill_io_local_addr(const rill_io_t *io, char *buf, size_t len);
RILL_API int rill_io_peer_addr(const rill_io_t *io, char *buf, size_t len);

/* ------------------------------------------------------------------------ */
/* Connections as streams                                                    */
/* ------------------------------------------------------------------------ */

/*
 * rill_io_read_stream - what io reads, as a stream of rill_bytes_t chunks
 * (each at most chunk bytes, 0 = 16 KiB) ending at end of file. Chunks are
 * slices of shared buffers: no copy after the read(2). While the peer is
 * quiet the stream holds no buffer. Split it into messages with
 * rill_stream_lines / rill_stream_frames (rill/codec.h).
 * Returns: 0; RILL_EINVAL; RILL_ENOMEM.
 * Ownership: io is borrowed: it must outlive the stream. On failure nothing
 *   is made.
 * Waits: never.
 * Threads: both.
 */
RILL_API RILL_NODISCARD int rill_io_read_stream(rill_io_t *io, size_t chunk,
                                                rill_stream_t **out);

/*
 * rill_io_write_stream - write every item of s (a stream of rill_bytes_t)
 * to io until s ends, gathering the items that are ready into one
 * writev(2). Backpressure: while io cannot take more, s is not polled, so
 * a channel behind s fills and its senders wait. *written (may be NULL)
 * counts the bytes that went out.
 * Returns: 0 when s ended and everything was written; an error item of s;
 *   a write error (as rill_io_write).
 * Ownership: consumes s (freed when the call returns).
 * Waits: until s ends. Threads: any.
 */
RILL_API RILL_NODISCARD int
rill_io_write_stream(rill_io_t *io, rill_stream_t *s, uint64_t *written);

#ifdef __cplusplus
}
#endif

#endif /* RILL_IO_H */
