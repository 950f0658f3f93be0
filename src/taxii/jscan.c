/*
 * jscan.c: a strict JSON scanner into a flat token array (taxii_int.h). It
 * refuses what fx_json_parse() refuses (malformed JSON, duplicate member
 * names, NUL, invalid UTF-8, nesting deeper than FX_MAX_JSON_DEPTH) and
 * allocates only when its reusable arrays must grow. An explicit stack, bounded
 * by the depth limit, replaces recursion.
 */
#include "taxii/taxii_int.h"
#include "common/limits.h"
#include "common/parse.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void fx_jscan_init(struct fx_jscan *s)
{
    memset(s, 0, sizeof(*s));
}

void fx_jscan_cleanup(struct fx_jscan *s)
{
    free(s->tok);
    free(s->text);
    memset(s, 0, sizeof(*s));
}

__attribute__((format(printf, 3, 4))) static enum fx_err fail(char *msg, size_t n, const char *fmt,
                                                              ...)
{
    va_list ap;
    va_start(ap, fmt);
    if (msg && n)
        vsnprintf(msg, n, fmt, ap);
    va_end(ap);
    return FX_EINVAL;
}

static size_t ws(const char *p, size_t len, size_t i)
{
    while (i < len && (p[i] == ' ' || p[i] == '\t' || p[i] == '\n' || p[i] == '\r'))
        i++;
    return i;
}

static size_t push(struct fx_jscan *s, enum fx_jtype type, size_t start)
{
    if (s->n == s->cap) {
        s->cap = s->cap ? s->cap * 2 : 256;
        s->tok = fx_xrealloc(s->tok, s->cap * sizeof(*s->tok));
    }
    struct fx_jtok *t = &s->tok[s->n];
    memset(t, 0, sizeof(*t));
    t->type = (unsigned char)type;
    t->start = (uint32_t)start;
    return s->n++;
}

static int hex4(const char *p)
{
    int v = 0;
    for (int k = 0; k < 4; k++) {
        char c = p[k];
        int d = c >= '0' && c <= '9'   ? c - '0'
                : c >= 'a' && c <= 'f' ? c - 'a' + 10
                : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                       : -1;
        if (d < 0)
            return -1;
        v = v * 16 + d;
    }
    return v;
}

/* p[i] is '"': checks the string; *end_out is the index of the closing quote. */
static enum fx_err scan_string(const char *p, size_t len, size_t i, size_t *end_out, bool *esc,
                               char *msg, size_t n)
{
    size_t start = ++i;
    unsigned char seen = 0; /* every byte or'ed: a string of ASCII needs no UTF-8 pass */
    *esc = false;
    while (i < len) {
        unsigned char c = (unsigned char)p[i];
        if (c >= 0x20 && c != '"' && c != '\\') {
            seen |= c;
            i++;
            continue;
        }
        if (c == '"') {
            if ((seen & 0x80) && !fx_utf8_valid(p + start, i - start))
                return fail(msg, n, "invalid UTF-8 in a string at byte %zu", start);
            *end_out = i;
            return FX_OK;
        }
        if (c < 0x20)
            return fail(msg, n, "a control character in a string at byte %zu", i);
        *esc = true;
        if (i + 1 >= len)
            break;
        char e = p[i + 1];
        if (strchr("\"\\/bfnrt", e) != NULL && e != '\0') {
            i += 2;
            continue;
        }
        if (e != 'u' || i + 6 > len)
            return fail(msg, n, "a bad escape in a string at byte %zu", i);
        int u = hex4(p + i + 2);
        if (u < 0)
            return fail(msg, n, "a bad \\u escape at byte %zu", i);
        if (u == 0)
            return fail(msg, n, "\\u0000 (NUL) in a string at byte %zu", i);
        if (u >= 0xdc00 && u <= 0xdfff)
            return fail(msg, n, "a lone low surrogate at byte %zu", i);
        if (u >= 0xd800 && u <= 0xdbff) {
            int lo = i + 12 <= len && p[i + 6] == '\\' && p[i + 7] == 'u' ? hex4(p + i + 8) : -1;
            if (lo < 0xdc00 || lo > 0xdfff)
                return fail(msg, n, "a lone high surrogate at byte %zu", i);
            i += 12;
            continue;
        }
        i += 6;
    }
    return fail(msg, n, "a string that does not end (from byte %zu)", start - 1);
}

