/*
 * access.c: the need-to-know rules of SPEC §2 in one place. Tests walk the
 * role × record matrix through the real server (tests/integration/
 * test_need_to_know.py); this file is what they test.
 */
#include "auth/access.h"

#include <string.h>

static bool same_org(const struct fx_principal *p, const char *org_id)
{
    return org_id && strcmp(p->org_id, org_id) == 0;
}

static bool coordinator_admin(const struct fx_principal *p)
{
    return p->kind == FX_ORG_COORDINATOR && p->role == FX_ROLE_ADMIN;
}

static bool writer_role(const struct fx_principal *p)
{
    return p->role == FX_ROLE_ADMIN || p->role == FX_ROLE_MEMBER;
}

static enum fx_err notice_read(const struct fx_principal *p, const struct fx_subject *s)
{
    if (same_org(p, s->org_id))
        return FX_OK;
    bool draft = s->status && strcmp(s->status, "draft") == 0;
    if (draft)
        return FX_ENOTFOUND;
    if (p->kind == FX_ORG_COORDINATOR)
        return FX_OK;
    if (p->kind == FX_ORG_AGENCY && s->agency_assigned)
        return FX_OK;
    return FX_ENOTFOUND;
}

/* SPEC §4: screening, determination and the assessment are the coordinator reviewer's acts. */
static bool coordinator_reviewer(const struct fx_principal *p)
{
    return p->kind == FX_ORG_COORDINATOR && p->role == FX_ROLE_REVIEWER;
}

/* SPEC §6: grants are proposed, consented to and revoked by the coordinator (any role that
 * acts: not a viewer) or by the developer's members and admins. */
static bool grant_side(const struct fx_principal *p, const struct fx_subject *s)
{
    if (p->kind == FX_ORG_COORDINATOR)
        return p->role != FX_ROLE_VIEWER;
    return same_org(p, s->org_id) && writer_role(p);
}

static enum fx_err notice(const struct fx_principal *p, enum fx_act act, const struct fx_subject *s)
{
    if (act == FX_ACT_CREATE)
        return p->kind == FX_ORG_DEVELOPER && writer_role(p) ? FX_OK : FX_EFORBIDDEN;
    enum fx_err err = notice_read(p, s);
    if (err != FX_OK || act == FX_ACT_READ)
        return err;
    switch (act) {
    case FX_ACT_EDIT:
        return same_org(p, s->org_id) && writer_role(p) ? FX_OK : FX_EFORBIDDEN;
    case FX_ACT_ACCESS_LOG:
        if (same_org(p, s->org_id) && p->role == FX_ROLE_ADMIN)
            return FX_OK;
        return p->kind == FX_ORG_COORDINATOR ? FX_OK : FX_EFORBIDDEN;
    case FX_ACT_REVIEW:
        return coordinator_reviewer(p) ? FX_OK : FX_EFORBIDDEN;
    case FX_ACT_RECONSIDER:
        return same_org(p, s->org_id) && writer_role(p) ? FX_OK : FX_EFORBIDDEN;
    default:
        return FX_EFORBIDDEN;
    }
}

/*
 * An assessment is read as its notice (SPEC §2: developer, coordinator, assigned
 * agencies). Its tasks move only by the reviewers of the task's own agency; findings
 * are written by reviewers of an assigned agency; the outcome is the coordinator's.
 */
static enum fx_err assessment(const struct fx_principal *p, enum fx_act act,
                              const struct fx_subject *s)
{
    enum fx_err err = notice_read(p, s);
    if (err != FX_OK || act == FX_ACT_READ)
        return err;
    bool agency_reviewer = p->kind == FX_ORG_AGENCY && p->role == FX_ROLE_REVIEWER;
    switch (act) {
    case FX_ACT_REVIEW:
        return coordinator_reviewer(p) ? FX_OK : FX_EFORBIDDEN;
    case FX_ACT_TASK:
        return agency_reviewer && same_org(p, s->agency_org) ? FX_OK : FX_EFORBIDDEN;
    case FX_ACT_CREATE: /* a finding */
        return agency_reviewer && s->agency_assigned ? FX_OK : FX_EFORBIDDEN;
    default:
        return FX_EFORBIDDEN;
    }
}

/*
 * SPEC §2 findings by marking: the coordinator and assigned agencies read every
 * finding but national_security_only ones, which need an assigned agency whose
 * mission is national_security; the developer reads shared_with_developer only.
 * Anyone else may not learn that a finding exists. Findings are never changed.
 */
static enum fx_err finding(const struct fx_principal *p, enum fx_act act,
                           const struct fx_subject *s)
{
    const char *m = s->marking ? s->marking : "";
    bool natsec_only = strcmp(m, "national_security_only") == 0;
    bool readable = false;
    if (p->kind == FX_ORG_COORDINATOR)
        readable = true;
    else if (p->kind == FX_ORG_AGENCY && s->agency_assigned)
        readable = !natsec_only || p->mission == FX_MISSION_NATIONAL_SECURITY;
    else if (same_org(p, s->org_id))
        readable = strcmp(m, "shared_with_developer") == 0;
    if (!readable)
        return FX_ENOTFOUND;
    return act == FX_ACT_READ ? FX_OK : FX_EFORBIDDEN;
}

