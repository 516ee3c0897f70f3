/* SPDX-License-Identifier: MIT */
/*
 * describe.c - what a waiting channel operation says about itself in a
 * task dump: the operation, the channel's kind and name, and its
 * counters. The oneshot, watch and broadcast operations are public
 * structs, so their describe functions live here and read them through
 * the public stats calls, which load only the name (immutable) and
 * atomic counters: safe from another thread while the op waits.
 */
#include "describe.h"
#include "kind_ops.h"

void rill__describe_channel(rill__buf_t *b, const char *op, const char *kind,
                            const rill_channel_stats_t *st)
{
    rill__buf_printf(b, "%s on %s channel", op, kind);
    if (st->name && st->name[0])
        rill__buf_printf(b, " '%s'", st->name);
    else
        rill__buf_printf(b, " (unnamed)");
    if (st->capacity == RILL_UNBOUNDED)
        rill__buf_printf(b, " (len %zu/unbounded", st->len);
    else
        rill__buf_printf(b, " (len %zu/%zu", st->len, st->capacity);
    rill__buf_printf(
        b,
        ", sent %llu, received %llu, high-water %llu, waits "
        "full %llu, waits empty %llu%s)",
        (unsigned long long)st->sent, (unsigned long long)st->received,
        (unsigned long long)st->high_water, (unsigned long long)st->waits_full,
        (unsigned long long)st->waits_empty, st->is_closed ? ", closed" : "");
}

/*
 * The line of an op on a `kind` channel: rc is the op's init error, or
 * else what reading the channel's stats into *st returned.
 */
static int describe_op(char *buf, size_t len, int rc, const char *op,
                       const char *kind, const rill_channel_stats_t *st)
{
    rill__buf_t b;
    rill__buf_init(&b, buf, len);
    if (rc)
        rill__buf_printf(&b, "%s on %s channel (invalid arguments)", op, kind);
    else
        rill__describe_channel(&b, op, kind, st);
    return rill__buf_result(&b);
}

int rill__oneshot_recv_describe(const rill_future_t *f, rill_instant_t now,
                                char *buf, size_t len)
{
    const rill__oneshot_recv_op_t *op = (const rill__oneshot_recv_op_t *)f;
    rill_channel_stats_t st;
    (void)now;
    int rc = op->err ? op->err : rill_oneshot_stats(NULL, op->rx, &st);
    return describe_op(buf, len, rc, "recv", "oneshot", &st);
}

int rill__oneshot_closed_describe(const rill_future_t *f, rill_instant_t now,
                                  char *buf, size_t len)
{
    const rill__oneshot_closed_op_t *op = (const rill__oneshot_closed_op_t *)f;
    rill_channel_stats_t st;
    (void)now;
    int rc = op->err ? op->err : rill_oneshot_stats(op->tx, NULL, &st);
    return describe_op(buf, len, rc, "closed", "oneshot", &st);
}

int rill__watch_changed_describe(const rill_future_t *f, rill_instant_t now,
                                 char *buf, size_t len)
{
    const rill__watch_changed_op_t *op = (const rill__watch_changed_op_t *)f;
    rill_channel_stats_t st;
    (void)now;
    int rc = op->err ? op->err : rill_watch_stats(NULL, op->rx, &st);
    return describe_op(buf, len, rc, "changed", "watch", &st);
}

int rill__broadcast_send_describe(const rill_future_t *f, rill_instant_t now,
                                  char *buf, size_t len)
{
    const rill__broadcast_send_op_t *op = (const rill__broadcast_send_op_t *)f;
    rill_channel_stats_t st;
    (void)now;
    int rc = op->err ? op->err : rill_broadcast_stats(op->tx, NULL, &st);
    return describe_op(buf, len, rc, "send", "broadcast", &st);
}

int rill__broadcast_recv_describe(const rill_future_t *f, rill_instant_t now,
                                  char *buf, size_t len)
{
    const rill__broadcast_recv_op_t *op = (const rill__broadcast_recv_op_t *)f;
    rill_channel_stats_t st;
    (void)now;
    int rc = op->err ? op->err : rill_broadcast_stats(NULL, op->rx, &st);
    return describe_op(buf, len, rc, "recv", "broadcast", &st);
}
