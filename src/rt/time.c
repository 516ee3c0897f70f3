/* SPDX-License-Identifier: MIT */
/*
 * time.c - clocks and timers.
 *
 * A timer is a rill_sleep_op_t in the waiter's own storage. Polled in a
 * task it is armed in the runtime's timing wheel (under timer_lock) with
 * the task's waker; polled on a plain thread it only lowers the thread's
 * park deadline, so plain threads need no runtime to sleep or time out.
 *
 * Sleep op states (under timer_lock once armed):
 *   IDLE --poll before deadline--> ARMED --fire/poll after deadline--> FIRED
 *   ARMED --cancel--> IDLE
 * Firing moves the waker out of the op while holding the lock and wakes it
 * after unlocking, so the op's memory is never touched after the lock is
 * released (its owner may return and reuse the stack right away).
 *
 * The virtual clock (config.virtual_clock): vnow moves only when every
 * worker is idle and no blocking job runs; it then jumps exactly to the
 * wheel's next deadline (rill__virtual_advance, called by the last worker
 * going to sleep), so timed code runs exactly and instantly in tests.
 */
#include "rt_int.h"

#include "core/describe.h"

#include <string.h>

enum { SLEEP_IDLE = 0, SLEEP_ARMED, SLEEP_FIRED };

typedef struct sleep_impl {
    /* Set by the owner before awaiting, changed (rill_sleep_op_reset) only
     * while nobody awaits the op. */
    rill_instant_t deadline;
    rill__timer_t timer;
    rill_waker_t waker;      /* under rt->timer_lock while armed */
    struct rill_runtime *rt; /* runtime it was armed in, or NULL */
    uint32_t state;          /* SLEEP_*; under rt->timer_lock once armed */
} sleep_impl_t;

_Static_assert(sizeof(sleep_impl_t) <= sizeof(((rill_sleep_op_t *)0)->private_),
               "rill_sleep_op_t private storage too small");

static sleep_impl_t *impl_of(rill_sleep_op_t *op)
{
    return (sleep_impl_t *)(void *)op->private_;
}

static const sleep_impl_t *impl_of_const(const rill_sleep_op_t *op)
{
    return (const sleep_impl_t *)(const void *)op->private_;
}

/* ---- clocks ---- */

rill_instant_t rill__rt_now(struct rill_runtime *rt)
{
    if (rt->cfg.virtual_clock) /* acquire: pairs with the release store in
                                  rill__virtual_advance */
        return rill__load(&rt->vnow, RILL_ACQUIRE);
    return rill__mono_now();
}

rill_instant_t rill_runtime_now(rill_runtime_t *rt)
{
    return rt ? rill__rt_now(rt) : rill__mono_now();
}

rill_instant_t rill_now(void)
{
    struct rill_runtime *rt = rill__current_runtime();
    return rt ? rill__rt_now(rt) : rill__mono_now();
}

rill_instant_t rill_deadline(rill_duration_t d)
{
    rill_instant_t now = rill_now();
    if (d <= 0)
        return now;
    if (d >= RILL_FOREVER - now)
        return RILL_FOREVER;
    return now + d;
}

void rill__timers_init(struct rill_runtime *rt)
{
    rill_instant_t now = rill__mono_now();
    /* relaxed: before the workers start (pthread_create orders it). */
    rill__store(&rt->vnow, now, RILL_RELAXED);
    rill__wheel_init(&rt->wheel, now);
    rill__store(&rt->next_deadline, RILL_FOREVER, RILL_RELAXED); /* as vnow */
    rill__store(&rt->timer_sleep_until, RILL_FOREVER, RILL_RELAXED);
    rill__store(&rt->timer_owner, 0, RILL_RELAXED);
}

/* Under timer_lock: refresh the lock-free copy of the next deadline.
 * seq_cst: pairs with the timer owner's publish-then-reread in
 * worker_park (Dekker: one of us sees the other). */
static void publish_next_deadline(struct rill_runtime *rt)
{
    rill__store(&rt->next_deadline, rill__wheel_next_deadline(&rt->wheel),
                RILL_SEQ_CST);
}

/* ---- firing ---- */

