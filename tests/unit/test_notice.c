/*
 * test_notice.c: notice validation (SPEC §3 fields) and the lifecycle table,
 * through src/records/notice.h. No store: these are the pure functions.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "common/json.h"
#include "common/parse.h"
#include "records/notice.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char full_notice[] =
    "{\"model_name\": \"Atlas\", \"model_version\": \"4.0\","
    " \"planned_release_date\": \"2026-11-27\", \"first_external_access_date\": \"2026-10-01\","
    " \"description\": \"A general-purpose multimodal model.\","
    " \"training_compute_flop\": 3.2e26, \"parameter_count\": 1200000000000,"
    " \"modalities\": [\"text\", \"image\", \"code\"], \"release_channels\": [\"api\", "
    "\"enterprise\"],"
    " \"evaluations\": [{\"domain\": \"cyber\", \"benchmark\": \"cybench\", \"score\": 0.61,"
    " \"max_score\": 1, \"run_date\": \"2026-08-14\", \"notes\": \"pass@1\"},"
    " {\"domain\": \"bio\", \"benchmark\": \"vct\", \"score\": 22}],"
    " \"safeguards\": \"Refusal training and classifiers.\","
    " \"contact\": {\"name\": \"Dana Reyes\", \"email\": \"dana@atlas.example\"}}";

/* What one validation produced. */
struct result {
    enum fx_err err;
    struct fx_problem pb;
    json_t *clean;
    int64_t days;
    bool has_days;
};

static void validate(const char *text, bool complete, struct result *r)
{
    char msg[256];
    json_t *body = NULL;
    memset(r, 0, sizeof(*r));
    fx_problem_init(&r->pb);
    if (fx_json_parse(text, strlen(text), &body, msg, sizeof(msg)) != FX_OK)
        fail_msg("test body does not parse: %s", msg);
    r->days = -1;
    r->err = fx_notice_validate(body, complete, &r->pb, &r->clean, &r->days, &r->has_days);
    json_decref(body);
}

static void release(struct result *r)
{
    json_decref(r->clean);
    fx_problem_cleanup(&r->pb);
}

static bool has_error(const struct result *r, const char *field, const char *msg_part)
{
    for (size_t i = 0; i < r->pb.n; i++)
        if (strcmp(r->pb.errors[i].field, field) == 0 &&
            (msg_part == NULL || strstr(r->pb.errors[i].message, msg_part)))
            return true;
    return false;
}

static void assert_error(const struct result *r, const char *field, const char *msg_part)
{
    if (!has_error(r, field, msg_part)) {
        for (size_t i = 0; i < r->pb.n; i++)
            print_message("  have %s: %s\n", r->pb.errors[i].field, r->pb.errors[i].message);
        fail_msg("expected an error on %s%s%s", field, msg_part ? " saying " : "",
                 msg_part ? msg_part : "");
    }
}

static void test_full_notice_valid(void **state)
{
    (void)state;
    struct result r;
    validate(full_notice, true, &r);
    assert_int_equal(r.err, FX_OK);
    assert_int_equal(r.pb.n, 0);
    assert_true(json_is_object(r.clean));
    assert_true(r.has_days);
    assert_true(r.days == 20784); /* 2026-11-27 */
    assert_string_equal(json_string_value(json_object_get(r.clean, "model_name")), "Atlas");
    assert_string_equal(json_string_value(json_object_get(r.clean, "planned_release_date")),
                        "2026-11-27");
    assert_true(json_integer_value(json_object_get(r.clean, "parameter_count")) == 1200000000000LL);
    assert_true(json_real_value(json_object_get(r.clean, "training_compute_flop")) == 3.2e26);
    assert_int_equal(json_array_size(json_object_get(r.clean, "evaluations")), 2);
    assert_int_equal(json_object_size(r.clean), 12); /* every field kept */
    /* numbers are kept as sent: an integer score stays an integer */
    json_t *e1 = json_array_get(json_object_get(r.clean, "evaluations"), 1);
    assert_true(json_is_integer(json_object_get(e1, "score")));

    /* Validating the clean object again gives the same canonical bytes. */
    struct result again;
    char *canon = fx_json_canonical(r.clean, NULL);
    validate(canon, true, &again);
    assert_int_equal(again.err, FX_OK);
    char *canon2 = fx_json_canonical(again.clean, NULL);
    assert_string_equal(canon, canon2);
    free(canon);
    free(canon2);
    release(&again);
    release(&r);
}

