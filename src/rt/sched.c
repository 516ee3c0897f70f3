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
 *   - spawned: to the back of the local queue, and an idle worker is told
 *     (new work should spread);
 *   - from anywhere else: to the inject queue, and an idle worker is woken;
 *   - pinned (rill_spawn_config_t.pinned): only ever onto its home
 *     worker: its LIFO slot or pinned list when the waker runs there, its
 *     pinned inbox (and a wake for it) from anywhere else.
 *
 * Yielding (rill_yield, a spent budget, or woken while it ran) puts the
 * task at the back of what is runnable (push_back): the back of the local
 * queue while the inject queue is empty and the local queue has room,
 * else the back of the inject queue, where everything else that waits
 * for a worker already is (a full local queue is never pushed to, so its
 * overflow never moves old tasks behind new ones); the
 * same holds for tasks spawned or woken on the worker (except the one in
 * the LIFO slot). The way to the inject queue is the worker's outbox,
 * moved there YIELD_BATCH tasks per lock. Workers take from the inject
 * queue in batches (a fair share, at most half a local queue) into the
 * back of their local queue when it runs dry and every
 * GLOBAL_QUEUE_INTERVAL ticks, putting their outbox back in the same
 * lock. The bound this gives (docs/runtime.md states it for users):
 *
 *   Let R be the number of other tasks that can be runnable while a task
 *   waits after it yielded. Counting the turns of the worker that runs it
 *   again (a worker runs one task per turn), the task runs again within
 *       R + R / 30 + 64 + (workers - 1) * YIELD_BATCH + 3 * H
 *   turns of other tasks, where H counts message hand-offs (a task woken
 *   by the task running before it, which runs next in the LIFO slot, at
 *   most LIFO_MAX_RUNS in a row). Why: a task queued ahead of it runs at
 *   most once before it (when it runs again it is behind); out of that
 *   order run at most the first task of an inject batch and the one task
 *   the timer wheel wakes into the LIFO slot, each once per 61 turns
 *   (R / 30); while the task sits in the outbox (at most 61 turns, or
 *   until YIELD_BATCH - 1 more tasks joined it) tasks may reach the inject
 *   queue ahead of it: those 61 turns, and up to one outbox of each other
 *   worker. The bound is in turns, not time: a worker the OS does not run
 *   takes no turns. Pinned tasks and the others share their worker turn
 *   about, so each side's bound at most doubles on a worker that has
 *   both.
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
 * less. Not when sockets are registered and every other worker sleeps
 * (spin_rounds): then only the reactor or another thread can bring work,
 * and both wake a sleeper, so it looks once and parks, going to wait in
 * epoll at once (N1, docs/performance.md).
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
/* Yielded tasks moved from the outbox to the inject queue per lock. */
#define YIELD_BATCH 32

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

/* Owner: a pinned task of this worker becomes runnable (FIFO). */
static void pin_push(rill__worker_t *w, struct rill_task *t)
{
    t->next = NULL;
    if (w->pin_tail)
        w->pin_tail->next = t;
    else
        w->pin_head = t;
    w->pin_tail = t;
}

/* Move the outbox to the back of the inject queue (one lock) and tell an
 * idle worker there is work. */
static void outbox_flush(rill__worker_t *w)
{
    if (!w->out_len)
        return;
    rill__inject_push_batch(w->rt, w->out_head, w->out_tail, w->out_len);
    w->out_head = w->out_tail = NULL;
    w->out_len = 0;
    rill__notify_work(w->rt);
}

/*
 * Owner: t (yielded, woken, displaced from the LIFO slot, or spawned)
 * goes to the back of what is runnable (the bound is in the file head).
 * A pinned task: its worker's pinned list. With the inject queue empty:
 * the back of the local queue (no lock; thieves may take it). Otherwise
 * tasks already wait in the inject queue, which is served only when the
 * local queue runs dry or once in GLOBAL_QUEUE_INTERVAL ticks, so a task
 * put in the local queue would run ahead of them (and, cycling there,
 * again and again): it goes behind them instead, through the outbox.
 * Once the outbox has tasks, later ones join it, so their order is kept.
 */
