/*
 * test_screen.c: rule evaluation (SPEC §4, src/policy/screen.h). The
 * explanation names every rule with whether it matched, the notice's value and
 * the threshold; an absent value never matches; fx_screen_result, which builds
 * no explanation, always agrees with fx_screen_notice.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "policy/policy.h"
#include "policy/screen.h"

#include <stdio.h>
#include <string.h>

#define HEAD                                                                                       \
    "{\"name\": \"t\", \"min_notice_days\": 90, \"access_window_days\": 30,"                       \
    " \"incident_report_hours\": 72, \"covered_if_any\": "

static void load(const char *text, struct fx_policy *pol)
{
    struct fx_problem pb;
    fx_problem_init(&pb);
    enum fx_err err = fx_policy_parse(text, strlen(text), pol, &pb);
    for (size_t i = 0; i < pb.n; i++)
        print_message("  %s: %s\n", pb.errors[i].field, pb.errors[i].message);
    fx_problem_cleanup(&pb);
    assert_int_equal(err, FX_OK);
}

static json_t *fields(const char *text)
{
    json_t *f = json_loads(text, 0, NULL);
    assert_non_null(f);
    return f;
}

/* Screens with both functions, checks they agree, returns the explanation. */
static json_t *screen(const struct fx_policy *pol, const json_t *f, bool expect)
{
    json_t *expl = NULL;
    bool covered = fx_screen_notice(pol, f, &expl);
    assert_int_equal(covered, expect);
    assert_int_equal(fx_screen_result(pol, f), expect);
    assert_string_equal(json_string_value(json_object_get(expl, "result")),
                        expect ? "likely_covered" : "likely_not_covered");
    return expl;
}

static const json_t *rule(const json_t *expl, size_t i)
{
    return json_array_get(json_object_get(expl, "rules"), i);
}

static void test_default_policy_explained(void **state)
{
    (void)state;
    struct fx_policy pol;
    load(fx_policy_default, &pol);
    json_t *f = fields("{\"training_compute_flop\": 2e26, \"evaluations\": [{\"domain\":"
                       " \"cyber\", \"benchmark\": \"CyBench\", \"score\": 31, \"max_score\":"
                       " 100}]}");
    json_t *e = screen(&pol, f, true);
    const json_t *compute = rule(e, 0), *cyber = rule(e, 1);
    assert_string_equal(json_string_value(json_object_get(compute, "id")), "compute");
    assert_true(json_is_true(json_object_get(compute, "matched")));
    assert_true(json_number_value(json_object_get(compute, "value")) == 2e26);
    assert_true(json_number_value(json_object_get(compute, "threshold")) == 1e26);
    assert_string_equal(json_string_value(json_object_get(cyber, "metric")), "score_ratio");
    assert_true(json_is_false(json_object_get(cyber, "matched")));
    /* benchmarks compare without regard to case; the ratio is score / max_score */
    assert_true(json_number_value(json_object_get(cyber, "value")) > 0.309 &&
                json_number_value(json_object_get(cyber, "value")) < 0.311);
    assert_string_equal(json_string_value(json_object_get(json_object_get(e, "policy"), "sha256")),
                        pol.sha256);
    json_decref(e);
    json_decref(f);
    fx_policy_cleanup(&pol);
}

static void test_absent_values_never_match(void **state)
{
    (void)state;
    struct fx_policy pol;
    load(HEAD "[{\"id\": \"a\", \"field\": \"parameter_count\", \"op\": \"<\", \"value\": 1},"
              " {\"id\": \"b\", \"eval_domain\": \"bio\", \"benchmark\": \"vct\","
              " \"metric\": \"score_ratio\", \"op\": \"<\", \"value\": 1}]}",
         &pol);
    /* no parameter_count; an evaluation without max_score has no ratio */
    json_t *f = fields("{\"evaluations\": [{\"domain\": \"bio\", \"benchmark\": \"vct\","
                       " \"score\": 0.1}]}");
    json_t *e = screen(&pol, f, false);
    assert_true(json_is_null(json_object_get(rule(e, 0), "value")));
    assert_true(json_is_null(json_object_get(rule(e, 1), "value")));
    json_decref(e);
    json_decref(f);
    fx_policy_cleanup(&pol);
}

