/*
 * json.c: the checked door between outside JSON and typed values.
 */
#include "common/json.h"
#include "common/limits.h"
#include "common/parse.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

size_t fx_json_depth(const char *p, size_t len)
{
    size_t depth = 0, max = 0;
    bool in_str = false;
    for (size_t i = 0; i < len; i++) {
        char c = p[i];
        if (in_str) {
            if (c == '\\')
                i++;
            else if (c == '"')
                in_str = false;
            continue;
        }
        if (c == '"') {
            in_str = true;
        } else if (c == '[' || c == '{') {
            if (++depth > max)
                max = depth;
        } else if ((c == ']' || c == '}') && depth > 0) {
            depth--;
        }
    }
    return max;
}

enum fx_err fx_json_parse(const char *p, size_t len, json_t **out, char *msg, size_t msg_len)
{
    *out = NULL;
    if (fx_json_depth(p, len) > FX_MAX_JSON_DEPTH) {
        snprintf(msg, msg_len, "JSON nested deeper than %d levels", FX_MAX_JSON_DEPTH);
        return FX_EINVAL;
    }
    json_error_t e;
    json_t *v = json_loadb(p, len, JSON_REJECT_DUPLICATES, &e);
    if (v == NULL) {
        snprintf(msg, msg_len, "malformed JSON at line %d, column %d: %s", e.line, e.column,
                 e.text);
        return FX_EINVAL;
    }
    *out = v;
    return FX_OK;
}

void fx_json_ptr(char *buf, size_t n, const char *ptr, const char *key)
{
    size_t o = (size_t)snprintf(buf, n, "%s/", ptr);
    for (const char *k = key; *k && o + 3 < n; k++) {
        if (*k == '~') {
            buf[o++] = '~';
            buf[o++] = '0';
        } else if (*k == '/') {
            buf[o++] = '~';
            buf[o++] = '1';
        } else {
            buf[o++] = *k;
        }
    }
    if (o < n)
        buf[o] = '\0';
    else if (n)
        buf[n - 1] = '\0';
}

bool fx_json_in(const char *s, const char *const *values)
{
    for (size_t i = 0; values[i]; i++)
        if (strcmp(s, values[i]) == 0)
            return true;
    return false;
}

void fx_json_only_keys(json_t *obj, const char *const *allowed, const char *ptr,
                       struct fx_problem *pb)
{
    const char *key;
    json_t *v;
    char fp[512];
    json_object_foreach(obj, key, v)
    {
        (void)v;
        if (!fx_json_in(key, allowed)) {
            fx_json_ptr(fp, sizeof(fp), ptr, key);
            fx_problem_add(pb, fp, "unknown field");
        }
    }
}

/* Looks key up; handles absence/null and the required check. Returns the value or NULL. */
static json_t *lookup(const json_t *obj, const char *key, const char *ptr, bool required,
                      struct fx_problem *pb, char *fp, size_t fp_len, bool *present)
{
    fx_json_ptr(fp, fp_len, ptr, key);
    if (present)
        *present = false;
    json_t *v = json_object_get(obj, key);
    if (v == NULL || json_is_null(v)) {
        if (required)
            fx_problem_add(pb, fp, "required");
        return NULL;
    }
    return v;
}

void fx_json_get_str(const json_t *obj, const char *key, const char *ptr, bool required,
                     size_t max_len, struct fx_problem *pb, const char **out, bool *present)
{
    char fp[512];
    json_t *v = lookup(obj, key, ptr, required, pb, fp, sizeof(fp), present);
    if (v == NULL)
        return;
    if (!json_is_string(v)) {
        fx_problem_add(pb, fp, "must be a string");
        return;
    }
    size_t len = json_string_length(v);
    if (len > max_len) {
        fx_problem_add(pb, fp, "longer than %zu bytes", max_len);
        return;
    }
    if (required && len == 0) {
        fx_problem_add(pb, fp, "must not be empty");
        return;
    }
    if (!fx_utf8_valid(json_string_value(v), len)) {
        fx_problem_add(pb, fp, "must be UTF-8 text without NUL characters");
        return;
    }
    *out = json_string_value(v);
    if (present)
        *present = true;
}

