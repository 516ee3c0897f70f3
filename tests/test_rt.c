/* SPDX-License-Identifier: MIT */
/*
 * test_rt.c - the runtime: tasks, join, cancel, wakers racing, coop
 * budget, the virtual clock, the blocking pool, bad input.
 */
#include "test_util.h"
#include <rill.h>

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

/* ---- spawn / join ---- */

static void *ret_arg(void *arg)
{
    return arg;
}

static void *spawn_many(void *arg)
{
    long n = (long)(intptr_t)arg;
    enum { BATCH = 256 };
    rill_task_t *t[BATCH];
    long sum = 0, expect = 0;
    for (long base = 0; base < n; base += BATCH) {
        long k = n - base < BATCH ? n - base : BATCH;
        for (long i = 0; i < k; i++)
            assert_status(
                rill_spawn(&t[i], ret_arg, (void *)(intptr_t)(base + i), NULL),
                0);
        for (long i = 0; i < k; i++) {
            void *r;
            assert_status(rill_join(t[i], &r), 0);
            sum += (long)(intptr_t)r;
            expect += base + i;
        }
    }
    return (void *)(intptr_t)(sum == expect);
}

static void test_spawn_join_million(void **state)
{
    (void)state;
    rill_runtime_t *rt = test_new_rt(2, false);
    void *ok = NULL;
    long n = SCALE(1000000, 10);
    assert_status(rill_block_on(rt, spawn_many, (void *)(intptr_t)n, &ok), 0);
    assert_true(ok != NULL);
    rill_runtime_stats_t st;
    assert_status(rill_runtime_stats(rt, &st), 0);
    assert_true(st.tasks_spawned >= (uint64_t)n + 1);
    assert_int_equal(st.tasks_alive, 0);
    rill_runtime_free(rt);
}

static void test_block_on_result_and_names(void **state)
{
    (void)state;
    rill_runtime_t *rt = test_new_rt(2, false);
    void *r = NULL;
    assert_status(rill_block_on(rt, ret_arg, (void *)42, &r), 0);
    assert_ptr_equal(r, (void *)42);
    rill_spawn_config_t o = {
        .runtime = rt, .name = "named-task-with-a-long-name-xxxxxxxxxxxx"};
    rill_task_t *t;
    assert_status(rill_spawn(&t, ret_arg, (void *)7, &o), 0);
    assert_true(rill_task_id(t) > 0);
    assert_int_equal(strlen(rill_task_name(t)), 31);
    assert_status(rill_join(t, &r), 0);
    assert_ptr_equal(r, (void *)7);
    rill_runtime_free(rt);
}

/* rill_run from inside a task: refused (it would block a worker). */
static void *run_inside(void *arg)
{
    (void)arg;
    return (void *)(intptr_t)rill_run(ret_arg, NULL, NULL, NULL);
}

/* A task left running when fn returns: rill_run cancels and waits for it. */
static void *sleeper(void *arg)
{
    (void)arg;
    return (void *)(intptr_t)rill_sleep(RILL_SEC(3600));
}

static void *spawn_sleeper(void *arg)
{
    return rill_spawn(NULL, sleeper, NULL, NULL) == 0 ? arg : NULL;
}

static void test_run_whole_program(void **state)
{
    (void)state;
    void *r = NULL;
    rill_runtime_config_t cfg = {.workers = 1};
    assert_status(rill_run(ret_arg, (void *)42, &r, &cfg), 0);
    assert_ptr_equal(r, (void *)42);
    assert_status(rill_run(spawn_sleeper, (void *)1, &r, NULL), 0);
    assert_ptr_equal(r, (void *)1);
    assert_status(rill_run(run_inside, NULL, &r, NULL), 0);
    assert_int_equal((intptr_t)r, RILL_EINVAL);
    assert_status(rill_run(NULL, NULL, NULL, NULL), RILL_EINVAL);
    cfg.workers = -1;
    assert_status(rill_run(ret_arg, NULL, NULL, &cfg), RILL_EINVAL);
}

/* ---- awaiting from a plain thread, woken from a task ---- */

typedef struct flag_fut {
    rill_future_t base;
    atomic_int done;
    pthread_mutex_t lock;
    rill_waker_t waker;
} flag_fut_t;

