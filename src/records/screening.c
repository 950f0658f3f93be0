/*
 * screening.c: screenings in the store (SPEC §4). The rule evaluation itself is
 * src/policy/screen.c; this file keeps its result per notice version, with the
 * explanation sealed under the developer org's key, and re-screens all open
 * notices when a policy is applied. Owns nothing between calls.
 */
#include "records/screening.h"
#include "common/parse.h"
#include "policy/screen.h"
#include "records/audit.h"
#include "records/review.h"
#include "records/tlog.h"

#include <stdio.h>
#include <string.h>

#define KIND "screening"

enum fx_err fx_screening_current(struct fx_db *db, const char *notice_id, int64_t *version_out,
                                 char *result_out)
{
    static const char *sql = "SELECT version, result FROM screenings WHERE notice_id = $1"
                             " ORDER BY version DESC LIMIT 1";
    struct fx_stmt *st = NULL;
    bool r = false;
    *version_out = 0;
    result_out[0] = '\0';
    enum fx_err err = fx_db_prepare(db, sql, &st);
    if (err != FX_OK)
        return err;
    fx_stmt_bind_str(st, 1, notice_id);
    err = fx_stmt_step(st, &r);
    if (err == FX_OK && r) {
        *version_out = fx_stmt_i64(st, 0);
        snprintf(result_out, 24, "%s", fx_stmt_text(st, 1, NULL));
    }
    fx_stmt_finalize(st);
    return err;
}

/*
 * Screens and stores version `version` (the previous one was prev_result, "" for
 * none). *covered_out: the new result. The explanation document is the record.
 */
static enum fx_err put_screening(struct fx_db *db, const struct fx_notice_env *env,
                                 const struct fx_notice_row *row, const json_t *fields,
                                 const struct fx_policy *pol, const char *trigger,
                                 int64_t version, const char **result_out)
{
    static const char *sql = "INSERT INTO screenings (notice_id, version, result, short_notice,"
                             " policy_sha256, notice_version, created_at, body, content_sha256)"
                             " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)";
    json_t *doc = NULL;
    bool covered = fx_screen_notice(pol, fields, &doc);
    const char *result = covered ? "likely_covered" : "likely_not_covered";
    char t[25];
    fx_format_time(env->now, t);
    json_object_set_new(doc, "notice_id", json_string(row->id));
    json_object_set_new(doc, "ref", json_string(row->ref));
    json_object_set_new(doc, "version", json_integer(version));
    json_object_set_new(doc, "notice_version", json_integer(row->version));
    json_object_set_new(doc, "trigger", json_string(trigger));
    json_object_set_new(doc, "short_notice", json_boolean(row->short_notice));
    json_object_set_new(doc, "notice_days",
                        row->has_notice_days ? json_integer(row->notice_days) : json_null());
    json_object_set_new(doc, "min_notice_days", json_integer(pol->min_notice_days));
    json_object_set_new(doc, "created_at", json_string(t));
    unsigned char *blob = NULL;
    size_t blen = 0;
    char sha[65];
    enum fx_err err =
        fx_review_seal(env->keys, db, row->org_id, KIND, row->id, version, doc, &blob, &blen, sha);
    json_decref(doc);
    if (err != FX_OK)
        return err;
    struct fx_stmt *st = NULL;
    bool r;
    err = fx_db_prepare(db, sql, &st);
    if (err == FX_OK) {
        fx_stmt_bind_str(st, 1, row->id);
        fx_stmt_bind_i64(st, 2, version);
        fx_stmt_bind_str(st, 3, result);
        fx_stmt_bind_i64(st, 4, row->short_notice ? 1 : 0);
        fx_stmt_bind_str(st, 5, pol->sha256);
        fx_stmt_bind_i64(st, 6, row->version);
        fx_stmt_bind_i64(st, 7, env->now);
        fx_stmt_bind_blob(st, 8, blob, blen);
        fx_stmt_bind_str(st, 9, sha);
        err = fx_stmt_step(st, &r);
        fx_stmt_finalize(st);
    }
    free(blob);
    *result_out = result;
    return err;
}

