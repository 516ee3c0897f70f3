/* SPDX-License-Identifier: MIT */
/*
 * sensor_pipeline.c - the flagship demo (`make demo`): a realistic sensor
 * pipeline with backpressure you can watch.
 *
 *   4 sensor threads      plain pthreads, blocking rill_send of raw text
 *        │                readings ("s2 23.51"), ~1% of them bad
 *        ▼
 *   bounded channel       1024 readings: when it is full the sensor
 *        │                threads park in rill_send (backpressure)
 *        ▼
 *   stream                rill_receiver_into_stream: no bridge thread
 *        │
 *   inspect               counts what leaves the queue (for the monitor)
 *   map                   parse + validate; a bad reading becomes an
 *        │                error item (RILL_EUSER codes), not a crash
 *   chunks_timeout        batches of 128, or whatever came in 20 ms
 *        │
 *   for_each_concurrent   4 store tasks; a batch "write" takes 8 ms, so
 *                         the store is slower than the sensors
 *
 * A monitor task prints one live progress line (items/s, queue depth,
 * stores in flight); at the end a summary: items, errors, throughput, the
 * deepest the queue got and how often the sensors had to wait.
 */
#include <pthread.h>
#include "check.h"
#include <rill.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum {
    SENSORS = 4,
    READINGS_PER_SENSOR = 40000,
    QUEUE_CAPACITY = 1024,
    BATCH = 128,
    STORES = 4,
    ERR_MALFORMED = RILL_EUSER - 1, /* not a number */
    ERR_RANGE = RILL_EUSER - 2      /* a number no sensor can read */
};
#define BATCH_WINDOW RILL_MS(20)
#define STORE_TIME RILL_MS(8)
#define REPORT_EVERY RILL_MS(250)

typedef struct raw_reading {
    char text[24];
} raw_reading_t;

typedef struct reading {
    int sensor;
    double celsius;
} reading_t;

/* ---- sensors: plain threads with blocking sends ---- */

/* Counters shared by the sensors, the pipeline and the monitor. */
static atomic_long sent_total;     /* readings the sensors got into the queue */
static atomic_long received_total; /* readings the pipeline took out of it */

typedef struct sensor {
    int id;
    rill_sender_t *tx;          /* this thread's own clone of the sender */
    rill_channel_stats_t stats; /* the channel's counters as it left */
} sensor_t;

static void *sensor_thread(void *arg)
{
    sensor_t *s = arg;
    unsigned seed = (unsigned)s->id * 7919u + 1u;
    for (int i = 0; i < READINGS_PER_SENSOR; i++) {
        raw_reading_t r;
        seed = seed * 1103515245u + 12345u;
        unsigned dice = (seed >> 16) % 1000;
        if (dice < 5)
            snprintf(r.text, sizeof r.text, "s%d ERR", s->id);
        else if (dice < 10)
            snprintf(r.text, sizeof r.text, "s%d 999.9", s->id);
        else
            snprintf(r.text, sizeof r.text, "s%d %.2f", s->id,
                     15.0 + (double)((seed >> 8) % 1500) / 100.0);
        if (rill_send(s->tx, &r) != 0) /* parks while the queue is full */
            break;
        atomic_fetch_add_explicit(&sent_total, 1, memory_order_relaxed);
    }
    rill_sender_stats(s->tx, &s->stats);
    /* Only senders keep the channel open: the last one released ends the
     * stream once it is drained. */
    rill_sender_release(s->tx);
    return NULL;
}

/* ---- the pipeline stages ---- */

/* On the way out of the queue: count, so the monitor knows the depth
 * without holding a handle (a sender would keep the channel open). */
static void count_received(void *ud, const void *item)
{
    (void)ud;
    (void)item;
    atomic_fetch_add_explicit(&received_total, 1, memory_order_relaxed);
}

static int parse_reading(void *ud, void *in, void *out)
{
    (void)ud;
    const char *text = ((raw_reading_t *)in)->text;
    reading_t *r = out;
    char *end;
    if (text[0] != 's')
        return ERR_MALFORMED;
    r->sensor = (int)strtol(text + 1, &end, 10);
    if (*end != ' ')
        return ERR_MALFORMED;
    r->celsius = strtod(end + 1, &end);
    if (end == text || *end != '\0')
        return ERR_MALFORMED;
    if (r->celsius < -50.0 || r->celsius > 150.0)
        return ERR_RANGE;
    return 0;
}

typedef struct totals {
    atomic_long stored, errors, batches;
    atomic_int in_flight;
    pthread_mutex_t mu; /* guards the per-sensor sums */
    double sum[SENSORS];
    long count[SENSORS];
} totals_t;

/* One store task: a batch "written" to a database that takes its time. */
static int store_batch(void *ud, int status, void *item)
{
    totals_t *t = ud;
    if (status < 0) { /* a bad reading, as an error item */
        atomic_fetch_add(&t->errors, 1);
        return 0;
    }
    rill_chunk_t *batch = item;
    atomic_fetch_add(&t->in_flight, 1);
    pthread_mutex_lock(&t->mu);
    for (size_t i = 0; i < batch->len; i++) {
        reading_t *r = &RILL_CHUNK_AT(batch, reading_t, i);
        if (r->sensor >= 0 && r->sensor < SENSORS) {
            t->sum[r->sensor] += r->celsius;
            t->count[r->sensor]++;
        }
    }
    pthread_mutex_unlock(&t->mu);
    rill_sleep(STORE_TIME); /* the write */
    atomic_fetch_add(&t->stored, (long)batch->len);
    atomic_fetch_add(&t->batches, 1);
    atomic_fetch_sub(&t->in_flight, 1);
    rill_chunk_destroy(batch);
    return 0;
}

