/* SPDX-License-Identifier: MIT */
/*
 * test_dump.c - rill_runtime_dump: what it says about tasks waiting on a
 * named channel (recv, send to a full channel), on a sleep (virtual
 * clock), on a join, in a select, about blocking jobs and stackless
 * futures; dumping from a plain thread while tasks run on two workers
 * (for TSan); the SIGQUIT dump.
 *
 * Ordering without sleeps: on the virtual clock an observer task's
 * rill_sleep returns only when every other task waits (the clock moves
 * only then), so its dump sees them all waiting.
 */
#include "test_util.h"
#include <rill.h>

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ---- capturing a dump ---- */

typedef struct text {
    char *s;
    size_t len, cap;
} text_t;

static void text_line(const char *line, void *ud)
{
    text_t *t = ud;
    size_t n = strlen(line);
    if (t->len + n + 2 > t->cap) {
        t->cap = (t->len + n + 2) * 2;
        t->s = realloc(t->s, t->cap);
    }
    memcpy(t->s + t->len, line, n);
    t->len += n;
    t->s[t->len++] = '\n';
    t->s[t->len] = '\0';
}

/* The dump of the current runtime as one string (free it). */
static char *dump_now(void)
{
    text_t t = {NULL, 0, 0};
    assert_status(
        rill_runtime_dump_lines(rill_runtime_current(), text_line, &t), 0);
    return t.s;
}

/* Fails with the whole dump shown if `needle` is not in it. */
static void expect_in(const char *dump, const char *needle)
{
    if (!strstr(dump, needle)) {
        fprintf(stderr, "expected \"%s\" in the dump:\n%s", needle, dump);
        fail();
    }
}

/* Let every other task reach its wait (virtual clock: see the top). */
static void settle(void)
{
    assert_status(rill_sleep(RILL_MS(1)), 0);
}

static rill_task_t *spawn_named(const char *name, rill_task_fn fn, void *arg)
{
    rill_task_t *t = NULL;
    rill_spawn_config_t o = {.name = name};
    assert_status(rill_spawn(&t, fn, arg, &o), 0);
    return t;
}

/* ---- recv on a named channel, send to a full one ---- */

static void *recv_one(void *arg)
{
    rill_receiver_t *rx = arg;
    int v;
    assert_status(rill_recv(rx, &v), 0);
    return (void *)(intptr_t)v;
}

static void *send_three(void *arg)
{
    rill_sender_t *tx = arg;
    for (int i = 0; i < 3; i++)
        assert_status(rill_send(tx, &i), 0);
    return NULL;
}

static void *channels_main(void *arg)
{
    (void)arg;
    rill_sender_t *tx, *ftx;
    rill_receiver_t *rx, *frx;
    rill_channel_config_t o = {.name = "inbox"};
    assert_status(rill_channel_new(&tx, &rx, sizeof(int), 4, &o), 0);
    rill_channel_config_t fo = {.name = "out"};
    assert_status(rill_channel_new(&ftx, &frx, sizeof(int), 2, &fo), 0);
    rill_task_t *r = spawn_named("receiver", recv_one, rx);
    rill_task_t *s = spawn_named("sender", send_three, ftx);
    settle();

    char *d = dump_now();
    expect_in(d, "3 tasks alive, virtual clock at +1.000 ms, 0 timers armed");
    expect_in(d, "'block_on' running");
    char want[256];
    snprintf(want, sizeof want,
             "task %llu 'receiver' waiting: recv on bounded channel 'inbox' "
             "(len 0/4, sent 0, received 0, high-water 0, waits full 0, "
             "waits empty 1)",
             (unsigned long long)rill_task_id(r));
    expect_in(d, want);
    snprintf(want, sizeof want,
             "task %llu 'sender' waiting: send on bounded channel 'out' "
             "(len 2/2, sent 2, received 0, high-water 2, waits full 1, "
             "waits empty 0)",
             (unsigned long long)rill_task_id(s));
    expect_in(d, want);
    free(d);

    int v = 7, got;
    assert_status(rill_send(tx, &v), 0);
    for (int i = 0; i < 3; i++) {
        assert_status(rill_recv(frx, &got), 0);
        assert_int_equal(got, i);
    }
    void *res;
    assert_status(rill_join(r, &res), 0);
    assert_int_equal((int)(intptr_t)res, 7);
    assert_status(rill_join(s, NULL), 0);
    rill_sender_release(tx);
    rill_receiver_release(rx);
    rill_sender_release(ftx);
    rill_receiver_release(frx);
    return NULL;
}

