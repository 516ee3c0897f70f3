/* SPDX-License-Identifier: MIT */
/*
 * futex.c - futex wait/wake and the monotonic clock. The only file of the
 * runtime that makes these system calls directly.
 */
#include "futex.h"
#include "rill/core.h"

#include <errno.h>
#include <linux/futex.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

int64_t rill__mono_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

void rill__futex_wait(_Atomic uint32_t *word, uint32_t expected,
                      int64_t deadline_ns)
{
    struct timespec ts, *tsp = NULL;
    int op = FUTEX_WAIT_PRIVATE;
    if (deadline_ns != RILL_FOREVER) {
        /* FUTEX_WAIT_BITSET takes an absolute CLOCK_MONOTONIC time, so a
         * spurious wakeup does not stretch the total wait. */
        ts.tv_sec = deadline_ns / 1000000000;
        ts.tv_nsec = deadline_ns % 1000000000;
        tsp = &ts;
        op = FUTEX_WAIT_BITSET_PRIVATE;
    }
    syscall(SYS_futex, (uint32_t *)word, op, expected, tsp, NULL,
            FUTEX_BITSET_MATCH_ANY);
}

void rill__futex_wake(_Atomic uint32_t *word, int n)
{
    syscall(SYS_futex, (uint32_t *)word, FUTEX_WAKE_PRIVATE, n, NULL, NULL, 0);
}
