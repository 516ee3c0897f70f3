/* SPDX-License-Identifier: MIT */
/*
 * soak.c - a long mixed workload that checks rill's promises hold over
 * time (make soak; not part of make test).
 *
 * Rounds, until SOAK_SECONDS (default 600) have passed, each of:
 *   mpsc       one channel (bounded 1 / 7 / 64, rendezvous or unbounded,
 *              in turn); two producer threads and two producer tasks with
 *              a mix of try / plain / timeout / many / permit sends; a
 *              consumer task that drains it through a stream pipeline
 *              (receiver stream -> timeout -> ready_chunks) or with
 *              recv_many_timeout, and in some rounds stops early: it
 *              drops its stream after a number of items, or the driver
 *              cancels it.
 *   broadcast  a sender task and three receiver tasks, lag and
 *              backpressure in turn.
 *   oneshot    request/response through an unbounded channel, with
 *              requesters that give up after a timeout.
 *   watch      a sender thread, two receiver tasks.
 * Checked after every round: every item sent was received or given to
 * the item destructor, exactly once; per-producer FIFO; received +
 * destroyed == sent; broadcast receivers see increasing sequence numbers
 * and, in lag mode, received + missed == sent; watch receivers see
 * versions in order and end at the last value; no rill allocation is
 * left once a round's objects are released.
 *
 * Memory: RSS (/proc/self/statm) is sampled every 2 s. After a warm-up
 * (the first 10% of the run, at most 30 s) its level is the baseline;
 * the run fails if RSS ever exceeds the baseline by more than
 * SOAK_RSS_SLACK_MB (default 32 MiB): pools and caches fill up during the
 * warm-up, after which a steady workload must not grow.
 *
 * Built with ASan or TSan (build/asan/rill_soak) it checks the same
 * invariants but not RSS, which the sanitizers grow on purpose.
 *
 * Prints a progress line every 10 s and a summary at the end; exits 1 on
 * the first broken invariant (with a message) or on RSS growth.
 */
#include "test_alloc.h"
#include <rill.h>

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* Under ASan and TSan memory is held back on purpose (quarantine, shadow):
 * the RSS bound is not checked there, only the invariants. */
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define SANITIZED 1
#endif
#endif
#ifndef SANITIZED
#define SANITIZED 0
#endif

#define FAIL(...)                                                              \
    do {                                                                       \
        fprintf(stderr, "soak: FAILED at %s:%d: ", __FILE__, __LINE__);        \
        fprintf(stderr, __VA_ARGS__);                                          \
        fprintf(stderr, "\n");                                                 \
        exit(1);                                                               \
    } while (0)
