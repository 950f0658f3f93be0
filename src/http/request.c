/*
 * request.c: reading a request (headers, query, body) and writing the answer.
 * Every query value goes through a checked parser here; handlers never parse
 * query strings themselves.
 */
#include "http/request.h"
#include "common/json.h"
#include "common/parse.h"
#include "records/audit.h"

#include <microhttpd.h>
#include <string.h>

const char *fx_req_header(struct fx_req *req, const char *name)
{
    return MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, name);
}

const char *fx_req_query(struct fx_req *req, const char *name)
{
    return MHD_lookup_connection_value(req->conn, MHD_GET_ARGUMENT_KIND, name);
}

void fx_req_set_header(struct fx_req *req, const char *name, const char *value)
{
    if (req->n_hdr == FX_MAX_RESP_HEADERS)
        fx_die("too many response headers");
    req->hdr_name[req->n_hdr] = name;
    req->hdr_value[req->n_hdr] = fx_arena_strdup(&req->arena, value);
    req->n_hdr++;
}

void fx_req_bytes(struct fx_req *req, unsigned status, const char *content_type, const void *p,
                  size_t len)
{
    free(req->resp);
    req->resp = fx_xmalloc(len ? len : 1);
    if (len)
        memcpy(req->resp, p, len);
    req->resp_len = len;
    req->status = status;
    req->content_type = content_type;
}

bool fx_req_valid(struct fx_req *req, const struct fx_problem *pb)
{
    if (!fx_problem_any(pb))
        return true;
    fx_req_error(req, FX_EINVAL, pb, NULL);
    return false;
}

void fx_req_page(struct fx_req *req, json_t *items, json_t *next_cursor)
{
    json_t *o = json_object();
    json_object_set_new(o, "items", items);
    json_object_set_new(o, "next_cursor", next_cursor ? next_cursor : json_null());
    fx_req_json(req, 200, o);
}

void fx_req_json(struct fx_req *req, unsigned status, json_t *body)
{
    /* jansson's compact dump, byte for byte, at a fraction of its cost */
    size_t len = 0;
    char *s = fx_json_compact(body, &len);
    json_decref(body);
    free(req->resp);
    req->resp = s;
    req->resp_len = len;
    req->status = status;
    req->content_type = "application/json";
}

void fx_req_replay_json(struct fx_req *req, json_t *body)
{
    free(req->replay);
    req->replay = fx_json_compact(body, &req->replay_len);
    json_decref(body);
}

void fx_req_no_content(struct fx_req *req)
{
    FX_FREE(req->resp);
    req->resp_len = 0;
    req->status = 204;
    req->content_type = NULL;
}

json_t *fx_req_body_object(struct fx_req *req, bool empty_ok)
{
    if (req->body.len == 0 && empty_ok)
        return json_object();
    const char *ct = fx_req_header(req, "Content-Type");
    size_t n = ct ? strcspn(ct, ";") : 0;
    while (n > 0 && ct[n - 1] == ' ')
        n--;
    if (ct == NULL || n != 16 || strncasecmp(ct, "application/json", 16) != 0) {
        fx_req_problem(req, 415, "the body must be sent as Content-Type: application/json");
        return NULL;
    }
    char msg[256];
    json_t *v = NULL;
    if (fx_json_parse(req->body.p ? req->body.p : "", req->body.len, &v, msg, sizeof(msg)) !=
        FX_OK) {
        fx_req_problem(req, 400, msg);
        return NULL;
    }
    if (!json_is_object(v)) {
        json_decref(v);
        struct fx_problem pb;
        fx_problem_init(&pb);
        fx_problem_add(&pb, "", "the body must be a JSON object");
        fx_req_error(req, FX_EINVAL, &pb, NULL);
        fx_problem_cleanup(&pb);
        return NULL;
    }
    return v;
}

static void qfield(char *buf, size_t n, const char *name)
{
    snprintf(buf, n, "query:%s", name);
}

void fx_req_query_row_cursor(struct fx_req *req, struct fx_problem *pb, int64_t *out)
{
    const char *c = fx_req_query(req, "cursor");
    *out = 0;
    if (c && fx_parse_i64(c, strlen(c), 1, INT64_MAX, out) != FX_OK)
        fx_problem_add(pb, "query:cursor", "not a cursor from a previous page");
}

void fx_req_query_limit(struct fx_req *req, struct fx_problem *pb, int64_t *limit_out)
{
    const char *v = fx_req_query(req, "limit");
    *limit_out = FX_DEFAULT_PAGE;
    if (v == NULL)
        return;
    if (fx_parse_i64(v, strlen(v), 1, FX_MAX_PAGE, limit_out) != FX_OK)
        fx_problem_add(pb, "query:limit", "must be an integer from 1 to %d", FX_MAX_PAGE);
}

