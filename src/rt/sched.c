/* SPDX-License-Identifier: MIT */
/*
 * sched.c - the workers: where tasks run, how they are scheduled, how idle
 * workers find work or go to sleep.
 *
 * Scheduling a woken task:
 *   - woken by a task running on a worker of the same runtime: into that
 *     worker's LIFO slot, so a message passed to another task is handled
 *     next, on the same core, while it is still in cache; the task the
 *     slot held moves to the local queue (idle workers are not told: they
 *     look again every 1 ms while a peer is busy);
 *   - spawned, or yielding: to the back of the local queue, and an idle
 *     worker is told (new work should spread);
 *   - from anywhere else: to the inject queue, and an idle worker is woken.
 *
 * Idle protocol (no lost wakeups):
 *   producer:  push work; seq_cst fence; if no worker is searching and
 *              some sleep, wake one;
 *   sleeper:   register in `sleepers` (nsleeping++); seq_cst fence;
 *              re-check every queue; only then wait on its futex.
 * The fences order "push" before "read nsleeping" and "nsleeping++" before
 * "re-check queues": at least one side sees the other. A worker that finds
 * nothing first spins (searching) for a short while: on these machines a
 * futex round trip costs ~14 us, a hand-off through a spinning worker far
 * less.
 *
 * Timers: the first worker to sleep with no timer owner becomes the timer
 * owner and sleeps only until the next deadline; with a virtual clock the
 * last worker to go idle jumps the clock to the next deadline instead.
 */
#include "deadlock.h"
#include "rt_int.h"

#include <sched.h>
#include <sys/prctl.h>

#define LIFO_MAX_RUNS 3
#define GLOBAL_QUEUE_INTERVAL 61 /* ticks between inject-first checks */
#define MAINTENANCE_INTERVAL 61  /* ticks between timer checks */
/* Ticks between a busy worker's looks at the sockets (docs/io.md gives
 * the measurement; bench/micro/io_poll.c is built with -D to vary it). */
#ifndef RILL_IO_POLL_INTERVAL
#define RILL_IO_POLL_INTERVAL 61
#endif
#define SPIN_ROUNDS 64

void rill__notify_work(struct rill_runtime *rt)
{
    /* seq_cst: pairs with the fence in worker_park (see the file head). */
    rill__fence(RILL_SEQ_CST);
    if (rill__load(&rt->nsearching, RILL_RELAXED) != 0 ||
        rill__load(&rt->nsleeping, RILL_RELAXED) == 0)
        return;
    pthread_mutex_lock(&rt->idle_lock);
    if (rt->nsleepers == 0) {
        pthread_mutex_unlock(&rt->idle_lock);
        return;
    }
    unsigned idx = rt->sleepers[--rt->nsleepers];
    rill__store(&rt->nsleeping, rt->nsleepers, RILL_RELAXED);
    pthread_mutex_unlock(&rt->idle_lock);
    rill__wake_worker(rt, idx);
}

void rill__wake_worker(struct rill_runtime *rt, unsigned index)
{
    rill__worker_t *w = &rt->workers[index];
    /* release: pairs with the acquire load of the sleep word in
     * worker_park's wait loop. seq_cst: then reading the reactor's poller
     * word, against the poller's store-then-load (reactor_epoll.c). */
    if (rill__xchg(&w->sleep_word, 0, RILL_SEQ_CST) == 1) {
        rill__reactor_unpark(rt->reactor, index);
        rill__futex_wake(&w->sleep_word, 1);
    }
}

