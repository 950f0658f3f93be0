/*
 * notice_db.c: notices in the store. The notices table holds plain metadata
 * (status, dates, flags) that lists filter on; every version's body and every
 * history event's detail are sealed under the developer org's data key, with
 * the record id and version as associated data (SPEC §11).
 */
#include "common/buf.h"
#include "common/json.h"
#include "common/parse.h"
#include "crypto/digest.h"
#include "records/page.h"
#include "records/notice.h"
#include "records/tlog.h"

#include <sodium.h>
#include <stdio.h>
#include <string.h>

#define ROW_COLS                                                                                   \
    "id, ref, org_id, status, version, etag, planned_release_date, submitted_at, notice_days,"    \
    " short_notice, determination, actual_release_date, policy_sha256, created_at, updated_at"

static void read_row(struct fx_stmt *st, struct fx_notice_row *r)
{
    memset(r, 0, sizeof(*r));
    fx_stmt_copy_text(st, 0, r->id, sizeof(r->id));
    fx_stmt_copy_text(st, 1, r->ref, sizeof(r->ref));
    fx_stmt_copy_text(st, 2, r->org_id, sizeof(r->org_id));
    fx_stmt_copy_text(st, 3, r->status, sizeof(r->status));
    r->version = fx_stmt_i64(st, 4);
    fx_stmt_copy_text(st, 5, r->etag, sizeof(r->etag));
    r->has_release_date = !fx_stmt_is_null(st, 6);
    r->planned_release_date = fx_stmt_i64(st, 6);
    r->submitted_at = fx_stmt_is_null(st, 7) ? 0 : fx_stmt_i64(st, 7);
    r->has_notice_days = !fx_stmt_is_null(st, 8);
    r->notice_days = fx_stmt_i64(st, 8);
    r->short_notice = fx_stmt_i64(st, 9) != 0;
    fx_stmt_copy_text(st, 10, r->determination, sizeof(r->determination));
    r->has_actual_release = !fx_stmt_is_null(st, 11);
    r->actual_release_date = fx_stmt_i64(st, 11);
    fx_stmt_copy_text(st, 12, r->policy_sha256, sizeof(r->policy_sha256));
    r->created_at = fx_stmt_i64(st, 13);
    r->updated_at = fx_stmt_i64(st, 14);
}

enum fx_err fx_notice_load(struct fx_db *db, const char *id_or_ref, struct fx_notice_row *out)
{
    static const char *by_id = "SELECT " ROW_COLS " FROM notices WHERE id = $1";
    static const char *by_ref = "SELECT " ROW_COLS " FROM notices WHERE ref = $1";
    size_t len = strlen(id_or_ref);
    const char *sql;
    if (fx_uuid_valid(id_or_ref, len))
        sql = by_id;
    else if (len == 13 && strncmp(id_or_ref, "FXN-", 4) == 0)
        sql = by_ref;
    else
        return FX_ENOTFOUND;
    struct fx_stmt *st = NULL;
    bool row = false;
    enum fx_err err = fx_db_prepare(db, sql, &st);
    if (err != FX_OK)
        return err;
    char lower[37];
    snprintf(lower, sizeof(lower), "%s", id_or_ref);
    if (sql == by_id)
        for (char *c = lower; *c; c++)
            if (*c >= 'A' && *c <= 'F')
                *c = (char)(*c - 'A' + 'a');
    fx_stmt_bind_str(st, 1, lower);
    err = fx_stmt_step(st, &row);
    if (err == FX_OK && !row)
        err = FX_ENOTFOUND;
    if (err == FX_OK)
        read_row(st, out);
    fx_stmt_finalize(st);
    return err;
}

static enum fx_err add_event(struct fx_db *db, const struct fx_notice_env *env,
                             const struct fx_notice_row *row, const char *action, json_t *detail);
static enum fx_err put_row(struct fx_db *db, const struct fx_notice_row *r, bool fresh);

/*
 * SPEC §9: a record of fact becomes a ledger leaf in the same transaction. For a
 * notice the served bytes are its version document (/versions/{n}); status
 * changes are leaves of their own kind over the version current at the time.
 */
static enum fx_err ledger_leaf(struct fx_db *db, const struct fx_notice_env *env,
                               const struct fx_notice_row *row, const char *kind,
                               const char *content_sha256)
{
    struct fx_leaf leaf = {kind, row->id, row->version, content_sha256, row->org_id, env->now};
    json_t *receipt = NULL;
    enum fx_err err = fx_tlog_append(db, env->signer, &leaf, &receipt);
    if (err == FX_OK)
        json_array_append_new(env->receipts, receipt);
    return err;
}

enum fx_err fx_notice_leaf(struct fx_db *db, const struct fx_notice_env *env, const char *kind,
                           const char *record_id, int64_t version, const char *content_sha256,
                           const char *org_id)
{
    struct fx_leaf leaf = {kind, record_id, version, content_sha256, org_id, env->now};
    json_t *receipt = NULL;
    enum fx_err err = fx_tlog_append(db, env->signer, &leaf, &receipt);
    if (err == FX_OK)
        json_array_append_new(env->receipts, receipt);
    return err;
}

