/* SPDX-License-Identifier: MIT */
/*
 * task.c - the task object: its state machine, its waker, spawn, join,
 * detach, cancel, and awaiting inside a stackful task.
 *
 * Wake (any thread, any number of times; see TS_* in rt_int.h):
 *   COMPLETE or NOTIFIED set  -> nothing to do (no double scheduling)
 *   RUNNING                   -> set NOTIFIED; the worker re-queues the
 *                                task when the current run ends
 *   idle                      -> set NOTIFIED, take a reference for the
 *                                run queue, schedule
 * so a wake racing with the task's own poll is never lost: either the
 * poll has not yet ended (NOTIFIED is seen by the worker afterwards) or
 * it has (the waker schedules).
 *
 * Join protocol (after tokio's JOIN_WAKER):
 *   - the joiner writes join_waker only while JOIN_WAKER is clear, then
 *     sets JOIN_WAKER by CAS (release), which fails if COMPLETE is set;
 *   - completion sets COMPLETE; if JOIN_WAKER was set it takes the waker
 *     out of the task and wakes it; the joiner never touches join_waker
 *     again once it saw JOIN_WAKER and COMPLETE together.
 */
#include "rt_int.h"

#include "core/describe.h"

#include <sched.h>
#include <string.h>

static _Atomic uint64_t next_task_id = 1;

/* ---- TLS, read afresh through non-inlined calls ---- */

/*
 * A stackful task may suspend on one worker thread and resume on another.
 * The compiler is allowed to cache the address of a thread-local variable
 * across a call, so every access goes through these functions, which are
 * never inlined and so re-read the thread pointer on each call.
 */
/* initial-exec: a %fs-relative load instead of a __tls_get_addr call in
 * the PIC objects (the channel fast paths read tls_task on every
 * operation). Two pointers of static TLS; glibc's surplus also covers a
 * dlopen'd librill. */
#define RILL__TLS_IE __attribute__((tls_model("initial-exec")))
static _Thread_local rill__worker_t *tls_worker RILL__TLS_IE;
static _Thread_local struct rill_task *tls_task RILL__TLS_IE;

__attribute__((noinline)) rill__worker_t *rill__tls_worker(void)
{
    __asm__ __volatile__("" ::: "memory");
    return tls_worker;
}
__attribute__((noinline)) void rill__tls_set_worker(rill__worker_t *w)
{
    tls_worker = w;
}
__attribute__((noinline)) struct rill_task *rill__tls_task(void)
{
    __asm__ __volatile__("" ::: "memory");
    return tls_task;
}
__attribute__((noinline)) void rill__tls_set_task(struct rill_task *t)
{
    tls_task = t;
}

struct rill_task *rill__current_task(void)
{
    return rill__tls_task();
}

struct rill_runtime *rill__current_runtime(void)
{
    rill__worker_t *w = rill__tls_worker();
    return w ? w->rt : NULL;
}

rill_runtime_t *rill_runtime_current(void)
{
    return rill__current_runtime();
}

rill_task_t *rill_task_current(void)
{
    return rill__tls_task();
}

bool rill_task_is_cancelled(void)
{
    struct rill_task *t = rill__tls_task();
    return t && (rill__load(&t->state, RILL_ACQUIRE) & TS_CANCELLED);
}

/* ---- references ---- */

static void task_free(struct rill_task *t)
{
    RILL_ASSERT(!rill__list_linked(&t->live));
    rill_waker_release(&t->join_waker);
    rill__free(t->name);
    rill__free(t);
}

static void task_ref_inc(struct rill_task *t)
{
    /* relaxed: a new reference is made from an existing one. */
    rill__fetch_add(&t->state, TS_REF_ONE, RILL_RELAXED);
}

void rill__task_ref_dec(struct rill_task *t)
{
    /* acq_rel: the last holder must see all writes of the others before
     * freeing (the release halves of their decrements). */
    uint64_t prev = rill__fetch_sub(&t->state, TS_REF_ONE, RILL_ACQ_REL);
    RILL_ASSERT((prev & TS_REF_MASK) >= TS_REF_ONE);
    if ((prev & TS_REF_MASK) == TS_REF_ONE)
        task_free(t);
}

