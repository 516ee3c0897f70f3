/* SPDX-License-Identifier: MIT */
/*
 * stack.c - guarded task stacks, their pool, and the overflow report.
 *
 * Three parts:
 * - The registry: one slot per mapped stack with its guard page range and
 *   owner, in chunks of slots that are mmap'd once and never freed, so the
 *   signal handler can walk them without a lock at any time. Writers
 *   (mapping and unmapping a stack) serialise on reg_lock; a slot is
 *   published by a release store of guard_hi, which the handler's acquire
 *   load pairs with.
 * - The pool: a mutex-protected LIFO of idle stacks of one size (LIFO, so
 *   the stack given out is the one most likely still in cache). The lock
 *   is held for a few pointer moves; mapping happens outside it.
 * - The handler and the per-thread alternate signal stacks it runs on.
 */
#include "rt/stack.h"
#include "rt/sanitize.h"
#include "core/atomic.h"
#include "core/core.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#if defined(__has_include)
#if __has_include(<valgrind/valgrind.h>)
#include <valgrind/valgrind.h>
#define RILL__VALGRIND 1
#endif
#endif
#ifndef RILL__VALGRIND
#define RILL__VALGRIND 0
#endif

/* Larger stacks are refused: they are surely a unit mistake. */
#define STACK_SIZE_LIMIT ((size_t)1 << 30)

static size_t page_size(void)
{
    static _Atomic size_t cached;
    /* Relaxed: every thread computes the same value; a race only repeats
     * the sysconf call. */
    size_t p = rill__load(&cached, RILL_RELAXED);
    if (RILL_UNLIKELY(p == 0)) {
        long v = sysconf(_SC_PAGESIZE);
        p = v > 0 ? (size_t)v : 4096;
        rill__store(&cached, p, RILL_RELAXED);
    }
    return p;
}

/* size rounded up to whole pages; 0 if it is 0 or over the limit. */
static size_t round_to_pages(size_t size)
{
    if (size == 0 || size > STACK_SIZE_LIMIT)
        return 0;
    size_t p = page_size();
    return (size + p - 1) & ~(p - 1);
}

/* ------------------------------------------------------------------------ */
/* Registry of mapped stacks, readable from the signal handler              */
/* ------------------------------------------------------------------------ */

typedef struct rill__stack_slot {
    /* The guard page: [guard_lo, guard_hi). guard_hi == 0: slot free.
     * Written under reg_lock; read by the handler without it. */
    _Atomic uintptr_t guard_lo, guard_hi;
    /* Usable size, for the report. Set before guard_hi is published. */
    _Atomic size_t size;
    /* The owner, set by rill__stack_set_owner before the task runs. */
    _Atomic uint64_t task_id;
    char name[RILL__STACK_NAME_MAX + 1];
    /* Free-slot list link, under reg_lock. */
    struct rill__stack_slot *next_free;
} slot_t;

#define SLOTS_PER_CHUNK 1024

typedef struct chunk {
    struct chunk *_Atomic next;
    slot_t slots[SLOTS_PER_CHUNK];
} chunk_t;

static pthread_mutex_t reg_lock = PTHREAD_MUTEX_INITIALIZER;
/* Newest chunk first. Release-published (partner: acquire in find). */
static chunk_t *_Atomic reg_chunks;
/* Free slots, under reg_lock. */
static slot_t *reg_free;

/* A free slot, or NULL when a new chunk cannot be mapped. Chunks come from
 * mmap, not the user's allocator: they live as long as the process (the
 * handler may read them at any moment), and zeroed pages are free slots. */
