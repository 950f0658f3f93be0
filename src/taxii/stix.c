/*
 * stix.c: STIX 2.1 identifiers, timestamps, TLP 2.0 markings, validation of
 * one object, and the envelope walker (stix.h). Pure functions over borrowed
 * input; the only allocations are the jansson values fx_stix_tlp_marking_object()
 * returns. Validation collects every problem of an object, so that a TAXII
 * status can say all that is wrong with it at once.
 */
#include "taxii/stix.h"
#include "common/json.h"
#include "common/limits.h"
#include "common/parse.h"
#include "taxii/pattern.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

/* ---- TLP ---- */

#define TLP2_EXTENSION "extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d"

static const struct {
    const char *name;   /* FX's name, as the API takes it */
    const char *ext;    /* the extension's tlp_2_0 value */
    const char *id;     /* TLP 2.0 marking-definition id */
    const char *id_v1;  /* TLP 1.0 (STIX 2.1 §7.2.1.4) id of the same level, or NULL */
} tlp[FX_TLP_COUNT] = {
    {"CLEAR", "clear", "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487",
     "marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9"},
    {"GREEN", "green", "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb",
     "marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da"},
    {"AMBER", "amber", "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421",
     "marking-definition--f88d31f6-486f-44da-b317-01333bde0b82"},
    {"AMBER+STRICT", "amber+strict", "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003",
     NULL},
    {"RED", "red", "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1",
     "marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed"},
};

const char *fx_stix_tlp_name(enum fx_tlp t)
{
    return (unsigned)t < FX_TLP_COUNT ? tlp[t].name : "AMBER";
}

int fx_stix_tlp_parse(const char *s)
{
    if (s == NULL)
        return -1;
    if (strncasecmp(s, "TLP:", 4) == 0)
        s += 4;
    for (int i = 0; i < FX_TLP_COUNT; i++)
        if (strcasecmp(s, tlp[i].name) == 0)
            return i;
    return -1;
}

const char *fx_stix_tlp_marking_id(enum fx_tlp t)
{
    return tlp[(unsigned)t < FX_TLP_COUNT ? t : FX_TLP_AMBER].id;
}

json_t *fx_stix_tlp_marking_object(enum fx_tlp t)
{
    unsigned i = (unsigned)t < FX_TLP_COUNT ? t : FX_TLP_AMBER;
    char name[24];
    snprintf(name, sizeof(name), "TLP:%s", tlp[i].name);
    json_t *o = json_pack("{s:s,s:s,s:s,s:s,s:s,s:{s:{s:s,s:s}}}", "type", "marking-definition",
                          "spec_version", "2.1", "id", tlp[i].id, "created",
                          "2022-10-01T00:00:00.000Z", "name", name, "extensions", TLP2_EXTENSION,
                          "extension_type", "property-extension", "tlp_2_0", tlp[i].ext);
    if (o == NULL)
        fx_die("json_pack failed");
    return o;
}

enum fx_tlp fx_stix_object_tlp(const json_t *obj, bool *found)
{
    enum fx_tlp level = FX_TLP_CLEAR;
    *found = false;
    size_t i;
    json_t *ref;
    json_array_foreach(json_object_get(obj, "object_marking_refs"), i, ref)
    {
        const char *s = json_string_value(ref);
        if (s == NULL)
            continue;
        for (int k = 0; k < FX_TLP_COUNT; k++)
            if (strcmp(s, tlp[k].id) == 0 || (tlp[k].id_v1 && strcmp(s, tlp[k].id_v1) == 0)) {
                if (!*found || (enum fx_tlp)k > level)
                    level = (enum fx_tlp)k;
                *found = true;
            }
    }
    return *found ? level : FX_TLP_AMBER;
}

/* ---- timestamps ---- */

static bool digits(const char *p, size_t n, int64_t *v)
{
    int64_t x = 0;
    for (size_t i = 0; i < n; i++) {
        if (p[i] < '0' || p[i] > '9')
            return false;
        x = x * 10 + (p[i] - '0');
    }
    *v = x;
    return true;
}

