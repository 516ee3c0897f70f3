/* SPDX-License-Identifier: MIT */
/*
 * rill/broadcast.h - every receiver sees every item sent after it
 * subscribed. Capacity N; two policies, chosen at creation:
 *
 * - RILL_BROADCAST_LAG (tokio's broadcast): sending never waits; a
 *   receiver more than N items behind gets RILL_ELAGGED with the exact
 *   number of items it missed, then continues from the oldest item kept.
 * - RILL_BROADCAST_BACKPRESSURE (Disruptor's policy, which tokio lacks):
 *   the sender waits for the slowest receiver; nothing is ever lost.
 *
 * Many senders (rill_broadcast_sender_clone), many receivers (new ones
 * subscribe from a sender). Items are item_size bytes copied by value to
 * each receiver (so an item must be safe to copy: plain data, or a
 * pointer/handle the receivers do not each take ownership of). The last
 * sender released (or rill_broadcast_close) ends the receivers after they
 * have read everything sent; sending with no receiver left fails with
 * RILL_ECLOSED, as in tokio.
 *
 * Receivers read slots by sequence number without a lock; senders check
 * the slowest receiver's position against a cached lower bound and look
 * at the receivers only when that bound says full; only parties that
 * actually wait are woken.
 *
 * Example: an event bus.
 *
 *     typedef struct { int kind; long value; } event_t;
 *     rill_broadcast_sender_t *tx;
 *     rill_broadcast_receiver_t *rx1, *rx2;
 *     rill_broadcast_new(&tx, &rx1, sizeof(event_t), 1024,
 *                        RILL_BROADCAST_LAG, NULL);
 *     rill_broadcast_subscribe(tx, &rx2);
 *     event_t e = {1, 42};
 *     rill_broadcast_send(tx, &e);             // lag mode: never waits
 *     rill_broadcast_sender_release(tx);           // receivers end after
 * draining
 *     // each consumer, in its thread or task:
 *     uint64_t missed;
 *     int r;
 *     while ((r = rill_broadcast_recv(rx1, &e, &missed)) != RILL_DONE)
 *         if (r == RILL_ELAGGED)
 *             fprintf(stderr, "missed %llu events\n",
 *                     (unsigned long long)missed);
 *         else
 *             handle(&e);
 *     rill_broadcast_receiver_release(rx1);
 *
 * Cancel safety: all waiting operations are wake-and-retry. A receive
 * ended by timeout, select or cancellation took nothing and did not move
 * the receiver; a backpressure send so ended sent nothing (the item is
 * copied only at the moment it is sent, never left half-sent).
 */
#ifndef RILL_BROADCAST_H
#define RILL_BROADCAST_H

#include "sync.h" /* channel options and stats */
#include "rt.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct rill_broadcast_sender rill_broadcast_sender_t;
typedef struct rill_broadcast_receiver rill_broadcast_receiver_t;

/* The policy for a receiver that falls capacity items behind. */
enum {
    RILL_BROADCAST_LAG = 1,          /* it misses items (RILL_ELAGGED) */
    RILL_BROADCAST_BACKPRESSURE = 2, /* the sender waits for it */
};

/* Largest capacity accepted. */
#define RILL_BROADCAST_CAPACITY_MAX ((size_t)1 << 32)

/*
 * rill_broadcast_new - create a broadcast channel of `capacity` items of
 * item_size bytes with policy `mode` (RILL_BROADCAST_LAG or
 * RILL_BROADCAST_BACKPRESSURE). rx may be NULL (subscribe later; until
 * then sends fail with RILL_ECLOSED). cfg may be NULL: a name; an
 * item_dtor is refused (every receiver gets its own copy of an item, so
 * none owns what it points to).
 * Returns: 0; RILL_EINVAL for a NULL tx, item_size 0 or above 1 GiB,
 *   capacity 0 or above RILL_BROADCAST_CAPACITY_MAX, a buffer of more
 *   than 256 GiB (or one whose size overflows), an unknown mode, or an
 *   item_dtor; RILL_ENOMEM.
 * Ownership: the caller owns *tx and *rx and releases each once. On failure
 *   nothing is allocated.
 * Threads: any.
 * Waits: never.
 */
