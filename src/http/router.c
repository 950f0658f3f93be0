/*
 * router.c: the API map (SPEC §14) as one table. Adding an endpoint means one
 * line here, naming the query parameters it takes and, for a write, the action
 * its audit rows name, and a handler in api_*.c.
 */
#include "http/router.h"
#include "http/api.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

/*
 * The query parameters of the routes that take any (decision 0004: any other
 * is refused by name before the handler runs). Handlers read only these.
 */
static const char *const q_page[] = {"limit", "cursor", NULL};
static const char *const q_orgs[] = {"kind", "limit", "cursor", NULL};
static const char *const q_notices[] = {
    "status",         "developer", "short_notice", "release_after",
    "release_before", "limit",     "cursor",       NULL};
static const char *const q_audit[] = {"record", "user",  "org",    "since",
                                      "action", "limit", "cursor", NULL};
static const char *const q_grants[] = {"sector", "state", "notice", "limit", "cursor", NULL};
static const char *const q_deadlines[] = {"within", "kind", "limit", "cursor", NULL};
static const char *const q_incidents[] = {"tlp",  "status", "severity", "category", "reporter",
                                          "late", "since",  "limit",    "cursor",   NULL};
static const char *const q_inclusion[] = {"index", "size", NULL};
static const char *const q_consistency[] = {"from", "to", NULL};
/* TAXII 2.1 §3.4: the filters and pagination each endpoint supports */
static const char *const q_taxii_list[] = {
    "limit",          "added_after",         "next", "match[id]", "match[type]",
    "match[version]", "match[spec_version]", NULL};
static const char *const q_taxii_object[] = {"limit",          "added_after",         "next",
                                             "match[version]", "match[spec_version]", NULL};
static const char *const q_taxii_versions[] = {"limit", "added_after", "next",
                                               "match[spec_version]", NULL};
static const char *const q_taxii_delete[] = {"match[version]", "match[spec_version]", NULL};

