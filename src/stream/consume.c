/* SPDX-License-Identifier: MIT */
/*
 * consume.c - the consumers that drive a stream to its end on the calling
 * thread or task: for_each, fold and their try_ forms (one item at a
 * time: their function may wait, and items it has not asked for stay
 * upstream, so backpressure stays exact), and count, collect and forward
 * (in batches through the batch path: a batch taken is a batch sent).
 *
 * Every consumer consumes its stream: it is freed on every return path.
 * A negative result of a poll is either an error item or, in a cancelled
 * task, the cancellation of the wait itself; only the latter stops a
 * plain consumer.
 */
#include "stream_int.h"

#include <stddef.h>

/* Items up to this size are awaited into a buffer on the stack. */
enum { STACK_ITEMS_BYTES = 1024 };

typedef union item_buf {
    max_align_t align;
    char bytes[STACK_ITEMS_BYTES];
} item_buf_t;

static bool cancelled(int r)
{
    return r == RILL_ECANCELED && rill_task_is_cancelled();
}

/* Room for at least one item: the stack buffer, or the heap for a big
 * item. Returns NULL when out of memory. */
static void *items_room(item_buf_t *stack, size_t item_size, size_t *cap)
{
    if (item_size <= sizeof *stack) {
        *cap = sizeof *stack / item_size;
        return stack->bytes;
    }
    *cap = 1;
    return rill__malloc(item_size);
}

static void items_room_free(item_buf_t *stack, void *room)
{
    if (room != stack->bytes)
        rill__free(room);
}

static int each(const char *api, rill_stream_t *s, rill_each_fn fn, void *ud,
                bool stop_on_error)
{
    if (!s || !fn) {
        rill_stream_free(s);
        return RILL_MISUSE(api, "NULL stream or function");
    }
    item_buf_t stack;
    size_t cap;
    void *item = items_room(&stack, s->item_size, &cap);
    int r = RILL_ENOMEM;
    while (item) {
        rill_next_op_t op;
        rill_next_op(&op, s, item);
        r = rill_await(&op.base);
        if (r == RILL_DONE) {
            r = 0;
            break;
        }
        if (r < 0 && (stop_on_error || cancelled(r)))
            break;
        r = r < 0 ? fn(ud, r, NULL) : fn(ud, 0, item);
        if (r)
            break;
    }
    items_room_free(&stack, item);
    rill_stream_free(s);
    return r;
}

int rill_stream_for_each(rill_stream_t *s, rill_each_fn fn, void *ud)
{
    return each("rill_stream_for_each", s, fn, ud, false);
}

int rill_stream_try_for_each(rill_stream_t *s, rill_each_fn fn, void *ud)
{
    return each("rill_stream_try_for_each", s, fn, ud, true);
}

int rill_stream_fold(rill_stream_t *s, void *acc, rill_each_fn fn)
{
    return each("rill_stream_fold", s, fn, acc, false);
}

int rill_stream_try_fold(rill_stream_t *s, void *acc, rill_each_fn fn)
{
    return each("rill_stream_try_fold", s, fn, acc, true);
}

/* ---- batch consumers ---- */

/* Takes a batch of n items (they are its own); nonzero stops the drain. */
typedef int (*sink_fn)(void *ctx, rill_stream_t *s, void *items, size_t n);

/* Drain s in batches into sink. Error items are skipped, or with
 * stop_on_error returned; RILL_ENOMEM always stops it: a combinator that
 * could not allocate gives it as an error item each time it is polled,
 * so skipping it would spin for as long as memory stays short. Does not
 * free s. */