RILL_API RILL_NODISCARD int
rill_broadcast_new(rill_broadcast_sender_t **tx, rill_broadcast_receiver_t **rx,
                   size_t item_size, size_t capacity, int mode,
                   const rill_channel_config_t *cfg);

/*
 * rill_broadcast_subscribe - a new receiver that will see every item sent
 * from now on.
 * Returns: 0; RILL_EINVAL; RILL_ENOMEM.
 * Ownership: the caller owns *rx. On failure *rx is not set.
 * Threads: any holder of a sender.
 * Waits: never.
 */
RILL_API RILL_NODISCARD int
rill_broadcast_subscribe(rill_broadcast_sender_t *tx,
                         rill_broadcast_receiver_t **rx);

/*
 * rill_broadcast_sender_clone - another sender on the same channel.
 * Returns: 0; RILL_EINVAL; RILL_ENOMEM.
 * Ownership: the caller owns *out. On failure *out is not set.
 * Waits: never.
 * Threads: both.
 */
RILL_API RILL_NODISCARD int
rill_broadcast_sender_clone(rill_broadcast_sender_t *tx,
                            rill_broadcast_sender_t **out);

/*
 * rill_broadcast_sender_release - release a sender. The last one released
 * closes the channel (as rill_broadcast_close). NULL is accepted.
 * Returns: 0; RILL_EALREADY if already released; RILL_EINVAL for another
 *   kind of handle.
 * Ownership: consumes tx. On failure nothing is touched.
 * Waits: never.
 * Threads: both.
 */
RILL_API int rill_broadcast_sender_release(rill_broadcast_sender_t *tx);

/*
 * rill_broadcast_close - end the channel for every sender: sends fail
 * with RILL_ECLOSED (waiting ones too), receivers get RILL_DONE after
 * reading what was sent before. Idempotent; never frees.
 * Returns: 0; RILL_EINVAL for NULL.
 * Waits: never.
 * Threads: both.
 */
RILL_API int rill_broadcast_close(rill_broadcast_sender_t *tx);

/*
 * rill_broadcast_try_send_sized - send if it can be done without waiting.
 * Returns: 0 (every current receiver will see it); RILL_EFULL
 *   (backpressure mode: the slowest receiver is capacity items behind);
 *   RILL_ECLOSED (no receiver, or the channel was closed; the caller still
 *   owns the item); RILL_EINVAL (NULL, size mismatch).
 * Waits: never.
 * Threads: the owner of tx (each sender handle is used by one thread or
 *   task at a time).
 */
RILL_API RILL_NODISCARD int
rill_broadcast_try_send_sized(rill_broadcast_sender_t *tx, const void *item,
                              size_t size);
#define rill_broadcast_try_send(tx, p)                                         \
    rill_broadcast_try_send_sized((tx), (p), sizeof *(p))

/*
 * rill_broadcast_send_sized - send, waiting for room in backpressure mode.
 * Returns: as try_send, never RILL_EFULL; RILL_ECANCELED in a cancelled
 *   task (nothing sent).
 * Waits: backpressure mode: until the slowest receiver makes room; lag
 *   mode: never.
 * Threads: both.
 */
RILL_API RILL_NODISCARD int
rill_broadcast_send_sized(rill_broadcast_sender_t *tx, const void *item,
                          size_t size);
#define rill_broadcast_send(tx, p)                                             \
    rill_broadcast_send_sized((tx), (p), sizeof *(p))

/* rill_broadcast_send_timeout_sized - as send for at most `timeout`;
 * RILL_ETIMEDOUT when it passes (nothing sent).
 * Returns: as rill_broadcast_send_sized, or RILL_ETIMEDOUT (nothing sent).
 * Waits: at most timeout.
 * Threads: both.
 */
