/* SPDX-License-Identifier: MIT */
/*
 * receiver.c - rill_receiver_into_stream: an mpsc receiver (bounded,
 * rendezvous or unbounded) as a stream. A thin shell: poll_next is
 * rill_poll_recv, the batch path is rill_poll_recv_many (one
 * synchronisation per batch), drop releases the receiver (senders then
 * fail with RILL_ECLOSED; buffered items go to the channel's destructor),
 * and the stream's items get the channel's destructor.
 */
#include "stream_int.h"
#include "sync/sync.h"

typedef struct receiver_stream {
    rill_stream_t base;
    rill_receiver_t *rx;
} receiver_stream_t;

static int receiver_poll_next(rill_stream_t *s, rill_cx_t *cx, void *out)
{
    return rill_poll_recv(((receiver_stream_t *)s)->rx, cx, out, s->item_size);
}

static int receiver_poll_next_many(rill_stream_t *s, rill_cx_t *cx, void *out,
                                   size_t max, size_t *n)
{
    return rill_poll_recv_many(((receiver_stream_t *)s)->rx, cx, out, max, n,
                               s->item_size);
}

static void receiver_drop(rill_stream_t *s)
{
    rill_receiver_release(((receiver_stream_t *)s)->rx);
    rill__free(s);
}

static const rill_stream_vtable_t receiver_vtable = {
    receiver_poll_next, receiver_poll_next_many, receiver_drop};

int rill_receiver_into_stream(rill_receiver_t *rx, rill_stream_t **out)
{
    if (!rx || !out || rill_receiver_item_size(rx) == 0)
        return RILL_MISUSE("rill_receiver_into_stream",
                           "NULL or released receiver, or NULL out");
    receiver_stream_t *rs = rill__stream_new(sizeof *rs, &receiver_vtable,
                                             rill_receiver_item_size(rx));
    if (!rs)
        return RILL_ENOMEM;
    rill__receiver_item_dtor(rx, &rs->base.item_dtor, &rs->base.item_dtor_ud);
    rs->rx = rx;
    *out = &rs->base;
    return 0;
}
