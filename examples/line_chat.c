/* SPDX-License-Identifier: MIT */
/* line_chat.c - every client's lines go to every client (a broadcast). */
#include "check.h" /* <rill.h>, and CHECK(call): exit on a failed call */
#include <stdio.h>
#include <string.h>

static rill_broadcast_sender_t *chat; /* lines of 120 bytes, by value */

static void *writer(void *arg) /* the channel -> one client */
{
    void **a = arg; /* {conn, rx} */
    char m[120];
    while (rill_broadcast_recv(a[1], &m, NULL) == 0 &&
           rill_io_write_all(a[0], m, strlen(m), NULL) == 0)
        ;
    return NULL;
}

static int session(void *ud, int status, void *item) /* one client */
{
    void *a[2] = {status ? NULL : *(rill_io_t **)item, ud};
    rill_stream_t *in = NULL;
    rill_task_t *w;
    rill_bytes_t b;
    char m[120];
    if (status || rill_broadcast_subscribe(chat, (void *)&a[1]))
        return 0;
    CHECK(rill_spawn(&w, writer, a, NULL));
    if (!rill_io_read_stream(a[0], 0, &in) && !rill_stream_lines(&in, 100))
        for (; rill_next(in, &b) == 0; rill_bytes_release(&b)) {
            snprintf(m, sizeof m, "%.*s\n", (int)b.len, (const char *)b.ptr);
            CHECK(rill_broadcast_send(chat, &m)); /* a line, to everyone */
        }
    rill_stream_free(in);
    rill_task_cancel(w); /* the client left */
    CHECK(rill_join(w, NULL));
    rill_broadcast_receiver_release(a[1]);
    rill_io_free(a[0]);
    return 0;
}

static void *clients(void *l) /* 3 clients each say hello, hear 3 hellos */
{
    char addr[32], heard[34] = {0};
    rill_io_t *c[3];
    snprintf(addr, sizeof addr, "127.0.0.1:%d", rill_listener_port(l));
    for (int i = 0; i < 3; i++)
        CHECK(rill_connect(&c[i], addr, NULL));
    while (rill_broadcast_receiver_count(chat) < 4) /* all in the room */
        rill_yield();
    for (int i = 0; i < 3; i++)
        CHECK(rill_io_write_all(c[i], "hello, all\n", 11, NULL));
    for (int i = 0; i < 3; rill_io_free(c[i++])) {
        CHECK(rill_io_read_exact(c[i], heard, 33, NULL));
        printf("client %d heard:\n%s", i, heard);
    }
    rill_listener_close(l); /* the connection stream ends: the server too */
    return NULL;
}

static void *server(void *unused)
{
    rill_broadcast_receiver_t *rx; /* the server's own: keeps the count */
    rill_listener_t *l;
    rill_stream_t *conns;
    CHECK(rill_broadcast_new(&chat, &rx, 120, 64, RILL_BROADCAST_LAG, NULL));
    CHECK(rill_listen(&l, "127.0.0.1:0", NULL));
    CHECK(rill_listener_into_stream(l, &conns)); /* l stays usable */
    CHECK(rill_spawn(NULL, clients, l, NULL));   /* detached */
    CHECK(rill_stream_for_each_concurrent(conns, 0, session, NULL));
    rill_broadcast_receiver_release(rx);
    rill_broadcast_sender_release(chat);
    return unused;
}

int main(void)
{
    CHECK(rill_run(server, NULL, NULL, NULL)); /* a runtime, for server */
}