static void test_dump_channels(void **state)
{
    (void)state;
    rill_runtime_t *rt = test_new_rt(2, true);
    assert_status(rill_block_on(rt, channels_main, NULL, NULL), 0);
    rill_runtime_free(rt);
}

/* ---- a stream pipeline: the combinators down to the channel ---- */

static int add_one(void *ud, void *in, void *out)
{
    (void)ud;
    *(int *)out = *(int *)in + 1;
    return 0;
}

static bool keep_all(void *ud, const void *item)
{
    (void)ud;
    (void)item;
    return true;
}

static void *next_one(void *arg)
{
    int v;
    assert_status(rill_next((rill_stream_t *)arg, &v), 0);
    return (void *)(intptr_t)v;
}

static void *stream_main(void *arg)
{
    (void)arg;
    rill_sender_t *tx;
    rill_receiver_t *rx;
    rill_stream_t *s;
    rill_channel_config_t o = {.name = "readings"};
    assert_status(rill_channel_new(&tx, &rx, sizeof(int), 64, &o), 0);
    assert_status(rill_receiver_into_stream(rx, &s), 0);
    assert_status(rill_stream_filter(&s, keep_all, NULL), 0);
    assert_status(rill_stream_map(&s, add_one, NULL, sizeof(int)), 0);
    rill_task_t *c = spawn_named("consumer", next_one, s);
    settle();
    char *d = dump_now();
    char want[512];
    snprintf(want, sizeof want,
             "task %llu 'consumer' waiting: next on map <- filter <- "
             "receiver stream on bounded channel 'readings' (len 0/64",
             (unsigned long long)rill_task_id(c));
    expect_in(d, want);
    free(d);
    int v = 41;
    assert_status(rill_send(tx, &v), 0);
    void *res;
    assert_status(rill_join(c, &res), 0);
    assert_int_equal((int)(intptr_t)res, 42);
    rill_sender_release(tx);
    rill_stream_free(s);
    return NULL;
}

static void test_dump_stream(void **state)
{
    (void)state;
    rill_runtime_t *rt = test_new_rt(2, true);
    assert_status(rill_block_on(rt, stream_main, NULL, NULL), 0);
    rill_runtime_free(rt);
}

/* More combinators, each naming itself and what it draws from: a task
 * waiting on take <- chunks <- merge, and rill_stream_describe of
 * pipelines over the other sources. */
static void *next_chunk(void *arg)
{
    rill_chunk_t c;
    int r = rill_next((rill_stream_t *)arg, &c);
    if (r == 0)
        rill_chunk_destroy(&c);
    return (void *)(intptr_t)r;
}

static void expect_describe(rill_stream_t *s, const char *want)
{
    char buf[512];
    int n = rill_stream_describe(s, buf, sizeof buf);
    if (n < 0 || strcmp(buf, want) != 0)
        fail_msg("described as \"%s\", expected \"%s\"", buf, want);
    assert_int_equal((size_t)n, strlen(want));
}

