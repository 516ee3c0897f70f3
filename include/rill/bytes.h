/* SPDX-License-Identifier: MIT */
/*
 * rill/bytes.h - sharing data between tasks and threads without copying:
 * rill_bytes (the seed's `Bytes`) and rill_arc (its `Arc<T>`).
 *
 * Channels and streams copy items by value, so a large payload travels as
 * a small handle to shared, immutable data. Both kinds here are reference
 * counted with atomic counts: clone on one thread, release on another;
 * the memory goes when the last reference does.
 *
 * rill_bytes - an immutable byte buffer seen through a (pointer, length)
 * view of 24 bytes, sent by value. Slicing makes a new view of the same
 * buffer: no copy.
 *
 *     rill_bytes_t frame;
 *     rill_bytes_new(&frame, packet, packet_len);         // one copy, in
 *     rill_bytes_t header, body;
 *     rill_bytes_slice(&frame, 0, 16, &header);           // no copy
 *     rill_bytes_slice(&frame, 16, packet_len - 16, &body);
 *     rill_bytes_release(&frame);
 *     rill_send(tx, &body);          // the channel now owns that reference
 *     rill_bytes_release(&header);
 *
 * Give a channel or stream of rill_bytes_t the item destructor
 * rill_bytes_item_dtor, so items it discards drop their reference.
 *
 * rill_arc - a reference-counted struct of your own type (Arc<T>). Send
 * the pointer; every holder releases its reference once.
 *
 *     typedef struct { uint32_t id; char *content; } doc_t;
 *     static void doc_dtor(void *p) { free(((doc_t *)p)->content); }
 *
 *     doc_t *d;
 *     rill_arc_new(&d, sizeof *d, doc_dtor);  // count 1, zeroed
 *     d->id = 1;
 *     d->content = strdup("some large string...");
 *     // Fill it in before sharing: after that it is read-only (or
 *     // guarded by the type's own lock).
 *     doc_t *copy = rill_arc_clone(d);        // count 2, same object
 *     rill_send(tx, &copy);                   // a channel of doc_t *
 *     ...
 *     rill_arc_release(d);                    // the receiver releases
 *                                             // its copy when done
 *
 * Give a channel or stream of arc pointers the item destructor
 * rill_arc_item_dtor.
 */
#ifndef RILL_BYTES_H
#define RILL_BYTES_H

#include "core.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------------ */
/* rill_bytes                                                                */
/* ------------------------------------------------------------------------ */

/*
 * A view of shared immutable bytes. Read ptr[0..len). A value type: copy
 * it freely, but every copy that is released must first be a clone
 * (rill_bytes_clone), exactly as with any reference count.
 */
typedef struct rill_bytes {
    const unsigned char *ptr;
    size_t len;
    void *shared_; /* private: the reference-counted owner; NULL if empty */
} rill_bytes_t;

/* The empty value: no bytes, no reference; releasing it does nothing. */
#define RILL_BYTES_EMPTY ((rill_bytes_t){NULL, 0, NULL})

/* The bytes and the length (for readers of the view). */
static inline const void *rill_bytes_data(const rill_bytes_t *b)
{
    return b->ptr;
}
static inline size_t rill_bytes_len(const rill_bytes_t *b)
{
    return b->len;
}

/*
 * rill_bytes_new - a buffer holding a copy of data[0..len) (one
 * allocation for the count and the bytes). len 0 gives the empty value.
 * Returns: 0; RILL_EINVAL (NULL b, NULL data with len > 0, or a len so
 *   large that the buffer's size overflows); RILL_ENOMEM.
 * Ownership: the caller owns one reference in *b. On failure *b is the empty
 *   value.
 * Threads: any.
 * Waits: never.
 */
RILL_API RILL_NODISCARD int rill_bytes_new(rill_bytes_t *b, const void *data,
                                           size_t len);

/*
 * rill_bytes_from_buffer - share a buffer you already have, without a
 * copy: when the last reference goes, free_fn(ud, data) is called (on
 * whichever thread releases last). free_fn may be NULL for static data.
 * Returns: 0; RILL_EINVAL; RILL_ENOMEM (free_fn is then not called and
 *   the buffer is still yours).
 * Ownership: on success the buffer belongs to the bytes.
 * Waits: never.
 * Threads: both.
 */