/* p[0..len) is a real in JSON syntax, so strtod reads all of it. */
static bool real_overflows(const char *p, size_t len)
{
    char small[64];
    char *buf = len < sizeof(small) ? small : fx_xmalloc(len + 1); /* owned when not small */
    memcpy(buf, p, len);
    buf[len] = '\0';
    errno = 0;
    double d = strtod(buf, NULL);
    bool over = errno == ERANGE && (d == HUGE_VAL || d == -HUGE_VAL);
    if (buf != small)
        free(buf);
    return over;
}

static enum fx_err scan_number(const char *p, size_t len, size_t i, size_t *end_out, char *msg,
                               size_t n)
{
    size_t s = i;
    if (i < len && p[i] == '-')
        i++;
    if (i < len && p[i] == '0') {
        i++;
    } else if (i < len && p[i] >= '1' && p[i] <= '9') {
        while (i < len && p[i] >= '0' && p[i] <= '9')
            i++;
    } else {
        return fail(msg, n, "unexpected character at byte %zu", s);
    }
    if (i < len && p[i] == '.') {
        size_t d = ++i;
        while (i < len && p[i] >= '0' && p[i] <= '9')
            i++;
        if (i == d)
            return fail(msg, n, "a number without digits after '.' at byte %zu", s);
    }
    if (i < len && (p[i] == 'e' || p[i] == 'E')) {
        i++;
        if (i < len && (p[i] == '+' || p[i] == '-'))
            i++;
        size_t d = i;
        while (i < len && p[i] >= '0' && p[i] <= '9')
            i++;
        if (i == d)
            return fail(msg, n, "a number without exponent digits at byte %zu", s);
    }
    /* as jansson reads numbers: integers that fit in 64 bits, reals that do
     * not overflow (one too small for a double reads as zero, at any length) */
    bool integer = memchr(p + s, '.', i - s) == NULL && memchr(p + s, 'e', i - s) == NULL &&
                   memchr(p + s, 'E', i - s) == NULL;
    int64_t iv;
    if (integer ? fx_parse_i64(p + s, i - s, INT64_MIN, INT64_MAX, &iv) != FX_OK
                : real_overflows(p + s, i - s))
        return fail(msg, n, "a number out of range at byte %zu", s);
    *end_out = i;
    return FX_OK;
}

/* Unescapes string token t into out (room for its raw length + 1); returns the length. */
static size_t unescape(const char *p, const struct fx_jtok *t, char *out)
{
    size_t o = 0;
    for (size_t i = t->start; i < t->end; i++) {
        if (p[i] != '\\') {
            out[o++] = p[i];
            continue;
        }
        char e = p[++i];
        switch (e) {
        case 'b': out[o++] = '\b'; break;
        case 'f': out[o++] = '\f'; break;
        case 'n': out[o++] = '\n'; break;
        case 'r': out[o++] = '\r'; break;
        case 't': out[o++] = '\t'; break;
        case 'u': {
            unsigned long u = (unsigned long)hex4(p + i + 1);
            i += 4;
            if (u >= 0xd800 && u <= 0xdbff) {
                unsigned long lo = (unsigned long)hex4(p + i + 3);
                u = 0x10000 + ((u - 0xd800) << 10) + (lo - 0xdc00);
                i += 6;
            }
            if (u < 0x80) {
                out[o++] = (char)u;
            } else if (u < 0x800) {
                out[o++] = (char)(0xc0 | (u >> 6));
                out[o++] = (char)(0x80 | (u & 0x3f));
            } else if (u < 0x10000) {
                out[o++] = (char)(0xe0 | (u >> 12));
                out[o++] = (char)(0x80 | ((u >> 6) & 0x3f));
                out[o++] = (char)(0x80 | (u & 0x3f));
            } else {
                out[o++] = (char)(0xf0 | (u >> 18));
                out[o++] = (char)(0x80 | ((u >> 12) & 0x3f));
                out[o++] = (char)(0x80 | ((u >> 6) & 0x3f));
                out[o++] = (char)(0x80 | (u & 0x3f));
            }
            break;
        }
        default: out[o++] = e; break; /* " \ / */
        }
    }
    out[o] = '\0';
    return o;
}

