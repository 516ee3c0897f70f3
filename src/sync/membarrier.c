/* SPDX-License-Identifier: MIT */
/*
 * membarrier.c - the asymmetric barrier (Linux membarrier(2)), for
 * store-buffer (Dekker) handshakes where one side runs per item and the
 * other only when it is about to sleep.
 *
 * The fast side stores, issues only a compiler barrier
 * (rill__asym_light) and loads; the slow side stores, calls
 * rill__asym_heavy and loads. MEMBARRIER_CMD_PRIVATE_EXPEDITED makes every
 * other running thread of the process execute a full memory barrier before
 * the call returns (threads not running have passed one in the context
 * switch), so for each fast-side thread either its store is visible to the
 * slow side's loads after the call, or its later loads see the slow side's
 * store: the guarantee a full fence on both sides gives (liburcu's and
 * folly's asymmetric barriers). It is outside the C11 model, which is why
 * the fast side's accesses stay atomic (no data race for tools to see).
 *
 * Where the call is missing or refused (old kernels, qemu-user, seccomp)
 * rill__asym_available() is false and callers use seq_cst on both sides.
 */
#include "chan_util.h"

#include <linux/membarrier.h>
#include <pthread.h>
#include <sys/syscall.h>
#include <unistd.h>

static pthread_once_t once = PTHREAD_ONCE_INIT;
static bool available; /* written once under `once` */

static long membarrier(int cmd)
{
    return syscall(SYS_membarrier, cmd, 0, 0);
}

static void probe(void)
{
    long cmds = membarrier(MEMBARRIER_CMD_QUERY);
    available = cmds > 0 && (cmds & MEMBARRIER_CMD_PRIVATE_EXPEDITED) &&
                membarrier(MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED) == 0;
}

static _Atomic int forced_off; /* tests: exercise the seq_cst fallback */

bool rill__asym_available(void)
{
    pthread_once(&once, probe);
    /* relaxed: a test switch, set before the channels it affects. */
    return available && !rill__load(&forced_off, RILL_RELAXED);
}

void rill__asym_force_off(bool off)
{
    rill__store(&forced_off, off, RILL_RELAXED); /* see above */
}

void rill__asym_heavy(void)
{
    /* Registered in probe; a failure here is impossible short of the
     * kernel withdrawing it, and then a full fence is the best we can do
     * (callers only use this path after rill__asym_available). */
    if (membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED) != 0)
        RILL_PANIC("membarrier failed after registration");
}
