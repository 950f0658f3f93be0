/*
 * test_access.c: the need-to-know gate for notices (SPEC §2, src/auth/access.h),
 * as a table of caller × notice status × action. A read that is not allowed is
 * FX_ENOTFOUND (the API answers 404 and leaks no existence); a write on a
 * readable notice that is not allowed is FX_EFORBIDDEN (403).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "auth/access.h"

#include <stdio.h>
#include <string.h>

#define DEV_A  "0190b6f0-0000-7000-8000-00000000000a"
#define DEV_B  "0190b6f0-0000-7000-8000-00000000000b"
#define COORD  "0190b6f0-0000-7000-8000-00000000000c"
#define AGENCY "0190b6f0-0000-7000-8000-00000000000d"
#define OPER   "0190b6f0-0000-7000-8000-00000000000e"

static struct fx_principal who(const char *org, enum fx_org_kind kind, enum fx_role role)
{
    struct fx_principal p;
    memset(&p, 0, sizeof(p));
    snprintf(p.org_id, sizeof(p.org_id), "%s", org);
    snprintf(p.user_id, sizeof(p.user_id), "0190b6f0-0000-7000-8000-%012x", (unsigned)role + 1);
    p.kind = kind;
    p.role = role;
    p.mission = kind == FX_ORG_AGENCY ? FX_MISSION_CIVILIAN : FX_MISSION_NONE;
    return p;
}

static struct fx_subject notice_of(const char *org, const char *status, bool assigned)
{
    struct fx_subject s;
    memset(&s, 0, sizeof(s));
    s.kind = FX_REC_NOTICE;
    s.org_id = org;
    s.status = status;
    s.agency_assigned = assigned;
    return s;
}

static const char *err_name(enum fx_err e)
{
    switch (e) {
    case FX_OK:
        return "FX_OK";
    case FX_ENOTFOUND:
        return "FX_ENOTFOUND";
    case FX_EFORBIDDEN:
        return "FX_EFORBIDDEN";
    default:
        return fx_err_str(e);
    }
}

struct row {
    const char *caller;
    const char *org;
    enum fx_org_kind kind;
    enum fx_role role;
    const char *status;
    bool assigned;
    enum fx_act act;
    enum fx_err want;
};

static const struct row table[] = {
    /* the developer org reads its own notices in every state, whatever the role */
    {"owner admin", DEV_A, FX_ORG_DEVELOPER, FX_ROLE_ADMIN, "draft", false, FX_ACT_READ, FX_OK},
    {"owner member", DEV_A, FX_ORG_DEVELOPER, FX_ROLE_MEMBER, "draft", false, FX_ACT_READ, FX_OK},
    {"owner viewer", DEV_A, FX_ORG_DEVELOPER, FX_ROLE_VIEWER, "draft", false, FX_ACT_READ, FX_OK},
    {"owner viewer", DEV_A, FX_ORG_DEVELOPER, FX_ROLE_VIEWER, "submitted", false, FX_ACT_READ,
     FX_OK},
    {"owner member", DEV_A, FX_ORG_DEVELOPER, FX_ROLE_MEMBER, "withdrawn", false, FX_ACT_READ,
     FX_OK},
    /* the coordinator reads what was submitted, never a draft */
    {"coordinator reviewer", COORD, FX_ORG_COORDINATOR, FX_ROLE_REVIEWER, "submitted", false,
     FX_ACT_READ, FX_OK},
    {"coordinator viewer", COORD, FX_ORG_COORDINATOR, FX_ROLE_VIEWER, "under_review", false,
     FX_ACT_READ, FX_OK},
    {"coordinator admin", COORD, FX_ORG_COORDINATOR, FX_ROLE_ADMIN, "draft", false, FX_ACT_READ,
     FX_ENOTFOUND},
    {"coordinator reviewer", COORD, FX_ORG_COORDINATOR, FX_ROLE_REVIEWER, "draft", false,
     FX_ACT_READ, FX_ENOTFOUND},
    /* another developer never learns the notice exists */
    {"other developer admin", DEV_B, FX_ORG_DEVELOPER, FX_ROLE_ADMIN, "submitted", false,
     FX_ACT_READ, FX_ENOTFOUND},
    {"other developer member", DEV_B, FX_ORG_DEVELOPER, FX_ROLE_MEMBER, "draft", false, FX_ACT_READ,
     FX_ENOTFOUND},
    {"other developer admin", DEV_B, FX_ORG_DEVELOPER, FX_ROLE_ADMIN, "submitted", false,
     FX_ACT_EDIT, FX_ENOTFOUND},
    /* operators see no notice (grants show them what they may see) */
    {"operator admin", OPER, FX_ORG_OPERATOR, FX_ROLE_ADMIN, "submitted", false, FX_ACT_READ,
     FX_ENOTFOUND},
    {"operator member", OPER, FX_ORG_OPERATOR, FX_ROLE_MEMBER, "assessed", false, FX_ACT_READ,
     FX_ENOTFOUND},
    /* agencies: only when assigned, and never a draft */
    {"agency reviewer", AGENCY, FX_ORG_AGENCY, FX_ROLE_REVIEWER, "assessment", false, FX_ACT_READ,
     FX_ENOTFOUND},
    {"assigned agency reviewer", AGENCY, FX_ORG_AGENCY, FX_ROLE_REVIEWER, "assessment", true,
     FX_ACT_READ, FX_OK},
    {"assigned agency reviewer", AGENCY, FX_ORG_AGENCY, FX_ROLE_REVIEWER, "draft", true,
     FX_ACT_READ, FX_ENOTFOUND},
    /* editing is the owner's writers' alone; others who may read get 403 */
    {"owner admin", DEV_A, FX_ORG_DEVELOPER, FX_ROLE_ADMIN, "submitted", false, FX_ACT_EDIT, FX_OK},
    {"owner member", DEV_A, FX_ORG_DEVELOPER, FX_ROLE_MEMBER, "draft", false, FX_ACT_EDIT, FX_OK},
    {"owner viewer", DEV_A, FX_ORG_DEVELOPER, FX_ROLE_VIEWER, "draft", false, FX_ACT_EDIT,
     FX_EFORBIDDEN},
    {"owner viewer", DEV_A, FX_ORG_DEVELOPER, FX_ROLE_VIEWER, "submitted", false, FX_ACT_EDIT,
     FX_EFORBIDDEN},
    {"coordinator admin", COORD, FX_ORG_COORDINATOR, FX_ROLE_ADMIN, "submitted", false, FX_ACT_EDIT,
     FX_EFORBIDDEN},
    {"coordinator admin", COORD, FX_ORG_COORDINATOR, FX_ROLE_ADMIN, "draft", false, FX_ACT_EDIT,
     FX_ENOTFOUND},
    {"assigned agency reviewer", AGENCY, FX_ORG_AGENCY, FX_ROLE_REVIEWER, "assessment", true,
     FX_ACT_EDIT, FX_EFORBIDDEN},
    /* creating: developer admins and members only */
    {"developer admin", DEV_A, FX_ORG_DEVELOPER, FX_ROLE_ADMIN, NULL, false, FX_ACT_CREATE, FX_OK},
    {"developer member", DEV_A, FX_ORG_DEVELOPER, FX_ROLE_MEMBER, NULL, false, FX_ACT_CREATE,
     FX_OK},
    {"developer viewer", DEV_A, FX_ORG_DEVELOPER, FX_ROLE_VIEWER, NULL, false, FX_ACT_CREATE,
     FX_EFORBIDDEN},
    {"coordinator admin", COORD, FX_ORG_COORDINATOR, FX_ROLE_ADMIN, NULL, false, FX_ACT_CREATE,
     FX_EFORBIDDEN},
    {"agency admin", AGENCY, FX_ORG_AGENCY, FX_ROLE_ADMIN, NULL, false, FX_ACT_CREATE,
     FX_EFORBIDDEN},
    {"operator member", OPER, FX_ORG_OPERATOR, FX_ROLE_MEMBER, NULL, false, FX_ACT_CREATE,
     FX_EFORBIDDEN},
    /* who read it: the owner's admins and the coordinator */
    {"owner admin", DEV_A, FX_ORG_DEVELOPER, FX_ROLE_ADMIN, "submitted", false, FX_ACT_ACCESS_LOG,
     FX_OK},
    {"owner member", DEV_A, FX_ORG_DEVELOPER, FX_ROLE_MEMBER, "submitted", false, FX_ACT_ACCESS_LOG,
     FX_EFORBIDDEN},
    {"coordinator admin", COORD, FX_ORG_COORDINATOR, FX_ROLE_ADMIN, "submitted", false,
     FX_ACT_ACCESS_LOG, FX_OK},
    {"other developer admin", DEV_B, FX_ORG_DEVELOPER, FX_ROLE_ADMIN, "submitted", false,
     FX_ACT_ACCESS_LOG, FX_ENOTFOUND},
    {"assigned agency admin", AGENCY, FX_ORG_AGENCY, FX_ROLE_ADMIN, "assessment", true,
     FX_ACT_ACCESS_LOG, FX_EFORBIDDEN},
};

