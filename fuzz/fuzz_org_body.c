/*
 * fuzz_org_body.c: the bodies of POST /api/v1/orgs and POST
 * /api/v1/orgs/{org}/users (SPEC §2): the checked JSON parser, then
 * fx_org_validate, and fx_user_validate for each kind of org the user joins.
 *
 * Invariants, when a body is accepted (no field errors):
 *  - org: a non-empty name; kind agency, developer or operator (never a second
 *    coordinator); an agency has a mission and only an agency; an operator has
 *    a sector and only an operator;
 *  - user: email with one '@', name, a known role; reviewers only in the
 *    coordinator or an agency.
 * When refused, every error names a field as a JSON Pointer.
 */
#include "fuzz.h"

#include "common/json.h"
#include "records/org.h"

#include <sodium.h>
#include <string.h>

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    FUZZ_CHECK(sodium_init() >= 0);
    return 0;
}

static void check_errors(const struct fx_problem *pb)
{
    for (size_t i = 0; i < pb->n; i++) {
        FUZZ_CHECK(pb->errors[i].field[0] == '\0' || pb->errors[i].field[0] == '/');
        FUZZ_CHECK(pb->errors[i].message[0] != '\0');
    }
}

static bool one_of(const char *s, const char *const *values)
{
    for (size_t i = 0; values[i]; i++)
        if (strcmp(s, values[i]) == 0)
            return true;
    return false;
}

static void check_org(json_t *body)
{
    static const char *const kinds[] = {"agency", "developer", "operator", NULL};
    static const char *const missions[] = {"civilian", "national_security", NULL};
    struct fx_org_input in;
    struct fx_problem pb;
    fx_problem_init(&pb);
    fx_org_validate(body, &in, &pb);
    check_errors(&pb);
    if (!fx_problem_any(&pb)) {
        FUZZ_CHECK(in.name != NULL && in.name[0] != '\0');
        FUZZ_CHECK(in.kind != NULL && one_of(in.kind, kinds));
        bool agency = strcmp(in.kind, "agency") == 0;
        bool op = strcmp(in.kind, "operator") == 0;
        FUZZ_CHECK(agency == (in.mission != NULL));
        FUZZ_CHECK(!in.mission || one_of(in.mission, missions));
        FUZZ_CHECK(op == (in.sector != NULL));
        FUZZ_CHECK(!in.sector || one_of(in.sector, fx_sectors));
    }
    fx_problem_cleanup(&pb);
}

static void check_user(json_t *body, enum fx_org_kind kind)
{
    static const char *const roles[] = {"admin", "member", "reviewer", "viewer", NULL};
    struct fx_user_input in;
    struct fx_problem pb;
    fx_problem_init(&pb);
    fx_user_validate(body, kind, &in, &pb);
    check_errors(&pb);
    if (!fx_problem_any(&pb)) {
        FUZZ_CHECK(in.email != NULL && in.name != NULL && in.role != NULL);
        FUZZ_CHECK(in.name[0] != '\0');
        const char *at = strchr(in.email, '@');
        FUZZ_CHECK(at != NULL && at != in.email && strchr(at + 1, '@') == NULL);
        FUZZ_CHECK(one_of(in.role, roles));
        if (strcmp(in.role, "reviewer") == 0)
            FUZZ_CHECK(kind == FX_ORG_COORDINATOR || kind == FX_ORG_AGENCY);
    }
    fx_problem_cleanup(&pb);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    json_t *body = NULL;
    char msg[256];
    if (fx_json_parse((const char *)data, size, &body, msg, sizeof(msg)) != FX_OK)
        return 0;
    /* The API refuses a body that is not an object before validation (request.c). */
    if (json_is_object(body)) {
        check_org(body);
        check_user(body, FX_ORG_COORDINATOR);
        check_user(body, FX_ORG_AGENCY);
        check_user(body, FX_ORG_DEVELOPER);
        check_user(body, FX_ORG_OPERATOR);
    }
    json_decref(body);
    return 0;
}
