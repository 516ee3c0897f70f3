/* SPDX-License-Identifier: MIT */
/*
 * sse_serve.c - Server-Sent Events responses: the replay-ring source and
 * the two ways to serve (from a source, from a per-client stream).
 *
 * The source is a ring of the last `cap` published events, each with its
 * sequence number, its id and its wire form (encoded once, shared by every
 * client as a rill_bytes_t reference). Clients keep a cursor (the next
 * sequence number to send). src->lock guards the ring, the sequence
 * numbers, `closed` and the list of waiting clients; publish wakes every
 * waiting client by reference (each client re-registers its waker on each
 * poll, so a client that is writing is not on the list and costs nothing).
 *
 * A serving connection waits on one hand-written future that polls, in
 * order: the server's stop signal, the source (or the stream), the
 * socket's read side (an SSE client sends nothing; readable means it went
 * away) and the keep-alive timer. Writes happen outside that future, in
 * the connection's task.
 */
#include "core/atomic.h"
#include "core/core.h"
#include "net/net_int.h"
#include "rill/http.h"
#include "rill/io.h"
#include "rill/sse.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>

enum { DEFAULT_REPLAY = 1024, BATCH = 64 };
#define DEFAULT_KEEPALIVE RILL_SEC(15)

typedef struct entry {
    uint64_t seq;
    rill_bytes_t id;
    rill_bytes_t wire;
} entry_t;

typedef struct waiter {
    rill__list_t link;
    rill_waker_t waker;
} waiter_t;

struct rill_sse_source {
    _Atomic size_t refs;
    pthread_mutex_t lock;
    entry_t *ring; /* cap entries; seq s lives at s % cap */
    size_t cap;
    uint64_t head; /* the next sequence number */
    bool closed;
    rill__list_t waiters;
};

/* ---- a future from a poll function ---- */

typedef struct poll_future {
    rill_future_t base;
    int (*poll)(void *ud, rill_cx_t *cx);
    void *ud;
} poll_future_t;

static int pf_poll(rill_future_t *f, rill_cx_t *cx)
{
    poll_future_t *p = (poll_future_t *)f;
    return p->poll(p->ud, cx);
}

static const rill_future_vtable_t pf_vtable = {pf_poll, NULL, NULL, NULL};

int rill__await_poll(int (*poll)(void *ud, rill_cx_t *cx), void *ud,
                     rill_instant_t deadline)
{
    poll_future_t f = {{&pf_vtable}, poll, ud};
    return deadline == RILL_FOREVER ? rill_await(&f.base)
                                    : rill_await_until(&f.base, deadline);
}

/* ---- the source ---- */

int rill_sse_source_new(rill_sse_source_t **out, size_t replay)
{
    if (!out)
        return RILL_MISUSE("rill_sse_source_new", "NULL source");
    *out = NULL;
    size_t cap = replay ? replay : DEFAULT_REPLAY;
    rill_sse_source_t *s = rill__calloc(1, sizeof *s);
    entry_t *ring = s ? rill__calloc(cap, sizeof *ring) : NULL;
    if (!ring) {
        rill__free(s);
        return RILL_ENOMEM;
    }
    rill__store(&s->refs, 1, RILL_RELAXED); /* not shared yet */
    pthread_mutex_init(&s->lock, NULL);
    s->ring = ring;
    s->cap = cap;
    rill__list_init(&s->waiters);
    *out = s;
    return 0;
}

rill_sse_source_t *rill_sse_source_clone(rill_sse_source_t *s)
{
    /* relaxed: a new reference from one that keeps s alive (as Arc). */
    if (s)
        rill__fetch_add(&s->refs, 1, RILL_RELAXED);
    return s;
}

void rill_sse_source_release(rill_sse_source_t *s)
{
    /* acq_rel: the last release sees every holder's writes (pairs with
     * the other releases' release half). */
    if (!s || rill__fetch_sub(&s->refs, 1, RILL_ACQ_REL) != 1)
        return;
    for (size_t i = 0; i < s->cap; i++) {
        rill_bytes_release(&s->ring[i].id);
        rill_bytes_release(&s->ring[i].wire);
    }
    rill__free(s->ring);
    pthread_mutex_destroy(&s->lock);
    rill__free(s);
}

