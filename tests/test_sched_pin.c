/* SPDX-License-Identifier: MIT */
/*
 * test_sched_pin.c - thread-locals across a wait: errno read after a task
 * moved to another worker, the unsafe way (wrong), pinned (right) and
 * with the documented idiom (right); pinned tasks never leave their
 * worker whoever wakes them.
 *
 * Built at -O2 whatever the configuration (CMakeLists.txt): the hazard is
 * an optimisation. glibc declares __errno_location `const`, so gcc and
 * clang compute &errno once per function and keep it across calls, a
 * wait included; after the task moved, errno reads the old thread's.
 */
#include "test_util.h"
#include <rill.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/syscall.h>
#include <unistd.h>

/* The kernel's thread id, asked afresh (pthread_self is `const` too). */
static __attribute__((noinline)) long thread_id(void)
{
    return syscall(SYS_gettid);
}

typedef struct trial {
    int fd;         /* read end of an empty non-blocking pipe */
    int attempts;   /* at most this many: fail, wait, fail again, look */
    int want_moves; /* stop after this many moves (0: never early) */
    int migrated;   /* attempts that resumed on another thread */
    int wrong;      /* attempts whose second errno was not EBADF */
    int first_bad;  /* attempts whose first errno was not EAGAIN */
    bool ok;
} trial_t;

/*
 * The unsafe pattern: errno read in the function that waits. The second
 * read of errno, right after close(-1) failed on the new thread, goes
 * through the address computed on the first thread.
 */
static void *errno_unsafe(void *arg)
{
    trial_t *tr = arg;
    for (int i = 0; i < tr->attempts; i++) {
        if (tr->want_moves && tr->migrated >= tr->want_moves) {
            tr->attempts = i;
            break;
        }
        char c;
        long before = thread_id();
        ssize_t r = read(tr->fd, &c, 1);
        int e1 = errno; /* EAGAIN, on this thread */
        if (rill_sleep(RILL_US(200)) != 0)
            return NULL;
        long after = thread_id();
        int r2 = close(-1);
        int e2 = errno; /* EBADF was written on the thread we are on now */
        tr->first_bad += r != -1 || e1 != EAGAIN;
        if (after != before) {
            tr->migrated++;
            tr->wrong += r2 != -1 || e2 != EBADF;
        }
    }
    tr->ok = true;
    return NULL;
}

/* The idiom: the failing call and the read of errno in a function that
 * never waits, kept out of line, so &errno is computed on the thread
 * that made the call. */
static __attribute__((noinline)) int read_errno(int fd)
{
    char c;
    return read(fd, &c, 1) == -1 ? errno : 0;
}

static __attribute__((noinline)) int close_errno(int fd)
{
    return close(fd) == -1 ? errno : 0;
}

static void *errno_idiom(void *arg)
{
    trial_t *tr = arg;
    for (int i = 0; i < tr->attempts; i++) {
        if (tr->want_moves && tr->migrated >= tr->want_moves) {
            tr->attempts = i;
            break;
        }
        long before = thread_id();
        int e1 = read_errno(tr->fd);
        if (rill_sleep(RILL_US(200)) != 0)
            return NULL;
        long after = thread_id();
        int e2 = close_errno(-1);
        tr->first_bad += e1 != EAGAIN;
        if (after != before)
            tr->migrated++;
        tr->wrong += e2 != EBADF;
    }
    tr->ok = true;
    return NULL;
}

static void run_trial(trial_t *tr, rill_task_fn fn, bool pinned)
{
    rill_runtime_t *rt = test_new_rt(2, false);
    int p[2];
    assert_int_equal(pipe(p), 0);
    assert_int_equal(fcntl(p[0], F_SETFL, O_NONBLOCK), 0);
    tr->fd = p[0];
    rill_spawn_config_t cfg = {.runtime = rt, .pinned = pinned};
    rill_task_t *t;
    assert_status(rill_spawn(&t, fn, tr, &cfg), 0);
    assert_status(rill_join(t, NULL), 0);
    rill_runtime_free(rt);
    close(p[0]);
    close(p[1]);
    assert_true(tr->ok);
    assert_int_equal(tr->first_bad, 0);
}