/* The SHA-256 (hex) of the current version's bytes, for a status leaf. */
static enum fx_err current_hash(struct fx_db *db, const struct fx_notice_row *row, char hex[65])
{
    static const char *sql = "SELECT content_sha256 FROM notice_versions"
                             " WHERE notice_id = $1 AND version = $2";
    struct fx_stmt *st = NULL;
    bool r = false;
    enum fx_err err = fx_db_prepare(db, sql, &st);
    if (err != FX_OK)
        return err;
    fx_stmt_bind_str(st, 1, row->id);
    fx_stmt_bind_i64(st, 2, row->version);
    err = fx_stmt_step(st, &r);
    if (err == FX_OK && r)
        snprintf(hex, 65, "%s", fx_stmt_text(st, 0, NULL));
    else if (err == FX_OK)
        err = FX_ESTORE;
    fx_stmt_finalize(st);
    return err;
}

static enum fx_err status_leaf(struct fx_db *db, const struct fx_notice_env *env,
                               const struct fx_notice_row *row, const char *kind)
{
    char hex[65];
    enum fx_err err = current_hash(db, row, hex);
    return err == FX_OK ? ledger_leaf(db, env, row, kind, hex) : err;
}

static void version_aad(const char *id, int64_t version, char *out, size_t n)
{
    snprintf(out, n, "notice:%s:v%lld", id, (long long)version);
}

enum fx_err fx_notice_event(struct fx_db *db, const struct fx_notice_env *env,
                            const struct fx_notice_row *row, const char *action, json_t *detail)
{
    return add_event(db, env, row, action, detail);
}

enum fx_err fx_notice_save(struct fx_db *db, const struct fx_notice_row *row)
{
    return put_row(db, row, false);
}

enum fx_err fx_notice_event_seal(struct fx_keyring *kr, struct fx_db *db,
                                 const struct fx_notice_row *row, json_t *detail,
                                 unsigned char **out, size_t *len_out)
{
    size_t len = 0;
    char *pt = fx_json_canonical(detail, &len); /* on the writer thread: the fast writer */
    json_decref(detail);
    char aad[64];
    snprintf(aad, sizeof(aad), "event:%s", row->id);
    enum fx_err err = fx_keyring_seal(kr, db, row->org_id, aad, pt, len, out, len_out);
    free(pt);
    return err;
}

/* Appends a history event with a sealed detail object (takes ownership of detail). */
static enum fx_err add_event(struct fx_db *db, const struct fx_notice_env *env,
                             const struct fx_notice_row *row, const char *action, json_t *detail)
{
    unsigned char *c = NULL;
    size_t clen = 0;
    enum fx_err err = fx_notice_event_seal(env->keys, db, row, detail, &c, &clen);
    if (err == FX_OK)
        err = fx_notice_event_put(db, env, row, action, c, clen);
    free(c);
    return err;
}

enum fx_err fx_notice_event_put(struct fx_db *db, const struct fx_notice_env *env,
                                const struct fx_notice_row *row, const char *action,
                                const unsigned char *c, size_t clen)
{
    static const char *sql = "INSERT INTO events (record_id, time, user_id, org_id, action,"
                             " detail) VALUES ($1, $2, $3, $4, $5, $6)";
    struct fx_stmt *st = NULL;
    bool r;
    enum fx_err err = fx_db_prepare(db, sql, &st);
    if (err == FX_OK) {
        fx_stmt_bind_str(st, 1, row->id);
        fx_stmt_bind_i64(st, 2, env->now);
        /* fxd's own commands (policy apply) act without a user */
        fx_stmt_bind_str(st, 3, env->who->user_id[0] ? env->who->user_id : NULL);
        fx_stmt_bind_str(st, 4, env->who->org_id);
        fx_stmt_bind_str(st, 5, action);
        fx_stmt_bind_blob(st, 6, c, clen);
        err = fx_stmt_step(st, &r);
        fx_stmt_finalize(st);
    }
    return err;
}

enum fx_err fx_notice_restamp_range(struct fx_db *db, const char *after, const char *last,
                                    const char *policy_sha256, int64_t min_notice_days,
                                    int64_t now)
{
    /* SPEC §3 under the new policy: short when notice_days is below min_notice_days */
    static const char *sql =
        "UPDATE notices SET short_notice = CASE WHEN notice_days < $3 THEN 1 ELSE 0 END,"
        " policy_sha256 = $4, updated_at = $5 WHERE id > $1 AND id <= $2"
        " AND status NOT IN ('draft', 'withdrawn', 'released')";
    struct fx_stmt *st = NULL;
    bool r;
    enum fx_err err = fx_db_prepare(db, sql, &st);
    if (err != FX_OK)
        return err;
    fx_stmt_bind_str(st, 1, after);
    fx_stmt_bind_str(st, 2, last);
    fx_stmt_bind_i64(st, 3, min_notice_days);
    fx_stmt_bind_str(st, 4, policy_sha256);
    fx_stmt_bind_i64(st, 5, now);
    err = fx_stmt_step(st, &r);
    fx_stmt_finalize(st);
    return err;
}

/* A version's stored form: its canonical bytes sealed, and their SHA-256 in hex. */
struct sealed_version {
    unsigned char *c; /* owned */
    size_t clen;
    char hex[65];
};

/*
 * The members of a version document that are not notice fields, in key order.
 * fx_notice_doc splits the fields' canonical encoding around them.
 */
static const char *const doc_meta[FX_NOTICE_DOC_META] = {
    "change_reason", "created_at", "created_by", "notice_id", "ref", "version"};

