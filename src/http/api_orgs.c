/*
 * api_orgs.c: organizations, users and tokens (SPEC §2, §12, §14).
 */
#include "auth/access.h"
#include "auth/tokencache.h"
#include "common/json.h"
#include "common/parse.h"
#include "http/api.h"
#include "http/write.h"
#include "records/audit.h"
#include "records/org.h"

#include <string.h>

/* Shared state of one handler's store callback. */
struct op {
    struct fx_req *req;
    struct fx_problem *pb;
    json_t *body;          /* the parsed request, borrowed */
    const char *id;        /* path parameter */
    union {
        struct fx_org_input org;
        struct fx_user_input user;
    } in;
    const char *name;
    int64_t days;
    const char *cursor;    /* a list's ?cursor= (the last id of the previous page) */
    int64_t limit;         /* a list's ?limit= */
    json_t *out;           /* the answer, owned until served */
    char *next;            /* cursor, owned */
};

static int64_t now(struct fx_req *req)
{
    return fx_clock_now(&req->ctx->clock);
}

/*
 * SPEC §12: a list's page, read by fn into op->out and op->next once the
 * query (?limit=&cursor=, and what pb already holds) is valid.
 */
static void answer_list(struct fx_req *req, struct op *op, struct fx_problem *pb, fx_db_fn fn)
{
    op->cursor = fx_req_query_id(req, "cursor", pb);
    fx_req_query_limit(req, pb, &op->limit);
    if (fx_req_valid(req, pb)) {
        enum fx_err err = fx_store_read(req->ctx->store, fn, op);
        if (err != FX_OK)
            fx_req_error(req, err, NULL, NULL);
        else
            fx_req_page(req, op->out, op->next ? json_string(op->next) : NULL);
    }
    FX_FREE(op->next);
}

/* answer_list for the list of the record the path names (op->id): 404 missing unless an id. */
static void answer_path_list(struct fx_req *req, const char *missing, fx_db_fn fn)
{
    struct fx_problem pb;
    struct op op = {.req = req, .id = req->params[0]};
    if (!fx_uuid_valid(op.id, strlen(op.id))) {
        fx_req_problem(req, 404, missing);
        return;
    }
    fx_problem_init(&pb);
    answer_list(req, &op, &pb, fn);
    fx_problem_cleanup(&pb);
}

/* The gate for user/token routes: the subject is a user of org_id. */
static enum fx_err gate_user(struct fx_req *req, enum fx_act act, const char *org_id,
                             const char *user_id)
{
    struct fx_subject s = {.kind = FX_REC_USER, .org_id = org_id, .user_id = user_id};
    return fx_access_check(&req->who, act, &s);
}

/* The gate for a new token of user_id (in org_id): whether it ever held one counts. */
static enum fx_err gate_issue(struct fx_db *db, struct fx_req *req, const char *org_id,
                              const char *user_id)
{
    bool held = false;
    enum fx_err err = fx_token_any(db, user_id, &held);
    struct fx_subject s = {
        .kind = FX_REC_USER, .org_id = org_id, .user_id = user_id, .tokenless = !held};
    return err == FX_OK ? fx_access_check(&req->who, FX_ACT_ISSUE, &s) : err;
}

static enum fx_err org_create_fn(struct fx_db *db, void *arg)
{
    struct op *op = arg;
    json_t *out = NULL;
    enum fx_err err = fx_org_create(db, op->req->ctx->keys, now(op->req), &op->in.org, &out);
    if (err == FX_ECONFLICT) {
        fx_problem_add(op->pb, "/name", "an organization with this name exists");
        fx_problem_detail(op->pb, "an organization with this name exists");
        return FX_ECONFLICT;
    }
    if (err != FX_OK)
        return err;
    const char *id = json_string_value(json_object_get(out, "id"));
    err = fx_audit_write(db, now(op->req), &op->req->who, "org.create", id, id, "ok");
    if (err != FX_OK) {
        json_decref(out);
        return err;
    }
    char loc[80];
    snprintf(loc, sizeof(loc), "/api/v1/orgs/%s", id);
    fx_req_set_header(op->req, "Location", loc);
    fx_req_json(op->req, 201, out);
    return FX_OK;
}

