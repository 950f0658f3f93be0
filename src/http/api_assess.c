/*
 * api_assess.c: assessments of covered models (SPEC §5, §14): opening one,
 * reading it, agencies' tasks, findings (read by their marking, on every
 * path), and the advisory outcome. The gate (src/auth/access.c) decides every
 * read and act; each write and its audit row share one transaction.
 */
#include "common/json.h"
#include "http/api.h"
#include "http/api_review_int.h"
#include "http/write.h"
#include "policy/policy.h"
#include "records/assessment.h"
#include "records/audit.h"

#include <stdio.h>
#include <string.h>

struct aop {
    struct fx_req *req;
    struct fx_problem *pb;
    const char *id;     /* path: notice id/ref or assessment id */
    const char *agency; /* path: the task's agency */
    struct fx_notice_row notice;
    struct fx_assessment_row a;
    bool assigned;
    json_t *body;       /* owned */
    json_t *out;        /* owned */
    json_t *receipts;   /* owned */
    struct fx_assessment_input in;
    struct fx_finding_input fin;
    const char *outcome, *summary;
    bool complete;
    struct fx_finding_row frow;
    struct fx_finding_row *rows; /* owned: findings served, for the audit */
    size_t n_rows;
};

static void aop_cleanup(struct aop *op)
{
    json_decref(op->body);
    json_decref(op->out);
    json_decref(op->receipts);
    free(op->rows);
}

static void env_of(struct aop *op, struct fx_notice_env *env)
{
    if (op->receipts == NULL)
        op->receipts = json_array();
    fx_api_env(op->req, op->receipts, env);
}

/* Loads the assessment by id, its notice, and asks the gate. */
static enum fx_err load_assessment(struct fx_db *db, struct aop *op, enum fx_act act)
{
    struct fx_req *req = op->req;
    enum fx_err err = fx_assessment_load(db, op->id, &op->a);
    if (err == FX_OK) {
        req->audit_record = fx_arena_strdup(&req->arena, op->a.id);
        err = fx_notice_load(db, op->a.notice_id, &op->notice);
    }
    if (err == FX_OK)
        err = fx_api_assigned(db, req, op->notice.id, &op->assigned);
    if (err != FX_OK)
        return err;
    struct fx_subject s = {.kind = FX_REC_ASSESSMENT, .org_id = op->notice.org_id,
                           .status = op->notice.status, .agency_assigned = op->assigned,
                           .agency_org = op->agency};
    return fx_access_check(&req->who, act, &s);
}

/*
 * An open assessment takes tasks, findings and its outcome while its notice is
 * in assessment: one withdrawn or released meanwhile (SPEC §3 allows both) ends
 * the work, and its deadlines leave the list (deadline.c).
 */
static enum fx_err notice_assessing(struct aop *op, const char *what)
{
    if (fx_notice_allowed(op->notice.status, FX_NOTICE_OUTCOME))
        return FX_OK;
    fx_notice_problem_allow(op->pb, op->notice.status);
    fx_problem_detail(op->pb, "cannot %s: the notice is %s", what, op->notice.status);
    return FX_ECONFLICT;
}

static void fail(struct fx_req *req, enum fx_err err, const struct fx_problem *pb)
{
    fx_api_fail(req, err, pb, "no such assessment",
                "your role or organization may not take this step");
}

static bool body_or_fail(struct aop *op, bool empty_ok)
{
    op->body = fx_req_body_object(op->req, empty_ok);
    return op->body != NULL;
}

/* ---- POST /notices/{id}/assessment ---- */

