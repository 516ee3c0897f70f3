/* SPDX-License-Identifier: MIT */
/*
 * throttle.c - rill_stream_throttle: at most one item per period. After
 * giving an item it does not even poll upstream until the period is over,
 * so upstream (a channel) holds the items back, not us: backpressure, and
 * no buffer here. State and lifetime: timed.c (`armed`: in the quiet
 * time after an item).
 */
#include "stream_int.h"

static int throttle_poll_next(rill_stream_t *s, rill_cx_t *cx, void *out)
{
    rill__timed_t *t = (rill__timed_t *)s;
    if (t->armed) {
        if (rill_future_poll(&t->timer.base, cx) == RILL_PENDING)
            return RILL_PENDING;
        t->armed = false;
    }
    int r = rill_stream_poll_next(t->up, cx, out);
    if (r == 0) {
        rill_sleep_op_reset(&t->timer, rill_deadline(t->period));
        t->armed = true;
    }
    return r;
}

static int throttle_describe(const rill_stream_t *s, char *buf, size_t len)
{
    return rill__describe_over(buf, len, ((const rill__timed_t *)s)->up,
                               "throttle");
}

static const rill_stream_vtable_t throttle_vtable = {
    throttle_poll_next, NULL, rill__timed_drop, throttle_describe};

int rill_stream_throttle(rill_stream_t **s, rill_duration_t period)
{
    return rill__timed_wrap("rill_stream_throttle", s, period,
                            &throttle_vtable);
}
