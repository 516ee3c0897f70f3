/* SPDX-License-Identifier: MIT */
/*
 * hub.c - one source, many SSE and WebSocket clients, with a byte budget
 * and a policy per client.
 *
 * Publishing encodes an event twice (the SSE wire form and one unmasked
 * WebSocket frame) into shared rill_bytes_t, keeps both in the replay
 * ring, and, under hub->lock, offers it to every client: a client's queue
 * is a ring of references to those bytes. Its budget counts the bytes in
 * the queue plus the bytes its task took to write and has not written
 * yet (inflight), so the bytes a client pins are at most its budget (one
 * larger event when it has nothing queued). What does not fit goes by
 * the client's policy: DROP_OLDEST pops from the head of the queue (never
 * the bytes being written) and counts what it lost for the in-band
 * notice; DISCONNECT drops the queue, marks the client kicked and wakes
 * it; BLOCK was settled before: the publisher's future waits, on the
 * hub's list of publishers, until every BLOCK client has room, and
 * queues the event in the same critical section that saw the room.
 *
 * Each client is served by its HTTP connection's task, which loops:
 * take a batch from its queue (a notice or a control frame first), write
 * it with non-waiting writevs, and when it cannot write, wait on one
 * hand-written future (client_fut) that polls the server's stop signal,
 * the client's queue (under the lock: it parks its waker there), the
 * socket's write side (only while a batch is half written), its read
 * side (SSE: readable means the client went away; WebSocket: frames to
 * decode, pings to answer, a close) and a timer (the keep-alive, or the
 * deadline of a closing connection). So a kick reaches a client even
 * while its socket is full: the close frame (1013) goes out after the
 * frame being written, or, after close_timeout, the socket is closed.
 *
 * Counters are atomics, written under the lock (relaxed: they are read
 * only by stats and describe, which want each value, not a consistent
 * set) so rill_runtime_dump can show them without taking the lock.
 */
#include "core/atomic.h"
#include "core/core.h"
#include "net/net_int.h"
#include "rill/hub.h"
#include "rill/io.h"
#include "rill/rt.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

enum {
    BATCH = 64,
    SLOTS = BATCH + 2, /* a control frame, a notice, BATCH events */
    READ_BUF = 4096,
    DEFAULT_REPLAY = 1024,
    NAME_LEN = 32
};
#define DEFAULT_BUDGET ((size_t)256 * 1024)
#define DEFAULT_KEEPALIVE RILL_SEC(15)
#define DEFAULT_CLOSE_TIMEOUT RILL_MS(100)
#define DEFAULT_PONG_TIMEOUT RILL_SEC(10)
#define DEFAULT_WS_MAX ((uint64_t)64 * 1024)

typedef struct entry {
    uint64_t seq;
    rill_bytes_t id, sse, ws;
} entry_t;

typedef struct waiter {
    rill__list_t link;
    rill_waker_t waker;
} waiter_t;

typedef struct slot {
    rill_bytes_t b;
    bool counted; /* an event's bytes (in inflight), not a notice */
} slot_t;

typedef struct client client_t;

typedef _Atomic uint64_t counter_t;

struct rill_hub {
    _Atomic size_t refs;   /* the owner's, and one per serving client */
    rill_hub_config_t cfg; /* defaults filled in; name is `name` */
    char name[NAME_LEN];
    char **protocols; /* cfg.ws_handshake's names, copied */
    pthread_mutex_t lock;
    /* under lock */
    entry_t *ring; /* cap entries; seq s lives at s % cap */
    size_t cap;
    uint64_t head; /* the next sequence number */
    bool closed;
    rill__list_t clients;    /* client_t, in the order they came */
    rill__list_t publishers; /* waiter_t: publishes waiting for room */
    uint64_t next_id;
    /* written under lock (sent/bytes_sent by the clients' tasks, under
     * it too), read anywhere: relaxed (see the file comment) */
    counter_t n_clients, n_sse, n_ws, n_total, published, bytes_queued, sent,
        bytes_sent, dropped, disconnected, publish_waits;
};

struct client {
    /* What serves it: awaited by rill_hub_serve, or the stackless task of
     * rill_hub_attach (whose drop frees the client). */
    rill_future_t fut;
    rill__list_t link; /* in hub->clients, under hub->lock */
    rill_hub_t *hub;
    uint64_t id;
    rill_hub_protocol_t proto;
    rill_hub_policy_t policy;
    size_t budget;
    /* under hub->lock */
    rill_bytes_t *q; /* ring of qcap; qlen from qhead */
    size_t qcap, qhead, qlen;
    uint64_t qbytes;   /* bytes in q */
    uint64_t inflight; /* bytes taken by the task, not yet written */
    uint64_t lost;     /* events dropped since the last notice */
    bool lost_unknown; /* resumed from an id the ring no longer had */
    bool kicked;
    bool parked; /* waker is set and wants the next event */
    rill_waker_t waker;
    /* mirrors for stats and describe (relaxed, written under the lock) */
    counter_t a_queued, a_queued_max, a_events, a_sent, a_bytes_sent, a_dropped;
    _Atomic int a_kicked;
    /* the client's task only */
    rill_http_conn_t *c;
    rill_io_t *io;
    /* SLOTS + 1 each (+ a close frame after a partial one), one block made
     * at the first write: an idle client holds none */
    slot_t *slots;
    struct iovec *iov;
    int nb, wi;       /* slots in the batch; the first not fully written */
    unsigned batches; /* taken so far (a yield every 16) */
    bool yielded;     /* the yield before this batch was made */
    size_t woff;      /* bytes of slots[wi] written */
    rill_bytes_t ctl; /* a control frame (pong) for the next batch */
    bool closing;     /* a close frame is in the batch: flush, then end */
    bool done;        /* end now */
    int end_rc;
    rill_instant_t deadline; /* of a closing connection */
    rill_instant_t last_write;
    rill_instant_t ping_at; /* when the unanswered ping went (ping_out) */
    bool ping_out;
    rill_io_op_t rd, wr;
    bool rd_armed, wr_armed, want_write, read_eof;
    rill_sleep_op_t timer;
    bool timer_armed;
    rill_instant_t timer_at;
    rill_ws_decoder_t dec;
    bool dec_init;
};

const char *rill_hub_policy_name(rill_hub_policy_t p)
{
    switch (p) {
    case RILL_HUB_POLICY_DEFAULT:
        return "DEFAULT";
    case RILL_HUB_BLOCK:
        return "BLOCK";
    case RILL_HUB_DROP_OLDEST:
        return "DROP_OLDEST";
    case RILL_HUB_DISCONNECT:
        return "DISCONNECT";
    }
    return "?";
}

static bool policy_valid(rill_hub_policy_t p)
{
    return p >= RILL_HUB_POLICY_DEFAULT && p <= RILL_HUB_DISCONNECT;
}

/* ---- the hub ---- */

static void free_protocols(rill_hub_t *h)
{
    for (size_t i = 0; h->protocols && i < h->cfg.ws_handshake.protocol_count;
         i++)
        rill__free(h->protocols[i]);
    rill__free(h->protocols);
}

