/* SPDX-License-Identifier: MIT */
/*
 * net.c - stream sockets: address strings, listen, accept, connect,
 * shutdown, socket options, local and peer addresses.
 *
 * Address strings: "unix:/path", "[v6]:port", "v4:port", "localhost:port".
 * Names other than localhost are refused (RILL_EINVAL): resolving them
 * blocks on DNS, which must not happen on a worker; resolve on the
 * blocking pool and pass the numeric address.
 *
 * connect: a non-blocking connect(2), then a wait for writability, then
 * SO_ERROR and getpeername say whether it is done (io.c, IO_CONNECT).
 * The socket belongs to the call until it succeeds: a refused, timed-out
 * or cancelled connect closes it.
 */
#include "io_int.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>
#include <unistd.h>

/* ---- addresses ---- */

static int parse_addr(const char *api, const char *s,
                      struct sockaddr_storage *ss, socklen_t *len)
{
    memset(ss, 0, sizeof *ss);
    if (!s)
        return RILL_MISUSE(api, "NULL address");
    if (strncmp(s, "unix:", 5) == 0) {
        struct sockaddr_un *un = (struct sockaddr_un *)ss;
        size_t n = strlen(s + 5);
        if (n == 0 || n >= sizeof un->sun_path)
            return RILL_MISUSE(api, "unix path of %zu bytes (1..%zu)", n,
                               sizeof un->sun_path - 1);
        un->sun_family = AF_UNIX;
        memcpy(un->sun_path, s + 5, n + 1);
        *len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n + 1);
        return 0;
    }
    char host[64];
    const char *port;
    if (s[0] == '[') {
        const char *end = strchr(s, ']');
        if (!end || end[1] != ':' || (size_t)(end - s - 1) >= sizeof host)
            return RILL_MISUSE(api, "address '%s': expected [v6]:port", s);
        memcpy(host, s + 1, (size_t)(end - s - 1));
        host[end - s - 1] = 0;
        port = end + 2;
    } else {
        const char *colon = strrchr(s, ':');
        if (!colon || (size_t)(colon - s) >= sizeof host)
            return RILL_MISUSE(api, "address '%s': expected host:port", s);
        memcpy(host, s, (size_t)(colon - s));
        host[colon - s] = 0;
        port = colon + 1;
    }
    char *end;
    long p = strtol(port, &end, 10);
    if (!*port || *end || p < 0 || p > 65535)
        return RILL_MISUSE(api, "address '%s': bad port", s);
    if (strcmp(host, "localhost") == 0)
        strcpy(host, "127.0.0.1");
    struct sockaddr_in *in4 = (struct sockaddr_in *)ss;
    struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;
    if (inet_pton(AF_INET, host, &in4->sin_addr) == 1) {
        in4->sin_family = AF_INET;
        in4->sin_port = htons((uint16_t)p);
        *len = sizeof *in4;
        return 0;
    }
    if (inet_pton(AF_INET6, host, &in6->sin6_addr) == 1) {
        in6->sin6_family = AF_INET6;
        in6->sin6_port = htons((uint16_t)p);
        *len = sizeof *in6;
        return 0;
    }
    return RILL_MISUSE(api,
                       "address '%s': host '%s' is not a numeric address "
                       "(resolve names on the blocking pool)",
                       s, host);
}

static int format_addr(const struct sockaddr_storage *ss, socklen_t sl,
                       char *buf, size_t len)
{
    char ip[INET6_ADDRSTRLEN];
    switch (ss->ss_family) {
    case AF_INET: {
        const struct sockaddr_in *a = (const struct sockaddr_in *)ss;
        inet_ntop(AF_INET, &a->sin_addr, ip, sizeof ip);
        return snprintf(buf, len, "%s:%u", ip, ntohs(a->sin_port));
    }
    case AF_INET6: {
        const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)ss;
        inet_ntop(AF_INET6, &a->sin6_addr, ip, sizeof ip);
        return snprintf(buf, len, "[%s]:%u", ip, ntohs(a->sin6_port));
    }
    case AF_UNIX: {
        const struct sockaddr_un *a = (const struct sockaddr_un *)ss;
        size_t n = sl > offsetof(struct sockaddr_un, sun_path)
                       ? strnlen(a->sun_path, sizeof a->sun_path)
                       : 0;
        return snprintf(buf, len, "unix:%.*s", (int)n, a->sun_path);
    }
    default:
        return snprintf(buf, len, "?");
    }
}

