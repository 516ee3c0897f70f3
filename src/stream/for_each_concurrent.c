/* SPDX-License-Identifier: MIT */
/*
 * for_each_concurrent.c - rill_stream_for_each_concurrent: fn runs in at
 * most `limit` tasks at a time (0: no limit) and may wait. It is an
 * unordered map_async (map_async.c) whose function calls fn and yields
 * fn's result, drained on the calling task: map_async already owns the
 * worker tasks, the limit and the hand-over; the drain here only stops at
 * the first nonzero result.
 */
#include "stream_int.h"

typedef struct fec {
    rill_each_fn fn;
    void *ud;
} fec_t;

/* Runs in a worker task: the item is fn's; its result is the output. */
static int call_fn(void *ud, void *in, void *out)
{
    fec_t *f = ud;
    *(int *)out = f->fn(f->ud, 0, in);
    return 0;
}

int rill_stream_for_each_concurrent(rill_stream_t *s, size_t limit,
                                    rill_each_fn fn, void *ud)
{
    if (!s || !fn) {
        rill_stream_free(s);
        return RILL_MISUSE("rill_stream_for_each_concurrent",
                           "NULL stream or function");
    }
    fec_t f = {fn, ud};
    int r = rill__map_async_new("rill_stream_for_each_concurrent", &s, limit,
                                false, call_fn, &f, sizeof(int));
    while (r == 0) {
        int result = 0;
        r = rill_next(s, &result);
        if (r == RILL_DONE) {
            r = 0;
            break;
        }
        if (r < 0) {
            if (r == RILL_ECANCELED && rill_task_is_cancelled())
                break;
            r = fn(ud, r, NULL); /* error items: on this task */
        } else {
            r = result;
        }
    }
    /* Cancels the calls still running and waits for them: f is on our
     * stack. */
    rill_stream_free(s);
    return r;
}
