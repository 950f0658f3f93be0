/*
 * org.c: organizations, users, tokens. The coordinator org is made by
 * fxd init; the API never creates a second one.
 */
#include "records/org.h"
#include "auth/token.h"
#include "common/json.h"
#include "common/limits.h"
#include "common/parse.h"

#include <stdio.h>
#include <string.h>

const char *const fx_sectors[] = {
    "chemical", "commercial_facilities", "communications", "critical_manufacturing", "dams",
    "defense_industrial_base", "emergency_services", "energy", "financial_services",
    "food_agriculture", "government_facilities", "healthcare_public_health",
    "information_technology", "nuclear", "transportation", "water_wastewater", NULL};

static const char *const org_fields[] = {"name", "kind", "mission", "sector", NULL};
static const char *const creatable_kinds[] = {"agency", "developer", "operator", NULL};
static const char *const missions[] = {"civilian", "national_security", NULL};

void fx_org_validate(json_t *body, struct fx_org_input *in, struct fx_problem *pb)
{
    memset(in, 0, sizeof(*in));
    fx_json_only_keys(body, org_fields, "", pb);
    fx_json_get_str(body, "name", "", true, FX_MAX_SHORT_STRING, pb, &in->name, NULL);
    json_t *k = json_object_get(body, "kind");
    if (json_is_string(k) && strcmp(json_string_value(k), "coordinator") == 0)
        fx_problem_add(pb, "/kind", "there is exactly one coordinator, made by fxd init");
    else
        fx_json_get_enum(body, "kind", "", true, creatable_kinds, pb, &in->kind, NULL);
    fx_json_get_enum(body, "mission", "", false, missions, pb, &in->mission, NULL);
    fx_json_get_enum(body, "sector", "", false, fx_sectors, pb, &in->sector, NULL);
    if (in->kind && strcmp(in->kind, "agency") == 0 && in->mission == NULL &&
        !json_is_string(json_object_get(body, "mission")))
        fx_problem_add(pb, "/mission", "required for an agency");
    if (in->kind && strcmp(in->kind, "agency") != 0 && in->mission)
        fx_problem_add(pb, "/mission", "only agencies have a mission");
    if (in->kind && strcmp(in->kind, "operator") == 0 && in->sector == NULL &&
        !json_is_string(json_object_get(body, "sector")))
        fx_problem_add(pb, "/sector", "required for an operator");
    if (in->kind && strcmp(in->kind, "operator") != 0 && in->sector)
        fx_problem_add(pb, "/sector", "only operators have a sector");
}

static json_t *org_view(struct fx_stmt *st)
{
    char t[25];
    fx_format_time(fx_stmt_i64(st, 5), t);
    json_t *o = json_object();
    json_object_set_new(o, "id", json_string(fx_stmt_text(st, 0, NULL)));
    json_object_set_new(o, "name", json_string(fx_stmt_text(st, 1, NULL)));
    json_object_set_new(o, "kind", json_string(fx_stmt_text(st, 2, NULL)));
    json_object_set_new(o, "mission", fx_stmt_is_null(st, 3)
                                          ? json_null()
                                          : json_string(fx_stmt_text(st, 3, NULL)));
    json_object_set_new(o, "sector", fx_stmt_is_null(st, 4)
                                         ? json_null()
                                         : json_string(fx_stmt_text(st, 4, NULL)));
    json_object_set_new(o, "created_at", json_string(t));
    return o;
}

enum fx_err fx_org_create(struct fx_db *db, struct fx_keyring *kr, int64_t now,
                          const struct fx_org_input *in, json_t **out)
{
    static const char *sql = "INSERT INTO orgs (id, name, kind, mission, sector, wrapped_key,"
                             " created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)";
    char id[37];
    fx_uuid_v7(now, id);
    unsigned char *wk = NULL;
    size_t wlen = 0;
    struct fx_stmt *st = NULL;
    bool row;
    enum fx_err err = fx_keyring_new_org_key(kr, db, id, &wk, &wlen);
    if (err == FX_OK)
        err = fx_db_prepare(db, sql, &st);
    if (err == FX_OK) {
        fx_stmt_bind_str(st, 1, id);
        fx_stmt_bind_str(st, 2, in->name);
        fx_stmt_bind_str(st, 3, in->kind);
        fx_stmt_bind_str(st, 4, in->mission);
        fx_stmt_bind_str(st, 5, in->sector);
        fx_stmt_bind_blob(st, 6, wk, wlen);
        fx_stmt_bind_i64(st, 7, now);
        err = fx_stmt_step(st, &row);
        fx_stmt_finalize(st);
    }
    free(wk);
    if (err != FX_OK)
        return err;
    return fx_org_get(db, id, out);
}

