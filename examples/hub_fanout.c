/* SPDX-License-Identifier: MIT */
/*
 * hub_fanout.c - one stream of events to many web clients through a hub:
 * an SSE client and a WebSocket client that keep up (lossless, BLOCK),
 * and a client that stops reading (DROP_OLDEST, the hub's policy): its
 * queue stays within its 16 KiB budget while it is away, and when it
 * reads again it is told exactly how many events it missed. The counters
 * come from the /stats route, as a browser's page would get them.
 *
 * The server side is the first 20 lines of main_task; the rest plays the
 * clients, which would normally be browsers (EventSource, WebSocket).
 */
#include "check.h"
#include <netinet/in.h>
#include <rill.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

enum { EVENTS = 20000, SIZE = 512 }; /* 10 MB: more than sockets hold */

/* /events?lossless: this client's policy is BLOCK (the publisher waits
 * for it); any other client gets the hub's (DROP_OLDEST). */
static int events(void *hub, rill_http_conn_t *c,
                  const rill_http_request_t *req)
{
    rill_hub_client_config_t cc = {0};
    if (req->query.len == 8 && memcmp(req->query.ptr, "lossless", 8) == 0)
        cc.policy = RILL_HUB_BLOCK;
    int rc = rill_hub_serve(hub, c, req, &cc); /* until it ends */
    (void)rc; /* why it ended: gone, kicked, the hub closed */
    return -1;
}

/* The source: EVENTS numbered events into a channel, then its end. */
static void *source(void *tx)
{
    for (int i = 1; i <= EVENTS; i++) {
        char id[16], data[SIZE];
        int n = snprintf(id, sizeof id, "%d", i);
        int d = snprintf(data, sizeof data, "ev %d ", i);
        memset(data + d, '.', sizeof data - (size_t)d);
        rill_sse_event_t ev = {0};
        CHECK(rill_bytes_new(&ev.id, id, (size_t)n));
        CHECK(rill_bytes_new(&ev.data, data, sizeof data));
        CHECK(rill_send(tx, &ev)); /* the channel owns ev now */
    }
    rill_sender_release(tx); /* the stream ends */
    return NULL;
}

/* ---- the clients (a browser's part) ---- */

typedef struct client {
    const char *name;
    rill_io_t *io;
    bool ws;
    long events, missed, last;
    bool in_order;
} client_t;

static rill_io_t *dial(int port, int rcvbuf)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (rcvbuf) /* before connecting: the window is small from the start */
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
    struct sockaddr_in a = {.sin_family = AF_INET,
                            .sin_port = htons((uint16_t)port),
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
        perror("connect");
        exit(1);
    }
    rill_io_t *io;
    CHECK(rill_io_new(&io, fd, NULL));
    return io;
}