void rill__task_schedule(struct rill_task *t, bool yield)
{
    struct rill_runtime *rt = t->rt;
    rill__worker_t *w = rill__tls_worker();
    if (w && w->rt == rt && !rill__load(&rt->stopping, RILL_RELAXED)) {
        if (yield) {
            rill__localq_push(&w->q, t, rt);
            rill__notify_work(rt);
            return;
        }
        /* A woken task displaces the slot's task into the local queue
         * without waking an idle worker: the tasks here are passing
         * messages to each other, and waking a worker only to have it
         * steal one of them splits the conversation across cores (every
         * hand-off then a cross-core wake: W2, W8, W10 ran 1.5..2x slower
         * that way). An idle worker still finds the queue: it re-checks
         * every PEER_CHECK while another worker is busy (worker_park). */
        struct rill_task *prev = w->lifo;
        w->lifo = t;
        if (prev)
            rill__localq_push(&w->q, prev, rt);
        return;
    }
    t->next = NULL;
    rill__inject_push(rt, t);
    rill__notify_work(rt);
}

/* ---- running one task ---- */

static void task_entry(void *arg)
{
    struct rill_task *t = arg;
    t->result = t->u.sf.fn(t->u.sf.arg);
    t->exited = true;
    rill__fiber_exit(&t->u.sf.fiber, &t->u.sf.worker->fiber);
}

/* The run ended with the task suspended/pending: drop RUNNING; if it was
 * woken meanwhile, queue it again (the run queue's reference goes with
 * it), else drop the run queue's reference. */
static void after_pending(rill__worker_t *w, struct rill_task *t)
{
    uint64_t s = rill__load(&t->state, RILL_RELAXED);
    /* acq_rel: release publishes this run's writes to the next worker
     * that runs the task; acquire orders us after the wakers. */
    while (!rill__cas_weak(&t->state, &s, s & ~TS_RUNNING, RILL_ACQ_REL,
                           RILL_RELAXED))
        ;
    if (s & TS_NOTIFIED) {
        /* It yielded, or was woken while it ran: defer it behind the
         * local queue, out of thieves' sight and without waking anyone.
         * A budget yield is "let the others here run", not "move me to
         * another core": moving would split tasks that talk to each
         * other across cores. */
        t->next = NULL;
        if (w->yield_tail)
            w->yield_tail->next = t;
        else
            w->yield_head = t;
        w->yield_tail = t;
        return;
    }
    rill__task_ref_dec(t);
}

static void finish(struct rill_task *t, int status, void *result)
{
    rill__task_complete(t, status, result);
    rill__task_ref_dec(t); /* the run queue's reference */
}

static void run_stackful(rill__worker_t *w, struct rill_task *t, uint64_t s)
{
    struct rill_runtime *rt = w->rt;
    if (!t->started) {
        if (s & TS_CANCELLED) {
            rill__stack_put(rt->stacks, t->u.sf.stack); /* never used */
            t->u.sf.stack = NULL;
            finish(t, RILL_ECANCELED, NULL);
            return;
        }
        rill__stack_set_owner(t->u.sf.stack, t->id, t->name);
        rill__fiber_init(&t->u.sf.fiber, t->u.sf.stack->lo, t->u.sf.stack->size,
                         task_entry, t);
        t->started = true;
    }
    t->u.sf.worker = w;
    w->budget = rt->cfg.coop_budget;
    rill__tls_set_task(t);
    rill__fiber_switch(&w->fiber, &t->u.sf.fiber);
    rill__tls_set_task(NULL);
    if (t->exited) {
        rill__fiber_destroy(&t->u.sf.fiber);
        rill__stack_put(rt->stacks, t->u.sf.stack);
        t->u.sf.stack = NULL;
        finish(t, 0, t->result);
        return;
    }
    after_pending(w, t);
}

static void run_future(rill__worker_t *w, struct rill_task *t, uint64_t s)
{
    rill_future_t *f = t->u.fu.fut;
    int r;
    if (s & TS_CANCELLED) {
        r = t->started ? rill_future_cancel(f) : RILL_PENDING;
        if (r == RILL_PENDING)
            r = RILL_ECANCELED;
    } else {
        t->started = true;
        rill_waker_t wk = rill__task_waker(t);
        rill_cx_t cx = {&wk, w->rt->cfg.coop_budget, NULL};
        r = rill_future_poll(f, &cx);
        if (r == RILL_PENDING) {
            after_pending(w, t);
            return;
        }
    }
    /* The dump may be describing the future: wait for it, and hide the
     * future from later dumps, before it goes. */
    rill__task_diag_clear_future(t);
    if (f->vtable->drop)
        f->vtable->drop(f);
    finish(t, r, NULL);
}