enum fx_err fx_stix_parse_timestamp(const char *p, size_t len, int64_t *us_out)
{
    int64_t y, mo, d, h, mi, s;
    if (len < 20 || p[4] != '-' || p[7] != '-' || p[10] != 'T' || p[13] != ':' ||
        p[16] != ':' || p[len - 1] != 'Z')
        return FX_EINVAL;
    if (!digits(p, 4, &y) || !digits(p + 5, 2, &mo) || !digits(p + 8, 2, &d) ||
        !digits(p + 11, 2, &h) || !digits(p + 14, 2, &mi) || !digits(p + 17, 2, &s))
        return FX_EINVAL;
    int64_t frac = 0;
    size_t i = 19;
    if (i < len - 1) {
        if (p[i] != '.' || i + 1 >= len - 1)
            return FX_EINVAL;
        size_t nd = 0;
        for (i++; i < len - 1; i++, nd++) {
            if (p[i] < '0' || p[i] > '9')
                return FX_EINVAL;
            if (nd < 6)
                frac = frac * 10 + (p[i] - '0');
        }
        for (; nd < 6; nd++)
            frac *= 10;
    }
    if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 59)
        return FX_EINVAL;
    int64_t days = fx_days_from_civil(y, (unsigned)mo, (unsigned)d);
    int64_t yy;
    unsigned mm, dd;
    fx_civil_from_days(days, &yy, &mm, &dd);
    if (yy != y || mm != mo || dd != d)
        return FX_EINVAL; /* 2026-02-30 */
    *us_out = ((days * 86400 + h * 3600 + mi * 60 + s) * 1000000) + frac;
    return FX_OK;
}

void fx_stix_format_us(int64_t us, char out[static 28])
{
    int64_t secs = us >= 0 ? us / 1000000 : (us - 999999) / 1000000;
    int64_t frac = us - secs * 1000000;
    int64_t days = secs >= 0 ? secs / 86400 : (secs - 86399) / 86400;
    int64_t rem = secs - days * 86400;
    int64_t y;
    unsigned m, d;
    fx_civil_from_days(days, &y, &m, &d);
    char tmp[96];
    int n = snprintf(tmp, sizeof(tmp), "%04d-%02u-%02uT%02d:%02d:%02d.%06dZ", (int)y, m, d,
                     (int)(rem / 3600), (int)(rem / 60 % 60), (int)(rem % 60), (int)frac);
    size_t k = n > 0 && n < 28 ? (size_t)n : 0;
    memcpy(out, tmp, k);
    out[k] = '\0';
}

/* ---- identifiers ---- */