static void *combinators_main(void *arg)
{
    (void)arg;
    rill_sender_t *tx;
    rill_receiver_t *rx;
    rill_channel_config_t o = {.name = "events"};
    assert_int_equal(rill_channel_new(&tx, &rx, sizeof(int), 8, &o), 0);
    rill_stream_t *s, *other;
    assert_int_equal(rill_receiver_into_stream(rx, &s), 0);
    assert_int_equal(rill_stream_empty(&other, sizeof(int)), 0);
    assert_int_equal(rill_stream_merge(&s, other), 0);
    assert_int_equal(rill_stream_chunks(&s, 4), 0);
    assert_int_equal(rill_stream_take(&s, 2), 0);
    rill_task_t *c = spawn_named("chunker", next_chunk, s);
    settle();
    char *d = dump_now();
    char want[256];
    snprintf(want, sizeof want,
             "task %llu 'chunker' waiting: next on take <- chunks of 4 <- "
             "merge of 2 streams",
             (unsigned long long)rill_task_id(c));
    expect_in(d, want);
    free(d);
    rill_sender_release(tx); /* the merge ends: a last, short chunk */
    void *res;
    assert_int_equal(rill_join(c, &res), 0);
    assert_int_equal((int)(intptr_t)res, RILL_DONE);
    rill_stream_free(s);

    int items[3] = {1, 2, 3};
    assert_int_equal(rill_stream_iter(&s, items, 3, sizeof items[0]), 0);
    assert_int_equal(rill_stream_skip(&s, 1), 0);
    assert_int_equal(rill_stream_map(&s, add_one, NULL, sizeof(int)), 0);
    assert_int_equal(rill_stream_repeat(&other, &items[0], sizeof items[0]), 0);
    assert_int_equal(rill_stream_chain(&s, other), 0);
    assert_int_equal(rill_stream_timeout(&s, RILL_MS(5)), 0);
    expect_describe(s, "timeout <- chain <- map <- skip <- iter of 3 items "
                       "(always ready)");
    rill_stream_free(s);

    assert_int_equal(rill_stream_interval(&s, RILL_MS(250), RILL_TICK_BURST),
                     0);
    assert_int_equal(rill_stream_ready_chunks(&s, 8), 0);
    expect_describe(s, "ready_chunks of 8 <- interval every +250.000 ms");
    rill_stream_free(s);

    rill_watch_sender_t *wtx;
    rill_watch_receiver_t *wrx;
    int init = 0;
    rill_channel_config_t wo = {.name = "limits"};
    assert_int_equal(rill_watch_new(&wtx, &wrx, sizeof init, &init, &wo), 0);
    assert_int_equal(rill_watch_into_stream(wrx, sizeof init, &s), 0);
    assert_int_equal(rill_stream_repeat(&other, &init, sizeof init), 0);
    assert_int_equal(rill_stream_zip(&s, other, 2 * sizeof(int), sizeof(int)),
                     0);
    char buf[512];
    assert_true(rill_stream_describe(s, buf, sizeof buf) > 0);
    expect_in(buf, "zip <- (watch stream on watch channel 'limits' (len 1/1");
    expect_in(buf, ") & (repeat (always ready))");
    /* Truncated as snprintf does, and still a string. */
    char small[8];
    int n = rill_stream_describe(s, small, sizeof small);
    assert_int_equal((size_t)n, strlen(buf));
    assert_string_equal(small, "zip <- ");
    rill_stream_free(s);
    rill_watch_sender_release(wtx);
    return NULL;
}

static void test_dump_combinators(void **state)
{
    (void)state;
    rill_runtime_t *rt = test_new_rt(2, true);
    assert_int_equal(rill_block_on(rt, combinators_main, NULL, NULL), 0);
    rill_runtime_free(rt);
}

/* ---- sleep, join, select ---- */

static void *sleeper(void *arg)
{
    (void)arg;
    assert_status(rill_sleep(RILL_MS(10)), 0);
    return NULL;
}

static void *joiner(void *arg)
{
    assert_status(rill_join(arg, NULL), 0);
    return NULL;
}

typedef struct sel_arg {
    rill_receiver_t *a, *b;
} sel_arg_t;

