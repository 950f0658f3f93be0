/*
 * incident_db.c: incidents in the store (SPEC §7, §9, §11). The incidents
 * table holds the plain metadata that lists filter on and the gate needs;
 * incident_shares the sharing lists; every version's document is sealed
 * under the reporter org's data key with "incident:<id>:v<n>" as associated
 * data, and becomes a ledger leaf in the same transaction. History events
 * share the notices' events table, sealed the same way.
 */
#include "common/json.h"
#include "common/parse.h"
#include "crypto/digest.h"
#include "records/incident.h"
#include "records/incident_int.h"
#include "records/notice.h"
#include "records/tlog.h"
#include "taxii/stix.h"

#include <sodium.h>
#include <stdio.h>
#include <string.h>

#define ROW_COLS                                                                                   \
    "id, ref, org_id, tlp, status, severity, category, version, etag, occurred_at, detected_at,"  \
    " reported_at, late, policy_sha256, created_by, created_at, updated_at"

/* Members of a version document that are not fields of the incident. */
static const char *const version_meta[] = {
    "incident_id",     "ref",          "version",      "reporter_org",      "reported_at",
    "late",            "report_deadline", "incident_report_hours", "policy",
    "version_created_at", "version_created_by", "change_reason", "stix_created",
    "stix_modified",   "marked_at",    NULL,
};

static void text_col(struct fx_stmt *st, int col, char *out, size_t n)
{
    const char *v = fx_stmt_is_null(st, col) ? "" : fx_stmt_text(st, col, NULL);
    snprintf(out, n, "%s", v ? v : "");
}

static void read_row(struct fx_stmt *st, struct fx_incident_row *r)
{
    memset(r, 0, sizeof(*r));
    text_col(st, 0, r->id, sizeof(r->id));
    text_col(st, 1, r->ref, sizeof(r->ref));
    text_col(st, 2, r->org_id, sizeof(r->org_id));
    text_col(st, 3, r->tlp, sizeof(r->tlp));
    text_col(st, 4, r->status, sizeof(r->status));
    text_col(st, 5, r->severity, sizeof(r->severity));
    text_col(st, 6, r->category, sizeof(r->category));
    r->version = fx_stmt_i64(st, 7);
    text_col(st, 8, r->etag, sizeof(r->etag));
    r->has_occurred = !fx_stmt_is_null(st, 9);
    r->occurred_at = r->has_occurred ? fx_stmt_i64(st, 9) : 0;
    r->detected_at = fx_stmt_i64(st, 10);
    r->reported_at = fx_stmt_i64(st, 11);
    r->late = fx_stmt_i64(st, 12) != 0;
    text_col(st, 13, r->policy_sha256, sizeof(r->policy_sha256));
    text_col(st, 14, r->created_by, sizeof(r->created_by));
    r->created_at = fx_stmt_i64(st, 15);
    r->updated_at = fx_stmt_i64(st, 16);
}

void fx_incident_row_cleanup(struct fx_incident_row *r)
{
    for (size_t i = 0; i < r->n_share_orgs; i++)
        free(r->share_orgs[i]);
    for (size_t i = 0; i < r->n_share_users; i++)
        free(r->share_users[i]);
    FX_FREE(r->share_orgs);
    FX_FREE(r->share_users);
    r->n_share_orgs = r->n_share_users = 0;
}

void fx_incident_subject(const struct fx_incident_row *r, struct fx_subject *s)
{
    memset(s, 0, sizeof(*s));
    s->kind = FX_REC_INCIDENT;
    s->org_id = r->org_id;
    s->tlp = r->tlp;
    s->share_orgs = (const char *const *)r->share_orgs;
    s->n_share_orgs = r->n_share_orgs;
    s->share_users = (const char *const *)r->share_users;
    s->n_share_users = r->n_share_users;
}

static enum fx_err load_shares(struct fx_db *db, struct fx_incident_row *r)
{
    static const char *sql = "SELECT kind, principal FROM incident_shares WHERE incident_id = $1"
                             " ORDER BY kind, principal";
    struct fx_stmt *st = NULL;
    bool row = false;
    enum fx_err err = fx_db_prepare(db, sql, &st);
    if (err != FX_OK)
        return err;
    fx_stmt_bind_str(st, 1, r->id);
    while ((err = fx_stmt_step(st, &row)) == FX_OK && row) {
        bool org = strcmp(fx_stmt_text(st, 0, NULL), "org") == 0;
        char ***list = org ? &r->share_orgs : &r->share_users;
        size_t *n = org ? &r->n_share_orgs : &r->n_share_users;
        *list = fx_xrealloc(*list, (*n + 1) * sizeof(**list));
        (*list)[(*n)++] = fx_xstrdup(fx_stmt_text(st, 1, NULL));
    }
    fx_stmt_finalize(st);
    return err;
}