/* A config is only read during the call: keep our own subprotocol names. */
static int copy_protocols(rill_hub_t *h)
{
    size_t n =
        h->cfg.ws_handshake.protocols ? h->cfg.ws_handshake.protocol_count : 0;
    h->cfg.ws_handshake.protocol_count = 0;
    if (!n)
        return 0;
    h->protocols = rill__calloc(n, sizeof *h->protocols);
    if (!h->protocols)
        return RILL_ENOMEM;
    for (size_t i = 0; i < n; i++) {
        const char *p = h->cfg.ws_handshake.protocols[i];
        size_t len = p ? strlen(p) : 0;
        h->protocols[i] = rill__malloc(len + 1);
        h->cfg.ws_handshake.protocol_count = i + 1;
        if (!h->protocols[i]) {
            free_protocols(h);
            return RILL_ENOMEM;
        }
        memcpy(h->protocols[i], p ? p : "", len + 1);
    }
    h->cfg.ws_handshake.protocols = (const char *const *)h->protocols;
    return 0;
}

int rill_hub_new(rill_hub_t **out, const rill_hub_config_t *cfg)
{
    if (!out)
        return RILL_MISUSE("rill_hub_new", "NULL hub");
    *out = NULL;
    if (cfg && !policy_valid(cfg->policy))
        return RILL_MISUSE("rill_hub_new", "unknown policy %d",
                           (int)cfg->policy);
    rill_hub_t *h = rill__calloc(1, sizeof *h);
    if (!h)
        return RILL_ENOMEM;
    if (cfg)
        h->cfg = *cfg;
    snprintf(h->name, sizeof h->name, "%s", h->cfg.name ? h->cfg.name : "hub");
    h->cfg.name = h->name;
    if (!h->cfg.policy)
        h->cfg.policy = RILL_HUB_DROP_OLDEST;
    if (!h->cfg.budget)
        h->cfg.budget = DEFAULT_BUDGET;
    if (!h->cfg.replay)
        h->cfg.replay = DEFAULT_REPLAY;
    if (!h->cfg.keepalive)
        h->cfg.keepalive = DEFAULT_KEEPALIVE;
    if (h->cfg.pong_timeout <= 0)
        h->cfg.pong_timeout = DEFAULT_PONG_TIMEOUT;
    if (h->cfg.close_timeout <= 0)
        h->cfg.close_timeout = DEFAULT_CLOSE_TIMEOUT;
    if (!h->cfg.ws_max_message)
        h->cfg.ws_max_message = DEFAULT_WS_MAX;
    if (copy_protocols(h) != 0) {
        rill__free(h);
        return RILL_ENOMEM;
    }
    h->cap = h->cfg.replay;
    h->ring = h->cap <= SIZE_MAX / sizeof *h->ring
                  ? rill__calloc(h->cap, sizeof *h->ring)
                  : NULL;
    if (!h->ring) {
        free_protocols(h);
        rill__free(h);
        return RILL_ENOMEM;
    }
    rill__store(&h->refs, 1, RILL_RELAXED); /* not shared yet */
    pthread_mutex_init(&h->lock, NULL);
    rill__list_init(&h->clients);
    rill__list_init(&h->publishers);
    *out = h;
    return 0;
}

static void hub_release(rill_hub_t *h)
{
    /* acq_rel: the last release sees every holder's writes (pairs with
     * the other releases' release half). */
    if (rill__fetch_sub(&h->refs, 1, RILL_ACQ_REL) != 1)
        return;
    for (size_t i = 0; i < h->cap; i++) {
        rill_bytes_release(&h->ring[i].id);
        rill_bytes_release(&h->ring[i].sse);
        rill_bytes_release(&h->ring[i].ws);
    }
    rill__free(h->ring);
    free_protocols(h);
    pthread_mutex_destroy(&h->lock);
    rill__free(h);
}

/* Wake every waiting publisher (under lock). */
static void wake_publishers(rill_hub_t *h)
{
    for (rill__list_t *n = h->publishers.next; n != &h->publishers; n = n->next)
        rill_waker_wake_by_ref(&RILL_CONTAINER_OF(n, waiter_t, link)->waker);
}

/* Wake a client's task if it waits for its queue (under lock). */
static void wake_client(client_t *cl)
{
    if (cl->parked) {
        cl->parked = false;
        rill_waker_wake_by_ref(&cl->waker);
    }
}

void rill_hub_close(rill_hub_t *h)
{
    if (!h)
        return;
    pthread_mutex_lock(&h->lock);
    h->closed = true;
    for (rill__list_t *n = h->clients.next; n != &h->clients; n = n->next)
        wake_client(RILL_CONTAINER_OF(n, client_t, link));
    wake_publishers(h);
    pthread_mutex_unlock(&h->lock);
}

void rill_hub_free(rill_hub_t *h)
{
    if (!h)
        return;
    rill_hub_close(h);
    hub_release(h);
}

/* ---- queues (all under hub->lock) ---- */

static void count_queued(rill_hub_t *h, client_t *cl, int64_t delta)
{
    uint64_t now = cl->qbytes + cl->inflight;
    rill__store(&cl->a_queued, now, RILL_RELAXED);
    rill__store(&cl->a_events, cl->qlen, RILL_RELAXED);
    if (now > rill__load(&cl->a_queued_max, RILL_RELAXED))
        rill__store(&cl->a_queued_max, now, RILL_RELAXED);
    rill__fetch_add(&h->bytes_queued, (uint64_t)delta, RILL_RELAXED);
}

static void count_dropped(rill_hub_t *h, client_t *cl, uint64_t n)
{
    cl->lost += n;
    rill__fetch_add(&cl->a_dropped, n, RILL_RELAXED);
    rill__fetch_add(&h->dropped, n, RILL_RELAXED);
}

/* Append one reference (taken over). false: no memory for the ring. */
static bool q_push(client_t *cl, rill_bytes_t b)
{
    if (cl->qlen == cl->qcap) {
        size_t cap = cl->qcap ? cl->qcap * 2 : 16;
        rill_bytes_t *q = rill__malloc(cap * sizeof *q);
        if (!q)
            return false;
        for (size_t i = 0; i < cl->qlen; i++)
            q[i] = cl->q[(cl->qhead + i) % cl->qcap];
        rill__free(cl->q);
        cl->q = q;
        cl->qcap = cap;
        cl->qhead = 0;
    }
    cl->q[(cl->qhead + cl->qlen++) % cl->qcap] = b;
    cl->qbytes += b.len;
    return true;
}

static rill_bytes_t q_pop(client_t *cl)
{
    rill_bytes_t b = cl->q[cl->qhead];
    cl->qhead = (cl->qhead + 1) % cl->qcap;
    cl->qlen--;
    cl->qbytes -= b.len;
    return b;
}

