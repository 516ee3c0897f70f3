/* SPDX-License-Identifier: MIT */
/*
 * redis_workers.c - the sensor pipeline split across processes, with
 * Redis Streams in between (rill/redis.h, docs/redis.md).
 *
 *   producer (this process)   readings -> rill_redis_write_stream -> XADD
 * sensors N worker processes        group "workers" on "sensors": convert each
 *                             reading, XADD it to "results", then ack it
 *   this process again        reads "results" (plain XREAD) until every
 *                             reading has a result; counts duplicates
 *
 * Halfway through, worker 0 is killed with SIGKILL: the readings it had
 * taken and not acked stay pending in the group, and after claim_idle
 * (200 ms here) the other workers claim them (XAUTOCLAIM) and process
 * them. Nothing is lost; a reading whose result worker 0 had already
 * written but not acked is processed twice, and the result stream holds
 * it twice: dedupe by the reading's own key (its seq) - see docs/redis.md.
 *
 * Usage: redis_workers [unix:/path | host:port] [workers] [readings]
 * Without an address it starts a redis-server of its own in a temporary
 * directory (and says "skipped" if there is none).
 */
#include "check.h"
#include <rill.h>
#include <rill/redis.h>

#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

typedef struct reading {
    uint32_t sensor;
    uint32_t seq;
    double celsius;
} reading_t;

static int encode_reading(void *ud, const void *item, rill_redis_args_t *a)
{
    (void)ud;
    const reading_t *r = item;
    char seq[16], sensor[16], c[32];
    int ns = snprintf(seq, sizeof seq, "%" PRIu32, r->seq);
    int nn = snprintf(sensor, sizeof sensor, "s%" PRIu32, r->sensor);
    int nc = snprintf(c, sizeof c, "%.2f", r->celsius);
    int st = 0;
    if (!st)
        st = rill_redis_args_add(a, "seq", 3);
    if (!st)
        st = rill_redis_args_add(a, seq, (size_t)ns);
    if (!st)
        st = rill_redis_args_add(a, "sensor", 6);
    if (!st)
        st = rill_redis_args_add(a, sensor, (size_t)nn);
    if (!st)
        st = rill_redis_args_add(a, "celsius", 7);
    if (!st)
        st = rill_redis_args_add(a, c, (size_t)nc);
    return st;
}

/* ---- a worker process ---- */

static int worker(const char *addr, int index)
{
    rill_runtime_t *rt;
    CHECK(rill_runtime_new(&rt, NULL));
    rill_redis_config_t cc = {.runtime = rt};
    rill_redis_t *out;
    CHECK(rill_redis_new(&out, addr, &cc));
    char name[32];
    snprintf(name, sizeof name, "worker-%d", index);
    rill_redis_group_t *g;
    rill_redis_group_config_t gc = {.conn = &cc,
                                    .create = true,
                                    .count = 32,
                                    .claim_idle = RILL_MS(200),
                                    .claim_interval = RILL_MS(100),
                                    .max_deliveries = 5};
    CHECK(rill_redis_group_new(&g, addr, "sensors", "workers", name, &gc));
    rill_stream_t *s;
    CHECK(rill_redis_group_stream(g, &s));
    /* An error item RILL_ETIMEDOUT after 200 ms of silence: time to look
     * whether the producer said stop. */
    CHECK(rill_stream_timeout(&s, RILL_MS(200)));
    uint64_t done = 0, again = 0;
    for (;;) {
        rill_redis_msg_t m;
        int r = rill_next(s, &m);
        if (r == RILL_ETIMEDOUT) {
            rill_redis_reply_t *rep;
            CHECK(rill_redis_command(
                out, &rep, 2, (const char *[]){"GET", "sensors:stop"}, NULL));
            bool stop = rep->type == RILL_REDIS_STRING;
            rill_redis_reply_free(rep);
            if (!stop)
                continue;
            /* Stop only when nothing is pending in the group: entries the
             * killed worker left must be claimed and processed first. */
            CHECK(rill_redis_group_flush(g));
            CHECK(rill_redis_command(
                out, &rep, 3,
                (const char *[]){"XPENDING", "sensors", "workers"}, NULL));
            bool idle = rep->type == RILL_REDIS_ARRAY && rep->elements > 0 &&
                        rep->element[0]->type == RILL_REDIS_INTEGER &&
                        rep->element[0]->integer == 0;
            rill_redis_reply_free(rep);
            if (idle)
                break;
            continue;
        }
        if (r)
            continue; /* an error reply (logged by the stats) */
        const rill_redis_field_t *seq = rill_redis_msg_field(&m, "seq");
        const rill_redis_field_t *c = rill_redis_msg_field(&m, "celsius");
        if (seq && c) {
            char f[32], w[16];
            snprintf(f, sizeof f, "%.2f", atof(c->value) * 1.8 + 32);
            snprintf(w, sizeof w, "%d", index);
            rill_redis_reply_t *rep;
            /* The effect first, then the ack: a crash in between means
             * the reading is processed again, never lost. */
            CHECK(rill_redis_command(
                out, &rep, 9,
                (const char *[]){"XADD", "results", "*", "seq", seq->value,
                                 "fahrenheit", f, "worker", w},
                NULL));
            rill_redis_reply_free(rep);
        }
        CHECK(rill_redis_group_ack(g, &m));
        done++;
        if (m.deliveries > 1)
            again++;
        rill_redis_msg_destroy(&m);
    }
    printf("worker %d: processed %" PRIu64 " readings, %" PRIu64
           " of them redelivered\n",
           index, done, again);
    fflush(stdout);
    rill_stream_free(s);
    rill_redis_group_free(g);
    rill_redis_free(out);
    rill_runtime_free(rt);
    return 0;
}