struct name {
    const char *p;
    size_t len;
    char *owned;
};

static int name_cmp(const void *a, const void *b)
{
    const struct name *x = a, *y = b;
    size_t n = x->len < y->len ? x->len : y->len;
    int c = memcmp(x->p, y->p, n);
    return c ? c : (x->len > y->len) - (x->len < y->len);
}

/* Refuses an object whose members share a name (as jansson's JSON_REJECT_DUPLICATES). */
static enum fx_err check_names(const struct fx_jscan *s, size_t obj, char *msg, size_t n)
{
    size_t m = s->tok[obj].size;
    if (m < 2)
        return FX_OK;
    struct name small[16];
    struct name *names = m <= 16 ? small : fx_xmalloc(m * sizeof(*names));
    size_t j = obj + 1;
    for (size_t k = 0; k < m; k++) {
        const struct fx_jtok *t = &s->tok[j];
        names[k].owned = NULL;
        if (t->esc) {
            names[k].owned = fx_xmalloc(t->end - t->start + 1);
            names[k].len = unescape(s->p, t, names[k].owned);
            names[k].p = names[k].owned;
        } else {
            names[k].p = s->p + t->start;
            names[k].len = t->end - t->start;
        }
        j = s->tok[j + 1].next;
    }
    enum fx_err err = FX_OK;
    if (m <= 16) {
        for (size_t a = 0; a < m && err == FX_OK; a++)
            for (size_t b = a + 1; b < m && err == FX_OK; b++)
                if (name_cmp(&names[a], &names[b]) == 0)
                    err = FX_EINVAL;
    } else {
        qsort(names, m, sizeof(*names), name_cmp);
        for (size_t a = 1; a < m && err == FX_OK; a++)
            if (name_cmp(&names[a - 1], &names[a]) == 0)
                err = FX_EINVAL;
    }
    for (size_t k = 0; k < m; k++)
        free(names[k].owned);
    if (names != small)
        free(names);
    return err == FX_OK ? FX_OK : fail(msg, n, "duplicate member name in an object at byte %u",
                                       s->tok[obj].start);
}

