/*
 * store_pg.c: the PostgreSQL backend: the only file that includes libpq-fe.h.
 *
 * Several fxd nodes may share one database. Writes keep the SQLite backend's
 * contract: a writer thread per node commits concurrent callers together
 * (one transaction, a savepoint each), and every write transaction first takes
 * one cluster-wide advisory lock, so that writes are serialised across nodes
 * exactly as they are on one node: ledger indices stay dense, references
 * unique, ETag checks race-free. Reads use a pool of connections.
 *
 * A lost connection is reset on next use; while the database is away every
 * call answers FX_ESTORE (503) and the node recovers by itself.
 */
#include "common/log.h"
#include "common/parse.h"
#include "store/jobq.h"
#include "store/store_int.h"

#include <libpq-fe.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#define STMT_CACHE 128
/* the widest statements: multi-row INSERTs (ledger hashes, TAXII objects) bind 64 */
#define MAX_PARAMS 64
#define MAX_BATCH 512
/* Any constant shared by all nodes: the one lock that orders writes. */
#define WRITE_LOCK_KEY 0x46584c4fLL

struct pg_conn;

struct pg_stmt {
    struct fx_stmt_base base;
    const char *key; /* the caller's SQL pointer */
    char name[16];
    int nparams;
    struct pg_conn *conn;
    char *values[MAX_PARAMS]; /* owned */
    int lengths[MAX_PARAMS];
    int formats[MAX_PARAMS];
    PGresult *res;  /* owned, after the first step */
    int row;        /* next row to return */
    unsigned char *blobs[8]; /* owned: unescaped bytea of the current row */
    size_t nblobs;
};

struct pg_conn {
    struct fx_db_base base;
    PGconn *pg;
    struct pg_stmt *cache[STMT_CACHE]; /* owned */
    unsigned next_name;
    int64_t changes;
    struct pg_conn *next_free;
};

struct pg_store {
    struct fx_store_base base;
    char *url; /* owned */
    struct pg_conn *writer;
    struct fx_jobq jobs; /* fx_store_write() to the writer thread */
    pthread_t thread;
    pthread_mutex_t mu; /* guards the read pool */
    pthread_cond_t pool_free;
    struct pg_conn **all; /* owned: every read connection */
    size_t n_all;
    struct pg_conn *free_list;
};

static void stmt_reset(struct pg_stmt *st)
{
    PQclear(st->res);
    st->res = NULL;
    st->row = 0;
    for (size_t i = 0; i < st->nblobs; i++)
        PQfreemem(st->blobs[i]);
    st->nblobs = 0;
    for (int i = 0; i < st->nparams; i++) {
        free(st->values[i]);
        st->values[i] = NULL;
        st->lengths[i] = 0;
        st->formats[i] = 0;
    }
}

static void cache_clear(struct pg_conn *c)
{
    for (size_t i = 0; i < STMT_CACHE; i++) {
        if (c->cache[i]) {
            stmt_reset(c->cache[i]);
            free(c->cache[i]);
            c->cache[i] = NULL;
        }
    }
}

static void log_pg(const char *msg, PGconn *pg)
{
    const char *e = pg ? PQerrorMessage(pg) : "";
    char buf[512];
    snprintf(buf, sizeof(buf), "%s", e ? e : "");
    size_t n = strlen(buf);
    while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
        buf[--n] = '\0';
    fx_log("error", msg, json_pack("{s:s}", "error", buf));
}

static enum fx_err simple(struct pg_conn *c, const char *sql)
{
    PGresult *r = PQexec(c->pg, sql);
    ExecStatusType s = PQresultStatus(r);
    enum fx_err err = s == PGRES_COMMAND_OK || s == PGRES_TUPLES_OK ? FX_OK : FX_ESTORE;
    if (err != FX_OK && PQstatus(c->pg) == CONNECTION_OK) {
        const char *state = PQresultErrorField(r, PG_DIAG_SQLSTATE);
        if (!(state && strcmp(state, "25P02") == 0)) /* in failed transaction: said before */
            log_pg("sql failed", c->pg);
    }
    PQclear(r);
    return err;
}

