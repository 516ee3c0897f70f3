/* SPDX-License-Identifier: MIT */
/*
 * R1 (workload 20) Redis sink: R_ENTRIES entries of one 64-byte field
 * through rill_redis_write_stream (XADD, batch R_BATCH) on a redis-server
 * this program starts; kentries/s (bench/redis/bench_redis.h). The items
 * are copies of one rill_bytes_t (a reference each, no byte copy), so the
 * time is the sink's: encoding, the hand-off to the connection's task,
 * the socket and the replies.
 */
#include "bench_redis_rill.h"

typedef struct r1 {
    uint64_t added;
    double secs;
    uint64_t cpu;
    long long len;
} r1_t;

static void *top(void *arg)
{
    r1_t *r = arg;
    rill_redis_t *c;
    BENCH_TRY(rill_redis_new(&c, srv.addr, NULL));
    uint64_t cpu0 = br_cpu_ns(), t0 = br_now_ns();
    r->added = br_rill_write(c, "r1", R_ENTRIES);
    r->secs = (double)(br_now_ns() - t0) / 1e9;
    r->cpu = br_cpu_ns() - cpu0;
    rill_redis_reply_t *rep;
    BENCH_TRY(rill_redis_command(c, &rep, 2,
                                 (const char *const[]){"XLEN", "r1"}, NULL));
    r->len = rep->type == RILL_REDIS_INTEGER ? rep->integer : -1;
    rill_redis_reply_free(rep);
    rill_redis_free(c);
    return NULL;
}

int main(void)
{
    r1_t r = {0};
    br_rill_run(top, &r);
    return br_report_rate(r.added, r.secs, r.cpu, r.len == R_ENTRIES);
}
