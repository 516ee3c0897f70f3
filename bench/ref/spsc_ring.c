// SPDX-License-Identifier: MIT
/*
 * The physical reference beside W1: a bare single-producer single-consumer
 * ring of 8-byte items between two threads, with no wakeups (both sides
 * spin). `spsc_ring 1` publishes its index after every item on both sides;
 * `spsc_ring 64` publishes every 64 items (and at the end). It moves
 * 10,000,000 items and prints the harness's RESULT line in Mitems/s; the
 * consumer checks the sum. This is what the two cores can do with nothing
 * but cache-line transfers: no channel can beat it, only approach it.
 *
 * Invariant: the producer writes slot (i % CAP) only while i - head < CAP,
 * where head is the consumer's last published count; the consumer reads a
 * slot only below the producer's last published tail.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define ITEMS 10000000ULL
#define CAP 1024u /* a power of two, as a bounded(1024) channel */
#define LINE 128  /* two cache lines: adjacent-line prefetch shares pairs */

static struct {
    _Alignas(LINE) _Atomic uint64_t tail; /* written by the producer only */
    _Alignas(LINE) _Atomic uint64_t head; /* written by the consumer only */
    _Alignas(LINE) uint64_t slot[CAP];
} ring;

static uint64_t batch; /* publish every `batch` items; set before threads */

static void *producer(void *arg)
{
    (void)arg;
    uint64_t head = 0; /* the consumer's count as last seen */
    for (uint64_t i = 0; i < ITEMS; i++) {
        while (i - head >= CAP)
            /* Acquire: pairs with the consumer's release of head, so
             * its reads of the slot are done before we overwrite it. */
            head = atomic_load_explicit(&ring.head, memory_order_acquire);
        ring.slot[i % CAP] = i;
        if ((i + 1) % batch == 0)
            /* Release: pairs with the consumer's acquire of tail. */
            atomic_store_explicit(&ring.tail, i + 1, memory_order_release);
    }
    atomic_store_explicit(&ring.tail, ITEMS, memory_order_release);
    return NULL;
}

static void *consumer(void *arg)
{
    uint64_t *sum = arg;
    uint64_t tail = 0; /* the producer's count as last seen */
    uint64_t s = 0;
    for (uint64_t i = 0; i < ITEMS; i++) {
        while (i >= tail)
            /* Acquire: pairs with the producer's release of tail. */
            tail = atomic_load_explicit(&ring.tail, memory_order_acquire);
        s += ring.slot[i % CAP];
        if ((i + 1) % batch == 0)
            /* Release: pairs with the producer's acquire of head. */
            atomic_store_explicit(&ring.head, i + 1, memory_order_release);
    }
    *sum = s;
    return NULL;
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

int main(int argc, char **argv)
{
    batch = argc == 2 ? strtoull(argv[1], NULL, 10) : 0;
    if (batch != 1 && batch != 64) {
        fprintf(stderr, "usage: spsc_ring <1|64>\n");
        return 2;
    }
    uint64_t sum = 0;
    pthread_t p, c;
    double t0 = now();
    if (pthread_create(&c, NULL, consumer, &sum) ||
        pthread_create(&p, NULL, producer, NULL)) {
        fprintf(stderr, "spsc_ring: pthread_create failed\n");
        return 1;
    }
    pthread_join(p, NULL);
    pthread_join(c, NULL);
    double secs = now() - t0;
    int ok = sum == ITEMS * (ITEMS - 1) / 2;
    printf("RESULT metric=%.3f unit=Mitems/s check=%s sum=%llu\n",
           (double)ITEMS / secs / 1e6, ok ? "ok" : "FAIL",
           (unsigned long long)sum);
    return ok ? 0 : 1;
}
