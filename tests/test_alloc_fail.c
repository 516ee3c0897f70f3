/* SPDX-License-Identifier: MIT */
/*
 * test_alloc_fail.c - allocation-failure sweeps over the channels, the
 * runtime, select and rill_bytes (the streams are in
 * test_alloc_fail_stream.c): every allocation each scenario makes is
 * refused once (and from then on), and each time the failing call returns
 * RILL_ENOMEM, nothing leaks, and what was built stays usable or is
 * released cleanly. See alloc_fail.h for the sweep.
 */
#include "alloc_fail.h"

/* ---- mpsc channels ---- */

static atomic_int dtor_calls;
static void count_dtor(void *item, void *ud)
{
    (void)item;
    (void)ud;
    atomic_fetch_add(&dtor_calls, 1);
}

/* A bounded or rendezvous channel: create (named, with a destructor),
 * clone a sender, send and receive. */
static void chan_kind(size_t capacity)
{
    rill_channel_config_t o = {.name = "sweep", .item_dtor = count_dtor};
    rill_sender_t *tx = NULL, *tx2 = NULL;
    rill_receiver_t *rx = NULL;
    int v = 7, got = 0;
    MAY_FAIL(rill_channel_new(&tx, &rx, sizeof v, capacity, &o), out);
    RETRY(rill_sender_clone(tx, &tx2), release);
    assert_status(rill_sender_release(tx2), 0);
    if (capacity > 0) {
        assert_status(rill_try_send(tx, &v), 0);
        assert_status(rill_try_recv(rx, &got), 0);
        assert_int_equal(got, 7);
    } else {
        assert_status(rill_try_send(tx, &v), RILL_EFULL);
    }
release:
    assert_status(rill_sender_release(tx), 0);
    assert_status(rill_receiver_release(rx), 0);
out:;
}

static void sc_bounded(void)
{
    chan_kind(4);
}

static void sc_rendezvous(void)
{
    chan_kind(0);
}

/* Unbounded growth: enough items for several blocks, sent one by one,
 * in batches and through a permit. A send refused for lack of a block
 * leaves the item with the caller and the channel usable: in the
 * single-refusal pass the same send then succeeds, and every item comes
 * out once, in order. Items left in the channel go to the destructor
 * exactly once. */
enum { UB_ITEMS = 300 };

static void sc_unbounded(void)
{
    rill_channel_config_t o = {.item_dtor = count_dtor};
    rill_sender_t *tx;
    rill_receiver_t *rx;
    int sent = 0;
    atomic_store(&dtor_calls, 0);
    MAY_FAIL(rill_channel_new(&tx, &rx, sizeof(int), RILL_UNBOUNDED, &o), out);
    for (; sent < UB_ITEMS / 3; sent++)
        RETRY(rill_try_send(tx, &sent), release);
    int batch[UB_ITEMS / 3];
    while (sent < 2 * UB_ITEMS / 3) {
        size_t n = 0, want = (size_t)(2 * UB_ITEMS / 3 - sent);
        for (size_t i = 0; i < want; i++)
            batch[i] = sent + (int)i;
        int r = rill_try_send_many(tx, batch, want, &n);
        if (r == RILL_ENOMEM) {
            assert_true(af_hit());
            assert_int_equal(n, 0);
            if (!af_single())
                goto release;
            continue;
        }
        assert_status(r, 0);
        sent += (int)n;
    }
    for (; sent < UB_ITEMS; sent++) {
        rill_permit_t pm;
        RETRY(rill_try_reserve(tx, &pm), release);
        assert_status(rill_permit_send(&pm, &sent), 0);
    }
    /* Nothing refused reached the destructor: it never had the item. */
    assert_int_equal(atomic_load(&dtor_calls), 0);
    for (int i = 0; i < UB_ITEMS / 2; i++) {
        int got = -1;
        assert_status(rill_try_recv(rx, &got), 0);
        assert_int_equal(got, i);
    }
release:
    assert_status(rill_sender_release(tx), 0);
    assert_status(rill_receiver_release(rx), 0);
    /* What was sent and not received was destroyed, once each. */
    assert_int_equal(atomic_load(&dtor_calls),
                     sent - (sent == UB_ITEMS ? UB_ITEMS / 2 : 0));
out:;
}

