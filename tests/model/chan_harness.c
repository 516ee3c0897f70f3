/* SPDX-License-Identifier: MIT */
/*
 * chan_harness.c - the bounded channel under the model, through rill's
 * public API on plain threads: producers rill_send (or rill_send_many)
 * and, when the ring is full, park on their thread parker (park.c) until
 * the receiver frees a slot or hands one off; the receiver rill_recv (or
 * rill_recv_many) and parks on an empty ring until a producer publishes.
 * All of it is rill's code compiled with RILL_MODEL (bounded.c, mpsc*.c,
 * waiters.c, park.c, await.c); only the scenario is here.
 *
 * Properties: every item sent arrives exactly once, in each producer's
 * order; the receiver sees RILL_DONE only after every item; and no thread
 * is left parked with nobody to wake it (a lost wakeup leaves a thread in
 * rill__futex_wait forever, which relacy reports as a deadlock).
 */
#include "chan_harness.h"

#include "rill/sync.h"

#include <string.h>

enum { MAX_PRODUCERS = 3, MAX_ITEMS = 8 };

static struct {
    chan_scenario_t sc;
    rill_sender_t *tx[MAX_PRODUCERS];
    rill_receiver_t *rx;
    int got[MAX_PRODUCERS * MAX_ITEMS];
    int ngot;
    bool done; /* the receiver saw RILL_DONE */
} g;

void chan_setup(const chan_scenario_t *sc)
{
    memset(&g, 0, sizeof g);
    g.sc = *sc;
    int r = rill_channel_new(&g.tx[0], &g.rx, sizeof(int), sc->cap, NULL);
    RILL_MODEL_CHECK(r == 0);
    for (int i = 1; i < sc->producers; i++)
        RILL_MODEL_CHECK(rill_sender_clone(g.tx[0], &g.tx[i]) == 0);
}

void chan_producer(int i)
{
    int items[MAX_ITEMS];
    for (int k = 0; k < g.sc.per_producer; k++)
        items[k] = i * MAX_ITEMS + k;
    if (g.sc.batch) {
        /* rill_send_many: the batch paths (write_items, the fences). */
        size_t sent = 0;
        while (sent < (size_t)g.sc.per_producer) {
            size_t n = 0;
            int r = rill_send_many(g.tx[i], items + sent,
                                   (size_t)g.sc.per_producer - sent, &n);
            RILL_MODEL_CHECK(r == 0 && n >= 1);
            sent += n;
        }
    } else {
        for (int k = 0; k < g.sc.per_producer; k++)
            RILL_MODEL_CHECK(rill_send(g.tx[i], &items[k]) == 0);
    }
    RILL_MODEL_CHECK(rill_sender_release(g.tx[i]) == 0);
}

void chan_receiver(void)
{
    for (;;) {
        int buf[MAX_ITEMS];
        size_t n = 1;
        int r = g.sc.batch ? rill_recv_many(g.rx, buf, MAX_ITEMS, &n)
                           : rill_recv(g.rx, &buf[0]);
        if (r == RILL_DONE)
            break;
        RILL_MODEL_CHECK(r == 0 && n >= 1);
        for (size_t k = 0; k < n; k++) {
            RILL_MODEL_CHECK(g.ngot < MAX_PRODUCERS * MAX_ITEMS);
            g.got[g.ngot++] = buf[k];
        }
    }
    g.done = true;
}

void chan_check(void)
{
    int next[MAX_PRODUCERS] = {0};
    RILL_MODEL_CHECK(g.done);
    RILL_MODEL_CHECK(g.ngot == g.sc.producers * g.sc.per_producer);
    for (int k = 0; k < g.ngot; k++) {
        int p = g.got[k] / MAX_ITEMS, seq = g.got[k] % MAX_ITEMS;
        /* exactly once and in order: producer p's items arrive 0, 1, ... */
        RILL_MODEL_CHECK(p < g.sc.producers && seq == next[p]);
        next[p]++;
    }
    RILL_MODEL_CHECK(rill_receiver_release(g.rx) == 0);
}