/* ---- the task waker ---- */

static rill_waker_t tk_clone(const void *d);
static void tk_wake_by_ref(const void *d)
{
    rill__task_wake_by_ref((struct rill_task *)d);
}
static void tk_release(const void *d)
{
    rill__task_ref_dec((struct rill_task *)d);
}
static void tk_wake(const void *d)
{
    rill__task_wake_by_ref((struct rill_task *)d);
    rill__task_ref_dec((struct rill_task *)d);
}
static const rill_waker_vtable_t task_waker_vtable = {
    tk_clone, tk_wake, tk_wake_by_ref, tk_release};
static rill_waker_t tk_clone(const void *d)
{
    task_ref_inc((struct rill_task *)d);
    return (rill_waker_t){&task_waker_vtable, d};
}

rill_waker_t rill__task_waker(struct rill_task *t)
{
    return (rill_waker_t){&task_waker_vtable, t};
}

void rill__task_wake_by_ref(struct rill_task *t)
{
    uint64_t s = rill__load(&t->state, RILL_ACQUIRE);
    uint64_t n;
    do {
        if (s & TS_COMPLETE)
            return;
        /*
         * Already notified: the run that notification leads to must see
         * what our caller wrote before waking (a select's claim word, an
         * item). A plain load that sees NOTIFIED gives no such order: our
         * caller's store could still sit in this core's store buffer while
         * the worker clears NOTIFIED (its RMW) and polls, finds nothing,
         * and parks the task with nobody left to wake it. So we still
         * write: the same value, with release, in the state's
         * modification order. If it lands before the worker's clearing
         * RMW, that RMW reads it and acquires our writes; if after, the
         * CAS fails and we see NOTIFIED clear and notify anew.
         */
        n = (s & TS_NOTIFIED) ? s : s | TS_NOTIFIED;
        if (!(s & (TS_RUNNING | TS_NOTIFIED)))
            n += TS_REF_ONE; /* the run queue's reference */
        /* acq_rel: release publishes what the waker's caller wrote (an
         * item in a channel) to the worker that acquires this state when
         * it starts the run; acquire orders us after the last run. */
    } while (!rill__cas_weak(&t->state, &s, n, RILL_ACQ_REL, RILL_ACQUIRE));
    if (s & (TS_RUNNING | TS_NOTIFIED))
        return; /* queued already, or the worker running it re-queues it */

    rill__worker_t *w = rill__tls_worker();
    if (w)
        rill__fetch_add(&w->wakeups, 1, RILL_RELAXED);
    else
        rill__fetch_add(&t->rt->foreign_wakeups, 1, RILL_RELAXED);
    rill__task_schedule(t, false);
}

/* ---- creation ---- */

int rill__task_new(struct rill_runtime *rt, uint8_t kind,
                   const rill_spawn_config_t *opts, bool has_handle,
                   struct rill_task **out)
{
    return rill__task_new_sized(rt, kind, opts, has_handle, 0, out);
}