/* Drop the whole queue (a kick, or the client's end). */
static void q_clear(rill_hub_t *h, client_t *cl)
{
    uint64_t bytes = cl->qbytes;
    while (cl->qlen) {
        rill_bytes_t b = q_pop(cl);
        rill_bytes_release(&b);
    }
    count_queued(h, cl, -(int64_t)bytes);
}

static const rill_bytes_t *wire_of(const client_t *cl, const entry_t *e)
{
    return cl->proto == RILL_HUB_SSE ? &e->sse : &e->ws;
}

/* Room for len more bytes: an empty queue takes anything. */
static bool has_room(const client_t *cl, size_t len)
{
    uint64_t used = cl->qbytes + cl->inflight;
    return used == 0 || used + len <= cl->budget;
}

/* Whether every BLOCK client has room for e. */
static bool block_room(rill_hub_t *h, const entry_t *e)
{
    for (rill__list_t *n = h->clients.next; n != &h->clients; n = n->next) {
        client_t *cl = RILL_CONTAINER_OF(n, client_t, link);
        if (cl->policy == RILL_HUB_BLOCK && !cl->kicked &&
            !has_room(cl, wire_of(cl, e)->len))
            return false;
    }
    return true;
}

static void kick(rill_hub_t *h, client_t *cl)
{
    q_clear(h, cl);
    cl->kicked = true;
    rill__store(&cl->a_kicked, 1, RILL_RELAXED);
    rill__fetch_add(&h->disconnected, 1, RILL_RELAXED);
    wake_client(cl);
}

/* Queue b for cl by its policy. BLOCK clients were given room by the
 * caller, except while catching up from the replay ring, which drops the
 * oldest for every policy (a resume asks for what the budget holds). */
static void offer(rill_hub_t *h, client_t *cl, const rill_bytes_t *b,
                  bool catch_up)
{
    if (cl->kicked)
        return;
    if (!has_room(cl, b->len)) {
        if (cl->policy == RILL_HUB_DISCONNECT && !catch_up) {
            kick(h, cl);
            return;
        }
        if (cl->policy != RILL_HUB_BLOCK || catch_up) {
            uint64_t before = cl->qbytes, n = 0;
            while (cl->qlen && !has_room(cl, b->len)) {
                rill_bytes_t old = q_pop(cl);
                rill_bytes_release(&old);
                n++;
            }
            if (!has_room(cl, b->len)) { /* what is being written is in
                                            the way: this one goes too */
                n++;
                count_dropped(h, cl, n);
                count_queued(h, cl, -(int64_t)(before - cl->qbytes));
                wake_client(cl);
                return;
            }
            count_dropped(h, cl, n);
            count_queued(h, cl, -(int64_t)(before - cl->qbytes));
        }
    }
    if (!q_push(cl, rill_bytes_clone(b))) {
        count_dropped(h, cl, 1); /* no memory for this client's ring */
        wake_client(cl);
        return;
    }
    count_queued(h, cl, (int64_t)b->len);
    wake_client(cl);
}

/* Give e to every client and into the ring (under lock). *old receives
 * the ring entry it replaces (release it after unlocking). */
static void deliver(rill_hub_t *h, entry_t *e, entry_t *old)
{
    e->seq = h->head++;
    for (rill__list_t *n = h->clients.next; n != &h->clients; n = n->next) {
        client_t *cl = RILL_CONTAINER_OF(n, client_t, link);
        offer(h, cl, wire_of(cl, e), false);
    }
    entry_t *slot = &h->ring[e->seq % h->cap];
    *old = *slot;
    *slot = *e;
    rill__fetch_add(&h->published, 1, RILL_RELAXED);
}

static void entry_destroy(entry_t *e)
{
    rill_bytes_release(&e->id);
    rill_bytes_release(&e->sse);
    rill_bytes_release(&e->ws);
}

/* ---- publishing ---- */

typedef struct pub_fut {
    rill_future_t base;
    rill_hub_t *h;
    entry_t e, old;
    waiter_t w;
    bool try_only, waited;
} pub_fut_t;

static int pub_poll(rill_future_t *f, rill_cx_t *cx)
{
    pub_fut_t *p = (pub_fut_t *)f;
    rill_hub_t *h = p->h;
    pthread_mutex_lock(&h->lock);
    int rc = 0;
    if (h->closed) {
        rc = RILL_ECLOSED;
    } else if (!block_room(h, &p->e)) {
        if (p->try_only) {
            rc = RILL_EFULL;
        } else {
            rill_waker_set(&p->w.waker, cx->waker);
            if (!rill__list_linked(&p->w.link))
                rill__list_push_back(&h->publishers, &p->w.link);
            if (!p->waited)
                rill__fetch_add(&h->publish_waits, 1, RILL_RELAXED);
            p->waited = true;
            rc = RILL_PENDING;
        }
    } else {
        deliver(h, &p->e, &p->old);
        p->e = (entry_t){0, RILL_BYTES_EMPTY, RILL_BYTES_EMPTY,
                         RILL_BYTES_EMPTY}; /* the ring's now */
    }
    if (rc != RILL_PENDING && rill__list_linked(&p->w.link))
        rill__list_remove(&p->w.link);
    pthread_mutex_unlock(&h->lock);
    return rc;
}

static int pub_cancel(rill_future_t *f)
{
    pub_fut_t *p = (pub_fut_t *)f;
    pthread_mutex_lock(&p->h->lock);
    if (rill__list_linked(&p->w.link))
        rill__list_remove(&p->w.link);
    pthread_mutex_unlock(&p->h->lock);
    return RILL_PENDING;
}

static int pub_describe(const rill_future_t *f, rill_instant_t now, char *buf,
                        size_t len)
{
    (void)now;
    const pub_fut_t *p = (const pub_fut_t *)f;
    return snprintf(buf, len,
                    "hub '%s' publish: waiting for room in a BLOCK client's "
                    "queue (%" PRIu64 " clients, %" PRIu64 " bytes queued)",
                    p->h->name, rill__load(&p->h->n_clients, RILL_RELAXED),
                    rill__load(&p->h->bytes_queued, RILL_RELAXED));
}

static const rill_future_vtable_t pub_vtable = {pub_poll, pub_cancel, NULL,
                                                pub_describe};

static int publish(const char *api, rill_hub_t *h, const rill_sse_event_t *ev,
                   bool try_only)
{
    if (!h || !ev)
        return RILL_MISUSE(api, "NULL argument");
    pub_fut_t p;
    memset(&p, 0, sizeof p);
    p.base.vtable = &pub_vtable;
    p.h = h;
    p.try_only = try_only;
    int rc = rill_sse_encode(&p.e.sse, ev);
    if (rc == 0)
        rc = rill_ws_encode(&p.e.ws,
                            h->cfg.ws_binary ? RILL_WS_BINARY : RILL_WS_TEXT,
                            ev->data.ptr, ev->data.len);
    if (rc == 0) {
        p.e.id = rill_bytes_clone(&ev->id);
        rc = rill_await(&p.base);
    }
    rill_waker_release(&p.w.waker);
    entry_destroy(&p.e); /* empty unless it was not delivered */
    entry_destroy(&p.old);
    return rc;
}

