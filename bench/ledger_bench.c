/*
 * ledger_bench.c: the ledger's figures (SPEC §9, issue 4): appending leaves
 * to the store, and generating inclusion and consistency proofs at a million
 * leaves. It opens a fresh SQLite store (WAL, synchronous=FULL: every
 * transaction is durable when fx_store_write() returns) in a temporary
 * directory and appends the leaves in transactions of --batch leaves: a
 * second thread prepares each batch (leaf bytes and hashes, fx_tlog_prepare())
 * while the store commits the one before (fx_tlog_append_ready()); --serial
 * does both on one thread with fx_tlog_append_batch(). Then it times proof
 * generation, median of many, on random leaves, checking every proof it times
 * against the signed root, so that a fast wrong answer cannot pass. Prints
 * figures; not a test.
 *
 *   ledger_bench [--leaves N] [--batch B] [--proofs K] [--serial] [--dir DIR]
 *                [--receipt-out FILE] [--key-out FILE]
 *
 * --receipt-out and --key-out save a real receipt (of one more leaf, appended
 * with fx_tlog_append() as a write does) and the verifier key, for timing
 * `fx verify` on a receipt of a tree this size (bench/ledger.sh does).
 */
#include "common/fx.h"
#include "common/parse.h"
#include "ledger/ledger.h"
#include "records/tlog.h"
#include "store/store.h"

#include <errno.h>
#include <jansson.h>
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* One batch of leaves: filled and prepared by the producer, appended by the main thread. */
struct slot {
    struct fx_leaf *ls;          /* owned */
    char (*ids)[37];             /* owned: the record ids */
    char (*hashes)[65];          /* owned: the content hashes */
    struct fx_tlog_ready *ready; /* owned: the prepared leaves */
    uint64_t first, n;           /* leaves first .. first + n - 1 */
    bool full;                   /* prepared, not yet appended */
};