static json_t *screened_event(const struct fx_policy *pol, const char *trigger, int64_t version,
                              const char *result, const char *prev)
{
    return json_pack("{s:s,s:I,s:s,s:o,s:s,s:s}", "trigger", trigger, "screening_version",
                     (json_int_t)version, "result", result, "previous_result",
                     prev[0] ? json_string(prev) : json_null(), "policy", pol->name,
                     "policy_sha256", pol->sha256);
}

enum fx_err fx_screening_record(struct fx_db *db, const struct fx_notice_env *env,
                                const struct fx_notice_row *row, const json_t *fields,
                                const struct fx_policy *pol, const char *trigger)
{
    int64_t version = 0;
    char prev[24];
    const char *result = NULL;
    enum fx_err err = fx_screening_current(db, row->id, &version, prev);
    if (err == FX_OK)
        err = put_screening(db, env, row, fields, pol, trigger, version + 1, &result);
    /* the history notes a screening that changed the result; every one is kept as a record */
    if (err == FX_OK && prev[0] && strcmp(prev, result) != 0)
        err = fx_notice_event(db, env, row, "screened",
                              screened_event(pol, trigger, version + 1, result, prev));
    return err;
}

enum fx_err fx_screening_bytes(struct fx_db *db, struct fx_keyring *kr,
                               const struct fx_notice_row *row, char **out, size_t *len_out)
{
    static const char *sql = "SELECT version, body FROM screenings WHERE notice_id = $1"
                             " ORDER BY version DESC LIMIT 1";
    struct fx_stmt *st = NULL;
    bool r = false;
    *out = NULL;
    enum fx_err err = fx_db_prepare(db, sql, &st);
    if (err != FX_OK)
        return err;
    fx_stmt_bind_str(st, 1, row->id);
    err = fx_stmt_step(st, &r);
    if (err == FX_OK && !r)
        err = FX_ENOTFOUND;
    if (err == FX_OK) {
        size_t len = 0;
        const void *blob = fx_stmt_blob(st, 1, &len);
        err = fx_review_open(kr, db, row->org_id, KIND, row->id, fx_stmt_i64(st, 0), blob, len,
                             out, len_out);
    }
    fx_stmt_finalize(st);
    return err;
}

static json_t *change_of(const struct fx_notice_row *row, const char *from, const char *to,
                         bool short_from, bool short_to)
{
    return json_pack("{s:s,s:s,s:s,s:{s:o,s:s},s:{s:b,s:b}}", "notice_id", row->id, "ref",
                     row->ref, "org_id", row->org_id, "screening", "from",
                     from[0] ? json_string(from) : json_null(), "to", to, "short_notice", "from",
                     short_from, "to", short_to);
}

/* Re-screens one open notice; appends to changes when something changed. */
static enum fx_err rescreen_one(struct fx_db *db, const struct fx_notice_env *env,
                                const struct fx_policy *pol, bool apply,
                                struct fx_notice_row *row, json_t *changes)
{
    json_t *fields = NULL;
    int64_t version = 0;
    char prev[24];
    enum fx_err err = fx_screening_current(db, row->id, &version, prev);
    if (err == FX_OK)
        err = fx_notice_fields(db, env->keys, row, &fields);
    if (err != FX_OK)
        return err;
    /* SPEC §3 under the new min_notice_days: the flag is judged again from notice_days */
    bool short_from = row->short_notice;
    bool short_to = row->has_notice_days && row->notice_days < pol->min_notice_days;
    const char *result = NULL;
    if (!apply) {
        json_t *expl = NULL;
        result = fx_screen_notice(pol, fields, &expl) ? "likely_covered" : "likely_not_covered";
        json_decref(expl);
    } else {
        row->short_notice = short_to;
        snprintf(row->policy_sha256, sizeof(row->policy_sha256), "%s", pol->sha256);
        row->updated_at = env->now;
        err = put_screening(db, env, row, fields, pol, "policy", version + 1, &result);
        if (err == FX_OK)
            err = fx_notice_save(db, row);
        if (err == FX_OK) {
            json_t *ev = screened_event(pol, "policy", version + 1, result, prev);
            json_object_set_new(ev, "short_notice", json_boolean(short_to));
            json_object_set_new(ev, "previous_short_notice", json_boolean(short_from));
            err = fx_notice_event(db, env, row, "screened", ev);
        }
        if (err == FX_OK)
            err = fx_audit_write(db, env->now, env->who, "notice.rescreen", row->id,
                                 row->org_id, "ok");
    }
    json_decref(fields);
    if (err == FX_OK && (strcmp(prev, result) != 0 || short_from != short_to))
        json_array_append_new(changes, change_of(row, prev, result, short_from, short_to));
    return err;
}

