/* SPDX-License-Identifier: MIT */
/*
 * park.c - awaiting on a plain OS thread.
 *
 * Every thread that awaits gets a parker: a reference-counted futex word
 * with three states (the protocol of Rust's std thread parker):
 *
 *     EMPTY --park--> PARKED --unpark--> NOTIFIED --park returns--> EMPTY
 *
 * unpark() swaps in NOTIFIED and issues a futex wake only if the thread
 * was actually PARKED, so a waker fired while the thread is still polling
 * costs one atomic exchange. The thread's waker points at its parker and
 * holds a reference: a waker stored in a channel may outlive the thread
 * (the parker is freed by the last reference, never under a waker).
 *
 * rill_await on a plain thread: poll; on PENDING park (with the deadline
 * as futex timeout); poll again when unparked. Timers on a plain thread
 * need no runtime: a sleep future polled here lowers the thread's park
 * deadline (rill__thread_park_hint) instead of arming a wheel timer.
 */
#include "deadlock.h"
#include "rt_int.h"

#include <pthread.h>
#include <sched.h>

/* PARK_FOREVER is PARKED with no deadline. The deadlock detector
 * (deadlock.c) counts the parkers in that state through the registry below,
 * so parking and unparking cost nothing extra for it. */
enum { PARK_EMPTY = 0, PARK_PARKED = 1, PARK_NOTIFIED = 2, PARK_FOREVER = 3 };

struct rill__parker {
    _Atomic uint32_t state; /* PARK_*; written by unpark (any thread) and
                               by the owning thread in park */
    rill__list_t link;      /* in `registry` while its thread lives */
    _Atomic uint32_t refs;  /* the thread's own + one per waker clone */
    rill_instant_t hint;    /* owner thread only: earliest timer deadline
                               registered during the current poll */
};

static void parker_release(rill__parker_t *p)
{
    /* acq_rel: the last release must see every other holder's accesses
     * before it frees (pairs with the release of the other decrements). */
    if (rill__fetch_sub(&p->refs, 1, RILL_ACQ_REL) == 1)
        rill__free(p);
}

void rill__parker_unpark(rill__parker_t *p)
{
    /* release: what the waker's caller wrote before waking (an item in a
     * channel) is visible to the thread after park returns (acquire
     * below). */
    uint32_t was = rill__xchg(&p->state, PARK_NOTIFIED, RILL_RELEASE);
    if (was == PARK_PARKED || was == PARK_FOREVER)
        rill__futex_wake(&p->state, 1);
}

/* Park until unparked or until `deadline` (RILL_FOREVER: no limit). */
static void parker_park(rill__parker_t *p, rill_instant_t deadline)
{
    uint32_t s = PARK_NOTIFIED;
    /* A notification that came while we polled: consume it, no sleep.
     * acquire pairs with the release in unpark. */
    if (rill__cas(&p->state, &s, PARK_EMPTY, RILL_ACQUIRE, RILL_RELAXED))
        return;
    uint32_t parked = deadline == RILL_FOREVER ? PARK_FOREVER : PARK_PARKED;
    s = PARK_EMPTY;
    /* acq_rel: the release half lets the deadlock detector, which reads
     * the state with seq_cst, see what this thread did before parking
     * (waking a task, say; deadlock.c). Free on x86, where every CAS is a
     * full barrier. */
    if (!rill__cas(&p->state, &s, parked, RILL_SEQ_CST, RILL_ACQUIRE)) {
        /* Raced with an unpark between the two CAS: s == NOTIFIED. */
        rill__store(&p->state, PARK_EMPTY, RILL_RELAXED);
        return;
    }
    /* seq_cst (with the CAS above): a worker that skipped its deadlock
     * check because this thread was awake either saw this park or set
     * the flag we read here (Dekker; deadlock.c), so a deadlock that this
     * park completes is still checked. */
    if (parked == PARK_FOREVER &&
        rill__load(&rill__dl_kicks_wanted, RILL_SEQ_CST))
        rill__deadlock_kick();
    for (;;) {
        rill__futex_wait(&p->state, parked, deadline);
        s = PARK_NOTIFIED;
        if (rill__cas(&p->state, &s, PARK_EMPTY, RILL_ACQUIRE, RILL_RELAXED))
            return;
        if (deadline != RILL_FOREVER && rill__mono_now() >= deadline) {
            /* Timed out: go back to EMPTY unless an unpark slipped in,
             * which we then consume (acquire as above). */
            rill__xchg(&p->state, PARK_EMPTY, RILL_ACQUIRE);
            return;
        }
        /* Spurious wakeup: still PARKED, sleep again. */
    }
}

/* ---- the thread's waker ---- */

