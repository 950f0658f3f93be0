/*
 * assessment.c: assessments, their tasks and findings in the store (SPEC §5).
 * Validation of the request bodies lives here too (pure functions). Owns
 * nothing between calls; never decides who may act (src/auth/access.c does).
 */
#include "records/assessment.h"
#include "common/json.h"
#include "common/limits.h"
#include "common/parse.h"
#include "records/org.h"
#include "records/review.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

const char *const fx_finding_markings[] = {"shared_with_developer", "government_only",
                                           "national_security_only", NULL};
const char *const fx_severities[] = {"info", "low", "medium", "high", "critical", NULL};
const char *const fx_assessment_outcomes[] = {"no_concerns", "concerns_communicated",
                                              "mitigations_recommended", NULL};
static const char *const domains[] = {"cyber", "bio", "chem", "nuclear", "radiological",
                                      "autonomy", "persuasion", "other", NULL};

#define A_COLS                                                                                     \
    "id, notice_id, org_id, status, access_starts, access_ends, outcome, version, opened_at,"      \
    " closed_at"

static void read_a(struct fx_stmt *st, struct fx_assessment_row *a)
{
    memset(a, 0, sizeof(*a));
    fx_stmt_copy_text(st, 0, a->id, sizeof(a->id));
    fx_stmt_copy_text(st, 1, a->notice_id, sizeof(a->notice_id));
    fx_stmt_copy_text(st, 2, a->org_id, sizeof(a->org_id));
    fx_stmt_copy_text(st, 3, a->status, sizeof(a->status));
    a->access_starts = fx_stmt_i64(st, 4);
    a->access_ends = fx_stmt_i64(st, 5);
    fx_stmt_copy_text(st, 6, a->outcome, sizeof(a->outcome));
    a->version = fx_stmt_i64(st, 7);
    a->opened_at = fx_stmt_i64(st, 8);
    a->closed_at = fx_stmt_is_null(st, 9) ? 0 : fx_stmt_i64(st, 9);
}

static enum fx_err load_by(struct fx_db *db, const char *sql, const char *key,
                           struct fx_assessment_row *out)
{
    struct fx_stmt *st = NULL;
    bool r = false;
    enum fx_err err = fx_db_prepare(db, sql, &st);
    if (err != FX_OK)
        return err;
    fx_stmt_bind_str(st, 1, key);
    err = fx_stmt_step(st, &r);
    if (err == FX_OK && !r)
        err = FX_ENOTFOUND;
    if (err == FX_OK)
        read_a(st, out);
    fx_stmt_finalize(st);
    return err;
}

enum fx_err fx_assessment_load(struct fx_db *db, const char *id, struct fx_assessment_row *out)
{
    static const char *sql = "SELECT " A_COLS " FROM assessments WHERE id = $1";
    if (!fx_uuid_valid(id, strlen(id)))
        return FX_ENOTFOUND;
    return load_by(db, sql, id, out);
}

enum fx_err fx_assessment_of_notice(struct fx_db *db, const char *notice_id,
                                    struct fx_assessment_row *out)
{
    static const char *sql = "SELECT " A_COLS " FROM assessments WHERE notice_id = $1";
    return load_by(db, sql, notice_id, out);
}

enum fx_err fx_assessment_assigned(struct fx_db *db, const char *notice_id,
                                   const char *agency_org, bool *out)
{
    static const char *sql = "SELECT 1 FROM assessments a JOIN assessment_tasks t"
                             " ON t.assessment_id = a.id WHERE a.notice_id = $1"
                             " AND t.agency_org = $2";
    struct fx_stmt *st = NULL;
    bool r = false;
    *out = false;
    enum fx_err err = fx_db_prepare(db, sql, &st);
    if (err != FX_OK)
        return err;
    fx_stmt_bind_str(st, 1, notice_id);
    fx_stmt_bind_str(st, 2, agency_org);
    err = fx_stmt_step(st, &r);
    fx_stmt_finalize(st);
    *out = err == FX_OK && r;
    return err;
}

