/* SPDX-License-Identifier: MIT */
/*
 * oneshot_stream.c - rill_oneshot_into_stream: a oneshot receiver as a
 * stream of at most one item. The receiver is released as soon as the
 * value was taken or the sender went without sending.
 */
#include "stream_int.h"
#include "sync/describe.h"

typedef struct oneshot_stream {
    rill_stream_t base;
    rill_oneshot_receiver_t *rx; /* NULL once the stream ended */
} oneshot_stream_t;

static int oneshot_poll_next(rill_stream_t *s, rill_cx_t *cx, void *out)
{
    oneshot_stream_t *os = (oneshot_stream_t *)s;
    if (!os->rx)
        return RILL_DONE;
    int r = rill_oneshot_poll_recv(os->rx, cx, out, s->item_size);
    if (r == 0 || r == RILL_DONE) {
        rill_oneshot_receiver_release(os->rx);
        os->rx = NULL;
    }
    return r;
}

static void oneshot_drop(rill_stream_t *s)
{
    rill_oneshot_receiver_release(((oneshot_stream_t *)s)->rx);
    rill__free(s);
}

static int oneshot_describe(const rill_stream_t *s, char *buf, size_t len)
{
    const oneshot_stream_t *os = (const oneshot_stream_t *)s;
    rill__buf_t b;
    rill__buf_init(&b, buf, len);
    rill_channel_stats_t st;
    if (!os->rx || rill_oneshot_stats(NULL, os->rx, &st) != 0)
        rill__buf_printf(&b, "oneshot stream (ended)");
    else
        rill__describe_channel(&b, "oneshot stream", "oneshot", &st);
    return rill__buf_result(&b);
}

static const rill_stream_vtable_t oneshot_vtable = {
    oneshot_poll_next, NULL, oneshot_drop, oneshot_describe};

int rill_oneshot_into_stream(rill_oneshot_receiver_t *rx, size_t item_size,
                             rill_stream_t **out)
{
    if (!rx || !out || item_size == 0)
        return RILL_MISUSE("rill_oneshot_into_stream",
                           "NULL receiver or out, or item_size 0");
    oneshot_stream_t *os =
        rill__stream_new(sizeof *os, &oneshot_vtable, item_size);
    if (!os)
        return RILL_ENOMEM;
    os->rx = rx;
    *out = &os->base;
    return 0;
}
