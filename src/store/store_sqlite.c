/*
 * store_sqlite.c: the SQLite backend (WAL): the only file that includes
 * sqlite3.h.
 *
 * One writer thread owns the write connection and commits concurrent writers
 * together (group commit): it takes every queued job and runs each under its
 * own savepoint inside one BEGIN IMMEDIATE … COMMIT.
 *
 * In fxd serve commits are pipelined (cfg->pipelined, docs/decisions/0011):
 * the writer commits with synchronous=NORMAL (no fsync) and goes on with the
 * next batch while the syncer thread fdatasync()s the WAL; the batch's
 * waiters are woken only after that, so a 2xx still means the write reached
 * the disk. Readers pass a gate that keeps every commit out of their
 * snapshot until it is synced: nothing anyone reads can be lost by a crash.
 * Other processes (one-shot fxd commands beside the server, whose gate they
 * cannot reach) commit with synchronous=FULL.
 *
 * Checkpoints (copying the WAL back into the database file, with its own
 * fsyncs) run on a thread of their own, so that no commit waits for one; only
 * the tail of each pass, which lets the WAL start over, runs on the writer
 * thread between batches (CHECKPOINT_PAGES).
 *
 * Readers get one connection per thread (WAL lets them run beside the
 * writer). Prepared statements are cached per connection, keyed by the
 * address of the SQL string literal.
 */
#include "common/clock.h"
#include "common/log.h"
#include "store/jobq.h"
#include "store/store_int.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
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
    _Atomic int64_t fullscan_steps;    /* written by its thread, summed by sq_stats() */
    _Atomic int64_t sorts;             /* the same */
};

/*
 * The read gate: a reader's snapshot never holds a commit the syncer has not
 * fdatasync()ed. Readers take their snapshot only while every commit is
 * synced and the writer is not committing; the writer commits only when no
 * reader is taking one, and first lets waiting readers in after a sync.
 */
struct sq_gate {
    pthread_mutex_t mu;
    pthread_cond_t wake_readers; /* a sync completed, or the writer stopped wanting */
    pthread_cond_t wake_writer;  /* openers or waiting reached 0, or a sync completed */
    uint64_t committed;          /* batches committed */
    uint64_t synced;             /* of those, fdatasync()ed */
    int waiting;                 /* readers waiting to take a snapshot */
    int openers;                 /* readers taking one now */
    bool writer_wants;           /* the writer is about to commit */
};

/* A committed batch waiting for the syncer. */
struct sq_synced_batch {
    struct fx_job *jobs;
    uint64_t seq; /* its number in gate.committed */
    struct sq_synced_batch *next;
};

struct sq_store {
    struct fx_store_base base;
    char *path; /* owned */
    struct sq_conn *writer;
    struct fx_jobq jobs; /* fx_store_write() to the writer thread */
    pthread_t thread;
    pthread_mutex_t mu; /* guards what is marked so, and stopping */
    int stopping;
    pthread_key_t reader_key;
    struct sq_conn *readers; /* guarded by mu */
    /* the checkpointer */
    pthread_t ckpt_thread;
    pthread_cond_t wake_ckpt;
    int wal_pages;           /* guarded by mu: WAL size the writer last reported */
    sqlite3 *ckpt_db;        /* owned by the checkpointer */
    int ckpt_asked_at;       /* writer thread only: WAL size at the last request */
    bool tail_due;           /* guarded by mu: the checkpointer finished a pass */
    int64_t checkpoints, wal_restarts; /* guarded by mu: for fx_store_stats() */
    _Atomic int wal_now;        /* the WAL's pages after the last commit (the file is not shrunk) */
    int64_t tail_after_ns;      /* writer thread only: no tail before (after a busy one) */
    /* the syncer */
    struct sq_gate gate;
    pthread_t sync_thread;
    pthread_cond_t wake_syncer;
    struct sq_synced_batch *unsynced, *unsynced_tail; /* guarded by mu; owned */
    int writer_done;                                  /* guarded by mu */
    bool pipelined;                                   /* cfg->pipelined: the syncer runs */
    char *wal_path;                                   /* owned */
    int wal_fd; /* sq_open's, then the syncer thread's; -1 until opened */
};

