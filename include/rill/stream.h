/* SPDX-License-Identifier: MIT */
/*
 * rill/stream.h - streams: the stream object, sources, combinators and
 * consumers (tokio-stream + futures::StreamExt for C).
 *
 * A stream is a heap object (rill_stream_t, see rill/core.h) with an item
 * size, a poll_next, an optional batch poll_next_many and a drop. Items
 * are item_size bytes copied by value. poll_next gives:
 *
 *     0             an item (written to `out`)
 *     RILL_PENDING  nothing yet; the waker in cx is registered
 *     RILL_DONE     the end; every later poll gives RILL_DONE again
 *     < 0           an error item (a RILL_E* code or a user code at or
 *                   below RILL_EUSER); the stream may go on after it
 *
 * Conventions
 *
 * - Sources give a new stream through an out-parameter:
 *       int rill_stream_iter(rill_stream_t **out, ...);
 * - Combinators take the address of the caller's stream pointer, wrap the
 *   stream and store the wrapper back into it:
 *       int rill_stream_map(rill_stream_t **s, ...);
 *   On success *s is the new stream and owns the old one. On failure
 *   (RILL_EINVAL, RILL_ENOMEM) *s is unchanged and still the caller's, so
 *   a pipeline is built as a chain of calls with one cleanup at the end.
 *   Binary combinators (chain, zip, merge) consume their second stream on
 *   success only, too.
 * - Consumers (for_each, fold, collect, count, try_*, forward) take the
 *   stream itself and consume it: it is freed when they return, whatever
 *   they return. rill_next only borrows it.
 * - Callbacks get the caller's user-data pointer first. User data is
 *   borrowed: it must outlive the stream that holds it.
 * - Error items pass through every combinator unchanged (without calling
 *   its function) unless the combinator's comment says otherwise.
 * - Items that own resources: give the stream an item destructor
 *   (rill_stream_set_item_dtor; a receiver stream takes its channel's).
 *   rill then releases every item it discards - filtered out, skipped,
 *   buffered in a pipeline that is dropped half-consumed - and nothing
 *   leaks. Combinators that keep the item type inherit the destructor;
 *   those that make new items (map, scan, filter_map) start without one.
 * - Dropping (rill_stream_free) a stream drops everything upstream of it:
 *   a receiver stream closes its receiver, so senders see RILL_ECLOSED.
 *
 * Example: a pipeline over an array, consumed on a plain thread (the same
 * code runs in a task).
 *
 *     static int square(void *ud, void *in, void *out) {
 *         int v = *(int *)in;
 *         *(long *)out = (long)v * v;
 *         return 0;
 *     }
 *     static bool is_odd(void *ud, const void *item) {
 *         return *(const long *)item % 2 != 0;
 *     }
 *     int sum_of_odd_squares(const int *v, size_t n, long *sum) {
 *         rill_stream_t *s;
 *         int r = rill_stream_iter(&s, v, n, sizeof *v);
 *         if (r)
 *             return r;
 *         if ((r = rill_stream_map(&s, square, NULL, sizeof(long))) ||
 *             (r = rill_stream_filter(&s, is_odd, NULL))) {
 *             rill_stream_free(s);
 *             return r;
 *         }
 *         *sum = 0;
 *         long x;
 *         while ((r = rill_next(s, &x)) == 0)
 *             *sum += x;
 *         rill_stream_free(s);
 *         return r == RILL_DONE ? 0 : r;
 *     }
 *
 * Writing your own stream over your own event source (what tokio-stream's
 * ReceiverStream is for a channel): embed rill_stream_t first, implement
 * poll_next with the one rule of polling - return RILL_PENDING only after
 * storing a clone of cx->waker where the event source will find it - and
 * free everything in drop. The event source wakes the stored waker after
 * it published the event, from any thread.
 *
 *     typedef struct {
 *         rill_stream_t base;        // first: the stream head
 *         pthread_mutex_t mu;        // guards everything below
 *         int queue[64];             // events not yet taken
 *         size_t head, len;
 *         bool closed;               // the source will send no more
 *         rill_waker_t waker;        // the consumer to wake, if waiting
 *     } event_stream_t;
 *
 *     // Called by the event source (any thread).
 *     void event_push(event_stream_t *es, int ev) {
 *         pthread_mutex_lock(&es->mu);
 *         if (es->len < 64)
 *             es->queue[(es->head + es->len++) % 64] = ev;
 *         rill_waker_t w = es->waker;       // take it out under the lock,
 *         es->waker = RILL_WAKER_NONE;      // wake it outside
 *         pthread_mutex_unlock(&es->mu);
 *         rill_waker_wake(&w);
 *     }
 *
 *     static int es_poll_next(rill_stream_t *s, rill_cx_t *cx, void *out) {
 *         event_stream_t *es = (event_stream_t *)s;
 *         int r = RILL_PENDING;
 *         pthread_mutex_lock(&es->mu);
 *         if (es->len > 0) {
 *             *(int *)out = es->queue[es->head];
 *             es->head = (es->head + 1) % 64;
 *             es->len--;
 *             r = 0;
 *         } else if (es->closed) {
 *             r = RILL_DONE;
 *         } else {
 *             // Register before returning PENDING, under the same lock
 *             // event_push takes: no event can slip in between.
 *             rill_waker_set(&es->waker, cx->waker);
 *         }
 *         pthread_mutex_unlock(&es->mu);
 *         return r;
 *     }
 *
 *     static void es_drop(rill_stream_t *s) {
 *         event_stream_t *es = (event_stream_t *)s;
 *         rill_waker_release(&es->waker);
 *         pthread_mutex_destroy(&es->mu);
 *         free(es);   // (in real code: detach from the source first)
 *     }
 *
 *     static const rill_stream_vtable_t es_vtable = {
 *         .poll_next = es_poll_next, .drop = es_drop };
 *
 *     // ... rill_stream_init(&es->base, &es_vtable, sizeof(int));
 *     // then map, filter, for_each it like any other stream.
 *
 * examples/custom_stream.c is this example as a complete program.
 */
