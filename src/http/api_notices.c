/*
 * api_notices.c: the notice registry's endpoints (SPEC §3, §14). Each handler
 * validates what it can before touching the store; everything that depends
 * on the stored record (the gate, the lifecycle, If-Match, merged fields) is
 * decided inside one transaction, so a refused request stores nothing.
 */
#include "auth/access.h"
#include "common/json.h"
#include "common/parse.h"
#include "http/access_log.h"
#include "http/api.h"
#include "http/viewcache.h"
#include "http/write.h"
#include "records/assessment.h"
#include "records/audit.h"
#include "records/notice.h"
#include "records/review.h"
#include "records/screening.h"

#include <stdio.h>
#include <string.h>

struct nop {
    struct fx_req *req;
    struct fx_problem *pb;
    const char *id;                /* path parameter: UUID or FXN reference */
    struct fx_notice_row row;
    json_t *body;                  /* owned: the parsed request */
    json_t *out;                   /* owned: the answer */
    unsigned status;               /* of a write's answer */
    const char *text;              /* reason / change_reason, borrowed from body */
    int64_t days;                  /* actual release date */
    int64_t n;                     /* version number */
    char *bytes;                   /* owned: version bytes */
    json_t *receipts;              /* owned: ledger receipts of this write, in order */
    size_t len;
    enum fx_notice_action action;
    bool assigned;                 /* the caller's agency is assigned to the notice */
};

static void nop_cleanup(struct nop *op)
{
    json_decref(op->receipts);
    json_decref(op->body);
    json_decref(op->out);
    free(op->bytes);
}

static void env_of(struct nop *op, struct fx_notice_env *env)
{
    struct fx_req *req = op->req;
    if (op->receipts == NULL)
        op->receipts = json_array();
    env->receipts = op->receipts;
    env->signer = req->ctx->signer;
    env->keys = req->ctx->keys;
    env->who = &req->who;
    env->now = fx_clock_now(&req->ctx->clock);
    env->today = env->now / 86400000;
}

/* SPEC §2: an agency reads the notices whose assessment it is assigned to. */
static enum fx_err assigned_of(struct fx_db *db, const struct fx_req *req,
                               const struct fx_notice_row *row, bool *out)
{
    *out = false;
    if (req->who.kind != FX_ORG_AGENCY)
        return FX_OK;
    return fx_assessment_assigned(db, row->id, req->who.org_id, out);
}

/* Loads the notice and asks the gate. Every notice route passes here. */
static enum fx_err load_gate(struct fx_db *db, struct nop *op, enum fx_act act)
{
    enum fx_err err = fx_notice_load(db, op->id, &op->row);
    if (err == FX_OK)
        err = assigned_of(db, op->req, &op->row, &op->assigned);
    if (err != FX_OK)
        return err;
    op->req->audit_record = fx_arena_strdup(&op->req->arena, op->row.id);
    struct fx_subject s = {.kind = FX_REC_NOTICE, .org_id = op->row.org_id,
                           .status = op->row.status, .agency_assigned = op->assigned};
    return fx_access_check(&op->req->who, act, &s);
}

/*
 * SPEC §10: a read from outside the developer org is written to the audit trail
 * before it is answered; when the row cannot be kept, the read is refused (503,
 * by the server: fx_req_audit_row).
 */
static void audit_read(struct fx_req *req, const struct fx_notice_row *row, const char *action)
{
    if (fx_access_is_outside_read(&req->who, row->org_id))
        fx_req_audit_row(req, action, row->id, row->org_id, "ok");
}

/* The audit row of a successful write, in its transaction. */
static enum fx_err audit_ok(struct fx_db *db, struct nop *op, const char *audit_action)
{
    struct fx_req *req = op->req;
    return fx_audit_write(db, fx_clock_now(&req->ctx->clock), &req->who, audit_action, op->row.id,
                          op->row.org_id, "ok");
}

