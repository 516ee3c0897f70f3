/* SPDX-License-Identifier: MIT */
/*
 * N8 (workload 19) slow clients: N5's fan-out with BENCH_SLOW_FAST_SSE +
 * BENCH_SLOW_FAST_WS fast clients and BENCH_SLOW_SLOW clients that never
 * read (a 2 KiB SO_RCVBUF; net_load fanout ... SLOW in another process),
 * BENCH_SLOW_EVENTS events of BENCH_FAN_DATA bytes. Every client's queue
 * has a budget of BENCH_SLOW_BUDGET bytes and its socket a send buffer of
 * BENCH_SLOW_SNDBUF (set by the handler, for every client alike); the
 * slow ones (GET /events?slow) are DROP_OLDEST, the hub's policy, the fast
 * ones BLOCK, so that they get every event (as in N5) and any hold the slow
 * ones had on the source would show as a slower publisher. The metric is the
 * fast clients' deliveries per second (first publish to the load generator's
 * exit); the check wants every fast client to get every event and the
 * slow ones to have lost events and to have held at most their budget
 * (what proves the policy bounds them). The RESULT line also gives
 * rss_growth_kb, the server's resident memory growth from half of the
 * events to the last, which bench/run.py holds to under 8 MiB ("RSS
 * flat"). It is not 0: a fast client's ring of references doubles, up to
 * its budget, the first time that client falls that far behind, which a
 * busy machine can make happen late.
 */
#include "bench_web.h"

#include <sys/socket.h>

enum {
    FAST = BENCH_SLOW_FAST_SSE + BENCH_SLOW_FAST_WS,
    ALL = FAST + BENCH_SLOW_SLOW
};

static double t0;
static long rss_half, rss_end;
static rill_hub_client_stats_t clients[ALL];
static size_t nclients;

/* /events: a slow client (its query is "slow") takes the hub's policy, a
 * fast one is lossless; every socket's send buffer is capped. */
static int handler(void *ud, rill_http_conn_t *c,
                   const rill_http_request_t *req)
{
    int sndbuf = BENCH_SLOW_SNDBUF;
    if (setsockopt(rill_io_fd(rill_http_conn_io(c)), SOL_SOCKET, SO_SNDBUF,
                   &sndbuf, sizeof sndbuf) != 0)
        exit(1);
    bool slow = req->query.len == 4 && memcmp(req->query.ptr, "slow", 4) == 0;
    rill_hub_client_config_t cc = {.policy = slow ? RILL_HUB_POLICY_DEFAULT
                                                  : RILL_HUB_BLOCK};
    int rc = rill_hub_serve(ud, c, req, &cc);
    (void)rc; /* the client's story; the connection closes after it */
    return -1;
}

static void *run(void *arg)
{
    bench_web_t *w = arg;
    bench_web_start(w, ALL);
    char data[BENCH_FAN_DATA];
    t0 = bench_now();
    for (int i = 1; i <= BENCH_SLOW_EVENTS; i++) {
        memset(data, 'a' + i % 26, sizeof data);
        bench_web_publish(w, i, data, sizeof data);
        if (i == BENCH_SLOW_EVENTS / 2)
            rss_half = bench_rss_bytes();
    }
    rss_end = bench_rss_bytes();
    /* The slow clients are there until the fast ones are done. */
    BENCH_TRY(rill_hub_clients(w->hub, clients, ALL, &nclients));
    bench_web_end(w);
    return NULL;
}

int main(void)
{
    bench_web_t w = {0};
    rill_hub_config_t hc = {.name = "n8",
                            .policy = RILL_HUB_DROP_OLDEST,
                            .budget = BENCH_SLOW_BUDGET};
    bench_web_new(&w, &hc, handler, 2 * ALL + 64);
    pid_t load =
        bench_web_clients(&w, "fanout", BENCH_SLOW_FAST_SSE, BENCH_SLOW_FAST_WS,
                          BENCH_SLOW_EVENTS, BENCH_SLOW_SLOW, NULL);
    BENCH_TRY(rill_block_on(w.rt, run, &w, NULL));
    bool client_ok = bench_net_wait(load);
    double secs = bench_now() - t0;
    rill_hub_stats_t st = bench_web_stats(&w);
    bench_web_free(&w);
    uint64_t slow_dropped = 0, slow_max = 0;
    int slow_seen = 0, slow_lossless = 0;
    for (size_t i = 0; i < nclients; i++) {
        if (clients[i].policy == RILL_HUB_BLOCK)
            continue;
        slow_seen++;
        slow_dropped += clients[i].dropped;
        slow_lossless += clients[i].dropped == 0;
        if (clients[i].bytes_queued_max > slow_max)
            slow_max = clients[i].bytes_queued_max;
    }
    /* The fast clients' deliveries: net_load checked that every one got
     * every event. */
    uint64_t want = (uint64_t)FAST * BENCH_SLOW_EVENTS;
    long growth_kb = (rss_end - rss_half) / 1024;
    int ok = client_ok && nclients == ALL && slow_seen == BENCH_SLOW_SLOW &&
             slow_lossless == 0 && slow_max <= BENCH_SLOW_BUDGET &&
             st.published == BENCH_SLOW_EVENTS;
    if (!ok)
        fprintf(stderr,
                "check failed: client %s, %zu clients, %d slow (%d lost "
                "nothing), slow max queued %llu B, RSS grew %ld KiB\n",
                client_ok ? "ok" : "failed", nclients, slow_seen, slow_lossless,
                (unsigned long long)slow_max, growth_kb);
    printf("RESULT metric=%.3f unit=Mdeliveries/s check=%s sum=%llu "
           "rss_growth_kb=%ld slow_dropped=%llu slow_max_queued_b=%llu\n",
           (double)want / secs / 1e6, ok ? "ok" : "FAIL",
           (unsigned long long)want, growth_kb,
           (unsigned long long)slow_dropped, (unsigned long long)slow_max);
    return ok ? 0 : 1;
}
