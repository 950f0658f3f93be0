/*
 * incident.h: security-breach incidents (SPEC §7): validation, versions,
 * the late flag, sharing lists, and each version as STIX 2.1 objects.
 *
 * Every version is a canonical JSON document sealed under the reporter org's
 * data key (SPEC §11), with the record id and version as associated data; the
 * bytes served at /incidents/{id}/versions/{n} are exactly the bytes sealed,
 * and their SHA-256 is the ledger leaf's content hash (SPEC §9). The plain
 * columns are what lists filter on and what the TLP gate needs: tlp, status,
 * severity, category, reporter org and times; the sharing lists are plain
 * too, because the gate reads them on every access.
 */
#ifndef FX_INCIDENT_H
#define FX_INCIDENT_H

#include "auth/access.h"
#include "auth/principal.h"
#include "common/problem.h"
#include "crypto/keyring.h"
#include "ledger/signer.h"
#include "policy/policy.h"
#include "store/store.h"

#include <jansson.h>
#include <stdbool.h>

/* ---- validation (incident.c): pure ---- */

/* The plain values of validated fields, borrowed from the clean document. */
struct fx_incident_fields {
    const char *title, *category, *severity, *status, *tlp;
    int64_t detected_at;  /* ms */
    bool has_occurred;
    int64_t occurred_at;  /* ms */
    json_t *share_with;       /* borrowed array of org ids (may be empty) */
    json_t *share_with_users; /* borrowed array of user ids (may be empty) */
};

/*
 * Validates a complete set of incident fields (a report, or an update merged
 * onto the current version): the fields SPEC §7 requires, their forms, every
 * indicator's STIX pattern (the problem names /indicators/N/pattern), and
 * which sharing list fits the TLP. On FX_OK *clean_out is a new object rebuilt
 * from validated values only, and *f its plain values. Problems go to pb.
 */
enum fx_err fx_incident_validate(const json_t *fields, struct fx_problem *pb, json_t **clean_out,
                                 struct fx_incident_fields *f);

/* ---- persistence (incident_db.c) ---- */

struct fx_incident_row {
    char id[37];
    char ref[16];
    char org_id[37];
    char tlp[16];
    char status[16];
    char severity[16];
    char category[32];
    int64_t version;
    char etag[48];
    bool has_occurred;
    int64_t occurred_at, detected_at, reported_at; /* ms */
    bool late;
    char policy_sha256[65];
    char created_by[37];
    int64_t created_at, updated_at;
    /* the sharing lists, for the gate: owned (fx_incident_row_cleanup) */
    char **share_orgs;
    size_t n_share_orgs;
    char **share_users;
    size_t n_share_users;
};
void fx_incident_row_cleanup(struct fx_incident_row *r);

/* The row as the gate (src/auth/access.c) sees it: TLP, reporter, sharing lists (borrowed). */
void fx_incident_subject(const struct fx_incident_row *r, struct fx_subject *s);

/* Everything a write needs besides its own arguments. */
struct fx_incident_env {
    struct fx_keyring *keys;        /* borrowed */
    const struct fx_signer *signer; /* borrowed */
    const struct fx_principal *who; /* borrowed */
    int64_t now;                    /* ms */
    json_t *receipts;               /* borrowed array: each ledger leaf's receipt is appended */
    json_t *publish;                /* borrowed array: the STIX objects this write versioned */
};

/* Loads the row (and sharing lists) by UUID or FXI reference. FX_ENOTFOUND when absent. */
enum fx_err fx_incident_load(struct fx_db *db, const char *id_or_ref, struct fx_incident_row *out);

/*
 * Reports an incident (version 1) from validated fields: stamps reported_at
 * (env->now), the late flag under pol, checks that the orgs and users shared
 * with exist (FX_EINVAL, problems in pb), appends the ledger leaf and the
 * history event, and adds the version's STIX objects to env->publish.
 */
enum fx_err fx_incident_create(struct fx_db *db, const struct fx_incident_env *env,
                               json_t *clean, const struct fx_incident_fields *f,
                               const struct fx_policy *pol, struct fx_problem *pb,
                               struct fx_incident_row *row_out);

