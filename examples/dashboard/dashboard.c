/* SPDX-License-Identifier: MIT */
/*
 * dashboard.c - the sensor pipeline of `make demo`, live in a browser
 * (`make dashboard`): a chart per sensor and the pipeline's counters over
 * Server-Sent Events, and a WebSocket whose commands change a sensor's
 * rate.
 *
 *   sensor threads ──► readings (bounded channel) ──► parse ──► batches
 *     ▲ (one command                                             │
 *     │  channel each)                                    2 store tasks
 *     │                                                          │
 *   command task ◄── commands (channel) ◄── hub's on_message     │
 *     │                                                          ▼
 *     └─► replies, bursts ──► events (channel) ◄─────────── + monitor
 *                                   │
 *                           publisher task ──► hub: /events, SSE and
 *                                              WebSocket clients
 *
 * Every event the page gets goes through the one publisher task, which
 * numbers it (the event id, consecutive, so the page can check it missed
 * nothing; it is also in the JSON, which is all a WebSocket message
 * carries) and publishes it to the hub (rill/hub.h). The hub encodes it
 * once per protocol, queues a reference for every client, and keeps a
 * replay ring: a browser that reconnects (Last-Event-ID, or
 * ?last_event_id= for a WebSocket) gets what it missed. A client over its
 * byte budget is disconnected (DISCONNECT) and resumes that way, so a
 * slow browser never holds the pipeline back and loses nothing it can
 * come back for.
 *
 * The browser's commands ({"cmd":"rate","sensor":2,"hz":100}) arrive on
 * its WebSocket; the hub hands them to on_message, which puts them into
 * the commands channel; the command task puts a rate into that sensor's
 * command channel (the sensor thread waits on it between readings:
 * rill_recv_timeout is its clock, so a new rate takes effect at once) and
 * publishes the answer as an event ("ack" or "refused", with the client's
 * number), which every page shows.
 *
 * Usage: dashboard [--test] [port]   (port: 0 = any free one; default the
 * environment's RILL_DASHBOARD_PORT, else 8080). --test adds the commands
 * the browser test uses: "burst" (n numbered events through the
 * publisher), "drop_sse" and "drop_ws" (the server's side of every SSE or
 * WebSocket connection is shut down, then "then_burst" events are
 * published; the browsers reconnect and resume after their last event). GET
 * /stats: the pipeline's counters and the hub's (rill_hub_stats_json). SIGINT
 * or SIGTERM shuts the server down gracefully; the pipeline drains and the
 * program exits 0.
 */
#include "check.h"
#include <rill.h>

#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

enum {
    SENSORS = 4,
    QUEUE_CAPACITY = 1024, /* readings between the sensors and the pipeline */
    BATCH = 64,
    STORES = 2,
    EVENTS_CAPACITY = 1024, /* events on their way to the publisher */
    REPLAY = 16384,         /* events the hub keeps for resuming browsers */
    BUDGET = 2 << 20,       /* bytes queued per client before DISCONNECT */
    COMMANDS = 64,          /* commands waiting for the command task */
    MAX_COMMAND = 256,      /* bytes of one command */
    MAX_RATE = 2000,        /* readings per second a sensor may be set to */
    MAX_BURST = 1000000,    /* events one test burst may ask for */
    ERR_MALFORMED = RILL_EUSER - 1, /* not a number */
    ERR_RANGE = RILL_EUSER - 2      /* a number no sensor can read */
};
#define BATCH_WINDOW RILL_MS(100)
#define STORE_TIME RILL_MS(5)
#define REPORT_EVERY RILL_MS(250)

/* Extern: dashboard_assets.c, generated from index.html, dashboard.js and
 * dashboard.css by embed.cmake (the page works offline: no CDN). */
extern const unsigned char dash_index_html[], dash_dashboard_js[],
    dash_dashboard_css[];
extern const size_t dash_index_html_len, dash_dashboard_js_len,
    dash_dashboard_css_len;

/* One event on its way to the publisher: its type (a static string: the
 * SSE event name) and its JSON body ({"type":...,...}). */
typedef struct dash_event {
    const char *type;
    rill_bytes_t json;
} dash_event_t;

static void dash_event_dtor(void *item, void *ud)
{
    (void)ud;
    rill_bytes_release(&((dash_event_t *)item)->json);
}

/* A connection being served at /events (for drop_sse and drop_ws). */
typedef struct client {
    struct client *next;
    rill_http_conn_t *conn;
    bool ws;
} client_t;

