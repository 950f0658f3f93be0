/*
 * notice.c: what a valid notice is (SPEC §3 fields) and which lifecycle steps
 * each status allows. Pure functions: no store, no clock.
 */
#include "records/notice.h"
#include "common/json.h"
#include "common/limits.h"
#include "common/parse.h"

#include <stdio.h>
#include <string.h>

static const char *const fields[] = {
    "model_name", "model_version", "planned_release_date", "first_external_access_date",
    "description", "training_compute_flop", "parameter_count", "modalities",
    "release_channels", "evaluations", "safeguards", "contact", NULL};
static const char *const modalities[] = {"text", "image", "audio", "video", "code", "other", NULL};
static const char *const channels[] = {"api", "consumer_app", "enterprise", "open_weights", NULL};
static const char *const domains[] = {"cyber", "bio", "chem", "nuclear", "radiological",
                                      "autonomy", "persuasion", "other", NULL};
static const char *const eval_fields[] = {"domain", "benchmark", "score", "max_score",
                                          "run_date", "notes", NULL};
static const char *const contact_fields[] = {"name", "email", NULL};

static void copy_str(json_t *clean, const char *key, const char *v)
{
    if (v)
        json_object_set_new(clean, key, json_string(v));
}

static void copy_date(json_t *clean, const char *key, int64_t days, bool present)
{
    if (present) {
        char d[11];
        fx_format_date(days, d);
        json_object_set_new(clean, key, json_string(d));
    }
}

/* A list of unique values from `values`. */
static void enum_list(json_t *obj, const char *key, const char *const *values, json_t *clean,
                      struct fx_problem *pb)
{
    json_t *v = json_object_get(obj, key);
    char fp[128];
    fx_json_ptr(fp, sizeof(fp), "", key);
    if (v == NULL || json_is_null(v))
        return;
    if (!json_is_array(v)) {
        fx_problem_add(pb, fp, "must be a list");
        return;
    }
    if (json_array_size(v) > FX_ARRAY_LEN(modalities) + 4) {
        fx_problem_add(pb, fp, "too many items");
        return;
    }
    json_t *out = json_array();
    size_t i;
    json_t *item;
    json_array_foreach(v, i, item)
    {
        char ip[160];
        snprintf(ip, sizeof(ip), "%s/%zu", fp, i);
        if (!json_is_string(item) || !fx_json_in(json_string_value(item), values)) {
            fx_problem_add(pb, ip, "not an allowed value");
            continue;
        }
        for (size_t k = 0; k < json_array_size(out); k++)
            if (strcmp(json_string_value(json_array_get(out, k)), json_string_value(item)) == 0)
                fx_problem_add(pb, ip, "listed twice");
        json_array_append(out, item);
    }
    json_object_set_new(clean, key, out);
}

