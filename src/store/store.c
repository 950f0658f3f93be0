/*
 * store.c: picks the backend from the URL and dispatches through its ops table.
 */
#include "store/store_int.h"

#include <stdio.h>
#include <string.h>

#define OPS(x) (((const struct fx_store_base *)(x))->ops)

/*
 * A data directory initialised on PostgreSQL remembers its URL in DATA/db-url
 * (written by fxd init), so that every later command finds the same database
 * from --data alone. Returns a malloc'd URL or NULL.
 */
static char *remembered_url(const char *data_dir)
{
    char path[4096], url[2048];
    if (data_dir == NULL)
        return NULL;
    snprintf(path, sizeof(path), "%s/db-url", data_dir);
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return NULL;
    size_t n = fread(url, 1, sizeof(url) - 1, f);
    fclose(f);
    while (n > 0 && (url[n - 1] == '\n' || url[n - 1] == ' '))
        n--;
    url[n] = '\0';
    return n ? fx_xstrdup(url) : NULL;
}

enum fx_err fx_store_open_config(const struct fx_store_config *cfg, struct fx_store **out)
{
    if (cfg->url == NULL) {
        char *url = remembered_url(cfg->data_dir);
        if (url) {
            struct fx_store_config c2 = *cfg;
            c2.url = url;
            enum fx_err err = fx_store_open_config(&c2, out);
            free(url);
            return err;
        }
    }
    const char *url = cfg->url;
    *out = NULL;
    if (url == NULL || url[0] == '\0' || strncmp(url, "sqlite:", 7) == 0)
        return fx_store_sqlite_ops.open(cfg, out);
    if (strncmp(url, "postgres://", 11) == 0 || strncmp(url, "postgresql://", 13) == 0)
        return fx_store_pg_ops.open(cfg, out);
    return FX_EINVAL;
}

enum fx_err fx_store_open(const char *url, const char *data_dir, struct fx_store **out)
{
    struct fx_store_config cfg = {url, data_dir, 0, false};
    return fx_store_open_config(&cfg, out);
}

void fx_store_close(struct fx_store *s)
{
    if (s)
        OPS(s)->close(s);
}

enum fx_err fx_store_backup(struct fx_store *s, const char *dest)
{
    return OPS(s)->backup ? OPS(s)->backup(s, dest) : FX_EINVAL;
}

const char *fx_store_backend(const struct fx_store *s)
{
    return OPS(s)->name;
}

void fx_store_stats(struct fx_store *s, struct fx_store_stats *out)
{
    *out = (struct fx_store_stats){-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1};
    if (OPS(s)->stats)
        OPS(s)->stats(s, out);
}

enum fx_err fx_store_write(struct fx_store *s, fx_db_fn fn, void *arg)
{
    return OPS(s)->write(s, fn, arg);
}

enum fx_err fx_store_write_async(struct fx_store *s, fx_db_fn fn, fx_reset_fn reset, void *arg,
                                 fx_store_done_fn done, void *done_arg)
{
    return OPS(s)->write_async(s, fn, reset, arg, done, done_arg);
}

enum fx_err fx_store_read(struct fx_store *s, fx_db_fn fn, void *arg)
{
    return OPS(s)->read(s, fn, arg);
}

enum fx_err fx_db_prepare(struct fx_db *db, const char *sql, struct fx_stmt **out)
{
    return OPS(db)->prepare(db, sql, out);
}

void fx_stmt_bind_text(struct fx_stmt *st, int i, const char *p, size_t len)
{
    OPS(st)->bind_text(st, i, p, len);
}

void fx_stmt_bind_str(struct fx_stmt *st, int i, const char *s)
{
    if (s)
        OPS(st)->bind_text(st, i, s, strlen(s));
    else
        OPS(st)->bind_null(st, i);
}

void fx_stmt_bind_i64(struct fx_stmt *st, int i, int64_t v)
{
    OPS(st)->bind_i64(st, i, v);
}

void fx_stmt_bind_double(struct fx_stmt *st, int i, double v)
{
    OPS(st)->bind_double(st, i, v);
}

void fx_stmt_bind_blob(struct fx_stmt *st, int i, const void *p, size_t len)
{
    OPS(st)->bind_blob(st, i, p, len);
}

void fx_stmt_bind_null(struct fx_stmt *st, int i)
{
    OPS(st)->bind_null(st, i);
}

enum fx_err fx_stmt_step(struct fx_stmt *st, bool *row)
{
    return OPS(st)->step(st, row);
}

const char *fx_stmt_text(struct fx_stmt *st, int col, size_t *len_out)
{
    return OPS(st)->col_text(st, col, len_out);
}

int64_t fx_stmt_i64(struct fx_stmt *st, int col)
{
    return OPS(st)->col_i64(st, col);
}

double fx_stmt_double(struct fx_stmt *st, int col)
{
    return OPS(st)->col_double(st, col);
}

const void *fx_stmt_blob(struct fx_stmt *st, int col, size_t *len_out)
{
    return OPS(st)->col_blob(st, col, len_out);
}

bool fx_stmt_is_null(struct fx_stmt *st, int col)
{
    return OPS(st)->col_is_null(st, col);
}

void fx_stmt_copy_text(struct fx_stmt *st, int col, char *out, size_t n)
{
    const char *v = fx_stmt_is_null(st, col) ? NULL : fx_stmt_text(st, col, NULL);
    snprintf(out, n, "%s", v ? v : "");
}

void fx_stmt_finalize(struct fx_stmt *st)
{
    if (st)
        OPS(st)->finalize(st);
}

enum fx_err fx_db_exec(struct fx_db *db, const char *sql)
{
    return OPS(db)->exec(db, sql);
}

int64_t fx_db_changes(struct fx_db *db)
{
    return OPS(db)->changes(db);
}

uint64_t fx_db_txn(struct fx_db *db)
{
    return ((const struct fx_db_base *)db)->txn;
}