int rill_hub_publish(rill_hub_t *h, const rill_sse_event_t *ev)
{
    return publish("rill_hub_publish", h, ev, false);
}

int rill_hub_try_publish(rill_hub_t *h, const rill_sse_event_t *ev)
{
    return publish("rill_hub_try_publish", h, ev, true);
}

int rill_hub_forward(rill_hub_t *h, rill_stream_t *events)
{
    if (!h || !events) {
        rill_stream_free(events);
        return RILL_MISUSE("rill_hub_forward", "NULL argument");
    }
    if (rill_stream_item_size(events) != sizeof(rill_sse_event_t)) {
        rill_stream_free(events);
        return RILL_MISUSE("rill_hub_forward",
                           "items are not rill_sse_event_t");
    }
    int rc;
    rill_sse_event_t ev;
    while ((rc = rill_next(events, &ev)) == 0) {
        rc = rill_hub_publish(h, &ev);
        rill_sse_event_destroy(&ev);
        if (rc != 0)
            break;
    }
    rill_stream_free(events);
    if (rc == RILL_DONE) {
        rill_hub_close(h);
        rc = 0;
    }
    return rc;
}

/* ---- a client's task: batches ---- */

/* The batch's slots, made at the first write. false: no memory. */
static bool slots_ready(client_t *cl)
{
    if (cl->slots)
        return true;
    cl->slots =
        rill__malloc((SLOTS + 1) * (sizeof *cl->slots + sizeof *cl->iov));
    if (!cl->slots)
        return false;
    cl->iov = (struct iovec *)(void *)(cl->slots + SLOTS + 1);
    return true;
}

static void slot_set(client_t *cl, rill_bytes_t b, bool counted)
{
    cl->slots[cl->nb] = (slot_t){b, counted};
    cl->iov[cl->nb] = (struct iovec){(void *)(uintptr_t)b.ptr, b.len};
    cl->nb++;
}

/* The in-band notice of n lost events (-1: unknown). */
static int gap_notice(client_t *cl, long long n, rill_bytes_t *out)
{
    char b[96];
    int len;
    if (cl->proto == RILL_HUB_SSE) {
        len = snprintf(b, sizeof b,
                       "event: rill-gap\ndata: {\"missed\":%lld}\n\n", n);
        return rill_bytes_new(out, b, (size_t)len);
    }
    len = snprintf(b, sizeof b, "{\"type\":\"rill-gap\",\"missed\":%lld}", n);
    return rill_ws_encode(out, RILL_WS_TEXT, b, (size_t)len);
}

/* Start a batch (nothing is in flight): the pending control frame, the
 * notice of lost events, then up to BATCH queued events. */
static void take_batch(client_t *cl)
{
    rill_hub_t *h = cl->hub;
    cl->nb = cl->wi = 0;
    cl->woff = 0;
    if (!cl->slots) { /* the first batch: make the slots, if it has any */
        pthread_mutex_lock(&h->lock);
        bool any = cl->qlen || cl->lost || cl->lost_unknown;
        pthread_mutex_unlock(&h->lock);
        if (!any && !cl->ctl.len)
            return;
        if (!slots_ready(cl)) {
            cl->end_rc = RILL_ENOMEM;
            cl->done = true;
            return;
        }
    }
    if (cl->ctl.len) {
        slot_set(cl, cl->ctl, false);
        cl->ctl = RILL_BYTES_EMPTY;
    }
    pthread_mutex_lock(&h->lock);
    long long lost = cl->lost_unknown ? -1 : (long long)cl->lost;
    cl->lost = 0;
    cl->lost_unknown = false;
    int notice = -1;
    if (lost) {
        notice = cl->nb;
        slot_set(cl, RILL_BYTES_EMPTY, false);
    }
    uint64_t bytes = 0;
    while (cl->qlen && cl->nb < SLOTS) {
        rill_bytes_t b = q_pop(cl);
        bytes += b.len;
        slot_set(cl, b, true);
    }
    cl->inflight += bytes;
    rill__store(&cl->a_events, cl->qlen, RILL_RELAXED);
    pthread_mutex_unlock(&h->lock);
    if (notice >= 0) {
        rill_bytes_t b;
        if (gap_notice(cl, lost, &b) != 0) {
            b = RILL_BYTES_EMPTY; /* no memory: the notice is lost too */
        }
        cl->slots[notice].b = b;
        cl->iov[notice] = (struct iovec){(void *)(uintptr_t)b.ptr, b.len};
    }
}

/* Slots [from, nb) were not started: give them back. */
static void drop_unstarted(client_t *cl, int from)
{
    uint64_t bytes = 0;
    for (int i = from; i < cl->nb; i++) {
        if (cl->slots[i].counted)
            bytes += cl->slots[i].b.len;
        rill_bytes_release(&cl->slots[i].b);
    }
    cl->nb = from;
    if (bytes) {
        pthread_mutex_lock(&cl->hub->lock);
        cl->inflight -= bytes;
        count_queued(cl->hub, cl, -(int64_t)bytes);
        wake_publishers(cl->hub);
        pthread_mutex_unlock(&cl->hub->lock);
    }
}

/* Write what the batch still holds, without waiting. 0: progress (or
 * nothing to write); RILL_EAGAIN: the socket is full; errors. */
static int write_some(client_t *cl)
{
    while (cl->wi < cl->nb && cl->iov[cl->wi].iov_len == 0) {
        rill_bytes_release(&cl->slots[cl->wi].b); /* an empty notice */
        cl->wi++;
    }
    if (cl->wi == cl->nb) {
        cl->nb = cl->wi = 0;
        return 0;
    }
    size_t w;
    int rc = rill_io_try_writev(cl->io, cl->iov + cl->wi, cl->nb - cl->wi, &w);
    if (rc != 0)
        return rc;
    cl->last_write = rill_now();
    uint64_t events = 0, bytes = 0;
    while (cl->wi < cl->nb && w >= cl->iov[cl->wi].iov_len) {
        w -= cl->iov[cl->wi].iov_len;
        slot_t *s = &cl->slots[cl->wi];
        if (s->counted) {
            events++;
            bytes += s->b.len;
        }
        rill_bytes_release(&s->b);
        cl->wi++;
    }
    if (cl->wi < cl->nb) {
        cl->iov[cl->wi].iov_base = (char *)cl->iov[cl->wi].iov_base + w;
        cl->iov[cl->wi].iov_len -= w;
        cl->woff += w;
    } else {
        cl->nb = cl->wi = 0;
    }
    if (events) {
        rill_hub_t *h = cl->hub;
        pthread_mutex_lock(&h->lock);
        cl->inflight -= bytes;
        count_queued(h, cl, -(int64_t)bytes);
        rill__fetch_add(&cl->a_sent, events, RILL_RELAXED);
        rill__fetch_add(&cl->a_bytes_sent, bytes, RILL_RELAXED);
        rill__fetch_add(&h->sent, events, RILL_RELAXED);
        rill__fetch_add(&h->bytes_sent, bytes, RILL_RELAXED);
        if (cl->policy == RILL_HUB_BLOCK)
            wake_publishers(h);
        pthread_mutex_unlock(&h->lock);
    }
    return 0;
}

