/*
 * test_parse.c: the checked parsers of src/common/parse.h: integers, calendar
 * dates, RFC 3339 timestamps, UUIDs and UTF-8, at their edges.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "common/parse.h"

#include <sodium.h>
#include <string.h>

/* Parses the C string s as an int64 in [min, max]. */
static enum fx_err i64(const char *s, int64_t min, int64_t max, int64_t *out)
{
    return fx_parse_i64(s, strlen(s), min, max, out);
}

static void test_i64_limits(void **state)
{
    (void)state;
    int64_t v = 0;
    assert_int_equal(i64("0", INT64_MIN, INT64_MAX, &v), FX_OK);
    assert_true(v == 0);
    assert_int_equal(i64("42", INT64_MIN, INT64_MAX, &v), FX_OK);
    assert_true(v == 42);
    assert_int_equal(i64("-42", INT64_MIN, INT64_MAX, &v), FX_OK);
    assert_true(v == -42);
    assert_int_equal(i64("9223372036854775807", INT64_MIN, INT64_MAX, &v), FX_OK);
    assert_true(v == INT64_MAX);
    assert_int_equal(i64("-9223372036854775808", INT64_MIN, INT64_MAX, &v), FX_OK);
    assert_true(v == INT64_MIN);
}

static void test_i64_overflow(void **state)
{
    (void)state;
    int64_t v = 7;
    assert_int_equal(i64("9223372036854775808", INT64_MIN, INT64_MAX, &v), FX_EINVAL);
    assert_int_equal(i64("-9223372036854775809", INT64_MIN, INT64_MAX, &v), FX_EINVAL);
    assert_int_equal(i64("18446744073709551615", INT64_MIN, INT64_MAX, &v), FX_EINVAL);
    assert_int_equal(i64("18446744073709551616", INT64_MIN, INT64_MAX, &v), FX_EINVAL);
    assert_int_equal(i64("99999999999999999999", INT64_MIN, INT64_MAX, &v), FX_EINVAL);
    assert_int_equal(i64("123456789012345678901234", INT64_MIN, INT64_MAX, &v), FX_EINVAL);
    assert_true(v == 7); /* untouched on failure */
}

static void test_i64_malformed(void **state)
{
    (void)state;
    static const char *const bad[] = {"-",    "",    "+1",  " 1", "1 ", "1a",
                                      "0x10", "1.0", "--1", "1-", "١",  NULL};
    int64_t v = 7;
    for (size_t i = 0; bad[i]; i++) {
        if (i64(bad[i], INT64_MIN, INT64_MAX, &v) != FX_EINVAL)
            fail_msg("\"%s\" was accepted", bad[i]);
    }
    assert_true(v == 7);
}

static void test_i64_range_and_length(void **state)
{
    (void)state;
    int64_t v = 0;
    assert_int_equal(i64("3650", 0, 3650, &v), FX_OK);
    assert_int_equal(i64("3651", 0, 3650, &v), FX_EINVAL);
    assert_int_equal(i64("-1", 0, 3650, &v), FX_EINVAL);
    /* Only len bytes count: no reliance on a NUL. */
    assert_int_equal(fx_parse_i64("1234", 2, INT64_MIN, INT64_MAX, &v), FX_OK);
    assert_true(v == 12);
    assert_int_equal(fx_parse_i64("12x", 2, INT64_MIN, INT64_MAX, &v), FX_OK);
    assert_true(v == 12);
}

static enum fx_err date(const char *s, int64_t *days)
{
    return fx_parse_date(s, strlen(s), days);
}

static void test_date_calendar(void **state)
{
    (void)state;
    int64_t d = -1;
    assert_int_equal(date("1970-01-01", &d), FX_OK);
    assert_true(d == 0);
    assert_int_equal(date("2026-01-01", &d), FX_OK);
    assert_true(d == 20454);
    assert_int_equal(date("2026-11-27", &d), FX_OK);
    assert_true(d == 20784);
    assert_int_equal(date("2024-02-29", &d), FX_OK);
    assert_true(d == 19782);
    assert_int_equal(date("2000-02-29", &d), FX_OK); /* divisible by 400 */
    assert_int_equal(date("9999-12-31", &d), FX_OK);
    assert_true(d == 2932896);
    assert_int_equal(date("2026-12-31", &d), FX_OK);
    assert_int_equal(date("2026-04-30", &d), FX_OK);
}

