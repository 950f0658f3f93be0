/*
 * tlog.c: the ledger module (src/ledger) over the ledger_* tables. Dense
 * indices come for free: appends happen in write transactions, which the
 * store serialises, and each reads the current size inside its transaction.
 */
#include "records/tlog.h"
#include "common/buf.h"
#include "common/json.h"
#include "common/parse.h"
#include "crypto/digest.h"

#include <pthread.h>
#include <resolv.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#define TILE_HEIGHT 8
#define TILE_WIDTH 256
#define MAX_TILE_LEVEL 8

/*
 * Where the hash of the node at (level, index) is kept: its in-order position,
 * leaf i at 2i (migration 5 says why). Callers pass nodes of the stored tree,
 * whose positions are below twice its size.
 */
static int64_t position(unsigned level, uint64_t index)
{
    return (int64_t)((index << (level + 1)) + ((uint64_t)1 << level) - 1);
}

static enum fx_err node_hash(void *ctx, unsigned level, uint64_t index,
                             unsigned char out[FX_MERKLE_HASH], bool *found)
{
    static const char *sql = "SELECT hash FROM ledger_hashes WHERE pos = $1";
    struct fx_stmt *st = NULL;
    bool row = false;
    *found = false;
    enum fx_err err = fx_db_prepare(ctx, sql, &st);
    if (err != FX_OK)
        return err;
    fx_stmt_bind_i64(st, 1, position(level, index));
    err = fx_stmt_step(st, &row);
    size_t len = 0;
    const void *h = row ? fx_stmt_blob(st, 0, &len) : NULL;
    if (err == FX_OK && row && len == FX_MERKLE_HASH) {
        memcpy(out, h, FX_MERKLE_HASH);
        *found = true;
    }
    fx_stmt_finalize(st);
    return err;
}

static enum fx_err leaf_hash(void *ctx, uint64_t index, unsigned char out[FX_MERKLE_HASH])
{
    bool found = false;
    enum fx_err err = node_hash(ctx, 0, index, out, &found);
    return err == FX_OK && !found ? FX_ESTORE : err;
}

enum fx_err fx_tlog_size(struct fx_db *db, uint64_t *size_out)
{
    static const char *sql = "SELECT COALESCE(MAX(idx) + 1, 0) FROM ledger_leaves";
    struct fx_stmt *st = NULL;
    bool row = false;
    enum fx_err err = fx_db_prepare(db, sql, &st);
    if (err != FX_OK)
        return err;
    err = fx_stmt_step(st, &row);
    if (err == FX_OK && row)
        *size_out = (uint64_t)fx_stmt_i64(st, 0);
    else if (err == FX_OK)
        err = FX_ESTORE;
    fx_stmt_finalize(st);
    return err;
}

static void store_of(struct fx_db *db, uint64_t size, struct fx_merkle_store *st)
{
    st->ctx = db;
    st->size = size;
    st->get_leaf_hash = leaf_hash;
    st->get_node = node_hash;
}

/*
 * Base64 (RFC 4648 §4) of public ledger bytes: leaves and hashes. glibc's
 * b64_ntop() rather than libsodium's encoder, which is constant-time for
 * secrets and seven times slower; a write's answer encodes some fifty of these.
 */
static json_t *b64(const unsigned char *p, size_t n)
{
    size_t cap = (n + 2) / 3 * 4 + 1;
    char stack[64], *s = cap <= sizeof(stack) ? stack : fx_xmalloc(cap);
    int len = b64_ntop(p, n, s, cap);
    if (len < 0)
        fx_die("b64_ntop failed");
    json_t *j = json_stringn_nocheck(s, (size_t)len); /* ASCII: nothing for jansson to check */
    if (s != stack)
        free(s);
    return j;
}

static json_t *path_json(const struct fx_merkle_proof *p)
{
    json_t *a = json_array();
    for (size_t i = 0; i < p->n; i++)
        json_array_append_new(a, b64(p->hash[i], FX_MERKLE_HASH));
    return a;
}

/*
 * Rows of (key, blob) waiting for one multi-row INSERT: a bulk append of a leaf
 * writes three rows on average (its bytes, its hash, the node it completes), and
 * one statement per row cost more than the rows themselves.
 */
#define ROWS 32

enum { LEAVES, HASHES }; /* the two tables rows go to, as indices of tables[] */

struct rows {
    unsigned table; /* LEAVES or HASHES */
    size_t n;
    int64_t key[ROWS];
    const void *blob[ROWS]; /* borrowed until the flush; hashes point into copy[] */
    size_t len[ROWS];
    unsigned char copy[ROWS][FX_MERKLE_HASH];
};

