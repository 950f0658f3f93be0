/*
 * write.h: the one way handlers write. fx_write_run() runs the domain
 * callback in a durable write transaction (group commit, store.h), with
 * Idempotency-Key handling around it: a retry with the same key and body
 * replays the first answer and writes nothing; the same key with another
 * request is refused. The callback answers through req (fx_req_json); the
 * handler thread is blocked meanwhile, so the writer thread may use req.
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

#endif