size_t rill__timers_fire(struct rill_runtime *rt, rill_instant_t now)
{
    rill_waker_t local[64];
    rill_waker_t *wakers = local;
    size_t cap = 64, n = 0;
    rill__list_t expired;
    rill__list_init(&expired);

    pthread_mutex_lock(&rt->timer_lock);
    /* Two workers read the clock before taking the lock; the later
     * reading may get here first. Time does not go back for the wheel. */
    if (now < rt->wheel.now)
        now = rt->wheel.now;
    rill__wheel_advance(&rt->wheel, now, &expired);
    for (rill__list_t *l; (l = rill__list_pop_front(&expired));) {
        sleep_impl_t *s = RILL_CONTAINER_OF(l, sleep_impl_t, timer.link);
        s->state = SLEEP_FIRED;
        if (n == cap) {
            size_t ncap = cap * 2;
            rill_waker_t *nw = rill__malloc(ncap * sizeof *nw);
            if (!nw) {
                /* No memory for the batch: wake this one under the lock
                 * (wakers never take timer_lock, so this is safe, only
                 * slower). */
                rill_waker_wake(&s->waker);
                continue;
            }
            memcpy(nw, wakers, n * sizeof *nw);
            if (wakers != local)
                rill__free(wakers);
            wakers = nw;
            cap = ncap;
        }
        wakers[n++] = s->waker;
        s->waker = RILL_WAKER_NONE;
    }
    publish_next_deadline(rt);
    pthread_mutex_unlock(&rt->timer_lock);

    for (size_t i = 0; i < n; i++)
        rill_waker_wake(&wakers[i]);
    if (wakers != local)
        rill__free(wakers);
    rill__fetch_add(&rt->timers_fired, n, RILL_RELAXED); /* a statistic */
    return n;
}

bool rill__virtual_advance(struct rill_runtime *rt)
{
    pthread_mutex_lock(&rt->timer_lock);
    rill_instant_t next = rill__wheel_next_deadline(&rt->wheel);
    if (next == RILL_FOREVER) {
        pthread_mutex_unlock(&rt->timer_lock);
        return false;
    }
    /* release: tasks that read the clock after being woken by these
     * timers see the new time (they acquire in rill__rt_now). */
    if (next > rill__load(&rt->vnow, RILL_RELAXED)) /* only written here,
                                                       under timer_lock */
        rill__store(&rt->vnow, next, RILL_RELEASE);
    pthread_mutex_unlock(&rt->timer_lock);
    /* acquire: another worker may have moved it further meanwhile. */
    return rill__timers_fire(rt, rill__load(&rt->vnow, RILL_ACQUIRE)) > 0;
}

/* ---- the sleep future ---- */

static int sleep_poll(rill_future_t *f, rill_cx_t *cx)
{
    rill_sleep_op_t *op = (rill_sleep_op_t *)f;
    sleep_impl_t *s = impl_of(op);
    struct rill_runtime *rt = s->rt ? s->rt : rill__current_runtime();
    if (!rt) {
        /* Plain thread: the thread's park times out at the deadline. */
        if (rill__mono_now() >= s->deadline)
            return 0;
        rill__thread_park_hint(s->deadline);
        return RILL_PENDING;
    }
    rill_instant_t now = rill__rt_now(rt);
    bool armed_now = false;
    pthread_mutex_lock(&rt->timer_lock);
    if (s->state == SLEEP_FIRED) {
        pthread_mutex_unlock(&rt->timer_lock);
        return 0;
    }
    if (now >= s->deadline) {
        if (s->state == SLEEP_ARMED) {
            rill__wheel_remove(&rt->wheel, &s->timer);
            publish_next_deadline(rt);
        }
        s->state = SLEEP_FIRED;
        rill_waker_t w = s->waker;
        s->waker = RILL_WAKER_NONE;
        pthread_mutex_unlock(&rt->timer_lock);
        rill_waker_release(&w);
        return 0;
    }
    if (s->state == SLEEP_IDLE) {
        s->timer.deadline = s->deadline;
        rill__wheel_insert(&rt->wheel, &s->timer);
        s->state = SLEEP_ARMED;
        s->rt = rt;
        s->waker = rill_waker_clone(cx->waker);
        publish_next_deadline(rt);
        armed_now = true;
    } else {
        rill_waker_set(&s->waker, cx->waker);
    }
    pthread_mutex_unlock(&rt->timer_lock);
    /* seq_cst: the other half of the Dekker pair with the timer owner,
     * which publishes timer_sleep_until and then rereads next_deadline
     * (published above, seq_cst): either it sees our deadline or we see
     * its sleep. */
    if (armed_now && !rt->cfg.virtual_clock &&
        s->deadline < rill__load(&rt->timer_sleep_until, RILL_SEQ_CST)) {
        /* The timer owner sleeps past our deadline: make it re-park.
         * acquire: pairs with the owner's CAS that took the role (a
         * stale index only costs a spurious wake). */
        int owner = rill__load(&rt->timer_owner, RILL_ACQUIRE);
        if (owner)
            rill__wake_worker(rt, (unsigned)owner - 1);
        else
            rill__notify_work(rt);
    }
    return RILL_PENDING;
}

