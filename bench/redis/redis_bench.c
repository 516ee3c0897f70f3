/* SPDX-License-Identifier: MIT */
/*
 * redis_bench.c - R1 and R2 of issue 14 against a hand-written hiredis
 * pipelined loop (the reference), on a redis-server this program starts
 * (Unix socket, --save '' --appendonly yes, as the tests run it).
 *
 *   R1 sink:   N entries of one 64-byte field through XADD.
 *              rill: rill_redis_write_stream, batch B.
 *              ref:  hiredis blocking context, B redisAppendCommandArgv
 *                    then B redisGetReply, until N.
 *   R2 group:  read the N entries as a consumer group and ack each.
 *              rill: group source (count B) + rill_redis_group_ack.
 *              ref:  XREADGROUP COUNT B, then one XACK of the batch's
 *                    ids, until N (the same commands the source sends).
 *
 * Usage: redis_bench [entries] [batch] [rounds]; prints one line per
 * round and measurement, then the median of each. redis-server shares
 * the machine's cores with the client: both numbers are bounded by it.
 */
#include <rill.h>
#include <rill/redis.h>

#include <hiredis/hiredis.h>

#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MUST(call)                                                             \
    do {                                                                       \
        int must_rc_ = (call);                                                 \
        if (must_rc_ != 0) {                                                   \
            fprintf(stderr, "%s:%d: %s: %s\n", __FILE__, __LINE__, #call,      \
                    rill_err_name(must_rc_));                                  \
            exit(1);                                                           \
        }                                                                      \
    } while (0)

static char dir[64], sock[96], addr[112];
static pid_t server;
static size_t entries = 200000, batch = 256;
static char payload[65];

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* CPU seconds this process used so far (the client side only: the
 * server is another process), a measure the load of other programs on
 * the machine disturbs far less than wall-clock rates. */
static double cpu_s(void)
{
    struct rusage u;
    getrusage(RUSAGE_SELF, &u);
    return (double)u.ru_utime.tv_sec + u.ru_utime.tv_usec / 1e6 +
           (double)u.ru_stime.tv_sec + u.ru_stime.tv_usec / 1e6;
}

static redisContext *ref_connect(void)
{
    redisContext *c = redisConnectUnix(sock);
    if (!c || c->err) {
        fprintf(stderr, "hiredis connect: %s\n", c ? c->errstr : "oom");
        exit(1);
    }
    return c;
}

static void start_server(void)
{
    snprintf(dir, sizeof dir, "/tmp/rill-rbench-XXXXXX");
    if (!mkdtemp(dir))
        exit(1);
    snprintf(sock, sizeof sock, "%s/redis.sock", dir);
    snprintf(addr, sizeof addr, "unix:%s", sock);
    char log[96];
    snprintf(log, sizeof log, "%s/redis.log", dir);
    server = fork();
    if (server == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        execlp("redis-server", "redis-server", "--port", "0", "--unixsocket",
               sock, "--save", "", "--appendonly", "yes", "--dir", dir,
               "--logfile", log, (char *)NULL);
        _exit(127);
    }
    for (int i = 0; i < 1000; i++) {
        redisContext *c = redisConnectUnix(sock);
        bool ok = c && !c->err;
        if (c)
            redisFree(c);
        if (ok)
            return;
        nanosleep(&(struct timespec){0, 10 * 1000 * 1000}, NULL);
    }
    fprintf(stderr, "redis-server did not start\n");
    exit(1);
}

static void ref_cmd(redisContext *c, const char *cmd)
{
    redisReply *r = redisCommand(c, cmd);
    if (!r) {
        fprintf(stderr, "hiredis: %s\n", c->errstr);
        exit(1);
    }
    freeReplyObject(r);
}

/* ---- R1 ---- */

static double r1_ref(const char *key)
{
    redisContext *c = ref_connect();
    const char *argv[] = {"XADD", key, "*", "data", payload};
    size_t lens[] = {4, strlen(key), 1, 4, 64};
    double t0 = now_s();
    for (size_t done = 0; done < entries;) {
        size_t n = entries - done < batch ? entries - done : batch;
        for (size_t i = 0; i < n; i++)
            redisAppendCommandArgv(c, 5, argv, lens);
        for (size_t i = 0; i < n; i++) {
            void *r;
            if (redisGetReply(c, &r) != REDIS_OK) {
                fprintf(stderr, "hiredis: %s\n", c->errstr);
                exit(1);
            }
            freeReplyObject(r);
        }
        done += n;
    }
    double t = now_s() - t0;
    redisFree(c);
    return entries / t;
}

typedef struct r1_arg {
    const char *key;
    double rate;
} r1_arg_t;

static void *r1_rill_task(void *p)
{
    r1_arg_t *a = p;
    rill_redis_t *c;
    MUST(rill_redis_new(&c, addr, NULL));
    rill_bytes_t b;
    MUST(rill_bytes_new(&b, payload, 64));
    rill_stream_t *s;
    MUST(rill_stream_repeat(&s, &b, sizeof b)); /* byte copies: one ref */
    MUST(rill_stream_take(&s, entries));
    uint64_t added = 0;
    rill_redis_sink_config_t sc = {.batch = batch};
    double t0 = now_s();
    MUST(rill_redis_write_stream(c, a->key, s, &added, &sc));
    a->rate = added / (now_s() - t0);
    rill_bytes_release(&b);
    rill_redis_free(c);
    return NULL;
}

/* ---- R2 ---- */

