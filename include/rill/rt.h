/* SPDX-License-Identifier: MIT */
/*
 * rill/rt.h - the runtime: worker threads, tasks, awaiting, timers, the
 * blocking pool.
 *
 * The one idea: rill_await(future) works everywhere. Inside a rill task it
 * suspends the task (the worker runs other tasks meanwhile); on a plain OS
 * thread it parks the thread. Every waiting operation of rill (send, recv,
 * next, sleep, join) is a future plus rill_await, so the same channel serves
 * threads and tasks alike.
 *
 * Example: tasks awaiting a timer and joining.
 *
 *     static void *worker(void *arg) {
 *         rill_sleep(RILL_MS((intptr_t)arg));  // suspends this task only
 *         return arg;
 *     }
 *     static void *main_task(void *arg) {
 *         rill_task_t *t[3];
 *         for (intptr_t i = 0; i < 3; i++)
 *             rill_spawn(&t[i], worker, (void *)(10 * (i + 1)), NULL);
 *         for (int i = 0; i < 3; i++) {
 *             void *r;
 *             rill_join(t[i], &r);
 *             printf("task %d slept %ld ms\n", i, (long)(intptr_t)r);
 *         }
 *         return NULL;
 *     }
 *     int main(void) {
 *         rill_runtime_t *rt;
 *         rill_runtime_new(&rt, NULL);
 *         rill_block_on(rt, main_task, NULL, NULL);
 *         rill_runtime_free(rt);
 *     }
 */
#ifndef RILL_RT_H
#define RILL_RT_H

#include "core.h"

#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct rill_runtime rill_runtime_t;
typedef struct rill_task rill_task_t;

/*
 * What a runtime does when it finds itself deadlocked (see "Deadlock
 * report" below): RILL_DEADLOCK_DEFAULT (0) is RILL_DEADLOCK_FAIL.
 */
typedef enum rill_deadlock_mode {
    RILL_DEADLOCK_DEFAULT = 0,
    RILL_DEADLOCK_OFF,    /* never check */
    RILL_DEADLOCK_REPORT, /* write the report; block_on keeps waiting */
    RILL_DEADLOCK_FAIL,   /* report, then every rill_block_on waiting for
                             this runtime returns RILL_EDEADLK */
    RILL_DEADLOCK_ABORT   /* report, then abort() (a core dump to debug) */
} rill_deadlock_mode_t;

/* A stackful task's body. Its return value is what rill_join gives. */
typedef void *(*rill_task_fn)(void *arg);

/* ------------------------------------------------------------------------ */
/* Runtime                                                                   */
/* ------------------------------------------------------------------------ */

typedef struct rill_runtime_config {
    /* Worker threads. 0 = one per CPU. At most 256. */
    unsigned workers;
    /* Stack reserved per stackful task (rounded up to pages, plus one
     * guard page). 0 = 64 KiB. At least 16 KiB, at most 64 MiB. */
    size_t stack_size;
    /* Blocking-pool threads at most. 0 = 64. */
    unsigned blocking_threads;
    /* An idle blocking-pool thread exits after this long. 0 = 10 s. */
    rill_duration_t blocking_idle;
    /* Cooperative budget: ready operations a task may complete before it
     * is made to yield. 0 = 128; negative = unlimited. */
    int coop_budget;
    /* true: the runtime's clock is virtual. It stands still while any task
     * can run and jumps to the next timer deadline when every task waits,
     * so timed code is tested exactly and instantly. */
    bool virtual_clock;
    /* Installs a SIGSEGV handler (on an alternate stack) that names the
     * task whose stack overflowed into its guard page. Default true. */
    bool stack_overflow_handler;
    /* Deadlock detection and what to do on one. Default FAIL. */
    rill_deadlock_mode_t deadlock;
    /* true: SIGQUIT (Ctrl-\) writes rill_runtime_dump of this runtime to
     * diag_out. The handler only writes a byte to a pipe; a thread that
     * rill starts once per process does the dump. Default false (the
     * signal keeps its previous action: usually a core dump). */
    bool sigquit_dump;
    /* Where deadlock reports and SIGQUIT dumps go. NULL = stderr. */
    FILE *diag_out;
} rill_runtime_config_t;

