/*
 * access.h: the need-to-know gate (SPEC §2). Every handler asks here, and
 * only here, whether the caller may read or act on a record. The answer is
 * FX_OK, FX_ENOTFOUND (the caller may not even learn that the record exists:
 * the API answers 404) or FX_EFORBIDDEN (the caller may read it but not do
 * this: 403). List queries take their scope from here too, and every listed
 * row is passed through the same check before it is shown.
 */
#ifndef FX_ACCESS_H
#define FX_ACCESS_H

#include "auth/principal.h"
#include "common/fx.h"

#include <stdbool.h>

enum fx_rec_kind {
    FX_REC_ORG,
    FX_REC_USER,
    FX_REC_NOTICE,
    FX_REC_AUDIT,
    /* the review process (SPEC §4-6) */
    FX_REC_SCREENING,  /* a notice's screening and determinations: read as the notice */
    FX_REC_ASSESSMENT, /* an assessment and its tasks */
    FX_REC_FINDING,    /* a finding: read by its marking */
    FX_REC_GRANT,      /* a trusted-partner access grant */
    FX_REC_POLICY,     /* the active policy */
    /* incidents and TAXII 2.1 (SPEC §7-8) */
    FX_REC_INCIDENT,     /* an incident, its versions, history and STIX objects: by TLP */
    FX_REC_STIX,         /* a STIX object posted to an org's TAXII collection: by its marking */
    FX_REC_COLLECTION,   /* a TAXII collection: "incidents" (org_id NULL) or an org's own */
    FX_REC_TAXII_STATUS, /* the status of a TAXII envelope: the posting org's */
};

enum fx_act {
    FX_ACT_READ,
    FX_ACT_CREATE,     /* create a record of this kind (in subject->org_id for users) */
    FX_ACT_EDIT,       /* amend, submit, withdraw, release: the owner's own actions */
    FX_ACT_MANAGE,     /* users and tokens: admin actions */
    FX_ACT_ISSUE,      /* a new token for a user: it will act as that user */
    FX_ACT_ACCESS_LOG, /* who read the record */
    FX_ACT_REVIEW,     /* take up, determine, open an assessment, record its outcome */
    FX_ACT_RECONSIDER, /* the developer asks for reconsideration of a determination */
    FX_ACT_TASK,       /* start or complete an agency's assessment task */
    FX_ACT_CONSENT,    /* a grant: developer or coordinator consents */
    FX_ACT_ACCEPT,     /* a grant: the partner accepts the terms */
    FX_ACT_REVOKE,     /* a grant: developer or coordinator revokes */
    FX_ACT_FEEDBACK,   /* a grant: the partner files feedback */
    FX_ACT_CHECK,      /* a policy: dry run */
    FX_ACT_APPLY,      /* a policy: make it the active one */
};

/* The record as the gate sees it. Strings are borrowed. */
struct fx_subject {
    enum fx_rec_kind kind;
    const char *org_id;   /* the owning org */
    const char *user_id;  /* for users and tokens: the user */
    bool tokenless;       /* for FX_ACT_ISSUE: the user has never held a token */
    const char *status;   /* for notices: drafts are the developer's alone */
    bool agency_assigned; /* for notices: the caller's agency is assigned to the assessment */
    const char *marking;     /* findings: shared_with_developer, government_only, ... */
    const char *agency_org;  /* assessment tasks: the task's agency */
    const char *partner_org; /* grants: the operator org */
    bool approved;           /* grants: both sides consented (the partner may know of it) */
    const char *tlp;                /* incidents, STIX objects: CLEAR ... RED (NULL: RED) */
    const char *const *share_orgs;  /* incidents: share_with (AMBER, AMBER+STRICT) */
    size_t n_share_orgs;
    const char *const *share_users; /* incidents: share_with_users (RED) */
    size_t n_share_users;
};

enum fx_err fx_access_check(const struct fx_principal *p, enum fx_act act,
                            const struct fx_subject *s);

/* What a notice list may contain for this caller. */
enum fx_scope {
    FX_SCOPE_NONE,           /* nothing */
    FX_SCOPE_OWN_ORG,        /* the caller's org's records */
    FX_SCOPE_ALL_SUBMITTED,  /* every record but other orgs' drafts */
    FX_SCOPE_ASSIGNED,       /* records the caller's agency is assigned to */
};
enum fx_scope fx_access_notice_scope(const struct fx_principal *p);

/* Audit trail: FX_OK with *all true (coordinator admin) or false (own org only); FX_EFORBIDDEN. */
enum fx_err fx_access_audit_scope(const struct fx_principal *p, bool *all_out);

/* True when a read by p of a record owned by org_id is a read from outside (SPEC §10). */
bool fx_access_is_outside_read(const struct fx_principal *p, const char *org_id);

#endif
