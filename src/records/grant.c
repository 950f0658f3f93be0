/*
 * grant.c: trusted-partner access grants in the store (SPEC §6), and the
 * validation of their request bodies. Owns nothing between calls; the gate
 * (src/auth/access.c) decides who may take each step, this file only whether
 * the grant's state allows it.
 */
#include "records/page.h"
#include "records/grant.h"
#include "crypto/digest.h"
#include "common/json.h"
#include "common/limits.h"
#include "common/parse.h"
#include "records/assessment.h"
#include "records/org.h"
#include "records/review.h"

#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

const char *const fx_grant_states[] = {"proposed", "approved", "active", "expired", "revoked",
                                       NULL};

#define G_COLS                                                                                     \
    "id, notice_id, developer_org, partner_org, sector, starts, ends, developer_consent_at,"      \
    " coordinator_consent_at, accepted_at, terms_sha256, revoked_at, version, created_at,"        \
    " updated_at"

/* The state of SPEC §6 by the clock, as SQL over the grants columns; $1 is today (days). */
#define STATE_SQL                                                                                  \
    "CASE WHEN revoked_at IS NOT NULL THEN 'revoked' WHEN $1 > ends THEN 'expired'"               \
    " WHEN developer_consent_at IS NULL OR coordinator_consent_at IS NULL THEN 'proposed'"        \
    " WHEN accepted_at IS NULL OR $1 < starts THEN 'approved' ELSE 'active' END"

bool fx_grant_approved(const struct fx_grant_row *g)
{
    return g->developer_consent_at && g->coordinator_consent_at;
}

const char *fx_grant_state(const struct fx_grant_row *g, int64_t today)
{
    if (g->revoked_at)
        return "revoked";
    if (today > g->ends)
        return "expired";
    if (!fx_grant_approved(g))
        return "proposed";
    if (!g->accepted_at || today < g->starts)
        return "approved";
    return "active";
}

static int64_t opt_i64(struct fx_stmt *st, int col)
{
    return fx_stmt_is_null(st, col) ? 0 : fx_stmt_i64(st, col);
}

static void read_g(struct fx_stmt *st, struct fx_grant_row *g)
{
    memset(g, 0, sizeof(*g));
    fx_stmt_copy_text(st, 0, g->id, sizeof(g->id));
    fx_stmt_copy_text(st, 1, g->notice_id, sizeof(g->notice_id));
    fx_stmt_copy_text(st, 2, g->developer_org, sizeof(g->developer_org));
    fx_stmt_copy_text(st, 3, g->partner_org, sizeof(g->partner_org));
    fx_stmt_copy_text(st, 4, g->sector, sizeof(g->sector));
    g->starts = fx_stmt_i64(st, 5);
    g->ends = fx_stmt_i64(st, 6);
    g->developer_consent_at = opt_i64(st, 7);
    g->coordinator_consent_at = opt_i64(st, 8);
    g->accepted_at = opt_i64(st, 9);
    fx_stmt_copy_text(st, 10, g->terms_sha256, sizeof(g->terms_sha256));
    g->revoked_at = opt_i64(st, 11);
    g->version = fx_stmt_i64(st, 12);
    g->created_at = fx_stmt_i64(st, 13);
    g->updated_at = fx_stmt_i64(st, 14);
}

static void bind_opt(struct fx_stmt *st, int i, int64_t v)
{
    if (v)
        fx_stmt_bind_i64(st, i, v);
    else
        fx_stmt_bind_null(st, i);
}