RILL_API RILL_NODISCARD int
rill_broadcast_send_timeout_sized(rill_broadcast_sender_t *tx, const void *item,
                                  size_t size, rill_duration_t timeout);
#define rill_broadcast_send_timeout(tx, p, timeout)                            \
    rill_broadcast_send_timeout_sized((tx), (p), sizeof *(p), (timeout))

/*
 * rill_broadcast_poll_send - send as a poll function: 0, RILL_PENDING
 * (waker registered in tx, or budget spent), RILL_ECLOSED, RILL_EINVAL.
 * The item is copied only when 0 is returned.
 * Returns: 0 (sent), RILL_PENDING, or as rill_broadcast_try_send_sized.
 * Waits: never (it registers the waker instead).
 * Threads: both; one poller per sender handle.
 */
RILL_API RILL_NODISCARD int
rill_broadcast_poll_send(rill_broadcast_sender_t *tx, rill_cx_t *cx,
                         const void *item, size_t size);

/* A send as a future in caller storage; *item must stay valid until the
 * future completes or is withdrawn. */
typedef struct rill_broadcast_send_op {
    rill_future_t base;
    void *private_[16];
} rill_broadcast_send_op_t;

/* rill_broadcast_send_op - initialise a send future. Never fails: bad
 * arguments make its first poll return RILL_EINVAL.
 * Threads: both; op and item stay the caller's until it completes or is
 *   withdrawn.
 */
RILL_API void rill_broadcast_send_op(rill_broadcast_send_op_t *op,
                                     rill_broadcast_sender_t *tx,
                                     const void *item, size_t size);

/*
 * rill_broadcast_try_recv_sized - the next item for this receiver, if
 * there is one. missed may be NULL.
 * Returns: 0 with the item in *out; RILL_EEMPTY; RILL_DONE (closed and
 *   everything read); RILL_ELAGGED (lag mode) with the number of items
 *   this receiver missed in *missed: it now stands at the oldest item
 *   kept, which the next call returns; RILL_EINVAL.
 * Waits: never.
 * Threads: the owner of rx.
 */
RILL_API RILL_NODISCARD int
rill_broadcast_try_recv_sized(rill_broadcast_receiver_t *rx, void *out,
                              size_t size, uint64_t *missed);
#define rill_broadcast_try_recv(rx, p, missed)                                 \
    rill_broadcast_try_recv_sized((rx), (p), sizeof *(p), (missed))

/*
 * rill_broadcast_recv_sized - wait for the next item.
 * Returns: as try_recv, never RILL_EEMPTY; RILL_ECANCELED in a cancelled
 *   task (nothing taken).
 * Waits: until an item is sent or the channel ends.
 * Threads: the owner of rx.
 */
RILL_API RILL_NODISCARD int
rill_broadcast_recv_sized(rill_broadcast_receiver_t *rx, void *out, size_t size,
                          uint64_t *missed);
#define rill_broadcast_recv(rx, p, missed)                                     \
    rill_broadcast_recv_sized((rx), (p), sizeof *(p), (missed))

/* rill_broadcast_recv_timeout_sized - as recv for at most `timeout`;
 * RILL_ETIMEDOUT when it passes (nothing taken).
 * Returns: as rill_broadcast_recv_sized, or RILL_ETIMEDOUT (nothing taken).
 * Waits: at most timeout.
 * Threads: the owner of rx.
 */
RILL_API RILL_NODISCARD int
rill_broadcast_recv_timeout_sized(rill_broadcast_receiver_t *rx, void *out,
                                  size_t size, uint64_t *missed,
                                  rill_duration_t timeout);
#define rill_broadcast_recv_timeout(rx, p, missed, timeout)                    \
    rill_broadcast_recv_timeout_sized((rx), (p), sizeof *(p), (missed),        \
                                      (timeout))

