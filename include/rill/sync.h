/* SPDX-License-Identifier: MIT */
/*
 * rill/sync.h - channels and select.
 *
 * mpsc channels carry items of a fixed size, copied by value, from any
 * number of senders to one receiver. Three kinds, chosen by capacity:
 *
 *   capacity N >= 1   bounded: a ring of N slots; a send waits while the
 *                     ring is full, a receive while it is empty. No lock,
 *                     no system call and no allocation on either side
 *                     while the other side is not waiting.
 *   capacity 0        rendezvous (Go's unbuffered channel): a send
 *                     completes only when a receiver takes the item.
 *   RILL_UNBOUNDED    unbounded: a send never waits (blocks of items are
 *                     allocated as needed and given back when drained).
 *
 * Every operation that can wait comes in four forms: rill_try_X never
 * waits, X waits, X_timeout waits at most a duration, and X_op is a future
 * in caller storage for rill_await, rill_select and hand-written futures.
 * The blocking forms are exactly X_op + rill_await: on a plain thread they
 * park the thread, in a rill task they suspend the task. So one channel
 * serves threads and tasks alike.
 *
 * The item size travels with each call: rill_send(tx, &v) passes sizeof v,
 * and a size that differs from the channel's is RILL_EINVAL (with a
 * message naming both sizes in debug builds), never memory corruption.
 * The *_sized functions take the size explicitly.
 *
 * Ownership of items: a send that returns 0 moved the item into the
 * channel; any other result leaves it with the caller. Items that the
 * channel discards (still buffered when the receiver is released) go to
 * the optional item destructor, exactly once each.
 *
 * Closing: the receiver's recv returns RILL_DONE once every sender handle
 * is released (or the receiver was closed) and every buffered item was
 * received. rill_receiver_close stops new sends (they fail with
 * RILL_ECLOSED) while buffered items can still be drained.
 *
 * Cancel safety: an X_op withdrawn by a timeout, by select or by task
 * cancellation either completed fully (its status is returned) or left no
 * trace: no item is lost or duplicated, no slot leaks.
 *
 * Threads: any handle may be used from any thread or task. A sender handle
 * may be used by several threads at once; the receiver is single-consumer
 * (one recv/poll at a time, as its name says).
 *
 * Example (bounded; a plain thread sends, a task or thread receives):
 *
 *     rill_sender_t *tx;
 *     rill_receiver_t *rx;
 *     rill_channel_new(&tx, &rx, sizeof(int), 64, NULL);
 *     for (int i = 0; i < 3; i++)
 *         rill_send(tx, &i);            // waits while the ring is full
 *     rill_sender_release(tx);          // the receiver sees DONE after 2
 *     int v;
 *     while (rill_recv(rx, &v) == 0)
 *         printf("%d\n", v);            // 0 1 2
 *     rill_receiver_release(rx);
 *
 * Example (rendezvous: capacity 0; the send waits for the receiver):
 *
 *     rill_channel_new(&tx, &rx, sizeof(int), 0, NULL);
 *     // thread A                      // thread B
 *     int v = 42;                      int got;
 *     rill_send(tx, &v);               rill_recv(rx, &got);
 *     // returns once B has the item   // got == 42
 *     rill_try_send(tx, &v);           // RILL_EFULL: nobody is receiving
 *
 * Example (unbounded, with an item destructor for pointer items):
 *
 *     static void free_item(void *item, void *ud) { free(*(char **)item); }
 *     rill_channel_config_t o = {.name = "log", .item_dtor = free_item};
 *     rill_channel_new(&tx, &rx, sizeof(char *), RILL_UNBOUNDED, &o);
 *     char *line = strdup("hello");
 *     rill_send(tx, &line);             // never waits
 *     rill_receiver_release(rx);        // free_item runs for "hello"
 *     rill_send(tx, &line);             // RILL_ECLOSED: caller keeps line
 *
 * Example (select: receive from either channel, or time out):
 *
 *     int a, b, st;
 *     rill_recv_op_t ra, rb;
 *     rill_recv_op(&ra, rx_a, &a, sizeof a);
 *     rill_recv_op(&rb, rx_b, &b, sizeof b);
 *     rill_future_t *cases[] = {&ra.base, &rb.base};
 *     int i = rill_select(cases, 2, 0, rill_deadline(RILL_MS(10)), &st);
 *     // i == 0: a received (st == 0) or rx_a ended (st == RILL_DONE);
 *     // i == 1: likewise for b; i == RILL_ETIMEDOUT: neither changed.
 */
