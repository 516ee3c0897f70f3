/* SPDX-License-Identifier: MIT */
/*
 * rt.h - what higher layers (sync, stream) may call of the runtime beyond
 * the public rill/rt.h. rill__ names; not installed.
 */
#ifndef RILL_RT_RT_H
#define RILL_RT_RT_H

#include "core/core.h"
#include "rill/rt.h"

/* The calling task, or NULL on a plain thread. Safe across migrations:
 * every call reads the current thread's state afresh. */
struct rill_task *rill__current_task(void);

/* The runtime of the calling task, or NULL on a plain thread. */
struct rill_runtime *rill__current_runtime(void);

/*
 * rill__join_shielded - rill_join that waits for the task to finish even
 * when the calling task is cancelled: for teardown that frees what the
 * joined task still uses (returning at the caller's cancellation would
 * free it under the running task). Cancel the joined task first so the
 * wait is short. Returns as rill_join, but never RILL_ECANCELED for the
 * caller's own cancellation (RILL_ECANCELED is then the joined task's
 * status: cancelled before it ran).
 */
int rill__join_shielded(rill_task_t *task, void **result);

/*
 * The fast path of an operation that may complete without waiting: in a
 * task, spend one unit of the cooperative budget and return true, or
 * return false when the budget is (nearly) gone, so the caller takes its
 * waiting path through rill_await, which spends the last unit and yields.
 * On a plain thread: always true. Costs a few ns and no shared-memory
 * access (cancellation is seen on the waiting path; see rill__task_await).
 */
bool rill__coop_spend(void);

/* The I/O reactor (registrations, readiness) for the io layer: see
 * reactor.h. */
#include "reactor.h"

/* CLOCK_MONOTONIC in nanoseconds. */
int64_t rill__mono_now(void);

#endif
