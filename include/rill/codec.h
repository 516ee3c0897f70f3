/* SPDX-License-Identifier: MIT */
/*
 * rill/codec.h - splitting a stream of bytes into items (tokio-util's
 * LinesCodec and LengthDelimitedCodec for rill streams).
 *
 * A socket, a pipe or a file read as a rill stream gives chunks of bytes
 * (rill_bytes_t) whose boundaries mean nothing: one chunk may hold many
 * messages, one message may span many chunks. The decoders here turn such
 * a stream into a stream of messages, each a rill_bytes_t of its own:
 *
 *     rill_stream_t *s;                     // chunks from a connection
 *     rill_stream_lines(&s, 4096);          // now: one line per item
 *     rill_bytes_t line;
 *     int r;
 *     while ((r = rill_next(s, &line)) != RILL_DONE) {
 *         if (r == RILL_EMSGSIZE)           // a line over 4096 bytes:
 *             continue;                     // skipped, the stream goes on
 *         if (r < 0)
 *             break;                        // an error from upstream
 *         handle(rill_bytes_data(&line), rill_bytes_len(&line));
 *         rill_bytes_release(&line);
 *     }
 *     rill_stream_free(s);
 *
 * Copies: a message that lies inside one chunk is a slice of that chunk
 * (no copy; it keeps the chunk's buffer alive while you hold it). A message
 * that spans chunks is copied once into a buffer of its own.
 *
 * Memory: a decoder buffers at most one message (max_len bytes), whatever
 * the peer sends: a line without end or a frame header announcing 4 GiB
 * costs nothing beyond that.
 *
 * Both decoders take a stream whose items are rill_bytes_t (the chunks;
 * they take ownership of each chunk they are given) and give a stream
 * whose items are rill_bytes_t with the item destructor
 * rill_bytes_item_dtor, so messages a pipeline discards are released.
 * Error items from upstream pass through unchanged.
 */
#ifndef RILL_CODEC_H
#define RILL_CODEC_H

#include "bytes.h"
#include "core.h"
#include "stream.h"

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
 * rill_stream_lines - one item per line of a byte stream. A line ends at
 * "\n"; the item holds the line without its "\n" and without a "\r" just
 * before it ("\r\n" endings). At the end of the stream, bytes after the
 * last "\n" are given as a last line if there are any.
 *
 * A line longer than max_len bytes (not counting its ending) gives the
 * error item RILL_EMSGSIZE once; its bytes are skipped up to and including
 * the next "\n", and the stream goes on with the line after it.
 *
 * Returns: 0 (*s is the line stream); RILL_EINVAL (NULL s or *s, max_len
 *   0, or *s's items are not rill_bytes_t); RILL_ENOMEM.
 * Ownership: on success the line stream owns the old *s (dropping it drops
 *   upstream); on failure *s is untouched and still yours.
 * Threads: any; the stream is polled by one task or thread at a time.
 * Waits: never (building a stream polls nothing).
 */
RILL_API RILL_NODISCARD int rill_stream_lines(rill_stream_t **s,
                                              size_t max_len);

/*
 * rill_stream_frames - one item per length-prefixed frame of a byte
 * stream: a 4-byte big-endian unsigned length n, then n bytes of payload.
 * The item is the payload (an empty frame gives an empty rill_bytes_t).
 *
 * A header announcing more than max_len bytes gives the error item
 * RILL_EMSGSIZE and then the end of the stream (RILL_DONE): the frame
 * boundaries after it cannot be trusted. A stream that ends inside a
 * header or a payload gives the error item RILL_EPROTO, then RILL_DONE.
 *
 * Returns: 0 (*s is the frame stream); RILL_EINVAL (NULL s or *s, max_len
 *   0 or over UINT32_MAX, or *s's items are not rill_bytes_t);
 *   RILL_ENOMEM.
 * Ownership: as rill_stream_lines.
 * Threads: as rill_stream_lines.
 * Waits: never (building a stream polls nothing).
 */
RILL_API RILL_NODISCARD int rill_stream_frames(rill_stream_t **s,
                                               size_t max_len);

/*
 * rill_frame_header - write the 4-byte header of a frame of len bytes
 * (big-endian), for writers of the format rill_stream_frames reads: send
 * the header, then the payload (one writev of both).
 * Returns: 0; RILL_EMSGSIZE if len does not fit in 32 bits.
 * Threads: any.
 * Waits: never.
 */
RILL_API RILL_NODISCARD int rill_frame_header(unsigned char hdr[4], size_t len);

#ifdef __cplusplus
}
#endif

#endif /* RILL_CODEC_H */
