/*
 * api_ops.c: operational endpoints (health, metrics, the OpenAPI document),
 * the caller (/me), the audit trail and the active policy.
 */
#include "auth/access.h"
#include "common/parse.h"
#include "http/api.h"
#include "policy/policy.h"
#include "records/audit.h"
#include "records/incident.h"
#include "records/org.h"

#include <stdio.h>
#include <string.h>

extern const char fx_openapi_json[]; /* generated from docs/openapi.json at build time */

static enum fx_err ping_fn(struct fx_db *db, void *arg)
{
    (void)arg;
    return fx_db_exec(db, "SELECT 1");
}

/* Healthy means able to serve: the store answers. Load balancers act on the 503. */
void fx_api_healthz(struct fx_req *req)
{
    enum fx_err err = fx_store_read(req->ctx->store, ping_fn, NULL);
    if (err != FX_OK) {
        fx_req_error(req, err, NULL, "the store is unavailable");
        return;
    }
    fx_req_json(req, 200, json_pack("{s:s,s:s}", "status", "ok", "store",
                                    fx_store_backend(req->ctx->store)));
}

void fx_api_metrics(struct fx_req *req)
{
    struct fx_metrics *m = &req->ctx->metrics;
    struct fx_buf b;
    fx_buf_init(&b, 1 << 16);
    fx_buf_adds(&b, "# HELP fx_http_requests_total HTTP requests answered, by status class.\n"
                    "# TYPE fx_http_requests_total counter\n");
    for (int i = 1; i <= 5; i++)
        fx_buf_printf(&b, "fx_http_requests_total{class=\"%dxx\"} %lu\n", i,
                      atomic_load(&m->requests[i]));
    fx_buf_printf(&b,
                  "# HELP fx_writes_total Durable write transactions committed.\n"
                  "# TYPE fx_writes_total counter\nfx_writes_total %lu\n"
                  "# HELP fx_uptime_seconds Seconds since fxd started.\n"
                  "# TYPE fx_uptime_seconds gauge\nfx_uptime_seconds %lld\n",
                  atomic_load(&m->writes),
                  (long long)((fx_clock_now(NULL) - m->started_ms) / 1000));
    struct fx_store_stats ss;
    fx_store_stats(req->ctx->store, &ss);
    if (ss.wal_pages >= 0)
        fx_buf_printf(
            &b,
            "# HELP fx_sqlite_wal_pages Pages in the SQLite WAL since it last started over.\n"
            "# TYPE fx_sqlite_wal_pages gauge\nfx_sqlite_wal_pages %lld\n"
            "# HELP fx_sqlite_checkpoints_total WAL copies into the database file,"
            " one per 1000 pages written.\n"
            "# TYPE fx_sqlite_checkpoints_total counter\nfx_sqlite_checkpoints_total %lld\n"
            "# HELP fx_sqlite_wal_restarts_total Times the WAL was wholly copied"
            " so that it starts over.\n"
            "# TYPE fx_sqlite_wal_restarts_total counter\n"
            "fx_sqlite_wal_restarts_total %lld\n",
            (long long)ss.wal_pages, (long long)ss.checkpoints, (long long)ss.wal_restarts);
    if (ss.fullscan_steps >= 0)
        fx_buf_printf(&b,
                      "# HELP fx_sqlite_fullscan_steps_total Rows SQLite stepped through in full"
                      " scans of a table or an index; a list read through its filter's index"
                      " adds none.\n"
                      "# TYPE fx_sqlite_fullscan_steps_total counter\n"
                      "fx_sqlite_fullscan_steps_total %lld\n",
                      (long long)ss.fullscan_steps);
    if (ss.write_jobs >= 0) {
        fx_buf_printf(&b,
                      "# HELP fx_store_write_jobs_total Writes run by the store's writer.\n"
                      "# TYPE fx_store_write_jobs_total counter\nfx_store_write_jobs_total %lld\n"
                      "# HELP fx_store_write_batches_total Transactions the writer ran them in"
                      " (group commit).\n"
                      "# TYPE fx_store_write_batches_total counter\n"
                      "fx_store_write_batches_total %lld\n"
                      "# HELP fx_store_write_seconds_total Time writes spent, summed, by stage:"
                      " queued for the writer, in its batch (with PostgreSQL, or SQLite outside"
                      " fxd serve, its commit's fsync too), from the batch's end until durable,"
                      " and until the caller ran again.\n"
                      "# TYPE fx_store_write_seconds_total counter\n",
                      (long long)ss.write_jobs, (long long)ss.write_batches);
        const char *stage[] = {"queued", "batch", "durable", "wakeup"};
        const int64_t ns[] = {ss.write_queued_ns, ss.write_batch_ns, ss.write_durable_ns,
                              ss.write_wakeup_ns};
        for (size_t i = 0; i < 4; i++)
            fx_buf_printf(&b, "fx_store_write_seconds_total{stage=\"%s\"} %.6f\n", stage[i],
                          (double)ns[i] / 1e9);
    }
    fx_req_bytes(req, 200, "text/plain; version=0.0.4", b.p, b.len);
    fx_buf_cleanup(&b);
}