/*
 * WAL pages past which the checkpointer copies them back (SQLite's own default).
 * The checkpointer copies the bulk off the writer thread (PASSIVE: it never
 * waits). SQLite starts the WAL over only when a write transaction begins with
 * every frame copied and no reader on an older snapshot, which steady writes
 * and reads never leave room for: the WAL would grow for as long as fxd runs.
 * So after each pass the writer, between two batches, copies the frames
 * committed meanwhile and waits for readers still on older snapshots (RESTART;
 * new readers read the database file): its next transaction restarts the WAL.
 * The wait is short (TAIL_WAIT_MS); a reader that outlasts it puts the tail
 * off by TAIL_RETRY_MS, during which the writer writes on.
 */
#define CHECKPOINT_PAGES 1000
#define TAIL_WAIT_MS     10
#define TAIL_RETRY_MS    100
/* The writer's busy timeout otherwise: a write never waits that long in practice. */
#define BUSY_TIMEOUT_MS 10000

/*
 * Before SQLite initialises: no memory statistics, which fxd never reads and
 * which otherwise take a process-wide mutex on every sqlite3_malloc() and
 * free of every connection (SQLite's own advice for speed: SQLITE_DEFAULT_MEMSTATUS=0).
 */
static void sqlite_configure(void)
{
    sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0); /* SQLITE_MISUSE if initialised: harmless */
}

/* readonly: a reader's connection; else the writer's (synchronous=FULL until sq_open says). */
static enum fx_err conn_open(const char *path, int readonly, struct sq_conn **out)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, sqlite_configure);
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
    sqlite3_busy_timeout(c->db, BUSY_TIMEOUT_MS);
    sqlite3_extended_result_codes(c->db, 1);
    const char *pragmas = readonly ? "PRAGMA foreign_keys=ON;"
                                   : "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;"
                                     "PRAGMA temp_store=MEMORY; PRAGMA foreign_keys=ON;";
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

/* A reader's way in: returns once its snapshot may be taken (see struct sq_gate). */
static void gate_enter(struct sq_gate *g)
{
    pthread_mutex_lock(&g->mu);
    g->waiting++;
    while (g->writer_wants || g->synced != g->committed)
        pthread_cond_wait(&g->wake_readers, &g->mu);
    if (--g->waiting == 0)
        pthread_cond_signal(&g->wake_writer);
    g->openers++;
    pthread_mutex_unlock(&g->mu);
}

/* The reader holds its snapshot: the writer may commit again. */
static void gate_leave(struct sq_gate *g)
{
    pthread_mutex_lock(&g->mu);
    if (--g->openers == 0 && g->writer_wants)
        pthread_cond_signal(&g->wake_writer);
    pthread_mutex_unlock(&g->mu);
}

/*
 * The writer, before COMMIT: readers that wait get their turn first (after
 * the sync in flight), so that a steady stream of commits cannot starve them;
 * then no new snapshot is taken until gate_committed().
 */
static void gate_close(struct sq_gate *g)
{
    pthread_mutex_lock(&g->mu);
    if (g->waiting > 0) {
        while (g->synced != g->committed)
            pthread_cond_wait(&g->wake_writer, &g->mu);
        while (g->waiting > 0)
            pthread_cond_wait(&g->wake_writer, &g->mu);
    }
    g->writer_wants = true;
    while (g->openers > 0)
        pthread_cond_wait(&g->wake_writer, &g->mu);
    pthread_mutex_unlock(&g->mu);
}

/* The writer, after COMMIT: returns the batch's number (0 when nothing was committed). */
static uint64_t gate_committed(struct sq_gate *g, bool ok)
{
    pthread_mutex_lock(&g->mu);
    uint64_t seq = ok ? ++g->committed : 0;
    g->writer_wants = false;
    if (!ok) /* nothing new to sync: the gate is open again */
        pthread_cond_broadcast(&g->wake_readers);
    pthread_mutex_unlock(&g->mu);
    return seq;
}

/* The syncer: batches up to seq are on disk. */
static void gate_synced(struct sq_gate *g, uint64_t seq)
{
    pthread_mutex_lock(&g->mu);
    g->synced = seq;
    pthread_cond_broadcast(&g->wake_readers);
    pthread_cond_signal(&g->wake_writer);
    pthread_mutex_unlock(&g->mu);
}

/* BEGIN IMMEDIATE, numbered for fx_db_txn(); false when no transaction is open. */
static bool begin(struct sq_conn *c)
{
    static const char *begin_sql = "BEGIN IMMEDIATE";
    c->base.txn++;
    return cached_exec(c, begin_sql) == FX_OK;
}

