/*
 * api_ledger.c: the transparency log's public endpoints (SPEC §9): no
 * authentication, nothing confidential (leaves carry hashes and ids only).
 */
#include "common/parse.h"
#include "http/api.h"
#include "records/tlog.h"

#include <sodium.h>
#include <stdio.h>
#include <string.h>

struct lop {
    struct fx_req *req;
    uint64_t a, b;
    char *bytes; /* owned */
    size_t len;
    json_t *out; /* owned */
    bool immutable;
    char note[FX_CHECKPOINT_MAX_NOTE];
};

static void lop_cleanup(struct lop *op)
{
    free(op->bytes);
    json_decref(op->out);
}

static void answer_err(struct fx_req *req, enum fx_err err, const char *what)
{
    if (err == FX_EINVAL) {
        struct fx_problem pb;
        fx_problem_init(&pb);
        fx_problem_add(&pb, what, "no proof exists for these sizes in this log");
        fx_req_error(req, err, &pb, NULL);
        fx_problem_cleanup(&pb);
    } else {
        fx_req_error(req, err, NULL, err == FX_ENOTFOUND ? "no such entry" : NULL);
    }
}

static enum fx_err checkpoint_fn(struct fx_db *db, void *arg)
{
    struct lop *op = arg;
    return fx_tlog_checkpoint(db, op->req->ctx->signer, op->note, sizeof(op->note), &op->len);
}

void fx_api_ledger_checkpoint(struct fx_req *req)
{
    struct lop op = {.req = req};
    enum fx_err err = fx_store_read(req->ctx->store, checkpoint_fn, &op);
    if (err != FX_OK)
        fx_req_error(req, err, NULL, NULL);
    else
        fx_req_bytes(req, 200, "text/plain; charset=utf-8", op.note, op.len);
}

void fx_api_ledger_key(struct fx_req *req)
{
    char line[256];
    fx_signer_vkey(req->ctx->signer, line, sizeof(line));
    size_t n = strlen(line);
    line[n++] = '\n';
    fx_req_bytes(req, 200, "text/plain; charset=utf-8", line, n);
}

/* A non-negative decimal from a path segment or query value. */
static bool u64_of(const char *s, uint64_t *out)
{
    int64_t v;
    if (s == NULL || fx_parse_i64(s, strlen(s), 0, INT64_MAX, &v) != FX_OK)
        return false;
    *out = (uint64_t)v;
    return true;
}

static enum fx_err entry_fn(struct fx_db *db, void *arg)
{
    struct lop *op = arg;
    return fx_tlog_entry(db, op->a, &op->bytes, &op->len);
}

void fx_api_ledger_entry(struct fx_req *req)
{
    struct lop op = {.req = req};
    if (!u64_of(req->params[0], &op.a)) {
        fx_req_problem(req, 404, "no such entry");
        return;
    }
    enum fx_err err = fx_store_read(req->ctx->store, entry_fn, &op);
    if (err != FX_OK) {
        answer_err(req, err, "index");
    } else {
        size_t n = sodium_base64_ENCODED_LEN(op.len, sodium_base64_VARIANT_ORIGINAL);
        char *b = fx_arena_alloc(&req->arena, n);
        sodium_bin2base64(b, n, (const unsigned char *)op.bytes, op.len,
                          sodium_base64_VARIANT_ORIGINAL);
        fx_req_json(req, 200, json_pack("{s:I,s:s}", "index", (json_int_t)op.a, "leaf", b));
    }
    lop_cleanup(&op);
}

/* Reads two required numeric query parameters; answers 422 naming each bad one. */
static bool two_params(struct fx_req *req, const char *na, const char *nb, uint64_t *a,
                       uint64_t *b)
{
    struct fx_problem pb;
    fx_problem_init(&pb);
    if (!u64_of(fx_req_query(req, na), a))
        fx_problem_add(&pb, na[0] == 'i' ? "query:index" : "query:from",
                       "required: a non-negative integer");
    if (!u64_of(fx_req_query(req, nb), b))
        fx_problem_add(&pb, nb[0] == 's' ? "query:size" : "query:to",
                       "required: a non-negative integer");
    bool ok = !fx_problem_any(&pb);
    if (!ok)
        fx_req_error(req, FX_EINVAL, &pb, NULL);
    fx_problem_cleanup(&pb);
    return ok;
}

static enum fx_err inclusion_fn(struct fx_db *db, void *arg)
{
    struct lop *op = arg;
    return fx_tlog_inclusion(db, op->a, op->b, &op->out);
}

void fx_api_ledger_inclusion(struct fx_req *req)
{
    struct lop op = {.req = req};
    if (!two_params(req, "index", "size", &op.a, &op.b))
        return;
    enum fx_err err = fx_store_read(req->ctx->store, inclusion_fn, &op);
    if (err != FX_OK) {
        answer_err(req, err, "query:index");
    } else {
        fx_req_json(req, 200, op.out);
        op.out = NULL;
    }
    lop_cleanup(&op);
}

static enum fx_err consistency_fn(struct fx_db *db, void *arg)
{
    struct lop *op = arg;
    return fx_tlog_consistency(db, op->a, op->b, &op->out);
}

void fx_api_ledger_consistency(struct fx_req *req)
{
    struct lop op = {.req = req};
    if (!two_params(req, "from", "to", &op.a, &op.b))
        return;
    enum fx_err err = fx_store_read(req->ctx->store, consistency_fn, &op);
    if (err != FX_OK) {
        answer_err(req, err, "query:from");
    } else {
        fx_req_json(req, 200, op.out);
        op.out = NULL;
    }
    lop_cleanup(&op);
}

static enum fx_err tile_fn(struct fx_db *db, void *arg)
{
    struct lop *op = arg;
    const char *path = op->req->params[0];
    return fx_tlog_tile(db, path, strlen(path), &op->bytes, &op->len, &op->immutable);
}

void fx_api_ledger_tile(struct fx_req *req)
{
    struct lop op = {.req = req};
    enum fx_err err = fx_store_read(req->ctx->store, tile_fn, &op);
    if (err == FX_EINVAL || err == FX_ENOTFOUND) {
        fx_req_problem(req, 404, "no such tile");
    } else if (err != FX_OK) {
        fx_req_error(req, err, NULL, NULL);
    } else {
        fx_req_bytes(req, 200, "application/octet-stream", op.bytes, op.len);
        /* C2SP tlog-tiles: full tiles never change */
        fx_req_set_header(req, "Cache-Control",
                          op.immutable ? "public, max-age=31536000, immutable" : "no-cache");
    }
    lop_cleanup(&op);
}
