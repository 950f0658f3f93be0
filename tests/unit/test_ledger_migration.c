/*
 * test_ledger_migration.c: migration 5 moves a ledger written in migration 2's
 * layout (leaf hashes beside the leaves, nodes keyed by (level, idx)) into
 * ledger_hashes keyed by in-order position. A store opened after the move must
 * serve the same tree: every entry's bytes, inclusion and consistency proofs
 * that verify against roots computed here from the leaves alone, and appends
 * that continue the same tree.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "ledger/ledger.h"
#include "records/tlog.h"
#include "store/store.h"
#include "store/store_int.h"

#include <sodium.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define OLD_LEAVES 300 /* written in the old layout */
#define NEW_LEAVES 45  /* appended after the migration */
#define ALL (OLD_LEAVES + NEW_LEAVES)

static unsigned char leaf_hashes[ALL][FX_MERKLE_HASH];

static void leaf_text(size_t i, char *buf, size_t cap)
{
    snprintf(buf, cap, "{\"content_sha256\":\"%064zx\",\"kind\":\"test\",\"org\":\"o\","
                       "\"record_id\":\"r%zu\",\"time\":\"2026-11-27T00:00:00.000Z\","
                       "\"version\":1}",
             i, i);
}

/* The reference tree: the leaf hashes in memory, every node computed. */
static enum fx_err ref_leaf(void *ctx, uint64_t index, unsigned char out[FX_MERKLE_HASH])
{
    (void)ctx;
    memcpy(out, leaf_hashes[index], FX_MERKLE_HASH);
    return FX_OK;
}

static void ref_root(uint64_t size, unsigned char out[FX_MERKLE_HASH])
{
    struct fx_merkle_store ms = {.ctx = NULL, .size = size, .get_leaf_hash = ref_leaf};
    assert_int_equal(fx_merkle_root(&ms, size, out), FX_OK);
}

static void exec(sqlite3 *db, const char *sql)
{
    char *msg = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK)
        fail_msg("%s: %s", sql, msg ? msg : "?");
}

/* A store at migration 4 whose ledger holds OLD_LEAVES leaves, written as migration 2 kept them. */
static void write_old_store(const char *path)
{
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    exec(db, "PRAGMA journal_mode=WAL");
    for (size_t i = 0; i < fx_n_migrations && fx_migrations[i].version <= 4; i++)
        exec(db, fx_migrations[i].sql);
    exec(db, "PRAGMA user_version=4");
    exec(db, "BEGIN");
    sqlite3_stmt *leaf = NULL, *node = NULL;
    assert_int_equal(sqlite3_prepare_v2(db,
                                        "INSERT INTO ledger_leaves (idx, leaf, hash, kind,"
                                        " record_id, version) VALUES (?, ?, ?, 'test', ?, 1)",
                                        -1, &leaf, NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db,
                                        "INSERT INTO ledger_nodes (level, idx, hash)"
                                        " VALUES (?, ?, ?)",
                                        -1, &node, NULL),
                     SQLITE_OK);
    struct fx_merkle_appender *ap = calloc(1, sizeof(*ap));
    assert_non_null(ap);
    for (size_t i = 0; i < OLD_LEAVES; i++) {
        char text[256], rid[16];
        leaf_text(i, text, sizeof(text));
        snprintf(rid, sizeof(rid), "r%zu", i);
        fx_merkle_leaf_hash(text, strlen(text), leaf_hashes[i]);
        sqlite3_bind_int64(leaf, 1, (sqlite3_int64)i);
        sqlite3_bind_blob(leaf, 2, text, (int)strlen(text), SQLITE_TRANSIENT);
        sqlite3_bind_blob(leaf, 3, leaf_hashes[i], FX_MERKLE_HASH, SQLITE_TRANSIENT);
        sqlite3_bind_text(leaf, 4, rid, -1, SQLITE_TRANSIENT);
        assert_int_equal(sqlite3_step(leaf), SQLITE_DONE);
        sqlite3_reset(leaf);
        struct fx_merkle_node done[FX_MERKLE_MAX_LEVELS];
        size_t ndone = 0;
        assert_int_equal(fx_merkle_appender_push(ap, leaf_hashes[i], done, &ndone), FX_OK);
        for (size_t k = 0; k < ndone; k++) {
            sqlite3_bind_int64(node, 1, done[k].level);
            sqlite3_bind_int64(node, 2, (sqlite3_int64)done[k].index);
            sqlite3_bind_blob(node, 3, done[k].hash, FX_MERKLE_HASH, SQLITE_TRANSIENT);
            assert_int_equal(sqlite3_step(node), SQLITE_DONE);
            sqlite3_reset(node);
        }
    }
    free(ap);
    sqlite3_finalize(leaf);
    sqlite3_finalize(node);
    exec(db, "COMMIT");
    sqlite3_close(db);
}

