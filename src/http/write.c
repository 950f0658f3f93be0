/*
 * write.c: idempotent, durable writes. Stored answers are sealed under the
 * caller's org key: they hold record bodies.
 */
#include "http/write.h"
#include "common/parse.h"
#include "records/tlog.h"

#include <sodium.h>
#include <stdio.h>
#include <string.h>

struct wrap {
    struct fx_req *req;
    fx_db_fn fn;
    fx_answer_fn answer; /* NULL: fn answers */
    void *arg;
    bool answered;       /* the answer is written: replayed, or kept with the key */
    struct fx_tlog_seal *seal; /* owned: the write's receipts, signed after the commit */
    const char *key;      /* Idempotency-Key or NULL */
    char req_hash[65];
    struct fx_problem *pb;
};

static void request_hash(struct fx_req *req, char out[65])
{
    crypto_hash_sha256_state h;
    unsigned char d[32];
    crypto_hash_sha256_init(&h);
    crypto_hash_sha256_update(&h, (const unsigned char *)req->method, strlen(req->method) + 1);
    crypto_hash_sha256_update(&h, (const unsigned char *)req->path, strlen(req->path) + 1);
    if (req->body.len)
        crypto_hash_sha256_update(&h, (const unsigned char *)req->body.p, req->body.len);
    crypto_hash_sha256_final(&h, d);
    fx_hex(d, 32, out);
}

static void idem_aad(struct fx_req *req, const char *key, char *aad, size_t n)
{
    snprintf(aad, n, "idempotency:%s:%s", req->who.user_id, key);
}

/* Replays a stored answer. FX_EINVAL when the key was used for another request. */
static enum fx_err replay(struct wrap *w, struct fx_db *db, bool *found)
{
    static const char *sql = "SELECT request_sha256, status, body FROM idempotency"
                             " WHERE user_id = $1 AND key = $2 AND created_at > $3";
    struct fx_req *req = w->req;
    struct fx_stmt *st = NULL;
    bool row = false;
    *found = false;
    enum fx_err err = fx_db_prepare(db, sql, &st);
    if (err != FX_OK)
        return err;
    fx_stmt_bind_str(st, 1, req->who.user_id);
    fx_stmt_bind_str(st, 2, w->key);
    fx_stmt_bind_i64(st, 3, fx_clock_now(&req->ctx->clock) - FX_IDEMPOTENCY_TTL * 1000LL);
    err = fx_stmt_step(st, &row);
    if (err != FX_OK || !row)
        goto out;
    *found = true;
    if (strcmp(fx_stmt_text(st, 0, NULL), w->req_hash) != 0) {
        fx_problem_add(w->pb, "header:Idempotency-Key",
                       "this key was already used for a different request");
        err = FX_EINVAL;
        goto out;
    }
    unsigned status = (unsigned)fx_stmt_i64(st, 1);
    size_t clen = 0;
    const void *c = fx_stmt_blob(st, 2, &clen);
    char aad[256], *pt = NULL;
    size_t plen = 0;
    idem_aad(req, w->key, aad, sizeof(aad));
    err = fx_keyring_open(req->ctx->keys, db, req->who.org_id, aad, c, clen, &pt, &plen);
    if (err != FX_OK)
        goto out;
    json_t *saved = json_loadb(pt, plen, 0, NULL);
    free(pt);
    if (saved == NULL) {
        err = FX_ESTORE;
        goto out;
    }
    const char *name;
    json_t *v;
    json_object_foreach(json_object_get(saved, "headers"), name, v)
    {
        static const char *const known[] = {"ETag", "Location", NULL};
        for (size_t i = 0; known[i]; i++)
            if (strcmp(name, known[i]) == 0)
                fx_req_set_header(req, known[i], json_string_value(v));
    }
    const char *body = json_string_value(json_object_get(saved, "body"));
    fx_req_bytes(req, status, "application/json", body, strlen(body));
    fx_req_set_header(req, "Idempotent-Replayed", "true");
    json_decref(saved);
out:
    fx_stmt_finalize(st);
    return err;
}

/* Rows a sweep transaction deletes at most: short enough not to hold up other writes. */
#define SWEEP_CHUNK 1000

struct sweep {
    int64_t cutoff;
    int64_t removed; /* by this transaction */
};

static enum fx_err sweep_fn(struct fx_db *db, void *arg)
{
    /* matches replay(): a key is remembered while created_at > now - TTL */
    static const char *sql = "DELETE FROM idempotency WHERE (user_id, key) IN"
                             " (SELECT user_id, key FROM idempotency WHERE created_at <= $1"
                             " LIMIT $2)";
    struct sweep *sw = arg;
    struct fx_stmt *st = NULL;
    bool row = false;
    enum fx_err err = fx_db_prepare(db, sql, &st);
    if (err != FX_OK)
        return err;
    fx_stmt_bind_i64(st, 1, sw->cutoff);
    fx_stmt_bind_i64(st, 2, SWEEP_CHUNK);
    err = fx_stmt_step(st, &row);
    fx_stmt_finalize(st);
    sw->removed = err == FX_OK ? fx_db_changes(db) : 0;
    return err;
}