static enum fx_err put_row(struct fx_db *db, const struct fx_grant_row *g, bool fresh)
{
    static const char *ins = "INSERT INTO grants (" G_COLS ") VALUES ($1, $2, $3, $4, $5, $6,"
                             " $7, $8, $9, $10, $11, $12, $13, $14, $15)";
    static const char *upd =
        "UPDATE grants SET notice_id = $2, developer_org = $3, partner_org = $4, sector = $5,"
        " starts = $6, ends = $7, developer_consent_at = $8, coordinator_consent_at = $9,"
        " accepted_at = $10, terms_sha256 = $11, revoked_at = $12, version = $13,"
        " created_at = $14, updated_at = $15 WHERE id = $1";
    struct fx_stmt *st = NULL;
    bool r;
    enum fx_err err = fx_db_prepare(db, fresh ? ins : upd, &st);
    if (err != FX_OK)
        return err;
    fx_stmt_bind_str(st, 1, g->id);
    fx_stmt_bind_str(st, 2, g->notice_id);
    fx_stmt_bind_str(st, 3, g->developer_org);
    fx_stmt_bind_str(st, 4, g->partner_org);
    fx_stmt_bind_str(st, 5, g->sector);
    fx_stmt_bind_i64(st, 6, g->starts);
    fx_stmt_bind_i64(st, 7, g->ends);
    bind_opt(st, 8, g->developer_consent_at);
    bind_opt(st, 9, g->coordinator_consent_at);
    bind_opt(st, 10, g->accepted_at);
    fx_stmt_bind_str(st, 11, g->terms_sha256);
    bind_opt(st, 12, g->revoked_at);
    fx_stmt_bind_i64(st, 13, g->version);
    fx_stmt_bind_i64(st, 14, g->created_at);
    fx_stmt_bind_i64(st, 15, g->updated_at);
    err = fx_stmt_step(st, &r);
    fx_stmt_finalize(st);
    return err;
}

/* Seals and inserts version g->version of the grant's record. */
static enum fx_err put_version(struct fx_db *db, const struct fx_notice_env *env,
                               const struct fx_grant_row *g, const json_t *doc)
{
    static const char *sql = "INSERT INTO grant_versions (grant_id, version, body,"
                             " content_sha256, created_at) VALUES ($1, $2, $3, $4, $5)";
    /* SPEC §9: every grant state change is a version and a leaf */
    return fx_review_put_version(db, env, sql, "grant", g->id, g->version, g->developer_org, doc);
}

/* An event on the notice's history; partner_org makes the history show it by the grant's rule. */
static enum fx_err grant_event(struct fx_db *db, const struct fx_notice_env *env,
                               const struct fx_grant_row *g, const char *action, json_t *detail)
{
    struct fx_notice_row notice;
    enum fx_err err = fx_notice_load(db, g->notice_id, &notice);
    if (err != FX_OK) {
        json_decref(detail);
        return err;
    }
    json_object_set_new(detail, "grant_id", json_string(g->id));
    json_object_set_new(detail, "partner_org", json_string(g->partner_org));
    return fx_notice_event(db, env, &notice, action, detail);
}

void fx_grant_validate(json_t *body, struct fx_grant_input *in, struct fx_problem *pb)
{
    static const char *const keys[] = {"partner_org", "purpose", "starts", "ends", "terms", NULL};
    memset(in, 0, sizeof(*in));
    fx_json_only_keys(body, keys, "", pb);
    fx_json_get_str(body, "partner_org", "", true, 36, pb, &in->partner_org, NULL);
    if (in->partner_org && !fx_uuid_valid(in->partner_org, strlen(in->partner_org))) {
        fx_problem_add(pb, "/partner_org", "must be an org id (UUID)");
        in->partner_org = NULL;
    }
    fx_json_get_str(body, "purpose", "", true, FX_MAX_LONG_STRING, pb, &in->purpose, NULL);
    fx_json_get_str(body, "terms", "", true, FX_MAX_LONG_STRING, pb, &in->terms, NULL);
    bool has_s = false, has_e = false;
    fx_json_get_date(body, "starts", "", true, pb, &in->starts, &has_s);
    fx_json_get_date(body, "ends", "", true, pb, &in->ends, &has_e);
    if (has_s && has_e && in->ends < in->starts)
        fx_problem_add(pb, "/ends", "precedes starts");
    if (in->purpose && in->purpose[0] == '\0')
        fx_problem_add(pb, "/purpose", "must not be empty");
    if (in->terms && in->terms[0] == '\0')
        fx_problem_add(pb, "/terms", "must not be empty");
}

/*
 * SPEC §6: grants are for a notice determined covered. A proposal needs it, and
 * so do the consents that approve a grant and the partner's acceptance: a notice
 * withdrawn, or determined not covered on reconsideration, since the proposal
 * takes no grant further (revocation and feedback stay open).
 */
static enum fx_err require_covered(const struct fx_notice_row *notice, const char *what,
                                   struct fx_problem *pb)
{
    bool covered_state = strcmp(notice->status, "determined") == 0 ||
                         strcmp(notice->status, "assessment") == 0 ||
                         strcmp(notice->status, "assessed") == 0;
    if (covered_state && strcmp(notice->determination, "covered") == 0)
        return FX_OK;
    fx_problem_detail(pb,
                      "grants are %s for a notice determined covered (SPEC §6); the notice is %s",
                      what, notice->status);
    fx_problem_allow(pb, notice->status, NULL, 0);
    return FX_ECONFLICT;
}

