/*
 * api_grants.c: trusted-partner access grants (SPEC §6, §14): propose, two
 * consents, accept, revoke, feedback, one grant and lists by sector and
 * state. Who may read and act is the gate's (src/auth/access.c); a partner
 * sees the model's name and version, the window, the terms and the
 * developer's contact, never the notice body nor even its id.
 */
#include "common/json.h"
#include "common/parse.h"
#include "http/api.h"
#include "http/api_review_int.h"
#include "http/write.h"
#include "records/audit.h"
#include "records/grant.h"
#include "records/org.h"

#include <stdio.h>
#include <string.h>

struct gop {
    struct fx_req *req;
    struct fx_problem *pb;
    const char *id; /* path: notice id/ref (propose) or grant id */
    struct fx_notice_row notice;
    struct fx_grant_row g;
    json_t *body;     /* owned */
    json_t *out;      /* owned */
    json_t *receipts; /* owned */
    struct fx_grant_input in;
    struct fx_feedback_input fb;
    const char *text; /* revoke reason / accepted terms hash */
    enum fx_act act;
};

static void gop_cleanup(struct gop *op)
{
    json_decref(op->body);
    json_decref(op->out);
    json_decref(op->receipts);
}

static void env_of(struct gop *op, struct fx_notice_env *env)
{
    if (op->receipts == NULL)
        op->receipts = json_array();
    fx_api_env(op->req, op->receipts, env);
}

static struct fx_subject subject_of(const struct fx_grant_row *g)
{
    struct fx_subject s = {.kind = FX_REC_GRANT, .org_id = g->developer_org,
                           .partner_org = g->partner_org, .approved = fx_grant_approved(g)};
    return s;
}

/* Whether the caller may read the grant's notice: the partner may not even learn its id. */
static enum fx_err notice_readable(struct fx_db *db, struct fx_req *req,
                                   const struct fx_grant_row *g, bool *out)
{
    struct fx_notice_row n;
    bool assigned = false;
    enum fx_err err = fx_notice_load(db, g->notice_id, &n);
    if (err == FX_OK)
        err = fx_api_assigned(db, req, n.id, &assigned);
    if (err != FX_OK)
        return err;
    struct fx_subject s = {.kind = FX_REC_NOTICE, .org_id = n.org_id, .status = n.status,
                           .agency_assigned = assigned};
    *out = fx_access_check(&req->who, FX_ACT_READ, &s) == FX_OK;
    return FX_OK;
}

static enum fx_err view_of(struct fx_db *db, struct fx_req *req, const struct fx_grant_row *g,
                           bool with_feedback, json_t **out)
{
    bool with_notice = false;
    enum fx_err err = notice_readable(db, req, g, &with_notice);
    if (err == FX_OK)
        err = fx_grant_view(db, req->ctx->keys, g, fx_clock_today(&req->ctx->clock),
                            with_notice, with_feedback, out);
    return err;
}

/* Loads the grant by id and asks the gate. */
static enum fx_err load_grant(struct fx_db *db, struct gop *op, enum fx_act act)
{
    enum fx_err err = fx_grant_load(db, op->id, &op->g);
    if (err != FX_OK)
        return err;
    op->req->audit_record = fx_arena_strdup(&op->req->arena, op->g.id);
    struct fx_subject s = subject_of(&op->g);
    return fx_access_check(&op->req->who, act, &s);
}

static bool body_ok(struct gop *op, bool empty_ok)
{
    op->body = fx_req_body_object(op->req, empty_ok);
    return op->body != NULL;
}

/* ---- POST /notices/{id}/grants ---- */

static enum fx_err propose_fn(struct fx_db *db, void *arg)
{
    struct gop *op = arg;
    struct fx_req *req = op->req;
    enum fx_err err = fx_api_notice_gate(db, req, op->id, FX_REC_GRANT, FX_ACT_CREATE,
                                         &op->notice, NULL);
    if (err != FX_OK)
        return err;
    struct fx_notice_env env;
    env_of(op, &env);
    err = fx_grant_propose(db, &env, &op->notice, &op->in, op->pb, &op->g);
    if (err == FX_OK)
        err = view_of(db, req, &op->g, false, &op->out);
    if (err == FX_OK)
        err = fx_audit_write(db, env.now, &req->who, "grant.propose", op->g.id,
                             op->g.developer_org, "ok");
    if (err == FX_OK) {
        char loc[96];
        snprintf(loc, sizeof(loc), "/api/v1/grants/%s", op->g.id);
        fx_req_set_header(req, "Location", loc);
        fx_req_json(req, 201, op->out);
        op->out = NULL;
    }
    return err;
}