/* ---- oneshot, watch, broadcast ---- */

static void sc_oneshot(void)
{
    rill_channel_config_t o = {.name = "one"};
    rill_oneshot_sender_t *tx;
    rill_oneshot_receiver_t *rx;
    int v = 5, got = 0;
    MAY_FAIL(rill_oneshot_new(&tx, &rx, sizeof v, &o), out);
    assert_status(rill_oneshot_send(tx, &v), 0);
    assert_status(rill_oneshot_recv(rx, &got), 0);
    assert_int_equal(got, 5);
    assert_status(rill_oneshot_sender_release(tx), 0);
    assert_status(rill_oneshot_receiver_release(rx), 0);
out:;
}

static void sc_watch(void)
{
    rill_channel_config_t o = {.name = "cfg"};
    rill_watch_sender_t *tx;
    rill_watch_receiver_t *rx, *rx2 = NULL, *rx3 = NULL;
    int v = 1, got = 0;
    MAY_FAIL(rill_watch_new(&tx, &rx, sizeof v, &v, &o), out);
    RETRY(rill_watch_subscribe(tx, &rx2), release);
    RETRY(rill_watch_receiver_clone(rx2, &rx3), release);
    v = 2;
    assert_status(rill_watch_send(tx, &v), 0);
    assert_status(rill_watch_changed(rx3), 0);
    assert_status(rill_watch_get(rx3, &got), 0);
    assert_int_equal(got, 2);
release:
    assert_status(rill_watch_receiver_release(rx3), 0);
    assert_status(rill_watch_receiver_release(rx2), 0);
    assert_status(rill_watch_receiver_release(rx), 0);
    assert_status(rill_watch_sender_release(tx), 0);
out:;
}

static void broadcast_mode(int mode)
{
    rill_channel_config_t o = {.name = "bus"};
    rill_broadcast_sender_t *tx, *tx2 = NULL;
    rill_broadcast_receiver_t *rx, *rx2 = NULL;
    int v = 3, got = 0;
    MAY_FAIL(rill_broadcast_new(&tx, &rx, sizeof v, 8, mode, &o), out);
    RETRY(rill_broadcast_subscribe(tx, &rx2), release);
    RETRY(rill_broadcast_sender_clone(tx, &tx2), release);
    assert_status(rill_broadcast_send(tx2, &v), 0);
    assert_status(rill_broadcast_recv(rx, &got, NULL), 0);
    assert_int_equal(got, 3);
    got = 0;
    assert_status(rill_broadcast_recv(rx2, &got, NULL), 0);
    assert_int_equal(got, 3);
release:
    assert_status(rill_broadcast_sender_release(tx2), 0);
    assert_status(rill_broadcast_receiver_release(rx2), 0);
    assert_status(rill_broadcast_receiver_release(rx), 0);
    assert_status(rill_broadcast_sender_release(tx), 0);
out:;
}

static void sc_broadcast_lag(void)
{
    broadcast_mode(RILL_BROADCAST_LAG);
}

static void sc_broadcast_backpressure(void)
{
    broadcast_mode(RILL_BROADCAST_BACKPRESSURE);
}

/* ---- select ---- */

/* More than 64 cases need a buffer: refused, nothing was received and
 * the item is still there for the retry. */
enum { SEL_CASES = 70 };

