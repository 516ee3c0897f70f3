/* SPDX-License-Identifier: MIT */
/*
 * stream_int.h - private to src/stream: what the combinator files share.
 *
 * - Allocating a stream object with its head filled in.
 * - Item destructors copied out of a stream (a combinator keeps its
 *   upstream's destructor even after it dropped the upstream early).
 * - The cooperative budget check for always-ready sources.
 * - The per-item transform engine (xform.c) behind map, filter,
 *   filter_map, scan, inspect, skip, skip_while, take_while, enumerate:
 *   one poll loop and one batch path for all of them, each combinator
 *   only supplying a step function.
 * - The chunk buffer pool (chunk.c) behind chunks, ready_chunks and
 *   chunks_timeout.
 *
 * Intended repetition: every stream type (here, in src/io, src/net and
 * src/bridge) has a drop that frees its upstream and itself and a describe
 * that names itself over its upstream with rill__describe_over. They have
 * one shape and different fields, so `duplicates` pairs them by shape; a
 * macro to write them would hide more than the six lines it saves.
 */
#ifndef RILL_STREAM_INT_H
#define RILL_STREAM_INT_H

#include "core/core.h"
#include "core/describe.h"
#include "rill/stream.h"

#include <string.h>

/* ---- stream objects ---- */

/* A zeroed stream object of `size` bytes whose head is (vt, item_size, no
 * destructor); NULL when out of memory. Freed with rill__free. */
void *rill__stream_new(size_t size, const rill_stream_vtable_t *vt,
                       size_t item_size);

/* Free *up (if any) and clear it: a combinator lets go of its upstream as
 * soon as it knows it will not poll it again, so resources upstream (a
 * receiver, buffered items) are released early. */
static inline void rill__stream_release(rill_stream_t **up)
{
    rill_stream_free(*up);
    *up = NULL;
}

/* ---- read-ahead for the channel streams (ahead.c) ---- */

/* A source's batch receive, as poll_next_many. */
typedef int (*rill__pull_fn)(rill_stream_t *s, rill_cx_t *cx, void *out,
                             size_t max, size_t *n);

/* The head of a stream that reads ahead; its vtable's poll_next and
 * poll_next_many are rill__ahead_poll_next(_many), which is how rill_next
 * recognises it. */
typedef struct rill__ahead_stream {
    rill_stream_t base;
    rill__pull_fn pull; /* the channel's batch receive */
    size_t room;        /* items buf holds; 1 = no read-ahead */
    size_t head, len;   /* buf[head .. head + len) are not yet given */
    char *buf;          /* room * item_size bytes; NULL when room is 1 */
} rill__ahead_stream_t;

/* How many items to read ahead from a channel of `capacity`. */
size_t rill__ahead_room(size_t capacity, size_t item_size);
/* Set up (base already initialised); RILL_ENOMEM. */
int rill__ahead_init(rill__ahead_stream_t *as, rill__pull_fn pull, size_t room);
int rill__ahead_poll_next(rill_stream_t *s, rill_cx_t *cx, void *out);
int rill__ahead_poll_next_many(rill_stream_t *s, rill_cx_t *cx, void *out,
                               size_t max, size_t *n);
/* Destroy the items not given yet (the stream's item destructor) and free
 * the buffer. */
void rill__ahead_fini(rill__ahead_stream_t *as);
/* rill_next's fast path: true when s reads ahead and had an item for out
 * (given without a poll; the batch that filled the buffer spent the
 * budget). */
static inline bool rill__ahead_take(rill_stream_t *s, void *out)
{
    if (s->vtable->poll_next != rill__ahead_poll_next)
        return false;
    rill__ahead_stream_t *as = (rill__ahead_stream_t *)s;
    if (!as->len)
        return false;
    rill__item_copy(out, as->buf + as->head * s->item_size, s->item_size);
    as->head++;
    as->len--;
    return true;
}

/* ---- task dumps ---- */

/* Every stream of rill describes itself through its vtable's describe
 * (rill_stream_describe); combinators with rill__describe_over. The
 * read-ahead streams end theirs with this: ", N read ahead" when the
 * buffer holds items. */