void fx_api_grant_propose(struct fx_req *req)
{
    struct fx_problem pb;
    struct gop op = {.req = req, .pb = &pb, .id = req->params[0]};
    fx_problem_init(&pb);
    if (!body_ok(&op, false))
        goto out;
    fx_grant_validate(op.body, &op.in, &pb);
    if (!fx_req_valid(req, &pb))
        goto out;
    enum fx_err err = fx_write_run(req, propose_fn, &op, &pb);
    if (err != FX_OK)
        fx_api_fail(req, err, &pb, "no such notice",
                    "grants are proposed by the developer's members and the coordinator");
out:
    gop_cleanup(&op);
    fx_problem_cleanup(&pb);
}

/* ---- steps ---- */

static enum fx_err step_fn(struct fx_db *db, void *arg)
{
    struct gop *op = arg;
    struct fx_req *req = op->req;
    enum fx_err err = load_grant(db, op, op->act);
    if (err != FX_OK)
        return err;
    struct fx_notice_env env;
    env_of(op, &env);
    const char *audit = NULL;
    unsigned status = 200;
    json_t *fb = NULL;
    switch (op->act) {
    case FX_ACT_CONSENT:
        err = fx_grant_consent(db, &env, &op->g, op->pb);
        audit = "grant.consent";
        break;
    case FX_ACT_ACCEPT:
        err = fx_grant_accept(db, &env, &op->g, op->text, op->pb);
        audit = "grant.accept";
        break;
    case FX_ACT_REVOKE:
        err = fx_grant_revoke(db, &env, &op->g, op->text, op->pb);
        audit = "grant.revoke";
        break;
    default: /* FX_ACT_FEEDBACK */
        err = fx_grant_feedback(db, &env, &op->g, &op->fb, op->pb, &fb);
        audit = "grant.feedback";
        status = 201;
        break;
    }
    if (err == FX_OK && fb == NULL)
        err = view_of(db, req, &op->g, false, &op->out);
    if (err == FX_OK)
        err = fx_audit_write(db, env.now, &req->who, audit, op->g.id, op->g.developer_org, "ok");
    if (err != FX_OK) {
        json_decref(fb);
        return err;
    }
    fx_req_json(req, status, fb ? fb : op->out);
    op->out = NULL;
    return FX_OK;
}

static void step(struct fx_req *req, enum fx_act act)
{
    static const char *const none[] = {NULL};
    static const char *const accept_keys[] = {"terms_sha256", NULL};
    static const char *const revoke_keys[] = {"reason", NULL};
    struct fx_problem pb;
    struct gop op = {.req = req, .pb = &pb, .id = req->params[0], .act = act};
    fx_problem_init(&pb);
    if (!body_ok(&op, act == FX_ACT_CONSENT || act == FX_ACT_ACCEPT))
        goto out;
    switch (act) {
    case FX_ACT_CONSENT:
        fx_json_only_keys(op.body, none, "", &pb);
        break;
    case FX_ACT_ACCEPT:
        fx_json_only_keys(op.body, accept_keys, "", &pb);
        fx_json_get_str(op.body, "terms_sha256", "", false, 64, &pb, &op.text, NULL);
        break;
    case FX_ACT_REVOKE:
        fx_json_only_keys(op.body, revoke_keys, "", &pb);
        fx_json_get_str(op.body, "reason", "", true, FX_MAX_LONG_STRING, &pb, &op.text, NULL);
        if (op.text && op.text[0] == '\0')
            fx_problem_add(&pb, "/reason", "must not be empty");
        break;
    default:
        fx_grant_feedback_validate(op.body, &op.fb, &pb);
        break;
    }
    if (!fx_req_valid(req, &pb))
        goto out;
    enum fx_err err = fx_write_run(req, step_fn, &op, &pb);
    if (err != FX_OK)
        fx_api_fail(req, err, &pb, "no such grant",
                    act == FX_ACT_ACCEPT || act == FX_ACT_FEEDBACK
                        ? "only the partner's members and admins take this step"
                        : "only the developer's members and the coordinator take this step");
out:
    gop_cleanup(&op);
    fx_problem_cleanup(&pb);
}

void fx_api_grant_consent(struct fx_req *req)
{
    step(req, FX_ACT_CONSENT);
}

void fx_api_grant_accept(struct fx_req *req)
{
    step(req, FX_ACT_ACCEPT);
}

void fx_api_grant_revoke(struct fx_req *req)
{
    step(req, FX_ACT_REVOKE);
}

void fx_api_grant_feedback(struct fx_req *req)
{
    step(req, FX_ACT_FEEDBACK);
}

/* ---- reads ---- */

static enum fx_err get_fn(struct fx_db *db, void *arg)
{
    struct gop *op = arg;
    enum fx_err err = load_grant(db, op, FX_ACT_READ);
    if (err == FX_OK)
        err = view_of(db, op->req, &op->g, true, &op->out);
    return err;
}