/* The two INSERTs of each table, for one row and for ROWS rows: built once, so that
 * the store's statement cache (keyed by the SQL's address) keeps them prepared.
 * OR FAIL: no statement journal (store.h); a failure rolls the whole write back. */
static char sql_text[2][2][ROWS * 16 + 64];
static pthread_once_t sql_once = PTHREAD_ONCE_INIT;
static const char *const tables[2] = {[LEAVES] = "ledger_leaves (idx, leaf)",
                                      [HASHES] = "ledger_hashes (pos, hash)"};

static void build_sql(void)
{
    for (size_t t = 0; t < 2; t++) {
        for (size_t many = 0; many < 2; many++) {
            char *q = sql_text[t][many];
            size_t cap = sizeof(sql_text[t][many]);
            int at = snprintf(q, cap, "INSERT OR FAIL INTO %s VALUES ", tables[t]);
            for (size_t i = 0; i < (many ? ROWS : 1); i++)
                at += snprintf(q + at, cap - (size_t)at, "%s($%zu, $%zu)", i ? ", " : "",
                               2 * i + 1, 2 * i + 2);
        }
    }
}

static enum fx_err rows_flush(struct fx_db *db, struct rows *r)
{
    enum fx_err err = FX_OK;
    size_t t = r->table, done = 0;
    pthread_once(&sql_once, build_sql);
    while (err == FX_OK && done < r->n) {
        size_t k = r->n - done >= ROWS ? ROWS : 1;
        struct fx_stmt *st = NULL;
        bool row;
        err = fx_db_prepare(db, sql_text[t][k == ROWS], &st);
        for (size_t i = 0; err == FX_OK && i < k; i++) {
            fx_stmt_bind_i64(st, (int)(2 * i + 1), r->key[done + i]);
            fx_stmt_bind_blob(st, (int)(2 * i + 2), r->blob[done + i], r->len[done + i]);
        }
        if (err == FX_OK)
            err = fx_stmt_step(st, &row);
        fx_stmt_finalize(st);
        done += k;
    }
    r->n = 0;
    return err;
}

/* Queues a row; a hash (len FX_MERKLE_HASH, copy true) is copied, other blobs borrowed. */
static enum fx_err rows_add(struct fx_db *db, struct rows *r, int64_t key, const void *blob,
                            size_t len, bool copy)
{
    if (copy) {
        memcpy(r->copy[r->n], blob, FX_MERKLE_HASH);
        blob = r->copy[r->n];
    }
    r->key[r->n] = key;
    r->blob[r->n] = blob;
    r->len[r->n] = len;
    return ++r->n == ROWS ? rows_flush(db, r) : FX_OK;
}

/* What an append has queued: the leaves' bytes and every hash. */
struct pending {
    struct rows leaves, hashes;
};

static void pending_init(struct pending *p)
{
    p->leaves.table = LEAVES;
    p->leaves.n = 0;
    p->hashes.table = HASHES;
    p->hashes.n = 0;
}

static enum fx_err pending_flush(struct fx_db *db, struct pending *p)
{
    enum fx_err err = rows_flush(db, &p->leaves);
    enum fx_err err2 = rows_flush(db, &p->hashes);
    return err != FX_OK ? err : err2;
}

/*
 * RFC 9162's leaf hash, SHA-256(0x00 ‖ leaf), with the CPU's SHA instructions
 * (crypto/digest.c) for leaves of the usual size: the store hashes every leaf
 * on the writer's thread, and libsodium's portable SHA-256 took a tenth of it.
 * fx_merkle_leaf_hash() (libsodium) is the same function, for the rest.
 */
static void leaf_hash_of(const char *bytes, size_t len, unsigned char out[FX_MERKLE_HASH])
{
    unsigned char buf[1024];
    if (len >= sizeof(buf)) {
        fx_merkle_leaf_hash(bytes, len, out);
        return;
    }
    buf[0] = 0x00;
    memcpy(buf + 1, bytes, len);
    fx_digest_sha256(buf, len + 1, out);
}

/* True when jansson writes s as it is between quotes: printable ASCII, no '"' nor '\\'. */
static bool plain(const char *s)
{
    for (; *s != '\0'; s++)
        if ((unsigned char)*s < 0x20 || *s > '~' || *s == '"' || *s == '\\')
            return false;
    return true;
}

/*
 * The leaf's bytes (SPEC §9): compact sorted-key JSON of kind, record_id,
 * version, content_sha256, org and time; never confidential content. Owned.
 * This is fx_json_canonical() of that object, byte for byte: leaves of
 * printable ASCII (every leaf fxd writes: ids, hex, kinds) are written
 * directly, because bulk appends spend most of their time here otherwise;
 * anything else goes through jansson. fx_receipt_parse_leaf() holds every
 * verified leaf to the jansson encoding, so the two cannot drift unseen.
 */
