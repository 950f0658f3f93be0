/*
 * test_store_sync.c: the SQLite store's pipelined commit (decision 0011).
 * The writer commits without an fsync and a syncer thread fdatasync()s the
 * WAL; a write is answered, and its rows become visible to readers, only
 * after that sync. The test links with -Wl,--wrap=fdatasync, so each sync
 * fxd makes itself can be slowed down, counted, timed and failed here
 * (SQLite's own syncs, in libsqlite3, are not wrapped).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "store/store.h"

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

int __real_fdatasync(int fd);
int __wrap_fdatasync(int fd);

static atomic_int sync_delay_ms;   /* each sync first sleeps this long */
static atomic_int sync_fails;      /* each sync reports EIO */
static atomic_llong last_sync_done; /* CLOCK_MONOTONIC ns when a sync last returned */
static atomic_int syncs;
static atomic_int syncing; /* a wrapped sync is sleeping now */

static long long now_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (long long)t.tv_sec * 1000000000LL + t.tv_nsec;
}

int __wrap_fdatasync(int fd)
{
    int ms = atomic_load(&sync_delay_ms);
    atomic_store(&syncing, 1);
    if (ms > 0)
        usleep((useconds_t)ms * 1000);
    atomic_store(&syncing, 0);
    if (atomic_load(&sync_fails))
        return -1;
    int rc = __real_fdatasync(fd);
    atomic_fetch_add(&syncs, 1);
    atomic_store(&last_sync_done, now_ns());
    return rc;
}

static char dir[64];

/* test_the_wal_starts_over_under_steady_writes */
#define STEADY_THREADS 8
#define STEADY_WRITES 1000
#define STEADY_READERS 4

static void make_dir(void)
{
    snprintf(dir, sizeof(dir), "/tmp/fx-sync-test.XXXXXX");
    assert_non_null(mkdtemp(dir));
}

static void remove_dir(void)
{
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    assert_int_equal(system(cmd), 0);
}

static struct fx_store *open_in(const char *d, bool pipelined)
{
    struct fx_store_config cfg = {"sqlite:", d, 0, pipelined};
    struct fx_store *s = NULL;
    assert_int_equal(fx_store_open_config(&cfg, &s), FX_OK);
    return s;
}

static struct fx_store *open_store(void)
{
    make_dir();
    return open_in(dir, true);
}

static int stop_alarm(void **state)
{
    (void)state;
    alarm(0);
    return 0;
}

static void close_store(struct fx_store *s)
{
    fx_store_close(s);
    remove_dir();
}

static enum fx_err put_fn(struct fx_db *db, void *arg)
{
    return fx_db_exec(db, arg);
}

static enum fx_err count_fn(struct fx_db *db, void *arg)
{
    static const char *sql = "SELECT count(*) FROM meta WHERE key LIKE 'probe%'";
    struct fx_stmt *st = NULL;
    bool row = false;
    enum fx_err err = fx_db_prepare(db, sql, &st);
    if (err == FX_OK)
        err = fx_stmt_step(st, &row);
    if (err == FX_OK && row)
        *(int64_t *)arg = fx_stmt_i64(st, 0);
    fx_stmt_finalize(st);
    return err;
}

static int64_t count_probes(struct fx_store *s)
{
    int64_t n = -1;
    assert_int_equal(fx_store_read(s, count_fn, &n), FX_OK);
    return n;
}

struct writer {
    struct fx_store *s;
    char *sql;
    enum fx_err err;
    long long returned; /* ns */
};

static void *write_once(void *arg)
{
    struct writer *w = arg;
    w->err = fx_store_write(w->s, put_fn, (void *)w->sql);
    w->returned = now_ns();
    return NULL;
}

/*
 * While a commit waits for its (slow) sync, no reader sees it, and the writer
 * is not answered; both happen only after the sync returned.
 */
