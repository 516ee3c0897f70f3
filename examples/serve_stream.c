/* SPDX-License-Identifier: MIT */
/*
 * serve_stream.c - a rill stream served to every browser that connects,
 * as Server-Sent Events or over WebSocket (the README's example): a hub
 * encodes each event once per protocol and gives every client a reference
 * to the same bytes; a slow client drops its oldest events (and is told
 * how many), so it never holds the others back or eats memory; a client
 * that comes back with Last-Event-ID gets what it missed.
 *
 * Here the stream is a tick every 100 ms turned into {"tick":n} events;
 * three clients in the same program check what they get: an EventSource
 * (raw HTTP), a WebSocket, and an EventSource resuming after id 1.
 */
#include "check.h"
#include <rill.h>
#include <stdio.h>
#include <string.h>

/* ---- the README's example ---- */

static int tick_event(void *count, void *tick, void *out) /* tick -> event */
{
    (void)tick;
    char id[24], data[40];
    long n = ++*(long *)count;
    snprintf(id, sizeof id, "%ld", n);
    snprintf(data, sizeof data, "{\"tick\":%ld}", n);
    rill_sse_event_t *ev = memset(out, 0, sizeof(rill_sse_event_t));
    if (rill_bytes_new(&ev->id, id, strlen(id)) == 0 &&
        rill_bytes_new(&ev->data, data, strlen(data)) == 0)
        return 0;
    rill_sse_event_destroy(ev);
    return RILL_ENOMEM;
}

static void *publish(void *hub) /* any stream of rill_sse_event_t will do */
{
    rill_stream_t *events;
    long n = 0;
    if (rill_stream_interval(&events, RILL_MS(100), RILL_TICK_SKIP) != 0)
        return NULL;
    if (rill_stream_map(&events, tick_event, &n, sizeof(rill_sse_event_t))) {
        rill_stream_free(events);
        return NULL;
    }
    rill_stream_set_item_dtor(events, rill_sse_event_item_dtor, NULL);
    return rill_hub_forward(hub, events) == 0 ? hub : NULL; /* until it ends */
}

static int serve(rill_hub_t **hub, rill_http_server_t **srv, const char *addr,
                 rill_task_t **publisher)
{
    int rc;
    if ((rc = rill_hub_new(hub, NULL)) != 0) /* slow clients: DROP_OLDEST */
        return rc;
    if ((rc = rill_http_server_new(srv, addr, NULL)) == 0 &&
        (rc = rill_http_route(*srv, RILL_HTTP_GET, "/events", rill_hub_handler,
                              *hub)) == 0 && /* SSE and WebSocket */
        (rc = rill_spawn(publisher, publish, *hub, NULL)) == 0)
        return 0; /* now rill_http_server_run(*srv) */
    rill_http_server_free(*srv);
    rill_hub_free(*hub);
    return rc;
}

static void *run_server(void *srv)
{
    return rill_http_server_run(srv) == 0 ? NULL : srv;
}

/* ---- the clients that check it ---- */

/* Read from c until buf holds at least `need` bytes. */
static bool fill(rill_io_t *c, char *buf, size_t cap, size_t *len, size_t need)
{
    size_t n;
    while (*len < need)
        if (need >= cap || rill_io_read(c, buf + *len, cap - 1 - *len, &n))
            return false;
        else
            buf[ *len += n] = '\0';
    return true;
}

typedef struct client {
    const char *addr;
    bool websocket;
    long last_id;        /* > 0: resume after it (Last-Event-ID) */
    long id[3], tick[3]; /* what the first three events said */
} client_t;

