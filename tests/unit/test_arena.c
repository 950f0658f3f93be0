/*
 * test_arena.c: the per-request arena (src/common/arena.h): aligned,
 * non-overlapping allocations of any size, string helpers, and one cleanup
 * that frees everything (checked for leaks by the ASan build).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "common/arena.h"

#include <stdalign.h>
#include <stdlib.h>
#include <string.h>

struct span {
    unsigned char *p;
    size_t n;
};

static void assert_aligned(const void *p)
{
    assert_int_equal((uintptr_t)p % alignof(max_align_t), 0);
}

/* Allocates sizes[i] bytes for each i, fills each with its own byte, then checks none overlap. */
static void fill_and_check(struct fx_arena *a, const size_t *sizes, size_t n)
{
    struct span *s = calloc(n, sizeof(*s));
    assert_non_null(s);
    for (size_t i = 0; i < n; i++) {
        s[i].n = sizes[i];
        s[i].p = fx_arena_alloc(a, sizes[i]);
        assert_non_null(s[i].p);
        assert_aligned(s[i].p);
        memset(s[i].p, (int)(i % 251) + 1, sizes[i]);
    }
    for (size_t i = 0; i < n; i++)
        for (size_t k = 0; k < s[i].n; k++)
            if (s[i].p[k] != (unsigned char)((i % 251) + 1))
                fail_msg("allocation %zu (size %zu) overwritten at byte %zu", i, s[i].n, k);
    free(s);
}

static void test_small_allocations(void **state)
{
    (void)state;
    struct fx_arena a;
    fx_arena_init(&a);
    size_t sizes[2000];
    for (size_t i = 0; i < 2000; i++)
        sizes[i] = 1 + i % 97;
    fill_and_check(&a, sizes, 2000);
    fx_arena_cleanup(&a);
    assert_null(a.head);
}

static void test_mixed_and_large(void **state)
{
    (void)state;
    struct fx_arena a;
    fx_arena_init(&a);
    /* around the block size and its half, and well past it */
    size_t sizes[] = {1, 2047, 2048, 2049, 10, 4095, 4096, 4097, 3, 100000, 16, 1 << 20, 7, 0};
    fill_and_check(&a, sizes, sizeof(sizes) / sizeof(sizes[0]));
    fx_arena_cleanup(&a);
}

static void test_zero_size(void **state)
{
    (void)state;
    struct fx_arena a;
    fx_arena_init(&a);
    void *p = fx_arena_alloc(&a, 0);
    void *q = fx_arena_alloc(&a, 0);
    assert_non_null(p);
    assert_non_null(q);
    assert_ptr_not_equal(p, q);
    fx_arena_cleanup(&a);
}

static void test_strings(void **state)
{
    (void)state;
    struct fx_arena a;
    fx_arena_init(&a);
    char *s = fx_arena_strdup(&a, "notice");
    assert_string_equal(s, "notice");
    char *t = fx_arena_strndup(&a, "abcdef", 3);
    assert_string_equal(t, "abc");
    char *u = fx_arena_strndup(&a, "a\0b", 3); /* bytes, NUL included */
    assert_memory_equal(u, "a\0b", 4);
    char *v = fx_arena_printf(&a, "%s-%04d-%04d", "FXN", 2026, 7);
    assert_string_equal(v, "FXN-2026-0007");
    char big[5000];
    memset(big, 'z', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    char *w = fx_arena_printf(&a, "<%s>", big);
    assert_int_equal(strlen(w), sizeof(big) + 1);
    assert_int_equal(w[0], '<');
    assert_int_equal(w[sizeof(big)], '>');
    /* earlier strings are intact */
    assert_string_equal(s, "notice");
    assert_string_equal(v, "FXN-2026-0007");
    fx_arena_cleanup(&a);
}

static void test_reuse_after_cleanup(void **state)
{
    (void)state;
    struct fx_arena a;
    fx_arena_init(&a);
    fx_arena_cleanup(&a); /* empty arena */
    for (int round = 0; round < 3; round++) {
        for (int i = 0; i < 100; i++)
            assert_non_null(fx_arena_alloc(&a, 300));
        fx_arena_cleanup(&a);
        assert_null(a.head);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_small_allocations),   cmocka_unit_test(test_mixed_and_large),
        cmocka_unit_test(test_zero_size),           cmocka_unit_test(test_strings),
        cmocka_unit_test(test_reuse_after_cleanup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
