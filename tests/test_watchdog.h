/* SPDX-License-Identifier: MIT */
/*
 * test_watchdog.h - a per-test watchdog, so that a test that hangs
 * explains itself instead of being killed silently by CTest's timeout.
 *
 * watchdog_start() (once, in main) starts a thread that sleeps on a
 * condition variable until the armed test's deadline. Each test's setup
 * calls watchdog_arm(name, limit) and its teardown watchdog_disarm();
 * watchdog_runtime(rt) names the runtime to dump (NULL before freeing
 * it). When a deadline passes, the thread prints, on stderr:
 *   - which test hung and for how long;
 *   - rill_runtime_dump of the named runtime (every task and what it
 *     waits for);
 *   - every thread of the process: name, state, kernel wait channel and
 *     the system call it is in (/proc/self/task/<tid>/...);
 *   - every thread's backtrace, through `gdb -batch` attached to the
 *     process (when gdb is installed);
 * then aborts (a core dump, if enabled, has the rest).
 *
 * The limit is generous (a minute for most tests): it is a diagnosis of
 * hangs, not a timing check. TEST_WATCHDOG_SCALE=<factor> in the
 * environment multiplies every limit (for slow machines and debuggers; 0
 * turns the watchdog off).
 */
#ifndef RILL_TESTS_TEST_WATCHDOG_H
#define RILL_TESTS_TEST_WATCHDOG_H

#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <rill/rt.h>

typedef struct watchdog {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool started;
    const char *test;       /* armed: the test's name; NULL: disarmed */
    struct timespec armed;  /* when (CLOCK_MONOTONIC) */
    struct timespec expiry; /* the deadline (CLOCK_MONOTONIC) */
    double limit_s;
    rill_runtime_t *rt; /* dumped when it fires; guarded by mu */
    double scale;
} watchdog_t;

static watchdog_t watchdog_ = {.mu = PTHREAD_MUTEX_INITIALIZER,
                               .cv = PTHREAD_COND_INITIALIZER};

/* One file's first line into buf (empty on failure). */
static inline void watchdog_read1(const char *path, char *buf, size_t len)
{
    buf[0] = 0;
    FILE *f = fopen(path, "r");
    if (!f)
        return;
    if (!fgets(buf, (int)len, f))
        buf[0] = 0;
    fclose(f);
    buf[strcspn(buf, "\n")] = 0;
}

/* Every thread of this process: tid, name, state, wchan, syscall. */
static inline void watchdog_threads(void)
{
    DIR *d = opendir("/proc/self/task");
    if (!d) {
        fprintf(stderr, "watchdog: cannot list /proc/self/task\n");
        return;
    }
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        char path[96], comm[64], stat[512], wchan[96], sys[256];
        snprintf(path, sizeof path, "/proc/self/task/%.32s/comm", e->d_name);
        watchdog_read1(path, comm, sizeof comm);
        snprintf(path, sizeof path, "/proc/self/task/%.32s/stat", e->d_name);
        watchdog_read1(path, stat, sizeof stat);
        snprintf(path, sizeof path, "/proc/self/task/%.32s/wchan", e->d_name);
        watchdog_read1(path, wchan, sizeof wchan);
        snprintf(path, sizeof path, "/proc/self/task/%.32s/syscall", e->d_name);
        watchdog_read1(path, sys, sizeof sys);
        /* The state is the field after the ")" that closes the name. */
        const char *rp = strrchr(stat, ')');
        char state = rp && rp[1] == ' ' ? rp[2] : '?';
        fprintf(stderr,
                "watchdog: thread %s '%s' state %c wchan %s syscall %.48s\n",
                e->d_name, comm, state, wchan[0] ? wchan : "-",
                sys[0] ? sys : "-");
    }
    closedir(d);
}

/* Every thread's backtrace, from gdb attached to us (if there is gdb). */
static inline void watchdog_backtraces(void)
{
    if (access("/usr/bin/gdb", X_OK) != 0) {
        fprintf(stderr, "watchdog: no /usr/bin/gdb, no backtraces\n");
        return;
    }
    char pid[24];
    snprintf(pid, sizeof pid, "%d", (int)getpid());
    fflush(stderr);
    pid_t child = fork();
    if (child == 0) {
        dup2(2, 1); /* its output to our stderr */
        execl("/usr/bin/gdb", "gdb", "-q", "-n", "-batch", "-p", pid, "-ex",
              "set pagination off", "-ex", "thread apply all bt 30",
              (char *)NULL);
        _exit(127);
    }
    if (child > 0)
        while (waitpid(child, NULL, 0) < 0 && errno == EINTR)
            ;
}