/*
 * Leaves the notice view for the answer (answer_write renders it after the
 * commit) and audits the write, in the transaction.
 */
static enum fx_err answer_view(struct fx_db *db, struct nop *op, unsigned status,
                               const char *audit_action)
{
    json_t *v = NULL;
    enum fx_err err = fx_notice_view(db, op->req->ctx->keys, &op->row, &v);
    if (err == FX_OK && audit_action)
        err = audit_ok(db, op, audit_action);
    if (err != FX_OK) {
        json_decref(v);
        return err;
    }
    json_decref(op->out);
    op->out = v;
    op->status = status;
    return FX_OK;
}

/* A notice write's answer headers: the ETag, and for a new notice its Location. */
static void write_headers(struct fx_req *req, const struct nop *op)
{
    fx_req_set_header(req, "ETag", op->row.etag);
    if (op->status == 201) {
        char loc[96];
        snprintf(loc, sizeof(loc), "/api/v1/notices/%s", op->row.id);
        fx_req_set_header(req, "Location", loc);
    }
}

/* Answers the view a write left in op->out, with its receipts and ETag (fx_answer_fn). */
static void answer_write(struct fx_req *req, void *arg)
{
    struct nop *op = arg;
    json_t *v = op->out;
    op->out = NULL;
    /* SPEC §9: a write that appended leaves answers with their receipts */
    size_t nr = op->receipts ? json_array_size(op->receipts) : 0;
    if (nr > 0) {
        json_object_set(v, "receipt", json_array_get(op->receipts, nr - 1));
        if (nr > 1)
            json_object_set(v, "receipts", op->receipts);
    }
    write_headers(req, op);
    fx_req_json(req, op->status, v);
}

static enum fx_err load_policy(struct fx_db *db, struct fx_policy *pol)
{
    enum fx_err err = fx_policy_load_active(db, pol);
    return err == FX_ENOTFOUND ? FX_ESTORE : err;
}

/* A lifecycle conflict: 409 naming the current status and the allowed actions. */
static enum fx_err conflict(struct nop *op)
{
    fx_notice_problem_allow(op->pb, op->row.status);
    fx_problem_detail(op->pb, "cannot %s a notice that is %s",
                      fx_notice_action_name(op->action), op->row.status);
    return FX_ECONFLICT;
}

static struct fx_keyring *req_keys(const struct nop *op)
{
    return op->req->ctx->keys;
}

/*
 * A notice write and what it holds. It may outlive its handler
 * (fx_write_start), so it lives in the request's arena.
 */
struct nwrite {
    struct nop op; /* first: the write's callbacks take an nwrite as its struct nop */
    struct fx_problem pb;
    json_t *keep; /* owned: the value op.text points into, once removed from op.body */
};

static struct nwrite *nwrite_new(struct fx_req *req, size_t size)
{
    struct nwrite *w = fx_arena_alloc(&req->arena, size);
    memset(w, 0, size);
    w->op.req = req;
    w->op.pb = &w->pb;
    w->op.id = req->params[0];
    fx_problem_init(&w->pb);
    return w;
}

static void nwrite_free(struct nwrite *w)
{
    json_decref(w->keep);
    nop_cleanup(&w->op);
    fx_problem_cleanup(&w->pb);
}

/* Answers a notice write's error, if any. */
static void write_error(struct fx_req *req, struct nwrite *w, enum fx_err err)
{
    if (err == FX_ENOTFOUND)
        fx_req_error(req, err, NULL, "no such notice");
    else if (err == FX_EFORBIDDEN)
        fx_req_error(req, err, NULL, "your role or organization may not change this notice");
    else if (err != FX_OK)
        fx_req_error(req, err, &w->pb, NULL);
}

/* The end of an amendment or a lifecycle step (fx_write_done_fn). */
static void nwrite_done(struct fx_req *req, void *arg, enum fx_err err)
{
    struct nwrite *w = arg;
    write_error(req, w, err);
    nwrite_free(w);
}

