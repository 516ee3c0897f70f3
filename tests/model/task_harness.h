/* SPDX-License-Identifier: MIT */
/* task_harness.h - the task state word scenario (task_harness.c), called
 * from the relacy suite in model_task.cpp. */
#ifndef RILL_TASK_HARNESS_H
#define RILL_TASK_HARNESS_H

#include "rill_model.h"

#ifdef __cplusplus
extern "C" {
#endif

void task_setup(void);
void task_worker(int i); /* 0 .. 1 */
void task_waker(int i);  /* 0 .. 1 */
void task_check(void);

#ifdef __cplusplus
}
#endif

#endif
