/* SPDX-License-Identifier: MIT */
/*
 * error.c - names and messages of status codes (from RILL_ERRNO_MAP), and
 * the misuse / panic reporters every layer uses.
 */
#include "core.h"

#include <stdarg.h>

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

int rill__misuse(const char *api, const char *file, int line, const char *fmt,
                 ...)
{
#ifndef NDEBUG
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "rill: misuse of %s (%s:%d): ", api, file, line);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
#else
    RILL_UNUSED(api);
    RILL_UNUSED(file);
    RILL_UNUSED(line);
    RILL_UNUSED(fmt);
#endif
    return RILL_EINVAL;
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
