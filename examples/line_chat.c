/* SPDX-License-Identifier: MIT */
/* line_chat.c - every line a client sends goes to every client: each
 * connection's lines (read stream -> lines) go into one broadcast channel;
 * a writer task per connection copies the channel to its socket. */
#include "check.h"
#include <rill.h>
#include <stdio.h>

typedef struct {
    char text[120];
    size_t len;
} line_t; /* items by value */
static rill_broadcast_sender_t *chat;

static void *writer(void *arg) /* the channel -> one client */
{
    void **a = arg; /* {conn, rx} */
    line_t m;
    uint64_t missed;
    while (rill_broadcast_recv(a[1], &m, &missed) == 0 &&
           rill_io_write_all(a[0], m.text, m.len, NULL) == 0)
        ;
    return NULL;
}

static int session(void *ud, int status, void *item)
{
    void *a[2] = {status ? NULL : *(rill_io_t **)item, ud};
    rill_stream_t *in = NULL;
    rill_task_t *w;
    rill_bytes_t b;
    line_t m;
    if (status ||
        rill_broadcast_subscribe(chat, (rill_broadcast_receiver_t **)&a[1]))
        return 0;
    CHECK(rill_spawn(&w, writer, a, NULL));
    if (!rill_io_read_stream(a[0], 0, &in) && !rill_stream_lines(&in, 100))
        while (rill_next(in, &b) == 0) { /* a client's line, to all */
            m.len = (size_t)snprintf(m.text, sizeof m.text, "%.*s\n",
                                     (int)b.len, (const char *)b.ptr);
            rill_bytes_release(&b);
            CHECK(rill_broadcast_send(chat, &m));
        }
    rill_stream_free(in);
    rill_task_cancel(w); /* the client left */
    CHECK(rill_join(w, NULL));
    rill_broadcast_receiver_release(a[1]);
    rill_io_free(a[0]);
    return 0;
}

static void *client(void *addr)
{
    char buf[512];
    size_t got = 0, n;
    int lines = 0;
    rill_io_t *c;
    if (rill_connect(&c, addr, NULL) != 0)
        return NULL;
    while (rill_broadcast_receiver_count(chat) < 4) /* 3 clients + main */
        rill_yield();
    if (rill_io_write_all(c, "hello, all\n", 11, NULL) == 0)
        while (lines < 3 && !rill_io_read(c, buf + got, sizeof buf - got, &n))
            for (size_t end = got + n; got < end; got++)
                lines += buf[got] == '\n';
    rill_io_free(c);
    return lines == 3 ? (void *)1 : NULL; /* heard everyone */
}

static void *serve(void *conns)
{
    return (void *)(intptr_t)rill_stream_for_each_concurrent(conns, 0, session,
                                                             NULL);
}

static void *main_task(void *unused)
{
    rill_broadcast_receiver_t *rx; /* main's own receiver: it keeps the count */
    rill_listener_t *l;
    rill_stream_t *conns;
    rill_task_t *srv, *cl[3];
    char addr[32];
    if (rill_broadcast_new(&chat, &rx, sizeof(line_t), 64, RILL_BROADCAST_LAG,
                           NULL) ||
        rill_listen(&l, "127.0.0.1:0", NULL) ||
        rill_listener_into_stream(l, &conns))
        return NULL;
    snprintf(addr, sizeof addr, "127.0.0.1:%d", rill_listener_port(l));
    CHECK(rill_spawn(&srv, serve, conns, NULL));
    for (int i = 0; i < 3; i++)
        CHECK(rill_spawn(&cl[i], client, addr, NULL));
    for (int i = 0; i < 3; i++) {
        void *ok;
        CHECK(rill_join(cl[i], &ok));
        printf("client %d heard %s\n", i, ok ? "all 3 lines" : "too little");
    }
    rill_listener_close(l);
    CHECK(rill_join(srv, NULL));
    rill_broadcast_receiver_release(rx);
    rill_broadcast_sender_release(chat);
    return unused;
}

int main(void)
{
    rill_runtime_t *rt;
    CHECK(rill_runtime_new(&rt, NULL));
    CHECK(rill_block_on(rt, main_task, NULL, NULL));
    rill_runtime_free(rt);
}