/* End the connection: an SSE response just ends; a WebSocket gets a
 * close frame after the frame being written (the rest of the batch is
 * dropped) and ends when it is written or at the deadline. */
static void begin_close(client_t *cl, unsigned code, int rc)
{
    if (cl->closing || cl->done)
        return;
    cl->end_rc = rc;
    if (cl->proto == RILL_HUB_SSE || !slots_ready(cl)) {
        cl->done = true; /* (no memory for a batch: just close) */
        return;
    }
    drop_unstarted(cl, cl->wi < cl->nb && cl->woff > 0 ? cl->wi + 1 : cl->wi);
    rill_bytes_release(&cl->ctl);
    rill_bytes_t f;
    if (rill_ws_encode_close(&f, code, NULL, 0) != 0) {
        cl->done = true; /* no memory for a close frame: just close */
        return;
    }
    if (cl->nb == 0)
        cl->wi = 0, cl->woff = 0;
    slot_set(cl, f, false);
    cl->closing = true;
    cl->deadline = rill_now() + cl->hub->cfg.close_timeout;
}

/* ---- a client's task: reading ---- */

static void on_message(client_t *cl, rill_ws_message_t *m)
{
    switch (m->opcode) {
    case RILL_WS_TEXT:
    case RILL_WS_BINARY:
        if (cl->hub->cfg.on_message)
            cl->hub->cfg.on_message(cl->hub->cfg.ud, cl->id, m);
        break;
    case RILL_WS_PING: /* the newest ping is the one to answer */
        rill_bytes_release(&cl->ctl);
        if (rill_ws_encode(&cl->ctl, RILL_WS_PONG, m->data.ptr, m->data.len) !=
            0)
            cl->ctl = RILL_BYTES_EMPTY;
        break;
    case RILL_WS_CLOSE:
        begin_close(
            cl, m->close_code == RILL_WS_CLOSE_NO_STATUS ? 0 : m->close_code,
            RILL_DONE);
        break;
    default: /* PONG: the client is there */
        cl->ping_out = false;
        break;
    }
    rill_bytes_release(&m->data);
}

/* The socket is readable. */
static void on_readable(client_t *cl)
{
    unsigned char buf[READ_BUF]; /* the worker's (or task's) stack: an
                                    idle client holds no read buffer */
    size_t n;
    int rc = rill_io_try_read(cl->io, buf, sizeof buf, &n);
    if (rc == RILL_EAGAIN)
        return;    /* a stale readiness: wait again */
    if (rc != 0) { /* gone (RILL_DONE at end of file) */
        cl->read_eof = true;
        if (!cl->closing)
            cl->end_rc = rc;
        cl->done = true;
        return;
    }
    if (cl->proto == RILL_HUB_SSE) { /* an SSE client has nothing to say */
        cl->end_rc = RILL_EPROTO;
        cl->done = true;
        return;
    }
    size_t off = 0;
    while (!cl->done) {
        size_t used;
        rill_ws_message_t m;
        rc = rill_ws_decode(&cl->dec, buf + off, n - off, &used, &m);
        off += used;
        if (rc == 0) {
            if (!cl->closing)
                on_message(cl, &m);
            else
                rill_bytes_release(&m.data);
            continue;
        }
        if (rc == RILL_EPROTO)
            begin_close(cl, rill_ws_decoder_close_code(&cl->dec), RILL_EPROTO);
        else if (rc == RILL_ENOMEM)
            begin_close(cl, RILL_WS_CLOSE_INTERNAL_ERROR, RILL_ENOMEM);
        break; /* PENDING: all consumed; DONE: ignored after a close */
    }
}

/* ---- a client's task: waiting ---- */

/* What a wait found (positive, apart from RILL_DONE and RILL_PENDING). */
enum {
    GOT_STOP = 16,
    GOT_DATA,
    GOT_KICK,
    GOT_END,
    GOT_READ,
    GOT_WRITE,
    GOT_TIMER
};

/* What the client waits for, polled: a GOT_ value or RILL_PENDING. */
static int client_wait(client_t *cl, rill_cx_t *cx)
{
    rill_hub_t *h = cl->hub;
    if (!cl->closing) {
        if (rill__http_conn_poll_stop(cl->c, cx) != RILL_PENDING)
            return GOT_STOP;
        int got = 0;
        pthread_mutex_lock(&h->lock);
        if (cl->kicked)
            got = GOT_KICK;
        else if (cl->nb == 0 && (cl->qlen || cl->lost || cl->lost_unknown))
            got = GOT_DATA;
        else if (cl->nb == 0 && h->closed)
            got = GOT_END;
        else {
            rill_waker_set(&cl->waker, cx->waker);
            cl->parked = true;
        }
        pthread_mutex_unlock(&h->lock);
        if (got)
            return got;
    }
    if (cl->want_write) {
        if (!cl->wr_armed) {
            rill_io_ready_op(&cl->wr, cl->io, RILL_IO_WRITE);
            cl->wr_armed = true;
        }
        if (rill_future_poll(&cl->wr.base, cx) != RILL_PENDING) {
            cl->wr_armed = false;
            return GOT_WRITE;
        }
    }
    if (!cl->read_eof) {
        if (!cl->rd_armed) {
            rill_io_ready_op(&cl->rd, cl->io, RILL_IO_READ);
            cl->rd_armed = true;
        }
        if (rill_future_poll(&cl->rd.base, cx) != RILL_PENDING) {
            cl->rd_armed = false;
            return GOT_READ;
        }
    }
    rill_instant_t at = cl->closing ? cl->deadline
                        : cl->nb == 0 && h->cfg.keepalive > 0
                            ? cl->last_write + h->cfg.keepalive
                            : RILL_FOREVER;
    if (!cl->closing && cl->ping_out && cl->ping_at + h->cfg.pong_timeout < at)
        at = cl->ping_at + h->cfg.pong_timeout;
    /* A timer that fires early is harmless (GOT_TIMER checks what is
     * due; the next wait arms the later deadline), so one armed before
     * `at` is kept: the keep-alive's deadline moves with every write, and
     * moving the timer with it would cost two timer operations per
     * delivery. Only one armed too late is moved. */
    if (cl->timer_armed && cl->timer_at > at) {
        rill_sleep_op_cancel(&cl->timer);
        cl->timer_armed = false;
    }
    if (at != RILL_FOREVER || cl->timer_armed) {
        if (!cl->timer_armed) {
            rill_sleep_op(&cl->timer, at);
            cl->timer_armed = true;
            cl->timer_at = at;
        }
        if (rill_future_poll(&cl->timer.base, cx) != RILL_PENDING) {
            cl->timer_armed = false;
            return GOT_TIMER;
        }
    }
    return RILL_PENDING;
}