enum fx_err fx_org_get(struct fx_db *db, const char *id, json_t **out)
{
    static const char *sql =
        "SELECT id, name, kind, mission, sector, created_at FROM orgs WHERE id = $1";
    struct fx_stmt *st = NULL;
    bool row = false;
    enum fx_err err = fx_db_prepare(db, sql, &st);
    if (err != FX_OK)
        return err;
    fx_stmt_bind_str(st, 1, id);
    err = fx_stmt_step(st, &row);
    if (err == FX_OK && !row)
        err = FX_ENOTFOUND;
    if (err == FX_OK)
        *out = org_view(st);
    fx_stmt_finalize(st);
    return err;
}

enum fx_err fx_org_kind_of(struct fx_db *db, const char *org_id, enum fx_org_kind *kind_out)
{
    static const char *sql = "SELECT kind FROM orgs WHERE id = $1";
    struct fx_stmt *st = NULL;
    bool row = false;
    enum fx_err err = fx_db_prepare(db, sql, &st);
    if (err != FX_OK)
        return err;
    fx_stmt_bind_str(st, 1, org_id);
    err = fx_stmt_step(st, &row);
    if (err == FX_OK && !row)
        err = FX_ENOTFOUND;
    if (err == FX_OK)
        *kind_out = (enum fx_org_kind)fx_org_kind_parse(fx_stmt_text(st, 0, NULL));
    fx_stmt_finalize(st);
    return err;
}

/*
 * One page of a list (SPEC §12) in id order, creation order: the rows of sql
 * whose key is key ($1; NULL binds NULL) after the cursor after_id ($2; NULL:
 * from the first), at most limit ($3 is limit + 1), each as view renders it
 * (its first column the id). *next_out: the last id served when another row
 * follows (owned), NULL on the last page.
 */
static enum fx_err key_page(struct fx_db *db, const char *sql, const char *key,
                            const char *after_id, int64_t limit,
                            json_t *(*view)(struct fx_stmt *st), json_t **items_out,
                            char **next_out)
{
    struct fx_stmt *st = NULL;
    bool row = false;
    *next_out = NULL;
    enum fx_err err = fx_db_prepare(db, sql, &st);
    if (err != FX_OK)
        return err;
    fx_stmt_bind_str(st, 1, key);
    fx_stmt_bind_str(st, 2, after_id);
    fx_stmt_bind_i64(st, 3, limit + 1);
    json_t *items = json_array();
    int64_t n = 0;
    while ((err = fx_stmt_step(st, &row)) == FX_OK && row) {
        if (n == limit) {
            *next_out = fx_xstrdup(json_string_value(
                json_object_get(json_array_get(items, json_array_size(items) - 1), "id")));
            break;
        }
        json_array_append_new(items, view(st));
        n++;
    }
    fx_stmt_finalize(st);
    if (err != FX_OK) {
        json_decref(items);
        FX_FREE(*next_out);
        return err;
    }
    *items_out = items;
    return FX_OK;
}

/* Rows after the cursor $2 (NULL: from the first) in id order, at most $3. */
#define AFTER_CURSOR " (CAST($2 AS TEXT) IS NULL OR id > $2) ORDER BY id LIMIT $3"

/*
 * Orgs in id order; one kind is read through orgs_kind, as SQLite cannot
 * choose an index for "$1 IS NULL OR kind = $1".
 */
#define ORG_LIST(driver)                                                                           \
    "SELECT id, name, kind, mission, sector, created_at FROM orgs WHERE " driver AFTER_CURSOR

enum fx_err fx_org_list(struct fx_db *db, const char *kind, const char *after_id, int64_t limit,
                        json_t **items_out, char **next_out)
{
    static const char *by_kind = ORG_LIST("kind = $1 AND");
    static const char *all = ORG_LIST("");
    return key_page(db, kind ? by_kind : all, kind, after_id, limit, org_view, items_out, next_out);
}

static const char *const user_fields[] = {"email", "name", "role", NULL};
static const char *const roles[] = {"admin", "member", "reviewer", "viewer", NULL};

static bool email_ok(const char *e)
{
    const char *at = strchr(e, '@');
    if (at == NULL || at == e || strchr(at + 1, '@') || strchr(at, '.') == NULL)
        return false;
    for (const char *c = e; *c; c++)
        if ((unsigned char)*c <= ' ')
            return false;
    return at[1] != '.' && e[strlen(e) - 1] != '.';
}

