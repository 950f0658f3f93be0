/*
 * incident.c: incidents without the store (SPEC §7): validation of fields,
 * the stable STIX identity of each indicator across versions, and a version
 * as STIX 2.1 objects. Pure functions: whatever they return is new and the
 * caller's; they never keep a pointer.
 */
#include "records/incident.h"
#include "records/incident_int.h"
#include "common/json.h"
#include "common/limits.h"
#include "common/parse.h"
#include "taxii/pattern.h"
#include "taxii/stix.h"

#include <sodium.h>
#include <stdio.h>
#include <string.h>

static const char *const categories[] = {"intrusion",
                                          "model_weight_exfiltration",
                                          "model_misuse",
                                          "data_breach",
                                          "vulnerability_exploitation",
                                          "supply_chain",
                                          "other",
                                          NULL};
static const char *const severities[] = {"info", "low", "medium", "high", "critical", NULL};
static const char *const statuses[] = {"open", "contained", "resolved", NULL};
static const char *const sectors[] = {
    "chemical",          "commercial_facilities",   "communications",
    "critical_manufacturing", "dams",               "defense_industrial_base",
    "emergency_services", "energy",                 "financial_services",
    "food_agriculture",  "government_facilities",   "healthcare_public_health",
    "information_technology", "nuclear",            "transportation",
    "water_wastewater",  NULL};
static const char *const top_keys[] = {
    "title",       "category",   "occurred_at", "detected_at", "severity",   "status",
    "affected",    "description", "indicators", "tlp",         "share_with", "share_with_users",
    NULL};

/* An RFC 3339 time field, rewritten in the clean document in FX's form. */
static void time_field(const json_t *in, json_t *clean, const char *key, bool required,
                       struct fx_problem *pb, int64_t *ms, bool *present)
{
    const char *s = NULL;
    bool has = false;
    char ptr[64];
    snprintf(ptr, sizeof(ptr), "/%s", key);
    *present = false;
    fx_json_get_str(in, key, "", required, FX_MAX_SHORT_STRING, pb, &s, &has);
    if (!has)
        return;
    if (fx_parse_time(s, strlen(s), ms) != FX_OK) {
        fx_problem_add(pb, ptr, "must be an RFC 3339 time, e.g. 2026-03-02T12:00:00Z");
        return;
    }
    char t[25];
    fx_format_time(*ms, t);
    json_object_set_new(clean, key, json_string(t));
    *present = true;
}

/* A list of distinct non-empty strings, each checked by ok (NULL: any) and lowercased ids. */
static json_t *string_list(const json_t *in, const char *key, const char *ptr, size_t max,
                           const char *const *allowed, bool ids, struct fx_problem *pb)
{
    json_t *v = json_object_get(in, key);
    char field[128];
    fx_json_ptr(field, sizeof(field), ptr, key);
    if (v == NULL || json_is_null(v))
        return NULL;
    if (!json_is_array(v)) {
        fx_problem_add(pb, field, "must be a list");
        return NULL;
    }
    if (json_array_size(v) > max) {
        fx_problem_add(pb, field, "more than %zu items", max);
        return NULL;
    }
    json_t *out = json_array();
    size_t i;
    json_t *e;
    json_array_foreach(v, i, e)
    {
        char item[160];
        snprintf(item, sizeof(item), "%s/%zu", field, i);
        const char *s = json_string_value(e);
        size_t n = s ? json_string_length(e) : 0;
        if (s == NULL || n == 0 || n > FX_MAX_SHORT_STRING) {
            fx_problem_add(pb, item, "must be a non-empty string of at most %d bytes",
                           FX_MAX_SHORT_STRING);
            continue;
        }
        if (allowed && !fx_json_in(s, allowed)) {
            fx_problem_add(pb, item, "not an allowed value");
            continue;
        }
        char low[40];
        if (ids) {
            if (!fx_uuid_valid(s, n)) {
                fx_problem_add(pb, item, "must be an id (UUID)");
                continue;
            }
            for (size_t k = 0; k <= n; k++)
                low[k] = (char)(s[k] >= 'A' && s[k] <= 'F' ? s[k] - 'A' + 'a' : s[k]);
            s = low;
        }
        bool dup = false;
        size_t j;
        json_t *o;
        json_array_foreach(out, j, o) dup = dup || strcmp(json_string_value(o), s) == 0;
        if (dup)
            fx_problem_add(pb, item, "listed twice");
        else
            json_array_append_new(out, json_string(s));
    }
    return out;
}