struct bench {
    struct fx_store *store;
    struct fx_signer *sg;
    uint64_t leaves, batch, proofs;
    bool serial;          /* --serial: fill and append on one thread, fx_tlog_append_batch() */
    struct slot slot[2];  /* double buffer between the producer and the appender */
    struct slot *cur;     /* the batch append_fn appends */
    pthread_mutex_t lock; /* guards slot[].full */
    pthread_cond_t cond;
    double *samples; /* owned: one timing per proof */
    unsigned char root[FX_MERKLE_HASH];
    uint64_t size;
    json_t *receipt;  /* owned */
    const char *what; /* "inclusion" or "consistency" */
};

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static double tv_s(const struct timeval *tv)
{
    return (double)tv->tv_sec + (double)tv->tv_usec / 1e6;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static _Noreturn void die(const char *what, enum fx_err err)
{
    fprintf(stderr, "ledger_bench: %s: %s\n", what, fx_err_str(err));
    exit(1);
}

/*
 * Leaves as notices make them: time-ordered record ids (UUIDv7 order), a
 * content hash, an org, a time; distinct per index. The content hash is
 * made up (its bytes do not matter to the log), so that the figure measures
 * the ledger, not this loop.
 */
static void fill_batch(struct slot *s, uint64_t first, uint64_t n)
{
    static const char org[] = "01a21b00-35f0-71af-a6cc-f1cd6cd3308d";
    static const char hex[] = "0123456789abcdef";
    s->first = first;
    s->n = n;
    for (size_t i = 0; i < n; i++) {
        unsigned long long idx = (unsigned long long)(first + i);
        unsigned long long x = idx * 0x9e3779b97f4a7c15ull + 1;
        for (size_t k = 0; k < 64; k++) {
            x ^= x >> 29;
            x *= 0xbf58476d1ce4e5b9ull;
            s->hashes[i][k] = hex[(x >> 60) & 0xf];
        }
        s->hashes[i][64] = '\0';
        memcpy(s->ids[i], "01a21b00-0000-7000-8000-", 24);
        for (size_t k = 0; k < 12; k++)
            s->ids[i][24 + k] = hex[(idx >> (4 * (11 - k))) & 0xf];
        s->ids[i][36] = '\0';
        s->ls[i].kind = "notice_version";
        s->ls[i].record_id = s->ids[i];
        s->ls[i].version = (int64_t)(idx % 7) + 1;
        s->ls[i].content_sha256 = s->hashes[i];
        s->ls[i].org = org;
        s->ls[i].time_ms = 1795000000000 + (int64_t)idx;
    }
}

/* Appends b->cur: prepared already, or (--serial) filled here and appended whole. */
static enum fx_err append_fn(struct fx_db *db, void *arg)
{
    struct bench *b = arg;
    struct slot *s = b->cur;
    if (b->serial)
        return fx_tlog_append_batch(db, b->sg, s->ls, s->n, &b->size, NULL, 0, NULL);
    return fx_tlog_append_ready(db, b->sg, s->ready, s->n, &b->size, NULL, 0, NULL);
}

/*
 * The producer: fills and prepares (leaf bytes, leaf hash) batch k in slot
 * k % 2 while the main thread appends batch k - 1 from the other slot.
 */
static void *producer(void *arg)
{
    struct bench *b = arg;
    uint64_t first = 0;
    for (uint64_t k = 0; first < b->leaves; k++, first += b->batch) {
        struct slot *s = &b->slot[k % 2];
        uint64_t n = b->leaves - first < b->batch ? b->leaves - first : b->batch;
        pthread_mutex_lock(&b->lock);
        while (s->full)
            pthread_cond_wait(&b->cond, &b->lock);
        pthread_mutex_unlock(&b->lock);
        fill_batch(s, first, n);
        for (uint64_t i = 0; i < n; i++)
            fx_tlog_prepare(&s->ls[i], &s->ready[i]);
        pthread_mutex_lock(&b->lock);
        s->full = true;
        pthread_cond_broadcast(&b->cond);
        pthread_mutex_unlock(&b->lock);
    }
    return NULL;
}

/* Appends every leaf, in transactions of b->batch; returns the seconds it took. */
static double append_all(struct bench *b)
{
    pthread_t th;
    uint64_t first = 0;
    double t0 = now_s();
    if (!b->serial && pthread_create(&th, NULL, producer, b) != 0)
        die("pthread_create", FX_EIO);
    for (uint64_t k = 0; first < b->leaves; k++, first += b->batch) {
        struct slot *s = &b->slot[k % 2];
        if (b->serial) {
            fill_batch(s, first, b->leaves - first < b->batch ? b->leaves - first : b->batch);
        } else {
            pthread_mutex_lock(&b->lock);
            while (!s->full)
                pthread_cond_wait(&b->cond, &b->lock);
            pthread_mutex_unlock(&b->lock);
        }
        b->cur = s;
        enum fx_err err = fx_store_write(b->store, append_fn, b);
        if (err != FX_OK)
            die("append", err);
        if (b->size != first + s->n)
            die("append: the log grew by another count", FX_ESTORE);
        if (!b->serial) {
            for (uint64_t i = 0; i < s->n; i++)
                fx_tlog_ready_cleanup(&s->ready[i]);
            pthread_mutex_lock(&b->lock);
            s->full = false;
            pthread_cond_broadcast(&b->cond);
            pthread_mutex_unlock(&b->lock);
        }
    }
    if (!b->serial)
        pthread_join(th, NULL);
    return now_s() - t0;
}

static enum fx_err receipt_fn(struct fx_db *db, void *arg)
{
    struct bench *b = arg;
    fill_batch(&b->slot[0], b->size, 1);
    return fx_tlog_append(db, b->sg, &b->slot[0].ls[0], &b->receipt);
}

/*
 * The stored tree, read directly (as tlog.c reads it), to check proofs: leaf
 * hashes from the entries' bytes, so a proof is checked against the leaves
 * themselves, and nodes from ledger_hashes for old roots.
 */
static enum fx_err leaf_hash_fn(void *ctx, uint64_t index, unsigned char out[FX_MERKLE_HASH])
{
    char *leaf = NULL;
    size_t len = 0;
    enum fx_err err = fx_tlog_entry(ctx, index, &leaf, &len);
    if (err == FX_OK)
        fx_merkle_leaf_hash(leaf, len, out);
    free(leaf);
    return err;
}

static enum fx_err node_fn(void *ctx, unsigned level, uint64_t index,
                           unsigned char out[FX_MERKLE_HASH], bool *found)
{
    /* the in-order position that tlog.c keys ledger_hashes by */
    static const char *sql = "SELECT hash FROM ledger_hashes WHERE pos = $1";
    struct fx_stmt *st = NULL;
    bool row = false;
    size_t len = 0;
    enum fx_err err = fx_db_prepare(ctx, sql, &st);
    *found = false;
    if (err != FX_OK)
        return err;
    fx_stmt_bind_i64(st, 1, (int64_t)((index << (level + 1)) + ((uint64_t)1 << level) - 1));
    err = fx_stmt_step(st, &row);
    if (err == FX_OK && row) {
        const void *h = fx_stmt_blob(st, 0, &len);
        if (len == FX_MERKLE_HASH) {
            memcpy(out, h, FX_MERKLE_HASH);
            *found = true;
        }
    }
    fx_stmt_finalize(st);
    return err;
}

/* The signed checkpoint of the whole log; its root is what every proof must reach. */
static enum fx_err root_fn(struct fx_db *db, void *arg)
{
    struct bench *b = arg;
    char note[FX_CHECKPOINT_MAX_NOTE];
    size_t len = 0;
    struct fx_checkpoint cp;
    const char *blank;
    enum fx_err err = fx_tlog_checkpoint(db, b->sg, note, sizeof(note), &len);
    if (err != FX_OK)
        return err;
    blank = strstr(note, "\n\n");
    err = blank ? fx_checkpoint_parse(note, (size_t)(blank - note) + 1, &cp) : FX_EINVAL;
    if (err == FX_OK) {
        memcpy(b->root, cp.root, sizeof(b->root));
        b->size = cp.size;
    }
    return err;
}

/* Decodes a JSON array of base64 hashes into a proof. */
static void proof_of(const json_t *arr, struct fx_merkle_proof *p)
{
    p->n = json_array_size(arr);
    for (size_t i = 0; i < p->n; i++) {
        const char *s = json_string_value(json_array_get(arr, i));
        size_t hl = 0;
        if (s == NULL || sodium_base642bin(p->hash[i], FX_MERKLE_HASH, s, strlen(s), NULL, &hl,
                                           NULL, sodium_base64_VARIANT_ORIGINAL) != 0)
            die("proof hash", FX_EINVAL);
    }
}

/*
 * Times b->proofs proofs in one read transaction, each on random arguments,
 * through fx_tlog_inclusion() or fx_tlog_consistency(): what the API handler
 * runs (size query, proof from the stored nodes, JSON). Each proof is then
 * checked against the signed root, outside the timing.
 */
static enum fx_err proofs_fn(struct fx_db *db, void *arg)
{
    struct bench *b = arg;
    struct fx_merkle_proof *p = fx_xmalloc(sizeof(*p));
    struct fx_merkle_store ms = {db, b->size, leaf_hash_fn, node_fn};
    bool incl = strcmp(b->what, "inclusion") == 0;
    enum fx_err err = FX_OK;

    for (uint64_t k = 0; k < b->proofs && err == FX_OK; k++) {
        uint64_t a = 1 + (uint64_t)randombytes_uniform((uint32_t)(b->size - 1));
        unsigned char h[FX_MERKLE_HASH];
        json_t *j = NULL;
        double t0 = now_s();
        if (incl)
            err = fx_tlog_inclusion(db, a, b->size, &j);
        else
            err = fx_tlog_consistency(db, a, b->size, &j);
        b->samples[k] = now_s() - t0;
        if (err != FX_OK)
            break;
        proof_of(json_object_get(j, incl ? "inclusion_path" : "consistency_path"), p);
        json_decref(j);
        if (incl) {
            err = leaf_hash_fn(db, a, h);
            if (err == FX_OK)
                err = fx_merkle_verify_inclusion(h, a, b->size, p, b->root);
        } else {
            err = fx_merkle_root(&ms, a, h);
            if (err == FX_OK)
                err = fx_merkle_verify_consistency(a, b->size, h, b->root, p);
        }
    }
    free(p);
    return err;
}

static void report(const char *label, double *s, size_t n)
{
    qsort(s, n, sizeof(*s), cmp_double);
    printf("%-13s median %7.1f us   p90 %7.1f us   p99 %7.1f us   max %8.1f us   (%zu runs)\n",
           label, s[n / 2] * 1e6, s[n * 9 / 10] * 1e6, s[n * 99 / 100] * 1e6, s[n - 1] * 1e6, n);
}

static uint64_t arg_u64(const char *name, const char *v, int64_t min, int64_t max)
{
    int64_t x;
    if (v == NULL || fx_parse_i64(v, strlen(v), min, max, &x) != FX_OK) {
        fprintf(stderr, "ledger_bench: %s must be an integer from %lld to %lld\n", name,
                (long long)min, (long long)max);
        exit(2);
    }
    return (uint64_t)x;
}

static void write_text(const char *path, const char *p, size_t len)
{
    FILE *f = fopen(path, "wb");
    if (f == NULL || fwrite(p, 1, len, f) != len || fclose(f) != 0) {
        fprintf(stderr, "ledger_bench: cannot write %s: %s\n", path, strerror(errno));
        exit(1);
    }
}

int main(int argc, char **argv)
{
    struct bench b = {.leaves = 1000000, .batch = 10000, .proofs = 2000};
    const char *dir = NULL, *receipt_out = NULL, *key_out = NULL;
    bool made_dir = false;
    char tmpl[] = "/tmp/fx-ledger-bench.XXXXXX";
    char path[4096], vkey[256];
    enum fx_err err;
    double t;
    struct stat st;

    for (int i = 1; i < argc; i++) {
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(argv[i], "--leaves") == 0)
            b.leaves = arg_u64("--leaves", v, 2, INT64_MAX / 2);
        else if (strcmp(argv[i], "--batch") == 0)
            b.batch = arg_u64("--batch", v, 1, 1000000);
        else if (strcmp(argv[i], "--proofs") == 0)
            b.proofs = arg_u64("--proofs", v, 1, 10000000);
        else if (strcmp(argv[i], "--dir") == 0 && v != NULL)
            dir = v;
        else if (strcmp(argv[i], "--receipt-out") == 0 && v != NULL)
            receipt_out = v;
        else if (strcmp(argv[i], "--key-out") == 0 && v != NULL)
            key_out = v;
        else if (strcmp(argv[i], "--serial") == 0) {
            b.serial = true;
            continue;
        } else {
            fprintf(stderr, "usage: ledger_bench [--leaves N] [--batch B] [--proofs K] [--serial] "
                            "[--dir DIR] [--receipt-out FILE] [--key-out FILE]\n");
            return 2;
        }
        i++;
    }
    if (sodium_init() < 0)
        die("sodium_init", FX_ECRYPTO);
    if (dir == NULL) {
        dir = mkdtemp(tmpl);
        if (dir == NULL) {
            fprintf(stderr, "ledger_bench: mkdtemp: %s\n", strerror(errno));
            return 1;
        }
        made_dir = true;
    }
    snprintf(path, sizeof(path), "%s/ledger.key", dir);
    err = fx_signer_create(path);
    if (err == FX_OK)
        err = fx_signer_load(path, FX_LEDGER_DEFAULT_ORIGIN, &b.sg);
    if (err != FX_OK)
        die("ledger key", err);
    fx_signer_vkey(b.sg, vkey, sizeof(vkey));
    err = fx_store_open(NULL, dir, &b.store);
    if (err != FX_OK)
        die("fx_store_open", err);
    for (size_t k = 0; k < 2; k++) {
        b.slot[k].ls = fx_xcalloc(b.batch, sizeof(*b.slot[k].ls));
        b.slot[k].ids = fx_xcalloc(b.batch, sizeof(*b.slot[k].ids));
        b.slot[k].hashes = fx_xcalloc(b.batch, sizeof(*b.slot[k].hashes));
        b.slot[k].ready = fx_xcalloc(b.batch, sizeof(*b.slot[k].ready));
    }
    pthread_mutex_init(&b.lock, NULL);
    pthread_cond_init(&b.cond, NULL);
    b.samples = fx_xcalloc(b.proofs, sizeof(*b.samples));

    printf("== ledger: append %llu leaves, then proofs at that size ==\n",
           (unsigned long long)b.leaves);
    printf("store:       SQLite in %s (WAL, synchronous=FULL: each transaction durable)\n", dir);

    struct rusage ru0, ru1;
    getrusage(RUSAGE_SELF, &ru0);
    t = append_all(&b);
    getrusage(RUSAGE_SELF, &ru1);
    snprintf(path, sizeof(path), "%s/fx.db", dir);
    printf("append:      %llu leaves in %llu transactions of up to %llu: %.2f s, %.0f leaves/s "
           "(target >= 100000)\n",
           (unsigned long long)b.leaves, (unsigned long long)((b.leaves + b.batch - 1) / b.batch),
           (unsigned long long)b.batch, t, (double)b.leaves / t);
    printf("             %s; CPU %.2f s user + %.2f s system (%.1f us a leaf)\n",
           b.serial ? "one thread (fx_tlog_append_batch)"
                    : "leaves prepared on a second thread (fx_tlog_prepare), appended with "
                      "fx_tlog_append_ready",
           tv_s(&ru1.ru_utime) - tv_s(&ru0.ru_utime), tv_s(&ru1.ru_stime) - tv_s(&ru0.ru_stime),
           (tv_s(&ru1.ru_utime) - tv_s(&ru0.ru_utime) + tv_s(&ru1.ru_stime) - tv_s(&ru0.ru_stime)) *
               1e6 / (double)b.leaves);
    {
        double mib = 0;
        char wal[4200];
        snprintf(wal, sizeof(wal), "%s-wal", path);
        if (stat(path, &st) == 0)
            mib += (double)st.st_size / (1024.0 * 1024.0);
        if (stat(wal, &st) == 0)
            mib += (double)st.st_size / (1024.0 * 1024.0);
        printf("store size:  %.1f MiB (fx.db and its WAL: leaves, nodes, index)\n", mib);
    }
    /*
     * A server that has been running holds its log in the database file, the
     * WAL checkpointed; right after a bulk load every page would still be read
     * through the WAL index. Reopening the store checkpoints it, so that the
     * proofs below are timed as a running server answers them.
     */
    fx_store_close(b.store);
    err = fx_store_open(NULL, dir, &b.store);
    if (err != FX_OK)
        die("fx_store_open", err);

    err = fx_store_read(b.store, root_fn, &b);
    if (err != FX_OK || b.size != b.leaves)
        die("checkpoint", err == FX_OK ? FX_ESTORE : err);

    b.what = "inclusion";
    err = fx_store_read(b.store, proofs_fn, &b);
    if (err != FX_OK)
        die("inclusion proofs", err);
    printf(
        "at %llu leaves, the store reopened: fx_tlog_inclusion/consistency in a read transaction\n"
        "(size query, proof from the stored nodes, JSON as the API answers; each verified):\n",
        (unsigned long long)b.size);
    report("inclusion:", b.samples, b.proofs);
    b.what = "consistency";
    err = fx_store_read(b.store, proofs_fn, &b);
    if (err != FX_OK)
        die("consistency proofs", err);
    report("consistency:", b.samples, b.proofs);

    if (receipt_out != NULL || key_out != NULL) {
        err = fx_store_write(b.store, receipt_fn, &b);
        if (err != FX_OK)
            die("receipt", err);
        char *text = json_dumps(b.receipt, JSON_COMPACT);
        struct fx_checkpoint_vkey vk;
        struct fx_receipt *r = fx_xmalloc(sizeof(*r));
        size_t nv = b.proofs < 1000 ? b.proofs : 1000;
        if (fx_checkpoint_parse_vkey(vkey, strlen(vkey), &vk) != FX_OK)
            die("verifier key", FX_EINVAL);
        /* what fx verify does once its files are read: parse, signature, inclusion, leaf */
        for (size_t k = 0; k < nv; k++) {
            struct fx_checkpoint cp;
            struct fx_receipt_leaf leaf;
            enum fx_receipt_part part;
            double t1 = now_s();
            err = fx_receipt_parse(text, strlen(text), r, NULL, 0);
            if (err == FX_OK)
                err = fx_receipt_verify(r, &vk, &cp, &part);
            if (err == FX_OK)
                err = fx_receipt_parse_leaf(r->leaf, r->leaf_len, &leaf, NULL, 0);
            b.samples[k] = now_s() - t1;
            if (err != FX_OK)
                die("receipt verification", err);
        }
        printf("receipt of leaf %llu, verified in-process (parse, signature, inclusion, leaf;\n"
               "no process start, no file reads):\n",
               (unsigned long long)b.size);
        report("verify:", b.samples, nv);
        if (receipt_out != NULL)
            write_text(receipt_out, text, strlen(text));
        free(r);
        free(text);
        if (key_out != NULL) {
            size_t n = strlen(vkey);
            vkey[n] = '\n';
            write_text(key_out, vkey, n + 1);
        }
    }

    json_decref(b.receipt);
    free(b.samples);
    for (size_t k = 0; k < 2; k++) {
        free(b.slot[k].ready);
        free(b.slot[k].hashes);
        free(b.slot[k].ids);
        free(b.slot[k].ls);
    }
    pthread_cond_destroy(&b.cond);
    pthread_mutex_destroy(&b.lock);
    fx_store_close(b.store);
    fx_signer_free(b.sg);
    if (made_dir) {
        static const char *const files[] = {"fx.db", "fx.db-wal", "fx.db-shm", "ledger.key"};
        for (size_t i = 0; i < FX_ARRAY_LEN(files); i++) {
            snprintf(path, sizeof(path), "%s/%s", dir, files[i]);
            unlink(path);
        }
        rmdir(dir);
    }
    return 0;
}
