/* SPDX-License-Identifier: MIT */
/*
 * rill.h - umbrella header. Include this one file to get the whole library:
 * core (status codes, wakers, futures, streams vtables), rt (runtime, tasks,
 * timers, blocking pool), sync (channels, select) and stream (sources,
 * combinators, consumers). Each header below also compiles on its own.
 */
#ifndef RILL_H
#define RILL_H

#define RILL_VERSION_MAJOR 0
#define RILL_VERSION_MINOR 1
#define RILL_VERSION_PATCH 0
#define RILL_VERSION_STRING "0.1.0"

#include "rill/core.h"
#include "rill/rt.h"
#if __has_include("rill/sync.h")
#include "rill/sync.h"
#endif
#if __has_include("rill/stream.h")
#include "rill/stream.h"
#endif

#endif /* RILL_H */
