/*
 * notice.h: pre-release notices (SPEC §3): validation, lifecycle and
 * persistence. Bodies are sealed per version under the developer org's key
 * (SPEC §11); the bytes served at /versions/{n} are exactly the bytes sealed,
 * and their SHA-256 is kept beside them for the ledger (SPEC §9).
 */
#ifndef FX_NOTICE_H
#define FX_NOTICE_H

#include "auth/principal.h"
#include "common/buf.h"
#include "common/problem.h"
#include "crypto/keyring.h"
#include "ledger/signer.h"
#include "policy/policy.h"
#include "store/store.h"

#include <jansson.h>
#include <stdbool.h>

/* ---- validation (notice.c): pure functions, no store ---- */

/*
 * Validates a set of notice fields (a create body without "submit", or an
 * amendment merged onto the current version). complete: the fields marked
 * required in SPEC §3 must be present (a submission); a draft may lack them.
 * On success *clean_out is a new object rebuilt from the validated values only,
 * and *release_days_out the planned release date when *has_release_out.
 * Every problem goes to pb, as a JSON Pointer.
 */
enum fx_err fx_notice_validate(json_t *fields, bool complete, struct fx_problem *pb,
                               json_t **clean_out, int64_t *release_days_out,
                               bool *has_release_out);

/* Lifecycle actions a developer or the review process (SPEC §4, §5) can take. */
enum fx_notice_action {
    FX_NOTICE_AMEND,
    FX_NOTICE_SUBMIT,
    FX_NOTICE_WITHDRAW,
    FX_NOTICE_RELEASE,
    FX_NOTICE_REVIEW,      /* submitted -> under_review (coordinator reviewer) */
    FX_NOTICE_DETERMINE,   /* under_review -> determined */
    FX_NOTICE_RECONSIDER,  /* determined -> under_review (developer, once) */
    FX_NOTICE_ASSESS,      /* determined (covered) -> assessment */
    FX_NOTICE_OUTCOME,     /* assessment -> assessed */
};
/* True when action is allowed in status (SPEC §3 lifecycle). */
bool fx_notice_allowed(const char *status, enum fx_notice_action action);
/* The actions allowed in status, by name, into out (at most 8). Returns how many. */
size_t fx_notice_allowed_actions(const char *status, const char **out);
/* A 409's status_now and allowed (SPEC §3) for a notice in status. */
void fx_notice_problem_allow(struct fx_problem *pb, const char *status);
const char *fx_notice_action_name(enum fx_notice_action a);

/* ---- persistence (notice_db.c) ---- */

/* A notice's plain metadata row. */
struct fx_notice_row {
    char id[37];
    char ref[16];
    char org_id[37];
    char status[16];
    int64_t version;
    char etag[48];
    bool has_release_date;        /* drafts may not have one yet */
    int64_t planned_release_date; /* days */
    int64_t submitted_at;         /* ms; 0 when never submitted */
    bool has_notice_days;
    int64_t notice_days;
    bool short_notice;
    char determination[16];       /* "" when none */
    bool has_actual_release;
    int64_t actual_release_date;
    char policy_sha256[65];
    int64_t created_at, updated_at;
};

/* Everything a write needs besides its own arguments. */
struct fx_notice_env {
    struct fx_keyring *keys;        /* borrowed */
    const struct fx_signer *signer; /* borrowed: signs the ledger's checkpoints */
    const struct fx_principal *who; /* borrowed */
    int64_t now;
    int64_t today;                  /* UTC date of now, in days */
    json_t *receipts;               /* borrowed array: each ledger leaf's receipt is appended */
};

/* Loads the row by UUID or FXN reference. FX_ENOTFOUND when absent. */
enum fx_err fx_notice_load(struct fx_db *db, const char *id_or_ref, struct fx_notice_row *out);

/*
 * Creates a notice (version 1) from validated fields; submits it when submit.
 * On success *row_out is the new row.
 */
enum fx_err fx_notice_create(struct fx_db *db, const struct fx_notice_env *env,
                             json_t *clean, const int64_t *release_days, bool submit,
                             const struct fx_policy *pol, struct fx_notice_row *row_out);

