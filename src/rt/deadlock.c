/* SPDX-License-Identifier: MIT */
/*
 * deadlock.c - the deadlock detector and its report, and rill_block_on's
 * wait (which a report fails); the runtime's diagnostics state is set up
 * and torn down here (rill__diag_init / _fini).
 *
 * Deadlock detection. The last worker to go idle, when the runtime has
 * live tasks, no armed timer and no blocking job, and every plain thread
 * that rill knows (has a parker) is parked with no deadline
 * (rill__deadlock_arm), sleeps for a grace period instead of forever; if
 * nothing woke it (rill__deadlock_check), it checks, all at one moment,
 * that:
 *   1. nothing ran: the activity count (polls, wakes, spawns, timers
 *      fired, summed over workers) is the one seen when it went to
 *      sleep, and every worker is still idle with empty queues;
 *   2. every thread of the process is accounted for: /proc says the
 *      process has exactly workers + blocking-pool threads + rill's
 *      service threads + plain threads parked in rill_await with no
 *      deadline (park.c's registry of parkers in PARK_FOREVER), plus the
 *      sanitizer's own thread;
 *   3. 1 still holds after 2 was read (/proc twice, around the counts).
 * Every thread able to make a task runnable is then either asleep in
 * rill with nobody left to wake it, or idle in rill. Why the order makes
 * the snapshot sound: a plain thread that woke a task before parking
 * bumped foreign_wakeups before its parking CAS (release), so a check
 * that sees it parked (seq_cst load) also sees the wake in 3; a thread
 * woken out of a forever park leaves that state in its waker's xchg,
 * before the futex wake, so it is not counted once it can run; and a
 * thread the count misses makes the totals differ, which only makes the
 * check fail. A negative check doubles the grace period (1 ms up to
 * 1 s) until something runs again; a reported state is not reported
 * again.
 *
 * Kicks. When a known plain thread is awake as the last worker goes
 * idle (a producer thread between two sends: the common case), there is
 * no deadlock now, and a timed sleep would cost every such park about a
 * microsecond more (arming a kernel timer in a VM). So the worker parks
 * for good and leaves its index in dl_kick; a plain thread that parks
 * with no deadline while some runtime wants a kick (one global load on
 * its slow park path) wakes that worker, which parks again and arms.
 * The flag is set before the worker reads the parkers and read after
 * the thread's parking CAS, both seq_cst: one of them sees the other.
 *
 */
#include "deadlock.h"
#include "dump.h"
#include "rt_int.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define DL_GRACE_MIN RILL_MS(1)
#define DL_GRACE_MAX RILL_SEC(1)

/* Threads the sanitizer runtime adds to every threaded process (TSan's
 * background thread), which are neither rill's nor the user's. */
#if defined(__SANITIZE_THREAD__)
#define SANITIZER_THREADS 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define SANITIZER_THREADS 1
#endif
#endif
#ifndef SANITIZER_THREADS
#define SANITIZER_THREADS 0
#endif

/* Tests: called after every deadlock check with its verdict. */
void (*rill__deadlock_check_hook)(struct rill_runtime *rt, bool deadlocked);

/* ------------------------------------------------------------------------ */
/* rill_block_on's wait                                                      */
/* ------------------------------------------------------------------------ */

typedef struct blockon {
    rill_future_t base;
    rill__join_op_t join;
    struct rill_runtime *rt;
    rill__list_t link;   /* rt->blockons; rt->bo_lock */
    rill_waker_t waker;  /* rt->bo_lock */
    _Atomic bool failed; /* set under rt->bo_lock by a deadlock report */
} blockon_t;

static int blockon_poll(rill_future_t *f, rill_cx_t *cx)
{
    blockon_t *b = (blockon_t *)(void *)f;
    struct rill_runtime *rt = b->rt;
    pthread_mutex_lock(&rt->bo_lock);
    bool failed = rill__load(&b->failed, RILL_RELAXED); /* the lock orders */
    if (!failed)
        rill_waker_set(&b->waker, cx->waker);
    pthread_mutex_unlock(&rt->bo_lock);
    if (failed)
        return RILL_EDEADLK;
    return rill__join_poll(&b->join.base, cx);
}