static struct app {
    bool test_mode;
    rill_http_server_t *srv;
    rill_hub_t *hub;
    rill_sender_t *events_tx;   /* cloned by every producer of events */
    rill_sender_t *commands_tx; /* on_message's */
    rill_sender_t *cmd_tx[SENSORS];
    rill_instant_t t0;

    /* The connections being served at /events (for the test's drops).
     * Held only for list changes and the drop, never across a wait. */
    pthread_mutex_t lock;
    client_t *clients;

    /* Counters: relaxed, each a statistic on its own (the monitor reads
     * them at different moments anyway). */
    atomic_long stored, errors, batches, published;
    atomic_long sse_resumes, ws_resumes, commands, commands_dropped, bursts;
    atomic_int in_flight;
    atomic_int rate[SENSORS];      /* readings/s, as the sensor applied it */
    atomic_long produced[SENSORS]; /* readings sent, per sensor */

    pthread_mutex_t stats_lock; /* guards last_rates */
} app = {.lock = PTHREAD_MUTEX_INITIALIZER,
         .stats_lock = PTHREAD_MUTEX_INITIALIZER};

static long ms_since_start(void)
{
    return (long)((rill_now() - app.t0) / RILL_MS(1));
}

/* A JSON text built with printf formats, into a fixed buffer. */
typedef struct jbuf {
    char buf[4096];
    size_t len;
    bool overflow;
} jbuf_t;

static void jprintf(jbuf_t *j, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(j->buf + j->len, sizeof j->buf - j->len, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof j->buf - j->len)
        j->overflow = true;
    else
        j->len += (size_t)n;
}

/* Send an event to the publisher (waits while its channel is full: the
 * publisher's pace holds the producers back). */
static int emit(rill_sender_t *tx, const char *type, const jbuf_t *j)
{
    if (j->overflow)
        return RILL_EINVAL;
    dash_event_t ev = {.type = type};
    int rc = rill_bytes_new(&ev.json, j->buf, j->len);
    if (rc == 0 && (rc = rill_send(tx, &ev)) != 0)
        rill_bytes_release(&ev.json);
    return rc;
}

/* ---- sensors: plain threads; the command channel is their clock ---- */

typedef struct sensor_cmd {
    int hz;
} sensor_cmd_t;

typedef struct sensor {
    int id;
    rill_sender_t *tx;     /* readings */
    rill_receiver_t *cmds; /* rate commands */
    pthread_t thread;
} sensor_t;

static void *sensor_thread(void *arg)
{
    sensor_t *s = arg;
    unsigned seed = (unsigned)s->id * 7919u + 1u;
    int hz = atomic_load(&app.rate[s->id]);
    rill_instant_t next = rill_now();
    for (;;) {
        /* Wait for the next reading's time, or a command. */
        rill_instant_t now = rill_now();
        sensor_cmd_t cmd;
        int rc = hz == 0 ? rill_recv(s->cmds, &cmd)
                         : rill_recv_timeout(s->cmds, &cmd,
                                             next > now ? next - now : 0);
        if (rc == 0) { /* a new rate, from now on */
            hz = cmd.hz;
            atomic_store_explicit(&app.rate[s->id], hz, memory_order_relaxed);
            next = rill_now();
            continue;
        }
        if (rc != RILL_ETIMEDOUT)
            break; /* RILL_DONE: the command channel closed (shutdown) */
        char text[48];
        long t = ms_since_start();
        seed = seed * 1103515245u + 12345u;
        unsigned dice = (seed >> 16) % 1000;
        if (dice < 5)
            snprintf(text, sizeof text, "s%d ERR %ld", s->id, t);
        else if (dice < 10)
            snprintf(text, sizeof text, "s%d 999.9 %ld", s->id, t);
        else
            snprintf(text, sizeof text, "s%d %.2f %ld", s->id,
                     20.0 + 3.0 * s->id +
                         4.0 * sin((double)t / (1500.0 + 700.0 * s->id)) +
                         (double)((seed >> 8) % 100) / 400.0,
                     t);
        if (rill_send(s->tx, &text) != 0) /* parks while the queue is full */
            break;
        atomic_fetch_add_explicit(&app.produced[s->id], 1,
                                  memory_order_relaxed);
        /* The next reading is a period after this one was due; after a
         * stall (a full queue), start again from now instead of catching
         * up in a burst. */
        next += RILL_SEC(1) / hz;
        if (next < rill_now() - RILL_MS(100))
            next = rill_now();
    }
    rill_sender_release(s->tx);
    rill_receiver_release(s->cmds);
    return NULL;
}