void fx_json_get_enum(const json_t *obj, const char *key, const char *ptr, bool required,
                      const char *const *values, struct fx_problem *pb, const char **out,
                      bool *present)
{
    char fp[512];
    json_t *v = lookup(obj, key, ptr, required, pb, fp, sizeof(fp), present);
    if (v == NULL)
        return;
    if (!json_is_string(v) || !fx_json_in(json_string_value(v), values)) {
        char allowed[512];
        size_t o = 0;
        for (size_t i = 0; values[i] && o < sizeof(allowed); i++)
            o += (size_t)snprintf(allowed + o, sizeof(allowed) - o, "%s%s", i ? ", " : "",
                                  values[i]);
        fx_problem_add(pb, fp, "must be one of: %s", allowed);
        return;
    }
    *out = json_string_value(v);
    if (present)
        *present = true;
}

void fx_json_get_date(const json_t *obj, const char *key, const char *ptr, bool required,
                      struct fx_problem *pb, int64_t *days_out, bool *present)
{
    char fp[512];
    json_t *v = lookup(obj, key, ptr, required, pb, fp, sizeof(fp), present);
    if (v == NULL)
        return;
    if (!json_is_string(v) ||
        fx_parse_date(json_string_value(v), json_string_length(v), days_out) != FX_OK) {
        fx_problem_add(pb, fp, "must be a calendar date YYYY-MM-DD");
        return;
    }
    if (present)
        *present = true;
}

void fx_json_get_number(const json_t *obj, const char *key, const char *ptr, bool required,
                        double min, struct fx_problem *pb, double *out, bool *present)
{
    char fp[512];
    json_t *v = lookup(obj, key, ptr, required, pb, fp, sizeof(fp), present);
    if (v == NULL)
        return;
    if (!json_is_number(v)) {
        fx_problem_add(pb, fp, "must be a number");
        return;
    }
    double d = json_number_value(v);
    /* past 1e308 the canonical 15-digit form would round beyond DBL_MAX and never read back */
    if (!isfinite(d) || d < min || fabs(d) > FX_JSON_MAX_MAGNITUDE) {
        fx_problem_add(pb, fp, "must be a number >= %g and at most %g in magnitude", min,
                       FX_JSON_MAX_MAGNITUDE);
        return;
    }
    *out = d;
    if (present)
        *present = true;
}

void fx_json_get_int(const json_t *obj, const char *key, const char *ptr, bool required,
                     int64_t min, int64_t max, struct fx_problem *pb, int64_t *out,
                     bool *present)
{
    char fp[512];
    json_t *v = lookup(obj, key, ptr, required, pb, fp, sizeof(fp), present);
    if (v == NULL)
        return;
    if (!json_is_integer(v)) {
        fx_problem_add(pb, fp, "must be an integer");
        return;
    }
    json_int_t i = json_integer_value(v);
    if (i < min || i > max) {
        fx_problem_add(pb, fp, "must be an integer from %lld to %lld", (long long)min,
                       (long long)max);
        return;
    }
    *out = i;
    if (present)
        *present = true;
}

void fx_json_get_bool(const json_t *obj, const char *key, const char *ptr, bool required,
                      struct fx_problem *pb, bool *out, bool *present)
{
    char fp[512];
    json_t *v = lookup(obj, key, ptr, required, pb, fp, sizeof(fp), present);
    if (v == NULL)
        return;
    if (!json_is_boolean(v)) {
        fx_problem_add(pb, fp, "must be true or false");
        return;
    }
    *out = json_is_true(v);
    if (present)
        *present = true;
}

char *fx_json_canonical(const json_t *v, size_t *len_out)
{
    char *s = json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS | JSON_REAL_PRECISION(FX_JSON_REAL_DIGITS));
    if (s == NULL)
        fx_die("json_dumps failed");
    if (len_out)
        *len_out = strlen(s);
    return s;
}