/*
 * SPEC §2, §6 grants: the developer, the coordinator and the partner read them; the
 * partner only once both sides have consented (a proposal that was never approved is
 * not the partner's business). Proposing needs the notice to be readable.
 */
static enum fx_err grant(const struct fx_principal *p, enum fx_act act, const struct fx_subject *s)
{
    if (act == FX_ACT_CREATE) {
        enum fx_err err = notice_read(p, s);
        if (err != FX_OK)
            return err;
        return grant_side(p, s) ? FX_OK : FX_EFORBIDDEN;
    }
    bool partner = same_org(p, s->partner_org);
    if (!same_org(p, s->org_id) && p->kind != FX_ORG_COORDINATOR && !(partner && s->approved))
        return FX_ENOTFOUND;
    switch (act) {
    case FX_ACT_READ:
        return FX_OK;
    case FX_ACT_CONSENT:
    case FX_ACT_REVOKE:
        return grant_side(p, s) ? FX_OK : FX_EFORBIDDEN;
    case FX_ACT_ACCEPT:
    case FX_ACT_FEEDBACK:
        return partner && writer_role(p) ? FX_OK : FX_EFORBIDDEN;
    default:
        return FX_EFORBIDDEN;
    }
}

/* SPEC §14: any caller reads the policy; coordinator reviewers (and admins) dry-run a new
 * one; only coordinator admins make one active. */
static enum fx_err policy(const struct fx_principal *p, enum fx_act act)
{
    switch (act) {
    case FX_ACT_READ:
        return FX_OK;
    case FX_ACT_CHECK:
        return coordinator_reviewer(p) || coordinator_admin(p) ? FX_OK : FX_EFORBIDDEN;
    case FX_ACT_APPLY:
        return coordinator_admin(p) ? FX_OK : FX_EFORBIDDEN;
    default:
        return FX_EFORBIDDEN;
    }
}

static bool in_list(const char *const *list, size_t n, const char *v)
{
    for (size_t i = 0; i < n; i++)
        if (list[i] && strcmp(list[i], v) == 0)
            return true;
    return false;
}

/*
 * SPEC §7, TLP 2.0: CLEAR, every authenticated user; GREEN, every organization
 * of the community (every user belongs to one, so the two read alike here);
 * AMBER, the reporter org, the coordinator and the orgs in share_with;
 * AMBER+STRICT, the reporter org and the orgs in share_with only; RED, the
 * reporter org and the users named in share_with_users only. A marking the
 * gate does not know reads as RED: it fails closed.
 */
static bool tlp_readable(const struct fx_principal *p, const struct fx_subject *s)
{
    const char *t = s->tlp ? s->tlp : "RED";
    if (same_org(p, s->org_id))
        return true;
    if (strcmp(t, "CLEAR") == 0 || strcmp(t, "GREEN") == 0)
        return true;
    if (strcmp(t, "AMBER") == 0)
        return p->kind == FX_ORG_COORDINATOR || in_list(s->share_orgs, s->n_share_orgs, p->org_id);
    if (strcmp(t, "AMBER+STRICT") == 0)
        return in_list(s->share_orgs, s->n_share_orgs, p->org_id);
    return in_list(s->share_users, s->n_share_users, p->user_id);
}

/*
 * SPEC §7: any organization's members and admins report incidents; those of
 * the reporter org update them; whoever the marking admits reads them, their
 * versions, history and STIX objects. Reporter admins and coordinator admins
 * (when the marking admits the coordinator) see who read one.
 */
static enum fx_err incident(const struct fx_principal *p, enum fx_act act,
                            const struct fx_subject *s)
{
    if (act == FX_ACT_CREATE)
        return writer_role(p) ? FX_OK : FX_EFORBIDDEN;
    if (!tlp_readable(p, s))
        return FX_ENOTFOUND;
    switch (act) {
    case FX_ACT_READ:
        return FX_OK;
    case FX_ACT_EDIT:
        return same_org(p, s->org_id) && writer_role(p) ? FX_OK : FX_EFORBIDDEN;
    case FX_ACT_ACCESS_LOG:
        if (same_org(p, s->org_id) && p->role == FX_ROLE_ADMIN)
            return FX_OK;
        return coordinator_admin(p) ? FX_OK : FX_EFORBIDDEN;
    default:
        return FX_EFORBIDDEN;
    }
}

/*
 * SPEC §8 TAXII: STIX objects posted by an org follow §7 by the TLP marking
 * they carry (share lists are an incident's: a posted object has none). The
 * posting org's members and admins delete them. Every caller reads the
 * "incidents" collection and every org's collection (objects filtered by
 * marking); only an org's own members and admins add to its collection; no
 * one adds to "incidents", which FX fills from incidents. A status resource
 * is the posting org's alone.
 */