#ifndef RILL_STREAM_H
#define RILL_STREAM_H

#include "broadcast.h"
#include "bytes.h"
#include "core.h"
#include "oneshot.h"
#include "rt.h"
#include "sync.h"
#include "watch.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------------ */
/* The stream object                                                         */
/* ------------------------------------------------------------------------ */

/*
 * rill_stream_init - initialise the head of a stream you implement
 * yourself: vtable, item size, no item destructor.
 * Returns: 0; RILL_EINVAL for a NULL stream or vtable, a vtable without
 *   poll_next or drop, or item_size 0.
 * Ownership: s is the caller's storage (usually the head of its own stream
 *   object); nothing to undo on failure.
 * Waits: never.
 * Threads: both.
 */
RILL_API int rill_stream_init(rill_stream_t *s, const rill_stream_vtable_t *vt,
                              size_t item_size);

/*
 * rill_stream_set_item_dtor - give the stream's items a destructor (fn
 * NULL: plain data). rill calls fn(item, ud) for every item of this stream
 * it discards instead of handing out. Combinators built on s afterwards
 * copy it when they keep the item type.
 * Returns: 0; RILL_EINVAL for a NULL stream.
 * Ownership: ud is borrowed; it must outlive the stream and its items
 *   (chunks may hold items after the stream is gone).
 * Waits: never.
 * Threads: not concurrently with a poll of s.
 */
RILL_API int rill_stream_set_item_dtor(rill_stream_t *s, rill_item_dtor_fn fn,
                                       void *ud);

/*
 * rill_stream_discard_item - release one item of s with s's item destructor
 * (nothing for plain data). For code that discards items of a stream it
 * does not own the type of: a hand-written combinator, a consumer that
 * stops early.
 * Ownership: consumes what the item owns.
 * Threads: both.
 */
RILL_API void rill_stream_discard_item(const rill_stream_t *s, void *item);

/*
 * rill_stream_item_size - the size of s's items in bytes.
 */
static inline size_t rill_stream_item_size(const rill_stream_t *s)
{
    return s->item_size;
}

/*
 * rill_stream_free - drop the stream and everything upstream of it. Items
 * buffered inside the pipeline are released with their item destructors;
 * a receiver at the source is closed. NULL is accepted.
 * Threads: not concurrently with a poll of the same stream.
 * Ownership: consumes s and everything upstream.
 */
RILL_API void rill_stream_free(rill_stream_t *s);

/*
 * rill_stream_poll_next - poll once (see the vtable in rill/core.h). For
 * hand-written futures and streams that drive another stream.
 */
static inline int rill_stream_poll_next(rill_stream_t *s, rill_cx_t *cx,
                                        void *out)
{
    return s->vtable->poll_next(s, cx, out);
}

/*
 * rill_stream_poll_next_many - poll for up to max items at once: the
 * stream's batch path, or one poll_next when it has none.
 * Returns: as poll_next; on 0, *n (1..max) items are in out. RILL_EINVAL
 *   for a NULL argument or max 0.
 * Waits: never (it registers the waker instead).
 * Threads: the stream's one poller.
 */
RILL_API RILL_NODISCARD int rill_stream_poll_next_many(rill_stream_t *s,
                                                       rill_cx_t *cx, void *out,
                                                       size_t max, size_t *n);

/* ------------------------------------------------------------------------ */
/* Awaiting the next item                                                    */
/* ------------------------------------------------------------------------ */

/*
 * The next item as a future (the _op form), for rill_await_timeout, select
 * and hand-written futures. Lives in caller storage. Its final status is
 * what rill_next returns. Withdrawing it leaves no trace beyond a waker
 * registered upstream, which at most causes one spurious wakeup.
 */
typedef struct rill_next_op {
    rill_future_t base;
    void *private_[4];
} rill_next_op_t;

/* rill_next_op - initialise a future that takes one item of s into out.
 * Never fails: bad arguments (NULL s or out) are reported here and make
 * its first poll return RILL_EINVAL; a NULL op is reported and ignored.
 * Threads: both, one poller at a time per stream; op and the buffers stay the
 *   caller's until it completes.
 */
RILL_API void rill_next_op(rill_next_op_t *op, rill_stream_t *s, void *out);

/*
 * rill_next_many_op - initialise a future that takes between 1 and max
 * items of s into out (an array of max items) and stores the count in *n.
 * Bad arguments (NULL, max 0) as for rill_next_op.
 * Threads: both, one poller at a time per stream; op and the buffers stay the
 *   caller's until it completes.
 */
RILL_API void rill_next_many_op(rill_next_op_t *op, rill_stream_t *s, void *out,
                                size_t max, size_t *n);