static void test_all_required_missing_listed_at_once(void **state)
{
    (void)state;
    struct result r;
    validate("{}", true, &r);
    assert_int_equal(r.err, FX_EINVAL);
    assert_null(r.clean);
    assert_error(&r, "/model_name", "required");
    assert_error(&r, "/model_version", "required");
    assert_error(&r, "/planned_release_date", "required");
    assert_error(&r, "/description", "required");
    assert_int_equal(r.pb.n, 4);
    release(&r);

    /* null counts as missing; and with other mistakes, every one is listed */
    validate("{\"model_name\": null, \"model_version\": \"\", \"planned_release_date\": \"soon\","
             " \"description\": 7, \"parameter_count\": -1}",
             true, &r);
    assert_int_equal(r.err, FX_EINVAL);
    assert_error(&r, "/model_name", "required");
    assert_error(&r, "/model_version", "empty");
    assert_error(&r, "/planned_release_date", "YYYY-MM-DD");
    assert_error(&r, "/description", "string");
    assert_error(&r, "/parameter_count", NULL);
    assert_int_equal(r.pb.n, 5);
    release(&r);
}

static void test_draft_may_be_incomplete(void **state)
{
    (void)state;
    struct result r;
    validate("{\"model_name\": \"Atlas\"}", false, &r);
    assert_int_equal(r.err, FX_OK);
    assert_false(r.has_days);
    assert_string_equal(json_string_value(json_object_get(r.clean, "model_name")), "Atlas");
    release(&r);

    validate("{}", false, &r);
    assert_int_equal(r.err, FX_OK);
    release(&r);

    /* but what is there must be right, and required text may not be blank */
    validate("{\"model_name\": \"\", \"planned_release_date\": \"2026-02-30\"}", false, &r);
    assert_int_equal(r.err, FX_EINVAL);
    assert_error(&r, "/model_name", "empty");
    assert_error(&r, "/planned_release_date", NULL);
    release(&r);
}

static void test_unknown_fields_named(void **state)
{
    (void)state;
    struct result r;
    validate("{\"model_name\": \"A\", \"model_version\": \"1\", \"planned_release_date\":"
             " \"2026-11-27\", \"description\": \"d\", \"colour\": \"blue\", \"a/b\": 1,"
             " \"contact\": {\"name\": \"n\", \"email\": \"n@x.example\", \"phone\": \"1\"},"
             " \"evaluations\": [{\"domain\": \"cyber\", \"benchmark\": \"b\", \"score\": 1,"
             " \"grade\": \"A\"}]}",
             true, &r);
    assert_int_equal(r.err, FX_EINVAL);
    assert_error(&r, "/colour", "unknown field");
    assert_error(&r, "/a~1b", "unknown field");
    assert_error(&r, "/contact/phone", "unknown field");
    assert_error(&r, "/evaluations/0/grade", "unknown field");
    assert_int_equal(r.pb.n, 4);
    release(&r);
}

static void test_dates(void **state)
{
    (void)state;
    struct result r;
    validate("{\"model_name\": \"A\", \"model_version\": \"1\", \"planned_release_date\":"
             " \"2026-02-30\", \"first_external_access_date\": \"2023-02-29\","
             " \"description\": \"d\"}",
             true, &r);
    assert_int_equal(r.err, FX_EINVAL);
    assert_error(&r, "/planned_release_date", "calendar date");
    assert_error(&r, "/first_external_access_date", "calendar date");
    release(&r);

    validate("{\"model_name\": \"A\", \"model_version\": \"1\", \"planned_release_date\":"
             " \"2028-02-29\", \"description\": \"d\"}",
             true, &r);
    assert_int_equal(r.err, FX_OK);
    release(&r);
}

static void test_numbers(void **state)
{
    (void)state;
    struct result r;
    validate("{\"model_name\": \"A\", \"model_version\": \"1\", \"planned_release_date\":"
             " \"2026-11-27\", \"description\": \"d\", \"training_compute_flop\": -1e26}",
             true, &r);
    assert_int_equal(r.err, FX_EINVAL);
    assert_error(&r, "/training_compute_flop", NULL);
    assert_int_equal(r.pb.n, 1);
    release(&r);

    validate("{\"model_name\": \"A\", \"model_version\": \"1\", \"planned_release_date\":"
             " \"2026-11-27\", \"description\": \"d\", \"training_compute_flop\": \"1e26\","
             " \"parameter_count\": 1.5}",
             true, &r);
    assert_int_equal(r.err, FX_EINVAL);
    assert_error(&r, "/training_compute_flop", "number");
    assert_error(&r, "/parameter_count", "integer");
    release(&r);

    validate("{\"model_name\": \"A\", \"model_version\": \"1\", \"planned_release_date\":"
             " \"2026-11-27\", \"description\": \"d\", \"training_compute_flop\": 0,"
             " \"parameter_count\": 0}",
             true, &r);
    assert_int_equal(r.err, FX_OK);
    release(&r);
}

