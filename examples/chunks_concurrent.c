/* SPDX-License-Identifier: MIT */
/*
 * chunks_concurrent.c - seed example 3: chunks(50) + for_each_concurrent.
 *
 * tokio: 1000 items sent quickly into mpsc::channel(100), the stream
 * grouped with .chunks(50) and each chunk processed with
 * .for_each_concurrent(None, ...) (no limit), 50 ms per chunk.
 *
 * In rill the chunks are filled through the receiver's batch path (one
 * synchronisation per chunk), their buffers come back to the chunk stream
 * when freed, and the concurrent calls run in reused worker tasks.
 */
#include "check.h"
#include <rill.h>
#include <stdatomic.h>
#include <stdio.h>

static void *sender(void *arg)
{
    rill_sender_t *tx = arg;
    for (int i = 0; i < 1000; i++)
        if (rill_send(tx, &i) != 0)
            break;
    printf("Sender finished sending.\n");
    rill_sender_release(tx);
    return NULL;
}

typedef struct totals {
    atomic_int chunks, items;
} totals_t;

/* Runs in a task of its own; may wait. */
static int process_chunk(void *ud, int status, void *item)
{
    totals_t *t = ud;
    if (status < 0)
        return 0; /* a channel has no error items; nothing to do */
    rill_chunk_t *c = item;
    printf("Processing chunk of %zu items: [%d, %d]\n", c->len,
           RILL_CHUNK_AT(c, int, 0), RILL_CHUNK_AT(c, int, 1));
    rill_sleep(RILL_MS(50)); /* simulated intensive processing */
    atomic_fetch_add(&t->chunks, 1);
    atomic_fetch_add(&t->items, (int)c->len);
    rill_chunk_destroy(c); /* the buffer goes back to the chunk stream */
    return 0;
}

static void *main_task(void *arg)
{
    (void)arg;
    rill_sender_t *tx;
    rill_receiver_t *rx;
    rill_stream_t *s;
    rill_task_t *p;
    totals_t t = {0};
    if (rill_channel_new(&tx, &rx, sizeof(int), 100, NULL) ||
        rill_receiver_into_stream(rx, &s) || rill_stream_chunks(&s, 50) ||
        rill_spawn(&p, sender, tx, NULL))
        return (void *)1;
    rill_instant_t t0 = rill_now();
    int r = rill_stream_for_each_concurrent(s, 0, process_chunk, &t);
    CHECK(rill_join(p, NULL));
    printf("Stream processing finished: %d chunks, %d items, %s.\n",
           atomic_load(&t.chunks), atomic_load(&t.items), rill_strerror(r));
    /* No limit: the chunks overlap, far below 20 x 50 ms. */
    printf("Took %s 1000 ms.\n",
           rill_now() - t0 < RILL_MS(1000) ? "well under" : "at least");
    return r ? (void *)1 : NULL;
}

int main(void)
{
    rill_runtime_t *rt;
    void *failed = NULL;
    if (rill_runtime_new(&rt, NULL) != 0)
        return 1;
    int rc = rill_block_on(rt, main_task, NULL, &failed);
    rill_runtime_free(rt);
    return rc == 0 && !failed ? 0 : 1;
}