#ifndef RILL_SYNC_H
#define RILL_SYNC_H

#include "core.h"
#include "rt.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct rill_sender rill_sender_t;
typedef struct rill_receiver rill_receiver_t;

/* The capacity of an unbounded channel. */
#define RILL_UNBOUNDED SIZE_MAX

/* Called for an item the channel discards; `item` points at it (item_size
 * bytes in the channel's memory, valid during the call); ud is the
 * channel's item_dtor_ud. Runs in whichever call discards the item (a receiver
 * or sender release); it must not call back into the channel. */
typedef void (*rill_item_dtor_fn)(void *item, void *ud);

/* Options for rill_channel_new, rill_oneshot_new, rill_watch_new and
 * rill_broadcast_new. NULL or a zero-initialised struct means all defaults. */
typedef struct rill_channel_config {
    const char *name;            /* copied (first 31 bytes); for stats */
    rill_item_dtor_fn item_dtor; /* NULL: discarded items are dropped */
    void *item_dtor_ud;
} rill_channel_config_t;

/* ------------------------------------------------------------------------ */
/* Creating, cloning, closing, releasing                                     */
/* ------------------------------------------------------------------------ */

/*
 * rill_channel_new - create an mpsc channel: one sender handle, one
 * receiver handle.
 * capacity: N >= 1 bounded, 0 rendezvous, RILL_UNBOUNDED unbounded.
 * cfg: NULL (or zero-initialised) for the defaults.
 * Returns: 0; RILL_EINVAL for NULL out pointers, item_size 0, or a
 *   capacity whose ring would not fit in memory (capacity * item_size
 *   overflows, or capacity >= 2^40); RILL_ENOMEM.
 * Ownership: the caller owns *tx and *rx and releases each with
 *   rill_sender_release / rill_receiver_release. The channel's memory goes
 *   when the last handle (and permit) is gone. On failure nothing is allocated
 *   and *tx, *rx are not set.
 * Waits: never.
 * Threads: both.
 */
RILL_API RILL_NODISCARD int rill_channel_new(rill_sender_t **tx,
                                             rill_receiver_t **rx,
                                             size_t item_size, size_t capacity,
                                             const rill_channel_config_t *cfg);

/*
 * rill_sender_clone - another sender handle for the same channel.
 * Returns: 0; RILL_EINVAL for NULL or a released handle; RILL_ENOMEM.
 * Ownership: *out is the caller's, to release. On failure *out is not set.
 * Threads: any.
 * Waits: never.
 */
RILL_API RILL_NODISCARD int rill_sender_clone(rill_sender_t *tx,
                                              rill_sender_t **out);

/*
 * rill_sender_release - give up a sender handle. When the last one goes,
 * the receiver sees RILL_DONE after draining. NULL is accepted (0).
 * Returns: 0; RILL_EALREADY for a handle released before (reported as
 *   misuse in debug builds; detected as long as the channel lives and, in
 *   release builds, the handle was not reused by a later clone).
 * Threads: any; not concurrently with another call on the same handle.
 * Ownership: consumes tx on 0; on failure (RILL_EALREADY) nothing is touched.
 * Waits: never.
 */
RILL_API int rill_sender_release(rill_sender_t *tx);

/*
 * rill_receiver_close - stop accepting items. Waiting and later sends fail
 * with RILL_ECLOSED (the caller keeps the item); items already buffered
 * (and sends that had already taken a slot) can still be received, after
 * which recv returns RILL_DONE. A rendezvous send that was waiting when
 * the channel closed fails with RILL_ECLOSED too: its item never left the
 * sender. Idempotent; the handle stays valid.
 * Returns: 0; RILL_EINVAL for NULL or a released handle.
 * Waits: never.
 * Threads: both.
 */
RILL_API int rill_receiver_close(rill_receiver_t *rx);

