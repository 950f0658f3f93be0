/*
 * audit.c: inserting and listing audit rows. Owns nothing between calls.
 */
#include "records/audit.h"
#include "common/log.h"
#include "common/parse.h"
#include "records/page.h"

#include <string.h>

enum fx_err fx_audit_write(struct fx_db *db, int64_t now_ms, const struct fx_principal *p,
                           const char *action, const char *record, const char *record_org,
                           const char *outcome)
{
    static const char *sql = "INSERT INTO audit (time, user_id, org_id, action, record,"
                             " record_org, outcome) VALUES ($1, $2, $3, $4, $5, $6, $7)";
    struct fx_stmt *st = NULL;
    bool row;
    enum fx_err err = fx_db_prepare(db, sql, &st);
    if (err != FX_OK)
        return err;
    fx_stmt_bind_i64(st, 1, now_ms);
    fx_stmt_bind_str(st, 2, p ? p->user_id : NULL);
    fx_stmt_bind_str(st, 3, p ? p->org_id : NULL);
    fx_stmt_bind_str(st, 4, action);
    fx_stmt_bind_str(st, 5, record);
    fx_stmt_bind_str(st, 6, record_org);
    fx_stmt_bind_str(st, 7, outcome);
    err = fx_stmt_step(st, &row);
    fx_stmt_finalize(st);
    return err;
}

static enum fx_err rows_fn(struct fx_db *db, void *arg)
{
    struct fx_audit_rows *r = arg;
    enum fx_err err = FX_OK;
    for (size_t i = 0; i < r->n && err == FX_OK; i++)
        err = fx_audit_write(db, r->now, &r->who, r->rows[i].action, r->rows[i].record,
                             r->rows[i].record_org, r->rows[i].outcome);
    return err;
}

enum fx_err fx_audit_rows_write(struct fx_store *store, struct fx_audit_rows *r,
                                fx_store_done_fn done, void *done_arg)
{
    if (done == NULL)
        return fx_store_write(store, rows_fn, r);
    return fx_store_write_async(store, rows_fn, NULL, r, done, done_arg);
}

/* Rows queued by fx_audit_rows_later(), with the copies they point into. */
struct later {
    struct fx_audit_rows r;
    char **strings; /* owned, as are the NULL-or-malloc'd strings it holds */
    size_t n_strings;
};

static const char *keep(struct later *l, const char *s)
{
    return s ? (l->strings[l->n_strings++] = fx_xstrdup(s)) : NULL;
}

static void later_done(void *arg, enum fx_err err)
{
    struct later *l = arg;
    if (err != FX_OK)
        fx_log("error", "audit",
               json_pack("{s:s,s:s,s:I}", "detail", "audit rows could not be kept", "action",
                         l->r.rows[0].action, "rows", (json_int_t)l->r.n));
    for (size_t i = 0; i < l->n_strings; i++)
        free(l->strings[i]);
    free(l->strings);
    free(l->r.rows);
    free(l);
}

void fx_audit_rows_later(struct fx_store *store, const struct fx_audit_rows *r)
{
    if (r->n == 0)
        return;
    struct later *l = fx_xcalloc(1, sizeof(*l));
    l->r = *r;
    l->r.rows = fx_xcalloc(r->n, sizeof(*r->rows));
    l->strings = fx_xcalloc(4 * r->n, sizeof(*l->strings));
    for (size_t i = 0; i < r->n; i++)
        l->r.rows[i] =
            (struct fx_audit_row){keep(l, r->rows[i].action), keep(l, r->rows[i].record),
                                  keep(l, r->rows[i].record_org), keep(l, r->rows[i].outcome)};
    enum fx_err err = fx_store_write_async(store, rows_fn, NULL, &l->r, later_done, l);
    if (err != FX_OK)
        later_done(l, err); /* the store is closing: nothing was queued, and that is logged */
}

/*
 * The optional filters and the order: a NULL parameter disables its condition.
 * The cursor $8 is always bound (INT64_MAX for the newest), so that it bounds
 * the index range rows are read from rather than filtering rows once read.
 */
