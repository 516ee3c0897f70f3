/* SPDX-License-Identifier: MIT */
/*
 * redis_server.h - a redis-server of the test's own: started on a Unix
 * socket in a fresh temporary directory (no TCP port unless asked,
 * `--save ''`, `--appendonly yes`, so a restart in the same directory
 * reloads what was acknowledged, all of it with fsync_always), stopped by its
 * pid (SIGTERM, or SIGKILL for crash tests).
 *
 * rs_start waits until the server answers a PING on its socket (it polls
 * the socket: that is readiness of another process, not a sleep standing
 * in for synchronisation). A test binary whose machine has no
 * redis-server calls rs_skip_if_absent first: it prints a 'skipped' line
 * and exits 77, which CTest reports as skipped (SKIP_RETURN_CODE).
 */
#ifndef RILL_TESTS_REDIS_SERVER_H
#define RILL_TESTS_REDIS_SERVER_H

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define RS_SKIP 77

typedef struct rs_server {
    pid_t pid;
    char dir[128];
    char sock[160];
    char addr[176]; /* "unix:<sock>" */
    int port;       /* TCP port, 0 = none */
    /* appendfsync always (else everysec, Redis's default). With everysec
     * Redis may postpone its AOF write while a background fsync runs (up
     * to 2 s) and still send the replies: a kill -9 then loses writes it
     * acknowledged. Crash tests that count on every acknowledged write
     * set this (and CONFIG SET it on the running server). */
    bool fsync_always;
} rs_server_t;

/* The redis-server binary: $REDIS_SERVER, or the first in PATH. */
static inline const char *rs_binary(void)
{
    const char *env = getenv("REDIS_SERVER");
    if (env && *env)
        return env;
    static char found[512];
    const char *path = getenv("PATH");
    if (!path)
        path = "/usr/bin:/bin";
    const char *p = path;
    while (*p) {
        const char *e = strchr(p, ':');
        size_t n = e ? (size_t)(e - p) : strlen(p);
        snprintf(found, sizeof found, "%.*s/redis-server", (int)n, p);
        if (access(found, X_OK) == 0)
            return found;
        p += n + (e ? 1 : 0);
    }
    return NULL;
}

static inline void rs_skip_if_absent(const char *test)
{
    if (!rs_binary()) {
        printf("%s: skipped: no redis-server (scripts/deps.sh installs "
               "it)\n",
               test);
        fflush(stdout);
        exit(RS_SKIP);
    }
}

/* One PING over the socket, blocking, with a short timeout. */
static inline bool rs_ping(const rs_server_t *s)
{
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return false;
    struct sockaddr_un a = {.sun_family = AF_UNIX};
    snprintf(a.sun_path, sizeof a.sun_path, "%.100s", s->sock);
    struct timeval tv = {0, 200000};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    bool ok = false;
    if (connect(fd, (struct sockaddr *)&a, sizeof a) == 0 &&
        write(fd, "PING\r\n", 6) == 6) {
        char buf[16] = {0};
        ok = read(fd, buf, sizeof buf - 1) > 0 && !strncmp(buf, "+PONG", 5);
    }
    close(fd);
    return ok;
}

/* Start (or, with the same s, restart in the same directory). */
static inline int rs_launch(rs_server_t *s)
{
    const char *bin = rs_binary();
    if (!bin)
        return -1;
    char port[16], logf[200];
    snprintf(port, sizeof port, "%d", s->port);
    snprintf(logf, sizeof logf, "%s/redis.log", s->dir);
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        /* A test killed by its timeout takes its server with it; its
         * own process group, so that stopping it stops the children it
         * forks for AOF rewrites too (they write into the directory). */
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        setpgid(0, 0);
        int null = open("/dev/null", O_RDWR);
        if (null >= 0) {
            dup2(null, 0);
            dup2(null, 1);
        }
        execl(bin, bin, "--port", port, "--bind", "127.0.0.1", "--unixsocket",
              s->sock, "--save", "", "--appendonly", "yes", "--appendfsync",
              s->fsync_always ? "always" : "everysec", "--dir", s->dir,
              "--logfile", logf, "--daemonize", "no", (char *)NULL);
        _exit(127);
    }
    s->pid = pid;
    /* Ready when it answers; at most 10 s. */
    for (int i = 0; i < 2000; i++) {
        if (rs_ping(s))
            return 0;
        int st;
        if (waitpid(pid, &st, WNOHANG) == pid) {
            s->pid = 0;
            return -1;
        }
        struct timespec ts = {0, 5 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    return -1;
}

/* A free TCP port on 127.0.0.1 (bound then released: a small race). */
static inline int rs_free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in a = {.sin_family = AF_INET};
    a.sin_addr.s_addr = htonl(0x7f000001);
    socklen_t len = sizeof a;
    int port = 0;
    if (fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof a) == 0 &&
        getsockname(fd, (struct sockaddr *)&a, &len) == 0)
        port = ntohs(a.sin_port);
    if (fd >= 0)
        close(fd);
    return port;
}

/* tcp: also listen on a free 127.0.0.1 port (s->port). */
static inline int rs_start(rs_server_t *s, bool tcp)
{
    memset(s, 0, sizeof *s);
    snprintf(s->dir, sizeof s->dir, "/tmp/rill-redis-XXXXXX");
    if (!mkdtemp(s->dir))
        return -1;
    snprintf(s->sock, sizeof s->sock, "%s/redis.sock", s->dir);
    snprintf(s->addr, sizeof s->addr, "unix:%s", s->sock);
    s->port = tcp ? rs_free_port() : 0;
    return rs_launch(s);
}

/* Stop by pid: SIGKILL (a crash) or SIGTERM; waits for it to exit. */
static inline void rs_kill(rs_server_t *s, int sig)
{
    if (s->pid > 0) {
        kill(-s->pid, sig); /* the group: the server and its children */
        kill(s->pid, sig);
        int st;
        while (waitpid(s->pid, &st, 0) < 0 && errno == EINTR)
            ;
        s->pid = 0;
    }
}

/* Stop and remove its directory. */
static inline void rs_stop(rs_server_t *s)
{
    rs_kill(s, SIGKILL);
    if (s->dir[0]) {
        char cmd[300];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", s->dir);
        /* A child of the server may still be going away (a few tries). */
        int tries = 0;
        while (system(cmd) != 0 && ++tries < 50)
            nanosleep(&(struct timespec){0, 10 * 1000 * 1000}, NULL);
        if (tries == 50)
            fprintf(stderr, "could not remove %s\n", s->dir);
        s->dir[0] = 0;
    }
}

#endif /* RILL_TESTS_REDIS_SERVER_H */
