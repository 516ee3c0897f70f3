/* SPDX-License-Identifier: MIT */
/*
 * select_all.c - rill_stream_select_all: the items of many streams as
 * they come, fairly, polling only the streams that were woken (O(woken)
 * per poll, not O(n): tokio's StreamMap polls them all).
 *
 * How: each substream is polled with a waker of its own, whose data is
 * its node. Waking a node pushes it on a lock-free ready stack (once: the
 * `queued` flag) and then wakes the consumer's waker. A poll moves the
 * ready stack, in wake order, to the back of a private FIFO and polls
 * substreams from the front: a substream that gave an item goes to the
 * back again (it may have more), so a hot stream takes turns with the
 * others (round robin, per batch). A substream that returned PENDING is
 * not polled again until its waker fires.
 *
 * `queued` says where a node is: 1 while it is on the ready stack or in
 * the FIFO, 0 while it waits for its waker, so a node is never in two
 * places and the FIFO needs room for n indices only. The consumer clears
 * it just before polling the substream; a wake during or after that poll
 * sets it and pushes the node again.
 *
 * Lifetime: wakers may outlive the stream (a substream registered one in
 * a channel), so nodes live in a reference-counted block: the stream
 * holds one reference, each waker clone one.
 *
 * The consumer's waker is registered only when the poll is about to
 * return PENDING, then the ready stack is checked once more: a wake that
 * came in between is seen there, so none is lost, and polls that find
 * items take no lock at all.
 *
 * Turns: an input's turn is one batch of up to TURN_ITEMS items (its
 * batch path), even when the consumer asks for one item at a time; the
 * rest of the turn waits in `ahead` and is given before any other input
 * is polled. Freeing a channel's slots a block at a time lets a blocked
 * producer refill them in one go instead of being woken per item (about
 * ten times the throughput with eight producers), at the price of reading
 * ahead at most one turn.
 */
#include "stream_int.h"
#include "core/atomic.h"

#include <pthread.h>

typedef struct sel_shared sel_shared_t;

typedef struct sel_node {
    sel_shared_t *sh;
    struct sel_node *next;   /* link on the ready stack */
    _Atomic uint32_t queued; /* see the file comment */
    uint32_t index;
} sel_node_t;

struct sel_shared {
    _Atomic uint32_t refs;       /* the stream + one per waker clone */
    _Atomic(sel_node_t *) ready; /* pushed by wakers, taken by the
                                    poller all at once (no ABA) */
    pthread_mutex_t mu;          /* guards consumer */
    rill_waker_t consumer;       /* the waker of whoever polls us */
    sel_node_t nodes[];
};

/* A turn: at most this many items, and at most this many bytes. */
enum { TURN_ITEMS = 32, TURN_BYTES = 4096 };

typedef struct select_all {
    rill_stream_t base;
    sel_shared_t *sh;
    char *ahead;             /* the rest of a turn: ahead[apos..alen) */
    size_t acap, apos, alen; /* acap items; 1: no read-ahead buffer */
    rill_stream_t **subs;    /* subs[i] NULL once it ended */
    size_t n, live;          /* substreams, and those not ended */
    const char *api;         /* "rill_stream_merge" or _select_all */
    uint32_t *fifo;          /* ring of node indices to poll, capacity n */
    size_t head, len;
} select_all_t;

/* ---- the node wakers ---- */

static void shared_unref(sel_shared_t *sh)
{
    /* acq_rel: the last holder sees every other holder's accesses before
     * it frees (pairs with the release part of their decrements). */
    if (rill__fetch_sub(&sh->refs, 1, RILL_ACQ_REL) != 1)
        return;
    rill_waker_release(&sh->consumer);
    pthread_mutex_destroy(&sh->mu);
    rill__free(sh);
}

static rill_waker_t node_clone(const void *d);

static void node_wake_by_ref(const void *d)
{
    sel_node_t *node = (sel_node_t *)d;
    sel_shared_t *sh = node->sh;
    /* acq_rel: orders with the poller's clearing store (release), so
     * exactly one of several wakers pushes the node. */
    if (rill__xchg(&node->queued, 1, RILL_ACQ_REL) == 0) {
        node->next = rill__load(&sh->ready, RILL_RELAXED);
        /* release: publishes node->next to the poller's acquire exchange. */
        while (!rill__cas_weak(&sh->ready, &node->next, node, RILL_RELEASE,
                               RILL_RELAXED))
            ;
    }
    pthread_mutex_lock(&sh->mu);
    rill_waker_t w = rill_waker_clone(&sh->consumer);
    pthread_mutex_unlock(&sh->mu);
    rill_waker_wake(&w);
}

