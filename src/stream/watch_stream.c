/* SPDX-License-Identifier: MIT */
/*
 * watch_stream.c - rill_watch_into_stream: the current value first, then
 * each change (the newest value at the time it is taken: changes in
 * between are coalesced, as the watch channel promises). Ends when the
 * sender is gone and its last value was given.
 */
#include "stream_int.h"
#include "sync/describe.h"

typedef struct watch_stream {
    rill_stream_t base;
    rill_watch_receiver_t *rx; /* NULL once the stream ended */
    bool started;              /* the current value was given */
} watch_stream_t;

static int watch_poll_next(rill_stream_t *s, rill_cx_t *cx, void *out)
{
    watch_stream_t *ws = (watch_stream_t *)s;
    if (!ws->rx)
        return RILL_DONE;
    if (ws->started) {
        int r = rill_watch_poll_changed(ws->rx, cx);
        if (r == RILL_DONE) {
            rill_watch_receiver_release(ws->rx);
            ws->rx = NULL;
        }
        if (r != 0)
            return r;
    }
    ws->started = true;
    /* Copies the newest value and marks exactly that version seen, so a
     * change after the copy is seen by the next poll. */
    int r = rill_watch_get_and_update_sized(ws->rx, out, s->item_size);
    return r == RILL_EEMPTY ? 0 : r;
}

static void watch_drop(rill_stream_t *s)
{
    rill_watch_receiver_release(((watch_stream_t *)s)->rx);
    rill__free(s);
}

static int watch_describe(const rill_stream_t *s, char *buf, size_t len)
{
    const watch_stream_t *ws = (const watch_stream_t *)s;
    rill__buf_t b;
    rill__buf_init(&b, buf, len);
    rill_channel_stats_t st;
    if (!ws->rx || rill_watch_stats(NULL, ws->rx, &st) != 0)
        rill__buf_printf(&b, "watch stream (ended)");
    else
        rill__describe_channel(&b, "watch stream", "watch", &st);
    return rill__buf_result(&b);
}

static const rill_stream_vtable_t watch_vtable = {watch_poll_next, NULL,
                                                  watch_drop, watch_describe};

int rill_watch_into_stream(rill_watch_receiver_t *rx, size_t item_size,
                           rill_stream_t **out)
{
    if (!rx || !out || item_size == 0)
        return RILL_MISUSE("rill_watch_into_stream",
                           "NULL receiver or out, or item_size 0");
    watch_stream_t *ws = rill__stream_new(sizeof *ws, &watch_vtable, item_size);
    if (!ws)
        return RILL_ENOMEM;
    ws->rx = rx;
    *out = &ws->base;
    return 0;
}
