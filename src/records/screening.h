/*
 * screening.h: coverage screening as records (SPEC §4). On submission, on every
 * amendment of a submitted notice and when a new policy is applied, FX screens
 * the notice under the active policy (src/policy/screen.c) and keeps a new
 * screening version: the result and the policy version in plain columns, and
 * the notice values the rules read sealed under the developer org's key. The
 * explanation (every rule, matched or not, with the notice's value and the
 * threshold) is derived from those on every read: screening is deterministic,
 * so version n of a notice's screening (the record of fact: notice id, n)
 * always serves the same bytes at GET .../screenings/{n}, and those bytes'
 * SHA-256 is the content of its "screening" ledger leaf.
 */
#ifndef FX_SCREENING_H
#define FX_SCREENING_H

#include "records/notice.h"

/*
 * Screens fields (the notice's current, validated fields) under pol and records
 * the next screening version; when the result differs from the previous
 * screening's, a "screened" event in the notice's history says so.
 * trigger: "submission", "amendment" or "policy".
 */
enum fx_err fx_screening_record(struct fx_db *db, const struct fx_notice_env *env,
                                const struct fx_notice_row *row, const json_t *fields,
                                const struct fx_policy *pol, const char *trigger);

/* The newest screening's version and result (at least 24 bytes); version 0 when none. */
enum fx_err fx_screening_current(struct fx_db *db, const char *notice_id, int64_t *version_out,
                                 char *result_out);

/*
 * The served bytes of screening `version` of the notice, or of the newest when
 * version is 0 (malloc'd): what its ledger leaf's content_sha256 hashes.
 * FX_ENOTFOUND when there is no such screening (never screened, for 0).
 */
enum fx_err fx_screening_bytes(struct fx_db *db, struct fx_keyring *kr,
                               const struct fx_notice_row *row, int64_t version, char **out,
                               size_t *len_out);

/*
 * A dry run of pol (SPEC §4 "policy check") over every open notice (submitted to
 * assessed) that keep(row, arg) allows (the gate): {"policy": {"name", "sha256"},
 * "active": {...}, "examined", "changed", "changes": [{"notice_id", "ref", "org_id",
 * "screening": {"from", "to"}, "short_notice": {"from", "to"}}]} (new reference):
 * the notices whose result or short-notice flag would change. A policy equal to the
 * active one changes nothing ("unchanged": true).
 */
enum fx_err fx_screening_check(struct fx_db *db, const struct fx_notice_env *env,
                               const struct fx_policy *pol,
                               bool (*keep)(const struct fx_notice_row *, void *),
                               void *keep_arg, json_t **out);

/*
 * Makes pol the active policy in the caller's write transaction: every open notice
 * gets a new screening version, the new policy's stamp, its short-notice flag judged
 * again under the new min_notice_days (SPEC §3) and one "screened" event; then the
 * policy is activated, its ledger leaf appended (receipt into env->receipts) and one
 * audit row "policy.apply" written for the whole application (env->who may be a
 * principal without user: fxd policy apply). Each new screening is a ledger leaf,
 * in notice id order before the policy's, and its event names its "ledger_index".
 * *out as for the check, with "previous" instead of "active", the policy leaf's
 * "receipt" and "screening_leaves": {"first", "count"}; nothing is written when pol
 * is the active policy.
 */
enum fx_err fx_screening_apply(struct fx_db *db, const struct fx_notice_env *env,
                               const struct fx_policy *pol, json_t **out);

#endif