/* ---- the pipeline stages ---- */

typedef struct reading {
    int sensor;
    long t_ms;
    double celsius;
} reading_t;

static int parse_reading(void *ud, void *in, void *out)
{
    (void)ud;
    const char *text = in;
    reading_t *r = out;
    char *end;
    if (text[0] != 's')
        return ERR_MALFORMED;
    r->sensor = (int)strtol(text + 1, &end, 10);
    if (*end != ' ' || r->sensor < 0 || r->sensor >= SENSORS)
        return ERR_MALFORMED;
    const char *num = end + 1;
    r->celsius = strtod(num, &end);
    if (end == num || *end != ' ')
        return ERR_MALFORMED;
    r->t_ms = strtol(end + 1, &end, 10);
    if (*end != '\0')
        return ERR_MALFORMED;
    if (r->celsius < -50.0 || r->celsius > 150.0)
        return ERR_RANGE;
    return 0;
}

/* One store task: a batch "written" to a database that takes its time,
 * then shown on the page. */
static int store_batch(void *ud, int status, void *item)
{
    rill_sender_t *events = ud;
    if (status < 0) { /* a bad reading, as an error item */
        atomic_fetch_add_explicit(&app.errors, 1, memory_order_relaxed);
        return 0;
    }
    rill_chunk_t *batch = item;
    atomic_fetch_add_explicit(&app.in_flight, 1, memory_order_relaxed);
    rill_sleep(STORE_TIME); /* the write */
    jbuf_t j = {.len = 0};
    jprintf(&j, "{\"type\":\"readings\",\"points\":[");
    for (size_t i = 0; i < batch->len; i++) {
        reading_t *r = &RILL_CHUNK_AT(batch, reading_t, i);
        jprintf(&j, "%s[%d,%ld,%.2f]", i ? "," : "", r->sensor, r->t_ms,
                r->celsius);
    }
    jprintf(&j, "]}");
    long n = (long)batch->len;
    rill_chunk_destroy(batch);
    int rc = emit(events, "readings", &j);
    atomic_fetch_add_explicit(&app.stored, n, memory_order_relaxed);
    atomic_fetch_add_explicit(&app.batches, 1, memory_order_relaxed);
    atomic_fetch_sub_explicit(&app.in_flight, 1, memory_order_relaxed);
    /* A closed events channel only happens at shutdown: keep draining. */
    return rc == RILL_ECLOSED ? 0 : rc;
}

typedef struct pipeline {
    rill_stream_t *stream;
    rill_sender_t *events;
} pipeline_t;

static void *pipeline_task(void *arg)
{
    pipeline_t *p = arg;
    int rc = rill_stream_for_each_concurrent(p->stream, STORES, store_batch,
                                             p->events);
    rill_sender_release(p->events);
    return rc == 0 ? NULL : (void *)1;
}

/* ---- the monitor: the pipeline's counters, 4 times a second ---- */

typedef struct monitor {
    rill_sender_t *readings; /* a clone, for the channel's stats */
    rill_sender_t *events;
    atomic_bool done;
} monitor_t;

/* The rates of the last report (guarded by app.stats_lock). */
static struct rates {
    double throughput;
    double measured[SENSORS];
} last_rates;

/* The counters as JSON: the stats event, and GET /stats (with the rates
 * the monitor measured last). */
