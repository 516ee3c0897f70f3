/* SPDX-License-Identifier: MIT */
/*
 * test_switch.c - fibers (src/rt/switch.h) and the stack pool
 * (src/rt/stack.h): ping-pong, exit and stack reuse, registers and FP
 * control state kept per fiber, migration between threads, pool reuse and
 * concurrency, and the stack overflow report.
 *
 * cmocka's assert_* must not run inside a fiber (a failed assertion
 * longjmps back to the runner's stack behind the sanitizers' backs), so
 * fiber bodies record failures with CHECK and the test asserts the count
 * once it is back on its own stack.
 */
#include "test_util.h"
#include "core/atomic.h"
#include "core/core.h"
#include "rt/stack.h"
#include "rt/switch.h"
#include <rill.h>

#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#if defined(__has_include)
#if __has_include(<valgrind/valgrind.h>)
#include <valgrind/valgrind.h>
#endif
#endif
#ifndef RUNNING_ON_VALGRIND
#define RUNNING_ON_VALGRIND 0
#endif

#define STACK_SIZE ((size_t)64 << 10)

/* ---- failures inside fibers ---- */
static _Atomic int fiber_failures;
static _Atomic int first_failed_line;

#define CHECK(cond)                                                            \
    do {                                                                       \
        if (!(cond)) {                                                         \
            int zero_ = 0;                                                     \
            rill__cas(&first_failed_line, &zero_, __LINE__, RILL_RELAXED,      \
                      RILL_RELAXED);                                           \
            rill__fetch_add(&fiber_failures, 1, RILL_RELAXED);                 \
        }                                                                      \
    } while (0)

static void assert_no_fiber_failures(void)
{
    int n = rill__xchg(&fiber_failures, 0, RILL_RELAXED);
    int line = rill__xchg(&first_failed_line, 0, RILL_RELAXED);
    if (n)
        fail_msg("%d CHECKs failed in fibers, first at line %d", n, line);
}

/* ---- every test leaves no fiber failure behind (and, through
 * test_run, no allocation) ---- */
static int check_clean(void **state)
{
    (void)state;
    assert_no_fiber_failures();
    return 0;
}

/* ---- a pool and the stacks one test runs its fibers on ---- */
typedef struct {
    rill__stack_pool_t *pool;
    rill__stack_t *s[2];
    int n;
} stacks_t;

static void stacks_get(stacks_t *st, int n)
{
    st->n = n;
    assert_status(rill__stack_pool_new(&st->pool, STACK_SIZE), 0);
    for (int i = 0; i < n; i++)
        assert_status(rill__stack_get(st->pool, 0, &st->s[i]), 0);
}

static void stacks_put(stacks_t *st)
{
    for (int i = 0; i < st->n; i++)
        rill__stack_put(st->pool, st->s[i]);
    rill__stack_pool_free(st->pool);
}

/* ---- ping-pong ---- */
typedef struct {
    rill__fiber_t main, a, b;
    long rounds;
    long count; /* incremented by each side in turn */
    int turn;   /* 0: a's move, 1: b's move */
} pingpong_t;

static void ping(void *arg)
{
    pingpong_t *p = arg;
    for (long i = 0; i < p->rounds; i++) {
        CHECK(p->turn == 0 && p->count == 2 * i);
        p->count++;
        p->turn = 1;
        rill__fiber_switch(&p->a, &p->b);
    }
    /* b is suspended in its last switch: let it finish. */
    rill__fiber_exit(&p->a, &p->b);
}

static void pong(void *arg)
{
    pingpong_t *p = arg;
    for (long i = 0; i < p->rounds; i++) {
        CHECK(p->turn == 1 && p->count == 2 * i + 1);
        p->count++;
        p->turn = 0;
        rill__fiber_switch(&p->b, &p->a);
    }
    rill__fiber_exit(&p->b, &p->main);
}