void fx_api_openapi(struct fx_req *req)
{
    fx_req_bytes(req, 200, "application/json", fx_openapi_json, strlen(fx_openapi_json));
}

struct me_arg {
    struct fx_req *req;
    json_t *out;
};

static enum fx_err me_fn(struct fx_db *db, void *arg)
{
    static const char *sql =
        "SELECT id, org_id, email, name, role, created_at FROM users WHERE id = $1";
    struct me_arg *a = arg;
    json_t *org = NULL;
    enum fx_err err = fx_org_get(db, a->req->who.org_id, &org);
    if (err != FX_OK)
        return err;
    struct fx_stmt *st = NULL;
    bool row = false;
    err = fx_db_prepare(db, sql, &st);
    if (err == FX_OK) {
        fx_stmt_bind_str(st, 1, a->req->who.user_id);
        err = fx_stmt_step(st, &row);
        if (err == FX_OK && row) {
            char t[25];
            fx_format_time(fx_stmt_i64(st, 5), t);
            a->out = json_pack("{s:{s:s,s:s,s:s,s:s,s:s,s:s},s:o}", "user", "id",
                               fx_stmt_text(st, 0, NULL), "org_id", fx_stmt_text(st, 1, NULL),
                               "email", fx_stmt_text(st, 2, NULL), "name",
                               fx_stmt_text(st, 3, NULL), "role", fx_stmt_text(st, 4, NULL),
                               "created_at", t, "org", org);
            org = NULL;
        } else if (err == FX_OK) {
            err = FX_ENOTFOUND;
        }
        fx_stmt_finalize(st);
    }
    json_decref(org);
    return err;
}

void fx_api_me(struct fx_req *req)
{
    struct me_arg a = {req, NULL};
    enum fx_err err = fx_store_read(req->ctx->store, me_fn, &a);
    if (err != FX_OK)
        fx_req_error(req, err, NULL, NULL);
    else
        fx_req_json(req, 200, a.out);
}

struct audit_arg {
    struct fx_audit_filter f;
    json_t *items;
    int64_t next;
};

/*
 * SPEC §7: rows about an incident (its report, updates, reads, TAXII reads)
 * are shown only to whom the incident's TLP admits: an admin may not learn
 * from the trail that a RED incident exists. A denied row names the incident
 * as the caller did (server.c, audit_refusal); one naming no incident at all is
 * dropped too, or the rows kept would tell existing incidents from others.
 */
