/* SPDX-License-Identifier: MIT */
/*
 * gate.h - a hand-written test stream of int64_t items: the test pushes
 * items, error items and the end from any thread; a poll with nothing
 * queued registers the waker and returns RILL_PENDING, and a push wakes
 * it. Counts its polls (instrumentation for the batch-path tests) and
 * records when it is dropped.
 *
 * The gate object is freed with the stream (which a combinator may do
 * early); whoever pushes must be done before the stream is dropped. The
 * counters live outside it, so they can be read after.
 */
#ifndef RILL_TEST_GATE_H
#define RILL_TEST_GATE_H

#include <pthread.h>
#include <rill.h>
#include <stdatomic.h>
#include <stdlib.h>

typedef struct gate_entry {
    int err; /* 0: an item */
    int64_t v;
} gate_entry_t;

/* What a gate counts. */
typedef struct gate_stats {
    atomic_int polls;      /* poll_next + poll_next_many calls */
    atomic_int many_polls; /* poll_next_many calls */
    atomic_int dropped;    /* 1 once dropped */
} gate_stats_t;

typedef struct gate {
    rill_stream_t base;
    pthread_mutex_t mu; /* guards q, head, len, cap, closed, waker */
    gate_entry_t *q;    /* ring */
    size_t head, len, cap;
    bool closed;
    rill_waker_t waker;
    gate_stats_t *stats; /* may be NULL */
} gate_t;

static void gate_push_entry(gate_t *g, gate_entry_t e)
{
    pthread_mutex_lock(&g->mu);
    if (g->len == g->cap) {
        size_t cap = g->cap ? g->cap * 2 : 16;
        gate_entry_t *q = malloc(cap * sizeof *q);
        for (size_t i = 0; i < g->len; i++)
            q[i] = g->q[(g->head + i) % g->cap];
        free(g->q);
        g->q = q;
        g->head = 0;
        g->cap = cap;
    }
    g->q[(g->head + g->len++) % g->cap] = e;
    rill_waker_t w = g->waker;
    g->waker = RILL_WAKER_NONE;
    pthread_mutex_unlock(&g->mu);
    rill_waker_wake(&w);
}

static inline void gate_push(gate_t *g, int64_t v)
{
    gate_push_entry(g, (gate_entry_t){0, v});
}

static inline void gate_push_err(gate_t *g, int err)
{
    gate_push_entry(g, (gate_entry_t){err, 0});
}

static inline void gate_close(gate_t *g)
{
    pthread_mutex_lock(&g->mu);
    g->closed = true;
    rill_waker_t w = g->waker;
    g->waker = RILL_WAKER_NONE;
    pthread_mutex_unlock(&g->mu);
    rill_waker_wake(&w);
}

/* Up to max items (stops before an error item unless it is first). */
static int gate_take(gate_t *g, rill_cx_t *cx, int64_t *out, size_t max,
                     size_t *n)
{
    int r = 0;
    size_t k = 0;
    pthread_mutex_lock(&g->mu);
    while (k < max && g->len > 0) {
        gate_entry_t e = g->q[g->head];
        if (e.err && k > 0)
            break;
        g->head = (g->head + 1) % g->cap;
        g->len--;
        if (e.err) {
            r = e.err;
            break;
        }
        out[k++] = e.v;
    }
    if (k == 0 && r == 0) {
        if (g->closed)
            r = RILL_DONE;
        else {
            rill_waker_set(&g->waker, cx->waker);
            r = RILL_PENDING;
        }
    }
    pthread_mutex_unlock(&g->mu);
    *n = k;
    return r;
}

static int gate_poll_next(rill_stream_t *s, rill_cx_t *cx, void *out)
{
    gate_t *g = (gate_t *)s;
    size_t n;
    if (g->stats)
        atomic_fetch_add(&g->stats->polls, 1);
    return gate_take(g, cx, out, 1, &n);
}

static int gate_poll_next_many(rill_stream_t *s, rill_cx_t *cx, void *out,
                               size_t max, size_t *n)
{
    gate_t *g = (gate_t *)s;
    if (g->stats) {
        atomic_fetch_add(&g->stats->polls, 1);
        atomic_fetch_add(&g->stats->many_polls, 1);
    }
    return gate_take(g, cx, out, max, n);
}

static void gate_drop(rill_stream_t *s)
{
    gate_t *g = (gate_t *)s;
    if (g->stats)
        atomic_store(&g->stats->dropped, 1);
    rill_waker_release(&g->waker);
    pthread_mutex_destroy(&g->mu);
    free(g->q);
    free(g);
}

static int gate_describe(const rill_stream_t *s, char *buf, size_t len)
{
    return snprintf(buf, len, "test gate%s",
                    s->vtable->poll_next_many ? " (batch)" : "");
}

static const rill_stream_vtable_t gate_vtable_batch = {
    gate_poll_next, gate_poll_next_many, gate_drop, gate_describe};
static const rill_stream_vtable_t gate_vtable_single = {
    gate_poll_next, NULL, gate_drop, gate_describe};

/* A new gate as *s; batch: with a poll_next_many; stats may be NULL. */
static inline gate_t *gate_new(rill_stream_t **s, bool batch,
                               gate_stats_t *stats)
{
    gate_t *g = calloc(1, sizeof *g);
    rill_stream_init(&g->base, batch ? &gate_vtable_batch : &gate_vtable_single,
                     sizeof(int64_t));
    pthread_mutex_init(&g->mu, NULL);
    g->stats = stats;
    *s = &g->base;
    return g;
}

/* Poll s once by hand with a no-op waker. */
static inline int poll_once(rill_stream_t *s, void *out)
{
    rill_cx_t cx = RILL_CX_INIT(rill_waker_noop());
    return rill_stream_poll_next(s, &cx, out);
}

#endif
