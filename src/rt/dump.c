/* SPDX-License-Identifier: MIT */
/*
 * dump.c - rill_runtime_dump: every live task and what it waits for; also
 * the body of a deadlock report (deadlock.c) and the SIGQUIT dump.
 *
 * Dump. The live-task shards are walked under their locks; each line is
 * formatted into memory and all of them are written, sorted by task id,
 * after the locks are released. What a stackful task awaits is published
 * by the task itself on its slow wait path (rill__task_diag_set, under
 * the task's one-byte dlock); the dump takes the same lock while it calls
 * the future's describe, so the future (on the task's stack) cannot be
 * returned from meanwhile. A stackless task's future is hidden the same
 * way before it is dropped. The await fast path touches none of this.
 *
 * SIGQUIT. Runtimes created with sigquit_dump register here; the first
 * installs a handler that only writes a byte to a non-blocking pipe, and
 * a thread started once per process reads it and dumps every registered
 * runtime (under the registry lock, which runtime_free's unregister also
 * takes, so a runtime is never freed under its dump).
 */
#include "dump.h"
#include "rt_int.h"

#include "core/describe.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define DESC_MAX 768

/* rill's own threads that never act on a runtime by themselves (the
 * SIGQUIT thread); the deadlock detector counts them as accounted for. */
static _Atomic uint32_t service_threads;

/* ------------------------------------------------------------------------ */
/* A growable text buffer for the dump                                       */
/* ------------------------------------------------------------------------ */

typedef struct line_ref {
    uint64_t key; /* sort key: task id (0 = header) */
    size_t off;   /* offset of the line in the text */
} line_ref_t;

typedef struct dump {
    char *text;
    size_t len, cap;
    line_ref_t *lines;
    size_t nlines, lcap;
    bool oom;
} dump_t;

static void dump_add(dump_t *d, uint64_t key, const char *line)
{
    if (d->oom)
        return;
    size_t n = strlen(line) + 1;
    if (d->len + n > d->cap) {
        size_t cap = d->cap ? d->cap * 2 : 4096;
        while (cap < d->len + n)
            cap *= 2;
        char *t = rill__realloc(d->text, cap);
        if (!t) {
            d->oom = true;
            return;
        }
        d->text = t;
        d->cap = cap;
    }
    if (d->nlines == d->lcap) {
        size_t cap = d->lcap ? d->lcap * 2 : 64;
        line_ref_t *l = rill__realloc(d->lines, cap * sizeof *l);
        if (!l) {
            d->oom = true;
            return;
        }
        d->lines = l;
        d->lcap = cap;
    }
    memcpy(d->text + d->len, line, n);
    d->lines[d->nlines++] = (line_ref_t){key, d->len};
    d->len += n;
}

static int line_cmp(const void *a, const void *b)
{
    const line_ref_t *x = a, *y = b;
    return (x->key > y->key) - (x->key < y->key);
}

/* ------------------------------------------------------------------------ */
/* The dump                                                                  */
/* ------------------------------------------------------------------------ */

static unsigned blocking_running(struct rill_runtime *rt)
{
    /* relaxed: a snapshot for display. */
    return rill__load(&rt->blocking_active, RILL_RELAXED);
}

/* deadlocked: the header of a deadlock report, for which the check has
 * just proved every worker idle. */
static void describe_header(struct rill_runtime *rt, rill_instant_t now,
                            bool deadlocked, rill__buf_t *b)
{
    pthread_mutex_lock(&rt->timer_lock);
    size_t ntimers = rill__wheel_count(&rt->wheel);
    rill_instant_t next = rill__wheel_next_deadline(&rt->wheel);
    pthread_mutex_unlock(&rt->timer_lock);
    rill__blocking_stats_t bs;
    rill__blocking_stats(rt->blocking, &bs);
    /* relaxed: counters for display. A deadlock report says what the
     * check established: every worker idle. (The sleeper count itself
     * dips while an idle worker wakes for its periodic look at its
     * peers' queues and parks again; the report must not depend on
     * whether the dump ran in that moment.) */
    unsigned idle =
        deadlocked ? rt->nworkers : rill__load(&rt->nsleeping, RILL_RELAXED);
    uint64_t alive = rill__load(&rt->alive, RILL_RELAXED);
    unsigned parked = rill__threads_parked_forever();
    rill__buf_printf(b,
                     "rill runtime %p: %u worker%s (%u idle), %llu task%s "
                     "alive, %s clock at ",
                     (void *)rt, rt->nworkers, rt->nworkers == 1 ? "" : "s",
                     idle, (unsigned long long)alive, alive == 1 ? "" : "s",
                     rt->cfg.virtual_clock ? "virtual" : "real");
    rill__buf_duration(b, now - rt->t0);
    rill__buf_printf(b, ", %zu timer%s armed", ntimers,
                     ntimers == 1 ? "" : "s");
    if (next != RILL_FOREVER) {
        rill__buf_printf(b, " (next ");
        rill__buf_duration(b, next - now);
        rill__buf_printf(b, ")");
    }
    unsigned jobs = blocking_running(rt);
    rill__buf_printf(b,
                     ", %u blocking job%s (%u pool thread%s), %u thread%s "
                     "parked in rill_await",
                     jobs, jobs == 1 ? "" : "s", bs.threads,
                     bs.threads == 1 ? "" : "s", parked,
                     parked == 1 ? "" : "s");
}