static void stats_json(jbuf_t *j, rill_sender_t *readings)
{
    rill_channel_stats_t q;
    rill_sender_stats(readings, &q);
    rill_hub_stats_t h;
    rill_hub_stats(app.hub, &h);
    pthread_mutex_lock(&app.stats_lock);
    struct rates r = last_rates;
    pthread_mutex_unlock(&app.stats_lock);
    jprintf(j,
            "{\"type\":\"stats\",\"t\":%ld,\"throughput\":%.0f,"
            "\"stored\":%ld,\"errors\":%ld,\"batches\":%ld,"
            "\"queue\":%zu,\"capacity\":%d,\"high_water\":%llu,"
            "\"sensor_waits\":%llu,\"in_flight\":%d,\"stores\":%d,"
            "\"sse_clients\":%llu,\"ws_clients\":%llu,\"published\":%ld,"
            "\"deliveries\":%llu,\"dropped\":%llu,\"disconnected\":%llu,"
            "\"sse_resumes\":%ld,\"ws_resumes\":%ld,\"commands\":%ld,"
            "\"commands_dropped\":%ld,\"test\":%s,"
            "\"max_rate\":%d,\"sensors\":[",
            ms_since_start(), r.throughput, atomic_load(&app.stored),
            atomic_load(&app.errors), atomic_load(&app.batches), q.len,
            QUEUE_CAPACITY, (unsigned long long)q.high_water,
            (unsigned long long)q.waits_full, atomic_load(&app.in_flight),
            STORES, (unsigned long long)h.sse_clients,
            (unsigned long long)h.ws_clients, atomic_load(&app.published),
            (unsigned long long)h.events_sent, (unsigned long long)h.dropped,
            (unsigned long long)h.disconnected, atomic_load(&app.sse_resumes),
            atomic_load(&app.ws_resumes), atomic_load(&app.commands),
            atomic_load(&app.commands_dropped),
            app.test_mode ? "true" : "false", MAX_RATE);
    for (int i = 0; i < SENSORS; i++)
        jprintf(j, "%s{\"rate\":%d,\"measured\":%.1f,\"readings\":%ld}",
                i ? "," : "", atomic_load(&app.rate[i]), r.measured[i],
                atomic_load(&app.produced[i]));
    jprintf(j, "]}");
}

static void *monitor_task(void *arg)
{
    monitor_t *m = arg;
    rill_stream_t *ticks;
    CHECK(rill_stream_interval(&ticks, REPORT_EVERY, RILL_TICK_SKIP));
    /* The rates are over the last RATE_WINDOW reports (a second): shorter
     * windows alias with the batching. */
    enum { RATE_WINDOW = 4 };
    struct sample {
        rill_instant_t t;
        long done, made[SENSORS];
    } hist[RATE_WINDOW] = {{0}};
    for (int k = 0; k < RATE_WINDOW; k++)
        hist[k].t = rill_now();
    rill_instant_t tick;
    for (unsigned n = 1; !atomic_load(&m->done) && rill_next(ticks, &tick) == 0;
         n++) {
        struct sample now = {.t = rill_now()};
        struct sample *old = &hist[n % RATE_WINDOW]; /* RATE_WINDOW ago */
        now.done = atomic_load(&app.stored) + atomic_load(&app.errors);
        for (int i = 0; i < SENSORS; i++)
            now.made[i] = atomic_load(&app.produced[i]);
        double secs = (double)(now.t - old->t) / 1e9;
        if (secs > 0) {
            pthread_mutex_lock(&app.stats_lock);
            last_rates.throughput = (double)(now.done - old->done) / secs;
            for (int i = 0; i < SENSORS; i++)
                last_rates.measured[i] =
                    (double)(now.made[i] - old->made[i]) / secs;
            pthread_mutex_unlock(&app.stats_lock);
        }
        *old = now;
        jbuf_t j = {.len = 0};
        stats_json(&j, m->readings);
        if (emit(m->events, "stats", &j) != 0)
            break;
    }
    rill_stream_free(ticks);
    return NULL;
}

/* ---- the publisher: number each event, hand it to the hub ---- */

static void *publisher_task(void *arg)
{
    rill_receiver_t *rx = arg;
    dash_event_t ev;
    uint64_t id = 0;
    while (rill_recv(rx, &ev) == 0) {
        /* The JSON with the id in front, {"id":N,"type":...}: a WebSocket
         * message carries only the data. */
        char idtext[24];
        int idlen =
            snprintf(idtext, sizeof idtext, "%llu", (unsigned long long)++id);
        rill_sse_event_t out = {0};
        char *text = malloc(ev.json.len + 32);
        int rc = text && ev.json.len > 1 ? 0 : RILL_ENOMEM;
        if (rc == 0) {
            int n = snprintf(text, 32, "{\"id\":%s,", idtext);
            memcpy(text + n, ev.json.ptr + 1, ev.json.len - 1);
            rc = rill_bytes_new(&out.data, text, (size_t)n + ev.json.len - 1);
        }
        free(text);
        if (rc == 0)
            rc = rill_bytes_new(&out.id, idtext, (size_t)idlen);
        if (rc == 0)
            rc = rill_bytes_new(&out.event, ev.type, strlen(ev.type));
        /* Encoded once per protocol; never waits (DISCONNECT policy). */
        if (rc == 0)
            rc = rill_hub_publish(app.hub, &out);
        if (rc == 0)
            atomic_fetch_add_explicit(&app.published, 1, memory_order_relaxed);
        else
            fprintf(stderr, "dashboard: event %s not published: %s\n", idtext,
                    rill_err_name(rc));
        rill_sse_event_destroy(&out);
        rill_bytes_release(&ev.json);
    }
    rill_receiver_release(rx);
    return NULL;
}