static int flag_poll(rill_future_t *f, rill_cx_t *cx)
{
    flag_fut_t *ff = (flag_fut_t *)f;
    pthread_mutex_lock(&ff->lock);
    int d = atomic_load(&ff->done);
    if (!d)
        rill_waker_set(&ff->waker, cx->waker);
    pthread_mutex_unlock(&ff->lock);
    return d ? 0 : RILL_PENDING;
}
static int flag_cancel(rill_future_t *f)
{
    flag_fut_t *ff = (flag_fut_t *)f;
    pthread_mutex_lock(&ff->lock);
    rill_waker_release(&ff->waker);
    int d = atomic_load(&ff->done);
    pthread_mutex_unlock(&ff->lock);
    return d ? 0 : RILL_PENDING;
}
static const rill_future_vtable_t flag_vt = {flag_poll, flag_cancel, NULL,
                                             NULL};

static void flag_init(flag_fut_t *f)
{
    f->base.vtable = &flag_vt;
    atomic_init(&f->done, 0);
    pthread_mutex_init(&f->lock, NULL);
    f->waker = RILL_WAKER_NONE;
}
static void flag_set(flag_fut_t *f)
{
    pthread_mutex_lock(&f->lock);
    atomic_store(&f->done, 1);
    rill_waker_t w = f->waker;
    f->waker = RILL_WAKER_NONE;
    pthread_mutex_unlock(&f->lock);
    rill_waker_wake(&w);
}
static void flag_destroy(flag_fut_t *f)
{
    rill_waker_release(&f->waker);
    pthread_mutex_destroy(&f->lock);
}

static void *set_flag_task(void *arg)
{
    rill_yield();
    flag_set(arg);
    return NULL;
}

static void test_await_on_plain_thread(void **state)
{
    (void)state;
    rill_runtime_t *rt = test_new_rt(2, false);
    for (int i = 0; i < SCALE(2000, 4); i++) {
        flag_fut_t f;
        flag_init(&f);
        assert_status(rill_spawn(NULL, set_flag_task, &f,
                                 &(rill_spawn_config_t){.runtime = rt}),
                      0);
        assert_status(rill_await(&f.base), 0);
        flag_destroy(&f);
    }
    /* A timeout on a plain thread, with no runtime involved. */
    flag_fut_t f;
    flag_init(&f);
    assert_status(rill_await_timeout(&f.base, RILL_MS(2)), RILL_ETIMEDOUT);
    flag_destroy(&f);
    rill_runtime_free(rt);
}

/* ---- wakes from 4 foreign threads racing with the task's completion ---- */

typedef struct race {
    flag_fut_t flag;
    pthread_barrier_t barrier;
} race_t;

static void *race_task(void *arg)
{
    race_t *r = arg;
    int rc = rill_await(&r->flag.base);
    return (void *)(intptr_t)(rc == 0);
}

static void *waker_thread(void *arg)
{
    race_t *r = arg;
    pthread_barrier_wait(&r->barrier);
    for (int i = 0; i < 50; i++) {
        pthread_mutex_lock(&r->flag.lock);
        rill_waker_t w = rill_waker_clone(&r->flag.waker);
        pthread_mutex_unlock(&r->flag.lock);
        rill_waker_wake(&w); /* may hit a running, finished or idle task */
    }
    return NULL;
}

static void test_foreign_wakes_race_completion(void **state)
{
    (void)state;
    rill_runtime_t *rt = test_new_rt(2, false);
    for (int round = 0; round < SCALE(2000, 10); round++) {
        race_t r;
        flag_init(&r.flag);
        pthread_barrier_init(&r.barrier, NULL, 5);
        rill_task_t *t;
        assert_status(rill_spawn(&t, race_task, &r,
                                 &(rill_spawn_config_t){.runtime = rt}),
                      0);
        pthread_t th[4];
        for (int i = 0; i < 4; i++)
            pthread_create(&th[i], NULL, waker_thread, &r);
        pthread_barrier_wait(&r.barrier);
        flag_set(&r.flag);
        void *ok;
        assert_status(rill_join(t, &ok), 0);
        assert_true(ok != NULL);
        for (int i = 0; i < 4; i++)
            pthread_join(th[i], NULL);
        pthread_barrier_destroy(&r.barrier);
        flag_destroy(&r.flag);
    }
    rill_runtime_stats_t st;
    rill_runtime_stats(rt, &st);
    assert_int_equal(st.tasks_alive, 0);
    rill_runtime_free(rt);
}

/* ---- cancellation ---- */