/* One task's line. Shard lock held (the task cannot be freed). */
static void describe_task(struct rill_task *t, rill_instant_t now,
                          rill__buf_t *b)
{
    uint64_t s = rill__load(&t->state, RILL_ACQUIRE);
    rill__buf_printf(b, "task %llu", (unsigned long long)t->id);
    if (t->name)
        rill__buf_printf(b, " '%s'", t->name);
    if (t->kind == TASK_BLOCKING) {
        rill__buf_printf(b, " blocking job %s", rill__task_state_name(t, s));
        return;
    }
    if (t->kind == TASK_FUTURE)
        rill__buf_printf(b, " (future)");
    rill__buf_printf(b, " %s", rill__task_state_name(t, s));
    if (s & TS_CANCELLED)
        rill__buf_printf(b, " (cancelled)");
    char desc[DESC_MAX];
    desc[0] = '\0';
    rill_instant_t deadline = RILL_FOREVER;
    rill__task_dlock(t);
    rill_future_t *f = t->kind == TASK_STACKFUL ? t->u.sf.awaited : t->u.fu.fut;
    if (t->kind == TASK_STACKFUL)
        deadline = t->u.sf.await_deadline;
    if (f)
        rill_future_describe(f, now, desc, sizeof desc);
    rill__task_dunlock(t);
    if (f)
        rill__buf_printf(b, ": %s", desc);
    if (f && deadline != RILL_FOREVER) {
        rill__buf_printf(b, " [deadline ");
        rill__buf_duration(b, deadline - now);
        rill__buf_printf(b, "]");
    }
}

static int dump_collect(struct rill_runtime *rt, bool deadlocked, dump_t *d)
{
    rill_instant_t now = rill__rt_now(rt);
    char line[DESC_MAX + 256];
    rill__buf_t b;
    rill__buf_init(&b, line, sizeof line);
    describe_header(rt, now, deadlocked, &b);
    dump_add(d, 0, line);
    for (unsigned i = 0; i < RILL_LIVE_SHARDS; i++) {
        pthread_mutex_lock(&rt->live[i].lock);
        for (rill__list_t *l = rt->live[i].list.next; l != &rt->live[i].list;
             l = l->next) {
            struct rill_task *t = RILL_CONTAINER_OF(l, struct rill_task, live);
            rill__buf_init(&b, line, sizeof line);
            rill__buf_printf(&b, "  ");
            describe_task(t, now, &b);
            dump_add(d, t->id, line);
        }
        pthread_mutex_unlock(&rt->live[i].lock);
    }
    return d->oom ? RILL_ENOMEM : 0;
}

int rill__dump_lines(rill_runtime_t *rt, bool deadlocked, rill_dump_line_fn fn,
                     void *ud)
{
    dump_t d;
    memset(&d, 0, sizeof d);
    int rc = dump_collect(rt, deadlocked, &d);
    if (d.nlines > 1)
        qsort(d.lines + 1, d.nlines - 1, sizeof *d.lines, line_cmp);
    for (size_t i = 0; i < d.nlines; i++)
        fn(d.text + d.lines[i].off, ud);
    if (rc)
        fn("  (out of memory: dump incomplete)", ud);
    rill__free(d.text);
    rill__free(d.lines);
    return rc;
}

int rill_runtime_dump_lines(rill_runtime_t *rt, rill_dump_line_fn fn, void *ud)
{
    if (!rt || !fn)
        return RILL_MISUSE("rill_runtime_dump_lines", "NULL %s",
                           rt ? "line function" : "runtime");
    return rill__dump_lines(rt, false, fn, ud);
}

void rill__dump_file_line(const char *line, void *ud)
{
    fprintf((FILE *)ud, "%s\n", line);
}

