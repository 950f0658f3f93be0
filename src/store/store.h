/*
 * store.h: the one interface to the database. Two backends sit behind a table
 * of function pointers chosen at run time (struct fx_store_ops, store_int.h):
 * SQLite (default) and PostgreSQL. Domain code writes portable SQL with $1..$n
 * parameters and uses the statement calls below; it never sees sqlite3.h or
 * libpq-fe.h.
 *
 * Writes run inside fx_store_write(): the callback runs in a transaction and
 * the call returns only once that transaction is durable. The SQLite backend
 * commits concurrent writers together (group commit): one fsync for a batch,
 * each writer isolated by a savepoint so one failure rolls back only itself
 * (or, for writes that can run again, by running the others again).
 */
#ifndef FX_STORE_H
#define FX_STORE_H

#include "common/fx.h"

#include <stdbool.h>

struct fx_store; /* opaque, owned by whoever opened it */
struct fx_db;    /* a connection inside one read or write transaction; borrowed */
struct fx_stmt;  /* a prepared statement; borrowed from the fx_db until finalized */

typedef enum fx_err (*fx_db_fn)(struct fx_db *db, void *arg);
/* The end of a write queued with fx_store_write_async(): err as fx_store_write() returns it. */
typedef void (*fx_store_done_fn)(void *arg, enum fx_err err);
/* Undoes what a write callback left in arg, so that it can run again from the start. */
typedef void (*fx_reset_fn)(void *arg);

struct fx_store_config {
    const char *url;      /* "sqlite:" for data_dir/fx.db; "postgres://…"; NULL: the URL
                           * remembered in data_dir/db-url, else SQLite */
    const char *data_dir;
    unsigned pool_size;   /* PostgreSQL read connections; 0: the default (8) */
    bool pipelined;       /* SQLite, for fxd serve: a syncer thread makes each batch durable
                           * while the next one runs, and readers see only synced commits
                           * (decision 0011); otherwise every COMMIT syncs before it is seen */
};

/*
 * Opens the store and runs pending migrations. *out owned by the caller:
 * fx_store_close(). FX_EINVAL for a URL of no known backend.
 */
enum fx_err fx_store_open_config(const struct fx_store_config *cfg, struct fx_store **out);
/* The same with the default pool. */
enum fx_err fx_store_open(const char *url, const char *data_dir, struct fx_store **out);
void fx_store_close(struct fx_store *s);
/*
 * A consistent copy of the database at dest, taken while fxd may be serving
 * (SQLite's online backup). FX_EINVAL for PostgreSQL: use pg_dump or
 * point-in-time recovery there (docs/DEPLOYMENT.md).
 */
enum fx_err fx_store_backup(struct fx_store *s, const char *dest);
/* Backend name, "sqlite" or "postgres". */
const char *fx_store_backend(const struct fx_store *s);

/* What a backend reports for /metrics; what it does not have is -1. */
struct fx_store_stats {
    int64_t wal_pages;    /* SQLite: pages in the WAL since it last started over */
    int64_t checkpoints;  /* SQLite: the checkpointer's passes */
    int64_t wal_restarts; /* SQLite: the writer's tails, after which the WAL starts over */
    /* SQLite: rows its statements stepped through in full scans (of a table, or of an
     * index with no constraint), on every connection; a list read through the index of
     * its filter adds nothing (docs/internals/store.md, "List queries") */
    int64_t fullscan_steps;
    /* SQLite: sorts its statements ran; a list read in its order through its index runs
     * none (the same section) */
    int64_t sorts;
    /* fx_store_write() calls, the transactions they ran in (group commit), and their
     * time summed (ns) by stage: queued for the writer, in the writer's batch until
     * its transaction ended, from then until durable, and until the caller ran again
     * (fx_store_write_async: until its callback was called, so none) */
    int64_t write_jobs, write_batches;
    int64_t write_queued_ns, write_batch_ns, write_durable_ns, write_wakeup_ns;
};
void fx_store_stats(struct fx_store *s, struct fx_store_stats *out);

/* Runs fn in a write transaction and returns once it is durable. fn's error rolls it back. */
enum fx_err fx_store_write(struct fx_store *s, fx_db_fn fn, void *arg);
/*
 * fx_store_write without waiting: queues fn and returns. done(done_arg, err)
 * runs exactly once when the write is durable or failed, on one of the
 * store's threads, so it must be short and must not write to the store
 * itself. FX_EBUSY (done never runs) when the store is closing.
 *
 * reset may be NULL. Otherwise fn may run more than once: the SQLite
 * backend then runs it without a savepoint of its own, and should another
 * such write of the batch fail, rolls the whole transaction back, calls
 * reset(arg) and runs fn again in the next one. Only the last run counts.
 */
enum fx_err fx_store_write_async(struct fx_store *s, fx_db_fn fn, fx_reset_fn reset, void *arg,
                                 fx_store_done_fn done, void *done_arg);
/* Runs fn in a read transaction (a consistent snapshot). */
enum fx_err fx_store_read(struct fx_store *s, fx_db_fn fn, void *arg);

/* Statements. SQL uses $1..$n; statements are cached per connection by the sql pointer,
 * so pass string literals (or strings that live as long as the store).
 * "INSERT OR FAIL INTO" is for multi-row inserts inside a larger write: the
 * transaction rolls back on any error anyway, so SQLite need not keep a
 * statement journal to undo the statement's own rows (in a long transaction,
 * releasing one costs in proportion to the pages written so far); PostgreSQL
 * runs it as a plain INSERT. */
enum fx_err fx_db_prepare(struct fx_db *db, const char *sql, struct fx_stmt **out);
void fx_stmt_bind_text(struct fx_stmt *st, int i, const char *p, size_t len);
void fx_stmt_bind_str(struct fx_stmt *st, int i, const char *s); /* NULL binds NULL */
void fx_stmt_bind_i64(struct fx_stmt *st, int i, int64_t v);
void fx_stmt_bind_double(struct fx_stmt *st, int i, double v);
void fx_stmt_bind_blob(struct fx_stmt *st, int i, const void *p, size_t len);
void fx_stmt_bind_null(struct fx_stmt *st, int i);
/* FX_OK with *row true for a row, false when done; FX_ECONFLICT on a unique violation. */
enum fx_err fx_stmt_step(struct fx_stmt *st, bool *row);
/* Column values, 0-based, borrowed until the next step or finalize. */
const char *fx_stmt_text(struct fx_stmt *st, int col, size_t *len_out);
int64_t fx_stmt_i64(struct fx_stmt *st, int col);
double fx_stmt_double(struct fx_stmt *st, int col);
const void *fx_stmt_blob(struct fx_stmt *st, int col, size_t *len_out);
bool fx_stmt_is_null(struct fx_stmt *st, int col);
/* Copies a text column into out (n bytes, NUL-terminated, truncated); NULL gives "". */
void fx_stmt_copy_text(struct fx_stmt *st, int col, char *out, size_t n);
/* Releases the statement back to the connection's cache. */
void fx_stmt_finalize(struct fx_stmt *st);

/* Runs one statement without rows (DDL, simple updates). */
enum fx_err fx_db_exec(struct fx_db *db, const char *sql);
/* Rows changed by the last statement. */
int64_t fx_db_changes(struct fx_db *db);
/*
 * Which write transaction db is in: a number the writer's connection changes
 * at each batch's BEGIN, so that state kept across the callbacks of one batch
 * (the ledger's, records/tlog.c) can tell a new transaction from its own.
 */
uint64_t fx_db_txn(struct fx_db *db);

#endif
