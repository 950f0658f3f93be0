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
#include "taxii/taxii_int.h"

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

/* The TLP level a marking-definition id (TLP 2.0 or 1.0) names, or -1 for any other id. */
static int tlp_of_ref(const char *s, size_t len)
{
    for (int k = 0; s && k < FX_TLP_COUNT; k++) {
        bool is2 = strlen(tlp[k].id) == len && memcmp(s, tlp[k].id, len) == 0;
        bool is1 = tlp[k].id_v1 && strlen(tlp[k].id_v1) == len && memcmp(s, tlp[k].id_v1, len) == 0;
        if (is2 || is1)
            return k;
    }
    return -1;
}

/*
 * Counts one marking reference, from object_marking_refs or a granular
 * marking's marking_ref, toward the object's level: the most restrictive
 * wins. FX cannot withhold single properties, so a granular TLP marking
 * applies to the whole object. Both readers of markings (the jansson one and
 * the checker's) go through here so that they cannot disagree.
 */
static void fold_ref(const char *s, size_t len, enum fx_tlp *level, bool *found)
{
    int k = tlp_of_ref(s, len);
    if (k < 0)
        return;
    if (!*found || (enum fx_tlp)k > *level)
        *level = (enum fx_tlp)k;
    *found = true;
}

static void fold_json_ref(const json_t *ref, enum fx_tlp *level, bool *found)
{
    const char *s = json_string_value(ref);
    if (s != NULL)
        fold_ref(s, json_string_length(ref), level, found);
}