static char *leaf_bytes(const struct fx_leaf *leaf, size_t *len_out)
{
    char t[25];
    fx_format_time(leaf->time_ms, t);
    if (plain(leaf->kind) && plain(leaf->record_id) && plain(leaf->content_sha256) &&
        plain(leaf->org)) {
        /* members in sorted order; memcpy rather than printf: this runs per leaf */
        const char *part[] = {"{\"content_sha256\":\"", leaf->content_sha256,
                              "\",\"kind\":\"",         leaf->kind,
                              "\",\"org\":\"",          leaf->org,
                              "\",\"record_id\":\"",    leaf->record_id,
                              "\",\"time\":\"",         t,
                              "\",\"version\":"};
        size_t plen[FX_ARRAY_LEN(part)];
        size_t cap = 24, at = 0; /* room for "-9223372036854775808}" and the NUL */
        for (size_t i = 0; i < FX_ARRAY_LEN(part); i++) {
            plen[i] = strlen(part[i]);
            cap += plen[i];
        }
        char *out = fx_xmalloc(cap);
        for (size_t i = 0; i < FX_ARRAY_LEN(part); i++) {
            memcpy(out + at, part[i], plen[i]);
            at += plen[i];
        }
        char num[24];
        int n = snprintf(num, sizeof(num), "%lld}", (long long)leaf->version);
        memcpy(out + at, num, (size_t)n + 1);
        *len_out = at + (size_t)n;
        return out;
    }
    json_t *lj = json_pack("{s:s,s:s,s:I,s:s,s:s,s:s}", "kind", leaf->kind, "record_id",
                           leaf->record_id, "version", (json_int_t)leaf->version,
                           "content_sha256", leaf->content_sha256, "org", leaf->org, "time", t);
    if (lj == NULL)
        fx_die("json_pack failed");
    char *bytes = fx_json_canonical(lj, len_out);
    json_decref(lj);
    return bytes;
}

struct run;
static void run_record(struct run *r, uint64_t index, const unsigned char h[FX_MERKLE_HASH]);
static void run_node(struct run *r, const struct fx_merkle_node *node);

/*
 * Queues the leaf at index ap->size (its bytes, its hash, then every node it
 * completes) and pushes it onto *ap; pending_flush() writes them. The leaf's
 * bytes are borrowed until then. The caller holds the write transaction. A
 * deferred write's run (NULL otherwise) keeps the hashes, for its receipts.
 */
static enum fx_err put_leaf(struct fx_db *db, struct pending *pw, struct fx_merkle_appender *ap,
                            const char *bytes, size_t len, const unsigned char h[FX_MERKLE_HASH],
                            struct run *run)
{
    struct fx_merkle_node done[FX_MERKLE_MAX_LEVELS];
    size_t ndone = 0;
    uint64_t index = ap->size;
    enum fx_err err = rows_add(db, &pw->leaves, (int64_t)index, bytes, len, false);
    if (err == FX_OK)
        err = rows_add(db, &pw->hashes, position(0, index), h, FX_MERKLE_HASH, true);
    if (err == FX_OK)
        err = fx_merkle_appender_push(ap, h, done, &ndone);
    if (err == FX_OK && run != NULL)
        run_record(run, index, h);
    for (size_t i = 0; i < ndone && err == FX_OK; i++) {
        err = rows_add(db, &pw->hashes, position(done[i].level, done[i].index), done[i].hash,
                       FX_MERKLE_HASH, true);
        if (run != NULL)
            run_node(run, &done[i]);
    }
    return err;
}

/* The appender of the stored tree, and its size (the caller frees *ap_out). */
static enum fx_err load_tree(struct fx_db *db, struct fx_merkle_store *ms,
                             struct fx_merkle_appender **ap_out)
{
    uint64_t size = 0;
    enum fx_err err = fx_tlog_size(db, &size);
    *ap_out = NULL;
    if (err != FX_OK)
        return err;
    store_of(db, size, ms);
    struct fx_merkle_appender *ap = fx_xmalloc(sizeof(*ap));
    err = fx_merkle_appender_load(ap, ms, size);
    if (err != FX_OK) {
        free(ap);
        return err;
    }
    *ap_out = ap;
    return FX_OK;
}

/*
 * Deferred receipts (fx_tlog_defer_begin()). The store's writer runs the
 * callbacks of a batch one after the other in one transaction, and nothing
 * else appends meanwhile. A run is what the deferred callbacks of one such
 * transaction appended one after the other: the tree's edge before the first
 * of them, and each leaf hash and complete node since. Every callback's seal
 * holds its run, so that after the commit the run's writes prove their leaves
 * against one checkpoint, signed once, by whichever seal is finished first:
 * the signature was the largest cost of a write's answer.
 */
