/* SPDX-License-Identifier: MIT */
/*
 * rt_int.h - private to src/rt: the structures of the runtime shared by its
 * files (tasks, workers, the runtime object) and their internal calls.
 *
 * Ownership map:
 *   runtime  owns workers, the inject queue, the timer wheel, the stack
 *            pool, the blocking pool, and the list of live tasks (sharded).
 *   worker   owns its local run queue (others may only steal from it), its
 *            LIFO slot and its scheduler fiber.
 *   task     is reference counted: the live list (until it completes),
 *            the join handle, the run queue entry (while NOTIFIED) and
 *            every waker clone each hold one reference.
 */
#ifndef RILL_RT_INT_H
#define RILL_RT_INT_H

#include "core/atomic.h"
#include "core/core.h"
#include "futex.h"
#include "rt.h"

#include "blocking.h"
#include "reactor.h"
#include "stack.h"
#include "switch.h"
#include "timer_wheel.h"

#include <pthread.h>

typedef struct rill__worker rill__worker_t;

/* ---- plain-thread parking (park.c) ---- */
typedef struct rill__parker rill__parker_t;
rill__parker_t *rill__thread_parker(void);
void rill__parker_unpark(rill__parker_t *p);
/* A timer polled on a plain thread asks the thread to wake by `deadline`. */
void rill__thread_park_hint(rill_instant_t deadline);
/* rill_await on a plain thread. */
int rill__thread_await(rill_future_t *f, rill_instant_t deadline);

/* ------------------------------------------------------------------------ */
/* Tasks (task.c)                                                            */
/* ------------------------------------------------------------------------ */

/*
 * The task state word: flags in the low 16 bits, reference count above
 * (tokio's runtime/task/state.rs layout). Every transition is one CAS.
 *
 *   RUNNING       a worker is polling / has switched into the task
 *   NOTIFIED      the task is in a run queue, or will be put back in one
 *                 by the worker that is running it (woken while RUNNING)
 *   COMPLETE      finished; status/result are published (release)
 *   CANCELLED     rill_task_cancel was called
 *   JOIN_INTEREST the join handle exists
 *   JOIN_WAKER    join_waker holds the joiner's waker (see join protocol
 *                 in task.c)
 *   JOINED        the handle was consumed (join or detach)
 */
#define TS_RUNNING ((uint64_t)1 << 0)
#define TS_NOTIFIED ((uint64_t)1 << 1)
#define TS_COMPLETE ((uint64_t)1 << 2)
#define TS_CANCELLED ((uint64_t)1 << 3)
#define TS_JOIN_INTEREST ((uint64_t)1 << 4)
#define TS_JOIN_WAKER ((uint64_t)1 << 5)
#define TS_JOINED ((uint64_t)1 << 6)
#define TS_REF_ONE ((uint64_t)1 << 16)
#define TS_REF_MASK (~(TS_REF_ONE - 1))

enum rill__task_kind {
    TASK_STACKFUL,
    TASK_FUTURE,
    TASK_BLOCKING,
};

struct rill_task {
    _Atomic uint64_t state;
    /* Link in the one list the task is in while it is queued outside a
     * local ring: the inject queue (under rt->inject_lock), a worker's
     * yield outbox or pinned list (owner only), or a pinned inbox (under
     * that worker's pin_lock). */
    struct rill_task *next;
    struct rill_runtime *rt;
    uint64_t id;
    uint8_t kind;
    /* started/exited belong to the worker that has the task RUNNING (the
     * RUNNING bit is the lock). */
    bool started;
    bool exited;
    /* > 0 while the task waits in rill__join_shielded: its awaits ignore
     * its cancellation. Read and written by the task itself only. */
    uint8_t cancel_shield;
    /* rill_spawn_config_t.pinned: the task runs only on workers[home]
     * (never stolen, never in the inject queue or a local ring, always
     * woken onto home's own lists). Both are set at spawn, then only
     * read. */
    bool pinned;
    uint16_t home;
    /* The diagnostics lock (a byte in what was padding): held around
     * setting and clearing u.sf.awaited (a stackful task's slow wait
     * path) and u.fu.fut (before a stackless task's future is dropped),
     * and by rill_runtime_dump while it describes that future, so the
     * future cannot go away under the dump. Never taken on the await
     * fast path. See dump.c. */
    _Atomic uint8_t dlock;
    /* Final outcome: written before COMPLETE is set (release), read by the
     * joiner after it saw COMPLETE (acquire). */
    int status;
    void *result;
    /* Joiner's waker; see the join protocol in task.c. */
    rill_waker_t join_waker;
    /* Link in rt's live-task shard; under that shard's lock. */
    rill__list_t live;
    uint32_t shard;
    char *name; /* NULL = unnamed; owned, at most 31 bytes */
    union {
        struct {
            /* The worker running the task right now (set at each resume;
             * a task may migrate). Kept here, far from `state`, which other
             * cores write when they wake the task: the running task reads
             * it on every await, and it must not share that cache line. */
            rill__worker_t *worker;
            rill__fiber_t fiber;
            rill__stack_t *stack;
            size_t stack_size;
            rill_task_fn fn;
            void *arg;
            /* What the task waits for in rill_await (NULL: nothing) and
             * the await's deadline; under dlock (written by the task on
             * its slow wait path only, read by the dump). */
            rill_future_t *awaited;
            rill_instant_t await_deadline;
        } sf;
        struct {
            rill_future_t *fut;
        } fu;
        struct {
            rill__blocking_job_t job;
            rill_task_fn fn;
            void *arg;
        } bl;
    } u;
};