/* Starts w's write, the handler's last step: ops->done answers its error and frees w. */
static void run_write(struct fx_req *req, const struct fx_write_ops *ops, struct nwrite *w)
{
    fx_write_start(req, ops, w, &w->pb);
}

/* ---- create ---- */

struct create {
    struct nwrite w; /* first: a create is an nwrite */
    json_t *clean;
    struct fx_notice_doc doc;      /* owned: clean rendered before the write */
    int64_t release;
    bool has_release;
    bool submit;
    char policy[FX_MAX_SHORT_STRING + 1]; /* the name of the policy the notice was judged under */
};

static enum fx_err create_fn(struct fx_db *db, void *arg)
{
    struct create *c = arg;
    struct fx_notice_env env;
    struct fx_policy pol;
    env_of(&c->w.op, &env);
    enum fx_err err = load_policy(db, &pol);
    if (err != FX_OK)
        return err;
    err = fx_notice_create_doc(db, &env, &c->doc, c->has_release ? &c->release : NULL, c->submit,
                               &pol, &c->w.op.row);
    /* SPEC §4: screened on submission, in the same transaction */
    if (err == FX_OK && c->submit)
        err = fx_screening_record(db, &env, &c->w.op.row, c->clean, &pol, "submission");
    snprintf(c->policy, sizeof(c->policy), "%s", pol.name);
    fx_policy_cleanup(&pol);
    if (err == FX_OK)
        err = audit_ok(db, &c->w.op, "notice.create");
    return err;
}

/* Appends v as fx_req_json renders it, without its braces when members_only. */
static void add_json(struct fx_buf *b, const json_t *v, bool members_only)
{
    size_t n = 0;
    char *s = fx_json_compact(v, &n);
    if (members_only)
        fx_buf_add(b, s + 1, n - 2);
    else
        fx_buf_add(b, s, n);
    free(s);
}

/*
 * The new notice's answer (fx_answer_fn): byte for byte what answer_write
 * gives for its view, rendered from parts at hand instead of read back. The
 * fields are the members the version document rendered before the write (in
 * the view's order and encoding), and the last receipt, which the answer holds
 * twice ("receipt" and the end of "receipts"), is rendered once: rendering is
 * most of what a create costs outside the writer.
 */
static void answer_create(struct fx_req *req, void *arg)
{
    struct create *c = arg;
    struct nop *op = &c->w.op;
    json_t *meta = fx_notice_view_meta(&op->row, c->policy);
    size_t nr = op->receipts ? json_array_size(op->receipts) : 0;
    struct fx_buf b, last;
    fx_buf_init(&b, SIZE_MAX);
    fx_buf_init(&last, SIZE_MAX);
    fx_buf_add(&b, "{", 1);
    if (fx_notice_doc_fields(&c->doc, &b))
        fx_buf_add(&b, ",", 1);
    add_json(&b, meta, true);
    json_decref(meta);
    if (nr > 0) {
        add_json(&last, json_array_get(op->receipts, nr - 1), false);
        fx_buf_adds(&b, ",\"receipt\":");
        fx_buf_add(&b, last.p, last.len);
    }
    if (nr > 1) {
        fx_buf_adds(&b, ",\"receipts\":[");
        for (size_t i = 0; i + 1 < nr; i++) {
            add_json(&b, json_array_get(op->receipts, i), false);
            fx_buf_add(&b, ",", 1);
        }
        fx_buf_add(&b, last.p, last.len);
        fx_buf_add(&b, "]", 1);
    }
    fx_buf_add(&b, "}", 1);
    op->status = 201;
    write_headers(req, op);
    fx_req_bytes(req, 201, "application/json", b.p, b.len);
    fx_buf_cleanup(&last);
    fx_buf_cleanup(&b);
}

/*
 * Before create_fn runs again (fx_reset_fn): what it left in c. Everything
 * else it reads was made before the write (the body, the document's parts).
 */