static void test_notice_matrix(void **state)
{
    (void)state;
    int failures = 0;
    for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
        const struct row *r = &table[i];
        struct fx_principal p = who(r->org, r->kind, r->role);
        struct fx_subject s = notice_of(DEV_A, r->status, r->assigned);
        enum fx_err got = fx_access_check(&p, r->act, &s);
        if (got != r->want) {
            print_error("row %zu: %s, act %d on a %s notice: got %s, want %s\n", i, r->caller,
                        (int)r->act, r->status ? r->status : "new", err_name(got),
                        err_name(r->want));
            failures++;
        }
    }
    assert_int_equal(failures, 0);
}

/* Every role in every org, on every status: an org never loses sight of its own notice. */
static void test_owner_reads_everything(void **state)
{
    (void)state;
    static const char *const statuses[] = {"draft",      "submitted",  "under_review",
                                           "determined", "assessment", "assessed",
                                           "withdrawn",  "released",   NULL};
    static const enum fx_role roles[] = {FX_ROLE_ADMIN, FX_ROLE_MEMBER, FX_ROLE_REVIEWER,
                                         FX_ROLE_VIEWER};
    for (size_t i = 0; statuses[i]; i++) {
        for (size_t k = 0; k < sizeof(roles) / sizeof(roles[0]); k++) {
            struct fx_principal p = who(DEV_A, FX_ORG_DEVELOPER, roles[k]);
            struct fx_subject s = notice_of(DEV_A, statuses[i], false);
            assert_int_equal(fx_access_check(&p, FX_ACT_READ, &s), FX_OK);
        }
        struct fx_principal other = who(DEV_B, FX_ORG_DEVELOPER, FX_ROLE_ADMIN);
        struct fx_subject s = notice_of(DEV_A, statuses[i], false);
        assert_int_equal(fx_access_check(&other, FX_ACT_READ, &s), FX_ENOTFOUND);
        struct fx_principal op = who(OPER, FX_ORG_OPERATOR, FX_ROLE_ADMIN);
        assert_int_equal(fx_access_check(&op, FX_ACT_READ, &s), FX_ENOTFOUND);
    }
}

