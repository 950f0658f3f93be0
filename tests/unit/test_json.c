/*
 * test_json.c: the checked JSON door (src/common/json.h): depth limit,
 * duplicate keys, unknown keys, and the getters that report each problem as a
 * JSON Pointer instead of stopping at the first.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "common/json.h"
#include "common/limits.h"

#include <float.h>
#include <stdio.h>
#include <string.h>

/* n nested arrays: "[[...]]". Caller frees. */
static char *nested_arrays(size_t n)
{
    char *s = malloc(2 * n + 1);
    assert_non_null(s);
    memset(s, '[', n);
    memset(s + n, ']', n);
    s[2 * n] = '\0';
    return s;
}

/* Parses the C string s; returns the error and leaves the document in *out. */
static enum fx_err parse(const char *s, json_t **out)
{
    char msg[256];
    return fx_json_parse(s, strlen(s), out, msg, sizeof(msg));
}

/* Index of the error on field, or -1. */
static int find_error(const struct fx_problem *pb, const char *field)
{
    for (size_t i = 0; i < pb->n; i++)
        if (strcmp(pb->errors[i].field, field) == 0)
            return (int)i;
    return -1;
}

static void assert_error(const struct fx_problem *pb, const char *field, const char *msg_part)
{
    int i = find_error(pb, field);
    if (i < 0)
        fail_msg("no error on %s", field);
    if (msg_part && strstr(pb->errors[i].message, msg_part) == NULL)
        fail_msg("error on %s is \"%s\", expected it to say \"%s\"", field, pb->errors[i].message,
                 msg_part);
}

static void test_depth_limit(void **state)
{
    (void)state;
    json_t *v = NULL;
    char msg[256] = "";
    char *ok = nested_arrays(FX_MAX_JSON_DEPTH);
    char *deep = nested_arrays(FX_MAX_JSON_DEPTH + 1);
    assert_int_equal(FX_MAX_JSON_DEPTH, 32);
    assert_int_equal(fx_json_depth(ok, strlen(ok)), 32);
    assert_int_equal(fx_json_depth(deep, strlen(deep)), 33);

    assert_int_equal(fx_json_parse(ok, strlen(ok), &v, msg, sizeof(msg)), FX_OK);
    assert_true(json_is_array(v));
    json_decref(v);

    assert_int_equal(fx_json_parse(deep, strlen(deep), &v, msg, sizeof(msg)), FX_EINVAL);
    assert_null(v);
    assert_non_null(strstr(msg, "deeper"));
    free(ok);
    free(deep);

    /* Objects count the same as arrays. */
    char obj[512];
    size_t o = 0;
    for (int i = 0; i < 33; i++)
        o += (size_t)snprintf(obj + o, sizeof(obj) - o, "{\"a\":");
    o += (size_t)snprintf(obj + o, sizeof(obj) - o, "1");
    for (int i = 0; i < 33; i++)
        o += (size_t)snprintf(obj + o, sizeof(obj) - o, "}");
    assert_true(o < sizeof(obj));
    assert_int_equal(parse(obj, &v), FX_EINVAL);
    assert_null(v);

    /* A deep-looking body that is only a string is not deep. */
    const char *in_string = "{\"a\": \"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[\\\"[[[[\"}";
    assert_int_equal(fx_json_depth(in_string, strlen(in_string)), 1);
    assert_int_equal(parse(in_string, &v), FX_OK);
    json_decref(v);
}

static void test_huge_depth_refused_cheaply(void **state)
{
    (void)state;
    json_t *v = NULL;
    char *deep = nested_arrays(1000000);
    assert_int_equal(parse(deep, &v), FX_EINVAL);
    assert_null(v);
    free(deep);
}

static void test_duplicate_keys(void **state)
{
    (void)state;
    json_t *v = NULL;
    char msg[256] = "";
    const char *dup = "{\"a\": 1, \"b\": 2, \"a\": 3}";
    assert_int_equal(fx_json_parse(dup, strlen(dup), &v, msg, sizeof(msg)), FX_EINVAL);
    assert_null(v);
    assert_true(msg[0] != '\0');
    /* Nested too. */
    assert_int_equal(parse("{\"x\": {\"k\": 1, \"k\": 1}}", &v), FX_EINVAL);
    assert_null(v);
}

