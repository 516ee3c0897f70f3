/* SPDX-License-Identifier: MIT */
/*
 * io.c - rill_io handles and the I/O operations: readiness, read, write,
 * readv, writev, write_all, as waiting calls, try_ calls, _timeout calls
 * and _op futures, all built on one future (io_op_t, io_int.h).
 *
 * The operation future's poll: ready? (the registration's cached bit) ->
 * system call -> EAGAIN clears the bit with the tick seen -> again. So a
 * call on a handle with data costs one system call, and a wait is only
 * entered after the kernel said EAGAIN.
 *
 * Cancel (a timeout, a select, a cancelled task) only unlinks the waiter:
 * every system call happens inside poll and its result is handed out by
 * that same poll, so a cancelled read took no byte and a cancelled
 * write_all reports in *written exactly what went out.
 *
 * SIGPIPE: sockets are written with MSG_NOSIGNAL. Other fds (pipes) are
 * written with SIGPIPE blocked in the calling thread; a SIGPIPE the write
 * raised is taken back (sigtimedwait) before unblocking, so the peer's
 * departure is RILL_EPIPE and never a signal.
 */
#include "io_int.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

/* ---- errors ---- */

int rill__io_status(rill_io_t *io, int e)
{
    switch (e) {
    case EAGAIN:
        return RILL_EAGAIN;
    case ECONNREFUSED:
        return RILL_ECONNREFUSED;
    case ECONNRESET:
    case ECONNABORTED:
        return RILL_ECONNRESET;
    case EPIPE:
        return RILL_EPIPE;
    case EADDRINUSE:
        return RILL_EADDRINUSE;
    case EMFILE:
    case ENFILE:
        return RILL_EMFILE;
    case ENOMEM:
    case ENOBUFS:
        return RILL_ENOMEM;
    case ETIMEDOUT:
        return RILL_ETIMEDOUT;
    case EBADF:
        return RILL_ECLOSED;
    default:
        if (io)
            rill__store(&io->last_errno, e, RILL_RELAXED); /* for logs */
        return RILL_ESYS;
    }
}

/* ---- handles ---- */

rill__reactor_t *rill__io_reactor_for(const char *api,
                                      const rill_io_config_t *cfg)
{
    struct rill_runtime *rt =
        cfg && cfg->runtime ? cfg->runtime : rill__current_runtime();
    if (!rt) {
        (void)RILL_MISUSE(api, "no runtime: call from a task or set "
                               "cfg.runtime");
        return NULL;
    }
    return rill__runtime_reactor(rt);
}

int rill__io_init_embedded(rill_io_t *io, rill__reactor_t *r, int fd,
                           int family)
{
    memset(io, 0, sizeof *io);
    io->fd = fd;
    io->family = family;
    io->reactor = r;
    int type;
    socklen_t tl = sizeof type;
    io->is_socket = getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &tl) == 0;
    io->is_stream = io->is_socket && type == SOCK_STREAM;
    return rill__ioreg_new(r, fd, &io->reg);
}

int rill__io_make(rill__reactor_t *r, int fd, int family, rill_io_t **out)
{
    rill_io_t *io = rill__malloc(sizeof *io);
    if (!io)
        return RILL_ENOMEM;
    int rc = rill__io_init_embedded(io, r, fd, family);
    if (rc) {
        rill__free(io);
        return rc;
    }
    *out = io;
    return 0;
}

int rill_io_new(rill_io_t **io, int fd, const rill_io_config_t *cfg)
{
    if (!io || fd < 0)
        return RILL_MISUSE("rill_io_new", "NULL handle or negative fd %d", fd);
    *io = NULL;
    rill__reactor_t *r = rill__io_reactor_for("rill_io_new", cfg);
    if (!r)
        return RILL_EINVAL;
    int fl = fcntl(fd, F_GETFL);
    if (fl < 0)
        return RILL_MISUSE("rill_io_new", "fd %d is not open", fd);
    if (fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0 ||
        fcntl(fd, F_SETFD, FD_CLOEXEC) < 0)
        return rill__io_status(NULL, errno);
    int rc = rill__io_make(r, fd, 0, io);
    if (rc == RILL_EINVAL)
        return RILL_MISUSE("rill_io_new",
                           "fd %d cannot be polled (a regular file?) or is "
                           "registered already",
                           fd);
    if (rc)
        fcntl(fd, F_SETFL, fl); /* as it was: the fd is still the caller's */
    return rc;
}