static void run_task(rill__worker_t *w, struct rill_task *t)
{
    uint64_t s = rill__load(&t->state, RILL_RELAXED);
    /* acquire: pairs with the release in wake / after_pending, so this run
     * sees everything written before the task was scheduled. */
    while (!rill__cas_weak(&t->state, &s, (s & ~TS_NOTIFIED) | TS_RUNNING,
                           RILL_ACQUIRE, RILL_RELAXED))
        ;
    RILL_ASSERT(!(s & TS_COMPLETE));
    rill__fetch_add(&w->polls, 1, RILL_RELAXED);
    if (t->kind == TASK_STACKFUL)
        run_stackful(w, t, s);
    else
        run_future(w, t, s);
}

/* ---- finding work ---- */

static uint32_t xorshift(uint32_t *s)
{
    uint32_t x = *s;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    return *s = x;
}

/* Take the oldest deferred task; the others move to the local queue,
 * where thieves may take some if there are at least two. */
static struct rill_task *pop_deferred(rill__worker_t *w)
{
    struct rill_task *t = w->yield_head;
    if (!t)
        return NULL;
    struct rill_task *rest = t->next;
    w->yield_head = w->yield_tail = NULL;
    t->next = NULL;
    bool moved = rest != NULL;
    while (rest) {
        struct rill_task *n = rest->next;
        rest->next = NULL;
        rill__localq_push(&w->q, rest, w->rt);
        rest = n;
    }
    if (moved && rill__localq_len(&w->q) >= 2)
        rill__notify_work(w->rt);
    return t;
}

static struct rill_task *next_local(rill__worker_t *w)
{
    struct rill_runtime *rt = w->rt;
    w->tick++;
    if (w->tick % GLOBAL_QUEUE_INTERVAL == 0) {
        struct rill_task *t = rill__inject_pop(rt);
        if (!t)
            t = pop_deferred(w);
        if (t)
            return t;
    }
    if (w->lifo) {
        struct rill_task *t = w->lifo;
        w->lifo = NULL;
        if (w->lifo_runs < LIFO_MAX_RUNS) {
            w->lifo_runs++;
            return t;
        }
        /* Two tasks ping-ponging through the LIFO slot must not starve
         * the rest of the queue. */
        rill__localq_push(&w->q, t, rt);
    }
    w->lifo_runs = 0;
    struct rill_task *t = rill__localq_pop(&w->q);
    if (!t)
        t = rill__inject_pop(rt);
    if (!t)
        t = pop_deferred(w);
    return t;
}

static bool start_searching(rill__worker_t *w)
{
    struct rill_runtime *rt = w->rt;
    /* At most half of the workers search at once (tokio's rule): more
     * would only contend on the same victims. */
    uint32_t n = rill__load(&rt->nsearching, RILL_RELAXED);
    if (2 * n >= rt->nworkers)
        return false;
    rill__fetch_add(&rt->nsearching, 1, RILL_SEQ_CST);
    w->searching = true;
    return true;
}

/* found: the search ended with a task in hand. */
static void stop_searching(rill__worker_t *w, bool found)
{
    if (!w->searching)
        return;
    w->searching = false;
    /* The last searcher that found work wakes another worker, so queued
     * work keeps spreading to idle cores. One that found nothing is about
     * to park, and re-checks the queues there. */
    if (rill__fetch_sub(&w->rt->nsearching, 1, RILL_SEQ_CST) == 1 && found)
        rill__notify_work(w->rt);
}