void fx_notice_doc_init(struct fx_notice_doc *d, json_t *clean)
{
    json_t *group[FX_NOTICE_DOC_META + 1];
    for (size_t g = 0; g <= FX_NOTICE_DOC_META; g++)
        group[g] = json_object();
    const char *key;
    json_t *v;
    json_object_foreach(clean, key, v)
    {
        /* the group of a field: how many metadata keys sort before it */
        size_t g = 0;
        while (g < FX_NOTICE_DOC_META && strcmp(doc_meta[g], key) < 0)
            g++;
        json_object_set(group[g], key, v);
    }
    for (size_t g = 0; g <= FX_NOTICE_DOC_META; g++) {
        /* "{a,b}" -> "a,b": the members alone, in canonical order */
        size_t n = 0;
        char *s = fx_json_canonical(group[g], &n);
        json_decref(group[g]);
        memmove(s, s + 1, n - 2);
        s[n - 2] = '\0';
        d->part[g] = s;
        d->len[g] = n - 2;
    }
}

void fx_notice_doc_cleanup(struct fx_notice_doc *d)
{
    for (size_t g = 0; g <= FX_NOTICE_DOC_META; g++)
        FX_FREE(d->part[g]);
}

bool fx_notice_doc_fields(const struct fx_notice_doc *d, struct fx_buf *out)
{
    bool any = false;
    for (size_t g = 0; g <= FX_NOTICE_DOC_META; g++) {
        if (d->len[g] == 0)
            continue;
        if (any)
            fx_buf_add(out, ",", 1);
        fx_buf_add(out, d->part[g], d->len[g]);
        any = true;
    }
    return any;
}

char *fx_notice_doc_bytes(const struct fx_notice_doc *d, const char *notice_id, const char *ref,
                          int64_t version, int64_t created_at, const char *created_by,
                          const char *change_reason, size_t *len_out)
{
    char t[25], v[24];
    fx_format_time(created_at, t);
    snprintf(v, sizeof(v), "%lld", (long long)version);
    /* the metadata values in doc_meta's order; NULL: JSON null */
    const char *meta[FX_NOTICE_DOC_META] = {change_reason, t, created_by, notice_id, ref, v};
    struct fx_buf b;
    fx_buf_init(&b, SIZE_MAX);
    fx_buf_add(&b, "{", 1);
    bool first = true;
    for (size_t g = 0; g <= FX_NOTICE_DOC_META; g++) {
        if (d->len[g] > 0) {
            if (!first)
                fx_buf_add(&b, ",", 1);
            fx_buf_add(&b, d->part[g], d->len[g]);
            first = false;
        }
        if (g == FX_NOTICE_DOC_META)
            break;
        if (!first)
            fx_buf_add(&b, ",", 1);
        first = false;
        fx_buf_add(&b, "\"", 1);
        fx_buf_adds(&b, doc_meta[g]);
        fx_buf_add(&b, "\":", 2);
        if (meta[g] == NULL)
            fx_buf_add(&b, "null", 4);
        else if (meta[g] == v)
            fx_buf_adds(&b, v);
        else
            fx_json_add_string(&b, meta[g], strlen(meta[g]));
    }
    fx_buf_add(&b, "}", 1);
    return fx_buf_take(&b, len_out);
}

/*
 * Renders version row->version from its prepared fields (canonical bytes),
 * seals them and sets row->etag from their hash. Nothing is stored yet.
 */
static enum fx_err seal_version(struct fx_db *db, const struct fx_notice_env *env,
                                struct fx_notice_row *row, const struct fx_notice_doc *doc,
                                const char *change_reason, struct sealed_version *out)
{
    size_t len = 0;
    char *bytes = fx_notice_doc_bytes(doc, row->id, row->ref, row->version, env->now,
                                      env->who->user_id, change_reason, &len);
    char aad[80];
    fx_digest_sha256_hex(bytes, len, out->hex);
    snprintf(row->etag, sizeof(row->etag), "\"%lld-%.16s\"", (long long)row->version, out->hex);
    version_aad(row->id, row->version, aad, sizeof(aad));
    out->c = NULL;
    enum fx_err err =
        fx_keyring_seal(env->keys, db, row->org_id, aad, bytes, len, &out->c, &out->clen);
    free(bytes);
    return err;
}

/* Stores a sealed version (the row must exist) and appends its ledger leaf. */
static enum fx_err insert_version(struct fx_db *db, const struct fx_notice_env *env,
                                  const struct fx_notice_row *row, const struct sealed_version *v)
{
    static const char *sql = "INSERT INTO notice_versions (notice_id, version, body,"
                             " content_sha256, created_at, created_by)"
                             " VALUES ($1, $2, $3, $4, $5, $6)";
    struct fx_stmt *st = NULL;
    bool r;
    enum fx_err err = fx_db_prepare(db, sql, &st);
    if (err == FX_OK) {
        fx_stmt_bind_str(st, 1, row->id);
        fx_stmt_bind_i64(st, 2, row->version);
        fx_stmt_bind_blob(st, 3, v->c, v->clen);
        fx_stmt_bind_str(st, 4, v->hex);
        fx_stmt_bind_i64(st, 5, env->now);
        fx_stmt_bind_str(st, 6, env->who->user_id);
        err = fx_stmt_step(st, &r);
        fx_stmt_finalize(st);
    }
    if (err == FX_OK)
        err = ledger_leaf(db, env, row, "notice_version", v->hex);
    return err;
}