struct run {
    atomic_uint refs;                        /* seals, and the writer's own while current */
    pthread_mutex_t note_mu;                 /* guards note and note_size */
    uint64_t txn;                            /* fx_db_txn() of the transaction that wrote it */
    struct fx_merkle_appender first;         /* the tree before the run's first leaf */
    struct fx_merkle_appender end;           /* the tree after the last callback that succeeded */
    unsigned char (*hashes)[FX_MERKLE_HASH]; /* owned: leaf hashes from first.size on */
    size_t n, cap;                /* hashes recorded (past end.size: a failed callback's) */
    struct fx_merkle_node *nodes; /* owned: the complete nodes the appends finished, in order */
    size_t n_nodes, cap_nodes;
    /* the checkpoint of end, once a committed write signed it; never one signed
     * in the transaction (fx_tlog_defer_sign()), which may yet roll back */
    uint64_t note_size; /* 0: none yet */
    char note[FX_CHECKPOINT_MAX_NOTE];
};

static void run_hold(struct run *r)
{
    atomic_fetch_add(&r->refs, 1);
}

static void run_release(struct run *r)
{
    if (r != NULL && atomic_fetch_sub(&r->refs, 1) == 1) {
        pthread_mutex_destroy(&r->note_mu);
        free(r->hashes);
        free(r->nodes);
        free(r);
    }
}

/* The writer's current run (a reference), per thread; dropped when the thread ends. */
static pthread_key_t cur_key;
static pthread_once_t cur_once = PTHREAD_ONCE_INIT;

static void cur_drop(void *r)
{
    run_release(r);
}

static void cur_key_make(void)
{
    if (pthread_key_create(&cur_key, cur_drop) != 0)
        fx_die("pthread_key_create failed");
}

/*
 * The run a callback in db's transaction appends to, when its first append
 * finds the stored tree as ap: the current one when it belongs to the same
 * transaction and ends where the store's tree does, else a new one (another
 * transaction, or leaves appended since without deferring).
 */
static struct run *run_of(struct fx_db *db, const struct fx_merkle_appender *ap)
{
    pthread_once(&cur_once, cur_key_make);
    struct run *r = pthread_getspecific(cur_key);
    uint64_t txn = fx_db_txn(db);
    if (r != NULL && r->txn == txn && r->end.size == ap->size)
        return r;
    run_release(r);
    r = fx_xcalloc(1, sizeof(*r));
    pthread_mutex_init(&r->note_mu, NULL);
    atomic_init(&r->refs, 1);
    r->txn = txn;
    r->first = *ap;
    r->end = *ap;
    if (pthread_setspecific(cur_key, r) != 0)
        fx_die("pthread_setspecific failed");
    return r;
}

/* Records the hash of the leaf at index, over whatever a failed callback left there. */
static void run_record(struct run *r, uint64_t index, const unsigned char h[FX_MERKLE_HASH])
{
    size_t at = (size_t)(index - r->first.size);
    if (at >= r->cap) {
        r->cap = r->cap ? r->cap * 2 : 16;
        r->hashes = fx_xrealloc(r->hashes, r->cap * FX_MERKLE_HASH);
    }
    memcpy(r->hashes[at], h, FX_MERKLE_HASH);
    r->n = at + 1;
}

/* Records a complete node an append finished; a later one at the same place wins. */
static void run_node(struct run *r, const struct fx_merkle_node *node)
{
    if (r->n_nodes == r->cap_nodes) {
        r->cap_nodes = r->cap_nodes ? r->cap_nodes * 2 : 16;
        r->nodes = fx_xrealloc(r->nodes, r->cap_nodes * sizeof(*r->nodes));
    }
    r->nodes[r->n_nodes++] = *node;
}

/* The state of one deferred callback on the writer's thread. */
struct defer {
    bool active;
    struct run *run;               /* the thread's current run, once the callback appends */
    struct fx_merkle_appender *ap; /* owned: the tree as the callback leaves it; NULL until used */
    json_t *pending;               /* owned: receipts waiting for their checkpoint and path */
};
static _Thread_local struct defer defer;

/* The appender an append works on: the callback's own while deferring, else read back. */
static enum fx_err appender_of(struct fx_db *db, struct fx_merkle_appender **ap_out)
{
    struct fx_merkle_store ms;
    if (!defer.active)
        return load_tree(db, &ms, ap_out);
    if (defer.ap == NULL) {
        enum fx_err err = load_tree(db, &ms, &defer.ap);
        if (err != FX_OK)
            return err;
        defer.run = run_of(db, defer.ap);
    }
    *ap_out = defer.ap;
    return FX_OK;
}

static void appender_done(struct fx_merkle_appender *ap)
{
    if (ap != defer.ap)
        free(ap);
}