static void validate_affected(const json_t *in, json_t *clean, struct fx_problem *pb)
{
    static const char *const keys[] = {"models", "systems", "sectors", NULL};
    json_t *a = json_object_get(in, "affected");
    if (a == NULL || json_is_null(a))
        return;
    if (!json_is_object(a)) {
        fx_problem_add(pb, "/affected", "must be an object {models, systems, sectors}");
        return;
    }
    fx_json_only_keys(a, keys, "/affected", pb);
    json_t *out = json_object();
    for (size_t i = 0; keys[i]; i++) {
        json_t *l = string_list(a, keys[i], "/affected", FX_MAX_LIST_ITEMS,
                                strcmp(keys[i], "sectors") == 0 ? sectors : NULL, false, pb);
        if (l)
            json_object_set_new(out, keys[i], l);
    }
    json_object_set_new(clean, "affected", out);
}

/* SPEC §7 indicators: {pattern*, pattern_type: stix, valid_from, description}. */
static void validate_indicators(const json_t *in, json_t *clean, struct fx_problem *pb)
{
    /* id, created and modified are the server's: a client may send back what it read */
    static const char *const keys[] = {"pattern",  "pattern_type", "valid_from", "description",
                                       "id",       "created",      "modified",   NULL};
    json_t *v = json_object_get(in, "indicators");
    if (v == NULL || json_is_null(v)) {
        json_object_set_new(clean, "indicators", json_array());
        return;
    }
    if (!json_is_array(v)) {
        fx_problem_add(pb, "/indicators", "must be a list of indicators");
        return;
    }
    if (json_array_size(v) > FX_MAX_LIST_ITEMS) {
        fx_problem_add(pb, "/indicators", "more than %d indicators", FX_MAX_LIST_ITEMS);
        return;
    }
    json_t *out = json_array();
    size_t i;
    json_t *e;
    json_array_foreach(v, i, e)
    {
        char ptr[48], f[80];
        snprintf(ptr, sizeof(ptr), "/indicators/%zu", i);
        if (!json_is_object(e)) {
            fx_problem_add(pb, ptr, "indicator %zu must be an object {pattern, pattern_type, "
                                    "valid_from, description}", i);
            continue;
        }
        fx_json_only_keys(e, keys, ptr, pb);
        json_t *ind = json_object();
        const char *pattern = NULL, *ptype = NULL, *desc = NULL, *vf = NULL;
        json_t *pv = json_object_get(e, "pattern");
        snprintf(f, sizeof(f), "%s/pattern", ptr);
        if (pv == NULL || json_is_null(pv))
            fx_problem_add(pb, f, "indicator %zu: required: a STIX pattern", i);
        else if (!json_is_string(pv) || json_string_length(pv) > FX_MAX_LONG_STRING)
            fx_problem_add(pb, f, "indicator %zu: must be a string of at most %d bytes", i,
                           FX_MAX_LONG_STRING);
        else
            pattern = json_string_value(pv);
        fx_json_get_str(e, "pattern_type", ptr, false, FX_MAX_SHORT_STRING, pb, &ptype, NULL);
        fx_json_get_str(e, "description", ptr, false, FX_MAX_LONG_STRING, pb, &desc, NULL);
        fx_json_get_str(e, "valid_from", ptr, false, FX_MAX_SHORT_STRING, pb, &vf, NULL);
        if (ptype && strcmp(ptype, "stix") != 0) {
            snprintf(f, sizeof(f), "%s/pattern_type", ptr);
            fx_problem_add(pb, f, "indicator %zu: only \"stix\" patterns are accepted", i);
        }
        if (pattern) {
            struct fx_pattern_error perr;
            snprintf(f, sizeof(f), "%s/pattern", ptr);
            if (fx_pattern_validate(pattern, strlen(pattern), &perr) != FX_OK)
                fx_problem_add(pb, f, "indicator %zu: not a valid STIX pattern: %s (at offset %zu)",
                               i, perr.message, perr.offset);
            json_object_set_new(ind, "pattern", json_string(pattern));
            size_t j;
            json_t *o;
            json_array_foreach(out, j, o)
            {
                if (strcmp(json_string_value(json_object_get(o, "pattern")), pattern) == 0)
                    fx_problem_add(pb, f, "indicator %zu repeats indicator %zu's pattern", i, j);
            }
        }
        json_object_set_new(ind, "pattern_type", json_string("stix"));
        if (vf) {
            int64_t ms;
            snprintf(f, sizeof(f), "%s/valid_from", ptr);
            if (fx_parse_time(vf, strlen(vf), &ms) != FX_OK) {
                fx_problem_add(pb, f, "indicator %zu: must be an RFC 3339 time", i);
            } else {
                char t[25];
                fx_format_time(ms, t);
                json_object_set_new(ind, "valid_from", json_string(t));
            }
        }
        if (desc)
            json_object_set_new(ind, "description", json_string(desc));
        json_array_append_new(out, ind);
    }
    json_object_set_new(clean, "indicators", out);
}

