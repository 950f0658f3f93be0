/*
 * api_incidents.c: the incident endpoints (SPEC §7, §14): report, read, list,
 * update (versions under If-Match), the STIX bundle, versions, history and
 * the access log. Validation that needs no store happens before the
 * transaction; the gate (TLP and sharing lists, src/auth/access.c), If-Match,
 * the merge and the checks against the store happen inside it, so a refused
 * request stores nothing. Each version also becomes STIX objects in the TAXII
 * incidents collection, in the same transaction.
 */
#include "auth/access.h"
#include "common/json.h"
#include "common/parse.h"
#include "http/access_log.h"
#include "http/api.h"
#include "http/write.h"
#include "records/audit.h"
#include "records/incident.h"
#include "taxii/stix.h"
#include "taxii/taxii.h"

#include <stdio.h>
#include <string.h>

struct iop {
    struct fx_req *req;
    struct fx_problem *pb;
    const char *id;               /* path parameter: UUID or FXI reference */
    struct fx_incident_row row;   /* owns its sharing lists */
    json_t *body;                 /* owned: the parsed request */
    json_t *out;                  /* owned: the answer */
    json_t *receipts;             /* owned */
    json_t *publish;              /* owned: STIX objects of the version written */
    const char *reason;           /* change_reason, borrowed from body */
    int64_t n;                    /* version number */
    char *bytes;                  /* owned: version bytes */
    size_t len;
};

static void iop_cleanup(struct iop *op)
{
    fx_incident_row_cleanup(&op->row);
    json_decref(op->body);
    json_decref(op->out);
    json_decref(op->receipts);
    json_decref(op->publish);
    free(op->bytes);
}

static enum fx_err load_gate(struct fx_db *db, struct iop *op, enum fx_act act)
{
    fx_incident_row_cleanup(&op->row);
    enum fx_err err = fx_incident_load(db, op->id, &op->row);
    if (err != FX_OK)
        return err;
    op->req->audit_record = fx_arena_strdup(&op->req->arena, op->row.id);
    struct fx_subject s;
    fx_incident_subject(&op->row, &s);
    return fx_access_check(&op->req->who, act, &s);
}

/* AMBER, AMBER+STRICT and RED incidents are confidential records (SPEC §10). */
static bool confidential(const char *tlp)
{
    return strcmp(tlp, "CLEAR") != 0 && strcmp(tlp, "GREEN") != 0;
}

/* SPEC §10: an outside read of a confidential incident is audited before it is answered. */
static void audit_read(struct fx_req *req, const struct fx_incident_row *row, const char *action)
{
    if (confidential(row->tlp) && fx_access_is_outside_read(&req->who, row->org_id))
        fx_req_audit_row(req, action, row->id, row->org_id, "ok");
}

static void env_of(struct iop *op, struct fx_incident_env *env)
{
    struct fx_req *req = op->req;
    if (op->receipts == NULL)
        op->receipts = json_array();
    if (op->publish == NULL)
        op->publish = json_array();
    /* a callback the store runs again starts from nothing */
    json_array_clear(op->receipts);
    json_array_clear(op->publish);
    env->keys = req->ctx->keys;
    env->signer = req->ctx->signer;
    env->who = &req->who;
    env->now = fx_clock_now(&req->ctx->clock);
    env->receipts = op->receipts;
    env->publish = op->publish;
}

static enum fx_err load_policy(struct fx_db *db, struct fx_policy *pol)
{
    enum fx_err err = fx_policy_load_active(db, pol);
    return err == FX_ENOTFOUND ? FX_ESTORE : err;
}

/*
 * After a version is written: its STIX objects into the TAXII incidents
 * collection, the audit row, and the answer with the receipt (SPEC §9).
 */
static enum fx_err finish_write(struct fx_db *db, struct iop *op, const struct fx_incident_env *env,
                                unsigned status, const char *action)
{
    struct fx_req *req = op->req;
    json_t *v = NULL;
    enum fx_err err = fx_taxii_publish(db, req->ctx->keys, op->row.org_id, op->row.id,
                                       op->publish, env->now * 1000);
    if (err == FX_OK)
        err = fx_incident_view(db, req->ctx->keys, &op->row, &v);
    if (err == FX_OK)
        err = fx_audit_write(db, env->now, &req->who, action, op->row.id, op->row.org_id, "ok");
    if (err != FX_OK) {
        json_decref(v);
        return err;
    }
    size_t nr = json_array_size(op->receipts);
    if (nr > 0)
        json_object_set(v, "receipt", json_array_get(op->receipts, nr - 1));
    fx_req_set_header(req, "ETag", op->row.etag);
    if (status == 201) {
        char loc[96];
        snprintf(loc, sizeof(loc), "/api/v1/incidents/%s", op->row.id);
        fx_req_set_header(req, "Location", loc);
    }
    fx_req_json(req, status, v);
    return FX_OK;
}