RILL_API RILL_NODISCARD int
rill_bytes_from_buffer(rill_bytes_t *b, const void *data, size_t len,
                       void (*free_fn)(void *ud, void *data), void *ud);

/*
 * rill_bytes_clone - another reference to the same bytes (never fails).
 * Returns: the new view; release it separately.
 * Threads: any, concurrently with clones and releases of the same buffer.
 * Ownership: the caller owns the new reference.
 */
RILL_API rill_bytes_t rill_bytes_clone(const rill_bytes_t *b);

/*
 * rill_bytes_slice - a new reference viewing b->ptr[off .. off + len).
 * No bytes are copied.
 * Returns: 0; RILL_EINVAL if the range is not inside b (*out is then the
 *   empty value).
 * Ownership: the caller owns the reference in *out; b is unchanged.
 * Waits: never.
 * Threads: both.
 */
RILL_API RILL_NODISCARD int rill_bytes_slice(const rill_bytes_t *b, size_t off,
                                             size_t len, rill_bytes_t *out);

/*
 * rill_bytes_release - drop this reference; *b becomes the empty value.
 * The last reference frees the buffer. NULL and the empty value are
 * accepted.
 * Threads: any.
 * Ownership: consumes this reference.
 */
RILL_API void rill_bytes_release(rill_bytes_t *b);

/*
 * rill_bytes_release_many - release b[0..n), as rill_bytes_release on
 * each, for a batch taken with rill_next_many: neighbours that share a
 * buffer (the lines of one chunk, say) give up their references in one
 * atomic step instead of one each. Each b[i] becomes the empty value;
 * empty values in the array are skipped.
 * Threads: any.
 * Ownership: consumes the n references.
 */
RILL_API void rill_bytes_release_many(rill_bytes_t *b, size_t n);

/*
 * rill_bytes_refs - the buffer's reference count now (0 for the empty
 * value). Only a hint under concurrency; meant for tests and diagnostics.
 * Returns: the count (a hint).
 * Threads: both.
 */
RILL_API size_t rill_bytes_refs(const rill_bytes_t *b);

/* An item destructor for channels and streams of rill_bytes_t.
 * Threads: both.
 */
RILL_API void rill_bytes_item_dtor(void *item, void *ud);

/* ------------------------------------------------------------------------ */
/* rill_arc                                                                  */
/* ------------------------------------------------------------------------ */

/* Releases what an arc object owns (not the object's memory itself). */
typedef void (*rill_arc_dtor_fn)(void *obj);

/*
 * rill_arc_new - a zeroed object of `size` bytes with a reference count
 * of 1, aligned for any type. out is the address of your pointer (a
 * T **, passed as void *).
 * Returns: 0; RILL_EINVAL (NULL out, size 0, a size that overflows with
 *   the count's header); RILL_ENOMEM.
 * Ownership: the caller owns one reference. dtor (may be NULL) runs once,
 *   when the last reference is released, before the memory is freed. On
 *   failure *out is not set and dtor is not called.
 * Waits: never.
 * Threads: both.
 */
RILL_API RILL_NODISCARD int rill_arc_new(void *out, size_t size,
                                         rill_arc_dtor_fn dtor);

/*
 * rill_arc_clone - take another reference on obj.
 * Returns: obj (for `T *copy = rill_arc_clone(p);`); NULL for NULL.
 * Threads: any.
 * Ownership: the caller owns the new reference.
 */
RILL_API void *rill_arc_clone(void *obj);

/*
 * rill_arc_release - drop a reference; the last one runs the destructor
 * and frees the object. NULL is accepted.
 * Threads: any. The destructor runs on the releasing thread, after every
 *   other holder's writes to the object are visible.
 * Ownership: consumes this reference.
 */
RILL_API void rill_arc_release(void *obj);

/* rill_arc_refs - the reference count now (a hint under concurrency).
 * Returns: the count (a hint).
 * Threads: both.
 */
RILL_API size_t rill_arc_refs(const void *obj);

/* An item destructor for channels and streams of arc pointers (items are
 * T *, so item is a T **). NULL is accepted.
 * Threads: both.
 */
RILL_API void rill_arc_item_dtor(void *item, void *ud);

#ifdef __cplusplus
}
#endif

#endif /* RILL_BYTES_H */