static const struct fx_route routes[] = {
    {"GET", "/healthz", fx_api_healthz, FX_ROUTE_PUBLIC, NULL, NULL},
    {"GET", "/metrics", fx_api_metrics, FX_ROUTE_PUBLIC, NULL, NULL},
    {"GET", "/api/v1/openapi.json", fx_api_openapi, FX_ROUTE_PUBLIC, NULL, NULL},
    {"GET", "/api/v1/me", fx_api_me, 0, NULL, NULL},
    {"POST", "/api/v1/orgs", fx_api_org_create, 0, NULL, "org.create"},
    {"GET", "/api/v1/orgs", fx_api_org_list, 0, q_orgs, NULL},
    {"GET", "/api/v1/orgs/*", fx_api_org_get, 0, NULL, NULL},
    {"POST", "/api/v1/orgs/*/users", fx_api_user_create, 0, NULL, "user.create"},
    {"GET", "/api/v1/orgs/*/users", fx_api_user_list, 0, q_page, NULL},
    {"POST", "/api/v1/users/*/tokens", fx_api_token_create, 0, NULL, "token.create"},
    {"GET", "/api/v1/users/*/tokens", fx_api_token_list, 0, q_page, NULL},
    {"DELETE", "/api/v1/tokens/*", fx_api_token_revoke, 0, NULL, "token.revoke"},
    {"POST", "/api/v1/notices", fx_api_notice_create, FX_ROUTE_ASYNC, NULL, "notice.create"},
    {"GET", "/api/v1/notices", fx_api_notice_list, 0, q_notices, NULL},
    {"GET", "/api/v1/notices/*", fx_api_notice_get, 0, NULL, NULL},
    {"PATCH", "/api/v1/notices/*", fx_api_notice_amend, FX_ROUTE_ASYNC, NULL, "notice.amend"},
    {"POST", "/api/v1/notices/*/submit", fx_api_notice_submit, FX_ROUTE_ASYNC, NULL,
     "notice.submit"},
    {"POST", "/api/v1/notices/*/withdraw", fx_api_notice_withdraw, FX_ROUTE_ASYNC, NULL,
     "notice.withdraw"},
    {"POST", "/api/v1/notices/*/release", fx_api_notice_release, FX_ROUTE_ASYNC, NULL,
     "notice.release"},
    {"GET", "/api/v1/notices/*/versions", fx_api_notice_versions, 0, NULL, NULL},
    {"GET", "/api/v1/notices/*/versions/*", fx_api_notice_version, 0, NULL, NULL},
    {"GET", "/api/v1/notices/*/history", fx_api_notice_history, 0, NULL, NULL},
    {"GET", "/api/v1/notices/*/access-log", fx_api_notice_access_log, 0, q_page, NULL},
    {"GET", "/api/v1/audit", fx_api_audit_list, 0, q_audit, NULL},
    {"GET", "/api/v1/policy", fx_api_policy_get, 0, NULL, NULL},
    /* review process (SPEC §4–6) */
    {"PUT", "/api/v1/policy", fx_api_policy_put, 0, NULL, "policy.apply"},
    {"POST", "/api/v1/policy/check", fx_api_policy_check, 0, NULL, NULL},
    {"GET", "/api/v1/notices/*/screening", fx_api_notice_screening, 0, NULL, NULL},
    {"GET", "/api/v1/notices/*/screenings/*", fx_api_notice_screening_version, 0, NULL, NULL},
    {"POST", "/api/v1/notices/*/review", fx_api_notice_review, 0, NULL, "notice.review"},
    {"POST", "/api/v1/notices/*/determination", fx_api_notice_determine, 0, NULL,
     "notice.determine"},
    {"GET", "/api/v1/notices/*/determinations", fx_api_notice_determinations, 0, NULL, NULL},
    {"POST", "/api/v1/notices/*/reconsideration", fx_api_notice_reconsider, 0, NULL,
     "notice.reconsider"},
    {"POST", "/api/v1/notices/*/assessment", fx_api_assessment_open, 0, NULL, "assessment.open"},
    {"GET", "/api/v1/notices/*/assessment", fx_api_assessment_get, 0, NULL, NULL},
    {"POST", "/api/v1/assessments/*/tasks/*/start", fx_api_task_start, 0, NULL, "task.start"},
    {"POST", "/api/v1/assessments/*/tasks/*/complete", fx_api_task_complete, 0, NULL,
     "task.complete"},
    {"POST", "/api/v1/assessments/*/findings", fx_api_finding_create, 0, NULL, "finding.create"},
    {"GET", "/api/v1/assessments/*/findings", fx_api_finding_list, 0, NULL, NULL},
    {"GET", "/api/v1/assessments/*/findings/*", fx_api_finding_get, 0, NULL, NULL},
    {"POST", "/api/v1/assessments/*/outcome", fx_api_assessment_outcome, 0, NULL,
     "assessment.outcome"},
    {"POST", "/api/v1/notices/*/grants", fx_api_grant_propose, 0, NULL, "grant.propose"},
    {"GET", "/api/v1/grants", fx_api_grant_list, 0, q_grants, NULL},
    {"GET", "/api/v1/grants/*", fx_api_grant_get, 0, NULL, NULL},
    {"GET", "/api/v1/grants/*/versions/*", fx_api_grant_version, 0, NULL, NULL},
    {"POST", "/api/v1/grants/*/consent", fx_api_grant_consent, 0, NULL, "grant.consent"},
    {"POST", "/api/v1/grants/*/accept", fx_api_grant_accept, 0, NULL, "grant.accept"},
    {"POST", "/api/v1/grants/*/revoke", fx_api_grant_revoke, 0, NULL, "grant.revoke"},
    {"POST", "/api/v1/grants/*/feedback", fx_api_grant_feedback, 0, NULL, "grant.feedback"},
    {"GET", "/api/v1/deadlines", fx_api_deadlines, 0, q_deadlines, NULL},
    /* transparency log (SPEC §9): public */
    {"GET", "/api/v1/ledger/checkpoint", fx_api_ledger_checkpoint, FX_ROUTE_PUBLIC, NULL, NULL},
    {"GET", "/api/v1/ledger/key", fx_api_ledger_key, FX_ROUTE_PUBLIC, NULL, NULL},
    {"GET", "/api/v1/ledger/entries/*", fx_api_ledger_entry, FX_ROUTE_PUBLIC, NULL, NULL},
    {"GET", "/api/v1/ledger/proof/inclusion", fx_api_ledger_inclusion, FX_ROUTE_PUBLIC, q_inclusion,
     NULL},
    {"GET", "/api/v1/ledger/proof/consistency", fx_api_ledger_consistency, FX_ROUTE_PUBLIC,
     q_consistency, NULL},
    {"GET", "/api/v1/ledger/**", fx_api_ledger_tile, FX_ROUTE_PUBLIC, NULL, NULL},
    /* incidents and TAXII 2.1 (SPEC §7–8) */
    {"POST", "/api/v1/incidents", fx_api_incident_create, 0, NULL, "incident.report"},
    {"GET", "/api/v1/incidents", fx_api_incident_list, 0, q_incidents, NULL},
    {"GET", "/api/v1/incidents/*", fx_api_incident_get, 0, NULL, NULL},
    {"PATCH", "/api/v1/incidents/*", fx_api_incident_update, 0, NULL, "incident.update"},
    {"GET", "/api/v1/incidents/*/stix", fx_api_incident_stix, 0, NULL, NULL},
    {"GET", "/api/v1/incidents/*/versions", fx_api_incident_versions, 0, NULL, NULL},
    {"GET", "/api/v1/incidents/*/versions/*", fx_api_incident_version, 0, NULL, NULL},
    {"GET", "/api/v1/incidents/*/history", fx_api_incident_history, 0, NULL, NULL},
    {"GET", "/api/v1/incidents/*/access-log", fx_api_incident_access_log, 0, q_page, NULL},
    {"GET", "/taxii2/", fx_api_taxii_discovery, 0, NULL, NULL},
    {"GET", "/taxii2/fx/", fx_api_taxii_root, 0, NULL, NULL},
    {"GET", "/taxii2/fx/status/*/", fx_api_taxii_status, 0, NULL, NULL},
    {"GET", "/taxii2/fx/collections/", fx_api_taxii_collections, 0, NULL, NULL},
    {"GET", "/taxii2/fx/collections/*/", fx_api_taxii_collection, 0, NULL, NULL},
    {"GET", "/taxii2/fx/collections/*/manifest/", fx_api_taxii_manifest, 0, q_taxii_list, NULL},
    {"GET", "/taxii2/fx/collections/*/objects/", fx_api_taxii_objects, 0, q_taxii_list, NULL},
    {"POST", "/taxii2/fx/collections/*/objects/", fx_api_taxii_add, 0, NULL, "taxii.add"},
    {"GET", "/taxii2/fx/collections/*/objects/*/", fx_api_taxii_object, 0, q_taxii_object, NULL},
    {"DELETE", "/taxii2/fx/collections/*/objects/*/", fx_api_taxii_delete, 0, q_taxii_delete,
     "taxii.delete"},
    {"GET", "/taxii2/fx/collections/*/objects/*/versions/", fx_api_taxii_versions, 0,
     q_taxii_versions, NULL},

};