static void node_release(const void *d)
{
    shared_unref(((sel_node_t *)d)->sh);
}

static void node_wake(const void *d)
{
    node_wake_by_ref(d);
    node_release(d);
}

static const rill_waker_vtable_t node_waker_vtable = {
    node_clone, node_wake, node_wake_by_ref, node_release};

static rill_waker_t node_clone(const void *d)
{
    /* relaxed: made from a reference that keeps the block alive. */
    rill__fetch_add(&((sel_node_t *)d)->sh->refs, 1, RILL_RELAXED);
    return (rill_waker_t){&node_waker_vtable, d};
}

/* ---- polling ---- */

static void fifo_push(select_all_t *sa, uint32_t i)
{
    RILL_ASSERT(sa->len < sa->n);
    sa->fifo[(sa->head + sa->len++) % sa->n] = i;
}

/* Move the ready stack to the back of the FIFO in wake order. Returns
 * whether anything was moved. */
static bool take_ready(select_all_t *sa)
{
    /* acquire: pairs with the release CAS of node_wake_by_ref. */
    sel_node_t *top = rill__xchg(&sa->sh->ready, NULL, RILL_ACQUIRE);
    sel_node_t *rev = NULL;
    if (!top)
        return false;
    while (top) { /* the stack is newest first: reverse it */
        sel_node_t *next = top->next;
        top->next = rev;
        rev = top;
        top = next;
    }
    for (; rev; rev = rev->next)
        fifo_push(sa, rev->index);
    return true;
}

/* One turn from the inputs: up to max items of one input into out. */
static int poll_inputs(select_all_t *sa, rill_cx_t *cx, void *out, size_t max,
                       size_t *n)
{
    for (int pass = 0;; pass++) {
        take_ready(sa);
        /* Poll each queued node at most once in this pass. */
        for (size_t round = sa->len; round > 0 && sa->live > 0; round--) {
            uint32_t i = sa->fifo[sa->head];
            sa->head = (sa->head + 1) % sa->n;
            sa->len--;
            sel_node_t *node = &sa->sh->nodes[i];
            if (!sa->subs[i])
                continue; /* ended; stays queued so it is never pushed */
            /* release: see node_wake_by_ref. */
            rill__store(&node->queued, 0, RILL_RELEASE);
            rill_waker_t w = {&node_waker_vtable, node};
            rill_cx_t sub_cx = {&w, cx->budget, cx->select};
            int r =
                rill_stream_poll_next_many(sa->subs[i], &sub_cx, out, max, n);
            cx->budget = sub_cx.budget;
            if (r == RILL_PENDING)
                continue;
            if (r == RILL_DONE) {
                rill__stream_release(&sa->subs[i]);
                sa->live--;
                continue;
            }
            /* An item or an error item: it may have more, so it goes to
             * the back - unless a wake already queued it. */
            uint32_t zero = 0;
            if (rill__cas(&node->queued, &zero, 1, RILL_RELAXED, RILL_RELAXED))
                fifo_push(sa, i);
            return r;
        }
        if (sa->live == 0)
            return RILL_DONE;
        /* Every wake from now on reaches the waker registered below; the
         * one more pass takes those that came before it. (Only one: a
         * substream out of cooperative budget wakes itself at once, and
         * must wait for the consumer's next turn.) */
        if (pass == 1)
            return RILL_PENDING;
        pthread_mutex_lock(&sa->sh->mu);
        rill_waker_set(&sa->sh->consumer, cx->waker);
        pthread_mutex_unlock(&sa->sh->mu);
        /* relaxed: a wake that pushed before our unlock is ordered before
         * this load through the mutex (it locks after pushing). */
        if (!rill__load(&sa->sh->ready, RILL_RELAXED))
            return RILL_PENDING;
    }
}

static int select_all_poll_next_many(rill_stream_t *s, rill_cx_t *cx, void *out,
                                     size_t max, size_t *n)
{
    select_all_t *sa = (select_all_t *)s;
    size_t size = s->item_size;
    if (sa->apos == sa->alen) {
        if (max >= sa->acap) /* the caller's array holds a whole turn */
            return poll_inputs(sa, cx, out, max, n);
        size_t k;
        int r = poll_inputs(sa, cx, sa->ahead, sa->acap, &k);
        if (r != 0)
            return r;
        sa->apos = 0;
        sa->alen = k;
    }
    size_t k = sa->alen - sa->apos < max ? sa->alen - sa->apos : max;
    memcpy(out, sa->ahead + sa->apos * size, k * size);
    sa->apos += k;
    *n = k;
    return 0;
}