static void sc_select(void)
{
    rill_sender_t *tx;
    rill_receiver_t *rx;
    MAY_FAIL(rill_channel_new(&tx, &rx, sizeof(int), 1, NULL), out);
    int v = 9;
    assert_status(rill_try_send(tx, &v), 0);
    static rill_recv_op_t ops[SEL_CASES];
    static int outs[SEL_CASES];
    rill_future_t *cases[SEL_CASES];
    for (int attempt = 0; attempt < 2; attempt++) {
        for (int i = 0; i < SEL_CASES; i++) {
            rill_recv_op(&ops[i], rx, &outs[i], sizeof outs[i]);
            cases[i] = &ops[i].base;
        }
        int st = -1;
        int i = rill_select(cases, SEL_CASES, 0, RILL_FOREVER, &st);
        if (i == RILL_ENOMEM && af_hit()) {
            assert_int_equal(rill_receiver_len(rx), 1);
            if (!af_single())
                break;
            continue;
        }
        assert_true(i >= 0 && i < SEL_CASES);
        assert_status(st, 0);
        assert_int_equal(outs[i], 9);
        break;
    }
    assert_status(rill_sender_release(tx), 0);
    assert_status(rill_receiver_release(rx), 0);
out:;
}

/* ---- runtime and tasks ---- */

static void *give(void *arg)
{
    return arg;
}

/* Creating a runtime and running one task on it. */
static void sc_runtime(void)
{
    rill_runtime_t *rt;
    if (!af_new_rt(&rt))
        return;
    void *res = NULL;
    MAY_FAIL(rill_block_on(rt, give, &res, &res), out);
    assert_ptr_equal(res, &res);
out:
    rill_runtime_free(rt);
}

/* The runtime of the task sweeps: made before each run, freed after. */
static rill_runtime_t *task_rt;
static void rt_setup(void)
{
    assert_non_null(af_new_rt(&task_rt));
}
static void rt_teardown(void)
{
    rill_runtime_free(task_rt);
    task_rt = NULL;
}

/* A future task: completes at its first poll with 42; drop frees it. */
typedef struct fut {
    rill_future_t base;
    atomic_int *dropped;
} fut_t;
static int fut_poll(rill_future_t *f, rill_cx_t *cx)
{
    (void)f;
    (void)cx;
    return 42;
}
static void fut_drop(rill_future_t *f)
{
    atomic_fetch_add(((fut_t *)f)->dropped, 1);
    free(f);
}
static const rill_future_vtable_t fut_vt = {fut_poll, NULL, fut_drop, NULL};

/*
 * Checks inside a task: cmocka's asserts must run on the test's thread,
 * so a task returns the line of its first failed check (NULL if none) and
 * the test asserts on that. A join may report RILL_ENOMEM when the task's
 * stack could not be mapped (the task then never ran).
 */
#define TASK_CHECK(cond)                                                       \
    do {                                                                       \
        if (!(cond))                                                           \
            return (void *)(intptr_t)__LINE__;                                 \
    } while (0)
#define TASK_MAY_FAIL(call)                                                    \
    do {                                                                       \
        int r_ = (call);                                                       \
        if (r_ == RILL_ENOMEM && af_hit())                                     \
            return NULL;                                                       \
        TASK_CHECK(r_ == 0);                                                   \
    } while (0)
#define TASK_JOIN(t, want)                                                     \
    do {                                                                       \
        void *res_ = NULL;                                                     \
        TASK_MAY_FAIL(rill_join((t), &res_));                                  \
        TASK_CHECK(res_ == (want));                                            \
    } while (0)

static void *spawner(void *arg)
{
    (void)arg;
    rill_task_t *a = NULL, *b = NULL, *c = NULL, *d = NULL;
    rill_spawn_config_t o = {.name = "sweep-child"};
    int x;
    /* Stackful, from a task; then named, with options. */
    TASK_MAY_FAIL(rill_spawn(&a, give, &x, NULL));
    TASK_JOIN(a, &x);
    TASK_MAY_FAIL(rill_spawn(&b, give, &o, &o));
    TASK_CHECK(strcmp(rill_task_name(b), "sweep-child") == 0);
    TASK_JOIN(b, &o);
    /* A future: on RILL_ENOMEM it is still ours (not dropped). */
    atomic_int dropped = 0;
    fut_t *f = malloc(sizeof *f);
    *f = (fut_t){{&fut_vt}, &dropped};
    int r = rill_spawn_future(&c, &f->base, NULL);
    if (r == RILL_ENOMEM && af_hit()) {
        TASK_CHECK(atomic_load(&dropped) == 0);
        free(f);
        return NULL;
    }
    TASK_CHECK(r == 0);
    TASK_CHECK(rill_join(c, NULL) == 42);
    TASK_CHECK(atomic_load(&dropped) == 1);
    /* The blocking pool. */
    TASK_MAY_FAIL(rill_spawn_blocking(&d, give, &r, NULL));
    TASK_JOIN(d, &r);
    return NULL;
}

