/*
 * server.c: libmicrohttpd glue. Owns the daemon and each request's state from
 * the first callback to the completion notice.
 *
 * The path of a request: first callback (state, size limit, authentication,
 * rate limit) → body callbacks (bounded buffering) → last callback (route,
 * handler, response). Following libmicrohttpd 0.9.75's keep-alive behaviour,
 * the response is never queued on the first callback (see RECIPES.md).
 *
 * A libmicrohttpd thread serves many connections, so writes never wait for
 * their commit on it: had one waited, the other writes it serves could not
 * have joined that commit. Reads run there too. A request's audit rows (its
 * reads from outside the owning org, or its refusal) are kept after the
 * handler, before the answer leaves, the connection suspended meanwhile
 * (keep_rows). Handlers of FX_ROUTE_ASYNC routes run on it and leave their
 * write in flight (fx_write_start): the connection is suspended without a
 * thread, the store wakes it once the write is durable, and the answer is
 * built on the libmicrohttpd thread again. Other writes (every method but
 * GET and HEAD) run their handler on a pool of threads of their own: the
 * connection is suspended, a pool thread runs the handler (which waits for
 * its group commit) and keeps its audit rows, and the resumed connection
 * queues the answer.
 * Errors go to the client and the log; nothing here ends the process.
 */
#define _GNU_SOURCE /* accept4() */
#include "http/server.h"
#include "auth/token.h"
#include "auth/tokencache.h"
#include "common/log.h"
#include "common/parse.h"
#include "http/ratelimit.h"
#include "http/router.h"
#include "http/write.h"
#include "records/audit.h"

#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

struct conn_state;

/* The write pool (see the top of this file). Fields other than threads are guarded by mu. */
struct write_pool {
    pthread_mutex_t mu;
    pthread_cond_t wake;             /* a request was queued, or the pool stops */
    pthread_cond_t settled;          /* a suspended request was answered or closed */
    struct conn_state *head, *tail;  /* handed off, not yet taken by a pool thread */
    size_t out;                      /* suspended (handed off, or a write in flight), not settled */
    size_t waking;                   /* threads inside MHD_resume_connection (wake_conn) */
    bool stopping; /* no more suspensions: handlers and writes then run in place */
    pthread_t *threads;              /* owned */
    size_t n_threads;
};

struct fx_server {
    struct fx_ctx *ctx; /* borrowed */
    struct MHD_Daemon *daemon;
    char *cert, *key; /* owned PEM text */
    struct write_pool pool;
    int listen_fd; /* owned; the acceptor's */
    pthread_t acceptor;
    _Atomic bool stopping;   /* the acceptor ends at its next wake-up */
    unsigned max_conns;      /* the acceptor waits while this many are open or handed over */
    _Atomic unsigned open;   /* connections libmicrohttpd started and has not closed */
    _Atomic unsigned handed; /* accepted and handed over, not started yet */
    _Atomic unsigned char *handed_fd; /* owned: 1 at a socket's number while it is handed over */
    size_t n_handed_fd;
    int64_t accept_warned_ns; /* the acceptor's last warning (one a second at most) */
};

struct conn_state {
    struct fx_req req; /* first: suspend_write() finds the state from the request */
    struct fx_server *srv;
    const struct fx_route *route; /* matched at the last call, NULL until then */
    unsigned early_status; /* answer decided before the body (401, 413, 429) */
    const char *early_detail;
    size_t body_max;
    struct conn_state *next; /* in the write pool's queue */
    bool suspended;          /* counted in pool.out until settled */
    bool in_flight;          /* its write is the store's: req is not ours to read until woken */
    bool auditing;           /* its audit rows are being kept (keep_rows) until woken */
    enum fx_err rows_err;    /* how keeping them ended: set before the wake */
    bool woken;              /* resumed: the pool ran its task, or the write in flight ended */
};

struct auth_arg {
    const unsigned char *hash;
    int64_t now;
    struct fx_principal *out;
    int64_t expires;
};

static enum fx_err auth_fn(struct fx_db *db, void *arg)
{
    struct auth_arg *a = arg;
    return fx_token_lookup_hash(db, a->hash, a->now, a->out, &a->expires);
}

/* The rate limiter's key for a client that has not authenticated (fx_ratelimit_addr_key). */
static void client_key(struct MHD_Connection *conn, char out[static FX_RL_ADDR_KEY])
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    fx_ratelimit_addr_key(ci ? ci->client_addr : NULL, out);
}

static enum MHD_Result add_header_size(void *cls, enum MHD_ValueKind kind, const char *key,
                                       const char *value)
{
    (void)kind;
    size_t *total = cls;
    *total += strlen(key) + (value ? strlen(value) : 0) + 4;
    return MHD_YES;
}