/* ---- HTTP routes ---- */

static int stats_route(void *ud, rill_http_conn_t *c,
                       const rill_http_request_t *req)
{
    (void)req;
    jbuf_t j = {.len = 0};
    stats_json(&j, ((monitor_t *)ud)->readings);
    rill_bytes_t hub;
    if (j.overflow || rill_hub_stats_json(app.hub, &hub) != 0)
        return rill_http_respond(c, 500, "text/plain", "no stats\n", 9);
    /* The pipeline's counters and "hub": the hub's, in one object. */
    size_t cap = j.len + hub.len + 16, n = 0;
    char *body = malloc(cap);
    if (body)
        n = (size_t)snprintf(body, cap, "%.*s,\"hub\":%.*s}\n", (int)j.len - 1,
                             j.buf, (int)hub.len, (const char *)hub.ptr);
    rill_bytes_release(&hub);
    int rc = body ? rill_http_respond(c, 200, "application/json", body, n)
                  : rill_http_respond(c, 503, "text/plain", "no memory\n", 10);
    free(body);
    return rc;
}

/* /events: a client of the hub, SSE or WebSocket, listed while it is
 * served (for the test's drops). */
static int events_route(void *ud, rill_http_conn_t *c,
                        const rill_http_request_t *req)
{
    (void)ud;
    client_t me = {.conn = c, .ws = req->upgrade};
    pthread_mutex_lock(&app.lock);
    me.next = app.clients;
    app.clients = &me;
    pthread_mutex_unlock(&app.lock);
    if (!me.ws && rill_http_request_header(req, "Last-Event-ID"))
        atomic_fetch_add_explicit(&app.sse_resumes, 1, memory_order_relaxed);
    if (me.ws && req->query.len &&
        memmem(req->query.ptr, req->query.len, "last_event_id=", 14))
        atomic_fetch_add_explicit(&app.ws_resumes, 1, memory_order_relaxed);
    int rc = rill_hub_serve(app.hub, c, req, NULL);
    pthread_mutex_lock(&app.lock);
    for (client_t **p = &app.clients; *p; p = &(*p)->next)
        if (*p == &me) {
            *p = me.next;
            break;
        }
    pthread_mutex_unlock(&app.lock);
    return rc != 0 ? rc : -1; /* the connection closes after the stream */
}

/* Test mode: shut down the server's side of every SSE (or WebSocket)
 * connection; the hub sees its client go, the browser reconnects. The
 * fds are still the connections' (a handler unlists itself, under the
 * lock, before its connection is closed). */
static int drop(bool ws)
{
    int n = 0;
    pthread_mutex_lock(&app.lock);
    for (client_t *cl = app.clients; cl; cl = cl->next)
        if (cl->ws == ws &&
            shutdown(rill_io_fd(rill_http_conn_io(cl->conn)), SHUT_RDWR) == 0)
            n++;
    pthread_mutex_unlock(&app.lock);
    return n;
}

/* The integer after "key": in a flat JSON object (the page's commands);
 * false if absent or not a number. */
static bool json_int(const char *text, const char *key, long *out)
{
    char pat[32];
    snprintf(pat, sizeof pat, "\"%s\"", key);
    const char *p = strstr(text, pat);
    if (!p)
        return false;
    p += strlen(pat);
    while (*p == ' ')
        p++;
    if (*p++ != ':')
        return false;
    char *end;
    *out = strtol(p, &end, 10);
    return end != p;
}

/* The "cmd" of a command, copied into name. */
static bool json_cmd(const char *text, char *name, size_t cap)
{
    const char *p = strstr(text, "\"cmd\"");
    if (!p || !(p = strchr(p + 5, '"')))
        return false;
    const char *end = strchr(++p, '"');
    if (!end || (size_t)(end - p) >= cap)
        return false;
    memcpy(name, p, (size_t)(end - p));
    name[end - p] = '\0';
    return true;
}