void rill_io_close(rill_io_t *io)
{
    int open = 0;
    if (!io ||
        !rill__cas(&io->closed, &open, IO_CLOSING, RILL_ACQ_REL, RILL_RELAXED))
        return;
    /* Make system calls already running on other threads return:
     * shutdown, not close, so the fd number stays ours until
     * rill_io_free (which waits for this call to end). Then wake every
     * waiter: they see RILL_ECLOSED. */
    rill__ioreg_mark_closed(io->reg); /* what the shutdown wakes sees */
    if (io->is_socket)
        shutdown(io->fd, SHUT_RDWR);
    rill__ioreg_close(io->reg);
    /* release: the last access to io here; pairs with rill_io_free. */
    rill__store(&io->closed, IO_CLOSED, RILL_RELEASE);
}

/* A woken owner may free io while rill_io_close (on another thread) is
 * still finishing: wait for it. */
static void wait_close_done(rill_io_t *io)
{
    /* acquire: pairs with the release store that ends rill_io_close. */
    while (rill__load(&io->closed, RILL_ACQUIRE) == IO_CLOSING)
        sched_yield();
}

void rill__io_fini_embedded(rill_io_t *io)
{
    wait_close_done(io);
    rill__ioreg_free(io->reg);
    close(io->fd);
}

void rill_io_free(rill_io_t *io)
{
    if (!io)
        return;
    rill__io_fini_embedded(io);
    rill__free(io);
}

int rill_io_fd(const rill_io_t *io)
{
    return io ? io->fd : -1;
}

int rill_io_last_errno(const rill_io_t *io)
{
    return io ? rill__load(&io->last_errno, RILL_RELAXED) : 0;
}

/* ---- the operation future ---- */

/* write(2) on a non-socket with SIGPIPE held off (file comment). */
static ssize_t write_nosigpipe(int fd, const struct iovec *iov, int n)
{
    sigset_t pipe_set, old;
    sigemptyset(&pipe_set);
    sigaddset(&pipe_set, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &pipe_set, &old);
    ssize_t r = writev(fd, iov, n);
    int e = errno;
    if (r < 0 && e == EPIPE && !sigismember(&old, SIGPIPE)) {
        struct timespec zero = {0, 0};
        while (sigtimedwait(&pipe_set, NULL, &zero) < 0 && errno == EINTR)
            ;
    }
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    errno = e;
    return r;
}

static ssize_t do_writev(rill_io_t *io, const struct iovec *iov, int n)
{
    if (!io->is_socket)
        return write_nosigpipe(io->fd, iov, n);
    struct msghdr m = {.msg_iov = (struct iovec *)iov, .msg_iovlen = (size_t)n};
    return sendmsg(io->fd, &m, MSG_NOSIGNAL);
}

/* One system call for op. Returns >= 0 (done: the call's result), -1
 * with *e = errno. */