/*
 * rill_receiver_release - close (as above) and give up the receiver. Items
 * still in the channel are discarded: each goes to the item destructor
 * exactly once (those whose send is still finishing, when the last sender
 * goes). NULL is accepted (0).
 * Returns: 0; RILL_EALREADY for a second release while the channel lives.
 * Threads: any; not concurrently with another call on the receiver.
 * Ownership: consumes rx on 0; on failure (RILL_EALREADY) nothing is touched.
 * Waits: never (item destructors run in the call).
 */
RILL_API int rill_receiver_release(rill_receiver_t *rx);

/* ------------------------------------------------------------------------ */
/* Sending                                                                   */
/* ------------------------------------------------------------------------ */

/*
 * rill_try_send - send one item if it can be done without waiting.
 * Returns: 0 (the item is in the channel, or with a rendezvous receiver);
 *   RILL_EFULL (bounded: no free slot; rendezvous: no receiver waiting);
 *   RILL_ECLOSED (receiver closed or released; the caller keeps the item);
 *   RILL_EINVAL (NULL or released handle, NULL item, wrong item size);
 *   RILL_ENOMEM (unbounded: no memory for a new block).
 * Waits: never.
 * Threads: any.
 */
RILL_API RILL_NODISCARD int
rill_try_send_sized(rill_sender_t *tx, const void *item, size_t item_size);
#define rill_try_send(tx, p) rill_try_send_sized((tx), (p), sizeof *(p))

/*
 * rill_send - send one item, waiting for room (bounded) or for the
 * receiver (rendezvous). Waiting senders are served first come, first
 * served.
 * Returns: 0; RILL_ECLOSED (also when the channel closes while waiting);
 *   RILL_ECANCELED (the calling task was cancelled; nothing was sent);
 *   RILL_EINVAL; RILL_ENOMEM (unbounded).
 * Waits: until sent or closed. Parks a plain thread, suspends a task.
 * Cancel: completed fully or not at all.
 * Threads: both.
 */
RILL_API RILL_NODISCARD int rill_send_sized(rill_sender_t *tx, const void *item,
                                            size_t item_size);
#define rill_send(tx, p) rill_send_sized((tx), (p), sizeof *(p))

/*
 * rill_send_timeout - rill_send waiting at most `timeout`.
 * Returns: as rill_send, or RILL_ETIMEDOUT: nothing was sent, the caller
 *   keeps the item and no slot is held.
 * Waits: at most timeout.
 * Threads: both.
 */
RILL_API RILL_NODISCARD int rill_send_timeout_sized(rill_sender_t *tx,
                                                    const void *item,
                                                    size_t item_size,
                                                    rill_duration_t timeout);
#define rill_send_timeout(tx, p, t)                                            \
    rill_send_timeout_sized((tx), (p), sizeof *(p), (t))

/*
 * rill_try_send_many - send up to n items (an array) in one step, as many
 * as fit now, in order. *sent gets the count (items[0 .. *sent-1] moved
 * into the channel, the rest stay with the caller).
 * Returns: 0 with *sent >= 1; RILL_EFULL, RILL_ECLOSED, RILL_EINVAL,
 *   RILL_ENOMEM with *sent == 0. n == 0 is RILL_EINVAL.
 * Waits: never.
 * Threads: both.
 */
RILL_API RILL_NODISCARD int rill_try_send_many_sized(rill_sender_t *tx,
                                                     const void *items,
                                                     size_t n, size_t *sent,
                                                     size_t item_size);
#define rill_try_send_many(tx, a, n, sent)                                     \
    rill_try_send_many_sized((tx), (a), (n), (sent), sizeof *(a))

/*
 * rill_send_many - wait until at least one of the n items can be sent,
 * then send as many as fit (like write(2) on a pipe). *sent gets the count.
 * Returns: as rill_send; on anything but 0, *sent == 0.
 * Waits: until at least one item is sent, or closed.
 * Cancel: *sent items were sent (the first ones) or none at all.
 * Threads: both.
 */
RILL_API RILL_NODISCARD int rill_send_many_sized(rill_sender_t *tx,
                                                 const void *items, size_t n,
                                                 size_t *sent,
                                                 size_t item_size);
#define rill_send_many(tx, a, n, sent)                                         \
    rill_send_many_sized((tx), (a), (n), (sent), sizeof *(a))

