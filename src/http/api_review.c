/*
 * api_review.c: the review of notices (SPEC §4, §14): screening results,
 * taking a notice up, determinations and reconsideration, and the deadlines
 * list; plus the helpers every review-process handler shares
 * (api_review_int.h). Each handler validates its body first, then decides
 * everything that depends on stored records inside one transaction: the gate
 * (src/auth/access.c), the lifecycle, the write and its audit row.
 */
#include "common/json.h"
#include "common/parse.h"
#include "http/api.h"
#include "http/api_review_int.h"
#include "http/write.h"
#include "policy/policy.h"
#include "records/assessment.h"
#include "records/audit.h"
#include "records/deadline.h"
#include "records/incident.h"
#include "records/review.h"
#include "records/screening.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

/* ---- shared helpers (api_review_int.h) ---- */

void fx_api_env(struct fx_req *req, json_t *receipts, struct fx_notice_env *env)
{
    env->receipts = receipts;
    req->receipts = receipts; /* write.c puts them in the answer */
    env->signer = req->ctx->signer;
    env->keys = req->ctx->keys;
    env->who = &req->who;
    env->now = fx_clock_now(&req->ctx->clock);
    env->today = env->now / 86400000;
}

enum fx_err fx_api_assigned(struct fx_db *db, struct fx_req *req, const char *notice_id,
                            bool *out)
{
    *out = false;
    if (req->who.kind != FX_ORG_AGENCY)
        return FX_OK;
    return fx_assessment_assigned(db, notice_id, req->who.org_id, out);
}

enum fx_err fx_api_notice_gate(struct fx_db *db, struct fx_req *req, const char *id,
                               enum fx_rec_kind kind, enum fx_act act, struct fx_notice_row *row,
                               bool *assigned_out)
{
    bool assigned = false;
    enum fx_err err = fx_notice_load(db, id, row);
    if (err == FX_OK)
        err = fx_api_assigned(db, req, row->id, &assigned);
    if (err != FX_OK)
        return err;
    if (assigned_out)
        *assigned_out = assigned;
    struct fx_subject s = {.kind = kind, .org_id = row->org_id, .status = row->status,
                           .agency_assigned = assigned};
    err = fx_access_check(&req->who, act, &s);
    if (err == FX_ENOTFOUND) {
        /* hidden (SPEC §2): nothing of the row may shape the answer, not even
         * which 404 detail a caller gets, so it reads as a missing one */
        memset(row, 0, sizeof(*row));
        if (assigned_out)
            *assigned_out = false;
    } else {
        req->audit_record = fx_arena_strdup(&req->arena, row->id);
    }
    return err;
}

void fx_api_audit_read(struct fx_req *req, const char *record, const char *record_org,
                       const char *action)
{
    if (fx_access_is_outside_read(&req->who, record_org))
        fx_req_audit_row(req, action, record, record_org, "ok");
}

void fx_api_fail(struct fx_req *req, enum fx_err err, const struct fx_problem *pb,
                 const char *not_found, const char *forbidden)
{
    if (err == FX_ENOTFOUND)
        fx_req_error(req, err, NULL, not_found);
    else if (err == FX_EFORBIDDEN)
        fx_req_error(req, err, NULL, forbidden);
    else
        fx_req_error(req, err, pb, NULL);
}

/* ---- this file's handlers ---- */

struct rop {
    struct fx_req *req;
    struct fx_problem *pb;
    const char *id;
    struct fx_notice_row row;
    json_t *body;     /* owned */
    json_t *out;      /* owned */
    json_t *receipts; /* owned */
    const char *text; /* rationale / statement, borrowed from body */
    const char *determination;
    const char *policy_sha256;
    char *bytes;      /* owned */
    size_t len;
    int64_t version;  /* a screening's; 0 for the newest */
};

static void rop_cleanup(struct rop *op)
{
    json_decref(op->body);
    json_decref(op->out);
    json_decref(op->receipts);
    free(op->bytes);
}

static void env_of(struct rop *op, struct fx_notice_env *env)
{
    if (op->receipts == NULL)
        op->receipts = json_array();
    fx_api_env(op->req, op->receipts, env);
}