/* Writes version row->version from clean fields: the canonical bytes, sealed, and their hash. */
static enum fx_err put_version(struct fx_db *db, const struct fx_notice_env *env,
                               struct fx_notice_row *row, json_t *clean,
                               const char *change_reason)
{
    struct sealed_version v;
    struct fx_notice_doc doc;
    fx_notice_doc_init(&doc, clean);
    enum fx_err err = seal_version(db, env, row, &doc, change_reason, &v);
    fx_notice_doc_cleanup(&doc);
    if (err == FX_OK)
        err = insert_version(db, env, row, &v);
    free(v.c);
    return err;
}

/* Writes the metadata row back (insert when fresh). */
static enum fx_err put_row(struct fx_db *db, const struct fx_notice_row *r, bool fresh)
{
    static const char *ins =
        "INSERT INTO notices (" ROW_COLS ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11,"
        " $12, $13, $14, $15)";
    static const char *upd =
        "UPDATE notices SET ref = $2, org_id = $3, status = $4, version = $5, etag = $6,"
        " planned_release_date = $7, submitted_at = $8, notice_days = $9, short_notice = $10,"
        " determination = $11, actual_release_date = $12, policy_sha256 = $13,"
        " created_at = $14, updated_at = $15 WHERE id = $1";
    struct fx_stmt *st = NULL;
    bool row;
    enum fx_err err = fx_db_prepare(db, fresh ? ins : upd, &st);
    if (err != FX_OK)
        return err;
    fx_stmt_bind_str(st, 1, r->id);
    fx_stmt_bind_str(st, 2, r->ref);
    fx_stmt_bind_str(st, 3, r->org_id);
    fx_stmt_bind_str(st, 4, r->status);
    fx_stmt_bind_i64(st, 5, r->version);
    fx_stmt_bind_str(st, 6, r->etag);
    if (r->has_release_date)
        fx_stmt_bind_i64(st, 7, r->planned_release_date);
    else
        fx_stmt_bind_null(st, 7);
    if (r->submitted_at)
        fx_stmt_bind_i64(st, 8, r->submitted_at);
    else
        fx_stmt_bind_null(st, 8);
    if (r->has_notice_days)
        fx_stmt_bind_i64(st, 9, r->notice_days);
    else
        fx_stmt_bind_null(st, 9);
    fx_stmt_bind_i64(st, 10, r->short_notice ? 1 : 0);
    fx_stmt_bind_str(st, 11, r->determination[0] ? r->determination : NULL);
    if (r->has_actual_release)
        fx_stmt_bind_i64(st, 12, r->actual_release_date);
    else
        fx_stmt_bind_null(st, 12);
    fx_stmt_bind_str(st, 13, r->policy_sha256);
    fx_stmt_bind_i64(st, 14, r->created_at);
    fx_stmt_bind_i64(st, 15, r->updated_at);
    err = fx_stmt_step(st, &row);
    fx_stmt_finalize(st);
    return err;
}

/* Next FXN-YYYY-NNNN for the year of now: a counter per year, never reused. */
static enum fx_err next_ref(struct fx_db *db, int64_t now, char *out, size_t n)
{
    static const char *sql = "INSERT INTO ref_counters (year, last) VALUES ($1, 1)"
                             " ON CONFLICT (year) DO UPDATE SET last = ref_counters.last + 1"
                             " RETURNING last";
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
        snprintf(out, n, "FXN-%04d-%04lld", (int)y, (long long)fx_stmt_i64(st, 0));
    else if (err == FX_OK)
        err = FX_ESTORE;
    fx_stmt_finalize(st);
    return err;
}

/* SPEC §3 timeliness: days from the first submission's UTC date to the planned release. */
static void evaluate_notice(struct fx_notice_row *r, const struct fx_policy *pol, bool may_set)
{
    int64_t first = r->submitted_at / 86400000;
    r->notice_days = r->planned_release_date - first;
    r->has_notice_days = true;
    if (may_set && r->notice_days < pol->min_notice_days)
        r->short_notice = true;
    snprintf(r->policy_sha256, sizeof(r->policy_sha256), "%s", pol->sha256);
}

static enum fx_err flag_event(struct fx_db *db, const struct fx_notice_env *env,
                              const struct fx_notice_row *r, const struct fx_policy *pol)
{
    return add_event(db, env, r, "short_notice",
                     json_pack("{s:I,s:I,s:s,s:s}", "notice_days", (json_int_t)r->notice_days,
                               "min_notice_days", (json_int_t)pol->min_notice_days, "policy",
                               pol->name, "policy_sha256", pol->sha256));
}

/* The row's move from draft to submitted (SPEC §3), in memory. */
static void mark_submitted(struct fx_notice_row *r, const struct fx_notice_env *env,
                           const struct fx_policy *pol)
{
    snprintf(r->status, sizeof(r->status), "submitted");
    r->submitted_at = env->now;
    r->updated_at = env->now;
    evaluate_notice(r, pol, true);
}

/*
 * What a submission stores once the row holds it: the status leaf over the
 * current version (whose hash is content_sha256), the event and the flag.
 */
static enum fx_err submitted(struct fx_db *db, const struct fx_notice_env *env,
                             const struct fx_notice_row *r, const struct fx_policy *pol,
                             const char *content_sha256)
{
    enum fx_err err = ledger_leaf(db, env, r, "notice_submitted", content_sha256);
    if (err == FX_OK)
        err = add_event(db, env, r, "submitted",
                        json_pack("{s:s,s:s,s:I}", "from", "draft", "to", "submitted", "version",
                                  (json_int_t)r->version));
    if (err == FX_OK && r->short_notice)
        err = flag_event(db, env, r, pol);
    return err;
}