static void *wait_forever(void *arg)
{
    flag_fut_t *f = arg;
    int rc = rill_await(&f->base);
    /* After cancellation every suspending call fails at once. */
    int rc2 = rill_sleep(RILL_SEC(100));
    int rc3 = rill_yield();
    return (void *)(intptr_t)(rc == RILL_ECANCELED && rc2 == RILL_ECANCELED &&
                              rc3 == RILL_ECANCELED);
}

static void *cancel_waker_thread(void *arg)
{
    flag_fut_t *f = arg;
    for (int i = 0; i < 20; i++) {
        pthread_mutex_lock(&f->lock);
        rill_waker_t w = rill_waker_clone(&f->waker);
        pthread_mutex_unlock(&f->lock);
        rill_waker_wake(&w);
    }
    return NULL;
}

static void test_cancel_races_wake(void **state)
{
    (void)state;
    rill_runtime_t *rt = test_new_rt(2, false);
    for (int i = 0; i < SCALE(2000, 10); i++) {
        flag_fut_t f;
        flag_init(&f);
        rill_task_t *t;
        assert_status(rill_spawn(&t, wait_forever, &f,
                                 &(rill_spawn_config_t){.runtime = rt}),
                      0);
        pthread_t th;
        pthread_create(&th, NULL, cancel_waker_thread, &f);
        assert_status(rill_task_cancel(t), 0);
        void *ok = NULL;
        int rc = rill_join(t, &ok);
        /* Cancelled before it ran (ECANCELED) or it unwound (ok). */
        assert_true(rc == RILL_ECANCELED || (rc == 0 && ok != NULL));
        pthread_join(th, NULL);
        flag_destroy(&f);
    }
    rill_runtime_free(rt);
}

static void test_shutdown_cancels_live_tasks(void **state)
{
    (void)state;
    rill_runtime_t *rt = test_new_rt(2, false);
    flag_fut_t f;
    flag_init(&f);
    for (int i = 0; i < 100; i++)
        assert_status(rill_spawn(NULL, wait_forever, &f,
                                 &(rill_spawn_config_t){.runtime = rt}),
                      0);
    rill_runtime_shutdown(rt);
    rill_runtime_stats_t st;
    rill_runtime_stats(rt, &st);
    assert_int_equal(st.tasks_alive, 0);
    assert_status(
        rill_spawn(NULL, ret_arg, NULL, &(rill_spawn_config_t){.runtime = rt}),
        RILL_ESHUTDOWN);
    assert_status(rill_block_on(rt, ret_arg, NULL, NULL), RILL_ESHUTDOWN);
    rill_runtime_free(rt);
    flag_destroy(&f);
}

/* ---- stackless futures ---- */

typedef struct count_fut {
    rill_future_t base;
    int polls;
    atomic_int *dropped;
} count_fut_t;

static int count_poll(rill_future_t *f, rill_cx_t *cx)
{
    count_fut_t *c = (count_fut_t *)f;
    if (++c->polls < 10) {
        rill_waker_wake_by_ref(cx->waker);
        return RILL_PENDING;
    }
    return 5;
}
static void count_drop(rill_future_t *f)
{
    count_fut_t *c = (count_fut_t *)f;
    atomic_fetch_add(c->dropped, 1);
    free(c);
}
static const rill_future_vtable_t count_vt = {count_poll, NULL, count_drop,
                                              NULL};

/* Futures moved into their tasks (rill_spawn_future_in) beside futures
 * given by pointer: the drop releases, the task's
 * memory goes with the task (ASan sees no leak, no double free), odd
 * sizes and alignment are kept, bad sizes are refused. */
typedef struct big_fut {
    count_fut_t c;
    _Alignas(16) unsigned char pad[333];
} big_fut_t;
static void embedded_drop(rill_future_t *f)
{
    big_fut_t *b = (big_fut_t *)f;
    assert_true(((uintptr_t)b & 15) == 0);
    assert_int_equal(b->pad[332], 0xAB);
    atomic_fetch_add(b->c.dropped, 1);
}
static int embedded_poll(rill_future_t *f, rill_cx_t *cx)
{
    return count_poll(f, cx);
}
static const rill_future_vtable_t embedded_vt = {embedded_poll, NULL,
                                                 embedded_drop, NULL};