int rill__task_new_sized(struct rill_runtime *rt, uint8_t kind,
                         const rill_spawn_config_t *opts, bool has_handle,
                         size_t extra, struct rill_task **out)
{
    struct rill_task *t = rill__calloc(1, RILL__TASK_SIZE(kind) + extra);
    if (!t)
        return RILL_ENOMEM;
    t->rt = rt;
    t->kind = kind;
    /* relaxed: ids only need to be unique. */
    t->id = rill__fetch_add(&next_task_id, 1, RILL_RELAXED);
    if (opts && opts->name && opts->name[0]) {
        size_t len = strnlen(opts->name, 31);
        t->name = rill__malloc(len + 1);
        if (!t->name) {
            rill__free(t);
            return RILL_ENOMEM;
        }
        memcpy(t->name, opts->name, len);
        t->name[len] = '\0';
    }
    /* One reference for the live list (a parked task whose waker nobody
     * holds any more must stay reachable, so shutdown can cancel it), one
     * for the scheduler (the task starts NOTIFIED: it is about to be
     * queued) and one for the handle. */
    uint64_t s = TS_NOTIFIED + 2 * TS_REF_ONE;
    if (has_handle)
        s += TS_REF_ONE + TS_JOIN_INTEREST;
    rill__store(&t->state, s, RILL_RELAXED);
    t->join_waker = RILL_WAKER_NONE;
    t->shard = (uint32_t)(t->id % RILL_LIVE_SHARDS);
    if (opts && opts->pinned && kind != TASK_BLOCKING) {
        /* Home: the spawning worker (its caches hold what the spawner
         * wrote), else round robin over the workers. */
        rill__worker_t *w = rill__tls_worker();
        t->pinned = true;
        if (w && w->rt == rt)
            t->home = (uint16_t)w->index;
        else /* relaxed: only a spread, ordered with nothing */
            t->home =
                (uint16_t)(rill__fetch_add(&rt->next_home, 1, RILL_RELAXED) %
                           rt->nworkers);
    }

    /* Register as live. Under the shard lock so rill_runtime_shutdown,
     * which sets shutting_down before walking the shards under the same
     * locks, either sees this task or we see its flag. */
    pthread_mutex_lock(&rt->live[t->shard].lock);
    if (rill__load(&rt->shutting_down, RILL_RELAXED)) {
        pthread_mutex_unlock(&rt->live[t->shard].lock);
        rill__free(t->name);
        rill__free(t);
        return RILL_ESHUTDOWN;
    }
    rill__list_push_back(&rt->live[t->shard].list, &t->live);
    rill__fetch_add(&rt->alive, 1, RILL_RELAXED);
    pthread_mutex_unlock(&rt->live[t->shard].lock);
    rill__fetch_add(&rt->spawned, 1, RILL_RELAXED);
    *out = t;
    return 0;
}

void rill__task_complete(struct rill_task *t, int status, void *result)
{
    struct rill_runtime *rt = t->rt;
    t->status = status;
    t->result = result;
    pthread_mutex_lock(&rt->live[t->shard].lock);
    rill__list_remove(&t->live);
    pthread_mutex_unlock(&rt->live[t->shard].lock);

    /* Not alive any more before the joiner can see COMPLETE, so a joiner
     * reading the counters right after join sees this task gone.
     * seq_cst on both (and in rill_runtime_shutdown): shutdown stores
     * shutting_down then reads alive, we decrement alive then read
     * shutting_down; seq_cst guarantees one of us sees the other, so the
     * last task never leaves shutdown asleep. */
    if (rill__fetch_sub(&rt->alive, 1, RILL_SEQ_CST) == 1 &&
        rill__load(&rt->shutting_down, RILL_SEQ_CST)) {
        rill__fetch_add(&rt->alive_word, 1, RILL_RELEASE);
        rill__futex_wake(&rt->alive_word, 1 << 30);
    }

    uint64_t s = rill__load(&t->state, RILL_RELAXED);
    /* acq_rel: release publishes status/result to the joiner (acquire in
     * join_poll); acquire makes the joiner's join_waker visible. */
    while (!rill__cas_weak(&t->state, &s, (s | TS_COMPLETE) & ~TS_RUNNING,
                           RILL_ACQ_REL, RILL_RELAXED))
        ;
    if (s & TS_JOIN_WAKER) {
        rill_waker_t w = t->join_waker;
        t->join_waker = RILL_WAKER_NONE;
        rill_waker_wake(&w);
    }
    rill__task_ref_dec(t); /* the live list's reference */
}

/* ---- spawn ---- */

static int spawn_common(struct rill_runtime *rt, struct rill_task *t,
                        rill_task_t **handle)
{
    if (handle)
        *handle = t;
    /* The local queue's back and a wake for an idle worker (the yield
     * path), not the LIFO slot: a new task is new work to spread. */
    rill__task_schedule(t, true);
    return 0;
}

/* cfg->runtime, or the calling task's runtime (NULL on a plain thread). */
static rill_runtime_t *spawn_runtime(const rill_spawn_config_t *cfg)
{
    return cfg && cfg->runtime ? cfg->runtime : rill__current_runtime();
}

