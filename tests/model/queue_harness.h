/* SPDX-License-Identifier: MIT */
/* queue_harness.h - the local run queue scenarios (queue_harness.c),
 * called from the relacy suites in model_queue.cpp. */
#ifndef RILL_QUEUE_HARNESS_H
#define RILL_QUEUE_HARNESS_H

#include "rill_model.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct queue_scenario {
    int tasks;   /* pushed by the owner, at most 8 */
    int thieves; /* 1 or 2 */
} queue_scenario_t;

void queue_setup(const queue_scenario_t *sc);
void queue_owner(void);
void queue_thief(int i); /* i = 1 .. thieves */
void queue_check(void);

#ifdef __cplusplus
}
#endif

#endif
