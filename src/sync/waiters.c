/* SPDX-License-Identifier: MIT */
/*
 * waiters.c - what every channel kind waits with: the slow-path lock,
 * claim words, waiters and wake lists (see sync_int.h for the protocol).
 */
#include "sync_int.h"

#include <sched.h>

void rill__lock_slow(rill__lock_t *l)
{
    /* Test-and-test-and-set: spin on a plain load (the line stays shared
     * while the holder works), then yield the CPU so a preempted holder
     * can finish (the machines here have two cores). */
    for (unsigned spins = 0;; spins++) {
        /* relaxed: only a hint; the xchg below is the acquire. */
        if (rill__load(&l->word, RILL_RELAXED) == 0 &&
            rill__xchg(&l->word, 1, RILL_ACQUIRE) == 0)
            return;
        if (spins < 64)
            rill__cpu_relax();
        else
            sched_yield();
    }
}

/* The failure path of both claims: flag a held word MISSED. */
static bool claim_failed(_Atomic uintptr_t *claim, uintptr_t v)
{
    while (v == RILL__CLAIM_HELD) {
        /* relaxed: the holder reads the flag with its acq_rel xchg; the
         * waiter we give up on is unlinked under the queue's lock, which
         * orders everything else. */
        if (rill__cas(claim, &v, RILL__CLAIM_HELD | RILL__CLAIM_MISSED,
                      RILL_RELAXED, RILL_RELAXED))
            break;
    }
    return false;
}

bool rill__claim_final(_Atomic uintptr_t *claim, uintptr_t tag)
{
    uintptr_t v = RILL__CLAIM_OPEN;
    /* acq_rel: acquire pairs with the select's release when it let go of
     * its claim word after registering; release pairs with the select's
     * acquire load that finds the winner. */
    if (rill__cas(claim, &v, tag, RILL_ACQ_REL, RILL_RELAXED))
        return true;
    return claim_failed(claim, v);
}

bool rill__claim_hold(_Atomic uintptr_t *claim)
{
    uintptr_t v = RILL__CLAIM_OPEN;
    /* acquire: as in rill__claim_final; the commit or unhold releases. */
    if (rill__cas(claim, &v, RILL__CLAIM_HELD, RILL_ACQUIRE, RILL_RELAXED))
        return true;
    return claim_failed(claim, v);
}

void rill__wakelist_flush(rill__wakelist_t *wl)
{
    for (unsigned i = 0; i < wl->n; i++)
        rill_waker_wake(&wl->w[i]);
    wl->n = 0;
}

bool rill__waiter_park(rill__list_t *q, rill__waiter_t *w, const rill_cx_t *cx)
{
    bool fresh = !rill__waiter_linked(w);
    if (fresh) {
        const rill__select_ref_t *ref = cx->select;
        if (rill__load(&w->status, RILL_RELAXED) == RILL__WAITER_WOKEN)
            rill__store(&w->status, RILL_PENDING, RILL_RELAXED); /* ours */
        w->claim = ref ? ref->claim : NULL;
        w->tag = ref ? ref->tag : 0;
        rill__list_push_back(q, &w->link);
    }
    rill_waker_set(&w->waker, cx->waker);
    return fresh;
}

int rill__waiter_take(rill__waiter_t *w, _Atomic uintptr_t *self, bool hold)
{
    if (!w->claim)
        return RILL__TAKE_OK;
    if (w->claim == self)
        return RILL__TAKE_SKIP;
    bool won =
        hold ? rill__claim_hold(w->claim) : rill__claim_final(w->claim, w->tag);
    return won ? RILL__TAKE_OK : RILL__TAKE_GONE;
}

void rill__waiter_unhold(rill__waiter_t *w, rill__wakelist_t *wl)
{
    if (w->claim && rill__claim_unhold(w->claim))
        rill__wakelist_push(wl, rill_waker_clone(&w->waker));
}

void rill__waiter_finish(rill__waiter_t *w, int status, rill__wakelist_t *wl)
{
    rill__list_remove(&w->link);
    rill_waker_t wk = w->waker;
    w->waker = RILL_WAKER_NONE;
    /* A held claim becomes final; a final one (claim_final) is rewritten
     * with the same value, which changes nothing. */
    if (w->claim)
        rill__claim_commit(w->claim, w->tag);
    /* release: pairs with the owner's acquire in rill__waiter_status;
     * the last access to w. */
    rill__store(&w->status, status, RILL_RELEASE);
    rill__wakelist_push(wl, wk);
}

void rill__waiter_drop(rill__waiter_t *w)
{
    rill__list_remove(&w->link);
    rill_waker_release(&w->waker);
}

void rill__waiter_wake(rill__waiter_t *w, rill__wakelist_t *wl)
{
    rill__list_remove(&w->link);
    rill_waker_t wk = w->waker;
    w->waker = RILL_WAKER_NONE;
    /* release: pairs with the owner's acquire; the last access to w. */
    rill__store(&w->status, RILL__WAITER_WOKEN, RILL_RELEASE);
    rill__wakelist_push(wl, wk);
}

int rill__waiter_cancel(rill__lock_t *l, rill__waiter_t *w)
{
    rill__lock(l);
    if (rill__waiter_linked(w)) {
        rill__list_remove(&w->link);
        rill__unlock(l);
        rill_waker_release(&w->waker);
        return RILL_PENDING;
    }
    rill__unlock(l);
    /* Unlinked by a peer: woken or dropped (no effect), or completed by
     * hand-off (its status). */
    int s = rill__waiter_status(w);
    return s == RILL__WAITER_WOKEN ? RILL_PENDING : s;
}

int rill__handle_kill_as(_Atomic uint32_t *state, uint32_t live,
                         const char *api)
{
    /* acq_rel: one of two racing releases wins; the winner's later
     * teardown is ordered after the handle's earlier uses. A failed CAS
     * leaves the word as it was (another kind's handle stays intact). */
    uint32_t old = live;
    if (rill__cas(state, &old, RILL__HANDLE_DEAD, RILL_ACQ_REL, RILL_RELAXED))
        return 0;
    if (old == RILL__HANDLE_DEAD)
        return RILL_MISUSE_AS(RILL_EALREADY, api, "handle released twice");
    return RILL_MISUSE(api, "not a live handle of this kind");
}

int rill__handle_kill(_Atomic uint32_t *state, const char *api)
{
    return rill__handle_kill_as(state, RILL__HANDLE_LIVE, api);
}