static void run_write(struct fx_req *req, fx_db_fn fn, struct iop *op)
{
    enum fx_err err = fx_write_run(req, fn, op, op->pb);
    if (err == FX_ENOTFOUND)
        fx_req_error(req, err, NULL, "no such incident");
    else if (err == FX_EFORBIDDEN)
        fx_req_error(req, err, NULL, "only the reporter organization's members and admins "
                                     "update an incident");
    else if (err != FX_OK)
        fx_req_error(req, err, op->pb, NULL);
}

/* ---- report ---- */

struct create {
    struct iop op;
    json_t *clean;
    struct fx_incident_fields f;
};

static enum fx_err create_fn(struct fx_db *db, void *arg)
{
    struct create *c = arg;
    struct fx_incident_env env;
    struct fx_policy pol;
    env_of(&c->op, &env);
    fx_incident_row_cleanup(&c->op.row);
    enum fx_err err = load_policy(db, &pol);
    if (err != FX_OK)
        return err;
    /* create takes the document over; keep a reference for a retry of the callback */
    err = fx_incident_create(db, &env, json_incref(c->clean), &c->f, &pol, c->op.pb, &c->op.row);
    fx_policy_cleanup(&pol);
    if (err == FX_OK)
        err = finish_write(db, &c->op, &env, 201, "incident.report");
    return err;
}

void fx_api_incident_create(struct fx_req *req)
{
    struct fx_problem pb;
    struct create c;
    memset(&c, 0, sizeof(c));
    c.op.req = req;
    c.op.pb = &pb;
    fx_problem_init(&pb);
    struct fx_subject s = {.kind = FX_REC_INCIDENT};
    if (fx_access_check(&req->who, FX_ACT_CREATE, &s) != FX_OK) {
        fx_req_error(req, FX_EFORBIDDEN, NULL,
                     "members and admins of an organization report incidents");
        goto out;
    }
    c.op.body = fx_req_body_object(req, false);
    if (c.op.body == NULL)
        goto out;
    if (fx_incident_validate(c.op.body, &pb, &c.clean, &c.f) != FX_OK) {
        fx_req_error(req, FX_EINVAL, &pb, NULL);
        goto out;
    }
    run_write(req, create_fn, &c.op);
out:
    json_decref(c.clean);
    iop_cleanup(&c.op);
    fx_problem_cleanup(&pb);
}

/* ---- read one ---- */

static enum fx_err get_fn(struct fx_db *db, void *arg)
{
    struct iop *op = arg;
    enum fx_err err = load_gate(db, op, FX_ACT_READ);
    if (err == FX_OK)
        err = fx_incident_view(db, op->req->ctx->keys, &op->row, &op->out);
    return err;
}

static bool run_read(struct fx_req *req, fx_db_fn fn, struct iop *op)
{
    enum fx_err err = fx_store_read(req->ctx->store, fn, op);
    if (err == FX_OK)
        return true;
    fx_req_error(req, err, op->pb, err == FX_ENOTFOUND ? "no such incident" : NULL);
    return false;
}

void fx_api_incident_get(struct fx_req *req)
{
    struct iop op = {.req = req, .id = req->params[0]};
    if (run_read(req, get_fn, &op)) {
        audit_read(req, &op.row, "incident.read");
        fx_req_set_header(req, "ETag", op.row.etag);
        fx_req_json(req, 200, op.out);
        op.out = NULL;
    }
    iop_cleanup(&op);
}

/* ---- update ---- */

static enum fx_err update_fn(struct fx_db *db, void *arg)
{
    struct iop *op = arg;
    struct fx_req *req = op->req;
    enum fx_err err = load_gate(db, op, FX_ACT_EDIT);
    if (err != FX_OK)
        return err;
    const char *if_match = fx_req_header(req, "If-Match");
    if (strcmp(if_match, op->row.etag) != 0) {
        fx_problem_detail(op->pb, "If-Match %s is not the current version %s", if_match,
                          op->row.etag);
        return FX_ESTALE;
    }
    json_t *merged = NULL, *clean = NULL;
    err = fx_incident_fields_of(db, req->ctx->keys, &op->row, &merged);
    if (err != FX_OK)
        return err;
    /* the indicators' server-made members are rebuilt from the patterns */
    const char *key;
    json_t *v;
    json_object_foreach(op->body, key, v)
    {
        if (json_is_null(v))
            json_object_del(merged, key);
        else
            json_object_set(merged, key, v);
    }
    struct fx_incident_fields f;
    err = fx_incident_validate(merged, op->pb, &clean, &f);
    json_decref(merged);
    if (err != FX_OK)
        return err;
    struct fx_incident_env env;
    struct fx_policy pol;
    env_of(op, &env);
    err = load_policy(db, &pol);
    if (err != FX_OK) {
        json_decref(clean);
        return err;
    }
    err = fx_incident_update(db, &env, &op->row, clean, &f, op->reason, &pol, op->pb);
    fx_policy_cleanup(&pol);
    if (err == FX_OK)
        err = finish_write(db, op, &env, 200, "incident.update");
    return err;
}