/*
 * A version document's fields rendered ahead of its transaction: the canonical
 * encoding (fx_json_canonical) of the clean fields, split around the members
 * that only the transaction knows (notice_id, ref, version, created_at,
 * created_by, change_reason), so that the writer only joins strings.
 */
#define FX_NOTICE_DOC_META 6
struct fx_notice_doc {
    char *part[FX_NOTICE_DOC_META + 1]; /* owned: members between two metadata keys, or "" */
    size_t len[FX_NOTICE_DOC_META + 1];
};
/* Renders clean (borrowed; as fx_notice_validate() returned it). fx_notice_doc_cleanup(). */
void fx_notice_doc_init(struct fx_notice_doc *d, json_t *clean);
void fx_notice_doc_cleanup(struct fx_notice_doc *d);
/*
 * The whole version document's canonical bytes, byte for byte what
 * fx_json_canonical() gives for the fields plus the metadata (malloc'd,
 * NUL-terminated). change_reason may be NULL (a JSON null).
 */
char *fx_notice_doc_bytes(const struct fx_notice_doc *d, const char *notice_id, const char *ref,
                          int64_t version, int64_t created_at, const char *created_by,
                          const char *change_reason, size_t *len_out);
/*
 * Appends the fields' members ("a":1,"b":2, no braces) to out, in key order as
 * fx_notice_view() holds them; false when there are none.
 */
bool fx_notice_doc_fields(const struct fx_notice_doc *d, struct fx_buf *out);
/* fx_notice_create with the fields already rendered (doc, borrowed), as the API prepares them. */
enum fx_err fx_notice_create_doc(struct fx_db *db, const struct fx_notice_env *env,
                                 const struct fx_notice_doc *doc, const int64_t *release_days,
                                 bool submit, const struct fx_policy *pol,
                                 struct fx_notice_row *row_out);

/* The fields of the current version, as an object (new reference). */
enum fx_err fx_notice_fields(struct fx_db *db, struct fx_keyring *kr,
                             const struct fx_notice_row *row, json_t **out);

/*
 * Appends version row->version + 1 with validated fields and a change reason
 * (NULL allowed only for drafts); re-evaluates short notice when the release
 * date moves earlier. Updates *row.
 */
enum fx_err fx_notice_amend(struct fx_db *db, const struct fx_notice_env *env,
                            struct fx_notice_row *row, json_t *clean,
                            const int64_t *release_days,
                            const char *change_reason, const struct fx_policy *pol);

/*
 * Lifecycle steps. Each checks the transition (FX_ECONFLICT) and updates *row.
 * Submission validates the current fields as complete (FX_EINVAL, problems in pb).
 */
enum fx_err fx_notice_submit(struct fx_db *db, const struct fx_notice_env *env,
                             struct fx_notice_row *row, const struct fx_policy *pol,
                             struct fx_problem *pb);
enum fx_err fx_notice_withdraw(struct fx_db *db, const struct fx_notice_env *env,
                               struct fx_notice_row *row, const char *reason);
enum fx_err fx_notice_release(struct fx_db *db, const struct fx_notice_env *env,
                              struct fx_notice_row *row, int64_t actual_days);

/*
 * For the review process and other modules that move a notice along: write the
 * metadata row back, and append a history event whose detail (taken over) is
 * sealed under the developer org's key.
 */
enum fx_err fx_notice_save(struct fx_db *db, const struct fx_notice_row *row);
enum fx_err fx_notice_event(struct fx_db *db, const struct fx_notice_env *env,
                            const struct fx_notice_row *row, const char *action, json_t *detail);
/*
 * The same in two halves, for writes of many events (a policy applied to every open
 * notice): sealing (takes detail; *out malloc'd; needs db only when row->org_id's key
 * is not in the keyring's cache yet, so it may run on another thread once it is), and
 * appending the sealed detail in the write transaction.
 */
enum fx_err fx_notice_event_seal(struct fx_keyring *kr, struct fx_db *db,
                                 const struct fx_notice_row *row, json_t *detail,
                                 unsigned char **out, size_t *len_out);