/* A lifecycle conflict: 409 with the status and the steps it allows (SPEC §3). */
static enum fx_err conflict(struct rop *op, enum fx_notice_action a)
{
    if (op->pb->status_now == NULL)
        fx_notice_problem_allow(op->pb, op->row.status);
    if (op->pb->detail == NULL)
        fx_problem_detail(op->pb, "cannot %s a notice that is %s", fx_notice_action_name(a),
                          op->row.status);
    return FX_ECONFLICT;
}

static void run_write(struct fx_req *req, fx_db_fn fn, struct rop *op)
{
    enum fx_err err = fx_write_run(req, fn, op, op->pb);
    if (err != FX_OK)
        fx_api_fail(req, err, op->pb, "no such notice",
                    "your role or organization may not take this step");
}

/* POST /notices/{id}/review: a coordinator reviewer takes the notice up. */
static enum fx_err review_fn(struct fx_db *db, void *arg)
{
    struct rop *op = arg;
    struct fx_req *req = op->req;
    enum fx_err err = fx_api_notice_gate(db, req, op->id, FX_REC_NOTICE, FX_ACT_REVIEW, &op->row,
                                         NULL);
    if (err != FX_OK)
        return err;
    if (!fx_notice_allowed(op->row.status, FX_NOTICE_REVIEW))
        return conflict(op, FX_NOTICE_REVIEW);
    struct fx_notice_env env;
    env_of(op, &env);
    err = fx_review_take_up(db, &env, &op->row);
    json_t *v = NULL;
    if (err == FX_OK)
        err = fx_notice_view(db, req->ctx->keys, &op->row, &v);
    if (err == FX_OK)
        err = fx_audit_write(db, env.now, &req->who, "notice.review", op->row.id,
                             op->row.org_id, "ok");
    if (err != FX_OK) {
        json_decref(v);
        return err;
    }
    fx_req_set_header(req, "ETag", op->row.etag);
    fx_req_json(req, 200, v);
    return FX_OK;
}

void fx_api_notice_review(struct fx_req *req)
{
    static const char *const none[] = {NULL};
    struct fx_problem pb;
    struct rop op = {.req = req, .pb = &pb, .id = req->params[0]};
    fx_problem_init(&pb);
    op.body = fx_req_body_object(req, true);
    if (op.body == NULL)
        goto out;
    fx_json_only_keys(op.body, none, "", &pb);
    if (!fx_req_valid(req, &pb))
        goto out;
    run_write(req, review_fn, &op);
out:
    rop_cleanup(&op);
    fx_problem_cleanup(&pb);
}

/* POST /notices/{id}/determination */
static enum fx_err determine_fn(struct fx_db *db, void *arg)
{
    struct rop *op = arg;
    struct fx_req *req = op->req;
    enum fx_err err = fx_api_notice_gate(db, req, op->id, FX_REC_NOTICE, FX_ACT_REVIEW, &op->row,
                                         NULL);
    if (err != FX_OK)
        return err;
    if (!fx_notice_allowed(op->row.status, FX_NOTICE_DETERMINE))
        return conflict(op, FX_NOTICE_DETERMINE);
    struct fx_policy pol;
    err = fx_policy_load_active(db, &pol);
    if (err != FX_OK)
        return err == FX_ENOTFOUND ? FX_ESTORE : err;
    /* SPEC §4: the policy relied on. When the reviewer names it, it must be the one in
     * force; a hex digest reads the same in either case (the record keeps the policy's) */
    if (op->policy_sha256 && strcasecmp(op->policy_sha256, pol.sha256) != 0) {
        fx_problem_add(op->pb, "/policy_sha256", "is not the active policy (%s)", pol.sha256);
        fx_policy_cleanup(&pol);
        return FX_EINVAL;
    }
    struct fx_notice_env env;
    env_of(op, &env);
    json_t *doc = NULL;
    err = fx_review_determine(db, &env, &op->row, op->determination, op->text, &pol, &doc);
    fx_policy_cleanup(&pol);
    if (err == FX_OK)
        err = fx_audit_write(db, env.now, &req->who, "notice.determine", op->row.id,
                             op->row.org_id, "ok");
    if (err != FX_OK) {
        json_decref(doc);
        return err;
    }
    json_object_set_new(doc, "notice_status", json_string(op->row.status));
    fx_req_json(req, 201, doc);
    return FX_OK;
}

