/*
 * access_log.h: GET /api/v1/{records}/{id}/access-log for any kind of record
 * (SPEC §10): the reads of one record from outside its owner org, newest
 * first, a page at a time, for those the kind's gate lets see them.
 */
#ifndef FX_HTTP_ACCESS_LOG_H
#define FX_HTTP_ACCESS_LOG_H

#include "http/request.h"
#include "records/audit.h"
#include "store/store.h"

struct fx_access_log_kind {
    /*
     * Loads record id and asks the gate (FX_ACT_ACCESS_LOG). On FX_OK it sets
     * f->record and f->scope_org (the owner org) to strings in req's arena.
     */
    enum fx_err (*gate)(struct fx_db *db, struct fx_req *req, const char *id,
                        struct fx_audit_filter *f);
    const char *forbidden; /* the 403's detail: who may read the log */
    const char *not_found; /* the 404's detail */
};

/* Answers the access log of the record named by the path's first parameter. */
void fx_api_record_access_log(struct fx_req *req, const struct fx_access_log_kind *kind);

#endif
