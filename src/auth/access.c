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