static enum fx_err open_fn(struct fx_db *db, void *arg)
{
    struct aop *op = arg;
    struct fx_req *req = op->req;
    enum fx_err err = fx_api_notice_gate(db, req, op->id, FX_REC_NOTICE, FX_ACT_REVIEW,
                                         &op->notice, NULL);
    if (err != FX_OK)
        return err;
    if (!fx_notice_allowed(op->notice.status, FX_NOTICE_ASSESS)) {
        fx_notice_problem_allow(op->pb, op->notice.status);
        fx_problem_detail(op->pb, "cannot open an assessment of a notice that is %s",
                          op->notice.status);
        return FX_ECONFLICT;
    }
    struct fx_policy pol;
    err = fx_policy_load_active(db, &pol);
    if (err != FX_OK)
        return err == FX_ENOTFOUND ? FX_ESTORE : err;
    struct fx_notice_env env;
    env_of(op, &env);
    json_t *warnings = NULL, *v = NULL;
    err = fx_assessment_open(db, &env, &op->notice, &op->in, &pol, op->pb, &op->a, &warnings);
    fx_policy_cleanup(&pol);
    if (err == FX_OK)
        err = fx_assessment_view(db, req->ctx->keys, &op->a, env.today, &v);
    if (err == FX_OK)
        err = fx_audit_write(db, env.now, &req->who, "assessment.open", op->a.id,
                             op->notice.org_id, "ok");
    if (err != FX_OK) {
        json_decref(warnings);
        json_decref(v);
        return err;
    }
    json_object_set_new(v, "warnings", warnings);
    fx_req_json(req, 201, v);
    return FX_OK;
}

void fx_api_assessment_open(struct fx_req *req)
{
    struct fx_problem pb;
    struct aop op = {.req = req, .pb = &pb, .id = req->params[0]};
    fx_problem_init(&pb);
    if (!body_or_fail(&op, false))
        goto out;
    fx_assessment_validate(op.body, &op.in, &pb);
    if (!fx_req_valid(req, &pb))
        goto out;
    enum fx_err err = fx_write_run(req, open_fn, &op, &pb);
    if (err != FX_OK)
        fx_api_fail(req, err, &pb, "no such notice", "only coordinator reviewers open assessments");
out:
    aop_cleanup(&op);
    fx_problem_cleanup(&pb);
}

/* ---- GET /notices/{id}/assessment ---- */

static enum fx_err get_fn(struct fx_db *db, void *arg)
{
    struct aop *op = arg;
    enum fx_err err = fx_api_notice_gate(db, op->req, op->id, FX_REC_ASSESSMENT, FX_ACT_READ,
                                         &op->notice, NULL);
    if (err == FX_OK)
        err = fx_assessment_of_notice(db, op->notice.id, &op->a);
    if (err == FX_OK)
        err = fx_assessment_view(db, op->req->ctx->keys, &op->a,
                                 fx_clock_today(&op->req->ctx->clock), &op->out);
    return err;
}

void fx_api_assessment_get(struct fx_req *req)
{
    struct aop op = {.req = req, .id = req->params[0]};
    enum fx_err err = fx_store_read(req->ctx->store, get_fn, &op);
    if (err != FX_OK) {
        fx_api_fail(req, err, NULL,
                    op.notice.id[0] ? "no assessment of this notice has been opened"
                                    : "no such notice",
                    NULL);
    } else {
        fx_api_audit_read(req, op.a.id, op.notice.org_id, "assessment.read");
        fx_req_json(req, 200, op.out);
        op.out = NULL;
    }
    aop_cleanup(&op);
}

/* ---- POST /assessments/{id}/tasks/{agency}/start|complete ---- */

static enum fx_err task_fn(struct fx_db *db, void *arg)
{
    struct aop *op = arg;
    struct fx_req *req = op->req;
    enum fx_err err = load_assessment(db, op, FX_ACT_TASK);
    if (err == FX_OK)
        err = notice_assessing(op, op->complete ? "complete a task" : "start a task");
    if (err != FX_OK)
        return err;
    struct fx_notice_env env;
    env_of(op, &env);
    err = fx_assessment_task_step(db, &env, &op->a, &op->notice, op->agency, op->complete,
                                  op->pb, &op->out);
    if (err == FX_OK)
        err = fx_audit_write(db, env.now, &req->who,
                             op->complete ? "task.complete" : "task.start", op->a.id,
                             op->notice.org_id, "ok");
    if (err == FX_OK) {
        fx_req_json(req, 200, op->out);
        op->out = NULL;
    }
    return err;
}