static const rill_future_vtable_t blockon_vtable = {blockon_poll, NULL, NULL,
                                                    NULL};

int rill__block_on_wait(struct rill_runtime *rt, struct rill_task *t,
                        void **result)
{
    blockon_t b;
    b.base.vtable = &blockon_vtable;
    rill__join_op_init(&b.join, t, result);
    b.rt = rt;
    b.waker = RILL_WAKER_NONE;
    rill__store(&b.failed, false, RILL_RELAXED); /* not shared yet */
    pthread_mutex_lock(&rt->bo_lock);
    rill__list_push_back(&rt->blockons, &b.link);
    pthread_mutex_unlock(&rt->bo_lock);
    int rc = rill_await(&b.base);
    pthread_mutex_lock(&rt->bo_lock);
    rill__list_remove(&b.link);
    rill_waker_t w = b.waker;
    b.waker = RILL_WAKER_NONE;
    pthread_mutex_unlock(&rt->bo_lock);
    rill_waker_release(&w);
    /* Consume the handle: after a completed join as rill_join does; after
     * a deadlock the task stays stuck, detached, until shutdown cancels
     * it. */
    rill_task_detach(t);
    return rc;
}

/* ------------------------------------------------------------------------ */
/* Deadlock detection                                                        */
/* ------------------------------------------------------------------------ */

/* Everything that changes when anything happens in the runtime. Each
 * counter only grows, so an unchanged sum means an unchanged runtime.
 * relaxed: the callers order these loads (see the file head). */
static uint64_t activity(struct rill_runtime *rt)
{
    uint64_t a = rill__load(&rt->foreign_wakeups, RILL_RELAXED) +
                 rill__load(&rt->spawned, RILL_RELAXED) +
                 rill__load(&rt->timers_fired, RILL_RELAXED);
    for (unsigned i = 0; i < rt->nworkers; i++) {
        rill__worker_t *w = &rt->workers[i];
        a += rill__load(&w->polls, RILL_RELAXED) +
             rill__load(&w->wakeups, RILL_RELAXED);
    }
    return a;
}

/* Nothing can run inside the runtime now. */
static bool runtime_still(struct rill_runtime *rt)
{
    /* seq_cst: ordered with the thread counts read around these. */
    if (rill__load(&rt->alive, RILL_SEQ_CST) == 0 ||
        rill__load(&rt->nsleeping, RILL_SEQ_CST) != rt->nworkers ||
        rill__load(&rt->inject_len, RILL_SEQ_CST) != 0 ||
        rill__load(&rt->next_deadline, RILL_SEQ_CST) != RILL_FOREVER ||
        rill__load(&rt->blocking_active, RILL_SEQ_CST) != 0 ||
        rill__reactor_waiters(rt->reactor) != 0 || /* a peer can wake */
        rill__load(&rt->shutting_down, RILL_SEQ_CST))
        return false;
    for (unsigned i = 0; i < rt->nworkers; i++)
        if (!rill__localq_is_empty(&rt->workers[i].q))
            return false;
    return true;
}

/* Threads of this process, from /proc; -1 if it cannot be read. */
static long process_threads(void)
{
    int fd = open("/proc/self/stat", O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    char buf[1024];
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0)
        return -1;
    buf[n] = '\0';
    /* Fields after the command name, which may contain anything but
     * ends with the last ')': state is field 3, num_threads field 20. */
    char *p = strrchr(buf, ')');
    if (!p)
        return -1;
    p++; /* the space before field 3 */
    for (int field = 3; field < 20; field++) {
        p = strchr(p + 1, ' ');
        if (!p)
            return -1;
    }
    char *end;
    long v = strtol(p + 1, &end, 10);
    return end == p + 1 || v <= 0 ? -1 : v;
}

/* Threads known to be unable to act on their own (see the file head). */
static long accounted_threads(struct rill_runtime *rt)
{
    rill__blocking_stats_t bs;
    rill__blocking_stats(rt->blocking, &bs);
    unsigned parked = rill__threads_parked_forever();
    return (long)rt->nworkers + (long)bs.threads + (long)parked +
           (long)rill__service_threads() + SANITIZER_THREADS;
}