void fx_api_grant_get(struct fx_req *req)
{
    struct gop op = {.req = req, .id = req->params[0]};
    enum fx_err err = fx_store_read(req->ctx->store, get_fn, &op);
    if (err != FX_OK) {
        fx_api_fail(req, err, NULL, "no such grant", NULL);
    } else {
        fx_api_audit_read(req, op.g.id, op.g.developer_org, "grant.read");
        fx_req_json(req, 200, op.out);
        op.out = NULL;
    }
    gop_cleanup(&op);
}

/* ---- GET /grants/{id}/versions/{n} ---- */

struct vop {
    struct gop g;
    int64_t n;
    char *bytes; /* owned */
    size_t len;
};

static enum fx_err version_fn(struct fx_db *db, void *arg)
{
    struct vop *op = arg;
    enum fx_err err = load_grant(db, &op->g, FX_ACT_READ);
    if (err == FX_OK)
        err =
            fx_grant_version_bytes(db, op->g.req->ctx->keys, &op->g.g, op->n, &op->bytes, &op->len);
    return err;
}

void fx_api_grant_version(struct fx_req *req)
{
    struct vop op = {.g = {.req = req, .id = req->params[0]}};
    const char *n = req->params[1];
    enum fx_err err = fx_parse_i64(n, strlen(n), 1, INT64_MAX, &op.n) == FX_OK
                          ? fx_store_read(req->ctx->store, version_fn, &op)
                          : FX_ENOTFOUND;
    if (err != FX_OK) {
        /* the same detail whether the grant is hidden, missing or has no such version */
        fx_api_fail(req, err, NULL, "no such grant version", NULL);
    } else {
        fx_api_audit_read(req, op.g.g.id, op.g.g.developer_org, "grant.read_version");
        fx_req_bytes(req, 200, "application/json", op.bytes, op.len);
    }
    free(op.bytes);
    gop_cleanup(&op.g);
}

struct glist {
    struct fx_req *req;
    struct fx_grant_filter f;
    struct fx_grant_row *rows; /* owned */
    size_t n;
    char *next;                /* owned */
    json_t *items;             /* owned */
};

static bool keep_grant(const void *row, void *arg)
{
    const struct fx_grant_row *g = row;
    struct glist *l = arg;
    struct fx_subject s = subject_of(g);
    return fx_access_check(&l->req->who, FX_ACT_READ, &s) == FX_OK;
}

static enum fx_err list_fn(struct fx_db *db, void *arg)
{
    struct glist *l = arg;
    enum fx_err err = fx_grant_list(db, &l->f, keep_grant, l, &l->rows, &l->n, &l->next);
    if (err != FX_OK)
        return err;
    l->items = json_array();
    for (size_t i = 0; i < l->n && err == FX_OK; i++) {
        json_t *v = NULL;
        err = view_of(db, l->req, &l->rows[i], false, &v);
        if (err == FX_OK)
            json_array_append_new(l->items, v);
    }
    return err;
}

void fx_api_grant_list(struct fx_req *req)
{
    struct fx_problem pb;
    struct glist l;
    memset(&l, 0, sizeof(l));
    l.req = req;
    fx_problem_init(&pb);
    l.f.sector = fx_req_query_enum(req, "sector", fx_sectors, &pb);
    l.f.state = fx_req_query_enum(req, "state", fx_grant_states, &pb);
    l.f.notice_id = fx_req_query_id(req, "notice", &pb);
    l.f.before_id = fx_req_query_id(req, "cursor", &pb);
    fx_req_query_limit(req, &pb, &l.f.limit);
    if (!fx_req_valid(req, &pb))
        goto out;
    l.f.today = fx_clock_today(&req->ctx->clock);
    /* the coordinator reads every grant; others only those their org is party to */
    l.f.org_id = req->who.kind == FX_ORG_COORDINATOR ? NULL : req->who.org_id;
    enum fx_err err = fx_store_read(req->ctx->store, list_fn, &l);
    if (err != FX_OK) {
        fx_req_error(req, err, NULL, NULL);
        goto out;
    }
    struct fx_audit_target *t = fx_arena_alloc(&req->arena, (l.n + 1) * sizeof(*t));
    size_t nt = 0;
    for (size_t i = 0; i < l.n; i++)
        if (fx_access_is_outside_read(&req->who, l.rows[i].developer_org))
            t[nt++] = (struct fx_audit_target){l.rows[i].id, l.rows[i].developer_org};
    fx_req_audit_reads(req, "grant.list", t, nt);
    fx_req_page(req, json_incref(l.items), l.next ? json_string(l.next) : NULL);
out:
    json_decref(l.items);
    free(l.rows);
    free(l.next);
    fx_problem_cleanup(&pb);
}