static void test_malformed(void **state)
{
    (void)state;
    static const char *const bad[] = {"",
                                      "{",
                                      "{\"a\":}",
                                      "{\"a\": 1,}",
                                      "{\"a\": \"x\\u0000y\"}", /* NUL inside a string */
                                      "{\"a\": \"\xc0\x80\"}",  /* overlong UTF-8 */
                                      "{\"a\": \"\xed\xa0\x80\"}",
                                      "{\"a\": 1} trailing",
                                      "{'a': 1}",
                                      NULL};
    for (size_t i = 0; bad[i]; i++) {
        json_t *v = NULL;
        char msg[256] = "";
        if (fx_json_parse(bad[i], strlen(bad[i]), &v, msg, sizeof(msg)) != FX_EINVAL)
            fail_msg("accepted: %s", bad[i]);
        assert_null(v);
        assert_true(msg[0] != '\0');
    }
    /* A raw NUL byte, which jansson's reader would skip between tokens or take
     * for the end of the text. */
    static const char nul_between[] = "[1,2\0,3]", nul_after[] = "{\"a\":1}\0";
    static const char nul_in_string[] = "{\"a\":\"x\0y\"}";
    const char *const nul[] = {nul_between, nul_after, nul_in_string};
    const size_t nul_len[] = {sizeof(nul_between) - 1, sizeof(nul_after) - 1,
                              sizeof(nul_in_string) - 1};
    for (size_t i = 0; i < 3; i++) {
        json_t *x = NULL;
        char msg[256] = "";
        assert_int_equal(fx_json_parse(nul[i], nul_len[i], &x, msg, sizeof(msg)), FX_EINVAL);
        assert_null(x);
        assert_non_null(strstr(msg, "NUL"));
    }
    /* Only len bytes are parsed. */
    json_t *v = NULL;
    assert_int_equal(fx_json_parse("{\"a\":1}garbage", 7, &v, (char[64]){0}, 64), FX_OK);
    json_decref(v);
}

static void test_only_keys(void **state)
{
    (void)state;
    static const char *const allowed[] = {"name", "email", NULL};
    json_t *v = NULL;
    struct fx_problem pb;
    fx_problem_init(&pb);
    assert_int_equal(
        parse("{\"name\": 1, \"colour\": 2, \"a/b\": 3, \"t~x\": 4, \"email\": 5}", &v), FX_OK);
    fx_json_only_keys(v, allowed, "", &pb);
    assert_int_equal(pb.n, 3);
    assert_error(&pb, "/colour", "unknown field");
    assert_error(&pb, "/a~1b", "unknown field");
    assert_error(&pb, "/t~0x", "unknown field");
    fx_problem_cleanup(&pb);

    fx_problem_init(&pb);
    fx_json_only_keys(v, allowed, "/contact", &pb);
    assert_error(&pb, "/contact/colour", NULL);
    fx_problem_cleanup(&pb);
    json_decref(v);
}