static void test_groups(void **state)
{
    (void)state;
    struct fx_policy pol;
    load(HEAD "[{\"id\": \"both\", \"all\": ["
              " {\"id\": \"big\", \"field\": \"training_compute_flop\", \"op\": \">=\","
              " \"value\": 1e25},"
              " {\"id\": \"either\", \"any\": ["
              "  {\"id\": \"cyber\", \"eval_domain\": \"cyber\", \"benchmark\": \"range\","
              "   \"metric\": \"score\", \"op\": \">\", \"value\": 40},"
              "  {\"id\": \"bio\", \"eval_domain\": \"bio\", \"benchmark\": \"vct\","
              "   \"metric\": \"score\", \"op\": \">\", \"value\": 40}]}]}]}",
         &pol);
    struct {
        const char *fields;
        bool covered;
    } cases[] = {
        {"{\"training_compute_flop\": 2e25, \"evaluations\": [{\"domain\": \"bio\","
         " \"benchmark\": \"vct\", \"score\": 41}]}",
         true},
        {"{\"training_compute_flop\": 2e25, \"evaluations\": [{\"domain\": \"bio\","
         " \"benchmark\": \"vct\", \"score\": 40}]}",
         false},
        {"{\"training_compute_flop\": 2e24, \"evaluations\": [{\"domain\": \"cyber\","
         " \"benchmark\": \"RANGE\", \"score\": 90}]}",
         false},
        {"{\"training_compute_flop\": 1e25, \"evaluations\": [{\"domain\": \"cyber\","
         " \"benchmark\": \"range\", \"score\": 10}, {\"domain\": \"cyber\", \"benchmark\":"
         " \"range\", \"score\": 90}]}",
         true},
        {"{}", false},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        json_t *f = fields(cases[i].fields);
        json_t *e = screen(&pol, f, cases[i].covered);
        const json_t *g = rule(e, 0);
        assert_string_equal(json_string_value(json_object_get(g, "group")), "all");
        assert_string_equal(json_string_value(json_object_get(g, "id")), "both");
        /* no short cut in the explanation: every rule is listed */
        const json_t *inner = json_array_get(json_object_get(g, "rules"), 1);
        assert_int_equal(json_array_size(json_object_get(inner, "rules")), 2);
        json_decref(e);
        json_decref(f);
    }
    fx_policy_cleanup(&pol);
}

static void test_every_operator(void **state)
{
    (void)state;
    static const struct {
        const char *op;
        bool at_1, at_2, at_3; /* value 1, 2, 3 against threshold 2 */
    } ops[] = {{">=", false, true, true}, {">", false, false, true}, {"<=", true, true, false},
               {"<", true, false, false}, {"==", false, true, false}, {"!=", true, false, true}};
    for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++) {
        char text[512];
        snprintf(text, sizeof(text),
                 HEAD "[{\"id\": \"r\", \"field\": \"parameter_count\", \"op\": \"%s\","
                      " \"value\": 2}]}",
                 ops[i].op);
        struct fx_policy pol;
        load(text, &pol);
        bool want[3] = {ops[i].at_1, ops[i].at_2, ops[i].at_3};
        for (int v = 1; v <= 3; v++) {
            json_t *f = json_pack("{s:i}", "parameter_count", v);
            json_decref(screen(&pol, f, want[v - 1]));
            json_decref(f);
        }
        fx_policy_cleanup(&pol);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_default_policy_explained),
        cmocka_unit_test(test_absent_values_never_match),
        cmocka_unit_test(test_groups),
        cmocka_unit_test(test_every_operator),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