static void *client(void *arg)
{
    client_t *cl = arg;
    rill_io_t *c;
    if (rill_connect(&c, cl->addr, NULL) != 0)
        return NULL;
    char buf[8192] = "", *p = NULL;
    size_t len = 0;
    int n = snprintf(buf, sizeof buf, "GET /events HTTP/1.1\r\nHost: x\r\n");
    if (cl->websocket) /* the RFC's sample key */
        n += snprintf(buf + n, sizeof buf - (size_t)n,
                      "Connection: upgrade\r\nUpgrade: websocket\r\n"
                      "Sec-WebSocket-Version: 13\r\n"
                      "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n");
    if (cl->last_id)
        n += snprintf(buf + n, sizeof buf - (size_t)n, "Last-Event-ID: %ld\r\n",
                      cl->last_id);
    n += snprintf(buf + n, sizeof buf - (size_t)n, "\r\n");
    if (rill_io_write_all(c, buf, (size_t)n, NULL) == 0)
        for (buf[0] = '\0'; !(p = strstr(buf, "\r\n\r\n"));)
            if (!fill(c, buf, sizeof buf, &len, len + 1))
                break;
    for (int i = 0; p && i < 3; i++) {
        p += i ? 0 : 4; /* past the response head */
        size_t at = (size_t)(p - buf);
        if (cl->websocket) { /* a text frame of < 126 bytes: 0x81, length */
            if (!fill(c, buf, sizeof buf, &len, at + 2) ||
                !fill(c, buf, sizeof buf, &len, at + 2 + (uint8_t)p[1]) ||
                sscanf(p + 2, "{\"tick\":%ld}", &cl->tick[i]) != 1)
                break;
            p += 2 + (uint8_t)p[1];
        } else { /* id: N\ndata: {"tick":N}\n\n */
            char *end;
            while (!(end = strstr(p, "\n\n")))
                if (!fill(c, buf, sizeof buf, &len, len + 1))
                    goto out;
            if (sscanf(p, "id: %ld\ndata: {\"tick\":%ld}", &cl->id[i],
                       &cl->tick[i]) != 2)
                break;
            p = end + 2;
        }
    }
out:
    rill_io_free(c);
    return NULL;
}

/* What a client got: three events in order, each with its own tick. */
static void report(const char *who, const client_t *cl, long first)
{
    bool ok = cl->tick[0] > 0 && (!first || cl->tick[0] == first);
    for (int i = 0; i < 3; i++)
        ok = ok && cl->tick[i] == cl->tick[0] + i &&
             (cl->websocket || cl->id[i] == cl->tick[i]);
    printf("%s: %s (ticks %ld-%ld)\n", who, ok ? "3 events in order" : "WRONG",
           cl->tick[0], cl->tick[2]);
}

static void *main_task(void *unused)
{
    (void)unused;
    rill_hub_t *hub;
    rill_http_server_t *srv;
    rill_task_t *publisher, *server, *task[2];
    CHECK(serve(&hub, &srv, "127.0.0.1:0", &publisher));
    char addr[32];
    snprintf(addr, sizeof addr, "127.0.0.1:%d", rill_http_server_port(srv));
    printf("serving on %s\n", addr);
    CHECK(rill_spawn(&server, run_server, srv, NULL));
    client_t sse = {addr, false, 0, {0}, {0}}, ws = {addr, true, 0, {0}, {0}};
    CHECK(rill_spawn(&task[0], client, &sse, NULL));
    CHECK(rill_spawn(&task[1], client, &ws, NULL));
    for (int i = 0; i < 2; i++)
        CHECK(rill_join(task[i], NULL));
    report("sse", &sse, 0);
    report("websocket", &ws, 0);
    /* Back after the first event it saw: the ring still holds the rest. */
    client_t again = {addr, false, sse.id[0], {0}, {0}};
    CHECK(rill_spawn(&task[0], client, &again, NULL));
    CHECK(rill_join(task[0], NULL));
    report("sse with Last-Event-ID", &again, sse.id[0] + 1);
    rill_http_server_shutdown(srv);
    CHECK(rill_join(server, NULL));
    rill_hub_close(hub); /* the ticks never end: stop the publisher */
    CHECK(rill_join(publisher, NULL));
    rill_http_server_free(srv);
    rill_hub_free(hub);
    printf("server closed\n");
    return NULL;
}

int main(void)
{
    CHECK(rill_run(main_task, NULL, NULL, NULL));
}
