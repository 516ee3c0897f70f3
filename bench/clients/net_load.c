/* SPDX-License-Identifier: MIT */
/*
 * net_load.c - the clients of N2 (W12), N3 (W13) and N5-N8 (W16-W19), one
 * program shared by every implementation's server (rill, tokio, Go), so
 * the servers are measured against the same load and the client's cost is
 * the same in every cell. It runs as a process of its own, started by the
 * server program; plain epoll and blocking calls, no runtime.
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
 *   net_load fanout PORT SSE WS EVENTS [SLOW]
 *       N5 (W16): SSE connections asking GET /events as an EventSource
 *       would, and WS ones asking for a WebSocket upgrade of the same
 *       path; each reads until the server ends it (end of file, or a
 *       close frame), counting the events (SSE: an empty line; WebSocket:
 *       a data frame). Exit 0 when every connection got exactly EVENTS.
 *       It raises its own fd limit.
 *       N8 (W19) adds SLOW connections (half SSE, half WebSocket) with a
 *       2 KiB SO_RCVBUF that ask for GET /events?slow and never read a
 *       byte; they are closed once every other connection has ended.
 *   net_load latency PORT SSE WS EVENTS
 *       N6 (W17): as fanout, and each event's data starts with the
 *       CLOCK_MONOTONIC nanoseconds of its publishing, 20 decimal digits
 *       (the clock is the same in every process of the machine). The
 *       event's latency is the time of the read that completed it minus
 *       that. Prints one line on its standard output:
 *           LATENCY n=<events> p50_ns=<x> p99_ns=<y> max_ns=<z>
 *   net_load sse-idle PORT CONNS
 *       N7 (W18): CONNS SSE connections to GET /events, one after the
 *       other, each read up to the end of its response head (so the
 *       server has taken it); then it holds them all, reading nothing,
 *       until its standard input reaches end of file, closes them and
 *       exits 0. It raises its own fd limit.
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

/* Hold the idle connections fds[0..n) until the server has measured (it
 * ends our stdin), then close them: 0, or 2 past the deadline. */
static int hold(int *fds, int n, const char *mode)
{
    struct pollfd in = {.fd = 0, .events = POLLIN};
    char c;
    int left = ms_left();
    if (left == 0 || poll(&in, 1, left) != 1 || read(0, &c, 1) != 0) {
        fprintf(stderr, "net_load: %s: no end of input within %d s\n", mode,
                DEADLINE_S);
        return 2;
    }
    for (int i = 0; i < n; i++)
        close(fds[i]);
    free(fds);
    return 0;
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
    return hold(fds, nconn, "idle");
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
    int ws_data;   /* WS: the frame being read is an event */
    uint64_t skip; /* WS: payload bytes still to skip */
    long events;
    int done;
    /* latency: the publish time at the start of the data being read */
    int col;      /* SSE: bytes of the current line so far */
    int in_data;  /* SSE: the line is a "data: " line */
    int digits;   /* digits of the stamp read so far (20 in all) */
    uint64_t pos; /* WS: payload bytes of the current frame read */
    uint64_t stamp;
} sub_t;

enum { STAMP_DIGITS = 20 };

/* latency mode: every event's latency in ns, and the time of this read */
static int lat_mode;
static int64_t *lat;
static size_t nlat, lat_cap;
static int64_t read_ns;

static int64_t mono_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
}

/* One byte of an event's data at offset pos: the stamp is its first
 * STAMP_DIGITS bytes. */
static void stamp_byte(sub_t *c, uint64_t pos, unsigned char b)
{
    if (pos == 0)
        c->stamp = 0, c->digits = 0;
    if (pos < STAMP_DIGITS && b >= '0' && b <= '9') {
        c->stamp = c->stamp * 10 + (b - '0');
        c->digits++;
    }
}