void fx_assessment_validate(json_t *body, struct fx_assessment_input *in, struct fx_problem *pb)
{
    static const char *const keys[] = {"agencies", "access_starts", "access_ends", NULL};
    memset(in, 0, sizeof(*in));
    fx_json_only_keys(body, keys, "", pb);
    json_t *list = json_object_get(body, "agencies");
    if (!json_is_array(list) || json_array_size(list) == 0) {
        fx_problem_add(pb, "/agencies", "required: a list of one or more agency org ids");
    } else if (json_array_size(list) > FX_MAX_ASSESSMENT_AGENCIES) {
        fx_problem_add(pb, "/agencies", "at most %d agencies", FX_MAX_ASSESSMENT_AGENCIES);
    } else {
        size_t i;
        json_t *v;
        json_array_foreach(list, i, v)
        {
            char fp[32];
            snprintf(fp, sizeof(fp), "/agencies/%zu", i);
            const char *s = json_string_value(v);
            if (s == NULL || !fx_uuid_valid(s, strlen(s))) {
                fx_problem_add(pb, fp, "must be an org id (UUID)");
                continue;
            }
            bool dup = false;
            for (size_t k = 0; k < in->n_agencies; k++)
                dup = dup || strcasecmp(in->agencies[k], s) == 0;
            if (dup)
                fx_problem_add(pb, fp, "listed twice");
            else
                in->agencies[in->n_agencies++] = s;
        }
    }
    fx_json_get_date(body, "access_starts", "", false, pb, &in->starts, &in->has_starts);
    fx_json_get_date(body, "access_ends", "", false, pb, &in->ends, &in->has_ends);
    if (in->has_starts && in->has_ends && in->ends < in->starts)
        fx_problem_add(pb, "/access_ends", "precedes access_starts");
}

static void fmt_date(int64_t days, char out[11])
{
    fx_format_date(days, out);
}

/* Inserts version a->version of the assessment's document. */
static enum fx_err put_version(struct fx_db *db, const struct fx_notice_env *env,
                               const struct fx_assessment_row *a, const json_t *doc)
{
    static const char *sql = "INSERT INTO assessment_versions (assessment_id, version, body,"
                             " content_sha256, created_at) VALUES ($1, $2, $3, $4, $5)";
    /* SPEC §9: the assessment and its outcome are leaves */
    return fx_review_put_version(db, env, sql, "assessment", a->id, a->version, a->org_id, doc);
}

static enum fx_err put_row(struct fx_db *db, const struct fx_assessment_row *a, bool fresh)
{
    static const char *ins = "INSERT INTO assessments (" A_COLS ") VALUES ($1, $2, $3, $4, $5,"
                             " $6, $7, $8, $9, $10)";
    static const char *upd = "UPDATE assessments SET notice_id = $2, org_id = $3, status = $4,"
                             " access_starts = $5, access_ends = $6, outcome = $7,"
                             " version = $8, opened_at = $9, closed_at = $10 WHERE id = $1";
    struct fx_stmt *st = NULL;
    bool r;
    enum fx_err err = fx_db_prepare(db, fresh ? ins : upd, &st);
    if (err != FX_OK)
        return err;
    fx_stmt_bind_str(st, 1, a->id);
    fx_stmt_bind_str(st, 2, a->notice_id);
    fx_stmt_bind_str(st, 3, a->org_id);
    fx_stmt_bind_str(st, 4, a->status);
    fx_stmt_bind_i64(st, 5, a->access_starts);
    fx_stmt_bind_i64(st, 6, a->access_ends);
    fx_stmt_bind_str(st, 7, a->outcome[0] ? a->outcome : NULL);
    fx_stmt_bind_i64(st, 8, a->version);
    fx_stmt_bind_i64(st, 9, a->opened_at);
    if (a->closed_at)
        fx_stmt_bind_i64(st, 10, a->closed_at);
    else
        fx_stmt_bind_null(st, 10);
    err = fx_stmt_step(st, &r);
    fx_stmt_finalize(st);
    return err;
}