/* SPEC §12: TAXII envelopes have a limit of their own (fxd serve --taxii-max-body). */
static bool taxii_route(const struct fx_req *req)
{
    return strncmp(req->path, "/taxii2/", 8) == 0;
}

static const char *too_big(const struct fx_req *req)
{
    return taxii_route(req) ? "the envelope is larger than this server's TAXII limit "
                              "(max_content_length at the API root)"
                            : "the body is larger than 1 MiB";
}

/* First callback: decides what can be decided from the headers alone. */
static void on_headers(struct conn_state *cs)
{
    struct fx_req *req = &cs->req;
    struct fx_ctx *ctx = req->ctx;
    int64_t now = fx_clock_now(&ctx->clock);
    cs->body_max = FX_MAX_BODY_UNAUTH;

    size_t header_bytes = 0;
    MHD_get_connection_values(req->conn, MHD_HEADER_KIND, add_header_size, &header_bytes);
    if (header_bytes > FX_MAX_HEADER_BYTES) {
        cs->early_status = 431;
        cs->early_detail = "the request headers are larger than 16 KiB";
        return;
    }

    char tok[FX_TOKEN_LEN + 1];
    const char *authz = fx_req_header(req, "Authorization");
    if (authz && fx_token_from_header(authz, tok) == FX_OK) {
        unsigned char hash[FX_TOKEN_HASH];
        fx_token_hash(tok, strlen(tok), hash);
        sodium_memzero(tok, sizeof(tok));
        struct auth_arg a = {hash, now, &req->who, 0};
        enum fx_err err = FX_OK;
        if (!ctx->tokens || !fx_tokencache_get(ctx->tokens, hash, now, &req->who)) {
            err = fx_store_read(ctx->store, auth_fn, &a);
            if (err == FX_OK && ctx->tokens)
                fx_tokencache_put(ctx->tokens, hash, &req->who, a.expires, now);
        }
        if (err == FX_OK) {
            req->authenticated = true;
            cs->body_max = !taxii_route(req) ? FX_MAX_BODY
                           : ctx->taxii_max_body ? ctx->taxii_max_body
                                                 : FX_MAX_TAXII_BODY;
        } else if (err != FX_EUNAUTH) {
            cs->early_status = 503;
            cs->early_detail = "the store is unavailable; retry later";
            return;
        }
    }
    if (ctx->rl) {
        unsigned retry = 0;
        char key[80];
        snprintf(key, sizeof(key), "%s%s", req->authenticated ? "t:" : "a:",
                 req->authenticated ? req->who.token_id : req->client_net);
        if (!fx_ratelimit_take(ctx->rl, key, now, &retry)) {
            char v[16];
            snprintf(v, sizeof(v), "%u", retry);
            fx_req_set_header(req, "Retry-After", v);
            cs->early_status = 429;
            cs->early_detail = "rate limit exceeded; retry after the time in Retry-After";
            return;
        }
    }
    const char *cl = fx_req_header(req, "Content-Length");
    int64_t len = 0;
    if (cl && fx_parse_i64(cl, strlen(cl), 0, INT64_MAX, &len) == FX_OK &&
        (uint64_t)len > cs->body_max) {
        cs->early_status = 413;
        cs->early_detail = req->authenticated ? too_big(req)
                                              : "the body is too large for an unauthenticated "
                                                "request";
    }
}

/*
 * Decision 0004: a query parameter the route does not take (router.c) is
 * refused by name before its handler runs: 422, or 400 as TAXII 2.1 answers
 * a bad filter. False once answered.
 */
static bool query_known(struct fx_req *req, const struct fx_route *r)
{
    static const char *const none[] = {NULL};
    struct fx_problem pb;
    fx_problem_init(&pb);
    fx_req_query_only(req, r->query ? r->query : none, &pb);
    bool ok = !fx_problem_any(&pb);
    if (!ok)
        fx_req_problem_fields(req, taxii_route(req) ? 400 : 422, &pb,
                              r->query ? NULL : "this endpoint takes no query parameters");
    fx_problem_cleanup(&pb);
    return ok;
}

/*
 * The route to run, or NULL once the request is answered without one (401,
 * 404, 413 …). A route's audit action is set on the request for its handler;
 * a caller's write refused here for what it sent (413, or a query parameter
 * the route does not take) leaves a row as a handler's refusal does, but one
 * refused for the server's sake (429, 431, 503) leaves none: a flood of them
 * must not cost a durable write each.
 */