static void create_reset(void *arg)
{
    struct create *c = arg;
    json_decref(c->w.op.receipts);
    c->w.op.receipts = NULL;
    memset(&c->w.op.row, 0, sizeof(c->w.op.row));
    c->policy[0] = '\0';
}

/* The end of a create (fx_write_done_fn): also called when it never reached the store. */
static void create_done(struct fx_req *req, void *arg, enum fx_err err)
{
    struct create *c = arg;
    write_error(req, &c->w, err);
    fx_notice_doc_cleanup(&c->doc);
    json_decref(c->clean);
    nwrite_free(&c->w);
}

void fx_api_notice_create(struct fx_req *req)
{
    struct create *c = (struct create *)nwrite_new(req, sizeof(struct create));
    struct fx_problem *pb = &c->w.pb;
    struct nop *op = &c->w.op;
    struct fx_subject s = {.kind = FX_REC_NOTICE};
    enum fx_err err = fx_access_check(&req->who, FX_ACT_CREATE, &s);
    if (err != FX_OK) {
        fx_req_error(req, err, NULL, "only members of a developer organization file notices");
        goto refused;
    }
    op->body = fx_req_body_object(req, false);
    if (op->body == NULL)
        goto refused;
    fx_json_get_bool(op->body, "submit", "", false, pb, &c->submit, NULL);
    json_object_del(op->body, "submit");
    if (fx_notice_validate(op->body, c->submit, pb, &c->clean, &c->release, &c->has_release) !=
            FX_OK ||
        fx_problem_any(pb)) {
        fx_req_error(req, FX_EINVAL, pb, NULL);
        goto refused;
    }
    /* the version's canonical bytes, but for what the transaction assigns, off the writer */
    fx_notice_doc_init(&c->doc, c->clean);
    static const struct fx_write_ops ops = {create_fn, answer_create, create_done, create_reset};
    run_write(req, &ops, &c->w);
    return;
refused:
    create_done(req, c, FX_OK);
}

/* ---- read one ---- */

/* Everything of the row that the view shows: a change of any of them changes the key. */
static void view_key(const struct fx_notice_row *r, char *out, size_t n)
{
    snprintf(out, n, "notice:%s:%lld:%s:%s:%lld:%lld:%d:%s:%lld:%lld:%s", r->id,
             (long long)r->version, r->etag, r->status, (long long)r->updated_at,
             (long long)(r->has_notice_days ? r->notice_days : -1), r->short_notice,
             r->determination, (long long)(r->has_actual_release ? r->actual_release_date : -1),
             (long long)r->submitted_at, r->policy_sha256);
}

static enum fx_err get_fn(struct fx_db *db, void *arg)
{
    struct nop *op = arg;
    struct fx_viewcache *vc = op->req->ctx->views;
    enum fx_err err = load_gate(db, op, FX_ACT_READ);
    if (err != FX_OK)
        return err;
    char key[512];
    view_key(&op->row, key, sizeof(key));
    if (vc) {
        op->bytes = fx_viewcache_get(vc, key, &op->len);
        if (op->bytes)
            return FX_OK;
    }
    err = fx_notice_view(db, op->req->ctx->keys, &op->row, &op->out);
    if (err == FX_OK) {
        op->bytes = fx_json_compact(op->out, &op->len);
        if (vc)
            fx_viewcache_put(vc, key, op->bytes, op->len);
    }
    return err;
}

/* Runs a read callback and answers its error; true when the caller should answer. */
static bool run_read(struct fx_req *req, fx_db_fn fn, struct nop *op)
{
    enum fx_err err = fx_store_read(req->ctx->store, fn, op);
    if (err == FX_OK)
        return true;
    if (err == FX_ENOTFOUND)
        fx_req_error(req, err, NULL, "no such notice");
    else
        fx_req_error(req, err, op->pb, NULL);
    return false;
}

