/* SPDX-License-Identifier: MIT */
/*
 * await.c - rill_await: one call that suspends a task or parks a thread.
 */
#include "rt_int.h"

int rill_await_until(rill_future_t *fut, rill_instant_t deadline)
{
    if (!fut || !fut->vtable || !fut->vtable->poll)
        return RILL_MISUSE("rill_await", "NULL future or vtable");
    struct rill_task *t = rill__current_task();
    if (t)
        return rill__task_await(t, fut, deadline);
    if (rill__tls_worker())
        return RILL_MISUSE("rill_await",
                           "called from a stackless future's poll on a "
                           "worker: return RILL_PENDING instead of waiting");
    return rill__thread_await(fut, deadline);
}

int rill_await(rill_future_t *fut)
{
    return rill_await_until(fut, RILL_FOREVER);
}

int rill_await_timeout(rill_future_t *fut, rill_duration_t timeout)
{
    return rill_await_until(fut, rill_deadline(timeout));
}
