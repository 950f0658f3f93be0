/*
 * grant.h: trusted-partner early access (SPEC §6). For a notice determined
 * covered, the developer or the coordinator proposes a grant to an operator
 * org; it is approved once both the developer and the coordinator consented,
 * active once the partner accepted its terms (their SHA-256 is recorded) and
 * its first day has come, expired after its last day, or revoked with a
 * reason. The partner files feedback on an active grant. "Active" and
 * "expired" are read from the clock, never stored.
 *
 * Records of fact: the grant, one version per state change (version 1 is the
 * proposal), and each feedback. Their documents are sealed under the developer
 * org's key. A grant's document names the model (name, version) and the
 * developer's contact, never the notice body (SPEC §2).
 */
#ifndef FX_GRANT_H
#define FX_GRANT_H

#include "records/notice.h"

struct fx_grant_row {
    char id[37];
    char notice_id[37];
    char developer_org[37];
    char partner_org[37];
    char sector[40];
    int64_t starts, ends; /* days, inclusive */
    int64_t developer_consent_at, coordinator_consent_at, accepted_at, revoked_at; /* ms; 0 */
    char terms_sha256[65];
    int64_t version;
    int64_t created_at, updated_at;
};

/* proposed, approved, active, expired or revoked, by the clock (today: days). */
const char *fx_grant_state(const struct fx_grant_row *g, int64_t today);
/* Both sides consented: the partner may know of the grant. */
bool fx_grant_approved(const struct fx_grant_row *g);

struct fx_grant_input {
    const char *partner_org, *purpose, *terms; /* borrowed */
    int64_t starts, ends;                      /* days */
};
/* Validates a proposal body (strings borrowed from body). ends before starts: 422. */
void fx_grant_validate(json_t *body, struct fx_grant_input *in, struct fx_problem *pb);

/*
 * Proposes a grant on a notice determined covered (FX_ECONFLICT otherwise, with a
 * detail). The partner must be an operator org (FX_EINVAL in pb).
 */
enum fx_err fx_grant_propose(struct fx_db *db, const struct fx_notice_env *env,
                             const struct fx_notice_row *notice, const struct fx_grant_input *in,
                             struct fx_problem *pb, struct fx_grant_row *out);

/* By id. FX_ENOTFOUND when absent. */
enum fx_err fx_grant_load(struct fx_db *db, const char *id, struct fx_grant_row *out);

/*
 * The grant as served (new reference): the proposal's document with the state on
 * `today`, the consents and acceptance; with_notice adds the notice's id and
 * reference (for callers who may read the notice); with_feedback the feedback.
 */
enum fx_err fx_grant_view(struct fx_db *db, struct fx_keyring *kr, const struct fx_grant_row *g,
                          int64_t today, bool with_notice, bool with_feedback, json_t **out);
/*
 * Version n of the grant's record exactly as stored (*out owned): the proposal
 * (1), then each state change, the bytes whose SHA-256 its ledger leaf holds
 * (SPEC §9). FX_ENOTFOUND when there is no such version.
 */
enum fx_err fx_grant_version_bytes(struct fx_db *db, struct fx_keyring *kr,
                                   const struct fx_grant_row *g, int64_t version, char **out,
                                   size_t *len_out);

/*
 * Steps. Each checks the state (FX_ECONFLICT with the state and a detail in pb),
 * appends a version of the record, an event on the notice, and updates *g.
 * consent: the side is the caller's (developer org or coordinator); twice is a
 * conflict. accept: terms_sha256 may be NULL; when given it must be the terms'
 * (FX_EINVAL otherwise).
 */
enum fx_err fx_grant_consent(struct fx_db *db, const struct fx_notice_env *env,
                             struct fx_grant_row *g, struct fx_problem *pb);
enum fx_err fx_grant_accept(struct fx_db *db, const struct fx_notice_env *env,
                            struct fx_grant_row *g, const char *terms_sha256,
                            struct fx_problem *pb);
enum fx_err fx_grant_revoke(struct fx_db *db, const struct fx_notice_env *env,
                            struct fx_grant_row *g, const char *reason, struct fx_problem *pb);

struct fx_feedback_input {
    const char *title, *severity, *description; /* borrowed */
};
void fx_grant_feedback_validate(json_t *body, struct fx_feedback_input *in,
                                struct fx_problem *pb);
/* Files the partner's feedback on an active grant. *out: the feedback document. */
enum fx_err fx_grant_feedback(struct fx_db *db, const struct fx_notice_env *env,
                              struct fx_grant_row *g, const struct fx_feedback_input *in,
                              struct fx_problem *pb, json_t **out);

struct fx_grant_filter {
    const char *org_id;    /* non-NULL: only grants where this org is developer or partner */
    const char *sector;    /* NULL: any */
    const char *state;     /* NULL: any */
    const char *notice_id; /* NULL: any */
    int64_t today;
    const char *before_id; /* cursor */
    int64_t limit;
};
/*
 * Grants newest first that keep(row, arg) allows (the gate; row is a const
 * struct fx_grant_row *). *rows_out malloc'd; *next_out (malloc'd) the cursor
 * when more remain, also after a page the gate left short (records/page.h).
 */
enum fx_err fx_grant_list(struct fx_db *db, const struct fx_grant_filter *f,
                          bool (*keep)(const void *row, void *arg), void *keep_arg,
                          struct fx_grant_row **rows_out, size_t *n_out, char **next_out);

extern const char *const fx_grant_states[]; /* NULL-terminated */

#endif