static const struct fx_route *route_of(struct conn_state *cs)
{
    struct fx_req *req = &cs->req;
    int known = 0;
    char allow[128];
    /* a decoded path that is not UTF-8 names no resource: no id is such text, and
     * PostgreSQL could store no audit row naming it */
    size_t plen = strlen(req->path);
    const struct fx_route *r =
        plen > FX_MAX_PATH || !fx_utf8_valid(req->path, plen)
            ? NULL
            : fx_router_match(req, req->method, req->path, &known, allow, sizeof(allow));
    const char *audit = r && req->authenticated ? r->audit : NULL;
    if (cs->early_status) {
        req->audit_action = cs->early_status == 413 ? audit : NULL;
        fx_req_problem(req, cs->early_status, cs->early_detail);
        return NULL;
    }
    if (req->body_too_big) {
        req->audit_action = audit;
        fx_req_problem(req, 413, too_big(req));
        return NULL;
    }
    if (r == NULL) {
        if (known) {
            fx_req_problem(req, 405, "method not allowed on this resource");
            fx_req_set_header(req, "Allow", allow);
        } else {
            fx_req_problem(req, 404, "no such resource");
        }
        return NULL;
    }
    if (!(r->flags & FX_ROUTE_PUBLIC) && !req->authenticated) {
        fx_req_problem(req, 401,
                       fx_req_header(req, "Authorization")
                           ? "the token is not valid (unknown, revoked or expired)"
                           : "send Authorization: Bearer <token>");
        return NULL;
    }
    req->audit_action = audit;
    return query_known(req, r) ? r : NULL;
}

/* Runs the matched route's handler: it answers, or leaves a write in flight. */
static void run_handler(struct conn_state *cs)
{
    struct fx_req *req = &cs->req;
    cs->route->handler(req);
    if (!cs->in_flight && req->status == 0)
        fx_req_problem(req, 500, "the handler gave no answer");
}

static enum MHD_Result queue(struct conn_state *cs)
{
    struct fx_req *req = &cs->req;
    struct MHD_Response *resp = MHD_create_response_from_buffer_with_free_callback(
        req->resp_len, req->resp, free);
    req->resp = NULL; /* libmicrohttpd owns it now */
    if (resp == NULL)
        return MHD_NO;
    if (req->content_type)
        MHD_add_response_header(resp, "Content-Type", req->content_type);
    bool cache_set = false;
    for (size_t i = 0; i < req->n_hdr; i++) {
        MHD_add_response_header(resp, req->hdr_name[i], req->hdr_value[i]);
        cache_set = cache_set || strcmp(req->hdr_name[i], "Cache-Control") == 0;
    }
    if (!cache_set) /* answers hold confidential records unless a handler says otherwise */
        MHD_add_response_header(resp, "Cache-Control", "no-store");
    MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
    enum MHD_Result rc = MHD_queue_response(req->conn, req->status, resp);
    MHD_destroy_response(resp);
    unsigned cls = req->status / 100;
    if (cls >= 1 && cls <= 5)
        atomic_fetch_add(&req->ctx->metrics.requests[cls], 1);
    return rc;
}

/*
 * A refused mutation is audited (SPEC §10): its row joins the request's, once it
 * is answered. A denied one (403, 404) names the record as the caller named it,
 * so that its row reads the same whether the record exists or not: the resolved
 * id of a record the caller's org admins may not read would tell them it
 * exists (SPEC §2), and fx_api_audit_list shows denied rows to them as they are.
 */
static void audit_refusal(struct fx_req *req)
{
    if (req->status < 400 || !req->authenticated || req->audit_action == NULL)
        return;
    bool denied = req->status == 403 || req->status == 404;
    const char *record = !denied && req->audit_record ? req->audit_record : req->params[0];
    fx_req_audit_row(req, req->audit_action, record, NULL, denied ? "denied" : "refused");
}

/* A refusal's row joins the request's, and they are queued with copies: nobody
 * waits for the answer (the client has gone, or it has no body to wait for). */
static void rows_later(struct fx_req *req)
{
    audit_refusal(req);
    if (req->audit_rows)
        fx_audit_rows_later(req->ctx->store, req->audit_rows);
    req->audit_rows = NULL;
}

/* The request's audit rows are kept, or not: then 503 replaces a successful answer. */
static void rows_done(struct fx_req *req, enum fx_err err)
{
    req->audit_rows = NULL;
    if (err == FX_OK || req->status >= 400)
        return; /* a refusal's answer stands */
    FX_FREE(req->resp);
    req->status = 0;
    req->n_hdr = 0;
    /* whatever the store said, the read may be tried again: 503, as request.h says */
    fx_req_error(req, FX_ESTORE, NULL,
                 "the read could not be kept in the audit trail; retry later");
}