/* The connection is usable, or made so: a reset loses the prepared statements. */
static enum fx_err ensure(struct pg_conn *c)
{
    if (PQstatus(c->pg) == CONNECTION_OK)
        return FX_OK;
    cache_clear(c);
    PQreset(c->pg);
    if (PQstatus(c->pg) != CONNECTION_OK)
        return FX_ESTORE;
    fx_log("notice", "database connection re-established", NULL);
    return simple(c, "SET TIME ZONE 'UTC'");
}

/* libpq prints server notices to stderr; fxd's stderr is JSON lines only. */
static void on_notice(void *arg, const char *message)
{
    (void)arg;
    char buf[512];
    snprintf(buf, sizeof(buf), "%s", message);
    size_t n = strlen(buf);
    while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
        buf[--n] = '\0';
    fx_log("warn", "database notice", json_pack("{s:s}", "detail", buf));
}

/*
 * Starts a transaction. A connection that broke while idle only says so when
 * used: reset it and try once more, so the first request after the database
 * returns already succeeds.
 */
static enum fx_err begin(struct pg_conn *c, const char *sql)
{
    enum fx_err err = ensure(c);
    if (err == FX_OK)
        err = simple(c, sql);
    if (err != FX_OK && PQstatus(c->pg) != CONNECTION_OK && ensure(c) == FX_OK)
        err = simple(c, sql);
    return err;
}

static enum fx_err conn_open(const char *url, struct pg_conn **out)
{
    struct pg_conn *c = fx_xcalloc(1, sizeof(*c));
    c->base.ops = &fx_store_pg_ops;
    /* a bounded connect, so that a vanished database host cannot hang a request;
     * a connect_timeout in the URL wins (later keywords override earlier ones) */
    const char *const keys[] = {"connect_timeout", "dbname", NULL};
    const char *const vals[] = {"5", url, NULL};
    c->pg = PQconnectdbParams(keys, vals, 1);
    if (c->pg == NULL)
        fx_die("PQconnectdb failed to allocate");
    PQsetNoticeProcessor(c->pg, on_notice, NULL);
    if (PQstatus(c->pg) != CONNECTION_OK) {
        log_pg("cannot connect to PostgreSQL", c->pg);
        PQfinish(c->pg);
        free(c);
        return FX_ESTORE;
    }
    simple(c, "SET client_min_messages = warning");
    *out = c;
    return FX_OK;
}

static void conn_close(struct pg_conn *c)
{
    if (c == NULL)
        return;
    cache_clear(c);
    PQfinish(c->pg);
    free(c);
}

/*
 * SQLite spellings in the shared migrations, in PostgreSQL's: an integer
 * primary key is an identity, BLOB is BYTEA, a trigger that refuses is a
 * call of fx_refuse(), and lower() folds ASCII letters only, as SQLite's
 * does (the database's own collation may fold more).
 */
static char *translate_schema(const char *sql)
{
    static const struct {
        const char *from, *to;
    } words[] = {
        {"INTEGER PRIMARY KEY", "BIGSERIAL PRIMARY KEY"},
        {"BLOB", "BYTEA"},
        {" BEGIN SELECT RAISE(ABORT, ", " FOR EACH ROW EXECUTE FUNCTION fx_refuse("},
        {"); END;", ");"},
        {"lower(email)", "lower(email COLLATE \"C\")"},
    };
    size_t cap = strlen(sql) * 2 + 64, o = 0;
    char *out = fx_xmalloc(cap);
    for (const char *p = sql; *p;) {
        size_t k;
        for (k = 0; k < FX_ARRAY_LEN(words); k++) {
            size_t fl = strlen(words[k].from);
            if (strncmp(p, words[k].from, fl) == 0) {
                size_t tl = strlen(words[k].to);
                memcpy(out + o, words[k].to, tl);
                o += tl;
                p += fl;
                break;
            }
        }
        if (k == FX_ARRAY_LEN(words))
            out[o++] = *p++;
    }
    out[o] = '\0';
    return out;
}