static void test_commit_visible_and_answered_after_sync(void **state)
{
    (void)state;
    struct fx_store *s = open_store();
    assert_int_equal(count_probes(s), 0);
    atomic_store(&sync_delay_ms, 300);
    char sql[] = "INSERT INTO meta (key, value) VALUES ('probe1', x'00')";
    struct writer w = {s, sql, FX_OK, 0};
    pthread_t t;
    long long start = now_ns();
    assert_int_equal(pthread_create(&t, NULL, write_once, &w), 0);
    int64_t seen = 0;
    long long seen_at = 0;
    while (seen == 0) {
        seen = count_probes(s);
        seen_at = now_ns();
        usleep(2000);
    }
    pthread_join(t, NULL);
    atomic_store(&sync_delay_ms, 0);
    assert_int_equal(w.err, FX_OK);
    assert_int_equal(seen, 1);
    long long synced = atomic_load(&last_sync_done);
    assert_true(synced - start >= 300LL * 1000000);
    assert_true(seen_at >= synced);
    assert_true(w.returned >= synced);
    close_store(s);
}

struct stream {
    struct fx_store *s;
    atomic_int *stop;
    _Atomic int n;      /* writes answered */
    _Atomic int failed; /* a write that was not (cmocka's asserts are for the main thread) */
};

static void *write_stream(void *arg)
{
    struct stream *st = arg;
    char sql[128];
    while (!atomic_load(st->stop)) {
        snprintf(sql, sizeof(sql), "INSERT INTO meta (key, value) VALUES ('probe-%p-%d', x'00')",
                 (void *)st, (int)st->n);
        if (fx_store_write(st->s, put_fn, sql) != FX_OK) {
            st->failed = 1;
            break;
        }
        st->n++; /* only this thread writes it */
        /* a pause of its own (0-6 ms): writes keep arriving during every sync,
         * as from many clients, instead of all waiting on the same one */
        usleep((useconds_t)(((unsigned)st->n * 7919u + (unsigned)(uintptr_t)st) % 6000u));
    }
    return NULL;
}

/*
 * Under a steady stream of commits (48 writers out of step, each sync slow,
 * so that a commit is nearly always waiting for one) readers still get their
 * turn, and each sees every write that was answered before it began. Without
 * the writer's give-way to waiting readers (gate_close) the reader starves
 * and the alarm ends the test.
 */
static void test_readers_are_not_starved_by_writers(void **state)
{
    (void)state;
    struct fx_store *s = open_store();
    atomic_store(&sync_delay_ms, 3);
    atomic_int stop = 0;
    struct stream st[48];
    pthread_t t[48];
    for (int i = 0; i < 48; i++) {
        st[i] = (struct stream){s, &stop, 0, 0};
        assert_int_equal(pthread_create(&t[i], NULL, write_stream, &st[i]), 0);
    }
    alarm(60); /* a starved reader fails the test instead of hanging it */
    int64_t last = 0;
    int slowest = 0;
    /* reads go on until every writer has been answered twice: commits kept coming */
    for (int r = 0; r < 200 || slowest < 2; r++) {
        int answered = 0;
        slowest = INT32_MAX;
        for (int i = 0; i < 48; i++) {
            int n = st[i].n; /* each counted write was answered before this read */
            answered += n;
            slowest = n < slowest ? n : slowest;
        }
        int64_t n = count_probes(s);
        assert_true(n >= last);
        assert_true(n >= answered);
        last = n;
    }
    alarm(0);
    atomic_store(&stop, 1);
    for (int i = 0; i < 48; i++)
        pthread_join(t[i], NULL);
    atomic_store(&sync_delay_ms, 0);
    int total = 0;
    for (int i = 0; i < 48; i++) {
        assert_int_equal(st[i].failed, 0);
        total += st[i].n;
    }
    assert_int_equal(count_probes(s), total);
    close_store(s);
}

static atomic_int ran_during_sync;

static enum fx_err note_sync_fn(struct fx_db *db, void *arg)
{
    atomic_store(&ran_during_sync, atomic_load(&syncing));
    return fx_db_exec(db, arg);
}

/*
 * The point of the pipeline: while one batch's sync is in flight the writer
 * already runs the next batch (with synchronous=FULL it would sit in COMMIT).
 * That batch is answered only after a sync of its own.
 */