/*
 * The jobs that can run again (fx_store_write_async's reset), first and
 * without a savepoint each: a savepoint copies every page its job changes
 * into a statement journal, about a tenth of a notice write. Should one of
 * them fail, the transaction is rolled back and begun again: that job keeps
 * its error, and the ones that ran before it are reset. Returns that job, or
 * NULL when none failed (every reset job is then done). *in_txn as run_batch.
 */
static struct fx_job *run_unguarded(struct sq_conn *c, struct fx_job *batch, bool *in_txn)
{
    for (struct fx_job *j = batch; j && *in_txn; j = j->next) {
        if (j->reset == NULL)
            continue;
        j->err = j->fn((struct fx_db *)c, j->arg);
        if (j->err == FX_OK) {
            *in_txn = !sqlite3_get_autocommit(c->db);
            continue;
        }
        exec_sql(c, "ROLLBACK");
        for (struct fx_job *k = batch; k != j; k = k->next)
            if (k->reset)
                k->reset(k->arg);
        *in_txn = begin(c);
        return j;
    }
    return NULL;
}

/* Runs a batch in one transaction; returns its commit number, 0 when nothing was committed. */
static uint64_t run_batch(struct sq_store *s, struct fx_job *batch)
{
    static const char *savepoint_sql = "SAVEPOINT job";
    static const char *rollback_to_sql = "ROLLBACK TO job";
    static const char *release_sql = "RELEASE job";
    static const char *commit_sql = "COMMIT";
    struct sq_conn *c = s->writer;
    bool in_txn = begin(c);
    struct fx_job *failed = run_unguarded(c, batch, &in_txn);
    for (struct fx_job *j = batch; j && in_txn; j = j->next) {
        if (j == failed || (j->reset && failed == NULL))
            continue; /* done above: it failed, or it is in this transaction */
        if (cached_exec(c, savepoint_sql) != FX_OK) {
            j->err = FX_ESTORE;
        } else {
            j->err = j->fn((struct fx_db *)c, j->arg);
            if (j->err != FX_OK)
                cached_exec(c, rollback_to_sql);
            cached_exec(c, release_sql);
        }
        /* SQLite rolls the whole transaction back on some errors (disk full, I/O):
         * a later SAVEPOINT would then open a transaction of its own and RELEASE
         * would commit it, outside the gate and unsynced */
        in_txn = !sqlite3_get_autocommit(c->db);
    }
    if (!in_txn) { /* nothing of the batch is stored */
        for (struct fx_job *j = batch; j; j = j->next)
            j->err = FX_ESTORE;
        return 0;
    }
    gate_close(&s->gate);
    bool ok = cached_exec(c, commit_sql) == FX_OK;
    if (!ok) {
        exec_sql(c, "ROLLBACK");
        for (struct fx_job *j = batch; j; j = j->next)
            if (j->err == FX_OK)
                j->err = FX_ESTORE;
    }
    return gate_committed(&s->gate, ok);
}

/* Called by SQLite on the writer thread after each commit: hand big WALs over. */
static int on_wal_commit(void *arg, sqlite3 *db, const char *name, int pages)
{
    (void)db;
    (void)name;
    struct sq_store *s = arg;
    s->wal_now = pages;
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

/* A checkpoint's I/O error may have been the kernel's only report of lost pages. */
static int checkpoint_or_die(sqlite3 *db, int mode)
{
    int rc = sqlite3_wal_checkpoint_v2(db, NULL, mode, NULL, NULL);
    if ((rc & 0xff) == SQLITE_IOERR)
        fx_die("checkpoint I/O error: stopping before any write is answered");
    return rc;
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
        int rc = checkpoint_or_die(s->ckpt_db, SQLITE_CHECKPOINT_PASSIVE);
        pthread_mutex_lock(&s->mu);
        if (rc == SQLITE_OK) { /* BUSY: the writer's tail was running, which does as well */
            s->tail_due = true;
            s->checkpoints++;
        }
    }
    pthread_mutex_unlock(&s->mu);
    return NULL;
}

