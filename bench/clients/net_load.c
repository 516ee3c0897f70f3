/* SPDX-License-Identifier: MIT */
/*
 * net_load.c - the clients of N2 (W12) and N3 (W13), one program shared by
 * every implementation's server (rill, tokio, Go), so the servers are
 * measured against the same load and the client's cost is the same in
 * every cell. It runs as a process of its own, started by the server
 * program; plain epoll and blocking calls, no runtime.
 *
 *   net_load echo PORT CONNS MSGS
 *       CONNS connections to 127.0.0.1:PORT, each sending MSGS 64-byte
 *       messages one at a time: the next only after the echo of the last
 *       came back whole and equal (one message in flight per connection).
 *       Then it closes the connection. Exit 0 when every echo was right.
 *   net_load idle PORT CONNS
 *       CONNS connections, one after the other, each writing one byte and
 *       reading its echo (so the server has accepted and served each);
 *       then it holds them all, idle, until its standard input reaches end
 *       of file (the server's signal that it has measured), closes them
 *       and exits 0. It raises its own fd limit.
 *   net_load fanout PORT SSE WS EVENTS
 *       N5 (W16): SSE connections asking GET /events as an EventSource
 *       would, and WS ones asking for a WebSocket upgrade of the same
 *       path; each reads until the server ends it (end of file, or a
 *       close frame), counting the events (SSE: an empty line; WebSocket:
 *       a data frame). Exit 0 when every connection got exactly EVENTS.
 *       It raises its own fd limit.
 *
 * Every wait is bounded: a connection that does not answer within
 * DEADLINE_S seconds of the start ends the run with exit 2; any other
 * fault exits 1, with a message on stderr.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

enum { MSG = 64, DEADLINE_S = 50 };

static struct sockaddr_in server;
static struct timespec start;

static _Noreturn void fail(int code, const char *what)
{
    fprintf(stderr, "net_load: %s: %s\n", what, errno ? strerror(errno) : "");
    exit(code);
}

/* Milliseconds left before the deadline (at least 0). */
static int ms_left(void)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    long ms = (long)(now.tv_sec - start.tv_sec) * 1000 +
              (now.tv_nsec - start.tv_nsec) / 1000000;
    return ms >= DEADLINE_S * 1000 ? 0 : (int)(DEADLINE_S * 1000 - ms);
}

/* A connected TCP socket with TCP_NODELAY (as every server sets its own). */
static int dial(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;
    if (fd < 0)
        fail(1, "socket");
    if (connect(fd, (struct sockaddr *)&server, sizeof server) != 0)
        fail(1, "connect");
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    return fd;
}

/* ---- echo: N2 ---------------------------------------------------------- */

typedef struct conn {
    int fd;
    uint32_t sent; /* messages sent so far; the last one is in flight */
    size_t got;    /* bytes of its echo received */
    unsigned char msg[MSG], back[MSG];
} conn_t;

/* Fills c->msg with message number c->sent of connection id (each message
 * differs, so a stale or misrouted echo fails the compare) and sends it:
 * 64 bytes always fit the empty send buffer of a connection with nothing
 * else in flight. */
static void send_next(conn_t *c, uint32_t id)
{
    for (int i = 0; i < MSG; i++)
        c->msg[i] = (unsigned char)(id * 131u + c->sent * 17u + (unsigned)i);
    if (write(c->fd, c->msg, MSG) != MSG)
        fail(1, "write");
    c->sent++;
    c->got = 0;
}

static int echo(int nconn, uint32_t msgs)
{
    conn_t *cs = calloc((size_t)nconn, sizeof *cs);
    int ep = epoll_create1(EPOLL_CLOEXEC);
    if (!cs || ep < 0)
        fail(1, "setup");
    for (int i = 0; i < nconn; i++) {
        cs[i].fd = dial();
        struct epoll_event ev = {.events = EPOLLIN, .data.u32 = (uint32_t)i};
        if (epoll_ctl(ep, EPOLL_CTL_ADD, cs[i].fd, &ev) != 0)
            fail(1, "epoll_ctl");
    }
    for (int i = 0; i < nconn; i++)
        send_next(&cs[i], (uint32_t)i);
    int open = nconn;
    struct epoll_event evs[128];
    while (open > 0) {
        int left = ms_left();
        if (left == 0) {
            fprintf(stderr,
                    "net_load: echo: %d of %d connections unfinished "
                    "after %d s\n",
                    open, nconn, DEADLINE_S);
            return 2;
        }
        int k = epoll_wait(ep, evs, 128, left);
        if (k < 0 && errno != EINTR)
            fail(1, "epoll_wait");
        for (int e = 0; e < k; e++) {
            uint32_t id = evs[e].data.u32;
            conn_t *c = &cs[id];
            ssize_t r = read(c->fd, c->back + c->got, MSG - c->got);
            if (r <= 0)
                fail(1, r == 0 ? "echo: early end of file" : "read");
            c->got += (size_t)r;
            if (c->got < MSG)
                continue;
            if (memcmp(c->back, c->msg, MSG) != 0) {
                errno = 0;
                fail(1, "echo: an echo differs from its message");
            }
            if (c->sent == msgs) {
                close(c->fd); /* the server reads end of file */
                open--;
            } else {
                send_next(c, id);
            }
        }
    }
    close(ep);
    free(cs);
    return 0;
}