/* rill_send_many_timeout - rill_send_many waiting at most `timeout`.
 * Returns: as rill_send_many, or RILL_ETIMEDOUT with *sent == 0.
 * Waits: at most timeout.
 * Threads: both.
 */
RILL_API RILL_NODISCARD int
rill_send_many_timeout_sized(rill_sender_t *tx, const void *items, size_t n,
                             size_t *sent, size_t item_size,
                             rill_duration_t timeout);
#define rill_send_many_timeout(tx, a, n, sent, t)                              \
    rill_send_many_timeout_sized((tx), (a), (n), (sent), sizeof *(a), (t))

/* ------------------------------------------------------------------------ */
/* Receiving                                                                 */
/* ------------------------------------------------------------------------ */

/*
 * rill_try_recv - take the next item if there is one.
 * Returns: 0 (item in *out); RILL_EEMPTY (nothing buffered; rendezvous: no
 *   sender waiting); RILL_DONE (all senders released or the receiver
 *   closed, and nothing left: the end); RILL_EINVAL.
 * Waits: never.
 * Threads: the receiver's one consumer.
 */
RILL_API RILL_NODISCARD int rill_try_recv_sized(rill_receiver_t *rx, void *out,
                                                size_t item_size);
#define rill_try_recv(rx, p) rill_try_recv_sized((rx), (p), sizeof *(p))

/*
 * rill_recv - take the next item, waiting for one.
 * Returns: 0; RILL_DONE (the end: also for a closed, drained channel);
 *   RILL_ECANCELED (task cancelled; nothing taken); RILL_EINVAL.
 * Waits: until an item arrives or the channel ends.
 * Cancel: took the item fully or not at all (the item stays queued).
 * Threads: both; the receiver's one consumer.
 */
RILL_API RILL_NODISCARD int rill_recv_sized(rill_receiver_t *rx, void *out,
                                            size_t item_size);
#define rill_recv(rx, p) rill_recv_sized((rx), (p), sizeof *(p))

/* rill_recv_timeout - rill_recv waiting at most `timeout`; RILL_ETIMEDOUT
 * then, with nothing taken.
 * Returns: as rill_recv, or RILL_ETIMEDOUT (nothing taken).
 * Waits: at most timeout.
 * Threads: both; the receiver's one consumer.
 */
RILL_API RILL_NODISCARD int rill_recv_timeout_sized(rill_receiver_t *rx,
                                                    void *out, size_t item_size,
                                                    rill_duration_t timeout);
#define rill_recv_timeout(rx, p, t)                                            \
    rill_recv_timeout_sized((rx), (p), sizeof *(p), (t))

/*
 * rill_try_recv_many - take up to max items (into the array out) in one
 * step, in order. *n gets the count.
 * Returns: 0 with *n >= 1; RILL_EEMPTY, RILL_DONE, RILL_EINVAL with *n == 0.
 * Waits: never.
 * Threads: both; the receiver's one consumer.
 */
RILL_API RILL_NODISCARD int rill_try_recv_many_sized(rill_receiver_t *rx,
                                                     void *out, size_t max,
                                                     size_t *n,
                                                     size_t item_size);
#define rill_try_recv_many(rx, a, max, n)                                      \
    rill_try_recv_many_sized((rx), (a), (max), (n), sizeof *(a))

/*
 * rill_recv_many - wait for at least one item, then take up to max.
 * Returns: as rill_recv; *n >= 1 on 0, else *n == 0.
 * Cancel: *n items were taken or none.
 * Waits: until at least one item arrives or the channel ends.
 * Threads: both; the receiver's one consumer.
 */
RILL_API RILL_NODISCARD int rill_recv_many_sized(rill_receiver_t *rx, void *out,
                                                 size_t max, size_t *n,
                                                 size_t item_size);
#define rill_recv_many(rx, a, max, n)                                          \
    rill_recv_many_sized((rx), (a), (max), (n), sizeof *(a))

/* rill_recv_many_timeout - rill_recv_many waiting at most `timeout`.
 * Returns: as rill_recv_many, or RILL_ETIMEDOUT with *n == 0.
 * Waits: at most timeout.
 * Threads: both; the receiver's one consumer.
 */
