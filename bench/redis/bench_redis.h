/* SPDX-License-Identifier: MIT */
/*
 * bench_redis.h - what the Redis workloads' C programs share (rill's
 * bench/rill/w20..w22 and the hiredis reference bench/ref/redis_hiredis.c;
 * the Go peer bench/peers/go-redis does the same in Go):
 *
 *   R1 (W20) sink:  R_ENTRIES entries of one 64-byte field "data" through
 *                   XADD, pipelined R_BATCH at a time; kentries/s.
 *   R2 (W21) group: R_ENTRIES entries (added first, untimed) read as a
 *                   consumer group, COUNT R_BATCH, each acked (one XACK per
 *                   batch); kentries/s.
 *   R3 (W22) latency: R3_ENTRIES entries at R3_RATE per second, each
 *                   carrying the monotonic time it was handed to XADD; a
 *                   consumer-group reader (BLOCK) takes it; p99 in
 *                   microseconds is the metric, p50 an extra field.
 *
 * Each program starts its own redis-server (tests/redis_server.h: a Unix
 * socket in a fresh directory, --save '' --appendonly yes) and stops it by
 * its pid; the server shares the machine's two cores with the client. Each
 * prints the one line bench/run.py reads:
 *   RESULT metric=<x> unit=<u> check=<ok|FAIL> sum=<n> [p50=<x>] cpu_ns=<n>
 * where cpu_ns is the client process's CPU time per entry (the server's
 * is not in it). No rill here: the reference includes this too.
 */
#ifndef RILL_BENCH_REDIS_H
#define RILL_BENCH_REDIS_H

#include "tests/redis_server.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#define R_ENTRIES 200000
#define R_BATCH 256
#define R3_RATE 10000
#define R3_ENTRIES 20000
#define R_PAYLOAD 64

static inline uint64_t br_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* The client's CPU time so far (user + system), in ns. */
static inline uint64_t br_cpu_ns(void)
{
    struct rusage u;
    getrusage(RUSAGE_SELF, &u);
    return ((uint64_t)u.ru_utime.tv_sec + (uint64_t)u.ru_stime.tv_sec) *
               1000000000u +
           ((uint64_t)u.ru_utime.tv_usec + (uint64_t)u.ru_stime.tv_usec) *
               1000u;
}

/* The server, started or the program ends. */
static inline void br_start(rs_server_t *srv)
{
    if (rs_start(srv, false) != 0) {
        fprintf(stderr, "could not start redis-server (%s)\n",
                rs_binary() ? rs_binary() : "none in PATH");
        exit(1);
    }
}

/* 64 bytes: the value of R1's and R2's entries. */
static inline void br_payload(char out[R_PAYLOAD + 1])
{
    memset(out, 'x', R_PAYLOAD);
    out[R_PAYLOAD] = 0;
}

/* R3's value: the send time in ns, as 20 digits, padded to 64 bytes. */
static inline void br_stamp(char out[R_PAYLOAD + 1], uint64_t ns)
{
    snprintf(out, R_PAYLOAD + 1, "%020llu", (unsigned long long)ns);
    memset(out + 20, '.', R_PAYLOAD - 20);
    out[R_PAYLOAD] = 0;
}

static inline uint64_t br_stamp_of(const char *value)
{
    return strtoull(value, NULL, 10);
}

static int br_cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* The q-quantile (0..1) of n latencies in ns (sorts them). */
static inline double br_quantile_us(uint64_t *ns, size_t n, double q)
{
    if (!n)
        return 0;
    qsort(ns, n, sizeof *ns, br_cmp_u64);
    size_t i = (size_t)(q * (double)(n - 1) + 0.5);
    return (double)ns[i] / 1e3;
}

/* R1 and R2's line: kentries/s over secs; ok when got == R_ENTRIES. */
static inline int br_report_rate(uint64_t got, double secs, uint64_t cpu_ns,
                                 int ok)
{
    ok = ok && got == R_ENTRIES;
    printf("RESULT metric=%.1f unit=kentries/s check=%s sum=%llu cpu_ns=%.0f\n",
           (double)got / secs / 1e3, ok ? "ok" : "FAIL",
           (unsigned long long)got, (double)cpu_ns / (double)R_ENTRIES);
    return ok ? 0 : 1;
}

/* R3's line from the latencies of the entries received (sorted here). */
static inline int br_report_latency(uint64_t *ns, size_t got, uint64_t cpu_ns,
                                    int ok)
{
    ok = ok && got == R3_ENTRIES;
    double p50 = br_quantile_us(ns, got, 0.50);
    double p99 = br_quantile_us(ns, got, 0.99);
    printf("RESULT metric=%.1f unit=us check=%s sum=%zu p50=%.1f cpu_ns=%.0f\n",
           p99, ok ? "ok" : "FAIL", got, p50,
           (double)cpu_ns / (double)R3_ENTRIES);
    return ok ? 0 : 1;
}

#endif /* RILL_BENCH_REDIS_H */
