/* SPDX-License-Identifier: MIT */
/*
 * fuzz.h - what the libFuzzer harnesses share.
 *
 * Each harness reads its input as a sequence of operations (one byte picks
 * the operation, the following bytes its arguments), runs them against the
 * real channel and against a small single-threaded reference model of the
 * documented semantics, and aborts at the first difference (status code,
 * item, order, length, end of stream, item destructor calls).
 *
 * The operations run in one task of a one-worker runtime on the virtual
 * clock, so a timed wait that nothing can satisfy times out at once and
 * the run is deterministic. Futures that must stay pending across
 * operations (a sender waiting on a full ring, a receiver waiting on a
 * rendezvous) are polled by hand with a no-op waker.
 *
 * Every harness also checks that the run left no rill allocation behind
 * (a counting allocator) and that every item the channel discarded went
 * to the item destructor exactly once.
 *
 * Built two ways: with clang's -fsanitize=fuzzer (libFuzzer supplies
 * main), and with FUZZ_REPLAY defined, where fuzz_replay.c's main() feeds
 * the corpus files to the same entry point (any compiler, no libFuzzer).
 */
#ifndef RILL_FUZZ_H
#define RILL_FUZZ_H

#include "test_alloc.h"
#include <rill.h>

#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* ---- checks ---- */

#define FZ_CHECK(cond)                                                         \
    do {                                                                       \
        if (!(cond))                                                           \
            fz_fail(__FILE__, __LINE__, #cond);                                \
    } while (0)

/* Two status codes must be equal; names both on failure. */
#define FZ_EQ(got, want)                                                       \
    do {                                                                       \
        long long g_ = (long long)(got), w_ = (long long)(want);               \
        if (g_ != w_)                                                          \
            fz_fail_eq(__FILE__, __LINE__, #got, g_, w_);                      \
    } while (0)

static inline void fz_fail(const char *file, int line, const char *what)
{
    fprintf(stderr, "%s:%d: model mismatch: %s\n", file, line, what);
    abort();
}

static inline void fz_fail_eq(const char *file, int line, const char *what,
                              long long got, long long want)
{
    fprintf(stderr, "%s:%d: model mismatch: %s = %lld, model says %lld\n", file,
            line, what, got, want);
    abort();
}

/* ---- the input ---- */

typedef struct fz_in {
    const uint8_t *p;
    size_t n;
} fz_in_t;

static inline bool fz_more(const fz_in_t *in)
{
    return in->n > 0;
}

/* The next byte, or 0 once the input is used up. */
static inline unsigned fz_u8(fz_in_t *in)
{
    if (!in->n)
        return 0;
    in->n--;
    return *in->p++;
}

/* A number in [0, n) (n <= 256). */
static inline unsigned fz_pick(fz_in_t *in, unsigned n)
{
    return fz_u8(in) % n;
}

/* ---- item destructor accounting: items are unique uint64_t ids ---- */

enum { FZ_MAX_IDS = 1 << 16 };
static unsigned char fz_dead[FZ_MAX_IDS];  /* destructor calls per id */
static unsigned char fz_owned[FZ_MAX_IDS]; /* the model: 1 = must be
                                              destroyed by the end */

static inline void fz_dtor(void *item, void *ud)
{
    (void)ud;
    uint64_t id;
    memcpy(&id, item, sizeof id);
    FZ_CHECK(id < FZ_MAX_IDS);
    FZ_CHECK(fz_dead[id] == 0); /* exactly once */
    fz_dead[id]++;
}

/* Every id the model says was discarded was destroyed, and no other. */
static inline void fz_check_dead(uint64_t ids)
{
    for (uint64_t i = 0; i < ids && i < FZ_MAX_IDS; i++)
        if (fz_dead[i] != fz_owned[i]) {
            fprintf(stderr, "item %llu: destroyed %d times, model says %d\n",
                    (unsigned long long)i, fz_dead[i], fz_owned[i]);
            abort();
        }
}

static inline void fz_reset_ids(void)
{
    memset(fz_dead, 0, sizeof fz_dead);
    memset(fz_owned, 0, sizeof fz_owned);
}

/* ---- polling by hand ---- */

static inline rill_cx_t fz_cx(void)
{
    rill_cx_t cx = RILL_CX_INIT(rill_waker_noop());
    return cx;
}

static inline int fz_poll(rill_future_t *f)
{
    rill_cx_t cx = fz_cx();
    return rill_future_poll(f, &cx);
}

/* ---- running one input ---- */

typedef void (*fz_body_fn)(fz_in_t *in);

static rill_runtime_t *fz_rt;
static fz_body_fn fz_body_now;

static void *fz_task(void *arg)
{
    long before = test_alloc_count();
    fz_reset_ids();
    fz_body_now((fz_in_t *)arg);
    FZ_EQ(test_alloc_count(), before); /* nothing left behind */
    return NULL;
}

static void *fz_warm(void *arg)
{
    return arg;
}

/* Run body over the input in a task of the (lazily made) virtual-clock
 * runtime. The runtime lives as long as the process. */
static inline int fz_run(const uint8_t *data, size_t size, fz_body_fn body)
{
    if (!fz_rt) {
        test_alloc_install();
        rill_runtime_config_t c;
        rill_runtime_config_init(&c);
        c.workers = 1;
        c.virtual_clock = true;
        c.stack_size = 256 * 1024; /* sanitizers want room */
        FZ_EQ(rill_runtime_new(&fz_rt, &c), 0);
        /* The first block_on makes this thread's parker (it lives as long
         * as the thread), concurrently with the task: do it before any
         * input counts allocations. */
        FZ_EQ(rill_block_on(fz_rt, fz_warm, NULL, NULL), 0);
    }
    fz_in_t in = {data, size};
    fz_body_now = body;
    FZ_EQ(rill_block_on(fz_rt, fz_task, &in, NULL), 0);
    return 0;
}

#endif
