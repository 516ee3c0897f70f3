/* SPDX-License-Identifier: MIT */
/*
 * oneshot_watch_broadcast.c - seed example 6: the other channel kinds as
 * streams.
 *
 * - oneshot: request/response. A worker task serves requests from an mpsc
 *   stream; each request carries the oneshot sender for its reply.
 * - watch: configuration updates. A watcher sees the current config, then
 *   each change (changes it was too slow to see separately coalesce).
 * - broadcast: an event bus. Every subscriber sees every event; one that
 *   falls more than the capacity behind gets an error item RILL_ELAGGED
 *   with the number it missed, then goes on.
 */
#include "check.h"
#include <rill.h>
#include <stdio.h>

/* ---- oneshot: request / response ---- */

typedef struct request {
    int x;
    rill_oneshot_sender_t *reply;
} request_t;

static int serve(void *ud, int status, void *item)
{
    (void)ud;
    if (status < 0)
        return 0;
    request_t *req = item;
    int y = req->x * 2;
    CHECK(rill_oneshot_send(req->reply, &y)); /* never waits */
    rill_oneshot_sender_release(req->reply);
    return 0;
}

static void *worker(void *arg)
{
    return (void *)(intptr_t)rill_stream_for_each(arg, serve, NULL);
}

static int ask(rill_sender_t *requests, int x)
{
    rill_oneshot_sender_t *tx;
    rill_oneshot_receiver_t *rx;
    rill_stream_t *reply;
    int y = -1;
    if (rill_oneshot_new(&tx, &rx, sizeof(int), NULL))
        return -1;
    request_t req = {x, tx};
    if (rill_send(requests, &req) != 0) {
        rill_oneshot_sender_release(tx);
        rill_oneshot_receiver_release(rx);
        return -1;
    }
    /* The reply as a one-item stream. */
    if (rill_oneshot_into_stream(rx, sizeof(int), &reply) == 0) {
        CHECK(rill_next(reply, &y));
        rill_stream_free(reply);
    }
    return y;
}

static int oneshot_demo(void)
{
    rill_sender_t *tx;
    rill_receiver_t *rx;
    rill_stream_t *s;
    rill_task_t *w;
    if (rill_channel_new(&tx, &rx, sizeof(request_t), 8, NULL) ||
        rill_receiver_into_stream(rx, &s) || rill_spawn(&w, worker, s, NULL))
        return 1;
    for (int x = 20; x <= 22; x++)
        printf("request %d -> response %d\n", x, ask(tx, x));
    rill_sender_release(tx); /* the worker's stream ends */
    return rill_join(w, NULL);
}

/* ---- watch: configuration updates ---- */

typedef struct config {
    int level;
    int version;
} config_t;

static void *config_watcher(void *arg)
{
    rill_stream_t *s = arg;
    config_t c;
    while (rill_next(s, &c) == 0)
        printf("watcher: config v%d, log level %d\n", c.version, c.level);
    printf("watcher: configuration source gone\n");
    rill_stream_free(s);
    return NULL;
}

static int watch_demo(void)
{
    config_t cfg = {1, 1};
    rill_watch_sender_t *tx;
    rill_watch_receiver_t *rx;
    rill_stream_t *s;
    rill_task_t *w;
    if (rill_watch_new(&tx, &rx, sizeof cfg, &cfg, NULL) ||
        rill_watch_into_stream(rx, sizeof cfg, &s) ||
        rill_spawn(&w, config_watcher, s, NULL))
        return 1;
    rill_sleep(RILL_MS(20));
    cfg = (config_t){2, 2};
    CHECK(rill_watch_send(tx, &cfg));
    rill_sleep(RILL_MS(20));
    cfg = (config_t){3, 3}; /* two quick updates: the watcher may see */
    CHECK(rill_watch_send(tx, &cfg));
    cfg = (config_t){5, 4}; /* only the last */
    CHECK(rill_watch_send(tx, &cfg));
    rill_sleep(RILL_MS(20));
    rill_watch_sender_release(tx);
    return rill_join(w, NULL);
}

/* ---- broadcast: an event bus ---- */

typedef struct event {
    int id;
} event_t;

typedef struct subscriber {
    const char *name;
    rill_stream_t *events;
    rill_stream_t *bs; /* the broadcast stream itself, for the lag count */
    rill_duration_t work;
    int seen;
} subscriber_t;

static void *subscribe_task(void *arg)
{
    subscriber_t *sub = arg;
    event_t e;
    int r;
    while ((r = rill_next(sub->events, &e)) != RILL_DONE) {
        if (r == RILL_ELAGGED) {
            printf("%s: lagged, missed %llu events\n", sub->name,
                   (unsigned long long)rill_broadcast_stream_missed(sub->bs));
            continue;
        }
        sub->seen++;
        rill_sleep(sub->work);
    }
    printf("%s: saw %d events\n", sub->name, sub->seen);
    rill_stream_free(sub->events);
    return NULL;
}

static int broadcast_demo(void)
{
    rill_broadcast_sender_t *tx;
    rill_broadcast_receiver_t *rx_fast, *rx_slow;
    subscriber_t subs[2] = {{"fast subscriber", NULL, NULL, 0, 0},
                            {"slow subscriber", NULL, NULL, RILL_MS(5), 0}};
    if (rill_broadcast_new(&tx, &rx_fast, sizeof(event_t), 16,
                           RILL_BROADCAST_LAG, NULL) ||
        rill_broadcast_subscribe(tx, &rx_slow) ||
        rill_broadcast_into_stream(rx_fast, sizeof(event_t), &subs[0].events) ||
        rill_broadcast_into_stream(rx_slow, sizeof(event_t), &subs[1].events))
        return 1;
    subs[0].bs = subs[0].events;
    subs[1].bs = subs[1].events;
    rill_task_t *t[2];
    for (int i = 0; i < 2; i++)
        if (rill_spawn(&t[i], subscribe_task, &subs[i], NULL))
            return 1;
    /* 100 events in bursts of 10 every 10 ms: the fast subscriber keeps
     * up, the slow one (5 ms per event) falls behind. */
    for (int i = 0; i < 100; i++) {
        event_t e = {i};
        CHECK(rill_broadcast_send(tx, &e)); /* lag mode: never waits */
        if (i % 10 == 9)
            rill_sleep(RILL_MS(10));
    }
    rill_broadcast_sender_release(tx);
    for (int i = 0; i < 2; i++)
        CHECK(rill_join(t[i], NULL));
    return 0;
}

static void *main_task(void *arg)
{
    (void)arg;
    printf("-- oneshot: request/response --\n");
    int r = oneshot_demo();
    printf("-- watch: configuration updates --\n");
    r |= watch_demo();
    printf("-- broadcast: event bus --\n");
    r |= broadcast_demo();
    return r ? (void *)1 : NULL;
}

int main(void)
{
    /* The virtual clock: time moves only when every task waits, so the
     * fast subscriber always keeps up and the slow one (5 ms of virtual
     * time per event) always falls behind, however busy the machine (or
     * slow an emulator) is: the output is the same every run. */
    rill_runtime_config_t cfg;
    rill_runtime_config_init(&cfg);
    cfg.virtual_clock = true;
    rill_runtime_t *rt;
    void *failed = NULL;
    if (rill_runtime_new(&rt, &cfg) != 0)
        return 1;
    int rc = rill_block_on(rt, main_task, NULL, &failed);
    rill_runtime_free(rt);
    return rc == 0 && !failed ? 0 : 1;
}
