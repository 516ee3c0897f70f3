/* SPDX-License-Identifier: MIT */
/*
 * channel_stream.c - seed example 1: a bounded channel drained as a
 * stream, with a paced producer task.
 *
 * tokio: mpsc::channel(10), ReceiverStream::new(rx), a spawned task that
 * sends 0..20 every 50 ms, `while let Some(item) = stream.next().await`
 * with 100 ms of work per item. The consumer is the slower side, so the
 * producer's sends wait for room: backpressure, nothing piles up.
 */
#include "check.h"
#include <rill.h>
#include <stdio.h>

static void *producer(void *arg)
{
    rill_sender_t *tx = arg;
    for (int i = 0; i < 20; i++) {
        if (rill_send(tx, &i) != 0) { /* waits while the channel is full */
            fprintf(stderr, "Receiver dropped, sending failed.\n");
            break;
        }
        rill_sleep(RILL_MS(50));
    }
    printf("Sender task finished.\n");
    rill_sender_release(tx); /* the end of the stream, once drained */
    return NULL;
}

static void *main_task(void *arg)
{
    (void)arg;
    rill_sender_t *tx;
    rill_receiver_t *rx;
    rill_stream_t *stream;
    rill_task_t *p;
    if (rill_channel_new(&tx, &rx, sizeof(int), 10, NULL) != 0)
        return (void *)1;
    if (rill_receiver_into_stream(rx, &stream) != 0) {
        rill_receiver_release(rx);
        rill_sender_release(tx);
        return (void *)1;
    }
    if (rill_spawn(&p, producer, tx, NULL) != 0) {
        rill_sender_release(tx);
        rill_stream_free(stream);
        return (void *)1;
    }
    printf("Starting to consume stream...\n");
    int item;
    while (rill_next(stream, &item) == 0) {
        printf("Received: %d\n", item);
        fflush(stdout);
        rill_sleep(RILL_MS(100)); /* simulated processing */
    }
    printf("Stream finished, all items consumed or channel closed.\n");
    rill_stream_free(stream);
    CHECK(rill_join(p, NULL));
    return NULL;
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