static ssize_t op_syscall(io_op_t *op, int *e)
{
    rill_io_t *io = op->io;
    ssize_t n = 0;
    struct iovec one;
    switch (op->kind) {
    case IO_READ:
        n = read(io->fd, op->u.rbuf, op->len);
        break;
    case IO_READV:
        n = readv(io->fd, op->u.iov, (int)op->len);
        break;
    case IO_WRITE:
        one = (struct iovec){(void *)op->u.wbuf, op->len};
        n = do_writev(io, &one, 1);
        break;
    case IO_WRITEV:
        n = do_writev(io, op->u.iov, (int)op->len);
        break;
    case IO_WRITE_ALL:
        one = (struct iovec){(char *)op->u.wbuf + op->done, op->len - op->done};
        n = do_writev(io, &one, 1);
        break;
    case IO_READ_EXACT:
        n = read(io->fd, (char *)op->u.rbuf + op->done, op->len - op->done);
        break;
    case IO_ACCEPT: {
        int fd = accept4(io->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            n = -1;
            break;
        }
        return fd;
    }
    case IO_CONNECT: {
        int err = 0;
        socklen_t el = sizeof err;
        if (getsockopt(io->fd, SOL_SOCKET, SO_ERROR, &err, &el) < 0)
            err = errno;
        if (err) {
            *e = err;
            return -1;
        }
        struct sockaddr_storage ss;
        socklen_t sl = sizeof ss;
        if (getpeername(io->fd, (struct sockaddr *)&ss, &sl) < 0) {
            *e = errno == ENOTCONN ? EAGAIN : errno; /* still connecting */
            return -1;
        }
        return 0;
    }
    default:
        return 0;
    }
    if (n < 0)
        *e = errno;
    return n;
}

/* How many bytes op's next system call asks for (reads and writes). */
static size_t op_want(const io_op_t *op)
{
    size_t want = 0;
    switch (op->kind) {
    case IO_READ:
    case IO_WRITE:
        return op->len;
    case IO_WRITE_ALL:
    case IO_READ_EXACT:
        return op->len - op->done;
    case IO_READV:
    case IO_WRITEV:
        for (size_t i = 0; i < op->len; i++)
            want += op->u.iov[i].iov_len;
        return want;
    default:
        return 0;
    }
}

/* The call succeeded with n: complete, or (write_all) go on. Returns the
 * final status, or RILL_PENDING to keep going. */