/* ---- idle: N3 ---------------------------------------------------------- */

static void raise_fd_limit(int nconn)
{
    struct rlimit lim;
    rlim_t want = (rlim_t)nconn + 64;
    if (getrlimit(RLIMIT_NOFILE, &lim) == 0 && lim.rlim_cur < want) {
        lim.rlim_cur = lim.rlim_max < want ? lim.rlim_max : want;
        (void)setrlimit(RLIMIT_NOFILE, &lim);
    }
}

static int idle(int nconn)
{
    raise_fd_limit(nconn);
    int *fds = malloc((size_t)nconn * sizeof *fds);
    if (!fds)
        fail(1, "malloc");
    for (int i = 0; i < nconn; i++) {
        fds[i] = dial();
        unsigned char b = (unsigned char)i, back;
        struct pollfd p = {.fd = fds[i], .events = POLLIN};
        if (write(fds[i], &b, 1) != 1)
            fail(1, "write");
        int left = ms_left();
        if (left == 0 || poll(&p, 1, left) != 1) {
            fprintf(stderr,
                    "net_load: idle: connection %d not served within "
                    "%d s\n",
                    i, DEADLINE_S);
            return 2;
        }
        if (read(fds[i], &back, 1) != 1 || back != b)
            fail(1, "idle: no echo");
    }
    /* Hold them until the server has measured: its end of our stdin. */
    struct pollfd in = {.fd = 0, .events = POLLIN};
    char c;
    int left = ms_left();
    if (left == 0 || poll(&in, 1, left) != 1 || read(0, &c, 1) != 0) {
        fprintf(stderr, "net_load: idle: no end of input within %d s\n",
                DEADLINE_S);
        return 2;
    }
    for (int i = 0; i < nconn; i++)
        close(fds[i]);
    free(fds);
    return 0;
}

/* ---- fanout: N5 --------------------------------------------------------- */

typedef struct sub {
    int fd;
    int ws;
    int in_head;    /* the response head is not over yet */
    uint32_t tail;  /* the last four bytes, for the head's end */
    int prev_lf;    /* SSE: the last byte was a line feed */
    uint8_t hdr[4]; /* WS: the frame header being read */
    int hlen;
    uint64_t skip; /* WS: payload bytes still to skip */
    long events;
    int done;
} sub_t;

/* Count what p[0..n) completes. */
static void fan_feed(sub_t *c, const unsigned char *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (c->in_head) {
            c->tail = c->tail << 8 | p[i];
            c->in_head = c->tail != 0x0d0a0d0a;
            continue;
        }
        if (!c->ws) {
            if (p[i] == '\n' && c->prev_lf)
                c->events++, c->prev_lf = 0;
            else
                c->prev_lf = p[i] == '\n';
            continue;
        }
        if (c->skip) { /* payload: skip what is here at once */
            size_t k = n - i < c->skip ? n - i : (size_t)c->skip;
            c->skip -= k;
            i += k - 1;
            continue;
        }
        c->hdr[c->hlen++] = p[i];
        size_t len = c->hdr[1] & 0x7f, need = len == 126 ? 4 : 2;
        if (c->hlen < 2 || (size_t)c->hlen < need)
            continue;
        if (len == 126)
            len = (size_t)c->hdr[2] << 8 | c->hdr[3];
        else if (len == 127)
            fail(1, "fanout: a frame too large for an event");
        unsigned op = c->hdr[0] & 0x0f;
        if (op == 1 || op == 2)
            c->events++;
        else if (op == 8)
            c->done = 1;
        c->skip = len;
        c->hlen = 0;
    }
}