static void *selector(void *arg)
{
    sel_arg_t *sa = arg;
    int x, y, st;
    rill_recv_op_t ra, rb;
    rill_sleep_op_t t;
    rill_recv_op(&ra, sa->a, &x, sizeof x);
    rill_recv_op(&rb, sa->b, &y, sizeof y);
    rill_sleep_op(&t, rill_deadline(RILL_SEC(1)));
    rill_future_t *cases[] = {&ra.base, &rb.base, &t.base};
    int i = rill_select(cases, 3, RILL_SELECT_BIASED,
                        rill_deadline(RILL_SEC(2)), &st);
    rill_sleep_op_cancel(&t);
    return (void *)(intptr_t)i;
}

static void *waits_main(void *arg)
{
    (void)arg;
    rill_sender_t *atx, *btx;
    rill_receiver_t *arx, *brx;
    rill_channel_config_t ao = {.name = "a"}, bo = {.name = "b"};
    assert_status(rill_channel_new(&atx, &arx, sizeof(int), 1, &ao), 0);
    assert_status(rill_channel_new(&btx, &brx, sizeof(int), 0, &bo), 0);
    sel_arg_t sa = {arx, brx};
    rill_task_t *sl = spawn_named("sleeper", sleeper, NULL);
    rill_task_t *jn = spawn_named("joiner", joiner, sl);
    rill_task_t *se = spawn_named("selector", selector, &sa);
    settle();

    char *d = dump_now();
    char want[512];
    expect_in(d, "virtual clock at +1.000 ms, 3 timers armed (next +9.000 "
                 "ms)");
    snprintf(want, sizeof want,
             "task %llu 'sleeper' waiting: sleep until +9.000 ms",
             (unsigned long long)rill_task_id(sl));
    expect_in(d, want);
    snprintf(want, sizeof want,
             "task %llu 'joiner' waiting: join task %llu 'sleeper' "
             "(waiting)",
             (unsigned long long)rill_task_id(jn),
             (unsigned long long)rill_task_id(sl));
    expect_in(d, want);
    snprintf(want, sizeof want,
             "task %llu 'selector' waiting: select of 3 (biased): [0] recv on "
             "bounded channel 'a' (len 0/1, sent 0, received 0, high-water 0, "
             "waits full 0, waits empty 1); [1] recv on rendezvous channel 'b' "
             "(len 0/0, sent 0, received 0, high-water 0, waits full 0, waits "
             "empty 1); [2] sleep until +999.000 ms [deadline +1.999 s]",
             (unsigned long long)rill_task_id(se));
    expect_in(d, want);
    free(d);

    int v = 1;
    assert_status(rill_send(btx, &v), 0); /* the selector takes it */
    void *res;
    assert_status(rill_join(se, &res), 0);
    assert_int_equal((int)(intptr_t)res, 1);
    assert_status(rill_join(jn, NULL), 0);
    rill_sender_release(atx);
    rill_receiver_release(arx);
    rill_sender_release(btx);
    rill_receiver_release(brx);
    return NULL;
}

static void test_dump_sleep_join_select(void **state)
{
    (void)state;
    rill_runtime_t *rt = test_new_rt(2, true);
    assert_status(rill_block_on(rt, waits_main, NULL, NULL), 0);
    rill_runtime_free(rt);
}

/* ---- blocking jobs, stackless futures, watch ---- */

typedef struct gate {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int state;
} gate_t;

static void gate_wait(gate_t *g, int state)
{
    pthread_mutex_lock(&g->mu);
    while (g->state < state)
        pthread_cond_wait(&g->cv, &g->mu);
    pthread_mutex_unlock(&g->mu);
}

static void gate_set(gate_t *g, int state)
{
    pthread_mutex_lock(&g->mu);
    g->state = state;
    pthread_cond_broadcast(&g->cv);
    pthread_mutex_unlock(&g->mu);
}

static void *job(void *arg)
{
    gate_t *g = arg;
    gate_set(g, 1);  /* started */
    gate_wait(g, 2); /* until the dump is done */
    return NULL;
}