static void test_the_writer_runs_the_next_batch_during_a_sync(void **state)
{
    (void)state;
    struct fx_store *s = open_store();
    atomic_store(&sync_delay_ms, 300);
    atomic_store(&syncs, 0);
    char first_sql[] = "INSERT INTO meta (key, value) VALUES ('probe1', x'00')";
    struct writer first = {s, first_sql, FX_OK, 0};
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, write_once, &first), 0);
    while (!atomic_load(&syncing))
        usleep(1000);
    char sql[] = "INSERT INTO meta (key, value) VALUES ('probe2', x'00')";
    assert_int_equal(fx_store_write(s, note_sync_fn, sql), FX_OK);
    long long second = now_ns();
    pthread_join(t, NULL);
    atomic_store(&sync_delay_ms, 0);
    assert_int_equal(first.err, FX_OK);
    assert_int_equal(atomic_load(&ran_during_sync), 1);
    assert_true(atomic_load(&syncs) >= 2);
    assert_true(second >= atomic_load(&last_sync_done));
    assert_int_equal(count_probes(s), 2);
    close_store(s);
}

static enum fx_err slow_fn(struct fx_db *db, void *arg)
{
    usleep(150 * 1000); /* the writer is busy: the next two writes queue as one batch */
    return fx_db_exec(db, arg);
}

static enum fx_err rollback_fn(struct fx_db *db, void *arg)
{
    (void)arg;
    /* what SQLite does by itself on some errors (disk full, I/O): the whole
     * transaction is gone, though the job reports nothing wrong */
    return fx_db_exec(db, "ROLLBACK");
}

struct job_thread {
    struct fx_store *s;
    fx_db_fn fn;
    char *sql;
    enum fx_err err;
};

static void *run_job(void *arg)
{
    struct job_thread *j = arg;
    j->err = fx_store_write(j->s, j->fn, j->sql);
    return NULL;
}

/*
 * When SQLite rolls a batch's transaction back under it, the writer fails the
 * batch and runs no later job of it: a SAVEPOINT there would open a
 * transaction of its own, committed by its RELEASE outside the gate.
 */
static void test_a_batch_whose_transaction_vanished_stores_nothing(void **state)
{
    (void)state;
    struct fx_store *s = open_store();
    char slow_sql[] = "INSERT INTO meta (key, value) VALUES ('probe0', x'00')";
    char after_sql[] = "INSERT INTO meta (key, value) VALUES ('probe2', x'00')";
    struct job_thread j[3] = {{s, slow_fn, slow_sql, FX_OK},
                              {s, rollback_fn, NULL, FX_OK},
                              {s, put_fn, after_sql, FX_OK}};
    pthread_t t[3];
    for (int i = 0; i < 3; i++) {
        assert_int_equal(pthread_create(&t[i], NULL, run_job, &j[i]), 0);
        usleep(30 * 1000); /* in this order */
    }
    for (int i = 0; i < 3; i++)
        pthread_join(t[i], NULL);
    assert_int_equal(j[0].err, FX_OK);
    assert_int_equal(j[1].err, FX_ESTORE);
    assert_int_equal(j[2].err, FX_ESTORE);
    assert_int_equal(count_probes(s), 1); /* probe0 only */
    close_store(s);
}

/*
 * One-shot commands (fxd policy apply, rotate-key, backup) do not pipeline:
 * each COMMIT syncs before a server beside them can read it, and fxd's own
 * sync is not used after open. Opening a store syncs what the WAL holds, as
 * an earlier process may have left it unsynced.
 */
static void test_a_store_that_does_not_pipeline_syncs_at_commit(void **state)
{
    (void)state;
    struct fx_store *server = open_store(); /* leaves a WAL */
    char sql[] = "INSERT INTO meta (key, value) VALUES ('probe1', x'00')";
    assert_int_equal(fx_store_write(server, put_fn, sql), FX_OK);
    atomic_store(&syncs, 0);
    struct fx_store *cmd = open_in(dir, false);
    assert_int_equal(atomic_load(&syncs), 2); /* the database and its WAL, at open */
    char sql2[] = "INSERT INTO meta (key, value) VALUES ('probe2', x'00')";
    assert_int_equal(fx_store_write(cmd, put_fn, sql2), FX_OK);
    assert_int_equal(atomic_load(&syncs), 2); /* SQLite's own sync, not fxd's */
    assert_int_equal(count_probes(cmd), 2);
    assert_int_equal(count_probes(server), 2);
    fx_store_close(cmd);
    close_store(server);
}

/*
 * A sync that fails stops the process before the write is answered: what
 * the disk holds is unknown, and recovery starts from it.
 */