/* The grant's notice, which a consent or an acceptance needs still covered. */
static enum fx_err notice_covered(struct fx_db *db, const struct fx_grant_row *g, const char *what,
                                  struct fx_problem *pb)
{
    struct fx_notice_row n;
    enum fx_err err = fx_notice_load(db, g->notice_id, &n);
    if (err == FX_ENOTFOUND)
        err = FX_ESTORE; /* a grant always names a stored notice */
    return err == FX_OK ? require_covered(&n, what, pb) : err;
}

enum fx_err fx_grant_propose(struct fx_db *db, const struct fx_notice_env *env,
                             const struct fx_notice_row *notice, const struct fx_grant_input *in,
                             struct fx_problem *pb, struct fx_grant_row *out)
{
    enum fx_err err = require_covered(notice, "proposed", pb);
    if (err != FX_OK)
        return err;
    bool over = in->ends < env->today; /* it would be expired from the start */
    if (over) {
        char day[11];
        fx_format_date(env->today, day);
        fx_problem_add(pb, "/ends", "is before today (%s): the window would be over already", day);
    }
    json_t *org = NULL;
    err = fx_org_get(db, in->partner_org, &org);
    if (err == FX_ENOTFOUND) {
        fx_problem_add(pb, "/partner_org", "no such organization");
        return FX_EINVAL;
    }
    if (err != FX_OK)
        return err;
    const char *kind = json_string_value(json_object_get(org, "kind"));
    if (kind == NULL || strcmp(kind, "operator") != 0)
        fx_problem_add(pb, "/partner_org", "not an operator organization");
    if (fx_problem_any(pb)) {
        json_decref(org);
        return FX_EINVAL;
    }
    struct fx_grant_row *g = out;
    memset(g, 0, sizeof(*g));
    fx_uuid_v7(env->now, g->id);
    snprintf(g->notice_id, sizeof(g->notice_id), "%s", notice->id);
    snprintf(g->developer_org, sizeof(g->developer_org), "%s", notice->org_id);
    snprintf(g->partner_org, sizeof(g->partner_org), "%s",
             json_string_value(json_object_get(org, "id")));
    const char *sector = json_string_value(json_object_get(org, "sector"));
    snprintf(g->sector, sizeof(g->sector), "%s", sector ? sector : "");
    json_decref(org);
    g->starts = in->starts;
    g->ends = in->ends;
    fx_digest_sha256_hex(in->terms, strlen(in->terms), g->terms_sha256);
    g->version = 1;
    g->created_at = g->updated_at = env->now;

    json_t *fields = NULL;
    err = fx_notice_fields(db, env->keys, notice, &fields);
    if (err != FX_OK)
        return err;
    char t[25], s[11], e[11];
    fx_format_time(env->now, t);
    fx_format_date(g->starts, s);
    fx_format_date(g->ends, e);
    /* what the partner may see of the model: name, version and the developer's contact */
    json_t *doc = json_pack("{s:s,s:I,s:s,s:O,s:O,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s}",
                            "id", g->id, "version", (json_int_t)1, "step", "proposed",
                            "model_name", json_object_get(fields, "model_name"), "model_version",
                            json_object_get(fields, "model_version"), "developer_org",
                            g->developer_org, "partner_org", g->partner_org, "sector", g->sector,
                            "purpose", in->purpose, "starts", s, "ends", e, "terms", in->terms,
                            "terms_sha256", g->terms_sha256, "created_at", t, "created_by",
                            env->who->user_id);
    json_t *contact = json_object_get(fields, "contact");
    json_object_set(doc, "developer_contact", contact ? contact : json_null());
    json_object_set_new(doc, "proposed_by_org", json_string(env->who->org_id));
    json_decref(fields);
    err = put_row(db, g, true);
    if (err == FX_OK)
        err = put_version(db, env, g, doc);
    json_decref(doc);
    if (err == FX_OK)
        err = grant_event(db, env, g, "grant_proposed",
                          json_pack("{s:s,s:s}", "starts", s, "ends", e));
    return err;
}