/*
 * Steal from another worker. A victim's lone queued task is usually one it
 * will run next itself (a task that just yielded, or one of a pair of
 * tasks that talk to each other): taking it would only split the pair
 * across cores and turn every hand-off into a cross-core wakeup (Go's
 * scheduler holds back from stealing `runnext` for the same reason). So a
 * lone task is taken only `late`: after this worker slept LONE_TASK_CHECK
 * (1 ms) and only from a victim that ran no new task meanwhile (`snap`
 * holds each worker's poll count from before the sleep): that victim is
 * stuck in one long task and its queue needs help.
 */
static struct rill_task *steal_work(rill__worker_t *w, const uint64_t *snap,
                                    bool late)
{
    struct rill_runtime *rt = w->rt;
    unsigned n = rt->nworkers;
    unsigned start = n > 1 ? xorshift(&w->rng) % n : 0;
    for (unsigned i = 0; i < n; i++) {
        unsigned vi = (start + i) % n;
        rill__worker_t *v = &rt->workers[vi];
        if (v == w)
            continue;
        uint32_t min = 2;
        if (late && rill__load(&v->polls, RILL_RELAXED) == snap[vi])
            min = 1;
        struct rill_task *t = rill__localq_steal(&v->q, &w->q, min);
        if (t) {
            rill__fetch_add(&w->steals, 1, RILL_RELAXED);
            return t;
        }
    }
    return rill__inject_pop(rt);
}

/*
 * Work an idle worker must not sleep on: anything in the inject queue, or
 * a local queue with two or more tasks (half of which it may steal). A
 * lone task in a busy worker's queue is that worker's next task, not a
 * reason to stay awake (see steal_work); `lone` reports whether one exists.
 */
static bool work_visible(struct rill_runtime *rt, rill__worker_t *self,
                         bool *lone)
{
    *lone = false;
    if (rill__load(&rt->inject_len, RILL_RELAXED))
        return true;
    for (unsigned i = 0; i < rt->nworkers; i++) {
        if (&rt->workers[i] == self)
            continue;
        uint32_t len = rill__localq_len(&rt->workers[i].q);
        if (len >= 2)
            return true;
        if (len == 1)
            *lone = true;
    }
    return false;
}

/* idle_lock held: take w off the sleeper stack; false if it was not on it
 * (a notifier took it off already). */
static bool sleepers_take_locked(struct rill_runtime *rt, rill__worker_t *w)
{
    for (unsigned i = 0; i < rt->nsleepers; i++) {
        if (rt->sleepers[i] == w->index) {
            rt->sleepers[i] = rt->sleepers[--rt->nsleepers];
            rill__store(&rt->nsleeping, rt->nsleepers, RILL_RELAXED);
            return true;
        }
    }
    return false;
}

/* Remove w from the sleeper stack if it is still there. */
static void sleepers_remove(struct rill_runtime *rt, rill__worker_t *w)
{
    pthread_mutex_lock(&rt->idle_lock);
    (void)sleepers_take_locked(rt, w);
    pthread_mutex_unlock(&rt->idle_lock);
}

/*
 * Virtual clock: leave the sleepers if every worker is one of them, under
 * the lock that counts them, so exactly one worker decides to move time.
 * (`sleeping` as counted when w registered is not enough: a peer that
 * woke to look again and registered anew counts itself last too.)
 */
static bool leave_if_last(struct rill_runtime *rt, rill__worker_t *w)
{
    pthread_mutex_lock(&rt->idle_lock);
    bool last = rt->nsleepers == rt->nworkers && sleepers_take_locked(rt, w);
    pthread_mutex_unlock(&rt->idle_lock);
    return last;
}

static void fire_due_timers(struct rill_runtime *rt)
{
    if (rt->cfg.virtual_clock)
        return;
    rill_instant_t next = rill__load(&rt->next_deadline, RILL_ACQUIRE);
    if (next == RILL_FOREVER)
        return;
    rill_instant_t now = rill__mono_now();
    if (now >= next)
        rill__timers_fire(rt, now);
}

