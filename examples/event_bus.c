/* SPDX-License-Identifier: MIT */
/*
 * event_bus.c - the seed's three patterns in tasks:
 *   - request / response: each request carries a oneshot for its answer;
 *   - configuration updates: a watch channel, seen by every worker;
 *   - an event bus: a broadcast channel (backpressure: nobody misses one).
 */
#include "check.h"
#include <rill.h>
#include <stdint.h>
#include <stdio.h>

typedef struct {
    int x;
    rill_oneshot_sender_t *reply; /* the server answers here */
} request_t;

typedef struct {
    int scale; /* the configuration: multiply answers by this */
} config_t;

typedef struct {
    rill_receiver_t *requests;
    rill_watch_receiver_t *config;
    rill_broadcast_sender_t *events;
} server_t;

/* Answers requests with x * scale, announcing each answer on the bus. */
static void *server(void *arg)
{
    server_t *s = arg;
    request_t req;
    config_t cfg;
    while (rill_recv(s->requests, &req) == 0) {
        rill_watch_get(s->config, &cfg); /* the latest configuration */
        long y = (long)req.x * cfg.scale;
        CHECK(rill_oneshot_send(req.reply, &y));
        rill_oneshot_sender_release(req.reply);
        CHECK(rill_broadcast_send(s->events, &y));
    }
    rill_receiver_release(s->requests);
    rill_watch_receiver_release(s->config);
    rill_broadcast_sender_release(s->events); /* ends the subscribers */
    return NULL;
}

/* Sums every event until the bus ends. */
static void *subscriber(void *arg)
{
    rill_broadcast_receiver_t *rx = arg;
    long v, sum = 0;
    while (rill_broadcast_recv(rx, &v, NULL) == 0)
        sum += v;
    rill_broadcast_receiver_release(rx);
    return (void *)(intptr_t)sum;
}

static long ask(rill_sender_t *requests, int x)
{
    rill_oneshot_sender_t *tx;
    rill_oneshot_receiver_t *rx;
    long y = -1;
    CHECK(rill_oneshot_new(&tx, &rx, sizeof y, NULL));
    request_t req = {x, tx};
    if (rill_send(requests, &req) != 0)
        rill_oneshot_sender_release(tx);
    if (rill_oneshot_recv(rx, &y) != 0)
        y = -1; /* RILL_DONE: nobody answered */
    rill_oneshot_receiver_release(rx);
    return y;
}

static void *main_task(void *arg)
{
    (void)arg;
    rill_sender_t *requests;
    server_t s;
    config_t cfg = {10};
    rill_watch_sender_t *config;
    rill_broadcast_receiver_t *sub[2];
    rill_task_t *srv, *t[2];
    CHECK(
        rill_channel_new(&requests, &s.requests, sizeof(request_t), 16, NULL));
    CHECK(rill_watch_new(&config, &s.config, sizeof cfg, &cfg, NULL));
    CHECK(rill_broadcast_new(&s.events, &sub[0], sizeof(long), 64,
                             RILL_BROADCAST_BACKPRESSURE, NULL));
    CHECK(rill_broadcast_subscribe(s.events, &sub[1]));
    for (int i = 0; i < 2; i++)
        CHECK(rill_spawn(&t[i], subscriber, sub[i], NULL));
    CHECK(rill_spawn(&srv, server, &s, NULL));

    printf("ask 4 -> %ld\n", ask(requests, 4));
    cfg.scale = 100;
    CHECK(rill_watch_send(config, &cfg)); /* the server sees it next time */
    printf("ask 4 -> %ld\n", ask(requests, 4));
    printf("ask 5 -> %ld\n", ask(requests, 5));

    rill_sender_release(requests); /* the server ends, then the bus */
    rill_watch_sender_release(config);
    CHECK(rill_join(srv, NULL));
    for (int i = 0; i < 2; i++) {
        void *sum;
        CHECK(rill_join(t[i], &sum));
        printf("subscriber %d saw events summing to %ld\n", i,
               (long)(intptr_t)sum);
    }
    return NULL;
}

int main(void)
{
    rill_runtime_t *rt;
    if (rill_runtime_new(&rt, NULL) != 0)
        return 1;
    int rc = rill_block_on(rt, main_task, NULL, NULL);
    rill_runtime_free(rt);
    return rc == 0 ? 0 : 1;
}