void fx_api_incident_update(struct fx_req *req)
{
    struct fx_problem pb;
    struct iop op = {.req = req, .pb = &pb, .id = req->params[0]};
    fx_problem_init(&pb);
    const char *if_match = fx_req_header(req, "If-Match");
    if (if_match == NULL) {
        fx_req_problem(req, 428, "send If-Match with the incident's current ETag");
        goto out;
    }
    if (strlen(if_match) > FX_MAX_ETAG) {
        fx_req_problem(req, 412, "If-Match is not an ETag of this incident");
        goto out;
    }
    op.body = fx_req_body_object(req, false);
    if (op.body == NULL)
        goto out;
    bool has = false;
    fx_json_get_str(op.body, "change_reason", "", false, FX_MAX_LONG_STRING, &pb, &op.reason,
                    &has);
    if (has && op.reason[0] == '\0')
        fx_problem_add(&pb, "/change_reason", "must not be empty");
    if (!fx_req_valid(req, &pb))
        goto out;
    json_t *reason = json_incref(json_object_get(op.body, "change_reason"));
    json_object_del(op.body, "change_reason");
    run_write(req, update_fn, &op);
    json_decref(reason);
out:
    iop_cleanup(&op);
    fx_problem_cleanup(&pb);
}

/* ---- list ---- */

struct list {
    struct iop op;
    struct fx_incident_filter f;
    struct fx_incident_row *rows; /* owned */
    size_t n;
    char *next;                   /* owned */
};

static bool keep_row(const struct fx_incident_row *row, void *arg)
{
    struct fx_req *req = arg;
    struct fx_subject s;
    fx_incident_subject(row, &s);
    return fx_access_check(&req->who, FX_ACT_READ, &s) == FX_OK;
}

static enum fx_err list_fn(struct fx_db *db, void *arg)
{
    struct list *l = arg;
    enum fx_err err =
        fx_incident_list(db, &l->f, keep_row, l->op.req, &l->rows, &l->n, &l->next);
    if (err != FX_OK)
        return err;
    l->op.out = json_array();
    for (size_t i = 0; i < l->n && err == FX_OK; i++) {
        json_t *v = NULL;
        err = fx_incident_view(db, l->op.req->ctx->keys, &l->rows[i], &v);
        if (err == FX_OK)
            json_array_append_new(l->op.out, v);
    }
    return err;
}

void fx_api_incident_list(struct fx_req *req)
{
    static const char *const statuses[] = {"open", "contained", "resolved", NULL};
    static const char *const severities[] = {"info", "low", "medium", "high", "critical", NULL};
    static const char *const categories[] = {"intrusion",
                                              "model_weight_exfiltration",
                                              "model_misuse",
                                              "data_breach",
                                              "vulnerability_exploitation",
                                              "supply_chain",
                                              "other",
                                              NULL};
    struct fx_problem pb;
    struct list l;
    memset(&l, 0, sizeof(l));
    l.op.req = req;
    l.op.pb = &pb;
    fx_problem_init(&pb);
    const char *tlp = fx_req_query(req, "tlp");
    if (tlp) {
        int t = fx_stix_tlp_parse(tlp);
        if (t < 0)
            fx_problem_add(&pb, "query:tlp", "must be CLEAR, GREEN, AMBER, AMBER+STRICT or RED");
        else
            l.f.tlp = fx_stix_tlp_name((enum fx_tlp)t);
    }
    l.f.status = fx_req_query_enum(req, "status", statuses, &pb);
    l.f.severity = fx_req_query_enum(req, "severity", severities, &pb);
    l.f.category = fx_req_query_enum(req, "category", categories, &pb);
    l.f.reporter = fx_req_query_id(req, "reporter", &pb);
    bool late = false, has_late = false;
    fx_req_query_bool(req, "late", &pb, &late, &has_late);
    l.f.late = has_late ? (late ? 1 : 0) : -1;
    const char *since = fx_req_query(req, "since");
    if (since) {
        if (fx_parse_time(since, strlen(since), &l.f.since) != FX_OK)
            fx_problem_add(&pb, "query:since", "must be an RFC 3339 time");
        else
            l.f.has_since = true;
    }
    l.f.before_id = fx_req_query_id(req, "cursor", &pb);
    fx_req_query_limit(req, &pb, &l.f.limit);
    if (!fx_req_valid(req, &pb))
        goto out;
    l.f.scope_org = req->who.org_id;
    if (!run_read(req, list_fn, &l.op))
        goto out;
    struct fx_audit_target *t = fx_arena_alloc(&req->arena, (l.n + 1) * sizeof(*t));
    size_t nt = 0;
    for (size_t i = 0; i < l.n; i++)
        if (confidential(l.rows[i].tlp) && fx_access_is_outside_read(&req->who, l.rows[i].org_id))
            t[nt++] = (struct fx_audit_target){l.rows[i].id, l.rows[i].org_id};
    fx_req_audit_reads(req, "incident.list", t, nt);
    fx_req_page(req, l.op.out, l.next ? json_string(l.next) : NULL);
    l.op.out = NULL;
out:
    for (size_t i = 0; i < l.n; i++)
        fx_incident_row_cleanup(&l.rows[i]);
    free(l.rows);
    free(l.next);
    iop_cleanup(&l.op);
    fx_problem_cleanup(&pb);
}