static void test_failed_sync_stops_before_answering(void **state)
{
    (void)state;
    int out[2];
    assert_int_equal(pipe(out), 0);
    make_dir();
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        close(out[0]);
        struct fx_store_config cfg = {"sqlite:", dir, 0, true};
        struct fx_store *s = NULL;
        if (fx_store_open_config(&cfg, &s) != FX_OK)
            _exit(0);
        atomic_store(&sync_fails, 1);
        char sql[] = "INSERT INTO meta (key, value) VALUES ('probe', x'00')";
        enum fx_err err = fx_store_write(s, put_fn, sql);
        dprintf(out[1], "answered %d\n", (int)err);
        _exit(0);
    }
    close(out[1]);
    char buf[64] = "";
    ssize_t n = read(out[0], buf, sizeof(buf) - 1);
    close(out[0]);
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(n <= 0); /* never answered */
    assert_true(WIFSIGNALED(status) || (WIFEXITED(status) && WEXITSTATUS(status) != 0));
    remove_dir();
}

struct steady {
    struct fx_store *s;
    int id;
    enum fx_err err;
    long long max_wal; /* bytes */
};

static long long wal_bytes(void)
{
    char path[96];
    snprintf(path, sizeof(path), "%s/fx.db-wal", dir);
    struct stat st;
    return stat(path, &st) == 0 ? (long long)st.st_size : 0;
}

static void *write_steadily(void *arg)
{
    struct steady *w = arg;
    for (int i = 0; i < STEADY_WRITES && w->err == FX_OK; i++) {
        char sql[128];
        snprintf(sql, sizeof(sql),
                 "INSERT INTO meta (key, value) VALUES ('probe%d.%d', zeroblob(3000))", w->id, i);
        w->err = fx_store_write(w->s, put_fn, sql);
        long long b = wal_bytes();
        if (b > w->max_wal)
            w->max_wal = b;
    }
    return NULL;
}

static atomic_int steady_done;

/* A reader's snapshot holds back the frames committed after it: reads that never stop. */
static void *read_steadily(void *arg)
{
    struct fx_store *s = arg;
    while (!atomic_load(&steady_done))
        (void)count_probes(s);
    return NULL;
}

/*
 * Under writes and reads that never let up, the WAL is copied back and starts
 * over rather than growing for as long as the process runs. The checkpointer
 * copies the bulk; the writer copies the tail between batches, without which
 * the WAL is never wholly copied when a transaction begins, and never
 * restarts. Readers' snapshots may hold a pass back: the writer tries again.
 */
static void test_the_wal_starts_over_under_steady_writes(void **state)
{
    (void)state;
    struct fx_store *s = open_store();
    atomic_store(&sync_delay_ms, 0);
    atomic_store(&steady_done, 0);
    struct steady w[STEADY_THREADS];
    pthread_t t[STEADY_THREADS], r[STEADY_READERS];
    for (int i = 0; i < STEADY_READERS; i++)
        assert_int_equal(pthread_create(&r[i], NULL, read_steadily, s), 0);
    for (int i = 0; i < STEADY_THREADS; i++) {
        w[i] = (struct steady){s, i, FX_OK, 0};
        assert_int_equal(pthread_create(&t[i], NULL, write_steadily, &w[i]), 0);
    }
    long long max_wal = 0;
    for (int i = 0; i < STEADY_THREADS; i++) {
        pthread_join(t[i], NULL);
        assert_int_equal(w[i].err, FX_OK);
        if (w[i].max_wal > max_wal)
            max_wal = w[i].max_wal;
    }
    atomic_store(&steady_done, 1);
    for (int i = 0; i < STEADY_READERS; i++)
        pthread_join(r[i], NULL);
    assert_int_equal(count_probes(s), STEADY_THREADS * STEADY_WRITES);
    /* 8,000 writes of a page or more put over 100 MB through the WAL when it never
     * restarts; restarting, it stays near 1,000 pages. The bound leaves room for a
     * slow disk, on which a pass takes longer while the writes go on. */
    printf("# WAL at most %lld KiB over %d writes\n", max_wal / 1024,
           STEADY_THREADS * STEADY_WRITES);
    assert_true(max_wal < 10LL * 1000 * 4096);
    /* what /metrics shows of it */
    struct fx_store_stats st;
    fx_store_stats(s, &st);
    printf("# %lld checkpoints, %lld WAL restarts\n", (long long)st.checkpoints,
           (long long)st.wal_restarts);
    assert_true(st.checkpoints >= 1 && st.wal_restarts >= 1);
    assert_true(st.wal_pages >= 0 && st.wal_pages * 4096LL <= max_wal);
    close_store(s);
}

