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
/*
 * Appends one row in a transaction of its own and returns once it is durable:
 * for reads from outside the owning org and for refused mutations, which have
 * no transaction of their own. A read is answered only after its row is kept.
 */
enum fx_err fx_audit_record(struct fx_store *store, int64_t now_ms, const struct fx_principal *p,
                            const char *action, const char *record, const char *record_org,
                            const char *outcome);

/*
 * fx_audit_record without waiting, for a caller that has nobody to answer
 * (a refused request whose client has gone): the row is queued with copies
 * of every argument, and an error keeping it is logged. FX_EBUSY when the
 * store is closing.
 */
enum fx_err fx_audit_record_later(struct fx_store *store, int64_t now_ms,
                                  const struct fx_principal *p, const char *action,
                                  const char *record, const char *record_org, const char *outcome);

/* The same for n records at once (a list answered to an outside reader): one transaction. */
struct fx_audit_target {
    const char *record, *record_org;
};
enum fx_err fx_audit_record_many(struct fx_store *store, int64_t now_ms,
                                 const struct fx_principal *p, const char *action,
                                 const struct fx_audit_target *targets, size_t n);

/*
 * Rows of outside reads gathered while a request is handled (fx_req_audit_reads
 * in request.h), each with its own action; kept before the answer leaves.
 */
struct fx_audit_read {
    const char *action, *record, *record_org;
};
struct fx_audit_reads {
    int64_t now;
    struct fx_principal who;
    struct fx_audit_read *rows;
    size_t n;
};
/*
 * Keeps r's rows in one transaction: with done NULL, returns once they are
 * durable; otherwise queues them (fx_store_write_async) and done(done_arg,
 * err) runs once they are, r living until then.
 */
enum fx_err fx_audit_reads_write(struct fx_store *store, struct fx_audit_reads *r,
                                 fx_store_done_fn done, void *done_arg);

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