static enum fx_err migrate(struct pg_conn *c)
{
    enum fx_err err = simple(c, "BEGIN");
    if (err == FX_OK)
        err = simple(c, "SELECT pg_advisory_xact_lock(4242)");
    if (err == FX_OK)
        err = simple(c, "CREATE TABLE IF NOT EXISTS fx_schema (version INTEGER NOT NULL)");
    if (err == FX_OK)
        err = simple(c, "CREATE OR REPLACE FUNCTION fx_refuse() RETURNS trigger"
                        " LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION '%', TG_ARGV[0]; END $$");
    int have = 0;
    if (err == FX_OK) {
        PGresult *r = PQexec(c->pg, "SELECT COALESCE(MAX(version), 0) FROM fx_schema");
        if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1) {
            int64_t v = 0;
            const char *t = PQgetvalue(r, 0, 0);
            if (fx_parse_i64(t, strlen(t), 0, 1000000, &v) == FX_OK)
                have = (int)v;
        } else {
            err = FX_ESTORE;
        }
        PQclear(r);
    }
    for (size_t i = 0; i < fx_n_migrations && err == FX_OK; i++) {
        const struct fx_migration *m = &fx_migrations[i];
        if (m->version <= have)
            continue;
        char *sql = translate_schema(m->sql);
        err = simple(c, sql);
        free(sql);
        char setv[80];
        snprintf(setv, sizeof(setv), "INSERT INTO fx_schema (version) VALUES (%d)", m->version);
        if (err == FX_OK)
            err = simple(c, setv);
        if (err == FX_OK)
            fx_log("info", "migration applied",
                   json_pack("{s:i,s:s}", "version", m->version, "name", m->name));
    }
    if (err == FX_OK)
        err = simple(c, "COMMIT");
    else
        simple(c, "ROLLBACK");
    return err;
}

static void run_batch(struct pg_store *s, struct fx_job *batch)
{
    struct pg_conn *c = s->writer;
    int ok = begin(c, "BEGIN") == FX_OK;
    c->base.txn++;
    if (ok && simple(c, "SELECT pg_advisory_xact_lock(" "1179142223" ")") != FX_OK) {
        simple(c, "ROLLBACK");
        ok = 0;
    }
    for (struct fx_job *j = batch; j; j = j->next) {
        if (!ok) {
            j->err = FX_ESTORE;
            continue;
        }
        simple(c, "SAVEPOINT job");
        j->err = j->fn((struct fx_db *)c, j->arg);
        if (j->err != FX_OK)
            simple(c, "ROLLBACK TO SAVEPOINT job");
        simple(c, "RELEASE SAVEPOINT job");
    }
    if (ok && simple(c, "COMMIT") != FX_OK) {
        simple(c, "ROLLBACK");
        for (struct fx_job *j = batch; j; j = j->next)
            if (j->err == FX_OK)
                j->err = FX_ESTORE;
    }
}

static void *writer_main(void *arg)
{
    struct pg_store *s = arg;
    struct fx_job *batch;
    while ((batch = fx_jobq_take(&s->jobs, MAX_BATCH)) != NULL) {
        run_batch(s, batch);
        fx_jobq_done(batch); /* its COMMIT returned: durable already */
        fx_jobq_finish(&s->jobs, batch);
    }
    return NULL;
}

static void pg_stats(struct fx_store *store, struct fx_store_stats *out)
{
    fx_jobq_stats(&((struct pg_store *)store)->jobs, out);
}

static enum fx_err pg_write(struct fx_store *store, fx_db_fn fn, void *arg)
{
    return fx_jobq_run(&((struct pg_store *)store)->jobs, fn, arg);
}

static enum fx_err pg_write_async(struct fx_store *store, fx_db_fn fn, fx_reset_fn reset, void *arg,
                                  fx_store_done_fn done, void *done_arg)
{
    return fx_jobq_submit(&((struct pg_store *)store)->jobs, fn, reset, arg, done, done_arg);
}