/*
 * rill_next_sized - wait for the next item of s and copy it to out.
 * out_size must be s's item size (rill_next passes sizeof *out for you).
 * Returns: 0 with an item; RILL_DONE at the end; a negative error item;
 *   RILL_ECANCELED if the calling task is cancelled (nothing is taken);
 *   RILL_EINVAL for NULL arguments or a size that is not the item size.
 * Ownership: the item is the caller's; s stays the caller's.
 * Waits: until an item, the end or an error item.
 * Threads: any task or plain thread, one at a time per stream.
 */
RILL_API RILL_NODISCARD int rill_next_sized(rill_stream_t *s, void *out,
                                            size_t out_size);
#define rill_next(s, out) rill_next_sized((s), (out), sizeof *(out))

/*
 * rill_next_many_sized - wait for at least one item of s, then take as
 * many as are ready, up to max, into the array out (one synchronisation
 * for the whole batch where the stream has a batch path).
 * Returns: as rill_next_sized; on 0, *n (1..max) items are in out.
 * Waits: until at least one item, the end or an error item.
 * Threads: as rill_next_sized.
 */
RILL_API RILL_NODISCARD int rill_next_many_sized(rill_stream_t *s, void *out,
                                                 size_t item_size, size_t max,
                                                 size_t *n);
#define rill_next_many(s, arr, max, n)                                         \
    rill_next_many_sized((s), (arr), sizeof *(arr), (max), (n))

/* ------------------------------------------------------------------------ */
/* Sources                                                                   */
/* ------------------------------------------------------------------------ */

/*
 * rill_stream_iter - a stream of n items copied from the array `items`,
 * then RILL_DONE. Always ready: it spends the task's cooperative budget,
 * so a task draining it still yields now and then.
 * Returns: 0; RILL_EINVAL (NULL out, item_size 0, items NULL with n > 0,
 *   n * item_size overflows); RILL_ENOMEM.
 * Ownership: the stream owns its copy of the items; those not yet taken when
 *   it is dropped are released with its item destructor. On failure nothing is
 *   made.
 * Waits: never.
 * Threads: both.
 */
RILL_API RILL_NODISCARD int rill_stream_iter(rill_stream_t **out,
                                             const void *items, size_t n,
                                             size_t item_size);

/* rill_stream_empty - a stream that ends at once. As rill_stream_iter.
 * Returns: as rill_stream_iter.
 * Ownership: as rill_stream_iter.
 * Waits: never.
 * Threads: both.
 */
RILL_API RILL_NODISCARD int rill_stream_empty(rill_stream_t **out,
                                              size_t item_size);

/* rill_stream_once - a stream of one copy of *item. As rill_stream_iter.
 * Returns: as rill_stream_iter.
 * Ownership: as rill_stream_iter.
 * Waits: never.
 * Threads: both.
 */
RILL_API RILL_NODISCARD int
rill_stream_once(rill_stream_t **out, const void *item, size_t item_size);

/*
 * rill_stream_repeat - an endless stream of copies of *item (byte copies:
 * use it for plain data). Spends the cooperative budget as iter does.
 * Returns: as rill_stream_iter.
 * Ownership: as rill_stream_iter.
 * Waits: never.
 * Threads: both.
 */
RILL_API RILL_NODISCARD int
rill_stream_repeat(rill_stream_t **out, const void *item, size_t item_size);

/*
 * A user poll function: as poll_next (0 with an item in out, RILL_PENDING
 * after registering cx->waker, RILL_DONE, or an error item). After it
 * returned RILL_DONE it is not called again.
 */
typedef int (*rill_poll_fn)(void *ud, rill_cx_t *cx, void *out);

/* Frees user data owned by a stream. */
typedef void (*rill_free_fn)(void *ud);

/*
 * rill_stream_from_fn - a stream whose items come from poll(ud, cx, out):
 * the quick way to a stream over your own source when a full vtable is
 * more than you need.
 * Returns: 0; RILL_EINVAL (NULL out or poll, item_size 0); RILL_ENOMEM
 *   (ud_free is then not called).
 * Ownership: with ud_free non-NULL the stream owns ud and calls
 *   ud_free(ud) when dropped; otherwise ud is borrowed.
 * Waits: never.
 * Threads: both.
 */
RILL_API RILL_NODISCARD int rill_stream_from_fn(rill_stream_t **out,
                                                size_t item_size,
                                                rill_poll_fn poll, void *ud,
                                                rill_free_fn ud_free);

/*
 * rill_receiver_into_stream - an mpsc receiver (bounded, rendezvous or
 * unbounded) as a stream, the way to drain a channel with combinators
 * (tokio-stream's ReceiverStream). Items are the channel's; so is the item
 * destructor. Batch path: rill_poll_recv_many, one synchronisation per
 * batch. Read-ahead: a poll for one item takes up to min(64, capacity / 8,
 * 4096 / item_size) items that are already in the channel (never waits
 * for more) and gives them on the next polls without touching the channel
 * again; so senders may find that many more free slots than the capacity
 * while the stream holds them (rendezvous channels and capacities below
 * 16 read no ahead). The stream ends when every sender is released and
 * the buffer is drained. Dropping it releases the receiver: sends then
 * fail with RILL_ECLOSED and buffered items go to the channel's
 * destructor.
 * Returns: 0; RILL_EINVAL (NULL or released rx, NULL out); RILL_ENOMEM.
 * Ownership: consumes rx on success. On failure rx stays the caller's.
 * Waits: never.
 * Threads: the stream may be polled from any one thread or task at a
 *   time; senders anywhere.
 */
