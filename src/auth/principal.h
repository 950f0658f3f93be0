/*
 * principal.h: who is calling: user, role, org and org kind, as resolved from
 * a token by src/auth/token.c. Plain values, copied into each request.
 */
#ifndef FX_PRINCIPAL_H
#define FX_PRINCIPAL_H

enum fx_org_kind { FX_ORG_COORDINATOR, FX_ORG_AGENCY, FX_ORG_DEVELOPER, FX_ORG_OPERATOR };
enum fx_role { FX_ROLE_ADMIN, FX_ROLE_MEMBER, FX_ROLE_REVIEWER, FX_ROLE_VIEWER };
enum fx_mission { FX_MISSION_NONE, FX_MISSION_CIVILIAN, FX_MISSION_NATIONAL_SECURITY };

struct fx_principal {
    char user_id[37];
    char org_id[37];
    char token_id[37];
    enum fx_role role;
    enum fx_org_kind kind;
    enum fx_mission mission;
};

const char *fx_org_kind_name(enum fx_org_kind k);
const char *fx_role_name(enum fx_role r);
const char *fx_mission_name(enum fx_mission m);
/* Parse the names above; return -1 when unknown. */
int fx_org_kind_parse(const char *s);
int fx_role_parse(const char *s);
int fx_mission_parse(const char *s);

#endif