/* Runtimes that parked a worker waiting for a kick (their dl_kick != 0),
 * and the list to find them, under all_lock. */
_Atomic uint32_t rill__dl_kicks_wanted;
static pthread_mutex_t all_lock = PTHREAD_MUTEX_INITIALIZER;
static rill__list_t all_runtimes = {&all_runtimes, &all_runtimes};

/* seq_cst on dl_kick and rill__dl_kicks_wanted throughout: they are the
 * flags of the Dekker pair described in rill__deadlock_arm (flag, then
 * look at the parkers; a parker parks, then reads the flags). */
static void kick_clear(struct rill_runtime *rt)
{
    if (rill__xchg(&rt->dl_kick, 0, RILL_SEQ_CST))
        rill__fetch_sub(&rill__dl_kicks_wanted, 1, RILL_SEQ_CST);
}

void rill__deadlock_kick(void)
{
    pthread_mutex_lock(&all_lock);
    for (rill__list_t *l = all_runtimes.next; l != &all_runtimes; l = l->next) {
        struct rill_runtime *rt =
            RILL_CONTAINER_OF(l, struct rill_runtime, all_link);
        uint32_t k = rill__xchg(&rt->dl_kick, 0, RILL_SEQ_CST);
        if (k) {
            rill__fetch_sub(&rill__dl_kicks_wanted, 1, RILL_SEQ_CST);
            rill__wake_worker(rt, k - 1); /* it parks again, and checks */
        }
    }
    pthread_mutex_unlock(&all_lock);
}

rill_duration_t rill__deadlock_arm(struct rill_runtime *rt, unsigned self,
                                   uint64_t *snap)
{
    if (rt->cfg.deadlock == RILL_DEADLOCK_OFF)
        return RILL_FOREVER;
    /* relaxed: a cheap first look; the check repeats it in order. */
    if (rill__load(&rt->alive, RILL_RELAXED) == 0 ||
        rill__load(&rt->next_deadline, RILL_RELAXED) != RILL_FOREVER ||
        rill__load(&rt->blocking_active, RILL_RELAXED) != 0 ||
        rill__reactor_waiters(rt->reactor) != 0 ||
        rill__load(&rt->shutting_down, RILL_RELAXED))
        return RILL_FOREVER;
    /*
     * A plain thread that rill knows is awake (a producer thread between
     * two sends, the usual case when a runtime goes idle): no deadlock
     * now, and no timed sleep either (a timed futex wait costs about a
     * microsecond more here, on every park). Ask that thread to kick us
     * when it parks for good. Flag first, then look (seq_cst, against
     * the thread's park then flag read in park.c): one of us sees the
     * other.
     */
    if (rill__xchg(&rt->dl_kick, self + 1, RILL_SEQ_CST) == 0)
        rill__fetch_add(&rill__dl_kicks_wanted, 1, RILL_SEQ_CST);
    if (!rill__parkers_all_forever())
        return RILL_FOREVER;
    kick_clear(rt);
    uint64_t a = activity(rt);
    *snap = a;
    /* relaxed: dl_reported, dl_seen and dl_grace steer only how soon the
     * next check comes; a stale value costs one check more or less, and
     * the check itself re-reads everything it decides on in order. */
    if (rill__load(&rt->dl_reported, RILL_RELAXED) == a + 1)
        return RILL_FOREVER; /* this very state was reported */
    if (rill__load(&rt->dl_seen, RILL_RELAXED) != a)
        rill__store(&rt->dl_grace, DL_GRACE_MIN, RILL_RELAXED);
    return rill__load(&rt->dl_grace, RILL_RELAXED);
}

