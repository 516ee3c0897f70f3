/* SPDX-License-Identifier: MIT */
/*
 * rill_model.h - the model-checking side of the seam in src/core/atomic.h.
 *
 * The model tests (tests/model) compile rill's own C sources with
 * RILL_MODEL defined. atomic.h then includes this header instead of
 * defining its operations on <stdatomic.h>: every rill__load, rill__store,
 * rill__xchg, rill__fetch_*, rill__cas and rill__fence becomes a call into
 * model_rt.cpp, which performs it on a relacy atomic (a "shadow" kept per
 * address) with the same memory order. Relacy runs the test's threads as
 * fibers, switches between them at every such call, and lets each load
 * return any value the C11 memory model allows it to see, so the orderings
 * rill relies on (seq_cst fences and store-buffering pairs included, which
 * ThreadSanitizer does not model) are what the checker explores.
 *
 * The shadows work on the memory as it is: an atomic first touched by the
 * model takes the value its bytes hold (zeroed by calloc, written by a
 * struct initializer), and every model store writes the newest value back,
 * so plain reads elsewhere see what a real run would.
 *
 * What else a model build maps (this header is included before any of
 * rill's code in a model build, by atomic.h):
 *   - pthread_mutex_lock/unlock: a relacy mutex per address, so a fiber
 *     that blocks on a mutex lets the others run (and a deadlock is one);
 *   - pthread_getspecific and friends: one value per model thread;
 *   - sched_yield and rill__cpu_relax: a relacy yield (a spin loop tells
 *     the scheduler to run someone else);
 *   - rill__futex_wait/wake and rill__mono_now (futex.c is not built):
 *     a relacy futex on the word's shadow. A thread that waits with no one
 *     left to wake it is a deadlock, which relacy reports with the history
 *     that led to it: a lost wakeup.
 */
#ifndef RILL_MODEL_H
#define RILL_MODEL_H

/* The system headers the macros below rename things from, first, so that
 * their declarations are not renamed. */
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

enum {
    RILL__MODEL_XCHG,
    RILL__MODEL_ADD,
    RILL__MODEL_SUB,
    RILL__MODEL_OR,
    RILL__MODEL_AND
};

/* The atomic operations on the object of `size` bytes at p; values travel
 * as uint64_t (zero-extended), memory orders as C11 memory_order. */
uint64_t rill__model_load(const volatile void *p, unsigned size, int mo,
                          const char *file, int line);
void rill__model_store(volatile void *p, unsigned size, uint64_t v, int mo,
                       const char *file, int line);
uint64_t rill__model_rmw(volatile void *p, unsigned size, int op, uint64_t v,
                         int mo, const char *file, int line);
/* *expected is `size` bytes; on failure it gets the value seen. */
bool rill__model_cas(volatile void *p, unsigned size, void *expected,
                     uint64_t desired, int mo_ok, int mo_fail, bool weak,
                     const char *file, int line);
void rill__model_fence(int mo, const char *file, int line);
/* A spin loop's pause: let another thread run. Returns 0 (sched_yield). */
int rill__model_yield(const char *file, int line);
int rill__model_mutex_lock(void *m, const char *file, int line);
int rill__model_mutex_unlock(void *m, const char *file, int line);
/* pthread keys: one value per model thread (every fiber of a relacy run
 * shares one OS thread); the destructors run when the iteration ends. */
int rill__model_key_create(pthread_key_t *k, void (*dtor)(void *));
void *rill__model_getspecific(pthread_key_t k);
int rill__model_setspecific(pthread_key_t k, const void *v);

/* For the harnesses: fail the current run (relacy prints its history)
 * unless ok. */
void rill__model_check(bool ok, const char *what, const char *file, int line);
/* The model thread running (0 .. threads - 1). */
unsigned rill__model_thread(void);
/* Forget the shadows of [p, p + n) (memory about to be freed or reused
 * for another object). */
void rill__model_forget(const void *p, size_t n);

#ifdef __cplusplus
}
#endif

#ifndef __cplusplus
/* model_rt.cpp maps the orders by these values. */
_Static_assert(memory_order_relaxed == 0 && memory_order_consume == 1 &&
                   memory_order_acquire == 2 && memory_order_release == 3 &&
                   memory_order_acq_rel == 4 && memory_order_seq_cst == 5,
               "C11 memory_order values");
#define RILL__MODEL_AT __FILE__, __LINE__
/* The value type of *p without _Atomic (atomic_load's result type). */
#define RILL__MODEL_T(p)                                                       \
    __typeof__(atomic_load_explicit((p), memory_order_relaxed))
#define RILL__MODEL_V(v) ((uint64_t)(uintptr_t)(v))

#define rill__load(p, mo)                                                      \
    ((RILL__MODEL_T(p))rill__model_load((p), sizeof *(p), (mo), RILL__MODEL_AT))
#define rill__store(p, v, mo)                                                  \
    rill__model_store((p), sizeof *(p), RILL__MODEL_V(v), (mo), RILL__MODEL_AT)
/* A statement expression: a read-modify-write whose result is dropped is
 * not an unused value. */
#define rill__model_rmw_(p, op, v, mo)                                         \
    __extension__({                                                            \
        RILL__MODEL_T(p)                                                       \
        rill__model_r = (RILL__MODEL_T(p))rill__model_rmw(                     \
            (p), sizeof *(p), (op), RILL__MODEL_V(v), (mo), RILL__MODEL_AT);   \
        rill__model_r;                                                         \
    })
#define rill__xchg(p, v, mo) rill__model_rmw_(p, RILL__MODEL_XCHG, v, mo)
#define rill__fetch_add(p, v, mo) rill__model_rmw_(p, RILL__MODEL_ADD, v, mo)
#define rill__fetch_sub(p, v, mo) rill__model_rmw_(p, RILL__MODEL_SUB, v, mo)
#define rill__fetch_or(p, v, mo) rill__model_rmw_(p, RILL__MODEL_OR, v, mo)
#define rill__fetch_and(p, v, mo) rill__model_rmw_(p, RILL__MODEL_AND, v, mo)
#define rill__cas(p, expected, desired, mo_ok, mo_fail)                        \
    rill__model_cas((p), sizeof *(p), (expected), RILL__MODEL_V(desired),      \
                    (mo_ok), (mo_fail), false, RILL__MODEL_AT)
#define rill__cas_weak(p, expected, desired, mo_ok, mo_fail)                   \
    rill__model_cas((p), sizeof *(p), (expected), RILL__MODEL_V(desired),      \
                    (mo_ok), (mo_fail), true, RILL__MODEL_AT)
#define rill__fence(mo) rill__model_fence((mo), RILL__MODEL_AT)
#define rill__cpu_relax() ((void)rill__model_yield(RILL__MODEL_AT))

#define pthread_mutex_lock(m) rill__model_mutex_lock((m), RILL__MODEL_AT)
#define pthread_mutex_unlock(m) rill__model_mutex_unlock((m), RILL__MODEL_AT)
#define sched_yield() rill__model_yield(RILL__MODEL_AT)
#define pthread_key_create(k, dtor) rill__model_key_create((k), (dtor))
#define pthread_getspecific(k) rill__model_getspecific(k)
#define pthread_setspecific(k, v) rill__model_setspecific((k), (v))
#define RILL_MODEL_CHECK(ok) rill__model_check((ok), #ok, RILL__MODEL_AT)
#endif

#endif /* RILL_MODEL_H */