enum fx_err fx_incident_validate(const json_t *fields, struct fx_problem *pb, json_t **clean_out,
                                 struct fx_incident_fields *f)
{
    size_t before = pb->n;
    json_t *clean = json_object();
    const char *s = NULL;
    bool has = false;
    memset(f, 0, sizeof(*f));
    *clean_out = NULL;
    fx_json_only_keys((json_t *)(uintptr_t)fields, top_keys, "", pb);

    fx_json_get_str(fields, "title", "", true, FX_MAX_SHORT_STRING, pb, &s, &has);
    if (has && s[0] == '\0')
        fx_problem_add(pb, "/title", "must not be empty");
    else if (has)
        json_object_set_new(clean, "title", json_string(s));
    fx_json_get_str(fields, "description", "", true, FX_MAX_LONG_STRING, pb, &s, &has);
    if (has && s[0] == '\0')
        fx_problem_add(pb, "/description", "must not be empty");
    else if (has)
        json_object_set_new(clean, "description", json_string(s));
    fx_json_get_enum(fields, "category", "", true, categories, pb, &s, &has);
    if (has)
        json_object_set_new(clean, "category", json_string(s));
    fx_json_get_enum(fields, "severity", "", true, severities, pb, &s, &has);
    if (has)
        json_object_set_new(clean, "severity", json_string(s));
    fx_json_get_enum(fields, "status", "", false, statuses, pb, &s, &has);
    json_object_set_new(clean, "status", json_string(has ? s : "open"));

    int64_t tlp = -1;
    fx_json_get_str(fields, "tlp", "", true, FX_MAX_SHORT_STRING, pb, &s, &has);
    if (has) {
        tlp = fx_stix_tlp_parse(s);
        if (tlp < 0)
            fx_problem_add(pb, "/tlp", "must be CLEAR, GREEN, AMBER, AMBER+STRICT or RED");
        else
            json_object_set_new(clean, "tlp", json_string(fx_stix_tlp_name((enum fx_tlp)tlp)));
    }

    bool has_detected = false;
    time_field(fields, clean, "detected_at", true, pb, &f->detected_at, &has_detected);
    time_field(fields, clean, "occurred_at", false, pb, &f->occurred_at, &f->has_occurred);
    if (!f->has_occurred)
        json_object_set_new(clean, "occurred_at", json_null());
    if (has_detected && f->has_occurred && f->occurred_at > f->detected_at)
        fx_problem_add(pb, "/occurred_at", "must not be later than detected_at");

    validate_affected(fields, clean, pb);
    validate_indicators(fields, clean, pb);

    json_t *orgs = string_list(fields, "share_with", "", FX_MAX_SHARE, NULL, true, pb);
    json_t *users = string_list(fields, "share_with_users", "", FX_MAX_SHARE, NULL, true, pb);
    bool amber = tlp == FX_TLP_AMBER || tlp == FX_TLP_AMBER_STRICT;
    if (tlp >= 0 && orgs && json_array_size(orgs) > 0 && !amber)
        fx_problem_add(pb, "/share_with", "sharing with organizations applies to AMBER and "
                                          "AMBER+STRICT only (RED names users in "
                                          "share_with_users)");
    if (tlp >= 0 && users && json_array_size(users) > 0 && tlp != FX_TLP_RED)
        fx_problem_add(pb, "/share_with_users", "naming users applies to RED only");
    json_object_set_new(clean, "share_with", orgs ? orgs : json_array());
    json_object_set_new(clean, "share_with_users", users ? users : json_array());

    if (pb->n > before || pb->truncated) {
        json_decref(clean);
        return FX_EINVAL;
    }
    f->title = json_string_value(json_object_get(clean, "title"));
    f->category = json_string_value(json_object_get(clean, "category"));
    f->severity = json_string_value(json_object_get(clean, "severity"));
    f->status = json_string_value(json_object_get(clean, "status"));
    f->tlp = json_string_value(json_object_get(clean, "tlp"));
    f->share_with = json_object_get(clean, "share_with");
    f->share_with_users = json_object_get(clean, "share_with_users");
    *clean_out = clean;
    return FX_OK;
}