/* A burst of n numbered events through the publisher (test mode). */
static int burst(long n)
{
    rill_sender_t *tx = NULL;
    int rc = rill_sender_clone(app.events_tx, &tx);
    long b = atomic_fetch_add(&app.bursts, 1) + 1;
    for (long k = 1; rc == 0 && k <= n; k++) {
        jbuf_t j = {.len = 0};
        jprintf(&j, "{\"type\":\"burst\",\"burst\":%ld,\"seq\":%ld,\"n\":%ld}",
                b, k, n);
        rc = emit(tx, "burst", &j);
    }
    if (tx)
        rill_sender_release(tx);
    return rc;
}

/* Run one command from the page; the answer goes into reply. */
static void command(const char *text, jbuf_t *reply)
{
    char cmd[16];
    long sensor, hz, n;
    atomic_fetch_add_explicit(&app.commands, 1, memory_order_relaxed);
    if (!json_cmd(text, cmd, sizeof cmd)) {
        jprintf(reply, "{\"type\":\"refused\",\"error\":\"no cmd\"}");
    } else if (!strcmp(cmd, "rate")) {
        if (!json_int(text, "sensor", &sensor) || sensor < 0 ||
            sensor >= SENSORS || !json_int(text, "hz", &hz) || hz < 0 ||
            hz > MAX_RATE) {
            jprintf(reply,
                    "{\"type\":\"refused\",\"cmd\":\"rate\",\"error\":"
                    "\"sensor 0-%d, hz 0-%d\"}",
                    SENSORS - 1, MAX_RATE);
            return;
        }
        sensor_cmd_t c = {(int)hz};
        /* Into the sensor's command channel; it applies it at once. */
        int rc = rill_try_send(app.cmd_tx[sensor], &c);
        if (rc == 0)
            jprintf(reply,
                    "{\"type\":\"ack\",\"cmd\":\"rate\",\"sensor\":%ld,"
                    "\"hz\":%ld}",
                    sensor, hz);
        else
            jprintf(reply,
                    "{\"type\":\"refused\",\"cmd\":\"rate\",\"error\":\"%s\"}",
                    rill_err_name(rc));
    } else if (app.test_mode && !strcmp(cmd, "burst")) {
        if (!json_int(text, "n", &n) || n < 1 || n > MAX_BURST) {
            jprintf(reply, "{\"type\":\"refused\",\"cmd\":\"burst\",\"error\":"
                           "\"n 1-1000000\"}");
            return;
        }
        int rc = burst(n);
        jprintf(reply,
                "{\"type\":\"ack\",\"cmd\":\"burst\",\"n\":%ld,\"status\":"
                "\"%s\"}",
                n, rc ? rill_err_name(rc) : "ok");
    } else if (app.test_mode &&
               (!strcmp(cmd, "drop_sse") || !strcmp(cmd, "drop_ws"))) {
        /* Drop, then (then_burst) publish while the browsers are away. */
        int dropped = drop(cmd[5] == 'w');
        if (!json_int(text, "then_burst", &n) || n < 0 || n > MAX_BURST)
            n = 0;
        int rc = n ? burst(n) : 0;
        jprintf(reply,
                "{\"type\":\"ack\",\"cmd\":\"%s\",\"dropped\":%d,\"burst\":%ld,"
                "\"status\":\"%s\"}",
                cmd, dropped, n, rc ? rill_err_name(rc) : "ok");
    } else {
        jprintf(reply, "{\"type\":\"refused\",\"error\":\"unknown command\"}");
    }
}

/* A command from a page, on its way to the command task. */
typedef struct command_msg {
    uint64_t client; /* the hub's number for the WebSocket it came on */
    char text[MAX_COMMAND];
} command_msg_t;

/* The hub's on_message, in the client's task: hand the command over and
 * return (the burst it may ask for must not run in a task the hub waits
 * on). A full queue or an oversized command is counted and dropped. */
static void on_message(void *ud, uint64_t client, const rill_ws_message_t *m)
{
    (void)ud;
    command_msg_t cmd = {.client = client};
    if (m->opcode != RILL_WS_TEXT || m->data.len >= sizeof cmd.text) {
        atomic_fetch_add_explicit(&app.commands_dropped, 1,
                                  memory_order_relaxed);
        return;
    }
    memcpy(cmd.text, m->data.ptr, m->data.len);
    if (rill_try_send(app.commands_tx, &cmd) != 0)
        atomic_fetch_add_explicit(&app.commands_dropped, 1,
                                  memory_order_relaxed);
}