/*
 * fx_store_stats() times each write by stage (/metrics): with each sync slowed
 * to 100 ms, a write spends that long between its batch's end and durable.
 */
static void test_write_stages_are_timed(void **state)
{
    (void)state;
    struct fx_store *s = open_store();
    struct fx_store_stats before, after;
    fx_store_stats(s, &before);
    atomic_store(&sync_delay_ms, 100);
    char sql[] = "INSERT INTO meta (key, value) VALUES ('probe', x'00')";
    assert_int_equal(fx_store_write(s, put_fn, sql), FX_OK);
    atomic_store(&sync_delay_ms, 0);
    fx_store_stats(s, &after);
    assert_int_equal(after.write_jobs - before.write_jobs, 1);
    assert_int_equal(after.write_batches - before.write_batches, 1);
    int64_t durable = after.write_durable_ns - before.write_durable_ns;
    int64_t others = (after.write_queued_ns - before.write_queued_ns) +
                     (after.write_batch_ns - before.write_batch_ns) +
                     (after.write_wakeup_ns - before.write_wakeup_ns);
    printf("# durable %lld us, the other stages %lld us\n", (long long)(durable / 1000),
           (long long)(others / 1000));
    assert_true(durable >= 100LL * 1000 * 1000);
    assert_true(others >= 0 && others < durable);
    close_store(s);
}

/* An fx_store_write_async() job's end, as its callback saw it. */
struct ended {
    atomic_int calls;
    _Atomic int err;
    atomic_llong synced; /* ns: when a sync last returned, as the callback ran */
};

static void on_end(void *arg, enum fx_err err)
{
    struct ended *e = arg;
    atomic_store(&e->err, (int)err);
    atomic_store(&e->synced, atomic_load(&last_sync_done));
    atomic_fetch_add(&e->calls, 1);
}

/*
 * fx_store_write_async() returns at once; each callback runs exactly once,
 * with the write's own result, and only after the sync that made the batch
 * durable. A failing write is rolled back alone. Closing the store first
 * runs what is still queued, callbacks included.
 */
static void test_async_writes_end_after_their_sync(void **state)
{
    (void)state;
    struct fx_store *s = open_store();
    atomic_store(&sync_delay_ms, 200);
    static char ok1[] = "INSERT INTO meta (key, value) VALUES ('probe-a1', x'00')";
    static char bad[] = "INSERT INTO no_such_table VALUES (1)";
    static char ok2[] = "INSERT INTO meta (key, value) VALUES ('probe-a2', x'00')";
    char *sql[] = {ok1, bad, ok2};
    struct ended e[3];
    memset(e, 0, sizeof(e));
    long long start = now_ns();
    for (int i = 0; i < 3; i++)
        assert_int_equal(fx_store_write_async(s, put_fn, NULL, sql[i], on_end, &e[i]), FX_OK);
    assert_true(now_ns() - start < 100LL * 1000000); /* nobody waited for the sync */
    for (int i = 0; i < 3; i++)
        while (atomic_load(&e[i].calls) == 0)
            usleep(1000);
    atomic_store(&sync_delay_ms, 0);
    assert_int_equal(atomic_load(&e[0].err), FX_OK);
    assert_int_not_equal(atomic_load(&e[1].err), FX_OK);
    assert_int_equal(atomic_load(&e[2].err), FX_OK);
    /* a (slowed) sync that began after the writes were queued had returned */
    assert_true(atomic_load(&e[0].synced) >= start + 200LL * 1000000);
    assert_true(atomic_load(&e[2].synced) >= start + 200LL * 1000000);
    assert_int_equal(count_probes(s), 2);

    /* queued, then closed at once: the store ends them before it closes */
    struct ended late[8];
    memset(late, 0, sizeof(late));
    char late_sql[8][96];
    for (int i = 0; i < 8; i++) {
        snprintf(late_sql[i], sizeof(late_sql[i]),
                 "INSERT INTO meta (key, value) VALUES ('probe-late%d', x'00')", i);
        assert_int_equal(fx_store_write_async(s, put_fn, NULL, late_sql[i], on_end, &late[i]),
                         FX_OK);
    }
    fx_store_close(s);
    for (int i = 0; i < 8; i++) {
        assert_int_equal(atomic_load(&late[i].calls), 1);
        assert_int_equal(atomic_load(&late[i].err), FX_OK);
    }
    for (int i = 0; i < 3; i++)
        assert_int_equal(atomic_load(&e[i].calls), 1);
    s = open_in(dir, true);
    assert_int_equal(count_probes(s), 10);
    close_store(s);
}