/* An event has ended in this read: note its latency. */
static void event_done(sub_t *c)
{
    c->events++;
    if (!lat_mode)
        return;
    if (c->digits != STAMP_DIGITS) {
        errno = 0;
        fail(1, "latency: an event without a publish stamp");
    }
    if (nlat == lat_cap) {
        lat_cap = lat_cap ? lat_cap * 2 : 1 << 16;
        lat = realloc(lat, lat_cap * sizeof *lat);
        if (!lat)
            fail(1, "realloc");
    }
    lat[nlat++] = read_ns - (int64_t)c->stamp;
    c->digits = 0;
}

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
                event_done(c), c->prev_lf = 0;
            else
                c->prev_lf = p[i] == '\n';
            if (lat_mode) { /* the stamp: the start of a "data: " line */
                static const char tag[] = "data: ";
                if (p[i] == '\n') {
                    c->col = c->in_data = 0;
                    continue;
                }
                if (c->col < 6)
                    c->in_data = (c->col == 0 || c->in_data) &&
                                 p[i] == (unsigned char)tag[c->col];
                else if (c->in_data)
                    stamp_byte(c, (uint64_t)(c->col - 6), p[i]);
                c->col++;
            }
            continue;
        }
        if (c->skip) { /* payload: skip what is here at once */
            size_t k = n - i < c->skip ? n - i : (size_t)c->skip;
            if (lat_mode && c->ws_data)
                for (size_t j = 0; j < k && c->pos < STAMP_DIGITS; j++)
                    stamp_byte(c, c->pos++, p[i + j]);
            c->skip -= k;
            i += k - 1;
            if (!c->skip && c->ws_data)
                event_done(c);
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
        c->ws_data = op == 1 || op == 2;
        c->pos = 0;
        if (op == 8)
            c->done = 1;
        c->skip = len;
        c->hlen = 0;
        if (c->ws_data && !len) { /* an empty event (no stamp: fails) */
            c->stamp = 0, c->digits = 0;
            event_done(c);
        }
    }
}

static const char sse_req[] = "GET /events HTTP/1.1\r\nHost: b\r\n"
                              "Accept: text/event-stream\r\n\r\n",
                  slow_sse_req[] = "GET /events?slow HTTP/1.1\r\nHost: b\r\n"
                                   "Accept: text/event-stream\r\n\r\n",
                  ws_req[] =
                      "GET /events HTTP/1.1\r\nHost: b\r\n"
                      "Upgrade: websocket\r\nConnection: Upgrade\r\n"
                      "Sec-WebSocket-Version: 13\r\n"
                      "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n",
                  slow_ws_req[] =
                      "GET /events?slow HTTP/1.1\r\nHost: b\r\n"
                      "Upgrade: websocket\r\nConnection: Upgrade\r\n"
                      "Sec-WebSocket-Version: 13\r\n"
                      "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n";

static void send_all(int fd, const char *req)
{
    size_t len = strlen(req);
    if (write(fd, req, len) != (ssize_t)len)
        fail(1, "write");
}

/* A connection that never reads, with a receive buffer as small as the
 * kernel allows (the request is sent; the response stays unread). */
static int dial_slow(int ws)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0), small = 2048;
    if (fd < 0)
        fail(1, "socket");
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
    if (connect(fd, (struct sockaddr *)&server, sizeof server) != 0)
        fail(1, "connect");
    send_all(fd, ws ? slow_ws_req : slow_sse_req);
    return fd;
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