static enum fx_err drop_hidden_incidents(struct fx_db *db, const struct fx_principal *who,
                                         json_t *items)
{
    for (size_t i = json_array_size(items); i-- > 0;) {
        json_t *row = json_array_get(items, i);
        const char *action = json_string_value(json_object_get(row, "action"));
        const char *rec = json_string_value(json_object_get(row, "record"));
        const char *outcome = json_string_value(json_object_get(row, "outcome"));
        if (action == NULL || rec == NULL ||
            (strncmp(action, "incident.", 9) != 0 && strncmp(action, "taxii.", 6) != 0))
            continue;
        struct fx_incident_row r;
        enum fx_err err = fx_incident_load(db, rec, &r);
        if (err == FX_ENOTFOUND) {
            if (strncmp(action, "incident.", 9) == 0 && outcome && strcmp(outcome, "denied") == 0)
                json_array_remove(items, i);
            continue; /* else not an incident: a TAXII status or object */
        }
        if (err != FX_OK)
            return err;
        struct fx_subject s;
        fx_incident_subject(&r, &s);
        bool shown = fx_access_check(who, FX_ACT_READ, &s) == FX_OK;
        fx_incident_row_cleanup(&r);
        if (!shown)
            json_array_remove(items, i);
    }
    return FX_OK;
}

struct audit_ctx {
    struct audit_arg *a;
    const struct fx_principal *who;
};

static enum fx_err audit_fn(struct fx_db *db, void *arg)
{
    struct audit_ctx *c = arg;
    enum fx_err err = fx_audit_list(db, &c->a->f, &c->a->items, &c->a->next);
    if (err == FX_OK)
        err = drop_hidden_incidents(db, c->who, c->a->items);
    return err;
}

/* Cursor of audit lists: the id of the last row served, as decimal text. */
void fx_api_audit_list(struct fx_req *req)
{
    struct fx_problem pb;
    struct audit_arg a;
    memset(&a, 0, sizeof(a));
    fx_problem_init(&pb);
    bool all = false;
    enum fx_err err = fx_access_audit_scope(&req->who, &all);
    if (err != FX_OK) {
        fx_req_error(req, err, NULL, "the audit trail is for admins");
        goto out;
    }
    a.f.record = fx_req_query(req, "record");
    a.f.user_id = fx_req_query_id(req, "user", &pb);
    a.f.org_id = fx_req_query_id(req, "org", &pb);
    a.f.action = fx_req_query(req, "action");
    a.f.scope_org = all ? NULL : req->who.org_id;
    const char *since = fx_req_query(req, "since");
    if (since && fx_parse_time(since, strlen(since), &a.f.since_ms) != FX_OK)
        fx_problem_add(&pb, "query:since", "must be an RFC 3339 time");
    fx_req_query_row_cursor(req, &pb, &a.f.before_id);
    fx_req_query_limit(req, &pb, &a.f.limit);
    if (!fx_req_valid(req, &pb))
        goto out;
    struct audit_ctx ac = {&a, &req->who};
    err = fx_store_read(req->ctx->store, audit_fn, &ac);
    if (err != FX_OK) {
        fx_req_error(req, err, NULL, NULL);
        goto out;
    }
    fx_req_page(req, a.items, a.next ? json_sprintf("%lld", (long long)a.next) : NULL);
out:
    fx_problem_cleanup(&pb);
}

static enum fx_err policy_fn(struct fx_db *db, void *arg)
{
    return fx_policy_load_active(db, arg);
}

void fx_api_policy_get(struct fx_req *req)
{
    struct fx_policy pol;
    memset(&pol, 0, sizeof(pol));
    enum fx_err err = fx_store_read(req->ctx->store, policy_fn, &pol);
    if (err != FX_OK) {
        fx_req_error(req, err, NULL, NULL);
        return;
    }
    json_t *o = json_pack("{s:s,s:s,s:O}", "name", pol.name, "sha256", pol.sha256, "document",
                          pol.doc);
    fx_policy_cleanup(&pol);
    char etag[70];
    snprintf(etag, sizeof(etag), "\"%s\"", pol.sha256);
    fx_req_set_header(req, "ETag", etag);
    fx_req_json(req, 200, o);
}