/* A job of test_a_failing_job_resets_the_ones_before_it. */
struct rerun {
    const char *sql;
    atomic_int runs, resets;
    struct ended end;
};

static enum fx_err rerun_fn(struct fx_db *db, void *arg)
{
    struct rerun *r = arg;
    atomic_fetch_add(&r->runs, 1);
    return fx_db_exec(db, r->sql);
}

static void rerun_reset(void *arg)
{
    atomic_fetch_add(&((struct rerun *)arg)->resets, 1);
}

static enum fx_err sleep_fn(struct fx_db *db, void *arg)
{
    (void)db;
    (void)arg;
    usleep(300 * 1000);
    return FX_OK;
}

/*
 * Jobs that can run again (a reset) run without savepoints. When one of them
 * fails, the others of its batch that ran before it are reset and run again;
 * in the end each write is stored once, the failed one not at all, and each
 * callback runs once with the write's own result.
 */
static void test_a_failing_job_resets_the_ones_before_it(void **state)
{
    (void)state;
    struct fx_store *s = open_store();
    struct rerun r[5] = {
        {.sql = "INSERT INTO meta (key, value) VALUES ('probe-r1', x'00')"},
        {.sql = "INSERT INTO meta (key, value) VALUES ('probe-r2', x'00')"},
        {.sql = "INSERT INTO no_such_table VALUES (1)"},
        {.sql = "INSERT INTO meta (key, value) VALUES ('probe-r4', x'00')"},
        {.sql = "INSERT INTO meta (key, value) VALUES ('probe-r5', x'00')"},
    };
    bool resettable[5] = {true, true, true, true, false};
    struct ended blocker;
    memset(&blocker, 0, sizeof(blocker));
    struct fx_store_stats before, after;
    fx_store_stats(s, &before);
    /* the writer sleeps in a batch of its own while the five queue up behind it */
    assert_int_equal(fx_store_write_async(s, sleep_fn, NULL, NULL, on_end, &blocker), FX_OK);
    usleep(50 * 1000);
    for (int i = 0; i < 5; i++)
        assert_int_equal(fx_store_write_async(s, rerun_fn, resettable[i] ? rerun_reset : NULL,
                                              &r[i], on_end, &r[i].end),
                         FX_OK);
    for (int i = 0; i < 5; i++)
        while (atomic_load(&r[i].end.calls) == 0)
            usleep(1000);
    fx_store_stats(s, &after);
    assert_int_equal(after.write_batches - before.write_batches, 2);
    int want_runs[5] = {2, 2, 1, 1, 1}, want_resets[5] = {1, 1, 0, 0, 0};
    for (int i = 0; i < 5; i++) {
        assert_int_equal(atomic_load(&r[i].end.calls), 1);
        assert_int_equal(atomic_load(&r[i].runs), want_runs[i]);
        assert_int_equal(atomic_load(&r[i].resets), want_resets[i]);
        if (i == 2)
            assert_int_not_equal(atomic_load(&r[i].end.err), FX_OK);
        else
            assert_int_equal(atomic_load(&r[i].end.err), FX_OK);
    }
    assert_int_equal(count_probes(s), 4);
    close_store(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_commit_visible_and_answered_after_sync),
        cmocka_unit_test_teardown(test_readers_are_not_starved_by_writers, stop_alarm),
        cmocka_unit_test(test_the_writer_runs_the_next_batch_during_a_sync),
        cmocka_unit_test(test_a_batch_whose_transaction_vanished_stores_nothing),
        cmocka_unit_test(test_a_store_that_does_not_pipeline_syncs_at_commit),
        cmocka_unit_test(test_failed_sync_stops_before_answering),
        cmocka_unit_test(test_the_wal_starts_over_under_steady_writes),
        cmocka_unit_test(test_write_stages_are_timed),
        cmocka_unit_test(test_async_writes_end_after_their_sync),
        cmocka_unit_test(test_a_failing_job_resets_the_ones_before_it),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
