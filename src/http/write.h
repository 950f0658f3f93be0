/*
 * write.h: the one way handlers write. fx_write_run() runs the domain
 * callback in a durable write transaction (group commit, store.h), with
 * Idempotency-Key handling around it: a retry with the same key and body
 * replays the first answer and writes nothing; the same key with another
 * request is refused. The callback answers through req (fx_req_json), or
 * leaves what the answer needs for an answer function that runs after the
 * commit (fx_write_run_answer); the handler thread is blocked meanwhile, so
 * the writer thread may use req.
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
 * Removes answers kept for Idempotency-Keys older than FX_IDEMPOTENCY_TTL at
 * now (ms): past it a key no longer replays, and the sealed answer would
 * otherwise stay in the store for good. One short transaction of at most a
 * thousand rows, so that other writes go on between two calls: *removed
 * counts its rows, and *more says that older keys may remain.
 */
enum fx_err fx_idempotency_sweep(struct fx_store *store, int64_t now, int64_t *removed, bool *more);

#endif