static void open_client(client_t *c, int port, const char *path, bool ws,
                        int rcvbuf)
{
    char req[512];
    int n =
        snprintf(req, sizeof req, "GET %s HTTP/1.1\r\nHost: x\r\n%s\r\n", path,
                 ws ? "Upgrade: websocket\r\nConnection: Upgrade\r\n"
                      "Sec-WebSocket-Version: 13\r\n"
                      "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                    : "");
    *c = (client_t){.io = dial(port, rcvbuf), .ws = ws, .in_order = true};
    CHECK(rill_io_write_all(c->io, req, (size_t)n, NULL));
}

/* One event's text (SSE data, or a WebSocket message): "ev N ..." or a
 * rill-gap notice {"missed":N} / {"type":"rill-gap","missed":N}. */
static void saw(client_t *c, const char *p, size_t n)
{
    const char *m = memmem(p, n, "\"missed\":", 9);
    if (m) {
        long k = strtol(m + 9, NULL, 10);
        c->missed += k;
        c->last += k;
    } else if (n > 3 && memcmp(p, "ev ", 3) == 0) {
        long no = strtol(p + 3, NULL, 10);
        c->in_order = c->in_order && no == c->last + 1;
        c->last = no;
        c->events++;
    }
}

/* Read until the server ends the stream; count events and gaps. */
static void *read_all(void *arg)
{
    client_t *c = arg;
    size_t cap = 1 << 16, len = 0, n;
    char *buf = malloc(cap);
    bool head = true;
    while (buf && rill_io_read(c->io, buf + len, cap - len, &n) == 0) {
        len += n;
        size_t off = 0;
        if (head) { /* the HTTP response head */
            char *e = memmem(buf, len, "\r\n\r\n", 4);
            if (!e)
                continue;
            off = (size_t)(e - buf) + 4;
            head = false;
        }
        for (;;) {
            char *p = buf + off;
            size_t left = len - off;
            if (!c->ws) { /* SSE: events end with an empty line */
                char *e = memmem(p, left, "\n\n", 2), *d;
                if (!e)
                    break;
                if ((d = memmem(p, (size_t)(e - p), "data: ", 6)))
                    saw(c, d + 6, (size_t)(e - d - 6));
                off += (size_t)(e - p) + 2;
                continue;
            }
            if (left < 2) /* WebSocket: unmasked server frames */
                break;
            unsigned char *u = (unsigned char *)p;
            size_t h = 2, fl = u[1] & 0x7f;
            if (fl == 126) { /* 16-bit length (no event here needs 64) */
                if (left < 4)
                    break;
                fl = (size_t)u[2] << 8 | u[3];
                h = 4;
            }
            if (left < h + fl)
                break;
            if ((u[0] & 0x0f) == 1)
                saw(c, p + h, fl);
            off += h + fl;
        }
        memmove(buf, buf + off, len - off);
        len -= off;
    }
    free(buf);
    return NULL;
}

static void *serve(void *srv)
{
    CHECK(rill_http_server_run(srv)); /* until the shutdown */
    return NULL;
}

static void *main_task(void *unused)
{
    (void)unused;
    rill_hub_t *hub;
    rill_hub_config_t hc = {
        .name = "ticks", .policy = RILL_HUB_DROP_OLDEST, .budget = 16 * 1024};
    CHECK(rill_hub_new(&hub, &hc));
    rill_http_server_t *srv;
    CHECK(rill_http_server_new(&srv, "127.0.0.1:0", NULL));
    CHECK(rill_http_route(srv, RILL_HTTP_GET, "/events", events, hub));
    CHECK(rill_http_route(srv, RILL_HTTP_GET, "/stats", rill_hub_stats_handler,
                          hub));
    int port = rill_http_server_port(srv);
    printf("hub 'ticks' on http://127.0.0.1:%d/events\n", port);
    rill_task_t *server;
    CHECK(rill_spawn(&server, serve, srv, NULL));

    /* Two clients that keep up, one that will stop reading (2 KiB
     * receive buffer, not read until the end). */
    client_t sse, ws, slow;
    open_client(&sse, port, "/events?lossless", false, 0);
    open_client(&ws, port, "/events?lossless", true, 0);
    open_client(&slow, port, "/events", false, 2048);
    rill_hub_stats_t st;
    do /* until all three are in */
        CHECK(rill_sleep(RILL_MS(1)));
    while (rill_hub_stats(hub, &st) == 0 && st.clients < 3);
    rill_task_t *readers[2];
    CHECK(rill_spawn(&readers[0], read_all, &sse, NULL));
    CHECK(rill_spawn(&readers[1], read_all, &ws, NULL));

    /* The source: a channel's stream, forwarded into the hub; its end
     * closes the hub (the clients then get their last events and end). */
    rill_sender_t *tx;
    rill_receiver_t *rx;
    rill_stream_t *stream;
    rill_channel_config_t cc = {"ticks", rill_sse_event_item_dtor, NULL};
    CHECK(rill_channel_new(&tx, &rx, sizeof(rill_sse_event_t), 64, &cc));
    CHECK(rill_receiver_into_stream(rx, &stream));
    rill_task_t *producer;
    CHECK(rill_spawn(&producer, source, tx, NULL));
    /* Before the end, the slow client's numbers from the hub: */
    CHECK(rill_hub_forward(hub, stream));
    rill_hub_client_stats_t cs[3];
    size_t n;
    CHECK(rill_hub_clients(hub, cs, 3, &n));
    for (size_t i = 0; i < n; i++)
        if (cs[i].policy == RILL_HUB_DROP_OLDEST)
            printf("slow client: %s, queued at most %llu of %zu bytes, "
                   "dropped %s\n",
                   cs[i].dropped ? "behind" : "not behind",
                   (unsigned long long)cs[i].bytes_queued_max, cs[i].budget,
                   cs[i].dropped ? "the oldest events" : "nothing");
    CHECK(rill_join(producer, NULL));
    for (int i = 0; i < 2; i++)
        CHECK(rill_join(readers[i], NULL));
    read_all(&slow); /* it reads at last */

    client_t *all[] = {&sse, &ws, &slow};
    const char *names[] = {"sse", "websocket", "slow"};
    for (int i = 0; i < 3; i++) {
        printf("%s client: %ld events%s, %s, missed %ld (told in-band); "
               "%ld of %d accounted for\n",
               names[i], all[i]->events,
               all[i]->events == EVENTS ? " (all)" : "",
               all[i]->in_order ? "in order" : "OUT OF ORDER", all[i]->missed,
               all[i]->events + all[i]->missed, EVENTS);
        rill_io_free(all[i]->io);
    }

    /* The counters, as the /stats route gives them to a page. */
    rill_io_t *io = dial(port, 0);
    static const char get[] = "GET /stats HTTP/1.1\r\nHost: x\r\n"
                              "Connection: close\r\n\r\n";
    CHECK(rill_io_write_all(io, get, sizeof get - 1, NULL));
    char body[2048];
    size_t len = 0;
    while (len < sizeof body - 1 &&
           rill_io_read(io, body + len, sizeof body - 1 - len, &n) == 0)
        len += n;
    body[len] = '\0';
    char *json = strstr(body, "\r\n\r\n");
    printf("/stats: %s", json ? json + 4 : "(none)\n");
    rill_io_free(io);

    rill_http_server_shutdown(srv);
    CHECK(rill_join(server, NULL));
    rill_http_server_free(srv);
    rill_hub_free(hub);
    return NULL;
}

int main(void)
{
    CHECK(rill_run(main_task, NULL, NULL, NULL));
}