static void test_ping_pong(void **state)
{
    (void)state;
    stacks_t st;
    stacks_get(&st, 2);
    pingpong_t p = {.rounds = SCALE(1000000, 10)};
    rill__fiber_init_thread(&p.main);
    rill__fiber_init(&p.a, st.s[0]->lo, st.s[0]->size, ping, &p);
    rill__fiber_init(&p.b, st.s[1]->lo, st.s[1]->size, pong, &p);
    rill__fiber_switch(&p.main, &p.a);
    assert_no_fiber_failures();
    assert_int_equal(p.count, 2 * p.rounds);

    rill__fiber_destroy(&p.a);
    rill__fiber_destroy(&p.b);
    rill__fiber_destroy(&p.main);
    stacks_put(&st);
}

/* ---- exit, then a new fiber on the same stack ---- */
typedef struct {
    rill__fiber_t main, f;
    long arg_seen;
    long runs;
} reuse_t;

static void run_once(void *arg)
{
    reuse_t *r = arg;
    /* Use some stack, so a stale frame from the last run would show. */
    volatile unsigned char scratch[2048];
    for (size_t i = 0; i < sizeof scratch; i++)
        scratch[i] = (unsigned char)(r->runs + (long)i);
    CHECK(scratch[100] == (unsigned char)(r->runs + 100));
    r->arg_seen = r->runs;
    rill__fiber_exit(&r->f, &r->main);
}

static void test_exit_and_reuse(void **state)
{
    (void)state;
    stacks_t st;
    stacks_get(&st, 1);
    reuse_t r = {0};
    rill__fiber_init_thread(&r.main);
    for (r.runs = 0; r.runs < 10000; r.runs++) {
        r.arg_seen = -1;
        rill__fiber_init(&r.f, st.s[0]->lo, st.s[0]->size, run_once, &r);
        rill__fiber_switch(&r.main, &r.f);
        assert_int_equal(r.arg_seen, r.runs);
        rill__fiber_destroy(&r.f);
    }
    rill__fiber_destroy(&r.main);
    stacks_put(&st);
}

/* ---- registers and FP control state survive switches ---- */

/* Rounding modes, set in both the SSE and the x87 unit on x86-64, in FPCR
 * on aarch64. Done by hand: fesetround lives in libm. */
enum { ROUND_NEAREST, ROUND_UP, ROUND_DOWN };

#if defined(__x86_64__)
static void set_round(int mode)
{
    static const unsigned sse[] = {0u << 13, 2u << 13, 1u << 13};
    static const unsigned short x87[] = {0u << 10, 2u << 10, 1u << 10};
    unsigned csr = __builtin_ia32_stmxcsr();
    __builtin_ia32_ldmxcsr((csr & ~(3u << 13)) | sse[mode]);
    unsigned short cw;
    __asm__ __volatile__("fnstcw %0" : "=m"(cw));
    cw = (unsigned short)((cw & ~(3u << 10)) | x87[mode]);
    __asm__ __volatile__("fldcw %0" : : "m"(cw));
}
static int get_round(void)
{
    unsigned sse = (__builtin_ia32_stmxcsr() >> 13) & 3;
    unsigned short cw;
    __asm__ __volatile__("fnstcw %0" : "=m"(cw));
    unsigned x87 = (cw >> 10) & 3u;
    if (sse != x87)
        return -1;
    return sse == 0   ? ROUND_NEAREST
           : sse == 2 ? ROUND_UP
           : sse == 1 ? ROUND_DOWN
                      : -1;
}
#elif defined(__aarch64__)
static void set_round(int mode)
{
    static const unsigned long rmode[] = {0ul << 22, 1ul << 22, 2ul << 22};
    unsigned long fpcr;
    __asm__ __volatile__("mrs %0, fpcr" : "=r"(fpcr));
    fpcr = (fpcr & ~(3ul << 22)) | rmode[mode];
    __asm__ __volatile__("msr fpcr, %0" : : "r"(fpcr));
}
static int get_round(void)
{
    unsigned long fpcr;
    __asm__ __volatile__("mrs %0, fpcr" : "=r"(fpcr));
    unsigned m = (unsigned)(fpcr >> 22) & 3u;
    return m == 0   ? ROUND_NEAREST
           : m == 1 ? ROUND_UP
           : m == 2 ? ROUND_DOWN
                    : -1;
}
#else
static void set_round(int mode)
{
    (void)mode;
}
static int get_round(void)
{
    return ROUND_NEAREST;
}
#endif