void fx_api_notice_get(struct fx_req *req)
{
    struct nop op = {.req = req, .id = req->params[0]};
    if (run_read(req, get_fn, &op)) {
        audit_read(req, &op.row, "notice.read");
        fx_req_set_header(req, "ETag", op.row.etag);
        fx_req_bytes(req, 200, "application/json", op.bytes, op.len);
    }
    nop_cleanup(&op);
}

/* ---- amend ---- */

static enum fx_err amend_fn(struct fx_db *db, void *arg)
{
    struct nop *op = arg;
    struct fx_req *req = op->req;
    op->action = FX_NOTICE_AMEND;
    enum fx_err err = load_gate(db, op, FX_ACT_EDIT);
    if (err != FX_OK)
        return err;
    if (!fx_notice_allowed(op->row.status, FX_NOTICE_AMEND))
        return conflict(op);
    const char *if_match = fx_req_header(req, "If-Match");
    if (strcmp(if_match, op->row.etag) != 0) {
        fx_problem_detail(op->pb, "If-Match %s is not the current version %s", if_match,
                          op->row.etag);
        return FX_ESTALE;
    }
    /* named with every other invalid field: the fields are checked all the same */
    bool no_reason = op->text == NULL && strcmp(op->row.status, "draft") != 0;
    if (no_reason)
        fx_problem_add(op->pb, "/change_reason", "required once the notice is submitted");
    json_t *merged = NULL, *clean = NULL;
    err = fx_notice_fields(db, req->ctx->keys, &op->row, &merged);
    if (err != FX_OK)
        return err;
    /* JSON merge patch (RFC 7396) on the top-level fields: null removes a field */
    const char *key;
    json_t *v;
    json_object_foreach(op->body, key, v)
    {
        if (json_is_null(v))
            json_object_del(merged, key);
        else
            json_object_set(merged, key, v);
    }
    int64_t release = 0;
    bool has_release = false;
    bool draft = strcmp(op->row.status, "draft") == 0;
    err = fx_notice_validate(merged, !draft, op->pb, &clean, &release, &has_release);
    json_decref(merged);
    if (err == FX_OK && no_reason) {
        json_decref(clean);
        err = FX_EINVAL;
    }
    if (err != FX_OK)
        return err;
    struct fx_notice_env env;
    struct fx_policy pol;
    env_of(op, &env);
    err = load_policy(db, &pol);
    if (err == FX_OK) {
        err = fx_notice_amend(db, &env, &op->row, clean, has_release ? &release : NULL,
                              op->text, &pol);
        /* SPEC §4: screened again on every amendment once submitted */
        if (err == FX_OK && !draft)
            err = fx_screening_record(db, &env, &op->row, clean, &pol, "amendment");
        fx_policy_cleanup(&pol);
    }
    json_decref(clean);
    if (err == FX_OK)
        err = answer_view(db, op, 200, "notice.amend");
    return err;
}

void fx_api_notice_amend(struct fx_req *req)
{
    struct nwrite *w = nwrite_new(req, sizeof(*w));
    struct nop *op = &w->op;
    const char *if_match = fx_req_header(req, "If-Match");
    if (if_match == NULL) {
        fx_req_problem(req, 428, "send If-Match with the notice's current ETag");
        goto refused;
    }
    if (strlen(if_match) > FX_MAX_ETAG) {
        fx_req_problem(req, 412, "If-Match is not an ETag of this notice");
        goto refused;
    }
    op->body = fx_req_body_object(req, false);
    if (op->body == NULL)
        goto refused;
    fx_json_get_str(op->body, "change_reason", "", false, FX_MAX_LONG_STRING, &w->pb, &op->text,
                    NULL);
    if (op->text && op->text[0] == '\0')
        fx_problem_add(&w->pb, "/change_reason", "must not be empty");
    if (!fx_req_valid(req, &w->pb))
        goto refused;
    /* keep change_reason alive while it is removed from the fields to merge */
    w->keep = json_incref(json_object_get(op->body, "change_reason"));
    json_object_del(op->body, "change_reason");
    static const struct fx_write_ops ops = {amend_fn, answer_write, nwrite_done, NULL};
    run_write(req, &ops, w);
    return;
refused:
    nwrite_done(req, w, FX_OK);
}