/*
 * rill_runtime_config_init - fill *cfg with the defaults.
 * Ownership: *cfg is the caller's storage; it holds nothing to free.
 * Threads: both.
 */
RILL_API void rill_runtime_config_init(rill_runtime_config_t *cfg);

/*
 * rill_runtime_new - create a runtime and start its worker threads.
 * cfg may be NULL for the defaults.
 * Returns: 0; RILL_EINVAL for a NULL out pointer or an out-of-range field;
 *   RILL_ENOMEM; RILL_ESYS if a thread could not be started.
 * Ownership: the caller owns *rt and frees it with rill_runtime_free. On
 *   failure nothing is left running and *rt is not set.
 * Waits: while the worker threads start.
 * Threads: both (a plain thread, usually).
 */
RILL_API RILL_NODISCARD int rill_runtime_new(rill_runtime_t **rt,
                                             const rill_runtime_config_t *cfg);

/*
 * rill_block_on - run fn(arg) as a task on rt and wait for it on the
 * calling thread.
 * Returns: 0 and the task's return value in *result (if result is not
 *   NULL); RILL_EINVAL if rt or fn is NULL or if called from inside a rill
 *   task (that would block a worker: spawn and join instead);
 *   RILL_ESHUTDOWN after rill_runtime_shutdown; RILL_ENOMEM;
 *   RILL_EDEADLK when the runtime reported a deadlock (config.deadlock
 *   FAIL, the default; see "Deadlock report"): the task is detached and
 *   still stuck, rill_runtime_free cancels it.
 * Waits: until the task returns.
 * Threads: any plain thread; several threads may block_on concurrently.
 * Ownership: arg stays the caller's; the task's result is handed over in
 *   *result. On failure no task ran, except after RILL_EDEADLK: the stuck task
 *   still uses arg until rill_runtime_free cancels it.
 */
RILL_API RILL_NODISCARD int rill_block_on(rill_runtime_t *rt, rill_task_fn fn,
                                          void *arg, void **result);

/*
 * rill_run - a program's whole runtime in one call (tokio's #[tokio::main],
 * Go's main goroutine): make a runtime from cfg (NULL: the defaults), run
 * fn(arg) on it as rill_block_on does, then free the runtime (which
 * cancels and waits for any task fn left running).
 *     int main(void) { return rill_run(serve, NULL, NULL, NULL) ? 1 : 0; }
 * Returns: as rill_runtime_new, then as rill_block_on.
 * Ownership: as rill_block_on; nothing of the runtime outlives the call.
 * Waits: until fn returns and every task of the runtime has ended.
 * Threads: a plain thread (from a task it is refused with RILL_EINVAL).
 */
RILL_API RILL_NODISCARD int rill_run(rill_task_fn fn, void *arg, void **result,
                                     const rill_runtime_config_t *cfg);

/*
 * rill_runtime_shutdown - stop accepting tasks, cancel every task still
 * alive and wait until all of them have returned. Idempotent. NULL is
 * accepted.
 * Waits: for every task to finish unwinding.
 * Threads: any plain thread, not a task or a blocking job of rt (from
 *   there it would wait for itself: it is reported as misuse and does
 *   nothing).
 */
RILL_API void rill_runtime_shutdown(rill_runtime_t *rt);

/*
 * rill_runtime_free - shut down (as rill_runtime_shutdown), join the
 * worker and blocking threads and free everything. NULL is accepted.
 * Threads: any plain thread, not a task or a blocking job of rt
 *   (reported as misuse and ignored there, as for rill_runtime_shutdown).
 * Ownership: frees rt; every handle of its tasks must be joined or detached
 *   first (tasks still alive are cancelled).
 */
RILL_API void rill_runtime_free(rill_runtime_t *rt);

/*
 * rill_runtime_current - the runtime of the calling task, or NULL on a
 * plain thread.
 * Returns: the runtime, or NULL on a plain thread.
 * Threads: both.
 */
RILL_API rill_runtime_t *rill_runtime_current(void);

