/* SPDX-License-Identifier: MIT */
/*
 * io_stream.c - connections as rill streams: what a handle reads as a
 * stream of rill_bytes_t chunks, a stream of rill_bytes_t written to a
 * handle with writev batching, and a listener's connections as a stream.
 *
 * The read stream reads into a shared buffer (a rill_bytes_t it holds one
 * reference to) and hands out slices of what each read(2) filled: no copy
 * after the kernel's. Only this stream writes into the buffer, and only
 * past every slice it has handed out, so the slices stay immutable as
 * rill_bytes promises. When the kernel has nothing more (EAGAIN) the
 * stream lets go of the buffer - the slices keep it alive as long as they
 * need it - so an idle connection holds no buffer at all.
 *
 * The writer is a loop of waiting calls (rill_next_many, rill_io_writev)
 * rather than a future: it runs in a task or on a plain thread alike, and
 * while writev waits the source is not polled, which is the backpressure.
 */
#include "io_int.h"

#include <errno.h>
#include <limits.h>
#include <string.h>
#include <unistd.h>

#define DEFAULT_CHUNK (16 * 1024)
/* Below this much room left, a buffer is retired rather than read into. */
#define MIN_ROOM 512
#define WRITE_BATCH 64

/* ---- reading ---- */

typedef struct read_stream {
    rill_stream_t base;
    rill_io_t *io;
    io_op_t op;       /* the waiter and the readiness loop (IO_READY) */
    rill_bytes_t buf; /* the buffer being filled; empty when none */
    size_t used;      /* buf bytes handed out so far */
    size_t chunk;
    bool done;
} read_stream_t;

static void free_buffer(void *ud, void *data)
{
    (void)ud;
    rill__free(data);
}

static int read_poll_next(rill_stream_t *s, rill_cx_t *cx, void *out)
{
    read_stream_t *rs = (read_stream_t *)s;
    rill_io_t *io = rs->io;
    if (rs->done)
        return RILL_DONE;
    for (;;) {
        uint64_t tick;
        int r = rill__ioreg_poll_ready(io->reg, RILL_IO_READ, &rs->op.wt, cx,
                                       &tick);
        if (r == RILL_ECLOSED) {
            rs->done = true;
            rill_bytes_release(&rs->buf);
            return r;
        }
        if (r)
            return r; /* RILL_PENDING */
        if (!rs->buf.ptr) {
            void *p = rill__malloc(rs->chunk);
            if (!p)
                return RILL_ENOMEM;
            if (rill_bytes_from_buffer(&rs->buf, p, rs->chunk, free_buffer,
                                       NULL)) {
                rill__free(p);
                return RILL_ENOMEM;
            }
            rs->used = 0;
        }
        /* Past every slice handed out: see the file comment. */
        unsigned char *room = (unsigned char *)rs->buf.ptr + rs->used;
        size_t want = rs->chunk - rs->used;
        ssize_t n = read(io->fd, room, want);
        int e = errno;
        if (n > 0 && (size_t)n < want && io->is_stream)
            rill__ioreg_clear_drained(io->reg, RILL_IO_READ, tick);
        if (n > 0) {
            r = rill_bytes_slice(&rs->buf, rs->used, (size_t)n, out);
            if (r)
                return r;
            rs->used += (size_t)n;
            if (rs->chunk - rs->used < MIN_ROOM)
                rill_bytes_release(&rs->buf);
            return 0;
        }
        if (n == 0) {
            rs->done = true;
            rill_bytes_release(&rs->buf);
            return RILL_DONE;
        }
        if (e == EAGAIN || e == EWOULDBLOCK) {
            rill__ioreg_clear(io->reg, RILL_IO_READ, tick);
            rill_bytes_release(&rs->buf); /* idle: hold no buffer */
            continue;
        }
        if (e == EINTR)
            continue;
        rs->done = true; /* a reset connection ends the stream */
        rill_bytes_release(&rs->buf);
        return rill__load(&io->closed, RILL_ACQUIRE) ? RILL_ECLOSED
                                                     : rill__io_status(io, e);
    }
}

static void read_drop(rill_stream_t *s)
{
    read_stream_t *rs = (read_stream_t *)s;
    rill__io_op_unwait(&rs->op);
    rill_bytes_release(&rs->buf);
    rill__free(rs);
}

static int read_describe(const rill_stream_t *s, char *buf, size_t len)
{
    rill__buf_t b;
    rill__buf_init(&b, buf, len);
    rill__buf_printf(&b, "read stream on fd %d",
                     rill_io_fd(((const read_stream_t *)s)->io));
    return rill__buf_result(&b);
}

static const rill_stream_vtable_t read_vtable = {
    .poll_next = read_poll_next,
    .drop = read_drop,
    .describe = read_describe,
};

int rill_io_read_stream(rill_io_t *io, size_t chunk, rill_stream_t **out)
{
    if (!io || !out)
        return RILL_MISUSE("rill_io_read_stream", "NULL argument");
    if (chunk == 0)
        chunk = DEFAULT_CHUNK;
    if (chunk < MIN_ROOM)
        chunk = MIN_ROOM;
    read_stream_t *rs = rill__calloc(1, sizeof *rs);
    if (!rs)
        return RILL_ENOMEM;
    if (rill_stream_init(&rs->base, &read_vtable, sizeof(rill_bytes_t))) {
        rill__free(rs);
        return RILL_ENOMEM;
    }
    rs->base.item_dtor = rill_bytes_item_dtor;
    rs->io = io;
    rs->chunk = chunk;
    rs->buf = RILL_BYTES_EMPTY;
    rill__io_op_init(&rs->op, io, IO_READY, RILL_IO_READ);
    *out = &rs->base;
    return 0;
}