static void wake_all(rill_sse_source_t *s)
{
    for (rill__list_t *n = s->waiters.next; n != &s->waiters; n = n->next)
        rill_waker_wake_by_ref(&RILL_CONTAINER_OF(n, waiter_t, link)->waker);
}

int rill_sse_source_publish(rill_sse_source_t *s, const rill_sse_event_t *ev)
{
    if (!s || !ev)
        return RILL_MISUSE("rill_sse_source_publish", "NULL argument");
    rill_bytes_t wire, id = rill_bytes_clone(&ev->id);
    int rc = rill_sse_encode(&wire, ev);
    if (rc != 0) {
        rill_bytes_release(&id);
        return rc;
    }
    pthread_mutex_lock(&s->lock);
    if (s->closed) {
        pthread_mutex_unlock(&s->lock);
        rill_bytes_release(&id);
        rill_bytes_release(&wire);
        return RILL_MISUSE("rill_sse_source_publish", "source closed");
    }
    entry_t *e = &s->ring[s->head % s->cap];
    entry_t old = *e;
    *e = (entry_t){s->head++, id, wire};
    wake_all(s);
    pthread_mutex_unlock(&s->lock);
    rill_bytes_release(&old.id);
    rill_bytes_release(&old.wire);
    return 0;
}

void rill_sse_source_close(rill_sse_source_t *s)
{
    if (!s)
        return;
    pthread_mutex_lock(&s->lock);
    s->closed = true;
    wake_all(s);
    pthread_mutex_unlock(&s->lock);
}

uint64_t rill_sse_source_seq(rill_sse_source_t *s)
{
    if (!s)
        return 0;
    pthread_mutex_lock(&s->lock);
    uint64_t h = s->head;
    pthread_mutex_unlock(&s->lock);
    return h;
}

/* ---- serving ---- */

typedef struct client {
    rill_http_conn_t *c;
    rill_io_t *io;
    rill_duration_t keepalive;
    /* a source */
    rill_sse_source_t *src;
    uint64_t cursor;
    waiter_t w;
    /* or a stream */
    rill_stream_t *events;
    rill_sse_event_t items[BATCH];
    int nitems;
    /* what the last wait found */
    rill_io_op_t readable;
    rill_sleep_op_t timer;
    bool timer_armed;
} client_t;

/* What a wait found: positive, and apart from RILL_DONE and RILL_PENDING
 * (the future's result must not be taken for PENDING). */
enum { GOT_STOP = 16, GOT_DATA, GOT_GONE, GOT_KEEPALIVE, GOT_END };

static int send_head(client_t *cl, const rill_sse_config_t *cfg)
{
    char h[256];
    int n = snprintf(h, sizeof h,
                     "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n"
                     "Cache-Control: no-cache\r\nConnection: close\r\n\r\n");
    if (cfg && cfg->retry_ms > 0)
        n += snprintf(h + n, sizeof h - (size_t)n, "retry: %lld\n\n",
                      (long long)cfg->retry_ms);
    return rill_io_write_all(cl->io, h, (size_t)n, NULL);
}

/* The events after Last-Event-ID; a gap event first if it is not in the
 * ring any more. Called with src->lock held; *missed set to the events
 * lost (-1 unknown, 0 none). */
static uint64_t resume_at(rill_sse_source_t *s, const rill_http_request_t *req,
                          long long *missed)
{
    *missed = 0;
    const rill_http_header_t *h =
        rill_http_request_header(req, "last-event-id");
    uint64_t tail = s->head > s->cap ? s->head - s->cap : 0;
    if (!h)
        return s->head;
    for (uint64_t q = s->head; q > tail; q--) {
        const entry_t *e = &s->ring[(q - 1) % s->cap];
        if (e->id.len == h->value.len &&
            (e->id.len == 0 || !memcmp(e->id.ptr, h->value.ptr, e->id.len)))
            return q;
    }
    *missed = -1; /* not in the ring: how many is not known */
    return tail;
}