/* Counters of a runtime. Read with rill_runtime_stats. */
typedef struct rill_runtime_stats {
    uint64_t tasks_spawned; /* tasks ever spawned (stackful + stackless) */
    uint64_t tasks_alive;   /* spawned and not yet finished */
    uint64_t polls;         /* task polls / resumptions */
    uint64_t steals;        /* successful steal operations */
    uint64_t parks;         /* times a worker went to sleep */
    uint64_t wakeups;       /* wakes that scheduled a task */
    uint64_t timers_fired;  /* timers that expired */
    uint64_t blocking_jobs; /* jobs run on the blocking pool */
    unsigned workers;
    unsigned blocking_threads; /* blocking-pool threads alive now */
    uint64_t deadlocks;        /* deadlocks reported */
} rill_runtime_stats_t;

/*
 * rill_runtime_stats - a snapshot of rt's counters (each read atomically,
 * the set not as one snapshot).
 * Returns: 0; RILL_EINVAL for NULL arguments.
 * Waits: never.
 * Threads: both.
 */
RILL_API int rill_runtime_stats(rill_runtime_t *rt, rill_runtime_stats_t *out);

/* ------------------------------------------------------------------------ */
/* Diagnostics: task dump, deadlock report                                   */
/* ------------------------------------------------------------------------ */

/*
 * rill_runtime_dump - write every live task of rt to out (NULL = stderr),
 * one line each, after a summary line:
 *
 *   rill runtime 0x5581...: 2 workers (2 idle), 4 tasks alive, virtual
 *     clock at +1.000 s, 1 timer armed (next +5.000 ms), 0 blocking jobs
 *     (0 pool threads), 1 thread parked in rill_await
 *     task 1 'block_on' waiting: join task 2 'ping' (waiting)
 *     task 2 'ping' waiting: recv on bounded channel 'pong' (len 0/4,
 *       sent 3, received 3, high-water 1, waits full 0, waits empty 4)
 *     task 4 waiting: sleep until +5.000 ms
 *     task 5 running
 *
 * (each line is one line; wrapped here).
 *
 * A task's state is running, runnable, waiting or done (a blocking job:
 * queued or running); a waiting task shows what it awaits, described by
 * the future's describe (every rill operation has one: channel send /
 * recv / reserve with the channel's name and counters, oneshot, watch
 * and broadcast operations, sleep, join, select with its cases; a user
 * future without one shows "future <poll address> (no describe)") and
 * the await's deadline if it has one. Tasks are listed by id.
 * Returns: 0; RILL_EINVAL for a NULL rt; RILL_ENOMEM.
 * Threads: any thread or task, while tasks run: it takes each task's
 *   small diagnostics lock only to describe the future that task awaits
 *   (never on the tasks' fast paths). The lines are collected first and
 *   written after every runtime lock is released, so a slow `out` does
 *   not stall the runtime.
 * Waits: never for tasks (it takes each task's diagnostics lock briefly);
 *   writes to out.
 */
RILL_API int rill_runtime_dump(rill_runtime_t *rt, FILE *out);

/* A line of a dump (without its newline); ud as given. */
typedef void (*rill_dump_line_fn)(const char *line, void *ud);

/*
 * rill_runtime_dump_lines - as rill_runtime_dump, giving each line to fn
 * (for a logger that is not a FILE). Same returns and threads.
 * Returns: as rill_runtime_dump.
 * Waits: as rill_runtime_dump.
 * Threads: as rill_runtime_dump.
 */
RILL_API int rill_runtime_dump_lines(rill_runtime_t *rt, rill_dump_line_fn fn,
                                     void *ud);