RILL_API RILL_NODISCARD int
rill_recv_many_timeout_sized(rill_receiver_t *rx, void *out, size_t max,
                             size_t *n, size_t item_size,
                             rill_duration_t timeout);
#define rill_recv_many_timeout(rx, a, max, n, t)                               \
    rill_recv_many_timeout_sized((rx), (a), (max), (n), sizeof *(a), (t))

/*
 * rill_poll_recv - the receive step of a hand-written future or stream
 * (the stream layer's receiver streams are built on it).
 * Returns: 0 with an item in *out; RILL_PENDING after registering
 *   cx->waker (it is woken when an item arrives or the channel ends);
 *   RILL_DONE; RILL_EINVAL. Spends one unit of cx->budget per item; when
 *   the budget is used up it wakes cx->waker and returns RILL_PENDING.
 * Cancel: nothing to withdraw; a pending registration is dropped by the
 *   next recv or by releasing the receiver.
 * Threads: the receiver's one consumer.
 * Waits: never (it registers the waker instead).
 */
RILL_API RILL_NODISCARD int rill_poll_recv(rill_receiver_t *rx, rill_cx_t *cx,
                                           void *out, size_t item_size);

/*
 * rill_poll_recv_many - as rill_poll_recv for up to max items into the
 * array out; *n gets the count (>= 1 on 0). One budget unit per call that
 * gives items.
 * Returns: as rill_poll_recv; *n >= 1 on 0.
 * Waits: never (it registers the waker instead).
 * Threads: both; the receiver's one consumer.
 */
RILL_API RILL_NODISCARD int rill_poll_recv_many(rill_receiver_t *rx,
                                                rill_cx_t *cx, void *out,
                                                size_t max, size_t *n,
                                                size_t item_size);

/* ------------------------------------------------------------------------ */
/* Reserve / permit                                                          */
/* ------------------------------------------------------------------------ */

/*
 * A permit is a slot taken before the value exists: reserve, produce the
 * value, then rill_permit_send (which cannot fail or wait) or
 * rill_permit_release (gives the slot back). Caller storage; a permit
 * keeps its channel alive until used or released.
 *
 * Bounded and unbounded channels: the permit holds the next position of
 * the queue (so that rill_permit_send can neither fail nor wait), and the
 * receiver takes the items sent after it only once the permit is used or
 * released: keep permits short-lived. An unbounded reserve never waits.
 * Rendezvous channels have no slots: RILL_ENOTSUP.
 */
typedef struct rill_permit {
    void *private_[4];
} rill_permit_t;

/*
 * rill_try_reserve - take a slot if one is free now.
 * Returns: 0 (*permit valid); RILL_EFULL; RILL_ECLOSED; RILL_ENOTSUP
 *   (rendezvous); RILL_EINVAL; RILL_ENOMEM.
 * Waits: never.
 * Threads: both.
 */
RILL_API RILL_NODISCARD int rill_try_reserve(rill_sender_t *tx,
                                             rill_permit_t *permit);

/*
 * rill_reserve - take a slot, waiting for one (first come, first served
 * with waiting senders).
 * Returns: as rill_try_reserve without RILL_EFULL; RILL_ECANCELED.
 * Cancel: a permit was made (0) or no slot is held.
 * Waits: until a slot is free or the channel closes.
 * Threads: both.
 */
RILL_API RILL_NODISCARD int rill_reserve(rill_sender_t *tx,
                                         rill_permit_t *permit);

/* rill_reserve_timeout - rill_reserve waiting at most `timeout`.
 * Returns: as rill_reserve, or RILL_ETIMEDOUT (no slot held).
 * Waits: at most timeout.
 * Threads: both.
 */
RILL_API RILL_NODISCARD int rill_reserve_timeout(rill_sender_t *tx,
                                                 rill_permit_t *permit,
                                                 rill_duration_t timeout);

/*
 * rill_permit_send - write the item into the reserved slot; consumes the
 * permit. If the receiver was released meanwhile, the item goes to the
 * item destructor (it was in the channel's hands, as a buffered item).
 * Returns: 0 (the item always moved); RILL_EINVAL (NULL, used permit,
 *   wrong size: the permit is then still valid).
 * Waits: never.
 * Threads: both.
 */
RILL_API int rill_permit_send_sized(rill_permit_t *permit, const void *item,
                                    size_t item_size);
