/*
 * test_policy.c: policy documents (SPEC §4, src/policy/policy.h): the default
 * parses, a bad policy is refused whole with every problem listed, and the
 * version is the SHA-256 of the canonical bytes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "common/buf.h"
#include "common/json.h"
#include "common/limits.h"
#include "policy/policy.h"

#include <sodium.h>
#include <stdio.h>
#include <string.h>

#define HEAD                                                                                       \
    "{\"name\": \"p\", \"min_notice_days\": 90, \"access_window_days\": 30,"                       \
    " \"incident_report_hours\": 72, \"covered_if_any\": "

#define LEAF                                                                                       \
    "{\"id\": \"c\", \"field\": \"training_compute_flop\", \"op\": \">=\", \"value\": 1e26}"

struct result {
    enum fx_err err;
    struct fx_policy pol;
    struct fx_problem pb;
};

static void parse_n(const char *text, size_t len, struct result *r)
{
    fx_problem_init(&r->pb);
    r->err = fx_policy_parse(text, len, &r->pol, &r->pb);
}

static void parse(const char *text, struct result *r)
{
    parse_n(text, strlen(text), r);
}

static void release(struct result *r)
{
    fx_policy_cleanup(&r->pol);
    fx_problem_cleanup(&r->pb);
}

static void assert_error(const struct result *r, const char *field, const char *msg_part)
{
    for (size_t i = 0; i < r->pb.n; i++)
        if (strcmp(r->pb.errors[i].field, field) == 0 &&
            (msg_part == NULL || strstr(r->pb.errors[i].message, msg_part)))
            return;
    for (size_t i = 0; i < r->pb.n; i++)
        print_message("  have \"%s\": %s\n", r->pb.errors[i].field, r->pb.errors[i].message);
    fail_msg("expected an error on \"%s\"", field);
}

static void assert_refused(struct result *r)
{
    assert_int_equal(r->err, FX_EINVAL);
    assert_true(r->pb.n >= 1);
    assert_null(r->pol.doc);
}

static void test_default_policy(void **state)
{
    (void)state;
    struct result r;
    parse(fx_policy_default, &r);
    assert_int_equal(r.err, FX_OK);
    assert_int_equal(r.pb.n, 0);
    assert_string_equal(r.pol.name, "draft-order-2026");
    assert_true(r.pol.min_notice_days == 90);
    assert_true(r.pol.access_window_days == 30);
    assert_true(r.pol.incident_report_hours == 72);
    assert_non_null(r.pol.doc);
    assert_int_equal(strlen(r.pol.sha256), 64);

    /* the version is the SHA-256 of the canonical bytes */
    size_t clen = 0;
    char *canon = fx_json_canonical(r.pol.doc, &clen);
    unsigned char d[32];
    char hex[65];
    crypto_hash_sha256(d, (const unsigned char *)canon, clen);
    for (size_t i = 0; i < 32; i++)
        snprintf(hex + 2 * i, 3, "%02x", d[i]);
    assert_string_equal(r.pol.sha256, hex);

    /* and parsing those canonical bytes gives the same version */
    struct result again;
    parse_n(canon, clen, &again);
    assert_int_equal(again.err, FX_OK);
    assert_string_equal(again.pol.sha256, r.pol.sha256);
    release(&again);
    free(canon);

    /* whitespace and key order do not change the version */
    parse("{\"covered_if_any\": [{\"value\": 1e26, \"op\": \">=\", \"field\":"
          " \"training_compute_flop\", \"id\": \"compute\"}, {\"value\": 0.5, \"op\": \">=\","
          " \"metric\": \"score_ratio\", \"benchmark\": \"cybench\", \"eval_domain\": \"cyber\","
          " \"id\": \"cyber-eval\"}], \"incident_report_hours\": 72, \"access_window_days\": 30,"
          " \"min_notice_days\": 90, \"name\": \"draft-order-2026\"}",
          &again);
    assert_int_equal(again.err, FX_OK);
    assert_string_equal(again.pol.sha256, r.pol.sha256);
    release(&again);
    release(&r);
}

