/* SPDX-License-Identifier: MIT */
/*
 * io_load_client.c - many clients in a process of their own, for
 * test_io's load test: plain epoll, no rill, so a fault on the server's
 * side cannot hide behind the same fault on the client's.
 *
 *   io_load_client HOST:PORT CLIENTS ROUNDS
 *
 * Each client connects, then ROUNDS times writes a 32-byte request and
 * reads the 32-byte answer, which must be the request with every byte
 * XOR 0x5a (so an answer cannot be the request looped back by mistake).
 * All clients run at once. Exit 0 when every round of every client was
 * answered right; 1 with a message otherwise; 2 after 120 s.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

enum { MSG = 32 };

typedef struct client {
    int fd, round;
    size_t got;
    unsigned char req[MSG], ans[MSG];
} client_t;

static int rounds;

static void make_request(client_t *c, int id)
{
    for (int i = 0; i < MSG; i++)
        c->req[i] = (unsigned char)(id * 31 + c->round * 7 + i);
}

static int die(const char *what)
{
    fprintf(stderr, "io_load_client: %s: %s\n", what, strerror(errno));
    exit(1);
}

/* Write the whole request (32 bytes always fit an empty socket buffer). */
static void send_request(client_t *c, int id)
{
    make_request(c, id);
    if (write(c->fd, c->req, MSG) != MSG)
        die("write");
}

int main(int argc, char **argv)
{
    if (argc != 4)
        return fprintf(stderr, "usage: io_load_client ADDR N ROUNDS\n"), 1;
    char host[64];
    int port;
    if (sscanf(argv[1], "%63[^:]:%d", host, &port) != 2)
        return fprintf(stderr, "io_load_client: bad address\n"), 1;
    int n = atoi(argv[2]);
    rounds = atoi(argv[3]);
    struct rlimit lim;
    if (getrlimit(RLIMIT_NOFILE, &lim) == 0 && lim.rlim_cur < lim.rlim_max) {
        lim.rlim_cur = lim.rlim_max;
        (void)setrlimit(RLIMIT_NOFILE, &lim);
    }
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(port)};
    inet_pton(AF_INET, host, &sa.sin_addr);
    client_t *cl = calloc((size_t)n, sizeof *cl);
    int ep = epoll_create1(0);
    if (!cl || ep < 0)
        die("setup");
    for (int i = 0; i < n; i++) {
        cl[i].fd = socket(AF_INET, SOCK_STREAM, 0);
        if (cl[i].fd < 0 ||
            connect(cl[i].fd, (struct sockaddr *)&sa, sizeof sa) != 0)
            die("connect");
        int one = 1;
        setsockopt(cl[i].fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        struct epoll_event ev = {.events = EPOLLIN, .data.u32 = (uint32_t)i};
        if (epoll_ctl(ep, EPOLL_CTL_ADD, cl[i].fd, &ev) != 0)
            die("epoll_ctl");
    }
    /* Every client sends its first request; answers drive the rest. */
    for (int i = 0; i < n; i++)
        send_request(&cl[i], i);
    time_t start = time(NULL);
    int finished = 0;
    struct epoll_event evs[256];
    while (finished < n) {
        if (time(NULL) - start > 120) {
            fprintf(stderr, "io_load_client: timed out, %d of %d done\n",
                    finished, n);
            return 2;
        }
        int k = epoll_wait(ep, evs, 256, 1000);
        if (k < 0 && errno != EINTR)
            die("epoll_wait");
        for (int e = 0; e < k; e++) {
            int id = (int)evs[e].data.u32;
            client_t *c = &cl[id];
            ssize_t r = read(c->fd, c->ans + c->got, MSG - c->got);
            if (r <= 0) {
                fprintf(stderr, "io_load_client: client %d round %d: %s\n", id,
                        c->round, r == 0 ? "end of file" : strerror(errno));
                return 1;
            }
            c->got += (size_t)r;
            if (c->got < MSG)
                continue;
            for (int i = 0; i < MSG; i++)
                if (c->ans[i] != (c->req[i] ^ 0x5a)) {
                    fprintf(stderr,
                            "io_load_client: client %d round %d: "
                            "wrong answer\n",
                            id, c->round);
                    return 1;
                }
            c->got = 0;
            if (++c->round == rounds) {
                finished++;
                close(c->fd); /* the server sees the end */
                continue;
            }
            send_request(c, id);
        }
    }
    printf("io_load_client: %d clients x %d rounds answered\n", n, rounds);
    free(cl);
    close(ep);
    return 0;
}