static void test_list_scope(void **state)
{
    (void)state;
    struct fx_principal p = who(DEV_A, FX_ORG_DEVELOPER, FX_ROLE_VIEWER);
    assert_int_equal(fx_access_notice_scope(&p), FX_SCOPE_OWN_ORG);
    p = who(COORD, FX_ORG_COORDINATOR, FX_ROLE_REVIEWER);
    assert_int_equal(fx_access_notice_scope(&p), FX_SCOPE_ALL_SUBMITTED);
    p = who(AGENCY, FX_ORG_AGENCY, FX_ROLE_REVIEWER);
    assert_int_equal(fx_access_notice_scope(&p), FX_SCOPE_ASSIGNED);
    p = who(OPER, FX_ORG_OPERATOR, FX_ROLE_ADMIN);
    assert_int_equal(fx_access_notice_scope(&p), FX_SCOPE_NONE);
}

static void test_outside_read(void **state)
{
    (void)state;
    struct fx_principal p = who(DEV_A, FX_ORG_DEVELOPER, FX_ROLE_MEMBER);
    assert_false(fx_access_is_outside_read(&p, DEV_A));
    assert_true(fx_access_is_outside_read(&p, DEV_B));
    p = who(COORD, FX_ORG_COORDINATOR, FX_ROLE_REVIEWER);
    assert_true(fx_access_is_outside_read(&p, DEV_A));
}

/* Who issues a token (decision 0013): caller × the user's org × whether it ever held one. */
static void test_token_issue(void **state)
{
    (void)state;
    static const struct {
        const char *caller;
        const char *org;
        enum fx_org_kind kind;
        enum fx_role role;
        bool self, user_in_org, tokenless;
        enum fx_err want;
    } rows[] = {
        {"the user", DEV_A, FX_ORG_DEVELOPER, FX_ROLE_MEMBER, true, true, false, FX_OK},
        {"its org's admin", DEV_A, FX_ORG_DEVELOPER, FX_ROLE_ADMIN, false, true, false, FX_OK},
        {"a peer", DEV_A, FX_ORG_DEVELOPER, FX_ROLE_MEMBER, false, true, true, FX_EFORBIDDEN},
        {"another org's admin", DEV_B, FX_ORG_DEVELOPER, FX_ROLE_ADMIN, false, false, true,
         FX_ENOTFOUND},
        {"coordinator admin, first token", COORD, FX_ORG_COORDINATOR, FX_ROLE_ADMIN, false, false,
         true, FX_OK},
        {"coordinator admin, a user with one", COORD, FX_ORG_COORDINATOR, FX_ROLE_ADMIN, false,
         false, false, FX_EFORBIDDEN},
        {"coordinator admin, its own org", COORD, FX_ORG_COORDINATOR, FX_ROLE_ADMIN, false, true,
         false, FX_OK},
        {"coordinator reviewer, first token", COORD, FX_ORG_COORDINATOR, FX_ROLE_REVIEWER, false,
         false, true, FX_ENOTFOUND},
    };
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        struct fx_principal p = who(rows[i].org, rows[i].kind, rows[i].role);
        struct fx_subject s;
        memset(&s, 0, sizeof(s));
        s.kind = FX_REC_USER;
        s.org_id = rows[i].user_in_org ? rows[i].org : DEV_A;
        s.user_id = rows[i].self ? p.user_id : "0190b6f0-0000-7000-8000-0000000000ff";
        s.tokenless = rows[i].tokenless;
        enum fx_err got = fx_access_check(&p, FX_ACT_ISSUE, &s);
        if (got != rows[i].want)
            print_error("%s: got %s, want %s\n", rows[i].caller, err_name(got),
                        err_name(rows[i].want));
        assert_int_equal(got, rows[i].want);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_token_issue),
        cmocka_unit_test(test_notice_matrix),
        cmocka_unit_test(test_owner_reads_everything),
        cmocka_unit_test(test_list_scope),
        cmocka_unit_test(test_outside_read),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