static int sleep_cancel(rill_future_t *f)
{
    rill_sleep_op_t *op = (rill_sleep_op_t *)f;
    rill_sleep_op_cancel(op);
    return impl_of(op)->state == SLEEP_FIRED ? 0 : RILL_PENDING;
}

/* Reads only the deadline, which the owner sets before awaiting and
 * changes (rill_sleep_op_reset) only while nobody awaits the op. */
static int sleep_describe(const rill_future_t *f, rill_instant_t now, char *buf,
                          size_t len)
{
    rill_instant_t deadline =
        impl_of_const((const rill_sleep_op_t *)f)->deadline;
    rill__buf_t b;
    rill__buf_init(&b, buf, len);
    if (deadline == RILL_FOREVER) {
        rill__buf_printf(&b, "sleep forever");
    } else {
        rill__buf_printf(&b, "sleep until ");
        rill__buf_duration(&b, deadline - now);
    }
    return rill__buf_result(&b);
}

static const rill_future_vtable_t sleep_vtable = {sleep_poll, sleep_cancel,
                                                  NULL, sleep_describe};

void rill_sleep_op(rill_sleep_op_t *op, rill_instant_t deadline)
{
    if (!op) {
        (void)RILL_MISUSE("rill_sleep_op", "NULL op");
        return;
    }
    memset(op, 0, sizeof *op);
    op->base.vtable = &sleep_vtable;
    sleep_impl_t *s = impl_of(op);
    s->deadline = deadline;
    s->state = SLEEP_IDLE;
    s->waker = RILL_WAKER_NONE;
    s->rt = NULL;
}

void rill_sleep_op_cancel(rill_sleep_op_t *op)
{
    if (!op)
        return;
    sleep_impl_t *s = impl_of(op);
    struct rill_runtime *rt = s->rt;
    if (!rt)
        return;
    pthread_mutex_lock(&rt->timer_lock);
    if (s->state == SLEEP_ARMED) {
        rill__wheel_remove(&rt->wheel, &s->timer);
        publish_next_deadline(rt);
        s->state = SLEEP_IDLE;
    }
    rill_waker_t w = s->waker;
    s->waker = RILL_WAKER_NONE;
    pthread_mutex_unlock(&rt->timer_lock);
    rill_waker_release(&w);
}

void rill_sleep_op_reset(rill_sleep_op_t *op, rill_instant_t deadline)
{
    if (!op) {
        (void)RILL_MISUSE("rill_sleep_op_reset", "NULL op");
        return;
    }
    rill_sleep_op_cancel(op);
    sleep_impl_t *s = impl_of(op);
    s->state = SLEEP_IDLE;
    s->deadline = deadline;
}

int rill_sleep_until(rill_instant_t deadline)
{
    rill_sleep_op_t op;
    rill_sleep_op(&op, deadline);
    int r = rill_await(&op.base);
    rill_sleep_op_cancel(&op);
    return r;
}

int rill_sleep(rill_duration_t d)
{
    return rill_sleep_until(rill_deadline(d));
}