static int client_describe(const rill_future_t *f, rill_instant_t now,
                           char *buf, size_t len)
{
    (void)now;
    const client_t *cl = RILL_CONTAINER_OF(f, client_t, fut);
    return snprintf(
        buf, len,
        "hub '%s' %s client %" PRIu64 " (%s%s): queued %" PRIu64 "/%zu B "
        "(%" PRIu64 " events, max %" PRIu64 " B), sent %" PRIu64
        ", dropped %" PRIu64,
        cl->hub->name, cl->proto == RILL_HUB_SSE ? "SSE" : "WebSocket", cl->id,
        rill_hub_policy_name(cl->policy),
        rill__load(&cl->a_kicked, RILL_RELAXED) ? ", disconnecting" : "",
        rill__load(&cl->a_queued, RILL_RELAXED), cl->budget,
        rill__load(&cl->a_events, RILL_RELAXED),
        rill__load(&cl->a_queued_max, RILL_RELAXED),
        rill__load(&cl->a_sent, RILL_RELAXED),
        rill__load(&cl->a_dropped, RILL_RELAXED));
}

static void keepalive(client_t *cl)
{
    static const char sse_ka[] = ":\n", ws_ping[] = "\x89\x00";
    rill_bytes_t b;
    int rc = cl->proto == RILL_HUB_SSE ? rill_bytes_new(&b, sse_ka, 2)
                                       : rill_bytes_new(&b, ws_ping, 2);
    cl->last_write = rill_now(); /* also when there was no memory */
    if (cl->proto == RILL_HUB_WS && !cl->ping_out) {
        cl->ping_out = true; /* the first unanswered ping counts */
        cl->ping_at = cl->last_write;
    }
    if (rc == 0 && !slots_ready(cl)) {
        rill_bytes_release(&b);
        rc = RILL_ENOMEM;
    }
    if (rc == 0) {
        cl->nb = cl->wi = 0;
        cl->woff = 0;
        slot_set(cl, b, false);
    }
}

/*
 * The client's whole service, as a future: take a batch, write it without
 * waiting, and when it cannot go on, wait (client_wait) and act on what
 * came. 0 when it has ended (cl->end_rc says why).
 */
static int serve_poll(rill_future_t *f, rill_cx_t *cx)
{
    client_t *cl = RILL_CONTAINER_OF(f, client_t, fut);
    while (!cl->done) {
        if (cl->nb == 0) {
            if (cl->closing)
                break; /* the close frame is out */
            /* A queue that never empties (a fast publisher on another
             * thread) must not keep this worker from its other tasks:
             * every 16 batches, wake ourselves and give way. */
            if (!cl->yielded && ++cl->batches % 16 == 0) {
                cl->yielded = true;
                rill_waker_wake_by_ref(cx->waker);
                return RILL_PENDING;
            }
            cl->yielded = false;
            take_batch(cl);
            if (cl->done)
                break; /* no memory for a batch */
        }
        if (cl->nb > 0 && !cl->want_write) {
            int rc = write_some(cl);
            if (rc == RILL_EAGAIN) {
                cl->want_write = true;
            } else if (rc != 0) {
                if (!cl->closing)
                    cl->end_rc = rc;
                break;
            }
            continue;
        }
        int got = client_wait(cl, cx);
        if (got == RILL_PENDING)
            return RILL_PENDING;
        switch (got) {
        case GOT_STOP:
            begin_close(cl, RILL_WS_CLOSE_GOING_AWAY, 0);
            break;
        case GOT_KICK:
            begin_close(cl, RILL_WS_CLOSE_TRY_AGAIN_LATER, RILL_EAGAIN);
            break;
        case GOT_END:
            begin_close(cl, RILL_WS_CLOSE_NORMAL, 0);
            break;
        case GOT_DATA:
            break;
        case GOT_WRITE:
            cl->want_write = false;
            break;
        case GOT_READ:
            on_readable(cl);
            break;
        default: /* GOT_TIMER */
            if (cl->closing) {
                /* the close did not get out in time */
                cl->done = rill_now() >= cl->deadline;
            } else if (cl->ping_out &&
                       rill_now() >= cl->ping_at + cl->hub->cfg.pong_timeout) {
                cl->end_rc = RILL_ETIMEDOUT; /* no pong: the peer is gone */
                cl->done = true;
            } else if (cl->nb == 0 && cl->hub->cfg.keepalive > 0 &&
                       rill_now() >= cl->last_write + cl->hub->cfg.keepalive) {
                keepalive(cl);
            }
            break;
        }
    }
    cl->done = true;
    return 0;
}

/* ---- a client: start and end ---- */

/* The Last-Event-ID the client sent: the header, or (for a WebSocket,
 * which cannot send headers from a browser) the query parameter
 * last_event_id. */
static bool last_event_id(const rill_http_request_t *req, rill_http_str_t *id)
{
    const rill_http_header_t *hd =
        rill_http_request_header(req, "last-event-id");
    if (hd) {
        *id = hd->value;
        return true;
    }
    static const char key[] = "last_event_id=";
    const char *q = req->query.ptr;
    size_t n = req->query.len, k = sizeof key - 1;
    for (size_t i = 0; i + k <= n; i++) {
        if ((i == 0 || q[i - 1] == '&') && memcmp(q + i, key, k) == 0) {
            size_t j = i + k;
            while (j < n && q[j] != '&')
                j++;
            *id = (rill_http_str_t){q + i + k, j - i - k};
            return true;
        }
    }
    return false;
}

/* Join the hub (under lock): queue the events after the client's
 * Last-Event-ID, if it sent one. */
static void join(rill_hub_t *h, client_t *cl, const rill_http_request_t *req)
{
    cl->id = ++h->next_id;
    rill__list_push_back(&h->clients, &cl->link);
    rill__fetch_add(&h->n_clients, 1, RILL_RELAXED);
    rill__fetch_add(cl->proto == RILL_HUB_SSE ? &h->n_sse : &h->n_ws, 1,
                    RILL_RELAXED);
    rill__fetch_add(&h->n_total, 1, RILL_RELAXED);
    rill_http_str_t id;
    if (!last_event_id(req, &id))
        return;
    uint64_t tail = h->head > h->cap ? h->head - h->cap : 0, from = tail;
    bool found = false;
    for (uint64_t s = h->head; s > tail; s--) {
        const entry_t *e = &h->ring[(s - 1) % h->cap];
        if (e->id.len == id.len &&
            (id.len == 0 || memcmp(e->id.ptr, id.ptr, id.len) == 0)) {
            from = s;
            found = true;
            break;
        }
    }
    if (!found)
        cl->lost_unknown = true;
    for (uint64_t s = from; s < h->head; s++)
        offer(h, cl, wire_of(cl, &h->ring[s % h->cap]), true);
}

static void leave(rill_hub_t *h, client_t *cl)
{
    pthread_mutex_lock(&h->lock);
    rill__list_remove(&cl->link);
    q_clear(h, cl);
    rill__fetch_sub(&h->n_clients, 1, RILL_RELAXED);
    rill__fetch_sub(cl->proto == RILL_HUB_SSE ? &h->n_sse : &h->n_ws, 1,
                    RILL_RELAXED);
    wake_publishers(h); /* a BLOCK client no longer holds them */
    pthread_mutex_unlock(&h->lock);
}

