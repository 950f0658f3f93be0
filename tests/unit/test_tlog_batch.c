/*
 * test_tlog_batch.c: deferred receipts (records/tlog.h) through the real
 * SQLite store. Writes that the store commits in one batch share one run:
 * the receipts of each write finished after the commit carry one checkpoint,
 * of the batch's final tree, signed once, and every receipt verifies against
 * it and against the stored tree. A write whose callback fails after its
 * appends leaves nothing of them in the run, wherever it sits in the batch.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "ledger/ledger.h"
#include "records/tlog.h"
#include "store/store.h"

#include <pthread.h>
#include <sodium.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define ZEROS "0000000000000000000000000000000000000000000000000000000000000000"
/* Attempts at getting the writes into one batch; see batch_once(). */
#define ATTEMPTS 5

struct fixture {
    char dir[64];
    struct fx_store *store;
    struct fx_signer *sg;
    struct fx_checkpoint_vkey vk;
};

static struct fixture fx;

static int setup(void **state)
{
    (void)state;
    char path[96];
    snprintf(fx.dir, sizeof(fx.dir), "/tmp/fx-tlog-batch.XXXXXX");
    assert_non_null(mkdtemp(fx.dir));
    struct fx_store_config cfg = {"sqlite:", fx.dir, 0, true}; /* as fxd serve opens it */
    assert_int_equal(fx_store_open_config(&cfg, &fx.store), FX_OK);
    snprintf(path, sizeof(path), "%s/ledger.key", fx.dir);
    assert_int_equal(fx_signer_create(path), FX_OK);
    assert_int_equal(fx_signer_load(path, "fx.test/ledger", &fx.sg), FX_OK);
    char vkey[256];
    fx_signer_vkey(fx.sg, vkey, sizeof(vkey));
    assert_int_equal(fx_checkpoint_parse_vkey(vkey, strlen(vkey), &fx.vk), FX_OK);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    fx_signer_free(fx.sg);
    fx_store_close(fx.store);
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", fx.dir);
    assert_int_equal(system(cmd), 0);
    return 0;
}

/* One write: appends leaves deferred, then returns fail (FX_OK: it succeeds). */
struct job {
    size_t leaves;
    enum fx_err fail;
    bool sign_now; /* completes its receipts in the transaction (fx_tlog_defer_sign) */
    bool resettable; /* queued with fx_store_write_async() and a reset: may run again */
    char id[16];
    json_t *receipts;          /* owned */
    struct fx_tlog_seal *seal; /* owned until finished */
    enum fx_err err;
    atomic_bool started;
    atomic_bool ended; /* a resettable job's callback ran */
    atomic_int resets;
};

static enum fx_err job_fn(struct fx_db *db, void *arg)
{
    struct job *j = arg;
    enum fx_err err = FX_OK;
    fx_tlog_defer_begin();
    for (size_t i = 0; i < j->leaves && err == FX_OK; i++) {
        struct fx_leaf leaf = {"test", j->id, (int64_t)i + 1, ZEROS, "o", 0};
        json_t *r = NULL;
        err = fx_tlog_append(db, fx.sg, &leaf, &r);
        if (err == FX_OK)
            json_array_append_new(j->receipts, r);
    }
    if (err == FX_OK && j->sign_now)
        err = fx_tlog_defer_sign(fx.sg);
    if (err == FX_OK)
        err = j->fail;
    return fx_tlog_defer_end(err, &j->seal);
}

/* fx_reset_fn of a resettable job: drops what its run left. */
static void job_reset(void *arg)
{
    struct job *j = arg;
    fx_tlog_seal_free(j->seal);
    j->seal = NULL;
    json_array_clear(j->receipts);
    atomic_fetch_add(&j->resets, 1);
}

static void job_ended(void *arg, enum fx_err err)
{
    struct job *j = arg;
    j->err = err;
    atomic_store(&j->ended, true);
}

/* fx_store_write() for the job, through fx_store_write_async() when it is resettable. */
static enum fx_err write_job(struct job *j)
{
    if (!j->resettable)
        return fx_store_write(fx.store, job_fn, j);
    assert_int_equal(fx_store_write_async(fx.store, job_fn, job_reset, j, job_ended, j), FX_OK);
    while (!atomic_load(&j->ended))
        usleep(1000);
    return j->err;
}

static void *job_thread(void *arg)
{
    struct job *j = arg;
    atomic_store(&j->started, true);
    j->err = write_job(j);
    if (j->err == FX_OK)
        j->err = fx_tlog_seal_finish(j->seal, fx.sg);
    else
        fx_tlog_seal_free(j->seal);
    j->seal = NULL;
    return NULL;
}

/* Holds the writer until every job's thread has started, and a little longer. */
struct blocker {
    struct job *jobs;
    size_t n;
    atomic_bool running;
};