/* ---- a redis-server of our own, when no address is given ---- */

static char own_dir[64], own_addr[128];
static pid_t own_pid;

static bool ping(const char *path)
{
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    struct sockaddr_un a = {.sun_family = AF_UNIX};
    snprintf(a.sun_path, sizeof a.sun_path, "%s", path);
    bool ok = false;
    char buf[8] = {0};
    if (fd >= 0 && connect(fd, (struct sockaddr *)&a, sizeof a) == 0 &&
        write(fd, "PING\r\n", 6) == 6 && read(fd, buf, 5) == 5)
        ok = !strncmp(buf, "+PONG", 5);
    if (fd >= 0)
        close(fd);
    return ok;
}

static const char *start_own_server(void)
{
    if (system("command -v redis-server >/dev/null 2>&1") != 0)
        return NULL;
    snprintf(own_dir, sizeof own_dir, "/tmp/rill-workers-XXXXXX");
    if (!mkdtemp(own_dir))
        return NULL;
    char sock[96], log[96];
    snprintf(sock, sizeof sock, "%s/redis.sock", own_dir);
    snprintf(log, sizeof log, "%s/redis.log", own_dir);
    snprintf(own_addr, sizeof own_addr, "unix:%s", sock);
    own_pid = fork();
    if (own_pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        execlp("redis-server", "redis-server", "--port", "0", "--unixsocket",
               sock, "--save", "", "--appendonly", "yes", "--dir", own_dir,
               "--logfile", log, (char *)NULL);
        _exit(127);
    }
    for (int i = 0; i < 1000 && !ping(sock); i++)
        nanosleep(&(struct timespec){0, 10 * 1000 * 1000}, NULL);
    return own_addr;
}

static void stop_own_server(void)
{
    if (own_pid > 0) {
        kill(own_pid, SIGTERM);
        waitpid(own_pid, NULL, 0);
        char cmd[128];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", own_dir);
        if (system(cmd) != 0)
            fprintf(stderr, "could not remove %s\n", own_dir);
    }
}

/* ---- the producer and the checker ---- */

typedef struct produce_arg {
    const char *addr;
    int readings;
    int status;
} produce_arg_t;