/* A stackless future without describe, pending until told. */
typedef struct flag_fut {
    rill_future_t base;
    atomic_int ready;
    rill_waker_t waker;
    pthread_mutex_t mu;
} flag_fut_t;

static int flag_poll(rill_future_t *f, rill_cx_t *cx)
{
    flag_fut_t *ff = (flag_fut_t *)f;
    pthread_mutex_lock(&ff->mu);
    int r = atomic_load(&ff->ready) ? 0 : RILL_PENDING;
    if (r == RILL_PENDING)
        rill_waker_set(&ff->waker, cx->waker);
    pthread_mutex_unlock(&ff->mu);
    return r;
}

static int flag_describe(const rill_future_t *f, rill_instant_t now, char *buf,
                         size_t len)
{
    (void)f;
    (void)now;
    return snprintf(buf, len, "the flag of test_dump");
}

static const rill_future_vtable_t flag_vt = {flag_poll, NULL, NULL, NULL};
static const rill_future_vtable_t flag_described_vt = {flag_poll, NULL, NULL,
                                                       flag_describe};

static void flag_set(flag_fut_t *ff)
{
    pthread_mutex_lock(&ff->mu);
    atomic_store(&ff->ready, 1);
    rill_waker_t w = ff->waker;
    ff->waker = RILL_WAKER_NONE;
    pthread_mutex_unlock(&ff->mu);
    rill_waker_wake(&w);
}

static void *watcher(void *arg)
{
    return (void *)(intptr_t)rill_watch_changed(arg);
}

static void test_dump_jobs_futures_watch(void **state)
{
    (void)state;
    rill_runtime_t *rt = test_new_rt(2, false);
    gate_t g = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0};
    rill_task_t *bj;
    assert_status(rill_spawn_blocking(&bj, job, &g,
                                      &(rill_spawn_config_t){.runtime = rt}),
                  0);
    gate_wait(&g, 1);

    flag_fut_t f1 = {{&flag_vt}, 0, RILL_WAKER_NONE, PTHREAD_MUTEX_INITIALIZER};
    flag_fut_t f2 = {
        {&flag_described_vt}, 0, RILL_WAKER_NONE, PTHREAD_MUTEX_INITIALIZER};
    rill_task_t *t1, *t2;
    assert_status(
        rill_spawn_future(&t1, &f1.base, &(rill_spawn_config_t){.runtime = rt}),
        0);
    assert_status(
        rill_spawn_future(&t2, &f2.base, &(rill_spawn_config_t){.runtime = rt}),
        0);

    rill_watch_sender_t *wtx;
    rill_watch_receiver_t *wrx;
    int init = 0;
    rill_channel_config_t wo = {.name = "config"};
    assert_status(rill_watch_new(&wtx, &wrx, sizeof init, &init, &wo), 0);
    rill_task_t *wt = NULL;
    rill_spawn_config_t o = {.runtime = rt, .name = "watcher"};
    assert_status(rill_spawn(&wt, watcher, wrx, &o), 0);

    /* From a plain thread, the tasks reach their waits in their own
     * time: dump until they have (each dump is a valid snapshot). */
    char *d = NULL;
    for (;;) {
        text_t t = {NULL, 0, 0};
        assert_status(rill_runtime_dump_lines(rt, text_line, &t), 0);
        d = t.s;
        if (strstr(d, "waiting: future") && strstr(d, "the flag") &&
            strstr(d, "'watcher' waiting: changed"))
            break;
        free(d);
        sched_yield();
    }
    char want[256];
    snprintf(want, sizeof want, "task %llu blocking job running",
             (unsigned long long)rill_task_id(bj));
    expect_in(d, want);
    expect_in(d, "1 blocking job (1 pool thread)");
    snprintf(want, sizeof want, "task %llu (future) waiting: future 0x",
             (unsigned long long)rill_task_id(t1));
    expect_in(d, want);
    expect_in(d, "(no describe)");
    snprintf(want, sizeof want,
             "task %llu (future) waiting: the flag of test_dump",
             (unsigned long long)rill_task_id(t2));
    expect_in(d, want);
    expect_in(d, "'watcher' waiting: changed on watch channel 'config' "
                 "(len 1/1, sent 0, received 0");
    free(d);

    /* rill_runtime_dump to a FILE gives the same lines. */
    char *buf = NULL;
    size_t len = 0;
    FILE *mf = open_memstream(&buf, &len);
    assert_status(rill_runtime_dump(rt, mf), 0);
    fclose(mf);
    expect_in(buf, "rill runtime ");
    expect_in(buf, "blocking job running");
    free(buf);

    gate_set(&g, 2);
    assert_status(rill_join(bj, NULL), 0);
    flag_set(&f1);
    flag_set(&f2);
    assert_status(rill_join(t1, NULL), 0);
    assert_status(rill_join(t2, NULL), 0);
    int v = 5;
    assert_status(rill_watch_send(wtx, &v), 0);
    void *r;
    assert_status(rill_join(wt, &r), 0);
    assert_int_equal((int)(intptr_t)r, 0);
    rill_watch_sender_release(wtx);
    rill_watch_receiver_release(wrx);
    rill_runtime_free(rt);
}

