/*
 * review.c: taking notices up, determinations and reconsideration (SPEC §4),
 * and the sealed documents of every record of the review process. Owns
 * nothing between calls. It never decides who may act: the handlers ask
 * src/auth/access.c first; here only the lifecycle is checked.
 */
#include "records/review.h"
#include "auth/access.h"
#include "common/json.h"
#include "common/parse.h"
#include "crypto/digest.h"
#include "records/screening.h"

#include <sodium.h>
#include <stdio.h>
#include <string.h>

static void fact_aad(const char *kind, const char *id, int64_t version, char *out, size_t n)
{
    snprintf(out, n, "%s:%s:v%lld", kind, id, (long long)version);
}

enum fx_err fx_review_seal(struct fx_keyring *kr, struct fx_db *db, const char *org_id,
                           const char *kind, const char *id, int64_t version, const json_t *doc,
                           unsigned char **blob_out, size_t *len_out, char sha256_out[65])
{
    size_t len = 0;
    char *bytes = fx_json_canonical(doc, &len);
    fx_digest_sha256_hex(bytes, len, sha256_out);
    char aad[128];
    fact_aad(kind, id, version, aad, sizeof(aad));
    enum fx_err err = fx_keyring_seal(kr, db, org_id, aad, bytes, len, blob_out, len_out);
    free(bytes);
    return err;
}

enum fx_err fx_review_open(struct fx_keyring *kr, struct fx_db *db, const char *org_id,
                           const char *kind, const char *id, int64_t version, const void *blob,
                           size_t len, char **bytes_out, size_t *len_out)
{
    char aad[128];
    fact_aad(kind, id, version, aad, sizeof(aad));
    return fx_keyring_open(kr, db, org_id, aad, blob, len, bytes_out, len_out);
}

enum fx_err fx_review_open_json(struct fx_keyring *kr, struct fx_db *db, const char *org_id,
                                const char *kind, const char *id, int64_t version,
                                const void *blob, size_t len, json_t **doc_out)
{
    char *bytes = NULL;
    size_t n = 0;
    *doc_out = NULL;
    enum fx_err err = fx_review_open(kr, db, org_id, kind, id, version, blob, len, &bytes, &n);
    if (err != FX_OK)
        return err;
    *doc_out = json_loadb(bytes, n, 0, NULL);
    free(bytes);
    return *doc_out ? FX_OK : FX_ESTORE;
}

/* Moves the notice to status `to` and writes the row back. */
enum fx_err fx_review_put_version(struct fx_db *db, const struct fx_notice_env *env,
                                  const char *sql, const char *kind, const char *id,
                                  int64_t version, const char *org_id, const json_t *doc)
{
    unsigned char *blob = NULL;
    size_t blen = 0;
    char sha[65];
    enum fx_err err =
        fx_review_seal(env->keys, db, org_id, kind, id, version, doc, &blob, &blen, sha);
    if (err != FX_OK)
        return err;
    struct fx_stmt *st = NULL;
    bool r;
    err = fx_db_prepare(db, sql, &st);
    if (err == FX_OK) {
        fx_stmt_bind_str(st, 1, id);
        fx_stmt_bind_i64(st, 2, version);
        fx_stmt_bind_blob(st, 3, blob, blen);
        fx_stmt_bind_str(st, 4, sha);
        fx_stmt_bind_i64(st, 5, env->now);
        err = fx_stmt_step(st, &r);
        fx_stmt_finalize(st);
    }
    free(blob);
    if (err == FX_OK)
        err = fx_notice_leaf(db, env, kind, id, version, sha, org_id);
    return err;
}

static enum fx_err move(struct fx_db *db, const struct fx_notice_env *env,
                        struct fx_notice_row *row, const char *to)
{
    snprintf(row->status, sizeof(row->status), "%s", to);
    row->updated_at = env->now;
    return fx_notice_save(db, row);
}

enum fx_err fx_review_take_up(struct fx_db *db, const struct fx_notice_env *env,
                              struct fx_notice_row *row)
{
    if (!fx_notice_allowed(row->status, FX_NOTICE_REVIEW))
        return FX_ECONFLICT;
    enum fx_err err = move(db, env, row, "under_review");
    if (err == FX_OK)
        err = fx_notice_event(db, env, row, "under_review",
                              json_pack("{s:s,s:s}", "from", "submitted", "to", "under_review"));
    return err;
}