static void select_all_drop(rill_stream_t *s)
{
    select_all_t *sa = (select_all_t *)s;
    rill__item_drop_t d = rill__item_drop_of(s);
    rill__items_drop(&d, sa->ahead + sa->apos * s->item_size,
                     sa->alen - sa->apos, s->item_size);
    rill__free(sa->ahead);
    for (size_t i = 0; i < sa->n; i++)
        rill_stream_free(sa->subs[i]);
    pthread_mutex_lock(&sa->sh->mu);
    rill_waker_release(&sa->sh->consumer);
    pthread_mutex_unlock(&sa->sh->mu);
    shared_unref(sa->sh);
    rill__free(sa->subs);
    rill__free(sa->fifo);
    rill__free(sa);
}

/* "merge of 2 streams": n and the name are set at construction (the live
 * count changes under polls, so it is left out). */
static int select_all_describe(const rill_stream_t *s, char *buf, size_t len)
{
    const select_all_t *sa = (const select_all_t *)s;
    rill__buf_t b;
    rill__buf_init(&b, buf, len);
    rill__buf_printf(&b, "%s of %zu streams", sa->api + 12, sa->n);
    return rill__buf_result(&b);
}

static const rill_stream_vtable_t select_all_vtable = {
    rill__poll_next_by_many, select_all_poll_next_many, select_all_drop,
    select_all_describe};

int rill__select_all_new(const char *api, rill_stream_t **out,
                         rill_stream_t *const *streams, size_t n)
{
    if (!out || !streams || n == 0 || n > UINT32_MAX)
        return RILL_MISUSE(api, "NULL out or streams, or no streams");
    for (size_t i = 0; i < n; i++) {
        if (!streams[i])
            return RILL_MISUSE(api, "stream %zu is NULL", i);
        if (streams[i]->item_size != streams[0]->item_size)
            return RILL_MISUSE(api,
                               "stream %zu has %zu-byte items, stream 0 "
                               "%zu-byte items",
                               i, streams[i]->item_size, streams[0]->item_size);
    }
    select_all_t *sa =
        rill__stream_new(sizeof *sa, &select_all_vtable, streams[0]->item_size);
    sel_shared_t *sh = NULL;
    if (!sa)
        return RILL_ENOMEM;
    sa->subs = rill__calloc(n, sizeof *sa->subs);
    sa->fifo = rill__calloc(n, sizeof *sa->fifo);
    sa->acap = TURN_BYTES / streams[0]->item_size;
    if (sa->acap > TURN_ITEMS)
        sa->acap = TURN_ITEMS;
    if (sa->acap <= 1)
        sa->acap = 1; /* big items: no read-ahead, one item per poll */
    else if (!(sa->ahead = rill__malloc(sa->acap * streams[0]->item_size)))
        goto free_all;
    if (n <= (SIZE_MAX - sizeof *sh) / sizeof(sel_node_t))
        sh = rill__calloc(1, sizeof *sh + n * sizeof(sel_node_t));
    if (!sa->subs || !sa->fifo || !sh)
        goto free_all;
    if (pthread_mutex_init(&sh->mu, NULL))
        goto free_all;
    rill__store(&sh->refs, 1, RILL_RELAXED); /* not shared yet */
    rill__store(&sh->ready, NULL, RILL_RELAXED);
    sa->sh = sh;
    sa->n = sa->live = n;
    sa->api = api;
    rill__stream_inherit_drop(&sa->base, streams[0]);
    for (size_t i = 0; i < n; i++) {
        sh->nodes[i].sh = sh;
        sh->nodes[i].index = (uint32_t)i;
        /* Every substream starts queued: the first poll polls them all. */
        rill__store(&sh->nodes[i].queued, 1, RILL_RELAXED);
        sa->subs[i] = streams[i];
        fifo_push(sa, (uint32_t)i);
    }
    *out = &sa->base;
    return 0;
free_all:
    rill__free(sh);
    rill__free(sa->ahead);
    rill__free(sa->subs);
    rill__free(sa->fifo);
    rill__free(sa);
    return RILL_ENOMEM;
}

int rill_stream_select_all(rill_stream_t **out, rill_stream_t *const *streams,
                           size_t n)
{
    return rill__select_all_new("rill_stream_select_all", out, streams, n);
}