static enum fx_err put_task(struct fx_db *db, const char *assessment_id, const char *agency)
{
    static const char *sql = "INSERT INTO assessment_tasks (assessment_id, agency_org, status)"
                             " VALUES ($1, $2, 'pending')";
    struct fx_stmt *st = NULL;
    bool r;
    enum fx_err err = fx_db_prepare(db, sql, &st);
    if (err != FX_OK)
        return err;
    fx_stmt_bind_str(st, 1, assessment_id);
    fx_stmt_bind_str(st, 2, agency);
    err = fx_stmt_step(st, &r);
    fx_stmt_finalize(st);
    return err;
}

/* The agencies as {org_id, name, mission}; FX_EINVAL (in pb) for ids that are no agency. */
static enum fx_err agencies_of(struct fx_db *db, const struct fx_assessment_input *in,
                               struct fx_problem *pb, json_t **out, json_t **warnings_out)
{
    json_t *list = json_array();
    bool civilian = false, natsec = false;
    enum fx_err err = FX_OK;
    for (size_t i = 0; i < in->n_agencies && err != FX_ESTORE; i++) {
        json_t *org = NULL;
        char fp[32];
        snprintf(fp, sizeof(fp), "/agencies/%zu", i);
        enum fx_err e = fx_org_get(db, in->agencies[i], &org);
        if (e == FX_ENOTFOUND) {
            fx_problem_add(pb, fp, "no such organization");
            err = FX_EINVAL;
            continue;
        }
        if (e != FX_OK) {
            err = e;
            break;
        }
        const char *kind = json_string_value(json_object_get(org, "kind"));
        const char *mission = json_string_value(json_object_get(org, "mission"));
        if (kind == NULL || strcmp(kind, "agency") != 0) {
            fx_problem_add(pb, fp, "not an agency organization");
            err = FX_EINVAL;
        } else {
            civilian = civilian || (mission && strcmp(mission, "civilian") == 0);
            natsec = natsec || (mission && strcmp(mission, "national_security") == 0);
            json_array_append_new(list, json_pack("{s:O,s:O,s:O}", "org_id",
                                                  json_object_get(org, "id"), "name",
                                                  json_object_get(org, "name"), "mission",
                                                  json_object_get(org, "mission")));
        }
        json_decref(org);
    }
    if (err != FX_OK) {
        json_decref(list);
        return err;
    }
    /* SPEC §5: FX warns, never refuses */
    json_t *w = json_array();
    if (!civilian)
        json_array_append_new(w, json_string("no civilian agency is assigned"));
    if (!natsec)
        json_array_append_new(w, json_string("no national_security agency is assigned"));
    *out = list;
    *warnings_out = w;
    return FX_OK;
}