RILL_API RILL_NODISCARD int rill_receiver_into_stream(rill_receiver_t *rx,
                                                      rill_stream_t **out);

/*
 * rill_oneshot_into_stream - a oneshot receiver as a stream of one item
 * (or none, if the sender goes without sending). item_size must be the
 * channel's (a mismatch is a RILL_EINVAL error item at the first poll).
 * Returns, Ownership: as rill_receiver_into_stream (RILL_EINVAL also for
 *   item_size 0).
 * Waits: never.
 * Threads: as rill_receiver_into_stream.
 */
RILL_API RILL_NODISCARD int
rill_oneshot_into_stream(rill_oneshot_receiver_t *rx, size_t item_size,
                         rill_stream_t **out);

/*
 * rill_watch_into_stream - a watch receiver as a stream: the current value
 * at the first poll, then each change (the newest value when it is taken;
 * changes in between are coalesced). Ends when the sender is released and
 * its last value was given. item_size as for rill_oneshot_into_stream.
 * Returns, Ownership: as rill_oneshot_into_stream.
 * Waits: never.
 * Threads: as rill_receiver_into_stream.
 */
RILL_API RILL_NODISCARD int rill_watch_into_stream(rill_watch_receiver_t *rx,
                                                   size_t item_size,
                                                   rill_stream_t **out);

/*
 * rill_broadcast_into_stream - a broadcast receiver as a stream of every
 * item sent after it subscribed. In lag mode a receiver that fell
 * capacity items behind gives the error item RILL_ELAGGED, then goes on
 * from the oldest item kept; rill_broadcast_stream_missed tells how many
 * it missed. Batch path: rill_broadcast_poll_recv_many; one item at a
 * time reads ahead as rill_receiver_into_stream does (items read ahead
 * count as received: they can no longer be lost to lag). item_size as for
 * rill_oneshot_into_stream.
 * Returns, Ownership: as rill_oneshot_into_stream.
 * Waits: never.
 * Threads: as rill_receiver_into_stream.
 */
RILL_API RILL_NODISCARD int
rill_broadcast_into_stream(rill_broadcast_receiver_t *rx, size_t item_size,
                           rill_stream_t **out);

/*
 * rill_broadcast_stream_missed - how many items the broadcast stream s
 * missed at its latest RILL_ELAGGED error item (0 before any, or if s is
 * not a broadcast stream). Keep a borrowed pointer to the broadcast
 * stream before wrapping it in combinators:
 *
 *     rill_stream_t *s, *bs;
 *     rill_broadcast_into_stream(rx, sizeof(event_t), &s);
 *     bs = s;                                  // borrowed
 *     rill_stream_filter(&s, interesting, NULL);
 *     while ((r = rill_next(s, &ev)) != RILL_DONE)
 *         if (r == RILL_ELAGGED)
 *             printf("missed %llu\n",
 *                    (unsigned long long)rill_broadcast_stream_missed(bs));
 *
 * Threads: the stream's poller.
 * Returns: the count.
 */
RILL_API uint64_t rill_broadcast_stream_missed(const rill_stream_t *s);

/*
 * A blocking producer for rill_stream_from_blocking: runs on a thread of
 * the blocking pool, sends items with rill_send(tx, ...) (which blocks
 * while the channel is full) and returns when done; it should also return
 * when a send fails with RILL_ECLOSED (the stream was dropped). It must
 * not release tx.
 */
typedef void (*rill_blocking_fn)(void *ud, rill_sender_t *tx);

/*
 * rill_stream_from_blocking - run fn(ud, tx) on the runtime's blocking
 * pool, feeding a bounded channel of `capacity` items, and give the
 * channel's receiver as a stream: the bridge for foreign blocking sources
 * (a blocking read, a library's blocking queue). The stream ends when fn
 * returns. Not needed for your own threads: they can rill_send into a
 * channel directly.
 * Returns: 0; RILL_EINVAL (NULL out or fn, item_size or capacity 0, not
 *   called from a task); RILL_ENOMEM; RILL_ESHUTDOWN.
 * Ownership: *out is the caller's. ud must stay valid until fn returns (the
 *   stream does not wait for fn when dropped; fn sees RILL_ECLOSED). On
 *   failure nothing was started.
 * Waits: never (fn starts on the blocking pool).
 * Threads: a task.
 */
RILL_API RILL_NODISCARD int
rill_stream_from_blocking(rill_stream_t **out, size_t item_size,
                          size_t capacity, rill_blocking_fn fn, void *ud);

/* What an interval does when the consumer fell behind (tokio's
 * MissedTickBehavior). */
typedef enum rill_tick_policy {
    RILL_TICK_BURST = 0, /* give every missed tick at once, then keep the
                            original schedule */
    RILL_TICK_DELAY,     /* give one tick now; the next a period later */
    RILL_TICK_SKIP       /* give one tick now; then continue on the
                            original schedule, skipping the missed ones */
} rill_tick_policy_t;

/*
 * rill_stream_interval - a tick every `period`: items are rill_instant_t,
 * each the instant the tick was scheduled for (on the clock of rill_now:
 * the runtime's, virtual in tests, or the monotonic clock on a plain
 * thread). The first tick is due at the first poll. Never ends. Ticks that
 * are due spend the cooperative budget.
 * Returns: 0; RILL_EINVAL (NULL out, period <= 0, unknown policy);
 *   RILL_ENOMEM.
 * Ownership: the caller owns *out on success; on failure nothing is made.
 * Waits: never.
 * Threads: both.
 */
