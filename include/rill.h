/* SPDX-License-Identifier: MIT */
/*
 * rill.h - umbrella header. Include this one file to get the whole library:
 * core (status codes, wakers, futures, streams vtables), rt (runtime, tasks,
 * timers, blocking pool), the channels (mpsc, oneshot, watch, broadcast,
 * select), bytes and stream (sources, combinators, consumers). Each header
 * below also compiles on its own (the build checks it: rill_header_alone).
 */
#ifndef RILL_H
#define RILL_H

#define RILL_VERSION_MAJOR 0
#define RILL_VERSION_MINOR 1
#define RILL_VERSION_PATCH 0
#define RILL_VERSION_STRING "0.1.0"

/* In layer order: each header includes only headers above it. */
#include "rill/core.h"      /* status codes, wakers, futures, streams */
#include "rill/bytes.h"     /* shared immutable bytes, rill_arc */
#include "rill/rt.h"        /* runtime, tasks, timers, blocking pool */
#include "rill/sync.h"      /* mpsc channels, permits, select */
#include "rill/oneshot.h"   /* one value, once */
#include "rill/watch.h"     /* the latest value, with versions */
#include "rill/broadcast.h" /* every receiver sees every item */
#include "rill/stream.h"    /* sources, combinators, consumers */
#include "rill/io.h"        /* fds on the reactor, TCP and Unix sockets */
#include "rill/codec.h"     /* byte streams split into lines and frames */
#include "rill/http.h"      /* HTTP/1.1 request parsing */
#include "rill/sse.h"       /* Server-Sent Events encoding */
#include "rill/ws.h"        /* WebSocket handshake and framing */
#include "rill/hub.h"       /* one source to many SSE and WebSocket clients */

#endif /* RILL_H */