void fx_tlog_defer_begin(void)
{
    defer.active = true;
}

/*
 * The in-memory tree of a run: the nodes before its first leaf are the
 * frontier it started from (a left sibling on the path of a later leaf is
 * always one of them), the rest is computed from the leaf hashes it recorded.
 */
static enum fx_err mem_leaf(void *ctx, uint64_t index, unsigned char out[FX_MERKLE_HASH])
{
    const struct run *r = ctx;
    uint64_t s0 = r->first.size;
    if (index >= s0 && index - s0 < r->n)
        memcpy(out, r->hashes[index - s0], FX_MERKLE_HASH);
    else if (index + 1 == s0 && (s0 & 1u))
        memcpy(out, r->first.frontier[0], FX_MERKLE_HASH);
    else
        return FX_ESTORE;
    return FX_OK;
}

static enum fx_err mem_node(void *ctx, unsigned level, uint64_t index,
                            unsigned char out[FX_MERKLE_HASH], bool *found)
{
    const struct run *r = ctx;
    uint64_t s0 = r->first.size;
    *found = false;
    if (((index + 1) << level) > s0) { /* reaches into the run's leaves */
        /* the newest first: a failed callback's node was finished again by whoever
         * appended at its place after it, or lies beyond every tree proved */
        for (size_t i = r->n_nodes; i-- > 0;) {
            if (r->nodes[i].level == level && r->nodes[i].index == index) {
                memcpy(out, r->nodes[i].hash, FX_MERKLE_HASH);
                *found = true;
                return FX_OK;
            }
        }
        return FX_OK; /* computed from its children */
    }
    if (!((s0 >> level) & 1u) || index != (s0 >> level) - 1)
        return FX_ESTORE; /* not on the old tree's right edge: never on a new leaf's path */
    memcpy(out, r->first.frontier[level], FX_MERKLE_HASH);
    *found = true;
    return FX_OK;
}

/* The signed checkpoint of the tree at, into note (FX_CHECKPOINT_MAX_NOTE bytes). */
static enum fx_err sign_tree(const struct fx_merkle_appender *at, const struct fx_signer *sg,
                             char *note)
{
    unsigned char root[FX_MERKLE_HASH];
    size_t nlen = 0;
    fx_merkle_appender_root(at, root); /* hashing too, off the writer */
    return fx_checkpoint_sign(sg, at->size, root, note, FX_CHECKPOINT_MAX_NOTE, &nlen);
}

/* After the commit: the checkpoint of the run's final tree, signed by the first to ask. */
static enum fx_err run_note(struct run *r, const struct fx_signer *sg, char *note)
{
    enum fx_err err = FX_OK;
    pthread_mutex_lock(&r->note_mu);
    if (r->note_size != r->end.size) {
        err = sign_tree(&r->end, sg, r->note);
        r->note_size = err == FX_OK ? r->end.size : 0;
    }
    if (err == FX_OK)
        memcpy(note, r->note, FX_CHECKPOINT_MAX_NOTE);
    pthread_mutex_unlock(&r->note_mu);
    return err;
}

/* Completes each receipt of pending, in place, with note (of the run's first size
 * leaves) and a path to it. */
static enum fx_err complete(struct run *r, uint64_t size, const char *note, json_t *pending)
{
    enum fx_err err = FX_OK;
    struct fx_merkle_store ms = {
        .ctx = r, .size = size, .get_leaf_hash = mem_leaf, .get_node = mem_node};
    struct fx_merkle_proof proof;
    for (size_t i = 0; i < json_array_size(pending) && err == FX_OK; i++) {
        json_t *rc = json_array_get(pending, i);
        uint64_t index = (uint64_t)json_integer_value(json_object_get(rc, "leaf_index"));
        err = fx_merkle_inclusion_proof(&ms, index, size, &proof);
        if (err == FX_OK) {
            json_t *leaf = json_object_get(rc, "leaf");
            json_object_set_new(
                rc, "leaf",
                b64((const unsigned char *)json_string_value(leaf), json_string_length(leaf)));
            json_object_set_new(rc, "checkpoint", json_string(note));
            json_object_set_new(rc, "inclusion_path", path_json(&proof));
        }
    }
    return err;
}

/* Frees what d owns and clears it. */
static void defer_clear(struct defer *d)
{
    free(d->ap);
    json_decref(d->pending);
    memset(d, 0, sizeof(*d));
}

enum fx_err fx_tlog_defer_sign(const struct fx_signer *sg)
{
    enum fx_err err = FX_OK;
    char note[FX_CHECKPOINT_MAX_NOTE];
    if (defer.pending != NULL)
        err = sign_tree(defer.ap, sg, note);
    if (defer.pending != NULL && err == FX_OK)
        err = complete(defer.run, defer.ap->size, note, defer.pending);
    json_decref(defer.pending);
    defer.pending = NULL; /* nothing waits for the seal any more */
    return err;
}