/* Bytes to allocate for a task of a kind: stackless and blocking tasks
 * leave out the stackful part of the union (100,000 parked stackless tasks
 * must fit in a few MiB). */
#define RILL__TASK_SIZE(kind)                                                  \
    ((kind) == TASK_STACKFUL ? sizeof(struct rill_task)                        \
     : (kind) == TASK_FUTURE ? offsetof(struct rill_task, u) +                 \
                                   sizeof(((struct rill_task *)0)->u.fu)       \
                             : offsetof(struct rill_task, u) +                 \
                                   sizeof(((struct rill_task *)0)->u.bl))

/* Allocate a task with one reference for the handle (if has_handle) and
 * one for the scheduler; registers it as live. */
int rill__task_new(struct rill_runtime *rt, uint8_t kind,
                   const rill_spawn_config_t *opts, bool has_handle,
                   struct rill_task **out);
/* The same with `extra` bytes after the task (an embedded future). */
int rill__task_new_sized(struct rill_runtime *rt, uint8_t kind,
                         const rill_spawn_config_t *opts, bool has_handle,
                         size_t extra, struct rill_task **out);
void rill__task_ref_dec(struct rill_task *t);
/* Publish the outcome, wake the joiner, unregister from the live list. */
void rill__task_complete(struct rill_task *t, int status, void *result);
/* Schedule a task that was woken, or (spawned) was just made (caller
 * transferred one reference). */
void rill__task_schedule(struct rill_task *t, bool spawned);
/* The task's own waker (borrowed: no reference taken). */
rill_waker_t rill__task_waker(struct rill_task *t);
/* Wake a task by reference. */
void rill__task_wake_by_ref(struct rill_task *t);
/* rill_await inside a stackful task. */
int rill__task_await(struct rill_task *t, rill_future_t *f,
                     rill_instant_t deadline);

/* ------------------------------------------------------------------------ */
/* Run queues (queue.c)                                                      */
/* ------------------------------------------------------------------------ */

/* The model tests (tests/model) build with a smaller ring, so that their
 * few tasks wrap it and overflow it. */
#ifndef RILL_LOCALQ_CAP
#define RILL_LOCALQ_CAP 256
#endif
#define RILL_LOCALQ_MASK (RILL_LOCALQ_CAP - 1)

/*
 * A worker's local run queue: a bounded ring that its owner pushes at the
 * tail and pops at the head (FIFO), and that other workers steal half of
 * from the head (tokio's multi_thread/queue.rs design). `head` packs two
 * 32-bit indices: `steal` (where a steal in progress began) and `real`
 * (the next task to pop). Slots are atomics accessed relaxed: the
 * acquire/release on head and tail orders them.
 */
typedef struct rill__localq {
    RILL_ALIGN_CL _Atomic uint64_t head; /* pack(steal, real) */
    RILL_ALIGN_CL _Atomic uint32_t tail; /* written by the owner only */
    _Atomic(struct rill_task *) buf[RILL_LOCALQ_CAP];
} rill__localq_t;

void rill__localq_init(rill__localq_t *q);
/* Owner: push to the tail; on overflow moves half the queue plus t to the
 * runtime's inject queue. */
void rill__localq_push(rill__localq_t *q, struct rill_task *t,
                       struct rill_runtime *rt);
/* Owner: pop from the head, NULL if empty. */
struct rill_task *rill__localq_pop(rill__localq_t *q);
/* Thief: move about half of src into dst (dst's owner calling) and return
 * one task to run now, or NULL. Only steals when src holds >= min tasks. */
struct rill_task *rill__localq_steal(rill__localq_t *src, rill__localq_t *dst,
                                     uint32_t min);
bool rill__localq_is_empty(rill__localq_t *q);
uint32_t rill__localq_len(rill__localq_t *q);

/* Free slots of the owner's local queue (0 when full). */
uint32_t rill__localq_room(rill__localq_t *q);