int rill__io_addr(const rill_io_t *io, bool peer, char *buf, size_t len)
{
    if (len)
        buf[0] = 0;
    if (!io || !io->is_socket)
        return RILL_EINVAL;
    struct sockaddr_storage ss;
    socklen_t sl = sizeof ss;
    int r = peer ? getpeername(io->fd, (struct sockaddr *)&ss, &sl)
                 : getsockname(io->fd, (struct sockaddr *)&ss, &sl);
    if (r < 0)
        return RILL_ESYS;
    format_addr(&ss, sl, buf, len);
    return 0;
}

int rill_io_local_addr(const rill_io_t *io, char *buf, size_t len)
{
    if (!io || !buf || !len)
        return RILL_MISUSE("rill_io_local_addr", "NULL argument");
    return rill__io_addr(io, false, buf, len);
}

int rill_io_peer_addr(const rill_io_t *io, char *buf, size_t len)
{
    if (!io || !buf || !len)
        return RILL_MISUSE("rill_io_peer_addr", "NULL argument");
    return rill__io_addr(io, true, buf, len);
}

/* ---- options ---- */

static int set_opt(rill_io_t *io, int level, int name, bool on)
{
    int v = on;
    if (setsockopt(io->fd, level, name, &v, sizeof v) < 0)
        return errno == ENOTSOCK || errno == EOPNOTSUPP || errno == ENOPROTOOPT
                   ? RILL_EINVAL
                   : rill__io_status(io, errno);
    return 0;
}

int rill_io_set_nodelay(rill_io_t *io, bool on)
{
    if (!io)
        return RILL_MISUSE("rill_io_set_nodelay", "NULL handle");
    if (io->family != AF_INET && io->family != AF_INET6)
        return RILL_EINVAL;
    return set_opt(io, IPPROTO_TCP, TCP_NODELAY, on);
}

int rill_io_set_keepalive(rill_io_t *io, bool on)
{
    if (!io)
        return RILL_MISUSE("rill_io_set_keepalive", "NULL handle");
    return set_opt(io, SOL_SOCKET, SO_KEEPALIVE, on);
}

int rill_io_shutdown_write(rill_io_t *io)
{
    if (!io)
        return RILL_MISUSE("rill_io_shutdown_write", "NULL handle");
    if (rill__load(&io->closed, RILL_ACQUIRE))
        return RILL_ECLOSED;
    if (shutdown(io->fd, SHUT_WR) < 0)
        return errno == ENOTSOCK ? RILL_EINVAL : rill__io_status(io, errno);
    return 0;
}

/* ---- listening ---- */

static int new_socket(int family)
{
    return socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
}

