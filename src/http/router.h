/*
 * router.h: the route table: method and path pattern to handler, whether the
 * route needs a caller, and the query parameters it takes. Patterns are
 * literal segments and "*" for one parameter segment, which lands in
 * req->params in order. A GET route answers HEAD too (RFC 9110 §9.3.2).
 */
#ifndef FX_ROUTER_H
#define FX_ROUTER_H

#include "http/request.h"

enum fx_route_flags {
    FX_ROUTE_PUBLIC = 1, /* no authentication */
    /* a write whose handler runs on libmicrohttpd's thread: it writes only
     * through fx_write_start (write.h) and never waits for a commit */
    FX_ROUTE_ASYNC = 2,
};

struct fx_route {
    const char *method;
    const char *pattern;
    fx_handler_fn handler;
    unsigned flags;
    /* the query parameters it takes (NULL-terminated), NULL for none: the server
     * refuses any other before the handler runs (decision 0004) */
    const char *const *query;
    /* a write's audit action (SPEC §10), for the row its refusal leaves: set on
     * the request before the handler runs; NULL for reads */
    const char *audit;
};

/*
 * Finds the route for method and path (HEAD finds the GET route). Returns it,
 * or NULL with *path_known set when another method matches (405) and allow
 * (n bytes) listing them, HEAD beside GET. Parameters are copied into
 * req->params from the arena.
 */
const struct fx_route *fx_router_match(struct fx_req *req, const char *method, const char *path,
                                       int *path_known, char *allow, size_t n);

/* The whole table (for the test that keeps the OpenAPI document true). */
const struct fx_route *fx_router_table(size_t *n_out);

#endif
