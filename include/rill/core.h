/* SPDX-License-Identifier: MIT */
/*
 * rill/core.h - the vocabulary every other layer speaks.
 *
 * - Status codes: 0 is success, small positive values are the other
 *   successful outcomes (RILL_DONE, RILL_PENDING), negative values are
 *   errors (RILL_E*). rill never reports through errno: tasks move between
 *   threads, errno does not follow them.
 * - Wakers: a (vtable, data) pair that tells an executor "poll me again".
 * - Futures: an object with a poll function, polled with a context that
 *   carries the waker. PENDING is only returned after the waker was
 *   registered with whatever will make progress possible.
 * - Streams: the same contract for a sequence of items.
 * - Time: nanosecond durations and instants (int64_t).
 * - Allocation: one replaceable allocator for every allocation rill makes.
 *
 * Nothing in this header waits; awaiting is in rill/rt.h.
 *
 * Lifetime words. Every public name uses these with one meaning
 * (docs/api.md has the rest of the vocabulary):
 *   _new / _free        a heap object with one owner: made by _new,
 *                       ended by _free.
 *   _init / _destroy    an object in caller storage: _destroy releases
 *                       what it holds; the storage stays the caller's.
 *   _clone / _release   a reference-counted handle: _clone adds a
 *                       reference, _release gives one up; the last one
 *                       frees.
 *   _close              ends the input (sends fail, the other side drains
 *                       and sees the end); never frees.
 *   _into_              consumes its argument (on success).
 *   _discard            gives items to their item destructor.
 * Every _free, _destroy and _release accepts NULL. A vtable's `drop` is
 * the slot behind rill_stream_free (and, for futures rill owns, the
 * runtime's free); programs call the _free, not the slot.
 */
#ifndef RILL_CORE_H
#define RILL_CORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__)
#define RILL_API __attribute__((visibility("default")))
#define RILL_NODISCARD __attribute__((warn_unused_result))
#else
#define RILL_API
#define RILL_NODISCARD
#endif

/* ------------------------------------------------------------------------ */
/* Status codes                                                              */
/* ------------------------------------------------------------------------ */

/*
 * X(name, value, message). Success values first, then errors. Users may
 * define their own error codes (for error items in streams) at or below
 * RILL_EUSER; rill_strerror names them "user error".
 */
#define RILL_ERRNO_MAP(X)                                                      \
    X(OK, 0, "success")                                                        \
    X(DONE, 1, "end of stream or channel closed and drained")                  \
    X(PENDING, 2, "not ready yet; the waker will be woken")                    \
    X(EINVAL, -1, "invalid argument")                                          \
    X(ENOMEM, -2, "out of memory")                                             \
    X(EFULL, -3, "channel full")                                               \
    X(EEMPTY, -4, "channel empty")                                             \
    X(ECLOSED, -5, "channel or handle closed")                                 \
    X(ETIMEDOUT, -6, "timed out")                                              \
    X(ECANCELED, -7, "operation canceled")                                     \
    X(ELAGGED, -8, "receiver lagged behind and missed items")                  \
    X(EDEADLK, -9, "deadlock: nothing can ever wake the waiting tasks")        \
    X(ESHUTDOWN, -10, "runtime is shut down")                                  \
    X(EALREADY, -11, "already done (joined, detached or released)")            \
    X(ENOTSUP, -12, "not supported here")                                      \
    X(EAGAIN, -13, "resource temporarily unavailable")                         \
    X(ESYS, -14, "system call failed")                                         \
    X(EMSGSIZE, -15, "message longer than the limit")                          \
    X(EPROTO, -16, "malformed or truncated data")                              \
    X(ECONNREFUSED, -17, "connection refused")                                 \
    X(ECONNRESET, -18, "connection reset by peer")                             \
    X(EPIPE, -19, "the peer closed its end (broken pipe)")                     \
    X(EADDRINUSE, -20, "address already in use")                               \
    X(EMFILE, -21, "too many open files")                                      \
    X(EREPLY, -22, "the server answered with an error reply")

enum {
#define RILL__ERR_ENUM(name, value, msg) RILL_##name = (value),
    RILL_ERRNO_MAP(RILL__ERR_ENUM)
#undef RILL__ERR_ENUM
        RILL_EUSER = -1000 /* first code free for user-defined errors */
};

/*
 * rill_strerror - a human readable message for a status code.
 * Returns: a static string; never NULL (unknown codes give "unknown status").
 * Threads: any.
 */
RILL_API const char *rill_strerror(int status);

/*
 * rill_err_name - the symbolic name of a status code ("RILL_ECLOSED").
 * Returns: a static string; never NULL.
 * Threads: any.
 */