static enum fx_err do_submit(struct fx_db *db, const struct fx_notice_env *env,
                             struct fx_notice_row *r, const struct fx_policy *pol)
{
    char hex[65];
    mark_submitted(r, env, pol);
    enum fx_err err = put_row(db, r, false);
    if (err == FX_OK)
        err = current_hash(db, r, hex);
    return err == FX_OK ? submitted(db, env, r, pol, hex) : err;
}

/*
 * The row is written once, in its final state: the version's hash (the ETag)
 * and, with submit, the submission are settled in memory first. What is stored,
 * and the order of leaves and events, are those of a create followed by a submit.
 */
enum fx_err fx_notice_create(struct fx_db *db, const struct fx_notice_env *env,
                             json_t *clean, const int64_t *release_days, bool submit,
                             const struct fx_policy *pol, struct fx_notice_row *row_out)
{
    struct fx_notice_doc doc;
    fx_notice_doc_init(&doc, clean);
    enum fx_err err = fx_notice_create_doc(db, env, &doc, release_days, submit, pol, row_out);
    fx_notice_doc_cleanup(&doc);
    return err;
}

enum fx_err fx_notice_create_doc(struct fx_db *db, const struct fx_notice_env *env,
                                 const struct fx_notice_doc *doc, const int64_t *release_days,
                                 bool submit, const struct fx_policy *pol,
                                 struct fx_notice_row *row_out)
{
    struct fx_notice_row *r = row_out;
    struct sealed_version v = {0};
    memset(r, 0, sizeof(*r));
    fx_uuid_v7(env->now, r->id);
    snprintf(r->org_id, sizeof(r->org_id), "%s", env->who->org_id);
    snprintf(r->status, sizeof(r->status), "draft");
    snprintf(r->policy_sha256, sizeof(r->policy_sha256), "%s", pol->sha256);
    r->version = 1;
    r->has_release_date = release_days != NULL;
    r->planned_release_date = release_days ? *release_days : 0;
    r->created_at = r->updated_at = env->now;
    enum fx_err err = next_ref(db, env->now, r->ref, sizeof(r->ref));
    if (err == FX_OK)
        err = seal_version(db, env, r, doc, NULL, &v);
    if (err != FX_OK)
        goto out;
    if (submit)
        mark_submitted(r, env, pol);
    /* the row goes first: versions and events reference it */
    err = put_row(db, r, true);
    if (err == FX_OK)
        err = insert_version(db, env, r, &v);
    if (err == FX_OK)
        err = add_event(db, env, r, "created", json_pack("{s:I}", "version", (json_int_t)1));
    if (err == FX_OK && submit)
        err = submitted(db, env, r, pol, v.hex);
out:
    free(v.c);
    return err;
}

enum fx_err fx_notice_version_bytes(struct fx_db *db, struct fx_keyring *kr,
                                    const struct fx_notice_row *row, int64_t n, char **out,
                                    size_t *len_out)
{
    static const char *sql =
        "SELECT body FROM notice_versions WHERE notice_id = $1 AND version = $2";
    struct fx_stmt *st = NULL;
    bool r = false;
    *out = NULL;
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
        char aad[80];
        version_aad(row->id, n, aad, sizeof(aad));
        err = fx_keyring_open(kr, db, row->org_id, aad, c, clen, out, len_out);
    }
    fx_stmt_finalize(st);
    return err;
}

/* Keys of the version document that are not notice fields. */
static const char *const version_meta[] = {"notice_id", "ref", "version", "created_at",
                                           "created_by", "change_reason", NULL};

enum fx_err fx_notice_fields(struct fx_db *db, struct fx_keyring *kr,
                             const struct fx_notice_row *row, json_t **out)
{
    char *bytes = NULL;
    size_t len = 0;
    enum fx_err err = fx_notice_version_bytes(db, kr, row, row->version, &bytes, &len);
    if (err != FX_OK)
        return err;
    json_t *doc = json_loadb(bytes, len, 0, NULL);
    free(bytes);
    if (doc == NULL)
        return FX_ESTORE;
    for (size_t i = 0; version_meta[i]; i++)
        json_object_del(doc, version_meta[i]);
    *out = doc;
    return FX_OK;
}

enum fx_err fx_notice_amend(struct fx_db *db, const struct fx_notice_env *env,
                            struct fx_notice_row *row, json_t *clean,
                            const int64_t *release_days, const char *change_reason,
                            const struct fx_policy *pol)
{
    bool had_release = row->has_release_date;
    int64_t old_release = row->planned_release_date;
    row->version++;
    row->has_release_date = release_days != NULL;
    row->planned_release_date = release_days ? *release_days : 0;
    row->updated_at = env->now;
    bool was_short = row->short_notice;
    if (row->submitted_at && release_days) {
        /* SPEC §3: the flag is set again whenever an amendment moves the date earlier */
        evaluate_notice(row, pol, *release_days < old_release);
    }
    enum fx_err err = put_version(db, env, row, clean, change_reason);
    if (err == FX_OK)
        err = put_row(db, row, false);
    if (err == FX_OK) {
        json_t *d = json_pack("{s:I}", "version", (json_int_t)row->version);
        if (change_reason)
            json_object_set_new(d, "reason", json_string(change_reason));
        if (release_days && had_release && *release_days != old_release) {
            char a[11], b[11];
            fx_format_date(old_release, a);
            fx_format_date(*release_days, b);
            json_object_set_new(d, "planned_release_date",
                                json_pack("{s:s,s:s}", "from", a, "to", b));
        }
        err = add_event(db, env, row, "amended", d);
    }
    if (err == FX_OK && row->short_notice && !was_short)
        err = flag_event(db, env, row, pol);
    return err;
}