enum fx_err fx_assessment_open(struct fx_db *db, const struct fx_notice_env *env,
                               struct fx_notice_row *notice,
                               const struct fx_assessment_input *in,
                               const struct fx_policy *pol, struct fx_problem *pb,
                               struct fx_assessment_row *out, json_t **warnings_out)
{
    if (!fx_notice_allowed(notice->status, FX_NOTICE_ASSESS))
        return FX_ECONFLICT;
    if (strcmp(notice->determination, "covered") != 0) {
        fx_notice_problem_allow(pb, notice->status); /* the status's, decision 0005 */
        fx_problem_detail(pb, "only a notice determined covered is assessed (SPEC §5)");
        return FX_ECONFLICT;
    }
    struct fx_assessment_row *a = out;
    memset(a, 0, sizeof(*a));
    a->access_ends = in->has_ends ? in->ends : notice->planned_release_date;
    a->access_starts = in->has_starts ? in->starts : a->access_ends - pol->access_window_days;
    if (a->access_ends < a->access_starts) {
        fx_problem_add(pb, in->has_ends ? "/access_ends" : "/access_starts",
                       "the window would end before it starts");
        return FX_EINVAL;
    }
    json_t *agencies = NULL, *warnings = NULL;
    enum fx_err err = agencies_of(db, in, pb, &agencies, &warnings);
    if (err != FX_OK)
        return err;
    fx_uuid_v7(env->now, a->id);
    snprintf(a->notice_id, sizeof(a->notice_id), "%s", notice->id);
    snprintf(a->org_id, sizeof(a->org_id), "%s", notice->org_id);
    snprintf(a->status, sizeof(a->status), "open");
    a->version = 1;
    a->opened_at = env->now;
    char t[25], s[11], e[11];
    fx_format_time(env->now, t);
    fmt_date(a->access_starts, s);
    fmt_date(a->access_ends, e);
    json_t *doc = json_pack("{s:s,s:s,s:s,s:I,s:s,s:O,s:s,s:s,s:s,s:s,s:{s:s,s:s}}", "id", a->id,
                            "notice_id", notice->id, "ref", notice->ref, "version",
                            (json_int_t)1, "status", "open", "agencies", agencies,
                            "access_starts", s, "access_ends", e, "opened_at", t, "opened_by",
                            env->who->user_id, "policy", "name", pol->name, "sha256",
                            pol->sha256);
    err = put_row(db, a, true);
    for (size_t i = 0; i < in->n_agencies && err == FX_OK; i++)
        err = put_task(db, a->id,
                       json_string_value(json_object_get(json_array_get(agencies, i), "org_id")));
    if (err == FX_OK)
        err = put_version(db, env, a, doc);
    json_decref(doc);
    if (err == FX_OK) {
        snprintf(notice->status, sizeof(notice->status), "assessment");
        notice->updated_at = env->now;
        err = fx_notice_save(db, notice);
    }
    if (err == FX_OK) {
        json_t *ids = json_array();
        for (size_t i = 0; i < json_array_size(agencies); i++)
            json_array_append(ids, json_object_get(json_array_get(agencies, i), "org_id"));
        err = fx_notice_event(db, env, notice, "assessment_opened",
                              json_pack("{s:s,s:s,s:s,s:o,s:s,s:s}", "from", "determined", "to",
                                        "assessment", "assessment_id", a->id, "agencies", ids,
                                        "access_starts", s, "access_ends", e));
    }
    json_decref(agencies);
    if (err != FX_OK) {
        json_decref(warnings);
        return err;
    }
    *warnings_out = warnings;
    return FX_OK;
}

static json_t *task_view(struct fx_stmt *st, const struct fx_assessment_row *a, int64_t today)
{
    /* columns: agency_org, status, started_at, completed_at, name, mission */
    char t[25];
    const char *status = fx_stmt_text(st, 1, NULL);
    bool complete = strcmp(status, "complete") == 0;
    json_t *v = json_pack("{s:s,s:s,s:s,s:b}", "agency_org", fx_stmt_text(st, 0, NULL),
                          "status", status, "agency_name", fx_stmt_text(st, 4, NULL), "overdue",
                          !complete && today > a->access_ends);
    json_object_set_new(v, "mission", fx_stmt_is_null(st, 5)
                                          ? json_null()
                                          : json_string(fx_stmt_text(st, 5, NULL)));
    if (fx_stmt_is_null(st, 2)) {
        json_object_set_new(v, "started_at", json_null());
    } else {
        fx_format_time(fx_stmt_i64(st, 2), t);
        json_object_set_new(v, "started_at", json_string(t));
    }
    if (fx_stmt_is_null(st, 3)) {
        json_object_set_new(v, "completed_at", json_null());
    } else {
        fx_format_time(fx_stmt_i64(st, 3), t);
        json_object_set_new(v, "completed_at", json_string(t));
    }
    return v;
}

#define TASK_SELECT                                                                                \
    "SELECT t.agency_org, t.status, t.started_at, t.completed_at, o.name, o.mission"               \
    " FROM assessment_tasks t JOIN orgs o ON o.id = t.agency_org"