/* Inserts one determinations row from its document (sealed under the developer's key). */
static enum fx_err put_record(struct fx_db *db, const struct fx_notice_env *env,
                              const struct fx_notice_row *row, const char *id, const char *kind,
                              const char *determination, const char *policy_sha256,
                              const json_t *doc)
{
    static const char *sql = "INSERT INTO determinations (id, notice_id, kind, determination,"
                             " policy_sha256, created_at, created_by, org_id, body,"
                             " content_sha256) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)";
    unsigned char *blob = NULL;
    size_t blen = 0;
    char sha[65];
    enum fx_err err =
        fx_review_seal(env->keys, db, row->org_id, kind, id, 1, doc, &blob, &blen, sha);
    if (err != FX_OK)
        return err;
    struct fx_stmt *st = NULL;
    bool r;
    err = fx_db_prepare(db, sql, &st);
    if (err == FX_OK) {
        fx_stmt_bind_str(st, 1, id);
        fx_stmt_bind_str(st, 2, row->id);
        fx_stmt_bind_str(st, 3, kind);
        fx_stmt_bind_str(st, 4, determination);
        fx_stmt_bind_str(st, 5, policy_sha256);
        fx_stmt_bind_i64(st, 6, env->now);
        fx_stmt_bind_str(st, 7, env->who->user_id);
        fx_stmt_bind_str(st, 8, env->who->org_id);
        fx_stmt_bind_blob(st, 9, blob, blen);
        fx_stmt_bind_str(st, 10, sha);
        err = fx_stmt_step(st, &r);
        fx_stmt_finalize(st);
    }
    if (err == FX_OK) /* SPEC §9: determinations and reconsiderations are leaves */
        err = fx_notice_leaf(db, env, kind, id, 1, sha, row->org_id);
    free(blob);
    return err;
}

/* The newest record of kind for the notice: its id into out (37 bytes), "" when none. */
static enum fx_err latest(struct fx_db *db, const char *notice_id, const char *kind, char *out,
                          size_t *count_out)
{
    static const char *sql = "SELECT id, (SELECT COUNT(*) FROM determinations"
                             " WHERE notice_id = $1 AND kind = $2) FROM determinations"
                             " WHERE notice_id = $1 AND kind = $2"
                             " ORDER BY created_at DESC, id DESC LIMIT 1";
    struct fx_stmt *st = NULL;
    bool r = false;
    out[0] = '\0';
    *count_out = 0;
    enum fx_err err = fx_db_prepare(db, sql, &st);
    if (err != FX_OK)
        return err;
    fx_stmt_bind_str(st, 1, notice_id);
    fx_stmt_bind_str(st, 2, kind);
    err = fx_stmt_step(st, &r);
    if (err == FX_OK && r) {
        snprintf(out, 37, "%s", fx_stmt_text(st, 0, NULL));
        *count_out = (size_t)fx_stmt_i64(st, 1);
    }
    fx_stmt_finalize(st);
    return err;
}

static json_t *base_doc(const struct fx_notice_env *env, const struct fx_notice_row *row,
                        const char *id, const char *kind)
{
    char t[25];
    fx_format_time(env->now, t);
    return json_pack("{s:s,s:s,s:s,s:s,s:I,s:s,s:s,s:s}", "id", id, "kind", kind, "notice_id",
                     row->id, "ref", row->ref, "notice_version", (json_int_t)row->version,
                     "created_at", t, "created_by", env->who->user_id, "org_id",
                     env->who->org_id);
}

enum fx_err fx_review_determine(struct fx_db *db, const struct fx_notice_env *env,
                                struct fx_notice_row *row, const char *determination,
                                const char *rationale, const struct fx_policy *pol,
                                json_t **out)
{
    if (!fx_notice_allowed(row->status, FX_NOTICE_DETERMINE))
        return FX_ECONFLICT;
    char id[37], recon[37], screen_result[24];
    size_t n_recon = 0;
    int64_t screen_version = 0;
    enum fx_err err = latest(db, row->id, "reconsideration", recon, &n_recon);
    if (err == FX_OK)
        err = fx_screening_current(db, row->id, &screen_version, screen_result);
    if (err != FX_OK)
        return err;
    /* a reconsideration not yet answered is answered by this determination */
    char prev[37];
    size_t n_det = 0;
    err = latest(db, row->id, "determination", prev, &n_det);
    if (err != FX_OK)
        return err;
    fx_uuid_v7(env->now, id);
    json_t *doc = base_doc(env, row, id, "determination");
    json_object_set_new(doc, "determination", json_string(determination));
    json_object_set_new(doc, "rationale", json_string(rationale));
    json_object_set_new(doc, "policy",
                        json_pack("{s:s,s:s}", "name", pol->name, "sha256", pol->sha256));
    json_object_set_new(doc, "screening",
                        screen_version ? json_pack("{s:I,s:s}", "version",
                                                   (json_int_t)screen_version, "result",
                                                   screen_result)
                                       : json_null());
    json_object_set_new(doc, "reconsideration_id",
                        n_recon > 0 && n_det == n_recon ? json_string(recon) : json_null());
    err = put_record(db, env, row, id, "determination", determination, pol->sha256, doc);
    if (err == FX_OK) {
        snprintf(row->determination, sizeof(row->determination), "%s", determination);
        snprintf(row->policy_sha256, sizeof(row->policy_sha256), "%s", pol->sha256);
        err = move(db, env, row, "determined");
    }
    if (err == FX_OK)
        err = fx_notice_event(
            db, env, row, "determined",
            json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:O}", "from", "under_review", "to",
                      "determined", "determination", determination, "rationale", rationale,
                      "policy", pol->name, "policy_sha256", pol->sha256, "determination_id", id,
                      "reconsideration_id", json_object_get(doc, "reconsideration_id")));
    if (err != FX_OK) {
        json_decref(doc);
        return err;
    }
    *out = doc;
    return FX_OK;
}

