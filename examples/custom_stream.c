/* SPDX-License-Identifier: MIT */
/*
 * custom_stream.c - writing your own stream over your own event source
 * (what tokio-stream's ReceiverStream is for a channel).
 *
 * The event source here is a "device driver" that calls us back from its
 * own thread, as foreign libraries do. We adapt it to a rill stream: the
 * callback queues the event and wakes whoever waits; poll_next takes an
 * event or registers the waker and says PENDING. The rest of the program
 * treats it like any stream: map, filter, for_each.
 *
 * The one rule of polling: return RILL_PENDING only after storing the
 * waker where the event source will find it - under the same lock the
 * source takes, so no event slips in between.
 */
#include <pthread.h>
#include <rill.h>
#include <stdio.h>
#include <stdlib.h>

enum { QUEUE_CAP = 64 };

typedef struct event_stream {
    rill_stream_t base;   /* first: the stream head */
    pthread_mutex_t mu;   /* guards everything below */
    pthread_cond_t space; /* the source waits here when the queue is full */
    int queue[QUEUE_CAP]; /* events not yet taken */
    size_t head, len;
    bool closed;        /* the source will send no more */
    rill_waker_t waker; /* the consumer to wake, if it waits */
} event_stream_t;

/* Called by the event source, on its own thread. */
static void event_push(event_stream_t *es, int ev)
{
    pthread_mutex_lock(&es->mu);
    while (es->len == QUEUE_CAP) /* a full queue holds the source back */
        pthread_cond_wait(&es->space, &es->mu);
    es->queue[(es->head + es->len++) % QUEUE_CAP] = ev;
    rill_waker_t w = es->waker; /* take it out under the lock, */
    es->waker = RILL_WAKER_NONE;
    pthread_mutex_unlock(&es->mu);
    rill_waker_wake(&w); /* wake it outside */
}

static void event_close(event_stream_t *es)
{
    pthread_mutex_lock(&es->mu);
    es->closed = true;
    rill_waker_t w = es->waker;
    es->waker = RILL_WAKER_NONE;
    pthread_mutex_unlock(&es->mu);
    rill_waker_wake(&w);
}

static int es_poll_next(rill_stream_t *s, rill_cx_t *cx, void *out)
{
    event_stream_t *es = (event_stream_t *)s;
    int r = RILL_PENDING;
    pthread_mutex_lock(&es->mu);
    if (es->len > 0) {
        *(int *)out = es->queue[es->head];
        es->head = (es->head + 1) % QUEUE_CAP;
        es->len--;
        pthread_cond_signal(&es->space);
        r = 0;
    } else if (es->closed) {
        r = RILL_DONE;
    } else {
        rill_waker_set(&es->waker, cx->waker); /* register, then PENDING */
    }
    pthread_mutex_unlock(&es->mu);
    return r;
}

static void es_drop(rill_stream_t *s)
{
    event_stream_t *es = (event_stream_t *)s;
    rill_waker_release(&es->waker);
    pthread_cond_destroy(&es->space);
    pthread_mutex_destroy(&es->mu);
    free(es);
}

/* What a task dump (rill_runtime_dump) says of a task waiting for this
 * stream. It runs on the dumping thread, so it reads only what never
 * changes. */
static int es_describe(const rill_stream_t *s, char *buf, size_t len)
{
    (void)s;
    return snprintf(buf, len, "device events (queue of %d)", QUEUE_CAP);
}

static const rill_stream_vtable_t es_vtable = {
    .poll_next = es_poll_next, .drop = es_drop, .describe = es_describe};

/* ---- the "device driver": 20 readings from its own thread ---- */

static void *device_thread(void *arg)
{
    event_stream_t *es = arg;
    for (int i = 1; i <= 20; i++)
        event_push(es, i * 7 % 23); /* a reading */
    event_close(es);
    return NULL;
}

/* ---- using it as a stream ---- */

static int to_celsius(void *ud, void *in, void *out)
{
    (void)ud;
    *(double *)out = *(int *)in * 1.5 - 5.0;
    return 0;
}

static bool warm(void *ud, const void *item)
{
    return *(const double *)item >= *(const double *)ud;
}

static int print_reading(void *ud, int status, void *item)
{
    int *count = ud;
    if (status == 0)
        printf("warm reading %d: %.1f C\n", ++*count, *(double *)item);
    return 0;
}

int main(void)
{
    event_stream_t *es = calloc(1, sizeof *es);
    if (!es)
        return 1;
    pthread_mutex_init(&es->mu, NULL);
    pthread_cond_init(&es->space, NULL);
    rill_stream_init(&es->base, &es_vtable, sizeof(int));

    rill_stream_t *s = &es->base;
    double threshold = 20.0;
    int r, count = 0;
    if ((r = rill_stream_map(&s, to_celsius, NULL, sizeof(double))) ||
        (r = rill_stream_filter(&s, warm, &threshold))) {
        fprintf(stderr, "pipeline: %s\n", rill_strerror(r));
        rill_stream_free(s); /* whatever was built, our stream included */
        return 1;
    }
    /* Start the source only once its consumer exists. */
    pthread_t dev;
    pthread_create(&dev, NULL, device_thread, es);
    /* for_each consumes the pipeline, our stream included. */
    r = rill_stream_for_each(s, print_reading, &count);
    pthread_join(dev, NULL);
    printf("device stream ended: %s, %d warm readings\n", rill_strerror(r),
           count);
    return r == 0 ? 0 : 1;
}