enum fx_err fx_assessment_view(struct fx_db *db, struct fx_keyring *kr,
                               const struct fx_assessment_row *a, int64_t today, json_t **out)
{
    static const char *doc_sql = "SELECT body, content_sha256 FROM assessment_versions"
                                 " WHERE assessment_id = $1 AND version = $2";
    static const char *task_sql = TASK_SELECT " WHERE t.assessment_id = $1 ORDER BY o.name";
    struct fx_stmt *st = NULL;
    bool r = false;
    json_t *doc = NULL;
    enum fx_err err = fx_db_prepare(db, doc_sql, &st);
    if (err != FX_OK)
        return err;
    fx_stmt_bind_str(st, 1, a->id);
    fx_stmt_bind_i64(st, 2, a->version);
    err = fx_stmt_step(st, &r);
    if (err == FX_OK && !r)
        err = FX_ESTORE;
    if (err == FX_OK) {
        size_t len = 0;
        const void *blob = fx_stmt_blob(st, 0, &len);
        err = fx_review_open_json(kr, db, a->org_id, "assessment", a->id, a->version, blob, len,
                                  &doc);
        if (err == FX_OK)
            json_object_set_new(doc, "content_sha256", json_string(fx_stmt_text(st, 1, NULL)));
    }
    fx_stmt_finalize(st);
    if (err != FX_OK)
        return err;
    json_t *tasks = json_array();
    bool overdue = false;
    err = fx_db_prepare(db, task_sql, &st);
    if (err == FX_OK) {
        fx_stmt_bind_str(st, 1, a->id);
        while ((err = fx_stmt_step(st, &r)) == FX_OK && r) {
            json_t *tv = task_view(st, a, today);
            overdue = overdue || json_is_true(json_object_get(tv, "overdue"));
            json_array_append_new(tasks, tv);
        }
        fx_stmt_finalize(st);
    }
    if (err != FX_OK) {
        json_decref(tasks);
        json_decref(doc);
        return err;
    }
    json_object_set_new(doc, "tasks", tasks);
    json_object_set_new(doc, "overdue", json_boolean(overdue && strcmp(a->status, "open") == 0));
    if (json_object_get(doc, "outcome") == NULL) {
        json_object_set_new(doc, "outcome", json_null());
        json_object_set_new(doc, "summary", json_null());
    }
    *out = doc;
    return FX_OK;
}

static enum fx_err task_get(struct fx_db *db, const struct fx_assessment_row *a,
                            const char *agency, int64_t today, json_t **out, char *status_out)
{
    static const char *sql = TASK_SELECT " WHERE t.assessment_id = $1 AND t.agency_org = $2";
    struct fx_stmt *st = NULL;
    bool r = false;
    enum fx_err err = fx_db_prepare(db, sql, &st);
    if (err != FX_OK)
        return err;
    fx_stmt_bind_str(st, 1, a->id);
    fx_stmt_bind_str(st, 2, agency);
    err = fx_stmt_step(st, &r);
    if (err == FX_OK && !r)
        err = FX_ENOTFOUND;
    if (err == FX_OK) {
        snprintf(status_out, 16, "%s", fx_stmt_text(st, 1, NULL));
        if (out)
            *out = task_view(st, a, today);
    }
    fx_stmt_finalize(st);
    return err;
}

enum fx_err fx_assessment_task_step(struct fx_db *db, const struct fx_notice_env *env,
                                    const struct fx_assessment_row *a,
                                    const struct fx_notice_row *notice, const char *agency_org,
                                    bool complete, struct fx_problem *pb, json_t **out)
{
    static const char *start_sql = "UPDATE assessment_tasks SET status = 'in_progress',"
                                   " started_at = $3 WHERE assessment_id = $1 AND agency_org = $2";
    static const char *done_sql = "UPDATE assessment_tasks SET status = 'complete',"
                                  " completed_at = $3 WHERE assessment_id = $1 AND agency_org = $2";
    static const char *const to_start[] = {"start"};
    static const char *const to_complete[] = {"complete"};
    char status[16];
    enum fx_err err = task_get(db, a, agency_org, env->today, NULL, status);
    if (err != FX_OK)
        return err;
    const char *need = complete ? "in_progress" : "pending";
    if (strcmp(a->status, "open") != 0 || strcmp(status, need) != 0) {
        bool open = strcmp(a->status, "open") == 0;
        bool pending = strcmp(status, "pending") == 0;
        bool started = strcmp(status, "in_progress") == 0;
        fx_problem_allow(pb, status, pending ? to_start : to_complete,
                         open && (pending || started) ? 1 : 0);
        fx_problem_detail(pb, "cannot %s a task that is %s%s", complete ? "complete" : "start",
                          status, open ? "" : " in a closed assessment");
        return FX_ECONFLICT;
    }
    struct fx_stmt *st = NULL;
    bool r;
    err = fx_db_prepare(db, complete ? done_sql : start_sql, &st);
    if (err != FX_OK)
        return err;
    fx_stmt_bind_str(st, 1, a->id);
    fx_stmt_bind_str(st, 2, agency_org);
    fx_stmt_bind_i64(st, 3, env->now);
    err = fx_stmt_step(st, &r);
    fx_stmt_finalize(st);
    if (err == FX_OK)
        err = fx_notice_event(db, env, notice, complete ? "task_completed" : "task_started",
                              json_pack("{s:s,s:s}", "assessment_id", a->id, "agency_org",
                                        agency_org));
    if (err == FX_OK)
        err = task_get(db, a, agency_org, env->today, out, status);
    return err;
}