/* What finishing a callback's receipts needs, taken off the writer thread. */
struct fx_tlog_seal {
    struct run *run; /* a reference: the proofs are to its end, once committed */
    json_t *pending; /* owned: the callback's receipts */
};

enum fx_err fx_tlog_defer_end(enum fx_err err, struct fx_tlog_seal **seal_out)
{
    *seal_out = NULL;
    if (err == FX_OK && defer.ap != NULL)
        defer.run->end = *defer.ap; /* the next callback goes on from here */
    if (err == FX_OK && defer.pending != NULL && json_array_size(defer.pending) > 0) {
        struct fx_tlog_seal *seal = fx_xmalloc(sizeof(*seal));
        run_hold(defer.run);
        seal->run = defer.run;
        seal->pending = defer.pending; /* the receipts move to the seal */
        defer.pending = NULL;
        *seal_out = seal;
    }
    defer_clear(&defer);
    return err;
}

void fx_tlog_seal_free(struct fx_tlog_seal *seal)
{
    if (seal == NULL)
        return;
    run_release(seal->run);
    json_decref(seal->pending);
    free(seal);
}

enum fx_err fx_tlog_seal_finish(struct fx_tlog_seal *seal, const struct fx_signer *sg)
{
    if (seal == NULL)
        return FX_OK;
    /* committed: the writer no longer changes the run, and its end is final */
    char note[FX_CHECKPOINT_MAX_NOTE];
    enum fx_err err = run_note(seal->run, sg, note);
    if (err == FX_OK)
        err = complete(seal->run, seal->run->end.size, note, seal->pending);
    fx_tlog_seal_free(seal);
    return err;
}

enum fx_err fx_tlog_append(struct fx_db *db, const struct fx_signer *sg, const struct fx_leaf *leaf,
                           json_t **receipt_out)
{
    struct fx_merkle_appender *ap = NULL;
    enum fx_err err = appender_of(db, &ap);
    if (err != FX_OK)
        return err;
    uint64_t size = ap->size;

    size_t llen = 0;
    char *lbytes = leaf_bytes(leaf, &llen);
    unsigned char h[FX_MERKLE_HASH];
    leaf_hash_of(lbytes, llen, h);
    /*
     * The inclusion path of the newest leaf (index size, tree size + 1) is the
     * tree's right edge before the push: the roots of the complete subtrees of
     * the old tree, smallest first (RFC 9162 §2.1.3.1 unrolled for m = n - 1).
     * Taking it from the appender saves the O(log n) reads of a general proof.
     */
    struct fx_merkle_proof proof = {.n = 0};
    if (!defer.active) /* deferred, the path is computed when the seal is finished */
        for (unsigned k = 0; k < FX_MERKLE_MAX_LEVELS; k++)
            if ((size >> k) & 1u)
                memcpy(proof.hash[proof.n++], ap->frontier[k], FX_MERKLE_HASH);
    struct pending pw;
    pending_init(&pw);
    err = put_leaf(db, &pw, ap, lbytes, llen, h, defer.run);
    if (err == FX_OK)
        err = pending_flush(db, &pw);

    if (err == FX_OK && defer.active) {
        /* the checkpoint and the path come when the seal is finished, once for the batch;
         * the bytes ride along as a string until then, to be encoded off the writer */
        *receipt_out = json_pack("{s:I,s:s%}", "leaf_index", (json_int_t)size, "leaf",
                                 lbytes, llen);
        if (defer.pending == NULL)
            defer.pending = json_array();
        json_array_append(defer.pending, *receipt_out);
    } else if (err == FX_OK) {
        char note[FX_CHECKPOINT_MAX_NOTE];
        size_t nlen = 0;
        unsigned char root[FX_MERKLE_HASH];
        fx_merkle_appender_root(ap, root);
        err = fx_checkpoint_sign(sg, size + 1, root, note, sizeof(note), &nlen);
        if (err == FX_OK)
            *receipt_out = json_pack("{s:I,s:o,s:s,s:o}", "leaf_index", (json_int_t)size, "leaf",
                                     b64((const unsigned char *)lbytes, llen), "checkpoint", note,
                                     "inclusion_path", path_json(&proof));
    }
    free(lbytes);
    appender_done(ap);
    return err;
}

void fx_tlog_prepare(const struct fx_leaf *leaf, struct fx_tlog_ready *out)
{
    out->bytes = leaf_bytes(leaf, &out->len);
    leaf_hash_of(out->bytes, out->len, out->hash);
}

