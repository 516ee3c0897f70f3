/* SPDX-License-Identifier: MIT */
/*
 * deadlock.h - the deadlock detector as the scheduler and the parker call
 * it (deadlock.c), and the runtime's diagnostics state. rill__ names;
 * private to src/rt.
 */
#ifndef RILL_RT_DEADLOCK_H
#define RILL_RT_DEADLOCK_H

#include "core/core.h"

#include <stdbool.h>
#include <stdint.h>

struct rill_runtime;
struct rill_task;

/* The runtime's diagnostics state (block_on waits, detector, SIGQUIT):
 * rill_runtime_new / rill_runtime_free. */
void rill__diag_init(struct rill_runtime *rt);
void rill__diag_fini(struct rill_runtime *rt);
/*
 * Worker `self`, about to park, is the last one awake: if the runtime
 * looks deadlocked (tasks alive, no timer, no blocking job, every plain
 * thread rill knows parked for good), returns how long to sleep before
 * checking (rill__deadlock_check), and the activity count to compare
 * then in *snap; else RILL_FOREVER (and if only a plain thread was
 * awake, that thread kicks `self` when it parks for good).
 */
rill_duration_t rill__deadlock_arm(struct rill_runtime *rt, unsigned self,
                                   uint64_t *snap);
/* Runtimes wait for a kick (see above): any nonzero, read on a plain
 * thread's slow park path only. */
extern _Atomic uint32_t rill__dl_kicks_wanted;
/* A plain thread parked for good: kick the runtimes that wait for it. */
void rill__deadlock_kick(void);
/* Tests only: called after each check with its verdict (set it before
 * the runtime starts). */
extern void (*rill__deadlock_check_hook)(struct rill_runtime *rt,
                                         bool deadlocked);
/* That sleep timed out: check, and report if deadlocked. */
void rill__deadlock_check(struct rill_runtime *rt, uint64_t snap);
/* rill_block_on's wait (fails with RILL_EDEADLK on a reported deadlock). */
int rill__block_on_wait(struct rill_runtime *rt, struct rill_task *t,
                        void **result);

#endif