static void report(struct rill_runtime *rt)
{
    FILE *out = rt->cfg.diag_out ? rt->cfg.diag_out : stderr;
    uint64_t alive = rill__load(&rt->alive, RILL_RELAXED); /* for the text */
    fprintf(out,
            "rill: deadlock: all %llu task%s of runtime %p %s waiting and "
            "nothing can wake them (no task runnable, no timer armed, no "
            "blocking job, every other thread parked in rill)\n",
            (unsigned long long)alive, alive == 1 ? "" : "s", (void *)rt,
            alive == 1 ? "is" : "are");
    (void)rill__dump_lines(rt, true, rill__dump_file_line, out);
    fflush(out);
    rill__fetch_add(&rt->deadlocks, 1, RILL_RELAXED); /* a statistic */
    if (rt->cfg.deadlock == RILL_DEADLOCK_ABORT) {
        fprintf(out, "rill: aborting (deadlock = RILL_DEADLOCK_ABORT)\n");
        fflush(out);
        abort();
    }
    if (rt->cfg.deadlock != RILL_DEADLOCK_FAIL)
        return;
    /* Fail every block_on waiting for this runtime. Their wakers are
     * woken after the lock is released (a waker may take other locks). */
    rill_waker_t local[16];
    size_t n = 0;
    bool more = true;
    while (more) {
        more = false;
        pthread_mutex_lock(&rt->bo_lock);
        for (rill__list_t *l = rt->blockons.next; l != &rt->blockons;
             l = l->next) {
            blockon_t *b = RILL_CONTAINER_OF(l, blockon_t, link);
            if (rill__load(&b->failed, RILL_RELAXED))
                continue;
            if (n == 16) {
                more = true;
                break;
            }
            rill__store(&b->failed, true, RILL_RELAXED); /* the lock orders */
            local[n++] = b->waker;
            b->waker = RILL_WAKER_NONE;
        }
        pthread_mutex_unlock(&rt->bo_lock);
        for (size_t i = 0; i < n; i++)
            rill_waker_wake(&local[i]);
        n = 0;
    }
}

void rill__deadlock_check(struct rill_runtime *rt, uint64_t snap)
{
    /* acquire: pairs with the release below; one check at a time. */
    if (rill__xchg(&rt->dl_checking, true, RILL_ACQUIRE))
        return;
    bool dead = false;
    /* Another worker may have armed on the same still state and reported
     * it while this one slept: once is enough. */
    if (rill__load(&rt->dl_reported, RILL_RELAXED) != snap + 1 &&
        runtime_still(rt) && activity(rt) == snap) {
        long n1 = process_threads();
        long known = accounted_threads(rt);
        long n2 = process_threads();
        dead = n1 > 0 && n1 == n2 && n1 == known && runtime_still(rt) &&
               activity(rt) == snap;
    }
    if (dead) {
        rill__store(&rt->dl_reported, snap + 1, RILL_RELAXED);
        report(rt);
    } else {
        /* Still (maybe waiting for a thread we cannot see): look again
         * later, less often the longer it stays so. */
        int64_t g = rill__load(&rt->dl_grace, RILL_RELAXED) * 2;
        rill__store(&rt->dl_grace, g > DL_GRACE_MAX ? DL_GRACE_MAX : g,
                    RILL_RELAXED);
        rill__store(&rt->dl_seen, snap, RILL_RELAXED);
    }
    rill__store(&rt->dl_checking, false, RILL_RELEASE);
    if (rill__deadlock_check_hook)
        rill__deadlock_check_hook(rt, dead);
}

void rill__diag_init(struct rill_runtime *rt)
{
    pthread_mutex_init(&rt->bo_lock, NULL);
    rill__list_init(&rt->blockons);
    /* relaxed: before the workers start (pthread_create orders it). */
    rill__store(&rt->dl_grace, DL_GRACE_MIN, RILL_RELAXED);
    rill__store(&rt->dl_seen, 0, RILL_RELAXED);
    rill__store(&rt->dl_reported, 0, RILL_RELAXED);
    rill__store(&rt->dl_kick, 0, RILL_RELAXED);
    rt->t0 = rill__rt_now(rt);
    pthread_mutex_lock(&all_lock);
    rill__list_push_back(&all_runtimes, &rt->all_link);
    pthread_mutex_unlock(&all_lock);
    rill__sigquit_register(rt);
}

void rill__diag_fini(struct rill_runtime *rt)
{
    pthread_mutex_lock(&all_lock);
    rill__list_remove(&rt->all_link);
    kick_clear(rt);
    pthread_mutex_unlock(&all_lock);
    rill__sigquit_unregister(rt);
    pthread_mutex_destroy(&rt->bo_lock);
}