const char *fx_req_query_enum(struct fx_req *req, const char *name, const char *const *values,
                              struct fx_problem *pb)
{
    const char *v = fx_req_query(req, name);
    if (v == NULL)
        return NULL;
    if (!fx_json_in(v, values)) {
        char f[96];
        qfield(f, sizeof(f), name);
        fx_problem_add(pb, f, "not an allowed value");
        return NULL;
    }
    return v;
}

void fx_req_query_date(struct fx_req *req, const char *name, struct fx_problem *pb,
                       int64_t *days_out, bool *present)
{
    const char *v = fx_req_query(req, name);
    *present = false;
    if (v == NULL)
        return;
    if (fx_parse_date(v, strlen(v), days_out) != FX_OK) {
        char f[96];
        qfield(f, sizeof(f), name);
        fx_problem_add(pb, f, "must be a calendar date YYYY-MM-DD");
        return;
    }
    *present = true;
}

void fx_req_query_bool(struct fx_req *req, const char *name, struct fx_problem *pb, bool *out,
                       bool *present)
{
    const char *v = fx_req_query(req, name);
    *present = false;
    if (v == NULL)
        return;
    if (strcmp(v, "true") == 0) {
        *out = true;
    } else if (strcmp(v, "false") == 0) {
        *out = false;
    } else {
        char f[96];
        qfield(f, sizeof(f), name);
        fx_problem_add(pb, f, "must be true or false");
        return;
    }
    *present = true;
}

const char *fx_req_query_id(struct fx_req *req, const char *name, struct fx_problem *pb)
{
    const char *v = fx_req_query(req, name);
    if (v == NULL)
        return NULL;
    if (!fx_uuid_valid(v, strlen(v))) {
        char f[96];
        qfield(f, sizeof(f), name);
        fx_problem_add(pb, f, "must be an id (UUID)");
        return NULL;
    }
    return v;
}

struct only_ctx {
    const char *const *allowed;
    struct fx_problem *pb;
    size_t n;
};

static enum MHD_Result check_arg(void *cls, enum MHD_ValueKind kind, const char *key,
                                 const char *value)
{
    (void)kind;
    struct only_ctx *oc = cls;
    char f[96];
    /* percent-decoding yields any bytes: text that is not UTF-8 can be neither a
     * parameter this API knows nor stored (PostgreSQL refuses it), nor named in JSON */
    if (!fx_utf8_valid(key, strlen(key))) {
        fx_problem_add(oc->pb, "query", "a parameter name is not UTF-8 text");
        return MHD_YES;
    }
    qfield(f, sizeof(f), key);
    if (++oc->n > FX_MAX_QUERY_ARGS) {
        fx_problem_add(oc->pb, "query", "more than %d parameters", FX_MAX_QUERY_ARGS);
        return MHD_NO;
    }
    if (!fx_json_in(key, oc->allowed))
        fx_problem_add(oc->pb, f, "unknown query parameter");
    else if (value && strlen(value) > FX_MAX_QUERY_VALUE)
        fx_problem_add(oc->pb, f, "longer than %d bytes", FX_MAX_QUERY_VALUE);
    else if (value && !fx_utf8_valid(value, strlen(value)))
        fx_problem_add(oc->pb, f, "is not UTF-8 text");
    return MHD_YES;
}

void fx_req_query_only(struct fx_req *req, const char *const *allowed, struct fx_problem *pb)
{
    struct only_ctx oc = {allowed, pb, 0};
    MHD_get_connection_values(req->conn, MHD_GET_ARGUMENT_KIND, check_arg, &oc);
}

static const char *arena_dup(struct fx_req *req, const char *s)
{
    return s ? fx_arena_strdup(&req->arena, s) : NULL;
}

void fx_req_audit_row(struct fx_req *req, const char *action, const char *record,
                      const char *record_org, const char *outcome)
{
    struct fx_audit_rows *r = req->audit_rows;
    if (r == NULL) {
        r = fx_arena_alloc(&req->arena, sizeof(*r));
        *r = (struct fx_audit_rows){.now = fx_clock_now(&req->ctx->clock), .who = req->who};
        req->audit_rows = r;
    }
    if (r->n == r->cap) { /* the arena frees nothing before the request ends: double */
        r->cap = r->cap ? 2 * r->cap : 8;
        struct fx_audit_row *rows = fx_arena_alloc(&req->arena, r->cap * sizeof(*rows));
        if (r->n)
            memcpy(rows, r->rows, r->n * sizeof(*rows));
        r->rows = rows;
    }
    /* copies: the handler may free what they point into before the rows are kept */
    r->rows[r->n++] = (struct fx_audit_row){arena_dup(req, action), arena_dup(req, record),
                                            arena_dup(req, record_org), arena_dup(req, outcome)};
}

void fx_req_audit_reads(struct fx_req *req, const char *action,
                        const struct fx_audit_target *targets, size_t n)
{
    for (size_t i = 0; i < n; i++)
        fx_req_audit_row(req, action, targets[i].record, targets[i].record_org, "ok");
}