RILL_API const char *rill_err_name(int status);

/*
 * Misuse reports. A call that rejects its arguments (a NULL handle, a zero
 * or overflowing size, a handle released twice, a wrong item size) returns
 * its documented error (RILL_EINVAL, or RILL_EALREADY for a second
 * release) and reports it: in debug builds (NDEBUG not defined) as one
 * line on stderr naming the call,
 *
 *     rill: rill_send: NULL item pointer (RILL_EINVAL) [src/sync/chan.c:387]
 *
 * and silently in release builds. Setting the environment variable
 * RILL_QUIET (to anything but "" or "0") silences the debug line too.
 */

/*
 * A misuse hook: api is the public call ("rill_send"), status the error it
 * returns, message what was wrong. All three are valid during the call
 * only. It runs on the thread that made the call and must not call rill.
 */
typedef void (*rill_misuse_fn)(void *ud, const char *api, int status,
                               const char *message);

/*
 * rill_set_misuse_hook - send misuse reports to fn instead of stderr, in
 * release builds too (fn NULL restores the default: stderr in debug builds
 * unless RILL_QUIET is set, nothing in release builds). For tests that
 * check the report, and for programs that log misuse their own way.
 * Threads: not concurrently with other rill calls (as rill_set_allocator).
 */
RILL_API void rill_set_misuse_hook(rill_misuse_fn fn, void *ud);

/* ------------------------------------------------------------------------ */
/* Time                                                                      */
/* ------------------------------------------------------------------------ */

/* A span of time in nanoseconds. */
typedef int64_t rill_duration_t;
/* A point on a monotonic clock, in nanoseconds. RILL_FOREVER = no deadline. */
typedef int64_t rill_instant_t;

#define RILL_FOREVER INT64_MAX
#define RILL_NS(n) ((rill_duration_t)(n))
#define RILL_US(n) ((rill_duration_t)(n)*1000)
#define RILL_MS(n) ((rill_duration_t)(n)*1000000)
#define RILL_SEC(n) ((rill_duration_t)(n)*1000000000)

/* ------------------------------------------------------------------------ */
/* Wakers                                                                    */
/* ------------------------------------------------------------------------ */

typedef struct rill_waker rill_waker_t;

/*
 * The operations behind a waker. `data` is the waker's data pointer. All
 * four may be called from any thread, any number of times (wake on a waker
 * whose task already finished is harmless), so an implementation keeps its
 * target alive by reference counting.
 */
typedef struct rill_waker_vtable {
    /* Returns a new waker for the same target (takes a reference). */
    rill_waker_t (*clone)(const void *data);
    /* Wakes the target and releases this waker's reference. */
    void (*wake)(const void *data);
    /* Wakes the target; the waker stays valid. */
    void (*wake_by_ref)(const void *data);
    /* Releases this waker's reference without waking. */
    void (*release)(const void *data);
} rill_waker_vtable_t;

struct rill_waker {
    const rill_waker_vtable_t *vtable; /* NULL = the empty waker */
    const void *data;
};

/* An empty waker: holds nothing; wake and release do nothing. */
#define RILL_WAKER_NONE ((rill_waker_t){NULL, NULL})

/*
 * rill_waker_clone - a second handle on the same target.
 * Returns: the new waker; release it with rill_waker_release or consume it
 *   with rill_waker_wake. Cloning the empty waker gives the empty waker.
 * Threads: any.
 * Ownership: the caller owns the new waker (release it or wake it).
 */
RILL_API rill_waker_t rill_waker_clone(const rill_waker_t *w);

/*
 * rill_waker_wake - wake the target and release the waker. *w becomes the
 * empty waker.
 * Threads: any.
 */
RILL_API void rill_waker_wake(rill_waker_t *w);

/*
 * rill_waker_wake_by_ref - wake the target; the waker stays valid.
 * Threads: any.
 */
RILL_API void rill_waker_wake_by_ref(const rill_waker_t *w);

/*
 * rill_waker_release - release the waker without waking. *w becomes the
 * empty waker. Releasing the empty waker does nothing.
 * Threads: any.
 * Ownership: consumes *w's reference.
 */
RILL_API void rill_waker_release(rill_waker_t *w);

/*
 * rill_waker_will_wake - true if both wakers wake the same target, so a
 * stored waker need not be replaced by a fresh clone. False if either is
 * NULL.
 * Returns: true if both wake the same target.
 * Threads: both.
 */
RILL_API bool rill_waker_will_wake(const rill_waker_t *a,
                                   const rill_waker_t *b);

