/* SPDX-License-Identifier: MIT */
/*
 * try_for_each.c - seed example 5: try_for_each stopping at an error item.
 *
 * tokio: items 0..5, then -1, then 6..10 through a channel; .map() turns
 * -1 into Err("Negative item encountered!") and doubles the rest;
 * .try_for_each() processes items until the first Err and returns it.
 *
 * In rill an error item is a negative status in the item's place; map's
 * function returns one, and try_for_each stops there and returns it.
 */
#include "check.h"
#include <rill.h>
#include <stdio.h>

/* Our own error code, named for the messages below. */
enum { ERR_NEGATIVE = RILL_EUSER - 1 };

static void *producer(void *arg)
{
    rill_sender_t *tx = arg;
    for (int i = 0; i < 10; i++) {
        int v = i == 5 ? -1 : i; /* introduce an "error" */
        if (rill_send(tx, &v) != 0)
            break; /* the consumer stopped: the channel is closed */
    }
    rill_sender_release(tx);
    return NULL;
}

static int double_or_fail(void *ud, void *in, void *out)
{
    (void)ud;
    int v = *(int *)in;
    if (v == -1)
        return ERR_NEGATIVE;
    *(int *)out = v * 2;
    return 0;
}

static int process(void *ud, int status, void *item)
{
    (void)ud;
    (void)status; /* try_for_each only hands over items */
    printf("Processed item: %d\n", *(int *)item);
    rill_sleep(RILL_MS(50));
    return 0;
}

static void *main_task(void *arg)
{
    (void)arg;
    rill_sender_t *tx;
    rill_receiver_t *rx;
    rill_stream_t *s;
    rill_task_t *p;
    if (rill_channel_new(&tx, &rx, sizeof(int), 10, NULL) ||
        rill_receiver_into_stream(rx, &s) ||
        rill_stream_map(&s, double_or_fail, NULL, sizeof(int)) ||
        rill_spawn(&p, producer, tx, NULL))
        return (void *)1;
    int r = rill_stream_try_for_each(s, process, NULL);
    CHECK(rill_join(p, NULL));
    if (r == ERR_NEGATIVE)
        printf("Stream processing stopped by an error item: "
               "Negative item encountered!\n");
    else
        printf("Stream processing finished successfully.\n");
    return r == ERR_NEGATIVE ? NULL : (void *)1;
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
