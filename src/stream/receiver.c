/* SPDX-License-Identifier: MIT */
/*
 * receiver.c - rill_receiver_into_stream: an mpsc receiver (bounded,
 * rendezvous or unbounded) as a stream. poll_next reads ahead (ahead.c),
 * the batch path is rill_poll_recv_many (one synchronisation per batch),
 * drop releases the receiver (senders then fail with RILL_ECLOSED;
 * buffered and read-ahead items go to the channel's destructor), and the
 * stream's items get the channel's destructor.
 */
#include "stream_int.h"
#include "sync/describe.h"
#include "sync/sync.h"

typedef struct receiver_stream {
    rill__ahead_stream_t ahead; /* reads ahead (ahead.c) */
    rill_receiver_t *rx;
} receiver_stream_t;

static int receiver_pull(rill_stream_t *s, rill_cx_t *cx, void *out, size_t max,
                         size_t *n)
{
    return rill_poll_recv_many(((receiver_stream_t *)s)->rx, cx, out, max, n,
                               s->item_size);
}

static int receiver_describe(const rill_stream_t *s, char *buf, size_t len)
{
    const receiver_stream_t *rs = (const receiver_stream_t *)s;
    rill__buf_t b;
    rill__buf_init(&b, buf, len);
    rill_channel_stats_t st;
    if (rill_receiver_stats(rs->rx, &st) != 0) {
        rill__buf_printf(&b, "receiver stream");
    } else {
        const char *kind = st.capacity == 0                ? "rendezvous"
                           : st.capacity == RILL_UNBOUNDED ? "unbounded"
                                                           : "bounded";
        rill__describe_channel(&b, "receiver stream", kind, &st);
    }
    rill__ahead_describe_tail(&rs->ahead, &b);
    return rill__buf_result(&b);
}

static void receiver_drop(rill_stream_t *s)
{
    receiver_stream_t *rs = (receiver_stream_t *)s;
    rill__ahead_fini(&rs->ahead);
    rill_receiver_release(rs->rx);
    rill__free(s);
}

static const rill_stream_vtable_t receiver_vtable = {
    rill__ahead_poll_next, rill__ahead_poll_next_many, receiver_drop,
    receiver_describe};

int rill_receiver_into_stream(rill_receiver_t *rx, rill_stream_t **out)
{
    if (!rx || !out || rill_receiver_item_size(rx) == 0)
        return RILL_MISUSE("rill_receiver_into_stream",
                           "NULL or released receiver, or NULL out");
    receiver_stream_t *rs = rill__stream_new(sizeof *rs, &receiver_vtable,
                                             rill_receiver_item_size(rx));
    if (!rs)
        return RILL_ENOMEM;
    size_t room = rill__ahead_room(rill_receiver_capacity(rx),
                                   rill_receiver_item_size(rx));
    if (rill__ahead_init(&rs->ahead, receiver_pull, room)) {
        rill__free(rs);
        return RILL_ENOMEM;
    }
    rill__receiver_item_dtor(rx, &rs->ahead.base.item_dtor,
                             &rs->ahead.base.item_dtor_ud);
    rs->rx = rx;
    *out = &rs->ahead.base;
    return 0;
}