static void test_date_refused(void **state)
{
    (void)state;
    static const char *const bad[] = {"2026-02-30",  "2023-02-29", "2100-02-29", "2026-04-31",
                                      "2026-13-01",  "2026-00-10", "2026-01-00", "2026-01-32",
                                      "1969-12-31",  "0000-01-01", "2026-1-01",  "2026/01/01",
                                      "2026-01-01T", "26-01-01",   "2026-01-1",  "+026-01-01",
                                      "2026-01-0a",  "",           NULL};
    int64_t d = -7;
    for (size_t i = 0; bad[i]; i++) {
        if (date(bad[i], &d) != FX_EINVAL)
            fail_msg("\"%s\" was accepted", bad[i]);
    }
    assert_true(d == -7);
    /* len shorter than the text: not a date */
    assert_int_equal(fx_parse_date("2026-01-01", 9, &d), FX_EINVAL);
}

static void test_format_date(void **state)
{
    (void)state;
    char out[11];
    memset(out, 'x', sizeof(out));
    fx_format_date(0, out);
    assert_string_equal(out, "1970-01-01");
    fx_format_date(19782, out);
    assert_string_equal(out, "2024-02-29");
    fx_format_date(2932896, out);
    assert_string_equal(out, "9999-12-31");
    /* Every day of a leap year and the next round trips. */
    for (int64_t d = 19723; d < 19723 + 731; d++) {
        int64_t back = -1;
        fx_format_date(d, out);
        assert_int_equal(fx_parse_date(out, 10, &back), FX_OK);
        assert_true(back == d);
    }
}

static enum fx_err tm(const char *s, int64_t *ms)
{
    return fx_parse_time(s, strlen(s), ms);
}

static void test_time_zones(void **state)
{
    (void)state;
    int64_t ms = 0;
    assert_int_equal(tm("2026-11-27T02:23:02Z", &ms), FX_OK);
    assert_true(ms == 1795746182000LL);
    assert_int_equal(tm("2026-11-27t02:23:02z", &ms), FX_OK);
    assert_true(ms == 1795746182000LL);
    assert_int_equal(tm("2026-11-27T02:23:02+00:00", &ms), FX_OK);
    assert_true(ms == 1795746182000LL);
    assert_int_equal(tm("2026-11-27T02:23:02-00:00", &ms), FX_OK);
    assert_true(ms == 1795746182000LL);
    assert_int_equal(tm("2026-11-27T02:23:02+05:30", &ms), FX_OK);
    assert_true(ms == 1795726382000LL);
    assert_int_equal(tm("2026-11-27T02:23:02-08:00", &ms), FX_OK);
    assert_true(ms == 1795774982000LL);
    assert_int_equal(tm("1970-01-01T00:00:00Z", &ms), FX_OK);
    assert_true(ms == 0);
}

static void test_time_fractions(void **state)
{
    (void)state;
    int64_t ms = 0;
    assert_int_equal(tm("2026-11-27T02:23:02.123Z", &ms), FX_OK);
    assert_true(ms == 1795746182123LL);
    assert_int_equal(tm("2026-11-27T02:23:02.5Z", &ms), FX_OK);
    assert_true(ms == 1795746182500LL);
    assert_int_equal(tm("2026-11-27T02:23:02.05+05:30", &ms), FX_OK);
    assert_true(ms == 1795726382050LL);
    /* Digits past the millisecond are dropped, up to nanoseconds. */
    assert_int_equal(tm("2026-11-27T02:23:02.123999999Z", &ms), FX_OK);
    assert_true(ms == 1795746182123LL);
    assert_int_equal(tm("2026-11-27T02:23:02.1234567890Z", &ms), FX_EINVAL);
    assert_int_equal(tm("2026-11-27T02:23:02.Z", &ms), FX_EINVAL);
    /* A leap second reads as the second before it. */
    assert_int_equal(tm("2016-12-31T23:59:60Z", &ms), FX_OK);
    assert_true(ms == 1483228799000LL);
}