typedef struct work {
    rill__fiber_t self;
    rill__fiber_t *peer, *exit_to;
    int mode;
    int rounds;
    uint64_t seed;
    uint64_t iresult;
    double fresult;
} work_t;

static void yield_to_peer(work_t *w)
{
    rill__fiber_switch(&w->self, w->peer);
}
static void yield_none(work_t *w)
{
    (void)w;
}

/* Many integer and FP values live across each yield: the compiler keeps
 * them in callee-saved registers (or spills them), and the peer fiber runs
 * the same code with other values meanwhile. */
static void work_run(work_t *w, void (*yield)(work_t *))
{
    volatile double one = 1.0, seven = 7.0;
    set_round(w->mode);
    uint64_t r0 = w->seed, r1 = r0 * 3 + 1, r2 = r1 ^ 0x5555, r3 = r2 + r0,
             r4 = r3 * 7, r5 = r4 ^ r1, r6 = r5 + 11, r7 = r6 * r2;
    double f0 = (double)(w->seed % 1000) + 0.5, f1 = f0 / 3.0, f2 = f1 * f1,
           f3 = -f2;
    for (int i = 0; i < w->rounds; i++) {
        yield(w);
        CHECK(get_round() == w->mode);
        r0 = r0 * 6364136223846793005u + r1;
        r1 ^= r0 >> 7;
        r2 += r1 * r3;
        r3 ^= r2 << 3;
        r4 += r3 ^ r5;
        r5 = (r5 << 1) ^ r6;
        r6 += r7 + (uint64_t)i;
        r7 ^= r4 >> 5;
        f0 = f0 * 1.0000001 + one / (i + 3.0);
        f1 = f1 - f0 / seven;
        f2 = f2 * 0.999 + f1 / (f0 + one);
        f3 = f3 + one / (f2 * f2 + 3.0);
    }
    w->iresult = r0 ^ r1 ^ r2 ^ r3 ^ r4 ^ r5 ^ r6 ^ r7;
    w->fresult = f0 + f1 + f2 + f3;
    set_round(ROUND_NEAREST);
}

static void work_fiber(void *arg)
{
    work_t *w = arg;
    work_run(w, yield_to_peer);
    rill__fiber_exit(&w->self, w->exit_to);
}

static void test_registers_and_fp(void **state)
{
    (void)state;
    stacks_t st;
    stacks_get(&st, 2);
    const int rounds = SCALE(20000, 10);

    work_t ref_a = {.mode = ROUND_UP, .rounds = rounds, .seed = 12345};
    work_t ref_b = {.mode = ROUND_DOWN, .rounds = rounds, .seed = 987654321};
    work_run(&ref_a, yield_none);
    work_run(&ref_b, yield_none);

    rill__fiber_t main_f;
    rill__fiber_init_thread(&main_f);
    work_t a = ref_a, b = ref_b;
    a.peer = &b.self;
    a.exit_to = &b.self; /* a finishes first; b is still in its last yield */
    b.peer = &a.self;
    b.exit_to = &main_f;
    rill__fiber_init(&a.self, st.s[0]->lo, st.s[0]->size, work_fiber, &a);
    rill__fiber_init(&b.self, st.s[1]->lo, st.s[1]->size, work_fiber, &b);
    rill__fiber_switch(&main_f, &a.self);

    assert_no_fiber_failures();
    assert_int_equal(get_round(), ROUND_NEAREST);
    assert_true(a.iresult == ref_a.iresult);
    assert_true(b.iresult == ref_b.iresult);
    assert_memory_equal(&a.fresult, &ref_a.fresult, sizeof(double));
    assert_memory_equal(&b.fresult, &ref_b.fresult, sizeof(double));
    /* The modes really differed, so the check above means something
     * (except under valgrind, whose SSE emulation ignores them). */
    work_t up = {.mode = ROUND_UP, .rounds = 100, .seed = 1};
    work_t down = {.mode = ROUND_DOWN, .rounds = 100, .seed = 1};
    work_run(&up, yield_none);
    work_run(&down, yield_none);
    if (!RUNNING_ON_VALGRIND)
        assert_true(up.fresult != down.fresult);

    rill__fiber_destroy(&a.self);
    rill__fiber_destroy(&b.self);
    rill__fiber_destroy(&main_f);
    stacks_put(&st);
}

