/* SPDX-License-Identifier: MIT */
/*
 * kind_ops.h - what the opaque op structs of oneshot, watch and broadcast
 * hold (rill_oneshot_recv_op_t, rill_oneshot_closed_op_t,
 * rill_watch_changed_op_t, rill_broadcast_send_op_t,
 * rill_broadcast_recv_op_t). The public structs are `base` plus
 * `void *private_[N]`, as the mpsc ops are; the implementation reads them
 * through these layouts (first member the same rill_future_t base, so a
 * cast is valid), checked to fit at compile time. Private to src/sync.
 */
#ifndef RILL_SYNC_KIND_OPS_H
#define RILL_SYNC_KIND_OPS_H

#include "notify.h"
#include "rill/broadcast.h"
#include "rill/oneshot.h"
#include "rill/watch.h"

#include <stdalign.h>

typedef struct rill__oneshot_recv_op {
    rill_future_t base;
    rill_oneshot_receiver_t *rx;
    void *out;
    size_t size;
    int err; /* the init error, returned by the first poll */
} rill__oneshot_recv_op_t;

typedef struct rill__oneshot_closed_op {
    rill_future_t base;
    rill_oneshot_sender_t *tx;
    int err;
} rill__oneshot_closed_op_t;

typedef struct rill__watch_changed_op {
    rill_future_t base;
    rill_watch_receiver_t *rx;
    int err;
    rill__notify_waiter_t waiter;
} rill__watch_changed_op_t;

typedef struct rill__broadcast_send_op {
    rill_future_t base;
    rill_broadcast_sender_t *tx;
    const void *item;
    size_t size;
    int err;
    rill__notify_waiter_t waiter;
} rill__broadcast_send_op_t;

typedef struct rill__broadcast_recv_op {
    rill_future_t base;
    rill_broadcast_receiver_t *rx;
    void *out;
    size_t size;
    uint64_t *missed; /* the caller's, may be NULL */
    int err;
    rill__notify_waiter_t waiter;
} rill__broadcast_recv_op_t;

#define RILL__OP_FITS(impl, pub)                                               \
    _Static_assert(sizeof(impl) <= sizeof(pub) &&                              \
                       alignof(impl) <= alignof(pub),                          \
                   #pub " too small for " #impl)
RILL__OP_FITS(rill__oneshot_recv_op_t, rill_oneshot_recv_op_t);
RILL__OP_FITS(rill__oneshot_closed_op_t, rill_oneshot_closed_op_t);
RILL__OP_FITS(rill__watch_changed_op_t, rill_watch_changed_op_t);
RILL__OP_FITS(rill__broadcast_send_op_t, rill_broadcast_send_op_t);
RILL__OP_FITS(rill__broadcast_recv_op_t, rill_broadcast_recv_op_t);
#undef RILL__OP_FITS

#endif /* RILL_SYNC_KIND_OPS_H */
