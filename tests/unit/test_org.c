/*
 * test_org.c: validation of the bodies that create organizations and users
 * (SPEC §2, src/records/org.h): agencies carry a mission and operators a
 * sector, nobody makes a second coordinator, reviewers belong to the
 * coordinator or an agency.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "common/json.h"
#include "records/org.h"

#include <stdio.h>
#include <string.h>

static json_t *body(const char *text)
{
    char msg[256];
    json_t *v = NULL;
    if (fx_json_parse(text, strlen(text), &v, msg, sizeof(msg)) != FX_OK)
        fail_msg("test body does not parse: %s", msg);
    return v;
}

static bool has_error(const struct fx_problem *pb, const char *field)
{
    for (size_t i = 0; i < pb->n; i++)
        if (strcmp(pb->errors[i].field, field) == 0)
            return true;
    return false;
}

/* Validates an org body; returns the number of errors, and whether field has one. */
static size_t org(const char *text, struct fx_org_input *in, const char *field, bool *on_field)
{
    struct fx_problem pb;
    json_t *v = body(text);
    fx_problem_init(&pb);
    fx_org_validate(v, in, &pb);
    size_t n = pb.n;
    if (on_field)
        *on_field = field && has_error(&pb, field);
    fx_problem_cleanup(&pb);
    json_decref(v); /* in's strings are borrowed from v: read them before */
    return n;
}

static void test_org_valid(void **state)
{
    (void)state;
    struct fx_org_input in;
    struct fx_problem pb;
    json_t *v = body("{\"name\": \"Cyber Agency\", \"kind\": \"agency\", \"mission\":"
                     " \"national_security\"}");
    fx_problem_init(&pb);
    fx_org_validate(v, &in, &pb);
    assert_int_equal(pb.n, 0);
    assert_string_equal(in.name, "Cyber Agency");
    assert_string_equal(in.kind, "agency");
    assert_string_equal(in.mission, "national_security");
    assert_null(in.sector);
    fx_problem_cleanup(&pb);
    json_decref(v);

    assert_int_equal(org("{\"name\": \"Atlas Labs\", \"kind\": \"developer\"}", &in, NULL, NULL),
                     0);
    assert_int_equal(org("{\"name\": \"General Hospital\", \"kind\": \"operator\", \"sector\":"
                         " \"healthcare_public_health\"}",
                         &in, NULL, NULL),
                     0);
}

static void test_org_refused(void **state)
{
    (void)state;
    struct fx_org_input in;
    bool on = false;
    assert_true(org("{\"name\": \"Office 2\", \"kind\": \"coordinator\"}", &in, "/kind", &on) > 0);
    assert_true(on);
    assert_true(org("{\"name\": \"A\", \"kind\": \"agency\"}", &in, "/mission", &on) > 0);
    assert_true(on);
    assert_true(org("{\"name\": \"O\", \"kind\": \"operator\"}", &in, "/sector", &on) > 0);
    assert_true(on);
    assert_true(org("{\"name\": \"D\", \"kind\": \"developer\", \"mission\": \"civilian\"}", &in,
                    "/mission", &on) > 0);
    assert_true(on);
    assert_true(org("{\"name\": \"D\", \"kind\": \"developer\", \"sector\": \"energy\"}", &in,
                    "/sector", &on) > 0);
    assert_true(on);
    assert_true(org("{\"name\": \"O\", \"kind\": \"operator\", \"sector\": \"mining\"}", &in,
                    "/sector", &on) > 0);
    assert_true(on);
    assert_true(org("{\"name\": \"\", \"kind\": \"lab\", \"x\": 1}", &in, "/x", &on) >= 3);
    assert_true(on);
}

/* JSON null is how a client says "no value": an agency still needs its mission. */
static void test_agency_null_mission_refused(void **state)
{
    (void)state;
    struct fx_org_input in;
    bool on = false;
    size_t n =
        org("{\"name\": \"A\", \"kind\": \"agency\", \"mission\": null}", &in, "/mission", &on);
    assert_true(n > 0);
    assert_true(on);
}

static void test_operator_null_sector_refused(void **state)
{
    (void)state;
    struct fx_org_input in;
    bool on = false;
    size_t n =
        org("{\"name\": \"O\", \"kind\": \"operator\", \"sector\": null}", &in, "/sector", &on);
    assert_true(n > 0);
    assert_true(on);
}

static size_t user(const char *text, enum fx_org_kind kind, const char *field, bool *on_field)
{
    struct fx_user_input in;
    struct fx_problem pb;
    json_t *v = body(text);
    fx_problem_init(&pb);
    fx_user_validate(v, kind, &in, &pb);
    size_t n = pb.n;
    if (n == 0) {
        assert_non_null(in.email);
        assert_non_null(in.name);
        assert_non_null(in.role);
    }
    if (on_field)
        *on_field = field && has_error(&pb, field);
    fx_problem_cleanup(&pb);
    json_decref(v);
    return n;
}

static void test_user(void **state)
{
    (void)state;
    bool on = false;
    const char *reviewer =
        "{\"email\": \"r@gov.example\", \"name\": \"Rae\", \"role\": \"reviewer\"}";
    assert_int_equal(user(reviewer, FX_ORG_COORDINATOR, NULL, NULL), 0);
    assert_int_equal(user(reviewer, FX_ORG_AGENCY, NULL, NULL), 0);
    assert_int_equal(user(reviewer, FX_ORG_DEVELOPER, "/role", &on), 1);
    assert_true(on);
    assert_int_equal(user(reviewer, FX_ORG_OPERATOR, "/role", &on), 1);
    assert_true(on);

    /* as they appear inside the JSON string (the tab escaped) */
    static const char *const bad_email[] = {
        "a@@b.example",  "@b.example",      "a@b", "a@.b", "a@b.",
        "a b@c.example", "a@b\\tc.example", NULL};
    for (size_t i = 0; bad_email[i]; i++) {
        char text[256];
        snprintf(text, sizeof(text), "{\"email\": \"%s\", \"name\": \"X\", \"role\": \"viewer\"}",
                 bad_email[i]);
        if (user(text, FX_ORG_DEVELOPER, "/email", &on) == 0 || !on)
            fail_msg("email \"%s\" accepted", bad_email[i]);
    }
    assert_int_equal(user("{\"email\": \"m@atlas.example\", \"name\": \"Mo\", \"role\":"
                          " \"member\"}",
                          FX_ORG_DEVELOPER, NULL, NULL),
                     0);
    assert_true(user("{\"email\": 1, \"name\": true, \"role\": \"owner\", \"org\": \"x\"}",
                     FX_ORG_DEVELOPER, "/org", &on) >= 4);
    assert_true(on);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_org_valid),
        cmocka_unit_test(test_org_refused),
        cmocka_unit_test(test_agency_null_mission_refused),
        cmocka_unit_test(test_operator_null_sector_refused),
        cmocka_unit_test(test_user),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
