/* SPDX-License-Identifier: MIT */
/*
 * dump.h - the task dump as the deadlock report uses it, and the SIGQUIT
 * registry (dump.c). rill__ names; private to src/rt.
 */
#ifndef RILL_RT_DUMP_H
#define RILL_RT_DUMP_H

#include "rill/rt.h"

#include <stdbool.h>
#include <stdint.h>

struct rill_runtime;

/* The dump, one line at a time; deadlocked: the header says all idle. */
int rill__dump_lines(rill_runtime_t *rt, bool deadlocked, rill_dump_line_fn fn,
                     void *ud);
/* A rill_dump_line_fn that prints to the FILE * in ud. */
void rill__dump_file_line(const char *line, void *ud);
/* Threads rill started that never act on a runtime (the SIGQUIT thread):
 * the deadlock detector counts them as accounted for. */
uint32_t rill__service_threads(void);
/* With cfg.sigquit_dump: SIGQUIT dumps rt (rill__diag_init / _fini). */
void rill__sigquit_register(struct rill_runtime *rt);
void rill__sigquit_unregister(struct rill_runtime *rt);

#endif
