/* SPDX-License-Identifier: MIT */
/*
 * rill/watch.h - the latest value with a version (tokio's watch): one
 * sender stores values, any number of receivers read the latest one and
 * wait for a version they have not seen. Values in between are coalesced:
 * a receiver sees each change at most once, and always the newest.
 *
 * Every receiver remembers the version it has seen (the initial value
 * counts as seen; so does the current value for a new subscriber).
 * rill_watch_changed waits for a newer version and marks it seen;
 * rill_watch_get copies the latest value; rill_watch_get_and_update copies
 * it and marks exactly the copied version seen. Releasing the sender ends
 * the receivers: changed returns RILL_DONE once they have seen the last
 * value.
 *
 * Example: configuration updates.
 *
 *     typedef struct { int level; char path[64]; } config_t;
 *     config_t cfg = {1, "/var/log"};
 *     rill_watch_sender_t *tx;
 *     rill_watch_receiver_t *rx;
 *     rill_watch_new(&tx, &rx, sizeof cfg, &cfg, NULL);
 *     // worker thread or task, owning rx:
 *     while (rill_watch_changed(rx) == 0) {
 *         config_t now;
 *         rill_watch_get_and_update(rx, &now);
 *         apply(&now);
 *     }                                         // RILL_DONE: tx released
 *     rill_watch_receiver_release(rx);
 *     // admin side:
 *     cfg.level = 3;
 *     rill_watch_send(tx, &cfg);                // never waits
 *     rill_watch_sender_release(tx);
 *
 * Cancel safety: changed is wake-and-retry; ended by timeout, select or
 * cancellation it has either completed (marked a version seen, status
 * returned) or left no trace (nothing marked seen).
 *
 * Values are copied with a sequence lock: readers never block the sender;
 * a reader that meets a send in progress retries (it spins only while the
 * sender copies one value).
 */
#ifndef RILL_WATCH_H
#define RILL_WATCH_H

#include "sync.h" /* channel options and stats */
#include "rt.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct rill_watch_sender rill_watch_sender_t;
typedef struct rill_watch_receiver rill_watch_receiver_t;

/*
 * rill_watch_new - create a watch channel holding item_size bytes,
 * initially a copy of *initial (version 0, seen by *rx). cfg may be NULL
 * (or zero-initialised) for the defaults: a name. An item_dtor is refused
 * (RILL_EINVAL): values are copied to every receiver, so none owns what
 * a value points to.
 * Returns: 0; RILL_EINVAL for NULL arguments, item_size 0 or above 1 GiB,
 *   or an item_dtor; RILL_ENOMEM.
 * Ownership: on success the caller owns *tx and *rx; release each once.
 *   On failure nothing is allocated. cfg is only read during the call.
 * Waits: never.
 * Threads: both.
 */
RILL_API RILL_NODISCARD int rill_watch_new(rill_watch_sender_t **tx,
                                           rill_watch_receiver_t **rx,
                                           size_t item_size,
                                           const void *initial,
                                           const rill_channel_config_t *cfg);

/*
 * rill_watch_send_sized - store a new value (the next version) and wake
 * the receivers that wait.
 * Returns: 0; RILL_ECLOSED if no receiver is left (the value is then not
 *   stored, as tokio's send); RILL_EINVAL (NULL, size mismatch).
 * Waits: never.
 * Threads: the owner of tx.
 */
RILL_API RILL_NODISCARD int
rill_watch_send_sized(rill_watch_sender_t *tx, const void *item, size_t size);
#define rill_watch_send(tx, p) rill_watch_send_sized((tx), (p), sizeof *(p))

/*
 * rill_watch_subscribe - a new receiver that has seen the current value.
 * Returns: 0; RILL_EINVAL; RILL_ENOMEM.
 * Ownership: the caller owns *rx. On failure *rx is not set.
 * Threads: the owner of tx.
 * Waits: never.
 */
RILL_API RILL_NODISCARD int rill_watch_subscribe(rill_watch_sender_t *tx,
                                                 rill_watch_receiver_t **rx);

/*
 * rill_watch_receiver_count - receivers alive now.
 * Threads: any holder of tx.
 * Returns: the count; 0 for NULL.
 */
RILL_API size_t rill_watch_receiver_count(const rill_watch_sender_t *tx);

/*
 * rill_watch_sender_release - release the sender: receivers get RILL_DONE
 * from changed once they have seen the last value. NULL is accepted.
 * Returns: 0; RILL_EALREADY if already released; RILL_EINVAL for another
 *   kind of handle.
 * Ownership: consumes tx. On failure nothing is touched.
 * Waits: never.
 * Threads: the owner of tx.
 */
RILL_API int rill_watch_sender_release(rill_watch_sender_t *tx);

/*
 * rill_watch_try_changed - has a version this receiver has not seen been
 * stored? If so, mark the newest version seen.
 * Returns: 0 (a newer version, now marked seen); RILL_EEMPTY (nothing new);
 *   RILL_DONE (the sender is gone and the last value was seen);
 *   RILL_EINVAL.
 * Waits: never.
 * Threads: the owner of rx.
 */
RILL_API RILL_NODISCARD int rill_watch_try_changed(rill_watch_receiver_t *rx);

