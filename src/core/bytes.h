/* SPDX-License-Identifier: MIT */
/*
 * bytes.h - what other layers may call of rill_bytes beyond the public
 * header (rill/bytes.h). rill__ names; not installed.
 */
#ifndef RILL_CORE_BYTES_H
#define RILL_CORE_BYTES_H

#include "rill/bytes.h"

/*
 * rill__bytes_alloc - a new buffer of len bytes (one allocation, as
 * rill_bytes_new) whose contents the caller writes through *data before it
 * shares the bytes: encoders build their output in place instead of
 * copying it in. len 0 gives the empty value and *data NULL.
 * Returns: 0; RILL_ENOMEM (*b is then the empty value).
 * Ownership: the caller owns one reference in *b.
 */
int rill__bytes_alloc(rill_bytes_t *b, size_t len, unsigned char **data);

/*
 * rill__bytes_share_n - take n more references to b's buffer in one atomic
 * add, for a caller that then makes n views of it by hand ((rill_bytes_t){
 * ptr, len, b->shared_} with ptr[0..len) inside b): a splitter handing out
 * a batch of slices pays one locked instruction per batch, not per slice.
 * b must hold a reference (not the empty value); n may be 0.
 */
void rill__bytes_share_n(const rill_bytes_t *b, size_t n);

#endif