void fx_api_notice_determine(struct fx_req *req)
{
    static const char *const keys[] = {"determination", "rationale", "policy_sha256", NULL};
    static const char *const values[] = {"covered", "not_covered", NULL};
    struct fx_problem pb;
    struct rop op = {.req = req, .pb = &pb, .id = req->params[0]};
    fx_problem_init(&pb);
    op.body = fx_req_body_object(req, false);
    if (op.body == NULL)
        goto out;
    fx_json_only_keys(op.body, keys, "", &pb);
    fx_json_get_enum(op.body, "determination", "", true, values, &pb, &op.determination, NULL);
    fx_json_get_str(op.body, "rationale", "", true, FX_MAX_LONG_STRING, &pb, &op.text, NULL);
    fx_json_get_str(op.body, "policy_sha256", "", false, 64, &pb, &op.policy_sha256, NULL);
    if (op.text && op.text[0] == '\0')
        fx_problem_add(&pb, "/rationale", "must not be empty");
    if (!fx_req_valid(req, &pb))
        goto out;
    run_write(req, determine_fn, &op);
out:
    rop_cleanup(&op);
    fx_problem_cleanup(&pb);
}

/* POST /notices/{id}/reconsideration */
static enum fx_err reconsider_fn(struct fx_db *db, void *arg)
{
    struct rop *op = arg;
    struct fx_req *req = op->req;
    enum fx_err err = fx_api_notice_gate(db, req, op->id, FX_REC_NOTICE, FX_ACT_RECONSIDER,
                                         &op->row, NULL);
    if (err != FX_OK)
        return err;
    if (!fx_notice_allowed(op->row.status, FX_NOTICE_RECONSIDER))
        return conflict(op, FX_NOTICE_RECONSIDER);
    struct fx_notice_env env;
    env_of(op, &env);
    json_t *doc = NULL;
    err = fx_review_reconsider(db, &env, &op->row, op->text, op->pb, &doc);
    if (err == FX_ECONFLICT)
        return conflict(op, FX_NOTICE_RECONSIDER);
    if (err == FX_OK)
        err = fx_audit_write(db, env.now, &req->who, "notice.reconsider", op->row.id,
                             op->row.org_id, "ok");
    if (err != FX_OK) {
        json_decref(doc);
        return err;
    }
    json_object_set_new(doc, "notice_status", json_string(op->row.status));
    fx_req_json(req, 201, doc);
    return FX_OK;
}

void fx_api_notice_reconsider(struct fx_req *req)
{
    static const char *const keys[] = {"statement", NULL};
    struct fx_problem pb;
    struct rop op = {.req = req, .pb = &pb, .id = req->params[0]};
    fx_problem_init(&pb);
    op.body = fx_req_body_object(req, false);
    if (op.body == NULL)
        goto out;
    fx_json_only_keys(op.body, keys, "", &pb);
    fx_json_get_str(op.body, "statement", "", true, FX_MAX_LONG_STRING, &pb, &op.text, NULL);
    if (op.text && op.text[0] == '\0')
        fx_problem_add(&pb, "/statement", "must not be empty");
    if (!fx_req_valid(req, &pb))
        goto out;
    run_write(req, reconsider_fn, &op);
out:
    rop_cleanup(&op);
    fx_problem_cleanup(&pb);
}

/* GET /notices/{id}/screening and /screenings/{n}: the exact bytes of a screening. */
static enum fx_err screening_fn(struct fx_db *db, void *arg)
{
    struct rop *op = arg;
    enum fx_err err = fx_api_notice_gate(db, op->req, op->id, FX_REC_SCREENING, FX_ACT_READ,
                                         &op->row, NULL);
    if (err == FX_OK)
        err = fx_screening_bytes(db, op->req->ctx->keys, &op->row, op->version, &op->bytes,
                                 &op->len);
    return err;
}

