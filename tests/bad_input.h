/* SPDX-License-Identifier: MIT */
/*
 * bad_input.h - what the test_bad_input*.c tests share: a misuse hook
 * that captures the reports (so the tests are quiet and can check that a
 * rejected call names itself), and BAD(), which checks that a call with
 * bad arguments returns its documented error and, for RILL_EINVAL and
 * RILL_EALREADY, made one report naming a public call.
 */
#ifndef RILL_TEST_BAD_INPUT_H
#define RILL_TEST_BAD_INPUT_H

#include "test_util.h"

#include <rill.h>
#include <stdio.h>
#include <string.h>

static int reports;            /* misuse reports since the last check */
static char last_api[64];      /* the call named by the latest report */
static int last_status;        /* its status */
static char last_message[256]; /* its message */

static inline void capture(void *ud, const char *api, int status,
                           const char *message)
{
    (void)ud;
    reports++;
    snprintf(last_api, sizeof last_api, "%s", api);
    snprintf(last_message, sizeof last_message, "%s", message);
    last_status = status;
}

/* `got` (the result of `call`) must be `want`; a misuse error must have
 * been reported once, naming a public call (rill_...), with that status. */
static inline void check_bad(const char *call, int got, int want)
{
    if (got != want)
        fail_msg("%s returned %s, want %s", call, rill_err_name(got),
                 rill_err_name(want));
    if (want == RILL_EINVAL || want == RILL_EALREADY) {
        if (reports != 1)
            fail_msg("%s: %d misuse reports, want 1", call, reports);
        if (strncmp(last_api, "rill_", 5) != 0 || last_status != want)
            fail_msg("%s: report names '%s' with %s", call, last_api,
                     rill_err_name(last_status));
    }
    reports = 0;
}

#define BAD(want, call) check_bad(#call, (call), (want))

/* No report for a call that is fine (or only a no-op). */
#define QUIET(expr)                                                            \
    do {                                                                       \
        reports = 0;                                                           \
        expr;                                                                  \
        if (reports)                                                           \
            fail_msg("%s made a misuse report (%s: %s)", #expr, last_api,      \
                     last_message);                                            \
    } while (0)

/* A call without a result that must report misuse once and go on. */
#define REPORTS(expr)                                                          \
    do {                                                                       \
        reports = 0;                                                           \
        expr;                                                                  \
        if (reports != 1 || strncmp(last_api, "rill_", 5) != 0)                \
            fail_msg("%s: %d misuse reports, want 1", #expr, reports);         \
        reports = 0;                                                           \
    } while (0)

static inline int bad_setup(void **state)
{
    (void)state;
    rill_set_misuse_hook(capture, NULL);
    reports = 0;
    return 0;
}

#endif
