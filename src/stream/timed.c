/* SPDX-License-Identifier: MIT */
/*
 * timed.c - what timeout and throttle share: a stream over one upstream
 * with one timer (a rill_sleep_op_t in the stream object, re-armed with
 * rill_sleep_op_reset, so timing allocates nothing). Each keeps its own
 * poll function; construction and drop are here once. Drop cancels the
 * timer first: an armed timer sits in the runtime's wheel.
 */
#include "stream_int.h"

int rill__timed_wrap(const char *api, rill_stream_t **s, rill_duration_t period,
                     const rill_stream_vtable_t *vt)
{
    RILL__CHECK_STREAM(api, s);
    if (period <= 0)
        return RILL_MISUSE(api, "period <= 0");
    rill__timed_t *t = rill__stream_new(sizeof *t, vt, (*s)->item_size);
    if (!t)
        return RILL_ENOMEM;
    rill__stream_inherit_drop(&t->base, *s);
    rill_sleep_op(&t->timer, RILL_FOREVER);
    t->period = period;
    t->up = *s;
    *s = &t->base;
    return 0;
}

void rill__timed_drop(rill_stream_t *s)
{
    rill__timed_t *t = (rill__timed_t *)s;
    rill_sleep_op_cancel(&t->timer);
    rill_stream_free(t->up);
    rill__free(t);
}