/*
 * Deadlock report (Go's "all goroutines are asleep"). A runtime is
 * reported deadlocked when, all at one moment:
 *   - it has live tasks, none running or runnable (every worker idle,
 *     every run queue empty),
 *   - no timer is armed in it and no blocking job is queued or running,
 *   - and every thread of the process is accounted for as unable to act:
 *     a worker or blocking-pool thread of this runtime (idle), rill's
 *     SIGQUIT thread, or a plain thread parked in rill_await /
 *     rill_block_on / rill_join... with no deadline. Any other thread
 *     (one computing, sleeping, or blocked outside rill, say in read(2)
 *     or pthread_cond_wait, or a worker of another runtime) may still
 *     send on a channel, release a handle or wake a future, so while one
 *     exists nothing is reported.
 * The threads are counted from /proc/self (no /proc: never reported).
 * The check runs only after the last worker has been idle for a moment
 * (1 ms, growing to 1 s while the runtime stays idle), never on a busy
 * path, and is repeated before reporting, so a report is never made
 * from a moment that was not still.
 * Not seen: wakes from signal handlers or from other processes, and
 * threads that do not exist yet (a POSIX timer's SIGEV_THREAD); a
 * program that relies on those sets deadlock = RILL_DEADLOCK_OFF.
 * The report (to config.diag_out) is a "deadlock" line and the dump;
 * then config.deadlock decides: FAIL (default: a call that can never
 * finish should fail like any other C call, and the report says why;
 * abort() would take the decision away from a library's user) makes
 * every rill_block_on waiting for this runtime return RILL_EDEADLK (its
 * root task is detached; rill_runtime_free cancels the stuck tasks),
 * REPORT only writes, ABORT aborts. A state is reported once.
 * See docs/diagnostics.md.
 */

/* ------------------------------------------------------------------------ */
/* Tasks                                                                     */
/* ------------------------------------------------------------------------ */

/*
 * Tasks move between threads. A stackful task may stop on one worker
 * thread and resume on another. It can move in any rill call that may
 * wait: every call whose doc comment says "Waits:" with anything but
 * "never" (rill_await and all it carries: send, recv, next, join, sleep,
 * select, the I/O calls, rill_yield). A call that found its operation
 * ready can move the task too: every ready operation spends the task's
 * cooperative budget, and when that runs out the task yields. Calls
 * marked "Waits: never" (the rill_try_* family, spawns, closes) never
 * move it. A stackless task (rill_spawn_future) may be polled on a
 * different worker each time.
 *
 * What that means for thread-locals: the compiler may compute the address
 * of a thread-local once per function and keep it across any call. glibc
 * declares __errno_location `const`, so at -O2 gcc and clang read `errno`
 * after a wait through the address of the thread the task ran on before
 * the wait (tests/test_sched_pin.c shows it: every read after a move saw
 * the old thread's errno). The same holds for any __thread / _Thread_local
 * variable, pthread_self and pthread_getspecific results. Safe idioms:
 *   - rill's own calls never report through errno: they return the status
 *     (RILL_E*), and calls that wrap a system call return its error too;
 *   - read errno right after the failing call, in a function that does
 *     not wait (its own function, kept out of line with
 *     __attribute__((noinline))), and return it as a value:
 *         static __attribute__((noinline)) int read_err(int fd, void *b,
 *                                                       size_t n) {
 *             return read(fd, b, n) < 0 ? errno : 0;
 *         }
 *     ("int e = errno;" right after the call is NOT enough in a function
 *     that waits anywhere: the address may have been computed before);
 *   - the same for any thread-local: reach it through an out-of-line
 *     function called after the wait;
 *   - or spawn the task pinned (rill_spawn_config_t.pinned): it runs on
 *     one worker thread for its whole life, so a kept address stays its
 *     own thread's. This is the answer for code you do not control
 *     (libraries that keep thread-local state across your waits).
 */

/*
 * Options for the spawn family (rill_spawn, rill_spawn_future,
 * rill_spawn_future_in, rill_spawn_blocking). NULL or a zero-initialised
 * struct means all defaults; set only what you need:
 *
 *     rill_spawn_config_t cfg = {.runtime = rt, .name = "reader"};
 *     rill_spawn(&task, reader, arg, &cfg);
 */
typedef struct rill_spawn_config {
    /* The runtime to run on. NULL = the calling task's runtime (then the
     * call must be made from a task). */
    rill_runtime_t *runtime;
    /* Copied (first 31 bytes); shown in dumps. NULL = no name. */
    const char *name;
    /* Stack of a stackful task. 0 = the runtime's default. Ignored by
     * the stackless and blocking spawns. */
    size_t stack_size;
    /* Run the task on one worker thread for its whole life: never
     * stolen, always woken onto that worker (the spawning worker, or
     * round robin when spawned from outside the runtime). For code that
     * keeps a thread-local address (errno, __thread) across a call that
     * may move the task: see "Tasks move between threads" above. Costs:
     * the task cannot run on an idle worker while its own is busy, and a
     * wake from another thread goes through its worker's inbox (a lock)
     * and wakes that worker. Ignored by rill_spawn_blocking. */
    bool pinned;
} rill_spawn_config_t;

