/*
 * principal.c: names of org kinds, roles and missions, both ways.
 */
#include "auth/principal.h"

#include <string.h>

static const char *const kinds[] = {"coordinator", "agency", "developer", "operator"};
static const char *const roles[] = {"admin", "member", "reviewer", "viewer"};
static const char *const missions[] = {"", "civilian", "national_security"};

const char *fx_org_kind_name(enum fx_org_kind k)
{
    return kinds[k];
}

const char *fx_role_name(enum fx_role r)
{
    return roles[r];
}

const char *fx_mission_name(enum fx_mission m)
{
    return m == FX_MISSION_NONE ? NULL : missions[m];
}

static int find(const char *s, const char *const *names, int n, int from)
{
    if (s == NULL)
        return -1;
    for (int i = from; i < n; i++)
        if (strcmp(s, names[i]) == 0)
            return i;
    return -1;
}

int fx_org_kind_parse(const char *s)
{
    return find(s, kinds, 4, 0);
}

int fx_role_parse(const char *s)
{
    return find(s, roles, 4, 0);
}

int fx_mission_parse(const char *s)
{
    return find(s, missions, 3, 1);
}