/* Writer thread, between batches: the tail of the checkpointer's pass (CHECKPOINT_PAGES). */
static void checkpoint_tail(struct sq_store *s)
{
    pthread_mutex_lock(&s->mu);
    bool due = s->tail_due;
    pthread_mutex_unlock(&s->mu);
    if (!due || fx_clock_monotonic_ns() < s->tail_after_ns)
        return;
    sqlite3 *db = s->writer->db;
    sqlite3_busy_timeout(db, TAIL_WAIT_MS);
    int rc = checkpoint_or_die(db, SQLITE_CHECKPOINT_RESTART);
    sqlite3_busy_timeout(db, BUSY_TIMEOUT_MS);
    if (rc == SQLITE_BUSY) { /* a long read: let it finish, and write meanwhile */
        s->tail_after_ns = fx_clock_monotonic_ns() + TAIL_RETRY_MS * 1000000LL;
        return;
    }
    pthread_mutex_lock(&s->mu);
    s->tail_due = false;
    s->wal_restarts++;
    pthread_mutex_unlock(&s->mu);
}

static void *writer_main(void *arg)
{
    struct sq_store *s = arg;
    prctl(PR_SET_NAME, "fx-writer"); /* named for top -H and bench/notice_post.sh */
    struct fx_job *batch;
    while ((batch = fx_jobq_take(&s->jobs, MAX_BATCH)) != NULL) {
        checkpoint_tail(s);
        uint64_t seq = run_batch(s, batch);
        fx_jobq_done(batch);
        if (seq == 0) { /* nothing committed: nothing to wait for */
            fx_jobq_finish(&s->jobs, batch);
            continue;
        }
        if (!s->pipelined) { /* synchronous=FULL: the COMMIT synced before it was seen */
            gate_synced(&s->gate, seq);
            fx_jobq_finish(&s->jobs, batch);
            continue;
        }
        struct sq_synced_batch *b = fx_xmalloc(sizeof(*b));
        *b = (struct sq_synced_batch){.jobs = batch, .seq = seq};
        pthread_mutex_lock(&s->mu);
        if (s->unsynced_tail)
            s->unsynced_tail->next = b;
        else
            s->unsynced = b;
        s->unsynced_tail = b;
        pthread_cond_signal(&s->wake_syncer);
        pthread_mutex_unlock(&s->mu);
    }
    pthread_mutex_lock(&s->mu);
    s->writer_done = 1;
    pthread_cond_signal(&s->wake_syncer);
    pthread_mutex_unlock(&s->mu);
    return NULL;
}

static void sync_dir(const char *db_path)
{
    char *dir = fx_xstrdup(db_path);
    char *slash = strrchr(dir, '/');
    if (slash)
        *slash = '\0';
    int dfd = open(slash ? dir : ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0 || fsync(dfd) != 0)
        fx_die("cannot sync the data directory");
    close(dfd);
    free(dir);
}

/*
 * fdatasync() of the WAL: what synchronous=FULL would do at every COMMIT, done
 * once for every batch committed since the last one. A failed sync leaves the
 * WAL's state on disk unknown (the kernel may have dropped the dirty pages, and
 * reports that once), so fxd stops rather than answer, as PostgreSQL does.
 */
static void sync_wal(struct sq_store *s)
{
    if (s->wal_fd < 0) {
        s->wal_fd = open(s->wal_path, O_RDONLY | O_CLOEXEC);
        if (s->wal_fd < 0)
            fx_die("cannot open the WAL to sync it");
        sync_dir(s->path); /* the WAL may be new: make its name durable too */
    }
    /* SQLite keeps its WAL while a connection is open: another file there means
     * someone removed or replaced it, and syncing the old one would prove nothing */
    struct stat mine, now;
    if (fstat(s->wal_fd, &mine) != 0 || mine.st_nlink == 0 || stat(s->wal_path, &now) != 0 ||
        mine.st_ino != now.st_ino || mine.st_dev != now.st_dev)
        fx_die("the WAL was removed or replaced under fxd: stopping");
    if (fdatasync(s->wal_fd) != 0)
        fx_die("fdatasync of the WAL failed: stopping before any write is answered");
}

/* fdatasync of a file fxd does not hold open, if it exists. */
static void sync_file(const char *path)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0 && errno == ENOENT)
        return;
    if (fd < 0 || fdatasync(fd) != 0)
        fx_die("cannot sync the database at open");
    close(fd);
}