static int send_head(client_t *cl, const rill_ws_handshake_t *hs)
{
    char b[512];
    size_t n;
    if (cl->proto == RILL_HUB_WS) {
        n = rill_ws_handshake_response(hs, b, sizeof b);
    } else {
        int k = snprintf(b, sizeof b,
                         "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream"
                         "\r\nCache-Control: no-cache\r\nConnection: close"
                         "\r\n\r\n");
        if (cl->hub->cfg.retry_ms > 0)
            k += snprintf(b + k, sizeof b - (size_t)k, "retry: %lld\n\n",
                          (long long)cl->hub->cfg.retry_ms);
        n = (size_t)k;
    }
    return n ? rill_io_write_all(cl->io, b, n, NULL) : RILL_EINVAL;
}

static void refuse(rill_http_conn_t *c, int status, const char *extra,
                   const char *why)
{
    rill_http_response_t r = {status, "text/plain", extra, why, strlen(why)};
    /* The connection closes after this reply: if it cannot be sent,
     * there is nobody left to tell. */
    RILL__DISCARD(rill_http_send_response(c, &r));
}

/* Awaited by rill_hub_serve: the caller cleans up. */
static const rill_future_vtable_t serve_vtable = {serve_poll, NULL, NULL,
                                                  client_describe};

static void serve_task_drop(rill_future_t *f);

/* The stackless task of rill_hub_attach: its drop ends everything. */
static const rill_future_vtable_t serve_task_vtable = {
    serve_poll, NULL, serve_task_drop, client_describe};

/* Everything up to serving: the handshake (refused: answered, and
 * RILL_EPROTO), the client, the response head, joining the hub. On
 * failure nothing is left behind. */
static int client_start(const char *api, rill_hub_t *h, rill_http_conn_t *c,
                        const rill_http_request_t *req,
                        const rill_hub_client_config_t *cfg, client_t **out)
{
    if (!h || !c || !req)
        return RILL_MISUSE(api, "NULL argument");
    if (cfg && !policy_valid(cfg->policy))
        return RILL_MISUSE(api, "unknown policy %d", (int)cfg->policy);
    rill_ws_handshake_t hs;
    bool ws = req->upgrade;
    if (ws && rill_ws_handshake(req, &hs, &h->cfg.ws_handshake) != 0) {
        refuse(c, hs.status,
               hs.status == 426 ? "Sec-WebSocket-Version: 13\r\n" : NULL,
               hs.error);
        return RILL_EPROTO;
    }
    client_t *cl = rill__calloc(1, sizeof *cl);
    if (!cl) {
        refuse(c, 503, NULL, "out of memory\n");
        return RILL_ENOMEM;
    }
    cl->hub = h;
    cl->c = c;
    cl->io = rill_http_conn_io(c);
    cl->proto = ws ? RILL_HUB_WS : RILL_HUB_SSE;
    cl->policy = cfg && cfg->policy ? cfg->policy : h->cfg.policy;
    cl->budget = cfg && cfg->budget ? cfg->budget : h->cfg.budget;
    if (ws) {
        rill_ws_decoder_config_t dc = {h->cfg.ws_max_message,
                                       h->cfg.ws_max_message, RILL_WS_SERVER};
        if (rill_ws_decoder_init(&cl->dec, &dc) != 0) {
            rill__free(cl);
            refuse(c, 503, NULL, "out of memory\n");
            return RILL_ENOMEM;
        }
        cl->dec_init = true;
    }
    const char *rest;
    size_t rest_len;
    rill__http_conn_take(c, &rest, &rest_len);
    int rc = send_head(cl, ws ? &hs : NULL);
    if (rc != 0) {
        if (cl->dec_init)
            rill_ws_decoder_destroy(&cl->dec);
        rill__free(cl);
        return rc;
    }
    /* relaxed: a new reference from the owner's, which the route keeps
     * alive while handlers run (as Arc). */
    rill__fetch_add(&h->refs, 1, RILL_RELAXED);
    pthread_mutex_lock(&h->lock);
    join(h, cl, req);
    pthread_mutex_unlock(&h->lock);
    cl->last_write = rill_now();
    /* Bytes after the request: a WebSocket client that sent frames before
     * it had our 101 (RFC 6455 4.1: it must wait): 1002. An SSE client has
     * nothing to send: the response ends. */
    if (rest_len > 0)
        begin_close(cl, RILL_WS_CLOSE_PROTOCOL_ERROR, RILL_EPROTO);
    *out = cl;
    return 0;
}

/* The end of a served client: out of the hub, every operation withdrawn,
 * every reference released, the client freed. */
static void client_finish(client_t *cl)
{
    rill_hub_t *h = cl->hub;
    leave(h, cl);
    if (cl->rd_armed)
        rill_future_cancel(&cl->rd.base);
    if (cl->wr_armed)
        rill_future_cancel(&cl->wr.base);
    if (cl->timer_armed)
        rill_sleep_op_cancel(&cl->timer);
    for (int i = cl->wi; i < cl->nb; i++)
        rill_bytes_release(&cl->slots[i].b);
    if (cl->inflight) { /* what the batch held when it ended */
        pthread_mutex_lock(&h->lock);
        count_queued(h, cl, -(int64_t)cl->inflight);
        cl->inflight = 0;
        pthread_mutex_unlock(&h->lock);
    }
    rill_bytes_release(&cl->ctl);
    rill_waker_release(&cl->waker);
    rill__free(cl->q);
    rill__free(cl->slots);
    if (cl->dec_init)
        rill_ws_decoder_destroy(&cl->dec);
    rill__free(cl);
    hub_release(h);
}

static void serve_task_drop(rill_future_t *f)
{
    client_t *cl = RILL_CONTAINER_OF(f, client_t, fut);
    rill_http_conn_t *c = cl->c;
    client_finish(cl);
    rill__http_conn_end(c);
}

int rill_hub_serve(rill_hub_t *h, rill_http_conn_t *c,
                   const rill_http_request_t *req,
                   const rill_hub_client_config_t *cfg)
{
    client_t *cl;
    int rc = client_start("rill_hub_serve", h, c, req, cfg, &cl);
    if (rc != 0)
        return rc;
    cl->fut.vtable = &serve_vtable;
    rc = rill_await(&cl->fut);
    rc = rc != 0 ? rc : cl->end_rc; /* RILL_ECANCELED, or the story */
    client_finish(cl);
    return rc;
}

int rill_hub_attach(rill_hub_t *h, rill_http_conn_t *c,
                    const rill_http_request_t *req,
                    const rill_hub_client_config_t *cfg)
{
    client_t *cl;
    int rc = client_start("rill_hub_attach", h, c, req, cfg, &cl);
    if (rc != 0)
        return rc;
    cl->fut.vtable = &serve_task_vtable;
    rill__http_conn_handoff(c, &cl->fut);
    return 0;
}