static enum fx_err taxii(const struct fx_principal *p, enum fx_act act,
                         const struct fx_subject *s)
{
    switch (s->kind) {
    case FX_REC_STIX:
        if (!tlp_readable(p, s))
            return FX_ENOTFOUND;
        if (act == FX_ACT_READ)
            return FX_OK;
        return act == FX_ACT_EDIT && same_org(p, s->org_id) && writer_role(p) ? FX_OK
                                                                               : FX_EFORBIDDEN;
    case FX_REC_COLLECTION:
        if (act == FX_ACT_READ)
            return FX_OK;
        return (act == FX_ACT_CREATE || act == FX_ACT_EDIT) && same_org(p, s->org_id) &&
                       writer_role(p)
                   ? FX_OK
                   : FX_EFORBIDDEN;
    case FX_REC_TAXII_STATUS:
        if (!same_org(p, s->org_id))
            return FX_ENOTFOUND;
        return act == FX_ACT_READ ? FX_OK : FX_EFORBIDDEN;
    default:
        return FX_EFORBIDDEN;
    }
}

/* Users and their tokens: visible to their own org and to coordinator admins. */
static enum fx_err user(const struct fx_principal *p, enum fx_act act, const struct fx_subject *s)
{
    bool mine = same_org(p, s->org_id);
    if (!mine && !coordinator_admin(p))
        return act == FX_ACT_CREATE ? FX_EFORBIDDEN : FX_ENOTFOUND;
    switch (act) {
    case FX_ACT_READ:
        return FX_OK;
    case FX_ACT_CREATE:
        return coordinator_admin(p) || (mine && p->role == FX_ROLE_ADMIN) ? FX_OK
                                                                           : FX_EFORBIDDEN;
    case FX_ACT_MANAGE:
        if (s->user_id && strcmp(s->user_id, p->user_id) == 0)
            return FX_OK; /* one's own tokens */
        return coordinator_admin(p) || (mine && p->role == FX_ROLE_ADMIN) ? FX_OK
                                                                           : FX_EFORBIDDEN;
    case FX_ACT_ISSUE:
        /* SPEC §14: the user, or its org's admin. The coordinator admin, who makes
         * an org's first users, issues each its first token (there is no other way
         * in yet); a token for a user who holds one would let it act as that user
         * (docs/decisions/0013-who-issues-tokens.md). */
        if ((s->user_id && strcmp(s->user_id, p->user_id) == 0) ||
            (mine && p->role == FX_ROLE_ADMIN) || (coordinator_admin(p) && s->tokenless))
            return FX_OK;
        return FX_EFORBIDDEN;
    default:
        return FX_EFORBIDDEN;
    }
}

enum fx_err fx_access_check(const struct fx_principal *p, enum fx_act act,
                            const struct fx_subject *s)
{
    switch (s->kind) {
    case FX_REC_ORG:
        if (act == FX_ACT_READ)
            return FX_OK; /* the directory of participants is known to all of them */
        return act == FX_ACT_CREATE && coordinator_admin(p) ? FX_OK : FX_EFORBIDDEN;
    case FX_REC_USER:
        return user(p, act, s);
    case FX_REC_NOTICE:
        return notice(p, act, s);
    case FX_REC_AUDIT: {
        bool all;
        return fx_access_audit_scope(p, &all);
    }
    case FX_REC_SCREENING: {
        enum fx_err err = notice_read(p, s);
        return err != FX_OK || act == FX_ACT_READ ? err : FX_EFORBIDDEN;
    }
    case FX_REC_ASSESSMENT:
        return assessment(p, act, s);
    case FX_REC_FINDING:
        return finding(p, act, s);
    case FX_REC_GRANT:
        return grant(p, act, s);
    case FX_REC_POLICY:
        return policy(p, act);
    case FX_REC_INCIDENT:
        return incident(p, act, s);
    case FX_REC_STIX:
    case FX_REC_COLLECTION:
    case FX_REC_TAXII_STATUS:
        return taxii(p, act, s);
    }
    return FX_EFORBIDDEN;
}

enum fx_scope fx_access_notice_scope(const struct fx_principal *p)
{
    switch (p->kind) {
    case FX_ORG_DEVELOPER: return FX_SCOPE_OWN_ORG;
    case FX_ORG_COORDINATOR: return FX_SCOPE_ALL_SUBMITTED;
    case FX_ORG_AGENCY: return FX_SCOPE_ASSIGNED;
    case FX_ORG_OPERATOR: return FX_SCOPE_NONE;
    }
    return FX_SCOPE_NONE;
}

enum fx_err fx_access_audit_scope(const struct fx_principal *p, bool *all_out)
{
    *all_out = false;
    if (p->role != FX_ROLE_ADMIN)
        return FX_EFORBIDDEN;
    *all_out = p->kind == FX_ORG_COORDINATOR;
    return FX_OK;
}

bool fx_access_is_outside_read(const struct fx_principal *p, const char *org_id)
{
    return !same_org(p, org_id);
}