/* The fields of the current version (what an update merges onto), new reference. */
enum fx_err fx_incident_fields_of(struct fx_db *db, struct fx_keyring *kr,
                                  const struct fx_incident_row *row, json_t **out);

/* Appends version row->version + 1 (change_reason may be NULL). Updates *row. */
enum fx_err fx_incident_update(struct fx_db *db, const struct fx_incident_env *env,
                               struct fx_incident_row *row, json_t *clean,
                               const struct fx_incident_fields *f, const char *change_reason,
                               const struct fx_policy *pol, struct fx_problem *pb);

/* The API view: the current fields and metadata (new reference). */
enum fx_err fx_incident_view(struct fx_db *db, struct fx_keyring *kr,
                             const struct fx_incident_row *row, json_t **out);
/* The exact stored bytes of version n (malloc'd). FX_ENOTFOUND when there is no such version. */
enum fx_err fx_incident_version_bytes(struct fx_db *db, struct fx_keyring *kr,
                                      const struct fx_incident_row *row, int64_t n, char **out,
                                      size_t *len_out);
/* The versions, oldest first, and the history events, oldest first (new references). */
enum fx_err fx_incident_versions(struct fx_db *db, struct fx_keyring *kr,
                                 const struct fx_incident_row *row, json_t **out);
enum fx_err fx_incident_history(struct fx_db *db, struct fx_keyring *kr,
                                const struct fx_incident_row *row, json_t **out);
/* The current version as a STIX 2.1 bundle (SPEC §7), new reference. */
enum fx_err fx_incident_bundle(struct fx_db *db, struct fx_keyring *kr,
                               const struct fx_incident_row *row, json_t **out);

struct fx_incident_filter {
    const char *scope_org;   /* the caller's org: the query's own scope is the gate's job */
    const char *tlp, *status, *severity, *category, *reporter; /* NULL: any */
    int late;                /* -1 any, 0, 1 */
    bool has_since;
    int64_t since;           /* ms: reported at or after */
    const char *before_id;   /* cursor: ids below this; NULL from the newest */
    int64_t limit;
};

/*
 * Lists incidents newest first; keep(row, arg) is the gate, asked for every
 * row (rows it refuses are skipped and never counted). *rows_out malloc'd
 * array of *n_out rows (each cleaned up by the caller, then the array freed);
 * *next_out (malloc'd) the cursor when more remain, else NULL.
 */
enum fx_err fx_incident_list(struct fx_db *db, const struct fx_incident_filter *f,
                             bool (*keep)(const struct fx_incident_row *, void *), void *keep_arg,
                             struct fx_incident_row **rows_out, size_t *n_out, char **next_out);

/*
 * The ids of incidents shared with an org or a user (share_with or
 * share_with_users), sorted: what a TAXII page needs to ask the gate about
 * many incidents at once. *ids_out malloc'd array of 37-byte ids.
 */
enum fx_err fx_incident_shared_with(struct fx_db *db, const char *org_id, const char *user_id,
                                    char (**ids_out)[37], size_t *n_out);

/*
 * The caller's place in the sharing lists of every incident, loaded once in a
 * read that asks the gate about many incidents (TAXII pages, deadlines): the
 * gate needs of an incident's lists only whether they name the caller.
 */
struct fx_incident_shares {
    char (*by_org)[37];  /* owned, sorted: incidents shared with the caller's org */
    size_t n_by_org;
    char (*by_user)[37]; /* owned, sorted: incidents shared with the caller by name */
    size_t n_by_user;
    const char *org, *user; /* borrowed from the principal: what the subjects point to */
};
enum fx_err fx_incident_shares_load(struct fx_db *db, const struct fx_principal *who,
                                    struct fx_incident_shares *out);
void fx_incident_shares_cleanup(struct fx_incident_shares *sh);
/*
 * The gate's subject (SPEC §7) for incident_id, reported by org_id under tlp
 * (all borrowed, as is sh, which must outlive s): its sharing lists hold the
 * caller when they name the caller, and nothing else.
 */
void fx_incident_shares_subject(const struct fx_incident_shares *sh, const char *incident_id,
                                const char *org_id, const char *tlp, struct fx_subject *s);

#endif