RILL_API RILL_NODISCARD int rill_stream_interval(rill_stream_t **out,
                                                 rill_duration_t period,
                                                 rill_tick_policy_t policy);

/* ------------------------------------------------------------------------ */
/* Combinators                                                               */
/* ------------------------------------------------------------------------ */

/*
 * Makes an output item from an input item. fn owns *in from the call on
 * (moves it into *out or releases it). Returns 0 with *out written, or a
 * negative code to emit an error item instead. filter_map and scan give
 * positive results a meaning of their own (below).
 */
typedef int (*rill_map_fn)(void *ud, void *in, void *out);

/* A predicate over an item; it only looks at the item. */
typedef bool (*rill_pred_fn)(void *ud, const void *item);

/* Looks at an item on its way through. */
typedef void (*rill_inspect_fn)(void *ud, const void *item);

/*
 * rill_stream_map - each item becomes fn(ud, item, out), an item of
 * out_size bytes (or an error item, if fn returns one). Batch path: yes.
 * The new stream has no item destructor (set one for the new type).
 * Returns: 0; RILL_EINVAL (NULL s, *s or fn, out_size 0); RILL_ENOMEM.
 * Ownership: *s is replaced by the new stream, which owns the old one;
 *   unchanged on failure.
 * Waits: never (building a stream polls nothing).
 * Threads: both.
 */
RILL_API RILL_NODISCARD int rill_stream_map(rill_stream_t **s, rill_map_fn fn,
                                            void *ud, size_t out_size);

/*
 * rill_stream_filter - only the items for which fn(ud, item) is true;
 * the others are released (item destructor). Batch path: yes.
 * Returns, Ownership: as rill_stream_map.
 * Waits: never (building a stream polls nothing).
 * Threads: both.
 */
RILL_API RILL_NODISCARD int rill_stream_filter(rill_stream_t **s,
                                               rill_pred_fn fn, void *ud);

/*
 * rill_stream_filter_map - map and filter in one: fn returns 0 to emit
 * *out, a positive value to emit nothing for this item, a negative code
 * for an error item. Returns, Ownership: as rill_stream_map.
 * Waits: never (building a stream polls nothing).
 * Threads: both.
 */
RILL_API RILL_NODISCARD int rill_stream_filter_map(rill_stream_t **s,
                                                   rill_map_fn fn, void *ud,
                                                   size_t out_size);

/*
 * rill_stream_scan - map with state: fn(ud, in, out) where ud is the
 * state, which fn updates. fn returns 0 to emit *out, RILL_DONE to end
 * the stream (upstream is dropped at once), a negative code for an error
 * item. Returns, Ownership: as rill_stream_map.
 * Waits: never (building a stream polls nothing).
 * Threads: both.
 */
RILL_API RILL_NODISCARD int rill_stream_scan(rill_stream_t **s, rill_map_fn fn,
                                             void *ud, size_t out_size);

/*
 * rill_stream_inspect - calls fn(ud, item) for each item and passes it
 * on unchanged. Batch path: yes. Returns, Ownership: as rill_stream_map.
 * Waits: never (building a stream polls nothing).
 * Threads: both.
 */
RILL_API RILL_NODISCARD int rill_stream_inspect(rill_stream_t **s,
                                                rill_inspect_fn fn, void *ud);

/*
 * rill_stream_take - the first n items, then RILL_DONE. Error items pass
 * and do not count. Upstream is dropped as soon as the n-th item is out,
 * so a receiver upstream is closed then, not when the consumer lets go.
 * Batch path: yes. Returns, Ownership: as rill_stream_map.
 * Waits: never (building a stream polls nothing).
 * Threads: both.
 */
RILL_API RILL_NODISCARD int rill_stream_take(rill_stream_t **s, uint64_t n);

/*
 * rill_stream_skip - all but the first n items (released). Error items
 * pass and do not count. Returns, Ownership: as rill_stream_map.
 * Waits: never (building a stream polls nothing).
 * Threads: both.
 */
RILL_API RILL_NODISCARD int rill_stream_skip(rill_stream_t **s, uint64_t n);

/*
 * rill_stream_take_while - items while fn(ud, item) is true; the first
 * item for which it is false is released and the stream ends (upstream is
 * dropped). Returns, Ownership: as rill_stream_map.
 * Waits: never (building a stream polls nothing).
 * Threads: both.
 */
RILL_API RILL_NODISCARD int rill_stream_take_while(rill_stream_t **s,
                                                   rill_pred_fn fn, void *ud);

/*
 * rill_stream_skip_while - releases items while fn(ud, item) is true, then
 * passes every item (fn is not called again). Returns, Ownership: as
 * rill_stream_map.
 * Waits: never (building a stream polls nothing).
 * Threads: both.
 */
RILL_API RILL_NODISCARD int rill_stream_skip_while(rill_stream_t **s,
                                                   rill_pred_fn fn, void *ud);