/* ---- migration: a fiber resumed alternately by two threads ---- */
typedef struct {
    rill__fiber_t fib;
    /* The resuming thread's fiber and id, set by it before each resume. */
    rill__fiber_t *sched;
    pid_t resumer;
    int rounds;       /* the fiber switches back this often, then exits */
    int left;         /* resumptions to go, counted by the threads */
    _Atomic int turn; /* which thread resumes next (0 or 1); 2: finished */
    pid_t tids[2];
    int migrations;
} migrate_t;

static void migrate_body(void *arg)
{
    migrate_t *m = arg;
    long marker = 0x5eed;
    double d = 2.25;
    pid_t last = gettid();
    for (int i = 0; i < m->rounds; i++) {
        rill__fiber_switch(&m->fib, m->sched);
        /* gettid, not pthread_self: glibc declares pthread_self const, so
         * a compiler may reuse the value read before the switch, the very
         * hazard migration brings. */
        pid_t now = gettid();
        CHECK(now == m->resumer);
        if (now != last)
            m->migrations++;
        last = now;
        CHECK(marker == 0x5eed + i && d == 2.25 + i);
        marker++;
        d += 1.0;
    }
    rill__fiber_exit(&m->fib, m->sched);
}

typedef struct {
    migrate_t *m;
    int me;
} migrate_arg_t;

static void *migrate_thread(void *arg)
{
    migrate_arg_t *a = arg;
    migrate_t *m = a->m;
    rill__fiber_t self;
    rill__fiber_init_thread(&self);
    m->tids[a->me] = gettid();
    for (;;) {
        int t;
        /* Acquire: pairs with the release below on the other thread, so
         * this thread sees the fiber's context as the other left it. */
        while ((t = rill__load(&m->turn, RILL_ACQUIRE)) != a->me && t != 2)
            sched_yield();
        if (t == 2)
            break;
        m->sched = &self;
        m->resumer = gettid();
        rill__fiber_switch(&self, &m->fib);
        int next = --m->left > 0 ? 1 - a->me : 2;
        /* Release: publishes the fiber's saved context (partner above). */
        rill__store(&m->turn, next, RILL_RELEASE);
    }
    rill__fiber_destroy(&self);
    return NULL;
}

static void test_migration(void **state)
{
    (void)state;
    stacks_t st;
    stacks_get(&st, 1);
    const int rounds = SCALE(2000, 4);
    migrate_t m = {.rounds = rounds, .left = rounds + 1};
    rill__fiber_init(&m.fib, st.s[0]->lo, st.s[0]->size, migrate_body, &m);
    /* The fiber is created here and first runs on thread 0. */
    migrate_arg_t args[2] = {{&m, 0}, {&m, 1}};
    pthread_t th[2];
    for (int i = 0; i < 2; i++)
        assert_int_equal(pthread_create(&th[i], NULL, migrate_thread, &args[i]),
                         0);
    for (int i = 0; i < 2; i++)
        pthread_join(th[i], NULL);
    assert_no_fiber_failures();
    assert_int_equal(rill__load(&m.turn, RILL_RELAXED), 2);
    assert_true(m.tids[0] != m.tids[1]);
    /* It resumed on the other thread every time. */
    assert_int_equal(m.migrations, rounds);
    rill__fiber_destroy(&m.fib);
    stacks_put(&st);
}

