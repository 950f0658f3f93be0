/*
 * json.c: the checked door between outside JSON and typed values.
 */
#include "common/json.h"
#include "common/buf.h"
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
    /* No JSON text holds a raw NUL byte (in a string it must be escaped), but
     * jansson's reader skips one between tokens: "[1,2\0,3]" would read as
     * [1,2,3]. Refused here, so every reader of outside JSON agrees. */
    const char *nul = memchr(p, '\0', len);
    if (nul != NULL) {
        snprintf(msg, msg_len, "malformed JSON: a NUL byte at offset %zu", (size_t)(nul - p));
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
    size_t plen = strlen(ptr), o = plen + 1;
    if (o < n) { /* the common case, without snprintf: one per field a body is checked for */
        memcpy(buf, ptr, plen);
        buf[plen] = '/';
    } else {
        snprintf(buf, n, "%s/", ptr);
    }
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

/*
 * fx_json_canonical() writes what json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS |
 * JSON_REAL_PRECISION(FX_JSON_REAL_DIGITS)) writes, byte for byte, in a third
 * of the time (fx_json_compact() the same without JSON_SORT_KEYS, for answers): hashed documents (notice versions, screenings) are rendered on
 * every write, and jansson's general dumper (a callback per fragment, a
 * malloc'd and qsorted key array per object) was a fifth of a policy
 * application. Every rule below is jansson 2.14's; tests/unit/test_json.c and
 * fuzz/fuzz_json_body.c compare the two on every document they see.
 */
static void put(struct fx_buf *b, const void *p, size_t n)
{
    if (fx_buf_add(b, p, n) != FX_OK)
        fx_die("out of memory");
}

/* jansson's dump_string: '"', '\\' and the C0 controls escaped, the rest as is. */
static void put_string(struct fx_buf *b, const char *s, size_t n)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t run = 0;
    put(b, "\"", 1);
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c != '"' && c != '\\')
            continue;
        put(b, s + run, i - run);
        run = i + 1;
        char e[6] = {'\\', 0, 0, 0, 0, 0};
        size_t k = 2;
        switch (c) {
        case '"': e[1] = '"'; break;
        case '\\': e[1] = '\\'; break;
        case '\b': e[1] = 'b'; break;
        case '\f': e[1] = 'f'; break;
        case '\n': e[1] = 'n'; break;
        case '\r': e[1] = 'r'; break;
        case '\t': e[1] = 't'; break;
        default:
            memcpy(e + 1, "u00", 3);
            e[4] = hex[c >> 4];
            e[5] = hex[c & 15];
            k = 6;
        }
        put(b, e, k);
    }
    put(b, s + run, n - run);
    put(b, "\"", 1);
}

void fx_json_add_string(struct fx_buf *b, const char *s, size_t n)
{
    put_string(b, s, n);
}

/* jansson's jsonp_dtostr: %.*g, then ".0" when it reads as an integer, and the
 * exponent without '+' or leading zeros. */
static void put_real(struct fx_buf *b, double d)
{
    char t[64];
    int n = snprintf(t, sizeof(t) - 2, "%.*g", FX_JSON_REAL_DIGITS, d);
    if (n < 0 || (size_t)n >= sizeof(t) - 2)
        fx_die("real out of range");
    size_t len = (size_t)n;
    if (strchr(t, '.') == NULL && strchr(t, 'e') == NULL) {
        memcpy(t + len, ".0", 3);
        len += 2;
    }
    char *e = strchr(t, 'e');
    if (e != NULL) {
        char *start = e + 1, *end = e + 2;
        if (*start == '-')
            start++;
        while (*end == '0')
            end++;
        if (end != start) {
            memmove(start, end, len - (size_t)(end - t) + 1);
            len -= (size_t)(end - start);
        }
    }
    put(b, t, len);
}

struct key {
    const char *s;
    size_t n;
    json_t *v;
};

static int key_cmp(const void *a, const void *b)
{
    const struct key *x = a, *y = b;
    int r = memcmp(x->s, y->s, x->n < y->n ? x->n : y->n);
    return r != 0 ? r : (x->n > y->n) - (x->n < y->n);
}

static void put_value(struct fx_buf *b, const json_t *v, bool sorted);

/* Members in key order when sorted, else in insertion order (jansson's order without SORT_KEYS). */
static void put_object(struct fx_buf *b, const json_t *v, bool sorted)
{
    size_t n = json_object_size(v), i = 0;
    struct key small[16];
    struct key *keys = n <= FX_ARRAY_LEN(small) ? small : fx_xmalloc(n * sizeof(*keys));
    const char *k;
    size_t klen;
    json_t *x;
    json_t *obj; /* jansson iterates non-const objects; nothing here changes it */
    memcpy(&obj, &v, sizeof(obj));
    json_object_keylen_foreach(obj, k, klen, x)
    {
        keys[i++] = (struct key){k, klen, x};
    }
    if (sorted)
        qsort(keys, n, sizeof(*keys), key_cmp);
    put(b, "{", 1);
    for (i = 0; i < n; i++) {
        if (i > 0)
            put(b, ",", 1);
        put_string(b, keys[i].s, keys[i].n);
        put(b, ":", 1);
        put_value(b, keys[i].v, sorted);
    }
    put(b, "}", 1);
    if (keys != small)
        free(keys);
}

static void put_value(struct fx_buf *b, const json_t *v, bool sorted)
{
    char t[32];
    switch (json_typeof(v)) {
    case JSON_OBJECT:
        put_object(b, v, sorted);
        break;
    case JSON_ARRAY:
        put(b, "[", 1);
        for (size_t i = 0; i < json_array_size(v); i++) {
            if (i > 0)
                put(b, ",", 1);
            put_value(b, json_array_get(v, i), sorted);
        }
        put(b, "]", 1);
        break;
    case JSON_STRING:
        put_string(b, json_string_value(v), json_string_length(v));
        break;
    case JSON_INTEGER:
        put(b, t, fx_format_i64(json_integer_value(v), t));
        break;
    case JSON_REAL:
        put_real(b, json_real_value(v));
        break;
    case JSON_TRUE:
        put(b, "true", 4);
        break;
    case JSON_FALSE:
        put(b, "false", 5);
        break;
    case JSON_NULL:
        put(b, "null", 4);
        break;
    }
}

static char *render(const json_t *v, bool sorted, size_t *len_out)
{
    struct fx_buf b;
    size_t len = 0;
    fx_buf_init(&b, SIZE_MAX / 2);
    put_value(&b, v, sorted);
    if (b.p == NULL)
        put(&b, "", 0);
    char *out = fx_buf_take(&b, &len);
    if (len_out)
        *len_out = len;
    return out;
}

char *fx_json_canonical(const json_t *v, size_t *len_out)
{
    return render(v, true, len_out);
}

char *fx_json_compact(const json_t *v, size_t *len_out)
{
    return render(v, false, len_out);
}
