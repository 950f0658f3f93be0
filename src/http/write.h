/*
 * write.h: the one way handlers write. fx_write_run() runs the domain
 * callback in a durable write transaction (group commit, store.h), with
 * Idempotency-Key handling around it: a retry with the same key and body
 * replays the first answer and writes nothing; the same key with another
 * request is refused. The callback answers through req (fx_req_json), or
 * leaves what the answer needs for an answer function that runs after the
 * commit (fx_write_run_answer); the handler thread is blocked meanwhile (or,
 * with fx_write_start, the request is suspended), so the writer thread may use req.
 */
#ifndef FX_WRITE_H
#define FX_WRITE_H

#include "http/request.h"
#include "store/store.h"

/*
 * fn(db, arg) performs the write and sets req's answer on success; on failure it
 * returns the error (pb, owned by the caller, may carry details) and everything
 * it did is rolled back. Returns FX_OK when an answer (fresh or replayed) is set;
 * otherwise the caller answers the error with fx_req_error(req, err, pb, NULL).
 */
enum fx_err fx_write_run(struct fx_req *req, fx_db_fn fn, void *arg, struct fx_problem *pb);

/* Writes a successful write's answer into req from what fn left in arg; never uses the store. */
typedef void (*fx_answer_fn)(struct fx_req *req, void *arg);

/*
 * fx_write_run whose answer is written by answer(req, arg) instead of fn:
 * after the commit, on the calling thread, so that building and rendering the
 * answer do not hold the store's one writer. With an Idempotency-Key the
 * answer is stored with the write, so answer then runs inside the
 * transaction, right after fn. answer runs only when fn succeeded.
 */
enum fx_err fx_write_run_answer(struct fx_req *req, fx_db_fn fn, fx_answer_fn answer, void *arg,
                                struct fx_problem *pb);

/*
 * The end of a write begun with fx_write_start(): err is what
 * fx_write_run_answer() would return (FX_OK: the answer is set). It answers
 * an error and releases what arg holds; it runs exactly once.
 */
typedef void (*fx_write_done_fn)(struct fx_req *req, void *arg, enum fx_err err);

/* What fx_write_start() runs with its arg. */
struct fx_write_ops {
    fx_db_fn fn;           /* in the transaction */
    fx_answer_fn answer;   /* after the commit, when fn succeeded */
    fx_write_done_fn done; /* last, always */
    fx_reset_fn reset;     /* NULL, or undoes what fn left in arg (store.h): fn may run again */
};

/*
 * fx_write_run_answer() for a handler that need not wait for the commit.
 * Where the server allows it (req->suspend), the write is queued to the
 * store's writer and fx_write_start returns at once: the handler returns,
 * the request waits without a thread, and once the write is durable (or
 * failed) the server calls fx_write_resume(), which runs answer and done on
 * the thread that serves the connection. Elsewhere the write runs before
 * fx_write_start returns, and done with it. Either way fx_write_start is the
 * handler's last step: arg and pb must live in req's arena, and done frees
 * what they hold. ops->reset is used only without an Idempotency-Key (a
 * kept answer is written once).
 */
void fx_write_start(struct fx_req *req, const struct fx_write_ops *ops, void *arg,
                    struct fx_problem *pb);

/* For the server, once woken: ends the write in flight (req->pending) with its answer and done. */
void fx_write_resume(struct fx_req *req);

/*
 * Removes answers kept for Idempotency-Keys older than FX_IDEMPOTENCY_TTL at
 * now (ms): past it a key no longer replays, and the sealed answer would
 * otherwise stay in the store for good. One short transaction of at most a
 * thousand rows, so that other writes go on between two calls: *removed
 * counts its rows, and *more says that older keys may remain.
 */
enum fx_err fx_idempotency_sweep(struct fx_store *store, int64_t now, int64_t *removed, bool *more);

#endif