/* ---- writing ---- */

int rill_io_write_stream(rill_io_t *io, rill_stream_t *s, uint64_t *written)
{
    if (written)
        *written = 0;
    if (!io || !s) {
        rill_stream_free(s);
        return RILL_MISUSE("rill_io_write_stream", "NULL argument");
    }
    if (rill_stream_item_size(s) != sizeof(rill_bytes_t)) {
        rill_stream_free(s);
        return RILL_MISUSE("rill_io_write_stream",
                           "items of %zu bytes, not rill_bytes_t",
                           rill_stream_item_size(s));
    }
    rill_bytes_t items[WRITE_BATCH];
    size_t n = 0;   /* items[0..n) not fully written */
    size_t off = 0; /* bytes of items[0] already written */
    int r = 0;
    for (;;) {
        if (n == 0) {
            r = rill_next_many(s, items, WRITE_BATCH, &n);
            if (r) {
                n = 0;
                r = r == RILL_DONE ? 0 : r;
                break;
            }
        }
        struct iovec iov[WRITE_BATCH];
        int cnt = 0;
        for (size_t i = 0; i < n; i++) {
            size_t skip = i == 0 ? off : 0;
            if (items[i].len > skip)
                iov[cnt++] = (struct iovec){(void *)(items[i].ptr + skip),
                                            items[i].len - skip};
        }
        size_t w = 0;
        if (cnt > 0) {
            r = rill_io_writev(io, iov, cnt, &w);
            if (r)
                break;
        }
        if (written)
            *written += w;
        /* Release what went out entirely; keep the rest in order. */
        size_t i = 0;
        w += off;
        while (i < n && items[i].len <= w) {
            w -= items[i].len;
            rill_bytes_release(&items[i]);
            i++;
        }
        memmove(items, items + i, (n - i) * sizeof items[0]);
        n -= i;
        off = n ? w : 0;
    }
    for (size_t i = 0; i < n; i++)
        rill_bytes_release(&items[i]);
    rill_stream_free(s);
    return r;
}

/* ---- a listener's connections ---- */

/* Out of fds or memory at accept: the connection stays queued and the
 * listener stays readable, so retrying at once would only repeat the
 * error. The stream waits BACKOFF_MIN after such an error item, doubling
 * up to BACKOFF_MAX while the errors go on (Go's http server does the
 * same). A close of the listener meanwhile ends the stream when the
 * backoff is over. */
#define BACKOFF_MIN RILL_MS(1)
#define BACKOFF_MAX RILL_MS(100)

typedef struct accept_stream {
    rill_stream_t base;
    rill_listener_t *l;
    io_op_t op;
    rill_io_t *conn;
    rill_sleep_op_t timer; /* the backoff, while backing_off */
    bool backing_off;
    rill_duration_t delay; /* the next backoff; 0 after a success */
} accept_stream_t;

static int accept_poll_next(rill_stream_t *s, rill_cx_t *cx, void *out)
{
    accept_stream_t *as = (accept_stream_t *)s;
    if (as->backing_off) {
        if (rill_future_poll(&as->timer.base, cx) == RILL_PENDING)
            return RILL_PENDING;
        as->backing_off = false;
    }
    int r = rill__io_op_poll(&as->op, cx);
    if (r == 0) {
        memcpy(out, &as->conn, sizeof as->conn);
        as->delay = 0;
    } else if (r == RILL_EMFILE || r == RILL_ENOMEM) {
        as->delay = as->delay ? as->delay * 2 : BACKOFF_MIN;
        if (as->delay > BACKOFF_MAX)
            as->delay = BACKOFF_MAX;
        rill_sleep_op_reset(&as->timer, rill_deadline(as->delay));
        as->backing_off = true;
    }
    if (r == RILL_ECLOSED)
        return RILL_DONE; /* a closed listener ends the stream */
    return r;
}

static void accept_drop(rill_stream_t *s)
{
    accept_stream_t *as = (accept_stream_t *)s;
    rill__io_op_unwait(&as->op);
    rill_sleep_op_cancel(&as->timer);
    rill_listener_free(as->l);
    rill__free(as);
}

static void conn_dtor(void *item, void *ud)
{
    (void)ud;
    rill_io_free(*(rill_io_t **)item);
}

static int accept_describe(const rill_stream_t *s, char *buf, size_t len)
{
    rill__buf_t b;
    rill__buf_init(&b, buf, len);
    rill__buf_printf(&b, "accept stream on port %d",
                     rill_listener_port(((const accept_stream_t *)s)->l));
    return rill__buf_result(&b);
}

static const rill_stream_vtable_t accept_vtable = {
    .poll_next = accept_poll_next,
    .drop = accept_drop,
    .describe = accept_describe,
};

int rill_listener_into_stream(rill_listener_t *l, rill_stream_t **out)
{
    if (!l || !out)
        return RILL_MISUSE("rill_listener_into_stream", "NULL argument");
    accept_stream_t *as = rill__calloc(1, sizeof *as);
    if (!as)
        return RILL_ENOMEM;
    if (rill_stream_init(&as->base, &accept_vtable, sizeof(rill_io_t *))) {
        rill__free(as);
        return RILL_ENOMEM;
    }
    as->base.item_dtor = conn_dtor;
    as->l = l;
    rill__io_op_init(&as->op, &l->io, IO_ACCEPT, RILL_IO_READ);
    as->op.u.conn = &as->conn;
    rill_sleep_op(&as->timer, RILL_FOREVER);
    *out = &as->base;
    return 0;
}