enum fx_err fx_incident_load(struct fx_db *db, const char *id_or_ref, struct fx_incident_row *out)
{
    static const char *by_id = "SELECT " ROW_COLS " FROM incidents WHERE id = $1";
    static const char *by_ref = "SELECT " ROW_COLS " FROM incidents WHERE ref = $1";
    size_t len = strlen(id_or_ref);
    const char *sql;
    memset(out, 0, sizeof(*out));
    if (fx_uuid_valid(id_or_ref, len))
        sql = by_id;
    else if (len == 13 && strncmp(id_or_ref, "FXI-", 4) == 0)
        sql = by_ref;
    else
        return FX_ENOTFOUND;
    char key[37];
    snprintf(key, sizeof(key), "%s", id_or_ref);
    if (sql == by_id)
        for (char *c = key; *c; c++)
            if (*c >= 'A' && *c <= 'F')
                *c = (char)(*c - 'A' + 'a');
    struct fx_stmt *st = NULL;
    bool row = false;
    enum fx_err err = fx_db_prepare(db, sql, &st);
    if (err != FX_OK)
        return err;
    fx_stmt_bind_str(st, 1, key);
    err = fx_stmt_step(st, &row);
    if (err == FX_OK && !row)
        err = FX_ENOTFOUND;
    if (err == FX_OK)
        read_row(st, out);
    fx_stmt_finalize(st);
    if (err == FX_OK)
        err = load_shares(db, out);
    if (err != FX_OK)
        fx_incident_row_cleanup(out);
    return err;
}

static enum fx_err put_row(struct fx_db *db, const struct fx_incident_row *r, bool fresh)
{
    static const char *ins = "INSERT INTO incidents (" ROW_COLS ") VALUES ($1, $2, $3, $4, $5, $6,"
                             " $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)";
    static const char *upd =
        "UPDATE incidents SET ref = $2, org_id = $3, tlp = $4, status = $5, severity = $6,"
        " category = $7, version = $8, etag = $9, occurred_at = $10, detected_at = $11,"
        " reported_at = $12, late = $13, policy_sha256 = $14, created_by = $15,"
        " created_at = $16, updated_at = $17 WHERE id = $1";
    struct fx_stmt *st = NULL;
    bool row;
    enum fx_err err = fx_db_prepare(db, fresh ? ins : upd, &st);
    if (err != FX_OK)
        return err;
    fx_stmt_bind_str(st, 1, r->id);
    fx_stmt_bind_str(st, 2, r->ref);
    fx_stmt_bind_str(st, 3, r->org_id);
    fx_stmt_bind_str(st, 4, r->tlp);
    fx_stmt_bind_str(st, 5, r->status);
    fx_stmt_bind_str(st, 6, r->severity);
    fx_stmt_bind_str(st, 7, r->category);
    fx_stmt_bind_i64(st, 8, r->version);
    fx_stmt_bind_str(st, 9, r->etag);
    if (r->has_occurred)
        fx_stmt_bind_i64(st, 10, r->occurred_at);
    else
        fx_stmt_bind_null(st, 10);
    fx_stmt_bind_i64(st, 11, r->detected_at);
    fx_stmt_bind_i64(st, 12, r->reported_at);
    fx_stmt_bind_i64(st, 13, r->late ? 1 : 0);
    fx_stmt_bind_str(st, 14, r->policy_sha256);
    fx_stmt_bind_str(st, 15, r->created_by);
    fx_stmt_bind_i64(st, 16, r->created_at);
    fx_stmt_bind_i64(st, 17, r->updated_at);
    err = fx_stmt_step(st, &row);
    fx_stmt_finalize(st);
    return err;
}

/* Replaces the stored sharing lists with the version's and mirrors them into *r. */
static enum fx_err put_shares(struct fx_db *db, struct fx_incident_row *r,
                              const struct fx_incident_fields *f)
{
    static const char *del = "DELETE FROM incident_shares WHERE incident_id = $1";
    static const char *ins = "INSERT INTO incident_shares (incident_id, kind, principal)"
                             " VALUES ($1, $2, $3)";
    struct fx_stmt *st = NULL;
    bool row;
    enum fx_err err = fx_db_prepare(db, del, &st);
    if (err != FX_OK)
        return err;
    fx_stmt_bind_str(st, 1, r->id);
    err = fx_stmt_step(st, &row);
    fx_stmt_finalize(st);
    fx_incident_row_cleanup(r);
    const json_t *lists[2] = {f->share_with, f->share_with_users};
    for (int k = 0; k < 2 && err == FX_OK; k++) {
        size_t i;
        json_t *v;
        json_array_foreach(lists[k], i, v)
        {
            err = fx_db_prepare(db, ins, &st);
            if (err != FX_OK)
                break;
            fx_stmt_bind_str(st, 1, r->id);
            fx_stmt_bind_str(st, 2, k == 0 ? "org" : "user");
            fx_stmt_bind_str(st, 3, json_string_value(v));
            err = fx_stmt_step(st, &row);
            fx_stmt_finalize(st);
            if (err != FX_OK)
                break;
        }
    }
    return err == FX_OK ? load_shares(db, r) : err;
}