/*
 * rill_waker_set - make *slot a waker for the same target as *w, reusing
 * the stored one when it already wakes that target (the common case of a
 * task polled again). The caller serialises access to *slot. w NULL
 * empties the slot; a NULL slot is reported as misuse and ignored.
 * Threads: both; the caller serialises access to *slot.
 */
RILL_API void rill_waker_set(rill_waker_t *slot, const rill_waker_t *w);

/*
 * rill_waker_noop - a waker that does nothing (for polling by hand).
 * Returns: a static waker; never NULL.
 * Threads: both.
 */
RILL_API const rill_waker_t *rill_waker_noop(void);

/* ------------------------------------------------------------------------ */
/* Poll context                                                              */
/* ------------------------------------------------------------------------ */

/*
 * What a poll function receives. `waker` is the waker to register when
 * returning PENDING (clone it: it is only borrowed for the poll).
 * `budget` is the cooperative budget (tokio's coop): resources that are
 * always ready spend one unit per ready result through rill_cx_spend();
 * when it reaches zero they wake the waker and return PENDING, so a hot
 * consumer yields and cannot starve its worker. A negative budget means
 * unlimited.
 */
typedef struct rill_cx {
    const rill_waker_t *waker;
    int32_t budget;
    /* Opaque, owned by rill_select: set for the cases a select polls, NULL
     * otherwise. Channel operations that hand an item directly to a
     * waiting peer claim the select through it first, so exactly one case
     * of a select completes. Other futures ignore it. */
    void *select;
} rill_cx_t;

/* A context with a borrowed waker and an unlimited budget. */
#define RILL_CX_INIT(wakerp) ((rill_cx_t){(wakerp), -1, NULL})

/*
 * rill_cx_spend - spend one unit of budget. Returns true while budget is
 * left; on false the caller must wake cx->waker (by ref) and return
 * PENDING instead of its ready result.
 */
static inline bool rill_cx_spend(rill_cx_t *cx)
{
    if (cx->budget < 0)
        return true;
    if (cx->budget == 0)
        return false;
    cx->budget--;
    return true;
}

/* ------------------------------------------------------------------------ */
/* Futures                                                                   */
/* ------------------------------------------------------------------------ */

typedef struct rill_future rill_future_t;

typedef struct rill_future_vtable {
    /*
     * Make progress. Returns RILL_PENDING (after registering cx->waker with
     * what will make progress possible), or the final status (0, a positive
     * success value, or a negative RILL_E* code). Never called again after
     * it returned something other than RILL_PENDING.
     */
    int (*poll)(rill_future_t *f, rill_cx_t *cx);
    /*
     * Withdraw a future that returned PENDING and will not be polled
     * again (timeout, select, task cancellation). Returns RILL_PENDING if
     * it was withdrawn with no effect at all, or its final status if it
     * completed in a race before it could be withdrawn (the caller then
     * treats the operation as completed). May be NULL when withdrawing has
     * nothing to undo beyond dropping the waker.
     */
    int (*cancel)(rill_future_t *f);
    /*
     * Free the future itself (only for futures owned by rill, as with
     * rill_spawn_future). May be NULL.
     */
    void (*drop)(rill_future_t *f);
    /*
     * Optional (NULL = "unknown future"; last member, so initialisers
     * that stop at drop stay valid): write a one-line description of
     * what the future waits for into buf (at most len bytes including
     * the terminating NUL, truncated as snprintf does), for task dumps
     * and deadlock reports (rill_runtime_dump). `now` is the current
     * instant on the clock of the runtime that runs the future, for
     * describing deadlines relative to it. Returns what snprintf
     * returns. It may be called from another thread while the future
     * waits, and concurrently with its poll: read only fields that do
     * not change after the first poll, or atomics; never block, never
     * call back into rill except rill_future_describe.
     */
    int (*describe)(const rill_future_t *f, rill_instant_t now, char *buf,
                    size_t len);
} rill_future_vtable_t;

/*
 * The head of every future. Concrete futures embed it as their first member
 * and are usually on the waiting caller's stack (no allocation per
 * operation).
 */
struct rill_future {
    const rill_future_vtable_t *vtable;
};

/* rill_future_poll - poll a future once (see the vtable). */
static inline int rill_future_poll(rill_future_t *f, rill_cx_t *cx)
{
    return f->vtable->poll(f, cx);
}

/*
 * rill_future_cancel - withdraw a pending future (see the vtable).
 * Returns: RILL_PENDING if withdrawn without effect, else its final status.
 */
static inline int rill_future_cancel(rill_future_t *f)
{
    return f->vtable->cancel ? f->vtable->cancel(f) : RILL_PENDING;
}