void fx_user_validate(json_t *body, enum fx_org_kind org_kind, struct fx_user_input *in,
                      struct fx_problem *pb)
{
    memset(in, 0, sizeof(*in));
    fx_json_only_keys(body, user_fields, "", pb);
    fx_json_get_str(body, "email", "", true, FX_MAX_SHORT_STRING, pb, &in->email, NULL);
    fx_json_get_str(body, "name", "", true, FX_MAX_SHORT_STRING, pb, &in->name, NULL);
    fx_json_get_enum(body, "role", "", true, roles, pb, &in->role, NULL);
    if (in->email && !email_ok(in->email))
        fx_problem_add(pb, "/email", "not an email address");
    if (in->role && strcmp(in->role, "reviewer") == 0 && org_kind != FX_ORG_COORDINATOR &&
        org_kind != FX_ORG_AGENCY)
        fx_problem_add(pb, "/role", "reviewers belong to the coordinator or an agency");
}

static json_t *user_view(struct fx_stmt *st)
{
    char t[25];
    fx_format_time(fx_stmt_i64(st, 5), t);
    return json_pack("{s:s,s:s,s:s,s:s,s:s,s:s}", "id", fx_stmt_text(st, 0, NULL), "org_id",
                     fx_stmt_text(st, 1, NULL), "email", fx_stmt_text(st, 2, NULL), "name",
                     fx_stmt_text(st, 3, NULL), "role", fx_stmt_text(st, 4, NULL), "created_at",
                     t);
}

/*
 * An email is stored as given, and unique by its key (docs/API.md, decision
 * 0014): ASCII letters lower-cased, as migration 9 folded the emails already
 * stored. Other letters are compared as they are, on both backends alike.
 */
static char *email_key(const char *email)
{
    char *k = fx_xstrdup(email);
    for (char *c = k; *c; c++)
        if (*c >= 'A' && *c <= 'Z')
            *c = (char)(*c - 'A' + 'a');
    return k;
}

enum fx_err fx_user_create(struct fx_db *db, int64_t now, const char *org_id,
                           const struct fx_user_input *in, json_t **out)
{
    static const char *ins = "INSERT INTO users (id, org_id, email, email_key, name, role,"
                             " created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)";
    static const char *sel =
        "SELECT id, org_id, email, name, role, created_at FROM users WHERE id = $1";
    char id[37];
    fx_uuid_v7(now, id);
    struct fx_stmt *st = NULL;
    bool row = false;
    enum fx_err err = fx_db_prepare(db, ins, &st);
    if (err != FX_OK)
        return err;
    char *key = email_key(in->email);
    fx_stmt_bind_str(st, 1, id);
    fx_stmt_bind_str(st, 2, org_id);
    fx_stmt_bind_str(st, 3, in->email);
    fx_stmt_bind_str(st, 4, key);
    fx_stmt_bind_str(st, 5, in->name);
    fx_stmt_bind_str(st, 6, in->role);
    fx_stmt_bind_i64(st, 7, now);
    err = fx_stmt_step(st, &row);
    fx_stmt_finalize(st);
    free(key);
    if (err != FX_OK)
        return err;
    err = fx_db_prepare(db, sel, &st);
    if (err != FX_OK)
        return err;
    fx_stmt_bind_str(st, 1, id);
    err = fx_stmt_step(st, &row);
    if (err == FX_OK && row)
        *out = user_view(st);
    else if (err == FX_OK)
        err = FX_ESTORE;
    fx_stmt_finalize(st);
    return err;
}

enum fx_err fx_user_org(struct fx_db *db, const char *user_id, char *org_out)
{
    static const char *sql = "SELECT org_id FROM users WHERE id = $1";
    struct fx_stmt *st = NULL;
    bool row = false;
    enum fx_err err = fx_db_prepare(db, sql, &st);
    if (err != FX_OK)
        return err;
    fx_stmt_bind_str(st, 1, user_id);
    err = fx_stmt_step(st, &row);
    if (err == FX_OK && !row)
        err = FX_ENOTFOUND;
    if (err == FX_OK)
        snprintf(org_out, 37, "%s", fx_stmt_text(st, 0, NULL));
    fx_stmt_finalize(st);
    return err;
}

/* An org's users, read through users_org_id (org_id, id). */
enum fx_err fx_user_list(struct fx_db *db, const char *org_id, const char *after_id, int64_t limit,
                         json_t **items_out, char **next_out)
{
    static const char *sql = "SELECT id, org_id, email, name, role, created_at FROM users"
                             " WHERE org_id = $1 AND" AFTER_CURSOR;
    return key_page(db, sql, org_id, after_id, limit, user_view, items_out, next_out);
}

static json_t *token_view(struct fx_stmt *st)
{
    char c[25], e[25], r[25];
    fx_format_time(fx_stmt_i64(st, 3), c);
    fx_format_time(fx_stmt_i64(st, 4), e);
    json_t *o = json_pack("{s:s,s:s,s:s,s:s}", "id", fx_stmt_text(st, 0, NULL), "user_id",
                          fx_stmt_text(st, 1, NULL), "created_at", c, "expires_at", e);
    json_object_set_new(o, "name", fx_stmt_is_null(st, 2) ? json_null()
                                                          : json_string(fx_stmt_text(st, 2, NULL)));
    if (fx_stmt_is_null(st, 5)) {
        json_object_set_new(o, "revoked_at", json_null());
    } else {
        fx_format_time(fx_stmt_i64(st, 5), r);
        json_object_set_new(o, "revoked_at", json_string(r));
    }
    return o;
}