int rill_listen(rill_listener_t **out, const char *addr,
                const rill_io_config_t *cfg)
{
    if (!out)
        return RILL_MISUSE("rill_listen", "NULL listener pointer");
    *out = NULL;
    struct sockaddr_storage ss;
    socklen_t sl;
    int rc = parse_addr("rill_listen", addr, &ss, &sl);
    if (rc)
        return rc;
    rill__reactor_t *r = rill__io_reactor_for("rill_listen", cfg);
    if (!r)
        return RILL_EINVAL;
    int fd = new_socket(ss.ss_family);
    if (fd < 0)
        return rill__io_status(NULL, errno);
    int one = 1;
    if (ss.ss_family != AF_UNIX)
        (void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (cfg && cfg->reuseport)
        (void)setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
    int backlog = cfg && cfg->backlog > 0 ? cfg->backlog : SOMAXCONN;
    if (bind(fd, (struct sockaddr *)&ss, sl) < 0 || listen(fd, backlog) < 0) {
        rc = rill__io_status(NULL, errno);
        close(fd);
        return rc;
    }
    rill_listener_t *l = rill__malloc(sizeof *l);
    if (!l) {
        close(fd);
        return RILL_ENOMEM;
    }
    rc = rill__io_init_embedded(&l->io, r, fd, ss.ss_family);
    if (rc) {
        close(fd);
        rill__free(l);
        return rc;
    }
    l->io.nodelay = ss.ss_family != AF_UNIX && !(cfg && cfg->nagle);
    l->port = 0;
    struct sockaddr_storage bound;
    socklen_t bl = sizeof bound;
    if (ss.ss_family != AF_UNIX &&
        getsockname(fd, (struct sockaddr *)&bound, &bl) == 0)
        l->port = ntohs(bound.ss_family == AF_INET
                            ? ((struct sockaddr_in *)&bound)->sin_port
                            : ((struct sockaddr_in6 *)&bound)->sin6_port);
    *out = l;
    return 0;
}

int rill_listener_port(const rill_listener_t *l)
{
    return l ? l->port : 0;
}

void rill_listener_close(rill_listener_t *l)
{
    if (l)
        rill_io_close(&l->io);
}

void rill_listener_free(rill_listener_t *l)
{
    if (!l)
        return;
    rill__io_fini_embedded(&l->io);
    rill__free(l);
}

static int accept_op(rill_listener_t *l, rill_io_t **conn,
                     rill_duration_t timeout, const char *api)
{
    if (!l || !conn)
        return RILL_MISUSE(api, "NULL listener or connection pointer");
    *conn = NULL;
    rill_io_op_t o;
    io_op_t *op = (io_op_t *)&o;
    rill__io_op_init(op, &l->io, IO_ACCEPT, RILL_IO_READ);
    op->u.conn = conn;
    return timeout == RILL_FOREVER ? rill_await(&op->base)
                                   : rill_await_timeout(&op->base, timeout);
}

int rill_accept(rill_listener_t *l, rill_io_t **conn)
{
    return accept_op(l, conn, RILL_FOREVER, "rill_accept");
}

int rill_accept_timeout(rill_listener_t *l, rill_io_t **conn,
                        rill_duration_t timeout)
{
    return accept_op(l, conn, timeout, "rill_accept_timeout");
}

/* ---- connecting ---- */

static int connect_impl(const char *api, rill_io_t **out, const char *addr,
                        rill_duration_t timeout, const rill_io_config_t *cfg)
{
    if (!out)
        return RILL_MISUSE(api, "NULL connection pointer");
    *out = NULL;
    struct sockaddr_storage ss;
    socklen_t sl;
    int rc = parse_addr(api, addr, &ss, &sl);
    if (rc)
        return rc;
    rill__reactor_t *r = rill__io_reactor_for(api, cfg);
    if (!r)
        return RILL_EINVAL;
    int fd = new_socket(ss.ss_family);
    if (fd < 0)
        return rill__io_status(NULL, errno);
    if (ss.ss_family != AF_UNIX && !(cfg && cfg->nagle)) {
        int one = 1;
        (void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    }
    rill_io_t *io;
    rc = rill__io_make(r, fd, ss.ss_family, &io);
    if (rc) {
        close(fd);
        return rc;
    }
    if (connect(fd, (struct sockaddr *)&ss, sl) < 0) {
        int e = errno;
        if (e != EINPROGRESS) { /* (a full Unix backlog: RILL_EAGAIN) */
            rill_io_free(io);
            /* No socket file at a Unix path: nobody listens there, as
             * with a stale file (ECONNREFUSED). */
            return e == ENOENT && ss.ss_family == AF_UNIX
                       ? RILL_ECONNREFUSED
                       : rill__io_status(NULL, e);
        }
        /* Writability means "connect finished": only a real event may say
         * so, not the optimistic first readiness. */
        rill_io_op_t o;
        io_op_t *op = (io_op_t *)&o;
        rill__io_op_init(op, io, IO_CONNECT, RILL_IO_WRITE);
        rc = timeout == RILL_FOREVER ? rill_await(&op->base)
                                     : rill_await_timeout(&op->base, timeout);
        if (rc) {
            rill_io_free(io);
            return rc;
        }
    }
    *out = io;
    return 0;
}

int rill_connect(rill_io_t **conn, const char *addr,
                 const rill_io_config_t *cfg)
{
    return connect_impl("rill_connect", conn, addr, RILL_FOREVER, cfg);
}

int rill_connect_timeout(rill_io_t **conn, const char *addr,
                         rill_duration_t timeout, const rill_io_config_t *cfg)
{
    return connect_impl("rill_connect_timeout", conn, addr, timeout, cfg);
}