enum fx_err fx_grant_load(struct fx_db *db, const char *id, struct fx_grant_row *out)
{
    static const char *sql = "SELECT " G_COLS " FROM grants WHERE id = $1";
    if (!fx_uuid_valid(id, strlen(id)))
        return FX_ENOTFOUND;
    struct fx_stmt *st = NULL;
    bool r = false;
    enum fx_err err = fx_db_prepare(db, sql, &st);
    if (err != FX_OK)
        return err;
    char lower[37];
    snprintf(lower, sizeof(lower), "%s", id);
    for (char *c = lower; *c; c++)
        if (*c >= 'A' && *c <= 'F')
            *c = (char)(*c - 'A' + 'a');
    fx_stmt_bind_str(st, 1, lower);
    err = fx_stmt_step(st, &r);
    if (err == FX_OK && !r)
        err = FX_ENOTFOUND;
    if (err == FX_OK)
        read_g(st, out);
    fx_stmt_finalize(st);
    return err;
}

/* Version n's bytes as stored (*out owned) and, when sha256 is not NULL, their stored hash. */
static enum fx_err read_version(struct fx_db *db, struct fx_keyring *kr,
                                const struct fx_grant_row *g, int64_t version, char **out,
                                size_t *len_out, char sha256[65])
{
    static const char *sql = "SELECT body, content_sha256 FROM grant_versions"
                             " WHERE grant_id = $1 AND version = $2";
    struct fx_stmt *st = NULL;
    bool r = false;
    *out = NULL;
    enum fx_err err = fx_db_prepare(db, sql, &st);
    if (err != FX_OK)
        return err;
    fx_stmt_bind_str(st, 1, g->id);
    fx_stmt_bind_i64(st, 2, version);
    err = fx_stmt_step(st, &r);
    if (err == FX_OK && !r)
        err = FX_ENOTFOUND;
    if (err == FX_OK) {
        size_t len = 0;
        const void *blob = fx_stmt_blob(st, 0, &len);
        if (sha256 != NULL)
            fx_stmt_copy_text(st, 1, sha256, 65);
        err = fx_review_open(kr, db, g->developer_org, "grant", g->id, version, blob, len, out,
                             len_out);
    }
    fx_stmt_finalize(st);
    return err;
}

enum fx_err fx_grant_version_bytes(struct fx_db *db, struct fx_keyring *kr,
                                   const struct fx_grant_row *g, int64_t version, char **out,
                                   size_t *len_out)
{
    return read_version(db, kr, g, version, out, len_out, NULL);
}

/* Version n of the grant's record, parsed, with its content_sha256 (new reference). */
static enum fx_err open_version(struct fx_db *db, struct fx_keyring *kr,
                                const struct fx_grant_row *g, int64_t version, json_t **out)
{
    char *bytes = NULL, sha256[65];
    size_t len = 0;
    enum fx_err err = read_version(db, kr, g, version, &bytes, &len, sha256);
    if (err == FX_ENOTFOUND)
        err = FX_ESTORE; /* the row counts its versions: each is stored */
    if (err != FX_OK)
        return err;
    *out = json_loadb(bytes, len, 0, NULL);
    if (*out != NULL)
        json_object_set_new(*out, "content_sha256", json_string(sha256));
    free(bytes);
    return *out ? FX_OK : FX_ESTORE;
}

static json_t *time_or_null(int64_t ms)
{
    char t[25];
    if (!ms)
        return json_null();
    fx_format_time(ms, t);
    return json_string(t);
}

static enum fx_err feedback_list(struct fx_db *db, struct fx_keyring *kr,
                                 const struct fx_grant_row *g, json_t **out)
{
    static const char *sql = "SELECT id, body, content_sha256 FROM grant_feedback"
                             " WHERE grant_id = $1 ORDER BY created_at, id";
    struct fx_stmt *st = NULL;
    bool r = false;
    enum fx_err err = fx_db_prepare(db, sql, &st);
    if (err != FX_OK)
        return err;
    fx_stmt_bind_str(st, 1, g->id);
    json_t *items = json_array();
    while ((err = fx_stmt_step(st, &r)) == FX_OK && r) {
        size_t len = 0;
        const void *blob = fx_stmt_blob(st, 1, &len);
        json_t *doc = NULL;
        err = fx_review_open_json(kr, db, g->developer_org, "feedback",
                                  fx_stmt_text(st, 0, NULL), 1, blob, len, &doc);
        if (err != FX_OK)
            break;
        json_object_set_new(doc, "content_sha256", json_string(fx_stmt_text(st, 2, NULL)));
        json_array_append_new(items, doc);
    }
    fx_stmt_finalize(st);
    if (err != FX_OK) {
        json_decref(items);
        return err;
    }
    *out = items;
    return FX_OK;
}