enum fx_err fx_idempotency_sweep(struct fx_store *store, int64_t now, int64_t *removed, bool *more)
{
    struct sweep sw = {.cutoff = now - FX_IDEMPOTENCY_TTL * 1000LL};
    enum fx_err err = fx_store_write(store, sweep_fn, &sw);
    *removed = err == FX_OK ? sw.removed : 0;
    *more = err == FX_OK && sw.removed == SWEEP_CHUNK;
    return err;
}

static enum fx_err remember(struct wrap *w, struct fx_db *db)
{
    static const char *sql = "INSERT INTO idempotency (user_id, key, request_sha256, status,"
                             " body, created_at) VALUES ($1, $2, $3, $4, $5, $6)"
                             " ON CONFLICT (user_id, key) DO UPDATE SET"
                             " request_sha256 = excluded.request_sha256, status = excluded.status,"
                             " body = excluded.body, created_at = excluded.created_at";
    struct fx_req *req = w->req;
    json_t *headers = json_object();
    for (size_t i = 0; i < req->n_hdr; i++)
        json_object_set_new(headers, req->hdr_name[i], json_string(req->hdr_value[i]));
    json_t *saved = json_object();
    json_object_set_new(saved, "headers", headers);
    /* a secret shown once is never kept: the replay answer the handler gave stands in */
    if (req->replay)
        json_object_set_new(saved, "body", json_stringn(req->replay, req->replay_len));
    else
        json_object_set_new(saved, "body", json_stringn(req->resp ? req->resp : "", req->resp_len));
    char *pt = json_dumps(saved, JSON_COMPACT);
    json_decref(saved);
    char aad[256];
    unsigned char *c = NULL;
    size_t clen = 0;
    idem_aad(req, w->key, aad, sizeof(aad));
    enum fx_err err =
        fx_keyring_seal(req->ctx->keys, db, req->who.org_id, aad, pt, strlen(pt), &c, &clen);
    free(pt);
    if (err != FX_OK)
        return err;
    struct fx_stmt *st = NULL;
    bool row;
    err = fx_db_prepare(db, sql, &st);
    if (err == FX_OK) {
        fx_stmt_bind_str(st, 1, req->who.user_id);
        fx_stmt_bind_str(st, 2, w->key);
        fx_stmt_bind_str(st, 3, w->req_hash);
        fx_stmt_bind_i64(st, 4, req->status);
        fx_stmt_bind_blob(st, 5, c, clen);
        fx_stmt_bind_i64(st, 6, fx_clock_now(&req->ctx->clock));
        err = fx_stmt_step(st, &row);
        fx_stmt_finalize(st);
    }
    free(c);
    return err;
}

/*
 * SPEC §9: a write that appended ledger leaves answers with their receipts. Handlers
 * whose answer already carries them (notices) are left alone; for the others the
 * receipt of the last leaf, and all of them when several, join the JSON answer.
 */
static void attach_receipts(struct fx_req *req)
{
    size_t n = req->receipts ? json_array_size(req->receipts) : 0;
    if (n == 0 || req->resp == NULL || req->status >= 300)
        return;
    json_t *v = json_loadb(req->resp, req->resp_len, 0, NULL);
    if (!json_is_object(v) || json_object_get(v, "receipt")) {
        json_decref(v);
        return;
    }
    json_object_set(v, "receipt", json_array_get(req->receipts, n - 1));
    if (n > 1)
        json_object_set(v, "receipts", req->receipts);
    const char *ct = req->content_type;
    fx_req_json(req, req->status, v);
    req->content_type = ct;
}

static enum fx_err run(struct fx_db *db, void *arg)
{
    struct wrap *w = arg;
    if (w->key) {
        bool found = false;
        enum fx_err err = replay(w, db, &found);
        w->answered = found;
        if (err != FX_OK || found)
            return err;
    }
    /* an answer rendered after the callback lets the ledger sign once for the batch,
     * and after the commit, off this (the writer's) thread */
    if (w->answer)
        fx_tlog_defer_begin();
    enum fx_err err = w->fn(db, w->arg);
    if (err == FX_OK && w->key) {
        /* the stored answer must be the one given: write it now, in the transaction */
        if (w->answer) {
            err = fx_tlog_defer_sign(w->req->ctx->signer);
            if (err == FX_OK)
                w->answer(w->req, w->arg);
        }
        if (err == FX_OK) {
            attach_receipts(w->req);
            err = remember(w, db);
            w->answered = err == FX_OK;
        }
    } else if (err == FX_OK && w->answer == NULL) {
        attach_receipts(w->req);
    }
    /* last: whatever fails rolls the callback's leaves back, and the ledger must know */
    if (w->answer)
        err = fx_tlog_defer_end(err, &w->seal);
    if (err != FX_OK) {
        /* the transaction rolls back: drop any answer the callback began */
        FX_FREE(w->req->resp);
        FX_FREE(w->req->replay);
        w->req->status = 0;
        w->req->n_hdr = 0;
    }
    return err;
}