/* A pool thread's work on a request handed to it: the handler, then its audit rows. */
static void run_task(struct conn_state *cs)
{
    struct fx_req *req = &cs->req;
    run_handler(cs);
    audit_refusal(req);
    if (req->audit_rows)
        rows_done(req, fx_audit_rows_write(req->ctx->store, req->audit_rows, NULL, NULL));
}

/*
 * req->wake, from any thread: libmicrohttpd calls on_request again, on its own
 * thread. The request may be answered and freed before MHD_resume_connection
 * returns, so the pool counts the call itself: libmicrohttpd must not stop
 * while a store thread is still inside it (pool_stop).
 */
static void wake_conn(struct fx_req *req)
{
    struct conn_state *cs = (struct conn_state *)(void *)req;
    struct write_pool *wp = &cs->srv->pool;
    pthread_mutex_lock(&wp->mu);
    wp->waking++;
    pthread_mutex_unlock(&wp->mu);
    cs->woken = true;
    MHD_resume_connection(req->conn);
    pthread_mutex_lock(&wp->mu);
    wp->waking--;
    pthread_cond_broadcast(&wp->settled);
    pthread_mutex_unlock(&wp->mu);
}

static void *pool_main(void *arg)
{
    struct write_pool *wp = arg;
    prctl(PR_SET_NAME, "fx-write-pool");
    pthread_mutex_lock(&wp->mu);
    for (;;) {
        while (wp->head == NULL && !wp->stopping)
            pthread_cond_wait(&wp->wake, &wp->mu);
        struct conn_state *cs = wp->head;
        if (cs == NULL)
            break; /* stopping, and nothing left to run */
        wp->head = cs->next;
        if (wp->head == NULL)
            wp->tail = NULL;
        pthread_mutex_unlock(&wp->mu);
        run_task(cs);
        wake_conn(&cs->req);
        pthread_mutex_lock(&wp->mu);
    }
    pthread_mutex_unlock(&wp->mu);
    return NULL;
}

/* Suspends the connection, wp->mu held; false when the pool has stopped. */
static bool suspend_locked(struct write_pool *wp, struct conn_state *cs)
{
    if (wp->stopping)
        return false;
    MHD_suspend_connection(cs->req.conn);
    if (!cs->suspended) { /* a write in flight may hand its audit on: counted once */
        cs->suspended = true;
        wp->out++;
    }
    return true;
}

/* req->suspend for a write left in flight: the connection waits without a thread. */
static bool suspend_write(struct fx_req *req)
{
    struct conn_state *cs = (struct conn_state *)(void *)req;
    struct write_pool *wp = &cs->srv->pool;
    pthread_mutex_lock(&wp->mu);
    bool ok = suspend_locked(wp, cs);
    pthread_mutex_unlock(&wp->mu);
    cs->in_flight = ok; /* before the write is queued: the handler's thread reads it next */
    return ok;
}

/* Suspends the connection and queues cs for the pool; false when the pool has stopped. */
static bool hand_off(struct write_pool *wp, struct conn_state *cs)
{
    pthread_mutex_lock(&wp->mu);
    if (!suspend_locked(wp, cs)) {
        pthread_mutex_unlock(&wp->mu);
        return false;
    }
    cs->next = NULL;
    if (wp->tail)
        wp->tail->next = cs;
    else
        wp->head = cs;
    wp->tail = cs;
    pthread_cond_signal(&wp->wake);
    pthread_mutex_unlock(&wp->mu);
    return true;
}

/* A suspended request is done with: answered, or its connection closed. */
static void settle(struct write_pool *wp, struct conn_state *cs)
{
    if (!cs->suspended)
        return;
    cs->suspended = false;
    pthread_mutex_lock(&wp->mu);
    wp->out--;
    pthread_cond_broadcast(&wp->settled);
    pthread_mutex_unlock(&wp->mu);
}

static void pool_start(struct write_pool *wp, size_t n)
{
    pthread_mutex_init(&wp->mu, NULL);
    pthread_cond_init(&wp->wake, NULL);
    pthread_cond_init(&wp->settled, NULL);
    wp->threads = fx_xcalloc(n, sizeof(*wp->threads));
    for (wp->n_threads = 0; wp->n_threads < n; wp->n_threads++)
        if (pthread_create(&wp->threads[wp->n_threads], NULL, pool_main, wp) != 0)
            fx_die("cannot start the write pool");
}

/*
 * Runs what was handed off, stops the pool threads, then waits until every
 * suspended request (handed off, or with a write in flight) was answered or
 * its connection closed (libmicrohttpd must not stop with a connection
 * suspended). Requests that arrive meanwhile run their handler and their
 * writes in place.
 */