static int fanout(int nsse, int nws, long events)
{
    int n = nsse + nws;
    raise_fd_limit(n);
    sub_t *cs = calloc((size_t)n, sizeof *cs);
    int ep = epoll_create1(EPOLL_CLOEXEC);
    if (!cs || ep < 0)
        fail(1, "setup");
    static const char sse[] = "GET /events HTTP/1.1\r\nHost: b\r\n"
                              "Accept: text/event-stream\r\n\r\n",
                      ws[] =
                          "GET /events HTTP/1.1\r\nHost: b\r\n"
                          "Upgrade: websocket\r\nConnection: Upgrade\r\n"
                          "Sec-WebSocket-Version: 13\r\n"
                          "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n";
    for (int i = 0; i < n; i++) {
        sub_t *c = &cs[i];
        c->fd = dial();
        c->ws = i >= nsse;
        c->in_head = 1;
        const char *req = c->ws ? ws : sse;
        size_t len = c->ws ? sizeof ws - 1 : sizeof sse - 1;
        if (write(c->fd, req, len) != (ssize_t)len)
            fail(1, "write");
        struct epoll_event ev = {.events = EPOLLIN, .data.u32 = (uint32_t)i};
        if (epoll_ctl(ep, EPOLL_CTL_ADD, c->fd, &ev) != 0)
            fail(1, "epoll_ctl");
    }
    int open = n;
    static unsigned char buf[1 << 16];
    struct epoll_event evs[128];
    while (open > 0) {
        int left = ms_left();
        if (left == 0) {
            fprintf(stderr,
                    "net_load: fanout: %d of %d unfinished after %d s\n", open,
                    n, DEADLINE_S);
            return 2;
        }
        int k = epoll_wait(ep, evs, 128, left);
        if (k < 0 && errno != EINTR)
            fail(1, "epoll_wait");
        for (int e = 0; e < k; e++) {
            sub_t *c = &cs[evs[e].data.u32];
            ssize_t r = read(c->fd, buf, sizeof buf);
            if (r < 0 && errno != EAGAIN && errno != ECONNRESET)
                fail(1, "read");
            if (r > 0)
                fan_feed(c, buf, (size_t)r);
            if (r == 0 || (r < 0 && errno == ECONNRESET) || c->done) {
                close(c->fd);
                c->done = 1;
                open--;
            }
        }
    }
    int bad = 0;
    for (int i = 0; i < n; i++)
        if (cs[i].events != events) {
            if (!bad++)
                fprintf(stderr,
                        "net_load: fanout: connection %d (%s) got %ld "
                        "events, not %ld\n",
                        i, cs[i].ws ? "ws" : "sse", cs[i].events, events);
        }
    close(ep);
    free(cs);
    return bad ? 1 : 0;
}

int main(int argc, char **argv)
{
    clock_gettime(CLOCK_MONOTONIC, &start);
    if (argc == 6 && strcmp(argv[1], "fanout") == 0) {
        int port = atoi(argv[2]), nsse = atoi(argv[3]), nws = atoi(argv[4]);
        long events = atol(argv[5]);
        if (port <= 0 || port > 65535 || nsse < 0 || nws < 0 ||
            nsse + nws <= 0 || events < 0) {
            fprintf(stderr, "usage: net_load fanout PORT SSE WS EVENTS\n");
            return 1;
        }
        server.sin_family = AF_INET;
        server.sin_port = htons((uint16_t)port);
        server.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        return fanout(nsse, nws, events);
    }
    int echo_mode = argc == 5 && strcmp(argv[1], "echo") == 0;
    int idle_mode = argc == 4 && strcmp(argv[1], "idle") == 0;
    int port = argc > 2 ? atoi(argv[2]) : 0,
        nconn = argc > 3 ? atoi(argv[3]) : 0;
    long msgs = echo_mode ? atol(argv[4]) : 1;
    if ((!echo_mode && !idle_mode) || port <= 0 || port > 65535 || nconn <= 0 ||
        msgs <= 0 || msgs > UINT32_MAX) {
        fprintf(stderr, "usage: net_load echo PORT CONNS MSGS | "
                        "net_load idle PORT CONNS | "
                        "net_load fanout PORT SSE WS EVENTS\n");
        return 1;
    }
    server.sin_family = AF_INET;
    server.sin_port = htons((uint16_t)port);
    server.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    return echo_mode ? echo(nconn, (uint32_t)msgs) : idle(nconn);
}
