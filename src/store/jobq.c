/*
 * jobq.c: see jobq.h. A caller's job lives on its stack: once done is set
 * and the mutex released the caller may return, so the writer signals each
 * job's condition variable before letting go of the mutex. Jobs with a
 * callback are the queue's: their callbacks run after the mutex is released,
 * as they may take locks of their own.
 */
#include "store/jobq.h"
#include "common/clock.h"
#include "common/fx.h"

#include <stdlib.h>

#include <string.h>

void fx_jobq_init(struct fx_jobq *q)
{
    pthread_mutex_init(&q->mu, NULL);
    pthread_cond_init(&q->wake_writer, NULL);
    q->head = q->tail = NULL;
    q->stopping = false;
    memset(&q->stats, 0, sizeof(q->stats));
}

void fx_jobq_destroy(struct fx_jobq *q)
{
    pthread_mutex_destroy(&q->mu);
    pthread_cond_destroy(&q->wake_writer);
}

/* Appends j to the queue, mu held; false once the queue stopped. */
static bool enqueue(struct fx_jobq *q, struct fx_job *j)
{
    if (q->stopping)
        return false;
    if (q->tail)
        q->tail->next = j;
    else
        q->head = j;
    q->tail = j;
    pthread_cond_signal(&q->wake_writer);
    return true;
}

/* A finished job's stage times, the wake-up of its caller at woken (ns). */
static void count(struct fx_jobq *q, const struct fx_job *j, int64_t woken)
{
    struct fx_jobq_stats *st = &q->stats;
    st->jobs++;
    st->queued_ns += j->t_taken - j->t_queued;
    st->batch_ns += j->t_done - j->t_taken;
    st->durable_ns += j->t_finished - j->t_done;
    st->wakeup_ns += woken - j->t_finished;
}

enum fx_err fx_jobq_run(struct fx_jobq *q, fx_db_fn fn, void *arg)
{
    struct fx_job j = {.fn = fn, .arg = arg, .t_queued = fx_clock_monotonic_ns()};
    pthread_cond_init(&j.cv, NULL);
    pthread_mutex_lock(&q->mu);
    if (!enqueue(q, &j)) {
        pthread_mutex_unlock(&q->mu);
        pthread_cond_destroy(&j.cv);
        return FX_EBUSY;
    }
    while (!j.done)
        pthread_cond_wait(&j.cv, &q->mu);
    pthread_mutex_unlock(&q->mu);
    pthread_cond_destroy(&j.cv);
    count(q, &j, fx_clock_monotonic_ns());
    return j.err;
}

enum fx_err fx_jobq_submit(struct fx_jobq *q, fx_db_fn fn, fx_reset_fn reset, void *arg,
                           fx_store_done_fn done, void *done_arg)
{
    struct fx_job *j = fx_xcalloc(1, sizeof(*j));
    *j = (struct fx_job){.fn = fn,
                         .arg = arg,
                         .on_done = done,
                         .reset = reset,
                         .done_arg = done_arg,
                         .t_queued = fx_clock_monotonic_ns()};
    pthread_mutex_lock(&q->mu);
    bool queued = enqueue(q, j);
    pthread_mutex_unlock(&q->mu);
    if (!queued)
        free(j);
    return queued ? FX_OK : FX_EBUSY;
}

struct fx_job *fx_jobq_take(struct fx_jobq *q, size_t max)
{
    pthread_mutex_lock(&q->mu);
    while (q->head == NULL && !q->stopping)
        pthread_cond_wait(&q->wake_writer, &q->mu);
    struct fx_job *batch = q->head, *last = q->head;
    if (batch != NULL) {
        for (size_t n = 1; last->next && n < max; n++)
            last = last->next;
        q->head = last->next;
        if (q->head == NULL)
            q->tail = NULL;
        last->next = NULL;
        q->stats.batches++;
    }
    pthread_mutex_unlock(&q->mu);
    int64_t t = fx_clock_monotonic_ns();
    for (struct fx_job *j = batch; j; j = j->next)
        j->t_taken = t;
    return batch;
}

void fx_jobq_done(struct fx_job *jobs)
{
    int64_t t = fx_clock_monotonic_ns();
    for (struct fx_job *j = jobs; j; j = j->next)
        j->t_done = t;
}

void fx_jobq_finish(struct fx_jobq *q, struct fx_job *jobs)
{
    int64_t t = fx_clock_monotonic_ns();
    struct fx_job *mine = NULL, **end = &mine; /* jobs with a callback: nobody else holds them */
    pthread_mutex_lock(&q->mu);
    while (jobs) {
        struct fx_job *next = jobs->next; /* jobs may be gone once the mutex is free */
        jobs->t_finished = t;
        if (jobs->on_done) {
            jobs->next = NULL;
            *end = jobs;
            end = &jobs->next;
        } else {
            jobs->done = true;
            pthread_cond_signal(&jobs->cv);
        }
        jobs = next;
    }
    pthread_mutex_unlock(&q->mu);
    while (mine) {
        struct fx_job *next = mine->next;
        count(q, mine, t); /* its callback is its wake-up */
        mine->on_done(mine->done_arg, mine->err);
        free(mine);
        mine = next;
    }
}

void fx_jobq_stop(struct fx_jobq *q)
{
    pthread_mutex_lock(&q->mu);
    q->stopping = true;
    pthread_cond_signal(&q->wake_writer);
    pthread_mutex_unlock(&q->mu);
}

void fx_jobq_stats(struct fx_jobq *q, struct fx_store_stats *out)
{
    out->write_jobs = q->stats.jobs;
    out->write_batches = q->stats.batches;
    out->write_queued_ns = q->stats.queued_ns;
    out->write_batch_ns = q->stats.batch_ns;
    out->write_durable_ns = q->stats.durable_ns;
    out->write_wakeup_ns = q->stats.wakeup_ns;
}