static void join_expect(rill_task_t *t, void *want)
{
    void *res = NULL;
    int r = rill_join(t, &res);
    if (r == RILL_ENOMEM && af_hit())
        return;
    assert_status(r, 0);
    assert_ptr_equal(res, want);
}

/* Spawns of every kind, from a plain thread and from a task. */
static void sc_spawn(void)
{
    rill_task_t *t = NULL;
    int x;
    MAY_FAIL(
        rill_spawn(&t, give, &x, &(rill_spawn_config_t){.runtime = task_rt}),
        out);
    join_expect(t, &x);
    void *line = NULL;
    MAY_FAIL(rill_block_on(task_rt, spawner, NULL, &line), out);
    if (line)
        fail_msg("spawner: check at line %d failed", (int)(intptr_t)line);
out:;
}

/* ---- rill_bytes and rill_arc ---- */

static atomic_int buffer_frees;
static void free_buffer(void *ud, void *data)
{
    (void)ud;
    free(data);
    atomic_fetch_add(&buffer_frees, 1);
}

static void sc_bytes(void)
{
    rill_bytes_t a = RILL_BYTES_EMPTY, b = RILL_BYTES_EMPTY, c;
    int *obj = NULL;
    MAY_FAIL(rill_bytes_new(&a, "hello world", 11), out);
    assert_status(rill_bytes_slice(&a, 6, 5, &c), 0); /* no allocation */
    assert_memory_equal(rill_bytes_data(&c), "world", 5);
    rill_bytes_release(&c);
    char *buf = strdup("mine");
    atomic_store(&buffer_frees, 0);
    int r = rill_bytes_from_buffer(&b, buf, 4, free_buffer, NULL);
    if (r == RILL_ENOMEM && af_hit()) {
        /* free_fn was not called: the buffer is still ours. */
        assert_int_equal(atomic_load(&buffer_frees), 0);
        free(buf);
        goto out;
    }
    assert_status(r, 0);
    MAY_FAIL(rill_arc_new(&obj, sizeof *obj, NULL), out);
    assert_int_equal(*obj, 0);
    rill_arc_release(obj);
out:
    rill_bytes_release(&a);
    rill_bytes_release(&b);
}

/* ---- the tests ---- */

static void test_channels(void **state)
{
    (void)state;
    sweep("bounded", sc_bounded);
    sweep("rendezvous", sc_rendezvous);
    sweep("unbounded growth", sc_unbounded);
    sweep("oneshot", sc_oneshot);
    sweep("watch + subscribe + clone", sc_watch);
    sweep("broadcast lag", sc_broadcast_lag);
    sweep("broadcast backpressure", sc_broadcast_backpressure);
    sweep("select (70 cases)", sc_select);
}

static void test_runtime(void **state)
{
    (void)state;
    sweep("runtime_new + block_on", sc_runtime);
}

static void test_spawn(void **state)
{
    (void)state;
    sweep_ex("spawn / future / blocking", rt_setup, sc_spawn, rt_teardown);
}

static void test_bytes(void **state)
{
    (void)state;
    sweep("bytes + arc", sc_bytes);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_channels), cmocka_unit_test(test_runtime),
        cmocka_unit_test(test_spawn),    cmocka_unit_test(test_bytes),
        cmocka_unit_test(af_test_total),
    };
    return test_run(tests, NULL, NULL);
}
