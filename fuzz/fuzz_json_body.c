/*
 * fuzz_json_body.c: a notice body as a client sends it (SPEC §3): the checked
 * JSON parser, then notice validation as a draft and as a complete submission.
 *
 * Invariants:
 *  - a refused parse leaves no document and says why;
 *  - a refused body lists at least one field error, each a JSON Pointer;
 *  - an accepted complete body has the four required fields as non-empty strings
 *    and a planned_release_date that is a real calendar date;
 *  - what passes as complete passes as a draft, with the same clean object;
 *  - validation is idempotent: the clean object, and the clean object stored as
 *    canonical bytes and parsed back, validate again to the same canonical bytes;
 *  - fx_json_canonical() of any parsed document equals jansson's sorted compact dump.
 */
#include "fuzz.h"

#include "common/json.h"
#include "common/parse.h"
#include "records/notice.h"

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
    FUZZ_CHECK(pb->n >= 1);
    for (size_t i = 0; i < pb->n; i++) {
        const char *f = pb->errors[i].field;
        FUZZ_CHECK(f != NULL && pb->errors[i].message != NULL);
        FUZZ_CHECK(f[0] == '\0' || f[0] == '/');
        FUZZ_CHECK(pb->errors[i].message[0] != '\0');
    }
}

static void check_required(const json_t *clean, int64_t days)
{
    static const char *const req[] = {"model_name", "model_version", "description",
                                      "planned_release_date", NULL};
    for (size_t i = 0; req[i]; i++) {
        json_t *v = json_object_get(clean, req[i]);
        FUZZ_CHECK(json_is_string(v));
        FUZZ_CHECK(json_string_length(v) > 0);
    }
    json_t *d = json_object_get(clean, "planned_release_date");
    int64_t back = -1;
    FUZZ_CHECK(fx_parse_date(json_string_value(d), json_string_length(d), &back) == FX_OK);
    FUZZ_CHECK(back == days);
}

/* Validates v again and checks the clean result has exactly the canonical bytes canon. */
static void check_same(json_t *v, bool complete, const char *canon, int64_t days, bool has_days)
{
    struct fx_problem pb;
    json_t *clean = NULL;
    int64_t d = -1;
    bool has = false;
    fx_problem_init(&pb);
    enum fx_err err = fx_notice_validate(v, complete, &pb, &clean, &d, &has);
    FUZZ_CHECK(err == FX_OK);
    FUZZ_CHECK(pb.n == 0);
    char *c = fx_json_canonical(clean, NULL);
    FUZZ_CHECK(strcmp(c, canon) == 0);
    FUZZ_CHECK(has == has_days);
    FUZZ_CHECK(!has || d == days);
    free(c);
    json_decref(clean);
    fx_problem_cleanup(&pb);
}

/* Validates body; returns the canonical bytes of the clean object on FX_OK, else NULL. */
static char *validate(json_t *body, bool complete)
{
    struct fx_problem pb;
    json_t *clean = NULL;
    int64_t days = -1;
    bool has_days = false;
    char *canon = NULL;
    fx_problem_init(&pb);
    enum fx_err err = fx_notice_validate(body, complete, &pb, &clean, &days, &has_days);
    if (err != FX_OK) {
        FUZZ_CHECK(err == FX_EINVAL);
        FUZZ_CHECK(clean == NULL);
        check_errors(&pb);
        goto out;
    }
    FUZZ_CHECK(pb.n == 0 && !pb.truncated);
    FUZZ_CHECK(json_is_object(clean));
    if (complete) {
        FUZZ_CHECK(has_days);
        check_required(clean, days);
    }
    canon = fx_json_canonical(clean, NULL);
    check_same(clean, complete, canon, days, has_days);

    /* What the store keeps is the canonical text; an amendment validates it again. */
    json_t *back = NULL;
    char msg[256];
    FUZZ_CHECK(fx_json_parse(canon, strlen(canon), &back, msg, sizeof(msg)) == FX_OK);
    check_same(back, complete, canon, days, has_days);
    json_decref(back);
    json_decref(clean);
out:
    fx_problem_cleanup(&pb);
    return canon;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    json_t *doc = NULL;
    char msg[256] = "";
    if (fx_json_parse((const char *)data, size, &doc, msg, sizeof(msg)) != FX_OK) {
        FUZZ_CHECK(doc == NULL);
        FUZZ_CHECK(msg[0] != '\0');
        return 0;
    }
    FUZZ_CHECK(json_is_object(doc) || json_is_array(doc));
    /* the canonical encoder writes exactly what jansson's sorted compact dump does */
    char *ours = fx_json_canonical(doc, NULL);
    char *theirs = json_dumps(doc, JSON_COMPACT | JSON_SORT_KEYS |
                                       JSON_REAL_PRECISION(FX_JSON_REAL_DIGITS));
    FUZZ_CHECK(theirs != NULL && strcmp(ours, theirs) == 0);
    free(ours);
    free(theirs);
    if (json_is_object(doc)) {
        char *full = validate(doc, true);
        char *draft = validate(doc, false);
        if (full) {
            FUZZ_CHECK(draft != NULL);
            FUZZ_CHECK(strcmp(full, draft) == 0);
        }
        free(full);
        free(draft);
    }
    json_decref(doc);
    return 0;
}