/* ---- the stack pool ---- */
static void test_pool_reuse(void **state)
{
    (void)state;
    rill__stack_pool_t *pool;
    rill__stack_t *s, *t, *u;
    assert_status(rill__stack_pool_new(NULL, STACK_SIZE), RILL_EINVAL);
    assert_status(rill__stack_pool_new(&pool, 0), RILL_EINVAL);
    assert_status(rill__stack_pool_new(&pool, (size_t)4 << 30), RILL_EINVAL);
    assert_status(rill__stack_pool_new(&pool, 10000), 0);
    assert_status(rill__stack_get(pool, 0, NULL), RILL_EINVAL);

    /* Sizes round up to pages; the whole usable range is writable. */
    assert_status(rill__stack_get(pool, 0, &s), 0);
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    assert_true(s->size >= 10000 && s->size % page == 0);
    assert_true((uintptr_t)s->lo % page == 0);
    memset(s->lo, 0xab, s->size);

    /* LIFO reuse, for the pool's size asked as 0 or by value. */
    rill__stack_put(pool, s);
    assert_int_equal(rill__stack_pool_idle(pool), 1);
    assert_status(rill__stack_get(pool, 10000, &t), 0);
    assert_ptr_equal(t, s);
    assert_int_equal(rill__stack_pool_idle(pool), 0);
    assert_int_equal(((unsigned char *)t->lo)[0], 0xab); /* kept resident */

    /* Another size: a fresh mapping, unmapped on put, never pooled. */
    assert_status(rill__stack_get(pool, 3 * STACK_SIZE, &u), 0);
    assert_true(u != t && u->size == 3 * STACK_SIZE);
    memset(u->lo, 1, u->size);
    rill__stack_put(pool, u);
    assert_int_equal(rill__stack_pool_idle(pool), 0);
    rill__stack_put(pool, t);
    rill__stack_put(pool, NULL);

    /* The pool keeps at most RILL__STACK_POOL_MAX idle stacks. */
    enum { N = RILL__STACK_POOL_MAX + 8 };
    static rill__stack_t *many[N];
    for (int i = 0; i < N; i++)
        assert_status(rill__stack_get(pool, 0, &many[i]), 0);
    for (int i = 0; i < N; i++)
        rill__stack_put(pool, many[i]);
    assert_int_equal(rill__stack_pool_idle(pool), RILL__STACK_POOL_MAX);
    rill__stack_pool_free(pool);
    rill__stack_pool_free(NULL);
}

typedef struct {
    rill__stack_pool_t *pool;
    int iters;
    uint32_t id;
    int errors;
} churn_t;

/* Each thread holds two stacks at a time, stamps them, and checks that no
 * other thread stamped over them before it gives them back. */
static void *churn(void *arg)
{
    churn_t *c = arg;
    for (int i = 0; i < c->iters; i++) {
        rill__stack_t *s[2];
        size_t size = i % 64 == 63 ? 2 * STACK_SIZE : 0;
        if (rill__stack_get(c->pool, size, &s[0]) ||
            rill__stack_get(c->pool, 0, &s[1])) {
            c->errors++;
            return NULL;
        }
        uint32_t stamp = c->id << 24 | (uint32_t)i;
        for (int k = 0; k < 2; k++) {
            uint32_t *lo = s[k]->lo;
            lo[0] = stamp;
            lo[s[k]->size / sizeof *lo - 1] = stamp + (uint32_t)k;
        }
        sched_yield();
        for (int k = 0; k < 2; k++) {
            uint32_t *lo = s[k]->lo;
            if (lo[0] != stamp ||
                lo[s[k]->size / sizeof *lo - 1] != stamp + (uint32_t)k)
                c->errors++;
        }
        rill__stack_put(c->pool, s[1]);
        rill__stack_put(c->pool, s[0]);
    }
    return NULL;
}

static void test_pool_concurrent(void **state)
{
    (void)state;
    enum { THREADS = 4 };
    rill__stack_pool_t *pool;
    assert_status(rill__stack_pool_new(&pool, STACK_SIZE), 0);
    churn_t c[THREADS];
    pthread_t th[THREADS];
    for (uint32_t i = 0; i < THREADS; i++) {
        c[i] = (churn_t){pool, SCALE(20000, 10), i + 1, 0};
        assert_int_equal(pthread_create(&th[i], NULL, churn, &c[i]), 0);
    }
    for (int i = 0; i < THREADS; i++) {
        pthread_join(th[i], NULL);
        assert_int_equal(c[i].errors, 0);
    }
    assert_true(rill__stack_pool_idle(pool) <= 2 * THREADS);
    rill__stack_pool_free(pool);
}

/* ---- stack overflow: a child process recurses into the guard page ---- */
static volatile int depth_limit = 1 << 30;

static int __attribute__((noinline)) recurse(int n)
{
    volatile char pad[256];
    pad[0] = (char)n;
    if (n == depth_limit)
        return pad[0];
    return recurse(n + 1) + pad[0];
}