static void test_groups_accepted(void **state)
{
    (void)state;
    struct result r;
    parse(HEAD
          "[{\"all\": [" LEAF ", {\"any\": [{\"id\": \"b\", \"eval_domain\": \"bio\","
          " \"benchmark\": \"vct\", \"metric\": \"score\", \"op\": \">\", \"value\": 20}]}]}]}",
          &r);
    assert_int_equal(r.err, FX_OK);
    release(&r);
    parse(HEAD "[]}", &r);
    assert_int_equal(r.err, FX_OK);
    release(&r);
}

static void test_unknown_op(void **state)
{
    (void)state;
    struct result r;
    parse(HEAD "[{\"id\": \"x\", \"field\": \"parameter_count\", \"op\": \"=~\", \"value\": 1}]}",
          &r);
    assert_refused(&r);
    assert_error(&r, "/covered_if_any/0/op", ">=");
    release(&r);
}

static void test_rule_on_unknown_field(void **state)
{
    (void)state;
    struct result r;
    parse(HEAD "[{\"id\": \"x\", \"field\": \"model_name\", \"op\": \">=\", \"value\": 1}]}", &r);
    assert_refused(&r);
    assert_error(&r, "/covered_if_any/0/field", "training_compute_flop");
    release(&r);

    /* a rule names a field or an eval_domain: not neither, not both */
    parse(HEAD "[{\"id\": \"x\", \"op\": \">=\", \"value\": 1}, {\"id\": \"y\", \"field\":"
               " \"parameter_count\", \"eval_domain\": \"cyber\", \"op\": \">\", \"value\": 1}]}",
          &r);
    assert_refused(&r);
    assert_error(&r, "/covered_if_any/0", "either");
    assert_error(&r, "/covered_if_any/1", "either");
    release(&r);
}

static void test_non_numeric_value(void **state)
{
    (void)state;
    struct result r;
    parse(HEAD "[{\"id\": \"x\", \"field\": \"parameter_count\", \"op\": \">\", \"value\":"
               " \"1e11\"}]}",
          &r);
    assert_refused(&r);
    assert_error(&r, "/covered_if_any/0/value", "number");
    release(&r);
}

static void test_all_and_any(void **state)
{
    (void)state;
    struct result r;
    parse(HEAD "[{\"all\": [" LEAF "], \"any\": [" LEAF "]}]}", &r);
    assert_refused(&r);
    assert_error(&r, "/covered_if_any/0", "either all or any");
    release(&r);
}

/* A policy whose only rule is `depth` nested all-groups around LEAF. Caller frees. */
static char *nested_groups(size_t depth, size_t *len_out)
{
    struct fx_buf b;
    fx_buf_init(&b, 64 * 1024 * 1024);
    assert_int_equal(fx_buf_adds(&b, HEAD "["), FX_OK);
    for (size_t i = 0; i < depth; i++)
        assert_int_equal(fx_buf_adds(&b, "{\"all\": ["), FX_OK);
    assert_int_equal(fx_buf_adds(&b, LEAF), FX_OK);
    for (size_t i = 0; i < depth; i++)
        assert_int_equal(fx_buf_adds(&b, "]}"), FX_OK);
    assert_int_equal(fx_buf_adds(&b, "]}"), FX_OK);
    return fx_buf_take(&b, len_out);
}

static void test_deep_groups(void **state)
{
    (void)state;
    struct result r;
    size_t len = 0;

    char *text = nested_groups(10000, &len);
    parse_n(text, len, &r);
    assert_refused(&r);
    release(&r);
    free(text);

    /* within the JSON depth limit, the policy's own group limit applies */
    text = nested_groups(FX_MAX_POLICY_DEPTH, &len);
    parse_n(text, len, &r);
    assert_int_equal(r.err, FX_OK);
    release(&r);
    free(text);

    text = nested_groups(FX_MAX_POLICY_DEPTH + 1, &len);
    parse_n(text, len, &r);
    assert_refused(&r);
    bool found = false;
    for (size_t i = 0; i < r.pb.n; i++)
        found |= strstr(r.pb.errors[i].message, "nest deeper") != NULL;
    assert_true(found);
    release(&r);
    free(text);
}