static void test_getters_pointers(void **state)
{
    (void)state;
    json_t *v = NULL;
    struct fx_problem pb;
    fx_problem_init(&pb);
    assert_int_equal(parse("{\"evaluations\": [{\"domain\": \"weather\", \"benchmark\": \"\","
                           " \"score\": \"high\", \"run_date\": \"2026-02-30\","
                           " \"n\": 1.5, \"flag\": \"yes\", \"notes\": null}]}",
                           &v),
                     FX_OK);
    json_t *e = json_array_get(json_object_get(v, "evaluations"), 0);
    static const char *const domains[] = {"cyber", "bio", NULL};
    const char *s = "untouched";
    double d = 0;
    int64_t i = 0;
    bool b = false, present = true;

    fx_json_get_number(e, "score", "/evaluations/0", true, 0, &pb, &d, &present);
    assert_error(&pb, "/evaluations/0/score", "number");
    assert_false(present);

    fx_json_get_enum(e, "domain", "/evaluations/0", true, domains, &pb, &s, NULL);
    assert_error(&pb, "/evaluations/0/domain", "cyber, bio");

    fx_json_get_str(e, "benchmark", "/evaluations/0", true, 256, &pb, &s, NULL);
    assert_error(&pb, "/evaluations/0/benchmark", "empty");

    fx_json_get_date(e, "run_date", "/evaluations/0", false, &pb, &i, NULL);
    assert_error(&pb, "/evaluations/0/run_date", "YYYY-MM-DD");

    fx_json_get_int(e, "n", "/evaluations/0", false, 0, 10, &pb, &i, NULL);
    assert_error(&pb, "/evaluations/0/n", "integer");

    fx_json_get_bool(e, "flag", "/evaluations/0", false, &pb, &b, NULL);
    assert_error(&pb, "/evaluations/0/flag", "true or false");

    fx_json_get_str(e, "max_score", "/evaluations/0", true, 256, &pb, &s, NULL);
    assert_error(&pb, "/evaluations/0/max_score", "required");

    /* null is absence: an error only when required */
    size_t before = pb.n;
    present = true;
    fx_json_get_str(e, "notes", "/evaluations/0", false, 256, &pb, &s, &present);
    assert_int_equal(pb.n, before);
    assert_false(present);
    fx_json_get_str(e, "notes", "/evaluations/0", true, 256, &pb, &s, NULL);
    assert_error(&pb, "/evaluations/0/notes", "required");

    assert_string_equal(s, "untouched"); /* no failed getter wrote *out */
    assert_int_equal(pb.n, 8);           /* every problem kept, none lost */
    fx_problem_cleanup(&pb);
    json_decref(v);
}

static void test_getters_values(void **state)
{
    (void)state;
    json_t *v = NULL;
    struct fx_problem pb;
    fx_problem_init(&pb);
    assert_int_equal(parse("{\"s\": \"abc\", \"e\": \"bio\", \"d\": \"2024-02-29\", \"n\": 0.5,"
                           " \"i\": 3650, \"big\": 3651, \"neg\": -1, \"b\": true,"
                           " \"long\": \"abcdefghij\"}",
                           &v),
                     FX_OK);
    static const char *const domains[] = {"cyber", "bio", NULL};
    const char *s = NULL;
    double d = 0;
    int64_t i = 0;
    bool b = false, present = false;

    fx_json_get_str(v, "s", "", true, 3, &pb, &s, &present);
    assert_true(present);
    assert_string_equal(s, "abc");
    fx_json_get_enum(v, "e", "", true, domains, &pb, &s, NULL);
    assert_string_equal(s, "bio");
    fx_json_get_date(v, "d", "", true, &pb, &i, NULL);
    assert_true(i == 19782);
    fx_json_get_number(v, "n", "", true, 0, &pb, &d, NULL);
    assert_true(d == 0.5);
    fx_json_get_number(v, "i", "", true, 0, &pb, &d, NULL); /* an integer is a number */
    assert_true(d == 3650);
    fx_json_get_int(v, "i", "", true, 0, 3650, &pb, &i, NULL);
    assert_true(i == 3650);
    fx_json_get_bool(v, "b", "", true, &pb, &b, NULL);
    assert_true(b);
    assert_int_equal(pb.n, 0);

    fx_json_get_int(v, "big", "", true, 0, 3650, &pb, &i, NULL);
    assert_error(&pb, "/big", "3650");
    fx_json_get_number(v, "neg", "", true, 0, &pb, &d, NULL);
    assert_error(&pb, "/neg", ">= 0");
    fx_json_get_str(v, "long", "", true, 9, &pb, &s, NULL);
    assert_error(&pb, "/long", "longer than 9");
    assert_int_equal(pb.n, 3);
    fx_problem_cleanup(&pb);
    json_decref(v);
}

