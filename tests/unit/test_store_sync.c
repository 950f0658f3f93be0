/*
 * test_store_sync.c: the SQLite store's pipelined commit (decision 0011).
 * The writer commits without an fsync and a syncer thread fdatasync()s the
 * WAL; a write is answered, and its rows become visible to readers, only
 * after that sync. The test links with -Wl,--wrap=fdatasync, so each sync
 * can be slowed down, counted and timed here.
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
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

int __real_fdatasync(int fd);
int __wrap_fdatasync(int fd);

static atomic_int sync_delay_ms;   /* each sync first sleeps this long */
static atomic_int sync_fails;      /* each sync reports EIO */
static atomic_llong last_sync_done; /* CLOCK_MONOTONIC ns when a sync last returned */
static atomic_int syncs;

static long long now_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (long long)t.tv_sec * 1000000000LL + t.tv_nsec;
}

int __wrap_fdatasync(int fd)
{
    int ms = atomic_load(&sync_delay_ms);
    if (ms > 0)
        usleep((useconds_t)ms * 1000);
    if (atomic_load(&sync_fails))
        return -1;
    int rc = __real_fdatasync(fd);
    atomic_fetch_add(&syncs, 1);
    atomic_store(&last_sync_done, now_ns());
    return rc;
}

static char dir[64];

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

static struct fx_store *open_store(void)
{
    make_dir();
    struct fx_store *s = NULL;
    assert_int_equal(fx_store_open("sqlite:", dir, &s), FX_OK);
    return s;
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
    _Atomic int n; /* writes answered */
};

static void *write_stream(void *arg)
{
    struct stream *st = arg;
    char sql[128];
    while (!atomic_load(st->stop)) {
        snprintf(sql, sizeof(sql), "INSERT INTO meta (key, value) VALUES ('probe-%p-%d', x'00')",
                 (void *)st, (int)st->n);
        assert_int_equal(fx_store_write(st->s, put_fn, sql), FX_OK);
        st->n++; /* only this thread writes it */
    }
    return NULL;
}

/*
 * Under a steady stream of commits (each with a slow sync, so that one is
 * nearly always in flight) readers still get their turn, and each sees
 * every write that was answered before it began.
 */
static void test_readers_are_not_starved_by_writers(void **state)
{
    (void)state;
    struct fx_store *s = open_store();
    atomic_store(&sync_delay_ms, 3);
    atomic_int stop = 0;
    struct stream st[16];
    pthread_t t[16];
    for (int i = 0; i < 16; i++) {
        st[i] = (struct stream){s, &stop, 0};
        assert_int_equal(pthread_create(&t[i], NULL, write_stream, &st[i]), 0);
    }
    alarm(60); /* a starved reader fails the test instead of hanging it */
    int64_t last = 0;
    int slowest = 0;
    /* reads go on until every writer has been answered twice: commits kept coming */
    for (int r = 0; r < 200 || slowest < 2; r++) {
        int answered = 0;
        slowest = INT32_MAX;
        for (int i = 0; i < 16; i++) {
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
    for (int i = 0; i < 16; i++)
        pthread_join(t[i], NULL);
    atomic_store(&sync_delay_ms, 0);
    int total = 0;
    for (int i = 0; i < 16; i++)
        total += st[i].n;
    assert_int_equal(count_probes(s), total);
    close_store(s);
}

/* Commits that pile up behind a slow sync are made durable together. */
static void test_one_sync_covers_many_commits(void **state)
{
    (void)state;
    struct fx_store *s = open_store();
    atomic_store(&sync_delay_ms, 50);
    atomic_store(&syncs, 0);
    enum { N = 32 };
    struct writer w[N];
    char sql[N][96];
    pthread_t t[N];
    for (int i = 0; i < N; i++) {
        snprintf(sql[i], sizeof(sql[i]), "INSERT INTO meta (key, value) VALUES ('probe%d', x'00')",
                 i);
        w[i] = (struct writer){s, sql[i], FX_OK, 0};
        assert_int_equal(pthread_create(&t[i], NULL, write_once, &w[i]), 0);
    }
    for (int i = 0; i < N; i++) {
        pthread_join(t[i], NULL);
        assert_int_equal(w[i].err, FX_OK);
    }
    atomic_store(&sync_delay_ms, 0);
    assert_int_equal(count_probes(s), N);
    assert_true(atomic_load(&syncs) < N);
    close_store(s);
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
        struct fx_store *s = NULL;
        if (fx_store_open("sqlite:", dir, &s) != FX_OK)
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
    assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT); /* fx_die() */
    remove_dir();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_commit_visible_and_answered_after_sync),
        cmocka_unit_test(test_readers_are_not_starved_by_writers),
        cmocka_unit_test(test_one_sync_covers_many_commits),
        cmocka_unit_test(test_failed_sync_stops_before_answering),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