static void task(struct fx_req *req, bool complete)
{
    static const char *const none[] = {NULL};
    struct fx_problem pb;
    struct aop op = {.req = req, .pb = &pb, .id = req->params[0], .agency = req->params[1],
                     .complete = complete};
    fx_problem_init(&pb);
    if (!body_or_fail(&op, true))
        goto out;
    fx_json_only_keys(op.body, none, "", &pb);
    if (!fx_req_valid(req, &pb))
        goto out;
    enum fx_err err = fx_write_run(req, task_fn, &op, &pb);
    if (err != FX_OK)
        fx_api_fail(req, err, &pb, "no such assessment or task",
                    "only the reviewers of the task's own agency move it");
out:
    aop_cleanup(&op);
    fx_problem_cleanup(&pb);
}

void fx_api_task_start(struct fx_req *req)
{
    task(req, false);
}

void fx_api_task_complete(struct fx_req *req)
{
    task(req, true);
}

/* ---- findings ---- */

static enum fx_err finding_create_fn(struct fx_db *db, void *arg)
{
    struct aop *op = arg;
    struct fx_req *req = op->req;
    enum fx_err err = load_assessment(db, op, FX_ACT_CREATE);
    if (err == FX_OK)
        err = notice_assessing(op, "file a finding");
    if (err != FX_OK)
        return err;
    struct fx_notice_env env;
    env_of(op, &env);
    err = fx_assessment_finding_add(db, &env, &op->a, &op->notice, &op->fin, op->pb, &op->out);
    if (err != FX_OK)
        return err;
    const char *fid = json_string_value(json_object_get(op->out, "id"));
    bool shared = strcmp(op->fin.marking, "shared_with_developer") == 0;
    err = fx_audit_write(db, env.now, &req->who, "finding.create", fid,
                         shared ? op->notice.org_id : req->who.org_id, "ok");
    if (err == FX_OK) {
        fx_req_json(req, 201, op->out);
        op->out = NULL;
    }
    return err;
}

void fx_api_finding_create(struct fx_req *req)
{
    struct fx_problem pb;
    struct aop op = {.req = req, .pb = &pb, .id = req->params[0]};
    fx_problem_init(&pb);
    if (!body_or_fail(&op, false))
        goto out;
    fx_assessment_finding_validate(op.body, &op.fin, &pb);
    if (!fx_req_valid(req, &pb))
        goto out;
    enum fx_err err = fx_write_run(req, finding_create_fn, &op, &pb);
    if (err != FX_OK)
        fx_api_fail(req, err, &pb, "no such assessment",
                    "only reviewers of an assigned agency add findings");
out:
    aop_cleanup(&op);
    fx_problem_cleanup(&pb);
}

/* SPEC §2: a finding is shown only to whom its marking allows. */
static bool keep_finding(const struct fx_finding_row *f, void *arg)
{
    struct aop *op = arg;
    struct fx_subject s = {.kind = FX_REC_FINDING, .org_id = op->notice.org_id,
                           .status = op->notice.status, .agency_assigned = op->assigned,
                           .marking = f->marking};
    return fx_access_check(&op->req->who, FX_ACT_READ, &s) == FX_OK;
}

static enum fx_err finding_list_fn(struct fx_db *db, void *arg)
{
    struct aop *op = arg;
    enum fx_err err = load_assessment(db, op, FX_ACT_READ);
    if (err == FX_OK)
        err = fx_assessment_findings(db, op->req->ctx->keys, &op->a, keep_finding, op, &op->out,
                                     &op->rows, &op->n_rows);
    return err;
}