void fx_tlog_ready_cleanup(struct fx_tlog_ready *r)
{
    FX_FREE(r->bytes);
    r->len = 0;
}

enum fx_err fx_tlog_append_ready(struct fx_db *db, const struct fx_signer *sg,
                                 const struct fx_tlog_ready *ready, size_t n, uint64_t *size_out,
                                 char *note_out, size_t cap, size_t *len_out)
{
    struct fx_merkle_appender *ap = NULL;
    enum fx_err err = appender_of(db, &ap);
    if (err != FX_OK)
        return err;
    struct pending pw;
    pending_init(&pw);
    for (size_t i = 0; i < n && err == FX_OK; i++)
        err = put_leaf(db, &pw, ap, ready[i].bytes, ready[i].len, ready[i].hash, defer.run);
    if (err == FX_OK)
        err = pending_flush(db, &pw);
    if (err == FX_OK && size_out != NULL)
        *size_out = ap->size;
    if (err == FX_OK && note_out != NULL) {
        unsigned char root[FX_MERKLE_HASH];
        fx_merkle_appender_root(ap, root);
        err = fx_checkpoint_sign(sg, ap->size, root, note_out, cap, len_out);
    }
    appender_done(ap);
    return err;
}

enum fx_err fx_tlog_append_batch(struct fx_db *db, const struct fx_signer *sg,
                                 const struct fx_leaf *leaves, size_t n, uint64_t *size_out,
                                 char *note_out, size_t cap, size_t *len_out)
{
    struct fx_tlog_ready *ready = fx_xcalloc(n ? n : 1, sizeof(*ready));
    for (size_t i = 0; i < n; i++)
        fx_tlog_prepare(&leaves[i], &ready[i]);
    enum fx_err err = fx_tlog_append_ready(db, sg, ready, n, size_out, note_out, cap, len_out);
    for (size_t i = 0; i < n; i++)
        fx_tlog_ready_cleanup(&ready[i]);
    free(ready);
    return err;
}

enum fx_err fx_tlog_checkpoint(struct fx_db *db, const struct fx_signer *sg, char *out, size_t cap,
                               size_t *len_out)
{
    uint64_t size = 0;
    enum fx_err err = fx_tlog_size(db, &size);
    if (err != FX_OK)
        return err;
    struct fx_merkle_store ms;
    store_of(db, size, &ms);
    unsigned char root[FX_MERKLE_HASH];
    err = fx_merkle_root(&ms, size, root);
    if (err == FX_OK)
        err = fx_checkpoint_sign(sg, size, root, out, cap, len_out);
    return err;
}

enum fx_err fx_tlog_entry(struct fx_db *db, uint64_t index, char **leaf_out, size_t *len_out)
{
    static const char *sql = "SELECT leaf FROM ledger_leaves WHERE idx = $1";
    struct fx_stmt *st = NULL;
    bool row = false;
    if (index > INT64_MAX)
        return FX_ENOTFOUND;
    enum fx_err err = fx_db_prepare(db, sql, &st);
    if (err != FX_OK)
        return err;
    fx_stmt_bind_i64(st, 1, (int64_t)index);
    err = fx_stmt_step(st, &row);
    if (err == FX_OK && !row)
        err = FX_ENOTFOUND;
    if (err == FX_OK) {
        const void *p = fx_stmt_blob(st, 0, len_out);
        *leaf_out = fx_xmalloc(*len_out + 1);
        memcpy(*leaf_out, p, *len_out);
        (*leaf_out)[*len_out] = '\0';
    }
    fx_stmt_finalize(st);
    return err;
}

enum fx_err fx_tlog_inclusion(struct fx_db *db, uint64_t index, uint64_t size, json_t **out)
{
    uint64_t have = 0;
    enum fx_err err = fx_tlog_size(db, &have);
    if (err != FX_OK)
        return err;
    if (size == 0 || size > have || index >= size)
        return FX_EINVAL;
    struct fx_merkle_store ms;
    store_of(db, have, &ms);
    struct fx_merkle_proof *p = fx_xmalloc(sizeof(*p));
    err = fx_merkle_inclusion_proof(&ms, index, size, p);
    if (err == FX_OK)
        *out = json_pack("{s:I,s:I,s:o}", "leaf_index", (json_int_t)index, "tree_size",
                         (json_int_t)size, "inclusion_path", path_json(p));
    free(p);
    return err;
}

enum fx_err fx_tlog_consistency(struct fx_db *db, uint64_t from, uint64_t to, json_t **out)
{
    uint64_t have = 0;
    enum fx_err err = fx_tlog_size(db, &have);
    if (err != FX_OK)
        return err;
    if (from == 0 || from > to || to > have)
        return FX_EINVAL;
    struct fx_merkle_store ms;
    store_of(db, have, &ms);
    struct fx_merkle_proof *p = fx_xmalloc(sizeof(*p));
    err = fx_merkle_consistency_proof(&ms, from, to, p);
    if (err == FX_OK)
        *out = json_pack("{s:I,s:I,s:o}", "first", (json_int_t)from, "second", (json_int_t)to,
                         "consistency_path", path_json(p));
    free(p);
    return err;
}

