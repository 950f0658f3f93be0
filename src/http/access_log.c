/*
 * access_log.c: see access_log.h. The kinds differ only in how a record is
 * loaded and who may read its log; the query, the page and the errors are one.
 */
#include "http/access_log.h"

#include <string.h>

struct access_log {
    struct fx_req *req;
    const struct fx_access_log_kind *kind;
    struct fx_audit_filter f;
    json_t *items; /* owned until answered */
    int64_t next;
};

static enum fx_err access_log_fn(struct fx_db *db, void *arg)
{
    struct access_log *a = arg;
    enum fx_err err = a->kind->gate(db, a->req, a->req->params[0], &a->f);
    if (err != FX_OK)
        return err;
    a->f.outside_only = true;
    return fx_audit_list(db, &a->f, &a->items, &a->next);
}

void fx_api_record_access_log(struct fx_req *req, const struct fx_access_log_kind *kind)
{
    struct fx_problem pb;
    struct access_log a = {.req = req, .kind = kind};
    fx_problem_init(&pb);
    fx_req_query_limit(req, &pb, &a.f.limit);
    fx_req_query_row_cursor(req, &pb, &a.f.before_id);
    if (!fx_req_valid(req, &pb))
        goto out;
    enum fx_err err = fx_store_read(req->ctx->store, access_log_fn, &a);
    if (err != FX_OK) {
        fx_req_error(req, err, NULL,
                     err == FX_EFORBIDDEN  ? kind->forbidden
                     : err == FX_ENOTFOUND ? kind->not_found
                                           : NULL);
        goto out;
    }
    fx_req_page(req, a.items, a.next ? json_sprintf("%lld", (long long)a.next) : NULL);
    a.items = NULL;
out:
    json_decref(a.items);
    fx_problem_cleanup(&pb);
}