void fx_assessment_finding_validate(json_t *body, struct fx_finding_input *in,
                                    struct fx_problem *pb)
{
    static const char *const keys[] = {"title",          "severity", "domain", "description",
                                       "recommendation", "marking",  NULL};
    memset(in, 0, sizeof(*in));
    fx_json_only_keys(body, keys, "", pb);
    fx_json_get_str(body, "title", "", true, FX_MAX_SHORT_STRING, pb, &in->title, NULL);
    fx_json_get_enum(body, "severity", "", true, fx_severities, pb, &in->severity, NULL);
    fx_json_get_enum(body, "domain", "", true, domains, pb, &in->domain, NULL);
    fx_json_get_str(body, "description", "", true, FX_MAX_LONG_STRING, pb, &in->description,
                    NULL);
    fx_json_get_str(body, "recommendation", "", false, FX_MAX_LONG_STRING, pb,
                    &in->recommendation, NULL);
    fx_json_get_enum(body, "marking", "", true, fx_finding_markings, pb, &in->marking, NULL);
    if (in->title && in->title[0] == '\0')
        fx_problem_add(pb, "/title", "must not be empty");
    if (in->description && in->description[0] == '\0')
        fx_problem_add(pb, "/description", "must not be empty");
}

enum fx_err fx_assessment_finding_add(struct fx_db *db, const struct fx_notice_env *env,
                                      const struct fx_assessment_row *a,
                                      const struct fx_notice_row *notice,
                                      const struct fx_finding_input *in, struct fx_problem *pb,
                                      json_t **out)
{
    static const char *sql = "INSERT INTO findings (id, assessment_id, agency_org, marking,"
                             " severity, seal_org, created_at, created_by, body, content_sha256)"
                             " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)";
    char status[16];
    const char *agency = env->who->org_id;
    enum fx_err err = task_get(db, a, agency, env->today, NULL, status);
    if (err != FX_OK)
        return err;
    if (strcmp(a->status, "open") != 0 || strcmp(status, "complete") == 0) {
        fx_problem_detail(pb, "findings are added while the assessment is open and the"
                              " agency's task is not complete");
        fx_problem_allow(pb, strcmp(a->status, "open") != 0 ? "closed" : status, NULL, 0);
        return FX_ECONFLICT;
    }
    /* only what the developer may read is sealed under the developer's key */
    bool shared = strcmp(in->marking, "shared_with_developer") == 0;
    const char *seal_org = shared ? a->org_id : agency;
    char id[37], t[25];
    fx_uuid_v7(env->now, id);
    fx_format_time(env->now, t);
    json_t *doc = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s}", "id", id,
                            "assessment_id", a->id, "notice_id", notice->id, "ref", notice->ref,
                            "agency_org", agency, "title", in->title, "severity", in->severity,
                            "domain", in->domain, "description", in->description, "marking",
                            in->marking, "created_at", t, "created_by", env->who->user_id);
    json_object_set_new(doc, "recommendation",
                        in->recommendation ? json_string(in->recommendation) : json_null());
    unsigned char *blob = NULL;
    size_t blen = 0;
    char sha[65];
    err = fx_review_seal(env->keys, db, seal_org, "finding", id, 1, doc, &blob, &blen, sha);
    struct fx_stmt *st = NULL;
    bool r;
    if (err == FX_OK)
        err = fx_db_prepare(db, sql, &st);
    if (err == FX_OK) {
        fx_stmt_bind_str(st, 1, id);
        fx_stmt_bind_str(st, 2, a->id);
        fx_stmt_bind_str(st, 3, agency);
        fx_stmt_bind_str(st, 4, in->marking);
        fx_stmt_bind_str(st, 5, in->severity);
        fx_stmt_bind_str(st, 6, seal_org);
        fx_stmt_bind_i64(st, 7, env->now);
        fx_stmt_bind_str(st, 8, env->who->user_id);
        fx_stmt_bind_blob(st, 9, blob, blen);
        fx_stmt_bind_str(st, 10, sha);
        err = fx_stmt_step(st, &r);
        fx_stmt_finalize(st);
    }
    if (err == FX_OK) /* SPEC §9: findings are leaves (their hash, never their text) */
        err = fx_notice_leaf(db, env, "finding", id, 1, sha, seal_org);
    free(blob);
    /* the event names the marking, so the notice's history shows it by the same rule */
    if (err == FX_OK)
        err = fx_notice_event(db, env, notice, "finding",
                              json_pack("{s:s,s:s,s:s,s:s,s:s}", "finding_id", id,
                                        "assessment_id", a->id, "agency_org", agency, "marking",
                                        in->marking, "severity", in->severity));
    if (err != FX_OK) {
        json_decref(doc);
        return err;
    }
    json_object_set_new(doc, "content_sha256", json_string(sha));
    *out = doc;
    return FX_OK;
}