static void test_too_many_rules(void **state)
{
    (void)state;
    struct fx_buf b;
    size_t len = 0;
    fx_buf_init(&b, 1024 * 1024);
    assert_int_equal(fx_buf_adds(&b, HEAD "["), FX_OK);
    for (int i = 0; i <= FX_MAX_POLICY_RULES; i++)
        assert_int_equal(fx_buf_printf(&b, "%s" LEAF, i ? "," : ""), FX_OK);
    assert_int_equal(fx_buf_adds(&b, "]}"), FX_OK);
    char *text = fx_buf_take(&b, &len);
    struct result r;
    parse_n(text, len, &r);
    assert_refused(&r);
    release(&r);
    free(text);
}

static void test_every_problem_listed(void **state)
{
    (void)state;
    struct result r;
    parse("{\"name\": \"\", \"min_notice_days\": -1, \"access_window_days\": 0,"
          " \"incident_report_hours\": \"72\", \"colour\": 1, \"covered_if_any\": [5,"
          " {\"id\": \"x\", \"field\": \"parameter_count\", \"op\": \"=~\", \"value\": 1}]}",
          &r);
    assert_refused(&r);
    assert_error(&r, "/name", NULL);
    assert_error(&r, "/min_notice_days", NULL);
    assert_error(&r, "/access_window_days", NULL);
    assert_error(&r, "/incident_report_hours", NULL);
    assert_error(&r, "/colour", "unknown");
    assert_error(&r, "/covered_if_any/0", "object");
    assert_error(&r, "/covered_if_any/1/op", NULL);
    release(&r);

    parse("{\"name\": \"p\", \"min_notice_days\": 90, \"access_window_days\": 30,"
          " \"incident_report_hours\": 72}",
          &r);
    assert_refused(&r);
    assert_error(&r, "/covered_if_any", "required");
    release(&r);
}

static void test_not_a_policy(void **state)
{
    (void)state;
    struct result r;
    parse("[1, 2]", &r);
    assert_refused(&r);
    release(&r);
    parse("{\"name\": ", &r);
    assert_refused(&r);
    release(&r);
    parse_n("", 0, &r);
    assert_refused(&r);
    release(&r);
}

/*
 * The active policy is stored as its canonical bytes and parsed again on load
 * (fx_policy_load_active): whatever fx_policy_parse accepts must come back.
 */
static void test_accepted_policy_reloads(void **state)
{
    (void)state;
    static const char *const values[] = {"1.7976931348623157e308",
                                         "1.797693134862315e308",
                                         "0.1234567890123456789",
                                         "-1e308",
                                         "5e-324",
                                         NULL};
    for (size_t i = 0; values[i]; i++) {
        char text[512];
        struct result r, again;
        snprintf(text, sizeof(text),
                 HEAD "[{\"id\": \"x\", \"field\": \"parameter_count\", \"op\": \">\","
                      " \"value\": %s}]}",
                 values[i]);
        parse(text, &r);
        if (r.err == FX_OK) {
            size_t clen = 0;
            char *canon = fx_json_canonical(r.pol.doc, &clen);
            parse_n(canon, clen, &again);
            if (again.err != FX_OK)
                fail_msg("value %s accepted, but its canonical form %s does not parse again",
                         values[i], canon);
            assert_string_equal(again.pol.sha256, r.pol.sha256);
            release(&again);
            free(canon);
        }
        release(&r);
    }
}

int main(void)
{
    if (sodium_init() < 0)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_default_policy),
        cmocka_unit_test(test_groups_accepted),
        cmocka_unit_test(test_unknown_op),
        cmocka_unit_test(test_rule_on_unknown_field),
        cmocka_unit_test(test_non_numeric_value),
        cmocka_unit_test(test_all_and_any),
        cmocka_unit_test(test_deep_groups),
        cmocka_unit_test(test_too_many_rules),
        cmocka_unit_test(test_every_problem_listed),
        cmocka_unit_test(test_not_a_policy),
        cmocka_unit_test(test_accepted_policy_reloads),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