/* Runs the commands; each answer is an event ("ack" or "refused", with the
 * client's number) that every page gets. */
static void *command_task(void *arg)
{
    rill_receiver_t *rx = arg;
    rill_sender_t *events;
    CHECK(rill_sender_clone(app.events_tx, &events));
    command_msg_t cmd;
    while (rill_recv(rx, &cmd) == 0) {
        jbuf_t reply = {.len = 0}, ev = {.len = 0};
        command(cmd.text, &reply);
        bool ack = !strncmp(reply.buf, "{\"type\":\"ack\"", 13);
        jprintf(&ev, "{\"client\":%llu,%s", (unsigned long long)cmd.client,
                reply.buf + 1);
        if (emit(events, ack ? "ack" : "refused", &ev) != 0)
            break;
    }
    rill_sender_release(events);
    rill_receiver_release(rx);
    return NULL;
}

/* ---- wiring ---- */

/* SIGINT / SIGTERM: a graceful shutdown (this thread waits for them; every
 * other thread has them blocked). */
static void *signal_thread(void *arg)
{
    sigset_t *set = arg;
    int sig;
    if (sigwait(set, &sig) == 0 && sig != SIGUSR1)
        rill_http_server_shutdown(app.srv);
    return NULL;
}

typedef struct options {
    char addr[32];
    sigset_t signals;
} options_t;

static void *main_task(void *arg)
{
    options_t *o = arg;
    app.t0 = rill_now();
    static const int initial_rate[SENSORS] = {20, 10, 40, 5};
    for (int i = 0; i < SENSORS; i++)
        atomic_store(&app.rate[i], initial_rate[i]);

    /* The events channel and the publisher. */
    rill_receiver_t *events_rx;
    rill_channel_config_t ev_opts = {"events", dash_event_dtor, NULL};
    CHECK(rill_channel_new(&app.events_tx, &events_rx, sizeof(dash_event_t),
                           EVENTS_CAPACITY, &ev_opts));
    /* The hub: a slow client is disconnected and comes back for what it
     * missed (the ring holds REPLAY events); pages reconnect in 500 ms. */
    rill_hub_config_t hc = {.name = "dashboard",
                            .policy = RILL_HUB_DISCONNECT,
                            .budget = BUDGET,
                            .replay = REPLAY,
                            .retry_ms = 500,
                            .on_message = on_message};
    CHECK(rill_hub_new(&app.hub, &hc));
    rill_task_t *publisher;
    CHECK(rill_spawn(&publisher, publisher_task, events_rx, NULL));

    /* The commands channel and its task. */
    rill_receiver_t *commands_rx;
    rill_channel_config_t cmd_opts = {.name = "page commands"};
    CHECK(rill_channel_new(&app.commands_tx, &commands_rx,
                           sizeof(command_msg_t), COMMANDS, &cmd_opts));
    rill_task_t *commander;
    CHECK(rill_spawn(&commander, command_task, commands_rx, NULL));

    /* The pipeline, as in `make demo`. */
    rill_sender_t *readings_tx;
    rill_receiver_t *readings_rx;
    rill_channel_config_t r_opts = {.name = "readings"};
    CHECK(rill_channel_new(&readings_tx, &readings_rx, 48, QUEUE_CAPACITY,
                           &r_opts));
    pipeline_t pipe = {0};
    CHECK(rill_receiver_into_stream(readings_rx, &pipe.stream));
    CHECK(
        rill_stream_map(&pipe.stream, parse_reading, NULL, sizeof(reading_t)));
    CHECK(rill_stream_chunks_timeout(&pipe.stream, BATCH, BATCH_WINDOW));
    CHECK(rill_sender_clone(app.events_tx, &pipe.events));
    rill_task_t *pipeline;
    CHECK(rill_spawn(&pipeline, pipeline_task, &pipe, NULL));

    monitor_t mon = {0};
    CHECK(rill_sender_clone(readings_tx, &mon.readings));
    CHECK(rill_sender_clone(app.events_tx, &mon.events));
    rill_task_t *monitor;
    CHECK(rill_spawn(&monitor, monitor_task, &mon, NULL));

    static sensor_t sensors[SENSORS];
    for (int i = 0; i < SENSORS; i++) {
        sensors[i].id = i;
        rill_channel_config_t c_opts = {.name = "commands"};
        CHECK(rill_channel_new(&app.cmd_tx[i], &sensors[i].cmds,
                               sizeof(sensor_cmd_t), 16, &c_opts));
        CHECK(rill_sender_clone(readings_tx, &sensors[i].tx));
        if (pthread_create(&sensors[i].thread, NULL, sensor_thread,
                           &sensors[i]) != 0) {
            fprintf(stderr, "dashboard: cannot start a sensor thread\n");
            exit(1);
        }
    }
    rill_sender_release(readings_tx); /* the sensors and the monitor hold it */

    /* The server. */
    int rc = rill_http_server_new(&app.srv, o->addr, NULL);
    if (rc != 0) {
        fprintf(stderr, "dashboard: cannot listen on %s: %s\n", o->addr,
                rill_err_name(rc));
        exit(1);
    }
    CHECK(rill_http_route_static(app.srv, "/", "text/html; charset=utf-8",
                                 dash_index_html, dash_index_html_len));
    CHECK(rill_http_route_static(app.srv, "/dashboard.js",
                                 "text/javascript; charset=utf-8",
                                 dash_dashboard_js, dash_dashboard_js_len));
    CHECK(rill_http_route_static(app.srv, "/dashboard.css",
                                 "text/css; charset=utf-8", dash_dashboard_css,
                                 dash_dashboard_css_len));
    CHECK(
        rill_http_route(app.srv, RILL_HTTP_GET, "/events", events_route, NULL));
    CHECK(rill_http_route(app.srv, RILL_HTTP_GET, "/stats", stats_route, &mon));
    pthread_t sig;
    if (pthread_create(&sig, NULL, signal_thread, &o->signals) != 0)
        exit(1);
    printf("dashboard: http://127.0.0.1:%d/%s  (Ctrl-C stops it)\n",
           rill_http_server_port(app.srv),
           app.test_mode ? "  [test mode]" : "");
    fflush(stdout);
    rc = rill_http_server_run(app.srv);

    /* Shutdown: the sensors stop (their command channels close), the
     * pipeline drains, then the publisher ends with the events channel. */
    pthread_kill(sig, SIGUSR1); /* if it is still waiting */
    pthread_join(sig, NULL);
    for (int i = 0; i < SENSORS; i++) {
        rill_sender_release(app.cmd_tx[i]);
        pthread_join(sensors[i].thread, NULL);
    }
    atomic_store(&mon.done, true);
    CHECK(rill_join(monitor, NULL));
    rill_sender_release(mon.readings);
    rill_sender_release(mon.events);
    void *failed = NULL;
    CHECK(rill_join(pipeline, &failed));
    rill_sender_release(app.commands_tx); /* no page is left to send one */
    CHECK(rill_join(commander, NULL));
    rill_sender_release(app.events_tx);
    CHECK(rill_join(publisher, NULL));
    rill_hub_free(app.hub);
    rill_http_server_free(app.srv);
    printf("dashboard: stopped; %ld readings stored, %ld bad, %ld events "
           "published\n",
           atomic_load(&app.stored), atomic_load(&app.errors),
           atomic_load(&app.published));
    return rc != 0 || failed ? (void *)1 : NULL;
}