static int write_gap(client_t *cl, long long missed)
{
    char b[96];
    int n = snprintf(b, sizeof b,
                     "event: rill-gap\ndata: {\"missed\":%lld}\n\n", missed);
    return rill_io_write_all(cl->io, b, (size_t)n, NULL);
}

static int poll_wait(void *ud, rill_cx_t *cx)
{
    client_t *cl = ud;
    if (rill__http_conn_poll_stop(cl->c, cx) != RILL_PENDING)
        return GOT_STOP;
    if (cl->src) {
        rill_sse_source_t *s = cl->src;
        pthread_mutex_lock(&s->lock);
        bool data = cl->cursor < s->head, end = s->closed && !data;
        if (!data && !end) {
            rill_waker_set(&cl->w.waker, cx->waker);
            if (!rill__list_linked(&cl->w.link))
                rill__list_push_back(&s->waiters, &cl->w.link);
        }
        pthread_mutex_unlock(&s->lock);
        if (data)
            return GOT_DATA;
        if (end)
            return GOT_END;
    } else {
        size_t n;
        int rc =
            rill_stream_poll_next_many(cl->events, cx, cl->items, BATCH, &n);
        if (rc == 0) {
            cl->nitems = (int)n;
            return GOT_DATA;
        }
        if (rc != RILL_PENDING) {
            cl->nitems = rc < 0 ? rc : 0; /* an error item, or the end */
            return GOT_END;
        }
    }
    if (rill_future_poll(&cl->readable.base, cx) != RILL_PENDING)
        return GOT_GONE;
    if (cl->keepalive > 0) {
        if (!cl->timer_armed) {
            rill_sleep_op(&cl->timer, rill_now() + cl->keepalive);
            cl->timer_armed = true;
        }
        if (rill_future_poll(&cl->timer.base, cx) != RILL_PENDING) {
            cl->timer_armed = false;
            return GOT_KEEPALIVE;
        }
    }
    return RILL_PENDING;
}

/* The client sent something: end of file (it went away) or bytes, which
 * an SSE client has no reason to send; either way the response ends. */
static int client_gone(client_t *cl)
{
    char b[256];
    size_t n;
    int rc = rill_io_try_read(cl->io, b, sizeof b, &n);
    if (rc == RILL_EAGAIN) { /* a stale readiness: wait again */
        rill_io_ready_op(&cl->readable, cl->io, RILL_IO_READ);
        return 0;
    }
    return rc == 0 ? RILL_EPROTO : rc;
}

/* Write the events the cursor has not sent (a batch at a time). */
static int send_from_source(client_t *cl)
{
    rill_sse_source_t *s = cl->src;
    rill_bytes_t out[BATCH];
    struct iovec iov[BATCH];
    int n = 0;
    long long missed = 0;
    pthread_mutex_lock(&s->lock);
    uint64_t tail = s->head > s->cap ? s->head - s->cap : 0;
    if (cl->cursor < tail) { /* fell behind the ring */
        missed = (long long)(tail - cl->cursor);
        cl->cursor = tail;
    }
    while (cl->cursor < s->head && n < BATCH) {
        out[n] = rill_bytes_clone(&s->ring[cl->cursor % s->cap].wire);
        iov[n] = (struct iovec){(void *)(uintptr_t)out[n].ptr, out[n].len};
        n++;
        cl->cursor++;
    }
    pthread_mutex_unlock(&s->lock);
    int rc = missed ? write_gap(cl, missed) : 0;
    if (rc == 0)
        rc = rill__writev_all(cl->io, iov, n);
    for (int i = 0; i < n; i++)
        rill_bytes_release(&out[i]);
    return rc;
}