/*
 * rill_broadcast_poll_recv - receive as a poll function (for the stream
 * layer): 0, RILL_PENDING (waker registered in rx, or budget spent),
 * RILL_DONE, RILL_ELAGGED (*missed set; may be NULL), RILL_EINVAL.
 * Threads: the owner of rx; one poller at a time.
 * Returns: as listed above.
 * Waits: never (it registers the waker instead).
 */
RILL_API RILL_NODISCARD int
rill_broadcast_poll_recv(rill_broadcast_receiver_t *rx, rill_cx_t *cx,
                         void *out, size_t size, uint64_t *missed);

/*
 * rill_broadcast_poll_recv_many - the batch form: up to max items (max >=
 * 1) into out (an array of max items of size bytes), the count in *n.
 * One synchronisation with the senders per batch, not per item. Returns
 * as rill_broadcast_poll_recv; on 0, 1 <= *n <= max; on RILL_ELAGGED no
 * item is delivered (*n = 0).
 * Returns: as rill_broadcast_poll_recv.
 * Waits: never.
 * Threads: the owner of rx; one poller at a time.
 */
RILL_API RILL_NODISCARD int
rill_broadcast_poll_recv_many(rill_broadcast_receiver_t *rx, rill_cx_t *cx,
                              void *out, size_t max, size_t size, size_t *n,
                              uint64_t *missed);

/* A receive as a future in caller storage (rill_await, select, poll). */
typedef struct rill_broadcast_recv_op {
    rill_future_t base;
    void *private_[18];
} rill_broadcast_recv_op_t;

/*
 * rill_broadcast_recv_op - initialise a receive future; it completes with
 * the results of rill_broadcast_recv_sized, and on RILL_ELAGGED writes the
 * count to *missed (missed may be NULL). Never fails: bad arguments make
 * its first poll return RILL_EINVAL.
 * Ownership: op, out and missed stay the caller's and must outlive the
 *   future (until it completes or is withdrawn).
 * Waits: never (awaiting it waits).
 * Threads: the owner of rx.
 */
RILL_API void rill_broadcast_recv_op(rill_broadcast_recv_op_t *op,
                                     rill_broadcast_receiver_t *rx, void *out,
                                     size_t size, uint64_t *missed);

/*
 * rill_broadcast_receiver_release - release a receiver (in backpressure mode it
 * stops holding senders back). NULL is accepted.
 * Returns: 0; RILL_EALREADY if already released; RILL_EINVAL for another
 *   kind of handle.
 * Ownership: consumes rx. On failure nothing is touched.
 * Waits: never.
 * Threads: the owner of rx.
 */
RILL_API int rill_broadcast_receiver_release(rill_broadcast_receiver_t *rx);

/*
 * rill_broadcast_len - items sent that this receiver has not read yet (at
 * most the capacity).
 * Returns: the count; 0 for NULL.
 * Threads: the owner of rx.
 */
RILL_API size_t rill_broadcast_len(const rill_broadcast_receiver_t *rx);

/* rill_broadcast_receiver_count - receivers alive now.
 * Returns: the count; 0 for NULL.
 * Threads: both.
 */
RILL_API size_t
rill_broadcast_receiver_count(const rill_broadcast_sender_t *tx);

/*
 * rill_broadcast_stats - the channel's counters, from either handle (NULL
 * for the other): sent = items sent; received = deliveries (one per
 * receiver and item); discarded = items receivers missed (lag mode);
 * len = items unread by rx, or with tx by the slowest receiver;
 * high_water = the most items the slowest receiver had unread, sampled
 * when a sender checked the receivers (backpressure) or when one lagged
 * (lag: then the capacity); waits_full / waits_empty = sends / receives
 * that waited; is_closed = closed or no receiver left. name points into
 * the channel (valid while a handle is).
 * Returns: 0; RILL_EINVAL.
 * Waits: never.
 * Threads: both.
 */
RILL_API int rill_broadcast_stats(const rill_broadcast_sender_t *tx,
                                  const rill_broadcast_receiver_t *rx,
                                  rill_channel_stats_t *out);

#ifdef __cplusplus
}
#endif

#endif /* RILL_BROADCAST_H */
