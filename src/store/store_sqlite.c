/*
 * store_sqlite.c: the SQLite backend (WAL, synchronous=FULL): the only file
 * that includes sqlite3.h.
 *
 * One writer thread owns the write connection and commits concurrent writers
 * together (group commit): it takes every queued job, runs each under its own
 * savepoint inside one BEGIN IMMEDIATE … COMMIT, and wakes the waiters only
 * after COMMIT returned, so a 2xx always means the write reached the disk,
 * while a batch of N writers costs one fsync instead of N.
 *
 * Checkpoints (copying the WAL back into the database file, with its own
 * fsyncs) run on a thread of their own, so that no commit waits for one.
 *
 * Readers get one connection per thread (WAL lets them run beside the
 * writer). Prepared statements are cached per connection, keyed by the
 * address of the SQL string literal.
 */
#include "common/log.h"
#include "store/store_int.h"

#include <fcntl.h>
#include <pthread.h>
#include <sqlite3.h>
#include <sys/prctl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define STMT_CACHE 128
#define MAX_BATCH 1024

struct sq_conn;

struct sq_stmt {
    struct fx_stmt_base base;
    sqlite3_stmt *st; /* owned */
    const char *key;  /* the caller's SQL pointer */
    struct sq_conn *conn;
};

struct sq_conn {
    struct fx_db_base base;
    sqlite3 *db;
    struct sq_stmt *cache[STMT_CACHE]; /* owned */
    struct sq_conn *next_reader;       /* list of all readers, for close */
};

struct sq_job {
    fx_db_fn fn;
    void *arg;
    enum fx_err err;
    int done;
    struct sq_job *next;
};

struct sq_store {
    struct fx_store_base base;
    char *path; /* owned */
    struct sq_conn *writer;
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t wake_writer;
    pthread_cond_t wake_waiters;
    struct sq_job *head, *tail;
    int stopping;
    pthread_key_t reader_key;
    struct sq_conn *readers; /* guarded by mu */
    /* the checkpointer */
    pthread_t ckpt_thread;
    pthread_cond_t wake_ckpt;
    int wal_pages;           /* guarded by mu: WAL size the writer last reported */
    sqlite3 *ckpt_db;        /* owned by the checkpointer */
    int ckpt_asked_at;       /* writer thread only: WAL size at the last request */
};

/* WAL pages past which the checkpointer copies them back (SQLite's own default). */
#define CHECKPOINT_PAGES 1000

static enum fx_err conn_open(const char *path, int readonly, struct sq_conn **out)
{
    struct sq_conn *c = fx_xcalloc(1, sizeof(*c));
    c->base.ops = &fx_store_sqlite_ops;
    int flags = readonly ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
    flags |= SQLITE_OPEN_NOMUTEX;
    if (sqlite3_open_v2(path, &c->db, flags, NULL) != SQLITE_OK) {
        fx_log("error", "cannot open database",
               json_pack("{s:s,s:s}", "path", path, "error", sqlite3_errmsg(c->db)));
        sqlite3_close(c->db);
        free(c);
        return FX_ESTORE;
    }
    sqlite3_busy_timeout(c->db, 10000);
    sqlite3_extended_result_codes(c->db, 1);
    const char *pragmas = readonly ? "PRAGMA foreign_keys=ON;"
                                   : "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;"
                                     "PRAGMA temp_store=MEMORY;"
                                     "PRAGMA foreign_keys=ON;";
    char *msg = NULL;
    if (sqlite3_exec(c->db, pragmas, NULL, NULL, &msg) != SQLITE_OK) {
        fx_log("error", "cannot configure database", json_pack("{s:s}", "error", msg ? msg : ""));
        sqlite3_free(msg);
        sqlite3_close(c->db);
        free(c);
        return FX_ESTORE;
    }
    *out = c;
    return FX_OK;
}

static void conn_close(struct sq_conn *c)
{
    if (c == NULL)
        return;
    for (size_t i = 0; i < STMT_CACHE; i++) {
        if (c->cache[i]) {
            sqlite3_finalize(c->cache[i]->st);
            free(c->cache[i]);
        }
    }
    sqlite3_close(c->db);
    free(c);
}