int rill_spawn(rill_task_t **task, rill_task_fn fn, void *arg,
               const rill_spawn_config_t *cfg)
{
    if (task)
        *task = NULL;
    rill_runtime_t *rt = spawn_runtime(cfg);
    if (!rt)
        return RILL_MISUSE("rill_spawn", "no runtime: call it from a task "
                                         "or set cfg->runtime");
    if (!fn)
        return RILL_MISUSE("rill_spawn", "NULL task function");
    size_t ss = cfg && cfg->stack_size ? cfg->stack_size : rt->cfg.stack_size;
    if (ss < 16 * 1024 || ss > 64 * 1024 * 1024)
        return RILL_MISUSE("rill_spawn",
                           "stack size %zu out of range "
                           "[16 KiB, 64 MiB]",
                           ss);
    /* The stack is mapped here, not at the first run: a spawn that cannot
     * have a stack (out of memory, vm.max_map_count reached) fails with
     * RILL_ENOMEM in the caller's hands, instead of a task that ends
     * without running while whoever waits for its work waits forever. */
    rill__stack_t *stack;
    int rc = rill__stack_get(rt->stacks, ss, &stack);
    if (rc)
        return rc;
    struct rill_task *t;
    rc = rill__task_new(rt, TASK_STACKFUL, cfg, task != NULL, &t);
    if (rc) {
        rill__stack_put(rt->stacks, stack);
        return rc;
    }
    t->u.sf.fn = fn;
    t->u.sf.arg = arg;
    t->u.sf.stack_size = ss;
    t->u.sf.stack = stack;
    return spawn_common(rt, t, task);
}

/* Where an embedded future starts in a task block: after the task, at
 * max_align_t alignment. */
static size_t embed_offset(void)
{
    size_t a = _Alignof(max_align_t);
    return (RILL__TASK_SIZE(TASK_FUTURE) + a - 1) / a * a;
}

/* Both stackless spawns: fut by pointer, or (embed) its `size` bytes
 * copied into the task's allocation; fut is then only read. */
static int spawn_future(const char *api, rill_task_t **task, rill_future_t *fut,
                        bool embed, size_t size, const rill_spawn_config_t *cfg)
{
    if (task)
        *task = NULL;
    rill_runtime_t *rt = spawn_runtime(cfg);
    if (!rt)
        return RILL_MISUSE(api, "no runtime");
    if (!fut || !fut->vtable || !fut->vtable->poll)
        return RILL_MISUSE(api, "NULL future or vtable");
    size_t extra = 0, off = embed_offset();
    if (embed) {
        if (size < sizeof *fut || size > RILL_SPAWN_FUTURE_IN_MAX)
            return RILL_MISUSE(api, "size %zu (must be %zu..%zu)", size,
                               sizeof *fut, (size_t)RILL_SPAWN_FUTURE_IN_MAX);
        extra = off - RILL__TASK_SIZE(TASK_FUTURE) + size;
    }
    struct rill_task *t;
    int rc =
        rill__task_new_sized(rt, TASK_FUTURE, cfg, task != NULL, extra, &t);
    if (rc)
        return rc;
    if (embed) {
        t->u.fu.fut = (rill_future_t *)(void *)((char *)t + off);
        memcpy(t->u.fu.fut, fut, size);
    } else {
        t->u.fu.fut = fut;
    }
    return spawn_common(rt, t, task);
}

int rill_spawn_future(rill_task_t **task, rill_future_t *fut,
                      const rill_spawn_config_t *cfg)
{
    return spawn_future("rill_spawn_future", task, fut, false, 0, cfg);
}

int rill_spawn_future_in(rill_task_t **task, const rill_future_t *proto,
                         size_t size, const rill_spawn_config_t *cfg)
{
    return spawn_future("rill_spawn_future_in", task,
                        (rill_future_t *)(uintptr_t)proto, true, size, cfg);
}

/* ---- join ---- */

typedef rill__join_op_t join_op_t;

static int join_output(join_op_t *op)
{
    struct rill_task *t = op->t;
    if (op->result && t->kind != TASK_FUTURE)
        *op->result = t->result;
    return t->status;
}

