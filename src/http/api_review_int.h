/*
 * api_review_int.h: what the handlers of the review process (api_review.c,
 * api_policy.c, api_assess.c, api_grants.c) share: the write environment, the
 * notice loaded through the gate, the audit of outside reads, and the mapping
 * of a failed write to its answer. Only those files include this.
 */
#ifndef FX_API_REVIEW_INT_H
#define FX_API_REVIEW_INT_H

#include "auth/access.h"
#include "http/request.h"
#include "records/notice.h"

/* The environment of a write by req's caller, at the clock's now. receipts: a JSON array. */
void fx_api_env(struct fx_req *req, json_t *receipts, struct fx_notice_env *env);

/*
 * Loads the notice (UUID or FXN reference), notes it as the request's audit record
 * and asks the gate whether the caller may `act` on a record of `kind` belonging to
 * it (SPEC §2: for agencies, whether they are assigned to its assessment).
 * *assigned_out (may be NULL): the caller's agency is assigned. When the gate
 * hides the notice (FX_ENOTFOUND) *row is cleared, so that no answer can tell it
 * from a missing one.
 */
enum fx_err fx_api_notice_gate(struct fx_db *db, struct fx_req *req, const char *id,
                               enum fx_rec_kind kind, enum fx_act act, struct fx_notice_row *row,
                               bool *assigned_out);

/* Whether the caller's org is an agency assigned to the notice (false for other callers). */
enum fx_err fx_api_assigned(struct fx_db *db, struct fx_req *req, const char *notice_id,
                            bool *out);

/*
 * SPEC §10: a read of a confidential record from outside its owning org is written
 * to the audit trail before it is answered (fx_req_audit_row: the server keeps it,
 * and answers 503 instead when it cannot).
 */
void fx_api_audit_read(struct fx_req *req, const char *record, const char *record_org,
                       const char *action);

/* Answers a failed write or read: 404 and 403 with these details, others from err and pb. */
void fx_api_fail(struct fx_req *req, enum fx_err err, const struct fx_problem *pb,
                 const char *not_found, const char *forbidden);

#endif