static enum fx_err block_fn(struct fx_db *db, void *arg)
{
    (void)db;
    struct blocker *b = arg;
    atomic_store(&b->running, true);
    for (size_t i = 0; i < b->n; i++)
        while (!atomic_load(&b->jobs[i].started))
            usleep(1000);
    usleep(100 * 1000); /* from started to queued */
    return FX_OK;
}

static void *block_thread(void *arg)
{
    assert_int_equal(fx_store_write(fx.store, block_fn, arg), FX_OK);
    return NULL;
}

static enum fx_err size_fn(struct fx_db *db, void *arg)
{
    return fx_tlog_size(db, arg);
}

static uint64_t tree_size(void)
{
    uint64_t size = 0;
    assert_int_equal(fx_store_read(fx.store, size_fn, &size), FX_OK);
    return size;
}

/* What the stored tree proves for a receipt: its leaf bytes and its path to size. */
struct stored {
    uint64_t index, size;
    char *leaf; /* owned */
    size_t leaf_len;
    json_t *proof; /* owned */
};

static enum fx_err stored_fn(struct fx_db *db, void *arg)
{
    struct stored *s = arg;
    enum fx_err err = fx_tlog_entry(db, s->index, &s->leaf, &s->leaf_len);
    if (err == FX_OK)
        err = fx_tlog_inclusion(db, s->index, s->size, &s->proof);
    return err;
}

/* Verifies each receipt of j with the key, and against the stored tree; the checkpoint's size. */
static uint64_t check_receipts(const struct job *j)
{
    uint64_t size = 0;
    assert_int_equal(json_array_size(j->receipts), j->leaves);
    for (size_t i = 0; i < j->leaves; i++) {
        json_t *rj = json_array_get(j->receipts, i);
        char *text = json_dumps(rj, JSON_COMPACT);
        struct fx_receipt *r = calloc(1, sizeof(*r));
        assert_non_null(r);
        char why[256];
        assert_int_equal(fx_receipt_parse(text, strlen(text), r, why, sizeof(why)), FX_OK);
        struct fx_checkpoint cp;
        enum fx_receipt_part part = FX_RECEIPT_PART_NONE;
        assert_int_equal(fx_receipt_verify(r, &fx.vk, &cp, &part), FX_OK);
        assert_true(i == 0 || cp.size == size); /* one checkpoint for the write's receipts */
        size = cp.size;

        struct stored s = {.index = r->leaf_index, .size = cp.size};
        assert_int_equal(fx_store_read(fx.store, stored_fn, &s), FX_OK);
        assert_int_equal(s.leaf_len, r->leaf_len);
        assert_memory_equal(s.leaf, r->leaf, r->leaf_len);
        assert_true(json_equal(json_object_get(s.proof, "inclusion_path"),
                               json_object_get(rj, "inclusion_path")));
        free(s.leaf);
        json_decref(s.proof);
        free(r);
        free(text);
    }
    return size;
}

/*
 * Runs the jobs (n) as one batch behind a blocker: true when the store did
 * run them as one batch (the blocker's and theirs: two), which a thread slow
 * to queue can defeat on a loaded machine; run_batched() then tries again.
 */
static bool batch_once(struct job *jobs, size_t n)
{
    static unsigned next_id;
    struct fx_store_stats before, after;
    struct blocker b = {jobs, n, false};
    pthread_t bt, t[8];
    assert_true(n <= 8);
    for (size_t i = 0; i < n; i++) {
        snprintf(jobs[i].id, sizeof(jobs[i].id), "r%u", next_id++);
        jobs[i].receipts = json_array();
    }
    fx_store_stats(fx.store, &before);
    assert_int_equal(pthread_create(&bt, NULL, block_thread, &b), 0);
    while (!atomic_load(&b.running))
        usleep(1000);
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(pthread_create(&t[i], NULL, job_thread, &jobs[i]), 0);
        usleep(10 * 1000); /* queued in this order, most likely: not relied upon */
    }
    for (size_t i = 0; i < n; i++)
        pthread_join(t[i], NULL);
    pthread_join(bt, NULL);
    fx_store_stats(fx.store, &after);
    return after.write_batches - before.write_batches == 2;
}

/* What a test checks of a batch of jobs (n) run on a tree of start leaves. */
typedef void (*check_fn)(struct job *jobs, size_t n, uint64_t start, bool batched);

/* Runs copies of the jobs in spec (n) as one batch, until the store did, and checks each run. */
static void run_batched(const struct job *spec, size_t n, check_fn check)
{
    struct job jobs[8];
    bool batched = false;
    assert_true(n <= 8);
    for (int attempt = 0; attempt < ATTEMPTS && !batched; attempt++) {
        memcpy(jobs, spec, n * sizeof(*jobs));
        uint64_t start = tree_size();
        batched = batch_once(jobs, n);
        check(jobs, n, start, batched);
        for (size_t i = 0; i < n; i++)
            json_decref(jobs[i].receipts);
    }
    assert_true(batched);
}

/* Each write as it should end: a failed one stored nothing, the others' receipts verify;
 * in one batch, all of them share one checkpoint, of the tree as the batch left it. */