enum fx_err fx_notice_event_put(struct fx_db *db, const struct fx_notice_env *env,
                                const struct fx_notice_row *row, const char *action,
                                const unsigned char *sealed, size_t len);
/*
 * Re-screening under a new policy, for the open notices with after < id <= last:
 * stamps them with the policy and judges short_notice again from notice_days
 * (below min_notice_days). One statement: rewriting whole rows one by one costs
 * ten times as much (every index of the row is rewritten).
 */
enum fx_err fx_notice_restamp_range(struct fx_db *db, const char *after, const char *last,
                                    const char *policy_sha256, int64_t min_notice_days,
                                    int64_t now);

/*
 * SPEC §9: appends a ledger leaf for a record of fact (kind, record id, version,
 * SHA-256 of the served bytes, owning org) in the caller's transaction, and
 * its receipt to env->receipts. For the review process's records too.
 */
enum fx_err fx_notice_leaf(struct fx_db *db, const struct fx_notice_env *env, const char *kind,
                           const char *record_id, int64_t version, const char *content_sha256,
                           const char *org_id);

/* The API view: current fields plus metadata (new reference). */
enum fx_err fx_notice_view(struct fx_db *db, struct fx_keyring *kr,
                           const struct fx_notice_row *row, json_t **out);
/*
 * The view's members other than the fields, for a notice just created (not
 * withdrawn) and judged under the policy named policy_name: with the fields
 * of fx_notice_doc_fields() in front, the members fx_notice_view() gives once
 * it is committed, in the same order. New reference.
 */
json_t *fx_notice_view_meta(const struct fx_notice_row *row, const char *policy_name);

/* The exact stored bytes of version n (malloc'd). FX_ENOTFOUND when there is no such version. */
enum fx_err fx_notice_version_bytes(struct fx_db *db, struct fx_keyring *kr,
                                    const struct fx_notice_row *row, int64_t n, char **out,
                                    size_t *len_out);
/* The list of versions, oldest first (new reference). */
enum fx_err fx_notice_versions(struct fx_db *db, struct fx_keyring *kr,
                               const struct fx_notice_row *row, json_t **out);
/*
 * The history events of any record whose events were appended sealed under
 * org_id's key (notices, incidents), oldest first (new reference).
 */
enum fx_err fx_record_history(struct fx_db *db, struct fx_keyring *kr, const char *record_id,
                              const char *org_id, json_t **out);
/* The history events, oldest first (new reference). */
enum fx_err fx_notice_history(struct fx_db *db, struct fx_keyring *kr,
                              const struct fx_notice_row *row, json_t **out);

enum fx_list_scope_kind { FX_LIST_NONE, FX_LIST_ORG, FX_LIST_ALL_SUBMITTED, FX_LIST_ASSIGNED };

struct fx_notice_filter {
    enum fx_list_scope_kind scope;
    const char *scope_org;   /* FX_LIST_ORG: this org; FX_LIST_ALL_SUBMITTED: its drafts too;
                                FX_LIST_ASSIGNED: the agency assigned to the assessments */
    const char *status;      /* NULL: any */
    const char *developer;   /* NULL: any */
    int short_notice;        /* -1 any, 0, 1 */
    bool has_after, has_before;
    int64_t release_after, release_before; /* days, inclusive */
    const char *before_id;   /* cursor: ids below this; NULL from the newest */
    int64_t limit;
};

/*
 * Lists rows newest first. keep(row, arg) decides per row (the access gate;
 * row is a const struct fx_notice_row *); rows it refuses are skipped.
 * *rows_out malloc'd array of *n_out rows; *next_out (malloc'd) is the cursor
 * when more remain, also after a page the gate left short (records/page.h).
 */
enum fx_err fx_notice_list(struct fx_db *db, const struct fx_notice_filter *f,
                           bool (*keep)(const void *row, void *arg), void *keep_arg,
                           struct fx_notice_row **rows_out, size_t *n_out, char **next_out);

#endif