/* ---- lifecycle steps ---- */

static enum fx_err step_fn(struct fx_db *db, void *arg)
{
    struct nop *op = arg;
    enum fx_err err = load_gate(db, op, FX_ACT_EDIT);
    if (err != FX_OK)
        return err;
    if (!fx_notice_allowed(op->row.status, op->action))
        return conflict(op);
    struct fx_notice_env env;
    env_of(op, &env);
    const char *audit = NULL;
    switch (op->action) {
    case FX_NOTICE_SUBMIT: {
        struct fx_policy pol;
        err = load_policy(db, &pol);
        if (err == FX_OK) {
            err = fx_notice_submit(db, &env, &op->row, &pol, op->pb);
            json_t *fields = NULL;
            if (err == FX_OK)
                err = fx_notice_fields(db, req_keys(op), &op->row, &fields);
            if (err == FX_OK)
                err = fx_screening_record(db, &env, &op->row, fields, &pol, "submission");
            json_decref(fields);
            fx_policy_cleanup(&pol);
        }
        audit = "notice.submit";
        break;
    }
    case FX_NOTICE_WITHDRAW:
        err = fx_notice_withdraw(db, &env, &op->row, op->text);
        audit = "notice.withdraw";
        break;
    case FX_NOTICE_RELEASE:
        err = fx_notice_release(db, &env, &op->row, op->days);
        audit = "notice.release";
        break;
    default: /* amendments and the review process have handlers of their own */
        err = FX_EINVAL;
        break;
    }
    if (err == FX_OK)
        err = answer_view(db, op, 200, audit);
    return err;
}

static void step(struct fx_req *req, enum fx_notice_action action)
{
    static const char *const none[] = {NULL};
    static const char *const reason[] = {"reason", NULL};
    static const char *const release[] = {"actual_release_date", NULL};
    struct nwrite *w = nwrite_new(req, sizeof(*w));
    struct nop *op = &w->op;
    struct fx_problem *pb = &w->pb;
    op->action = action;
    op->body = fx_req_body_object(req, action == FX_NOTICE_SUBMIT);
    if (op->body == NULL)
        goto refused;
    if (action == FX_NOTICE_SUBMIT) {
        fx_json_only_keys(op->body, none, "", pb);
    } else if (action == FX_NOTICE_WITHDRAW) {
        fx_json_only_keys(op->body, reason, "", pb);
        fx_json_get_str(op->body, "reason", "", true, FX_MAX_LONG_STRING, pb, &op->text, NULL);
    } else {
        bool has = false;
        fx_json_only_keys(op->body, release, "", pb);
        fx_json_get_date(op->body, "actual_release_date", "", true, pb, &op->days, &has);
        /* SPEC §3: recorded after the launch; the day after today (UTC) is today
         * somewhere (UTC+14), any later day nowhere yet */
        if (has && op->days > fx_clock_now(&req->ctx->clock) / 86400000 + 1)
            fx_problem_add(pb, "/actual_release_date",
                           "is in the future: record the release "
                           "once the model is out");
    }
    if (!fx_req_valid(req, pb))
        goto refused;
    static const struct fx_write_ops ops = {step_fn, answer_write, nwrite_done, NULL};
    run_write(req, &ops, w);
    return;
refused:
    nwrite_done(req, w, FX_OK);
}

void fx_api_notice_submit(struct fx_req *req)
{
    step(req, FX_NOTICE_SUBMIT);
}

void fx_api_notice_withdraw(struct fx_req *req)
{
    step(req, FX_NOTICE_WITHDRAW);
}

