/* SPDX-License-Identifier: MIT */
/*
 * timeout.c - rill_stream_timeout: an error item RILL_ETIMEDOUT whenever
 * upstream is silent for a period, then the stream goes on (repeating:
 * one error item per silent period). The period counts from the poll
 * that starts waiting for an item: the first poll, or the first poll
 * after an item or an error item was given. State and lifetime: timed.c
 * (`armed`: the timer counts for the current wait).
 */
#include "stream_int.h"

static int timeout_poll_next(rill_stream_t *s, rill_cx_t *cx, void *out)
{
    rill__timed_t *t = (rill__timed_t *)s;
    if (!t->armed) {
        rill_sleep_op_reset(&t->timer, rill_deadline(t->period));
        t->armed = true;
    }
    int r = rill_stream_poll_next(t->up, cx, out);
    if (r == RILL_PENDING &&
        rill_future_poll(&t->timer.base, cx) == RILL_PENDING)
        return RILL_PENDING; /* both wakers registered */
    t->armed = false;
    rill_sleep_op_cancel(&t->timer);
    return r == RILL_PENDING ? RILL_ETIMEDOUT : r;
}

static int timeout_describe(const rill_stream_t *s, char *buf, size_t len)
{
    return rill__describe_over(buf, len, ((const rill__timed_t *)s)->up,
                               "timeout");
}

static const rill_stream_vtable_t timeout_vtable = {
    timeout_poll_next, NULL, rill__timed_drop, timeout_describe};

int rill_stream_timeout(rill_stream_t **s, rill_duration_t period)
{
    return rill__timed_wrap("rill_stream_timeout", s, period, &timeout_vtable);
}
