/* SPDX-License-Identifier: MIT */
/*
 * bench/micro/timer_wheel.c - what the timing wheel costs per operation.
 *
 * Three numbers, each over a realistic population (10,000 armed timers,
 * deadlines spread from microseconds to seconds):
 *   insert+remove  one re-arm (a timeout reset), the hot path;
 *   expire/step    advancing in 100 us steps, per expired timer;
 *   expire/jump    jumping to next_deadline each time (the virtual clock),
 *                  per expired timer, next_deadline included.
 * Plain main(); build against the static library with -Isrc -Iinclude.
 */
#include "rt/timer_wheel.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define N_TIMERS 10000
#define N_OPS 4000000

static uint64_t rng_state = 0x1234567;

static uint64_t rnd(void)
{
    /* xorshift64: the benchmark needs speed, not statistical quality. */
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

/* Up to about 4 s, spread over the orders of magnitude from 1 us. */
static rill_duration_t spread(void)
{
    unsigned bits = 10 + (unsigned)(rnd() % 22);
    return (rill_duration_t)(rnd() >> (64 - bits));
}

static double now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static rill__timer_t timers[N_TIMERS];
static rill__wheel_t wheel;

static size_t drain(rill__list_t *expired)
{
    size_t n = 0;
    while (rill__list_pop_front(expired))
        n++;
    return n;
}

static void fill(rill_instant_t base)
{
    for (size_t i = 0; i < N_TIMERS; i++) {
        rill__timer_init(&timers[i], base + spread());
        rill__wheel_insert(&wheel, &timers[i]);
    }
}

int main(void)
{
    rill__list_t expired;
    size_t fired;
    double t0, t1;

    rill__list_init(&expired);

    /* insert+remove: re-arm random timers of an armed population. */
    rill__wheel_init(&wheel, 0);
    fill(0);
    t0 = now_ns();
    for (size_t i = 0; i < N_OPS; i++) {
        rill__timer_t *t = &timers[rnd() % N_TIMERS];
        rill__wheel_remove(&wheel, t);
        t->deadline = spread();
        rill__wheel_insert(&wheel, t);
    }
    t1 = now_ns();
    printf("timer_wheel insert+remove: %6.1f ns/op  (%d timers armed)\n",
           (t1 - t0) / N_OPS, N_TIMERS);

    /* expire in fixed steps, as a real-clock worker would. */
    t0 = now_ns();
    fired = 0;
    for (rill_instant_t now = 0; rill__wheel_count(&wheel) > 0;
         now += RILL_US(100)) {
        rill__wheel_advance(&wheel, now, &expired);
        fired += drain(&expired);
    }
    t1 = now_ns();
    printf("timer_wheel expire/step:   %6.1f ns/timer (%zu timers, 100 us "
           "steps)\n",
           (t1 - t0) / (double)fired, fired);

    /* expire by jumping to next_deadline, as the virtual clock does. */
    rill__wheel_init(&wheel, 0);
    fill(0);
    t0 = now_ns();
    fired = 0;
    while (rill__wheel_count(&wheel) > 0) {
        rill__wheel_advance(&wheel, rill__wheel_next_deadline(&wheel),
                            &expired);
        fired += drain(&expired);
    }
    t1 = now_ns();
    printf("timer_wheel expire/jump:   %6.1f ns/timer (%zu timers, "
           "next_deadline each)\n",
           (t1 - t0) / (double)fired, fired);
    return 0;
}