#define rill_permit_send(pm, p) rill_permit_send_sized((pm), (p), sizeof *(p))

/*
 * rill_permit_release - give the slot back unused; consumes the permit.
 * Returns: 0; RILL_EINVAL for NULL or a used permit.
 * Ownership: consumes the permit on 0 (its slot goes back); on failure nothing
 *   changes.
 * Waits: never.
 * Threads: both.
 */
RILL_API int rill_permit_release(rill_permit_t *permit);

/* ------------------------------------------------------------------------ */
/* Futures: the _op forms                                                    */
/* ------------------------------------------------------------------------ */

/*
 * An operation as a future in caller storage (first member `base`):
 *
 *     rill_send_op_t op;
 *     rill_send_op(&op, tx, &v, sizeof v);
 *     int r = rill_await(&op.base);      // == rill_send(tx, &v)
 *
 * Init never fails: bad arguments make the first poll return RILL_EINVAL.
 * An op completes once; initialise it again to reuse the storage. The
 * buffers it was given (item, out, counts, permit) must stay valid until
 * it completes or is cancelled (rill_future_cancel, which rill_await_until
 * and rill_select call). Its waiter lives inside it: no allocation. Its
 * results and cancel safety are those of the blocking form.
 *
 * Budget: an op does not spend cx->budget itself (rill_await in a task
 * spends one unit per completed await, and a select is one await); it
 * returns RILL_PENDING after waking cx->waker when the budget it is polled
 * with is already used up. rill_send / rill_recv take the ring directly
 * when they need not wait (in a task charging the coop budget as
 * rill_await would); a cancelled task sees RILL_ECANCELED from them once
 * they would wait.
 */
typedef struct rill_send_op {
    rill_future_t base;
    void *private_[16];
} rill_send_op_t;

typedef struct rill_recv_op {
    rill_future_t base;
    void *private_[16];
} rill_recv_op_t;

typedef struct rill_reserve_op {
    rill_future_t base;
    void *private_[16];
} rill_reserve_op_t;

/* A future for rill_send.
 * Threads: both (as the blocking form); op and the buffers stay the caller's
 *   until it completes or is withdrawn.
 */
RILL_API void rill_send_op(rill_send_op_t *op, rill_sender_t *tx,
                           const void *item, size_t item_size);
/* A future for rill_send_many; *sent is written when it completes.
 * Threads: both (as the blocking form); op and the buffers stay the caller's
 *   until it completes or is withdrawn.
 */
RILL_API void rill_send_many_op(rill_send_op_t *op, rill_sender_t *tx,
                                const void *items, size_t n, size_t *sent,
                                size_t item_size);
/* A future for rill_recv.
 * Threads: both (as the blocking form); op and the buffers stay the caller's
 *   until it completes or is withdrawn.
 */
RILL_API void rill_recv_op(rill_recv_op_t *op, rill_receiver_t *rx, void *out,
                           size_t item_size);
/* A future for rill_recv_many; *n is written when it completes.
 * Threads: both (as the blocking form); op and the buffers stay the caller's
 *   until it completes or is withdrawn.
 */
RILL_API void rill_recv_many_op(rill_recv_op_t *op, rill_receiver_t *rx,
                                void *out, size_t max, size_t *n,
                                size_t item_size);
/* A future for rill_reserve; *permit is valid once it completed with 0.
 * Threads: both (as the blocking form); op and the buffers stay the caller's
 *   until it completes or is withdrawn.
 */
RILL_API void rill_reserve_op(rill_reserve_op_t *op, rill_sender_t *tx,
                              rill_permit_t *permit);

/* ------------------------------------------------------------------------ */
/* Inspection and diagnostics                                                */
/* ------------------------------------------------------------------------ */

/* Items buffered now (a snapshot; 0 for rendezvous). 0 for NULL.
 * Returns: the count; 0 for NULL.
 * Threads: both.
 */
RILL_API size_t rill_sender_len(const rill_sender_t *tx);
RILL_API size_t rill_receiver_len(const rill_receiver_t *rx);
/* The capacity given at creation (RILL_UNBOUNDED for unbounded).
 * Returns: the capacity; 0 for NULL.
 * Threads: both.
 */