int rill_runtime_dump(rill_runtime_t *rt, FILE *out)
{
    if (!rt)
        return RILL_MISUSE("rill_runtime_dump", "NULL runtime");
    if (!out)
        out = stderr;
    int rc = rill_runtime_dump_lines(rt, rill__dump_file_line, out);
    fflush(out);
    return rc;
}

/* ------------------------------------------------------------------------ */
/* SIGQUIT                                                                   */
/* ------------------------------------------------------------------------ */

static pthread_mutex_t sq_lock = PTHREAD_MUTEX_INITIALIZER;
static rill__list_t sq_list = {&sq_list, &sq_list}; /* sq_lock */
static unsigned sq_count;                           /* sq_lock */
static bool sq_thread_started;                      /* sq_lock */
static struct sigaction sq_old;                     /* sq_lock */
static int sq_pipe[2] = {-1, -1}; /* set once under sq_lock, before the
                                     handler is installed */

static void sq_handler(int sig)
{
    int saved = errno;
    char c = 1;
    /* Async-signal-safe: one write to a non-blocking pipe; a full pipe
     * means a dump is pending anyway. */
    ssize_t n = write(sq_pipe[1], &c, 1);
    (void)n;
    (void)sig;
    errno = saved;
}

static void *sq_thread(void *arg)
{
    (void)arg;
    for (;;) {
        char c[16];
        ssize_t n = read(sq_pipe[0], c, sizeof c);
        if (n <= 0) {
            if (n < 0 && errno == EINTR)
                continue;
            return NULL;
        }
        pthread_mutex_lock(&sq_lock);
        for (rill__list_t *l = sq_list.next; l != &sq_list; l = l->next) {
            struct rill_runtime *rt =
                RILL_CONTAINER_OF(l, struct rill_runtime, sigquit_link);
            FILE *out = rt->cfg.diag_out ? rt->cfg.diag_out : stderr;
            fprintf(out, "rill: SIGQUIT: task dump\n");
            rill_runtime_dump(rt, out);
        }
        pthread_mutex_unlock(&sq_lock);
    }
}

/* sq_lock held. */
static int sq_start(void)
{
    if (!sq_thread_started) {
        if (pipe2(sq_pipe, O_CLOEXEC) != 0)
            return RILL_ESYS;
        fcntl(sq_pipe[1], F_SETFL, O_NONBLOCK);
        pthread_attr_t a;
        pthread_attr_init(&a);
        pthread_attr_setdetachstate(&a, PTHREAD_CREATE_DETACHED);
        pthread_attr_setstacksize(&a, 256 * 1024);
        /* The thread must not take the signal itself: block it there
         * (the mask is inherited from the creating thread). */
        sigset_t all, old;
        sigfillset(&all);
        pthread_sigmask(SIG_BLOCK, &all, &old);
        pthread_t th;
        int rc = pthread_create(&th, &a, sq_thread, NULL);
        pthread_sigmask(SIG_SETMASK, &old, NULL);
        pthread_attr_destroy(&a);
        if (rc != 0) {
            close(sq_pipe[0]);
            close(sq_pipe[1]);
            sq_pipe[0] = sq_pipe[1] = -1;
            return RILL_ESYS;
        }
        sq_thread_started = true;
        rill__fetch_add(&service_threads, 1, RILL_SEQ_CST);
    }
    if (sq_count == 0) {
        struct sigaction sa;
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = sq_handler;
        sigemptyset(&sa.sa_mask);
        sa.sa_flags = SA_RESTART;
        if (sigaction(SIGQUIT, &sa, &sq_old) != 0)
            return RILL_ESYS;
    }
    return 0;
}

uint32_t rill__service_threads(void)
{
    return rill__load(&service_threads, RILL_SEQ_CST);
}

void rill__sigquit_register(struct rill_runtime *rt)
{
    rt->sigquit_link.prev = rt->sigquit_link.next = NULL; /* on no list */
    if (!rt->cfg.sigquit_dump)
        return;
    pthread_mutex_lock(&sq_lock);
    if (sq_start() == 0) {
        rill__list_push_back(&sq_list, &rt->sigquit_link);
        sq_count++;
    }
    pthread_mutex_unlock(&sq_lock);
}

void rill__sigquit_unregister(struct rill_runtime *rt)
{
    if (!rill__list_linked(&rt->sigquit_link))
        return;
    pthread_mutex_lock(&sq_lock);
    rill__list_remove(&rt->sigquit_link);
    if (--sq_count == 0)
        sigaction(SIGQUIT, &sq_old, NULL);
    pthread_mutex_unlock(&sq_lock);
}