/*
 * rill_stream_enumerate - each item with its index (0, 1, ...): an output
 * item of out_size bytes holding a uint64_t index at offset 0 and the
 * item at item_offset. Declare the pair as a struct and pass its layout:
 *
 *     typedef struct { uint64_t index; reading_t item; } indexed_t;
 *     rill_stream_enumerate(&s, sizeof(indexed_t),
 *                           offsetof(indexed_t, item));
 *
 * Error items pass and take no index.
 * Returns: 0; RILL_EINVAL also when the layout does not fit;
 *   RILL_ENOMEM. Ownership: as rill_stream_map.
 * Waits: never (building a stream polls nothing).
 * Threads: both.
 */
RILL_API RILL_NODISCARD int
rill_stream_enumerate(rill_stream_t **s, size_t out_size, size_t item_offset);

/*
 * rill_stream_chain - the items of *s, then those of next (same item
 * size). *s is dropped as soon as it ends.
 * Returns: 0; RILL_EINVAL (NULL, different item sizes, or next is *s
 *   itself); RILL_ENOMEM.
 * Ownership: on success the new stream owns both; on failure neither is
 *   taken.
 * Waits: never (building a stream polls nothing).
 * Threads: both.
 */
RILL_API RILL_NODISCARD int rill_stream_chain(rill_stream_t **s,
                                              rill_stream_t *next);

/*
 * rill_stream_zip - pairs of one item of *s and one of other, as one
 * output item of out_size bytes: *s's item at offset 0, other's at
 * other_offset (declare the pair as a struct, as for enumerate). Ends when
 * either ends (a half-made pair is released). An error item of either side
 * passes at once; the pair being made waits for the next item.
 * Returns, Ownership: as rill_stream_chain (RILL_EINVAL also when the
 *   layout does not fit, or other is *s itself).
 * Waits: never (building a stream polls nothing).
 * Threads: both.
 */
RILL_API RILL_NODISCARD int rill_stream_zip(rill_stream_t **s,
                                            rill_stream_t *other,
                                            size_t out_size,
                                            size_t other_offset);

/* Whether map_async keeps the input order. */
typedef enum rill_order {
    RILL_ORDERED = 0, /* outputs in input order (futures' buffered) */
    RILL_UNORDERED    /* outputs as they complete (buffer_unordered) */
} rill_order_t;

/*
 * rill_stream_map_async - as map, but fn(ud, in, out) runs in tasks of the
 * current runtime, at most `limit` at once, and may wait (sleep, receive,
 * send, await anything). Upstream is read ahead by up to limit items.
 * RILL_ORDERED gives outputs in input order (an early slow call holds
 * back later ones); RILL_UNORDERED gives them as they complete. Error
 * items of upstream keep their place when ordered and pass at once when
 * unordered; fn's negative result is an error item in its item's place.
 * Tasks and buffers are made as needed and reused: no allocation or spawn
 * per item. Dropping the stream cancels the calls in flight (their waits
 * return RILL_ECANCELED), waits for them to return, and releases inputs
 * never started and outputs never taken (item destructors).
 * Returns: 0; RILL_EINVAL (NULL, limit 0, out_size 0, unknown order, or
 *   not called from a task); RILL_ENOMEM. Ownership: as rill_stream_map;
 *   ud must outlive the stream.
 * Threads: built in a task; its calls run on that task's runtime.
 * Waits: never (building it polls nothing).
 */
RILL_API RILL_NODISCARD int
rill_stream_map_async(rill_stream_t **s, size_t limit, rill_order_t order,
                      rill_map_fn fn, void *ud, size_t out_size);

/*
 * rill_stream_merge - the items of *s and of other (same item size) as
 * they come: a select_all of the two (see there for fairness and turns).
 * Ends when both ended (each is dropped as it ends). Error items of
 * either pass.
 * Returns, Ownership: as rill_stream_chain.
 * Waits: never (building a stream polls nothing).
 * Threads: both.
 */
RILL_API RILL_NODISCARD int rill_stream_merge(rill_stream_t **s,
                                              rill_stream_t *other);

/*
 * rill_stream_select_all - the items of n streams (same item size) as
 * they come, into a new stream *out. O(woken): each poll polls only the
 * streams whose wakers fired since they last returned RILL_PENDING, so a
 * thousand idle streams cost nothing. Fair: streams with items take turns
 * (round robin, in wake order); a turn is one batch of at most 32 items
 * (4 KiB) through the stream's batch path, and the rest of a turn is
 * given before any other stream is polled - so the consumer may read up
 * to one turn ahead of what it asked for, which lets a channel's blocked
 * producers refill a block of slots at once. Error items pass (alone).
 * Ends when all ended; each stream is dropped as it ends.
 * Returns: 0; RILL_EINVAL (NULL, n 0, a NULL stream, different item
 *   sizes); RILL_ENOMEM.
 * Ownership: on success *out owns every stream of the array (the array
 *   itself stays the caller's); on failure none is taken. Each stream must
 *   be in the array once (a stream given twice is not detected: it would
 *   be dropped twice).
 * Waits: never (building a stream polls nothing).
 * Threads: both.
 */
RILL_API RILL_NODISCARD int
rill_stream_select_all(rill_stream_t **out, rill_stream_t *const *streams,
                       size_t n);

/*
 * rill_stream_fuse - after the first RILL_DONE, never poll upstream again
 * (and drop it at once). rill's own streams already behave so; fuse is for
 * hand-written streams that might not.
 * Returns, Ownership: as rill_stream_map.
 * Waits: never (building a stream polls nothing).
 * Threads: both.
 */