/* ---- the monitor ---- */

typedef struct monitor {
    totals_t *t;
    atomic_bool done;
    bool tty;
} monitor_t;

static void *monitor_task(void *arg)
{
    monitor_t *m = arg;
    rill_stream_t *ticks;
    if (rill_stream_interval(&ticks, REPORT_EVERY, RILL_TICK_SKIP) != 0)
        return NULL;
    rill_instant_t t0 = rill_now(), prev_t = t0, tick;
    long prev = 0;
    int reports = 0;
    while (!atomic_load(&m->done) && rill_next(ticks, &tick) == 0) {
        rill_instant_t now = rill_now();
        long done = atomic_load(&m->t->stored);
        long depth = atomic_load(&sent_total) - atomic_load(&received_total);
        double secs = (double)(now - prev_t) / 1e9;
        double rate = secs > 0 ? (double)(done - prev) / secs : 0;
        prev = done;
        prev_t = now;
        /* One line, rewritten in place on a terminal; one per second
         * otherwise (a log or a test reads it). */
        if (m->tty || ++reports % 4 == 0)
            printf("%s[%5.1fs] %7ld stored  %8.0f items/s  queue %4ld/%d  "
                   "in flight %d/%d  errors %ld%s",
                   m->tty ? "\r" : "", (double)(now - t0) / 1e9, done, rate,
                   depth, QUEUE_CAPACITY, atomic_load(&m->t->in_flight), STORES,
                   atomic_load(&m->t->errors), m->tty ? "" : "\n");
        fflush(stdout);
    }
    if (m->tty)
        printf("\n");
    rill_stream_free(ticks);
    return NULL;
}

/* ---- wiring ---- */

static void *main_task(void *arg)
{
    (void)arg;
    static totals_t t = {.mu = PTHREAD_MUTEX_INITIALIZER};
    rill_sender_t *tx;
    rill_receiver_t *rx;
    rill_stream_t *s;
    rill_channel_config_t opts = {.name = "readings"};
    if (rill_channel_new(&tx, &rx, sizeof(raw_reading_t), QUEUE_CAPACITY,
                         &opts) ||
        rill_receiver_into_stream(rx, &s))
        return (void *)1;
    int r;
    if ((r = rill_stream_inspect(&s, count_received, NULL)) ||
        (r = rill_stream_map(&s, parse_reading, NULL, sizeof(reading_t))) ||
        (r = rill_stream_chunks_timeout(&s, BATCH, BATCH_WINDOW))) {
        fprintf(stderr, "pipeline: %s\n", rill_strerror(r));
        return (void *)1;
    }

    monitor_t m = {.t = &t, .tty = isatty(STDOUT_FILENO)};
    rill_task_t *mon;
    CHECK(rill_spawn(&mon, monitor_task, &m, NULL));

    printf("sensor pipeline: %d sensors x %d readings -> queue of %d -> "
           "parse -> batches of %d (or %d ms) -> %d stores of %d ms\n",
           SENSORS, READINGS_PER_SENSOR, QUEUE_CAPACITY, BATCH,
           (int)(BATCH_WINDOW / RILL_MS(1)), STORES,
           (int)(STORE_TIME / RILL_MS(1)));
    rill_instant_t t0 = rill_now();
    pthread_t threads[SENSORS];
    sensor_t sensors[SENSORS];
    for (int i = 0; i < SENSORS; i++) {
        sensors[i].id = i;
        CHECK(rill_sender_clone(tx, &sensors[i].tx));
        pthread_create(&threads[i], NULL, sensor_thread, &sensors[i]);
    }
    rill_sender_release(tx); /* the sensors hold the rest */

    r = rill_stream_for_each_concurrent(s, STORES, store_batch, &t);
    double secs = (double)(rill_now() - t0) / 1e9;

    atomic_store(&m.done, true);
    CHECK(rill_join(mon, NULL));
    uint64_t max_depth = 0, waits = 0; /* the channel's, at the last exit */
    for (int i = 0; i < SENSORS; i++) {
        pthread_join(threads[i], NULL);
        if (sensors[i].stats.high_water > max_depth)
            max_depth = sensors[i].stats.high_water;
        if (sensors[i].stats.waits_full > waits)
            waits = sensors[i].stats.waits_full;
    }

    long stored = atomic_load(&t.stored), errors = atomic_load(&t.errors);
    printf("summary: %ld readings stored in %ld batches, %ld bad readings "
           "(error items), %.1f s, %.0f readings/s\n",
           stored, atomic_load(&t.batches), errors, secs,
           (double)(stored + errors) / secs);
    printf("summary: max queue depth %llu/%d, sensors waited for room %llu "
           "times (backpressure)\n",
           (unsigned long long)max_depth, QUEUE_CAPACITY,
           (unsigned long long)waits);
    for (int i = 0; i < SENSORS; i++)
        printf("summary: sensor %d: %ld readings, mean %.2f C\n", i, t.count[i],
               t.count[i] ? t.sum[i] / (double)t.count[i] : 0);
    bool ok = r == 0 && stored + errors == (long)SENSORS * READINGS_PER_SENSOR;
    printf("%s\n", ok ? "all readings accounted for" : "READINGS LOST");
    return ok ? NULL : (void *)1;
}

int main(void)
{
    rill_runtime_t *rt;
    void *failed = NULL;
    if (rill_runtime_new(&rt, NULL) != 0)
        return 1;
    int rc = rill_block_on(rt, main_task, NULL, &failed);
    rill_runtime_free(rt);
    return rc == 0 && !failed ? 0 : 1;
}
