/* SPDX-License-Identifier: MIT */
/* tcp_echo.c - an echo server: the connections as a stream, served
 * concurrently; three clients in the same program check their echoes. */
#include "check.h"
#include <rill.h>
#include <stdio.h>
#include <string.h>

static int echo(void *ud, int status, void *item)
{
    if (status < 0)
        return 0; /* an accept error (out of fds): keep serving */
    rill_io_t *conn = *(rill_io_t **)item;
    char buf[4096];
    size_t n;
    while (rill_io_read(conn, buf, sizeof buf, &n) == 0) /* RILL_DONE: EOF */
        if (rill_io_write_all(conn, buf, n, NULL) != 0)
            break;
    rill_io_free(conn);
    return 0;
}

static void *serve(void *conns)
{
    CHECK(rill_stream_for_each_concurrent(conns, 0, echo,
                                          NULL)); /* 0: no limit */
    return NULL;
}

static void *client(void *addr)
{
    rill_io_t *c;
    char msg[64], back[64];
    int len = snprintf(msg, sizeof msg, "hello from task %llu",
                       (unsigned long long)rill_task_id(rill_task_current()));
    CHECK(rill_connect(&c, addr, NULL));
    CHECK(rill_io_write_all(c, msg, (size_t)len, NULL));
    CHECK(rill_io_read_exact(c, back, (size_t)len, NULL)); /* the echo */
    rill_io_free(c);
    return memcmp(msg, back, (size_t)len) == 0 ? (void *)1 : NULL;
}

static void *main_task(void *unused)
{
    (void)unused;
    rill_listener_t *l;
    rill_stream_t *conns;
    char addr[32];
    if (rill_listen(&l, "127.0.0.1:0", NULL) != 0) /* port 0: any free */
        return NULL;
    snprintf(addr, sizeof addr, "127.0.0.1:%d", rill_listener_port(l));
    printf("echo server on %s\n", addr);
    if (rill_listener_into_stream(l, &conns) != 0) /* the stream owns l */
        return NULL;
    rill_task_t *server, *clients[3];
    CHECK(rill_spawn(&server, serve, conns, NULL));
    for (int i = 0; i < 3; i++)
        CHECK(rill_spawn(&clients[i], client, addr, NULL));
    for (int i = 0; i < 3; i++) {
        void *ok;
        CHECK(rill_join(clients[i], &ok));
        printf("client %d: %s\n", i, ok ? "echo ok" : "FAILED");
    }
    rill_listener_close(l); /* the connection stream ends */
    CHECK(rill_join(server, NULL));
    printf("server closed\n");
    return NULL;
}

int main(void)
{
    CHECK(rill_run(main_task, NULL, NULL, NULL)); /* a runtime, for main_task */
}
