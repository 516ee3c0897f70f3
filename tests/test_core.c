/* SPDX-License-Identifier: MIT */
/* test_core.c - status codes, wakers, the allocator hook. */
#include "test_util.h"
#include "core/core.h"
#include <rill.h>
#include <string.h>

static void test_status_names(void **state)
{
    (void)state;
    assert_string_equal(rill_err_name(RILL_ECLOSED), "RILL_ECLOSED");
    assert_string_equal(rill_strerror(RILL_ETIMEDOUT), "timed out");
    assert_string_equal(rill_strerror(RILL_OK), "success");
    assert_string_equal(rill_strerror(RILL_EUSER - 5), "user error");
    assert_string_equal(rill_err_name(12345), "RILL_UNKNOWN");
    assert_true(RILL_DONE > 0 && RILL_PENDING > 0);
}

/* A counting waker: data points at counters. */
typedef struct {
    int refs, wakes;
} counter_t;
static rill_waker_t cnt_clone(const void *d);
static void cnt_wake(const void *d)
{
    counter_t *c = (counter_t *)d;
    c->wakes++;
    c->refs--;
}
static void cnt_wake_by_ref(const void *d)
{
    ((counter_t *)d)->wakes++;
}
static void cnt_release(const void *d)
{
    ((counter_t *)d)->refs--;
}
static const rill_waker_vtable_t cnt_vt = {cnt_clone, cnt_wake, cnt_wake_by_ref,
                                           cnt_release};
static rill_waker_t cnt_clone(const void *d)
{
    ((counter_t *)d)->refs++;
    return (rill_waker_t){&cnt_vt, d};
}

static void test_waker_refcounts(void **state)
{
    (void)state;
    counter_t c = {1, 0};
    rill_waker_t w = {&cnt_vt, &c};
    rill_waker_t slot = RILL_WAKER_NONE;
    rill_waker_set(&slot, &w); /* clones */
    assert_int_equal(c.refs, 2);
    rill_waker_set(&slot, &w); /* same target: no new clone */
    assert_int_equal(c.refs, 2);
    rill_waker_wake_by_ref(&slot);
    assert_int_equal(c.wakes, 1);
    rill_waker_wake(&slot);
    assert_int_equal(c.wakes, 2);
    assert_int_equal(c.refs, 1);
    assert_null(slot.vtable);
    rill_waker_wake(&slot); /* empty waker: nothing */
    rill_waker_release(&slot);
    rill_waker_release(&w);
    assert_int_equal(c.refs, 0);
    rill_waker_t n = rill_waker_clone(rill_waker_noop());
    rill_waker_wake(&n);
}

static int fail_after = -1;
static void *failing_realloc(void *p, size_t n, void *ud)
{
    (void)ud;
    if (n == 0) {
        free(p);
        return NULL;
    }
    if (fail_after == 0)
        return NULL;
    if (fail_after > 0)
        fail_after--;
    return realloc(p, n);
}

static void test_allocator_hook(void **state)
{
    (void)state;
    rill_set_allocator(failing_realloc, NULL);
    fail_after = 1;
    void *a = rill__malloc(16);
    assert_non_null(a);
    assert_null(rill__malloc(16));
    rill__free(a);
    assert_null(rill__calloc(SIZE_MAX / 2, 4)); /* overflow, not a huge alloc */
    rill_set_allocator(NULL, NULL);
    fail_after = -1;
    a = rill__calloc(4, 4);
    assert_non_null(a);
    assert_int_equal(((int *)a)[3], 0);
    rill__free(a);
}

static void test_list(void **state)
{
    (void)state;
    rill__list_t h, a = {0}, b = {0};
    rill__list_init(&h);
    assert_true(rill__list_empty(&h));
    rill__list_push_back(&h, &a);
    rill__list_push_front(&h, &b);
    assert_ptr_equal(rill__list_pop_front(&h), &b);
    assert_true(rill__list_linked(&a));
    rill__list_remove(&a);
    assert_false(rill__list_linked(&a));
    assert_true(rill__list_empty(&h));
    assert_null(rill__list_pop_front(&h));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_status_names),
        cmocka_unit_test(test_waker_refcounts),
        cmocka_unit_test(test_allocator_hook),
        cmocka_unit_test(test_list),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
