/* SPDX-License-Identifier: MIT */
/*
 * rill/oneshot.h - a channel for exactly one value: send once, receive
 * once. Either side learns when the other is gone: the receiver gets
 * RILL_DONE when the sender was released without sending, the sender gets
 * RILL_ECLOSED when the receiver was closed or released, and can wait for
 * that ("closed", tokio's Sender::closed) to stop work nobody waits for.
 *
 * The value is item_size bytes copied by value; the size travels with each
 * call (the macros pass sizeof *(p)), a mismatch is RILL_EINVAL.
 *
 * Example: request/response between a thread and a worker.
 *
 *     typedef struct { int x; rill_oneshot_sender_t *reply; } req_t;
 *     // worker, having received req:
 *     int y = req.x * 2;
 *     rill_oneshot_send(req.reply, &y);      // never waits
 *     rill_oneshot_sender_release(req.reply);
 *     // caller:
 *     rill_oneshot_sender_t *tx;
 *     rill_oneshot_receiver_t *rx;
 *     rill_oneshot_new(&tx, &rx, sizeof(int), NULL);
 *     submit((req_t){21, tx});              // hands tx to the worker
 *     int y;
 *     if (rill_oneshot_recv_timeout(rx, &y, RILL_SEC(1)) == 0)
 *         printf("%d\n", y);                // 42
 *     rill_oneshot_receiver_release(rx);
 *
 * Cancel safety: every waiting operation here is wake-and-retry. One
 * ended by timeout, select or task cancellation has either completed (its
 * status is returned) or left no trace: a recv that did not complete took
 * nothing, the value stays for the next recv.
 */
#ifndef RILL_ONESHOT_H
#define RILL_ONESHOT_H

#include "sync.h" /* channel options and stats */
#include "rt.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct rill_oneshot_sender rill_oneshot_sender_t;
typedef struct rill_oneshot_receiver rill_oneshot_receiver_t;

/*
 * rill_oneshot_new - create a oneshot channel for one value of item_size
 * bytes. cfg may be NULL (or zero-initialised) for the defaults: name for
 * stats and dumps; item_dtor (with item_dtor_ud) is called on a value
 * that was sent but never received, when the receiver is released, so a
 * value that owns something (a pointer, a rill_bytes) is not leaked.
 * Returns: 0; RILL_EINVAL for NULL out pointers, item_size 0 or above
 *   1 GiB; RILL_ENOMEM.
 * Ownership: on success the caller owns *tx and *rx; release each once
 *   with rill_oneshot_sender_release / rill_oneshot_receiver_release. On
 *   failure nothing is allocated. cfg is only read during the call.
 * Waits: never.
 * Threads: both.
 */
RILL_API RILL_NODISCARD int rill_oneshot_new(rill_oneshot_sender_t **tx,
                                             rill_oneshot_receiver_t **rx,
                                             size_t item_size,
                                             const rill_channel_config_t *cfg);

/*
 * rill_oneshot_send_sized - store the value and wake the receiver.
 * Returns: 0; RILL_ECLOSED if the receiver was closed or released (the
 *   value was not stored; the caller still owns what it points to);
 *   RILL_EALREADY if a value was sent before (reported as misuse, as
 *   a second release is); RILL_EINVAL for NULL
 *   arguments or a size that is not the channel's item size.
 * Ownership: the bytes are copied; tx stays the caller's to release.
 * Waits: never.
 * Threads: the owner of tx.
 */
RILL_API RILL_NODISCARD int rill_oneshot_send_sized(rill_oneshot_sender_t *tx,
                                                    const void *item,
                                                    size_t size);
#define rill_oneshot_send(tx, p) rill_oneshot_send_sized((tx), (p), sizeof *(p))

/*
 * rill_oneshot_try_recv_sized - take the value if it is there.
 * Returns: 0 with the value in *out; RILL_EEMPTY if no value yet and the
 *   sender is alive; RILL_DONE if none will come (the sender was released
 *   without sending, or the value was already taken); RILL_EINVAL.
 * Waits: never.
 * Threads: the owner of rx.
 */