static int op_done(io_op_t *op, ssize_t n)
{
    switch (op->kind) {
    case IO_READ:
    case IO_READV:
        *op->out = (size_t)n;
        return n == 0 ? RILL_DONE : 0;
    case IO_WRITE:
    case IO_WRITEV:
        *op->out = (size_t)n;
        return 0;
    case IO_WRITE_ALL:
        op->done += (size_t)n;
        if (op->out)
            *op->out = op->done; /* so far: exact also if cancelled later */
        return op->done == op->len ? 0 : RILL_PENDING;
    case IO_READ_EXACT:
        op->done += (size_t)n;
        if (op->out)
            *op->out = op->done;
        if (n == 0) /* the end: between messages, or inside one */
            return op->done == 0 ? RILL_DONE : RILL_EPROTO;
        return op->done == op->len ? 0 : RILL_PENDING;
    case IO_ACCEPT: {
        int fd = (int)n;
        rill_io_t *l = op->io;
        int rc = rill__io_make(l->reactor, fd, l->family, op->u.conn);
        if (rc) {
            close(fd); /* the client sees a reset; the listener goes on */
            return rc;
        }
        if (l->nodelay) {
            int one = 1;
            (void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        }
        return 0;
    }
    default:
        return 0;
    }
}

static int op_future_poll(rill_future_t *f, rill_cx_t *cx)
{
    return rill__io_op_poll((io_op_t *)f, cx);
}

static int op_future_cancel(rill_future_t *f)
{
    rill__io_op_unwait((io_op_t *)f);
    return RILL_PENDING;
}

static const char *kind_name(int kind)
{
    static const char *const names[] = {
        [IO_READY] = "ready",           [IO_READ] = "read",
        [IO_READV] = "readv",           [IO_WRITE] = "write",
        [IO_WRITEV] = "writev",         [IO_WRITE_ALL] = "write_all",
        [IO_READ_EXACT] = "read_exact", [IO_ACCEPT] = "accept",
        [IO_CONNECT] = "connect",
    };
    return names[kind];
}

static int op_future_describe(const rill_future_t *f, rill_instant_t now,
                              char *buf, size_t len)
{
    (void)now;
    const io_op_t *op = (const io_op_t *)f;
    char local[80] = "", peer[80] = "";
    (void)rill__io_addr(op->io, false, local, sizeof local);
    (void)rill__io_addr(op->io, true, peer, sizeof peer);
    const char *dir = op->interest == (RILL_IO_READ | RILL_IO_WRITE)
                          ? "readable or writable"
                      : op->interest & RILL_IO_READ ? "readable"
                                                    : "writable";
    int n = snprintf(buf, len, "%s on fd %d (waits until %s",
                     kind_name(op->kind), op->io->fd, dir);
    if (n >= 0 && (size_t)n < len && local[0])
        n += snprintf(buf + n, len - (size_t)n, "; %s", local);
    if (n >= 0 && (size_t)n < len && peer[0])
        n += snprintf(buf + n, len - (size_t)n, " <-> %s", peer);
    if (n >= 0 && (size_t)n < len)
        n += snprintf(buf + n, len - (size_t)n, ")");
    return n;
}

static const rill_future_vtable_t op_vtable = {
    .poll = op_future_poll,
    .cancel = op_future_cancel,
    .describe = op_future_describe,
};

void rill__io_op_init(io_op_t *op, rill_io_t *io, int kind, int interest)
{
    memset(op, 0, sizeof *op);
    op->base.vtable = &op_vtable;
    op->io = io;
    op->kind = kind;
    op->interest = interest;
    op->wt.waker = RILL_WAKER_NONE;
}

void rill__io_op_unwait(io_op_t *op)
{
    rill__ioreg_unwait(op->io->reg, &op->wt);
}

int rill__io_op_poll(io_op_t *op, rill_cx_t *cx)
{
    rill_io_t *io = op->io;
    for (;;) {
        uint64_t tick;
        int r =
            rill__ioreg_poll_ready(io->reg, op->interest, &op->wt, cx, &tick);
        if (r)
            return r; /* RILL_PENDING or RILL_ECLOSED */
        if (op->kind == IO_READY)
            return 0;
        int e = 0;
        size_t want = io->is_stream ? op_want(op) : 0;
        ssize_t n = op_syscall(op, &e);
        if (n >= 0) {
            /* A short read or write on a stream socket: the next call
             * waits for an edge instead of asking the kernel for EAGAIN
             * (one system call less per message; write_all then waits
             * right away). */
            if (n > 0 && (size_t)n < want)
                rill__ioreg_clear_drained(io->reg, op->interest, tick);
            r = op_done(op, n);
            if (r != RILL_PENDING)
                return r;
            continue; /* write_all, read_exact: more to move */
        }
        if (e == EAGAIN || e == EWOULDBLOCK) {
            rill__ioreg_clear(io->reg, op->interest, tick);
            continue;
        }
        if (e == EINTR ||
            (op->kind == IO_ACCEPT && (e == ECONNABORTED || e == EPROTO)))
            continue; /* a client that left before we took it */
        if (rill__load(&io->closed, RILL_ACQUIRE))
            return RILL_ECLOSED; /* shut down under us by rill_io_close */
        return rill__io_status(io, e);
    }
}

/* ---- the calls ---- */

#define CHECK_IO(api, io)                                                      \
    do {                                                                       \
        if (!(io))                                                             \
            return RILL_MISUSE(api, "NULL handle");                            \
    } while (0)

/* Await op with an optional timeout (RILL_FOREVER: none). */
static int await_op(io_op_t *op, rill_duration_t timeout)
{
    return timeout == RILL_FOREVER ? rill_await(&op->base)
                                   : rill_await_timeout(&op->base, timeout);
}

/* Poll op once with a no-op waker and withdraw it: the try_ form. */
static int try_op(io_op_t *op)
{
    rill_cx_t cx = RILL_CX_INIT(rill_waker_noop());
    int r = rill__io_op_poll(op, &cx);
    if (r == RILL_PENDING) {
        rill__io_op_unwait(op);
        return RILL_EAGAIN;
    }
    return r;
}

void rill_io_ready_op(rill_io_op_t *o, rill_io_t *io, int interest)
{
    rill__io_op_init((io_op_t *)o, io, IO_READY, interest);
}

static int ready(const char *api, rill_io_t *io, int interest,
                 rill_duration_t timeout)
{
    CHECK_IO(api, io);
    if (!(interest & (RILL_IO_READ | RILL_IO_WRITE)))
        return RILL_MISUSE(api, "interest %d: not RILL_IO_READ/WRITE",
                           interest);
    rill_io_op_t o;
    rill_io_ready_op(&o, io, interest & (RILL_IO_READ | RILL_IO_WRITE));
    return await_op((io_op_t *)&o, timeout);
}

int rill_io_ready(rill_io_t *io, int interest)
{
    return ready("rill_io_ready", io, interest, RILL_FOREVER);
}

int rill_io_ready_timeout(rill_io_t *io, int interest, rill_duration_t timeout)
{
    return ready("rill_io_ready_timeout", io, interest, timeout);
}

void rill_io_read_op(rill_io_op_t *o, rill_io_t *io, void *buf, size_t len,
                     size_t *n)
{
    io_op_t *op = (io_op_t *)o;
    rill__io_op_init(op, io, IO_READ, RILL_IO_READ);
    op->u.rbuf = buf;
    op->len = len;
    op->out = n;
}

/* Check and set up a read; 0 or a misuse. */
static int read_setup(const char *api, io_op_t *op, rill_io_t *io, void *buf,
                      size_t len, size_t *n)
{
    CHECK_IO(api, io);
    if (!buf || !n || len == 0)
        return RILL_MISUSE(api, "NULL buffer or count, or length 0");
    *n = 0;
    rill_io_read_op((rill_io_op_t *)op, io, buf, len, n);
    return 0;
}

int rill_io_read(rill_io_t *io, void *buf, size_t len, size_t *n)
{
    rill_io_op_t o;
    int r = read_setup("rill_io_read", (io_op_t *)&o, io, buf, len, n);
    return r ? r : await_op((io_op_t *)&o, RILL_FOREVER);
}

int rill_io_try_read(rill_io_t *io, void *buf, size_t len, size_t *n)
{
    rill_io_op_t o;
    int r = read_setup("rill_io_try_read", (io_op_t *)&o, io, buf, len, n);
    return r ? r : try_op((io_op_t *)&o);
}

int rill_io_read_timeout(rill_io_t *io, void *buf, size_t len, size_t *n,
                         rill_duration_t timeout)
{
    rill_io_op_t o;
    int r = read_setup("rill_io_read_timeout", (io_op_t *)&o, io, buf, len, n);
    return r ? r : await_op((io_op_t *)&o, timeout);
}

/* readv / writev: kind IO_READV or IO_WRITEV; waiting, or the try_ form. */
static int vec_op(const char *api, rill_io_t *io, int kind,
                  const struct iovec *iov, int iovcnt, size_t *n, bool wait)
{
    CHECK_IO(api, io);
    if (!iov || !n || iovcnt <= 0 || iovcnt > IOV_MAX)
        return RILL_MISUSE(api, "bad iovec (count %d)", iovcnt);
    *n = 0;
    rill_io_op_t o;
    io_op_t *op = (io_op_t *)&o;
    rill__io_op_init(op, io, kind,
                     kind == IO_READV ? RILL_IO_READ : RILL_IO_WRITE);
    op->u.iov = iov;
    op->len = (size_t)iovcnt;
    op->out = n;
    return wait ? await_op(op, RILL_FOREVER) : try_op(op);
}

int rill_io_readv(rill_io_t *io, const struct iovec *iov, int iovcnt, size_t *n)
{
    return vec_op("rill_io_readv", io, IO_READV, iov, iovcnt, n, true);
}

/* The ops that move all len bytes (IO_READ_EXACT, IO_WRITE_ALL); *done
 * (may be NULL) counts what moved. */
static void all_op_init(io_op_t *op, rill_io_t *io, int kind, const void *buf,
                        size_t len, size_t *done)
{
    rill__io_op_init(op, io, kind,
                     kind == IO_READ_EXACT ? RILL_IO_READ : RILL_IO_WRITE);
    if (kind == IO_READ_EXACT)
        op->u.rbuf = (void *)buf; /* the caller's writable buffer */
    else
        op->u.wbuf = buf;
    op->len = len;
    op->out = done;
    if (done)
        *done = 0;
}

static int all_op(const char *api, rill_io_t *io, int kind, const void *buf,
                  size_t len, size_t *done, rill_duration_t timeout)
{
    CHECK_IO(api, io);
    if (!buf && len > 0)
        return RILL_MISUSE(api, "NULL buffer");
    rill_io_op_t o;
    all_op_init((io_op_t *)&o, io, kind, buf, len, done);
    if (len == 0)
        return 0;
    return await_op((io_op_t *)&o, timeout);
}

void rill_io_read_exact_op(rill_io_op_t *o, rill_io_t *io, void *buf,
                           size_t len, size_t *got)
{
    all_op_init((io_op_t *)o, io, IO_READ_EXACT, buf, len, got);
}

int rill_io_read_exact(rill_io_t *io, void *buf, size_t len, size_t *got)
{
    return all_op("rill_io_read_exact", io, IO_READ_EXACT, buf, len, got,
                  RILL_FOREVER);
}

int rill_io_read_exact_timeout(rill_io_t *io, void *buf, size_t len,
                               size_t *got, rill_duration_t timeout)
{
    return all_op("rill_io_read_exact_timeout", io, IO_READ_EXACT, buf, len,
                  got, timeout);
}

static int write_setup(const char *api, io_op_t *op, rill_io_t *io,
                       const void *buf, size_t len, size_t *n)
{
    CHECK_IO(api, io);
    if (!buf || !n || len == 0)
        return RILL_MISUSE(api, "NULL buffer or count, or length 0");
    *n = 0;
    rill__io_op_init(op, io, IO_WRITE, RILL_IO_WRITE);
    op->u.wbuf = buf;
    op->len = len;
    op->out = n;
    return 0;
}

int rill_io_write(rill_io_t *io, const void *buf, size_t len, size_t *n)
{
    rill_io_op_t o;
    int r = write_setup("rill_io_write", (io_op_t *)&o, io, buf, len, n);
    return r ? r : await_op((io_op_t *)&o, RILL_FOREVER);
}

int rill_io_try_write(rill_io_t *io, const void *buf, size_t len, size_t *n)
{
    rill_io_op_t o;
    int r = write_setup("rill_io_try_write", (io_op_t *)&o, io, buf, len, n);
    return r ? r : try_op((io_op_t *)&o);
}

int rill_io_writev(rill_io_t *io, const struct iovec *iov, int iovcnt,
                   size_t *n)
{
    return vec_op("rill_io_writev", io, IO_WRITEV, iov, iovcnt, n, true);
}

int rill_io_try_writev(rill_io_t *io, const struct iovec *iov, int iovcnt,
                       size_t *n)
{
    return vec_op("rill_io_try_writev", io, IO_WRITEV, iov, iovcnt, n, false);
}

void rill_io_write_all_op(rill_io_op_t *o, rill_io_t *io, const void *buf,
                          size_t len, size_t *written)
{
    all_op_init((io_op_t *)o, io, IO_WRITE_ALL, buf, len, written);
}

int rill_io_write_all(rill_io_t *io, const void *buf, size_t len,
                      size_t *written)
{
    return all_op("rill_io_write_all", io, IO_WRITE_ALL, buf, len, written,
                  RILL_FOREVER);
}

int rill_io_write_all_timeout(rill_io_t *io, const void *buf, size_t len,
                              size_t *written, rill_duration_t timeout)
{
    return all_op("rill_io_write_all_timeout", io, IO_WRITE_ALL, buf, len,
                  written, timeout);
}