void fx_api_notice_release(struct fx_req *req)
{
    step(req, FX_NOTICE_RELEASE);
}

/* ---- list ---- */

struct list {
    struct nop op;
    struct fx_notice_filter f;
    struct fx_notice_row *rows; /* owned */
    size_t n;
    char *next;                 /* owned */
};

struct keep_arg {
    struct fx_req *req;
    struct fx_db *db;
    enum fx_err err; /* a failed assignment lookup */
};

static bool keep_row(const void *r, void *arg)
{
    const struct fx_notice_row *row = r;
    struct keep_arg *k = arg;
    bool assigned = false;
    enum fx_err err = assigned_of(k->db, k->req, row, &assigned);
    if (err != FX_OK) {
        k->err = err;
        return false;
    }
    struct fx_subject s = {.kind = FX_REC_NOTICE, .org_id = row->org_id, .status = row->status,
                           .agency_assigned = assigned};
    return fx_access_check(&k->req->who, FX_ACT_READ, &s) == FX_OK;
}

static enum fx_err list_fn(struct fx_db *db, void *arg)
{
    struct list *l = arg;
    struct keep_arg k = {l->op.req, db, FX_OK};
    enum fx_err err = fx_notice_list(db, &l->f, keep_row, &k, &l->rows, &l->n, &l->next);
    if (err == FX_OK)
        err = k.err;
    if (err != FX_OK)
        return err;
    l->op.out = json_array();
    for (size_t i = 0; i < l->n && err == FX_OK; i++) {
        json_t *v = NULL;
        err = fx_notice_view(db, l->op.req->ctx->keys, &l->rows[i], &v);
        if (err == FX_OK)
            json_array_append_new(l->op.out, v);
    }
    return err;
}

void fx_api_notice_list(struct fx_req *req)
{
    static const char *const statuses[] = {"draft", "submitted", "under_review", "determined",
                                           "assessment", "assessed", "withdrawn", "released",
                                           NULL};
    struct fx_problem pb;
    struct list l;
    memset(&l, 0, sizeof(l));
    l.op.req = req;
    l.op.pb = &pb;
    fx_problem_init(&pb); /* the route's parameters are checked by the server (router.c) */
    l.f.status = fx_req_query_enum(req, "status", statuses, &pb);
    l.f.developer = fx_req_query_id(req, "developer", &pb);
    bool sn = false, has_sn = false;
    fx_req_query_bool(req, "short_notice", &pb, &sn, &has_sn);
    l.f.short_notice = has_sn ? (sn ? 1 : 0) : -1;
    fx_req_query_date(req, "release_after", &pb, &l.f.release_after, &l.f.has_after);
    fx_req_query_date(req, "release_before", &pb, &l.f.release_before, &l.f.has_before);
    l.f.before_id = fx_req_query_id(req, "cursor", &pb);
    fx_req_query_limit(req, &pb, &l.f.limit);
    if (!fx_req_valid(req, &pb))
        goto out;
    switch (fx_access_notice_scope(&req->who)) {
    case FX_SCOPE_OWN_ORG: l.f.scope = FX_LIST_ORG; break;
    case FX_SCOPE_ALL_SUBMITTED: l.f.scope = FX_LIST_ALL_SUBMITTED; break;
    case FX_SCOPE_ASSIGNED: l.f.scope = FX_LIST_ASSIGNED; break;
    case FX_SCOPE_NONE: l.f.scope = FX_LIST_NONE; break;
    }
    l.f.scope_org = req->who.org_id;
    if (!run_read(req, list_fn, &l.op))
        goto out;
    struct fx_audit_target *t = fx_arena_alloc(&req->arena, (l.n + 1) * sizeof(*t));
    size_t nt = 0;
    for (size_t i = 0; i < l.n; i++)
        if (fx_access_is_outside_read(&req->who, l.rows[i].org_id))
            t[nt++] = (struct fx_audit_target){l.rows[i].id, l.rows[i].org_id};
    fx_req_audit_reads(req, "notice.list", t, nt);
    fx_req_page(req, l.op.out, l.next ? json_string(l.next) : NULL);
    l.op.out = NULL;
out:
    free(l.rows);
    free(l.next);
    nop_cleanup(&l.op);
    fx_problem_cleanup(&pb);
}