enum fx_err fx_notice_submit(struct fx_db *db, const struct fx_notice_env *env,
                             struct fx_notice_row *row, const struct fx_policy *pol,
                             struct fx_problem *pb)
{
    if (!fx_notice_allowed(row->status, FX_NOTICE_SUBMIT))
        return FX_ECONFLICT;
    json_t *fields = NULL, *clean = NULL;
    enum fx_err err = fx_notice_fields(db, env->keys, row, &fields);
    if (err != FX_OK)
        return err;
    int64_t release;
    bool has_release;
    err = fx_notice_validate(fields, true, pb, &clean, &release, &has_release);
    json_decref(fields);
    json_decref(clean);
    if (err != FX_OK) {
        fx_problem_detail(pb, "the draft lacks what a submission needs");
        return err;
    }
    return do_submit(db, env, row, pol);
}

/* Moves to a terminal state with one event. */
static enum fx_err finish(struct fx_db *db, const struct fx_notice_env *env,
                          struct fx_notice_row *row, const char *to, json_t *detail)
{
    json_object_set_new(detail, "from", json_string(row->status));
    json_object_set_new(detail, "to", json_string(to));
    snprintf(row->status, sizeof(row->status), "%s", to);
    row->updated_at = env->now;
    enum fx_err err = put_row(db, row, false);
    if (err == FX_OK)
        err = status_leaf(db, env, row, strcmp(to, "withdrawn") == 0 ? "notice_withdrawn"
                                                                     : "notice_released");
    if (err == FX_OK)
        return add_event(db, env, row, to, detail);
    json_decref(detail);
    return err;
}

enum fx_err fx_notice_withdraw(struct fx_db *db, const struct fx_notice_env *env,
                               struct fx_notice_row *row, const char *reason)
{
    if (!fx_notice_allowed(row->status, FX_NOTICE_WITHDRAW))
        return FX_ECONFLICT;
    return finish(db, env, row, "withdrawn", json_pack("{s:s}", "reason", reason));
}

enum fx_err fx_notice_release(struct fx_db *db, const struct fx_notice_env *env,
                              struct fx_notice_row *row, int64_t actual_days)
{
    if (!fx_notice_allowed(row->status, FX_NOTICE_RELEASE))
        return FX_ECONFLICT;
    char d[11];
    fx_format_date(actual_days, d);
    row->has_actual_release = true;
    row->actual_release_date = actual_days;
    return finish(db, env, row, "released", json_pack("{s:s}", "actual_release_date", d));
}

/* The newest withdrawal reason, from the sealed history. */
static enum fx_err withdrawn_reason(struct fx_db *db, struct fx_keyring *kr,
                                    const struct fx_notice_row *row, json_t **out)
{
    static const char *sql = "SELECT detail FROM events WHERE record_id = $1"
                             " AND action = 'withdrawn' ORDER BY id DESC LIMIT 1";
    struct fx_stmt *st = NULL;
    bool r = false;
    *out = json_null();
    enum fx_err err = fx_db_prepare(db, sql, &st);
    if (err != FX_OK)
        return err;
    fx_stmt_bind_str(st, 1, row->id);
    err = fx_stmt_step(st, &r);
    if (err == FX_OK && r) {
        size_t clen = 0, plen = 0;
        const void *c = fx_stmt_blob(st, 0, &clen);
        char aad[64], *pt = NULL;
        snprintf(aad, sizeof(aad), "event:%s", row->id);
        err = fx_keyring_open(kr, db, row->org_id, aad, c, clen, &pt, &plen);
        if (err == FX_OK) {
            json_t *d = json_loadb(pt, plen, 0, NULL);
            json_t *reason = json_object_get(d, "reason");
            if (reason)
                *out = json_incref(reason);
            json_decref(d);
            free(pt);
        }
    }
    fx_stmt_finalize(st);
    return err;
}

/* {"name", "sha256"} of the policy a notice was judged under. */
static json_t *policy_ref(struct fx_db *db, const char *sha256)
{
    static const char *sql = "SELECT name FROM policies WHERE sha256 = $1";
    struct fx_stmt *st = NULL;
    bool r = false;
    json_t *name = json_null();
    if (fx_db_prepare(db, sql, &st) == FX_OK) {
        fx_stmt_bind_str(st, 1, sha256);
        if (fx_stmt_step(st, &r) == FX_OK && r)
            name = json_string(fx_stmt_text(st, 0, NULL));
        fx_stmt_finalize(st);
    }
    return json_pack("{s:o,s:s}", "name", name, "sha256", sha256);
}