int rill__join_poll(rill_future_t *f, rill_cx_t *cx)
{
    join_op_t *op = (join_op_t *)f;
    struct rill_task *t = op->t;
    /* acquire: pairs with the release in rill__task_complete. */
    uint64_t s = rill__load(&t->state, RILL_ACQUIRE);
    if (s & TS_COMPLETE)
        return join_output(op);
    if (s & TS_JOIN_WAKER) {
        /* Take the waker slot back before reading it: while the bit is
         * set, the completer may be moving join_waker out (a thread's
         * parker is woken spuriously by earlier wakers, so this path runs
         * with the task completing). */
        do {
            if (s & TS_COMPLETE)
                return join_output(op);
        } while (!rill__cas_weak(&t->state, &s, s & ~TS_JOIN_WAKER,
                                 RILL_ACQUIRE, RILL_ACQUIRE));
        rill_waker_release(&t->join_waker);
    }
    t->join_waker = rill_waker_clone(cx->waker);
    /* acquire (load and failed CAS): if COMPLETE shows up, its release
     * publishes the output. (Acquire loads, not a fence: ThreadSanitizer
     * does not model standalone fences.) */
    s = rill__load(&t->state, RILL_ACQUIRE);
    do {
        if (s & TS_COMPLETE) {
            rill_waker_release(&t->join_waker);
            return join_output(op);
        }
        /* release: the completer reads join_waker after seeing the bit. */
    } while (!rill__cas_weak(&t->state, &s, s | TS_JOIN_WAKER, RILL_ACQ_REL,
                             RILL_ACQUIRE));
    return RILL_PENDING;
}

/* Reads the joined task's immutable id, name and kind, and its state
 * word (atomic): safe while the join waits (the handle keeps it alive). */
static int join_describe(const rill_future_t *f, rill_instant_t now, char *buf,
                         size_t len)
{
    const join_op_t *op = (const join_op_t *)f;
    struct rill_task *t = op->t;
    rill__buf_t b;
    rill__buf_init(&b, buf, len);
    uint64_t s = rill__load(&t->state, RILL_RELAXED); /* a snapshot */
    rill__buf_printf(&b, "join %s %llu",
                     t->kind == TASK_BLOCKING ? "blocking job" : "task",
                     (unsigned long long)t->id);
    if (t->name)
        rill__buf_printf(&b, " '%s'", t->name);
    rill__buf_printf(&b, " (%s)", rill__task_state_name(t, s));
    RILL_UNUSED(now);
    return rill__buf_result(&b);
}

static const rill_future_vtable_t join_vtable = {rill__join_poll, NULL, NULL,
                                                 join_describe};

void rill__join_op_init(join_op_t *op, struct rill_task *t, void **result)
{
    op->base.vtable = &join_vtable;
    op->t = t;
    op->result = result;
}

/* Consume the handle: clear interest, drop a registered join waker. */
static void handle_drop(struct rill_task *t)
{
    uint64_t s = rill__load(&t->state, RILL_ACQUIRE);
    uint64_t n;
    do {
        n = (s & ~(TS_JOIN_INTEREST)) | TS_JOINED;
        if (!(s & TS_COMPLETE))
            n &= ~TS_JOIN_WAKER;
    } while (!rill__cas_weak(&t->state, &s, n, RILL_ACQ_REL, RILL_ACQUIRE));
    /* Not complete and we cleared JOIN_WAKER: the waker is ours again. */
    if (!(s & TS_COMPLETE) && (s & TS_JOIN_WAKER))
        rill_waker_release(&t->join_waker);
    rill__task_ref_dec(t);
}

static int handle_check(const char *api, struct rill_task *t)
{
    if (!t)
        return RILL_MISUSE(api, "NULL task handle");
    uint64_t s = rill__load(&t->state, RILL_ACQUIRE);
    if ((s & TS_JOINED) || !(s & TS_JOIN_INTEREST))
        return RILL_MISUSE_AS(RILL_EALREADY, api,
                              "task handle already joined or detached");
    return 0;
}