/* ---- versions, history, access log ---- */

static enum fx_err versions_fn(struct fx_db *db, void *arg)
{
    struct nop *op = arg;
    enum fx_err err = load_gate(db, op, FX_ACT_READ);
    if (err == FX_OK)
        err = fx_notice_versions(db, op->req->ctx->keys, &op->row, &op->out);
    return err;
}

static void answer_items(struct fx_req *req, struct nop *op, const char *audit_action)
{
    audit_read(req, &op->row, audit_action);
    fx_req_page(req, op->out, NULL); /* versions and history come whole */
    op->out = NULL;
}

void fx_api_notice_versions(struct fx_req *req)
{
    struct nop op = {.req = req, .id = req->params[0]};
    if (run_read(req, versions_fn, &op))
        answer_items(req, &op, "notice.versions");
    nop_cleanup(&op);
}

static enum fx_err version_fn(struct fx_db *db, void *arg)
{
    struct nop *op = arg;
    enum fx_err err = load_gate(db, op, FX_ACT_READ);
    if (err == FX_OK)
        err = fx_notice_version_bytes(db, op->req->ctx->keys, &op->row, op->n, &op->bytes,
                                      &op->len);
    return err;
}

void fx_api_notice_version(struct fx_req *req)
{
    struct nop op = {.req = req, .id = req->params[0]};
    const char *n = req->params[1];
    if (fx_parse_i64(n, strlen(n), 1, INT64_MAX, &op.n) != FX_OK) {
        fx_req_problem(req, 404, "no such version");
        return;
    }
    if (run_read(req, version_fn, &op)) {
        audit_read(req, &op.row, "notice.read_version");
        fx_req_bytes(req, 200, "application/json", op.bytes, op.len);
    }
    nop_cleanup(&op);
}

static enum fx_err history_fn(struct fx_db *db, void *arg)
{
    struct nop *op = arg;
    enum fx_err err = load_gate(db, op, FX_ACT_READ);
    if (err == FX_OK)
        err = fx_notice_history(db, op->req->ctx->keys, &op->row, &op->out);
    /* SPEC §2: events about findings and grants follow those records' readers */
    for (size_t i = 0; err == FX_OK && i < json_array_size(op->out);) {
        if (fx_review_event_visible(&op->req->who, &op->row, op->assigned,
                                    json_array_get(op->out, i)))
            i++;
        else
            json_array_remove(op->out, i);
    }
    return err;
}

void fx_api_notice_history(struct fx_req *req)
{
    struct nop op = {.req = req, .id = req->params[0]};
    if (run_read(req, history_fn, &op))
        answer_items(req, &op, "notice.history");
    nop_cleanup(&op);
}

/* The access log's gate: the notice, for the developer's admins and the coordinator. */
static enum fx_err access_log_gate(struct fx_db *db, struct fx_req *req, const char *id,
                                   struct fx_audit_filter *f)
{
    struct nop op = {.req = req, .id = id};
    enum fx_err err = load_gate(db, &op, FX_ACT_ACCESS_LOG);
    if (err == FX_OK) {
        f->record = fx_arena_strdup(&req->arena, op.row.id);
        f->scope_org = fx_arena_strdup(&req->arena, op.row.org_id);
    }
    nop_cleanup(&op);
    return err;
}

void fx_api_notice_access_log(struct fx_req *req)
{
    static const struct fx_access_log_kind kind = {
        access_log_gate, "the access log is for the developer's admins and the coordinator",
        "no such notice"};
    fx_api_record_access_log(req, &kind);
}
