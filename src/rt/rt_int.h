/* SPDX-License-Identifier: MIT */
/*
 * rt_int.h - private to src/rt: the structures of the runtime shared by its
 * files (tasks, workers, the runtime object) and their internal calls.
 */
#ifndef RILL_RT_INT_H
#define RILL_RT_INT_H

#include "core/atomic.h"
#include "core/core.h"
#include "futex.h"
#include "rt.h"

/* ---- plain-thread parking (park.c) ---- */
typedef struct rill__parker rill__parker_t;
rill__parker_t *rill__thread_parker(void);
void rill__parker_unpark(rill__parker_t *p);
/* A timer polled on a plain thread asks the thread to wake by `deadline`. */
void rill__thread_park_hint(rill_instant_t deadline);
/* rill_await on a plain thread. */
int rill__thread_await(rill_future_t *f, rill_instant_t deadline);

#endif