static void evaluations(json_t *obj, json_t *clean, struct fx_problem *pb)
{
    json_t *v = json_object_get(obj, "evaluations");
    if (v == NULL || json_is_null(v))
        return;
    if (!json_is_array(v)) {
        fx_problem_add(pb, "/evaluations", "must be a list");
        return;
    }
    if (json_array_size(v) > FX_MAX_LIST_ITEMS) {
        fx_problem_add(pb, "/evaluations", "more than %d evaluations", FX_MAX_LIST_ITEMS);
        return;
    }
    json_t *out = json_array();
    size_t i;
    json_t *e;
    json_array_foreach(v, i, e)
    {
        char ptr[64];
        snprintf(ptr, sizeof(ptr), "/evaluations/%zu", i);
        if (!json_is_object(e)) {
            fx_problem_add(pb, ptr, "must be an object");
            continue;
        }
        fx_json_only_keys(e, eval_fields, ptr, pb);
        const char *domain = NULL, *bench = NULL, *notes = NULL;
        double score = 0, max_score = 0;
        bool has_max = false, has_run = false;
        int64_t run = 0;
        fx_json_get_enum(e, "domain", ptr, true, domains, pb, &domain, NULL);
        fx_json_get_str(e, "benchmark", ptr, true, FX_MAX_SHORT_STRING, pb, &bench, NULL);
        fx_json_get_number(e, "score", ptr, true, -1e300, pb, &score, NULL);
        fx_json_get_number(e, "max_score", ptr, false, 0, pb, &max_score, &has_max);
        fx_json_get_date(e, "run_date", ptr, false, pb, &run, &has_run);
        fx_json_get_str(e, "notes", ptr, false, FX_MAX_LONG_STRING, pb, &notes, NULL);
        if (has_max && max_score <= 0) {
            char fp[96];
            snprintf(fp, sizeof(fp), "%s/max_score", ptr);
            fx_problem_add(pb, fp, "must be greater than 0");
        }
        json_t *c = json_object();
        copy_str(c, "domain", domain);
        copy_str(c, "benchmark", bench);
        /* numbers are copied as sent: an integer stays an integer */
        json_object_set(c, "score", json_object_get(e, "score"));
        if (has_max)
            json_object_set(c, "max_score", json_object_get(e, "max_score"));
        copy_date(c, "run_date", run, has_run);
        copy_str(c, "notes", notes);
        json_array_append_new(out, c);
    }
    json_object_set_new(clean, "evaluations", out);
}

static void contact(json_t *obj, json_t *clean, struct fx_problem *pb)
{
    json_t *v = json_object_get(obj, "contact");
    if (v == NULL || json_is_null(v))
        return;
    if (!json_is_object(v)) {
        fx_problem_add(pb, "/contact", "must be an object with name and email");
        return;
    }
    fx_json_only_keys(v, contact_fields, "/contact", pb);
    const char *name = NULL, *email = NULL;
    fx_json_get_str(v, "name", "/contact", true, FX_MAX_SHORT_STRING, pb, &name, NULL);
    fx_json_get_str(v, "email", "/contact", true, FX_MAX_SHORT_STRING, pb, &email, NULL);
    if (email && (strchr(email, '@') == NULL || strchr(email, ' ')))
        fx_problem_add(pb, "/contact/email", "not an email address");
    json_t *c = json_object();
    copy_str(c, "name", name);
    copy_str(c, "email", email);
    json_object_set_new(clean, "contact", c);
}

enum fx_err fx_notice_validate(json_t *body, bool complete, struct fx_problem *pb,
                               json_t **clean_out, int64_t *release_days_out, bool *has_release_out)
{
    *clean_out = NULL;
    json_t *clean = json_object();
    const char *name = NULL, *version = NULL, *desc = NULL, *safeguards = NULL;
    int64_t release = 0, first_access = 0, params = 0;
    bool has_release = false, has_first = false, has_params = false, has_flop = false;
    double flop = 0;

    fx_json_only_keys(body, fields, "", pb);
    fx_json_get_str(body, "model_name", "", complete, FX_MAX_SHORT_STRING, pb, &name, NULL);
    fx_json_get_str(body, "model_version", "", complete, FX_MAX_SHORT_STRING, pb, &version, NULL);
    fx_json_get_date(body, "planned_release_date", "", complete, pb, &release, &has_release);
    fx_json_get_date(body, "first_external_access_date", "", false, pb, &first_access,
                     &has_first);
    fx_json_get_str(body, "description", "", complete, FX_MAX_LONG_STRING, pb, &desc, NULL);
    fx_json_get_number(body, "training_compute_flop", "", false, 0, pb, &flop, &has_flop);
    fx_json_get_int(body, "parameter_count", "", false, 0, INT64_MAX, pb, &params, &has_params);
    fx_json_get_str(body, "safeguards", "", false, FX_MAX_LONG_STRING, pb, &safeguards, NULL);

    static const char *const nonempty[] = {"model_name", "model_version", "description", NULL};
    for (size_t i = 0; nonempty[i]; i++) {
        json_t *v = json_object_get(body, nonempty[i]);
        if (!complete && json_is_string(v) && json_string_length(v) == 0) {
            char fp[64];
            fx_json_ptr(fp, sizeof(fp), "", nonempty[i]);
            fx_problem_add(pb, fp, "must not be empty");
        }
    }
    copy_str(clean, "model_name", name);
    copy_str(clean, "model_version", version);
    copy_date(clean, "planned_release_date", release, has_release);
    copy_date(clean, "first_external_access_date", first_access, has_first);
    copy_str(clean, "description", desc);
    if (has_flop)
        json_object_set(clean, "training_compute_flop",
                        json_object_get(body, "training_compute_flop"));
    if (has_params)
        json_object_set_new(clean, "parameter_count", json_integer(params));
    enum_list(body, "modalities", modalities, clean, pb);
    enum_list(body, "release_channels", channels, clean, pb);
    evaluations(body, clean, pb);
    copy_str(clean, "safeguards", safeguards);
    contact(body, clean, pb);

    if (fx_problem_any(pb)) {
        json_decref(clean);
        return FX_EINVAL;
    }
    *clean_out = clean;
    *release_days_out = release;
    *has_release_out = has_release;
    return FX_OK;
}

