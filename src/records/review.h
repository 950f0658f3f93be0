/*
 * review.h: the review process (SPEC §4): a coordinator reviewer takes a
 * submitted notice up, determines it covered or not covered with a rationale
 * and the policy version relied on, and the developer may ask once for
 * reconsideration, after which the coordinator decides again. Each step is a
 * record of fact and an event in the notice's history.
 *
 * It also holds what every record of the review process shares (screenings,
 * determinations, assessments, findings, grants): a record version's served
 * bytes are the canonical JSON of its document, kept sealed beside their
 * SHA-256, so that the ledger can name each one by (record id, version,
 * content_sha256) (SPEC §9, §11).
 */
#ifndef FX_REVIEW_H
#define FX_REVIEW_H

#include "records/notice.h"

/*
 * Seals the canonical bytes of doc under org_id's data key, with the associated
 * data "<kind>:<id>:v<version>" (SPEC §11). *blob_out is malloc'd (the caller
 * frees it); sha256_out receives the hex SHA-256 of the canonical bytes.
 */
enum fx_err fx_review_seal(struct fx_keyring *kr, struct fx_db *db, const char *org_id,
                           const char *kind, const char *id, int64_t version, const json_t *doc,
                           unsigned char **blob_out, size_t *len_out, char sha256_out[65]);
/*
 * Seals doc as version `version` of record `id` (kind names it in the associated
 * data), inserts it with sql — "INSERT INTO <kind>_versions (<id column>, version,
 * body, content_sha256, created_at) VALUES ($1, $2, $3, $4, $5)" — and appends its
 * ledger leaf (SPEC §9) owned by org_id. The shared body of the versioned records
 * of the review process (assessments, grants).
 */
enum fx_err fx_review_put_version(struct fx_db *db, const struct fx_notice_env *env,
                                  const char *sql, const char *kind, const char *id,
                                  int64_t version, const char *org_id, const json_t *doc);

/* Opens what fx_review_seal made: the served bytes, malloc'd. */
enum fx_err fx_review_open(struct fx_keyring *kr, struct fx_db *db, const char *org_id,
                           const char *kind, const char *id, int64_t version, const void *blob,
                           size_t len, char **bytes_out, size_t *len_out);
/* The same, parsed (new reference). FX_ESTORE when the bytes are not JSON. */
enum fx_err fx_review_open_json(struct fx_keyring *kr, struct fx_db *db, const char *org_id,
                                const char *kind, const char *id, int64_t version,
                                const void *blob, size_t len, json_t **doc_out);

/* submitted -> under_review, with an event. FX_ECONFLICT from any other status. */
enum fx_err fx_review_take_up(struct fx_db *db, const struct fx_notice_env *env,
                              struct fx_notice_row *row);

/*
 * under_review -> determined: records a determination ("covered" or "not_covered",
 * validated by the caller) with its rationale and the policy relied on, stamps the
 * notice with that policy, and appends an event. *out (new reference) is the
 * determination document as stored.
 */
enum fx_err fx_review_determine(struct fx_db *db, const struct fx_notice_env *env,
                                struct fx_notice_row *row, const char *determination,
                                const char *rationale, const struct fx_policy *pol,
                                json_t **out);

/*
 * determined -> under_review: the developer's request for reconsideration, with a
 * statement. SPEC §4 allows it once: a second request is FX_ECONFLICT with a detail
 * in pb. *out (new reference) is the reconsideration document as stored.
 */
enum fx_err fx_review_reconsider(struct fx_db *db, const struct fx_notice_env *env,
                                 struct fx_notice_row *row, const char *statement,
                                 struct fx_problem *pb, json_t **out);

/* Every determination and reconsideration of the notice, oldest first (new reference). */
enum fx_err fx_review_list(struct fx_db *db, struct fx_keyring *kr,
                           const struct fx_notice_row *row, json_t **items_out);

/*
 * Whether a history event of a notice may be shown to p (SPEC §2): events about a
 * finding follow the finding's marking, events about a grant follow the grant.
 * agency_assigned: p's agency is assigned to the notice's assessment.
 */
bool fx_review_event_visible(const struct fx_principal *p, const struct fx_notice_row *row,
                             bool agency_assigned, const json_t *event);

#endif