#define CHECK(c)                                                               \
    do {                                                                       \
        if (!(c))                                                              \
            FAIL("%s", #c);                                                    \
    } while (0)

static atomic_ullong ops, items;
static unsigned rnd(unsigned *s)
{
    *s = *s * 1103515245u + 12345u;
    return *s >> 16;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static size_t rss_bytes(void)
{
    long size = 0, resident = 0;
    FILE *f = fopen("/proc/self/statm", "r");
    if (f) {
        if (fscanf(f, "%ld %ld", &size, &resident) != 2)
            resident = 0;
        fclose(f);
    }
    return (size_t)resident * (size_t)sysconf(_SC_PAGESIZE);
}

static rill_runtime_t *rt;

/* A task cancelled before it first ran joins with RILL_ECANCELED. */
static void join_task(rill_task_t *t)
{
    int r = rill_join(t, NULL);
    CHECK(r == 0 || r == RILL_ECANCELED);
}

/* ------------------------------------------------------------------------ */
/* mpsc                                                                      */
/* ------------------------------------------------------------------------ */

enum { NPROD = 4, PER_PROD = 3000 };
enum { RUN_TO_END, STOP_EARLY, CANCEL };

typedef struct {
    uint32_t producer, seq;
} item_t;

typedef struct {
    rill_sender_t *tx[NPROD];
    rill_receiver_t *rx;
    bool permits, stream;
    int scenario;
    unsigned seed;
    uint32_t sent[NPROD];
    uint32_t next[NPROD]; /* consumer: next seq expected */
    _Atomic unsigned char got[NPROD][PER_PROD];
    _Atomic unsigned char dead[NPROD][PER_PROD];
    uint64_t stop_after;
    atomic_int consumer_started;
} mp_t;

typedef struct {
    mp_t *m;
    uint32_t id;
} parg_t;

static void mp_dtor(void *item, void *ud)
{
    mp_t *m = ud;
    item_t it;
    memcpy(&it, item, sizeof it);
    if (it.producer >= NPROD || it.seq >= PER_PROD ||
        atomic_fetch_add(&m->dead[it.producer][it.seq], 1) != 0)
        FAIL("item %u/%u destroyed twice or never sent", it.producer, it.seq);
}

static void *producer(void *arg)
{
    parg_t *a = arg;
    mp_t *m = a->m;
    rill_sender_t *tx = m->tx[a->id];
    unsigned seed = m->seed ^ (a->id * 2654435761u);
    uint32_t seq = 0;
    int r = 0;
    while (seq < PER_PROD && r != RILL_ECLOSED) {
        item_t it = {a->id, seq};
        r = 0;
        switch (rnd(&seed) % 6) {
        case 0:
            if ((r = rill_try_send(tx, &it)) == 0)
                seq++;
            else if (r == RILL_EFULL)
                rill_yield();
            break;
        case 1:
            if ((r = rill_send(tx, &it)) == 0)
                seq++;
            break;
        case 2:
            if ((r = rill_send_timeout(tx, &it, RILL_US(200))) == 0)
                seq++;
            break;
        case 3: {
            item_t b[16];
            size_t k = 1 + rnd(&seed) % 16, n = 0;
            if (k > PER_PROD - seq)
                k = PER_PROD - seq;
            for (size_t i = 0; i < k; i++)
                b[i] = (item_t){a->id, seq + (uint32_t)i};
            if ((r = rill_send_many_timeout(tx, b, k, &n, RILL_MS(1))) == 0)
                seq += (uint32_t)n;
            break;
        }
        default:
            if (!m->permits) {
                if ((r = rill_send(tx, &it)) == 0)
                    seq++;
                break;
            }
            rill_permit_t p;
            if ((r = rill_reserve_timeout(tx, &p, RILL_MS(1))) == 0) {
                if (rnd(&seed) % 4 == 0) {
                    CHECK(rill_permit_release(&p) == 0);
                } else {
                    CHECK(rill_permit_send(&p, &it) == 0);
                    seq++;
                }
            }
            break;
        }
        CHECK(r == 0 || r == RILL_EFULL || r == RILL_ETIMEDOUT ||
              r == RILL_ECLOSED || r == RILL_ECANCELED);
        atomic_fetch_add_explicit(&ops, 1, memory_order_relaxed);
    }
    m->sent[a->id] = seq;
    CHECK(rill_sender_release(tx) == 0);
    return NULL;
}

static void mp_got(mp_t *m, const item_t *it)
{
    if (it->producer >= NPROD || it->seq != m->next[it->producer])
        FAIL("FIFO broken: producer %u seq %u, expected %u", it->producer,
             it->seq, it->producer < NPROD ? m->next[it->producer] : 0);
    m->next[it->producer]++;
    atomic_store(&m->got[it->producer][it->seq], 1);
    atomic_fetch_add_explicit(&items, 1, memory_order_relaxed);
}

static void *consumer(void *arg)
{
    mp_t *m = arg;
    uint64_t n_got = 0;
    atomic_store(&m->consumer_started, 1);
    if (m->stream) {
        rill_stream_t *s;
        CHECK(rill_receiver_into_stream(m->rx, &s) == 0);
        m->rx = NULL;
        CHECK(rill_stream_timeout(&s, RILL_MS(20)) == 0);
        CHECK(rill_stream_ready_chunks(&s, 16) == 0);
        rill_chunk_t c;
        int r;
        while ((r = rill_next(s, &c)) != RILL_DONE) {
            if (r == RILL_ETIMEDOUT)
                continue;
            if (r == RILL_ECANCELED)
                break;
            CHECK(r == 0);
            for (size_t i = 0; i < c.len; i++)
                mp_got(m, &RILL_CHUNK_AT(&c, item_t, i));
            n_got += c.len;
            rill_chunk_destroy(&c);
            atomic_fetch_add_explicit(&ops, 1, memory_order_relaxed);
            if (m->scenario == STOP_EARLY && n_got >= m->stop_after)
                break;
        }
        rill_stream_free(s); /* releases the receiver: the rest is destroyed */
        return NULL;
    }
    item_t b[32];
    size_t n;
    int r;
    while ((r = rill_recv_many_timeout(m->rx, b, 32, &n, RILL_MS(20))) !=
           RILL_DONE) {
        if (r == RILL_ETIMEDOUT)
            continue;
        if (r == RILL_ECANCELED)
            break;
        CHECK(r == 0);
        for (size_t i = 0; i < n; i++)
            mp_got(m, &b[i]);
        n_got += n;
        atomic_fetch_add_explicit(&ops, 1, memory_order_relaxed);
        if (m->scenario == STOP_EARLY && n_got >= m->stop_after)
            break;
    }
    CHECK(rill_receiver_release(m->rx) == 0);
    m->rx = NULL;
    return NULL;
}

static void mpsc_round(unsigned round)
{
    static const size_t caps[] = {1, 7, 64, 0, RILL_UNBOUNDED};
    mp_t *m = calloc(1, sizeof *m);
    size_t cap = caps[round % 5];
    m->seed = round * 7919u + 1;
    m->scenario = (int)(round / 5 % 3);
    m->permits = cap != 0;
    m->stream = round / 15 % 2;
    m->stop_after = 1 + rnd(&m->seed) % (NPROD * PER_PROD);
    rill_channel_config_t o = {
        .name = "soak", .item_dtor = mp_dtor, .item_dtor_ud = m};
    CHECK(rill_channel_new(&m->tx[0], &m->rx, sizeof(item_t), cap, &o) == 0);
    for (int i = 1; i < NPROD; i++)
        CHECK(rill_sender_clone(m->tx[0], &m->tx[i]) == 0);
    rill_task_t *ct, *pt[2];
    pthread_t th[2];
    parg_t pa[NPROD];
    CHECK(rill_spawn(&ct, consumer, m, &(rill_spawn_config_t){.runtime = rt}) ==
          0);
    for (uint32_t i = 0; i < NPROD; i++) {
        pa[i] = (parg_t){m, i};
        if (i < 2)
            CHECK(pthread_create(&th[i], NULL, producer, &pa[i]) == 0);
        else
            CHECK(rill_spawn(&pt[i - 2], producer, &pa[i],
                             &(rill_spawn_config_t){.runtime = rt}) == 0);
    }
    if (m->scenario == CANCEL) {
        while (!atomic_load(&m->consumer_started))
            sched_yield();
        unsigned seed = m->seed; /* the producers read m->seed */
        struct timespec ts = {0, (long)(rnd(&seed) % 3000) * 1000};
        nanosleep(&ts, NULL); /* let it run for a while, then cancel */
        CHECK(rill_task_cancel(ct) == 0);
    }
    /* The consumer first: until its receiver is gone, producers may wait. */
    join_task(ct);
    if (m->rx)
        CHECK(rill_receiver_release(m->rx) == 0);
    for (int i = 0; i < 2; i++) {
        pthread_join(th[i], NULL);
        join_task(pt[i]);
    }
    for (int p = 0; p < NPROD; p++) {
        uint32_t got = 0, dead = 0;
        for (uint32_t s = 0; s < PER_PROD; s++) {
            unsigned g = atomic_load(&m->got[p][s]);
            unsigned d = atomic_load(&m->dead[p][s]);
            if (s < m->sent[p] && g + d != 1)
                FAIL("producer %d item %u: received %u destroyed %u", p, s, g,
                     d);
            if (s >= m->sent[p] && g + d != 0)
                FAIL("producer %d item %u was never sent", p, s);
            got += g;
            dead += d;
        }
        CHECK(got + dead == m->sent[p]);
        CHECK(got == m->next[p]);
        if (m->scenario == RUN_TO_END)
            CHECK(m->sent[p] == PER_PROD && dead == 0);
    }
    free(m);
}

/* ------------------------------------------------------------------------ */
/* broadcast                                                                 */
/* ------------------------------------------------------------------------ */

enum { BC_N = 4000, BC_RX = 3 };

typedef struct {
    rill_broadcast_sender_t *tx;
    rill_broadcast_receiver_t *rx[BC_RX];
    int mode;
} bc_t;

typedef struct {
    bc_t *b;
    int i;
} bcarg_t;

static void *bc_sender(void *arg)
{
    bc_t *b = arg;
    for (uint64_t s = 0; s < BC_N; s++) {
        CHECK(rill_broadcast_send(b->tx, &s) == 0);
        atomic_fetch_add_explicit(&ops, 1, memory_order_relaxed);
    }
    CHECK(rill_broadcast_sender_release(b->tx) == 0);
    return NULL;
}

static void *bc_receiver(void *arg)
{
    bcarg_t *a = arg;
    bc_t *b = a->b;
    uint64_t v, missed, got = 0, lost = 0, expect = 0;
    int r;
    while ((r = rill_broadcast_recv(b->rx[a->i], &v, &missed)) != RILL_DONE) {
        if (r == RILL_ELAGGED) {
            CHECK(b->mode == RILL_BROADCAST_LAG);
            lost += missed;
            expect += missed;
            continue;
        }
        CHECK(r == 0);
        if (v != expect)
            FAIL("broadcast receiver %d: got %llu, expected %llu", a->i,
                 (unsigned long long)v, (unsigned long long)expect);
        expect++;
        got++;
        atomic_fetch_add_explicit(&items, 1, memory_order_relaxed);
        if (a->i == 0 && got % 64 == 0)
            rill_yield(); /* a slow receiver: it lags or holds back */
    }
    CHECK(got + lost == BC_N);
    if (b->mode == RILL_BROADCAST_BACKPRESSURE)
        CHECK(lost == 0);
    CHECK(rill_broadcast_receiver_release(b->rx[a->i]) == 0);
    return NULL;
}

static void broadcast_round(unsigned round)
{
    bc_t b = {.mode =
                  round % 2 ? RILL_BROADCAST_LAG : RILL_BROADCAST_BACKPRESSURE};
    CHECK(rill_broadcast_new(&b.tx, &b.rx[0], sizeof(uint64_t), 16, b.mode,
                             NULL) == 0);
    for (int i = 1; i < BC_RX; i++)
        CHECK(rill_broadcast_subscribe(b.tx, &b.rx[i]) == 0);
    rill_task_t *t[BC_RX + 1];
    bcarg_t a[BC_RX];
    for (int i = 0; i < BC_RX; i++) {
        a[i] = (bcarg_t){&b, i};
        CHECK(rill_spawn(&t[i], bc_receiver, &a[i],
                         &(rill_spawn_config_t){.runtime = rt}) == 0);
    }
    CHECK(rill_spawn(&t[BC_RX], bc_sender, &b,
                     &(rill_spawn_config_t){.runtime = rt}) == 0);
    for (int i = 0; i <= BC_RX; i++)
        join_task(t[i]);
}

/* ------------------------------------------------------------------------ */
/* oneshot request/response and watch                                        */
/* ------------------------------------------------------------------------ */

enum { REQS = 200 };

typedef struct {
    int x;
    rill_oneshot_sender_t *reply;
} req_t;

typedef struct {
    rill_sender_t *tx;
    rill_receiver_t *rx;
    atomic_int answered, gave_up, refused, destroyed;
} rr_t;

static void reply_dtor(void *item, void *ud)
{
    (void)item;
    atomic_fetch_add(&((rr_t *)ud)->destroyed, 1);
}

static void *server(void *arg)
{
    rr_t *s = arg;
    req_t q;
    unsigned seed = 17;
    while (rill_recv(s->rx, &q) == 0) {
        if (rnd(&seed) % 4 == 0)
            rill_sleep(RILL_US(rnd(&seed) % 2000));
        int y = q.x * 2;
        int r = rill_oneshot_send(q.reply, &y);
        CHECK(r == 0 || r == RILL_ECLOSED);
        if (r == RILL_ECLOSED)
            atomic_fetch_add(&s->refused, 1);
        CHECK(rill_oneshot_sender_release(q.reply) == 0);
        atomic_fetch_add_explicit(&ops, 1, memory_order_relaxed);
    }
    return NULL;
}

static void *requester(void *arg)
{
    rr_t *s = arg;
    rill_sender_t *tx;
    CHECK(rill_sender_clone(s->tx, &tx) == 0);
    for (int i = 0; i < REQS / 4; i++) {
        rill_oneshot_sender_t *otx;
        rill_oneshot_receiver_t *orx;
        rill_channel_config_t o = {.item_dtor = reply_dtor, .item_dtor_ud = s};
        CHECK(rill_oneshot_new(&otx, &orx, sizeof(int), &o) == 0);
        req_t q = {i, otx};
        CHECK(rill_send(tx, &q) == 0);
        int y, r = rill_oneshot_recv_timeout(orx, &y, RILL_US(1000));
        if (r == 0) {
            CHECK(y == 2 * i);
            atomic_fetch_add(&s->answered, 1);
        } else {
            CHECK(r == RILL_ETIMEDOUT);
            atomic_fetch_add(&s->gave_up, 1);
        }
        CHECK(rill_oneshot_receiver_release(orx) == 0);
    }
    CHECK(rill_sender_release(tx) == 0);
    return NULL;
}

typedef struct {
    rill_watch_sender_t *tx;
    rill_watch_receiver_t *rx[2];
} wt_t;

enum { W_VERSIONS = 2000 };

static void *watch_sender(void *arg)
{
    wt_t *w = arg;
    for (uint64_t v = 1; v <= W_VERSIONS; v++) {
        CHECK(rill_watch_send(w->tx, &v) == 0);
        if (v % 100 == 0)
            sched_yield();
    }
    CHECK(rill_watch_sender_release(w->tx) == 0);
    return NULL;
}

static void *watch_receiver(void *arg)
{
    rill_watch_receiver_t *rx = arg;
    uint64_t last = 0, v;
    while (rill_watch_changed(rx) == 0) {
        CHECK(rill_watch_get(rx, &v) == 0);
        CHECK(v >= last);
        last = v;
        atomic_fetch_add_explicit(&ops, 1, memory_order_relaxed);
    }
    CHECK(rill_watch_get(rx, &v) == 0);
    CHECK(v == W_VERSIONS);
    CHECK(rill_watch_receiver_release(rx) == 0);
    return NULL;
}

static void misc_round(void)
{
    rr_t s = {0};
    CHECK(rill_channel_new(&s.tx, &s.rx, sizeof(req_t), RILL_UNBOUNDED, NULL) ==
          0);
    rill_task_t *srv, *req[4], *wr[2];
    CHECK(rill_spawn(&srv, server, &s, &(rill_spawn_config_t){.runtime = rt}) ==
          0);
    for (int i = 0; i < 4; i++)
        CHECK(rill_spawn(&req[i], requester, &s,
                         &(rill_spawn_config_t){.runtime = rt}) == 0);
    wt_t w;
    uint64_t zero = 0;
    CHECK(rill_watch_new(&w.tx, &w.rx[0], sizeof zero, &zero, NULL) == 0);
    CHECK(rill_watch_subscribe(w.tx, &w.rx[1]) == 0);
    for (int i = 0; i < 2; i++)
        CHECK(rill_spawn(&wr[i], watch_receiver, w.rx[i],
                         &(rill_spawn_config_t){.runtime = rt}) == 0);
    pthread_t wth;
    CHECK(pthread_create(&wth, NULL, watch_sender, &w) == 0);
    for (int i = 0; i < 4; i++)
        join_task(req[i]);
    CHECK(rill_sender_release(s.tx) == 0);
    join_task(srv);
    CHECK(rill_receiver_release(s.rx) == 0);
    pthread_join(wth, NULL);
    for (int i = 0; i < 2; i++)
        join_task(wr[i]);
    /* Every reply was taken, or refused, or destroyed with its receiver. */
    int answered = atomic_load(&s.answered), gave_up = atomic_load(&s.gave_up);
    CHECK(answered + gave_up == REQS);
    CHECK(atomic_load(&s.refused) + atomic_load(&s.destroyed) == gave_up);
    atomic_fetch_add_explicit(&items, (unsigned long long)answered,
                              memory_order_relaxed);
}

/* ------------------------------------------------------------------------ */

int main(void)
{
    const char *e = getenv("SOAK_SECONDS");
    double seconds = e ? atof(e) : 600;
    e = getenv("SOAK_RSS_SLACK_MB");
    size_t slack = (size_t)(e ? atof(e) : 32) << 20;
    double warmup = seconds / 10 < 30 ? seconds / 10 : 30;

    test_alloc_install();
    rill_runtime_config_t c;
    rill_runtime_config_init(&c);
    c.workers = 2;
    CHECK(rill_runtime_new(&rt, &c) == 0);
    long allocs_base = test_alloc_count();

    double t0 = now_s(), next_sample = t0, next_print = t0 + 10;
    size_t rss_start = rss_bytes(), rss_base = 0, rss_max = rss_start;
    unsigned round = 0;
    if (SANITIZED)
        printf("soak: %.0f s (sanitizer build: RSS not bounded)\n", seconds);
    else
        printf("soak: %.0f s, RSS bound baseline + %zu MiB after %.0f s "
               "warm-up\n",
               seconds, slack >> 20, warmup);
    fflush(stdout);
    while (now_s() - t0 < seconds) {
        mpsc_round(round);
        broadcast_round(round);
        if (round % 4 == 0)
            misc_round();
        round++;
        double t = now_s();
        if (t >= next_sample) {
            next_sample = t + 2;
            size_t rss = rss_bytes();
            if (rss > rss_max)
                rss_max = rss;
            if (t - t0 >= warmup) {
                if (!rss_base)
                    rss_base = rss;
                else if (rss > rss_base + slack && !SANITIZED)
                    FAIL("RSS grew from %zu to %zu KiB", rss_base >> 10,
                         rss >> 10);
            }
        }
        if (t >= next_print) {
            next_print = t + 10;
            printf("soak: %5.0f s  rounds %u  ops %llu  items %llu  RSS %zu "
                   "KiB  allocs %ld\n",
                   t - t0, round, (unsigned long long)atomic_load(&ops),
                   (unsigned long long)atomic_load(&items), rss_bytes() >> 10,
                   test_alloc_count() - allocs_base);
            fflush(stdout);
        }
    }
    size_t rss_end = rss_bytes();
    long left = test_alloc_count() - allocs_base;
    rill_runtime_free(rt);
    printf("soak: PASSED %.0f s, %u rounds, %llu ops, %llu items; RSS start "
           "%zu KiB, baseline %zu KiB, end %zu KiB, max %zu KiB; rill "
           "allocations left between rounds %ld\n",
           now_s() - t0, round, (unsigned long long)atomic_load(&ops),
           (unsigned long long)atomic_load(&items), rss_start >> 10,
           rss_base >> 10, rss_end >> 10, rss_max >> 10, left);
    return 0;
}
