/* SPDX-License-Identifier: MIT */
/*
 * test_chan_stress.c - model-based stress of the mpsc channels.
 *
 * Producers (plain threads and rill tasks on the same channel) send
 * numbered items with a random mix of try / plain / timeout / many /
 * cancelled-by-select / permit operations; one consumer (a thread or a
 * task) receives with a random mix of try / plain / timeout / many /
 * select, and in some rounds closes or releases the receiver part way.
 * Capacities 0, 1, 7, 1024 and unbounded. The model: a producer's item
 * counts as sent exactly when its operation reported success. Checked:
 * every sent item is received or destroyed exactly once and nothing else
 * is, per-producer FIFO order, and received + destroyed == sent (also
 * through the channel's own counters).
 */
#include "test_util.h"
#include <rill.h>

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

enum { PTHREADS = 2, PTASKS = 2, NPROD = PTHREADS + PTASKS };
enum { RUN_TO_END, CLOSE_EARLY, RELEASE_EARLY };

typedef struct {
    uint32_t producer, seq;
} item_t;

typedef struct model {
    rill_sender_t *tx[NPROD];
    rill_receiver_t *rx;
    size_t cap;
    int scenario;
    uint32_t m; /* operations per producer */
    uint32_t sent[NPROD];
    uint32_t next[NPROD];        /* consumer: next expected seq */
    _Atomic unsigned char *got;  /* [producer * m + seq]: received */
    _Atomic unsigned char *dead; /* destroyed */
    _Atomic int errors;
    uint64_t received;
    uint64_t stop_after; /* CLOSE/RELEASE_EARLY: after this many */
} model_t;

typedef struct {
    model_t *m;
    uint32_t id;
} parg_t;

static void on_destroy(void *item, void *ud)
{
    model_t *m = ud;
    item_t it;
    memcpy(&it, item, sizeof it);
    if (it.producer >= NPROD || it.seq >= m->m)
        atomic_fetch_add(&m->errors, 1);
    else
        atomic_fetch_add(&m->dead[it.producer * m->m + it.seq], 1);
}

static unsigned rnd(unsigned *s)
{
    *s = *s * 1103515245u + 12345u;
    return *s >> 16;
}

/* ---- producers: the same code in a thread and in a task ---- */
static void *producer(void *arg)
{
    parg_t *a = arg;
    model_t *m = a->m;
    rill_sender_t *tx = m->tx[a->id];
    unsigned seed = a->id * 2654435761u + (unsigned)m->cap + 1;
    uint32_t seq = 0;
    int r = 0;
    while (seq < m->m && r != RILL_ECLOSED) {
        item_t it = {a->id, seq};
        unsigned form = rnd(&seed) % 6;
        r = 0;
        switch (form) {
        case 0:
            r = rill_try_send(tx, &it);
            if (r == 0)
                seq++;
            else if (r == RILL_EFULL)
                rill_yield();
            break;
        case 1:
            if ((r = rill_send(tx, &it)) == 0)
                seq++;
            break;
        case 2:
            if ((r = rill_send_timeout(tx, &it, RILL_US(50))) == 0)
                seq++;
            break;
        case 3: {
            item_t batch[8];
            size_t k = 1 + rnd(&seed) % 8, n = 0;
            if (k > m->m - seq)
                k = m->m - seq;
            for (size_t i = 0; i < k; i++)
                batch[i] = (item_t){a->id, seq + (uint32_t)i};
            if ((r = rill_send_many(tx, batch, k, &n)) == 0)
                seq += (uint32_t)n;
            break;
        }
        case 4: { /* a send withdrawn by a select's timer case */
            rill_send_op_t op;
            rill_sleep_op_t sl;
            int st;
            rill_send_op(&op, tx, &it, sizeof it);
            rill_sleep_op(&sl, rill_deadline(RILL_US(30)));
            rill_future_t *cases[2] = {&op.base, &sl.base};
            int w = rill_select(cases, 2, 0, RILL_FOREVER, &st);
            if (w == 0 && st == 0)
                seq++;
            else if (w == 0)
                r = st;
            rill_sleep_op_cancel(&sl);
            break;
        }
        default: { /* reserve, then use or give back the permit */
            rill_permit_t p;
            r = rill_reserve_timeout(tx, &p, RILL_US(50));
            if (r == RILL_ENOTSUP) {
                r = 0; /* rendezvous */
            } else if (r == 0) {
                if (rnd(&seed) % 4) {
                    rill_permit_send(&p, &it);
                    seq++;
                } else {
                    rill_permit_release(&p);
                }
            }
            break;
        }
        }
        if (r != 0 && r != RILL_EFULL && r != RILL_ETIMEDOUT &&
            r != RILL_ECLOSED)
            atomic_fetch_add(&m->errors, 1);
    }
    m->sent[a->id] = seq;
    rill_sender_release(tx);
    return NULL;
}

/* ---- the consumer ---- */
static void record(model_t *m, const item_t *it)
{
    if (it->producer >= NPROD || it->seq >= m->m ||
        it->seq != m->next[it->producer]) {
        atomic_fetch_add(&m->errors, 1); /* out of order or unknown */
        return;
    }
    m->next[it->producer]++;
    atomic_fetch_add(&m->got[it->producer * m->m + it->seq], 1);
    m->received++;
}