void rill__ahead_describe_tail(const rill__ahead_stream_t *as, rill__buf_t *b);

/* A combinator's name for its describe: its constructor's name without
 * "rill_stream_" ("rill_stream_map" -> "map"). */
static inline const char *rill__stream_api_name(const char *api)
{
    return strncmp(api, "rill_stream_", 12) == 0 ? api + 12 : api;
}

/* poll_next for streams whose real work is in poll_next_many: a batch of
 * one. */
int rill__poll_next_by_many(rill_stream_t *s, rill_cx_t *cx, void *out);

/* Misuse check shared by the combinator constructors: s and *s non-NULL. */
#define RILL__CHECK_STREAM(api, s)                                             \
    do {                                                                       \
        if (!(s) || !*(s))                                                     \
            return RILL_MISUSE((api), "NULL stream");                          \
    } while (0)

/* ---- item destructors ---- */

typedef struct rill__item_drop {
    rill_item_dtor_fn fn; /* NULL: plain data */
    void *ud;
} rill__item_drop_t;

static inline rill__item_drop_t rill__item_drop_of(const rill_stream_t *s)
{
    return (rill__item_drop_t){s->item_dtor, s->item_dtor_ud};
}

/* Release n items of `size` bytes at `items`. */
static inline void rill__items_drop(const rill__item_drop_t *d, void *items,
                                    size_t n, size_t size)
{
    if (!d->fn)
        return;
    for (size_t i = 0; i < n; i++)
        d->fn((char *)items + i * size, d->ud);
}

/* Copy s's destructor into dst (a combinator that keeps the item type). */
static inline void rill__stream_inherit_drop(rill_stream_t *dst,
                                             const rill_stream_t *s)
{
    dst->item_dtor = s->item_dtor;
    dst->item_dtor_ud = s->item_dtor_ud;
}

/* ---- cooperative budget ---- */

/* For sources that are always ready: true if the caller may give its
 * ready result; false after waking the waker, and the caller then
 * returns RILL_PENDING (tokio's coop: a hot stream yields its worker). */
static inline bool rill__cx_ready(rill_cx_t *cx)
{
    if (rill_cx_spend(cx))
        return true;
    rill_waker_wake_by_ref(cx->waker);
    return false;
}

/* ---- the per-item transform engine (xform.c) ---- */

typedef struct rill__xform rill__xform_t;

/* What a step did with one input item. Negative: an error item instead
 * (the input consumed). */
enum {
    RILL__XF_OUT = 0,  /* wrote an output item; the input is consumed */
    RILL__XF_NONE = 1, /* no output; the input is consumed (or released) */
    RILL__XF_END = 2   /* no output and the stream ends; input consumed */
};

/* One step: turn the input item `in` into at most one output item at
 * `out`. The step owns `in` (moves it, or releases it with
 * rill__xform_discard). */
typedef int (*rill__step_fn)(rill__xform_t *x, void *in, void *out);

/* Any callback, stored generically; cast back to its type before the call
 * (casting to and from void (*)(void) is the sanctioned way). */
typedef void (*rill__fn_t)(void);

struct rill__xform {
    rill_stream_t base;
    rill_stream_t *up; /* NULL once upstream ended or was dropped */
    const char *api;   /* the combinator's public call (for task dumps) */
    rill__step_fn step;
    rill__fn_t fn;             /* the user's callback (may be NULL) */
    void *ud;                  /* its user data */
    uint64_t count;            /* per-combinator counter or offset */
    rill__item_drop_t in_drop; /* destructor of upstream's items */
    size_t in_size;
    /* Inputs fetched from upstream in one batch and not stepped yet:
     * scratch[pos..len), capacity cap items. Owner: the polling thread. */
    char *scratch;
    size_t cap, pos, len;
    int pending; /* an error item to give next (0: none) */
    bool done;
};

/* How a transform is made (one static const per combinator). */
typedef struct rill__xform_kind {
    const char *api; /* the public call, for misuse reports */
    rill__step_fn step;
    bool same_type; /* output items are the input items: same size,
                       same destructor */
    bool needs_fn;  /* fn must not be NULL */
} rill__xform_kind_t;

