/* SPDX-License-Identifier: MIT */
/*
 * ahead.c - read-ahead for the channel streams (mpsc receiver, broadcast
 * receiver): a poll for one item takes up to `room` ready items from the
 * channel in one batch receive (one synchronisation, one set of argument
 * checks) and gives the rest on the next polls, which cost a copy and a
 * budget unit. rill_next takes them without building a future at all
 * (rill__ahead_take), which is what makes a channel drained as a stream
 * cost about what a bare receive costs. The cooperative budget is spent
 * by the batch receive that fills the buffer (one unit per batch, as for
 * any batch operation), not again per item given from it: a consumer
 * that never waits still yields after 128 batches, a few tens of
 * microseconds of work.
 *
 * room is small next to the channel's capacity (rill__ahead_room), so a
 * producer never finds much more buffer than the capacity it asked for;
 * rendezvous and tiny channels read no ahead at all (room 1).
 */
#include "stream_int.h"
#include "sync/sync.h"

enum {
    AHEAD_ITEMS = 64,   /* at most this many items read ahead */
    AHEAD_BYTES = 4096, /* and at most this many bytes */
    AHEAD_CAP_SHARE = 8 /* and at most 1/8 of a bounded capacity */
};

size_t rill__ahead_room(size_t capacity, size_t item_size)
{
    size_t room = AHEAD_ITEMS;
    if (capacity != RILL_UNBOUNDED && capacity / AHEAD_CAP_SHARE < room)
        room = capacity / AHEAD_CAP_SHARE;
    if (AHEAD_BYTES / item_size < room)
        room = AHEAD_BYTES / item_size;
    return room < 2 ? 1 : room;
}

int rill__ahead_init(rill__ahead_stream_t *as, rill__pull_fn pull, size_t room)
{
    as->pull = pull;
    as->room = room;
    as->head = as->len = 0;
    as->buf = NULL;
    if (room > 1 && !(as->buf = rill__malloc(room * as->base.item_size)))
        return RILL_ENOMEM;
    return 0;
}

/* Give up to max read-ahead items; returns how many. */
static size_t give(rill__ahead_stream_t *as, void *out, size_t max)
{
    size_t k = as->len < max ? as->len : max, isz = as->base.item_size;
    memcpy(out, as->buf + as->head * isz, k * isz);
    as->head += k;
    as->len -= k;
    return k;
}

int rill__ahead_poll_next(rill_stream_t *s, rill_cx_t *cx, void *out)
{
    rill__ahead_stream_t *as = (rill__ahead_stream_t *)s;
    size_t n;
    if (as->room == 1)
        return as->pull(s, cx, out, 1, &n);
    if (as->len) {
        if (!rill__cx_ready(cx))
            return RILL_PENDING;
        give(as, out, 1);
        return 0;
    }
    int r = as->pull(s, cx, as->buf, as->room, &n);
    if (r == 0) {
        as->head = 0;
        as->len = n;
        give(as, out, 1);
    }
    return r;
}

int rill__ahead_poll_next_many(rill_stream_t *s, rill_cx_t *cx, void *out,
                               size_t max, size_t *n)
{
    rill__ahead_stream_t *as = (rill__ahead_stream_t *)s;
    if (as->len) {
        if (!rill__cx_ready(cx))
            return RILL_PENDING;
        *n = give(as, out, max);
        return 0;
    }
    return as->pull(s, cx, out, max, n);
}

void rill__ahead_fini(rill__ahead_stream_t *as)
{
    rill_stream_t *s = &as->base;
    rill__item_drop_t d = rill__item_drop_of(s);
    if (as->len)
        rill__items_drop(&d, as->buf + as->head * s->item_size, as->len,
                         s->item_size);
    as->len = 0;
    rill__free(as->buf);
    as->buf = NULL;
}

void rill__ahead_describe_tail(const rill__ahead_stream_t *as, rill__buf_t *b)
{
    if (as->len)
        rill__buf_printf(b, ", %zu read ahead", as->len);
}