static rill_waker_t tw_clone(const void *d);
static void tw_wake(const void *d)
{
    rill__parker_t *p = (rill__parker_t *)d;
    rill__parker_unpark(p);
    parker_release(p);
}
static void tw_wake_by_ref(const void *d)
{
    rill__parker_unpark((rill__parker_t *)d);
}
static void tw_release(const void *d)
{
    parker_release((rill__parker_t *)d);
}
static const rill_waker_vtable_t thread_waker_vtable = {
    tw_clone, tw_wake, tw_wake_by_ref, tw_release};
static rill_waker_t tw_clone(const void *d)
{
    rill__parker_t *p = (rill__parker_t *)d;
    /* relaxed: a new reference is made from an existing one, which keeps
     * the parker alive meanwhile (as Arc::clone). */
    rill__fetch_add(&p->refs, 1, RILL_RELAXED);
    return (rill_waker_t){&thread_waker_vtable, p};
}

/* ---- per-thread parker ---- */

static pthread_key_t parker_key;
static pthread_once_t parker_once = PTHREAD_ONCE_INIT;

/* Every live thread's parker, for the deadlock detector. */
static pthread_mutex_t registry_lock = PTHREAD_MUTEX_INITIALIZER;
static rill__list_t registry = {&registry, &registry}; /* registry_lock */

static void parker_key_dtor(void *v)
{
    rill__parker_t *p = v;
    pthread_mutex_lock(&registry_lock);
    rill__list_remove(&p->link);
    pthread_mutex_unlock(&registry_lock);
    parker_release(p);
}

bool rill__parkers_all_forever(void)
{
    bool all = true;
    pthread_mutex_lock(&registry_lock);
    for (rill__list_t *l = registry.next; all && l != &registry; l = l->next) {
        rill__parker_t *p = RILL_CONTAINER_OF(l, rill__parker_t, link);
        /* seq_cst: see parker_park's kick. */
        all = rill__load(&p->state, RILL_SEQ_CST) == PARK_FOREVER;
    }
    pthread_mutex_unlock(&registry_lock);
    return all;
}

unsigned rill__threads_parked_forever(void)
{
    unsigned n = 0;
    pthread_mutex_lock(&registry_lock);
    for (rill__list_t *l = registry.next; l != &registry; l = l->next) {
        rill__parker_t *p = RILL_CONTAINER_OF(l, rill__parker_t, link);
        /* seq_cst: pairs with the parking CAS (acq_rel) and the unpark
         * xchg (release), in the detector's single order (deadlock.c). */
        if (rill__load(&p->state, RILL_SEQ_CST) == PARK_FOREVER)
            n++;
    }
    pthread_mutex_unlock(&registry_lock);
    return n;
}
static void parker_key_init(void)
{
    pthread_key_create(&parker_key, parker_key_dtor);
}

rill__parker_t *rill__thread_parker(void)
{
    pthread_once(&parker_once, parker_key_init);
    rill__parker_t *p = pthread_getspecific(parker_key);
    if (RILL_LIKELY(p))
        return p;
    p = rill__malloc(sizeof *p);
    if (!p)
        return NULL;
    rill__store(&p->state, PARK_EMPTY, RILL_RELAXED);
    rill__store(&p->refs, 1, RILL_RELAXED);
    p->hint = RILL_FOREVER;
    pthread_setspecific(parker_key, p);
    pthread_mutex_lock(&registry_lock);
    rill__list_push_back(&registry, &p->link);
    pthread_mutex_unlock(&registry_lock);
    return p;
}

void rill__thread_park_hint(rill_instant_t deadline)
{
    rill__parker_t *p = rill__thread_parker();
    if (p && deadline < p->hint)
        p->hint = deadline;
}

/*
 * A tiny parker-on-the-stack for when the thread's parker cannot be
 * allocated: awaiting must not fail for lack of 24 bytes, so we fall back
 * to spinning with sched_yield (correct, if wasteful).
 */
int rill__thread_await(rill_future_t *f, rill_instant_t deadline)
{
    rill__parker_t *p = rill__thread_parker();
    rill_waker_t w =
        p ? (rill_waker_t){&thread_waker_vtable, p} : *rill_waker_noop();
    rill_cx_t cx = RILL_CX_INIT(&w);
    for (;;) {
        if (p)
            p->hint = RILL_FOREVER;
        int r = rill_future_poll(f, &cx);
        if (r != RILL_PENDING)
            return r;
        rill_instant_t until = deadline;
        if (p && p->hint < until)
            until = p->hint;
        if (deadline != RILL_FOREVER && rill__mono_now() >= deadline) {
            r = rill_future_cancel(f);
            return r == RILL_PENDING ? RILL_ETIMEDOUT : r;
        }
        if (p)
            parker_park(p, until);
        else
            sched_yield();
    }
}
