/* A user's program against an installed rill: a task sleeps and returns. */
#include <rill.h>
#include <stdint.h>
#include <stdio.h>

static void *task(void *arg)
{
    rill_sleep(RILL_MS(1));
    return (void *)((intptr_t)arg * 2);
}

int main(void)
{
    rill_runtime_t *rt;
    void *r = NULL;
    if (rill_runtime_new(&rt, NULL) != 0)
        return 1;
    int rc = rill_block_on(rt, task, (void *)21, &r);
    rill_runtime_free(rt);
    printf("consumer: %s, %ld\n", rill_strerror(rc), (long)(intptr_t)r);
    return rc == 0 && (intptr_t)r == 42 ? 0 : 1;
}