#define F_COLS "id, assessment_id, agency_org, marking, severity, seal_org"

static void read_f(struct fx_stmt *st, struct fx_finding_row *f)
{
    memset(f, 0, sizeof(*f));
    fx_stmt_copy_text(st, 0, f->id, sizeof(f->id));
    fx_stmt_copy_text(st, 1, f->assessment_id, sizeof(f->assessment_id));
    fx_stmt_copy_text(st, 2, f->agency_org, sizeof(f->agency_org));
    fx_stmt_copy_text(st, 3, f->marking, sizeof(f->marking));
    fx_stmt_copy_text(st, 4, f->severity, sizeof(f->severity));
    fx_stmt_copy_text(st, 5, f->seal_org, sizeof(f->seal_org));
}

enum fx_err fx_assessment_finding_row(struct fx_db *db, const char *assessment_id,
                                      const char *finding_id, struct fx_finding_row *out)
{
    static const char *sql = "SELECT " F_COLS " FROM findings WHERE id = $1"
                             " AND assessment_id = $2";
    struct fx_stmt *st = NULL;
    bool r = false;
    if (!fx_uuid_valid(finding_id, strlen(finding_id)))
        return FX_ENOTFOUND;
    enum fx_err err = fx_db_prepare(db, sql, &st);
    if (err != FX_OK)
        return err;
    fx_stmt_bind_str(st, 1, finding_id);
    fx_stmt_bind_str(st, 2, assessment_id);
    err = fx_stmt_step(st, &r);
    if (err == FX_OK && !r)
        err = FX_ENOTFOUND;
    if (err == FX_OK)
        read_f(st, out);
    fx_stmt_finalize(st);
    return err;
}

enum fx_err fx_assessment_finding_open(struct fx_db *db, struct fx_keyring *kr,
                                       const struct fx_finding_row *f, json_t **out)
{
    static const char *sql = "SELECT body, content_sha256 FROM findings WHERE id = $1";
    struct fx_stmt *st = NULL;
    bool r = false;
    enum fx_err err = fx_db_prepare(db, sql, &st);
    if (err != FX_OK)
        return err;
    fx_stmt_bind_str(st, 1, f->id);
    err = fx_stmt_step(st, &r);
    if (err == FX_OK && !r)
        err = FX_ENOTFOUND;
    if (err == FX_OK) {
        size_t len = 0;
        const void *blob = fx_stmt_blob(st, 0, &len);
        err = fx_review_open_json(kr, db, f->seal_org, "finding", f->id, 1, blob, len, out);
        if (err == FX_OK)
            json_object_set_new(*out, "content_sha256", json_string(fx_stmt_text(st, 1, NULL)));
    }
    fx_stmt_finalize(st);
    return err;
}

