/* SPDX-License-Identifier: MIT */
/*
 * waker.c - the generic waker operations. A waker is (vtable, data); the
 * empty waker has a NULL vtable and every operation on it does nothing, so
 * "no waker registered yet" needs no separate flag.
 */
#include "core.h"

rill_waker_t rill_waker_clone(const rill_waker_t *w)
{
    if (!w || !w->vtable)
        return RILL_WAKER_NONE;
    return w->vtable->clone(w->data);
}

void rill_waker_wake(rill_waker_t *w)
{
    if (!w || !w->vtable)
        return;
    rill_waker_t v = *w;
    *w = RILL_WAKER_NONE;
    v.vtable->wake(v.data);
}

void rill_waker_wake_by_ref(const rill_waker_t *w)
{
    if (w && w->vtable)
        w->vtable->wake_by_ref(w->data);
}

void rill_waker_release(rill_waker_t *w)
{
    if (!w || !w->vtable)
        return;
    rill_waker_t v = *w;
    *w = RILL_WAKER_NONE;
    v.vtable->release(v.data);
}

bool rill_waker_will_wake(const rill_waker_t *a, const rill_waker_t *b)
{
    /* NULL is no waker at all: it wakes nothing, like nothing else. */
    return a && b && a->vtable == b->vtable && a->data == b->data;
}

void rill_waker_set(rill_waker_t *slot, const rill_waker_t *w)
{
    if (!slot) {
        (void)RILL_MISUSE("rill_waker_set", "NULL slot");
        return;
    }
    /* w NULL stores the empty waker (the clone of NULL). */
    if (w && rill_waker_will_wake(slot, w))
        return;
    rill_waker_t old = *slot;
    *slot = rill_waker_clone(w);
    rill_waker_release(&old);
}

static rill_waker_t noop_clone(const void *data);
static void noop_op(const void *data)
{
    RILL_UNUSED(data);
}
static const rill_waker_vtable_t noop_vtable = {noop_clone, noop_op, noop_op,
                                                noop_op};
static const rill_waker_t noop_waker = {&noop_vtable, NULL};

static rill_waker_t noop_clone(const void *data)
{
    RILL_UNUSED(data);
    return noop_waker;
}

const rill_waker_t *rill_waker_noop(void)
{
    return &noop_waker;
}