enum fx_err fx_screening_rescreen(struct fx_db *db, const struct fx_notice_env *env,
                                  const struct fx_policy *pol, bool apply,
                                  bool (*keep)(const struct fx_notice_row *, void *),
                                  void *keep_arg, json_t **changes_out, size_t *examined_out)
{
    struct fx_notice_row *rows = NULL;
    size_t n = 0, examined = 0;
    *changes_out = NULL;
    *examined_out = 0;
    enum fx_err err = fx_notice_open_rows(db, &rows, &n);
    if (err != FX_OK)
        return err;
    json_t *changes = json_array();
    for (size_t i = 0; i < n && err == FX_OK; i++) {
        if (!keep(&rows[i], keep_arg))
            continue;
        examined++;
        err = rescreen_one(db, env, pol, apply, &rows[i], changes);
    }
    free(rows);
    if (err != FX_OK) {
        json_decref(changes);
        return err;
    }
    *changes_out = changes;
    *examined_out = examined;
    return FX_OK;
}

static json_t *ref_of(const struct fx_policy *pol)
{
    return json_pack("{s:s,s:s}", "name", pol->name, "sha256", pol->sha256);
}

static bool keep_all(const struct fx_notice_row *row, void *arg)
{
    (void)row;
    (void)arg;
    return true;
}

/* Runs the re-screening unless pol is the active policy; builds the answer. */
static enum fx_err rescreen_answer(struct fx_db *db, const struct fx_notice_env *env,
                                   const struct fx_policy *pol, bool apply,
                                   bool (*keep)(const struct fx_notice_row *, void *),
                                   void *keep_arg, json_t **out, bool *unchanged_out)
{
    struct fx_policy active;
    enum fx_err err = fx_policy_load_active(db, &active);
    if (err != FX_OK)
        return err == FX_ENOTFOUND ? FX_ESTORE : err;
    bool same = strcmp(active.sha256, pol->sha256) == 0;
    json_t *changes = NULL;
    size_t examined = 0;
    if (same)
        changes = json_array();
    else
        err = fx_screening_rescreen(db, env, pol, apply, keep, keep_arg, &changes, &examined);
    if (err == FX_OK)
        *out = json_pack("{s:o,s:o,s:I,s:I,s:o,s:b}", "policy", ref_of(pol),
                         apply ? "previous" : "active", ref_of(&active), "examined",
                         (json_int_t)examined,
                         "changed", (json_int_t)json_array_size(changes), "changes", changes,
                         "unchanged", same);
    fx_policy_cleanup(&active);
    *unchanged_out = same;
    return err;
}

enum fx_err fx_screening_check(struct fx_db *db, const struct fx_notice_env *env,
                               const struct fx_policy *pol,
                               bool (*keep)(const struct fx_notice_row *, void *),
                               void *keep_arg, json_t **out)
{
    bool same = false;
    return rescreen_answer(db, env, pol, false, keep, keep_arg, out, &same);
}

enum fx_err fx_screening_apply(struct fx_db *db, const struct fx_notice_env *env,
                               const struct fx_policy *pol, json_t **out)
{
    bool same = false;
    enum fx_err err = rescreen_answer(db, env, pol, true, keep_all, NULL, out, &same);
    if (err != FX_OK || same)
        return err;
    err = fx_policy_activate(db, env->now, pol);
    /* SPEC §9: a policy change is a leaf: the policy document's hash, by the acting org */
    json_t *receipt = NULL;
    if (err == FX_OK) {
        struct fx_leaf leaf = {"policy", pol->sha256, 1, pol->sha256, env->who->org_id,
                               env->now};
        err = fx_tlog_append(db, env->signer, &leaf, &receipt);
    }
    if (err == FX_OK) {
        json_array_append(env->receipts, receipt);
        json_object_set_new(*out, "receipt", receipt);
        err = fx_audit_write(db, env->now, env->who->user_id[0] ? env->who : NULL,
                             "policy.apply", pol->sha256, env->who->org_id, "ok");
    }
    if (err != FX_OK) {
        json_decref(*out);
        *out = NULL;
    }
    return err;
}