#define AUDIT_WHERE(driver)                                                                        \
    " WHERE " driver " a.id < $8 AND (CAST($1 AS TEXT) IS NULL OR a.record = $1)"                  \
    " AND (CAST($2 AS TEXT) IS NULL OR a.user_id = $2)"                                            \
    " AND (CAST($3 AS TEXT) IS NULL OR a.org_id = $3)"                                             \
    " AND (CAST($4 AS TEXT) IS NULL OR a.org_id = $4 OR a.record_org = $4)"                        \
    " AND ($5 = 0 OR a.org_id IS NULL OR a.org_id <> $4)"                                          \
    " AND (CAST($6 AS TEXT) IS NULL OR a.action = $6) AND a.time >= $7"                            \
    " ORDER BY a.id DESC LIMIT $9"
/* The newest page of an org's scope: its users' rows, and the rows about its records. */
#define AUDIT_SCOPE                                                                                \
    FX_PAGE_UNION("SELECT * FROM audit a" AUDIT_WHERE("a.org_id = $4 AND"),                        \
                  "SELECT * FROM audit a" AUDIT_WHERE("a.record_org = $4 AND"))
/* The columns of a list of audit rows a, with who acted. */
#define AUDIT_LIST(from)                                                                           \
    "SELECT a.id, a.time, a.user_id, a.org_id, a.action, a.record, a.outcome, u.email, o.name"     \
    " FROM " from " LEFT JOIN users u ON u.id = a.user_id LEFT JOIN orgs o ON o.id = a.org_id"

/*
 * The statement for f, read through the index of its most selective filter: a
 * record's rows (audit_record), an acting org's (audit_org), an org's scope
 * (the newest page of each of audit_org and audit_record_org, merged), else
 * the newest rows. A catch-all statement with every filter optional would read
 * the whole table: SQLite cannot choose an index for "$1 IS NULL OR record = $1".
 */
static const char *audit_sql(const struct fx_audit_filter *f)
{
    static const char *by_record = AUDIT_LIST("audit a") AUDIT_WHERE("a.record = $1 AND");
    static const char *by_org = AUDIT_LIST("audit a") AUDIT_WHERE("a.org_id = $3 AND");
    static const char *by_scope = AUDIT_LIST(AUDIT_SCOPE " a") " ORDER BY a.id DESC LIMIT $9";
    static const char *newest = AUDIT_LIST("audit a") AUDIT_WHERE("");
    if (f->record)
        return by_record;
    if (f->org_id)
        return by_org;
    return f->scope_org ? by_scope : newest;
}

enum fx_err fx_audit_list(struct fx_db *db, const struct fx_audit_filter *f, json_t **items_out,
                          int64_t *next_out)
{
    struct fx_stmt *st = NULL;
    bool row = false;
    *items_out = NULL;
    *next_out = 0;
    enum fx_err err = fx_db_prepare(db, audit_sql(f), &st);
    if (err != FX_OK)
        return err;
    fx_stmt_bind_str(st, 1, f->record);
    fx_stmt_bind_str(st, 2, f->user_id);
    fx_stmt_bind_str(st, 3, f->org_id);
    fx_stmt_bind_str(st, 4, f->scope_org);
    fx_stmt_bind_i64(st, 5, f->outside_only ? 1 : 0);
    fx_stmt_bind_str(st, 6, f->action);
    fx_stmt_bind_i64(st, 7, f->since_ms);
    fx_stmt_bind_i64(st, 8, f->before_id != 0 ? f->before_id : INT64_MAX);
    fx_stmt_bind_i64(st, 9, f->limit + 1);
    json_t *items = json_array();
    int64_t n = 0, last_id = 0;
    for (;;) {
        err = fx_stmt_step(st, &row);
        if (err != FX_OK || !row)
            break;
        if (n == f->limit) {
            *next_out = last_id;
            break;
        }
        char t[25];
        last_id = fx_stmt_i64(st, 0);
        fx_format_time(fx_stmt_i64(st, 1), t);
        json_t *o = json_object();
        json_object_set_new(o, "id", json_integer(last_id));
        json_object_set_new(o, "time", json_string(t));
        const char *cols[] = {"user_id", "org_id", "action", "record", "outcome", "user_email",
                              "org_name"};
        for (int c = 0; c < 7; c++) {
            const char *v = fx_stmt_is_null(st, 2 + c) ? NULL : fx_stmt_text(st, 2 + c, NULL);
            json_object_set_new(o, cols[c], v ? json_string(v) : json_null());
        }
        json_array_append_new(items, o);
        n++;
    }
    fx_stmt_finalize(st);
    if (err != FX_OK) {
        json_decref(items);
        return err;
    }
    *items_out = items;
    return FX_OK;
}
