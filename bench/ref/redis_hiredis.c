/* SPDX-License-Identifier: MIT */
/*
 * redis_hiredis.c - the reference of R1..R3 (workloads 17..19): what a
 * careful C programmer writes by hand with hiredis's blocking context, no
 * runtime. `redis_hiredis R1|R2|R3`; bench/redis/bench_redis.h says what
 * each measures.
 *
 *   R1: redisAppendCommandArgv R_BATCH XADDs, then R_BATCH redisGetReply,
 *       until R_ENTRIES (one write and one read per batch).
 *   R2: XREADGROUP COUNT R_BATCH, then one XACK of the batch's ids, until
 *       R_ENTRIES (the commands rill's group source sends).
 *   R3: a producer thread paced at R3_RATE (clock_nanosleep to each send
 *       time), one XADD per entry; a consumer thread on a second
 *       connection in XREADGROUP BLOCK, acking each batch.
 */
#include "bench/redis/bench_redis.h"

#include <hiredis/hiredis.h>
#include <pthread.h>

static rs_server_t srv;

static redisContext *connect_or_die(void)
{
    redisContext *c = redisConnectUnix(srv.sock);
    if (!c || c->err) {
        fprintf(stderr, "hiredis connect: %s\n", c ? c->errstr : "no memory");
        exit(1);
    }
    return c;
}

static redisReply *must(redisContext *c, void *r)
{
    if (!r) {
        fprintf(stderr, "hiredis: %s\n", c->errstr);
        exit(1);
    }
    redisReply *rep = r;
    if (rep->type == REDIS_REPLY_ERROR) {
        fprintf(stderr, "redis: %s\n", rep->str);
        exit(1);
    }
    return rep;
}

/* n XADDs of `value`, pipelined batch at a time. */
static void add_pipelined(redisContext *c, const char *key, size_t n,
                          const char *value)
{
    const char *argv[] = {"XADD", key, "*", "data", value};
    size_t lens[] = {4, strlen(key), 1, 4, R_PAYLOAD};
    for (size_t done = 0; done < n;) {
        size_t k = n - done < R_BATCH ? n - done : R_BATCH;
        for (size_t i = 0; i < k; i++)
            redisAppendCommandArgv(c, 5, argv, lens);
        for (size_t i = 0; i < k; i++) {
            void *r;
            if (redisGetReply(c, &r) != REDIS_OK)
                must(c, NULL);
            freeReplyObject(must(c, r));
        }
        done += k;
    }
}

static int r1(void)
{
    redisContext *c = connect_or_die();
    char value[R_PAYLOAD + 1];
    br_payload(value);
    uint64_t cpu0 = br_cpu_ns(), t0 = br_now_ns();
    add_pipelined(c, "r1", R_ENTRIES, value);
    double secs = (double)(br_now_ns() - t0) / 1e9;
    uint64_t cpu = br_cpu_ns() - cpu0;
    redisReply *len = must(c, redisCommand(c, "XLEN r1"));
    int ok = len->integer == R_ENTRIES;
    freeReplyObject(len);
    redisFree(c);
    return br_report_rate(R_ENTRIES, secs, cpu, ok);
}

/* One XREADGROUP of up to `count` entries (block_ms < 0: no BLOCK), then
 * one XACK of them. Calls each(ud, entry) per entry; returns how many. */
static size_t read_and_ack(redisContext *c, const char *key, int block_ms,
                           void (*each)(void *, redisReply *), void *ud)
{
    char cnt[16], blk[16];
    snprintf(cnt, sizeof cnt, "%d", R_BATCH);
    snprintf(blk, sizeof blk, "%d", block_ms);
    const char *rd[] = {"XREADGROUP", "GROUP", "g",       "c1", "COUNT", cnt,
                        "BLOCK",      blk,     "STREAMS", key,  ">"};
    int argc = 11;
    if (block_ms < 0) {
        memmove(rd + 6, rd + 8, 3 * sizeof *rd);
        argc = 9;
    }
    redisReply *r = must(c, redisCommandArgv(c, argc, rd, NULL));
    if (r->type == REDIS_REPLY_NIL) {
        freeReplyObject(r);
        return 0;
    }
    redisReply *es = r->element[0]->element[1];
    const char *ack[3 + R_BATCH] = {"XACK", key, "g"};
    for (size_t i = 0; i < es->elements; i++) {
        ack[3 + i] = es->element[i]->element[0]->str;
        if (each)
            each(ud, es->element[i]);
    }
    size_t n = es->elements;
    if (n) {
        redisReply *a = must(c, redisCommandArgv(c, (int)(3 + n), ack, NULL));
        if (a->type != REDIS_REPLY_INTEGER || (size_t)a->integer != n) {
            fprintf(stderr, "XACK acked %lld of %zu\n", a->integer, n);
            exit(1);
        }
        freeReplyObject(a);
    }
    freeReplyObject(r);
    return n;
}