RILL_API size_t rill_sender_capacity(const rill_sender_t *tx);
RILL_API size_t rill_receiver_capacity(const rill_receiver_t *rx);
/* The item size given at creation (0 for NULL).
 * Returns: the size; 0 for NULL.
 * Threads: both.
 */
RILL_API size_t rill_receiver_item_size(const rill_receiver_t *rx);
/* Sender side: the receiver closed or released (sends fail).
 * Returns: true once sends fail; true for NULL.
 * Threads: both.
 */
RILL_API bool rill_sender_is_closed(const rill_sender_t *tx);
/* Receiver side: closed, or every sender released (the end is coming).
 * Returns: true once the end is coming; true for NULL.
 * Threads: both.
 */
RILL_API bool rill_receiver_is_closed(const rill_receiver_t *rx);

/* Counters of a channel (each read atomically, not all as one snapshot). */
typedef struct rill_channel_stats {
    const char *name;     /* "" if none; valid while the handle is */
    size_t capacity;      /* as given; RILL_UNBOUNDED for unbounded */
    size_t len;           /* items buffered now */
    uint64_t sent;        /* items moved into the channel */
    uint64_t received;    /* items taken by the receiver */
    uint64_t high_water;  /* most items buffered at once (unbounded:
                             sampled, exact to a block of 32) */
    uint64_t waits_full;  /* sends/reserves that had to wait */
    uint64_t waits_empty; /* receives that had to wait */
    uint64_t discarded;   /* items given to the destructor (or dropped) */
    bool is_closed;       /* as rill_sender_is_closed */
} rill_channel_stats_t;

/* Returns: 0; RILL_EINVAL for NULL arguments or a released handle.
 * Waits: never.
 * Threads: both.
 */
RILL_API int rill_sender_stats(const rill_sender_t *tx,
                               rill_channel_stats_t *out);
RILL_API int rill_receiver_stats(const rill_receiver_t *rx,
                                 rill_channel_stats_t *out);

/* ------------------------------------------------------------------------ */
/* Select                                                                    */
/* ------------------------------------------------------------------------ */

enum {
    /* Poll the cases in array order instead of from a random start. */
    RILL_SELECT_BIASED = 1u << 0,
    /* Never wait: if no case is ready, return RILL_EAGAIN at once. */
    RILL_SELECT_DEFAULT = 1u << 1
};

/*
 * rill_select - wait until one of n operations completes, and complete
 * exactly that one. A case is any _op future of any channel kind (send,
 * receive, reserve, and the oneshot / watch / broadcast ops), or a
 * rill_sleep_op_t (a timer case). The others have no effect at all: they
 * are withdrawn (their cancel reports they did nothing), no item moves
 * through them.
 *
 * Fair by default: each round tries the cases in a uniformly random
 * order, so among cases that are ready together each wins equally often,
 * wherever they sit and whatever the cases that are not ready. With
 * RILL_SELECT_BIASED the lowest ready index wins. deadline: an instant on
 * rill_now()'s clock, RILL_FOREVER for none.
 *
 * Returns: the index of the completed case (>= 0), with that case's own
 *   status in *status (0, RILL_DONE, RILL_ECLOSED, ...; status may be
 *   NULL); RILL_EAGAIN (RILL_SELECT_DEFAULT and nothing ready);
 *   RILL_ETIMEDOUT (deadline passed; no case completed); RILL_ECANCELED
 *   (task cancelled; no case completed); RILL_EINVAL (NULL cases, n == 0,
 *   a NULL case, n > 1024); RILL_ENOMEM (n > 64 needs a buffer).
 * Waits: until a case completes or the deadline.
 * Ownership: the ops stay the caller's; all of them are finished (one
 *   completed, the others withdrawn) when rill_select returns, and must be
 *   initialised again before another select.
 * Limits: a case must not be a select of its own; two cases on the same
 *   channel are fine (a rendezvous send and receive on the same channel in
 *   one select never pair with each other).
 * Threads: both.
 */
RILL_API RILL_NODISCARD int rill_select(rill_future_t *const *cases, size_t n,
                                        unsigned flags, rill_instant_t deadline,
                                        int *status);

#ifdef __cplusplus
}
#endif

#endif /* RILL_SYNC_H */