/*
 * rill_spawn - start fn(arg) as a stackful task on cfg->runtime (NULL cfg
 * or runtime: the calling task's runtime).
 * task: receives the join handle; pass NULL to detach at once.
 * Returns: 0; RILL_EINVAL (fn NULL, stack_size out of [16 KiB, 64 MiB],
 *   or no runtime given and not called from a task); RILL_ESHUTDOWN;
 *   RILL_ENOMEM (no memory for the task, or its stack could not be
 *   mapped: the stack is mapped here, so a spawned task always runs).
 * Ownership: on success the caller owns *task until rill_join or
 *   rill_task_detach; on failure *task is NULL and nothing was started.
 *   cfg is only read during the call.
 * Waits: never.
 * Threads: both (a plain thread must name cfg->runtime).
 */
RILL_API RILL_NODISCARD int rill_spawn(rill_task_t **task, rill_task_fn fn,
                                       void *arg,
                                       const rill_spawn_config_t *cfg);

/*
 * rill_spawn_future - run a stackless future as a task: no stack, a few
 * dozen bytes, for very many small tasks. The runtime polls it until it
 * returns something other than RILL_PENDING, then calls its vtable drop.
 * cfg as for rill_spawn (stack_size is ignored).
 * Returns: 0; RILL_EINVAL; RILL_ESHUTDOWN; RILL_ENOMEM.
 * Ownership: the runtime owns fut from a successful call on; on failure
 *   fut is not taken (the caller still owns it).
 * Waits: never.
 * Threads: both (a plain thread must name cfg->runtime).
 */
RILL_API RILL_NODISCARD int rill_spawn_future(rill_task_t **task,
                                              rill_future_t *fut,
                                              const rill_spawn_config_t *cfg);

/* The largest future rill_spawn_future_in copies. */
#define RILL_SPAWN_FUTURE_IN_MAX 4096

/*
 * rill_spawn_future_in - as rill_spawn_future, but the future moves into
 * the task's own allocation (tokio's spawn(future)): `size` bytes are
 * copied from proto, a fully initialised future whose struct begins with
 * rill_future_t. One allocation per task instead of two. The copy's drop
 * must release what the future owns but must not free the future itself
 * (its memory goes with the task).
 * Returns: 0; RILL_EINVAL (NULL proto or vtable, size below
 *   sizeof(rill_future_t) or above RILL_SPAWN_FUTURE_IN_MAX);
 *   RILL_ESHUTDOWN; RILL_ENOMEM.
 * Ownership: on success what proto owned belongs to the task; proto's own
 *   memory stays the caller's (a stack variable is fine). On failure
 *   nothing was taken from proto.
 * Waits: never.
 * Threads: both (a plain thread must name cfg->runtime).
 *
 * Example:
 *     typedef struct {
 *         rill_future_t base;
 *         rill_oneshot_receiver_t *rx;
 *     } wait_t;
 *     wait_t w = {{&wait_vtable}, rx};
 *     rill_spawn_future_in(&task, &w.base, sizeof w, NULL);
 */
RILL_API RILL_NODISCARD int
rill_spawn_future_in(rill_task_t **task, const rill_future_t *proto,
                     size_t size, const rill_spawn_config_t *cfg);

/*
 * rill_join - wait for the task to finish and release the handle.
 * Returns: for a stackful task 0 and its return value in *result (result
 *   may be NULL), or RILL_ECANCELED if it was cancelled before it ever
 *   ran; for a stackless future its final status. RILL_EINVAL for NULL;
 *   RILL_EALREADY (reported as misuse) if the handle was detached while
 *   the task still runs. A handle consumed by a join, or detached from a
 *   finished task, is gone: using it again is undefined, as with free.
 *   RILL_ECANCELED if the joining task itself is cancelled while waiting
 *   (the handle is then still owned by the caller and may be joined again
 *   or detached).
 * Waits: until the task finishes.
 * Ownership: consumes the handle on every result but the last.
 * Threads: both.
 */