enum fx_err fx_grant_view(struct fx_db *db, struct fx_keyring *kr, const struct fx_grant_row *g,
                          int64_t today, bool with_notice, bool with_feedback, json_t **out)
{
    json_t *v = NULL;
    enum fx_err err = open_version(db, kr, g, 1, &v);
    if (err != FX_OK)
        return err;
    json_object_del(v, "step");
    json_object_del(v, "content_sha256");
    json_object_set_new(v, "version", json_integer(g->version));
    json_object_set_new(v, "state", json_string(fx_grant_state(g, today)));
    json_object_set_new(v, "developer_consent_at", time_or_null(g->developer_consent_at));
    json_object_set_new(v, "coordinator_consent_at", time_or_null(g->coordinator_consent_at));
    json_object_set_new(v, "accepted_at", time_or_null(g->accepted_at));
    json_object_set_new(v, "accepted_terms_sha256",
                        g->accepted_at ? json_string(g->terms_sha256) : json_null());
    json_object_set_new(v, "revoked_at", time_or_null(g->revoked_at));
    /* the current version: its hash, and the reason when it is the revocation */
    json_t *cur = NULL;
    err = open_version(db, kr, g, g->version, &cur);
    if (err == FX_OK) {
        json_t *reason = g->revoked_at ? json_object_get(cur, "reason") : NULL;
        json_object_set(v, "revoked_reason", reason ? reason : json_null());
        json_object_set(v, "content_sha256", json_object_get(cur, "content_sha256"));
        json_decref(cur);
    }
    if (err == FX_OK && with_notice)
        json_object_set_new(v, "notice_id", json_string(g->notice_id));
    if (err == FX_OK && with_feedback) {
        json_t *fb = NULL;
        err = feedback_list(db, kr, g, &fb);
        if (err == FX_OK)
            json_object_set_new(v, "feedback", fb);
    }
    if (err != FX_OK) {
        json_decref(v);
        return err;
    }
    *out = v;
    return FX_OK;
}

/* Appends a step version {grant_id, version, step, state, at, by, org_id, ...extra}. */
static enum fx_err step(struct fx_db *db, const struct fx_notice_env *env,
                        struct fx_grant_row *g, const char *name, json_t *extra)
{
    char t[25];
    fx_format_time(env->now, t);
    g->version++;
    g->updated_at = env->now;
    json_t *doc = json_pack("{s:s,s:I,s:s,s:s,s:s,s:s,s:s}", "grant_id", g->id, "version",
                            (json_int_t)g->version, "step", name, "state",
                            fx_grant_state(g, env->today), "at", t, "by", env->who->user_id,
                            "org_id", env->who->org_id);
    json_object_update(doc, extra);
    json_decref(extra);
    enum fx_err err = put_row(db, g, false);
    if (err == FX_OK)
        err = put_version(db, env, g, doc);
    json_decref(doc);
    return err;
}

static enum fx_err state_conflict(struct fx_problem *pb, const struct fx_grant_row *g,
                                  int64_t today, const char *what)
{
    fx_problem_detail(pb, "cannot %s a grant that is %s", what, fx_grant_state(g, today));
    fx_problem_allow(pb, fx_grant_state(g, today), NULL, 0);
    return FX_ECONFLICT;
}

enum fx_err fx_grant_consent(struct fx_db *db, const struct fx_notice_env *env,
                             struct fx_grant_row *g, struct fx_problem *pb)
{
    if (strcmp(fx_grant_state(g, env->today), "proposed") != 0)
        return state_conflict(pb, g, env->today, "consent to");
    bool developer = strcmp(env->who->org_id, g->developer_org) == 0;
    int64_t *at = developer ? &g->developer_consent_at : &g->coordinator_consent_at;
    if (*at) {
        fx_problem_detail(pb, "the %s has consented already", developer ? "developer"
                                                                         : "coordinator");
        fx_problem_allow(pb, "proposed", NULL, 0);
        return FX_ECONFLICT;
    }
    enum fx_err err = notice_covered(db, g, "approved", pb);
    if (err != FX_OK)
        return err;
    *at = env->now;
    const char *side = developer ? "developer" : "coordinator";
    err = step(db, env, g, "consent", json_pack("{s:s}", "side", side));
    if (err == FX_OK)
        err = grant_event(db, env, g, "grant_consented",
                          json_pack("{s:s,s:b}", "side", side, "approved",
                                    fx_grant_approved(g)));
    return err;
}