static void test_errno_after_migration_is_wrong_unpinned(void **state)
{
    (void)state;
    /* Which worker fires the sleep's timer (and so runs the task next)
     * depends on which one sleeps in the timer wheel: a move comes in most
     * attempts, but not in a fixed number of them. */
    trial_t tr = {.attempts = 5000, .want_moves = 100};
    run_trial(&tr, errno_unsafe, false);
    printf("  unpinned: %d of %d attempts moved to another worker; %d of "
           "those read a stale errno\n",
           tr.migrated, tr.attempts, tr.wrong);
    /* The sleep's timer is fired by whichever worker sleeps in the timer
     * wheel, so the task moves in a good share of attempts. */
    assert_true(tr.migrated > 0);
    /* Every move left errno pointing at the old thread's. */
    assert_int_equal(tr.wrong, tr.migrated);
}

static void test_errno_pinned_is_right(void **state)
{
    (void)state;
    trial_t tr = {.attempts = 300};
    run_trial(&tr, errno_unsafe, true);
    printf("  pinned: %d of %d attempts moved\n", tr.migrated, tr.attempts);
    assert_int_equal(tr.migrated, 0);
    assert_int_equal(tr.wrong, 0);
}

static void test_errno_idiom_is_right(void **state)
{
    (void)state;
    trial_t tr = {.attempts = 5000, .want_moves = 100};
    run_trial(&tr, errno_idiom, false);
    printf("  idiom: %d of %d attempts moved, %d read a wrong errno\n",
           tr.migrated, tr.attempts, tr.wrong);
    assert_true(tr.migrated > 0);
    assert_int_equal(tr.wrong, 0);
}

/* ---- pinned tasks stay home whoever wakes them ---- */

enum { PIN_TASKS = 8, PIN_ROUNDS = 2000 };

typedef struct pin_world {
    rill_sender_t *to_pinned[PIN_TASKS]; /* fed by busy tasks and a thread */
    rill_receiver_t *rx[PIN_TASKS];
    atomic_int moved;  /* pinned tasks that ran on two threads */
    atomic_int stolen; /* unpinned helpers that ran on two threads */
} pin_world_t;

typedef struct pin_arg {
    pin_world_t *w;
    int i;
} pin_arg_t;

/* Pinned: receives PIN_ROUNDS items (sent by an unpinned task and by a
 * plain thread), yielding after each, and checks its thread each time. */
static void *pinned_task(void *arg)
{
    pin_arg_t *a = arg;
    long home = thread_id();
    for (int k = 0; k < PIN_ROUNDS; k++) {
        int v;
        if (rill_recv(a->w->rx[a->i], &v) != 0)
            return (void *)1;
        if (rill_yield() != 0)
            return (void *)1;
        if (thread_id() != home) {
            atomic_fetch_add(&a->w->moved, 1);
            break;
        }
    }
    /* Drain to the end so the senders never wait for us. */
    int v;
    while (rill_recv(a->w->rx[a->i], &v) == 0)
        ;
    return NULL;
}

/* Unpinned: sends half of each pinned task's items (from whichever
 * worker it runs on), spinning a little between sends so the workers
 * stay busy and steal from each other. */
static void *sender_task(void *arg)
{
    pin_arg_t *a = arg;
    long first = thread_id();
    for (int k = 0; k < PIN_ROUNDS / 2; k++) {
        if (rill_send(a->w->to_pinned[a->i], &k) != 0)
            return (void *)1;
        for (volatile int s = 0; s < 200; s++)
            ;
        if (thread_id() != first)
            atomic_store(&a->w->stolen, 1);
    }
    return NULL;
}

typedef struct feeder_arg {
    pin_world_t *w;
    rill_sender_t *tx[PIN_TASKS];
} feeder_arg_t;

/* A plain thread sends the other half (foreign wakes). */
static void *feeder_thread(void *arg)
{
    feeder_arg_t *f = arg;
    intptr_t bad = 0;
    for (int k = 0; k < PIN_ROUNDS / 2; k++)
        for (int i = 0; i < PIN_TASKS; i++)
            bad |= rill_send(f->tx[i], &k) != 0;
    for (int i = 0; i < PIN_TASKS; i++)
        rill_sender_release(f->tx[i]);
    return (void *)bad;
}