static void *consumer(void *arg)
{
    model_t *m = arg;
    unsigned seed = (unsigned)m->cap * 31u + (unsigned)m->scenario;
    bool closed = false;
    for (;;) {
        if (m->scenario != RUN_TO_END && !closed &&
            m->received >= m->stop_after) {
            if (m->scenario == RELEASE_EARLY) {
                rill_receiver_release(m->rx);
                m->rx = NULL;
                return NULL;
            }
            rill_receiver_close(m->rx);
            closed = true;
        }
        item_t it, buf[16];
        size_t n = 0;
        int r;
        switch (rnd(&seed) % 5) {
        case 0:
            r = rill_try_recv(m->rx, &it);
            if (r == RILL_EEMPTY)
                rill_yield();
            break;
        case 1:
            r = rill_recv(m->rx, &it);
            break;
        case 2:
            r = rill_recv_timeout(m->rx, &it, RILL_US(50));
            break;
        case 3:
            r = rill_recv_many(m->rx, buf, 1 + rnd(&seed) % 16, &n);
            for (size_t i = 0; r == 0 && i < n; i++)
                record(m, &buf[i]);
            if (r == 0)
                continue;
            break;
        default: {
            rill_recv_op_t op;
            rill_sleep_op_t sl;
            int st;
            rill_recv_op(&op, m->rx, &it, sizeof it);
            rill_sleep_op(&sl, rill_deadline(RILL_US(30)));
            rill_future_t *cases[2] = {&op.base, &sl.base};
            int w = rill_select(cases, 2, 0, RILL_FOREVER, &st);
            rill_sleep_op_cancel(&sl);
            r = w == 0 ? st : RILL_ETIMEDOUT;
            break;
        }
        }
        if (r == 0)
            record(m, &it);
        else if (r == RILL_DONE)
            return NULL;
        else if (r != RILL_EEMPTY && r != RILL_ETIMEDOUT)
            atomic_fetch_add(&m->errors, 1);
    }
}

static void run_round(rill_runtime_t *rt, size_t cap, int scenario,
                      bool consumer_task)
{
    model_t m;
    memset(&m, 0, sizeof m);
    m.cap = cap;
    m.scenario = scenario;
    m.m = (uint32_t)SCALE(cap == 0 ? 4000 : 20000, 10);
    m.stop_after = m.m; /* a quarter of all items */
    m.got = calloc((size_t)NPROD * m.m, 1);
    m.dead = calloc((size_t)NPROD * m.m, 1);
    rill_channel_config_t o = {"stress", on_destroy, &m};
    assert_int_equal(rill_channel_new(&m.tx[0], &m.rx, sizeof(item_t), cap, &o),
                     0);
    for (int i = 1; i < NPROD; i++)
        assert_int_equal(rill_sender_clone(m.tx[0], &m.tx[i]), 0);

    parg_t args[NPROD];
    pthread_t th[PTHREADS];
    rill_task_t *tk[PTASKS];
    for (uint32_t i = 0; i < NPROD; i++)
        args[i] = (parg_t){&m, i};
    for (int i = 0; i < PTHREADS; i++)
        pthread_create(&th[i], NULL, producer, &args[i]);
    for (int i = 0; i < PTASKS; i++)
        assert_int_equal(rill_spawn(&tk[i], producer, &args[PTHREADS + i],
                                    &(rill_spawn_config_t){.runtime = rt}),
                         0);
    if (consumer_task) {
        rill_task_t *c;
        assert_int_equal(
            rill_spawn(&c, consumer, &m, &(rill_spawn_config_t){.runtime = rt}),
            0);
        assert_int_equal(rill_join(c, NULL), 0);
    } else {
        consumer(&m);
    }
    for (int i = 0; i < PTHREADS; i++)
        pthread_join(th[i], NULL);
    for (int i = 0; i < PTASKS; i++)
        assert_int_equal(rill_join(tk[i], NULL), 0);

    if (m.rx) {
        /* every sender is gone and the consumer saw DONE */
        rill_channel_stats_t st;
        assert_int_equal(rill_receiver_stats(m.rx, &st), 0);
        assert_int_equal(st.len, 0);
        assert_int_equal(st.received, m.received);
        assert_int_equal(st.received + st.discarded, st.sent);
        rill_receiver_release(m.rx); /* frees the channel */
    }

    uint64_t sent = 0, dead = 0;
    for (uint32_t p = 0; p < NPROD; p++) {
        sent += m.sent[p];
        for (uint32_t s = 0; s < m.m; s++) {
            int g = m.got[p * m.m + s], d = m.dead[p * m.m + s];
            dead += (uint64_t)d;
            int expect = s < m.sent[p] ? 1 : 0;
            if (g + d != expect)
                fail_msg("cap %zu scenario %d: producer %u item %u: "
                         "received %d destroyed %d, sent %d",
                         cap, scenario, p, s, g, d, expect);
        }
    }
    assert_int_equal(atomic_load(&m.errors), 0);
    assert_int_equal(m.received + dead, sent);
    if (scenario == RUN_TO_END)
        assert_int_equal(sent, (uint64_t)NPROD * m.m);
    free(m.got);
    free(m.dead);
}

static void test_model_stress(void **state)
{
    (void)state;
    const size_t caps[] = {0, 1, 7, 1024, RILL_UNBOUNDED};
    rill_runtime_config_t c;
    rill_runtime_config_init(&c);
    c.workers = 2;
    rill_runtime_t *rt;
    assert_int_equal(rill_runtime_new(&rt, &c), 0);
    for (size_t i = 0; i < sizeof caps / sizeof caps[0]; i++)
        for (int sc = RUN_TO_END; sc <= RELEASE_EARLY; sc++)
            run_round(rt, caps[i], sc, (i + (size_t)sc) % 2 == 0);
    rill_runtime_free(rt);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_model_stress),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
