/*
 * test_token.c: API tokens (src/auth/token.h): their shape, and reading them
 * from an Authorization header, Bearer or Basic with the token as password.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "auth/token.h"

#include <sodium.h>
#include <stdio.h>
#include <string.h>

/* "fx_" and 43 characters of base64url. */
static const char tok[] = "fx_Ab0-_Ab0-_Ab0-_Ab0-_Ab0-_Ab0-_Ab0-_Ab0-_xyz";

static void assert_shape(const char *t)
{
    assert_int_equal(strlen(t), FX_TOKEN_LEN);
    assert_memory_equal(t, "fx_", 3);
    for (size_t i = 3; i < FX_TOKEN_LEN; i++) {
        char c = t[i];
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_'))
            fail_msg("character %zu of %s is not base64url", i, t);
    }
}

/* "Basic " + base64(cred) into out. */
static void basic(const char *cred, char *out, size_t n)
{
    assert_true(n > 6);
    memcpy(out, "Basic ", 6);
    assert_non_null(sodium_bin2base64(out + 6, n - 6, (const unsigned char *)cred, strlen(cred),
                                      sodium_base64_VARIANT_ORIGINAL));
}

static void test_generate(void **state)
{
    (void)state;
    char a[FX_TOKEN_LEN + 1], b[FX_TOKEN_LEN + 1];
    unsigned char ha[FX_TOKEN_HASH], hb[FX_TOKEN_HASH], check[FX_TOKEN_HASH];
    assert_int_equal(FX_TOKEN_LEN, 46);
    fx_token_generate(a, ha);
    fx_token_generate(b, hb);
    assert_shape(a);
    assert_shape(b);
    assert_string_not_equal(a, b);
    /* the hash is the one a presented token is looked up by */
    fx_token_hash(a, strlen(a), check);
    assert_memory_equal(ha, check, FX_TOKEN_HASH);
    assert_memory_not_equal(ha, hb, FX_TOKEN_HASH);
    /* a generated token reads back from both header forms */
    char h[128], out[FX_TOKEN_LEN + 1];
    snprintf(h, sizeof(h), "Bearer %s", a);
    assert_int_equal(fx_token_from_header(h, out), FX_OK);
    assert_string_equal(out, a);
}

static void test_bearer(void **state)
{
    (void)state;
    char h[128], out[FX_TOKEN_LEN + 1];
    assert_int_equal(strlen(tok), FX_TOKEN_LEN);
    snprintf(h, sizeof(h), "Bearer %s", tok);
    assert_int_equal(fx_token_from_header(h, out), FX_OK);
    assert_string_equal(out, tok);
    /* the scheme is case-insensitive (RFC 9110 §11.1); spaces around the token are trimmed */
    snprintf(h, sizeof(h), "bearer %s", tok);
    assert_int_equal(fx_token_from_header(h, out), FX_OK);
    assert_string_equal(out, tok);
    snprintf(h, sizeof(h), "BEARER    %s  ", tok);
    assert_int_equal(fx_token_from_header(h, out), FX_OK);
    assert_string_equal(out, tok);
}

static void test_basic(void **state)
{
    (void)state;
    char cred[128], h[256], out[FX_TOKEN_LEN + 1];
    snprintf(cred, sizeof(cred), "x:%s", tok);
    basic(cred, h, sizeof(h));
    assert_int_equal(fx_token_from_header(h, out), FX_OK);
    assert_string_equal(out, tok);
    /* any user name, even none */
    snprintf(cred, sizeof(cred), ":%s", tok);
    basic(cred, h, sizeof(h));
    assert_int_equal(fx_token_from_header(h, out), FX_OK);
    assert_string_equal(out, tok);
    snprintf(cred, sizeof(cred), "taxii-client@example.org:%s", tok);
    basic(cred, h, sizeof(h));
    memcpy(h, "basic", 5);
    assert_int_equal(fx_token_from_header(h, out), FX_OK);
    assert_string_equal(out, tok);
}

static void test_malformed_refused(void **state)
{
    (void)state;
    char h[256], cred[128], out[FX_TOKEN_LEN + 1];
    static const char *const bad[] = {
        "",
        "Bearer",
        "Bearer ",
        "Bearer fx_abc",
        "Bearer fx_Ab0-_Ab0-_Ab0-_Ab0-_Ab0-_Ab0-_Ab0-_Ab0-_xyzA", /* 47 */
        "Bearer fx_Ab0-_Ab0-_Ab0-_Ab0-_Ab0-_Ab0-_Ab0-_Ab0-_xy+",  /* not base64url */
        "Bearer fx_Ab0-_Ab0-_Ab0-_Ab0-_Ab0-_Ab0-_Ab0-_Ab0-_xy=",
        "Bearer xx_Ab0-_Ab0-_Ab0-_Ab0-_Ab0-_Ab0-_Ab0-_Ab0-_xyz",   /* prefix */
        "Bearer fx_Ab0-_Ab0-_Ab0-_Ab0-_Ab0-_Ab0-_Ab0-_Ab0-_xyz x", /* two words */
        "Bearer\tfx_Ab0-_Ab0-_Ab0-_Ab0-_Ab0-_Ab0-_Ab0-_Ab0-_xyz",
        "Token fx_Ab0-_Ab0-_Ab0-_Ab0-_Ab0-_Ab0-_Ab0-_Ab0-_xyz",
        "fx_Ab0-_Ab0-_Ab0-_Ab0-_Ab0-_Ab0-_Ab0-_Ab0-_xyz",
        "Basic",
        "Basic ",
        "Basic !!!!",
        "Basic eDpmeF8=", /* "x:fx_" */
        NULL};
    assert_int_equal(fx_token_from_header(NULL, out), FX_EUNAUTH);
    for (size_t i = 0; bad[i]; i++)
        if (fx_token_from_header(bad[i], out) != FX_EUNAUTH)
            fail_msg("accepted: \"%s\"", bad[i]);

    /* Basic without a colon: the token is the password, not the user */
    basic(tok, h, sizeof(h));
    assert_int_equal(fx_token_from_header(h, out), FX_EUNAUTH);
    /* Basic with a password that is not a token */
    basic("x:password123", h, sizeof(h));
    assert_int_equal(fx_token_from_header(h, out), FX_EUNAUTH);
    snprintf(cred, sizeof(cred), "x:%s ", tok);
    basic(cred, h, sizeof(h));
    assert_int_equal(fx_token_from_header(h, out), FX_EUNAUTH);
    /* a long Basic header is refused without overflowing anything */
    char longh[2048];
    memcpy(longh, "Basic ", 6);
    memset(longh + 6, 'A', sizeof(longh) - 7);
    longh[sizeof(longh) - 1] = '\0';
    assert_int_equal(fx_token_from_header(longh, out), FX_EUNAUTH);
}

int main(void)
{
    if (sodium_init() < 0)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_generate),
        cmocka_unit_test(test_bearer),
        cmocka_unit_test(test_basic),
        cmocka_unit_test(test_malformed_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
