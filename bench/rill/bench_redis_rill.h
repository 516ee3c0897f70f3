/* SPDX-License-Identifier: MIT */
/*
 * bench_redis_rill.h - what rill's Redis programs (w20..w22) share: the
 * server, running the top task, and the sink run that writes R1's
 * entries (and fills R2's stream).
 */
#ifndef RILL_BENCH_REDIS_RILL_H
#define RILL_BENCH_REDIS_RILL_H

#include "bench/redis/bench_redis.h"
#include "bench_rill.h"

#include <rill/bytes.h>
#include <rill/redis.h>

/* The program's redis-server (br_rill_run starts and stops it). */
static rs_server_t srv;

/* Start the server, run top(arg) on a 2-worker runtime, stop both. */
static inline void br_rill_run(rill_task_fn top, void *arg)
{
    br_start(&srv);
    rill_runtime_t *rt = bench_runtime();
    BENCH_TRY(rill_block_on(rt, top, arg, NULL));
    rill_runtime_free(rt);
    rs_stop(&srv);
}

/* n entries of one 64-byte field "data" into key through
 * rill_redis_write_stream (batch R_BATCH); the items are copies of one
 * rill_bytes_t (a reference each, no byte copy). Returns how many were
 * added. */
static inline uint64_t br_rill_write(rill_redis_t *c, const char *key,
                                     uint64_t n)
{
    char value[R_PAYLOAD + 1];
    br_payload(value);
    rill_bytes_t b;
    BENCH_TRY(rill_bytes_new(&b, value, R_PAYLOAD));
    rill_stream_t *s;
    BENCH_TRY(rill_stream_repeat(&s, &b, sizeof b));
    BENCH_TRY(rill_stream_take(&s, n));
    uint64_t added = 0;
    rill_redis_sink_config_t sc = {.batch = R_BATCH};
    BENCH_TRY(rill_redis_write_stream(c, key, s, &added, &sc));
    rill_bytes_release(&b);
    return added;
}

#endif /* RILL_BENCH_REDIS_RILL_H */
