/* SPDX-License-Identifier: MIT */
/*
 * interval.c - rill_stream_interval: a tick every period, as a stream of
 * the ticks' scheduled instants. The first tick is at the first poll; the
 * rest follow the missed-tick policy when the consumer falls behind
 * (tokio's MissedTickBehavior). One rill_sleep_op_t, re-armed per tick,
 * so ticking allocates nothing.
 */
#include "stream_int.h"

typedef struct interval {
    rill_stream_t base;
    rill_sleep_op_t timer; /* armed for `next` once started */
    rill_instant_t next;   /* the next tick's scheduled instant */
    rill_duration_t period;
    rill_tick_policy_t policy;
    bool started;
} interval_t;

static int interval_poll_next(rill_stream_t *s, rill_cx_t *cx, void *out)
{
    interval_t *iv = (interval_t *)s;
    if (!iv->started) {
        iv->next = rill_now();
        rill_sleep_op(&iv->timer, iv->next);
        iv->started = true;
    }
    if (rill_future_poll(&iv->timer.base, cx) == RILL_PENDING)
        return RILL_PENDING;
    /* A tick that is due is always ready: spend budget like any source
     * that is, so a burst of missed ticks cannot starve the worker. */
    if (!rill__cx_ready(cx))
        return RILL_PENDING;
    rill_instant_t tick = iv->next, now = rill_now();
    switch (iv->policy) {
    case RILL_TICK_DELAY:
        iv->next = now + iv->period;
        break;
    case RILL_TICK_SKIP:
        /* The first instant of the schedule that is still ahead. */
        iv->next = tick + iv->period * ((now - tick) / iv->period + 1);
        break;
    default: /* RILL_TICK_BURST: every missed tick, one after another */
        iv->next = tick + iv->period;
        break;
    }
    rill_sleep_op_reset(&iv->timer, iv->next);
    *(rill_instant_t *)out = tick;
    return 0;
}

static void interval_drop(rill_stream_t *s)
{
    interval_t *iv = (interval_t *)s;
    rill_sleep_op_cancel(&iv->timer);
    rill__free(iv);
}

static int interval_describe(const rill_stream_t *s, char *buf, size_t len)
{
    rill__buf_t b;
    rill__buf_init(&b, buf, len);
    rill__buf_printf(&b, "interval every ");
    rill__buf_duration(&b, ((const interval_t *)s)->period);
    return rill__buf_result(&b);
}

static const rill_stream_vtable_t interval_vtable = {
    interval_poll_next, NULL, interval_drop, interval_describe};

int rill_stream_interval(rill_stream_t **out, rill_duration_t period,
                         rill_tick_policy_t policy)
{
    if (!out || period <= 0 || (unsigned)policy > RILL_TICK_SKIP)
        return RILL_MISUSE("rill_stream_interval",
                           "NULL out, period <= 0 or unknown policy");
    interval_t *iv =
        rill__stream_new(sizeof *iv, &interval_vtable, sizeof(rill_instant_t));
    if (!iv)
        return RILL_ENOMEM;
    rill_sleep_op(&iv->timer, RILL_FOREVER); /* so drop may cancel it */
    iv->period = period;
    iv->policy = policy;
    *out = &iv->base;
    return 0;
}
