/* SPDX-License-Identifier: MIT */
/*
 * broadcast_stream.c - rill_broadcast_into_stream: a broadcast receiver
 * as a stream. A receiver that lagged behind (lag mode) gives the error
 * item RILL_ELAGGED, then goes on from the oldest item kept; the number
 * missed is kept here for rill_broadcast_stream_missed, since an error
 * item is only a code. Batch path: rill_broadcast_poll_recv_many; one
 * item at a time reads ahead (ahead.c).
 */
#include "stream_int.h"
#include "sync/describe.h"

typedef struct broadcast_stream {
    rill__ahead_stream_t ahead;    /* reads ahead (ahead.c) */
    rill_broadcast_receiver_t *rx; /* NULL once the stream ended */
    uint64_t missed;               /* at the latest RILL_ELAGGED */
} broadcast_stream_t;

static int broadcast_pull(rill_stream_t *s, rill_cx_t *cx, void *out,
                          size_t max, size_t *n)
{
    broadcast_stream_t *bs = (broadcast_stream_t *)s;
    if (!bs->rx)
        return RILL_DONE;
    uint64_t missed = 0;
    int r = rill_broadcast_poll_recv_many(bs->rx, cx, out, max, s->item_size, n,
                                          &missed);
    if (r == RILL_ELAGGED)
        bs->missed = missed;
    if (r == RILL_DONE) {
        rill_broadcast_receiver_release(bs->rx);
        bs->rx = NULL;
    }
    return r;
}

static int broadcast_describe(const rill_stream_t *s, char *buf, size_t len)
{
    const broadcast_stream_t *bs = (const broadcast_stream_t *)s;
    rill__buf_t b;
    rill__buf_init(&b, buf, len);
    rill_channel_stats_t st;
    if (!bs->rx || rill_broadcast_stats(NULL, bs->rx, &st) != 0)
        rill__buf_printf(&b, "broadcast stream (ended)");
    else
        rill__describe_channel(&b, "broadcast stream", "broadcast", &st);
    rill__ahead_describe_tail(&bs->ahead, &b);
    return rill__buf_result(&b);
}

static void broadcast_drop(rill_stream_t *s)
{
    broadcast_stream_t *bs = (broadcast_stream_t *)s;
    rill__ahead_fini(&bs->ahead);
    rill_broadcast_receiver_release(bs->rx);
    rill__free(s);
}

static const rill_stream_vtable_t broadcast_vtable = {
    rill__ahead_poll_next, rill__ahead_poll_next_many, broadcast_drop,
    broadcast_describe};

int rill_broadcast_into_stream(rill_broadcast_receiver_t *rx, size_t item_size,
                               rill_stream_t **out)
{
    if (!rx || !out || item_size == 0)
        return RILL_MISUSE("rill_broadcast_into_stream",
                           "NULL receiver or out, or item_size 0");
    broadcast_stream_t *bs =
        rill__stream_new(sizeof *bs, &broadcast_vtable, item_size);
    if (!bs)
        return RILL_ENOMEM;
    rill_channel_stats_t st;
    size_t room = rill_broadcast_stats(NULL, rx, &st) == 0
                      ? rill__ahead_room(st.capacity, item_size)
                      : 1;
    if (rill__ahead_init(&bs->ahead, broadcast_pull, room)) {
        rill__free(bs);
        return RILL_ENOMEM;
    }
    bs->rx = rx;
    *out = &bs->ahead.base;
    return 0;
}

uint64_t rill_broadcast_stream_missed(const rill_stream_t *s)
{
    if (!s || s->vtable != &broadcast_vtable)
        return 0;
    return ((const broadcast_stream_t *)s)->missed;
}