bool fx_stix_type_valid(const char *p, size_t len)
{
    if (len < 3 || len > 250 || !(p[0] >= 'a' && p[0] <= 'z') || p[len - 1] == '-')
        return false;
    for (size_t i = 0; i < len; i++) {
        char c = p[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'))
            return false;
        if (c == '-' && i + 1 < len && p[i + 1] == '-')
            return false;
    }
    return true;
}

bool fx_stix_id_valid(const char *p, size_t len, const char *type)
{
    const char *sep = NULL;
    for (size_t i = 0; i + 1 < len; i++)
        if (p[i] == '-' && p[i + 1] == '-') {
            sep = p + i;
            break;
        }
    if (sep == NULL)
        return false;
    size_t tlen = (size_t)(sep - p);
    if (!fx_stix_type_valid(p, tlen))
        return false;
    if (type && (strlen(type) != tlen || memcmp(p, type, tlen) != 0))
        return false;
    const char *u = sep + 2;
    size_t ulen = len - tlen - 2;
    if (ulen != 36 || !fx_uuid_valid(u, ulen))
        return false;
    char variant = u[19];
    return strchr("89abAB", variant) != NULL && variant != '\0';
}

/* ---- validation of one object ---- */

enum kind { K_SDO, K_SRO, K_SCO, K_META };

static const struct {
    const char *type;
    enum kind kind;
    const char *required[5];
} known[] = {
    {"attack-pattern", K_SDO, {"name"}},
    {"campaign", K_SDO, {"name"}},
    {"course-of-action", K_SDO, {"name"}},
    {"grouping", K_SDO, {"context", "object_refs"}},
    {"identity", K_SDO, {"name"}},
    {"incident", K_SDO, {"name"}},
    {"indicator", K_SDO, {"pattern", "pattern_type", "valid_from"}},
    {"infrastructure", K_SDO, {"name"}},
    {"intrusion-set", K_SDO, {"name"}},
    {"location", K_SDO, {NULL}},
    {"malware", K_SDO, {"is_family"}},
    {"malware-analysis", K_SDO, {"product"}},
    {"note", K_SDO, {"content", "object_refs"}},
    {"observed-data", K_SDO, {"first_observed", "last_observed", "number_observed"}},
    {"opinion", K_SDO, {"opinion", "object_refs"}},
    {"report", K_SDO, {"name", "published", "object_refs"}},
    {"threat-actor", K_SDO, {"name"}},
    {"tool", K_SDO, {"name"}},
    {"vulnerability", K_SDO, {"name"}},
    {"relationship", K_SRO, {"relationship_type", "source_ref", "target_ref"}},
    {"sighting", K_SRO, {"sighting_of_ref"}},
    {"artifact", K_SCO, {NULL}},
    {"autonomous-system", K_SCO, {"number"}},
    {"directory", K_SCO, {"path"}},
    {"domain-name", K_SCO, {"value"}},
    {"email-addr", K_SCO, {"value"}},
    {"email-message", K_SCO, {"is_multipart"}},
    {"file", K_SCO, {NULL}},
    {"ipv4-addr", K_SCO, {"value"}},
    {"ipv6-addr", K_SCO, {"value"}},
    {"mac-addr", K_SCO, {"value"}},
    {"mutex", K_SCO, {"name"}},
    {"network-traffic", K_SCO, {"protocols"}},
    {"process", K_SCO, {NULL}},
    {"software", K_SCO, {"name"}},
    {"url", K_SCO, {"value"}},
    {"user-account", K_SCO, {NULL}},
    {"windows-registry-key", K_SCO, {NULL}},
    {"x509-certificate", K_SCO, {NULL}},
    {"language-content", K_META, {"object_ref", "object_modified", "contents"}},
    {"marking-definition", K_META, {NULL}},
    {"extension-definition", K_META, {"name", "schema", "version", "extension_types",
                                      "created_by_ref"}},
};

/* Top-level timestamp properties of STIX 2.1 objects. */
static const char *const timestamp_props[] = {
    "created",        "modified",       "valid_from", "valid_until", "first_seen",
    "last_seen",      "first_observed", "last_observed", "published", "object_modified",
    NULL,
};

static bool ends_with(const char *s, const char *suffix)
{
    size_t a = strlen(s), b = strlen(suffix);
    return a >= b && strcmp(s + a - b, suffix) == 0;
}

static bool is_id(const json_t *v, const char *type)
{
    return json_is_string(v) && fx_stix_id_valid(json_string_value(v), json_string_length(v), type);
}

/*
 * STIX 2.1 §2.x: every property whose name ends in _ref holds an identifier,
 * every one ending in _refs a list of them, at any depth (extensions,
 * network-traffic extensions, ...). Depth is bounded by the parser (32).
 */
static void check_refs(const json_t *v, const char *ptr, struct fx_problem *pb)
{
    /* pointers are only spelled out for nested values and for problems: this runs per object */
    char sub[256];
    if (json_is_object(v)) {
        const char *k;
        json_t *x;
        json_object_foreach((json_t *)(uintptr_t)v, k, x)
        {
            if (ends_with(k, "_ref")) {
                if (!is_id(x, NULL)) {
                    fx_json_ptr(sub, sizeof(sub), ptr, k);
                    fx_problem_add(pb, sub, "must be an identifier type--UUID");
                }
            } else if (ends_with(k, "_refs")) {
                size_t i;
                json_t *e;
                if (!json_is_array(x)) {
                    fx_json_ptr(sub, sizeof(sub), ptr, k);
                    fx_problem_add(pb, sub, "must be a list of identifiers type--UUID");
                    continue;
                }
                json_array_foreach(x, i, e)
                {
                    if (!is_id(e, NULL)) {
                        char idx[24], item[280];
                        fx_json_ptr(sub, sizeof(sub), ptr, k);
                        snprintf(idx, sizeof(idx), "%zu", i);
                        fx_json_ptr(item, sizeof(item), sub, idx);
                        fx_problem_add(pb, item, "must be an identifier type--UUID");
                    }
                }
            } else if (json_is_object(x) || json_is_array(x)) {
                fx_json_ptr(sub, sizeof(sub), ptr, k);
                check_refs(x, sub, pb);
            }
        }
    } else if (json_is_array(v)) {
        size_t i;
        json_t *e;
        json_array_foreach(v, i, e)
        {
            if (!json_is_object(e) && !json_is_array(e))
                continue;
            char idx[24];
            snprintf(idx, sizeof(idx), "%zu", i);
            fx_json_ptr(sub, sizeof(sub), ptr, idx);
            check_refs(e, sub, pb);
        }
    }
}

static bool prop_name_ok(const char *k)
{
    size_t n = strlen(k);
    if (strcmp(k, "id") == 0)
        return true;
    if (n < 3 || n > 250)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = k[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_'))
            return false;
    }
    return true;
}

/* A timestamp property: its value in *us when valid. */
static bool timestamp_prop(const json_t *obj, const char *key, struct fx_problem *pb, int64_t *us)
{
    json_t *v = json_object_get(obj, key);
    if (v == NULL)
        return false;
    if (!json_is_string(v) ||
        fx_stix_parse_timestamp(json_string_value(v), json_string_length(v), us) != FX_OK) {
        char ptr[64];
        snprintf(ptr, sizeof(ptr), "/%s", key);
        fx_problem_add(pb, ptr, "must be a UTC timestamp YYYY-MM-DDTHH:MM:SS[.s]Z");
        return false;
    }
    return true;
}

static void check_string_list(const json_t *obj, const char *key, struct fx_problem *pb)
{
    json_t *v = json_object_get(obj, key);
    size_t i;
    json_t *e;
    if (v == NULL)
        return;
    bool ok = json_is_array(v) && json_array_size(v) > 0;
    json_array_foreach(v, i, e) ok = ok && json_is_string(e) && json_string_length(e) > 0;
    if (!ok)
        fx_problem_add(pb, key[0] == 'l' ? "/labels" : "/extension_types",
                       "must be a non-empty list of non-empty strings");
}

static void check_common(const json_t *obj, struct fx_problem *pb)
{
    json_t *v;
    size_t i;
    json_t *e;
    if ((v = json_object_get(obj, "created_by_ref")) && !is_id(v, "identity"))
        fx_problem_add(pb, "/created_by_ref", "must be the identifier of an identity");
    if ((v = json_object_get(obj, "revoked")) && !json_is_boolean(v))
        fx_problem_add(pb, "/revoked", "must be true or false");
    if ((v = json_object_get(obj, "confidence")) &&
        (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > 100))
        fx_problem_add(pb, "/confidence", "must be an integer from 0 to 100");
    if ((v = json_object_get(obj, "lang")) && !json_is_string(v))
        fx_problem_add(pb, "/lang", "must be a language code (a string)");
    check_string_list(obj, "labels", pb);
    if ((v = json_object_get(obj, "external_references"))) {
        if (!json_is_array(v))
            fx_problem_add(pb, "/external_references", "must be a list of objects");
        json_array_foreach(v, i, e)
        {
            if (!json_is_object(e) || !json_is_string(json_object_get(e, "source_name"))) {
                char ptr[64];
                snprintf(ptr, sizeof(ptr), "/external_references/%zu", i);
                fx_problem_add(pb, ptr, "must be an object with a source_name");
            }
        }
    }
    if ((v = json_object_get(obj, "object_marking_refs"))) {
        if (!json_is_array(v))
            fx_problem_add(pb, "/object_marking_refs", "must be a list of marking-definition ids");
        json_array_foreach(v, i, e)
        {
            if (!is_id(e, "marking-definition")) {
                char ptr[64];
                snprintf(ptr, sizeof(ptr), "/object_marking_refs/%zu", i);
                fx_problem_add(pb, ptr, "must be the identifier of a marking-definition");
            }
        }
    }
    if ((v = json_object_get(obj, "granular_markings"))) {
        if (!json_is_array(v))
            fx_problem_add(pb, "/granular_markings", "must be a list of granular markings");
        json_array_foreach(v, i, e)
        {
            char ptr[64];
            snprintf(ptr, sizeof(ptr), "/granular_markings/%zu", i);
            json_t *sel = json_object_get(e, "selectors");
            bool has_ref = json_object_get(e, "marking_ref") != NULL;
            bool has_lang = json_object_get(e, "lang") != NULL;
            if (!json_is_object(e) || !json_is_array(sel) || json_array_size(sel) == 0 ||
                has_ref == has_lang ||
                (has_ref && !is_id(json_object_get(e, "marking_ref"), "marking-definition")))
                fx_problem_add(pb, ptr, "must have selectors and one of marking_ref or lang");
        }
    }
    if ((v = json_object_get(obj, "extensions"))) {
        const char *k;
        json_t *x;
        if (!json_is_object(v))
            fx_problem_add(pb, "/extensions", "must be an object of extensions");
        json_object_foreach(v, k, x)
        {
            char ptr[300];
            fx_json_ptr(ptr, sizeof(ptr), "/extensions", k);
            bool name_ok = ends_with(k, "-ext") || fx_stix_id_valid(k, strlen(k),
                                                                    "extension-definition");
            if (!name_ok)
                fx_problem_add(pb, ptr, "must be named extension-definition--UUID or *-ext");
            else if (!json_is_object(x))
                fx_problem_add(pb, ptr, "must be an object");
        }
    }
}

static void check_indicator(const json_t *obj, struct fx_problem *pb)
{
    json_t *pat = json_object_get(obj, "pattern");
    json_t *pt = json_object_get(obj, "pattern_type");
    if (pat && !json_is_string(pat))
        fx_problem_add(pb, "/pattern", "must be a string");
    if (pt && !json_is_string(pt))
        fx_problem_add(pb, "/pattern_type", "must be a string");
    if (json_is_string(pat) && json_is_string(pt) && strcmp(json_string_value(pt), "stix") == 0) {
        struct fx_pattern_error perr;
        if (fx_pattern_validate(json_string_value(pat), json_string_length(pat), &perr) != FX_OK)
            fx_problem_add(pb, "/pattern", "not a valid STIX pattern: %s (at offset %zu)",
                           perr.message, perr.offset);
    }
    int64_t from = 0, until = 0;
    bool has_from = timestamp_prop(obj, "valid_from", pb, &from);
    bool has_until = timestamp_prop(obj, "valid_until", pb, &until);
    if (has_from && has_until && until <= from)
        fx_problem_add(pb, "/valid_until", "must be later than valid_from");
}

static void check_type_specific(const json_t *obj, const char *type, struct fx_problem *pb)
{
    json_t *v;
    int64_t a = 0, b = 0;
    if (strcmp(type, "indicator") == 0) {
        check_indicator(obj, pb);
    } else if (strcmp(type, "relationship") == 0) {
        if ((v = json_object_get(obj, "relationship_type")) &&
            (!json_is_string(v) || json_string_length(v) == 0))
            fx_problem_add(pb, "/relationship_type", "must be a non-empty string");
    } else if (strcmp(type, "observed-data") == 0) {
        bool fa = timestamp_prop(obj, "first_observed", pb, &a);
        bool fb = timestamp_prop(obj, "last_observed", pb, &b);
        if (fa && fb && b < a)
            fx_problem_add(pb, "/last_observed", "must not be before first_observed");
        if ((v = json_object_get(obj, "number_observed")) &&
            (!json_is_integer(v) || json_integer_value(v) < 1 ||
             json_integer_value(v) > 999999999))
            fx_problem_add(pb, "/number_observed", "must be an integer from 1 to 999999999");
    } else if (strcmp(type, "malware") == 0) {
        if ((v = json_object_get(obj, "is_family")) && !json_is_boolean(v))
            fx_problem_add(pb, "/is_family", "must be true or false");
        if (json_is_true(v) && !json_is_string(json_object_get(obj, "name")))
            fx_problem_add(pb, "/name", "required when is_family is true");
    } else if (strcmp(type, "marking-definition") == 0) {
        bool def = json_object_get(obj, "definition") != NULL &&
                   json_object_get(obj, "definition_type") != NULL;
        if (!def && json_object_get(obj, "extensions") == NULL)
            fx_problem_add(pb, "/definition", "required (with definition_type) unless the "
                                              "marking is defined by an extension");
    } else if (strcmp(type, "file") == 0) {
        if (!json_object_get(obj, "hashes") && !json_object_get(obj, "name"))
            fx_problem_add(pb, "/name", "a file needs a name or hashes");
    }
    for (size_t i = 0; timestamp_props[i]; i++)
        if (strcmp(timestamp_props[i], "created") != 0 &&
            strcmp(timestamp_props[i], "modified") != 0 && strcmp(type, "indicator") != 0 &&
            strcmp(type, "observed-data") != 0)
            timestamp_prop(obj, timestamp_props[i], pb, &a);
}

enum fx_err fx_stix_validate(const json_t *obj, struct fx_problem *pb, struct fx_stix_info *out)
{
    size_t before = pb->n;
    memset(out, 0, sizeof(*out));
    if (!json_is_object(obj)) {
        fx_problem_add(pb, "", "a STIX object must be a JSON object");
        return FX_EINVAL;
    }
    json_t *jt = json_object_get(obj, "type");
    json_t *jid = json_object_get(obj, "id");
    const char *type = json_string_value(jt);
    if (type == NULL) {
        fx_problem_add(pb, "/type", "required: the object's type");
    } else if (strcmp(type, "bundle") == 0) {
        fx_problem_add(pb, "/type", "a bundle is not an object: post the objects it holds");
        type = NULL;
    } else if (!fx_stix_type_valid(type, json_string_length(jt))) {
        fx_problem_add(pb, "/type", "must be 3-250 characters of a-z, 0-9 and '-'");
        type = NULL;
    }
    if (jid == NULL)
        fx_problem_add(pb, "/id", "required: type--UUID");
    else if (!is_id(jid, NULL))
        fx_problem_add(pb, "/id", "must be type--UUID (an RFC 4122 UUID)");
    else if (type && !is_id(jid, type))
        fx_problem_add(pb, "/id", "must start with the object's type (%s--)", type);

    enum kind kind = K_SDO; /* unknown (custom) types carry the SDO common properties */
    const char *const *required = NULL;
    for (size_t i = 0; type && i < FX_ARRAY_LEN(known); i++)
        if (strcmp(known[i].type, type) == 0) {
            kind = known[i].kind;
            required = known[i].required;
        }
    bool is_marking = type && strcmp(type, "marking-definition") == 0;

    json_t *sv = json_object_get(obj, "spec_version");
    if (sv == NULL && kind != K_SCO)
        fx_problem_add(pb, "/spec_version", "required: \"2.1\"");
    else if (sv && !(json_is_string(sv) && strcmp(json_string_value(sv), "2.1") == 0))
        fx_problem_add(pb, "/spec_version", "must be \"2.1\": only STIX 2.1 is accepted");

    int64_t created = 0, modified = 0;
    bool has_created = timestamp_prop(obj, "created", pb, &created);
    bool has_modified = timestamp_prop(obj, "modified", pb, &modified);
    if (kind != K_SCO) {
        if (json_object_get(obj, "created") == NULL)
            fx_problem_add(pb, "/created", "required: when the object was created");
        if (!is_marking && json_object_get(obj, "modified") == NULL)
            fx_problem_add(pb, "/modified", "required: when this version was made");
    }
    if (has_created && has_modified && modified < created)
        fx_problem_add(pb, "/modified", "must not be before created");

    const char *k;
    json_t *x;
    json_object_foreach((json_t *)(uintptr_t)obj, k, x)
    {
        (void)x;
        if (!prop_name_ok(k)) {
            char ptr[300];
            fx_json_ptr(ptr, sizeof(ptr), "", k);
            fx_problem_add(pb, ptr, "property names are 3-250 of a-z, A-Z, 0-9 and '_'");
        }
    }
    for (size_t i = 0; required && i < 5 && required[i]; i++)
        if (json_object_get(obj, required[i]) == NULL) {
            char ptr[64];
            snprintf(ptr, sizeof(ptr), "/%s", required[i]);
            fx_problem_add(pb, ptr, "required for a%s %s", strchr("aeiou", type[0]) ? "n" : "",
                           type);
        }
    check_common(obj, pb);
    check_refs(obj, "", pb);
    if (type)
        check_type_specific(obj, type, pb);

    if (pb->n > before || pb->truncated)
        return FX_EINVAL;
    out->type = type;
    out->id = json_string_value(jid);
    out->spec_version = "2.1";
    if (has_modified) {
        out->version = json_string_value(json_object_get(obj, "modified"));
        out->version_us = modified;
    } else if (has_created) {
        out->version = json_string_value(json_object_get(obj, "created"));
        out->version_us = created;
    }
    out->tlp = fx_stix_object_tlp(obj, &out->marked);
    return FX_OK;
}

/* ---- the envelope walker ---- */

#define BAD ((size_t)-1)

static size_t skip_ws(const char *p, size_t len, size_t i)
{
    while (i < len && (p[i] == ' ' || p[i] == '\t' || p[i] == '\n' || p[i] == '\r'))
        i++;
    return i;
}

/* p[i] is '"': the index after the closing quote, or BAD. */
static size_t skip_string(const char *p, size_t len, size_t i)
{
    for (i++; i < len; i++) {
        unsigned char c = (unsigned char)p[i];
        if (c == '"')
            return i + 1;
        if (c == '\\')
            i++;
        else if (c < 0x20)
            return BAD;
    }
    return BAD;
}

/* Skips one JSON value at p[i]; arrays and objects by counting brackets, without recursion. */
static size_t skip_value(const char *p, size_t len, size_t i)
{
    if (i >= len)
        return BAD;
    char c = p[i];
    if (c == '"')
        return skip_string(p, len, i);
    if (c == '{' || c == '[') {
        size_t depth = 0;
        while (i < len) {
            c = p[i];
            if (c == '"') {
                i = skip_string(p, len, i);
                if (i == BAD)
                    return BAD;
                continue;
            }
            if (c == '{' || c == '[') {
                depth++;
            } else if (c == '}' || c == ']') {
                if (--depth == 0)
                    return i + 1;
            }
            i++;
        }
        return BAD;
    }
    static const char *const words[] = {"true", "false", "null"};
    for (size_t k = 0; k < FX_ARRAY_LEN(words); k++) {
        size_t n = strlen(words[k]);
        if (len - i >= n && memcmp(p + i, words[k], n) == 0)
            return i + n;
    }
    size_t s = i;
    while (i < len && strchr("+-0123456789.eE", p[i]) != NULL && p[i] != '\0')
        i++;
    return i > s ? i : BAD;
}

__attribute__((format(printf, 3, 4))) static enum fx_err bad(char *msg, size_t n, const char *fmt,
                                                             ...)
{
    va_list ap;
    va_start(ap, fmt);
    if (msg && n)
        vsnprintf(msg, n, fmt, ap);
    va_end(ap);
    return FX_EINVAL;
}

enum fx_err fx_stix_envelope_each(const char *p, size_t len, size_t max_objects,
                                  fx_stix_object_fn fn, void *arg, char *msg, size_t msg_len)
{
    size_t i = skip_ws(p, len, 0);
    if (i >= len || p[i] != '{')
        return bad(msg, msg_len, "the envelope must be a JSON object {\"objects\": [...]}");
    i = skip_ws(p, len, i + 1);
    bool seen = false;
    size_t count = 0;
    if (i < len && p[i] == '}') {
        i++;
        goto end;
    }
    for (;;) {
        if (i >= len || p[i] != '"')
            return bad(msg, msg_len, "malformed envelope at byte %zu: expected a member name", i);
        size_t ke = skip_string(p, len, i);
        if (ke == BAD)
            return bad(msg, msg_len, "malformed envelope at byte %zu: unterminated string", i);
        bool objects = ke - i == 9 && memcmp(p + i, "\"objects\"", 9) == 0;
        i = skip_ws(p, len, ke);
        if (i >= len || p[i] != ':')
            return bad(msg, msg_len, "malformed envelope at byte %zu: expected ':'", i);
        i = skip_ws(p, len, i + 1);
        if (objects) {
            if (seen)
                return bad(msg, msg_len, "the envelope has \"objects\" twice");
            seen = true;
            if (i >= len || p[i] != '[')
                return bad(msg, msg_len, "\"objects\" must be a list of STIX objects");
            i = skip_ws(p, len, i + 1);
            if (i < len && p[i] == ']') {
                i++;
            } else {
                for (;;) {
                    size_t e = skip_value(p, len, i);
                    if (e == BAD)
                        return bad(msg, msg_len,
                                   "malformed envelope: object %zu (byte %zu) does not end",
                                   count, i);
                    if (count == max_objects) {
                        bad(msg, msg_len, "more than %zu objects in one envelope", max_objects);
                        return FX_ETOOBIG;
                    }
                    enum fx_err err = fn(p + i, e - i, count, arg);
                    if (err != FX_OK)
                        return err;
                    count++;
                    i = skip_ws(p, len, e);
                    if (i < len && p[i] == ',') {
                        i = skip_ws(p, len, i + 1);
                        continue;
                    }
                    if (i < len && p[i] == ']') {
                        i++;
                        break;
                    }
                    return bad(msg, msg_len, "malformed envelope at byte %zu: expected ',' or "
                                             "']' in \"objects\"", i);
                }
            }
        } else {
            i = skip_value(p, len, i);
            if (i == BAD)
                return bad(msg, msg_len, "malformed envelope: a member's value does not end");
        }
        i = skip_ws(p, len, i);
        if (i < len && p[i] == ',') {
            i = skip_ws(p, len, i + 1);
            continue;
        }
        if (i < len && p[i] == '}') {
            i++;
            break;
        }
        return bad(msg, msg_len, "malformed envelope at byte %zu: expected ',' or '}'", i);
    }
end:
    if (skip_ws(p, len, i) != len)
        return bad(msg, msg_len, "malformed envelope: bytes after its end");
    return FX_OK;
}

bool fx_stix_shallow_string(const char *p, size_t len, const char *key, const char **v,
                            size_t *vlen)
{
    size_t klen = strlen(key);
    size_t i = skip_ws(p, len, 0);
    if (i >= len || p[i] != '{')
        return false;
    i = skip_ws(p, len, i + 1);
    while (i < len && p[i] == '"') {
        size_t ke = skip_string(p, len, i);
        if (ke == BAD)
            return false;
        bool match = ke - i - 2 == klen && memcmp(p + i + 1, key, klen) == 0;
        i = skip_ws(p, len, ke);
        if (i >= len || p[i] != ':')
            return false;
        i = skip_ws(p, len, i + 1);
        if (match && i < len && p[i] == '"') {
            size_t e = skip_string(p, len, i);
            if (e == BAD || memchr(p + i + 1, '\\', e - i - 2) != NULL)
                return false;
            *v = p + i + 1;
            *vlen = e - i - 2;
            return true;
        }
        i = skip_value(p, len, i);
        if (i == BAD)
            return false;
        i = skip_ws(p, len, i);
        if (i < len && p[i] == ',')
            i = skip_ws(p, len, i + 1);
        else
            return false;
    }
    return false;
}
