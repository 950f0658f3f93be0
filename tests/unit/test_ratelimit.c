/*
 * test_ratelimit.c: token buckets (src/http/ratelimit.h). Time is the now_ms
 * argument, so refill is tested by moving it, never by sleeping.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "common/limits.h"
#include "http/ratelimit.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

#define T0 1795746182000LL

static void test_burst_then_refusal(void **state)
{
    (void)state;
    struct fx_ratelimit *rl = fx_ratelimit_new(1, 3);
    unsigned retry = 0;
    for (int i = 0; i < 3; i++)
        assert_true(fx_ratelimit_take(rl, "tok-a", T0, &retry));
    assert_false(fx_ratelimit_take(rl, "tok-a", T0, &retry));
    assert_true(retry >= 1);
    /* still refused at the same instant, however often asked */
    for (int i = 0; i < 10; i++)
        assert_false(fx_ratelimit_take(rl, "tok-a", T0, &retry));
    fx_ratelimit_free(rl);
}

static void test_refill(void **state)
{
    (void)state;
    struct fx_ratelimit *rl = fx_ratelimit_new(1, 3);
    unsigned retry = 0;
    for (int i = 0; i < 3; i++)
        assert_true(fx_ratelimit_take(rl, "tok-a", T0, &retry));
    assert_false(fx_ratelimit_take(rl, "tok-a", T0 + 999, &retry));
    /* one token per second */
    assert_true(fx_ratelimit_take(rl, "tok-a", T0 + 1000, &retry));
    assert_false(fx_ratelimit_take(rl, "tok-a", T0 + 1000, &retry));
    assert_true(fx_ratelimit_take(rl, "tok-a", T0 + 2000, &retry));
    /* a long pause refills only up to the burst */
    int64_t later = T0 + 3600 * 1000;
    for (int i = 0; i < 3; i++)
        assert_true(fx_ratelimit_take(rl, "tok-a", later, &retry));
    assert_false(fx_ratelimit_take(rl, "tok-a", later, &retry));
    fx_ratelimit_free(rl);
}

static void test_retry_after_is_enough(void **state)
{
    (void)state;
    /* one request per 10 s: Retry-After must say at least 10, and waiting it must work */
    struct fx_ratelimit *rl = fx_ratelimit_new(0.1, 1);
    unsigned retry = 0;
    assert_true(fx_ratelimit_take(rl, "k", T0, &retry));
    assert_false(fx_ratelimit_take(rl, "k", T0, &retry));
    assert_true(retry >= 10 && retry <= 11);
    assert_false(fx_ratelimit_take(rl, "k", T0 + 5000, &retry));
    assert_true(retry >= 5 && retry <= 6);
    assert_true(fx_ratelimit_take(rl, "k", T0 + 5000 + (int64_t)retry * 1000, &retry));
    fx_ratelimit_free(rl);
}

static void test_keys_independent(void **state)
{
    (void)state;
    struct fx_ratelimit *rl = fx_ratelimit_new(1, 2);
    unsigned retry = 0;
    assert_true(fx_ratelimit_take(rl, "127.0.0.1", T0, &retry));
    assert_true(fx_ratelimit_take(rl, "127.0.0.1", T0, &retry));
    assert_false(fx_ratelimit_take(rl, "127.0.0.1", T0, &retry));
    assert_true(fx_ratelimit_take(rl, "127.0.0.2", T0, &retry));
    assert_true(fx_ratelimit_take(rl, "0190b6f0-7c1e-7a2b-9c3d-4e5f60718293", T0, &retry));
    assert_true(fx_ratelimit_take(rl, "", T0, &retry));
    fx_ratelimit_free(rl);
}

static void test_clock_going_back(void **state)
{
    (void)state;
    struct fx_ratelimit *rl = fx_ratelimit_new(1, 2);
    unsigned retry = 0;
    assert_true(fx_ratelimit_take(rl, "k", T0, &retry));
    assert_true(fx_ratelimit_take(rl, "k", T0, &retry));
    /* an earlier time grants nothing, and does not spoil the later refill */
    assert_false(fx_ratelimit_take(rl, "k", T0 - 60000, &retry));
    assert_true(retry >= 1);
    assert_true(fx_ratelimit_take(rl, "k", T0 + 1000, &retry));
    fx_ratelimit_free(rl);
}

static void test_default_figures(void **state)
{
    (void)state;
    struct fx_ratelimit *rl = fx_ratelimit_new(FX_DEFAULT_RATE, FX_DEFAULT_BURST);
    unsigned retry = 0;
    for (int i = 0; i < FX_DEFAULT_BURST; i++)
        assert_true(fx_ratelimit_take(rl, "tok", T0, &retry));
    assert_false(fx_ratelimit_take(rl, "tok", T0, &retry));
    assert_int_equal(retry, 1);
    assert_true(fx_ratelimit_take(rl, "tok", T0 + 1, &retry)); /* 2000/s: 2 per ms */
    fx_ratelimit_free(rl);
    fx_ratelimit_free(NULL);
}

static void key_of(int family, const char *text, char out[static FX_RL_ADDR_KEY])
{
    struct sockaddr_in s4 = {.sin_family = AF_INET};
    struct sockaddr_in6 s6 = {.sin6_family = AF_INET6};
    if (family == AF_INET) {
        assert_int_equal(inet_pton(AF_INET, text, &s4.sin_addr), 1);
        fx_ratelimit_addr_key((const struct sockaddr *)&s4, out);
    } else {
        assert_int_equal(inet_pton(AF_INET6, text, &s6.sin6_addr), 1);
        fx_ratelimit_addr_key((const struct sockaddr *)&s6, out);
    }
}

/* an IPv6 host picks any address in its /64: the bucket is the /64's */
static void test_address_keys(void **state)
{
    (void)state;
    char a[FX_RL_ADDR_KEY], b[FX_RL_ADDR_KEY];
    key_of(AF_INET, "192.0.2.7", a);
    assert_string_equal(a, "192.0.2.7");
    key_of(AF_INET, "192.0.2.8", b);
    assert_string_not_equal(a, b);
    key_of(AF_INET6, "::ffff:192.0.2.7", b); /* a dual-stack listener's IPv4 client */
    assert_string_equal(a, b);
    key_of(AF_INET6, "2001:db8:1:2:aaaa:bbbb:cccc:dddd", a);
    assert_string_equal(a, "2001:db8:1:2::/64");
    key_of(AF_INET6, "2001:db8:1:2::1", b);
    assert_string_equal(a, b);
    key_of(AF_INET6, "2001:db8:1:3::1", b);
    assert_string_not_equal(a, b);
    key_of(AF_INET6, "::1", a);
    assert_string_equal(a, "::/64");
    struct sockaddr other = {.sa_family = AF_UNIX};
    fx_ratelimit_addr_key(&other, a);
    assert_string_equal(a, "");
    fx_ratelimit_addr_key(NULL, a);
    assert_string_equal(a, "");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_burst_then_refusal),
        cmocka_unit_test(test_address_keys),
        cmocka_unit_test(test_refill),
        cmocka_unit_test(test_retry_after_is_enough),
        cmocka_unit_test(test_keys_independent),
        cmocka_unit_test(test_clock_going_back),
        cmocka_unit_test(test_default_figures),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