static void test_stackless_futures(void **state)
{
    (void)state;
    rill_runtime_t *rt = test_new_rt(2, false);
    atomic_int dropped = 0;
    enum { N = 1000 };
    rill_task_t *t[N];
    for (int i = 0; i < N; i++) {
        if (i % 2) {
            count_fut_t *c = calloc(1, sizeof *c);
            c->base.vtable = &count_vt;
            c->dropped = &dropped;
            assert_status(
                rill_spawn_future(&t[i], &c->base,
                                  &(rill_spawn_config_t){.runtime = rt}),
                0);
            continue;
        }
        big_fut_t b = {{{&embedded_vt}, 0, &dropped}, {0}};
        b.pad[332] = 0xAB;
        assert_status(
            rill_spawn_future_in(&t[i], &b.c.base, sizeof b,
                                 &(rill_spawn_config_t){.runtime = rt}),
            0);
        b.c.polls = 1000; /* the task has its own copy */
    }
    for (int i = 0; i < N; i++)
        assert_int_equal(rill_join(t[i], NULL), 5);
    assert_int_equal(atomic_load(&dropped), N);
    big_fut_t b = {{{&embedded_vt}, 0, &dropped}, {0}};
    rill_task_t *x;
    assert_status(rill_spawn_future_in(&x, &b.c.base, 4,
                                       &(rill_spawn_config_t){.runtime = rt}),
                  RILL_EINVAL);
    assert_status(rill_spawn_future_in(&x, &b.c.base,
                                       RILL_SPAWN_FUTURE_IN_MAX + 1,
                                       &(rill_spawn_config_t){.runtime = rt}),
                  RILL_EINVAL);
    assert_status(rill_spawn_future_in(&x, NULL, sizeof b,
                                       &(rill_spawn_config_t){.runtime = rt}),
                  RILL_EINVAL);
    rill_runtime_free(rt);
}

/* ---- cooperative budget ---- */

typedef struct ready_fut {
    rill_future_t base;
} ready_fut_t;
static int ready_poll(rill_future_t *f, rill_cx_t *cx)
{
    (void)f;
    (void)cx;
    return 0;
}
static const rill_future_vtable_t ready_vt = {ready_poll, NULL, NULL, NULL};

static void *hot_task(void *arg)
{
    atomic_int *stop = arg;
    ready_fut_t r = {{&ready_vt}};
    /* Always ready: without the budget this loop would own the worker. */
    while (!atomic_load(stop))
        if (rill_await(&r.base) != 0)
            return (void *)1;
    return NULL;
}
static void *progress_task(void *arg)
{
    atomic_store((atomic_int *)arg, 1);
    return NULL;
}
static void *coop_main(void *arg)
{
    (void)arg;
    atomic_int stop = 0;
    rill_task_t *hot, *p;
    void *hot_failed = NULL;
    if (rill_spawn(&hot, hot_task, &stop, NULL))
        return NULL;
    rill_yield(); /* let the hot task start */
    int rp = rill_spawn(&p, progress_task, &stop, NULL);
    if (rp)
        atomic_store(&stop, 1); /* nobody else will end the hot task */
    int rj = rp ? 0 : rill_join(p, NULL);
    int rh = rill_join(hot, &hot_failed);
    return rp || rj || rh || hot_failed ? NULL : (void *)1;
}

static void test_coop_budget(void **state)
{
    (void)state;
    rill_runtime_t *rt = test_new_rt(1, false); /* one worker: no escape */
    void *ok = NULL;
    assert_status(rill_block_on(rt, coop_main, NULL, &ok), 0);
    assert_true(ok != NULL);
    rill_runtime_free(rt);
}

/* ---- virtual clock ---- */

typedef struct vt_sleeper {
    rill_instant_t start, deadline, woke;
    unsigned order;
} vt_sleeper_t;

static atomic_uint wake_seq;

static void *vt_sleep_task(void *arg)
{
    vt_sleeper_t *s = arg;
    assert_status(rill_sleep_until(s->deadline), 0);
    s->woke = rill_now();
    s->order = atomic_fetch_add(&wake_seq, 1);
    return NULL;
}

static int cmp_deadline(const void *a, const void *b)
{
    const vt_sleeper_t *x = *(vt_sleeper_t *const *)a;
    const vt_sleeper_t *y = *(vt_sleeper_t *const *)b;
    return (x->deadline > y->deadline) - (x->deadline < y->deadline);
}