static void pool_stop(struct write_pool *wp)
{
    pthread_mutex_lock(&wp->mu);
    wp->stopping = true;
    pthread_cond_broadcast(&wp->wake);
    pthread_mutex_unlock(&wp->mu);
    for (size_t i = 0; i < wp->n_threads; i++)
        pthread_join(wp->threads[i], NULL);
    pthread_mutex_lock(&wp->mu);
    while (wp->out > 0 || wp->waking > 0)
        pthread_cond_wait(&wp->settled, &wp->mu);
    pthread_mutex_unlock(&wp->mu);
}

/* After libmicrohttpd's threads stopped: until then, requests still look at stopping. */
static void pool_destroy(struct write_pool *wp)
{
    free(wp->threads);
    pthread_mutex_destroy(&wp->mu);
    pthread_cond_destroy(&wp->wake);
    pthread_cond_destroy(&wp->settled);
}

static bool is_write(const struct fx_req *req)
{
    return strcmp(req->method, "GET") != 0 && strcmp(req->method, "HEAD") != 0;
}

/* fx_store_done_fn of keep_rows, on a store thread (or in keep_rows once the store closes). */
static void rows_kept(void *arg, enum fx_err err)
{
    struct conn_state *cs = arg;
    cs->rows_err = err;
    wake_conn(&cs->req);
}

/*
 * Queues the answer of a request run on this thread, once its audit rows
 * (fx_req_audit_row, and a refusal's) are kept: the connection suspended
 * meanwhile, or in place once the pool stops.
 */
static enum MHD_Result answer(struct fx_server *srv, struct conn_state *cs)
{
    struct fx_req *req = &cs->req;
    struct write_pool *wp = &srv->pool;
    audit_refusal(req);
    if (req->audit_rows) {
        pthread_mutex_lock(&wp->mu);
        bool suspended = suspend_locked(wp, cs);
        pthread_mutex_unlock(&wp->mu);
        if (suspended) {
            cs->auditing = true;
            if (fx_audit_rows_write(req->ctx->store, req->audit_rows, rows_kept, cs) != FX_OK)
                rows_kept(cs, FX_EBUSY); /* the store is closing */
            return MHD_YES;
        }
        rows_done(req, fx_audit_rows_write(req->ctx->store, req->audit_rows, NULL, NULL));
    }
    settle(wp, cs);
    return queue(cs);
}

/*
 * The last call of a request, on libmicrohttpd's thread: runs the handler
 * here or hands it to the pool (see the top of this file).
 */