/*
 * At open, before anything is read or answered: what an earlier fxd committed
 * without syncing (killed between its commit and its sync, and SQLite
 * recovers it from the page cache within the same boot) becomes durable now.
 * Before SQLite opens the files: closing a descriptor of the database file
 * would drop every POSIX lock this process holds on it, SQLite's included
 * (another process could then think itself the last user and remove the WAL).
 */
static void sync_at_open(struct sq_store *s)
{
    sync_file(s->path);
    sync_file(s->wal_path);
    sync_dir(s->path);
}

static void *syncer_main(void *arg)
{
    struct sq_store *s = arg;
    prctl(PR_SET_NAME, "fx-syncer");
    pthread_mutex_lock(&s->mu);
    for (;;) {
        while (s->unsynced == NULL && !s->writer_done)
            pthread_cond_wait(&s->wake_syncer, &s->mu);
        if (s->unsynced == NULL)
            break; /* the writer has stopped and everything is synced */
        struct sq_synced_batch *todo = s->unsynced;
        uint64_t seq = s->unsynced_tail->seq;
        s->unsynced = s->unsynced_tail = NULL;
        pthread_mutex_unlock(&s->mu);

        sync_wal(s);
        gate_synced(&s->gate, seq);
        while (todo) {
            struct sq_synced_batch *next = todo->next;
            fx_jobq_finish(&s->jobs, todo->jobs);
            free(todo);
            todo = next;
        }
        pthread_mutex_lock(&s->mu);
    }
    pthread_mutex_unlock(&s->mu);
    return NULL;
}

static enum fx_err sq_write(struct fx_store *store, fx_db_fn fn, void *arg)
{
    return fx_jobq_run(&((struct sq_store *)store)->jobs, fn, arg);
}

static enum fx_err sq_write_async(struct fx_store *store, fx_db_fn fn, fx_reset_fn reset, void *arg,
                                  fx_store_done_fn done, void *done_arg)
{
    return fx_jobq_submit(&((struct sq_store *)store)->jobs, fn, reset, arg, done, done_arg);
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
    static const char *snapshot_sql = "SELECT 1 FROM meta LIMIT 1";
    static const char *commit_sql = "COMMIT";
    static const char *rollback_sql = "ROLLBACK";
    /* the snapshot is taken by the first read, inside the gate: only synced commits */
    gate_enter(&s->gate);
    enum fx_err err = cached_exec(c, begin_sql);
    if (err == FX_OK)
        err = cached_exec(c, snapshot_sql);
    gate_leave(&s->gate);
    if (err != FX_OK) {
        cached_exec(c, rollback_sql);
        return FX_ESTORE;
    }
    err = fn((struct fx_db *)c, arg);
    cached_exec(c, commit_sql);
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
    s->wal_fd = -1;
    s->wal_path = fx_xmalloc(n + 4);
    snprintf(s->wal_path, n + 4, "%s-wal", s->path);
    sync_at_open(s);
    /* migrations commit with synchronous=FULL: the syncer does not run yet */
    enum fx_err err = conn_open(s->path, 0, &s->writer);
    if (err != FX_OK)
        goto fail;
    err = migrate(s->writer);
    if (err == FX_OK && cfg->pipelined)
        err = exec_sql(s->writer, "PRAGMA synchronous=NORMAL");
    if (err != FX_OK)
        goto fail;
    fx_jobq_init(&s->jobs);
    pthread_mutex_init(&s->mu, NULL);
    pthread_cond_init(&s->wake_ckpt, NULL);
    pthread_cond_init(&s->wake_syncer, NULL);
    pthread_mutex_init(&s->gate.mu, NULL);
    pthread_cond_init(&s->gate.wake_readers, NULL);
    pthread_cond_init(&s->gate.wake_writer, NULL);
    pthread_key_create(&s->reader_key, NULL);
    if (sqlite3_open_v2(s->path, &s->ckpt_db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL) !=
        SQLITE_OK)
        fx_die("cannot open the checkpoint connection");
    sqlite3_busy_timeout(s->ckpt_db, BUSY_TIMEOUT_MS);
    /* SQLite 3.40 checkpoints only through a connection that has opened the WAL,
     * which its first read does; before that a checkpoint returns OK and copies nothing */
    if (sqlite3_exec(s->ckpt_db, "SELECT 1 FROM meta LIMIT 1", NULL, NULL, NULL) != SQLITE_OK)
        fx_die("cannot read through the checkpoint connection");
    exec_sql(s->writer, "PRAGMA wal_autocheckpoint=0");
    sqlite3_wal_hook(s->writer->db, on_wal_commit, s);
    s->pipelined = cfg->pipelined;
    if (pthread_create(&s->thread, NULL, writer_main, s) != 0 ||
        (s->pipelined && pthread_create(&s->sync_thread, NULL, syncer_main, s) != 0) ||
        pthread_create(&s->ckpt_thread, NULL, checkpoint_main, s) != 0)
        fx_die("cannot start the store threads");
    *out = (struct fx_store *)s;
    return FX_OK;
fail:
    conn_close(s->writer);
    free(s->wal_path);
    free(s->path);
    free(s);
    return err;
}