enum fx_err fx_jscan(struct fx_jscan *s, const char *p, size_t len, char *msg, size_t msg_len)
{
    size_t stack[FX_MAX_JSON_DEPTH + 1];
    size_t sp = 0, i, end;
    bool esc;
    enum fx_err err;
    s->n = 0;
    s->p = p;
    if (len >= UINT32_MAX)
        return fail(msg, msg_len, "the value is too large");
    i = ws(p, len, 0);
value:
    if (i >= len)
        return fail(msg, msg_len, "unexpected end of the value");
    switch (p[i]) {
    case '{':
    case '[': {
        if (sp == FX_MAX_JSON_DEPTH)
            return fail(msg, msg_len, "JSON nested deeper than %d levels", FX_MAX_JSON_DEPTH);
        bool obj = p[i] == '{';
        size_t t = push(s, obj ? FX_J_OBJ : FX_J_ARR, i);
        stack[sp++] = t;
        i = ws(p, len, i + 1);
        if (i < len && p[i] == (obj ? '}' : ']')) {
            s->tok[t].end = (uint32_t)(i + 1);
            s->tok[t].next = (uint32_t)s->n;
            sp--;
            i++;
            goto after;
        }
        if (obj)
            goto key;
        goto value;
    }
    case '"': {
        err = scan_string(p, len, i, &end, &esc, msg, msg_len);
        if (err != FX_OK)
            return err;
        size_t t = push(s, FX_J_STR, i + 1);
        s->tok[t].end = (uint32_t)end;
        s->tok[t].esc = esc;
        s->tok[t].next = (uint32_t)s->n;
        i = end + 1;
        goto after;
    }
    case 't':
    case 'f':
    case 'n': {
        static const char *const words[] = {"true", "false", "null"};
        static const enum fx_jtype types[] = {FX_J_TRUE, FX_J_FALSE, FX_J_NULL};
        int k = p[i] == 't' ? 0 : p[i] == 'f' ? 1 : 2;
        size_t wl = strlen(words[k]);
        if (len - i < wl || memcmp(p + i, words[k], wl) != 0)
            return fail(msg, msg_len, "unexpected character at byte %zu", i);
        size_t t = push(s, types[k], i);
        s->tok[t].end = (uint32_t)(i + wl);
        s->tok[t].next = (uint32_t)s->n;
        i += wl;
        goto after;
    }
    default: {
        err = scan_number(p, len, i, &end, msg, msg_len);
        if (err != FX_OK)
            return err;
        size_t t = push(s, FX_J_NUM, i);
        s->tok[t].end = (uint32_t)end;
        s->tok[t].next = (uint32_t)s->n;
        i = end;
        goto after;
    }
    }
key:
    if (i >= len || p[i] != '"')
        return fail(msg, msg_len, "expected a member name at byte %zu", i);
    err = scan_string(p, len, i, &end, &esc, msg, msg_len);
    if (err != FX_OK)
        return err;
    {
        size_t t = push(s, FX_J_STR, i + 1);
        s->tok[t].end = (uint32_t)end;
        s->tok[t].esc = esc;
        s->tok[t].next = (uint32_t)s->n;
    }
    s->tok[stack[sp - 1]].size++;
    i = ws(p, len, end + 1);
    if (i >= len || p[i] != ':')
        return fail(msg, msg_len, "expected ':' at byte %zu", i);
    i = ws(p, len, i + 1);
    goto value;
after:
    if (sp == 0) {
        if (ws(p, len, i) != len)
            return fail(msg, msg_len, "bytes after the end of the value (byte %zu)", i);
        return FX_OK;
    }
    {
        size_t top = stack[sp - 1];
        bool obj = s->tok[top].type == FX_J_OBJ;
        if (!obj)
            s->tok[top].size++;
        i = ws(p, len, i);
        if (i < len && p[i] == ',') {
            i = ws(p, len, i + 1);
            if (obj)
                goto key;
            goto value;
        }
        if (i < len && p[i] == (obj ? '}' : ']')) {
            s->tok[top].end = (uint32_t)(i + 1);
            s->tok[top].next = (uint32_t)s->n;
            if (obj) {
                err = check_names(s, top, msg, msg_len);
                if (err != FX_OK)
                    return err;
            }
            sp--;
            i++;
            goto after;
        }
        return fail(msg, msg_len, "expected ',' or '%c' at byte %zu", obj ? '}' : ']', i);
    }
}

bool fx_jscan_str_eq(struct fx_jscan *s, size_t i, const char *v, size_t n)
{
    const struct fx_jtok *t = &s->tok[i];
    if (t->type != FX_J_STR)
        return false;
    if (!t->esc)
        return t->end - t->start == n && memcmp(s->p + t->start, v, n) == 0;
    size_t len = 0;
    const char *u = fx_jscan_str(s, i, &len);
    return len == n && memcmp(u, v, n) == 0;
}

long fx_jscan_get(struct fx_jscan *s, size_t obj, const char *key)
{
    const struct fx_jtok *o = &s->tok[obj];
    if (o->type != FX_J_OBJ)
        return -1;
    size_t kl = strlen(key), j = obj + 1;
    for (size_t m = 0; m < o->size; m++) {
        const struct fx_jtok *t = &s->tok[j];
        if (!t->esc && t->end - t->start == kl && memcmp(s->p + t->start, key, kl) == 0)
            return (long)(j + 1);
        if (t->esc && fx_jscan_str_eq(s, j, key, kl))
            return (long)(j + 1);
        j = s->tok[j + 1].next;
    }
    return -1;
}

const char *fx_jscan_str(struct fx_jscan *s, size_t i, size_t *len_out)
{
    const struct fx_jtok *t = &s->tok[i];
    if (t->type != FX_J_STR)
        return NULL;
    if (!t->esc) {
        *len_out = t->end - t->start;
        return s->p + t->start;
    }
    size_t need = t->end - t->start + 1;
    if (s->text_cap < need) {
        s->text_cap = need < 256 ? 256 : need;
        s->text = fx_xrealloc(s->text, s->text_cap);
    }
    *len_out = unescape(s->p, t, s->text);
    return s->text;
}