static void *vt_main(void *arg)
{
    (void)arg;
    enum { N = 10000 };
    vt_sleeper_t *s = calloc(N, sizeof *s);
    rill_task_t **t = calloc(N, sizeof *t);
    rill_instant_t t0 = rill_now();
    uint64_t x = 12345;
    for (int i = 0; i < N; i++) {
        /* Random deadlines between 1 us and one hour of virtual time. */
        x = x * 6364136223846793005ULL + 1442695040888963407ULL;
        s[i].start = t0;
        s[i].deadline =
            t0 + RILL_US(1) + (rill_duration_t)((x >> 11) % RILL_SEC(3600));
        assert_status(rill_spawn(&t[i], vt_sleep_task, &s[i], NULL), 0);
    }
    for (int i = 0; i < N; i++)
        assert_status(rill_join(t[i], NULL), 0);
    /* Exact virtual times. */
    for (int i = 0; i < N; i++)
        assert_int_equal(s[i].woke, s[i].deadline);
    /* Exact order. */
    vt_sleeper_t **by = calloc(N, sizeof *by);
    for (int i = 0; i < N; i++)
        by[i] = &s[i];
    qsort(by, N, sizeof *by, cmp_deadline);
    for (int i = 1; i < N; i++)
        if (by[i]->deadline > by[i - 1]->deadline)
            assert_true(by[i]->order > by[i - 1]->order);
    free(by);
    free(t);
    free(s);
    return (void *)1;
}

static void test_virtual_clock_timers(void **state)
{
    (void)state;
    rill_runtime_t *rt = test_new_rt(2, true);
    atomic_store(&wake_seq, 0);
    void *ok = NULL;
    assert_status(rill_block_on(rt, vt_main, NULL, &ok), 0);
    assert_true(ok != NULL);
    rill_runtime_free(rt);
}

static void *vt_timeout_task(void *arg)
{
    (void)arg;
    flag_fut_t f;
    flag_init(&f);
    rill_instant_t t0 = rill_now();
    int rc = rill_await_timeout(&f.base, RILL_MS(250));
    rill_instant_t dt = rill_now() - t0;
    flag_destroy(&f);
    return (void *)(intptr_t)(rc == RILL_ETIMEDOUT && dt == RILL_MS(250));
}

static void test_virtual_clock_timeout(void **state)
{
    (void)state;
    rill_runtime_t *rt = test_new_rt(2, true);
    void *ok = NULL;
    assert_status(rill_block_on(rt, vt_timeout_task, NULL, &ok), 0);
    assert_true(ok != NULL);
    rill_runtime_free(rt);
}

/* ---- real timers: ordering only (never durations in unit tests) ---- */

static void *real_sleep_task(void *arg)
{
    (void)arg;
    rill_instant_t t0 = rill_now();
    rill_sleep(RILL_US(300));
    return (void *)(intptr_t)(rill_now() - t0 >= RILL_US(300));
}

static void test_real_sleep_not_early(void **state)
{
    (void)state;
    rill_runtime_t *rt = test_new_rt(2, false);
    for (int i = 0; i < 20; i++) {
        void *ok = NULL;
        assert_status(rill_block_on(rt, real_sleep_task, NULL, &ok), 0);
        assert_true(ok != NULL);
    }
    rill_runtime_free(rt);
}

/* ---- blocking pool ---- */

static void *blocking_fn(void *arg)
{
    return (void *)((intptr_t)arg + 1);
}
static void *blocking_from_task(void *arg)
{
    (void)arg;
    intptr_t sum = 0;
    for (intptr_t i = 0; i < 100; i++) {
        rill_task_t *t;
        assert_status(rill_spawn_blocking(&t, blocking_fn, (void *)i, NULL), 0);
        void *r;
        assert_status(rill_join(t, &r), 0);
        sum += (intptr_t)r;
    }
    return (void *)sum;
}

static void test_blocking_pool(void **state)
{
    (void)state;
    rill_runtime_t *rt = test_new_rt(2, false);
    void *r = NULL;
    assert_status(rill_block_on(rt, blocking_from_task, NULL, &r), 0);
    assert_int_equal((intptr_t)r, 5050);
    rill_task_t *t; /* from a plain thread */
    assert_status(rill_spawn_blocking(&t, blocking_fn, (void *)1,
                                      &(rill_spawn_config_t){.runtime = rt}),
                  0);
    assert_status(rill_join(t, &r), 0);
    assert_int_equal((intptr_t)r, 2);
    rill_runtime_free(rt);
}

/* ---- bad input ---- */

static void *nested_block_on(void *arg)
{
    return (void *)(intptr_t)rill_block_on(arg, ret_arg, NULL, NULL);
}

static pthread_cond_t started_cond = PTHREAD_COND_INITIALIZER;

/* Marks f done (under its lock, signalling started_cond), then waits on a
 * second flag forever. */