/* ---- STIX ---- */

void fx_incident_derived_uuid(const char *a, const char *b, char out[static 37])
{
    crypto_hash_sha256_state h;
    unsigned char d[32];
    crypto_hash_sha256_init(&h);
    crypto_hash_sha256_update(&h, (const unsigned char *)a, strlen(a) + 1);
    crypto_hash_sha256_update(&h, (const unsigned char *)b, strlen(b));
    crypto_hash_sha256_final(&h, d);
    d[6] = (unsigned char)((d[6] & 0x0f) | 0x40); /* shaped as version 4 */
    d[8] = (unsigned char)((d[8] & 0x3f) | 0x80); /* RFC 4122 variant */
    char hex[33];
    fx_hex(d, 16, hex);
    snprintf(out, 37, "%.8s-%.4s-%.4s-%.4s-%.12s", hex, hex + 8, hex + 12, hex + 16, hex + 20);
}

static bool same_member(const json_t *a, const json_t *b, const char *key)
{
    return json_equal(json_object_get(a, key), json_object_get(b, key)) ||
           (json_object_get(a, key) == NULL && json_object_get(b, key) == NULL);
}

void fx_incident_indicator_versions(json_t *doc, const json_t *prev, const char *incident_id,
                                    const char *t, json_t *removed_out)
{
    bool marking_changed =
        prev && !json_equal(json_object_get(doc, "tlp"), json_object_get(prev, "tlp"));
    json_t *prev_inds = prev ? json_object_get(prev, "indicators") : NULL;
    size_t i, j;
    json_t *ind, *p;
    json_array_foreach(json_object_get(doc, "indicators"), i, ind)
    {
        char u[37], id[64];
        fx_incident_derived_uuid(incident_id, json_string_value(json_object_get(ind, "pattern")),
                                 u);
        snprintf(id, sizeof(id), "indicator--%s", u);
        json_object_set_new(ind, "id", json_string(id));
        json_t *old = NULL;
        json_array_foreach(prev_inds, j, p)
        {
            if (strcmp(json_string_value(json_object_get(p, "id")), id) == 0)
                old = p;
        }
        if (old == NULL) {
            json_object_set_new(ind, "created", json_string(t));
            json_object_set_new(ind, "modified", json_string(t));
            continue;
        }
        json_object_set(ind, "created", json_object_get(old, "created"));
        bool same = same_member(ind, old, "valid_from") && same_member(ind, old, "description");
        if (same && !marking_changed)
            json_object_set(ind, "modified", json_object_get(old, "modified"));
        else
            json_object_set_new(ind, "modified", json_string(t));
    }
    json_array_foreach(prev_inds, j, p)
    {
        bool kept = false;
        json_array_foreach(json_object_get(doc, "indicators"), i, ind)
        {
            kept = kept || json_equal(json_object_get(ind, "id"), json_object_get(p, "id"));
        }
        if (!kept && removed_out)
            json_array_append(removed_out, p);
    }
    if (marking_changed || prev == NULL)
        json_object_set_new(doc, "marked_at", json_string(t));
    else
        json_object_set(doc, "marked_at", json_object_get(prev, "marked_at"));
}

static json_t *marking_refs(const json_t *doc)
{
    int t = fx_stix_tlp_parse(json_string_value(json_object_get(doc, "tlp")));
    return json_pack("[s]", fx_stix_tlp_marking_id(t < 0 ? FX_TLP_RED : (enum fx_tlp)t));
}

static const char *later(const char *a, const char *b)
{
    /* FX writes every time in one fixed-width form, so the strings order as the times */
    return a && b && strcmp(b, a) > 0 ? b : a;
}

static json_t *indicator_object(const json_t *doc, const json_t *ind, const char *creator,
                                bool revoked, const char *now)
{
    const char *created = json_string_value(json_object_get(ind, "created"));
    const char *vf = json_string_value(json_object_get(ind, "valid_from"));
    json_t *o = json_pack("{s:s,s:s,s:O,s:s,s:s,s:s,s:O,s:s,s:s,s:o}", "type", "indicator",
                          "spec_version", "2.1", "id", json_object_get(ind, "id"), "created",
                          created, "modified",
                          revoked ? now : json_string_value(json_object_get(ind, "modified")),
                          "created_by_ref", creator, "pattern", json_object_get(ind, "pattern"),
                          "pattern_type", "stix", "valid_from", vf ? vf : created,
                          "object_marking_refs", marking_refs(doc));
    if (o == NULL)
        fx_die("json_pack failed");
    json_t *d = json_object_get(ind, "description");
    if (d)
        json_object_set(o, "description", d);
    json_object_set_new(o, "indicator_types", json_pack("[s]", "compromised"));
    if (revoked)
        json_object_set_new(o, "revoked", json_true());
    return o;
}