RILL_API RILL_NODISCARD int
rill_oneshot_try_recv_sized(rill_oneshot_receiver_t *rx, void *out,
                            size_t size);
#define rill_oneshot_try_recv(rx, p)                                           \
    rill_oneshot_try_recv_sized((rx), (p), sizeof *(p))

/*
 * rill_oneshot_recv_sized - wait for the value and take it.
 * Returns: 0 with the value in *out; RILL_DONE if none will come;
 *   RILL_ECANCELED if the calling task is cancelled (nothing taken);
 *   RILL_EINVAL.
 * Waits: until a value is sent or the sender is released.
 * Threads: the owner of rx; a task or a plain thread.
 */
RILL_API RILL_NODISCARD int rill_oneshot_recv_sized(rill_oneshot_receiver_t *rx,
                                                    void *out, size_t size);
#define rill_oneshot_recv(rx, p) rill_oneshot_recv_sized((rx), (p), sizeof *(p))

/*
 * rill_oneshot_recv_timeout_sized - as rill_oneshot_recv_sized for at most
 * `timeout`.
 * Returns: as rill_oneshot_recv_sized, or RILL_ETIMEDOUT (nothing taken).
 * Waits: at most timeout.
 * Threads: the owner of rx; a task or a plain thread.
 */
RILL_API RILL_NODISCARD int
rill_oneshot_recv_timeout_sized(rill_oneshot_receiver_t *rx, void *out,
                                size_t size, rill_duration_t timeout);
#define rill_oneshot_recv_timeout(rx, p, timeout)                              \
    rill_oneshot_recv_timeout_sized((rx), (p), sizeof *(p), (timeout))

/*
 * rill_oneshot_poll_recv - the receive as a poll function (for the stream
 * layer and hand-written futures).
 * Returns: 0 with the value in *out; RILL_PENDING (cx's waker registered;
 *   also when the cooperative budget is spent); RILL_DONE; RILL_EINVAL.
 * Threads: the owner of rx. The registration lives in rx: one poller at
 *   a time.
 * Waits: never (it registers the waker instead).
 */
RILL_API RILL_NODISCARD int rill_oneshot_poll_recv(rill_oneshot_receiver_t *rx,
                                                   rill_cx_t *cx, void *out,
                                                   size_t size);

/*
 * A receive as a future, in caller storage. Initialise with
 * rill_oneshot_recv_op, then rill_await it, select over it or poll it.
 * Completes with the results of rill_oneshot_recv_sized. Withdrawn
 * (rill_future_cancel) without trace.
 */
typedef struct rill_oneshot_recv_op {
    rill_future_t base;
    void *private_[16];
} rill_oneshot_recv_op_t;

/*
 * rill_oneshot_recv_op - initialise a receive future.
 * Never fails: bad arguments (NULL, size mismatch) make its first poll
 * return RILL_EINVAL.
 * Threads: the owner of rx; op and out stay the caller's until it completes or
 *   is withdrawn.
 */
RILL_API void rill_oneshot_recv_op(rill_oneshot_recv_op_t *op,
                                   rill_oneshot_receiver_t *rx, void *out,
                                   size_t size);

/*
 * rill_oneshot_close - refuse the value: from now on the sender's send
 * fails with RILL_ECLOSED and its closed-wait completes. A value sent
 * before can still be received. Idempotent.
 * Returns: 0; RILL_EINVAL for NULL.
 * Threads: the owner of rx.
 * Waits: never.
 */
RILL_API int rill_oneshot_close(rill_oneshot_receiver_t *rx);

/*
 * rill_oneshot_receiver_release - close and release the receiver; a value not
 * taken is given to the channel's item_dtor (or dropped). NULL is
 * accepted.
 * Returns: 0; RILL_EALREADY if rx was already released while the sender
 *   still lives; RILL_EINVAL if it is not a live receiver (both reported
 *   as misuse, nothing touched). Once both handles are released the
 *   channel is freed: using either handle then is a use after free.
 * Ownership: consumes rx. On failure nothing is touched.
 * Waits: never (the item destructor runs in the call).
 * Threads: the owner of rx.
 */