int rill_join(rill_task_t *task, void **result)
{
    int rc = handle_check("rill_join", task);
    if (rc)
        return rc;
    join_op_t op = {{&join_vtable}, task, result};
    rc = rill_await(&op.base);
    if (rc == RILL_ECANCELED &&
        !(rill__load(&task->state, RILL_ACQUIRE) & TS_COMPLETE))
        return rc; /* the joiner was cancelled: the handle stays valid */
    handle_drop(task);
    return rc;
}

int rill__join_shielded(rill_task_t *task, void **result)
{
    struct rill_task *self = rill__tls_task();
    if (self)
        self->cancel_shield++;
    int rc = rill_join(task, result);
    if (self)
        self->cancel_shield--;
    return rc;
}

int rill_task_detach(rill_task_t *task)
{
    int rc = handle_check("rill_task_detach", task);
    if (rc)
        return rc;
    handle_drop(task);
    return 0;
}

/* ---- cancel and accessors ---- */

int rill_task_cancel(rill_task_t *task)
{
    if (!task)
        return RILL_MISUSE("rill_task_cancel", "NULL task handle");
    uint64_t s = rill__fetch_or(&task->state, TS_CANCELLED, RILL_ACQ_REL);
    if (s & (TS_COMPLETE | TS_CANCELLED))
        return 0;
    if (task->kind == TASK_BLOCKING) {
        if (rill__blocking_cancel(task->rt->blocking, &task->u.bl.job)) {
            rill__task_complete(task, RILL_ECANCELED, NULL);
            rill__blocking_job_done(task->rt);
            rill__task_ref_dec(task); /* the job's reference */
        }
        return 0;
    }
    /* Resume it so its pending operation returns RILL_ECANCELED. */
    rill__task_wake_by_ref(task);
    return 0;
}

uint64_t rill_task_id(const rill_task_t *task)
{
    return task ? task->id : 0;
}

const char *rill_task_name(const rill_task_t *task)
{
    return task && task->name ? task->name : "";
}

bool rill_task_is_finished(const rill_task_t *task)
{
    return task && (rill__load(&((rill_task_t *)task)->state, RILL_ACQUIRE) &
                    TS_COMPLETE);
}

/* ---- awaiting inside a stackful task ---- */

/* Switch back to the worker; returns when the task is resumed (maybe on
 * another worker, which then updates t->u.sf.worker and resets its
 * budget). */
static void task_suspend(struct rill_task *t)
{
    rill__fiber_switch(&t->u.sf.fiber, &t->u.sf.worker->fiber);
}

/* Self-wake and suspend: the worker puts us at the back of its queue. */
static void task_yield_now(struct rill_task *t)
{
    rill__task_wake_by_ref(t);
    task_suspend(t);
}

/* The diagnostics lock (see dlock in rt_int.h): a byte spin lock, held
 * for a few instructions by the task and for one describe by the dump. */
void rill__task_dlock(struct rill_task *t)
{
    /* acquire: pairs with the release in rill__task_dunlock. */
    while (rill__xchg(&t->dlock, 1, RILL_ACQUIRE))
        while (rill__load(&t->dlock, RILL_RELAXED))
            rill__cpu_relax();
}

void rill__task_dunlock(struct rill_task *t)
{
    rill__store(&t->dlock, 0, RILL_RELEASE);
}

void rill__task_diag_set(struct rill_task *t, rill_future_t *f,
                         rill_instant_t deadline)
{
    rill__task_dlock(t);
    t->u.sf.awaited = f;
    t->u.sf.await_deadline = deadline;
    rill__task_dunlock(t);
}

void rill__task_diag_clear_future(struct rill_task *t)
{
    rill__task_dlock(t);
    t->u.fu.fut = NULL;
    rill__task_dunlock(t);
}

const char *rill__task_state_name(const struct rill_task *t, uint64_t s)
{
    if (s & TS_COMPLETE)
        return "done";
    if (t->kind == TASK_BLOCKING)
        return (s & TS_RUNNING) ? "running" : "queued";
    if (s & TS_RUNNING)
        return "running";
    if (s & TS_NOTIFIED)
        return "runnable";
    return "waiting";
}

