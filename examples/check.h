/* SPDX-License-Identifier: MIT */
/*
 * check.h - what the examples do with a status they cannot go on without.
 * CHECK(call) runs the call and, unless it returned 0, names the call and
 * the status on stderr and exits. A real program handles such failures
 * (out of memory, a runtime shut down) its own way; the point here is
 * that a rill status is never dropped unseen (rill marks the calls whose
 * status matters RILL_NODISCARD, and the compiler warns).
 */
#ifndef RILL_EXAMPLES_CHECK_H
#define RILL_EXAMPLES_CHECK_H

#include <rill.h>
#include <stdio.h>
#include <stdlib.h>

#define CHECK(call)                                                            \
    do {                                                                       \
        int check_rc_ = (call);                                                \
        if (check_rc_ != 0) {                                                  \
            fprintf(stderr, "%s:%d: %s: %s\n", __FILE__, __LINE__, #call,      \
                    rill_err_name(check_rc_));                                 \
            exit(1);                                                           \
        }                                                                      \
    } while (0)

#endif /* RILL_EXAMPLES_CHECK_H */
