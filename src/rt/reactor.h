/* SPDX-License-Identifier: MIT */
/*
 * reactor.h - the runtime's I/O reactor, as the rest of rill sees it
 * (implemented by reactor_epoll.c).
 *
 * A registration (rill__ioreg_t) is one fd in the reactor. It caches the
 * fd's readiness in one atomic word: readiness bits, plus a tick that
 * every event delivery increments. A task that saw readiness, tried the
 * system call and got EAGAIN clears the bits only if the tick is still
 * the one it saw (rill__ioreg_clear): an event that arrived in between
 * is not lost. Registrations live in a slab that is never freed while the
 * runtime lives, and each event carries the slot's generation, so an
 * event for a registration that was freed (and its fd number reused) is
 * dropped.
 *
 * Waiters (rill__io_waiter_t) are nodes in the waiting future, on the
 * waiter's own storage; the registration lists them under its lock. An
 * event takes the matching waiters off the list and wakes them.
 */
#ifndef RILL_REACTOR_H
#define RILL_REACTOR_H

#include "core/core.h"
#include "rill/rt.h"

#include <stdbool.h>
#include <stdint.h>

struct rill_runtime;
struct rill__worker;
typedef struct rill__reactor rill__reactor_t;
typedef struct rill__ioreg rill__ioreg_t;

/* Readiness bits (the low byte of the readiness word). */
enum {
    RILL__IO_READABLE = 1,
    RILL__IO_WRITABLE = 2,
    RILL__IO_RDHUP = 4,  /* the peer shut down its writing side */
    RILL__IO_HUP = 8,    /* hang-up or error: both directions ready */
    RILL__IO_CLOSED = 16 /* rill__ioreg_close: every wait ends */
};

/* Interest: the values of rill/io.h's RILL_IO_READ and RILL_IO_WRITE
 * (the io layer checks that they agree; rt does not include it). */
enum { RILL__WANT_READ = 1, RILL__WANT_WRITE = 2 };

/* A waiter: part of a waiting future. Fields are under the registration's
 * lock once linked. */
typedef struct rill__io_waiter {
    rill__list_t link;
    rill_waker_t waker;
    int interest; /* RILL__WANT_READ | RILL__WANT_WRITE */
    /* On the list. Written under the registration's lock (by the owner,
     * or by an event that takes the waiter off); the owner also reads it
     * without the lock on its fast path (acquire, pairing with the
     * release store of the event that cleared it). */
    _Atomic bool linked;
} rill__io_waiter_t;

/* ---- the runtime's side ---- */

/* Create / destroy the reactor of rt (runtime.c). */
int rill__reactor_new(struct rill_runtime *rt, rill__reactor_t **out);
void rill__reactor_free(rill__reactor_t *r);

/*
 * A worker that is about to sleep (worker_park) with nothing to do: if
 * fds are registered and no other worker polls, wait in epoll until
 * `until` (RILL_FOREVER: no limit), an event, or a wake (sleep_word set
 * to 0, which rill__reactor_unpark turns into an eventfd write).
 * Returns: false if it did not poll (the caller waits on its futex); true
 * if it polled: events were dispatched, or it timed out, or was woken.
 * *woke counts the wakers it fired.
 */
bool rill__reactor_park(rill__reactor_t *r, struct rill__worker *w,
                        _Atomic uint32_t *sleep_word, rill_instant_t until,
                        size_t *woke);

/* Poll without waiting, if no other worker is polling; returns the
 * number of wakers fired. For busy workers, every few scheduler ticks,
 * and for the virtual clock before it jumps. */
size_t rill__reactor_poll_now(rill__reactor_t *r, struct rill__worker *w);

/* Worker w was told to wake (its sleep_word went 1 -> 0): if it is the
 * one waiting in epoll, break that wait. */
void rill__reactor_unpark(rill__reactor_t *r, unsigned worker_index);

/* Futures waiting on some registration now: something outside the
 * process (a peer) can still wake a task (the deadlock detector). */
int64_t rill__reactor_waiters(const rill__reactor_t *r);

/* Registrations now (nothing to poll when 0). */
uint64_t rill__reactor_regs(const rill__reactor_t *r);

/* ---- the I/O layer's side ---- */

/* Register fd (non-blocking already) with r. Returns 0, RILL_ENOMEM,
 * RILL_EINVAL (epoll refuses the fd: a regular file, already there). */
int rill__ioreg_new(rill__reactor_t *r, int fd, rill__ioreg_t **out);

/* Deregister: waiters are woken with RILL_ECLOSED; the slot is reused
 * under a new generation. The fd is not closed. */
void rill__ioreg_free(rill__ioreg_t *reg);

/* Every wait on reg ends with RILL_ECLOSED, now and later. */
void rill__ioreg_close(rill__ioreg_t *reg);
/* The first half of that: from now on polls see RILL_ECLOSED, but nobody
 * is woken yet. */
void rill__ioreg_mark_closed(rill__ioreg_t *reg);

/*
 * Is reg ready for `interest`? Returns 0 when it is (*tick is the
 * readiness word seen, for rill__ioreg_clear), RILL_ECLOSED, or
 * RILL_PENDING after linking `wt` with cx's waker (refreshing the waker
 * if already linked).
 */
int rill__ioreg_poll_ready(rill__ioreg_t *reg, int interest,
                           rill__io_waiter_t *wt, rill_cx_t *cx,
                           uint64_t *tick);

/* The system call said EAGAIN for `interest`: clear those bits unless an
 * event came after `tick` was read. */
void rill__ioreg_clear(rill__ioreg_t *reg, int interest, uint64_t tick);

/* A read or write on a stream socket moved less than asked: the kernel
 * is drained (or full) for `interest` now. Clear its data bit, not its
 * hang-up bits, unless an event came after `tick` was read; the next call
 * then waits instead of making a system call that would say EAGAIN. */
void rill__ioreg_clear_drained(rill__ioreg_t *reg, int interest, uint64_t tick);

/* Unlink wt if linked (a future withdrawn or finished). */
void rill__ioreg_unwait(rill__ioreg_t *reg, rill__io_waiter_t *wt);

/* Tests only: set before rill_runtime_new to make its reactor use the
 * timerfd fallback as on kernels without epoll_pwait2. */
extern bool rill__reactor_no_pwait2;

/* The reactor of the runtime (NULL: none). */
rill__reactor_t *rill__runtime_reactor(struct rill_runtime *rt);

#endif /* RILL_REACTOR_H */