static void test_lists(void **state)
{
    (void)state;
    struct result r;
    validate("{\"modalities\": [\"text\", \"image\", \"text\"], \"release_channels\": [\"api\","
             " \"radio\"]}",
             false, &r);
    assert_int_equal(r.err, FX_EINVAL);
    assert_error(&r, "/modalities/2", "twice");
    assert_error(&r, "/release_channels/1", NULL);
    assert_int_equal(r.pb.n, 2);
    release(&r);

    validate("{\"modalities\": \"text\", \"evaluations\": {}}", false, &r);
    assert_int_equal(r.err, FX_EINVAL);
    assert_error(&r, "/modalities", "list");
    assert_error(&r, "/evaluations", "list");
    release(&r);
}

static void test_evaluations_and_contact(void **state)
{
    (void)state;
    struct result r;
    validate("{\"evaluations\": [{\"domain\": \"weather\", \"score\": \"high\", \"max_score\": 0,"
             " \"run_date\": \"2026-13-01\"}, 5],"
             " \"contact\": {\"name\": \"\", \"email\": \"not an email\"}}",
             false, &r);
    assert_int_equal(r.err, FX_EINVAL);
    assert_error(&r, "/evaluations/0/domain", "cyber");
    assert_error(&r, "/evaluations/0/benchmark", "required");
    assert_error(&r, "/evaluations/0/score", "number");
    assert_error(&r, "/evaluations/0/max_score", "greater than 0");
    assert_error(&r, "/evaluations/0/run_date", NULL);
    assert_error(&r, "/evaluations/1", "object");
    assert_error(&r, "/contact/name", "empty");
    assert_error(&r, "/contact/email", "email");
    release(&r);

    validate("{\"contact\": \"dana\"}", false, &r);
    assert_int_equal(r.err, FX_EINVAL);
    assert_error(&r, "/contact", NULL);
    release(&r);
}

/*
 * A version is stored as the canonical bytes of the clean object, and an
 * amendment reads them back and validates them again: what is accepted must
 * survive that round trip.
 */
static void test_stored_bytes_read_back(void **state)
{
    (void)state;
    static const char *const flops[] = {"1.7976931348623157e308", "3.2e26", "0.1234567890123456789",
                                        NULL};
    for (size_t i = 0; flops[i]; i++) {
        char text[512];
        struct result r, again;
        snprintf(
            text, sizeof(text),
            "{\"model_name\": \"A\", \"model_version\": \"1\", \"planned_release_date\":"
            " \"2026-11-27\", \"description\": \"d\", \"training_compute_flop\": %s,"
            " \"evaluations\": [{\"domain\": \"cyber\", \"benchmark\": \"b\", \"score\": %s}]}",
            flops[i], flops[i]);
        validate(text, true, &r);
        if (r.err != FX_OK) {
            release(&r);
            continue;
        }
        char *canon = fx_json_canonical(r.clean, NULL);
        json_t *back = NULL;
        char msg[256] = "";
        if (fx_json_parse(canon, strlen(canon), &back, msg, sizeof(msg)) != FX_OK)
            fail_msg("training_compute_flop %s accepted, but the stored bytes do not parse: %s",
                     flops[i], msg);
        json_decref(back);
        validate(canon, true, &again);
        assert_int_equal(again.err, FX_OK);
        char *canon2 = fx_json_canonical(again.clean, NULL);
        assert_string_equal(canon, canon2);
        free(canon2);
        free(canon);
        release(&again);
        release(&r);
    }
}

static void test_lifecycle_table(void **state)
{
    (void)state;
    static const char *const open[] = {"submitted",  "under_review", "determined",
                                       "assessment", "assessed",     NULL};
    /* submit only from draft */
    assert_true(fx_notice_allowed("draft", FX_NOTICE_SUBMIT));
    assert_true(fx_notice_allowed("draft", FX_NOTICE_AMEND));
    assert_true(fx_notice_allowed("draft", FX_NOTICE_WITHDRAW));
    assert_false(fx_notice_allowed("draft", FX_NOTICE_RELEASE));
    for (size_t i = 0; open[i]; i++) {
        assert_false(fx_notice_allowed(open[i], FX_NOTICE_SUBMIT));
        assert_true(fx_notice_allowed(open[i], FX_NOTICE_AMEND));
        assert_true(fx_notice_allowed(open[i], FX_NOTICE_WITHDRAW));
        assert_true(fx_notice_allowed(open[i], FX_NOTICE_RELEASE));
    }
    /* nothing from the end states, nor from a status that does not exist */
    static const char *const closed[] = {"withdrawn", "released", "bogus", "", "DRAFT", NULL};
    static const enum fx_notice_action all[] = {FX_NOTICE_AMEND, FX_NOTICE_SUBMIT,
                                                FX_NOTICE_WITHDRAW, FX_NOTICE_RELEASE};
    for (size_t i = 0; closed[i]; i++) {
        for (size_t k = 0; k < sizeof(all) / sizeof(all[0]); k++)
            if (fx_notice_allowed(closed[i], all[k]))
                fail_msg("%s allowed from %s", fx_notice_action_name(all[k]), closed[i]);
        const char *names[8];
        assert_int_equal(fx_notice_allowed_actions(closed[i], names), 0);
    }
}