static enum fx_err exec_sql(struct sq_conn *c, const char *sql)
{
    char *msg = NULL;
    if (sqlite3_exec(c->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
        fx_log("error", "sql failed", json_pack("{s:s}", "error", msg ? msg : ""));
        sqlite3_free(msg);
        return FX_ESTORE;
    }
    return FX_OK;
}

/* Applies every migration newer than the database's user_version, each in its own transaction. */
static enum fx_err migrate(struct sq_conn *c)
{
    sqlite3_stmt *st = NULL;
    int have = 0;
    if (sqlite3_prepare_v2(c->db, "PRAGMA user_version", -1, &st, NULL) != SQLITE_OK)
        return FX_ESTORE;
    if (sqlite3_step(st) == SQLITE_ROW)
        have = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    for (size_t i = 0; i < fx_n_migrations; i++) {
        const struct fx_migration *m = &fx_migrations[i];
        if (m->version <= have)
            continue;
        char setv[64];
        snprintf(setv, sizeof(setv), "PRAGMA user_version=%d;", m->version);
        if (exec_sql(c, "BEGIN IMMEDIATE") != FX_OK)
            return FX_ESTORE;
        if (exec_sql(c, m->sql) != FX_OK || exec_sql(c, setv) != FX_OK) {
            exec_sql(c, "ROLLBACK");
            return FX_ESTORE;
        }
        if (exec_sql(c, "COMMIT") != FX_OK)
            return FX_ESTORE;
        fx_log("info", "migration applied", json_pack("{s:i,s:s}", "version", m->version,
                                                      "name", m->name));
    }
    return FX_OK;
}

static enum fx_err sq_prepare(struct fx_db *db, const char *sql, struct fx_stmt **out);
static enum fx_err sq_step(struct fx_stmt *st, bool *row);
static void sq_finalize(struct fx_stmt *st);

/*
 * Runs one statement without rows from the connection's cache: the batch's
 * BEGIN, SAVEPOINT, RELEASE and COMMIT would otherwise be parsed again for
 * every job (sqlite3_exec compiles its text on each call).
 */
static enum fx_err cached_exec(struct sq_conn *c, const char *sql)
{
    struct fx_stmt *st = NULL;
    bool row;
    enum fx_err err = sq_prepare((struct fx_db *)c, sql, &st);
    if (err != FX_OK)
        return err;
    err = sq_step(st, &row);
    sq_finalize(st);
    return err;
}

static void run_batch(struct sq_store *s, struct sq_job *batch)
{
    static const char *begin_sql = "BEGIN IMMEDIATE";
    static const char *savepoint_sql = "SAVEPOINT job";
    static const char *rollback_to_sql = "ROLLBACK TO job";
    static const char *release_sql = "RELEASE job";
    static const char *commit_sql = "COMMIT";
    struct sq_conn *c = s->writer;
    int began = cached_exec(c, begin_sql) == FX_OK;
    for (struct sq_job *j = batch; j; j = j->next) {
        if (!began) {
            j->err = FX_ESTORE;
            continue;
        }
        cached_exec(c, savepoint_sql);
        j->err = j->fn((struct fx_db *)c, j->arg);
        if (j->err != FX_OK)
            cached_exec(c, rollback_to_sql);
        cached_exec(c, release_sql);
    }
    if (began && cached_exec(c, commit_sql) != FX_OK) {
        exec_sql(c, "ROLLBACK");
        for (struct sq_job *j = batch; j; j = j->next)
            if (j->err == FX_OK)
                j->err = FX_ESTORE;
    }
}

/* Called by SQLite on the writer thread after each commit: hand big WALs over. */
static int on_wal_commit(void *arg, sqlite3 *db, const char *name, int pages)
{
    (void)db;
    (void)name;
    struct sq_store *s = arg;
    /* a reset WAL starts counting again; otherwise ask once per CHECKPOINT_PAGES grown */
    if (pages < s->ckpt_asked_at)
        s->ckpt_asked_at = 0;
    if (pages - s->ckpt_asked_at >= CHECKPOINT_PAGES) {
        s->ckpt_asked_at = pages;
        pthread_mutex_lock(&s->mu);
        s->wal_pages = pages;
        pthread_cond_signal(&s->wake_ckpt);
        pthread_mutex_unlock(&s->mu);
    }
    return SQLITE_OK;
}

static void *checkpoint_main(void *arg)
{
    struct sq_store *s = arg;
    prctl(PR_SET_NAME, "fx-checkpoint"); /* named for top -H and bench/notice_post.sh */
    pthread_mutex_lock(&s->mu);
    for (;;) {
        while (s->wal_pages < CHECKPOINT_PAGES && !s->stopping)
            pthread_cond_wait(&s->wake_ckpt, &s->mu);
        if (s->stopping)
            break;
        s->wal_pages = 0;
        pthread_mutex_unlock(&s->mu);
        /* PASSIVE: copies what no reader still needs, never blocks the writer */
        sqlite3_wal_checkpoint_v2(s->ckpt_db, NULL, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
        pthread_mutex_lock(&s->mu);
    }
    pthread_mutex_unlock(&s->mu);
    return NULL;
}

static void *writer_main(void *arg)
{
    struct sq_store *s = arg;
    prctl(PR_SET_NAME, "fx-writer"); /* named for top -H and bench/notice_post.sh */
    pthread_mutex_lock(&s->mu);
    for (;;) {
        while (s->head == NULL && !s->stopping)
            pthread_cond_wait(&s->wake_writer, &s->mu);
        if (s->head == NULL && s->stopping)
            break;
        /* take up to MAX_BATCH jobs */
        struct sq_job *batch = s->head, *last = s->head;
        size_t n = 1;
        while (last->next && n < MAX_BATCH) {
            last = last->next;
            n++;
        }
        s->head = last->next;
        if (s->head == NULL)
            s->tail = NULL;
        last->next = NULL;
        pthread_mutex_unlock(&s->mu);

        run_batch(s, batch);

        pthread_mutex_lock(&s->mu);
        struct sq_job *j = batch;
        while (j) {
            struct sq_job *next = j->next; /* j may be gone once done is set */
            j->done = 1;
            j = next;
        }
        /* wake them with the lock free, so that they need not queue for it behind us */
        pthread_mutex_unlock(&s->mu);
        pthread_cond_broadcast(&s->wake_waiters);
        pthread_mutex_lock(&s->mu);
    }
    pthread_mutex_unlock(&s->mu);
    return NULL;
}

static void enqueue(struct sq_store *s, struct sq_job *j)
{
    j->next = NULL;
    if (s->tail)
        s->tail->next = j;
    else
        s->head = j;
    s->tail = j;
    pthread_cond_signal(&s->wake_writer);
}

static enum fx_err sq_write(struct fx_store *store, fx_db_fn fn, void *arg)
{
    struct sq_store *s = (struct sq_store *)store;
    struct sq_job j = {.fn = fn, .arg = arg};
    pthread_mutex_lock(&s->mu);
    if (s->stopping) {
        pthread_mutex_unlock(&s->mu);
        return FX_EBUSY;
    }
    enqueue(s, &j);
    while (!j.done)
        pthread_cond_wait(&s->wake_waiters, &s->mu);
    pthread_mutex_unlock(&s->mu);
    return j.err;
}

static enum fx_err sq_read(struct fx_store *store, fx_db_fn fn, void *arg)
{
    struct sq_store *s = (struct sq_store *)store;
    struct sq_conn *c = pthread_getspecific(s->reader_key);
    if (c == NULL) {
        enum fx_err err = conn_open(s->path, 1, &c);
        if (err != FX_OK)
            return err;
        pthread_setspecific(s->reader_key, c);
        pthread_mutex_lock(&s->mu);
        c->next_reader = s->readers;
        s->readers = c;
        pthread_mutex_unlock(&s->mu);
    }
    /* prepared once per connection: sqlite3_exec would parse them on every read */
    static const char *begin_sql = "BEGIN";
    static const char *commit_sql = "COMMIT";
    struct fx_stmt *st = NULL;
    bool row;
    if (sq_prepare((struct fx_db *)c, begin_sql, &st) != FX_OK || sq_step(st, &row) != FX_OK) {
        if (st)
            sq_finalize(st);
        return FX_ESTORE;
    }
    sq_finalize(st);
    enum fx_err err = fn((struct fx_db *)c, arg);
    if (sq_prepare((struct fx_db *)c, commit_sql, &st) == FX_OK) {
        sq_step(st, &row);
        sq_finalize(st);
    }
    return err;
}

static enum fx_err sq_open(const struct fx_store_config *cfg, struct fx_store **out)
{
    const char *data_dir = cfg->data_dir;
    struct sq_store *s = fx_xcalloc(1, sizeof(*s));
    s->base.ops = &fx_store_sqlite_ops;
    size_t n = strlen(data_dir) + 16;
    s->path = fx_xmalloc(n);
    snprintf(s->path, n, "%s/fx.db", data_dir);
    enum fx_err err = conn_open(s->path, 0, &s->writer);
    if (err != FX_OK)
        goto fail;
    err = migrate(s->writer);
    if (err != FX_OK)
        goto fail;
    pthread_mutex_init(&s->mu, NULL);
    pthread_cond_init(&s->wake_writer, NULL);
    pthread_cond_init(&s->wake_waiters, NULL);
    pthread_cond_init(&s->wake_ckpt, NULL);
    pthread_key_create(&s->reader_key, NULL);
    if (sqlite3_open_v2(s->path, &s->ckpt_db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL) !=
        SQLITE_OK)
        fx_die("cannot open the checkpoint connection");
    sqlite3_busy_timeout(s->ckpt_db, 10000);
    exec_sql(s->writer, "PRAGMA wal_autocheckpoint=0");
    sqlite3_wal_hook(s->writer->db, on_wal_commit, s);
    if (pthread_create(&s->thread, NULL, writer_main, s) != 0 ||
        pthread_create(&s->ckpt_thread, NULL, checkpoint_main, s) != 0)
        fx_die("cannot start the store threads");
    *out = (struct fx_store *)s;
    return FX_OK;
fail:
    conn_close(s->writer);
    free(s->path);
    free(s);
    return err;
}

static void sq_close(struct fx_store *store)
{
    struct sq_store *s = (struct sq_store *)store;
    pthread_mutex_lock(&s->mu);
    s->stopping = 1;
    pthread_cond_signal(&s->wake_writer);
    pthread_cond_signal(&s->wake_ckpt);
    pthread_mutex_unlock(&s->mu);
    pthread_join(s->thread, NULL); /* drains the queue first */
    pthread_join(s->ckpt_thread, NULL);
    sqlite3_close(s->ckpt_db);
    struct sq_conn *r = s->readers;
    while (r) {
        struct sq_conn *next = r->next_reader;
        conn_close(r);
        r = next;
    }
    pthread_key_delete(s->reader_key);
    exec_sql(s->writer, "PRAGMA wal_checkpoint(TRUNCATE)");
    conn_close(s->writer);
    pthread_mutex_destroy(&s->mu);
    pthread_cond_destroy(&s->wake_writer);
    pthread_cond_destroy(&s->wake_waiters);
    pthread_cond_destroy(&s->wake_ckpt);
    free(s->path);
    free(s);
}

/* Rewrites $N placeholders as ?N (SQLite's numbered form), leaving quoted text alone. */
static char *translate(const char *sql)
{
    size_t n = strlen(sql);
    char *out = fx_xmalloc(n + 1);
    char quote = 0;
    for (size_t i = 0; i <= n; i++) {
        char ch = sql[i];
        if (quote) {
            if (ch == quote)
                quote = 0;
        } else if (ch == '\'' || ch == '"') {
            quote = ch;
        } else if (ch == '$' && sql[i + 1] >= '0' && sql[i + 1] <= '9') {
            ch = '?';
        }
        out[i] = ch;
    }
    return out;
}

static enum fx_err sq_prepare(struct fx_db *db, const char *sql, struct fx_stmt **out)
{
    struct sq_conn *c = (struct sq_conn *)db;
    size_t h = ((uintptr_t)sql >> 3) % STMT_CACHE;
    for (size_t k = 0; k < STMT_CACHE; k++) {
        size_t i = (h + k) % STMT_CACHE;
        struct sq_stmt *st = c->cache[i];
        if (st && st->key == sql) {
            *out = (struct fx_stmt *)st;
            return FX_OK;
        }
        if (st == NULL) {
            char *q = translate(sql);
            sqlite3_stmt *raw = NULL;
            int rc = sqlite3_prepare_v3(c->db, q, -1, SQLITE_PREPARE_PERSISTENT, &raw, NULL);
            free(q);
            if (rc != SQLITE_OK) {
                fx_log("error", "prepare failed",
                       json_pack("{s:s,s:s}", "sql", sql, "error", sqlite3_errmsg(c->db)));
                return FX_ESTORE;
            }
            st = fx_xcalloc(1, sizeof(*st));
            st->base.ops = &fx_store_sqlite_ops;
            st->st = raw;
            st->key = sql;
            st->conn = c;
            c->cache[i] = st;
            *out = (struct fx_stmt *)st;
            return FX_OK;
        }
    }
    fx_die("statement cache full: raise STMT_CACHE");
}

#define RAW(x) (((struct sq_stmt *)(x))->st)

static void sq_bind_text(struct fx_stmt *st, int i, const char *p, size_t len)
{
    sqlite3_bind_text64(RAW(st), i, p, len, SQLITE_TRANSIENT, SQLITE_UTF8);
}

static void sq_bind_i64(struct fx_stmt *st, int i, int64_t v)
{
    sqlite3_bind_int64(RAW(st), i, v);
}

static void sq_bind_double(struct fx_stmt *st, int i, double v)
{
    sqlite3_bind_double(RAW(st), i, v);
}

static void sq_bind_blob(struct fx_stmt *st, int i, const void *p, size_t len)
{
    sqlite3_bind_blob64(RAW(st), i, p, len, SQLITE_TRANSIENT);
}

static void sq_bind_null(struct fx_stmt *st, int i)
{
    sqlite3_bind_null(RAW(st), i);
}

static enum fx_err sq_step(struct fx_stmt *st, bool *row)
{
    int rc = sqlite3_step(RAW(st));
    if (rc == SQLITE_ROW) {
        *row = true;
        return FX_OK;
    }
    *row = false;
    if (rc == SQLITE_DONE)
        return FX_OK;
    if (rc == SQLITE_CONSTRAINT_UNIQUE || rc == SQLITE_CONSTRAINT_PRIMARYKEY)
        return FX_ECONFLICT;
    struct sq_stmt *s = (struct sq_stmt *)st;
    fx_log("error", "statement failed",
           json_pack("{s:s,s:s}", "sql", s->key, "error", sqlite3_errmsg(s->conn->db)));
    return FX_ESTORE;
}

static const char *sq_col_text(struct fx_stmt *st, int col, size_t *len_out)
{
    const char *p = (const char *)sqlite3_column_text(RAW(st), col);
    if (len_out)
        *len_out = (size_t)sqlite3_column_bytes(RAW(st), col);
    return p;
}

static int64_t sq_col_i64(struct fx_stmt *st, int col)
{
    return sqlite3_column_int64(RAW(st), col);
}

static double sq_col_double(struct fx_stmt *st, int col)
{
    return sqlite3_column_double(RAW(st), col);
}

static const void *sq_col_blob(struct fx_stmt *st, int col, size_t *len_out)
{
    const void *p = sqlite3_column_blob(RAW(st), col);
    if (len_out)
        *len_out = (size_t)sqlite3_column_bytes(RAW(st), col);
    return p;
}

static bool sq_col_is_null(struct fx_stmt *st, int col)
{
    return sqlite3_column_type(RAW(st), col) == SQLITE_NULL;
}

static void sq_finalize(struct fx_stmt *st)
{
    sqlite3_reset(RAW(st));
    sqlite3_clear_bindings(RAW(st));
}

static enum fx_err sq_exec(struct fx_db *db, const char *sql)
{
    return exec_sql((struct sq_conn *)db, sql);
}

static int64_t sq_changes(struct fx_db *db)
{
    return sqlite3_changes64(((struct sq_conn *)db)->db);
}

/* Online backup into a new file: readers and the writer carry on meanwhile. */
static enum fx_err sq_backup(struct fx_store *store, const char *dest)
{
    struct sq_store *s = (struct sq_store *)store;
    sqlite3 *src = NULL, *dst = NULL;
    enum fx_err err = FX_EIO;
    int fd = open(dest, O_WRONLY | O_CREAT | O_EXCL, 0600); /* never overwrite a file */
    if (fd < 0)
        return FX_EIO;
    close(fd);
    if (sqlite3_open_v2(s->path, &src, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK ||
        sqlite3_open_v2(dest, &dst, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK)
        goto out;
    sqlite3_busy_timeout(src, 10000);
    sqlite3_backup *b = sqlite3_backup_init(dst, "main", src, "main");
    if (b == NULL)
        goto out;
    int rc;
    do {
        rc = sqlite3_backup_step(b, 256);
        if (rc == SQLITE_BUSY || rc == SQLITE_LOCKED)
            sqlite3_sleep(10);
    } while (rc == SQLITE_OK || rc == SQLITE_BUSY || rc == SQLITE_LOCKED);
    if (sqlite3_backup_finish(b) == SQLITE_OK && rc == SQLITE_DONE)
        err = FX_OK;
out:
    sqlite3_close(src);
    sqlite3_close(dst);
    return err;
}

const struct fx_store_ops fx_store_sqlite_ops = {
    .name = "sqlite",
    .open = sq_open,
    .close = sq_close,
    .write = sq_write,
    .read = sq_read,
    .prepare = sq_prepare,
    .bind_text = sq_bind_text,
    .bind_i64 = sq_bind_i64,
    .bind_double = sq_bind_double,
    .bind_blob = sq_bind_blob,
    .bind_null = sq_bind_null,
    .step = sq_step,
    .col_text = sq_col_text,
    .col_i64 = sq_col_i64,
    .col_double = sq_col_double,
    .col_blob = sq_col_blob,
    .col_is_null = sq_col_is_null,
    .finalize = sq_finalize,
    .exec = sq_exec,
    .changes = sq_changes,
    .backup = sq_backup,
};