/* ---- dumping while tasks run (TSan) ---- */

typedef struct pp {
    rill_sender_t *tx;
    rill_receiver_t *rx;
    int rounds;
} pp_t;

static void *pinger(void *arg)
{
    pp_t *p = arg;
    for (int i = 0; i < p->rounds; i++) {
        int v = i, got;
        if (rill_send(p->tx, &v) != 0 || rill_recv(p->rx, &got) != 0)
            break;
        if (i % 64 == 0)
            rill_yield();
        if (i % 256 == 0)
            rill_sleep(RILL_US(50));
    }
    rill_sender_release(p->tx);
    return NULL;
}

static void *ponger(void *arg)
{
    pp_t *p = arg;
    int v;
    while (rill_recv_timeout(p->rx, &v, RILL_SEC(10)) == 0)
        if (rill_send(p->tx, &v) != 0)
            break;
    rill_sender_release(p->tx);
    return NULL;
}

static void null_line(const char *line, void *ud)
{
    (*(size_t *)ud) += strlen(line) > 0;
}

static void test_dump_while_running(void **state)
{
    (void)state;
    rill_runtime_t *rt = test_new_rt(2, false);
    enum { PAIRS = 8 };
    pp_t a[PAIRS], b[PAIRS];
    rill_receiver_t *rxs[2 * PAIRS];
    rill_task_t *ts[2 * PAIRS];
    int rounds = SCALE(4000, 8);
    for (int i = 0; i < PAIRS; i++) {
        rill_sender_t *t1, *t2;
        rill_receiver_t *r1, *r2;
        rill_channel_config_t o = {.name = "ping"};
        assert_status(rill_channel_new(&t1, &r1, sizeof(int), i % 2, &o), 0);
        o.name = "pong";
        assert_status(rill_channel_new(&t2, &r2, sizeof(int), 1, &o), 0);
        a[i] = (pp_t){t1, r2, rounds};
        b[i] = (pp_t){t2, r1, rounds};
        rxs[2 * i] = r1;
        rxs[2 * i + 1] = r2;
        assert_status(rill_spawn(&ts[2 * i], pinger, &a[i],
                                 &(rill_spawn_config_t){.runtime = rt}),
                      0);
        assert_status(rill_spawn(&ts[2 * i + 1], ponger, &b[i],
                                 &(rill_spawn_config_t){.runtime = rt}),
                      0);
    }
    size_t dumps = 0, lines = 0;
    while (!rill_task_is_finished(ts[0]) || dumps < 20) {
        assert_status(rill_runtime_dump_lines(rt, null_line, &lines), 0);
        dumps++;
    }
    for (int i = 0; i < 2 * PAIRS; i++)
        assert_status(rill_join(ts[i], NULL), 0);
    for (int i = 0; i < 2 * PAIRS; i++)
        rill_receiver_release(rxs[i]);
    assert_true(lines >= dumps);
    rill_runtime_free(rt);
}

