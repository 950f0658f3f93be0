/*
 * policy.h: policy documents (SPEC §4): the figures that are policy, not code
 * (notice period, access window, incident clock, coverage rules). A policy is
 * versioned by the SHA-256 of its canonical bytes; every judged record keeps
 * the version it was judged under.
 */
#ifndef FX_POLICY_H
#define FX_POLICY_H

#include "common/problem.h"
#include "store/store.h"

#include <jansson.h>

struct fx_policy {
    char sha256[65];
    char name[FX_MAX_SHORT_STRING + 1];
    int64_t min_notice_days;
    int64_t access_window_days;
    int64_t incident_report_hours;
    json_t *doc; /* owned: the canonical document */
};

/* The policy fxd init installs: the draft order's figures. */
extern const char fx_policy_default[];

/*
 * Parses and validates a policy document (p, len). Every problem goes to pb.
 * On FX_OK out is filled and owns its doc: fx_policy_cleanup().
 */
enum fx_err fx_policy_parse(const char *p, size_t len, struct fx_policy *out,
                            struct fx_problem *pb);
void fx_policy_cleanup(struct fx_policy *pol);

/* Stores pol and makes it the active policy (in the caller's write transaction). */
enum fx_err fx_policy_activate(struct fx_db *db, int64_t now, const struct fx_policy *pol);
/* Loads the active policy. */
enum fx_err fx_policy_load_active(struct fx_db *db, struct fx_policy *out);
/* A stored policy by its SHA-256 (memoised like the active one); FX_ENOTFOUND when none. */
enum fx_err fx_policy_load(struct fx_db *db, const char *sha256, struct fx_policy *out);

#endif
