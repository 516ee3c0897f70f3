/* SPDX-License-Identifier: MIT */
/*
 * error.c - names and messages of status codes (from RILL_ERRNO_MAP), and
 * the misuse / panic reporters every layer uses. A misuse report goes to
 * the user's hook if there is one, else (debug builds, unless RILL_QUIET)
 * to stderr as one line naming the API call.
 */
#include "core.h"
#include "atomic.h"

#include <stdarg.h>
#include <string.h>

const char *rill_strerror(int status)
{
    switch (status) {
#define RILL__ERR_MSG(name, value, msg)                                        \
    case RILL_##name:                                                          \
        return msg;
        RILL_ERRNO_MAP(RILL__ERR_MSG)
#undef RILL__ERR_MSG
    default:
        return status <= RILL_EUSER ? "user error" : "unknown status";
    }
}

const char *rill_err_name(int status)
{
    switch (status) {
#define RILL__ERR_NAME(name, value, msg)                                       \
    case RILL_##name:                                                          \
        return "RILL_" #name;
        RILL_ERRNO_MAP(RILL__ERR_NAME)
#undef RILL__ERR_NAME
    default:
        return status <= RILL_EUSER ? "RILL_EUSER" : "RILL_UNKNOWN";
    }
}

/* The user's misuse hook; relaxed: rill_set_misuse_hook is documented as
 * not concurrent with other calls, as rill_set_allocator. */
static _Atomic(rill_misuse_fn) misuse_fn; /* zero: none */
static _Atomic(void *) misuse_ud;

void rill_set_misuse_hook(rill_misuse_fn fn, void *ud)
{
    rill__store(&misuse_ud, ud, RILL_RELAXED);
    rill__store(&misuse_fn, fn, RILL_RELAXED);
}

#ifndef NDEBUG
/* RILL_QUIET set to anything but "" or "0" silences the default report
 * (read at each report: misuse is rare and the environment may change). */
static bool quiet(void)
{
    const char *q = getenv("RILL_QUIET");
    return q && q[0] && strcmp(q, "0") != 0;
}
#endif

int rill__misuse(int status, const char *api, const char *file, int line,
                 const char *fmt, ...)
{
    rill_misuse_fn fn = rill__load(&misuse_fn, RILL_RELAXED);
#ifdef NDEBUG
    /* Release builds format the message only for a hook. */
    if (!fn)
        return status;
#else
    if (!fn && quiet())
        return status;
#endif
    char msg[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (fn)
        fn(rill__load(&misuse_ud, RILL_RELAXED), api, status, msg);
    else
        fprintf(stderr, "rill: %s: %s (%s) [%s:%d]\n", api, msg,
                rill_err_name(status), file, line);
    return status;
}

void rill__panic(const char *file, int line, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "rill: panic at %s:%d: ", file, line);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    abort();
}