static enum MHD_Result serve(struct fx_server *srv, struct conn_state *cs)
{
    struct fx_req *req = &cs->req;
    cs->route = route_of(cs);
    if (cs->route == NULL)
        return answer(srv, cs); /* keeps the row of a refused write first */
    if (is_write(req) && (cs->route->flags & FX_ROUTE_ASYNC)) {
        req->suspend = suspend_write;
        req->wake = wake_conn;
    } else if (is_write(req) && hand_off(&srv->pool, cs)) {
        return MHD_YES;
    }
    run_handler(cs);
    if (cs->in_flight)
        return MHD_YES; /* suspended until the store wakes it */
    return answer(srv, cs);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version,
                                  const char *upload_data, size_t *upload_data_size,
                                  void **con_cls)
{
    (void)version;
    struct fx_server *srv = cls;
    struct fx_ctx *ctx = srv->ctx;
    struct conn_state *cs = *con_cls;
    if (cs == NULL) {
        cs = fx_xcalloc(1, sizeof(*cs));
        fx_arena_init(&cs->req.arena);
        cs->srv = srv;
        cs->req.ctx = ctx;
        cs->req.conn = conn;
        cs->req.method = method;
        cs->req.path = url;
        client_key(conn, cs->req.client_net);
        on_headers(cs);
        fx_buf_init(&cs->req.body, cs->body_max);
        *con_cls = cs;
        const char *expect = fx_req_header(&cs->req, "Expect");
        if (cs->early_status && expect && strcasecmp(expect, "100-continue") == 0) {
            /* refuse before the client sends the body at all; a refused write's
             * row is kept without holding the answer, which has no body to wait for */
            route_of(cs);
            rows_later(&cs->req);
            return queue(cs);
        }
        return MHD_YES; /* answer on a later call: keeps keep-alive (RECIPES.md) */
    }
    if (*upload_data_size > 0) {
        /*
         * A body we will refuse is read and dropped rather than left unread: closing
         * with unread data makes the kernel send a reset that can destroy the answer.
         */
        if (!cs->early_status && !cs->req.body_too_big &&
            fx_buf_add(&cs->req.body, upload_data, *upload_data_size) != FX_OK) {
            cs->req.body_too_big = true;
            fx_buf_cleanup(&cs->req.body);
        }
        *upload_data_size = 0;
        return MHD_YES;
    }
    if (cs->woken) { /* resumed: the pool ran its task, audit rows were kept, or a write ended */
        cs->woken = false;
        if (cs->auditing) {
            cs->auditing = false;
            rows_done(&cs->req, cs->rows_err);
        }
        if (!cs->in_flight) {
            settle(&srv->pool, cs);
            return queue(cs);
        }
        cs->in_flight = false;
        fx_write_resume(&cs->req);
        return answer(srv, cs);
    }
    if (cs->req.status != 0)
        return MHD_YES; /* already answered early */
    return serve(srv, cs);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    (void)conn;
    (void)toe;
    struct fx_server *srv = cls;
    struct conn_state *cs = *con_cls;
    if (cs == NULL)
        return;
    /* resumed after its write ended, but the client had gone: libmicrohttpd closed
     * the connection without calling on_request, so the handler's end runs here,
     * and its audit rows are kept all the same (queued: nobody waits for the answer) */
    if (cs->in_flight) {
        struct fx_req *req = &cs->req;
        cs->in_flight = false;
        fx_write_resume(req);
        rows_later(req);
    }
    settle(&srv->pool, cs); /* closed before its answer was queued */
    free(cs->req.resp);
    free(cs->req.replay);
    fx_buf_cleanup(&cs->req.body);
    fx_arena_cleanup(&cs->req.arena);
    free(cs);
    *con_cls = NULL;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/*
 * Percent-decodes the path and query in place, except %00: a NUL would cut the
 * C string short and "ID%00junk" would read as "ID". Left encoded, it simply
 * matches nothing.
 */
static size_t unescape(void *cls, struct MHD_Connection *conn, char *s)
{
    (void)cls;
    (void)conn;
    char *w = s;
    for (const char *r = s; *r; r++) {
        int hi = r[0] == '%' ? hexval(r[1]) : -1;
        int lo = hi >= 0 ? hexval(r[2]) : -1;
        if (lo >= 0 && (hi | lo) != 0) {
            *w++ = (char)(hi * 16 + lo);
            r += 2;
        } else {
            *w++ = *r;
        }
    }
    *w = '\0';
    return (size_t)(w - s);
}

__attribute__((format(printf, 2, 0))) static void on_mhd_log(void *cls, const char *fmt,
                                                             va_list ap)
{
    (void)cls;
    char msg[512];
    vsnprintf(msg, sizeof(msg), fmt, ap);
    size_t n = strlen(msg);
    while (n > 0 && msg[n - 1] == '\n')
        msg[--n] = '\0';
    fx_log("warn", "http", json_pack("{s:s}", "detail", msg));
}

enum fx_err fx_server_parse_listen(const char *listen, void *sa_out, unsigned *sa_len_out,
                                   int *is_loopback)
{
    char host[128];
    const char *colon = strrchr(listen, ':');
    if (colon == NULL || (size_t)(colon - listen) >= sizeof(host))
        return FX_EINVAL;
    int64_t port;
    if (fx_parse_i64(colon + 1, strlen(colon + 1), 1, 65535, &port) != FX_OK)
        return FX_EINVAL;
    size_t hl = (size_t)(colon - listen);
    memcpy(host, listen, hl);
    host[hl] = '\0';
    if (hl >= 2 && host[0] == '[' && host[hl - 1] == ']') {
        struct sockaddr_in6 *s6 = sa_out;
        memset(s6, 0, sizeof(*s6));
        host[hl - 1] = '\0';
        if (inet_pton(AF_INET6, host + 1, &s6->sin6_addr) != 1)
            return FX_EINVAL;
        s6->sin6_family = AF_INET6;
        s6->sin6_port = htons((uint16_t)port);
        *sa_len_out = sizeof(*s6);
        *is_loopback = IN6_IS_ADDR_LOOPBACK(&s6->sin6_addr);
        return FX_OK;
    }
    struct sockaddr_in *s4 = sa_out;
    memset(s4, 0, sizeof(*s4));
    if (strcmp(host, "localhost") == 0)
        snprintf(host, sizeof(host), "127.0.0.1");
    if (inet_pton(AF_INET, host, &s4->sin_addr) != 1)
        return FX_EINVAL;
    s4->sin_family = AF_INET;
    s4->sin_port = htons((uint16_t)port);
    *sa_len_out = sizeof(*s4);
    *is_loopback = (ntohl(s4->sin_addr.s_addr) >> 24) == 127;
    return FX_OK;
}

static char *read_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return NULL;
    struct fx_buf b;
    fx_buf_init(&b, 1 << 20);
    char chunk[4096];
    size_t n;
    while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
        if (fx_buf_add(&b, chunk, n) != FX_OK) {
            fclose(f);
            fx_buf_cleanup(&b);
            return NULL;
        }
    }
    fclose(f);
    return fx_buf_take(&b, NULL);
}

