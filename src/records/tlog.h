/*
 * tlog.h: the transparency log in the store (SPEC §9): appends leaves inside
 * the record's own write transaction, so a record version and its leaf commit
 * together or not at all, and answers checkpoints, entries, proofs and tiles.
 * The tree's edge is read back from the stored nodes by each write callback
 * (popcount(size) reads), so a rolled-back transaction can never leave memory
 * ahead of the database: what deferred writes keep in memory between callbacks
 * serves only their receipts.
 */
#ifndef FX_TLOG_H
#define FX_TLOG_H

#include "ledger/ledger.h"
#include "store/store.h"

#include <jansson.h>

/* What a leaf says: never confidential content (SPEC §9). Strings borrowed. */
struct fx_leaf {
    const char *kind;           /* "notice_version", "notice_submitted", "policy", … */
    const char *record_id;
    int64_t version;
    const char *content_sha256; /* hex SHA-256 of the exact bytes the API serves */
    const char *org;            /* the owning org's id */
    int64_t time_ms;
};

/*
 * Appends one leaf in the caller's write transaction and builds its receipt
 * {"leaf_index", "leaf" (base64 of the leaf bytes), "checkpoint" (signed note
 * including the leaf), "inclusion_path" [base64…]} (new reference).
 */
enum fx_err fx_tlog_append(struct fx_db *db, const struct fx_signer *sg, const struct fx_leaf *leaf,
                           json_t **receipt_out);

/*
 * Deferred receipts, for a write whose answer is rendered after its callback:
 * between fx_tlog_defer_begin() and fx_tlog_defer_end() on one thread (one
 * write callback), fx_tlog_append() appends at once and answers a receipt of
 * only {"leaf_index", "leaf"}, and the appender stays in memory from one
 * append to the next. The callbacks of one write transaction (a batch of the
 * store's writer, fx_db_txn()) that append one after the other share a run:
 * the tree's edge before the first of them and every leaf hash since (a leaf
 * appended without deferring in between starts a new run).
 * fx_tlog_defer_end(), called with the callback's final result once nothing
 * else of it can fail, keeps in *seal_out (NULL when no receipt waits) the
 * callback's receipts and a reference to its run; anything but FX_OK drops
 * the callback's leaves from the run (the store rolls them back: its savepoint,
 * or the whole transaction, whose next run starts afresh) and is returned. fx_tlog_seal_finish(), on any thread and once the transaction has
 * committed, completes every receipt in place with the signed checkpoint of
 * the tree as the run's last successful callback left it, and each leaf's
 * inclusion path to it: a run signs once, whichever of its seals is finished
 * first, and not on the writer's thread. fx_tlog_defer_sign() instead
 * completes the callback's receipts at once, in its transaction, with a
 * checkpoint of the tree as the callback leaves it (for an answer stored with
 * the write), which is never given to another write: the callback may still
 * fail. fx_tlog_defer_end() then keeps no seal. Receipts must not be rendered
 * before they are completed; fx_tlog_seal_free() drops an unfinished seal.
 */
struct fx_tlog_seal;
void fx_tlog_defer_begin(void);
enum fx_err fx_tlog_defer_sign(const struct fx_signer *sg);
enum fx_err fx_tlog_defer_end(enum fx_err err, struct fx_tlog_seal **seal_out);
enum fx_err fx_tlog_seal_finish(struct fx_tlog_seal *seal, const struct fx_signer *sg);
void fx_tlog_seal_free(struct fx_tlog_seal *seal);

/*
 * Appends n leaves (borrowed) in the caller's write transaction, in order, at
 * the next indices: one frontier load, then per leaf its row and the nodes it
 * completes, as fx_tlog_append() stores them, but no receipt and no signature
 * per leaf. The new size goes into *size_out (may be NULL). When note_out is
 * not NULL, the signed checkpoint of the tree after the last leaf is written
 * there (cap bytes; FX_CHECKPOINT_MAX_NOTE suffices), its length into
 * *len_out. For bulk appends (imports, bench/ledger_bench.c): a write that
 * answers a client still wants fx_tlog_append()'s receipt. Errors as
 * fx_tlog_append(); the caller's transaction then rolls everything back.
 */
enum fx_err fx_tlog_append_batch(struct fx_db *db, const struct fx_signer *sg,
                                 const struct fx_leaf *leaves, size_t n, uint64_t *size_out,
                                 char *note_out, size_t cap, size_t *len_out);

/*
 * A leaf made ready outside any transaction (fx_tlog_prepare()): its bytes and
 * its hash, the part of an append that needs no database. A bulk loader
 * prepares the next batch on one thread while the store commits the last.
 */
struct fx_tlog_ready {
    char *bytes;                /* owned: the leaf's bytes (fx_tlog_ready_cleanup()) */
    size_t len;
    unsigned char hash[FX_MERKLE_HASH]; /* RFC 9162 leaf hash of bytes */
};

/* Fills *out for leaf (only read). Pure: no store, any thread. */
void fx_tlog_prepare(const struct fx_leaf *leaf, struct fx_tlog_ready *out);
/* Frees what fx_tlog_prepare() allocated. */
void fx_tlog_ready_cleanup(struct fx_tlog_ready *r);
/* fx_tlog_append_batch() for leaves prepared with fx_tlog_prepare(). */
enum fx_err fx_tlog_append_ready(struct fx_db *db, const struct fx_signer *sg,
                                 const struct fx_tlog_ready *ready, size_t n, uint64_t *size_out,
                                 char *note_out, size_t cap, size_t *len_out);

/* Leaves in the log. */
enum fx_err fx_tlog_size(struct fx_db *db, uint64_t *size_out);
/* The signed checkpoint of the whole log (NUL-terminated note into out). */
enum fx_err fx_tlog_checkpoint(struct fx_db *db, const struct fx_signer *sg, char *out, size_t cap,
                               size_t *len_out);
/* The leaf bytes at index (malloc'd). FX_ENOTFOUND past the end. */
enum fx_err fx_tlog_entry(struct fx_db *db, uint64_t index, char **leaf_out, size_t *len_out);
/* Proofs as JSON (new references); FX_EINVAL for sizes/indices no proof can have. */
enum fx_err fx_tlog_inclusion(struct fx_db *db, uint64_t index, uint64_t size, json_t **out);
enum fx_err fx_tlog_consistency(struct fx_db *db, uint64_t from, uint64_t to, json_t **out);
/*
 * A C2SP tlog-tiles resource: "tile/<L>/<N>[.p/<W>]" (hashes) or
 * "tile/entries/<N>[.p/<W>]" (entry bundles). *out malloc'd. *immutable when
 * the tile is full. FX_ENOTFOUND when it does not exist (yet), FX_EINVAL when
 * the path is malformed.
 */
enum fx_err fx_tlog_tile(struct fx_db *db, const char *path, size_t path_len, char **out,
                         size_t *len_out, bool *immutable);

#endif