static void *produce(void *p)
{
    produce_arg_t *a = p;
    reading_t *v = malloc((size_t)a->readings * sizeof *v);
    if (!v) {
        a->status = RILL_ENOMEM;
        return NULL;
    }
    for (int i = 0; i < a->readings; i++)
        v[i] = (reading_t){(uint32_t)(i % 4), (uint32_t)i,
                           15.0 + (i * 7919 % 1000) / 100.0};
    rill_redis_t *c;
    CHECK(rill_redis_new(&c, a->addr, NULL));
    rill_stream_t *s;
    CHECK(rill_stream_iter(&s, v, (size_t)a->readings, sizeof *v));
    free(v);
    uint64_t added = 0;
    rill_redis_sink_config_t sc = {.encode = encode_reading, .batch = 128};
    a->status = rill_redis_write_stream(c, "sensors", s, &added, &sc);
    rill_redis_free(c);
    return NULL;
}

int main(int argc, char **argv)
{
    const char *addr = argc > 1 ? argv[1] : NULL;
    int workers = argc > 2 ? atoi(argv[2]) : 3;
    int readings = argc > 3 ? atoi(argv[3]) : 10000;
    if (workers < 1 || workers > 64 || readings < 1) {
        fprintf(stderr, "usage: %s [address] [workers] [readings]\n", argv[0]);
        return 2;
    }
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (!addr && !(addr = start_own_server())) {
        printf("redis_workers: skipped: no redis-server\n");
        return 0;
    }
    printf("redis_workers: %d workers, %d readings into stream 'sensors' at "
           "%s\n",
           workers, readings, addr);
    /* Workers first, before this process has a runtime (threads and fork
     * do not mix). */
    pid_t pids[64];
    for (int i = 0; i < workers; i++) {
        pids[i] = fork();
        if (pids[i] == 0) {
            prctl(PR_SET_PDEATHSIG, SIGKILL);
            exit(worker(addr, i));
        }
    }
    rill_runtime_t *rt;
    CHECK(rill_runtime_new(&rt, NULL));
    produce_arg_t pa = {addr, readings, 0};
    rill_task_t *producer;
    CHECK(rill_spawn(&producer, produce, &pa,
                     &(rill_spawn_config_t){.runtime = rt}));

    /* Read the results as they come; kill worker 0 a tenth of the way. */
    rill_stream_t *results;
    CHECK(rill_redis_xread_new(
        &results, addr, "results", "0",
        &(rill_redis_xread_config_t){
            .conn = &(rill_redis_config_t){.runtime = rt}}));
    unsigned char *seen = calloc((size_t)readings, 1);
    int distinct = 0, total = 0;
    bool killed = workers < 2; /* one worker alone is not killed */
    while (distinct < readings) {
        rill_redis_msg_t m;
        CHECK(rill_next(results, &m));
        const rill_redis_field_t *seq = rill_redis_msg_field(&m, "seq");
        long k = seq ? atol(seq->value) : -1;
        if (k >= 0 && k < readings && !seen[k]) {
            seen[k] = 1;
            distinct++;
        }
        total++;
        rill_redis_msg_destroy(&m);
        if (!killed && total >= readings / 10) {
            kill(pids[0], SIGKILL);
            waitpid(pids[0], NULL, 0);
            printf("killed worker 0 (SIGKILL) after %d results\n", total);
            killed = true;
        }
    }
    rill_stream_free(results);
    CHECK(rill_join(producer, NULL));
    CHECK(pa.status);
    printf("all %d readings processed: %d results, %d duplicates "
           "(redelivered after the kill; dedupe by seq)\n",
           readings, total, total - distinct);
    /* Tell the workers to stop, and wait for them. */
    rill_redis_t *c;
    CHECK(rill_redis_new(&c, addr, &(rill_redis_config_t){.runtime = rt}));
    rill_redis_reply_t *rep;
    CHECK(rill_redis_command(
        c, &rep, 3, (const char *[]){"SET", "sensors:stop", "1"}, NULL));
    rill_redis_reply_free(rep);
    for (int i = workers < 2 ? 0 : 1; i < workers; i++)
        waitpid(pids[i], NULL, 0);
    CHECK(rill_redis_command(
        c, &rep, 3, (const char *[]){"XPENDING", "sensors", "workers"}, NULL));
    printf("pending in the group at the end: %lld\n",
           rep->type == RILL_REDIS_ARRAY && rep->elements > 0
               ? rep->element[0]->integer
               : -1);
    rill_redis_reply_free(rep);
    rill_redis_free(c);
    free(seen);
    rill_runtime_free(rt);
    stop_own_server();
    return 0;
}