static void pause_ms(long ms)
{
    struct timespec t = {ms / 1000, (ms % 1000) * 1000 * 1000};
    nanosleep(&t, NULL);
}

/* accept(2): errors of the connection at hand, or of the network, to be retried at once */
static bool accept_retry_now(int e)
{
    return e == EINTR || e == EAGAIN || e == ECONNABORTED || e == EPROTO || e == ENETDOWN ||
           e == ENOPROTOOPT || e == EHOSTDOWN || e == ENONET || e == EHOSTUNREACH ||
           e == EOPNOTSUPP || e == ENETUNREACH || e == EPERM;
}

/*
 * The acceptor stops accepting at --max-connections, counting the
 * connections libmicrohttpd started and has not closed, and those handed
 * over but not started yet (libmicrohttpd queues them for their thread).
 * The clients beyond wait in the kernel's backlog. libmicrohttpd's own limit
 * is set above what this lets through, because in 0.9.75 a connection
 * started past it can leave one of its threads blocked for good.
 *
 * A handed-over connection is marked by its socket's number. If
 * libmicrohttpd fails to start one (out of memory), it closes the socket
 * without a word; the kernel then gives that number to a later connection,
 * whose mark finds the old one still set and takes it over, so the count
 * never drifts for long.
 */
static void hand_mark(struct fx_server *srv, int fd)
{
    if ((size_t)fd < srv->n_handed_fd && atomic_exchange(&srv->handed_fd[fd], 1) == 0)
        atomic_fetch_add(&srv->handed, 1);
}

static void hand_clear(struct fx_server *srv, int fd)
{
    if (fd >= 0 && (size_t)fd < srv->n_handed_fd && atomic_exchange(&srv->handed_fd[fd], 0) == 1)
        atomic_fetch_sub(&srv->handed, 1);
}

static void on_connection(void *cls, struct MHD_Connection *conn, void **socket_ctx,
                          enum MHD_ConnectionNotificationCode code)
{
    (void)socket_ctx;
    struct fx_server *srv = cls;
    if (code == MHD_CONNECTION_NOTIFY_STARTED) {
        const union MHD_ConnectionInfo *ci =
            MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
        atomic_fetch_add(&srv->open, 1);
        hand_clear(srv, ci ? ci->connect_fd : -1);
    } else if (code == MHD_CONNECTION_NOTIFY_CLOSED) {
        atomic_fetch_sub(&srv->open, 1);
    }
}

/*
 * One thread accepts and hands each connection to libmicrohttpd, which places
 * it on one of its threads by the socket's number (MHD_add_connection), so
 * connections spread evenly. When libmicrohttpd's threads accept themselves,
 * the first to wake takes up to ten at once: under wrk's 64 connections two of
 * 32 threads served a third of them, and their requests queued behind each
 * other while other threads idled (decision 0016).
 */
static void *acceptor_main(void *arg)
{
    struct fx_server *srv = arg;
    prctl(PR_SET_NAME, "fx-accept");
    while (!atomic_load(&srv->stopping)) {
        if (atomic_load(&srv->open) + atomic_load(&srv->handed) >= srv->max_conns) {
            pause_ms(10);
            continue;
        }
        struct sockaddr_storage ss;
        socklen_t len = sizeof(ss);
        int fd =
            accept4(srv->listen_fd, (struct sockaddr *)&ss, &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd >= 0) {
            hand_mark(srv, fd);
            /* libmicrohttpd closes the socket itself when it cannot take it */
            if (MHD_add_connection(srv->daemon, fd, (struct sockaddr *)&ss, len) != MHD_YES)
                hand_clear(srv, fd);
            continue;
        }
        int e = errno;
        if (atomic_load(&srv->stopping))
            break;
        if (accept_retry_now(e))
            continue;
        /* out of descriptors or memory: the backlog holds the clients meanwhile */
        int64_t now = fx_clock_monotonic_ns();
        if (now - srv->accept_warned_ns >= 1000 * 1000 * 1000) {
            srv->accept_warned_ns = now;
            fx_log("warn", "cannot accept a connection", json_pack("{s:s}", "error", strerror(e)));
        }
        pause_ms(100);
    }
    return NULL;
}

static int listen_on(const struct sockaddr *sa, socklen_t sa_len)
{
    int fd = socket(sa->sa_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    int on = 1;
    if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)) != 0 ||
        bind(fd, sa, sa_len) != 0 || listen(fd, SOMAXCONN) != 0) {
        int e = errno;
        close(fd);
        errno = e;
        return -1;
    }
    return fd;
}