static int drain(rill_stream_t *s, bool stop_on_error, sink_fn sink, void *ctx)
{
    item_buf_t stack;
    size_t cap;
    void *items = items_room(&stack, s->item_size, &cap);
    int r = RILL_ENOMEM;
    while (items) {
        size_t n = 0;
        rill_next_op_t op;
        rill_next_many_op(&op, s, items, cap, &n);
        r = rill_await(&op.base);
        if (r == RILL_DONE) {
            r = 0;
            break;
        }
        if (r < 0) {
            if (stop_on_error || cancelled(r) || r == RILL_ENOMEM)
                break;
            continue;
        }
        if ((r = sink(ctx, s, items, n)))
            break;
    }
    items_room_free(&stack, items);
    return r;
}

static int count_sink(void *ctx, rill_stream_t *s, void *items, size_t n)
{
    *(uint64_t *)ctx += n;
    rill__item_drop_t d = rill__item_drop_of(s);
    rill__items_drop(&d, items, n, s->item_size);
    return 0;
}

int rill_stream_count(rill_stream_t *s, uint64_t *n)
{
    if (!s || !n) {
        rill_stream_free(s);
        return RILL_MISUSE("rill_stream_count", "NULL stream or count");
    }
    *n = 0;
    int r = drain(s, false, count_sink, n);
    rill_stream_free(s);
    return r;
}

typedef struct collector {
    rill_chunk_t *out;
    size_t cap; /* items out->items has room for */
} collector_t;

static int collect_sink(void *ctx, rill_stream_t *s, void *items, size_t n)
{
    collector_t *c = ctx;
    rill_chunk_t *out = c->out;
    size_t size = s->item_size;
    if (out->len + n > c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 16, bytes;
        while (cap < out->len + n)
            cap *= 2;
        void *grown = NULL;
        if (rill__mul_ok(cap, size, &bytes))
            grown = rill__realloc(out->items, bytes);
        if (!grown) {
            rill__item_drop_t d = rill__item_drop_of(s);
            rill__items_drop(&d, items, n, size);
            return RILL_ENOMEM;
        }
        out->items = grown;
        c->cap = cap;
    }
    memcpy((char *)out->items + out->len * size, items, n * size);
    out->len += n;
    return 0;
}

static int collect(const char *api, rill_stream_t *s, rill_chunk_t *out,
                   bool stop_on_error)
{
    if (!s || !out) {
        rill_stream_free(s);
        return RILL_MISUSE(api, "NULL stream or out");
    }
    *out = (rill_chunk_t){NULL, 0, s->item_size, NULL};
    collector_t c = {out, 0};
    int r = drain(s, stop_on_error, collect_sink, &c);
    if (r) {
        rill__item_drop_t d = rill__item_drop_of(s);
        rill__items_drop(&d, out->items, out->len, s->item_size);
        rill_chunk_destroy(out);
    }
    rill_stream_free(s);
    return r;
}

int rill_stream_collect(rill_stream_t *s, rill_chunk_t *out)
{
    return collect("rill_stream_collect", s, out, false);
}

int rill_stream_try_collect(rill_stream_t *s, rill_chunk_t *out)
{
    return collect("rill_stream_try_collect", s, out, true);
}

/* ---- forward ---- */

/* Send the whole batch, waiting while the channel is full; on failure the
 * items not sent are released. */
static int forward_sink(void *ctx, rill_stream_t *s, void *items, size_t n)
{
    size_t size = s->item_size, done = 0;
    while (done < n) {
        size_t sent = 0;
        int r = rill_send_many_sized(ctx, (char *)items + done * size, n - done,
                                     &sent, size);
        if (r) {
            rill__item_drop_t d = rill__item_drop_of(s);
            rill__items_drop(&d, (char *)items + done * size, n - done, size);
            return r;
        }
        done += sent;
    }
    return 0;
}

int rill_stream_forward(rill_stream_t *s, rill_sender_t *tx)
{
    int r;
    if (!s || !tx)
        r = RILL_MISUSE("rill_stream_forward", "NULL stream or sender");
    else
        r = drain(s, true, forward_sink, tx);
    rill_stream_free(s);
    rill_sender_release(tx);
    return r;
}