static void *set_flag_then_wait(void *arg)
{
    flag_fut_t *f = arg;
    flag_fut_t never;
    flag_init(&never);
    pthread_mutex_lock(&f->lock);
    atomic_store(&f->done, 1);
    pthread_cond_broadcast(&started_cond);
    pthread_mutex_unlock(&f->lock);
    int rc = rill_await(&never.base);
    flag_destroy(&never);
    return (void *)(intptr_t)rc;
}

static void test_bad_input(void **state)
{
    (void)state;
    assert_status(rill_runtime_new(NULL, NULL), RILL_EINVAL);
    rill_runtime_config_t c;
    rill_runtime_config_init(&c);
    rill_runtime_t *rt = NULL;
    c.stack_size = 100;
    assert_status(rill_runtime_new(&rt, &c), RILL_EINVAL);
    c.stack_size = (size_t)1 << 40;
    assert_status(rill_runtime_new(&rt, &c), RILL_EINVAL);
    c.stack_size = 0;
    c.workers = 100000;
    assert_status(rill_runtime_new(&rt, &c), RILL_EINVAL);
    assert_null(rt);

    assert_status(rill_block_on(NULL, ret_arg, NULL, NULL), RILL_EINVAL);
    assert_status(rill_spawn(NULL, ret_arg, NULL, NULL),
                  RILL_EINVAL); /* no rt */
    assert_status(rill_spawn(NULL, ret_arg, NULL, NULL), RILL_EINVAL);
    assert_status(rill_join(NULL, NULL), RILL_EINVAL);
    assert_status(rill_task_cancel(NULL), RILL_EINVAL);
    assert_status(rill_await(NULL), RILL_EINVAL);

    rt = test_new_rt(2, false);
    assert_status(rill_block_on(rt, NULL, NULL, NULL), RILL_EINVAL);
    rill_spawn_config_t o = {.runtime = rt, .stack_size = 1};
    assert_status(rill_spawn(NULL, ret_arg, NULL, &o), RILL_EINVAL);
    /* block_on from inside a task. */
    void *r = NULL;
    assert_status(rill_block_on(rt, nested_block_on, rt, &r), 0);
    assert_status((intptr_t)r, RILL_EINVAL);
    /* Cancel after completion does nothing; join still gives the result. */
    rill_task_t *t;
    assert_status(rill_spawn(&t, ret_arg, (void *)3,
                             &(rill_spawn_config_t){.runtime = rt}),
                  0);
    while (!rill_task_is_finished(t))
        rill_yield();
    assert_status(rill_task_cancel(t), 0);
    assert_status(rill_join(t, &r), 0);
    assert_ptr_equal(r, (void *)3);
    /* A consumed handle is reported while the task is still alive (its
     * waker, registered in f, keeps it so): join after detach, detach
     * twice. */
    flag_fut_t f;
    flag_init(&f);
    assert_status(rill_spawn(&t, set_flag_then_wait, &f,
                             &(rill_spawn_config_t){.runtime = rt}),
                  0);
    pthread_mutex_lock(&f.lock);
    while (!atomic_load(&f.done))
        pthread_cond_wait(&started_cond, &f.lock);
    pthread_mutex_unlock(&f.lock);
    assert_status(rill_task_detach(t), 0);
    assert_status(rill_task_detach(t), RILL_EALREADY);
    assert_status(rill_join(t, NULL), RILL_EALREADY);
    rill_runtime_shutdown(rt); /* cancels it: it unwinds and finishes */
    rill_runtime_free(rt);
    flag_destroy(&f);
    rill_runtime_free(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_block_on_result_and_names),
        cmocka_unit_test(test_run_whole_program),
        cmocka_unit_test(test_spawn_join_million),
        cmocka_unit_test(test_await_on_plain_thread),
        cmocka_unit_test(test_foreign_wakes_race_completion),
        cmocka_unit_test(test_cancel_races_wake),
        cmocka_unit_test(test_shutdown_cancels_live_tasks),
        cmocka_unit_test(test_stackless_futures),
        cmocka_unit_test(test_coop_budget),
        cmocka_unit_test(test_virtual_clock_timers),
        cmocka_unit_test(test_virtual_clock_timeout),
        cmocka_unit_test(test_real_sleep_not_early),
        cmocka_unit_test(test_blocking_pool),
        cmocka_unit_test(test_bad_input),
    };
    return test_run(tests, NULL, NULL);
}