static void test_pinned_tasks_stay_home(void **state)
{
    (void)state;
    rill_runtime_t *rt = test_new_rt(2, false);
    pin_world_t w = {0};
    feeder_arg_t f = {.w = &w};
    pin_arg_t args[PIN_TASKS];
    rill_task_t *pt[PIN_TASKS], *st[PIN_TASKS];
    for (int i = 0; i < PIN_TASKS; i++) {
        assert_status(
            rill_channel_new(&w.to_pinned[i], &w.rx[i], sizeof(int), 4, NULL),
            0);
        assert_status(rill_sender_clone(w.to_pinned[i], &f.tx[i]), 0);
        args[i] = (pin_arg_t){&w, i};
    }
    for (int i = 0; i < PIN_TASKS; i++) {
        rill_spawn_config_t pc = {.runtime = rt, .pinned = true};
        assert_status(rill_spawn(&pt[i], pinned_task, &args[i], &pc), 0);
        rill_spawn_config_t sc = {.runtime = rt};
        assert_status(rill_spawn(&st[i], sender_task, &args[i], &sc), 0);
    }
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, feeder_thread, &f), 0);
    void *r;
    for (int i = 0; i < PIN_TASKS; i++) {
        assert_status(rill_join(st[i], &r), 0);
        assert_null(r);
        rill_sender_release(w.to_pinned[i]);
    }
    void *fbad = (void *)1;
    pthread_join(th, &fbad);
    assert_null(fbad);
    for (int i = 0; i < PIN_TASKS; i++) {
        assert_status(rill_join(pt[i], &r), 0);
        assert_null(r);
        rill_receiver_release(w.rx[i]);
    }
    rill_runtime_free(rt);
    printf("  unpinned senders moved between workers: %s\n",
           atomic_load(&w.stolen) ? "yes" : "no");
    assert_int_equal(atomic_load(&w.moved), 0);
}

/* ---- pinned tasks and the virtual clock ---- */

/* Each sleeps 10 ms of virtual time 50 times, with a different phase, and
 * checks it woke exactly on time: virtual time must not move on while a
 * pinned task it woke waits for its own worker. */
static void *vclock_sleeper(void *arg)
{
    intptr_t phase = (intptr_t)arg;
    if (rill_sleep(RILL_MS(phase)) != 0)
        return (void *)1;
    rill_instant_t t0 = rill_now();
    for (int k = 1; k <= 50; k++) {
        if (rill_sleep(RILL_MS(10)) != 0)
            return (void *)1;
        if (rill_now() != t0 + RILL_MS(10) * k)
            return (void *)2;
    }
    return NULL;
}

static void test_pinned_virtual_clock_exact(void **state)
{
    (void)state;
    rill_runtime_t *rt = test_new_rt(2, true);
    enum { N = 16 };
    rill_task_t *t[N];
    for (intptr_t i = 0; i < N; i++) {
        /* From a plain thread: homes alternate between the workers. */
        rill_spawn_config_t cfg = {.runtime = rt, .pinned = i % 2 == 0};
        assert_status(rill_spawn(&t[i], vclock_sleeper, (void *)(i % 5), &cfg),
                      0);
    }
    for (int i = 0; i < N; i++) {
        void *r = (void *)3;
        assert_status(rill_join(t[i], &r), 0);
        assert_null(r);
    }
    rill_runtime_free(rt);
}

/* Bad input stays harmless: pinned is ignored by the blocking pool. */
static void *blocking_job(void *arg)
{
    return arg;
}

static void test_pinned_blocking_is_ignored(void **state)
{
    (void)state;
    rill_runtime_t *rt = test_new_rt(1, false);
    rill_spawn_config_t cfg = {.runtime = rt, .pinned = true};
    rill_task_t *t;
    assert_status(rill_spawn_blocking(&t, blocking_job, (void *)5, &cfg), 0);
    void *r = NULL;
    assert_status(rill_join(t, &r), 0);
    assert_ptr_equal(r, (void *)5);
    rill_runtime_free(rt);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_errno_after_migration_is_wrong_unpinned),
        cmocka_unit_test(test_errno_pinned_is_right),
        cmocka_unit_test(test_errno_idiom_is_right),
        cmocka_unit_test(test_pinned_tasks_stay_home),
        cmocka_unit_test(test_pinned_virtual_clock_exact),
        cmocka_unit_test(test_pinned_blocking_is_ignored),
    };
    return test_run(tests, NULL, NULL);
}
