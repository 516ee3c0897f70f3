/* SPDX-License-Identifier: MIT */
/*
 * R3 (workload 22) Redis end-to-end latency: a task makes R3_ENTRIES
 * entries at R3_RATE per second (rill_sleep_until each send time), each
 * stamped with the monotonic time it is made, into a bounded channel
 * whose stream rill_redis_write_stream sends (it takes what is ready, so
 * at this rate mostly one entry per XADD); a consumer-group source
 * (BLOCK) on its own connections takes them and acks them. The latency
 * of an entry is from its stamp to rill_next returning it; p99 and p50 in
 * microseconds (bench/redis/bench_redis.h).
 */
#include "bench_redis_rill.h"

static void *produce(void *arg)
{
    rill_sender_t *tx = arg;
    rill_instant_t start = rill_now();
    for (uint64_t i = 0; i < R3_ENTRIES; i++) {
        BENCH_TRY(rill_sleep_until(start + (rill_instant_t)i *
                                               (RILL_SEC(1) / R3_RATE)));
        char value[R_PAYLOAD + 1];
        br_stamp(value, br_now_ns());
        rill_bytes_t b;
        BENCH_TRY(rill_bytes_new(&b, value, R_PAYLOAD));
        BENCH_TRY(rill_send(tx, &b));
    }
    rill_sender_release(tx);
    return NULL;
}

typedef struct sink_arg {
    rill_receiver_t *rx;
    uint64_t added;
} sink_arg_t;

static void *sink(void *arg)
{
    sink_arg_t *a = arg;
    rill_redis_t *c;
    BENCH_TRY(rill_redis_new(&c, srv.addr, NULL));
    rill_stream_t *s;
    BENCH_TRY(rill_receiver_into_stream(a->rx, &s));
    rill_redis_sink_config_t sc = {.batch = R_BATCH};
    BENCH_TRY(rill_redis_write_stream(c, "r3", s, &a->added, &sc));
    rill_redis_free(c);
    return NULL;
}

typedef struct r3 {
    uint64_t *lat;
    size_t got;
    int bad;
    uint64_t cpu;
} r3_t;

static void *top(void *arg)
{
    r3_t *r = arg;
    rill_redis_group_t *g;
    rill_redis_group_config_t gc = {
        .create = true, .start_id = "$", .count = R_BATCH};
    BENCH_TRY(rill_redis_group_new(&g, srv.addr, "r3", "g", "c1", &gc));
    rill_stream_t *s;
    BENCH_TRY(rill_redis_group_stream(g, &s));
    rill_sender_t *tx;
    sink_arg_t sa = {0};
    BENCH_TRY(rill_channel_new(
        &tx, &sa.rx, sizeof(rill_bytes_t), 1024,
        &(rill_channel_config_t){.item_dtor = rill_bytes_item_dtor}));
    uint64_t cpu0 = br_cpu_ns();
    rill_task_t *tp = bench_spawn(produce, tx);
    rill_task_t *ts = bench_spawn(sink, &sa);
    while (r->got < R3_ENTRIES) {
        rill_redis_msg_t m;
        BENCH_TRY(rill_next(s, &m));
        uint64_t now = br_now_ns();
        if (m.nfields == 1 && m.fields[0].value_len == R_PAYLOAD)
            r->lat[r->got++] = now - br_stamp_of(m.fields[0].value);
        else
            r->bad = 1;
        BENCH_TRY(rill_redis_group_ack(g, &m));
        rill_redis_msg_destroy(&m);
    }
    BENCH_TRY(rill_redis_group_flush(g));
    bench_join(tp);
    bench_join(ts);
    r->cpu = br_cpu_ns() - cpu0;
    r->bad |= sa.added != R3_ENTRIES;
    rill_stream_free(s);
    rill_redis_group_free(g);
    return NULL;
}

int main(void)
{
    r3_t r = {.lat = calloc(R3_ENTRIES, sizeof(uint64_t))};
    if (!r.lat)
        return 1;
    br_rill_run(top, &r);
    int rc = br_report_latency(r.lat, r.got, r.cpu, !r.bad);
    free(r.lat);
    return rc;
}