void fx_api_org_create(struct fx_req *req)
{
    struct fx_problem pb;
    struct op op = {.req = req, .pb = &pb};
    fx_problem_init(&pb);
    struct fx_subject s = {.kind = FX_REC_ORG};
    enum fx_err err = fx_access_check(&req->who, FX_ACT_CREATE, &s);
    if (err != FX_OK) {
        fx_req_error(req, err, NULL, "only coordinator admins create organizations");
        goto out;
    }
    op.body = fx_req_body_object(req, false);
    if (op.body == NULL)
        goto out;
    fx_org_validate(op.body, &op.in.org, &pb);
    if (!fx_req_valid(req, &pb))
        goto out;
    err = fx_write_run(req, org_create_fn, &op, &pb);
    if (err != FX_OK)
        fx_req_error(req, err, &pb, NULL);
out:
    json_decref(op.body);
    fx_problem_cleanup(&pb);
}

static enum fx_err org_list_fn(struct fx_db *db, void *arg)
{
    struct op *op = arg;
    return fx_org_list(db, op->name, op->cursor, op->limit, &op->out, &op->next);
}

void fx_api_org_list(struct fx_req *req)
{
    static const char *const kinds[] = {"coordinator", "agency", "developer", "operator", NULL};
    struct fx_problem pb;
    struct op op = {.req = req};
    fx_problem_init(&pb);
    op.name = fx_req_query_enum(req, "kind", kinds, &pb);
    answer_list(req, &op, &pb, org_list_fn);
    fx_problem_cleanup(&pb);
}

static enum fx_err org_get_fn(struct fx_db *db, void *arg)
{
    struct op *op = arg;
    return fx_org_get(db, op->id, &op->out);
}

void fx_api_org_get(struct fx_req *req)
{
    struct op op = {.req = req, .id = req->params[0]};
    if (!fx_uuid_valid(op.id, strlen(op.id))) {
        fx_req_problem(req, 404, "no such organization");
        return;
    }
    enum fx_err err = fx_store_read(req->ctx->store, org_get_fn, &op);
    if (err != FX_OK)
        fx_req_error(req, err, NULL, NULL);
    else
        fx_req_json(req, 200, op.out);
}

static enum fx_err user_create_fn(struct fx_db *db, void *arg)
{
    struct op *op = arg;
    struct fx_req *req = op->req;
    enum fx_org_kind kind;
    enum fx_err err = fx_org_kind_of(db, op->id, &kind);
    if (err != FX_OK)
        return err;
    err = gate_user(req, FX_ACT_CREATE, op->id, NULL);
    if (err != FX_OK)
        return err;
    fx_user_validate(op->body, kind, &op->in.user, op->pb);
    if (fx_problem_any(op->pb))
        return FX_EINVAL;
    json_t *out = NULL;
    err = fx_user_create(db, now(req), op->id, &op->in.user, &out);
    if (err == FX_ECONFLICT) {
        fx_problem_add(op->pb, "/email", "a user with this email exists");
        fx_problem_detail(op->pb, "a user with this email exists");
        return FX_ECONFLICT;
    }
    if (err != FX_OK)
        return err;
    err = fx_audit_write(db, now(req), &req->who, "user.create",
                         json_string_value(json_object_get(out, "id")), op->id, "ok");
    if (err != FX_OK) {
        json_decref(out);
        return err;
    }
    fx_req_json(req, 201, out);
    return FX_OK;
}

void fx_api_user_create(struct fx_req *req)
{
    struct fx_problem pb;
    struct op op = {.req = req, .pb = &pb, .id = req->params[0]};
    fx_problem_init(&pb);
    if (!fx_uuid_valid(op.id, strlen(op.id))) {
        fx_req_problem(req, 404, "no such organization");
        goto out;
    }
    op.body = fx_req_body_object(req, false);
    if (op.body == NULL)
        goto out;
    enum fx_err err = fx_write_run(req, user_create_fn, &op, &pb);
    if (err != FX_OK)
        fx_req_error(req, err, &pb, err == FX_EFORBIDDEN ? "only admins add users" : NULL);
out:
    json_decref(op.body);
    fx_problem_cleanup(&pb);
}

static enum fx_err user_list_fn(struct fx_db *db, void *arg)
{
    struct op *op = arg;
    enum fx_org_kind kind;
    enum fx_err err = fx_org_kind_of(db, op->id, &kind);
    if (err == FX_OK) {
        err = gate_user(op->req, FX_ACT_READ, op->id, NULL);
        if (err == FX_ENOTFOUND)
            err = FX_EFORBIDDEN; /* the org exists and is public; its members are not */
    }
    if (err == FX_OK)
        err = fx_user_list(db, op->id, op->cursor, op->limit, &op->out, &op->next);
    return err;
}