static void test_ptr_escaping(void **state)
{
    (void)state;
    char buf[128];
    fx_json_ptr(buf, sizeof(buf), "", "a");
    assert_string_equal(buf, "/a");
    fx_json_ptr(buf, sizeof(buf), "/evaluations/0", "score");
    assert_string_equal(buf, "/evaluations/0/score");
    fx_json_ptr(buf, sizeof(buf), "", "a~b/c");
    assert_string_equal(buf, "/a~0b~1c");
    fx_json_ptr(buf, sizeof(buf), "", "~1");
    assert_string_equal(buf, "/~01");
    fx_json_ptr(buf, sizeof(buf), "", "//");
    assert_string_equal(buf, "/~1~1");
    fx_json_ptr(buf, sizeof(buf), "", "");
    assert_string_equal(buf, "/");

    /* Truncation: always terminated, a prefix of the full pointer, never half an escape. */
    const char *full = "/x~0~1y~0z";
    for (size_t n = 1; n < 16; n++) {
        char small[16];
        memset(small, 'Q', sizeof(small));
        fx_json_ptr(small, n, "", "x~/y~z");
        size_t len = strlen(small);
        assert_true(len < n);
        assert_memory_equal(small, full, len);
        assert_true(len == 0 || small[len - 1] != '~');
        assert_int_equal(small[n < 15 ? n : 15], 'Q'); /* nothing written past n */
    }
}

static void test_canonical(void **state)
{
    (void)state;
    json_t *v = NULL;
    assert_int_equal(parse("{\"b\": 1, \"a\": [0.6, \"x\", true, null, 1e26],  \"c\": {\"z\": 0,"
                           " \"y\": -0.1}}",
                           &v),
                     FX_OK);
    size_t len = 0;
    char *c = fx_json_canonical(v, &len);
    assert_string_equal(c, "{\"a\":[0.6,\"x\",true,null,1e26],\"b\":1,\"c\":{\"y\":-0.1,\"z\":0}}");
    assert_int_equal(len, strlen(c));
    free(c);
    json_decref(v);
}

/*
 * What FX stores is the canonical text, and it must read back. Near DBL_MAX the
 * 15-digit form rounds past it, so the getters refuse magnitudes above
 * FX_JSON_MAX_MAGNITUDE (test_huge_numbers_are_refused); everything up to it
 * reads back.
 */
static void test_huge_numbers_are_refused(void **state)
{
    (void)state;
    static const double samples[] = {DBL_MAX, 1.797693134862315e308, -DBL_MAX, 1.5e308};
    for (size_t i = 0; i < sizeof(samples) / sizeof(samples[0]); i++) {
        json_t *v = json_pack("{s:f}", "x", samples[i]);
        struct fx_problem pb;
        fx_problem_init(&pb);
        double d = 0;
        bool present = true;
        fx_json_get_number(v, "x", "", true, -1e308 * 10, &pb, &d, &present);
        assert_int_equal(pb.n, 1);
        assert_false(present);
        fx_problem_cleanup(&pb);
        json_decref(v);
    }
}

static void test_canonical_reads_back(void **state)
{
    (void)state;
    static const double samples[] = {
        FX_JSON_MAX_MAGNITUDE, -FX_JSON_MAX_MAGNITUDE, DBL_MIN, 4.9e-324, 0.1, 1e26, 0.6};
    for (size_t i = 0; i < sizeof(samples) / sizeof(samples[0]); i++) {
        json_t *v = json_pack("{s:f}", "x", samples[i]);
        char *c = fx_json_canonical(v, NULL);
        json_t *back = NULL;
        char msg[256] = "";
        if (fx_json_parse(c, strlen(c), &back, msg, sizeof(msg)) != FX_OK)
            fail_msg("canonical %s of %.17g does not parse back: %s", c, samples[i], msg);
        char *c2 = fx_json_canonical(back, NULL);
        assert_string_equal(c, c2);
        free(c2);
        free(c);
        json_decref(back);
        json_decref(v);
    }
}

/* jansson's own canonical dump, which fx_json_canonical() must equal byte for byte. */
static char *jansson_canonical(const json_t *v)
{
    char *s = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT | JSON_SORT_KEYS |
                                JSON_REAL_PRECISION(FX_JSON_REAL_DIGITS));
    assert_non_null(s);
    return s;
}