static void test_time_refused(void **state)
{
    (void)state;
    static const char *const bad[] = {"2026-11-27T02:23:02",
                                      "2026-11-27T02:23Z",
                                      "2026-11-27T24:00:00Z",
                                      "2026-11-27T23:60:00Z",
                                      "2026-11-27T23:59:61Z",
                                      "2026-11-27T02:23:02+24:00",
                                      "2026-11-27T02:23:02+05:60",
                                      "2026-11-27T02:23:02+0530",
                                      "2026-11-27T02:23:02+05",
                                      "2026-11-27T02:23:02Zx",
                                      "2026-11-27X02:23:02Z",
                                      "2026-02-30T00:00:00Z",
                                      "1969-12-31T23:59:59Z",
                                      "2026-11-27T2:23:02Z",
                                      "2026-11-27T02:23:02 Z",
                                      "",
                                      "Z",
                                      NULL};
    int64_t ms = -7;
    for (size_t i = 0; bad[i]; i++) {
        if (tm(bad[i], &ms) != FX_EINVAL)
            fail_msg("\"%s\" was accepted", bad[i]);
    }
    assert_true(ms == -7);
    /* len stops before the zone: refused, the Z past len is not read */
    assert_int_equal(fx_parse_time("2026-11-27T02:23:02Z", 19, &ms), FX_EINVAL);
}

static void test_format_i64(void **state)
{
    (void)state;
    static const int64_t samples[] = {0,     1,          -1,        9,         10,           -10,
                                      99999, 1234567890, INT64_MAX, INT64_MIN, INT64_MIN + 1};
    for (size_t i = 0; i < sizeof(samples) / sizeof(samples[0]); i++) {
        char mine[21], libc[32];
        memset(mine, 'x', sizeof(mine));
        size_t n = fx_format_i64(samples[i], mine);
        snprintf(libc, sizeof(libc), "%lld", (long long)samples[i]);
        assert_string_equal(mine, libc);
        assert_int_equal(n, strlen(libc));
    }
}

static void test_format_clamps(void **state)
{
    (void)state;
    char d[11], t[25];
    fx_format_date(-1, d);
    assert_string_equal(d, "1970-01-01");
    fx_format_date(INT64_MAX, d);
    assert_string_equal(d, "9999-12-31");
    fx_format_time(-5, t);
    assert_string_equal(t, "1970-01-01T00:00:00.000Z");
    fx_format_time(INT64_MAX, t);
    assert_string_equal(t, "9999-12-31T23:59:59.999Z");
    /* every field at its widest and narrowest */
    fx_format_time(951868799001LL, t);
    assert_string_equal(t, "2000-02-29T23:59:59.001Z");
    fx_format_time(946684800010LL, t);
    assert_string_equal(t, "2000-01-01T00:00:00.010Z");
}

static void test_format_time(void **state)
{
    (void)state;
    char out[25];
    fx_format_time(0, out);
    assert_string_equal(out, "1970-01-01T00:00:00.000Z");
    fx_format_time(1795746182123LL, out);
    assert_string_equal(out, "2026-11-27T02:23:02.123Z");
    fx_format_time(1483228799999LL, out);
    assert_string_equal(out, "2016-12-31T23:59:59.999Z");
    static const int64_t samples[] = {
        0, 1, 999, 1000, 86399999, 951782400000LL, 1795746182123LL, 253402300799999LL};
    for (size_t i = 0; i < sizeof(samples) / sizeof(samples[0]); i++) {
        int64_t back = -1;
        fx_format_time(samples[i], out);
        assert_int_equal(strlen(out), 24);
        assert_int_equal(fx_parse_time(out, 24, &back), FX_OK);
        assert_true(back == samples[i]);
    }
}

static void test_uuid_v7(void **state)
{
    (void)state;
    char a[37], b[37];
    int64_t ms = 1795746182123LL; /* 0x1a2c2a0f2eb */
    fx_uuid_v7(ms, a);
    fx_uuid_v7(ms, b);
    assert_int_equal(strlen(a), 36);
    assert_true(fx_uuid_valid(a, 36));
    assert_string_not_equal(a, b); /* 74 random bits */
    for (size_t i = 0; i < 36; i++) {
        if (i == 8 || i == 13 || i == 18 || i == 23)
            assert_int_equal(a[i], '-');
        else
            assert_true((a[i] >= '0' && a[i] <= '9') || (a[i] >= 'a' && a[i] <= 'f'));
    }
    assert_int_equal(a[14], '7');           /* version 7 */
    assert_non_null(strchr("89ab", a[19])); /* RFC 9562 variant 10xx */
    /* The first 48 bits are the Unix time in milliseconds, big-endian. */
    char want[13];
    snprintf(want, sizeof(want), "%012llx", (unsigned long long)ms);
    assert_memory_equal(a, want, 8);
    assert_memory_equal(a + 9, want + 8, 4);
    /* Later times sort later. */
    fx_uuid_v7(ms + 1, b);
    assert_true(strcmp(a, b) < 0);
}