/*
 * Parses "<N>[.p/<W>]" where N is written as in C2SP tlog-tiles: groups of
 * three digits, all but the last prefixed with 'x' ("x001/x234/067").
 */
static enum fx_err parse_index(const char *p, size_t len, uint64_t *n_out, unsigned *w_out)
{
    uint64_t n = 0;
    size_t i = 0;
    *w_out = TILE_WIDTH;
    for (;;) {
        bool more = i < len && p[i] == 'x';
        if (more)
            i++;
        if (len - i < 3)
            return FX_EINVAL;
        for (size_t k = 0; k < 3; k++) {
            if (p[i + k] < '0' || p[i + k] > '9')
                return FX_EINVAL;
            if (n > (UINT64_MAX - 9) / 10)
                return FX_EINVAL;
            n = n * 10 + (uint64_t)(p[i + k] - '0');
        }
        i += 3;
        if (!more)
            break;
        if (i >= len || p[i] != '/')
            return FX_EINVAL;
        i++;
    }
    if (i < len) {
        int64_t w;
        if (len - i < 4 || memcmp(p + i, ".p/", 3) != 0 ||
            fx_parse_i64(p + i + 3, len - i - 3, 1, TILE_WIDTH - 1, &w) != FX_OK ||
            p[i + 3] == '0')
            return FX_EINVAL;
        *w_out = (unsigned)w;
    }
    *n_out = n;
    return FX_OK;
}

enum fx_err fx_tlog_tile(struct fx_db *db, const char *path, size_t len, char **out,
                         size_t *len_out, bool *immutable)
{
    uint64_t size = 0, n = 0;
    unsigned w = 0;
    bool entries = false;
    int64_t level = 0;
    *out = NULL;
    if (len < 7 || memcmp(path, "tile/", 5) != 0)
        return FX_EINVAL;
    const char *rest = path + 5;
    size_t rlen = len - 5;
    const char *slash = memchr(rest, '/', rlen);
    if (slash == NULL)
        return FX_EINVAL;
    size_t llen = (size_t)(slash - rest);
    if (llen == 7 && memcmp(rest, "entries", 7) == 0)
        entries = true;
    else if (fx_parse_i64(rest, llen, 0, MAX_TILE_LEVEL, &level) != FX_OK)
        return FX_EINVAL;
    if (parse_index(slash + 1, rlen - llen - 1, &n, &w) != FX_OK)
        return FX_EINVAL;
    enum fx_err err = fx_tlog_size(db, &size);
    if (err != FX_OK)
        return err;
    /* nodes at tree level TILE_HEIGHT * level that are complete in the log */
    unsigned tree_level = (unsigned)(TILE_HEIGHT * level);
    uint64_t complete = tree_level >= 64 ? 0 : size >> tree_level;
    if (n > UINT64_MAX / TILE_WIDTH || n * TILE_WIDTH + w > complete)
        return FX_ENOTFOUND;
    *immutable = w == TILE_WIDTH;
    struct fx_buf b;
    fx_buf_init(&b, (size_t)TILE_WIDTH * 65538);
    struct fx_merkle_store ms;
    store_of(db, size, &ms);
    for (unsigned i = 0; i < w && err == FX_OK; i++) {
        uint64_t idx = n * TILE_WIDTH + i;
        if (entries) {
            char *leafb = NULL;
            size_t ll = 0;
            err = fx_tlog_entry(db, idx, &leafb, &ll);
            if (err == FX_OK && ll > 0xffff)
                err = FX_ESTORE;
            if (err == FX_OK) {
                unsigned char be[2] = {(unsigned char)(ll >> 8), (unsigned char)ll};
                fx_buf_add(&b, be, 2);
                fx_buf_add(&b, leafb, ll);
            }
            free(leafb);
        } else {
            unsigned char h[FX_MERKLE_HASH];
            bool found = false;
            if (tree_level == 0) {
                err = leaf_hash(db, idx, h);
            } else {
                err = node_hash(db, tree_level, idx, h, &found);
                if (err == FX_OK && !found)
                    err = FX_ESTORE;
            }
            if (err == FX_OK)
                fx_buf_add(&b, h, sizeof(h));
        }
    }
    if (err != FX_OK) {
        fx_buf_cleanup(&b);
        return err;
    }
    *out = fx_buf_take(&b, len_out);
    return FX_OK;
}