int rill_hub_handler(void *ud, rill_http_conn_t *c,
                     const rill_http_request_t *req)
{
    /* The status is the client's story (refused); the connection is the
     * hub's, or closes, after it whatever it was. */
    RILL__DISCARD(rill_hub_attach(ud, c, req, NULL));
    return -1;
}

/* ---- counters ---- */

int rill_hub_stats(rill_hub_t *h, rill_hub_stats_t *st)
{
    if (!h || !st)
        return RILL_MISUSE("rill_hub_stats", "NULL argument");
    *st = (rill_hub_stats_t){
        rill__load(&h->n_clients, RILL_RELAXED),
        rill__load(&h->n_sse, RILL_RELAXED),
        rill__load(&h->n_ws, RILL_RELAXED),
        rill__load(&h->n_total, RILL_RELAXED),
        rill__load(&h->published, RILL_RELAXED),
        rill__load(&h->bytes_queued, RILL_RELAXED),
        rill__load(&h->sent, RILL_RELAXED),
        rill__load(&h->bytes_sent, RILL_RELAXED),
        rill__load(&h->dropped, RILL_RELAXED),
        rill__load(&h->disconnected, RILL_RELAXED),
        rill__load(&h->publish_waits, RILL_RELAXED),
    };
    return 0;
}

int rill_hub_clients(rill_hub_t *h, rill_hub_client_stats_t *out, size_t max,
                     size_t *n)
{
    if (!h || !n || (!out && max))
        return RILL_MISUSE("rill_hub_clients", "NULL argument");
    *n = 0;
    pthread_mutex_lock(&h->lock);
    for (rill__list_t *l = h->clients.next; l != &h->clients && *n < max;
         l = l->next) {
        const client_t *cl = RILL_CONTAINER_OF(l, client_t, link);
        out[(*n)++] = (rill_hub_client_stats_t){
            cl->id,
            cl->proto,
            cl->policy,
            cl->budget,
            cl->qbytes + cl->inflight,
            rill__load(&cl->a_queued_max, RILL_RELAXED),
            cl->qlen,
            rill__load(&cl->a_sent, RILL_RELAXED),
            rill__load(&cl->a_bytes_sent, RILL_RELAXED),
            rill__load(&cl->a_dropped, RILL_RELAXED),
            cl->kicked,
        };
    }
    pthread_mutex_unlock(&h->lock);
    return 0;
}

/* A growing text buffer for the JSON. */
typedef struct text {
    char *p;
    size_t len, cap;
    bool oom;
} text_t;

static void put(text_t *t, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void put(text_t *t, const char *fmt, ...)
{
    for (;;) {
        if (t->oom)
            return;
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(t->p ? t->p + t->len : NULL,
                          t->p ? t->cap - t->len : 0, fmt, ap);
        va_end(ap);
        if (n < 0) {
            t->oom = true;
            return;
        }
        if (t->p && t->len + (size_t)n < t->cap) {
            t->len += (size_t)n;
            return;
        }
        size_t cap = (t->cap ? t->cap : 256) * 2 + (size_t)n;
        char *p = rill__realloc(t->p, cap);
        if (!p) {
            t->oom = true;
            return;
        }
        t->p = p;
        t->cap = cap;
    }
}

/* The hub's name as a JSON string (quotes, backslashes, controls). */
static void put_name(text_t *t, const char *s)
{
    put(t, "\"");
    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch == '"' || ch == '\\')
            put(t, "\\%c", ch);
        else if (ch < 0x20)
            put(t, "\\u%04x", ch);
        else
            put(t, "%c", ch);
    }
    put(t, "\"");
}

int rill_hub_stats_json(rill_hub_t *h, rill_bytes_t *json)
{
    if (!json)
        return RILL_MISUSE("rill_hub_stats_json", "NULL argument");
    *json = RILL_BYTES_EMPTY;
    rill_hub_stats_t st;
    if (!h || rill_hub_stats(h, &st) != 0)
        return RILL_MISUSE("rill_hub_stats_json", "NULL argument");
    size_t max = (size_t)st.clients + 16, n = 0;
    rill_hub_client_stats_t *cs = rill__malloc(max * sizeof *cs);
    if (!cs)
        return RILL_ENOMEM;
    RILL__DISCARD(rill_hub_clients(h, cs, max, &n)); /* arguments checked */
    text_t t = {0};
    put(&t, "{\"name\":");
    put_name(&t, h->name);
    put(&t,
        ",\"policy\":\"%s\",\"budget\":%zu,\"clients\":%" PRIu64
        ",\"sse_clients\":%" PRIu64 ",\"ws_clients\":%" PRIu64
        ",\"clients_total\":%" PRIu64 ",\"published\":%" PRIu64
        ",\"bytes_queued\":%" PRIu64 ",\"events_sent\":%" PRIu64
        ",\"bytes_sent\":%" PRIu64 ",\"dropped\":%" PRIu64
        ",\"disconnected\":%" PRIu64 ",\"publish_waits\":%" PRIu64
        ",\"client_list\":[",
        rill_hub_policy_name(h->cfg.policy), h->cfg.budget, st.clients,
        st.sse_clients, st.ws_clients, st.clients_total, st.published,
        st.bytes_queued, st.events_sent, st.bytes_sent, st.dropped,
        st.disconnected, st.publish_waits);
    for (size_t i = 0; i < n; i++)
        put(&t,
            "%s{\"id\":%" PRIu64 ",\"protocol\":\"%s\",\"policy\":\"%s\","
            "\"budget\":%zu,\"bytes_queued\":%" PRIu64
            ",\"bytes_queued_max\":%" PRIu64 ",\"events_queued\":%" PRIu64
            ",\"events_sent\":%" PRIu64 ",\"bytes_sent\":%" PRIu64
            ",\"dropped\":%" PRIu64 ",\"disconnected\":%s}",
            i ? "," : "", cs[i].id,
            cs[i].protocol == RILL_HUB_SSE ? "sse" : "ws",
            rill_hub_policy_name(cs[i].policy), cs[i].budget,
            cs[i].bytes_queued, cs[i].bytes_queued_max, cs[i].events_queued,
            cs[i].events_sent, cs[i].bytes_sent, cs[i].dropped,
            cs[i].disconnected ? "true" : "false");
    put(&t, "]}\n");
    rill__free(cs);
    int rc = t.oom ? RILL_ENOMEM : rill_bytes_new(json, t.p, t.len);
    rill__free(t.p);
    return rc;
}

int rill_hub_stats_handler(void *ud, rill_http_conn_t *c,
                           const rill_http_request_t *req)
{
    (void)req;
    rill_bytes_t json;
    int rc = rill_hub_stats_json(ud, &json);
    if (rc != 0)
        return rill_http_respond(c, 500, "text/plain", "no memory\n", 10);
    rc = rill_http_respond(c, 200, "application/json", json.ptr, json.len);
    rill_bytes_release(&json);
    return rc;
}