/* The lifecycle of SPEC §3, as a table of status × action. */
static const struct {
    const char *status;
    unsigned actions; /* bit per enum fx_notice_action */
} lifecycle[] = {
    {"draft", 1u << FX_NOTICE_AMEND | 1u << FX_NOTICE_SUBMIT | 1u << FX_NOTICE_WITHDRAW},
    {"submitted", 1u << FX_NOTICE_AMEND | 1u << FX_NOTICE_WITHDRAW | 1u << FX_NOTICE_RELEASE |
                      1u << FX_NOTICE_REVIEW},
    {"under_review", 1u << FX_NOTICE_AMEND | 1u << FX_NOTICE_WITHDRAW | 1u << FX_NOTICE_RELEASE |
                         1u << FX_NOTICE_DETERMINE},
    {"determined", 1u << FX_NOTICE_AMEND | 1u << FX_NOTICE_WITHDRAW | 1u << FX_NOTICE_RELEASE |
                       1u << FX_NOTICE_RECONSIDER | 1u << FX_NOTICE_ASSESS},
    {"assessment", 1u << FX_NOTICE_AMEND | 1u << FX_NOTICE_WITHDRAW | 1u << FX_NOTICE_RELEASE |
                       1u << FX_NOTICE_OUTCOME},
    {"assessed", 1u << FX_NOTICE_AMEND | 1u << FX_NOTICE_WITHDRAW | 1u << FX_NOTICE_RELEASE},
    {"withdrawn", 0},
    {"released", 0},
};

static const char *const action_names[] = {"amend",     "submit",     "withdraw",
                                           "release",   "review",     "determine",
                                           "reconsider", "open_assessment", "record_outcome"};

const char *fx_notice_action_name(enum fx_notice_action a)
{
    return action_names[a];
}

static unsigned actions_of(const char *status)
{
    for (size_t i = 0; i < FX_ARRAY_LEN(lifecycle); i++)
        if (strcmp(lifecycle[i].status, status) == 0)
            return lifecycle[i].actions;
    return 0;
}

bool fx_notice_allowed(const char *status, enum fx_notice_action action)
{
    return (actions_of(status) >> action) & 1u;
}

size_t fx_notice_allowed_actions(const char *status, const char **out)
{
    unsigned a = actions_of(status);
    size_t n = 0;
    for (unsigned i = 0; i < FX_ARRAY_LEN(action_names); i++)
        if ((a >> i) & 1u)
            out[n++] = action_names[i];
    return n;
}

void fx_notice_problem_allow(struct fx_problem *pb, const char *status)
{
    const char *allowed[8];
    size_t n = fx_notice_allowed_actions(status, allowed);
    fx_problem_allow(pb, status, allowed, n);
}