/* SPEC §7: whoever is shared with must exist; each unknown one is named. */
static enum fx_err check_principals(struct fx_db *db, const struct fx_incident_fields *f,
                                    struct fx_problem *pb)
{
    static const char *org_sql = "SELECT 1 FROM orgs WHERE id = $1";
    static const char *user_sql = "SELECT 1 FROM users WHERE id = $1";
    const json_t *lists[2] = {f->share_with, f->share_with_users};
    size_t before = pb->n;
    for (int k = 0; k < 2; k++) {
        size_t i;
        json_t *v;
        json_array_foreach(lists[k], i, v)
        {
            struct fx_stmt *st = NULL;
            bool row = false;
            enum fx_err err = fx_db_prepare(db, k == 0 ? org_sql : user_sql, &st);
            if (err != FX_OK)
                return err;
            fx_stmt_bind_str(st, 1, json_string_value(v));
            err = fx_stmt_step(st, &row);
            fx_stmt_finalize(st);
            if (err != FX_OK)
                return err;
            if (!row) {
                char field[64];
                snprintf(field, sizeof(field), "/%s/%zu", k == 0 ? "share_with" : "share_with_users",
                         i);
                fx_problem_add(pb, field, k == 0 ? "no such organization" : "no such user");
            }
        }
    }
    return pb->n > before ? FX_EINVAL : FX_OK;
}

/* Next FXI-YYYY-NNNN for the year of now: a counter per year, never reused. */
static enum fx_err next_ref(struct fx_db *db, int64_t now, char *out, size_t n)
{
    static const char *sql = "INSERT INTO incident_ref_counters (year, last) VALUES ($1, 1)"
                             " ON CONFLICT (year) DO UPDATE SET"
                             " last = incident_ref_counters.last + 1 RETURNING last";
    int64_t y;
    unsigned m, d;
    fx_civil_from_days(now / 86400000, &y, &m, &d);
    struct fx_stmt *st = NULL;
    bool row = false;
    enum fx_err err = fx_db_prepare(db, sql, &st);
    if (err != FX_OK)
        return err;
    fx_stmt_bind_i64(st, 1, y);
    err = fx_stmt_step(st, &row);
    if (err == FX_OK && row)
        snprintf(out, n, "FXI-%04d-%04lld", (int)(y % 10000), (long long)fx_stmt_i64(st, 0));
    else if (err == FX_OK)
        err = FX_ESTORE;
    fx_stmt_finalize(st);
    return err;
}