enum fx_err fx_token_create(struct fx_db *db, int64_t now, const char *user_id, const char *name,
                            int64_t days, json_t **out)
{
    static const char *ins = "INSERT INTO tokens (id, user_id, hash, name, created_at,"
                             " expires_at) VALUES ($1, $2, $3, $4, $5, $6)";
    static const char *sel = "SELECT id, user_id, name, created_at, expires_at, revoked_at"
                             " FROM tokens WHERE id = $1";
    char id[37], tok[FX_TOKEN_LEN + 1];
    unsigned char hash[FX_TOKEN_HASH];
    fx_uuid_v7(now, id);
    fx_token_generate(tok, hash);
    struct fx_stmt *st = NULL;
    bool row = false;
    enum fx_err err = fx_db_prepare(db, ins, &st);
    if (err != FX_OK)
        goto out;
    fx_stmt_bind_str(st, 1, id);
    fx_stmt_bind_str(st, 2, user_id);
    fx_stmt_bind_blob(st, 3, hash, sizeof(hash));
    fx_stmt_bind_str(st, 4, name);
    fx_stmt_bind_i64(st, 5, now);
    fx_stmt_bind_i64(st, 6, now + days * 86400000);
    err = fx_stmt_step(st, &row);
    fx_stmt_finalize(st);
    if (err != FX_OK)
        goto out;
    err = fx_db_prepare(db, sel, &st);
    if (err != FX_OK)
        goto out;
    fx_stmt_bind_str(st, 1, id);
    err = fx_stmt_step(st, &row);
    if (err == FX_OK && row) {
        *out = token_view(st);
        json_object_set_new(*out, "token", json_string(tok));
    } else if (err == FX_OK) {
        err = FX_ESTORE;
    }
    fx_stmt_finalize(st);
out:
    memset(tok, 0, sizeof(tok));
    return err;
}

/* A user's tokens, read through tokens_user_id (user_id, id). */
enum fx_err fx_token_list(struct fx_db *db, const char *user_id, const char *after_id,
                          int64_t limit, json_t **items_out, char **next_out)
{
    static const char *sql = "SELECT id, user_id, name, created_at, expires_at, revoked_at"
                             " FROM tokens WHERE user_id = $1 AND" AFTER_CURSOR;
    return key_page(db, sql, user_id, after_id, limit, token_view, items_out, next_out);
}

enum fx_err fx_token_any(struct fx_db *db, const char *user_id, bool *out)
{
    static const char *sql = "SELECT 1 FROM tokens WHERE user_id = $1 LIMIT 1";
    struct fx_stmt *st = NULL;
    *out = false;
    enum fx_err err = fx_db_prepare(db, sql, &st);
    if (err != FX_OK)
        return err;
    fx_stmt_bind_str(st, 1, user_id);
    err = fx_stmt_step(st, out);
    fx_stmt_finalize(st);
    return err;
}

enum fx_err fx_token_owner(struct fx_db *db, const char *token_id, char *user_out, char *org_out)
{
    static const char *sql = "SELECT u.id, u.org_id FROM tokens t JOIN users u"
                             " ON u.id = t.user_id WHERE t.id = $1";
    struct fx_stmt *st = NULL;
    bool row = false;
    enum fx_err err = fx_db_prepare(db, sql, &st);
    if (err != FX_OK)
        return err;
    fx_stmt_bind_str(st, 1, token_id);
    err = fx_stmt_step(st, &row);
    if (err == FX_OK && !row)
        err = FX_ENOTFOUND;
    if (err == FX_OK) {
        snprintf(user_out, 37, "%s", fx_stmt_text(st, 0, NULL));
        snprintf(org_out, 37, "%s", fx_stmt_text(st, 1, NULL));
    }
    fx_stmt_finalize(st);
    return err;
}

enum fx_err fx_token_revoke(struct fx_db *db, int64_t now, const char *token_id)
{
    static const char *sql =
        "UPDATE tokens SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL";
    struct fx_stmt *st = NULL;
    bool row;
    enum fx_err err = fx_db_prepare(db, sql, &st);
    if (err != FX_OK)
        return err;
    fx_stmt_bind_i64(st, 1, now);
    fx_stmt_bind_str(st, 2, token_id);
    err = fx_stmt_step(st, &row);
    fx_stmt_finalize(st);
    return err;
}