enum fx_err fx_grant_accept(struct fx_db *db, const struct fx_notice_env *env,
                            struct fx_grant_row *g, const char *terms_sha256,
                            struct fx_problem *pb)
{
    if (strcmp(fx_grant_state(g, env->today), "approved") != 0 || g->accepted_at)
        return state_conflict(pb, g, env->today, g->accepted_at ? "accept again" : "accept");
    if (terms_sha256 && strcasecmp(terms_sha256, g->terms_sha256) != 0) {
        fx_problem_add(pb, "/terms_sha256", "is not the SHA-256 of this grant's terms");
        return FX_EINVAL;
    }
    enum fx_err err = notice_covered(db, g, "accepted", pb);
    if (err != FX_OK)
        return err;
    g->accepted_at = env->now;
    err = step(db, env, g, "accept", json_pack("{s:s}", "terms_sha256", g->terms_sha256));
    if (err == FX_OK)
        err = grant_event(db, env, g, "grant_accepted",
                          json_pack("{s:s}", "terms_sha256", g->terms_sha256));
    return err;
}

enum fx_err fx_grant_revoke(struct fx_db *db, const struct fx_notice_env *env,
                            struct fx_grant_row *g, const char *reason, struct fx_problem *pb)
{
    const char *state = fx_grant_state(g, env->today);
    if (strcmp(state, "revoked") == 0 || strcmp(state, "expired") == 0)
        return state_conflict(pb, g, env->today, "revoke");
    g->revoked_at = env->now;
    enum fx_err err = step(db, env, g, "revoke", json_pack("{s:s}", "reason", reason));
    if (err == FX_OK)
        err = grant_event(db, env, g, "grant_revoked", json_pack("{s:s}", "reason", reason));
    return err;
}

void fx_grant_feedback_validate(json_t *body, struct fx_feedback_input *in,
                                struct fx_problem *pb)
{
    static const char *const keys[] = {"title", "severity", "description", NULL};
    memset(in, 0, sizeof(*in));
    fx_json_only_keys(body, keys, "", pb);
    fx_json_get_str(body, "title", "", true, FX_MAX_SHORT_STRING, pb, &in->title, NULL);
    fx_json_get_enum(body, "severity", "", true, fx_severities, pb, &in->severity, NULL);
    fx_json_get_str(body, "description", "", true, FX_MAX_LONG_STRING, pb, &in->description,
                    NULL);
    if (in->title && in->title[0] == '\0')
        fx_problem_add(pb, "/title", "must not be empty");
    if (in->description && in->description[0] == '\0')
        fx_problem_add(pb, "/description", "must not be empty");
}

enum fx_err fx_grant_feedback(struct fx_db *db, const struct fx_notice_env *env,
                              struct fx_grant_row *g, const struct fx_feedback_input *in,
                              struct fx_problem *pb, json_t **out)
{
    static const char *sql = "INSERT INTO grant_feedback (id, grant_id, severity, org_id,"
                             " created_by, created_at, body, content_sha256)"
                             " VALUES ($1, $2, $3, $4, $5, $6, $7, $8)";
    if (strcmp(fx_grant_state(g, env->today), "active") != 0)
        return state_conflict(pb, g, env->today, "file feedback on");
    char id[37], t[25], sha[65];
    fx_uuid_v7(env->now, id);
    fx_format_time(env->now, t);
    json_t *doc = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s}", "id", id, "grant_id", g->id,
                            "title", in->title, "severity", in->severity, "description",
                            in->description, "created_at", t, "created_by", env->who->user_id,
                            "org_id", env->who->org_id);
    unsigned char *blob = NULL;
    size_t blen = 0;
    enum fx_err err =
        fx_review_seal(env->keys, db, g->developer_org, "feedback", id, 1, doc, &blob, &blen, sha);
    struct fx_stmt *st = NULL;
    bool r;
    if (err == FX_OK)
        err = fx_db_prepare(db, sql, &st);
    if (err == FX_OK) {
        fx_stmt_bind_str(st, 1, id);
        fx_stmt_bind_str(st, 2, g->id);
        fx_stmt_bind_str(st, 3, in->severity);
        fx_stmt_bind_str(st, 4, env->who->org_id);
        fx_stmt_bind_str(st, 5, env->who->user_id);
        fx_stmt_bind_i64(st, 6, env->now);
        fx_stmt_bind_blob(st, 7, blob, blen);
        fx_stmt_bind_str(st, 8, sha);
        err = fx_stmt_step(st, &r);
        fx_stmt_finalize(st);
    }
    if (err == FX_OK) /* partner feedback is a fact too */
        err = fx_notice_leaf(db, env, "grant_feedback", id, 1, sha, g->developer_org);
    free(blob);
    if (err == FX_OK)
        err = grant_event(db, env, g, "grant_feedback",
                          json_pack("{s:s,s:s}", "feedback_id", id, "severity", in->severity));
    if (err != FX_OK) {
        json_decref(doc);
        return err;
    }
    json_object_set_new(doc, "content_sha256", json_string(sha));
    *out = doc;
    return FX_OK;
}