RILL_API RILL_NODISCARD int rill_stream_fuse(rill_stream_t **s);

/*
 * An owned array of items: a chunk from rill_stream_chunks and its kin,
 * or the result of rill_stream_collect. items[0..len) are valid. The
 * array is yours: free it with rill_chunk_destroy (buffers of chunk streams
 * go back to their stream's pool, so steady-state chunking allocates
 * nothing). Chunks may be freed on any thread, also after their stream
 * was dropped.
 */
typedef struct rill_chunk {
    void *items;
    size_t len;
    size_t item_size;
    void *pool_; /* private */
} rill_chunk_t;

/* The i-th item of chunk c, as type T. */
#define RILL_CHUNK_AT(c, T, i) (((T *)(c)->items)[i])

/*
 * rill_chunk_destroy - free the chunk's array, not its items (they are taken
 * to be consumed or moved out). *c becomes empty. NULL and empty chunks
 * are accepted.
 * Threads: any.
 * Ownership: frees the array; the items are the caller's.
 */
RILL_API void rill_chunk_destroy(rill_chunk_t *c);

/*
 * rill_chunk_discard - release every item of the chunk with the item
 * destructor of the stream it came from, then free it as rill_chunk_destroy.
 * (A collect result carries no destructor: its items are only freed.)
 * Threads: any.
 * Ownership: consumes the items and the array.
 */
RILL_API void rill_chunk_discard(rill_chunk_t *c);

/*
 * rill_stream_chunks - groups of n items as rill_chunk_t items; the last
 * chunk may be shorter (at the end of the stream, never empty). Error
 * items pass at once; the chunk being filled keeps its items and goes on
 * filling. Filled through upstream's batch path, so over a receiver one
 * chunk costs one synchronisation, not n. Dropping it releases a
 * half-filled chunk's items (item destructor); its own items (chunks)
 * are released, when a pipeline discards them, with rill_chunk_discard.
 * Returns: 0; RILL_EINVAL (NULL, n 0); RILL_ENOMEM. Ownership: as
 *   rill_stream_map.
 * Waits: never (building a stream polls nothing).
 * Threads: both.
 */
RILL_API RILL_NODISCARD int rill_stream_chunks(rill_stream_t **s, size_t n);

/*
 * rill_stream_ready_chunks - whatever is ready, at most n items per
 * chunk: once a chunk holds one item it never waits for more (it yields
 * when upstream would wait). Otherwise as rill_stream_chunks.
 * Returns: as rill_stream_chunks.
 * Ownership: as rill_stream_map.
 * Waits: never (building a stream polls nothing).
 * Threads: both.
 */
RILL_API RILL_NODISCARD int rill_stream_ready_chunks(rill_stream_t **s,
                                                     size_t n);

/*
 * rill_stream_chunks_timeout - a chunk (rill_chunk_t) when n items are in
 * or when `period` has passed since the chunk's first item came in,
 * whichever is first. Never an empty chunk; the last, partial chunk at
 * the end of the stream. Otherwise as rill_stream_chunks (error items pass
 * at once, filled through upstream's batch path, buffers recycled).
 * Returns: 0; RILL_EINVAL (NULL, n 0, period <= 0); RILL_ENOMEM.
 * Ownership: as rill_stream_map.
 * Waits: never (building a stream polls nothing).
 * Threads: both.
 */
RILL_API RILL_NODISCARD int
rill_stream_chunks_timeout(rill_stream_t **s, size_t n, rill_duration_t period);

/*
 * rill_stream_timeout - an error item RILL_ETIMEDOUT each time upstream
 * gives nothing for `period`, after which the stream goes on (so a long
 * silence gives one error item per period). The period counts from the
 * poll that starts waiting: the first, or the first after an item or an
 * error item. Returns, Ownership: as rill_stream_map (RILL_EINVAL also for
 * period <= 0).
 * Waits: never (building a stream polls nothing).
 * Threads: both.
 */
RILL_API RILL_NODISCARD int rill_stream_timeout(rill_stream_t **s,
                                                rill_duration_t period);

/*
 * rill_stream_throttle - at most one item per `period`: after an item it
 * does not poll upstream until the period is over, so a channel upstream
 * holds the producer back (nothing is buffered or dropped here). The
 * first item passes at once. Returns, Ownership: as rill_stream_timeout.
 * Waits: never (building a stream polls nothing).
 * Threads: both.
 */
RILL_API RILL_NODISCARD int rill_stream_throttle(rill_stream_t **s,
                                                 rill_duration_t period);

/* ------------------------------------------------------------------------ */
/* Consumers                                                                 */
/* ------------------------------------------------------------------------ */

/*
 * What consumers call for each item: fn(ud, status, item). status 0: item
 * points at an item, which is fn's from now on. status < 0: an error
 * item; item is NULL (the try_ consumers never pass one). Return 0 to go
 * on; any other value stops the consumer, which returns it.
 */
typedef int (*rill_each_fn)(void *ud, int status, void *item);

/*
 * rill_stream_for_each - call fn for every item and every error item of
 * s, one at a time, until the end (or fn stops it).
 * Returns: 0 at the end of the stream; fn's nonzero result; RILL_ECANCELED
 *   if the calling task is cancelled; RILL_EINVAL for NULL arguments.
 * Ownership: consumes s (freed on return, whatever the result).
 * Waits: for each item. fn may wait too (it runs on the caller's thread
 *   or task).
 * Threads: both (fn runs on the caller's task or thread).
 */
