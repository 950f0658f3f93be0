/*
 * problem.c: the only place that maps an enum fx_err to an HTTP status and an
 * RFC 9457 problem type, and that writes problem+json documents (and, on
 * /taxii2/ routes, TAXII 2.1 error messages).
 */
#include "http/request.h"

#include <stdio.h>
#include <string.h>

#define PROBLEM_BASE "https://fx.invalid/problems/"

struct kind {
    unsigned status;
    const char *slug;
    const char *title;
};

static const struct kind *kind_of_status(unsigned status)
{
    static const struct kind kinds[] = {
        {400, "malformed", "Malformed request"},
        {401, "unauthenticated", "Authentication required"},
        {403, "forbidden", "Not allowed"},
        {404, "not-found", "Not found"},
        {405, "method-not-allowed", "Method not allowed"},
        {406, "not-acceptable", "Not acceptable"},
        {409, "conflict", "Conflict with the record's state"},
        {412, "stale", "Precondition failed"},
        {413, "too-large", "Request too large"},
        {415, "unsupported-media-type", "Unsupported media type"},
        {422, "validation", "Invalid request"},
        {431, "headers-too-large", "Request headers too large"},
        {428, "precondition-required", "Precondition required"},
        {429, "rate-limited", "Too many requests"},
        {500, "internal", "Internal error"},
        {503, "unavailable", "Service unavailable"},
    };
    for (size_t i = 0; i < FX_ARRAY_LEN(kinds); i++)
        if (kinds[i].status == status)
            return &kinds[i];
    return &kinds[FX_ARRAY_LEN(kinds) - 2];
}

static unsigned status_of(enum fx_err err)
{
    switch (err) {
    case FX_OK: return 200;
    case FX_EINVAL: return 422;
    case FX_ENOTFOUND: return 404;
    case FX_EFORBIDDEN: return 403;
    case FX_ECONFLICT: return 409;
    case FX_ESTALE: return 412;
    case FX_ETOOBIG: return 413;
    case FX_EUNAUTH: return 401;
    case FX_EBUSY: return 503;
    case FX_ESTORE: return 503;
    case FX_EIO:
    case FX_ECRYPTO: return 500;
    }
    return 500;
}

/*
 * SPEC §12: TAXII routes answer TAXII 2.1 error messages (TAXII 2.1 §3.6.1),
 * whoever decided the error (the server's early checks, the router, a
 * handler): title, description, http_status (a string) and the field errors
 * under details.
 */
static void taxii_answer(struct fx_req *req, unsigned status, const struct kind *k,
                         const struct fx_problem *pb, const char *detail)
{
    json_t *o = json_object();
    char code[8];
    snprintf(code, sizeof(code), "%u", status);
    json_object_set_new(o, "title", json_string(k->title));
    if (pb && pb->detail)
        detail = pb->detail;
    if (detail)
        json_object_set_new(o, "description", json_string(detail));
    else if (pb && pb->n)
        json_object_set_new(o, "description", json_sprintf("%zu field%s invalid", pb->n,
                                                           pb->n == 1 ? " is" : "s are"));
    json_object_set_new(o, "error_code", json_string(k->slug));
    json_object_set_new(o, "http_status", json_string(code));
    if (pb && pb->n) {
        json_t *errs = json_array();
        for (size_t i = 0; i < pb->n; i++)
            json_array_append_new(errs, json_pack("{s:s,s:s}", "field", pb->errors[i].field,
                                                  "message", pb->errors[i].message));
        json_object_set_new(o, "details", json_pack("{s:o}", "errors", errs));
    }
    fx_req_json(req, status, o);
    req->content_type = "application/taxii+json;version=2.1";
    if (status == 401)
        fx_req_set_header(req, "WWW-Authenticate", "Basic realm=\"fx\", Bearer realm=\"fx\"");
}

static void answer(struct fx_req *req, unsigned status, const struct fx_problem *pb,
                   const char *detail)
{
    const struct kind *k = kind_of_status(status);
    if (req->path && strncmp(req->path, "/taxii2/", 8) == 0) {
        taxii_answer(req, status, k, pb, detail);
        return;
    }
    json_t *o = json_object();
    char type[128];
    snprintf(type, sizeof(type), "%s%s", PROBLEM_BASE, k->slug);
    json_object_set_new(o, "type", json_string(type));
    json_object_set_new(o, "title", json_string(k->title));
    json_object_set_new(o, "status", json_integer(status));
    if (pb && pb->detail)
        detail = pb->detail;
    if (detail)
        json_object_set_new(o, "detail", json_string(detail));
    else if (pb && pb->n)
        json_object_set_new(o, "detail", json_sprintf("%zu field%s invalid", pb->n,
                                                      pb->n == 1 ? " is" : "s are"));
    if (pb && pb->n) {
        json_t *errs = json_array();
        for (size_t i = 0; i < pb->n; i++)
            json_array_append_new(errs, json_pack("{s:s,s:s}", "field", pb->errors[i].field,
                                                  "message", pb->errors[i].message));
        json_object_set_new(o, "errors", errs);
        if (pb->truncated)
            json_object_set_new(o, "errors_truncated", json_true());
    }
    if (pb && pb->status_now) {
        json_object_set_new(o, "status_now", json_string(pb->status_now));
        json_t *al = json_array();
        for (size_t i = 0; i < pb->n_allowed; i++)
            json_array_append_new(al, json_string(pb->allowed[i]));
        json_object_set_new(o, "allowed", al);
    }
    fx_req_json(req, status, o);
    req->content_type = "application/problem+json";
    if (status == 401)
        fx_req_set_header(req, "WWW-Authenticate", "Bearer realm=\"fx\"");
}

void fx_req_error(struct fx_req *req, enum fx_err err, const struct fx_problem *pb,
                  const char *detail)
{
    unsigned status = status_of(err);
    if (detail == NULL && err == FX_ESTORE)
        detail = "the store is unavailable; retry later";
    answer(req, status, pb, detail);
}

void fx_req_problem(struct fx_req *req, unsigned status, const char *detail)
{
    answer(req, status, NULL, detail);
}

void fx_req_problem_fields(struct fx_req *req, unsigned status, const struct fx_problem *pb,
                           const char *detail)
{
    answer(req, status, pb, detail);
}