/* The runtime-wide inject queue (mutex + list; len readable lock-free). */
void rill__inject_push(struct rill_runtime *rt, struct rill_task *t);
void rill__inject_push_batch(struct rill_runtime *rt, struct rill_task *first,
                             struct rill_task *last, size_t n);
/*
 * One lock acquisition for both directions: append the list
 * first..last (n tasks, may be 0) at the tail, then take up to `max`
 * tasks from the head (fewer if fewer are queued; at most the queue's
 * length / nworkers + 1, a fair share). Returns the first taken, linked
 * through ->next to the others (the last's next is NULL), and their
 * count in *taken.
 */
struct rill_task *rill__inject_swap(struct rill_runtime *rt,
                                    struct rill_task *first,
                                    struct rill_task *last, size_t n,
                                    size_t max, size_t *taken);

/* ------------------------------------------------------------------------ */
/* Workers and the runtime (sched.c, runtime.c)                              */
/* ------------------------------------------------------------------------ */

struct rill__worker {
    rill__localq_t q;
    struct rill_runtime *rt;
    unsigned index;
    /* Owner-only fields. */
    struct rill_task *lifo; /* the task woken last by this worker */
    /* The yield outbox: tasks that yielded (or were woken while they ran)
     * while the inject queue was not empty, linked through task->next, in
     * the order they yielded. They belong at the back of the inject queue
     * (behind everything runnable); the outbox moves them there
     * YIELD_BATCH at a time, so a yield costs a lock only once per batch
     * (sched.c gives the bound this keeps). */
    struct rill_task *out_head, *out_tail;
    uint32_t out_len;
    unsigned lifo_runs; /* consecutive LIFO runs (capped) */
    /* Pinned tasks whose home this is, runnable, in FIFO order, linked
     * through task->next: owner only. pin_turn alternates the worker
     * between them and its other queues. */
    struct rill_task *pin_head, *pin_tail;
    bool pin_turn;
    uint32_t rng;
    uint64_t tick;
    /* Cooperative budget of the stackful task running now; reset at
     * every resume (a real suspension ends the task's turn anyway). */
    int32_t budget;
    bool searching;
    rill__fiber_t fiber; /* the scheduler loop's own context */
    pthread_t thread;
    /* Futex word: 1 while parked (or about to), 0 to wake. */
    RILL_ALIGN_CL _Atomic uint32_t sleep_word;
    /* Pinned tasks scheduled from other threads for this worker: a list
     * under pin_lock, its length readable lock-free (a hint for the
     * owner's every-tick check, exact under the lock). */
    RILL_ALIGN_CL pthread_mutex_t pin_lock;
    struct rill_task *pin_in_head, *pin_in_tail; /* under pin_lock */
    _Atomic uint32_t pin_in_len;
    /* Counters: written by the owner (relaxed: monotonic statistics),
     * read by rill_runtime_stats. */
    _Atomic uint64_t polls, steals, parks, wakeups;
};

#define RILL_LIVE_SHARDS 16

struct rill_runtime {
    rill_runtime_config_t cfg;
    unsigned nworkers;
    rill__worker_t *workers;

    /* Home of the next pinned task spawned from outside any worker
     * (round robin; relaxed: any spread will do). */
    _Atomic uint32_t next_home;

    /* Inject queue: tasks scheduled from outside a worker, overflow. */
    pthread_mutex_t inject_lock;
    struct rill_task *inject_head, *inject_tail; /* under inject_lock */
    _Atomic size_t inject_len; /* written under lock, read lock-free */

    /* Idle workers. sleepers[] is a stack of worker indices under
     * idle_lock; nsleeping mirrors its size for lock-free checks. */
    pthread_mutex_t idle_lock;
    unsigned *sleepers;
    unsigned nsleepers;
    _Atomic uint32_t nsleeping;
    _Atomic uint32_t nsearching;

    /* Lifecycle. */
    _Atomic bool shutting_down;  /* no new tasks; live ones cancelled */
    _Atomic bool stopping;       /* workers exit their loops */
    _Atomic uint64_t alive;      /* tasks spawned, not yet complete */
    _Atomic uint32_t alive_word; /* futex: bumped when alive hits 0 */
    struct {
        pthread_mutex_t lock;
        rill__list_t list;
    } live[RILL_LIVE_SHARDS];

    /* Time. The wheel and every armed sleep op are under timer_lock.
     * next_deadline caches the wheel's earliest deadline for lock-free
     * "anything due?" checks; vnow is the virtual clock. */
    pthread_mutex_t timer_lock;
    rill__wheel_t wheel;
    _Atomic int64_t next_deadline;
    _Atomic int64_t vnow;
    _Atomic int64_t timer_sleep_until; /* deadline the timer owner sleeps to */
    _Atomic int timer_owner;           /* worker index + 1 that sleeps on
                                          the next deadline, 0 = none */
    _Atomic uint64_t timers_fired;