RILL_API RILL_NODISCARD int rill_stream_for_each(rill_stream_t *s,
                                                 rill_each_fn fn, void *ud);

/*
 * rill_stream_for_each_concurrent - call fn(ud, 0, item) for every item,
 * each call in a task of the current runtime, at most `limit` at a time
 * (0: no limit); fn may wait. Items are taken from s only while fewer
 * than limit calls run, so a slow fn holds a channel upstream back.
 * Error items are handed to fn(ud, status, NULL) on the calling task. The
 * first nonzero result of fn stops it: the calls still running are
 * cancelled (their waits return RILL_ECANCELED) and waited for.
 * Returns: 0 at the end of the stream, after every call returned; fn's
 *   first nonzero result; RILL_ECANCELED; RILL_EINVAL (NULL arguments, or
 *   not called from a task); RILL_ENOMEM.
 * Ownership: consumes s. ud is shared by the concurrent calls: fn must
 *   synchronise what it changes through it.
 * Waits: until the end and every call returned.
 * Threads: a task.
 */
RILL_API RILL_NODISCARD int rill_stream_for_each_concurrent(rill_stream_t *s,
                                                            size_t limit,
                                                            rill_each_fn fn,
                                                            void *ud);

/*
 * rill_stream_try_for_each - as for_each, but the first error item stops
 * it: it returns that error (fn only sees items).
 * Returns: as rill_stream_for_each, or the first error item.
 * Waits: as rill_stream_for_each.
 * Threads: as rill_stream_for_each.
 */
RILL_API RILL_NODISCARD int rill_stream_try_for_each(rill_stream_t *s,
                                                     rill_each_fn fn, void *ud);

/*
 * rill_stream_fold - fold the stream into the accumulator acc: calls
 * fn(acc, status, item) for every item and error item. (A for_each whose
 * user data is the accumulator, named as in futures.)
 * Returns, Ownership, Waits: as rill_stream_for_each.
 * Threads: both (fn runs on the caller's task or thread).
 */
RILL_API RILL_NODISCARD int rill_stream_fold(rill_stream_t *s, void *acc,
                                             rill_each_fn fn);

/*
 * rill_stream_try_fold - as fold, stopping at the first error item, which
 * it returns.
 * Returns: as rill_stream_fold, or the first error item.
 * Waits: as rill_stream_fold.
 * Threads: as rill_stream_for_each.
 */
RILL_API RILL_NODISCARD int rill_stream_try_fold(rill_stream_t *s, void *acc,
                                                 rill_each_fn fn);

/*
 * rill_stream_count - count the items to the end; error items are not
 * counted. Uses the batch path.
 * Returns: 0 with the count in *n; RILL_ENOMEM (an error item RILL_ENOMEM
 *   stops it instead of being skipped: a combinator short of memory would
 *   give it again at each poll); RILL_ECANCELED; RILL_EINVAL.
 * Ownership: consumes s; the items counted are released (destructor).
 * Waits: until the end of the stream (as rill_next).
 * Threads: both (fn runs on the caller's task or thread).
 */
RILL_API RILL_NODISCARD int rill_stream_count(rill_stream_t *s, uint64_t *n);

/*
 * rill_stream_collect - every item, in order, into a growable array given
 * as *out (free it with rill_chunk_destroy). Error items are skipped (use
 * try_collect to stop at one), except RILL_ENOMEM, which stops it as in
 * rill_stream_count. Uses the batch path.
 * Returns: 0; RILL_ENOMEM (the array could not grow, or an error item
 *   RILL_ENOMEM; the items collected so far are released);
 *   RILL_ECANCELED; RILL_EINVAL. On an error *out is empty.
 * Ownership: consumes s; the caller owns *out and its items.
 * Waits: until the end of the stream (as rill_next).
 * Threads: both (fn runs on the caller's task or thread).
 */
RILL_API RILL_NODISCARD int rill_stream_collect(rill_stream_t *s,
                                                rill_chunk_t *out);

/*
 * rill_stream_forward - send every item of s into the channel of tx, in
 * batches through the batch path; a full channel makes it wait, so a slow
 * receiver holds the source back (backpressure end to end). Stops at the
 * first error item.
 * Returns: 0 at the end of s; the first error item; RILL_ECLOSED if the
 *   receiver went away, RILL_ENOMEM if an unbounded channel could not grow
 *   (the items not sent are released with s's item destructor);
 *   RILL_ECANCELED; RILL_EINVAL.
 * Ownership: consumes s and tx (the sender is released at the end, so the
 *   receiver ends once every other sender is gone too).
 * Waits: for items, and for room in the channel.
 * Threads: both (fn runs on the caller's task or thread).
 */
RILL_API RILL_NODISCARD int rill_stream_forward(rill_stream_t *s,
                                                rill_sender_t *tx);

/*
 * rill_stream_try_collect - as collect, but the first error item stops it:
 * the items collected so far are released and the error returned.
 * Returns: as rill_stream_collect, or the first error item.
 * Waits: as rill_stream_collect.
 * Threads: as rill_stream_for_each.
 */
RILL_API RILL_NODISCARD int rill_stream_try_collect(rill_stream_t *s,
                                                    rill_chunk_t *out);

#ifdef __cplusplus
}
#endif

#endif /* RILL_STREAM_H */