/* A cancel request seen while awaiting `f` (unless shielded): `f` is
 * cancelled and *r is its outcome, RILL_ECANCELED if it was still pending
 * (a cancel that lost the race to completion keeps the result). The
 * acquire load pairs with the acq_rel fetch_or of rill_task_cancel. */
static bool await_cancelled(struct rill_task *t, rill_future_t *f, int *r)
{
    if (t->cancel_shield ||
        !(rill__load(&t->state, RILL_ACQUIRE) & TS_CANCELLED))
        return false;
    *r = rill_future_cancel(f);
    if (*r == RILL_PENDING)
        *r = RILL_ECANCELED;
    return true;
}

/* The slow path of rill__task_await: the first poll was PENDING. */
static int await_slow(struct rill_task *t, rill_future_t *f,
                      rill_instant_t deadline, rill_cx_t *cx)
{
    rill_sleep_op_t timer;
    bool timer_armed = false;
    int r;
    rill__task_diag_set(t, f, deadline);
    for (;;) {
        if (await_cancelled(t, f, &r))
            break;
        if (deadline != RILL_FOREVER) {
            if (!timer_armed) {
                rill_sleep_op(&timer, deadline);
                timer_armed = true;
            }
            if (rill_future_poll(&timer.base, cx) != RILL_PENDING) {
                r = rill_future_cancel(f);
                if (r == RILL_PENDING)
                    r = RILL_ETIMEDOUT;
                break;
            }
        }
        task_suspend(t);
        if (await_cancelled(t, f, &r))
            break;
        cx->budget = t->u.sf.worker->budget;
        r = rill_future_poll(f, cx);
        t->u.sf.worker->budget = cx->budget;
        if (r != RILL_PENDING)
            break;
    }
    rill__task_diag_set(t, NULL, RILL_FOREVER);
    if (timer_armed)
        rill_sleep_op_cancel(&timer);
    return r;
}

/*
 * The fast path is one poll: no atomic on the task's shared state word
 * (other cores write it when they wake the task, so touching it here would
 * cost a cache miss per operation). Cancellation is therefore seen when
 * the task would wait, after every suspension and at every budget yield:
 * a cancelled task that keeps finding ready operations unwinds within one
 * budget (128 operations by default).
 */
int rill__task_await(struct rill_task *t, rill_future_t *f,
                     rill_instant_t deadline)
{
    rill__worker_t *w = t->u.sf.worker;
    rill_waker_t wk = rill__task_waker(t);
    int32_t before = w->budget;
    rill_cx_t cx = {&wk, before, NULL};
    int r = rill_future_poll(f, &cx);
    w->budget = cx.budget;
    if (RILL_UNLIKELY(r == RILL_PENDING)) {
        r = await_slow(t, f, deadline, &cx);
        before = -1; /* it waited: a fresh turn, nothing to spend */
    }
    /* Cooperative budget: an operation that was ready spends one unit
     * (unless the resource already spent it through rill_cx_spend); when
     * the budget is gone the task yields so others can run. */
    w = t->u.sf.worker; /* may have migrated while it waited */
    if (w->budget > 0 && w->budget == before)
        w->budget--;
    if (w->budget == 0)
        task_yield_now(t);
    return r;
}

/* Never inlined, and it never suspends: so it may read tls_task directly
 * (no switch can happen between the read of the thread pointer and the
 * use). Saves a call on every channel fast path. */
__attribute__((noinline)) bool rill__coop_spend(void)
{
    struct rill_task *t = tls_task;
    if (!t)
        return true;
    rill__worker_t *w = t->u.sf.worker;
    if (w->budget < 0)
        return true;
    if (w->budget <= 1)
        return false;
    w->budget--;
    return true;
}

int rill_yield(void)
{
    struct rill_task *t = rill__tls_task();
    if (!t) {
        sched_yield();
        return 0;
    }
    if (rill__load(&t->state, RILL_ACQUIRE) & TS_CANCELLED)
        return RILL_ECANCELED;
    task_yield_now(t);
    return 0;
}