static slot_t *slot_alloc(void)
{
    pthread_mutex_lock(&reg_lock);
    if (!reg_free) {
        chunk_t *c = mmap(NULL, sizeof *c, PROT_READ | PROT_WRITE,
                          MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (c == MAP_FAILED) {
            pthread_mutex_unlock(&reg_lock);
            return NULL;
        }
        for (size_t i = SLOTS_PER_CHUNK; i-- > 0;) {
            c->slots[i].next_free = reg_free;
            reg_free = &c->slots[i];
        }
        /* Relaxed: reg_lock orders writers; readers see c's slots free
         * (zero) whatever they see of this link. */
        rill__store(&c->next, rill__load(&reg_chunks, RILL_RELAXED),
                    RILL_RELAXED);
        /* Release: pairs with the handler's acquire of reg_chunks. */
        rill__store(&reg_chunks, c, RILL_RELEASE);
    }
    slot_t *s = reg_free;
    reg_free = s->next_free;
    pthread_mutex_unlock(&reg_lock);
    return s;
}

static void slot_publish(slot_t *s, uintptr_t guard_lo, uintptr_t guard_hi,
                         size_t size)
{
    /* Relaxed: published by the release store of guard_hi below. */
    rill__store(&s->size, size, RILL_RELAXED);
    rill__store(&s->task_id, 0, RILL_RELAXED);
    s->name[0] = '\0';
    rill__store(&s->guard_lo, guard_lo, RILL_RELAXED);
    /* Release: pairs with the acquire load of guard_hi in find_guard. */
    rill__store(&s->guard_hi, guard_hi, RILL_RELEASE);
}

static void slot_free(slot_t *s)
{
    /* Relaxed: a handler racing with the unmap of this very stack cannot
     * be fixed by ordering; it at worst misses an overflow report. */
    rill__store(&s->guard_hi, 0, RILL_RELAXED);
    pthread_mutex_lock(&reg_lock);
    s->next_free = reg_free;
    reg_free = s;
    pthread_mutex_unlock(&reg_lock);
}

/* The slot whose guard page holds addr, or NULL. Async-signal-safe. */
static const slot_t *find_guard(uintptr_t addr)
{
    /* Acquire: pairs with the release in slot_alloc (chunk contents). */
    for (chunk_t *c = rill__load(&reg_chunks, RILL_ACQUIRE); c;
         c = rill__load(&c->next, RILL_RELAXED)) {
        for (size_t i = 0; i < SLOTS_PER_CHUNK; i++) {
            const slot_t *s = &c->slots[i];
            /* Acquire: pairs with the release in slot_publish. */
            uintptr_t hi = rill__load(&s->guard_hi, RILL_ACQUIRE);
            if (hi && addr < hi &&
                addr >= rill__load(&s->guard_lo, RILL_RELAXED))
                return s;
        }
    }
    return NULL;
}

/* ------------------------------------------------------------------------ */
/* Mapping one stack                                                         */
/* ------------------------------------------------------------------------ */

/* Map a stack of `size` usable bytes (a page multiple). */
static int stack_map(size_t size, rill__stack_t **out)
{
    size_t guard = page_size();
    rill__stack_t *s = rill__malloc(sizeof *s);
    if (!s)
        return RILL_ENOMEM;
    char *m =
        mmap(NULL, guard + size, PROT_READ | PROT_WRITE,
             MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_STACK, -1, 0);
    if (m == MAP_FAILED)
        goto free_struct;
    if (mprotect(m, guard, PROT_NONE) != 0)
        goto unmap;
    s->slot = slot_alloc();
    if (!s->slot)
        goto unmap;
    s->lo = m + guard;
    s->size = size;
    s->next = NULL;
    /* ASan keeps shadow across munmap: a stack of ours that lay here
     * before may have left poison. */
    RILL__ASAN_UNPOISON(s->lo, size);
    slot_publish(s->slot, (uintptr_t)m, (uintptr_t)s->lo, size);
#if RILL__VALGRIND
    s->valgrind_id = VALGRIND_STACK_REGISTER(s->lo, m + guard + size);
#else
    s->valgrind_id = 0;
#endif
    *out = s;
    return 0;

unmap:
    munmap(m, guard + size);
free_struct:
    rill__free(s);
    return RILL_ENOMEM;
}

static void stack_unmap(rill__stack_t *s)
{
    size_t guard = page_size();
#if RILL__VALGRIND
    VALGRIND_STACK_DEREGISTER(s->valgrind_id);
#endif
    slot_free(s->slot);
    /* Leave no poison for whatever is mapped here next. */
    RILL__ASAN_UNPOISON(s->lo, s->size);
    munmap((char *)s->lo - guard, guard + s->size);
    rill__free(s);
}

/* ------------------------------------------------------------------------ */
/* The pool                                                                  */
/* ------------------------------------------------------------------------ */

struct rill__stack_pool {
    pthread_mutex_t lock;
    size_t stack_size;    /* usable bytes per stack; immutable */
    rill__stack_t *idle;  /* LIFO of idle stacks, under lock */
    size_t n_idle;        /* length of idle, under lock */
    _Atomic size_t n_out; /* stacks handed out, not yet put back */
};

int rill__stack_pool_new(rill__stack_pool_t **pool, size_t stack_size)
{
    if (!pool)
        return RILL_EINVAL;
    size_t size = round_to_pages(stack_size);
    if (!size)
        return RILL_EINVAL;
    rill__stack_pool_t *p = rill__calloc(1, sizeof *p);
    if (!p)
        return RILL_ENOMEM;
    if (pthread_mutex_init(&p->lock, NULL) != 0) {
        rill__free(p);
        return RILL_ENOMEM;
    }
    p->stack_size = size;
    *pool = p;
    return 0;
}

int rill__stack_get(rill__stack_pool_t *pool, size_t size, rill__stack_t **out)
{
    if (!pool || !out)
        return RILL_EINVAL;
    size_t want = size ? round_to_pages(size) : pool->stack_size;
    if (!want)
        return RILL_EINVAL;
    rill__stack_t *s = NULL;
    if (want == pool->stack_size) {
        pthread_mutex_lock(&pool->lock);
        s = pool->idle;
        if (s) {
            pool->idle = s->next;
            pool->n_idle--;
        }
        pthread_mutex_unlock(&pool->lock);
    }
    if (!s) {
        int rc = stack_map(want, &s);
        if (rc)
            return rc;
    }
    s->next = NULL;
    /* Relaxed: a count for the debug check in pool_free, which runs after
     * every user has joined. */
    rill__fetch_add(&pool->n_out, 1, RILL_RELAXED);
    *out = s;
    return 0;
}

void rill__stack_put(rill__stack_pool_t *pool, rill__stack_t *s)
{
    if (!s)
        return;
    RILL_ASSERT(pool);
    rill__stack_set_owner(s, 0, NULL);
    /* The next owner gets the stack clean even if it does not run a fiber
     * on it (the last fiber's frames never returned). */
    RILL__ASAN_UNPOISON(s->lo, s->size);
    /* Relaxed: see rill__stack_get. */
    rill__fetch_sub(&pool->n_out, 1, RILL_RELAXED);
    if (s->size == pool->stack_size) {
        pthread_mutex_lock(&pool->lock);
        if (pool->n_idle < RILL__STACK_POOL_MAX) {
            s->next = pool->idle;
            pool->idle = s;
            pool->n_idle++;
            s = NULL;
        }
        pthread_mutex_unlock(&pool->lock);
    }
    if (s)
        stack_unmap(s);
}

void rill__stack_pool_free(rill__stack_pool_t *pool)
{
    if (!pool)
        return;
    RILL_ASSERT(rill__load(&pool->n_out, RILL_RELAXED) == 0);
    rill__stack_t *s = pool->idle;
    while (s) {
        rill__stack_t *next = s->next;
        stack_unmap(s);
        s = next;
    }
    pthread_mutex_destroy(&pool->lock);
    rill__free(pool);
}

size_t rill__stack_pool_idle(rill__stack_pool_t *pool)
{
    pthread_mutex_lock(&pool->lock);
    size_t n = pool->n_idle;
    pthread_mutex_unlock(&pool->lock);
    return n;
}

void rill__stack_set_owner(rill__stack_t *s, uint64_t task_id, const char *name)
{
    slot_t *slot = s->slot;
    /* Relaxed: the scheduler's hand-off of the task orders this before
     * any fault on the stack (see the header). */
    rill__store(&slot->task_id, task_id, RILL_RELAXED);
    size_t n = name ? strnlen(name, RILL__STACK_NAME_MAX) : 0;
    memcpy(slot->name, name ? name : "", n);
    slot->name[n] = '\0';
}

/* ------------------------------------------------------------------------ */
/* The overflow handler                                                      */
/* ------------------------------------------------------------------------ */

static pthread_mutex_t install_lock = PTHREAD_MUTEX_INITIALIZER;
static bool installed; /* under install_lock */
/* The handlers found at install time, for faults that are not ours.
 * Written before ours is installed, read-only afterwards. */
static struct sigaction old_segv, old_bus;

/* Append text to buf (bounded by end); async-signal-safe. */
static char *put_str(char *p, char *end, const char *s)
{
    while (*s && p < end)
        *p++ = *s++;
    return p;
}

static char *put_u64(char *p, char *end, uint64_t v)
{
    char digits[24];
    size_t n = 0;
    do {
        digits[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    while (n && p < end)
        *p++ = digits[--n];
    return p;
}

static void report_overflow(const slot_t *s)
{
    char buf[160];
    char *end = buf + sizeof buf - 1, *p = buf;
    p = put_str(p, end, "rill: stack overflow in task ");
    p = put_u64(p, end, rill__load(&s->task_id, RILL_RELAXED));
    p = put_str(p, end, " '");
    p = put_str(p, end, s->name);
    p = put_str(p, end, "' (stack ");
    p = put_u64(p, end, rill__load(&s->size, RILL_RELAXED));
    p = put_str(p, end, " bytes)\n");
    for (const char *q = buf; q < p;) {
        ssize_t w = write(STDERR_FILENO, q, (size_t)(p - q));
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            break;
        q += w;
    }
}

/* Die of sig as if no handler had been installed. The signal is blocked
 * while its handler runs, so raise leaves it pending; it is delivered,
 * with the default action, as soon as the handler returns. */
static void die_by_default(int sig)
{
    struct sigaction dfl;
    memset(&dfl, 0, sizeof dfl);
    dfl.sa_handler = SIG_DFL;
    sigemptyset(&dfl.sa_mask);
    sigaction(sig, &dfl, NULL);
    raise(sig);
}

static void on_fault(int sig, siginfo_t *si, void *uctx)
{
    int saved_errno = errno;
    const slot_t *s = find_guard((uintptr_t)si->si_addr);
    if (s) {
        report_overflow(s);
        die_by_default(sig);
    } else {
        const struct sigaction *old = sig == SIGBUS ? &old_bus : &old_segv;
        if (old->sa_flags & SA_SIGINFO)
            old->sa_sigaction(sig, si, uctx);
        else if (old->sa_handler != SIG_DFL && old->sa_handler != SIG_IGN)
            old->sa_handler(sig);
        else /* a fault cannot be ignored: it would recur forever */
            die_by_default(sig);
    }
    errno = saved_errno;
}

int rill__stack_overflow_install(void)
{
    int rc = 0;
    pthread_mutex_lock(&install_lock);
    if (installed)
        goto unlock;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_fault;
    sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
    sigemptyset(&sa.sa_mask);
    /* Read the old handlers before ours can run and look at them. */
    if (sigaction(SIGSEGV, NULL, &old_segv) != 0 ||
        sigaction(SIGBUS, NULL, &old_bus) != 0)
        goto fail;
    if (sigaction(SIGSEGV, &sa, NULL) != 0)
        goto fail;
    if (sigaction(SIGBUS, &sa, NULL) != 0)
        goto restore_segv;
    installed = true;
    goto unlock;

restore_segv:
    sigaction(SIGSEGV, &old_segv, NULL);
fail:
    rc = RILL_ESYS;
unlock:
    pthread_mutex_unlock(&install_lock);
    return rc;
}

/* The calling thread's alternate signal stack, if this file made it.
 * Thread-local is right here: it belongs to the OS thread, and these two
 * calls run on the thread's own stack, never in a migrating fiber. */
static _Thread_local void *alt_stack;
static _Thread_local size_t alt_size;

int rill__stack_thread_init(void)
{
    if (alt_stack)
        return 0;
    stack_t cur;
    if (sigaltstack(NULL, &cur) != 0)
        return RILL_ESYS;
    if (!(cur.ss_flags & SS_DISABLE))
        return 0; /* the thread has one already (ASan makes its own) */
    /* 64 KiB: the handler needs little, but signal frames with large
     * vector state and sanitizer-instrumented code need more than
     * MINSIGSTKSZ. */
    size_t size = (size_t)64 << 10;
#ifdef _SC_SIGSTKSZ
    long min = sysconf(_SC_SIGSTKSZ);
    if (min > 0 && (size_t)min * 4 > size)
        size = round_to_pages((size_t)min * 4);
#endif
    void *m = mmap(NULL, size, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
    if (m == MAP_FAILED)
        return RILL_ENOMEM;
    stack_t ss = {.ss_sp = m, .ss_size = size, .ss_flags = 0};
    if (sigaltstack(&ss, NULL) != 0) {
        munmap(m, size);
        return RILL_ESYS;
    }
    alt_stack = m;
    alt_size = size;
    return 0;
}

void rill__stack_thread_fini(void)
{
    if (!alt_stack)
        return;
    stack_t ss = {.ss_sp = NULL, .ss_size = 0, .ss_flags = SS_DISABLE};
    sigaltstack(&ss, NULL);
    munmap(alt_stack, alt_size);
    alt_stack = NULL;
    alt_size = 0;
}