static rill__fiber_t deep_main, deep_fiber;

static void deep_body(void *arg)
{
    (void)arg;
    recurse(0);
    rill__fiber_exit(&deep_fiber, &deep_main);
}

static void __attribute__((noreturn)) overflow_child(int err_fd)
{
    struct rlimit no_core = {0, 0};
    setrlimit(RLIMIT_CORE, &no_core); /* the crash is expected */
    dup2(err_fd, STDERR_FILENO);
    rill__stack_pool_t *pool;
    rill__stack_t *s;
    if (rill__stack_overflow_install() || rill__stack_overflow_install() ||
        rill__stack_thread_init() || rill__stack_pool_new(&pool, STACK_SIZE) ||
        rill__stack_get(pool, 0, &s))
        _exit(3);
    rill__stack_set_owner(s, 7, "deep");
    rill__fiber_init_thread(&deep_main);
    rill__fiber_init(&deep_fiber, s->lo, s->size, deep_body, NULL);
    rill__fiber_switch(&deep_main, &deep_fiber);
    _exit(4); /* the recursion came back: no overflow */
}

static void test_stack_overflow(void **state)
{
    (void)state;
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        close(fds[0]);
        overflow_child(fds[1]);
    }
    close(fds[1]);
    char buf[4096];
    size_t len = 0;
    ssize_t n;
    while (len < sizeof buf - 1 &&
           (n = read(fds[0], buf + len, sizeof buf - 1 - len)) > 0)
        len += (size_t)n;
    buf[len] = '\0';
    close(fds[0]);
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    if (!WIFSIGNALED(status))
        fail_msg("child exited with %d, stderr: %s", WEXITSTATUS(status), buf);
    assert_int_equal(WTERMSIG(status), SIGSEGV);
    char want[96];
    snprintf(want, sizeof want,
             "rill: stack overflow in task 7 'deep' (stack %zu bytes)\n",
             STACK_SIZE);
    if (!strstr(buf, want))
        fail_msg("stderr lacks the report: %s", buf);
}

/* Faults outside any guard page still reach the handler installed before
 * (here a test one that jumps back out). */
static sigjmp_buf chain_jmp;
/* volatile: the compiler must not see (and reject) the bad address. */
static int *volatile bad_address;

static volatile sig_atomic_t chained;

static void chain_handler(int sig)
{
    (void)sig;
    chained = 1;
    siglongjmp(chain_jmp, 1);
}

static void test_overflow_handler_chains(void **state)
{
    (void)state;
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        /* In a child, so the handlers installed here stay here. */
        close(fds[0]);
        struct sigaction sa;
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = chain_handler;
        sigemptyset(&sa.sa_mask);
        sa.sa_flags = SA_NODEFER;
        sigaction(SIGSEGV, &sa, NULL);
        if (rill__stack_overflow_install() || rill__stack_thread_init())
            _exit(3);
        bad_address =
            mmap(NULL, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (sigsetjmp(chain_jmp, 1) == 0)
            *bad_address = 1;
        rill__stack_thread_fini();
        _exit(chained ? 0 : 5);
    }
    close(fds[1]);
    close(fds[0]);
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
}

static void test_thread_init_fini(void **state)
{
    (void)state;
    assert_status(rill__stack_thread_init(), 0);
    assert_status(rill__stack_thread_init(), 0); /* idempotent */
    rill__stack_thread_fini();
    rill__stack_thread_fini();
    rill__fiber_destroy(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_stack_overflow, check_clean),
        cmocka_unit_test_teardown(test_overflow_handler_chains, check_clean),
        cmocka_unit_test_teardown(test_ping_pong, check_clean),
        cmocka_unit_test_teardown(test_exit_and_reuse, check_clean),
        cmocka_unit_test_teardown(test_registers_and_fp, check_clean),
        cmocka_unit_test_teardown(test_migration, check_clean),
        cmocka_unit_test_teardown(test_pool_reuse, check_clean),
        cmocka_unit_test_teardown(test_pool_concurrent, check_clean),
        cmocka_unit_test_teardown(test_thread_init_fini, check_clean),
    };
    return test_run(tests, NULL, NULL);
}