/* The view: fields (taken) plus the row's metadata, the policy and the withdrawal reason (taken). */
static json_t *view_of(const struct fx_notice_row *row, json_t *v, json_t *policy, json_t *reason)
{
    char t[25], d[11];
    json_object_set_new(v, "id", json_string(row->id));
    json_object_set_new(v, "ref", json_string(row->ref));
    json_object_set_new(v, "org_id", json_string(row->org_id));
    json_object_set_new(v, "status", json_string(row->status));
    json_object_set_new(v, "version", json_integer(row->version));
    json_object_set_new(v, "etag", json_string(row->etag));
    fx_format_time(row->created_at, t);
    json_object_set_new(v, "created_at", json_string(t));
    fx_format_time(row->updated_at, t);
    json_object_set_new(v, "updated_at", json_string(t));
    if (row->submitted_at) {
        fx_format_time(row->submitted_at, t);
        json_object_set_new(v, "submitted_at", json_string(t));
    } else {
        json_object_set_new(v, "submitted_at", json_null());
    }
    json_object_set_new(v, "notice_days",
                        row->has_notice_days ? json_integer(row->notice_days) : json_null());
    json_object_set_new(v, "short_notice", json_boolean(row->short_notice));
    json_object_set_new(v, "determination",
                        row->determination[0] ? json_string(row->determination) : json_null());
    if (row->has_actual_release) {
        fx_format_date(row->actual_release_date, d);
        json_object_set_new(v, "actual_release_date", json_string(d));
    } else {
        json_object_set_new(v, "actual_release_date", json_null());
    }
    json_object_set_new(v, "withdrawn_reason", reason);
    json_object_set_new(v, "policy", policy);
    return v;
}

enum fx_err fx_notice_view(struct fx_db *db, struct fx_keyring *kr,
                           const struct fx_notice_row *row, json_t **out)
{
    json_t *v = NULL;
    enum fx_err err = fx_notice_fields(db, kr, row, &v);
    if (err != FX_OK)
        return err;
    json_t *reason = NULL;
    if (strcmp(row->status, "withdrawn") == 0) {
        err = withdrawn_reason(db, kr, row, &reason);
        if (err != FX_OK) {
            json_decref(v);
            return err;
        }
    } else {
        reason = json_null();
    }
    *out = view_of(row, v, policy_ref(db, row->policy_sha256), reason);
    return FX_OK;
}

json_t *fx_notice_view_meta(const struct fx_notice_row *row, const char *policy_name)
{
    return view_of(row, json_object(),
                   json_pack("{s:s,s:s}", "name", policy_name, "sha256", row->policy_sha256),
                   json_null());
}

enum fx_err fx_notice_versions(struct fx_db *db, struct fx_keyring *kr,
                               const struct fx_notice_row *row, json_t **out)
{
    json_t *items = json_array();
    enum fx_err err = FX_OK;
    for (int64_t n = 1; n <= row->version && err == FX_OK; n++) {
        static const char *sql = "SELECT content_sha256 FROM notice_versions"
                                 " WHERE notice_id = $1 AND version = $2";
        char *bytes = NULL;
        size_t len = 0;
        err = fx_notice_version_bytes(db, kr, row, n, &bytes, &len);
        if (err != FX_OK)
            break;
        json_t *doc = json_loadb(bytes, len, 0, NULL);
        free(bytes);
        struct fx_stmt *st = NULL;
        bool r = false;
        err = fx_db_prepare(db, sql, &st);
        if (err == FX_OK) {
            fx_stmt_bind_str(st, 1, row->id);
            fx_stmt_bind_i64(st, 2, n);
            err = fx_stmt_step(st, &r);
            if (err == FX_OK && r && doc)
                json_array_append_new(
                    items, json_pack("{s:I,s:O,s:O,s:O,s:s}", "version", (json_int_t)n,
                                     "created_at", json_object_get(doc, "created_at"),
                                     "created_by", json_object_get(doc, "created_by"),
                                     "change_reason", json_object_get(doc, "change_reason"),
                                     "content_sha256", fx_stmt_text(st, 0, NULL)));
            fx_stmt_finalize(st);
        }
        json_decref(doc);
    }
    if (err != FX_OK) {
        json_decref(items);
        return err;
    }
    *out = items;
    return FX_OK;
}

enum fx_err fx_notice_history(struct fx_db *db, struct fx_keyring *kr,
                              const struct fx_notice_row *row, json_t **out)
{
    return fx_record_history(db, kr, row->id, row->org_id, out);
}

enum fx_err fx_record_history(struct fx_db *db, struct fx_keyring *kr, const char *record_id,
                              const char *org_id, json_t **out)
{
    static const char *sql = "SELECT time, user_id, org_id, action, detail FROM events"
                             " WHERE record_id = $1 ORDER BY id";
    struct fx_stmt *st = NULL;
    bool r = false;
    enum fx_err err = fx_db_prepare(db, sql, &st);
    if (err != FX_OK)
        return err;
    fx_stmt_bind_str(st, 1, record_id);
    json_t *items = json_array();
    char aad[64];
    snprintf(aad, sizeof(aad), "event:%s", record_id);
    while ((err = fx_stmt_step(st, &r)) == FX_OK && r) {
        size_t clen = 0, plen = 0;
        const void *c = fx_stmt_blob(st, 4, &clen);
        char *pt = NULL, t[25];
        err = fx_keyring_open(kr, db, org_id, aad, c, clen, &pt, &plen);
        if (err != FX_OK)
            break;
        json_t *e = json_loadb(pt, plen, 0, NULL);
        free(pt);
        if (e == NULL)
            e = json_object();
        fx_format_time(fx_stmt_i64(st, 0), t);
        json_object_set_new(e, "time", json_string(t));
        json_object_set_new(e, "user_id", fx_stmt_is_null(st, 1)
                                              ? json_null()
                                              : json_string(fx_stmt_text(st, 1, NULL)));
        json_object_set_new(e, "org_id", json_string(fx_stmt_text(st, 2, NULL)));
        json_object_set_new(e, "action", json_string(fx_stmt_text(st, 3, NULL)));
        json_array_append_new(items, e);
    }
    fx_stmt_finalize(st);
    if (err != FX_OK) {
        json_decref(items);
        return err;
    }
    *out = items;
    return FX_OK;
}