int main(int argc, char **argv)
{
    options_t o;
    const char *port = getenv("RILL_DASHBOARD_PORT");
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--test"))
            app.test_mode = true;
        else if (argv[i][0] >= '0' && argv[i][0] <= '9')
            port = argv[i];
        else {
            fprintf(stderr, "usage: %s [--test] [port]\n", argv[0]);
            return 2;
        }
    }
    char *end;
    long p = port ? strtol(port, &end, 10) : 8080;
    if (port && (*end || p < 0 || p > 65535)) {
        fprintf(stderr, "dashboard: bad port %s\n", port);
        return 2;
    }
    snprintf(o.addr, sizeof o.addr, "127.0.0.1:%ld", p);
    /* Blocked here, so in every thread made from now on (the runtime's
     * workers, the sensors); signal_thread takes them with sigwait. */
    sigemptyset(&o.signals);
    sigaddset(&o.signals, SIGINT);
    sigaddset(&o.signals, SIGTERM);
    sigaddset(&o.signals, SIGUSR1);
    pthread_sigmask(SIG_BLOCK, &o.signals, NULL);

    rill_runtime_t *rt;
    void *failed = NULL;
    CHECK(rill_runtime_new(&rt, NULL));
    int rc = rill_block_on(rt, main_task, &o, &failed);
    rill_runtime_free(rt);
    return rc == 0 && !failed ? 0 : 1;
}