static void sq_close(struct fx_store *store)
{
    struct sq_store *s = (struct sq_store *)store;
    fx_jobq_stop(&s->jobs);
    pthread_mutex_lock(&s->mu);
    s->stopping = 1;
    pthread_cond_signal(&s->wake_ckpt);
    pthread_mutex_unlock(&s->mu);
    pthread_join(s->thread, NULL);      /* drains the queue first */
    if (s->pipelined)
        pthread_join(s->sync_thread, NULL); /* then syncs what it committed */
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
    if (s->wal_fd >= 0)
        close(s->wal_fd);
    fx_jobq_destroy(&s->jobs);
    pthread_mutex_destroy(&s->mu);
    pthread_cond_destroy(&s->wake_ckpt);
    pthread_cond_destroy(&s->wake_syncer);
    pthread_mutex_destroy(&s->gate.mu);
    pthread_cond_destroy(&s->gate.wake_readers);
    pthread_cond_destroy(&s->gate.wake_writer);
    free(s->wal_path);
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
    struct sq_stmt *s = (struct sq_stmt *)st;
    /* rows stepped through in full scans, and sorts, since the last reset (both counts
     * restart): a list that needs either has missed its index (fx_store_stats) */
    int steps = sqlite3_stmt_status(s->st, SQLITE_STMTSTATUS_FULLSCAN_STEP, 1);
    if (steps > 0)
        s->conn->fullscan_steps += steps;
    int sorts = sqlite3_stmt_status(s->st, SQLITE_STMTSTATUS_SORT, 1);
    if (sorts > 0)
        s->conn->sorts += sorts;
    sqlite3_reset(s->st);
    sqlite3_clear_bindings(s->st);
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
        gate_enter(&s->gate); /* this process's commits: synced ones only */
        rc = sqlite3_backup_step(b, 256);
        gate_leave(&s->gate);
        if (rc == SQLITE_BUSY || rc == SQLITE_LOCKED)
            sqlite3_sleep(10);
    } while (rc == SQLITE_OK || rc == SQLITE_BUSY || rc == SQLITE_LOCKED);
    if (sqlite3_backup_finish(b) == SQLITE_OK && rc == SQLITE_DONE)
        err = FX_OK;
    /* a server running beside this process may not have synced all it committed,
     * and the copy holds it: make the source hold it too before saying done */
    if (err == FX_OK && access(s->wal_path, F_OK) == 0) {
        int wal = open(s->wal_path, O_RDONLY | O_CLOEXEC);
        if (wal < 0 || fdatasync(wal) != 0)
            err = FX_EIO;
        if (wal >= 0)
            close(wal);
    }
out:
    sqlite3_close(src);
    sqlite3_close(dst);
    return err;
}

static void sq_stats(struct fx_store *store, struct fx_store_stats *out)
{
    struct sq_store *s = (struct sq_store *)store;
    out->wal_pages = s->wal_now;
    pthread_mutex_lock(&s->mu);
    out->checkpoints = s->checkpoints;
    out->wal_restarts = s->wal_restarts;
    out->fullscan_steps = s->writer->fullscan_steps;
    out->sorts = s->writer->sorts;
    for (struct sq_conn *r = s->readers; r; r = r->next_reader) {
        out->fullscan_steps += r->fullscan_steps;
        out->sorts += r->sorts;
    }
    pthread_mutex_unlock(&s->mu);
    fx_jobq_stats(&s->jobs, out);
}

const struct fx_store_ops fx_store_sqlite_ops = {
    .name = "sqlite",
    .open = sq_open,
    .close = sq_close,
    .write = sq_write,
    .write_async = sq_write_async,
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
    .stats = sq_stats,
};