RILL_API int rill_oneshot_receiver_release(rill_oneshot_receiver_t *rx);

/*
 * rill_oneshot_is_closed - true if the receiver was closed or released
 * (the non-waiting form of rill_oneshot_closed).
 * Threads: the owner of tx.
 * Returns: true once the receiver is closed or released.
 */
RILL_API bool rill_oneshot_is_closed(const rill_oneshot_sender_t *tx);

/*
 * rill_oneshot_closed - wait until the receiver is closed or released.
 * Returns: 0; RILL_ECANCELED in a cancelled task; RILL_EINVAL.
 * Waits: until the receiver is gone.
 * Threads: the owner of tx.
 */
RILL_API RILL_NODISCARD int rill_oneshot_closed(rill_oneshot_sender_t *tx);

/* rill_oneshot_closed_timeout - as rill_oneshot_closed for at most
 * `timeout`; RILL_ETIMEDOUT when it passes.
 * Returns: as rill_oneshot_closed, or RILL_ETIMEDOUT.
 * Waits: at most timeout.
 * Threads: the owner of tx.
 */
RILL_API RILL_NODISCARD int
rill_oneshot_closed_timeout(rill_oneshot_sender_t *tx, rill_duration_t timeout);

/* rill_oneshot_poll_closed - the closed-wait as a poll function: 0 or
 * RILL_PENDING (waker registered in tx); RILL_EINVAL.
 * Returns: 0; RILL_PENDING (waker registered in tx); RILL_EINVAL.
 * Waits: never.
 * Threads: the owner of tx.
 */
RILL_API RILL_NODISCARD int rill_oneshot_poll_closed(rill_oneshot_sender_t *tx,
                                                     rill_cx_t *cx);

/* The closed-wait as a future in caller storage (as rill_oneshot_recv_op). */
typedef struct rill_oneshot_closed_op {
    rill_future_t base;
    void *private_[16];
} rill_oneshot_closed_op_t;

/* rill_oneshot_closed_op - initialise a closed-wait future. Never fails:
 * a NULL tx makes its first poll return RILL_EINVAL.
 * Threads: the owner of tx; op stays the caller's until it completes or is
 *   withdrawn.
 */
RILL_API void rill_oneshot_closed_op(rill_oneshot_closed_op_t *op,
                                     rill_oneshot_sender_t *tx);

/*
 * rill_oneshot_sender_release - release the sender. If no value was sent the
 * receiver gets RILL_DONE. NULL is accepted.
 * Returns: 0; RILL_EALREADY if tx was already released while the receiver
 *   still lives; RILL_EINVAL if it is not a live sender (as for
 *   rill_oneshot_receiver_release).
 * Ownership: consumes tx. On failure nothing is touched.
 * Waits: never.
 * Threads: the owner of tx.
 */
RILL_API int rill_oneshot_sender_release(rill_oneshot_sender_t *tx);

/*
 * rill_oneshot_stats - the channel's counters: capacity 1; len 1 while a
 * value waits to be received; sent and received 0 or 1; high_water 1 once
 * a value was stored; waits_empty counts receives that waited, waits_full
 * closed-waits that waited; discarded 1 if the value went to the receiver's
 * release unreceived; is_closed once the receiver is closed. name points
 * into the channel (valid while a handle is). From either handle: pass the
 * one you have, NULL for the other.
 * Returns: 0; RILL_EINVAL if both are NULL or out is NULL.
 * Waits: never.
 * Threads: both.
 */
RILL_API int rill_oneshot_stats(const rill_oneshot_sender_t *tx,
                                const rill_oneshot_receiver_t *rx,
                                rill_channel_stats_t *out);

#ifdef __cplusplus
}
#endif

#endif /* RILL_ONESHOT_H */