static void read_any(struct fx_stmt *st, void *row)
{
    read_g(st, row);
}

static const char *id_of(const void *row)
{
    return ((const struct fx_grant_row *)row)->id;
}

static const struct fx_page_kind grant_page = {sizeof(struct fx_grant_row), read_any, id_of};

/* The optional filters and the order: a NULL parameter disables its condition. */
#define GRANT_WHERE(driver)                                                                        \
    " WHERE " driver " (CAST($2 AS TEXT) IS NULL OR developer_org = $2 OR partner_org = $2)"       \
    " AND (CAST($3 AS TEXT) IS NULL OR sector = $3)"                                               \
    " AND (CAST($4 AS TEXT) IS NULL OR (" STATE_SQL ") = $4)"                                      \
    " AND (CAST($5 AS TEXT) IS NULL OR notice_id = $5)"                                            \
    " AND (CAST($6 AS TEXT) IS NULL OR id < $6) ORDER BY id DESC LIMIT $7"
/* The newest page of an org's grants: as developer, and as partner. */
#define GRANTS_OF_ORG                                                                              \
    FX_PAGE_UNION("SELECT * FROM grants" GRANT_WHERE("developer_org = $2 AND"),                    \
                  "SELECT * FROM grants" GRANT_WHERE("partner_org = $2 AND"))

/*
 * The statement for f, read through the index of its most selective filter:
 * one notice's grants (grants_notice), an org's (the newest page of each of
 * grants_developer and grants_partner, merged), else the newest. A catch-all
 * statement with every filter optional would read the whole table: SQLite
 * cannot choose an index for "$5 IS NULL OR notice_id = $5".
 */
static const char *grant_sql(const struct fx_grant_filter *f)
{
    static const char *by_notice =
        "SELECT " G_COLS " FROM grants" GRANT_WHERE("notice_id = $5 AND");
    static const char *by_org =
        "SELECT " G_COLS " FROM " GRANTS_OF_ORG " g ORDER BY id DESC LIMIT $7";
    static const char *newest = "SELECT " G_COLS " FROM grants" GRANT_WHERE("");
    if (f->notice_id)
        return by_notice;
    return f->org_id ? by_org : newest;
}

static enum fx_err grant_open(struct fx_db *db, const void *arg, const char *before_id,
                              struct fx_stmt **st_out)
{
    const struct fx_grant_filter *f = arg;
    struct fx_stmt *st = NULL;
    enum fx_err err = fx_db_prepare(db, grant_sql(f), &st);
    if (err != FX_OK)
        return err;
    fx_stmt_bind_i64(st, 1, f->today);
    fx_stmt_bind_str(st, 2, f->org_id);
    fx_stmt_bind_str(st, 3, f->sector);
    fx_stmt_bind_str(st, 4, f->state);
    fx_stmt_bind_str(st, 5, f->notice_id);
    fx_stmt_bind_str(st, 6, before_id);
    fx_stmt_bind_i64(st, 7, f->limit + 1);
    *st_out = st;
    return FX_OK;
}

enum fx_err fx_grant_list(struct fx_db *db, const struct fx_grant_filter *f,
                          bool (*keep)(const void *row, void *arg), void *keep_arg,
                          struct fx_grant_row **rows_out, size_t *n_out, char **next_out)
{
    void *rows = NULL;
    enum fx_err err = fx_page_read(db, grant_open, f, f->before_id, f->limit, &grant_page, keep,
                                   keep_arg, &rows, n_out, next_out);
    *rows_out = rows;
    return err;
}