RILL_API RILL_NODISCARD int rill_join(rill_task_t *task, void **result);

/*
 * rill_task_detach - give up the handle; the task runs on unobserved.
 * Returns: 0; RILL_EINVAL for NULL; RILL_EALREADY (reported as misuse) for
 *   a second detach while the task still runs (see rill_join).
 * Ownership: consumes the handle on 0; on failure nothing changes.
 * Waits: never.
 * Threads: both.
 */
RILL_API int rill_task_detach(rill_task_t *task);

/*
 * rill_task_cancel - ask the task to stop: from now on every suspending
 * operation in it returns RILL_ECANCELED, so it unwinds through its own
 * error paths (structured, cooperative cancellation). A task cancelled
 * before it first ran never runs. Cancelling a finished task does nothing.
 * Returns: 0; RILL_EINVAL for NULL.
 * Threads: any.
 * Waits: never.
 */
RILL_API int rill_task_cancel(rill_task_t *task);

/* rill_task_id - the task's id (unique per process, never 0).
 * Returns: the id; 0 for NULL.
 * Threads: both.
 */
RILL_API uint64_t rill_task_id(const rill_task_t *task);

/* rill_task_name - the task's name, or "" if it has none.
 * Returns: a string valid while the handle is.
 * Threads: both.
 */
RILL_API const char *rill_task_name(const rill_task_t *task);

/* rill_task_is_finished - true once the task has returned.
 * Returns: true once it returned.
 * Threads: both.
 */
RILL_API bool rill_task_is_finished(const rill_task_t *task);

/* rill_task_current - the calling task, or NULL on a plain thread.
 * Returns: the task, or NULL.
 * Threads: both.
 */
RILL_API rill_task_t *rill_task_current(void);

/*
 * rill_task_is_cancelled - true if the calling task was cancelled (false on
 * a plain thread).
 * Returns: true in a cancelled task.
 * Threads: both.
 */
RILL_API bool rill_task_is_cancelled(void);

/*
 * rill_yield - let other tasks run, then continue: the task goes to the
 * back of what is runnable. Bound: if at most R other tasks can be
 * runnable meanwhile, it runs again within R + R/30 + 64 +
 * 32 x (workers - 1) turns of the worker that runs it (plus 3 per message
 * hand-off between other tasks); docs/runtime.md explains it. The task
 * may resume on another worker thread (see "Tasks move between threads").
 * Returns: 0; RILL_ECANCELED in a cancelled task. On a plain thread it
 *   calls sched_yield and returns 0.
 * Waits: until other runnable tasks had a turn (in a task).
 * Threads: both.
 */
RILL_API int rill_yield(void);

/* ------------------------------------------------------------------------ */
/* Awaiting                                                                  */
/* ------------------------------------------------------------------------ */

/*
 * rill_await - poll fut until it completes. In a task: suspend between
 * polls. On a plain thread: park the thread (futex) between polls.
 * Returns: the future's final status; RILL_ECANCELED if the calling task
 *   is cancelled (the future is then withdrawn: it either completed, and
 *   its status is returned, or it left no trace).
 * Waits: until fut completes.
 * Threads: both.
 */
RILL_API RILL_NODISCARD int rill_await(rill_future_t *fut);

/*
 * rill_await_until - as rill_await with a deadline on the runtime's clock
 * (the real monotonic clock on a plain thread). At the deadline the future
 * is withdrawn and RILL_ETIMEDOUT returned, unless it completed in the
 * race (its status is then returned). RILL_FOREVER = no deadline.
 * Returns: as rill_await, or RILL_ETIMEDOUT (the future was withdrawn with no
 *   effect).
 * Waits: until fut completes or the deadline.
 * Threads: both.
 */
RILL_API RILL_NODISCARD int rill_await_until(rill_future_t *fut,
                                             rill_instant_t deadline);

/* rill_await_timeout - rill_await_until(fut, rill_now() + timeout).
 * Returns: as rill_await_until.
 * Waits: at most timeout.
 * Threads: both.
 */