/*
 * rill_watch_changed - wait for a version this receiver has not seen and
 * mark it seen (the newest, when several came meanwhile).
 * Returns: 0; RILL_DONE; RILL_ECANCELED in a cancelled task (nothing
 *   marked); RILL_EINVAL.
 * Waits: until a new version or the sender's release.
 * Threads: the owner of rx.
 */
RILL_API RILL_NODISCARD int rill_watch_changed(rill_watch_receiver_t *rx);

/* rill_watch_changed_timeout - as rill_watch_changed for at most
 * `timeout`; RILL_ETIMEDOUT (nothing marked) when it passes.
 * Returns: as rill_watch_changed, or RILL_ETIMEDOUT.
 * Waits: at most timeout.
 * Threads: the owner of rx.
 */
RILL_API RILL_NODISCARD int
rill_watch_changed_timeout(rill_watch_receiver_t *rx, rill_duration_t timeout);

/*
 * rill_watch_poll_changed - changed as a poll function (for the stream
 * layer): 0 (marked seen), RILL_PENDING (waker registered in rx, or the
 * budget is spent), RILL_DONE, RILL_EINVAL.
 * Threads: the owner of rx; one poller at a time.
 * Returns: 0, RILL_PENDING, RILL_DONE or RILL_EINVAL (above).
 * Waits: never (it registers the waker instead).
 */
RILL_API RILL_NODISCARD int rill_watch_poll_changed(rill_watch_receiver_t *rx,
                                                    rill_cx_t *cx);

/* changed as a future in caller storage (rill_await, select, poll). */
typedef struct rill_watch_changed_op {
    rill_future_t base;
    void *private_[16];
} rill_watch_changed_op_t;

/* rill_watch_changed_op - initialise a changed future. Never fails: a
 * NULL rx makes its first poll return RILL_EINVAL.
 * Threads: the owner of rx; op stays the caller's until it completes or is
 *   withdrawn.
 */
RILL_API void rill_watch_changed_op(rill_watch_changed_op_t *op,
                                    rill_watch_receiver_t *rx);

/*
 * rill_watch_get_sized - copy the latest value (whether seen or not; marks
 * nothing).
 * Returns: 0; RILL_EINVAL.
 * Waits: never (may spin while the sender copies a value in).
 * Threads: the owner of rx.
 */
RILL_API int rill_watch_get_sized(rill_watch_receiver_t *rx, void *out,
                                  size_t size);
#define rill_watch_get(rx, p) rill_watch_get_sized((rx), (p), sizeof *(p))

/*
 * rill_watch_get_and_update_sized - copy the latest value and mark its
 * version seen.
 * Returns: 0 if that version was new to this receiver, RILL_EEMPTY if it
 *   had been seen (the value is copied either way); RILL_EINVAL.
 * Waits: never (as rill_watch_get_sized).
 * Threads: the owner of rx.
 */
RILL_API int rill_watch_get_and_update_sized(rill_watch_receiver_t *rx,
                                             void *out, size_t size);
#define rill_watch_get_and_update(rx, p)                                       \
    rill_watch_get_and_update_sized((rx), (p), sizeof *(p))

/* rill_watch_mark_seen - mark the latest version seen. Returns 0 or
 * RILL_EINVAL.
 * Returns: 0; RILL_EINVAL.
 * Waits: never.
 * Threads: the owner of rx.
 */
RILL_API int rill_watch_mark_seen(rill_watch_receiver_t *rx);

/*
 * rill_watch_version - the version this receiver has seen (0 is the
 * initial value; each send adds one).
 * Returns: the version; 0 for NULL.
 * Threads: the owner of rx.
 */
RILL_API uint64_t rill_watch_version(const rill_watch_receiver_t *rx);

/*
 * rill_watch_receiver_clone - a second receiver that has seen what rx has seen.
 * Returns: 0; RILL_EINVAL; RILL_ENOMEM.
 * Ownership: the caller owns *out. On failure *out is not set.
 * Waits: never.
 * Threads: the owner of rx.
 */
RILL_API RILL_NODISCARD int
rill_watch_receiver_clone(rill_watch_receiver_t *rx,
                          rill_watch_receiver_t **out);

/*
 * rill_watch_receiver_release - release a receiver. NULL is accepted.
 * Returns: 0; RILL_EALREADY if already released; RILL_EINVAL for another
 *   kind of handle.
 * Ownership: consumes rx. On failure nothing is touched.
 * Waits: never.
 * Threads: the owner of rx.
 */
RILL_API int rill_watch_receiver_release(rill_watch_receiver_t *rx);

/*
 * rill_watch_stats - the channel's counters, from either handle (NULL for
 * the other): capacity, len and high_water 1; sent counts versions stored;
 * received counts new versions taken by receivers (changed, or
 * get_and_update of a new version); waits_empty counts changed-waits;
 * is_closed when no receiver is left (sends fail). name points into the
 * channel (valid while a handle is).
 * Returns: 0; RILL_EINVAL.
 * Waits: never.
 * Threads: both.
 */
RILL_API int rill_watch_stats(const rill_watch_sender_t *tx,
                              const rill_watch_receiver_t *rx,
                              rill_channel_stats_t *out);

#ifdef __cplusplus
}
#endif

#endif /* RILL_WATCH_H */
