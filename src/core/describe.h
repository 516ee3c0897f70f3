/* SPDX-License-Identifier: MIT */
/*
 * describe.h - helpers for the futures' describe functions (task dumps,
 * deadlock reports): formatting into a fixed buffer without overflowing
 * and durations as people read them. Not installed.
 */
#ifndef RILL_CORE_DESCRIBE_H
#define RILL_CORE_DESCRIBE_H

#include "rill/core.h"

#include <stddef.h>

/*
 * A cursor over a caller's buffer: rill__buf_printf appends and keeps the
 * buffer a string; `want` counts what would have been written (as
 * snprintf's return value), so callers can return it.
 */
typedef struct rill__buf {
    char *p;
    size_t len;  /* capacity of p, including the NUL */
    size_t used; /* bytes written, < len */
    size_t want; /* bytes that would have been written */
} rill__buf_t;

void rill__buf_init(rill__buf_t *b, char *p, size_t len);
void rill__buf_printf(rill__buf_t *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Append rill_stream_describe(s) (a combinator's upstream). */
void rill__buf_stream(rill__buf_t *b, const rill_stream_t *s);
/*
 * A combinator's describe in one call: the label (printf format), then
 * " <- " and the description of up, or " <- (upstream ended)" when up is
 * NULL. Returns as a describe slot does.
 */
int rill__describe_over(char *buf, size_t len, const rill_stream_t *up,
                        const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* A duration: "+1.500 ms", "-20 us", "+3.000 s" (sign shown). */
void rill__buf_duration(rill__buf_t *b, rill_duration_t d);
/* snprintf's return value for what the cursor was asked to write. */
static inline int rill__buf_result(const rill__buf_t *b)
{
    return b->want > (size_t)0x7fffffff ? 0x7fffffff : (int)b->want;
}

#endif
