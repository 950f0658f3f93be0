/*
 * test_buf.c: the bounded growable buffer (src/common/buf.h): its maximum is
 * enforced on every append, a refused append changes nothing, and the bytes
 * stay NUL-terminated.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "common/buf.h"

#include <string.h>

static void test_add_within_max(void **state)
{
    (void)state;
    struct fx_buf b;
    fx_buf_init(&b, 10);
    assert_int_equal(fx_buf_add(&b, "hello", 5), FX_OK);
    assert_int_equal(fx_buf_adds(&b, "world"), FX_OK);
    assert_int_equal(b.len, 10);
    assert_string_equal(b.p, "helloworld");
    fx_buf_cleanup(&b);
    assert_null(b.p);
    assert_int_equal(b.len, 0);
}

static void test_max_enforced(void **state)
{
    (void)state;
    struct fx_buf b;
    fx_buf_init(&b, 10);
    assert_int_equal(fx_buf_add(&b, "0123456789", 10), FX_OK);
    assert_int_equal(fx_buf_add(&b, "x", 1), FX_ETOOBIG);
    assert_int_equal(fx_buf_adds(&b, "y"), FX_ETOOBIG);
    assert_int_equal(fx_buf_printf(&b, "%d", 1), FX_ETOOBIG);
    /* a refused append leaves the contents as they were */
    assert_int_equal(b.len, 10);
    assert_string_equal(b.p, "0123456789");
    /* adding nothing at the limit is fine */
    assert_int_equal(fx_buf_add(&b, "", 0), FX_OK);
    fx_buf_cleanup(&b);

    fx_buf_init(&b, 10);
    assert_int_equal(fx_buf_add(&b, "01234567890", 11), FX_ETOOBIG);
    assert_int_equal(b.len, 0);
    /* lengths that would overflow size_t arithmetic are refused, not wrapped */
    assert_int_equal(fx_buf_add(&b, "x", SIZE_MAX), FX_ETOOBIG);
    assert_int_equal(fx_buf_add(&b, "abc", 3), FX_OK);
    assert_int_equal(fx_buf_add(&b, "x", SIZE_MAX - 2), FX_ETOOBIG);
    assert_int_equal(b.len, 3);
    fx_buf_cleanup(&b);

    fx_buf_init(&b, 0);
    assert_int_equal(fx_buf_add(&b, "x", 1), FX_ETOOBIG);
    fx_buf_cleanup(&b);
}

static void test_printf(void **state)
{
    (void)state;
    struct fx_buf b;
    fx_buf_init(&b, 64);
    assert_int_equal(fx_buf_printf(&b, "%s=%d", "limit", 50), FX_OK);
    assert_int_equal(fx_buf_printf(&b, ";%05.1f", 2.25), FX_OK);
    assert_string_equal(b.p, "limit=50;002.2");
    assert_int_equal(b.len, strlen("limit=50;002.2"));
    assert_int_equal(fx_buf_printf(&b, "%s", ""), FX_OK);
    assert_int_equal(b.len, 14);
    /* exactly up to the maximum, then one past it */
    assert_int_equal(fx_buf_printf(&b, "%*s", 64 - 14, "x"), FX_OK);
    assert_int_equal(b.len, 64);
    assert_int_equal(b.p[64], '\0');
    assert_int_equal(fx_buf_printf(&b, "%c", 'z'), FX_ETOOBIG);
    assert_int_equal(b.len, 64);
    assert_int_equal(b.p[64], '\0');
    fx_buf_cleanup(&b);
}

static void test_growth(void **state)
{
    (void)state;
    struct fx_buf b;
    char chunk[100];
    fx_buf_init(&b, 1024 * 1024);
    for (int i = 0; i < 1000; i++) {
        memset(chunk, 'a' + i % 26, sizeof(chunk));
        assert_int_equal(fx_buf_add(&b, chunk, sizeof(chunk)), FX_OK);
    }
    assert_int_equal(b.len, 100000);
    assert_true(b.cap > b.len);
    for (int i = 0; i < 1000; i++)
        assert_int_equal(b.p[i * 100 + 99], 'a' + i % 26);
    assert_int_equal(b.p[b.len], '\0');
    fx_buf_cleanup(&b);
}

static void test_reset_and_take(void **state)
{
    (void)state;
    struct fx_buf b;
    size_t len = 99;
    fx_buf_init(&b, 32);
    char *p = fx_buf_take(&b, &len); /* nothing added yet */
    assert_non_null(p);
    assert_string_equal(p, "");
    assert_int_equal(len, 0);
    free(p);

    assert_int_equal(fx_buf_adds(&b, "first"), FX_OK);
    fx_buf_reset(&b);
    assert_int_equal(b.len, 0);
    assert_string_equal(b.p, "");
    assert_int_equal(fx_buf_adds(&b, "second"), FX_OK);
    p = fx_buf_take(&b, &len);
    assert_string_equal(p, "second");
    assert_int_equal(len, 6);
    assert_null(b.p);
    assert_int_equal(b.len, 0);
    /* the buffer is usable again, with the same maximum */
    assert_int_equal(fx_buf_add(&b, p, 6), FX_OK);
    assert_int_equal(fx_buf_printf(&b, "%40s", "x"), FX_ETOOBIG);
    free(p);
    fx_buf_cleanup(&b);
    fx_buf_cleanup(&b); /* twice is harmless */
}

static void test_binary(void **state)
{
    (void)state;
    struct fx_buf b;
    static const char bin[] = {'a', '\0', 'b', '\xff'};
    fx_buf_init(&b, 16);
    assert_int_equal(fx_buf_add(&b, bin, sizeof(bin)), FX_OK);
    assert_int_equal(b.len, 4);
    assert_memory_equal(b.p, bin, 4);
    fx_buf_cleanup(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_add_within_max), cmocka_unit_test(test_max_enforced),
        cmocka_unit_test(test_printf),         cmocka_unit_test(test_growth),
        cmocka_unit_test(test_reset_and_take), cmocka_unit_test(test_binary),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