enum fx_err fx_review_reconsider(struct fx_db *db, const struct fx_notice_env *env,
                                 struct fx_notice_row *row, const char *statement,
                                 struct fx_problem *pb, json_t **out)
{
    if (!fx_notice_allowed(row->status, FX_NOTICE_RECONSIDER))
        return FX_ECONFLICT;
    char id[37], det[37], prev[37];
    size_t n_det = 0, n_recon = 0;
    enum fx_err err = latest(db, row->id, "reconsideration", prev, &n_recon);
    if (err == FX_OK)
        err = latest(db, row->id, "determination", det, &n_det);
    if (err != FX_OK)
        return err;
    if (n_recon > 0) {
        fx_problem_detail(pb, "reconsideration may be asked once; it was asked already");
        return FX_ECONFLICT;
    }
    fx_uuid_v7(env->now, id);
    json_t *doc = base_doc(env, row, id, "reconsideration");
    json_object_set_new(doc, "statement", json_string(statement));
    json_object_set_new(doc, "determination_id", det[0] ? json_string(det) : json_null());
    json_object_set_new(doc, "determination", json_string(row->determination));
    err = put_record(db, env, row, id, "reconsideration", NULL, row->policy_sha256, doc);
    if (err == FX_OK)
        err = move(db, env, row, "under_review");
    if (err == FX_OK)
        err = fx_notice_event(db, env, row, "reconsideration",
                              json_pack("{s:s,s:s,s:s,s:s,s:O}", "from", "determined", "to",
                                        "under_review", "statement", statement,
                                        "reconsideration_id", id, "determination_id",
                                        json_object_get(doc, "determination_id")));
    if (err != FX_OK) {
        json_decref(doc);
        return err;
    }
    *out = doc;
    return FX_OK;
}

enum fx_err fx_review_list(struct fx_db *db, struct fx_keyring *kr,
                           const struct fx_notice_row *row, json_t **items_out)
{
    static const char *sql = "SELECT id, kind, body, content_sha256 FROM determinations"
                             " WHERE notice_id = $1 ORDER BY created_at, id";
    struct fx_stmt *st = NULL;
    bool r = false;
    enum fx_err err = fx_db_prepare(db, sql, &st);
    if (err != FX_OK)
        return err;
    fx_stmt_bind_str(st, 1, row->id);
    json_t *items = json_array();
    while ((err = fx_stmt_step(st, &r)) == FX_OK && r) {
        size_t len = 0;
        const void *blob = fx_stmt_blob(st, 2, &len);
        json_t *doc = NULL;
        err = fx_review_open_json(kr, db, row->org_id, fx_stmt_text(st, 1, NULL),
                                  fx_stmt_text(st, 0, NULL), 1, blob, len, &doc);
        if (err != FX_OK)
            break;
        json_object_set_new(doc, "content_sha256", json_string(fx_stmt_text(st, 3, NULL)));
        json_array_append_new(items, doc);
    }
    fx_stmt_finalize(st);
    if (err != FX_OK) {
        json_decref(items);
        return err;
    }
    *items_out = items;
    return FX_OK;
}

bool fx_review_event_visible(const struct fx_principal *p, const struct fx_notice_row *row,
                             bool agency_assigned, const json_t *event)
{
    const char *marking = json_string_value(json_object_get(event, "marking"));
    if (marking) {
        struct fx_subject s = {.kind = FX_REC_FINDING, .org_id = row->org_id,
                               .status = row->status, .agency_assigned = agency_assigned,
                               .marking = marking};
        return fx_access_check(p, FX_ACT_READ, &s) == FX_OK;
    }
    const char *partner = json_string_value(json_object_get(event, "partner_org"));
    if (partner) {
        /* the partner never reads a notice's history; everyone else follows the grant */
        struct fx_subject s = {.kind = FX_REC_GRANT, .org_id = row->org_id,
                               .partner_org = partner};
        return fx_access_check(p, FX_ACT_READ, &s) == FX_OK;
    }
    return true;
}