static bool listed(const char *const *names, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(names[i], name) == 0)
            return true;
    return false;
}

static void test_allowed_actions_names(void **state)
{
    (void)state;
    const char *names[8];
    /* a draft is the developer's alone: nothing of the review process applies yet */
    size_t n = fx_notice_allowed_actions("draft", names);
    assert_int_equal(n, 3);
    assert_true(listed(names, n, "amend"));
    assert_true(listed(names, n, "submit"));
    assert_true(listed(names, n, "withdraw"));
    /* the developer's steps on an open notice (the review process adds its own) */
    n = fx_notice_allowed_actions("under_review", names);
    assert_true(listed(names, n, "amend"));
    assert_true(listed(names, n, "withdraw"));
    assert_true(listed(names, n, "release"));
    assert_false(listed(names, n, "submit"));
    assert_string_equal(fx_notice_action_name(FX_NOTICE_SUBMIT), "submit");
    assert_string_equal(fx_notice_action_name(FX_NOTICE_RELEASE), "release");
}

/* The version bytes a create renders in parts are fx_json_canonical() of the whole document. */
static void check_doc(const char *fields_text, const char *reason)
{
    struct result r;
    validate(fields_text, false, &r);
    assert_int_equal(r.err, FX_OK);
    json_t *doc = json_deep_copy(r.clean);
    json_object_set_new(doc, "notice_id", json_string("01890a5d-ac96-774b-bcce-b302099a8057"));
    json_object_set_new(doc, "ref", json_string("FXN-2026-0042"));
    json_object_set_new(doc, "version", json_integer(12));
    json_object_set_new(doc, "created_at", json_string("2026-06-01T10:20:30.456Z"));
    json_object_set_new(doc, "created_by", json_string("01890a5d-ac96-774b-bcce-b302099a8058"));
    json_object_set_new(doc, "change_reason", reason ? json_string(reason) : json_null());
    size_t want_len = 0, got_len = 0;
    char *want = fx_json_canonical(doc, &want_len);
    struct fx_notice_doc d;
    fx_notice_doc_init(&d, r.clean);
    int64_t at = 0;
    assert_int_equal(fx_parse_time("2026-06-01T10:20:30.456Z", 24, &at), FX_OK);
    char *got = fx_notice_doc_bytes(&d, "01890a5d-ac96-774b-bcce-b302099a8057", "FXN-2026-0042",
                                    12, at, "01890a5d-ac96-774b-bcce-b302099a8058", reason,
                                    &got_len);
    assert_string_equal(got, want);
    assert_int_equal(got_len, want_len);
    free(got);
    free(want);
    fx_notice_doc_cleanup(&d);
    json_decref(doc);
    release(&r);
}

static void test_doc_bytes_are_canonical(void **state)
{
    (void)state;
    check_doc(full_notice, NULL);
    check_doc(full_notice, "moved \"earlier\" \\ \u00e9t\u00e9 \U0001F680\n");
    check_doc("{}", "only metadata");
    check_doc("{\"contact\": {\"name\": \"A\", \"email\": \"a@b.example\"},"
              " \"training_compute_flop\": 1e26, \"safeguards\": \"\\u00e9 \\\" quote \\/ tab\\t\"}",
              NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_full_notice_valid),
        cmocka_unit_test(test_all_required_missing_listed_at_once),
        cmocka_unit_test(test_draft_may_be_incomplete),
        cmocka_unit_test(test_unknown_fields_named),
        cmocka_unit_test(test_dates),
        cmocka_unit_test(test_numbers),
        cmocka_unit_test(test_lists),
        cmocka_unit_test(test_evaluations_and_contact),
        cmocka_unit_test(test_stored_bytes_read_back),
        cmocka_unit_test(test_lifecycle_table),
        cmocka_unit_test(test_allowed_actions_names),
        cmocka_unit_test(test_doc_bytes_are_canonical),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