/*
 * rill_future_describe - describe f into buf as its vtable's describe
 * does; a future without one is "future <poll function address>
 * (no describe)". Never fails: buf (len > 0) always ends up a string.
 * Returns: as snprintf.
 * Threads: see the vtable's describe.
 * Waits: never.
 */
RILL_API int rill_future_describe(const rill_future_t *f, rill_instant_t now,
                                  char *buf, size_t len);

/* ------------------------------------------------------------------------ */
/* Streams                                                                   */
/* ------------------------------------------------------------------------ */

typedef struct rill_stream rill_stream_t;

typedef struct rill_stream_vtable {
    /*
     * Produce the next item into `out` (item_size bytes). Returns 0 with an
     * item, RILL_PENDING (waker registered), RILL_DONE (the stream has
     * ended; every later poll returns RILL_DONE too), or a negative error
     * code: an error item, after which the stream may go on.
     */
    int (*poll_next)(rill_stream_t *s, rill_cx_t *cx, void *out);
    /*
     * Optional batch form: produce between 1 and `max` items into `out`
     * (an array of max * item_size bytes) and store the count in *n.
     * Returns as poll_next; on 0, *n >= 1. Implementations that have an
     * error item ready return it alone (after delivering the items before
     * it). NULL when the stream has no batch path (callers then loop over
     * poll_next).
     */
    int (*poll_next_many)(rill_stream_t *s, rill_cx_t *cx, void *out,
                          size_t max, size_t *n);
    /* Release the stream and everything upstream of it. */
    void (*drop)(rill_stream_t *s);
    /*
     * Optional (NULL = "stream <address> (no describe)"; last member, so
     * initialisers that stop at drop stay valid): write a one-line
     * description into buf (at most len bytes including the NUL,
     * truncated as snprintf does) for task dumps (rill_runtime_dump):
     * what the stream is and, for a combinator, what it draws from -
     * "name <- " followed by rill_stream_describe of its upstream, so a
     * pipeline reads "map <- filter <- receiver stream on bounded channel
     * 'x' (...)". Returns what snprintf returns. Called from another
     * thread while a task waits for the stream, possibly during a poll:
     * read only fields set at construction, atomics, or an upstream
     * pointer the stream keeps until it is freed; never block, never call
     * into rill except the stats and describe functions.
     */
    int (*describe)(const rill_stream_t *s, char *buf, size_t len);
} rill_stream_vtable_t;

/*
 * An item destructor: releases what one item owns (a pointer it holds, a
 * rill_bytes reference); `item` points at the item, ud is the user data
 * given with the destructor. rill calls it for items it discards on the
 * owner's behalf (a filtered-out item, the rest of a dropped chunk, items
 * buffered in a dropped pipeline or channel), never for items it hands
 * out. The same type serves channels (rill/sync.h repeats this typedef,
 * which C11 allows).
 */
typedef void (*rill_item_dtor_fn)(void *item, void *ud);

/*
 * The head of every stream object. Streams are heap objects with one
 * owner; a combinator owns the stream it was built from. item_dtor (NULL
 * for plain data) is the destructor of this stream's items; combinators
 * that discard items call it (see rill_stream_set_item_dtor in
 * rill/stream.h).
 */
struct rill_stream {
    const rill_stream_vtable_t *vtable;
    size_t item_size; /* bytes per item; never 0 */
    rill_item_dtor_fn item_dtor;
    void *item_dtor_ud;
};

/*
 * rill_stream_describe - describe s into buf as its vtable's describe
 * does; a stream without one is "stream <address> (poll_next <address>,
 * no describe)". Never fails: buf (len > 0) always ends up a string.
 * Returns: as snprintf.
 * Waits: never.
 * Threads: see the vtable's describe.
 */
RILL_API int rill_stream_describe(const rill_stream_t *s, char *buf,
                                  size_t len);

/* ------------------------------------------------------------------------ */
/* Allocation                                                                */
/* ------------------------------------------------------------------------ */

/*
 * The allocator every allocation of rill goes through. realloc_fn gets
 * NULL to allocate and size 0 to free (exactly C's realloc contract,
 * except that size 0 must free and return NULL).
 */
typedef void *(*rill_realloc_fn)(void *ptr, size_t size, void *ud);

/*
 * rill_set_allocator - replace the allocator (NULL restores the default).
 * Call it before any other rill call; objects must be freed with the
 * allocator that made them.
 * Threads: not concurrently with any other rill call.
 */
RILL_API void rill_set_allocator(rill_realloc_fn fn, void *ud);

#ifdef __cplusplus
}
#endif

#endif /* RILL_CORE_H */
