/*
 * store_int.h: the backend table behind store.h (after curl's struct Curl_ssl).
 * Only store.c, store_sqlite.c and store_pg.c include this.
 */
#ifndef FX_STORE_INT_H
#define FX_STORE_INT_H

#include "store/store.h"

struct fx_store_ops {
    const char *name;
    enum fx_err (*open)(const struct fx_store_config *cfg, struct fx_store **out);
    void (*close)(struct fx_store *s);
    enum fx_err (*write)(struct fx_store *s, fx_db_fn fn, void *arg);
    enum fx_err (*write_async)(struct fx_store *s, fx_db_fn fn, fx_reset_fn reset, void *arg,
                               fx_store_done_fn done, void *done_arg);
    enum fx_err (*read)(struct fx_store *s, fx_db_fn fn, void *arg);
    enum fx_err (*prepare)(struct fx_db *db, const char *sql, struct fx_stmt **out);
    void (*bind_text)(struct fx_stmt *st, int i, const char *p, size_t len);
    void (*bind_i64)(struct fx_stmt *st, int i, int64_t v);
    void (*bind_double)(struct fx_stmt *st, int i, double v);
    void (*bind_blob)(struct fx_stmt *st, int i, const void *p, size_t len);
    void (*bind_null)(struct fx_stmt *st, int i);
    enum fx_err (*step)(struct fx_stmt *st, bool *row);
    const char *(*col_text)(struct fx_stmt *st, int col, size_t *len_out);
    int64_t (*col_i64)(struct fx_stmt *st, int col);
    double (*col_double)(struct fx_stmt *st, int col);
    const void *(*col_blob)(struct fx_stmt *st, int col, size_t *len_out);
    bool (*col_is_null)(struct fx_stmt *st, int col);
    void (*finalize)(struct fx_stmt *st);
    enum fx_err (*exec)(struct fx_db *db, const char *sql);
    int64_t (*changes)(struct fx_db *db);
    enum fx_err (*backup)(struct fx_store *s, const char *dest); /* NULL: not supported */
    void (*stats)(struct fx_store *s, struct fx_store_stats *out); /* NULL: nothing to add */
};

/* Every backend's store and db structs begin with these, so store.c can dispatch. */
struct fx_store_base {
    const struct fx_store_ops *ops;
};
struct fx_db_base {
    const struct fx_store_ops *ops;
    uint64_t txn; /* fx_db_txn(): the writer counts each batch's BEGIN here */
};
struct fx_stmt_base {
    const struct fx_store_ops *ops;
};

extern const struct fx_store_ops fx_store_sqlite_ops;
extern const struct fx_store_ops fx_store_pg_ops;

/* The schema, in order; each entry is one migration (portable SQL). */
struct fx_migration {
    int version;
    const char *name;
    const char *sql;
};
extern const struct fx_migration fx_migrations[];
extern const size_t fx_n_migrations;

#endif