static enum fx_err pg_read(struct fx_store *store, fx_db_fn fn, void *arg)
{
    struct pg_store *s = (struct pg_store *)store;
    pthread_mutex_lock(&s->mu);
    while (s->free_list == NULL)
        pthread_cond_wait(&s->pool_free, &s->mu);
    struct pg_conn *c = s->free_list;
    s->free_list = c->next_free;
    pthread_mutex_unlock(&s->mu);

    enum fx_err err = begin(c, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY");
    if (err == FX_OK) {
        err = fn((struct fx_db *)c, arg);
        simple(c, err == FX_OK ? "COMMIT" : "ROLLBACK");
    }

    pthread_mutex_lock(&s->mu);
    c->next_free = s->free_list;
    s->free_list = c;
    pthread_cond_signal(&s->pool_free);
    pthread_mutex_unlock(&s->mu);
    return err;
}

static enum fx_err open_pool(struct pg_store *s, size_t pool)
{
    s->all = fx_xcalloc(pool, sizeof(*s->all));
    for (size_t i = 0; i < pool; i++) {
        enum fx_err err = conn_open(s->url, &s->all[i]);
        if (err != FX_OK)
            return err;
        s->n_all++;
        s->all[i]->next_free = s->free_list;
        s->free_list = s->all[i];
    }
    return FX_OK;
}

static void free_store(struct pg_store *s)
{
    for (size_t i = 0; i < s->n_all; i++)
        conn_close(s->all[i]);
    free(s->all);
    conn_close(s->writer);
    free(s->url);
    free(s);
}

static enum fx_err pg_open(const struct fx_store_config *cfg, struct fx_store **out)
{
    struct pg_store *s = fx_xcalloc(1, sizeof(*s));
    s->base.ops = &fx_store_pg_ops;
    s->url = fx_xstrdup(cfg->url);
    enum fx_err err = conn_open(s->url, &s->writer);
    if (err == FX_OK)
        err = migrate(s->writer);
    if (err == FX_OK)
        err = open_pool(s, cfg->pool_size ? cfg->pool_size : 8);
    if (err != FX_OK) {
        free_store(s);
        return err;
    }
    fx_jobq_init(&s->jobs);
    pthread_mutex_init(&s->mu, NULL);
    pthread_cond_init(&s->pool_free, NULL);
    if (pthread_create(&s->thread, NULL, writer_main, s) != 0)
        fx_die("cannot start the store writer thread");
    *out = (struct fx_store *)s;
    return FX_OK;
}

static void pg_close(struct fx_store *store)
{
    struct pg_store *s = (struct pg_store *)store;
    fx_jobq_stop(&s->jobs);
    pthread_join(s->thread, NULL); /* drains the queue first */
    fx_jobq_destroy(&s->jobs);
    pthread_mutex_destroy(&s->mu);
    pthread_cond_destroy(&s->pool_free);
    free_store(s);
}

/*
 * Highest $N in sql: the statement's parameter count. used[n - 1] is set for
 * every $n that appears: PostgreSQL cannot infer a type for one that does not
 * (a statement may skip $1), so those are declared text.
 */
static int count_params(const char *sql, bool used[MAX_PARAMS])
{
    int max = 0;
    memset(used, 0, MAX_PARAMS * sizeof(bool));
    char quote = 0;
    for (const char *p = sql; *p; p++) {
        if (quote) {
            if (*p == quote)
                quote = 0;
        } else if (*p == '\'' || *p == '"') {
            quote = *p;
        } else if (*p == '$' && p[1] >= '0' && p[1] <= '9') {
            int n = 0;
            while (p[1] >= '0' && p[1] <= '9')
                n = n * 10 + (*++p - '0');
            if (n > max)
                max = n;
            if (n >= 1 && n <= MAX_PARAMS)
                used[n - 1] = true;
        }
    }
    return max;
}

static enum fx_err pg_prepare(struct fx_db *db, const char *sql, struct fx_stmt **out)
{
    struct pg_conn *c = (struct pg_conn *)db;
    size_t h = ((uintptr_t)sql >> 3) % STMT_CACHE;
    for (size_t k = 0; k < STMT_CACHE; k++) {
        size_t i = (h + k) % STMT_CACHE;
        struct pg_stmt *st = c->cache[i];
        if (st && st->key == sql) {
            *out = (struct fx_stmt *)st;
            return FX_OK;
        }
        if (st == NULL) {
            st = fx_xcalloc(1, sizeof(*st));
            st->base.ops = &fx_store_pg_ops;
            st->key = sql;
            st->conn = c;
            bool used[MAX_PARAMS];
            st->nparams = count_params(sql, used);
            if (st->nparams > MAX_PARAMS)
                fx_die("statement with more than MAX_PARAMS parameters");
            Oid types[MAX_PARAMS];
            for (int p = 0; p < st->nparams; p++)
                types[p] = used[p] ? 0 : 25; /* 0: inferred; 25: text */
            snprintf(st->name, sizeof(st->name), "s%u", c->next_name++);
            /* store.h: "INSERT OR FAIL INTO" is SQLite's; a PostgreSQL INSERT is one unit */
            static const char or_fail[] = "INSERT OR FAIL INTO ";
            char *plain = NULL;
            if (strncmp(sql, or_fail, sizeof(or_fail) - 1) == 0) {
                plain = fx_xmalloc(strlen(sql) + 1);
                snprintf(plain, strlen(sql) + 1, "INSERT INTO %s", sql + sizeof(or_fail) - 1);
            }
            PGresult *r = PQprepare(c->pg, st->name, plain ? plain : sql, st->nparams, types);
            free(plain);
            ExecStatusType rs = PQresultStatus(r);
            PQclear(r);
            if (rs != PGRES_COMMAND_OK) {
                log_pg("prepare failed", c->pg);
                free(st);
                return FX_ESTORE;
            }
            c->cache[i] = st;
            *out = (struct fx_stmt *)st;
            return FX_OK;
        }
    }
    fx_die("statement cache full: raise STMT_CACHE");
}

#define ST(x) ((struct pg_stmt *)(x))

static void set_param(struct pg_stmt *st, int i, char *v, int len, int format)
{
    if (i < 1 || i > st->nparams) {
        free(v);
        return;
    }
    free(st->values[i - 1]);
    st->values[i - 1] = v;
    st->lengths[i - 1] = len;
    st->formats[i - 1] = format;
}

static void pg_bind_text(struct fx_stmt *st, int i, const char *p, size_t len)
{
    set_param(ST(st), i, fx_xstrndup(p, len), (int)len, 0);
}

static void pg_bind_i64(struct fx_stmt *st, int i, int64_t v)
{
    char buf[24];
    int n = snprintf(buf, sizeof(buf), "%lld", (long long)v);
    set_param(ST(st), i, fx_xstrndup(buf, (size_t)n), n, 0);
}

static void pg_bind_double(struct fx_stmt *st, int i, double v)
{
    char buf[40];
    int n = snprintf(buf, sizeof(buf), "%.17g", v);
    set_param(ST(st), i, fx_xstrndup(buf, (size_t)n), n, 0);
}

static void pg_bind_blob(struct fx_stmt *st, int i, const void *p, size_t len)
{
    char *v = fx_xmalloc(len ? len : 1);
    if (len)
        memcpy(v, p, len);
    set_param(ST(st), i, v, (int)len, 1);
}

static void pg_bind_null(struct fx_stmt *st, int i)
{
    set_param(ST(st), i, NULL, 0, 0);
}

static enum fx_err pg_step(struct fx_stmt *stmt, bool *row)
{
    struct pg_stmt *st = ST(stmt);
    *row = false;
    for (size_t i = 0; i < st->nblobs; i++)
        PQfreemem(st->blobs[i]);
    st->nblobs = 0;
    if (st->res == NULL) {
        st->res = PQexecPrepared(st->conn->pg, st->name, st->nparams,
                                 (const char *const *)st->values, st->lengths, st->formats, 0);
        ExecStatusType rs = PQresultStatus(st->res);
        if (rs != PGRES_COMMAND_OK && rs != PGRES_TUPLES_OK) {
            const char *state = PQresultErrorField(st->res, PG_DIAG_SQLSTATE);
            if (state && strcmp(state, "23505") == 0)
                return FX_ECONFLICT;
            fx_log("error", "statement failed",
                   json_pack("{s:s,s:s}", "sql", st->key, "error",
                             PQresultErrorMessage(st->res)));
            return FX_ESTORE;
        }
        const char *ct = PQcmdTuples(st->res);
        int64_t ch = 0;
        if (ct && *ct && fx_parse_i64(ct, strlen(ct), 0, INT64_MAX, &ch) == FX_OK)
            st->conn->changes = ch;
        st->row = 0;
    } else {
        st->row++;
    }
    *row = PQresultStatus(st->res) == PGRES_TUPLES_OK && st->row < PQntuples(st->res);
    return FX_OK;
}

static const char *pg_col_text(struct fx_stmt *stmt, int col, size_t *len_out)
{
    struct pg_stmt *st = ST(stmt);
    if (PQgetisnull(st->res, st->row, col)) {
        if (len_out)
            *len_out = 0;
        return NULL;
    }
    if (len_out)
        *len_out = (size_t)PQgetlength(st->res, st->row, col);
    return PQgetvalue(st->res, st->row, col);
}

static int64_t pg_col_i64(struct fx_stmt *stmt, int col)
{
    size_t len = 0;
    const char *t = pg_col_text(stmt, col, &len);
    int64_t v = 0;
    if (t == NULL)
        return 0;
    if (len == 1 && (t[0] == 't' || t[0] == 'f'))
        return t[0] == 't'; /* a boolean (EXISTS, comparisons): SQLite gives 1 or 0 */
    if (fx_parse_i64(t, len, INT64_MIN, INT64_MAX, &v) != FX_OK)
        return 0;
    return v;
}

static double pg_col_double(struct fx_stmt *stmt, int col)
{
    size_t len = 0;
    const char *t = pg_col_text(stmt, col, &len);
    double d = 0;
    if (t == NULL || fx_parse_double(t, len, &d) != FX_OK)
        return 0;
    return d;
}

static const void *pg_col_blob(struct fx_stmt *stmt, int col, size_t *len_out)
{
    struct pg_stmt *st = ST(stmt);
    *len_out = 0;
    const char *t = pg_col_text(stmt, col, NULL);
    if (t == NULL || st->nblobs == FX_ARRAY_LEN(st->blobs))
        return NULL;
    size_t n = 0;
    unsigned char *b = PQunescapeBytea((const unsigned char *)t, &n);
    if (b == NULL)
        fx_die("PQunescapeBytea failed to allocate");
    st->blobs[st->nblobs++] = b;
    *len_out = n;
    return b;
}

static bool pg_col_is_null(struct fx_stmt *stmt, int col)
{
    struct pg_stmt *st = ST(stmt);
    return PQgetisnull(st->res, st->row, col);
}

static void pg_finalize(struct fx_stmt *stmt)
{
    stmt_reset(ST(stmt));
}

static enum fx_err pg_exec(struct fx_db *db, const char *sql)
{
    return simple((struct pg_conn *)db, sql);
}

static int64_t pg_changes(struct fx_db *db)
{
    return ((struct pg_conn *)db)->changes;
}

const struct fx_store_ops fx_store_pg_ops = {
    .name = "postgres",
    .open = pg_open,
    .close = pg_close,
    .write = pg_write,
    .write_async = pg_write_async,
    .read = pg_read,
    .prepare = pg_prepare,
    .bind_text = pg_bind_text,
    .bind_i64 = pg_bind_i64,
    .bind_double = pg_bind_double,
    .bind_blob = pg_bind_blob,
    .bind_null = pg_bind_null,
    .step = pg_step,
    .col_text = pg_col_text,
    .col_i64 = pg_col_i64,
    .col_double = pg_col_double,
    .col_blob = pg_col_blob,
    .col_is_null = pg_col_is_null,
    .finalize = pg_finalize,
    .exec = pg_exec,
    .changes = pg_changes,
    .stats = pg_stats,
};