void fx_api_finding_list(struct fx_req *req)
{
    struct aop op = {.req = req, .id = req->params[0]};
    enum fx_err err = fx_store_read(req->ctx->store, finding_list_fn, &op);
    if (err != FX_OK) {
        fail(req, err, NULL);
        goto out;
    }
    struct fx_audit_target *t = fx_arena_alloc(&req->arena, (op.n_rows + 1) * sizeof(*t));
    size_t nt = 0;
    for (size_t i = 0; i < op.n_rows; i++)
        if (fx_access_is_outside_read(&req->who, op.rows[i].seal_org))
            t[nt++] = (struct fx_audit_target){op.rows[i].id, op.rows[i].seal_org};
    fx_req_audit_reads(req, "finding.list", t, nt);
    fx_req_page(req, json_incref(op.out), NULL);
out:
    aop_cleanup(&op);
}

static enum fx_err finding_get_fn(struct fx_db *db, void *arg)
{
    struct aop *op = arg;
    enum fx_err err = load_assessment(db, op, FX_ACT_READ);
    if (err == FX_OK)
        err = fx_assessment_finding_row(db, op->a.id, op->req->params[1], &op->frow);
    if (err == FX_OK && !keep_finding(&op->frow, op))
        err = FX_ENOTFOUND;
    if (err == FX_OK)
        err = fx_assessment_finding_open(db, op->req->ctx->keys, &op->frow, &op->out);
    return err;
}

void fx_api_finding_get(struct fx_req *req)
{
    struct aop op = {.req = req, .id = req->params[0]};
    enum fx_err err = fx_store_read(req->ctx->store, finding_get_fn, &op);
    if (err != FX_OK) {
        fx_api_fail(req, err, NULL, "no such finding", NULL);
    } else {
        fx_api_audit_read(req, op.frow.id, op.frow.seal_org, "finding.read");
        fx_req_json(req, 200, op.out);
        op.out = NULL;
    }
    aop_cleanup(&op);
}

/* ---- POST /assessments/{id}/outcome ---- */

static enum fx_err outcome_fn(struct fx_db *db, void *arg)
{
    struct aop *op = arg;
    struct fx_req *req = op->req;
    enum fx_err err = load_assessment(db, op, FX_ACT_REVIEW);
    if (err != FX_OK)
        return err;
    if (strcmp(op->a.status, "open") != 0) {
        fx_problem_allow(op->pb, op->a.status, NULL, 0);
        fx_problem_detail(op->pb, "the assessment is closed already (outcome %s)",
                          op->a.outcome);
        return FX_ECONFLICT;
    }
    err = notice_assessing(op, "record the outcome");
    if (err != FX_OK)
        return err;
    struct fx_notice_env env;
    env_of(op, &env);
    err = fx_assessment_close(db, &env, &op->a, &op->notice, op->outcome, op->summary, &op->out);
    if (err == FX_OK)
        err = fx_audit_write(db, env.now, &req->who, "assessment.outcome", op->a.id,
                             op->notice.org_id, "ok");
    if (err == FX_OK) {
        fx_req_json(req, 200, op->out);
        op->out = NULL;
    }
    return err;
}

void fx_api_assessment_outcome(struct fx_req *req)
{
    static const char *const keys[] = {"outcome", "summary", NULL};
    struct fx_problem pb;
    struct aop op = {.req = req, .pb = &pb, .id = req->params[0]};
    fx_problem_init(&pb);
    if (!body_or_fail(&op, false))
        goto out;
    fx_json_only_keys(op.body, keys, "", &pb);
    fx_json_get_enum(op.body, "outcome", "", true, fx_assessment_outcomes, &pb, &op.outcome,
                     NULL);
    fx_json_get_str(op.body, "summary", "", true, FX_MAX_LONG_STRING, &pb, &op.summary, NULL);
    if (op.summary && op.summary[0] == '\0')
        fx_problem_add(&pb, "/summary", "must not be empty");
    if (!fx_req_valid(req, &pb))
        goto out;
    enum fx_err err = fx_write_run(req, outcome_fn, &op, &pb);
    if (err != FX_OK)
        fx_api_fail(req, err, &pb, "no such assessment",
                    "only coordinator reviewers record the outcome");
out:
    aop_cleanup(&op);
    fx_problem_cleanup(&pb);
}