/* ---- SIGQUIT ---- */

static void *parked_recv(void *arg)
{
    int v;
    return (void *)(intptr_t)rill_recv((rill_receiver_t *)arg, &v);
}

static void test_sigquit_dump(void **state)
{
    (void)state;
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    FILE *out = fdopen(fds[1], "w");
    rill_runtime_config_t c;
    rill_runtime_config_init(&c);
    c.workers = 1;
    c.sigquit_dump = true;
    c.diag_out = out;
    rill_runtime_t *rt = NULL;
    assert_status(rill_runtime_new(&rt, &c), 0);
    rill_sender_t *tx;
    rill_receiver_t *rx;
    rill_channel_config_t o = {.name = "quit-test"};
    assert_status(rill_channel_new(&tx, &rx, sizeof(int), 1, &o), 0);
    rill_task_t *t;
    assert_status(
        rill_spawn(&t, parked_recv, rx, &(rill_spawn_config_t){.runtime = rt}),
        0);

    /* Signal until the dump shows the task waiting (it may not have
     * reached its recv at the first signal). Each signal gives one dump:
     * a "SIGQUIT" line, the summary and the one task's line. Reading the
     * pipe blocks until the service thread has written them. */
    FILE *in = fdopen(fds[0], "r");
    char line[1024];
    bool seen = false;
    while (!seen) {
        assert_int_equal(raise(SIGQUIT), 0);
        assert_non_null(fgets(line, sizeof line, in));
        assert_non_null(strstr(line, "rill: SIGQUIT: task dump"));
        assert_non_null(fgets(line, sizeof line, in));
        assert_non_null(strstr(line, "rill runtime "));
        assert_non_null(fgets(line, sizeof line, in));
        seen = strstr(line, "waiting: recv on bounded channel 'quit-test'");
    }
    int v = 1;
    assert_status(rill_send(tx, &v), 0);
    void *r;
    assert_status(rill_join(t, &r), 0);
    assert_int_equal((int)(intptr_t)r, 0);
    rill_sender_release(tx);
    rill_receiver_release(rx);
    rill_runtime_free(rt);
    fclose(out);
    fclose(in);
}

/* ---- bad input ---- */

static void test_dump_bad_input(void **state)
{
    (void)state;
    assert_status(rill_runtime_dump(NULL, stderr), RILL_EINVAL);
    assert_status(rill_runtime_dump_lines(NULL, null_line, NULL), RILL_EINVAL);
    rill_runtime_t *rt = test_new_rt(1, false);
    assert_status(rill_runtime_dump_lines(rt, NULL, NULL), RILL_EINVAL);
    char buf[8];
    /* A future with no vtable and a tiny buffer: still a string. */
    rill_future_t none = {NULL};
    assert_true(rill_future_describe(&none, 0, buf, sizeof buf) > 0);
    assert_true(strlen(buf) < sizeof buf);
    rill_runtime_config_t c;
    rill_runtime_config_init(&c);
    c.deadlock = (rill_deadlock_mode_t)99;
    rill_runtime_t *bad = NULL;
    assert_status(rill_runtime_new(&bad, &c), RILL_EINVAL);
    rill_runtime_free(rt);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_dump_channels),
        cmocka_unit_test(test_dump_stream),
        cmocka_unit_test(test_dump_combinators),
        cmocka_unit_test(test_dump_sleep_join_select),
        cmocka_unit_test(test_dump_jobs_futures_watch),
        cmocka_unit_test(test_dump_while_running),
        cmocka_unit_test(test_sigquit_dump),
        cmocka_unit_test(test_dump_bad_input),
    };
    return test_run(tests, NULL, NULL);
}