/* The certificate and key text (the key wiped first), and the acceptor's marks. */
static void free_parts(struct fx_server *srv)
{
    free(srv->handed_fd);
    srv->handed_fd = NULL;
    if (srv->key)
        sodium_memzero(srv->key, strlen(srv->key));
    free(srv->cert);
    free(srv->key);
}

enum fx_err fx_server_start(struct fx_ctx *ctx, const struct fx_server_opts *opts,
                            struct fx_server **out)
{
    struct sockaddr_in6 sa; /* large enough for either family */
    unsigned sa_len = 0;
    int loop = 0;
    if (fx_server_parse_listen(opts->listen, &sa, &sa_len, &loop) != FX_OK)
        return FX_EINVAL;
    struct fx_server *srv = fx_xcalloc(1, sizeof(*srv));
    srv->ctx = ctx;
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ERROR_LOG |
                     MHD_USE_ITC | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_NO_LISTEN_SOCKET;
    if (opts->tls_cert) {
        srv->cert = read_file(opts->tls_cert);
        srv->key = read_file(opts->tls_key);
        if (srv->cert == NULL || srv->key == NULL) {
            free_parts(srv);
            free(srv);
            return FX_EIO;
        }
        flags |= MHD_USE_TLS;
    }
    srv->listen_fd = listen_on((struct sockaddr *)&sa, sa_len);
    if (srv->listen_fd < 0) {
        fx_log("error", "cannot open the listening socket",
               json_pack("{s:s,s:s}", "listen", opts->listen, "error", strerror(errno)));
        free_parts(srv);
        free(srv);
        return FX_EIO;
    }
    srv->max_conns = opts->max_connections ? opts->max_connections : FX_MAX_CONNECTIONS;
    struct rlimit nofile;
    srv->n_handed_fd = getrlimit(RLIMIT_NOFILE, &nofile) == 0 && nofile.rlim_cur < (1u << 20)
                           ? (size_t)nofile.rlim_cur
                           : (size_t)1 << 20;
    srv->handed_fd = fx_xcalloc(srv->n_handed_fd, sizeof(*srv->handed_fd));
    /* one pool thread per libmicrohttpd thread: as many writes wait for a commit as before */
    pool_start(&srv->pool, opts->threads);
    struct MHD_OptionItem tls_opts[] = {
        {MHD_OPTION_HTTPS_MEM_CERT, 0, srv->cert},
        {MHD_OPTION_HTTPS_MEM_KEY, 0, srv->key},
        {MHD_OPTION_END, 0, NULL},
    };
    /* never reached: a thread gets at most what the acceptor lets through, with room for
     * connections closed and not yet cleaned up */
    unsigned mhd_limit = (srv->max_conns + 1024) * opts->threads;
    srv->daemon = MHD_start_daemon(
        flags, 0, NULL, NULL, on_request, srv, MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, NULL,
        MHD_OPTION_UNESCAPE_CALLBACK, unescape, NULL, MHD_OPTION_THREAD_POOL_SIZE, opts->threads,
        MHD_OPTION_NOTIFY_COMPLETED, on_completed, srv, MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)60,
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)FX_CONNECTION_MEMORY,
        MHD_OPTION_CONNECTION_LIMIT, mhd_limit, MHD_OPTION_NOTIFY_CONNECTION, on_connection, srv,
        MHD_OPTION_ARRAY, opts->tls_cert ? tls_opts : tls_opts + 2, MHD_OPTION_END);
    if (srv->daemon == NULL || pthread_create(&srv->acceptor, NULL, acceptor_main, srv) != 0) {
        if (srv->daemon)
            MHD_stop_daemon(srv->daemon);
        close(srv->listen_fd);
        pool_stop(&srv->pool);
        pool_destroy(&srv->pool);
        free_parts(srv);
        free(srv);
        return FX_EIO;
    }
    *out = srv;
    return FX_OK;
}

void fx_server_stop(struct fx_server *srv)
{
    if (srv == NULL)
        return;
    /*
     * Stop accepting (the acceptor, then its socket), let the write pool finish what it holds and
     * give every suspended connection back, then MHD_stop_daemon joins the libmicrohttpd threads:
     * handlers running finish (requests that come meanwhile run in place).
     */
    atomic_store(&srv->stopping, true);
    shutdown(srv->listen_fd, SHUT_RDWR); /* wakes accept4() */
    pthread_join(srv->acceptor, NULL);
    close(srv->listen_fd);
    pool_stop(&srv->pool);
    MHD_stop_daemon(srv->daemon);
    pool_destroy(&srv->pool);
    free_parts(srv);
    free(srv);
}