static bool key_ok(const char *k)
{
    size_t n = strlen(k);
    if (n == 0 || n > FX_MAX_IDEMPOTENCY_KEY)
        return false;
    for (size_t i = 0; i < n; i++)
        if (k[i] < 0x21 || k[i] > 0x7e)
            return false;
    return true;
}

enum fx_err fx_write_run(struct fx_req *req, fx_db_fn fn, void *arg, struct fx_problem *pb)
{
    return fx_write_run_answer(req, fn, NULL, arg, pb);
}

/* Sets w up for a write: FX_EINVAL (in pb) for a malformed Idempotency-Key. */
static enum fx_err begin(struct wrap *w, struct fx_req *req, fx_db_fn fn, fx_answer_fn answer,
                         void *arg, struct fx_problem *pb)
{
    *w = (struct wrap){.req = req, .fn = fn, .answer = answer, .arg = arg, .pb = pb};
    const char *key = fx_req_header(req, "Idempotency-Key");
    if (key && strcmp(req->method, "POST") == 0) {
        if (!key_ok(key)) {
            fx_problem_add(pb, "header:Idempotency-Key",
                           "must be 1 to %d printable ASCII characters", FX_MAX_IDEMPOTENCY_KEY);
            return FX_EINVAL;
        }
        w->key = key;
        request_hash(req, w->req_hash);
    }
    return FX_OK;
}

/* The store's answer err: once committed, the answer is built here, off the writer
 * thread (unless replayed or kept with the key). */
static enum fx_err after(struct wrap *w, enum fx_err err)
{
    struct fx_req *req = w->req;
    if (err == FX_OK)
        atomic_fetch_add(&req->ctx->metrics.writes, 1);
    if (err == FX_OK && w->answer && !w->answered) {
        err = fx_tlog_seal_finish(w->seal, req->ctx->signer);
        w->seal = NULL;
        if (err == FX_OK) {
            w->answer(req, w->arg);
            attach_receipts(req);
        }
    }
    fx_tlog_seal_free(w->seal); /* not committed, or answered in the transaction */
    w->seal = NULL;
    return err;
}

enum fx_err fx_write_run_answer(struct fx_req *req, fx_db_fn fn, fx_answer_fn answer, void *arg,
                                struct fx_problem *pb)
{
    struct wrap w;
    enum fx_err err = begin(&w, req, fn, answer, arg, pb);
    if (err != FX_OK)
        return err;
    return after(&w, fx_store_write(req->ctx->store, run, &w));
}

struct fx_write_pending {
    struct wrap w;
    const struct fx_write_ops *ops;
    enum fx_err err; /* the store's, set before the request is woken */
};

/* fx_reset_fn: before fn runs again, in a new transaction (store.h). */
static void reset(void *arg)
{
    struct fx_write_pending *p = arg;
    fx_tlog_seal_free(p->w.seal);
    p->w.seal = NULL;
    p->ops->reset(p->w.arg);
}

/* fx_store_done_fn, on a store thread (or in fx_write_start when the store is closing):
 * nothing of p is touched once the request is woken. */
static void committed(void *arg, enum fx_err err)
{
    struct fx_write_pending *p = arg;
    struct fx_req *req = p->w.req;
    p->err = err;
    req->wake(req);
}

/* run() for a write in flight: the store's arg is the pending write, for reset(). */
static enum fx_err run_pending(struct fx_db *db, void *arg)
{
    return run(db, &((struct fx_write_pending *)arg)->w);
}

void fx_write_start(struct fx_req *req, const struct fx_write_ops *ops, void *arg,
                    struct fx_problem *pb)
{
    struct fx_write_pending *p = fx_arena_alloc(&req->arena, sizeof(*p));
    p->ops = ops;
    p->err = FX_OK;
    enum fx_err err = begin(&p->w, req, ops->fn, ops->answer, arg, pb);
    if (err == FX_OK && req->suspend && req->suspend(req)) {
        /* a kept answer is rendered in the transaction, once: no second run then */
        fx_reset_fn again = ops->reset && ops->answer && p->w.key == NULL ? reset : NULL;
        req->pending = p;
        if (fx_store_write_async(req->ctx->store, run_pending, again, p, committed, p) != FX_OK)
            committed(p, FX_EBUSY); /* the store is closing: answered as fx_store_write would */
        return;
    }
    if (err == FX_OK)
        err = after(&p->w, fx_store_write(req->ctx->store, run, &p->w));
    ops->done(req, arg, err);
}

void fx_write_resume(struct fx_req *req)
{
    struct fx_write_pending *p = req->pending;
    req->pending = NULL;
    p->ops->done(req, p->w.arg, after(&p->w, p->err));
}