static json_t *relationship_object(const json_t *doc, const json_t *ind, const char *creator,
                                   const char *incident, bool revoked, const char *now)
{
    char u[37], id[64];
    const char *ind_id = json_string_value(json_object_get(ind, "id"));
    fx_incident_derived_uuid(ind_id, "indicates", u);
    snprintf(id, sizeof(id), "relationship--%s", u);
    const char *created = json_string_value(json_object_get(ind, "created"));
    const char *modified =
        revoked ? now : later(created, json_string_value(json_object_get(doc, "marked_at")));
    json_t *o = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:o}", "type", "relationship",
                          "spec_version", "2.1", "id", id, "created", created, "modified",
                          modified, "created_by_ref", creator, "relationship_type", "indicates",
                          "source_ref", ind_id, "target_ref", incident, "object_marking_refs",
                          marking_refs(doc));
    if (o == NULL)
        fx_die("json_pack failed");
    if (revoked)
        json_object_set_new(o, "revoked", json_true());
    return o;
}

json_t *fx_incident_identity_object(const char *org_id, const char *org_name, const char *kind,
                                    int64_t org_created)
{
    char id[64], t[25];
    snprintf(id, sizeof(id), "identity--%s", org_id);
    fx_format_time(org_created, t);
    json_t *o = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s}", "type", "identity", "spec_version",
                          "2.1", "id", id, "created", t, "modified", t, "name", org_name,
                          "identity_class", "organization", "x_fx_org_kind", kind);
    if (o == NULL)
        fx_die("json_pack failed");
    return o;
}

json_t *fx_incident_stix(const json_t *doc, const char *org_id, json_t *identity,
                         const json_t *removed, const char *now)
{
    char creator[64], incident[64];
    const char *iid = json_string_value(json_object_get(doc, "incident_id"));
    snprintf(creator, sizeof(creator), "identity--%s", org_id);
    snprintf(incident, sizeof(incident), "incident--%s", iid);
    json_t *objects = json_array();
    json_array_append_new(objects, identity);
    json_t *inc = json_pack(
        "{s:s,s:s,s:s,s:O,s:O,s:s,s:O,s:O,s:o,s:[{s:s,s:O}],s:O,s:O,s:O,s:O,s:O,s:O,s:O}",
        "type", "incident", "spec_version", "2.1", "id", incident, "created",
        json_object_get(doc, "stix_created"), "modified", json_object_get(doc, "stix_modified"),
        "created_by_ref", creator, "name", json_object_get(doc, "title"), "description",
        json_object_get(doc, "description"), "object_marking_refs", marking_refs(doc),
        "external_references", "source_name", "fx", "external_id", json_object_get(doc, "ref"),
        "x_fx_category", json_object_get(doc, "category"), "x_fx_severity",
        json_object_get(doc, "severity"), "x_fx_status", json_object_get(doc, "status"),
        "x_fx_detected_at", json_object_get(doc, "detected_at"), "x_fx_occurred_at",
        json_object_get(doc, "occurred_at"), "x_fx_reported_at", json_object_get(doc, "reported_at"),
        "x_fx_late", json_object_get(doc, "late"));
    if (inc == NULL)
        fx_die("json_pack failed");
    if (json_object_get(doc, "affected"))
        json_object_set(inc, "x_fx_affected", json_object_get(doc, "affected"));
    if (json_is_null(json_object_get(inc, "x_fx_occurred_at")))
        json_object_del(inc, "x_fx_occurred_at");
    json_array_append_new(objects, inc);
    size_t i;
    json_t *ind;
    json_array_foreach(json_object_get(doc, "indicators"), i, ind)
    {
        json_array_append_new(objects, indicator_object(doc, ind, creator, false, now));
        json_array_append_new(objects,
                              relationship_object(doc, ind, creator, incident, false, now));
    }
    json_array_foreach(removed, i, ind)
    {
        json_array_append_new(objects, indicator_object(doc, ind, creator, true, now));
        json_array_append_new(objects,
                              relationship_object(doc, ind, creator, incident, true, now));
    }
    return objects;
}