static enum fx_err decode_path(json_t *path, struct fx_merkle_proof *p)
{
    p->n = json_array_size(path);
    for (size_t i = 0; i < p->n; i++) {
        const char *s = json_string_value(json_array_get(path, i));
        size_t n = 0;
        if (s == NULL || sodium_base642bin(p->hash[i], FX_MERKLE_HASH, s, strlen(s), NULL, &n,
                                           NULL, sodium_base64_VARIANT_ORIGINAL) != 0 ||
            n != FX_MERKLE_HASH)
            return FX_EINVAL;
    }
    return FX_OK;
}

/* Checks entries and proofs of the store's tree against the reference, up to size. */
struct check {
    uint64_t size;
};

static enum fx_err check_fn(struct fx_db *db, void *arg)
{
    const struct check *c = arg;
    uint64_t have = 0;
    assert_int_equal(fx_tlog_size(db, &have), FX_OK);
    assert_int_equal(have, c->size);
    struct fx_merkle_proof *p = malloc(sizeof(*p));
    assert_non_null(p);
    for (uint64_t i = 0; i < c->size; i++) {
        char *bytes = NULL, text[256];
        size_t len = 0;
        assert_int_equal(fx_tlog_entry(db, i, &bytes, &len), FX_OK);
        if (i < OLD_LEAVES) {
            leaf_text(i, text, sizeof(text));
            assert_int_equal(len, strlen(text));
            assert_memory_equal(bytes, text, len);
        } else {
            fx_merkle_leaf_hash(bytes, len, leaf_hashes[i]); /* appended after the move */
        }
        free(bytes);
    }
    static const uint64_t sizes[] = {1, 2, 3, 7, 8, 63, 64, 255, 256, 257, OLD_LEAVES, ALL};
    for (size_t k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
        uint64_t s = sizes[k];
        if (s > c->size)
            continue;
        unsigned char root[FX_MERKLE_HASH];
        ref_root(s, root);
        for (uint64_t i = 0; i < s; i += (s > 64 ? 7 : 1)) {
            json_t *out = NULL;
            assert_int_equal(fx_tlog_inclusion(db, i, s, &out), FX_OK);
            assert_int_equal(decode_path(json_object_get(out, "inclusion_path"), p), FX_OK);
            assert_int_equal(fx_merkle_verify_inclusion(leaf_hashes[i], i, s, p, root), FX_OK);
            json_decref(out);
        }
        for (size_t m = 0; m <= k; m++) {
            unsigned char from[FX_MERKLE_HASH];
            json_t *out = NULL;
            ref_root(sizes[m], from);
            assert_int_equal(fx_tlog_consistency(db, sizes[m], s, &out), FX_OK);
            assert_int_equal(decode_path(json_object_get(out, "consistency_path"), p), FX_OK);
            assert_int_equal(fx_merkle_verify_consistency(sizes[m], s, from, root, p), FX_OK);
            json_decref(out);
        }
    }
    free(p);
    return FX_OK;
}

static enum fx_err append_fn(struct fx_db *db, void *arg)
{
    (void)arg;
    struct fx_leaf leaves[NEW_LEAVES];
    char ids[NEW_LEAVES][16];
    for (size_t i = 0; i < NEW_LEAVES; i++) {
        snprintf(ids[i], sizeof(ids[i]), "n%zu", i);
        leaves[i] = (struct fx_leaf){"test", ids[i], 1, "00", "o", 0};
    }
    uint64_t size = 0;
    enum fx_err err = fx_tlog_append_batch(db, NULL, leaves, NEW_LEAVES, &size, NULL, 0, NULL);
    assert_int_equal(size, ALL);
    return err;
}

static void test_migration_keeps_the_tree(void **state)
{
    (void)state;
    char dir[] = "/tmp/fx-ledger-migration.XXXXXX", path[64];
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof(path), "%s/fx.db", dir);
    write_old_store(path);

    struct fx_store *store = NULL;
    assert_int_equal(fx_store_open(NULL, dir, &store), FX_OK); /* runs migration 5 */
    struct check c = {OLD_LEAVES};
    assert_int_equal(fx_store_read(store, check_fn, &c), FX_OK);
    /* the appender reads its frontier from the moved hashes: the same tree grows */
    assert_int_equal(fx_store_write(store, append_fn, NULL), FX_OK);
    c.size = ALL;
    assert_int_equal(fx_store_read(store, check_fn, &c), FX_OK);
    fx_store_close(store);

    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
}

int main(void)
{
    if (sodium_init() < 0)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_migration_keeps_the_tree),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