enum fx_tlp fx_stix_object_tlp(const json_t *obj, bool *found)
{
    enum fx_tlp level = FX_TLP_CLEAR;
    *found = false;
    size_t i;
    json_t *v;
    json_array_foreach(json_object_get(obj, "object_marking_refs"), i, v)
        fold_json_ref(v, &level, found);
    json_array_foreach(json_object_get(obj, "granular_markings"), i, v)
        fold_json_ref(json_object_get(v, "marking_ref"), &level, found);
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

/* Timestamp properties checked besides created and modified (and those a type checks itself). */
static const char *const other_timestamps[] = {"first_seen", "last_seen", "published",
                                               "object_modified", NULL};

struct fx_stix_checker {
    struct fx_jscan js;
};

struct fx_stix_checker *fx_stix_checker_new(void)
{
    struct fx_stix_checker *c = fx_xcalloc(1, sizeof(*c));
    fx_jscan_init(&c->js);
    return c;
}

void fx_stix_checker_free(struct fx_stix_checker *c)
{
    if (c == NULL)
        return;
    fx_jscan_cleanup(&c->js);
    free(c);
}

static bool ends_with(const char *s, size_t a, const char *suffix)
{
    size_t b = strlen(suffix);
    return a >= b && memcmp(s + a - b, suffix, b) == 0;
}

/* Member key of obj as a value token index, or -1. */
static long get(struct fx_jscan *js, size_t obj, const char *key)
{
    return fx_jscan_get(js, obj, key);
}

static enum fx_jtype type_of(const struct fx_jscan *js, long i)
{
    return (enum fx_jtype)js->tok[i].type;
}

static bool tok_is_id(struct fx_jscan *js, long i, const char *type)
{
    size_t len = 0;
    const char *v = i >= 0 ? fx_jscan_str(js, (size_t)i, &len) : NULL;
    return v != NULL && fx_stix_id_valid(v, len, type);
}

/* An integer token in [min, max] (no fraction, no exponent). */
static bool tok_int(const struct fx_jscan *js, long i, int64_t min, int64_t max)
{
    if (i < 0 || type_of(js, i) != FX_J_NUM)
        return false;
    const struct fx_jtok *t = &js->tok[i];
    int64_t v;
    return fx_parse_i64(js->p + t->start, t->end - t->start, min, max, &v) == FX_OK;
}

static bool tok_bool(const struct fx_jscan *js, long i)
{
    return i >= 0 && (type_of(js, i) == FX_J_TRUE || type_of(js, i) == FX_J_FALSE);
}

/* A timestamp property of obj: *us when present and valid; a problem when present and not. */
static bool timestamp_prop(struct fx_jscan *js, const char *key, struct fx_problem *pb,
                           int64_t *us)
{
    long i = get(js, 0, key);
    if (i < 0)
        return false;
    size_t len = 0;
    const char *v = fx_jscan_str(js, (size_t)i, &len);
    if (v == NULL || fx_stix_parse_timestamp(v, len, us) != FX_OK) {
        char ptr[64];
        snprintf(ptr, sizeof(ptr), "/%s", key);
        fx_problem_add(pb, ptr, "must be a UTC timestamp YYYY-MM-DDTHH:MM:SS[.s]Z");
        return false;
    }
    return true;
}

static void item_ptr(char *out, size_t n, const char *ptr, size_t i)
{
    char idx[24];
    snprintf(idx, sizeof(idx), "%zu", i);
    fx_json_ptr(out, n, ptr, idx);
}

/* The name of member token j, NUL-terminated, into buf (cut to fit). */
static const char *name_of(struct fx_jscan *js, size_t j, char *buf, size_t n)
{
    size_t len = 0;
    const char *v = fx_jscan_str(js, j, &len);
    if (len >= n)
        len = n - 1;
    memcpy(buf, v, len);
    buf[len] = '\0';
    return buf;
}

/*
 * STIX 2.1: every property whose name ends in _ref holds an identifier, every
 * one ending in _refs a list of them, at any depth. The scanner bounds the
 * depth (FX_MAX_JSON_DEPTH), so does this recursion.
 */
static void check_refs(struct fx_jscan *js, size_t v, const char *ptr, struct fx_problem *pb)
{
    char sub[256], key[256];
    const struct fx_jtok *t = &js->tok[v];
    if (t->type == FX_J_OBJ) {
        size_t j = v + 1, m = t->size;
        for (size_t k = 0; k < m; k++, j = js->tok[j + 1].next) {
            size_t klen = 0;
            const char *kp = fx_jscan_str(js, j, &klen);
            size_t x = j + 1;
            bool ref = ends_with(kp, klen, "_ref"), refs = ends_with(kp, klen, "_refs");
            enum fx_jtype xt = type_of(js, (long)x);
            if (!ref && !refs && xt != FX_J_OBJ && xt != FX_J_ARR)
                continue;
            name_of(js, j, key, sizeof(key));
            if (ref) {
                if (!tok_is_id(js, (long)x, NULL)) {
                    fx_json_ptr(sub, sizeof(sub), ptr, key);
                    fx_problem_add(pb, sub, "must be an identifier type--UUID");
                }
            } else if (refs) {
                fx_json_ptr(sub, sizeof(sub), ptr, key);
                if (xt != FX_J_ARR) {
                    fx_problem_add(pb, sub, "must be a list of identifiers type--UUID");
                    continue;
                }
                size_t e = x + 1;
                for (size_t i = 0; i < js->tok[x].size; i++, e = js->tok[e].next) {
                    if (!tok_is_id(js, (long)e, NULL)) {
                        char item[280];
                        item_ptr(item, sizeof(item), sub, i);
                        fx_problem_add(pb, item, "must be an identifier type--UUID");
                    }
                }
            } else {
                fx_json_ptr(sub, sizeof(sub), ptr, key);
                check_refs(js, x, sub, pb);
            }
        }
    } else if (t->type == FX_J_ARR) {
        size_t e = v + 1;
        for (size_t i = 0; i < t->size; i++, e = js->tok[e].next) {
            enum fx_jtype et = type_of(js, (long)e);
            if (et != FX_J_OBJ && et != FX_J_ARR)
                continue;
            item_ptr(sub, sizeof(sub), ptr, i);
            check_refs(js, e, sub, pb);
        }
    }
}

static bool prop_name_ok(const char *k, size_t n)
{
    if (n == 2 && memcmp(k, "id", 2) == 0)
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

static void check_common(struct fx_jscan *js, struct fx_problem *pb)
{
    long v;
    char ptr[64];
    if ((v = get(js, 0, "created_by_ref")) >= 0 && !tok_is_id(js, v, "identity"))
        fx_problem_add(pb, "/created_by_ref", "must be the identifier of an identity");
    if ((v = get(js, 0, "revoked")) >= 0 && !tok_bool(js, v))
        fx_problem_add(pb, "/revoked", "must be true or false");
    if ((v = get(js, 0, "confidence")) >= 0 && !tok_int(js, v, 0, 100))
        fx_problem_add(pb, "/confidence", "must be an integer from 0 to 100");
    if ((v = get(js, 0, "lang")) >= 0 && type_of(js, v) != FX_J_STR)
        fx_problem_add(pb, "/lang", "must be a language code (a string)");
    if ((v = get(js, 0, "labels")) >= 0) {
        bool ok = type_of(js, v) == FX_J_ARR && js->tok[v].size > 0;
        size_t e = (size_t)v + 1;
        for (size_t i = 0; ok && i < js->tok[v].size; i++, e = js->tok[e].next)
            ok = type_of(js, (long)e) == FX_J_STR && js->tok[e].end > js->tok[e].start;
        if (!ok)
            fx_problem_add(pb, "/labels", "must be a non-empty list of non-empty strings");
    }
    if ((v = get(js, 0, "external_references")) >= 0) {
        if (type_of(js, v) != FX_J_ARR) {
            fx_problem_add(pb, "/external_references", "must be a list of objects");
        } else {
            size_t e = (size_t)v + 1;
            for (size_t i = 0; i < js->tok[v].size; i++, e = js->tok[e].next) {
                long sn = type_of(js, (long)e) == FX_J_OBJ ? get(js, e, "source_name") : -1;
                if (sn < 0 || type_of(js, sn) != FX_J_STR) {
                    snprintf(ptr, sizeof(ptr), "/external_references/%zu", i);
                    fx_problem_add(pb, ptr, "must be an object with a source_name");
                }
            }
        }
    }
    if ((v = get(js, 0, "object_marking_refs")) >= 0) {
        if (type_of(js, v) != FX_J_ARR) {
            fx_problem_add(pb, "/object_marking_refs", "must be a list of marking-definition ids");
        } else {
            size_t e = (size_t)v + 1;
            for (size_t i = 0; i < js->tok[v].size; i++, e = js->tok[e].next) {
                if (!tok_is_id(js, (long)e, "marking-definition")) {
                    snprintf(ptr, sizeof(ptr), "/object_marking_refs/%zu", i);
                    fx_problem_add(pb, ptr, "must be the identifier of a marking-definition");
                }
            }
        }
    }
    if ((v = get(js, 0, "granular_markings")) >= 0) {
        if (type_of(js, v) != FX_J_ARR) {
            fx_problem_add(pb, "/granular_markings", "must be a list of granular markings");
        } else {
            size_t e = (size_t)v + 1;
            for (size_t i = 0; i < js->tok[v].size; i++, e = js->tok[e].next) {
                bool obj = type_of(js, (long)e) == FX_J_OBJ;
                long sel = obj ? get(js, e, "selectors") : -1;
                long ref = obj ? get(js, e, "marking_ref") : -1;
                long lang = obj ? get(js, e, "lang") : -1;
                if (!obj || sel < 0 || type_of(js, sel) != FX_J_ARR || js->tok[sel].size == 0 ||
                    (ref >= 0) == (lang >= 0) ||
                    (ref >= 0 && !tok_is_id(js, ref, "marking-definition"))) {
                    snprintf(ptr, sizeof(ptr), "/granular_markings/%zu", i);
                    fx_problem_add(pb, ptr, "must have selectors and one of marking_ref or lang");
                }
            }
        }
    }
    if ((v = get(js, 0, "extensions")) >= 0) {
        if (type_of(js, v) != FX_J_OBJ) {
            fx_problem_add(pb, "/extensions", "must be an object of extensions");
        } else {
            size_t j = (size_t)v + 1;
            for (size_t k = 0; k < js->tok[v].size; k++, j = js->tok[j + 1].next) {
                char name[256], eptr[300];
                size_t nl = 0;
                const char *kp = fx_jscan_str(js, j, &nl);
                bool ok = ends_with(kp, nl, "-ext") ||
                          fx_stix_id_valid(kp, nl, "extension-definition");
                if (!ok || type_of(js, (long)j + 1) != FX_J_OBJ) {
                    fx_json_ptr(eptr, sizeof(eptr), "/extensions", name_of(js, j, name, sizeof(name)));
                    fx_problem_add(pb, eptr, ok ? "must be an object"
                                                : "must be named extension-definition--UUID or *-ext");
                }
            }
        }
    }
}

static void check_indicator(struct fx_jscan *js, struct fx_problem *pb)
{
    long pat = get(js, 0, "pattern"), pt = get(js, 0, "pattern_type");
    if (pat >= 0 && type_of(js, pat) != FX_J_STR)
        fx_problem_add(pb, "/pattern", "must be a string");
    if (pt >= 0 && type_of(js, pt) != FX_J_STR)
        fx_problem_add(pb, "/pattern_type", "must be a string");
    if (pat >= 0 && pt >= 0 && type_of(js, pat) == FX_J_STR && fx_jscan_str_eq(js, (size_t)pt, "stix", 4)) {
        size_t len = 0;
        const char *v = fx_jscan_str(js, (size_t)pat, &len);
        struct fx_pattern_error perr;
        if (fx_pattern_validate(v, len, &perr) != FX_OK)
            fx_problem_add(pb, "/pattern", "not a valid STIX pattern: %s (at offset %zu)",
                           perr.message, perr.offset);
    }
    int64_t from = 0, until = 0;
    bool has_from = timestamp_prop(js, "valid_from", pb, &from);
    bool has_until = timestamp_prop(js, "valid_until", pb, &until);
    if (has_from && has_until && until <= from)
        fx_problem_add(pb, "/valid_until", "must be later than valid_from");
}

static void check_type_specific(struct fx_jscan *js, const char *type, struct fx_problem *pb)
{
    long v;
    int64_t a = 0, b = 0;
    if (strcmp(type, "indicator") == 0) {
        check_indicator(js, pb);
    } else if (strcmp(type, "relationship") == 0) {
        if ((v = get(js, 0, "relationship_type")) >= 0 &&
            (type_of(js, v) != FX_J_STR || js->tok[v].end == js->tok[v].start))
            fx_problem_add(pb, "/relationship_type", "must be a non-empty string");
    } else if (strcmp(type, "observed-data") == 0) {
        bool fa = timestamp_prop(js, "first_observed", pb, &a);
        bool fb = timestamp_prop(js, "last_observed", pb, &b);
        if (fa && fb && b < a)
            fx_problem_add(pb, "/last_observed", "must not be before first_observed");
        if ((v = get(js, 0, "number_observed")) >= 0 && !tok_int(js, v, 1, 999999999))
            fx_problem_add(pb, "/number_observed", "must be an integer from 1 to 999999999");
    } else if (strcmp(type, "malware") == 0) {
        if ((v = get(js, 0, "is_family")) >= 0 && !tok_bool(js, v))
            fx_problem_add(pb, "/is_family", "must be true or false");
        long name = get(js, 0, "name");
        if (v >= 0 && type_of(js, v) == FX_J_TRUE && (name < 0 || type_of(js, name) != FX_J_STR))
            fx_problem_add(pb, "/name", "required when is_family is true");
    } else if (strcmp(type, "marking-definition") == 0) {
        bool def = get(js, 0, "definition") >= 0 && get(js, 0, "definition_type") >= 0;
        if (!def && get(js, 0, "extensions") < 0)
            fx_problem_add(pb, "/definition", "required (with definition_type) unless the "
                                              "marking is defined by an extension");
    } else if (strcmp(type, "file") == 0) {
        if (get(js, 0, "hashes") < 0 && get(js, 0, "name") < 0)
            fx_problem_add(pb, "/name", "a file needs a name or hashes");
    }
    for (size_t i = 0; other_timestamps[i]; i++)
        timestamp_prop(js, other_timestamps[i], pb, &a);
}

/* Copies string token i (cut to fit) into out; false when it is not a string. */
static bool copy_str(struct fx_jscan *js, long i, char *out, size_t n)
{
    size_t len = 0;
    const char *v = i >= 0 ? fx_jscan_str(js, (size_t)i, &len) : NULL;
    if (v == NULL || len >= n) {
        out[0] = '\0';
        return false;
    }
    memcpy(out, v, len);
    out[len] = '\0';
    return true;
}

/* Folds each item of the top-level array name (or its member, when not NULL) into the level. */
static void fold_scanned(struct fx_jscan *js, const char *name, const char *member,
                         enum fx_tlp *level, bool *found)
{
    long v = get(js, 0, name);
    if (v < 0 || type_of(js, v) != FX_J_ARR)
        return;
    size_t e = (size_t)v + 1;
    for (size_t i = 0; i < js->tok[v].size; i++, e = js->tok[e].next) {
        long at = member ? get(js, e, member) : (long)e; /* -1 when the item is not an object */
        size_t len = 0;
        const char *s = at >= 0 ? fx_jscan_str(js, (size_t)at, &len) : NULL;
        fold_ref(s, len, level, found);
    }
}

/* fx_stix_object_tlp(), read from the checker's tokens: no tree is built. */
static enum fx_tlp marking_tlp(struct fx_jscan *js, bool *found)
{
    enum fx_tlp level = FX_TLP_CLEAR;
    *found = false;
    fold_scanned(js, "object_marking_refs", NULL, &level, found);
    fold_scanned(js, "granular_markings", "marking_ref", &level, found);
    return *found ? level : FX_TLP_AMBER;
}

enum fx_err fx_stix_check(struct fx_stix_checker *c, const char *p, size_t len,
                          struct fx_problem *pb, struct fx_stix_summary *out)
{
    struct fx_jscan *js = &c->js;
    size_t before = pb->n;
    char msg[200];
    memset(out, 0, sizeof(*out));
    if (fx_jscan(js, p, len, msg, sizeof(msg)) != FX_OK) {
        fx_problem_add(pb, "", "not valid JSON: %s", msg);
        return FX_EINVAL;
    }
    if (type_of(js, 0) != FX_J_OBJ) {
        fx_problem_add(pb, "", "a STIX object must be a JSON object");
        return FX_EINVAL;
    }
    long jt = get(js, 0, "type"), jid = get(js, 0, "id");
    const char *type = NULL;
    if (jt < 0) {
        fx_problem_add(pb, "/type", "required: the object's type");
    } else if (!copy_str(js, jt, out->type, sizeof(out->type)) ||
               !fx_stix_type_valid(out->type, strlen(out->type))) {
        if (strcmp(out->type, "bundle") == 0)
            fx_problem_add(pb, "/type", "a bundle is not an object: post the objects it holds");
        else
            fx_problem_add(pb, "/type", "must be 3-250 characters of a-z, 0-9 and '-'");
    } else if (strcmp(out->type, "bundle") == 0) {
        fx_problem_add(pb, "/type", "a bundle is not an object: post the objects it holds");
    } else {
        type = out->type;
    }
    copy_str(js, jid, out->id, sizeof(out->id));
    if (jid < 0)
        fx_problem_add(pb, "/id", "required: type--UUID");
    else if (!tok_is_id(js, jid, NULL))
        fx_problem_add(pb, "/id", "must be type--UUID (an RFC 4122 UUID)");
    else if (type && !tok_is_id(js, jid, type))
        fx_problem_add(pb, "/id", "must start with the object's type (%s--)", type);

    enum kind kind = K_SDO; /* unknown (custom) types carry the SDO common properties */
    const char *const *required = NULL;
    for (size_t i = 0; type && i < FX_ARRAY_LEN(known); i++)
        if (strcmp(known[i].type, type) == 0) {
            kind = known[i].kind;
            required = known[i].required;
        }
    bool is_marking = type && strcmp(type, "marking-definition") == 0;

    long sv = get(js, 0, "spec_version");
    if (sv < 0 && kind != K_SCO)
        fx_problem_add(pb, "/spec_version", "required: \"2.1\"");
    else if (sv >= 0 && !fx_jscan_str_eq(js, (size_t)sv, "2.1", 3))
        fx_problem_add(pb, "/spec_version", "must be \"2.1\": only STIX 2.1 is accepted");

    int64_t created = 0, modified = 0;
    bool has_created = timestamp_prop(js, "created", pb, &created);
    bool has_modified = timestamp_prop(js, "modified", pb, &modified);
    if (kind != K_SCO) {
        if (get(js, 0, "created") < 0)
            fx_problem_add(pb, "/created", "required: when the object was created");
        if (!is_marking && get(js, 0, "modified") < 0)
            fx_problem_add(pb, "/modified", "required: when this version was made");
    }
    if (has_created && has_modified && modified < created)
        fx_problem_add(pb, "/modified", "must not be before created");
    if (has_modified)
        copy_str(js, get(js, 0, "modified"), out->version, sizeof(out->version));
    else if (has_created)
        copy_str(js, get(js, 0, "created"), out->version, sizeof(out->version));
    out->version_us = has_modified ? modified : has_created ? created : 0;

    size_t j = 1;
    for (size_t k = 0; k < js->tok[0].size; k++, j = js->tok[j + 1].next) {
        size_t nl = 0;
        const char *kp = fx_jscan_str(js, j, &nl);
        if (!prop_name_ok(kp, nl)) {
            char name[256], ptr[300];
            fx_json_ptr(ptr, sizeof(ptr), "", name_of(js, j, name, sizeof(name)));
            fx_problem_add(pb, ptr, "property names are 3-250 of a-z, A-Z, 0-9 and '_'");
        }
    }
    for (size_t i = 0; required && i < 5 && required[i]; i++)
        if (get(js, 0, required[i]) < 0) {
            char ptr[64];
            snprintf(ptr, sizeof(ptr), "/%s", required[i]);
            fx_problem_add(pb, ptr, "required for a%s %s", strchr("aeiou", type[0]) ? "n" : "",
                           type);
        }
    check_common(js, pb);
    check_refs(js, 0, "", pb);
    if (type)
        check_type_specific(js, type, pb);
    out->tlp = marking_tlp(js, &out->marked);
    return pb->n > before || pb->truncated ? FX_EINVAL : FX_OK;
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