static void screening(struct fx_req *req, int64_t version)
{
    struct rop op = {.req = req, .id = req->params[0], .version = version};
    enum fx_err err = fx_store_read(req->ctx->store, screening_fn, &op);
    if (err != FX_OK)
        fx_api_fail(req, err, NULL,
                    !op.row.id[0]   ? "no such notice"
                    : version == 0 ? "the notice has not been screened yet"
                                   : "no such screening version",
                    NULL);
    else {
        fx_api_audit_read(req, op.row.id, op.row.org_id, "screening.read");
        fx_req_bytes(req, 200, "application/json", op.bytes, op.len);
    }
    rop_cleanup(&op);
}

void fx_api_notice_screening(struct fx_req *req)
{
    screening(req, 0);
}

void fx_api_notice_screening_version(struct fx_req *req)
{
    int64_t n = 0;
    const char *v = req->params[1];
    if (fx_parse_i64(v, strlen(v), 1, INT64_MAX, &n) != FX_OK) {
        fx_req_problem(req, 404, "no such screening version");
        return;
    }
    screening(req, n);
}

/* GET /notices/{id}/determinations */
static enum fx_err determinations_fn(struct fx_db *db, void *arg)
{
    struct rop *op = arg;
    enum fx_err err = fx_api_notice_gate(db, op->req, op->id, FX_REC_SCREENING, FX_ACT_READ,
                                         &op->row, NULL);
    if (err == FX_OK)
        err = fx_review_list(db, op->req->ctx->keys, &op->row, &op->out);
    return err;
}

void fx_api_notice_determinations(struct fx_req *req)
{
    struct rop op = {.req = req, .id = req->params[0]};
    enum fx_err err = fx_store_read(req->ctx->store, determinations_fn, &op);
    if (err != FX_OK) {
        fx_api_fail(req, err, NULL, "no such notice", NULL);
    } else {
        fx_api_audit_read(req, op.row.id, op.row.org_id, "determination.read");
        fx_req_page(req, json_incref(op.out), NULL);
    }
    rop_cleanup(&op);
}

/* ---- GET /deadlines ---- */

struct dl {
    struct fx_req *req;
    int64_t today, within;
    const char *kind; /* filter, or NULL */
    struct fx_deadline *items; /* owned */
    size_t n;
    struct fx_incident_shares shares; /* owned: the caller in incidents' sharing lists */
};

static bool keep_deadline(const struct fx_deadline *d, void *arg)
{
    struct dl *l = arg;
    if (l->kind && strcmp(l->kind, d->kind) != 0)
        return false;
    struct fx_subject s = {.org_id = d->org_id, .status = d->status,
                           .agency_assigned = d->assigned};
    if (strcmp(d->record_kind, "incident") == 0) {
        /* SPEC §7: by TLP and sharing lists, as on every incident path */
        fx_incident_shares_subject(&l->shares, d->record_id, d->org_id, d->tlp, &s);
    } else if (strcmp(d->record_kind, "grant") == 0) {
        s.kind = FX_REC_GRANT;
        s.partner_org = d->partner_org;
        s.approved = d->approved;
    } else {
        s.kind = strcmp(d->record_kind, "notice") == 0 ? FX_REC_NOTICE : FX_REC_ASSESSMENT;
    }
    return fx_access_check(&l->req->who, FX_ACT_READ, &s) == FX_OK;
}

static enum fx_err deadlines_fn(struct fx_db *db, void *arg)
{
    struct dl *l = arg;
    enum fx_err err = fx_incident_shares_load(db, &l->req->who, &l->shares);
    if (err == FX_OK)
        err = fx_deadline_list(db, l->today, l->within, l->req->who.org_id, keep_deadline, l,
                               &l->items, &l->n);
    return err;
}