/* ---- STIX, versions, history, access log ---- */

static enum fx_err stix_fn(struct fx_db *db, void *arg)
{
    struct iop *op = arg;
    enum fx_err err = load_gate(db, op, FX_ACT_READ);
    if (err == FX_OK)
        err = fx_incident_bundle(db, op->req->ctx->keys, &op->row, &op->out);
    return err;
}

void fx_api_incident_stix(struct fx_req *req)
{
    struct iop op = {.req = req, .id = req->params[0]};
    if (run_read(req, stix_fn, &op)) {
        audit_read(req, &op.row, "incident.stix");
        fx_req_json(req, 200, op.out);
        req->content_type = FX_STIX_MEDIA;
        op.out = NULL;
    }
    iop_cleanup(&op);
}

static enum fx_err versions_fn(struct fx_db *db, void *arg)
{
    struct iop *op = arg;
    enum fx_err err = load_gate(db, op, FX_ACT_READ);
    if (err == FX_OK)
        err = fx_incident_versions(db, op->req->ctx->keys, &op->row, &op->out);
    return err;
}

static void answer_items(struct fx_req *req, struct iop *op, const char *action)
{
    audit_read(req, &op->row, action);
    fx_req_page(req, op->out, NULL); /* versions and history come whole */
    op->out = NULL;
}

void fx_api_incident_versions(struct fx_req *req)
{
    struct iop op = {.req = req, .id = req->params[0]};
    if (run_read(req, versions_fn, &op))
        answer_items(req, &op, "incident.versions");
    iop_cleanup(&op);
}

static enum fx_err version_fn(struct fx_db *db, void *arg)
{
    struct iop *op = arg;
    enum fx_err err = load_gate(db, op, FX_ACT_READ);
    if (err == FX_OK)
        err = fx_incident_version_bytes(db, op->req->ctx->keys, &op->row, op->n, &op->bytes,
                                        &op->len);
    return err;
}

void fx_api_incident_version(struct fx_req *req)
{
    struct iop op = {.req = req, .id = req->params[0]};
    const char *n = req->params[1];
    if (fx_parse_i64(n, strlen(n), 1, INT64_MAX, &op.n) != FX_OK) {
        fx_req_problem(req, 404, "no such version");
        return;
    }
    if (run_read(req, version_fn, &op)) {
        audit_read(req, &op.row, "incident.read_version");
        fx_req_bytes(req, 200, "application/json", op.bytes, op.len);
    }
    iop_cleanup(&op);
}

static enum fx_err history_fn(struct fx_db *db, void *arg)
{
    struct iop *op = arg;
    enum fx_err err = load_gate(db, op, FX_ACT_READ);
    if (err == FX_OK)
        err = fx_incident_history(db, op->req->ctx->keys, &op->row, &op->out);
    return err;
}

void fx_api_incident_history(struct fx_req *req)
{
    struct iop op = {.req = req, .id = req->params[0]};
    if (run_read(req, history_fn, &op))
        answer_items(req, &op, "incident.history");
    iop_cleanup(&op);
}

/* The access log's gate: the incident, for the reporter's admins and the coordinator's. */
static enum fx_err access_log_gate(struct fx_db *db, struct fx_req *req, const char *id,
                                   struct fx_audit_filter *f)
{
    struct iop op = {.req = req, .id = id};
    enum fx_err err = load_gate(db, &op, FX_ACT_ACCESS_LOG);
    if (err == FX_OK) {
        f->record = fx_arena_strdup(&req->arena, op.row.id);
        f->scope_org = fx_arena_strdup(&req->arena, op.row.org_id);
    }
    iop_cleanup(&op);
    return err;
}

void fx_api_incident_access_log(struct fx_req *req)
{
    static const struct fx_access_log_kind kind = {
        access_log_gate,
        "the access log is for the reporter's admins and the coordinator's",
        "no such incident"};
    fx_api_record_access_log(req, &kind);
}
