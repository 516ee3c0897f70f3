/* SPDX-License-Identifier: MIT */
/* chan_harness.h - the bounded channel scenarios (chan_harness.c), called
 * from the relacy suites in model_chan.cpp. */
#ifndef RILL_CHAN_HARNESS_H
#define RILL_CHAN_HARNESS_H

#include "rill_model.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct chan_scenario {
    int cap;          /* ring capacity */
    int producers;    /* each its own thread and sender handle */
    int per_producer; /* items each sends */
    bool batch;       /* rill_send_many / rill_recv_many */
} chan_scenario_t;

void chan_setup(const chan_scenario_t *sc);
void chan_producer(int i);
void chan_receiver(void);
void chan_check(void);

#ifdef __cplusplus
}
#endif

#endif
