/*
 * jobq.h: the queue between callers of fx_store_write() and a backend's one
 * writer thread (group commit). Callers queue a job and sleep on the job's
 * own condition variable, so finishing a batch wakes exactly its callers.
 * fx_store_write_async() queues a job that nobody waits for: finishing it
 * calls its callback instead. Only the backends (store_sqlite.c,
 * store_pg.c) include this.
 */
#ifndef FX_STORE_JOBQ_H
#define FX_STORE_JOBQ_H

#include "store/store.h"

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>

/*
 * A write waiting for its commit: on its caller's stack until fx_jobq_run()
 * returns, or, with on_done, the queue's own (malloc) until on_done returns.
 */
struct fx_job {
    fx_db_fn fn;
    void *arg;
    enum fx_err err; /* set by the writer */
    bool done;       /* guarded by the queue's mu */
    pthread_cond_t cv;        /* unused with on_done */
    fx_store_done_fn on_done; /* NULL: a caller waits on cv */
    void *done_arg;
    fx_reset_fn reset; /* NULL: fn runs once (fx_store_write_async) */
    struct fx_job *next;
    /* CLOCK_MONOTONIC ns: queued, taken by the writer, its batch's transaction
     * ended (fx_jobq_done), finished (durable, or failed) */
    int64_t t_queued, t_taken, t_done, t_finished;
};

/* Sums over every job run, for /metrics (fx_store_stats). */
struct fx_jobq_stats {
    _Atomic int64_t jobs, batches;
    _Atomic int64_t queued_ns, batch_ns, durable_ns, wakeup_ns;
};

struct fx_jobq {
    pthread_mutex_t mu;
    pthread_cond_t wake_writer; /* a job was queued, or the queue stops */
    struct fx_job *head, *tail;
    bool stopping;
    struct fx_jobq_stats stats;
};

void fx_jobq_init(struct fx_jobq *q);
void fx_jobq_destroy(struct fx_jobq *q);
/* Queues fn(db, arg) and waits until the writer finished it: its error, or FX_EBUSY once stopped. */
enum fx_err fx_jobq_run(struct fx_jobq *q, fx_db_fn fn, void *arg);
/*
 * Queues fn(db, arg) and returns: done(done_arg, err) runs once it finished,
 * on the thread that finishes it (fx_jobq_finish). FX_EBUSY, and done never
 * runs, once the queue stopped.
 */
enum fx_err fx_jobq_submit(struct fx_jobq *q, fx_db_fn fn, fx_reset_fn reset, void *arg,
                           fx_store_done_fn done, void *done_arg);
/*
 * The writer: takes up to max queued jobs as a list, waiting while there is
 * none; NULL once the queue stops and is empty (everything queued is taken first).
 */
struct fx_job *fx_jobq_take(struct fx_jobq *q, size_t max);
/* The writer: the transaction of a batch it took has ended (for the stage times). */
void fx_jobq_done(struct fx_job *jobs);
/* The writer: marks a list of taken jobs done and wakes each one's caller, or runs its callback. */
void fx_jobq_finish(struct fx_jobq *q, struct fx_job *jobs);
/* The time writes spent in each stage, summed, into out's write_* fields. */
void fx_jobq_stats(struct fx_jobq *q, struct fx_store_stats *out);
/* No new jobs from now on; the writer drains what is queued. */
void fx_jobq_stop(struct fx_jobq *q);

#endif