RILL_API RILL_NODISCARD int rill_await_timeout(rill_future_t *fut,
                                               rill_duration_t timeout);

/* ------------------------------------------------------------------------ */
/* Time                                                                      */
/* ------------------------------------------------------------------------ */

/*
 * rill_now - the current instant: the runtime's clock in a task (virtual
 * when the runtime's clock is virtual), CLOCK_MONOTONIC on a plain thread.
 * Returns: the instant.
 * Threads: both.
 */
RILL_API rill_instant_t rill_now(void);

/* rill_runtime_now - rt's clock, from anywhere.
 * Returns: the instant; the monotonic clock for NULL.
 * Threads: both.
 */
RILL_API rill_instant_t rill_runtime_now(rill_runtime_t *rt);

/*
 * rill_deadline - rill_now() + d, saturating at RILL_FOREVER.
 * Returns: the instant.
 * Threads: both.
 */
RILL_API rill_instant_t rill_deadline(rill_duration_t d);

/*
 * A timer as a future: completes (0) at its deadline. Lives in caller
 * storage; needs no runtime on a plain thread (the thread's park times
 * out). Initialise with rill_sleep_op, then rill_await it, select over it,
 * or poll it from a hand-written future. Once polled in a task it belongs
 * to that task's runtime.
 */
typedef struct rill_sleep_op {
    rill_future_t base;
    void *private_[13]; /* deadline, timer-wheel entry, waker, runtime */
} rill_sleep_op_t;

/* rill_sleep_op - initialise a timer future for `deadline`. A NULL op is
 * reported as misuse and ignored (as by rill_sleep_op_reset).
 * Threads: both; one caller at a time per op.
 */
RILL_API void rill_sleep_op(rill_sleep_op_t *op, rill_instant_t deadline);

/*
 * rill_sleep_op_reset - move an initialised timer to a new deadline (used
 * by intervals and per-item timeouts).
 * Threads: both; one caller at a time per op.
 */
RILL_API void rill_sleep_op_reset(rill_sleep_op_t *op, rill_instant_t deadline);

/*
 * rill_sleep_op_cancel - withdraw an armed timer that will not be awaited
 * again. Safe to call on a fired or never-polled timer, and with NULL.
 * Threads: both; one caller at a time per op.
 */
RILL_API void rill_sleep_op_cancel(rill_sleep_op_t *op);

/*
 * rill_sleep - wait for d (sub-millisecond precision on a real clock).
 * Returns: 0; RILL_ECANCELED in a cancelled task.
 * Waits: for d.
 * Threads: both.
 */
RILL_API int rill_sleep(rill_duration_t d);

/* rill_sleep_until - wait until the instant `deadline`. As rill_sleep.
 * Returns: as rill_sleep.
 * Waits: until deadline.
 * Threads: both.
 */
RILL_API int rill_sleep_until(rill_instant_t deadline);

/* ------------------------------------------------------------------------ */
/* Blocking pool                                                             */
/* ------------------------------------------------------------------------ */

/*
 * rill_spawn_blocking - run fn(arg) on the runtime's blocking pool, a
 * growable set of plain threads, so it may block without stalling
 * workers. cfg as for rill_spawn (stack_size is ignored: pool threads
 * have their own stacks). The handle is joined like a task (rill_join
 * gives fn's return value) from tasks and threads alike.
 * Returns: 0; RILL_EINVAL; RILL_ESHUTDOWN; RILL_ENOMEM; RILL_ESYS if no
 *   pool thread is alive and none could be started.
 * Ownership: as rill_spawn.
 * Waits: never.
 * Threads: both (a plain thread must name cfg->runtime).
 * Cancel: rill_task_cancel on a job that has not started yet stops it
 *   from starting (join then returns RILL_ECANCELED); a running job is not
 *   interrupted.
 */
RILL_API RILL_NODISCARD int rill_spawn_blocking(rill_task_t **task,
                                                rill_task_fn fn, void *arg,
                                                const rill_spawn_config_t *cfg);

#ifdef __cplusplus
}
#endif

#endif /* RILL_RT_H */
