/* SPDX-License-Identifier: MIT */
/*
 * R2 (workload 21) Redis group source + XACK: R_ENTRIES entries, added
 * first (untimed, through the sink), read through rill_redis_group_stream
 * (XREADGROUP COUNT R_BATCH) and each acked with rill_redis_group_ack (one
 * XACK per R_BATCH); kentries/s until the last ack's reply
 * (bench/redis/bench_redis.h). Checked: every entry once, nothing pending.
 */
#include "bench_redis_rill.h"

typedef struct r2 {
    uint64_t got;
    double secs;
    uint64_t cpu;
    int ok;
} r2_t;

static void *top(void *arg)
{
    r2_t *r = arg;
    rill_redis_t *c;
    BENCH_TRY(rill_redis_new(&c, srv.addr, NULL));
    if (br_rill_write(c, "r2", R_ENTRIES) != R_ENTRIES)
        exit(1);
    rill_redis_group_t *g;
    rill_redis_group_config_t gc = {.create = true, .count = R_BATCH};
    BENCH_TRY(rill_redis_group_new(&g, srv.addr, "r2", "g", "c1", &gc));
    rill_stream_t *s;
    BENCH_TRY(rill_redis_group_stream(g, &s));
    rill_redis_msg_t m[64];
    uint64_t cpu0 = br_cpu_ns(), t0 = br_now_ns();
    int ok = 1;
    while (r->got < R_ENTRIES) {
        size_t n = 0;
        BENCH_TRY(rill_next_many(s, m, 64, &n));
        for (size_t i = 0; i < n; i++) {
            ok = ok && m[i].deliveries == 1 && m[i].nfields == 1 &&
                 m[i].fields[0].value_len == R_PAYLOAD;
            BENCH_TRY(rill_redis_group_ack(g, &m[i]));
            rill_redis_msg_destroy(&m[i]);
        }
        r->got += n;
    }
    BENCH_TRY(rill_redis_group_flush(g));
    r->secs = (double)(br_now_ns() - t0) / 1e9;
    r->cpu = br_cpu_ns() - cpu0;
    rill_stream_free(s);
    rill_redis_group_free(g);
    /* Nothing pending: every entry was acked. */
    rill_redis_reply_t *rep;
    BENCH_TRY(rill_redis_command(
        c, &rep, 3, (const char *const[]){"XPENDING", "r2", "g"}, NULL));
    r->ok = ok && rep->type == RILL_REDIS_ARRAY && rep->elements > 0 &&
            rep->element[0]->integer == 0;
    rill_redis_reply_free(rep);
    rill_redis_free(c);
    return NULL;
}

int main(void)
{
    r2_t r = {0};
    br_rill_run(top, &r);
    return br_report_rate(r.got, r.secs, r.cpu, r.ok);
}