static json_t *deadline_view(struct fx_req *req, const struct fx_deadline *d, int64_t today)
{
    char due[11];
    fx_format_date(d->due, due);
    bool incident = strcmp(d->record_kind, "incident") == 0;
    json_t *v = json_pack("{s:s,s:{s:s,s:s},s:s,s:I,s:b}", "kind", d->kind, "record", "kind",
                          d->record_kind, "id", d->record_id, "due", due, "days_left",
                          (json_int_t)(d->due - today), "overdue",
                          incident ? d->late : d->due < today);
    if (incident) {
        /* the reporting deadline to the minute, and whether the report met it */
        char at[25], rep[25];
        fx_format_time(d->due_at, at);
        fx_format_time(d->reported_at, rep);
        json_object_set_new(v, "due_at", json_string(at));
        json_object_set_new(v, "notice_id", json_null());
        json_object_set_new(v, "ref", json_string(d->ref));
        json_object_set_new(v, "reported_at", json_string(rep));
        json_object_set_new(v, "status", json_string(d->status));
        json_object_set_new(v, "tlp", json_string(d->tlp));
        return v;
    }
    /* the notice is named only to those who may read it (a partner may not) */
    struct fx_subject s = {.kind = FX_REC_NOTICE, .org_id = d->org_id, .status = d->status,
                           .agency_assigned = d->assigned};
    bool notice = fx_access_check(&req->who, FX_ACT_READ, &s) == FX_OK;
    json_object_set_new(v, "notice_id", notice ? json_string(d->notice_id) : json_null());
    json_object_set_new(v, "ref", notice ? json_string(d->ref) : json_null());
    if (d->agency_org[0])
        json_object_set_new(v, "agency_org", json_string(d->agency_org));
    if (d->partner_org[0])
        json_object_set_new(v, "partner_org", json_string(d->partner_org));
    return v;
}

/*
 * SPEC §10: a page naming AMBER, AMBER+STRICT or RED incidents of another org
 * is audited before it is answered, as the incident list is.
 */
static void audit_incidents(struct fx_req *req, const struct dl *l, size_t from, size_t to)
{
    struct fx_audit_target *t = fx_arena_alloc(&req->arena, (l->n + 1) * sizeof(*t));
    size_t nt = 0;
    for (size_t i = from; i < l->n && i < to; i++) {
        const struct fx_deadline *d = &l->items[i];
        if (strcmp(d->record_kind, "incident") == 0 && strcmp(d->tlp, "CLEAR") != 0 &&
            strcmp(d->tlp, "GREEN") != 0 && fx_access_is_outside_read(&req->who, d->org_id))
            t[nt++] = (struct fx_audit_target){d->record_id, d->org_id};
    }
    fx_req_audit_reads(req, "incident.deadlines", t, nt);
}

void fx_api_deadlines(struct fx_req *req)
{
    static const char *const kinds[] = {"notice_release", "assessment_opens",
                                        "assessment_closes", "task_due",
                                        "grant_starts",   "grant_ends",
                                        "incident_report", NULL};
    struct fx_problem pb;
    struct dl l = {.req = req, .within = 30};
    int64_t limit = FX_DEFAULT_PAGE, offset = 0;
    fx_problem_init(&pb);
    const char *w = fx_req_query(req, "within");
    if (w && fx_parse_i64(w, strlen(w), 0, 3660, &l.within) != FX_OK)
        fx_problem_add(&pb, "query:within", "must be a number of days from 0 to 3660");
    l.kind = fx_req_query_enum(req, "kind", kinds, &pb);
    fx_req_query_limit(req, &pb, &limit);
    const char *c = fx_req_query(req, "cursor");
    if (c && fx_parse_i64(c, strlen(c), 1, INT64_MAX, &offset) != FX_OK)
        fx_problem_add(&pb, "query:cursor", "not a cursor from a previous page");
    if (!fx_req_valid(req, &pb))
        goto out;
    l.today = fx_clock_today(&req->ctx->clock);
    enum fx_err err = fx_store_read(req->ctx->store, deadlines_fn, &l);
    if (err != FX_OK) {
        fx_req_error(req, err, NULL, NULL);
        goto out;
    }
    size_t end = (size_t)offset + (size_t)limit;
    audit_incidents(req, &l, (size_t)offset, end);
    json_t *items = json_array();
    for (size_t i = (size_t)offset; i < l.n && i < end; i++)
        json_array_append_new(items, deadline_view(req, &l.items[i], l.today));
    char today[11];
    fx_format_date(l.today, today);
    fx_req_json(req, 200,
                json_pack("{s:o,s:o,s:s,s:I}", "items", items, "next_cursor",
                          end < l.n ? json_sprintf("%zu", end) : json_null(), "today", today,
                          "within", (json_int_t)l.within));
out:
    free(l.items);
    fx_incident_shares_cleanup(&l.shares);
    fx_problem_cleanup(&pb);
}