static void push_back(rill__worker_t *w, struct rill_task *t)
{
    if (t->pinned) {
        pin_push(w, t);
        return;
    }
    /* relaxed: a hint; a push racing with this read lands ahead of t or
     * behind it, either order is within the bound. A full local queue
     * is not pushed to: its overflow would move its oldest half to the
     * inject queue's back, behind newer tasks, and a worker that is
     * woken or spawned into faster than it runs would keep evicting the
     * same old tasks, which then never ran (a yielder waited 3,867 turns
     * beside 673 tasks that way, test_sched's mixed load). */
    if (w->out_len == 0 && rill__load(&w->rt->inject_len, RILL_RELAXED) == 0 &&
        rill__localq_room(&w->q) > 0) {
        rill__localq_push(&w->q, t, w->rt);
        return;
    }
    t->next = NULL;
    if (w->out_tail)
        w->out_tail->next = t;
    else
        w->out_head = t;
    w->out_tail = t;
    if (++w->out_len >= YIELD_BATCH)
        outbox_flush(w);
}

/* Any thread: a pinned task becomes runnable away from its home worker
 * (or while the runtime stops): into home's inbox, and wake home. */
static void pin_send(struct rill_runtime *rt, struct rill_task *t)
{
    rill__worker_t *home = &rt->workers[t->home];
    t->next = NULL;
    pthread_mutex_lock(&home->pin_lock);
    if (home->pin_in_tail)
        home->pin_in_tail->next = t;
    else
        home->pin_in_head = t;
    home->pin_in_tail = t;
    /* relaxed: written only under pin_lock; the owner's lock-free read is
     * a hint it confirms under the lock, and the fence below orders it
     * for a parking owner. */
    rill__store(&home->pin_in_len,
                rill__load(&home->pin_in_len, RILL_RELAXED) + 1, RILL_RELAXED);
    pthread_mutex_unlock(&home->pin_lock);
    /* seq_cst: pairs with the fence in worker_park: either the parking
     * owner's re-check (work_visible) sees pin_in_len, or this wake sees
     * its sleep word at 1. A busy or searching owner sees the inbox at
     * its next tick or spin. */
    rill__fence(RILL_SEQ_CST);
    rill__wake_worker(rt, t->home);
}