static inline void *watchdog_main(void *arg)
{
    (void)arg;
    pthread_setname_np(pthread_self(), "watchdog");
    pthread_mutex_lock(&watchdog_.mu);
    for (;;) {
        if (!watchdog_.test) {
            pthread_cond_wait(&watchdog_.cv, &watchdog_.mu);
            continue;
        }
        int r = pthread_cond_timedwait(&watchdog_.cv, &watchdog_.mu,
                                       &watchdog_.expiry);
        if (r != ETIMEDOUT || !watchdog_.test)
            continue; /* disarmed, armed again, or woken early */
        struct timespec now;
        clock_gettime(CLOCK_MONOTONIC, &now);
        if (now.tv_sec < watchdog_.expiry.tv_sec ||
            (now.tv_sec == watchdog_.expiry.tv_sec &&
             now.tv_nsec < watchdog_.expiry.tv_nsec))
            continue;
        break;
    }
    /* Fired: mu stays held, so the test cannot free the runtime we dump
     * (its teardown waits in watchdog_runtime). */
    fprintf(stderr,
            "\nwatchdog: %s still running after %.0f s: a hang? "
            "Dumping the runtime and every thread, then aborting.\n",
            watchdog_.test, watchdog_.limit_s);
    if (watchdog_.rt) {
        fprintf(stderr, "watchdog: rill_runtime_dump:\n");
        rill_runtime_dump(watchdog_.rt, stderr);
    } else {
        fprintf(stderr, "watchdog: no runtime named (setup or teardown)\n");
    }
    watchdog_threads();
    watchdog_backtraces();
    fprintf(stderr, "watchdog: aborting in %s\n", watchdog_.test);
    fflush(stderr);
    abort();
}

/* Start the watchdog thread (once, from main, before the tests). */
static inline void watchdog_start(void)
{
    const char *s = getenv("TEST_WATCHDOG_SCALE");
    watchdog_.scale = s && *s ? atof(s) : 1.0;
    if (watchdog_.scale <= 0)
        return;
    /* Let gdb attach to us even where Yama restricts ptrace to parents. */
    prctl(PR_SET_PTRACER, PR_SET_PTRACER_ANY, 0, 0, 0);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_destroy(&watchdog_.cv);
    pthread_cond_init(&watchdog_.cv, &ca);
    pthread_condattr_destroy(&ca);
    pthread_t t;
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old); /* signals are the tests' */
    if (pthread_create(&t, NULL, watchdog_main, NULL) == 0) {
        pthread_detach(t);
        watchdog_.started = true;
    }
    pthread_sigmask(SIG_SETMASK, &old, NULL);
}

/* Arm for one test: abort with a diagnosis if it runs past limit_s. */
static inline void watchdog_arm(const char *test, double limit_s)
{
    if (!watchdog_.started)
        return;
    pthread_mutex_lock(&watchdog_.mu);
    limit_s *= watchdog_.scale;
    clock_gettime(CLOCK_MONOTONIC, &watchdog_.armed);
    watchdog_.expiry = watchdog_.armed;
    watchdog_.expiry.tv_sec += (time_t)limit_s;
    watchdog_.expiry.tv_nsec +=
        (long)((limit_s - (double)(time_t)limit_s) * 1e9);
    if (watchdog_.expiry.tv_nsec >= 1000000000L) {
        watchdog_.expiry.tv_sec++;
        watchdog_.expiry.tv_nsec -= 1000000000L;
    }
    watchdog_.limit_s = limit_s;
    watchdog_.test = test;
    pthread_cond_signal(&watchdog_.cv);
    pthread_mutex_unlock(&watchdog_.mu);
}

static inline void watchdog_disarm(void)
{
    if (!watchdog_.started)
        return;
    pthread_mutex_lock(&watchdog_.mu);
    watchdog_.test = NULL;
    watchdog_.rt = NULL;
    pthread_cond_signal(&watchdog_.cv);
    pthread_mutex_unlock(&watchdog_.mu);
}

/* The runtime to dump if the armed test hangs; NULL before freeing it. */
static inline void watchdog_runtime(rill_runtime_t *rt)
{
    pthread_mutex_lock(&watchdog_.mu);
    watchdog_.rt = rt;
    pthread_mutex_unlock(&watchdog_.mu);
}

#endif /* RILL_TESTS_TEST_WATCHDOG_H */
