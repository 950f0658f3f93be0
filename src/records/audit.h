/*
 * audit.h: the audit trail (SPEC §10): every mutating action and every read of
 * a confidential record from outside its owning org. Rows are only ever
 * inserted; the schema's triggers refuse UPDATE and DELETE.
 */
#ifndef FX_AUDIT_H
#define FX_AUDIT_H

#include "auth/principal.h"
#include "store/store.h"

#include <jansson.h>
#include <stdbool.h>

/* Appends one row inside the caller's write transaction. Strings may be NULL but action. */
enum fx_err fx_audit_write(struct fx_db *db, int64_t now_ms, const struct fx_principal *p,
                           const char *action, const char *record, const char *record_org,
                           const char *outcome);
/* A record read from outside its owning org (fx_req_audit_reads, request.h). */
struct fx_audit_target {
    const char *record, *record_org;
};

/* One row: action required, the other strings may be NULL. */
struct fx_audit_row {
    const char *action, *record, *record_org, *outcome;
};

/*
 * Rows for one caller at one time, kept in a transaction of their own: the
 * reads from outside the owning org that a request answers, and a refused
 * mutation (which has no transaction of its own). The server gathers a
 * request's rows (fx_req_audit_reads, request.h) and keeps them before the
 * answer leaves, so that no read is answered unlogged.
 */
struct fx_audit_rows {
    int64_t now;
    struct fx_principal who;
    struct fx_audit_row *rows;
    size_t n, cap; /* rows used, and allocated by whoever gathers them */
};
/*
 * Keeps r's rows in one transaction: with done NULL, returns once they are
 * durable; otherwise queues them (fx_store_write_async) and done(done_arg,
 * err) runs once they are, r living until then.
 */
enum fx_err fx_audit_rows_write(struct fx_store *store, struct fx_audit_rows *r,
                                fx_store_done_fn done, void *done_arg);
/*
 * Queues r's rows with copies of everything, for a caller that has nobody to
 * answer (its client has gone); an error keeping them is logged.
 */
void fx_audit_rows_later(struct fx_store *store, const struct fx_audit_rows *r);

struct fx_audit_filter {
    const char *record;      /* NULL: any */
    const char *user_id;
    const char *org_id;      /* acting org */
    const char *scope_org;   /* non-NULL: rows by this org's users or about its records */
    bool outside_only;       /* only reads by users outside scope_org (the access log) */
    const char *action;      /* NULL: any */
    int64_t since_ms;        /* 0: any */
    int64_t before_id;       /* cursor: rows with id < before_id; 0: from the newest */
    int64_t limit;
};

/* Rows newest first as a JSON array (new reference); *next_out is the cursor or 0. */
enum fx_err fx_audit_list(struct fx_db *db, const struct fx_audit_filter *f, json_t **items_out,
                          int64_t *next_out);

#endif