/*
 * Wrap *s in a transform of kind k with output items of out_size bytes
 * (ignored for a same_type kind), callback fn(ud) and initial counter `count`.
 * Returns 0 (*s is the transform); RILL_EINVAL; RILL_ENOMEM (*s
 * untouched, nothing allocated).
 */
int rill__xform_wrap(const rill__xform_kind_t *k, rill_stream_t **s,
                     size_t out_size, rill__fn_t fn, void *ud, uint64_t count);

/* Release one input item (a step that discards its input). */
static inline void rill__xform_discard(rill__xform_t *x, void *in)
{
    rill__items_drop(&x->in_drop, in, 1, x->in_size);
}

/* ---- timed.c: one upstream and one timer (timeout, throttle) ---- */

typedef struct rill__timed {
    rill_stream_t base;
    rill_stream_t *up;
    rill_sleep_op_t timer;
    rill_duration_t period;
    bool armed; /* the timer counts for the current wait or quiet time */
} rill__timed_t;

/* Wrap *s (same item type) in a stream of vtable vt (whose drop is
 * rill__timed_drop) with a timer of `period`. As a combinator: 0, or
 * RILL_EINVAL / RILL_ENOMEM with *s untouched. */
int rill__timed_wrap(const char *api, rill_stream_t **s, rill_duration_t period,
                     const rill_stream_vtable_t *vt);

/* Cancel the timer, drop upstream, free. */
void rill__timed_drop(rill_stream_t *s);

/* ---- map_async.c ---- */

/* map_async with limit 0 allowed when unordered (no limit: for
 * for_each_concurrent). As the public call otherwise. */
int rill__map_async_new(const char *api, rill_stream_t **s, size_t limit,
                        bool ordered, rill_map_fn fn, void *ud,
                        size_t out_size);

/* ---- select_all.c ---- */

/* select_all of streams[0..n) into *out; api names the public call. On
 * failure nothing is taken and *out is untouched. */
int rill__select_all_new(const char *api, rill_stream_t **out,
                         rill_stream_t *const *streams, size_t n);

/* ---- chunk buffers and the chunk filler (chunk.c) ---- */

typedef struct rill__chunk_pool rill__chunk_pool_t;

/*
 * What chunks, ready_chunks and chunks_timeout share: an upstream, a pool
 * of chunk buffers (so steady-state chunking allocates nothing: buffers
 * come back when the consumer frees its chunks) and the chunk being
 * filled. Owner: the chunk stream; touched only by its poller.
 */
typedef struct rill__chunker {
    rill_stream_t *up; /* NULL once upstream ended */
    rill__chunk_pool_t *pool;
    char *buf;       /* the chunk being filled; NULL until needed */
    size_t len, cap; /* items in buf; items per chunk */
    size_t in_size;  /* upstream's item size */
} rill__chunker_t;

/* Set c up over up with cap items per chunk; the chunk stream whose head
 * is `s` gets items of type rill_chunk_t and a destructor for them.
 * Returns 0 or RILL_ENOMEM (nothing taken). On success c owns up. */
int rill__chunker_init(rill__chunker_t *c, rill_stream_t *s, rill_stream_t *up,
                       size_t cap);

/*
 * Fill the chunk from upstream through its batch path until it is full.
 * Returns 0 when full; RILL_PENDING (upstream's waker registered);
 * RILL_DONE when upstream ended (it is dropped); an upstream error item
 * (the chunk keeps its items); RILL_ENOMEM if no buffer could be had.
 */
int rill__chunker_fill(rill__chunker_t *c, rill_cx_t *cx);

/* Hand out the chunk being filled (len > 0) as *out. */
void rill__chunker_emit(rill__chunker_t *c, rill_chunk_t *out);

/* Release a half-filled chunk's items, the buffer, the pool and upstream. */
void rill__chunker_destroy(rill__chunker_t *c);

#endif /* RILL_STREAM_INT_H */