static void read_any(struct fx_stmt *st, void *row)
{
    read_row(st, row);
}

static const char *id_of(const void *row)
{
    return ((const struct fx_notice_row *)row)->id;
}

static const struct fx_page_kind notice_page = {sizeof(struct fx_notice_row), read_any, id_of};

/* The notices whose assessment has a task for the agency $2. */
#define ASSIGNED_TO_2                                                                              \
    "id IN (SELECT a.notice_id FROM assessments a JOIN assessment_tasks t"                         \
    " ON t.assessment_id = a.id WHERE t.agency_org = $2)"
/*
 * One page of notices whose driving condition (the index they are read
 * through) holds. Scope $1: 1 the org $2's, 2 all but others' drafts, 3 those
 * assigned to the agency $2; then the optional filters: a NULL parameter
 * disables its condition.
 */
#define NOTICE_LIST(driver)                                                                        \
    "SELECT " ROW_COLS " FROM notices WHERE " driver " (($1 = 1 AND org_id = $2)"                  \
    " OR ($1 = 2 AND (status <> 'draft' OR org_id = $2)) OR ($1 = 3 AND " ASSIGNED_TO_2 "))"       \
    " AND (CAST($3 AS TEXT) IS NULL OR status = $3) AND (CAST($4 AS TEXT) IS NULL OR org_id = $4)" \
    " AND ($5 < 0 OR short_notice = $5)"                                                           \
    " AND (CAST($6 AS BIGINT) IS NULL OR planned_release_date >= $6)"                              \
    " AND (CAST($7 AS BIGINT) IS NULL OR planned_release_date <= $7)"                              \
    " AND (CAST($8 AS TEXT) IS NULL OR id < $8) ORDER BY id DESC LIMIT $9"

/*
 * The statement for f, read through the index of its most selective filter:
 * one org's notices (notices_org: the caller's own, else the developer asked
 * for), an agency's assigned ones, one status (notices_status), a window of
 * release dates (notices_release), else the newest. A catch-all statement with
 * every filter optional would read the whole table: SQLite cannot choose an
 * index for "$3 IS NULL OR status = $3". $10 is the driving org, $11 and $12
 * the release window (the days at either end when a bound is absent).
 */
static const char *notice_sql(const struct fx_notice_filter *f)
{
    static const char *by_org = NOTICE_LIST("org_id = $10 AND");
    static const char *assigned = NOTICE_LIST(ASSIGNED_TO_2 " AND");
    static const char *by_status = NOTICE_LIST("status = $3 AND");
    static const char *by_release =
        NOTICE_LIST("planned_release_date BETWEEN CAST($11 AS BIGINT) AND CAST($12 AS BIGINT) AND");
    static const char *newest = NOTICE_LIST("");
    if (f->scope == FX_LIST_ORG)
        return by_org;
    if (f->scope == FX_LIST_ASSIGNED)
        return assigned;
    if (f->developer)
        return by_org;
    if (f->status)
        return by_status;
    return f->has_after || f->has_before ? by_release : newest;
}

static enum fx_err notice_open(struct fx_db *db, const void *arg, const char *before_id,
                               struct fx_stmt **st_out)
{
    const struct fx_notice_filter *f = arg;
    struct fx_stmt *st = NULL;
    enum fx_err err = fx_db_prepare(db, notice_sql(f), &st);
    if (err != FX_OK)
        return err;
    fx_stmt_bind_i64(st, 1, f->scope == FX_LIST_ORG ? 1 : f->scope == FX_LIST_ASSIGNED ? 3 : 2);
    fx_stmt_bind_str(st, 2, f->scope_org);
    fx_stmt_bind_str(st, 3, f->status);
    fx_stmt_bind_str(st, 4, f->developer);
    fx_stmt_bind_i64(st, 5, f->short_notice);
    if (f->has_after)
        fx_stmt_bind_i64(st, 6, f->release_after);
    else
        fx_stmt_bind_null(st, 6);
    if (f->has_before)
        fx_stmt_bind_i64(st, 7, f->release_before);
    else
        fx_stmt_bind_null(st, 7);
    fx_stmt_bind_str(st, 8, before_id);
    fx_stmt_bind_i64(st, 9, f->limit + 1);
    fx_stmt_bind_str(st, 10, f->scope == FX_LIST_ORG ? f->scope_org : f->developer);
    fx_stmt_bind_i64(st, 11, f->has_after ? f->release_after : INT64_MIN);
    fx_stmt_bind_i64(st, 12, f->has_before ? f->release_before : INT64_MAX);
    *st_out = st;
    return FX_OK;
}

enum fx_err fx_notice_list(struct fx_db *db, const struct fx_notice_filter *f,
                           bool (*keep)(const void *row, void *arg), void *keep_arg,
                           struct fx_notice_row **rows_out, size_t *n_out, char **next_out)
{
    *rows_out = NULL;
    *n_out = 0;
    *next_out = NULL;
    if (f->scope == FX_LIST_NONE)
        return FX_OK;
    void *rows = NULL;
    enum fx_err err = fx_page_read(db, notice_open, f, f->before_id, f->limit, &notice_page, keep,
                                   keep_arg, &rows, n_out, next_out);
    *rows_out = rows;
    return err;
}