void rill__task_schedule(struct rill_task *t, bool spawned)
{
    struct rill_runtime *rt = t->rt;
    rill__worker_t *w = rill__tls_worker();
    bool here = w && w->rt == rt && !rill__load(&rt->stopping, RILL_RELAXED);
    if (t->pinned && !(here && w->index == t->home)) {
        pin_send(rt, t);
        return;
    }
    if (here) {
        if (spawned) {
            push_back(w, t);
            if (!t->pinned)
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
            push_back(w, prev);
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
        /* It yielded, or was woken while it ran. */
        push_back(w, t);
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

/*
 * Take a batch from the inject queue, putting the outbox back first (one
 * lock for both): the first task is returned to run now, the others go to
 * the back of the local queue (there is room: the batch is capped by it).
 * With the inject queue empty the outbox moves straight to the local
 * queue, without the lock. NULL when there is nothing.
 */
static struct rill_task *inject_take(rill__worker_t *w)
{
    struct rill_runtime *rt = w->rt;
    struct rill_task *t;
    size_t n;
    /* relaxed: a hint (see push_back); the swap reads it again under the
     * lock. The outbox goes straight to the local queue only if it fits
     * (an overflow would move the queue's oldest tasks behind it). */
    uint32_t room = rill__localq_room(&w->q);
    if (rill__load(&rt->inject_len, RILL_RELAXED) == 0 && w->out_len <= room) {
        if (!w->out_len)
            return NULL;
        t = w->out_head;
        n = w->out_len;
        w->out_head = w->out_tail = NULL;
        w->out_len = 0;
    } else {
        size_t max = (size_t)room + 1;
        if (max > RILL_LOCALQ_CAP / 2)
            max = RILL_LOCALQ_CAP / 2;
        t = rill__inject_swap(rt, w->out_head, w->out_tail, w->out_len, max,
                              &n);
        w->out_head = w->out_tail = NULL;
        w->out_len = 0;
        if (!t)
            return NULL;
    }
    struct rill_task *rest = t->next;
    t->next = NULL;
    while (rest) {
        struct rill_task *x = rest->next;
        rest->next = NULL;
        rill__localq_push(&w->q, rest, rt);
        rest = x;
    }
    /* Several moved here: a sleeping peer may share them. */
    if (n > 2)
        rill__notify_work(rt);
    return t;
}

/* Owner: move pinned tasks sent from other threads into the own list. */
static void pin_receive(rill__worker_t *w)
{
    /* relaxed: a hint; confirmed under pin_lock, whose acquire orders the
     * tasks' contents (the sender wrote them before its unlock). */
    if (rill__load(&w->pin_in_len, RILL_RELAXED) == 0)
        return;
    pthread_mutex_lock(&w->pin_lock);
    struct rill_task *h = w->pin_in_head, *tl = w->pin_in_tail;
    w->pin_in_head = w->pin_in_tail = NULL;
    rill__store(&w->pin_in_len, 0, RILL_RELAXED); /* under the lock */
    pthread_mutex_unlock(&w->pin_lock);
    if (!h)
        return;
    if (w->pin_tail)
        w->pin_tail->next = h;
    else
        w->pin_head = h;
    w->pin_tail = tl;
}

static struct rill_task *pin_pop(rill__worker_t *w)
{
    struct rill_task *t = w->pin_head;
    if (t) {
        w->pin_head = t->next;
        if (!w->pin_head)
            w->pin_tail = NULL;
        t->next = NULL;
    }
    return t;
}

static struct rill_task *next_local(rill__worker_t *w)
{
    w->tick++;
    pin_receive(w);
    /* Pinned tasks and the others take turns (file head: the bound). */
    if (w->pin_head && (w->pin_turn = !w->pin_turn))
        return pin_pop(w);
    if (w->tick % GLOBAL_QUEUE_INTERVAL == 0) {
        /* The inject queue now and then even while the local queue is
         * busy; the batch goes behind the local queue, only the first
         * task runs ahead of it. */
        struct rill_task *t = inject_take(w);
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
        push_back(w, t);
    }
    w->lifo_runs = 0;
    struct rill_task *t = rill__localq_pop(&w->q);
    if (!t)
        t = pin_pop(w);
    if (!t)
        t = inject_take(w);
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

/*
 * How many rounds a search that starts now may spin. A sleeping worker has
 * nothing queued, so with every other worker asleep no hand-off can come
 * from a peer: new work comes from the reactor (this worker is about to
 * wait in it, or the poller is) or from another thread (the inject queue,
 * which wakes a sleeper once nobody searches). With sockets registered
 * the spin then only delays this worker's epoll_wait and takes the CPU
 * the peer process needs to answer: 1-byte TCP ping-pong (N1) spent 12 %
 * of its CPU in it, and ran 10..15 % slower. Without sockets the spin
 * stays: it catches a plain thread's next send without a futex round
 * trip (W6). relaxed nsleeping: a hint; the park re-checks every queue
 * after registering, so a wrong guess costs time, never a wakeup.
 */
static int spin_rounds(const rill__worker_t *w)
{
    struct rill_runtime *rt = w->rt;
    if (rill__load(&rt->nsleeping, RILL_RELAXED) + 1 >= rt->nworkers &&
        rill__reactor_regs(rt->reactor) != 0)
        return 1;
    return SPIN_ROUNDS;
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
    return inject_take(w);
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
    /* relaxed: the seq_cst fence before this call orders these loads
     * after our registration as a sleeper (see the file head). */
    if (rill__load(&rt->inject_len, RILL_RELAXED) ||
        rill__load(&self->pin_in_len, RILL_RELAXED))
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

/* Some worker has pinned tasks sent to it that it has not taken yet. Read
 * after the seq_cst fence in worker_park (relaxed: see there); a worker
 * that moves virtual time must not do it while such a task (woken by the
 * last move, onto its home, which may still count as asleep) waits. */
static bool pinned_pending(struct rill_runtime *rt)
{
    for (unsigned i = 0; i < rt->nworkers; i++)
        if (rill__load(&rt->workers[i].pin_in_len, RILL_RELAXED))
            return true;
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

/*
 * What one park decided, step by step (worker_park): the deadline to
 * sleep until and why it was chosen, and what to undo when it wakes.
 */
typedef struct park {
    uint32_t sleeping;    /* sleepers, this one included, at registering */
    bool lone;            /* a peer holds one task that nobody steals */
    rill_instant_t until; /* sleep until (RILL_FOREVER: a wake) */
    bool timer_owner;     /* this worker sleeps for the timers */
    bool lone_check;      /* until is the look-again for a lone task */
    bool dl_check;        /* until is the deadlock detector's grace */
    uint64_t dl_snap;     /* the activity count the check compares */
    bool timed_out;       /* woke at until, not by a wake */
    size_t io_woke;       /* tasks the reactor woke while we slept */
} park_t;

/* Join the sleepers, then look for work once more. Returns false when
 * there is work (or the runtime stops): then w is not a sleeper. */
static bool park_register(rill__worker_t *w, park_t *pk)
{
    struct rill_runtime *rt = w->rt;
    rill__store(&w->sleep_word, 1, RILL_RELAXED);
    pthread_mutex_lock(&rt->idle_lock);
    rt->sleepers[rt->nsleepers++] = w->index;
    rill__store(&rt->nsleeping, rt->nsleepers, RILL_RELAXED);
    pk->sleeping = rt->nsleepers;
    pthread_mutex_unlock(&rt->idle_lock);
    /* seq_cst: pairs with the fence in rill__notify_work. */
    rill__fence(RILL_SEQ_CST);
    if (work_visible(rt, w, &pk->lone) ||
        rill__load(&rt->stopping, RILL_ACQUIRE)) {
        sleepers_remove(rt, w);
        rill__store(&w->sleep_word, 0, RILL_RELAXED);
        return false;
    }
    return true;
}

/*
 * Virtual clock: the last worker to go idle moves virtual time, unless a
 * blocking job (which may still send something) is running. It leaves the
 * sleepers first: the tasks the move wakes land in its own LIFO slot and
 * queue, which other workers do not count, so while it still counted as
 * asleep another worker waking up (every LONE_TASK_CHECK while a peer is
 * busy) could find itself "last" too and move time again before those
 * tasks ran. Returns true if this worker moved time (it is awake again).
 */
static bool park_move_virtual_time(rill__worker_t *w, const park_t *pk)
{
    struct rill_runtime *rt = w->rt;
    if (!rt->cfg.virtual_clock || pk->sleeping != rt->nworkers ||
        pinned_pending(rt) ||
        rill__load(&rt->blocking_active, RILL_ACQUIRE) != 0 ||
        rill__load(&rt->next_deadline, RILL_ACQUIRE) == RILL_FOREVER ||
        !leave_if_last(rt, w))
        return false;
    rill__store(&w->sleep_word, 0, RILL_RELAXED);
    /* Sockets first (tokio's paused clock does the same): what the kernel
     * has ready now runs before time moves; what has not arrived yet does
     * not hold the clock (docs/io.md). */
    if (rill__reactor_poll_now(rt->reactor, w) == 0)
        (void)rill__virtual_advance(rt);
    return true;
}

/* Real clock: one sleeping worker owns the timers and sleeps until the
 * next deadline (the others sleep until woken). */
static void park_take_timers(rill__worker_t *w, park_t *pk)
{
    struct rill_runtime *rt = w->rt;
    int no_owner = 0;
    pk->timer_owner = !rt->cfg.virtual_clock &&
                      rill__cas(&rt->timer_owner, &no_owner, (int)w->index + 1,
                                RILL_ACQ_REL, RILL_RELAXED);
    if (!pk->timer_owner)
        return;
    pk->until = rill__load(&rt->next_deadline, RILL_ACQUIRE);
    rill__store(&rt->timer_sleep_until, pk->until, RILL_SEQ_CST);
    /* A timer armed between our load and the store above either saw our
     * store (and wakes us) or is caught by this re-read. */
    rill_instant_t again = rill__load(&rt->next_deadline, RILL_SEQ_CST);
    if (again < pk->until) {
        pk->until = again;
        rill__store(&rt->timer_sleep_until, pk->until, RILL_SEQ_CST);
    }
}

/* Shorten the sleep for a look-again at a lone task or a busy peer, and
 * for the deadlock detector's grace period. */
static void park_set_checks(rill__worker_t *w, park_t *pk)
{
    struct rill_runtime *rt = w->rt;
    if (pk->lone || pk->sleeping < rt->nworkers) {
        /* A lone task to watch, or a busy peer whose queue may fill
         * without a wake for us (woken tasks go to the waker's own
         * worker): look again in a while. */
        rill_instant_t check = rill__mono_now() + LONE_TASK_CHECK;
        if (check < pk->until) {
            pk->until = check;
            pk->lone_check = true;
        }
    }
    /* The last worker to go idle, with tasks alive and no timer: maybe a
     * deadlock. Sleep only a while, then check (deadlock.c); nothing of
     * this runs while any worker is busy. */
    if (pk->sleeping == rt->nworkers && !pk->lone) {
        rill_duration_t wait = rill__deadlock_arm(rt, w->index, &pk->dl_snap);
        if (wait != RILL_FOREVER) {
            rill_instant_t at = rill__mono_now() + wait;
            if (at < pk->until) {
                pk->until = at;
                pk->dl_check = true;
            }
        }
    }
}

/* Sleep until woken, until pk->until, or until the reactor woke tasks. */
static void park_sleep(rill__worker_t *w, park_t *pk)
{
    struct rill_runtime *rt = w->rt;
    rill__fetch_add(&w->parks, 1, RILL_RELAXED); /* a statistic */
    while (rill__load(&w->sleep_word, RILL_ACQUIRE) == 1) {
        /* With fds registered, one sleeping worker waits in epoll
         * instead of on its futex (reactor_epoll.c). With the virtual
         * clock only the last worker to go idle does: it is the one that
         * looks at the sockets before moving time, which it could not do
         * while another worker sat in epoll. */
        bool may_poll = !rt->cfg.virtual_clock || pk->sleeping == rt->nworkers;
        if (!may_poll || !rill__reactor_park(rt->reactor, w, &w->sleep_word,
                                             pk->until, &pk->io_woke))
            rill__futex_wait(&w->sleep_word, 1, pk->until);
        if (pk->io_woke)
            break; /* it woke tasks, into this worker's queues */
        if (pk->until != RILL_FOREVER && rill__mono_now() >= pk->until) {
            pk->timed_out = true;
            break;
        }
    }
}

/* Awake: give up the timers, run the deadlock check if its grace ran
 * out, leave the sleepers, fire what is due. */
static void park_leave(rill__worker_t *w, const park_t *pk)
{
    struct rill_runtime *rt = w->rt;
    if (pk->timer_owner) {
        rill__store(&rt->timer_sleep_until, RILL_FOREVER, RILL_RELAXED);
        rill__store(&rt->timer_owner, 0, RILL_RELEASE);
    }
    /* Still registered as a sleeper: the check sees every worker idle
     * only if nobody woke one meanwhile. */
    if (pk->dl_check && pk->timed_out)
        rill__deadlock_check(rt, pk->dl_snap);
    sleepers_remove(rt, w);
    rill__store(&w->sleep_word, 0, RILL_RELAXED);
    /* Several connections became ready at once: let an idle peer share
     * them (they went to this worker's queue). */
    if (pk->io_woke > 1)
        rill__notify_work(rt);
    fire_due_timers(rt);
}

/* An idle worker's park, in its steps. Returns true if it woke to check
 * on a lone task (see steal_work). */
static bool worker_park(rill__worker_t *w)
{
    park_t pk = {.until = RILL_FOREVER};
    if (!park_register(w, &pk) || park_move_virtual_time(w, &pk))
        return false;
    park_take_timers(w, &pk);
    park_set_checks(w, &pk);
    park_sleep(w, &pk);
    park_leave(w, &pk);
    return pk.lone_check && pk.timed_out;
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
            int rounds = spin_rounds(w);
            for (int spin = 0; spin < rounds && !t; spin++) {
                /* Own pinned tasks sent meanwhile come first. */
                pin_receive(w);
                t = pin_pop(w);
                if (!t)
                    t = steal_work(w, snap, late);
                if (!t)
                    rill__cpu_relax();
            }
            stop_searching(w, t != NULL);
        }
        late = false;
        if (!t) {
            fire_due_timers(rt);
            /* relaxed pin_in_len: a hint; a send that this misses is
             * caught by worker_park's re-check after its fence. */
            if (w->lifo || w->pin_head || w->out_len ||
                !rill__localq_is_empty(&w->q) ||
                rill__load(&w->pin_in_len, RILL_RELAXED))
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