static int r2(void)
{
    redisContext *c = connect_or_die();
    char value[R_PAYLOAD + 1];
    br_payload(value);
    add_pipelined(c, "r2", R_ENTRIES, value);
    freeReplyObject(must(c, redisCommand(c, "XGROUP CREATE r2 g 0")));
    uint64_t cpu0 = br_cpu_ns(), t0 = br_now_ns();
    size_t got = 0;
    while (got < R_ENTRIES)
        got += read_and_ack(c, "r2", -1, NULL, NULL);
    double secs = (double)(br_now_ns() - t0) / 1e9;
    uint64_t cpu = br_cpu_ns() - cpu0;
    redisReply *p = must(c, redisCommand(c, "XPENDING r2 g"));
    int ok = p->type == REDIS_REPLY_ARRAY && p->element[0]->integer == 0;
    freeReplyObject(p);
    redisFree(c);
    return br_report_rate(got, secs, cpu, ok);
}

/* ---- R3 ---- */

typedef struct r3 {
    uint64_t *lat;
    size_t got;
    int bad;
} r3_t;

static void *r3_produce(void *arg)
{
    (void)arg;
    redisContext *c = connect_or_die();
    uint64_t start = br_now_ns(), step = 1000000000u / R3_RATE;
    for (size_t i = 0; i < R3_ENTRIES; i++) {
        uint64_t at = start + i * step;
        struct timespec ts = {(time_t)(at / 1000000000u),
                              (long)(at % 1000000000u)};
        while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL))
            ;
        char value[R_PAYLOAD + 1];
        br_stamp(value, br_now_ns());
        const char *argv[] = {"XADD", "r3", "*", "data", value};
        size_t lens[] = {4, 2, 1, 4, R_PAYLOAD};
        freeReplyObject(must(c, redisCommandArgv(c, 5, argv, lens)));
    }
    redisFree(c);
    return NULL;
}

static void r3_each(void *ud, redisReply *e)
{
    r3_t *r = ud;
    uint64_t now = br_now_ns();
    redisReply *f = e->element[1];
    if (f->type != REDIS_REPLY_ARRAY || f->elements != 2 ||
        r->got >= R3_ENTRIES) {
        r->bad = 1;
        return;
    }
    r->lat[r->got++] = now - br_stamp_of(f->element[1]->str);
}

static int r3(void)
{
    redisContext *c = connect_or_die();
    freeReplyObject(must(c, redisCommand(c, "XGROUP CREATE r3 g $ MKSTREAM")));
    r3_t r = {.lat = calloc(R3_ENTRIES, sizeof(uint64_t))};
    if (!r.lat)
        return 1;
    uint64_t cpu0 = br_cpu_ns();
    pthread_t p;
    if (pthread_create(&p, NULL, r3_produce, NULL))
        return 1;
    while (r.got < R3_ENTRIES && !r.bad)
        read_and_ack(c, "r3", 1000, r3_each, &r);
    pthread_join(p, NULL);
    uint64_t cpu = br_cpu_ns() - cpu0;
    redisFree(c);
    int rc = br_report_latency(r.lat, r.got, cpu, !r.bad);
    free(r.lat);
    return rc;
}

int main(int argc, char **argv)
{
    const char *w = argc > 1 ? argv[1] : "";
    int (*run)(void) = !strcmp(w, "R1")   ? r1
                       : !strcmp(w, "R2") ? r2
                       : !strcmp(w, "R3") ? r3
                                          : NULL;
    if (!run) {
        fprintf(stderr, "usage: redis_hiredis R1|R2|R3\n");
        return 2;
    }
    br_start(&srv);
    int rc = run();
    rs_stop(&srv);
    return rc;
}