static void check_batch(struct job *jobs, size_t n, uint64_t start, bool batched)
{
    uint64_t end = tree_size(), want = start;
    for (size_t i = 0; i < n; i++)
        want += jobs[i].fail == FX_OK ? jobs[i].leaves : 0;
    assert_int_equal(end, want); /* a failed write's leaves were rolled back */
    const char *note = NULL;
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(jobs[i].err, jobs[i].fail);
        if (jobs[i].fail != FX_OK)
            continue;
        uint64_t size = check_receipts(&jobs[i]);
        const char *cp =
            json_string_value(json_object_get(json_array_get(jobs[i].receipts, 0), "checkpoint"));
        if (batched) {
            assert_int_equal(size, end);
            assert_true(note == NULL || strcmp(note, cp) == 0);
            note = cp;
        }
    }
}

/* Four writers, one of which fails after its appends (at position fail_at). */
static void run_scenario(size_t fail_at)
{
    struct job spec[4] = {{.leaves = 2}, {.leaves = 1}, {.leaves = 3}, {.leaves = 1}};
    if (fail_at < 4)
        spec[fail_at].fail = FX_ECONFLICT;
    run_batched(spec, 4, check_batch);
}

static void test_a_batch_shares_one_checkpoint(void **state)
{
    (void)state;
    run_scenario(SIZE_MAX);
}

static void test_a_failed_write_leaves_no_leaf_in_the_run(void **state)
{
    (void)state;
    run_scenario(1);
}

static void test_a_failed_last_write_leaves_no_leaf_in_the_run(void **state)
{
    (void)state;
    run_scenario(3);
}

static void check_reset(struct job *jobs, size_t n, uint64_t start, bool batched)
{
    check_batch(jobs, n, start, batched);
    if (batched) /* the write before the failed one ran again; the others once */
        for (size_t i = 0; i < n; i++)
            assert_int_equal(atomic_load(&jobs[i].resets), i == 0 ? 1 : 0);
}

/*
 * Writes that can run again run without savepoints: when one fails, the
 * transaction is rolled back and the writes before it run again in the
 * next. Their receipts are of that transaction's run, and nothing of the
 * first one is left in the store or in any receipt.
 */
static void test_a_failed_write_runs_the_resettable_ones_again(void **state)
{
    (void)state;
    struct job spec[4] = {{.leaves = 2, .resettable = true},
                          {.leaves = 1, .resettable = true, .fail = FX_ECONFLICT},
                          {.leaves = 3, .resettable = true},
                          {.leaves = 1}};
    run_batched(spec, 4, check_reset);
}

/* The second write completes its receipts in the transaction, against its own tree. */
static void check_signed_now(struct job *jobs, size_t n, uint64_t start, bool batched)
{
    assert_int_equal(tree_size(), start + 6);
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(jobs[i].err, FX_OK);
        uint64_t size = check_receipts(&jobs[i]);
        if (jobs[i].sign_now) /* at most the tree as the write left it */
            assert_true(size <= start + 6 && size >= start + 2);
        else if (batched)
            assert_int_equal(size, start + 6);
    }
}

/* A write completed in its transaction proves against its own tree; later ones go on. */
static void test_receipts_completed_in_the_transaction(void **state)
{
    (void)state;
    const struct job spec[3] = {{.leaves = 2}, {.leaves = 2, .sign_now = true}, {.leaves = 2}};
    run_batched(spec, 3, check_signed_now);
}

static void check_lends_nothing(struct job *jobs, size_t n, uint64_t start, bool batched)
{
    (void)n;
    (void)batched;
    assert_int_equal(tree_size(), start + 2);
    assert_int_equal(jobs[0].err, FX_ECONFLICT);
    assert_int_equal(jobs[1].err, FX_OK);
    assert_int_equal(check_receipts(&jobs[1]), start + 2);
}

/*
 * A write that signed its receipts in the transaction and then failed: its
 * checkpoint was of a tree that never committed, and the next write, as long
 * as it appends as many leaves, must not be given it.
 */
static void test_a_failed_write_signed_in_the_transaction_lends_no_checkpoint(void **state)
{
    (void)state;
    const struct job spec[2] = {{.leaves = 2, .sign_now = true, .fail = FX_ECONFLICT},
                                {.leaves = 2}};
    run_batched(spec, 2, check_lends_nothing);
}

int main(void)
{
    if (sodium_init() < 0)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_a_batch_shares_one_checkpoint),
        cmocka_unit_test(test_a_failed_write_leaves_no_leaf_in_the_run),
        cmocka_unit_test(test_a_failed_last_write_leaves_no_leaf_in_the_run),
        cmocka_unit_test(test_a_failed_write_runs_the_resettable_ones_again),
        cmocka_unit_test(test_receipts_completed_in_the_transaction),
        cmocka_unit_test(test_a_failed_write_signed_in_the_transaction_lends_no_checkpoint),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