static int fanout(int nsse, int nws, long events, int nslow)
{
    int n = nsse + nws;
    raise_fd_limit(n + nslow);
    sub_t *cs = calloc((size_t)n, sizeof *cs);
    int *slow = calloc((size_t)nslow + 1, sizeof *slow);
    int ep = epoll_create1(EPOLL_CLOEXEC);
    if (!cs || !slow || ep < 0)
        fail(1, "setup");
    for (int i = 0; i < nslow; i++)
        slow[i] = dial_slow(i >= nslow / 2);
    for (int i = 0; i < n; i++) {
        sub_t *c = &cs[i];
        c->fd = dial();
        c->ws = i >= nsse;
        c->in_head = 1;
        send_all(c->fd, c->ws ? ws_req : sse_req);
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
            if (lat_mode)
                read_ns = mono_ns();
            if (r > 0)
                fan_feed(c, buf, (size_t)r);
            if (r == 0 || (r < 0 && errno == ECONNRESET) || c->done) {
                close(c->fd);
                c->done = 1;
                open--;
            }
        }
    }
    for (int i = 0; i < nslow; i++)
        close(slow[i]);
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
    free(slow);
    if (lat_mode && nlat) {
        qsort(lat, nlat, sizeof *lat, cmp_i64);
        printf("LATENCY n=%zu p50_ns=%lld p99_ns=%lld max_ns=%lld\n", nlat,
               (long long)lat[nlat / 2], (long long)lat[nlat * 99 / 100],
               (long long)lat[nlat - 1]);
        fflush(stdout);
    }
    free(lat);
    return bad ? 1 : 0;
}

/* ---- sse-idle: N7 ------------------------------------------------------ */

static int sse_idle(int nconn)
{
    raise_fd_limit(nconn);
    int *fds = malloc((size_t)nconn * sizeof *fds);
    if (!fds)
        fail(1, "malloc");
    for (int i = 0; i < nconn; i++) {
        fds[i] = dial();
        send_all(fds[i], sse_req);
        uint32_t tail = 0; /* read the head, byte by byte to its end */
        while (tail != 0x0d0a0d0a) {
            struct pollfd p = {.fd = fds[i], .events = POLLIN};
            unsigned char b;
            int left = ms_left();
            if (left == 0 || poll(&p, 1, left) != 1) {
                fprintf(stderr,
                        "net_load: sse-idle: connection %d not answered "
                        "within %d s\n",
                        i, DEADLINE_S);
                return 2;
            }
            if (read(fds[i], &b, 1) != 1)
                fail(1, "sse-idle: no response head");
            tail = tail << 8 | b;
        }
    }
    return hold(fds, nconn, "sse-idle");
}

static const char usage[] =
    "usage: net_load echo PORT CONNS MSGS | net_load idle PORT CONNS | "
    "net_load fanout PORT SSE WS EVENTS [SLOW] | "
    "net_load latency PORT SSE WS EVENTS | net_load sse-idle PORT CONNS\n";

int main(int argc, char **argv)
{
    clock_gettime(CLOCK_MONOTONIC, &start);
    int port = argc > 2 ? atoi(argv[2]) : 0;
    if (port <= 0 || port > 65535) {
        fputs(usage, stderr);
        return 1;
    }
    server.sin_family = AF_INET;
    server.sin_port = htons((uint16_t)port);
    server.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int fan = (argc == 6 || argc == 7) && strcmp(argv[1], "fanout") == 0;
    lat_mode = argc == 6 && strcmp(argv[1], "latency") == 0;
    if (fan || lat_mode) {
        int nsse = atoi(argv[3]), nws = atoi(argv[4]);
        int nslow = argc == 7 ? atoi(argv[6]) : 0;
        long events = atol(argv[5]);
        if (nsse < 0 || nws < 0 || nsse + nws <= 0 || events < 0 || nslow < 0) {
            fputs(usage, stderr);
            return 1;
        }
        return fanout(nsse, nws, events, nslow);
    }
    int echo_mode = argc == 5 && strcmp(argv[1], "echo") == 0;
    int idle_mode = argc == 4 && strcmp(argv[1], "idle") == 0;
    int sse_mode = argc == 4 && strcmp(argv[1], "sse-idle") == 0;
    int nconn = argc > 3 ? atoi(argv[3]) : 0;
    long msgs = echo_mode ? atol(argv[4]) : 1;
    if ((!echo_mode && !idle_mode && !sse_mode) || nconn <= 0 || msgs <= 0 ||
        msgs > UINT32_MAX) {
        fputs(usage, stderr);
        return 1;
    }
    return echo_mode  ? echo(nconn, (uint32_t)msgs)
           : sse_mode ? sse_idle(nconn)
                      : idle(nconn);
}