static void assert_same_as_jansson(const json_t *v)
{
    size_t len = 0;
    char *ours = fx_json_canonical(v, &len);
    char *theirs = jansson_canonical(v);
    if (strcmp(ours, theirs) != 0 || len != strlen(theirs))
        fail_msg("fx_json_canonical %s\n            jansson %s", ours, theirs);
    free(ours);
    free(theirs);
    /* the same without sorting: members in insertion order, as answers are rendered */
    ours = fx_json_compact(v, &len);
    theirs = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT | JSON_REAL_PRECISION(FX_JSON_REAL_DIGITS));
    assert_non_null(theirs);
    if (strcmp(ours, theirs) != 0 || len != strlen(theirs))
        fail_msg("fx_json_compact %s\n         jansson %s", ours, theirs);
    free(ours);
    free(theirs);
}

/* A pseudo-random document of every JSON type, keys and strings with escapes. */
static json_t *random_doc(unsigned *seed, int depth)
{
    static const char *const strs[] = {"", "a", "ab", "b", "A", "\"quoted\"", "back\\slash",
                                       "tab\there", "nl\n\r\b\f", "\x01\x1f\x7f",
                                       "caf\xc3\xa9", "\xe2\x80\xa8 \xf0\x9f\x98\x80",
                                       "/slash/", "\xd7\xa9\xd7\x9c\xd7\x95\xd7\x9d"};
    static const double reals[] = {0.0, -0.0, 0.1, 1.0, -1.5, 1e26, 1e-7, 1.5e300, 5e-324,
                                   123456789012345678.0, 3.141592653589793, 1e15, 1e16,
                                   -2.5e-10, 8.4e23, 0.30000000000000004};
    int r = rand_r(seed) % (depth > 3 ? 6 : 8);
    switch (r) {
    case 0: return json_string(strs[rand_r(seed) % FX_ARRAY_LEN(strs)]);
    case 1: return json_integer((json_int_t)rand_r(seed) * (rand_r(seed) % 2 ? 1 : -1) *
                                (json_int_t)rand_r(seed));
    case 2: return json_real(reals[rand_r(seed) % FX_ARRAY_LEN(reals)]);
    case 3: return json_boolean(rand_r(seed) % 2);
    case 4: return json_null();
    case 5: return json_integer(rand_r(seed) % 2 ? INT64_MAX : INT64_MIN);
    case 6: {
        json_t *a = json_array();
        for (int i = rand_r(seed) % 5; i > 0; i--)
            json_array_append_new(a, random_doc(seed, depth + 1));
        return a;
    }
    default: {
        json_t *o = json_object();
        for (int i = rand_r(seed) % 7; i > 0; i--)
            json_object_set_new(o, strs[rand_r(seed) % FX_ARRAY_LEN(strs)],
                                random_doc(seed, depth + 1));
        return o;
    }
    }
}

static void test_canonical_equals_jansson(void **state)
{
    (void)state;
    unsigned seed = 20261127;
    for (int i = 0; i < 20000; i++) {
        json_t *v = random_doc(&seed, 0);
        assert_same_as_jansson(v);
        json_decref(v);
    }
    /* reals at every magnitude, as the random ones may miss some */
    for (double d = 1e-300; d < 1e300; d *= 7.77) {
        json_t *v = json_pack("[f,f]", d, -d);
        assert_same_as_jansson(v);
        json_decref(v);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_depth_limit),    cmocka_unit_test(test_huge_depth_refused_cheaply),
        cmocka_unit_test(test_duplicate_keys), cmocka_unit_test(test_malformed),
        cmocka_unit_test(test_only_keys),      cmocka_unit_test(test_getters_pointers),
        cmocka_unit_test(test_getters_values), cmocka_unit_test(test_ptr_escaping),
        cmocka_unit_test(test_canonical),      cmocka_unit_test(test_canonical_reads_back),
        cmocka_unit_test(test_canonical_equals_jansson), cmocka_unit_test(test_huge_numbers_are_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