    /* I/O: the epoll reactor (reactor_epoll.c); made with the runtime,
     * freed after the workers stopped. */
    rill__reactor_t *reactor;

    /* Pools. */
    rill__stack_pool_t *stacks;
    rill__blocking_pool_t *blocking;
    /* Blocking jobs submitted and not finished: while any is, the
     * virtual clock stands still and no deadlock is reported (the job may
     * still send something). The one argument for its orders: a job is
     * counted (acq_rel add in rill_spawn_blocking) before it is handed to
     * the pool, so no reader can see the job's effects without the count;
     * it stops counting (release sub in rill__blocking_job_done) after
     * all its effects, so a reader that sees it gone with an acquire load
     * (the virtual clock, sched.c) sees those effects too and runs the
     * tasks they woke before time moves. The deadlock check reads it
     * seq_cst, in the single order with the other counts it reads
     * (deadlock.c); the detector's first look and the dump read it
     * relaxed, as a hint that is read again in order or only shown. */
    _Atomic uint32_t blocking_active;

    _Atomic uint64_t spawned;
    _Atomic uint64_t foreign_wakeups; /* wakes from outside any worker */

    /* Diagnostics (deadlock.c, dump.c). blockons: the rill_block_on callers
     * waiting for their root task, under bo_lock. dl_*: the deadlock detector's
     * state, touched only by the worker that holds dl_checking. */
    pthread_mutex_t bo_lock;
    rill__list_t blockons;
    _Atomic bool dl_checking;
    _Atomic int64_t dl_grace;     /* wait before the next check (ns) */
    _Atomic uint64_t dl_seen;     /* activity at the last check */
    _Atomic uint64_t dl_reported; /* activity when last reported + 1 */
    _Atomic uint64_t deadlocks;   /* deadlocks reported */
    _Atomic uint32_t dl_kick;     /* worker index + 1 that parked waiting
                                     for a plain thread to park, or 0 */
    rill__list_t all_link;        /* in deadlock.c's list of runtimes */
    rill__list_t sigquit_link;    /* in dump.c's SIGQUIT registry; its lock */
    rill_instant_t t0;            /* the runtime's clock at creation */
};

/* The worker running on this thread, or NULL. */
rill__worker_t *rill__tls_worker(void);
void rill__tls_set_worker(rill__worker_t *w);
struct rill_task *rill__tls_task(void);
void rill__tls_set_task(struct rill_task *t);

/* Tell idle workers there is work (after pushing to any queue). */
void rill__notify_work(struct rill_runtime *rt);
/* Wake every worker (stop, timer changes). */
void rill__wake_worker(struct rill_runtime *rt, unsigned index);
/* Worker thread body. */
void *rill__worker_main(void *arg);

/* A blocking job ended or was taken back before it ran (runtime.c). */
void rill__blocking_job_done(struct rill_runtime *rt);

/* ---- diagnostics (dump.c: what a task awaits, for the dump) ---- */

/* Plain threads parked in rill_await with no deadline now (park.c): each
 * waits for a waker that only some other thread can fire. */
unsigned rill__threads_parked_forever(void);

/* The task's diagnostics lock (dlock). */
void rill__task_dlock(struct rill_task *t);
void rill__task_dunlock(struct rill_task *t);
/* "running", "runnable", "waiting", "done" ("queued" for a blocking job
 * that has not started), for the state word s. */
const char *rill__task_state_name(const struct rill_task *t, uint64_t s);
/* Around a stackful task's wait: publish / withdraw what it awaits. */
void rill__task_diag_set(struct rill_task *t, rill_future_t *f,
                         rill_instant_t deadline);
/* Before a stackless task's future is dropped. */
void rill__task_diag_clear_future(struct rill_task *t);

/* Every plain thread with a parker is parked with no deadline (park.c). */
bool rill__parkers_all_forever(void);
/* The join future's poll (task.c), for rill__block_on_wait. */
typedef struct rill__join_op {
    rill_future_t base;
    struct rill_task *t;
    void **result;
} rill__join_op_t;
int rill__join_poll(rill_future_t *f, rill_cx_t *cx);
void rill__join_op_init(rill__join_op_t *op, struct rill_task *t,
                        void **result);

/* ---- time (time.c) ---- */
rill_instant_t rill__rt_now(struct rill_runtime *rt);
/* Fire every timer due at `now`; returns how many fired. */
size_t rill__timers_fire(struct rill_runtime *rt, rill_instant_t now);
/* Virtual clock: jump to the next deadline and fire; false if none. */
bool rill__virtual_advance(struct rill_runtime *rt);
void rill__timers_init(struct rill_runtime *rt);

#endif
