/*
 * request.h: one HTTP request as handlers see it, and the calls with which
 * they answer. The request's arena holds every temporary allocation; the
 * response body is owned by the request until libmicrohttpd takes it.
 */
#ifndef FX_REQUEST_H
#define FX_REQUEST_H

#include "auth/principal.h"
#include "common/arena.h"
#include "common/buf.h"
#include "common/limits.h"
#include "common/problem.h"
#include "http/ctx.h"
#include "http/ratelimit.h"

#include <jansson.h>
#include <stdbool.h>

struct MHD_Connection;

#define FX_MAX_RESP_HEADERS 8

struct fx_req {
    struct fx_ctx *ctx;                /* borrowed */
    struct MHD_Connection *conn;       /* borrowed from libmicrohttpd */
    struct fx_arena arena;             /* owns every temporary of the request */
    const char *method;                /* borrowed from libmicrohttpd */
    const char *path;                  /* borrowed from libmicrohttpd */
    const char *params[FX_MAX_PATH_PARAMS]; /* arena: the {…} segments of the route */
    size_t n_params;
    struct fx_buf body;                /* owned: the request body */
    bool body_too_big;
    bool authenticated;
    struct fx_principal who;           /* valid when authenticated */
    char client_net[FX_RL_ADDR_KEY];   /* rate-limited as, before authentication */

    /* the answer */
    unsigned status;
    char *resp;                        /* owned (malloc); NULL for an empty body */
    size_t resp_len;
    char *replay; /* owned (malloc); NULL: resp is what a replay answers */
    size_t replay_len;
    const char *content_type;          /* static string */
    const char *hdr_name[FX_MAX_RESP_HEADERS]; /* static strings */
    const char *hdr_value[FX_MAX_RESP_HEADERS]; /* arena */
    size_t n_hdr;
    const char *audit_action;          /* the route's (router.h), for a refusal's row */
    const char *audit_record;          /* arena: the record's id once known (else the path id) */
    json_t *receipts;                  /* borrowed during a write: its ledger receipts */

    /*
     * Set by the server where a write may end after its handler returns
     * (fx_write_start, write.h), NULL elsewhere: suspend() holds the request
     * without a thread until wake(), which any thread may call; it returns
     * false when the write must run in place (the server is stopping).
     */
    bool (*suspend)(struct fx_req *req);
    void (*wake)(struct fx_req *req);
    struct fx_write_pending *pending; /* arena: the write in flight while suspended */
    struct fx_audit_rows *audit_rows; /* arena: gathered for the server to keep before answering */
};

typedef void (*fx_handler_fn)(struct fx_req *req);

/* A request header, or NULL. Borrowed from libmicrohttpd. */
const char *fx_req_header(struct fx_req *req, const char *name);
/* A query argument, or NULL (decoded by libmicrohttpd). */
const char *fx_req_query(struct fx_req *req, const char *name);

/* Adds a response header. value is copied into the arena. */
void fx_req_set_header(struct fx_req *req, const char *name, const char *value);
/* Answers with JSON. Takes ownership of body (a new reference). */
void fx_req_json(struct fx_req *req, unsigned status, json_t *body);
/*
 * The JSON body an Idempotency-Key replay of this write answers instead of
 * the one given (write.c keeps it in its stead), for an answer that holds a
 * secret to show once (SPEC §12 tokens). Takes ownership of body.
 */
void fx_req_replay_json(struct fx_req *req, json_t *body);
/* Answers 200 with a page: {"items": items, "next_cursor": next_cursor or null}. Takes both. */
void fx_req_page(struct fx_req *req, json_t *items, json_t *next_cursor);
/* True when pb holds no field error; otherwise answers them (400/422) and returns false. */
bool fx_req_valid(struct fx_req *req, const struct fx_problem *pb);
/* Answers with bytes as they are (copied). */
void fx_req_bytes(struct fx_req *req, unsigned status, const char *content_type, const void *p,
                  size_t len);
/* Answers 204 No Content. */
void fx_req_no_content(struct fx_req *req);

/*
 * Answers an error as RFC 9457 problem+json (src/http/problem.c holds the
 * mapping). pb may be NULL; detail may be NULL.
 */
void fx_req_error(struct fx_req *req, enum fx_err err, const struct fx_problem *pb,
                  const char *detail);
/* Answers with an explicit status (400, 405, 413, 415, 428, 429…) and a detail sentence. */
void fx_req_problem(struct fx_req *req, unsigned status, const char *detail);
/* The same with field errors (pb may be NULL): a 400 that names every bad query parameter. */
void fx_req_problem_fields(struct fx_req *req, unsigned status, const struct fx_problem *pb,
                           const char *detail);

/*
 * Parses the body as a JSON object: checks Content-Type (415), parses (400),
 * and checks it is an object (422). Returns NULL after answering on failure;
 * the value is owned by the caller. An empty body is allowed when empty_ok
 * and yields an empty object.
 */
json_t *fx_req_body_object(struct fx_req *req, bool empty_ok);

/*
 * SPEC §10: the audit trail's rows of a request, which the server keeps, in
 * one transaction of their own, before the answer leaves: on libmicrohttpd's
 * threads without holding the thread meanwhile. When they cannot be kept, a
 * successful answer is replaced by 503 (no read is answered unlogged); a
 * refusal's stands. Strings are copied into the arena.
 */
void fx_req_audit_row(struct fx_req *req, const char *action, const char *record,
                      const char *record_org, const char *outcome);
/* The reads from outside the owning org that the answer holds (targets, n), under action. */
struct fx_audit_target;
void fx_req_audit_reads(struct fx_req *req, const char *action,
                        const struct fx_audit_target *targets, size_t n);

/* Query helpers: on a bad value they add to pb (field "query:NAME"). */
void fx_req_query_limit(struct fx_req *req, struct fx_problem *pb, int64_t *limit_out);
const char *fx_req_query_enum(struct fx_req *req, const char *name, const char *const *values,
                              struct fx_problem *pb);
void fx_req_query_date(struct fx_req *req, const char *name, struct fx_problem *pb,
                       int64_t *days_out, bool *present);
void fx_req_query_bool(struct fx_req *req, const char *name, struct fx_problem *pb, bool *out,
                       bool *present);
const char *fx_req_query_id(struct fx_req *req, const char *name, struct fx_problem *pb);
/* "cursor" as a row number (audit pages); *out is 0 when absent. */
void fx_req_query_row_cursor(struct fx_req *req, struct fx_problem *pb, int64_t *out);
/*
 * Adds to pb each query parameter outside allowed (NULL-terminated), too long
 * a value, or one parameter too many. The server runs it for every request
 * with its route's list (router.c) before the handler.
 */
void fx_req_query_only(struct fx_req *req, const char *const *allowed, struct fx_problem *pb);

#endif
