/*
 * api_policy.c: changing the policy (SPEC §4, §14): a dry run that lists the
 * notices whose screening or short-notice flag a new policy would change, and
 * applying a policy, which re-screens every open notice in the same
 * transaction. A bad policy is refused whole, every problem listed; nothing of
 * it is applied. GET /api/v1/policy lives in api_ops.c.
 */
#include "common/json.h"
#include "http/api.h"
#include "http/api_review_int.h"
#include "http/write.h"
#include "policy/policy.h"
#include "records/audit.h"
#include "records/screening.h"

#include <stdio.h>
#include <string.h>

struct pop {
    struct fx_req *req;
    struct fx_problem *pb;
    struct fx_policy pol;
    json_t *out;      /* owned */
    json_t *receipts; /* owned */
};

/*
 * The policy in the body: 415 without JSON, 400 when malformed, 422 listing every
 * problem. A group nested past the JSON depth limit is a problem of the policy,
 * so it answers 422 too, before anything parses it.
 */
static bool parse_policy(struct fx_req *req, struct fx_problem *pb, struct fx_policy *pol)
{
    if (fx_json_depth(req->body.p ? req->body.p : "", req->body.len) > FX_MAX_JSON_DEPTH) {
        fx_problem_add(pb, "/covered_if_any", "rules nest deeper than %d groups",
                       FX_MAX_POLICY_DEPTH);
        fx_req_error(req, FX_EINVAL, pb, NULL);
        return false;
    }
    json_t *body = fx_req_body_object(req, false);
    if (body == NULL)
        return false;
    json_decref(body);
    if (fx_policy_parse(req->body.p, req->body.len, pol, pb) != FX_OK) {
        if (pb->detail == NULL)
            fx_problem_detail(pb, "the policy is refused: %zu problem%s, nothing applied", pb->n,
                              pb->n == 1 ? "" : "s");
        fx_req_error(req, FX_EINVAL, pb, NULL);
        return false;
    }
    return true;
}

static bool policy_allowed(struct fx_req *req, enum fx_act act)
{
    struct fx_subject s = {.kind = FX_REC_POLICY};
    enum fx_err err = fx_access_check(&req->who, act, &s);
    if (err != FX_OK)
        fx_req_error(req, err, NULL,
                     act == FX_ACT_APPLY ? "only coordinator admins apply a policy"
                                         : "only coordinator reviewers and admins check a policy");
    return err == FX_OK;
}

/* The coordinator lists only notices it may read (all open ones, by SPEC §2). */
static bool keep_notice(const struct fx_notice_row *row, void *arg)
{
    struct fx_req *req = arg;
    struct fx_subject s = {.kind = FX_REC_NOTICE, .org_id = row->org_id, .status = row->status};
    return fx_access_check(&req->who, FX_ACT_READ, &s) == FX_OK;
}

static enum fx_err check_fn(struct fx_db *db, void *arg)
{
    struct pop *op = arg;
    struct fx_notice_env env;
    fx_api_env(op->req, op->receipts, &env);
    return fx_screening_check(db, &env, &op->pol, keep_notice, op->req, &op->out);
}

void fx_api_policy_check(struct fx_req *req)
{
    struct fx_problem pb;
    struct pop op = {.req = req, .pb = &pb, .receipts = json_array()};
    fx_problem_init(&pb);
    if (!policy_allowed(req, FX_ACT_CHECK) || !parse_policy(req, &pb, &op.pol))
        goto out;
    enum fx_err err = fx_store_read(req->ctx->store, check_fn, &op);
    if (err != FX_OK) {
        fx_req_error(req, err, NULL, NULL);
        goto out;
    }
    /* SPEC §10: the changes name other orgs' notices and their screening: reads to audit */
    json_t *changes = json_object_get(op.out, "changes");
    size_t n = json_array_size(changes), nt = 0;
    struct fx_audit_target *t = fx_arena_alloc(&req->arena, (n + 1) * sizeof(*t));
    for (size_t i = 0; i < n; i++) {
        json_t *c = json_array_get(changes, i);
        t[nt++] = (struct fx_audit_target){json_string_value(json_object_get(c, "notice_id")),
                                           json_string_value(json_object_get(c, "org_id"))};
    }
    fx_req_audit_reads(req, "policy.check", t, nt);
    fx_req_json(req, 200, op.out);
    op.out = NULL;
out:
    json_decref(op.out);
    json_decref(op.receipts);
    fx_policy_cleanup(&op.pol);
    fx_problem_cleanup(&pb);
}

static enum fx_err apply_fn(struct fx_db *db, void *arg)
{
    struct pop *op = arg;
    struct fx_req *req = op->req;
    const char *if_match = fx_req_header(req, "If-Match");
    if (if_match) {
        /* optional: apply only over the policy the caller saw (GET /policy's ETag) */
        struct fx_policy active;
        enum fx_err err = fx_policy_load_active(db, &active);
        if (err != FX_OK)
            return err == FX_ENOTFOUND ? FX_ESTORE : err;
        char etag[70];
        snprintf(etag, sizeof(etag), "\"%s\"", active.sha256);
        fx_policy_cleanup(&active);
        if (strcmp(if_match, etag) != 0) {
            fx_problem_detail(op->pb, "If-Match is not the active policy's ETag %s", etag);
            return FX_ESTALE;
        }
    }
    struct fx_notice_env env;
    fx_api_env(req, op->receipts, &env);
    enum fx_err err = fx_screening_apply(db, &env, &op->pol, &op->out);
    if (err != FX_OK)
        return err;
    char etag[70];
    snprintf(etag, sizeof(etag), "\"%s\"", op->pol.sha256);
    fx_req_set_header(req, "ETag", etag);
    fx_req_json(req, 200, op->out);
    op->out = NULL;
    return FX_OK;
}

void fx_api_policy_put(struct fx_req *req)
{
    struct fx_problem pb;
    struct pop op = {.req = req, .pb = &pb, .receipts = json_array()};
    fx_problem_init(&pb);
    if (!policy_allowed(req, FX_ACT_APPLY) || !parse_policy(req, &pb, &op.pol))
        goto out;
    req->audit_record = fx_arena_strdup(&req->arena, op.pol.sha256);
    enum fx_err err = fx_write_run(req, apply_fn, &op, &pb);
    if (err != FX_OK)
        fx_req_error(req, err, &pb, NULL);
out:
    json_decref(op.out);
    json_decref(op.receipts);
    fx_policy_cleanup(&op.pol);
    fx_problem_cleanup(&pb);
}
