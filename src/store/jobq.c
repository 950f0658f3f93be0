/*
 * jobq.c: see jobq.h. A caller's job lives on its stack: once done is set
 * and the mutex released the caller may return, so the writer signals each
 * job's condition variable before letting go of the mutex.
 */
#include "store/jobq.h"
#include "common/clock.h"

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

enum fx_err fx_jobq_run(struct fx_jobq *q, fx_db_fn fn, void *arg)
{
    struct fx_job j = {.fn = fn, .arg = arg, .t_queued = fx_clock_monotonic_ns()};
    pthread_mutex_lock(&q->mu);
    if (q->stopping) {
        pthread_mutex_unlock(&q->mu);
        return FX_EBUSY;
    }
    pthread_cond_init(&j.cv, NULL);
    if (q->tail)
        q->tail->next = &j;
    else
        q->head = &j;
    q->tail = &j;
    pthread_cond_signal(&q->wake_writer);
    while (!j.done)
        pthread_cond_wait(&j.cv, &q->mu);
    pthread_mutex_unlock(&q->mu);
    pthread_cond_destroy(&j.cv);
    struct fx_jobq_stats *st = &q->stats;
    st->jobs++;
    st->queued_ns += j.t_taken - j.t_queued;
    st->batch_ns += j.t_done - j.t_taken;
    st->durable_ns += j.t_finished - j.t_done;
    st->wakeup_ns += fx_clock_monotonic_ns() - j.t_finished;
    return j.err;
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
    pthread_mutex_lock(&q->mu);
    while (jobs) {
        struct fx_job *next = jobs->next; /* jobs may be gone once the mutex is free */
        jobs->t_finished = t;
        jobs->done = true;
        pthread_cond_signal(&jobs->cv);
        jobs = next;
    }
    pthread_mutex_unlock(&q->mu);
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
