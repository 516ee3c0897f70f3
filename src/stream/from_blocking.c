/* SPDX-License-Identifier: MIT */
/*
 * from_blocking.c - rill_stream_from_blocking: a blocking producer on the
 * runtime's blocking pool feeding a bounded channel, drained as a stream
 * (the seed's spawn_blocking + blocking_send bridge, for foreign blocking
 * sources). The stream is the channel's receiver stream; the job owns the
 * sender and releases it when fn returns, which ends the stream. Dropping
 * the stream releases the receiver, so fn's next send fails with
 * RILL_ECLOSED: its cue to stop.
 */
#include "stream_int.h"

typedef struct blocking_job {
    rill_blocking_fn fn;
    void *ud;
    rill_sender_t *tx;
} blocking_job_t;

static void *blocking_main(void *arg)
{
    blocking_job_t *job = arg;
    job->fn(job->ud, job->tx);
    rill_sender_release(job->tx);
    rill__free(job);
    return NULL;
}

int rill_stream_from_blocking(rill_stream_t **out, size_t item_size,
                              size_t capacity, rill_blocking_fn fn, void *ud)
{
    if (!out || !fn || item_size == 0 || capacity == 0)
        return RILL_MISUSE("rill_stream_from_blocking",
                           "NULL out or fn, item_size 0 or capacity 0");
    rill_runtime_t *rt = rill_runtime_current();
    if (!rt)
        return RILL_MISUSE("rill_stream_from_blocking",
                           "needs a runtime: call it from a task");
    blocking_job_t *job = rill__malloc(sizeof *job);
    rill_receiver_t *rx = NULL;
    rill_stream_t *s = NULL;
    rill_task_t *task;
    int r = RILL_ENOMEM;
    if (!job)
        return r;
    *job = (blocking_job_t){fn, ud, NULL};
    if ((r = rill_channel_new(&job->tx, &rx, item_size, capacity, NULL)))
        goto free_job;
    if ((r = rill_receiver_into_stream(rx, &s)))
        goto release_channel;
    if ((r = rill_spawn_blocking(&task, blocking_main, job,
                                 &(rill_spawn_config_t){.runtime = rt})))
        goto free_stream;
    rill_task_detach(task);
    *out = s;
    return 0;
free_stream:
    rill_stream_free(s); /* releases rx */
    rx = NULL;
release_channel:
    rill_receiver_release(rx);
    rill_sender_release(job->tx);
free_job:
    rill__free(job);
    return r;
}