void fx_api_user_list(struct fx_req *req)
{
    answer_path_list(req, "no such organization", user_list_fn);
}

static enum fx_err token_create_fn(struct fx_db *db, void *arg)
{
    struct op *op = arg;
    struct fx_req *req = op->req;
    char org[37];
    enum fx_err err = fx_user_org(db, op->id, org);
    if (err == FX_OK)
        err = gate_issue(db, req, org, op->id);
    if (err != FX_OK)
        return err;
    err = fx_token_create(db, now(req), op->id, op->name, op->days, &op->out);
    if (err == FX_OK)
        err = fx_audit_write(db, now(req), &req->who, "token.create",
                             json_string_value(json_object_get(op->out, "id")), org, "ok");
    if (err != FX_OK)
        return err;
    /* SPEC §12: the secret is shown once, so an Idempotency-Key replay answers without it */
    json_t *replay = json_copy(op->out);
    json_object_set_new(replay, "token", json_null());
    json_object_set_new(replay, "note",
                        json_string("a replay of the first answer, which alone showed the "
                                    "token; revoke it and create another if it was lost"));
    fx_req_replay_json(req, replay);
    fx_req_json(req, 201, op->out);
    op->out = NULL;
    return FX_OK;
}

void fx_api_token_create(struct fx_req *req)
{
    static const char *const fields[] = {"name", "expires_in_days", NULL};
    struct fx_problem pb;
    struct op op = {.req = req, .pb = &pb, .id = req->params[0], .days = FX_DEFAULT_TOKEN_DAYS};
    fx_problem_init(&pb);
    if (!fx_uuid_valid(op.id, strlen(op.id))) {
        fx_req_problem(req, 404, "no such user");
        goto out;
    }
    op.body = fx_req_body_object(req, true);
    if (op.body == NULL)
        goto out;
    fx_json_only_keys(op.body, fields, "", &pb);
    fx_json_get_str(op.body, "name", "", false, FX_MAX_SHORT_STRING, &pb, &op.name, NULL);
    fx_json_get_int(op.body, "expires_in_days", "", false, 1, FX_MAX_TOKEN_DAYS, &pb, &op.days,
                    NULL);
    if (!fx_req_valid(req, &pb))
        goto out;
    enum fx_err err = fx_write_run(req, token_create_fn, &op, &pb);
    if (err != FX_OK)
        fx_req_error(req, err, &pb, NULL);
out:
    json_decref(op.out);
    json_decref(op.body);
    fx_problem_cleanup(&pb);
}

static enum fx_err token_list_fn(struct fx_db *db, void *arg)
{
    struct op *op = arg;
    char org[37];
    enum fx_err err = fx_user_org(db, op->id, org);
    if (err == FX_OK)
        err = gate_user(op->req, FX_ACT_MANAGE, org, op->id);
    if (err == FX_OK)
        err = fx_token_list(db, op->id, op->cursor, op->limit, &op->out, &op->next);
    return err;
}

void fx_api_token_list(struct fx_req *req)
{
    answer_path_list(req, "no such user", token_list_fn);
}

static enum fx_err token_revoke_fn(struct fx_db *db, void *arg)
{
    struct op *op = arg;
    struct fx_req *req = op->req;
    char user[37], org[37];
    enum fx_err err = fx_token_owner(db, op->id, user, org);
    if (err == FX_OK)
        err = gate_user(req, FX_ACT_MANAGE, org, user);
    if (err == FX_OK)
        err = fx_token_revoke(db, now(req), op->id);
    if (err == FX_OK)
        err = fx_audit_write(db, now(req), &req->who, "token.revoke", op->id, org, "ok");
    if (err == FX_OK)
        fx_req_no_content(req);
    return err;
}

void fx_api_token_revoke(struct fx_req *req)
{
    struct fx_problem pb;
    struct op op = {.req = req, .pb = &pb, .id = req->params[0]};
    fx_problem_init(&pb);
    if (!fx_uuid_valid(op.id, strlen(op.id))) {
        fx_req_problem(req, 404, "no such token");
    } else {
        enum fx_err err = fx_write_run(req, token_revoke_fn, &op, &pb);
        /* after the commit, before the answer: no cached use of the token follows */
        if (err == FX_OK && req->ctx->tokens)
            fx_tokencache_flush(req->ctx->tokens);
        if (err != FX_OK)
            fx_req_error(req, err, &pb, NULL);
    }
    fx_problem_cleanup(&pb);
}