static void test_uuid_valid(void **state)
{
    (void)state;
    assert_true(fx_uuid_valid("0190b6f0-7c1e-7a2b-9c3d-4e5f60718293", 36));
    assert_true(fx_uuid_valid("0190B6F0-7C1E-7A2B-9C3D-4E5F60718293", 36));
    assert_false(fx_uuid_valid("0190b6f0-7c1e-7a2b-9c3d-4e5f6071829", 35));
    assert_false(fx_uuid_valid("0190b6f0-7c1e-7a2b-9c3d-4e5f607182930", 37));
    assert_false(fx_uuid_valid("0190b6f0x7c1e-7a2b-9c3d-4e5f60718293", 36));
    assert_false(fx_uuid_valid("0190b6f0-7c1e-7a2b-9c3d-4e5f6071829g", 36));
    assert_false(fx_uuid_valid("0190b6f07c1e-7a2b-9c3d-4e5f607182933", 36));
}

static bool utf8(const char *s)
{
    return fx_utf8_valid(s, strlen(s));
}

static void test_utf8(void **state)
{
    (void)state;
    assert_true(fx_utf8_valid("", 0));
    assert_true(utf8("plain ASCII"));
    assert_true(utf8("\xc3\xa9"));         /* é */
    assert_true(utf8("\xe2\x82\xac"));     /* € */
    assert_true(utf8("\xf0\x9f\x98\x80")); /* U+1F600 */
    assert_true(utf8("\xf4\x8f\xbf\xbf")); /* U+10FFFF, the last code point */
    assert_true(utf8("\xed\x9f\xbf"));     /* U+D7FF, just below the surrogates */
    assert_true(utf8("\xee\x80\x80"));     /* U+E000, just above */
    assert_true(utf8("\xef\xbf\xbf"));     /* U+FFFF */
    /* overlong forms */
    assert_false(utf8("\xc0\x80"));
    assert_false(utf8("\xc1\xbf"));
    assert_false(utf8("\xe0\x80\x80"));
    assert_false(utf8("\xe0\x9f\xbf"));
    assert_false(utf8("\xf0\x80\x80\x80"));
    assert_false(utf8("\xf0\x8f\xbf\xbf"));
    /* UTF-16 surrogates */
    assert_false(utf8("\xed\xa0\x80"));
    assert_false(utf8("\xed\xbf\xbf"));
    assert_false(utf8("\xed\xa0\xbd\xed\xb8\x80")); /* CESU-8 pair */
    /* past U+10FFFF, and bytes that never occur */
    assert_false(utf8("\xf4\x90\x80\x80"));
    assert_false(utf8("\xf5\x80\x80\x80"));
    assert_false(utf8("\xf8\x88\x80\x80\x80"));
    assert_false(utf8("\xff"));
    assert_false(utf8("\xfe"));
    /* truncated and stray */
    assert_false(utf8("\xc3"));
    assert_false(utf8("\xe2\x82"));
    assert_false(utf8("\xf0\x9f\x98"));
    assert_false(utf8("a\x80"));
    assert_false(utf8("\xc3\x28"));
    /* NUL anywhere */
    assert_false(fx_utf8_valid("a\0b", 3));
    assert_false(fx_utf8_valid("\0", 1));
    /* only len bytes count */
    assert_true(fx_utf8_valid("ab\xff", 2));
    assert_false(fx_utf8_valid("\xc3\xa9", 1));
}

int main(void)
{
    if (sodium_init() < 0)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_i64_limits),     cmocka_unit_test(test_i64_overflow),
        cmocka_unit_test(test_i64_malformed),  cmocka_unit_test(test_i64_range_and_length),
        cmocka_unit_test(test_date_calendar),  cmocka_unit_test(test_date_refused),
        cmocka_unit_test(test_format_date),    cmocka_unit_test(test_time_zones),
        cmocka_unit_test(test_time_fractions), cmocka_unit_test(test_time_refused),
        cmocka_unit_test(test_format_time),    cmocka_unit_test(test_uuid_v7),
        cmocka_unit_test(test_format_i64),     cmocka_unit_test(test_format_clamps),
        cmocka_unit_test(test_uuid_valid),     cmocka_unit_test(test_utf8),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