static int send_from_stream(client_t *cl)
{
    rill_bytes_t out[BATCH];
    struct iovec iov[BATCH];
    int n = 0, rc = 0;
    for (int i = 0; i < cl->nitems; i++) {
        if (rc == 0 && (rc = rill_sse_encode(&out[n], &cl->items[i])) == 0) {
            iov[n] = (struct iovec){(void *)(uintptr_t)out[n].ptr, out[n].len};
            n++;
        }
        rill_sse_event_destroy(&cl->items[i]);
    }
    if (rc == 0)
        rc = rill__writev_all(cl->io, iov, n);
    for (int i = 0; i < n; i++)
        rill_bytes_release(&out[i]);
    return rc;
}

static int serve(client_t *cl, const rill_http_request_t *req,
                 const rill_sse_config_t *cfg)
{
    const char *rest;
    size_t rest_len;
    rill__http_conn_take(cl->c, &rest, &rest_len); /* bytes after: ignored */
    cl->io = rill_http_conn_io(cl->c);
    cl->keepalive = cfg && cfg->keepalive ? cfg->keepalive : DEFAULT_KEEPALIVE;
    int rc = send_head(cl, cfg);
    long long missed = 0;
    if (rc == 0 && cl->src) {
        pthread_mutex_lock(&cl->src->lock);
        cl->cursor = resume_at(cl->src, req, &missed);
        pthread_mutex_unlock(&cl->src->lock);
        if (missed)
            rc = write_gap(cl, missed);
    }
    rill_io_ready_op(&cl->readable, cl->io, RILL_IO_READ);
    while (rc == 0) {
        int got = rill__await_poll(poll_wait, cl, RILL_FOREVER);
        if (got == GOT_DATA)
            rc = cl->src ? send_from_source(cl) : send_from_stream(cl);
        else if (got == GOT_KEEPALIVE)
            rc = rill_io_write_all(cl->io, ":\n", 2, NULL);
        else if (got == GOT_GONE)
            rc = client_gone(cl);
        else if (got == GOT_END)
            rc = !cl->src && cl->nitems < 0 ? cl->nitems : RILL_DONE;
        else if (got == GOT_STOP)
            rc = RILL_DONE;
        else
            rc = got; /* RILL_ECANCELED and the like */
    }
    rill_future_cancel(&cl->readable.base);
    if (cl->timer_armed)
        rill_sleep_op_cancel(&cl->timer);
    if (cl->src) {
        pthread_mutex_lock(&cl->src->lock);
        if (rill__list_linked(&cl->w.link))
            rill__list_remove(&cl->w.link);
        pthread_mutex_unlock(&cl->src->lock);
        rill_waker_release(&cl->w.waker);
    }
    return rc == RILL_DONE ? 0 : rc;
}

int rill_sse_serve_source(rill_http_conn_t *c, const rill_http_request_t *req,
                          rill_sse_source_t *src, const rill_sse_config_t *cfg)
{
    if (!c || !req || !src)
        return RILL_MISUSE("rill_sse_serve_source", "NULL argument");
    client_t cl;
    memset(&cl, 0, sizeof cl);
    cl.c = c;
    cl.src = src;
    return serve(&cl, req, cfg);
}

int rill_sse_serve(rill_http_conn_t *c, const rill_http_request_t *req,
                   rill_stream_t *events, const rill_sse_config_t *cfg)
{
    if (!c || !req || !events) {
        rill_stream_free(events);
        return RILL_MISUSE("rill_sse_serve", "NULL argument");
    }
    if (rill_stream_item_size(events) != sizeof(rill_sse_event_t)) {
        rill_stream_free(events);
        return RILL_MISUSE("rill_sse_serve", "items are not rill_sse_event_t");
    }
    client_t *cl = rill__calloc(1, sizeof *cl); /* BATCH events: not on stack */
    if (!cl) {
        rill_stream_free(events);
        return RILL_ENOMEM;
    }
    cl->c = c;
    cl->events = events;
    int rc = serve(cl, req, cfg);
    rill_stream_free(events);
    rill__free(cl);
    return rc;
}