/* How long an idle worker leaves a lone task in a busy worker's queue
 * before it checks whether that worker is stuck in one long task. */
#define LONE_TASK_CHECK RILL_MS(1)

/* Returns true if it woke to check on a lone task (see steal_work). */
static bool worker_park(rill__worker_t *w)
{
    struct rill_runtime *rt = w->rt;
    rill__store(&w->sleep_word, 1, RILL_RELAXED);
    pthread_mutex_lock(&rt->idle_lock);
    rt->sleepers[rt->nsleepers++] = w->index;
    rill__store(&rt->nsleeping, rt->nsleepers, RILL_RELAXED);
    uint32_t sleeping = rt->nsleepers;
    pthread_mutex_unlock(&rt->idle_lock);
    /* seq_cst: pairs with the fence in rill__notify_work. */
    rill__fence(RILL_SEQ_CST);

    bool lone;
    if (work_visible(rt, w, &lone) || rill__load(&rt->stopping, RILL_ACQUIRE)) {
        sleepers_remove(rt, w);
        rill__store(&w->sleep_word, 0, RILL_RELAXED);
        return false;
    }
    if (rt->cfg.virtual_clock) {
        /* The last worker to go idle moves virtual time, unless a
         * blocking job (which may still send something) is running. It
         * leaves the sleepers first: the tasks the move wakes land in its
         * own LIFO slot and queue, which other workers do not count, so
         * while it still counted as asleep another worker waking up
         * (every LONE_TASK_CHECK while a peer is busy) could find itself
         * "last" too and move time again before those tasks ran. */
        if (sleeping == rt->nworkers &&
            rill__load(&rt->blocking_active, RILL_ACQUIRE) == 0 &&
            rill__load(&rt->next_deadline, RILL_ACQUIRE) != RILL_FOREVER &&
            leave_if_last(rt, w)) {
            rill__store(&w->sleep_word, 0, RILL_RELAXED);
            /* Sockets first (tokio's paused clock does the same): what
             * the kernel has ready now runs before time moves; what has
             * not arrived yet does not hold the clock (docs/io.md). */
            if (rill__reactor_poll_now(rt->reactor, w) == 0)
                (void)rill__virtual_advance(rt);
            return false;
        }
    }
    rill_instant_t until = RILL_FOREVER;
    int no_owner = 0;
    bool timer_owner = !rt->cfg.virtual_clock &&
                       rill__cas(&rt->timer_owner, &no_owner, (int)w->index + 1,
                                 RILL_ACQ_REL, RILL_RELAXED);
    if (timer_owner) {
        until = rill__load(&rt->next_deadline, RILL_ACQUIRE);
        rill__store(&rt->timer_sleep_until, until, RILL_SEQ_CST);
        /* A timer armed between our load and the store above either saw
         * our store (and wakes us) or is caught by this re-read. */
        rill_instant_t again = rill__load(&rt->next_deadline, RILL_SEQ_CST);
        if (again < until) {
            until = again;
            rill__store(&rt->timer_sleep_until, until, RILL_SEQ_CST);
        }
    }
    bool lone_check = false;
    if (lone || sleeping < rt->nworkers) {
        /* A lone task to watch, or a busy peer whose queue may fill
         * without a wake for us (woken tasks go to the waker's own
         * worker): look again in a while. */
        rill_instant_t check = rill__mono_now() + LONE_TASK_CHECK;
        if (check < until) {
            until = check;
            lone_check = true;
        }
    }
    /* The last worker to go idle, with tasks alive and no timer: maybe
     * a deadlock. Sleep only a while, then check (deadlock.c); nothing of
     * this runs while any worker is busy. */
    bool dl_check = false;
    uint64_t dl_snap = 0;
    if (sleeping == rt->nworkers && !lone) {
        rill_duration_t wait = rill__deadlock_arm(rt, w->index, &dl_snap);
        if (wait != RILL_FOREVER) {
            rill_instant_t at = rill__mono_now() + wait;
            if (at < until) {
                until = at;
                dl_check = true;
            }
        }
    }
    rill__fetch_add(&w->parks, 1, RILL_RELAXED);
    bool timed_out = false;
    size_t io_woke = 0;
    while (rill__load(&w->sleep_word, RILL_ACQUIRE) == 1) {
        /* With fds registered, one sleeping worker waits in epoll
         * instead of on its futex (reactor_epoll.c). With the virtual
         * clock only the last worker to go idle does: it is the one that
         * looks at the sockets before moving time, which it could not do
         * while another worker sat in epoll. */
        bool may_poll = !rt->cfg.virtual_clock || sleeping == rt->nworkers;
        if (!may_poll || !rill__reactor_park(rt->reactor, w, &w->sleep_word,
                                             until, &io_woke))
            rill__futex_wait(&w->sleep_word, 1, until);
        if (io_woke)
            break; /* it woke tasks, into this worker's queues */
        if (until != RILL_FOREVER && rill__mono_now() >= until) {
            timed_out = true;
            break;
        }
    }
    if (timer_owner) {
        rill__store(&rt->timer_sleep_until, RILL_FOREVER, RILL_RELAXED);
        rill__store(&rt->timer_owner, 0, RILL_RELEASE);
    }
    /* Still registered as a sleeper: the check sees every worker idle
     * only if nobody woke one meanwhile. */
    if (dl_check && timed_out)
        rill__deadlock_check(rt, dl_snap);
    sleepers_remove(rt, w);
    rill__store(&w->sleep_word, 0, RILL_RELAXED);
    /* Several connections became ready at once: let an idle peer share
     * them (they went to this worker's queue). */
    if (io_woke > 1)
        rill__notify_work(rt);
    fire_due_timers(rt);
    return lone_check && timed_out;
}

