/* SPDX-License-Identifier: MIT */
/*
 * describe.h - the describe functions of the channel operations (task
 * dumps, deadlock reports; see rill_future_vtable_t.describe) and the
 * one formatter they share. Private to src/sync.
 */
#ifndef RILL_SYNC_DESCRIBE_H
#define RILL_SYNC_DESCRIBE_H

#include "core/describe.h"
#include "rill/sync.h"

/*
 * "<op> on <kind> channel '<name>' (len L/C, sent S, received R,
 * high-water H, waits full F, waits empty E[, closed])". capacity
 * RILL_UNBOUNDED prints as "unbounded".
 */
void rill__describe_channel(rill__buf_t *b, const char *op, const char *kind,
                            const rill_channel_stats_t *st);

/* The describe functions of oneshot, watch and broadcast operations. */
int rill__oneshot_recv_describe(const rill_future_t *f, rill_instant_t now,
                                char *buf, size_t len);
int rill__oneshot_closed_describe(const rill_future_t *f, rill_instant_t now,
                                  char *buf, size_t len);
int rill__watch_changed_describe(const rill_future_t *f, rill_instant_t now,
                                 char *buf, size_t len);
int rill__broadcast_send_describe(const rill_future_t *f, rill_instant_t now,
                                  char *buf, size_t len);
int rill__broadcast_recv_describe(const rill_future_t *f, rill_instant_t now,
                                  char *buf, size_t len);

#endif