/* Appends a history event with a sealed detail object (takes ownership of detail). */
static enum fx_err add_event(struct fx_db *db, const struct fx_incident_env *env,
                             const struct fx_incident_row *row, const char *action,
                             json_t *detail)
{
    static const char *sql = "INSERT INTO events (record_id, time, user_id, org_id, action,"
                             " detail) VALUES ($1, $2, $3, $4, $5, $6)";
    char *pt = json_dumps(detail, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(detail);
    if (pt == NULL)
        fx_die("json_dumps failed");
    char aad[64];
    snprintf(aad, sizeof(aad), "event:%s", row->id);
    unsigned char *c = NULL;
    size_t clen = 0;
    enum fx_err err = fx_keyring_seal(env->keys, db, row->org_id, aad, pt, strlen(pt), &c, &clen);
    free(pt);
    if (err != FX_OK)
        return err;
    struct fx_stmt *st = NULL;
    bool r;
    err = fx_db_prepare(db, sql, &st);
    if (err == FX_OK) {
        fx_stmt_bind_str(st, 1, row->id);
        fx_stmt_bind_i64(st, 2, env->now);
        fx_stmt_bind_str(st, 3, env->who->user_id);
        fx_stmt_bind_str(st, 4, env->who->org_id);
        fx_stmt_bind_str(st, 5, action);
        fx_stmt_bind_blob(st, 6, c, clen);
        err = fx_stmt_step(st, &r);
        fx_stmt_finalize(st);
    }
    free(c);
    return err;
}

static void version_aad(const char *id, int64_t version, char *out, size_t n)
{
    snprintf(out, n, "incident:%s:v%lld", id, (long long)version);
}

/* The reporter's identity SDO, from the orgs table (new reference). */
static enum fx_err identity_of(struct fx_db *db, const char *org_id, json_t **out)
{
    static const char *sql = "SELECT name, kind, created_at FROM orgs WHERE id = $1";
    struct fx_stmt *st = NULL;
    bool row = false;
    enum fx_err err = fx_db_prepare(db, sql, &st);
    if (err != FX_OK)
        return err;
    fx_stmt_bind_str(st, 1, org_id);
    err = fx_stmt_step(st, &row);
    if (err == FX_OK && !row)
        err = FX_ESTORE;
    if (err == FX_OK)
        *out = fx_incident_identity_object(org_id, fx_stmt_text(st, 0, NULL),
                                           fx_stmt_text(st, 1, NULL), fx_stmt_i64(st, 2));
    fx_stmt_finalize(st);
    return err;
}

/*
 * STIX times of a version: microseconds, strictly after the previous version's,
 * so that versions stay distinct (and ordered) even within one millisecond or
 * under a pinned test clock.
 */
static void stamp_of(const json_t *prev, int64_t now_ms, char out[static 28])
{
    int64_t us = now_ms * 1000, before = 0;
    const char *p = prev ? json_string_value(json_object_get(prev, "stix_modified")) : NULL;
    if (p && fx_stix_parse_timestamp(p, strlen(p), &before) == FX_OK && before >= us)
        us = before + 1;
    fx_stix_format_us(us, out);
}

/*
 * Writes version row->version from clean (taken over): the version document,
 * canonical and sealed, its hash, the ledger leaf and its receipt, and the
 * version's STIX objects into env->publish. Sets the row's ETag.
 */
static enum fx_err put_version(struct fx_db *db, const struct fx_incident_env *env,
                               struct fx_incident_row *row, json_t *doc, const json_t *prev,
                               const char *change_reason, const struct fx_policy *pol)
{
    static const char *sql = "INSERT INTO incident_versions (incident_id, version, body,"
                             " content_sha256, created_at, created_by)"
                             " VALUES ($1, $2, $3, $4, $5, $6)";
    char t[25], stamp[28];
    int64_t hours_ms = pol->incident_report_hours * 3600000;
    json_object_set_new(doc, "incident_id", json_string(row->id));
    json_object_set_new(doc, "ref", json_string(row->ref));
    json_object_set_new(doc, "version", json_integer(row->version));
    json_object_set_new(doc, "reporter_org", json_string(row->org_id));
    fx_format_time(row->reported_at, t);
    json_object_set_new(doc, "reported_at", json_string(t));
    json_object_set_new(doc, "late", json_boolean(row->late));
    fx_format_time(row->detected_at + hours_ms, t);
    json_object_set_new(doc, "report_deadline", json_string(t));
    json_object_set_new(doc, "incident_report_hours", json_integer(pol->incident_report_hours));
    json_object_set_new(doc, "policy", json_pack("{s:s,s:s}", "name", pol->name, "sha256",
                                                 pol->sha256));
    fx_format_time(env->now, t);
    json_object_set_new(doc, "version_created_at", json_string(t));
    json_object_set_new(doc, "version_created_by", json_string(env->who->user_id));
    json_object_set_new(doc, "change_reason",
                        change_reason ? json_string(change_reason) : json_null());
    stamp_of(prev, env->now, stamp);
    json_object_set_new(doc, "stix_modified", json_string(stamp));
    if (prev)
        json_object_set(doc, "stix_created", json_object_get(prev, "stix_created"));
    else
        json_object_set_new(doc, "stix_created", json_string(stamp));
    json_t *removed = json_array();
    fx_incident_indicator_versions(doc, prev, row->id, stamp, removed);

    size_t len = 0;
    char *bytes = fx_json_canonical(doc, &len);
    char hex[65], aad[96];
    fx_digest_sha256_hex(bytes, len, hex);
    snprintf(row->etag, sizeof(row->etag), "\"%lld-%.16s\"", (long long)row->version, hex);
    version_aad(row->id, row->version, aad, sizeof(aad));
    unsigned char *c = NULL;
    size_t clen = 0;
    enum fx_err err = fx_keyring_seal(env->keys, db, row->org_id, aad, bytes, len, &c, &clen);
    free(bytes);
    struct fx_stmt *st = NULL;
    bool r;
    if (err == FX_OK)
        err = fx_db_prepare(db, sql, &st);
    if (err == FX_OK) {
        fx_stmt_bind_str(st, 1, row->id);
        fx_stmt_bind_i64(st, 2, row->version);
        fx_stmt_bind_blob(st, 3, c, clen);
        fx_stmt_bind_str(st, 4, hex);
        fx_stmt_bind_i64(st, 5, env->now);
        fx_stmt_bind_str(st, 6, env->who->user_id);
        err = fx_stmt_step(st, &r);
        fx_stmt_finalize(st);
    }
    free(c);
    if (err == FX_OK) {
        /* SPEC §9: the version is a leaf, hashed over the bytes /versions/{n} serves */
        struct fx_leaf leaf = {"incident_version", row->id, row->version, hex, row->org_id,
                               env->now};
        json_t *receipt = NULL;
        err = fx_tlog_append(db, env->signer, &leaf, &receipt);
        if (err == FX_OK)
            json_array_append_new(env->receipts, receipt);
    }
    json_t *identity = NULL;
    if (err == FX_OK)
        err = identity_of(db, row->org_id, &identity);
    if (err == FX_OK) {
        json_t *objects = fx_incident_stix(doc, row->org_id, identity, removed, stamp);
        size_t i;
        json_t *o;
        json_array_foreach(objects, i, o)
        {
            const char *m = json_string_value(json_object_get(o, "modified"));
            if (i == 0 || (m && strcmp(m, stamp) == 0))
                json_array_append(env->publish, o);
        }
        json_decref(objects);
    }
    json_decref(removed);
    json_decref(doc);
    return err;
}

static void set_plain(struct fx_incident_row *r, const struct fx_incident_fields *f,
                      const struct fx_policy *pol)
{
    snprintf(r->tlp, sizeof(r->tlp), "%s", f->tlp);
    snprintf(r->status, sizeof(r->status), "%s", f->status);
    snprintf(r->severity, sizeof(r->severity), "%s", f->severity);
    snprintf(r->category, sizeof(r->category), "%s", f->category);
    r->detected_at = f->detected_at;
    r->has_occurred = f->has_occurred;
    r->occurred_at = f->occurred_at;
    /* SPEC §7: reported later than incident_report_hours after detection is late */
    r->late = r->reported_at - r->detected_at > pol->incident_report_hours * 3600000;
    snprintf(r->policy_sha256, sizeof(r->policy_sha256), "%s", pol->sha256);
}

static enum fx_err check_times(const struct fx_incident_env *env,
                               const struct fx_incident_fields *f, int64_t reported_at,
                               struct fx_problem *pb)
{
    (void)env;
    if (f->detected_at > reported_at) {
        fx_problem_add(pb, "/detected_at", "must not be later than the time of the report");
        return FX_EINVAL;
    }
    return FX_OK;
}

enum fx_err fx_incident_create(struct fx_db *db, const struct fx_incident_env *env,
                               json_t *clean, const struct fx_incident_fields *f,
                               const struct fx_policy *pol, struct fx_problem *pb,
                               struct fx_incident_row *row_out)
{
    struct fx_incident_row *r = row_out;
    memset(r, 0, sizeof(*r));
    enum fx_err err = check_principals(db, f, pb);
    if (err == FX_OK)
        err = check_times(env, f, env->now, pb);
    if (err != FX_OK) {
        json_decref(clean);
        return err;
    }
    fx_uuid_v7(env->now, r->id);
    snprintf(r->org_id, sizeof(r->org_id), "%s", env->who->org_id);
    snprintf(r->created_by, sizeof(r->created_by), "%s", env->who->user_id);
    r->version = 1;
    r->reported_at = r->created_at = r->updated_at = env->now;
    set_plain(r, f, pol);
    err = next_ref(db, env->now, r->ref, sizeof(r->ref));
    if (err != FX_OK) {
        json_decref(clean);
        return err;
    }
    snprintf(r->etag, sizeof(r->etag), "\"pending\"");
    /* the row goes first: versions and shares reference it */
    err = put_row(db, r, true);
    if (err == FX_OK)
        err = put_shares(db, r, f);
    if (err == FX_OK) {
        err = put_version(db, env, r, clean, NULL, NULL, pol);
        clean = NULL;
    }
    json_decref(clean);
    if (err == FX_OK)
        err = put_row(db, r, false);
    if (err == FX_OK)
        err = add_event(db, env, r, "reported",
                        json_pack("{s:I,s:s,s:s,s:b}", "version", (json_int_t)1, "tlp", r->tlp,
                                  "status", r->status, "late", r->late));
    return err;
}

/* The stored document of version n, parsed (new reference). */
static enum fx_err version_doc(struct fx_db *db, struct fx_keyring *kr,
                               const struct fx_incident_row *row, int64_t n, json_t **out)
{
    char *bytes = NULL;
    size_t len = 0;
    enum fx_err err = fx_incident_version_bytes(db, kr, row, n, &bytes, &len);
    if (err != FX_OK)
        return err;
    *out = json_loadb(bytes, len, 0, NULL);
    free(bytes);
    return *out ? FX_OK : FX_ESTORE;
}

enum fx_err fx_incident_fields_of(struct fx_db *db, struct fx_keyring *kr,
                                  const struct fx_incident_row *row, json_t **out)
{
    json_t *doc = NULL;
    enum fx_err err = version_doc(db, kr, row, row->version, &doc);
    if (err != FX_OK)
        return err;
    for (size_t i = 0; version_meta[i]; i++)
        json_object_del(doc, version_meta[i]);
    *out = doc;
    return FX_OK;
}

enum fx_err fx_incident_update(struct fx_db *db, const struct fx_incident_env *env,
                               struct fx_incident_row *row, json_t *clean,
                               const struct fx_incident_fields *f, const char *change_reason,
                               const struct fx_policy *pol, struct fx_problem *pb)
{
    json_t *prev = NULL;
    enum fx_err err = check_principals(db, f, pb);
    if (err == FX_OK)
        err = check_times(env, f, row->reported_at, pb);
    if (err == FX_OK)
        err = version_doc(db, env->keys, row, row->version, &prev);
    if (err != FX_OK) {
        json_decref(clean);
        return err;
    }
    char from_tlp[16], from_status[16];
    snprintf(from_tlp, sizeof(from_tlp), "%s", row->tlp);
    snprintf(from_status, sizeof(from_status), "%s", row->status);
    bool was_late = row->late;
    row->version++;
    row->updated_at = env->now;
    set_plain(row, f, pol);
    err = put_shares(db, row, f);
    if (err == FX_OK)
        err = put_version(db, env, row, clean, prev, change_reason, pol);
    else
        json_decref(clean);
    json_decref(prev);
    if (err == FX_OK)
        err = put_row(db, row, false);
    if (err == FX_OK) {
        json_t *d = json_pack("{s:I}", "version", (json_int_t)row->version);
        if (change_reason)
            json_object_set_new(d, "reason", json_string(change_reason));
        if (strcmp(from_tlp, row->tlp) != 0)
            json_object_set_new(d, "tlp", json_pack("{s:s,s:s}", "from", from_tlp, "to", row->tlp));
        if (strcmp(from_status, row->status) != 0)
            json_object_set_new(d, "status",
                                json_pack("{s:s,s:s}", "from", from_status, "to", row->status));
        if (was_late != row->late)
            json_object_set_new(d, "late", json_boolean(row->late));
        err = add_event(db, env, row, "updated", d);
    }
    return err;
}

enum fx_err fx_incident_version_bytes(struct fx_db *db, struct fx_keyring *kr,
                                      const struct fx_incident_row *row, int64_t n, char **out,
                                      size_t *len_out)
{
    static const char *sql = "SELECT body FROM incident_versions WHERE incident_id = $1"
                             " AND version = $2";
    struct fx_stmt *st = NULL;
    bool r = false;
    enum fx_err err = fx_db_prepare(db, sql, &st);
    if (err != FX_OK)
        return err;
    fx_stmt_bind_str(st, 1, row->id);
    fx_stmt_bind_i64(st, 2, n);
    err = fx_stmt_step(st, &r);
    if (err == FX_OK && !r)
        err = FX_ENOTFOUND;
    if (err == FX_OK) {
        size_t clen = 0;
        const void *c = fx_stmt_blob(st, 0, &clen);
        char aad[96];
        version_aad(row->id, n, aad, sizeof(aad));
        err = fx_keyring_open(kr, db, row->org_id, aad, c, clen, out, len_out);
    }
    fx_stmt_finalize(st);
    return err;
}

enum fx_err fx_incident_view(struct fx_db *db, struct fx_keyring *kr,
                             const struct fx_incident_row *row, json_t **out)
{
    json_t *doc = NULL;
    enum fx_err err = version_doc(db, kr, row, row->version, &doc);
    if (err != FX_OK)
        return err;
    char t[25];
    json_object_set_new(doc, "id", json_string(row->id));
    json_object_set_new(doc, "org_id", json_string(row->org_id));
    json_object_set_new(doc, "etag", json_string(row->etag));
    json_object_set_new(doc, "created_by", json_string(row->created_by));
    fx_format_time(row->created_at, t);
    json_object_set_new(doc, "created_at", json_string(t));
    fx_format_time(row->updated_at, t);
    json_object_set_new(doc, "updated_at", json_string(t));
    static const char *const internal[] = {"incident_id",   "reporter_org",  "version_created_at",
                                           "version_created_by", "change_reason", "stix_created",
                                           "stix_modified", "marked_at",     NULL};
    for (size_t i = 0; internal[i]; i++)
        json_object_del(doc, internal[i]);
    *out = doc;
    return FX_OK;
}

enum fx_err fx_incident_versions(struct fx_db *db, struct fx_keyring *kr,
                                 const struct fx_incident_row *row, json_t **out)
{
    static const char *sql = "SELECT version, content_sha256 FROM incident_versions"
                             " WHERE incident_id = $1 ORDER BY version";
    struct fx_stmt *st = NULL;
    bool r = false;
    enum fx_err err = fx_db_prepare(db, sql, &st);
    if (err != FX_OK)
        return err;
    fx_stmt_bind_str(st, 1, row->id);
    json_t *items = json_array();
    struct {
        int64_t n;
        char sha[65];
    } *v = NULL;
    size_t nv = 0;
    while ((err = fx_stmt_step(st, &r)) == FX_OK && r) {
        v = fx_xrealloc(v, (nv + 1) * sizeof(*v));
        v[nv].n = fx_stmt_i64(st, 0);
        snprintf(v[nv].sha, sizeof(v[nv].sha), "%s", fx_stmt_text(st, 1, NULL));
        nv++;
    }
    fx_stmt_finalize(st);
    for (size_t i = 0; i < nv && err == FX_OK; i++) {
        json_t *doc = NULL;
        err = version_doc(db, kr, row, v[i].n, &doc);
        if (err != FX_OK)
            break;
        json_array_append_new(
            items, json_pack("{s:I,s:O,s:O,s:O,s:O,s:O,s:s}", "version", (json_int_t)v[i].n,
                             "created_at", json_object_get(doc, "version_created_at"),
                             "created_by", json_object_get(doc, "version_created_by"),
                             "change_reason", json_object_get(doc, "change_reason"), "tlp",
                             json_object_get(doc, "tlp"), "status", json_object_get(doc, "status"),
                             "content_sha256", v[i].sha));
        json_decref(doc);
    }
    free(v);
    if (err != FX_OK) {
        json_decref(items);
        return err;
    }
    *out = items;
    return FX_OK;
}

enum fx_err fx_incident_history(struct fx_db *db, struct fx_keyring *kr,
                                const struct fx_incident_row *row, json_t **out)
{
    /* incident events share the events table and its sealing with notices */
    return fx_record_history(db, kr, row->id, row->org_id, out);
}

enum fx_err fx_incident_bundle(struct fx_db *db, struct fx_keyring *kr,
                               const struct fx_incident_row *row, json_t **out)
{
    json_t *doc = NULL, *identity = NULL;
    enum fx_err err = version_doc(db, kr, row, row->version, &doc);
    if (err == FX_OK)
        err = identity_of(db, row->org_id, &identity);
    if (err != FX_OK) {
        json_decref(doc);
        return err;
    }
    const char *stamp = json_string_value(json_object_get(doc, "stix_modified"));
    json_t *objects = fx_incident_stix(doc, row->org_id, identity, NULL, stamp ? stamp : "");
    int tlp = fx_stix_tlp_parse(row->tlp);
    json_array_insert_new(objects, 1,
                          fx_stix_tlp_marking_object(tlp < 0 ? FX_TLP_RED : (enum fx_tlp)tlp));
    char u[37], id[64], which[48];
    snprintf(which, sizeof(which), "bundle:v%lld", (long long)row->version);
    fx_incident_derived_uuid(row->id, which, u);
    snprintf(id, sizeof(id), "bundle--%s", u);
    *out = json_pack("{s:s,s:s,s:o}", "type", "bundle", "id", id, "objects", objects);
    json_decref(doc);
    return *out ? FX_OK : FX_ESTORE;
}

/*
 * Incidents whose driving condition (the index they are read through) holds,
 * with the optional filters: a NULL parameter disables its condition. Only the
 * reporter has an index (incidents_org); a catch-all statement would not use
 * it, as SQLite cannot choose an index for "$5 IS NULL OR org_id = $5".
 */
#define INCIDENT_LIST(driver)                                                                      \
    "SELECT " ROW_COLS " FROM incidents WHERE " driver " (CAST($1 AS TEXT) IS NULL OR tlp = $1)"   \
    " AND (CAST($2 AS TEXT) IS NULL OR status = $2)"                                               \
    " AND (CAST($3 AS TEXT) IS NULL OR severity = $3)"                                             \
    " AND (CAST($4 AS TEXT) IS NULL OR category = $4)"                                             \
    " AND (CAST($5 AS TEXT) IS NULL OR org_id = $5) AND ($6 < 0 OR late = $6)"                     \
    " AND (CAST($7 AS BIGINT) IS NULL OR reported_at >= $7)"                                       \
    " AND (CAST($8 AS TEXT) IS NULL OR id < $8) ORDER BY id DESC LIMIT $9"

enum fx_err fx_incident_list(struct fx_db *db, const struct fx_incident_filter *f,
                             bool (*keep)(const struct fx_incident_row *, void *), void *keep_arg,
                             struct fx_incident_row **rows_out, size_t *n_out, char **next_out)
{
    static const char *by_reporter = INCIDENT_LIST("org_id = $5 AND");
    static const char *newest = INCIDENT_LIST("");
    /* rows come in batches below the cursor */
    const char *sql = f->reporter ? by_reporter : newest;
    enum { BATCH = 256 };
    *rows_out = NULL;
    *n_out = 0;
    *next_out = NULL;
    size_t want = (size_t)f->limit;
    struct fx_incident_row *rows = fx_xcalloc(want + 1, sizeof(*rows));
    size_t n = 0;
    char cursor[37] = "";
    if (f->before_id)
        snprintf(cursor, sizeof(cursor), "%s", f->before_id);
    enum fx_err err = FX_OK;
    bool done = false;
    while (!done && err == FX_OK && n <= want) {
        struct fx_stmt *st = NULL;
        bool r = false;
        size_t got = 0;
        err = fx_db_prepare(db, sql, &st);
        if (err != FX_OK)
            break;
        fx_stmt_bind_str(st, 1, f->tlp);
        fx_stmt_bind_str(st, 2, f->status);
        fx_stmt_bind_str(st, 3, f->severity);
        fx_stmt_bind_str(st, 4, f->category);
        fx_stmt_bind_str(st, 5, f->reporter);
        fx_stmt_bind_i64(st, 6, f->late);
        if (f->has_since)
            fx_stmt_bind_i64(st, 7, f->since);
        else
            fx_stmt_bind_null(st, 7);
        fx_stmt_bind_str(st, 8, cursor[0] ? cursor : NULL);
        fx_stmt_bind_i64(st, 9, BATCH);
        /* rows of the batch first: the gate needs each row's sharing lists (more queries) */
        struct fx_incident_row *batch = fx_xcalloc(BATCH, sizeof(*batch));
        while ((err = fx_stmt_step(st, &r)) == FX_OK && r)
            read_row(st, &batch[got++]);
        fx_stmt_finalize(st);
        done = got < BATCH;
        for (size_t i = 0; i < got; i++) {
            if (err == FX_OK && n <= want) {
                snprintf(cursor, sizeof(cursor), "%s", batch[i].id);
                err = load_shares(db, &batch[i]);
                if (err == FX_OK && keep(&batch[i], keep_arg)) {
                    rows[n++] = batch[i];
                    memset(&batch[i], 0, sizeof(batch[i]));
                }
            }
            fx_incident_row_cleanup(&batch[i]);
        }
        free(batch);
    }
    if (err == FX_OK && n > want) {
        *next_out = fx_xstrdup(rows[want - 1].id);
        fx_incident_row_cleanup(&rows[want]);
        n = want;
    }
    if (err != FX_OK) {
        for (size_t i = 0; i < n; i++)
            fx_incident_row_cleanup(&rows[i]);
        free(rows);
        return err;
    }
    *rows_out = rows;
    *n_out = n;
    return FX_OK;
}

enum fx_err fx_incident_shared_with(struct fx_db *db, const char *org_id, const char *user_id,
                                    char (**ids_out)[37], size_t *n_out)
{
    static const char *sql = "SELECT DISTINCT incident_id FROM incident_shares"
                             " WHERE (kind = 'org' AND principal = $1)"
                             " OR (kind = 'user' AND principal = $2) ORDER BY incident_id";
    struct fx_stmt *st = NULL;
    bool r = false;
    *ids_out = NULL;
    *n_out = 0;
    enum fx_err err = fx_db_prepare(db, sql, &st);
    if (err != FX_OK)
        return err;
    fx_stmt_bind_str(st, 1, org_id);
    fx_stmt_bind_str(st, 2, user_id);
    char (*ids)[37] = NULL;
    size_t n = 0;
    while ((err = fx_stmt_step(st, &r)) == FX_OK && r) {
        ids = fx_xrealloc(ids, (n + 1) * sizeof(*ids));
        snprintf(ids[n++], 37, "%s", fx_stmt_text(st, 0, NULL));
    }
    fx_stmt_finalize(st);
    if (err != FX_OK) {
        free(ids);
        return err;
    }
    *ids_out = ids;
    *n_out = n;
    return FX_OK;
}

enum fx_err fx_incident_shares_load(struct fx_db *db, const struct fx_principal *who,
                                    struct fx_incident_shares *out)
{
    memset(out, 0, sizeof(*out));
    out->org = who->org_id;
    out->user = who->user_id;
    enum fx_err err = fx_incident_shared_with(db, who->org_id, NULL, &out->by_org, &out->n_by_org);
    if (err == FX_OK)
        err = fx_incident_shared_with(db, NULL, who->user_id, &out->by_user, &out->n_by_user);
    return err;
}

void fx_incident_shares_cleanup(struct fx_incident_shares *sh)
{
    FX_FREE(sh->by_org);
    FX_FREE(sh->by_user);
    sh->n_by_org = sh->n_by_user = 0;
}

static bool in_ids(char (*ids)[37], size_t n, const char *id)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(ids[mid], id);
        if (c == 0)
            return true;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return false;
}

void fx_incident_shares_subject(const struct fx_incident_shares *sh, const char *incident_id,
                                const char *org_id, const char *tlp, struct fx_subject *s)
{
    memset(s, 0, sizeof(*s));
    s->kind = FX_REC_INCIDENT;
    s->org_id = org_id;
    s->tlp = tlp;
    if (in_ids(sh->by_org, sh->n_by_org, incident_id)) {
        s->share_orgs = &sh->org;
        s->n_share_orgs = 1;
    }
    if (in_ids(sh->by_user, sh->n_by_user, incident_id)) {
        s->share_users = &sh->user;
        s->n_share_users = 1;
    }
}