static double r2_ref(const char *key)
{
    redisContext *c = ref_connect();
    char cmd[128];
    snprintf(cmd, sizeof cmd, "XGROUP CREATE %s ref 0", key);
    ref_cmd(c, cmd);
    char cnt[16];
    snprintf(cnt, sizeof cnt, "%zu", batch);
    const char *rd[] = {"XREADGROUP", "GROUP",   "ref", "c1", "COUNT",
                        cnt,          "STREAMS", key,   ">"};
    const char **ack = malloc((batch + 3) * sizeof *ack);
    ack[0] = "XACK";
    ack[1] = key;
    ack[2] = "ref";
    size_t got = 0;
    double t0 = now_s();
    while (got < entries) {
        redisReply *r = redisCommandArgv(c, 9, rd, NULL);
        if (!r || r->type != REDIS_REPLY_ARRAY) {
            fprintf(stderr, "hiredis XREADGROUP failed\n");
            exit(1);
        }
        redisReply *es = r->element[0]->element[1];
        for (size_t i = 0; i < es->elements; i++)
            ack[3 + i] = es->element[i]->element[0]->str;
        redisReply *a = redisCommandArgv(c, (int)(3 + es->elements), ack, NULL);
        if (!a || a->type != REDIS_REPLY_INTEGER ||
            (size_t)a->integer != es->elements) {
            fprintf(stderr, "hiredis XACK failed\n");
            exit(1);
        }
        freeReplyObject(a);
        got += es->elements;
        freeReplyObject(r);
    }
    double t = now_s() - t0;
    free(ack);
    redisFree(c);
    return entries / t;
}

static void *r2_rill_task(void *p)
{
    r1_arg_t *a = p;
    rill_redis_group_t *g;
    rill_redis_group_config_t gc = {.create = true, .count = batch};
    MUST(rill_redis_group_new(&g, addr, a->key, "rill", "c1", &gc));
    rill_stream_t *s;
    MUST(rill_redis_group_stream(g, &s));
    rill_redis_msg_t m[64];
    size_t got = 0;
    double t0 = now_s();
    while (got < entries) {
        size_t n = 0;
        MUST(rill_next_many(s, m, 64, &n));
        for (size_t i = 0; i < n; i++) {
            MUST(rill_redis_group_ack(g, &m[i]));
            rill_redis_msg_destroy(&m[i]);
        }
        got += n;
    }
    MUST(rill_redis_group_flush(g));
    a->rate = entries / (now_s() - t0);
    rill_stream_free(s);
    rill_redis_group_free(g);
    return NULL;
}

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
    if (argc > 1)
        entries = strtoul(argv[1], NULL, 10);
    if (argc > 2)
        batch = strtoul(argv[2], NULL, 10);
    int rounds = argc > 3 ? atoi(argv[3]) : 3;
    if (!entries || !batch || rounds < 1 || rounds > 32)
        return 2;
    memset(payload, 'x', 64);
    start_server();
    rill_runtime_t *rt;
    MUST(rill_runtime_new(&rt, NULL));
    double v[4][32], cpu[4][32];
    for (int k = 0; k < rounds; k++) {
        char kr[32], kx[32];
        snprintf(kr, sizeof kr, "ref%d", k);
        snprintf(kx, sizeof kx, "rill%d", k);
        /* Interleaved, so that load from elsewhere hits both alike. */
        double c0 = cpu_s();
        v[0][k] = r1_ref(kr);
        double c1 = cpu_s();
        r1_arg_t a = {kx, 0};
        MUST(rill_block_on(rt, r1_rill_task, &a, NULL));
        v[1][k] = a.rate;
        double c2 = cpu_s();
        v[2][k] = r2_ref(kr);
        double c3 = cpu_s();
        MUST(rill_block_on(rt, r2_rill_task, &a, NULL));
        v[3][k] = a.rate;
        double c4 = cpu_s();
        cpu[0][k] = (c1 - c0) * 1e9 / entries;
        cpu[1][k] = (c2 - c1) * 1e9 / entries;
        cpu[2][k] = (c3 - c2) * 1e9 / entries;
        cpu[3][k] = (c4 - c3) * 1e9 / entries;
        printf("round %d: R1 ref %.0f rill %.0f entries/s; R2 ref %.0f rill "
               "%.0f entries/s\n",
               k, v[0][k], v[1][k], v[2][k], v[3][k]);
        redisContext *c = ref_connect();
        ref_cmd(c, "FLUSHALL");
        redisFree(c);
    }
    for (int i = 0; i < 4; i++) {
        qsort(v[i], (size_t)rounds, sizeof v[i][0], cmp);
        qsort(cpu[i], (size_t)rounds, sizeof cpu[i][0], cmp);
    }
    int mid = rounds / 2, hi = rounds - 1;
    printf("R1 sink (XADD, 64-byte entries, batch %zu, %zu entries), "
           "entries/s min/median/max: hiredis %.0f/%.0f/%.0f, rill "
           "%.0f/%.0f/%.0f (median %.0f%%)\n",
           batch, entries, v[0][0], v[0][mid], v[0][hi], v[1][0], v[1][mid],
           v[1][hi], 100 * v[1][mid] / v[0][mid]);
    printf("R2 group + XACK (count %zu), entries/s min/median/max: hiredis "
           "%.0f/%.0f/%.0f, rill %.0f/%.0f/%.0f (median %.0f%%)\n",
           batch, v[2][0], v[2][mid], v[2][hi], v[3][0], v[3][mid], v[3][hi],
           100 * v[3][mid] / v[2][mid]);
    printf("client CPU ns per entry (median of %d): R1 hiredis %.0f, rill "
           "%.0f; R2 hiredis %.0f, rill %.0f\n",
           rounds, cpu[0][mid], cpu[1][mid], cpu[2][mid], cpu[3][mid]);
    rill_runtime_free(rt);
    kill(server, SIGTERM);
    waitpid(server, NULL, 0);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        return 1;
    return 0;
}