enum fx_err fx_assessment_findings(struct fx_db *db, struct fx_keyring *kr,
                                   const struct fx_assessment_row *a,
                                   bool (*keep)(const struct fx_finding_row *, void *),
                                   void *keep_arg, json_t **items_out,
                                   struct fx_finding_row **rows_out, size_t *n_out)
{
    static const char *sql = "SELECT " F_COLS " FROM findings WHERE assessment_id = $1"
                             " ORDER BY created_at, id";
    struct fx_stmt *st = NULL;
    bool r = false;
    *items_out = NULL;
    *rows_out = NULL;
    *n_out = 0;
    enum fx_err err = fx_db_prepare(db, sql, &st);
    if (err != FX_OK)
        return err;
    fx_stmt_bind_str(st, 1, a->id);
    struct fx_finding_row *rows = NULL;
    size_t n = 0, cap = 0;
    while ((err = fx_stmt_step(st, &r)) == FX_OK && r) {
        if (n == cap) {
            cap = cap ? cap * 2 : 16;
            rows = fx_xrealloc(rows, cap * sizeof(*rows));
        }
        read_f(st, &rows[n]);
        if (keep(&rows[n], keep_arg))
            n++;
    }
    fx_stmt_finalize(st);
    json_t *items = json_array();
    for (size_t i = 0; i < n && err == FX_OK; i++) {
        json_t *doc = NULL;
        err = fx_assessment_finding_open(db, kr, &rows[i], &doc);
        if (err == FX_OK)
            json_array_append_new(items, doc);
    }
    if (err != FX_OK) {
        json_decref(items);
        free(rows);
        return err;
    }
    *items_out = items;
    *rows_out = rows;
    *n_out = n;
    return FX_OK;
}

enum fx_err fx_assessment_close(struct fx_db *db, const struct fx_notice_env *env,
                                struct fx_assessment_row *a, struct fx_notice_row *notice,
                                const char *outcome, const char *summary, json_t **out)
{
    if (strcmp(a->status, "open") != 0 || !fx_notice_allowed(notice->status, FX_NOTICE_OUTCOME))
        return FX_ECONFLICT;
    json_t *doc = NULL;
    enum fx_err err = fx_assessment_view(db, env->keys, a, env->today, &doc);
    if (err != FX_OK)
        return err;
    /* the record's version 2 is version 1 with the outcome: no live task states in it */
    json_object_del(doc, "tasks");
    json_object_del(doc, "overdue");
    json_object_del(doc, "content_sha256");
    char t[25];
    fx_format_time(env->now, t);
    a->version = 2;
    snprintf(a->status, sizeof(a->status), "closed");
    snprintf(a->outcome, sizeof(a->outcome), "%s", outcome);
    a->closed_at = env->now;
    json_object_set_new(doc, "version", json_integer(2));
    json_object_set_new(doc, "status", json_string("closed"));
    json_object_set_new(doc, "outcome", json_string(outcome));
    json_object_set_new(doc, "summary", json_string(summary));
    json_object_set_new(doc, "closed_at", json_string(t));
    json_object_set_new(doc, "closed_by", json_string(env->who->user_id));
    err = put_version(db, env, a, doc);
    json_decref(doc);
    if (err == FX_OK)
        err = put_row(db, a, false);
    if (err == FX_OK) {
        snprintf(notice->status, sizeof(notice->status), "assessed");
        notice->updated_at = env->now;
        err = fx_notice_save(db, notice);
    }
    if (err == FX_OK)
        err = fx_notice_event(db, env, notice, "assessed",
                              json_pack("{s:s,s:s,s:s,s:s}", "from", "assessment", "to",
                                        "assessed", "assessment_id", a->id, "outcome", outcome));
    if (err == FX_OK)
        err = fx_assessment_view(db, env->keys, a, env->today, out);
    return err;
}