void *rill__worker_main(void *arg)
{
    rill__worker_t *w = arg;
    struct rill_runtime *rt = w->rt;
    /* 1 us timer slack: sleeps here are precise (the default 50 us slack
     * would blur sub-millisecond timers). */
    prctl(PR_SET_TIMERSLACK, 1000UL, 0, 0, 0);
    rill__tls_set_worker(w);
    rill__fiber_init_thread(&w->fiber);
    if (rt->cfg.stack_overflow_handler)
        rill__stack_thread_init();
    /* Workers' poll counts when this worker last went to sleep: a victim
     * whose count has not moved since ran one task the whole time. */
    uint64_t snap[256];
    bool late = false; /* woke to check on lone tasks */
    while (!rill__load(&rt->stopping, RILL_ACQUIRE)) {
        struct rill_task *t = next_local(w);
        if (!t && start_searching(w)) {
            for (int spin = 0; spin < SPIN_ROUNDS && !t; spin++) {
                t = steal_work(w, snap, late);
                if (!t)
                    rill__cpu_relax();
            }
            stop_searching(w, t != NULL);
        }
        late = false;
        if (!t) {
            fire_due_timers(rt);
            if (w->lifo || w->yield_head || !rill__localq_is_empty(&w->q))
                continue;
            for (unsigned i = 0; i < rt->nworkers; i++)
                snap[i] = rill__load(&rt->workers[i].polls, RILL_RELAXED);
            late = worker_park(w);
            continue;
        }
        run_task(w, t);
        if (w->tick % MAINTENANCE_INTERVAL == 0)
            fire_due_timers(rt);
        /* A busy worker looks at the sockets every RILL_IO_POLL_INTERVAL
         * tasks (one epoll_wait with timeout 0, skipped when another
         * worker polls or no fd is registered), so a hot task cannot
         * starve I/O (docs/io.md). */
        if (w->tick % RILL_IO_POLL_INTERVAL == 0)
            rill__reactor_poll_now(rt->reactor, w);
    }
    if (rt->cfg.stack_overflow_handler)
        rill__stack_thread_fini();
    rill__tls_set_worker(NULL);
    return NULL;
}