/* Matches pattern against path segment by segment; collects "*" segments. */
static int match(const char *pattern, const char *path, const char **starts, size_t *lens,
                 size_t *n)
{
    *n = 0;
    const char *p = pattern, *s = path;
    while (*p && *s) {
        if (*p != '/' || *s != '/')
            return 0;
        p++;
        s++;
        size_t seg = strcspn(s, "/");
        if (p[0] == '*' && p[1] == '*' && p[2] == '\0') {
            /* "**" takes the rest of the path (the C2SP tile paths) */
            if (*s == '\0' || *n == FX_MAX_PATH_PARAMS)
                return 0;
            starts[*n] = s;
            lens[*n] = strlen(s);
            (*n)++;
            return 1;
        }
        if (p[0] == '*' && (p[1] == '/' || p[1] == '\0')) {
            if (seg == 0 || *n == FX_MAX_PATH_PARAMS)
                return 0;
            starts[*n] = s;
            lens[*n] = seg;
            (*n)++;
            p++;
        } else {
            size_t pseg = strcspn(p, "/");
            if (pseg != seg || strncmp(p, s, seg) != 0)
                return 0;
            p += pseg;
        }
        s += seg;
    }
    return *p == '\0' && *s == '\0';
}

/* Whether the Allow list so far ("GET, HEAD, POST") names method. */
static bool has_method(const char *allow, const char *method)
{
    size_t n = strlen(method);
    for (const char *p = allow; *p != '\0';) {
        size_t len = strcspn(p, ",");
        if (len == n && strncmp(p, method, n) == 0)
            return true;
        p += len;
        if (*p == ',')
            p += 2; /* ", " */
    }
    return false;
}

const struct fx_route *fx_router_match(struct fx_req *req, const char *method, const char *path,
                                       int *path_known, char *allow, size_t n)
{
    const char *starts[FX_MAX_PATH_PARAMS];
    size_t lens[FX_MAX_PATH_PARAMS], np = 0;
    *path_known = 0;
    allow[0] = '\0';
    size_t used = 0;
    /* RFC 9110 §9.3.2: HEAD wherever GET, answered as GET without the body
     * (libmicrohttpd sends no body to a HEAD request, and keeps Content-Length) */
    const char *as = strcmp(method, "HEAD") == 0 ? "GET" : method;
    for (size_t i = 0; i < FX_ARRAY_LEN(routes); i++) {
        if (!match(routes[i].pattern, path, starts, lens, &np))
            continue;
        if (strcmp(routes[i].method, as) == 0) {
            for (size_t k = 0; k < np; k++)
                req->params[k] = fx_arena_strndup(&req->arena, starts[k], lens[k]);
            req->n_params = np;
            return &routes[i];
        }
        *path_known = 1;
        if (has_method(allow, routes[i].method)) /* a path two patterns match: each name once */
            continue;
        bool get = strcmp(routes[i].method, "GET") == 0;
        int w = snprintf(allow + used, n - used, "%s%s%s", used ? ", " : "", routes[i].method,
                         get ? ", HEAD" : "");
        if (w > 0 && (size_t)w < n - used)
            used += (size_t)w;
    }
    return NULL;
}

const struct fx_route *fx_router_table(size_t *n_out)
{
    *n_out = FX_ARRAY_LEN(routes);
    return routes;
}
