/*
 * pattern.c: a recursive-descent validator for STIX 2.1 patterns (STIX 2.1
 * §9, and the ANTLR grammar the OASIS TC publishes beside it). The lexer turns
 * (p, len) into tokens one at a time; the parser follows the grammar's levels:
 *
 *   pattern      := obs_fby EOF
 *   obs_fby      := obs_or ("FOLLOWEDBY" obs_or)*
 *   obs_or       := obs_and ("OR" obs_and)*
 *   obs_and      := obs_qual ("AND" obs_qual)*
 *   obs_qual     := obs_primary (START ts STOP ts | WITHIN n SECONDS | REPEATS n TIMES)*
 *   obs_primary  := "[" cmp_or "]" | "(" obs_fby ")"
 *   cmp_or       := cmp_and ("OR" cmp_and)*
 *   cmp_and      := prop_test ("AND" prop_test)*
 *   prop_test    := "(" cmp_or ")" | "EXISTS" path | path "NOT"? op constant
 *   path         := type ":" (ident | 'str') ("." (ident | 'str') | "[" (int | "*") "]")*
 *
 * It owns nothing and allocates nothing; every recursion passes through
 * enter(), which bounds the depth.
 */
#include "taxii/pattern.h"
#include "common/limits.h"
#include "taxii/stix.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

enum tok {
    T_ERR,
    T_EOF,
    T_LBRACK,
    T_RBRACK,
    T_LPAREN,
    T_RPAREN,
    T_COLON,
    T_DOT,
    T_COMMA,
    T_STAR,
    T_EQ,
    T_NEQ,
    T_LT,
    T_LE,
    T_GT,
    T_GE,
    T_AND,
    T_OR,
    T_NOT,
    T_FOLLOWEDBY,
    T_LIKE,
    T_MATCHES,
    T_ISSUBSET,
    T_ISSUPERSET,
    T_EXISTS,
    T_IN,
    T_START,
    T_STOP,
    T_SECONDS,
    T_WITHIN,
    T_REPEATS,
    T_TIMES,
    T_LAST,
    T_TRUE,
    T_FALSE,
    T_IDENT,
    T_STRING,
    T_INT,
    T_FLOAT,
    T_HEX,
    T_BINARY,
    T_TIMESTAMP,
};

/* Reserved words of the grammar: case-sensitive, never identifiers. */
static const struct {
    const char *word;
    enum tok tok;
} keywords[] = {
    {"AND", T_AND},         {"OR", T_OR},           {"NOT", T_NOT},
    {"FOLLOWEDBY", T_FOLLOWEDBY}, {"LIKE", T_LIKE}, {"MATCHES", T_MATCHES},
    {"ISSUBSET", T_ISSUBSET}, {"ISSUPERSET", T_ISSUPERSET}, {"EXISTS", T_EXISTS},
    {"IN", T_IN},           {"START", T_START},     {"STOP", T_STOP},
    {"SECONDS", T_SECONDS}, {"WITHIN", T_WITHIN},   {"REPEATS", T_REPEATS},
    {"TIMES", T_TIMES},     {"LAST", T_LAST},       {"true", T_TRUE},
    {"false", T_FALSE},
};

struct lex {
    const char *p;
    size_t len;
    size_t pos;          /* next byte to read */
    enum tok tok;        /* the current token */
    size_t start, tlen;  /* its bytes */
    bool hyphen;         /* T_IDENT: contains '-' */
    bool negative;       /* T_INT, T_FLOAT: has a leading '-' */
    bool zero;           /* T_INT, T_FLOAT: its value is 0 */
    int64_t ts_us;       /* T_TIMESTAMP: its value */
    unsigned depth;
    bool failed;
    struct fx_pattern_error *err; /* may be NULL */
};

/* Records the first error only: later ones are consequences of it. */
__attribute__((format(printf, 3, 4))) static bool fail_at(struct lex *lx, size_t offset,
                                                          const char *fmt, ...)
{
    if (!lx->failed && lx->err) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(lx->err->message, sizeof(lx->err->message), fmt, ap);
        va_end(ap);
        lx->err->offset = offset;
    }
    lx->failed = true;
    lx->tok = T_ERR;
    return false;
}

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static bool is_alpha(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

static bool is_hex(char c)
{
    return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

static bool is_b64(char c)
{
    return is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '+' || c == '/';
}

/* Bytes of whitespace at p[pos] (the grammar's WS rule, UTF-8 encoded), 0 when none. */
static size_t space_at(const struct lex *lx, size_t pos)
{
    static const char *const wide[] = {
        "\xc2\x85",     "\xc2\xa0",     "\xe1\x9a\x80", "\xe2\x80\x80", "\xe2\x80\x81",
        "\xe2\x80\x82", "\xe2\x80\x83", "\xe2\x80\x84", "\xe2\x80\x85", "\xe2\x80\x86",
        "\xe2\x80\x87", "\xe2\x80\x88", "\xe2\x80\x89", "\xe2\x80\x8a", "\xe2\x80\xa8",
        "\xe2\x80\xa9", "\xe2\x80\xaf", "\xe2\x81\x9f", "\xe3\x80\x80",
    };
    char c = lx->p[pos];
    if (c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f')
        return 1;
    if ((unsigned char)c < 0xc2 || (unsigned char)c > 0xe3)
        return 0; /* not the first byte of any of the wide spaces */
    for (size_t i = 0; i < FX_ARRAY_LEN(wide); i++) {
        size_t n = strlen(wide[i]);
        if (lx->len - pos >= n && memcmp(lx->p + pos, wide[i], n) == 0)
            return n;
    }
    return 0;
}

/* The body of a quoted literal after its prefix letter: sets [*b, *e) to its content. */
static bool quoted(struct lex *lx, const char *what, size_t *b, size_t *e)
{
    size_t q = lx->pos + 1; /* the opening quote */
    size_t i = q + 1;
    while (i < lx->len && lx->p[i] != '\'')
        i++;
    if (i >= lx->len)
        return fail_at(lx, lx->start, "the %s constant is not closed with '", what);
    *b = q + 1;
    *e = i;
    lx->pos = i + 1;
    return true;
}

static void lex_prefixed(struct lex *lx, char kind)
{
    size_t b = 0, e = 0;
    if (kind == 't') {
        if (!quoted(lx, "timestamp", &b, &e))
            return;
        if (fx_stix_parse_timestamp(lx->p + b, e - b, &lx->ts_us) != FX_OK) {
            fail_at(lx, lx->start, "t'...' must hold a UTC timestamp YYYY-MM-DDTHH:MM:SS[.s]Z");
            return;
        }
        lx->tok = T_TIMESTAMP;
    } else if (kind == 'h') {
        if (!quoted(lx, "hex", &b, &e))
            return;
        if ((e - b) % 2 != 0) {
            fail_at(lx, lx->start, "h'...' must hold pairs of hex digits");
            return;
        }
        for (size_t i = b; i < e; i++)
            if (!is_hex(lx->p[i])) {
                fail_at(lx, i, "h'...' must hold hex digits only");
                return;
            }
        lx->tok = T_HEX;
    } else {
        if (!quoted(lx, "binary", &b, &e))
            return;
        size_t n = e - b, pad = 0;
        while (pad < 2 && pad < n && lx->p[e - 1 - pad] == '=')
            pad++;
        bool ok = n % 4 == 0;
        for (size_t i = b; ok && i < e - pad; i++)
            ok = is_b64(lx->p[i]);
        if (!ok) {
            fail_at(lx, lx->start, "b'...' must hold base64 (groups of four, '=' padding)");
            return;
        }
        lx->tok = T_BINARY;
    }
    lx->tlen = lx->pos - lx->start;
}

static void lex_string(struct lex *lx)
{
    size_t i = lx->pos + 1;
    while (i < lx->len) {
        char c = lx->p[i];
        if (c == '\'') {
            lx->pos = i + 1;
            lx->tok = T_STRING;
            lx->tlen = lx->pos - lx->start;
            return;
        }
        if (c == '\\') {
            if (i + 1 < lx->len && (lx->p[i + 1] == '\'' || lx->p[i + 1] == '\\')) {
                i += 2;
                continue;
            }
            fail_at(lx, i, "in a string constant only \\' and \\\\ are escapes");
            return;
        }
        i++;
    }
    fail_at(lx, lx->start, "the string constant is not closed with '");
}

static void lex_number(struct lex *lx)
{
    size_t i = lx->pos;
    lx->negative = lx->p[i] == '-';
    if (lx->p[i] == '-' || lx->p[i] == '+')
        i++;
    size_t d0 = i;
    bool nonzero = false;
    while (i < lx->len && is_digit(lx->p[i]))
        nonzero |= lx->p[i++] != '0';
    size_t nd = i - d0;
    if (i + 1 < lx->len && lx->p[i] == '.' && is_digit(lx->p[i + 1])) {
        i++;
        while (i < lx->len && is_digit(lx->p[i]))
            nonzero |= lx->p[i++] != '0';
        lx->tok = T_FLOAT;
    } else if (nd == 0) {
        fail_at(lx, lx->start, "a sign must be followed by a number");
        return;
    } else if (nd > 1 && lx->p[d0] == '0') {
        fail_at(lx, lx->start, "integer constants have no leading zeros");
        return;
    } else {
        lx->tok = T_INT;
    }
    lx->zero = !nonzero;
    lx->pos = i;
    lx->tlen = i - lx->start;
}

static void lex_word(struct lex *lx)
{
    size_t i = lx->pos;
    lx->hyphen = false;
    while (i < lx->len && (is_alpha(lx->p[i]) || is_digit(lx->p[i]) || lx->p[i] == '-')) {
        lx->hyphen |= lx->p[i] == '-';
        i++;
    }
    lx->pos = i;
    lx->tlen = i - lx->start;
    lx->tok = T_IDENT;
    char c0 = lx->p[lx->start];
    if (lx->hyphen || lx->tlen < 2 || lx->tlen > 10 || !((c0 >= 'A' && c0 <= 'Z') || c0 == 't' ||
                                                          c0 == 'f'))
        return; /* every keyword is 2-10 letters, upper case but true and false */
    for (size_t k = 0; k < FX_ARRAY_LEN(keywords); k++)
        if (strlen(keywords[k].word) == lx->tlen &&
            memcmp(keywords[k].word, lx->p + lx->start, lx->tlen) == 0)
            lx->tok = keywords[k].tok;
}

/* Reads the next token into lx->tok. */
static void next(struct lex *lx)
{
    if (lx->failed)
        return;
    size_t sp;
    while (lx->pos < lx->len && (sp = space_at(lx, lx->pos)) > 0)
        lx->pos += sp;
    lx->start = lx->pos;
    lx->tlen = 1;
    if (lx->pos >= lx->len) {
        lx->tok = T_EOF;
        lx->tlen = 0;
        return;
    }
    char c = lx->p[lx->pos];
    char d = lx->pos + 1 < lx->len ? lx->p[lx->pos + 1] : '\0';
    static const char singles[] = "[]():,*";
    static const enum tok single_tok[] = {T_LBRACK, T_RBRACK, T_LPAREN, T_RPAREN,
                                          T_COLON,  T_COMMA,  T_STAR};
    const char *s = c != '\0' ? strchr(singles, c) : NULL;
    if (s != NULL) {
        lx->tok = single_tok[s - singles];
        lx->pos++;
        return;
    }
    switch (c) {
    case '.':
        if (is_digit(d)) {
            lex_number(lx);
            return;
        }
        lx->tok = T_DOT;
        lx->pos++;
        return;
    case '=':
        lx->tok = T_EQ;
        lx->tlen = d == '=' ? 2 : 1;
        lx->pos += lx->tlen;
        return;
    case '!':
        if (d != '=') {
            fail_at(lx, lx->pos, "'!' must be followed by '='");
            return;
        }
        lx->tok = T_NEQ;
        lx->tlen = 2;
        lx->pos += 2;
        return;
    case '<':
        lx->tok = d == '=' ? T_LE : d == '>' ? T_NEQ : T_LT;
        lx->tlen = lx->tok == T_LT ? 1 : 2;
        lx->pos += lx->tlen;
        return;
    case '>':
        lx->tok = d == '=' ? T_GE : T_GT;
        lx->tlen = lx->tok == T_GT ? 1 : 2;
        lx->pos += lx->tlen;
        return;
    case '\'':
        lex_string(lx);
        return;
    case '+':
    case '-':
        lex_number(lx);
        return;
    default:
        break;
    }
    if (is_digit(c)) {
        lex_number(lx);
    } else if ((c == 't' || c == 'h' || c == 'b') && d == '\'') {
        lex_prefixed(lx, c);
    } else if (is_alpha(c)) {
        lex_word(lx);
    } else if ((unsigned char)c >= 0x20 && (unsigned char)c < 0x7f) {
        fail_at(lx, lx->pos, "unexpected character '%c'", c);
    } else {
        fail_at(lx, lx->pos, "unexpected byte 0x%02x", (unsigned)(unsigned char)c);
    }
}

/* A short quote of the current token for messages. */
static const char *what(const struct lex *lx, char *buf, size_t n)
{
    if (lx->tok == T_EOF)
        return "the end of the pattern";
    size_t l = lx->tlen > 24 ? 24 : lx->tlen;
    snprintf(buf, n, "'%.*s'%s", (int)l, lx->p + lx->start, lx->tlen > l ? "..." : "");
    return buf;
}

__attribute__((format(printf, 2, 3))) static bool expected(struct lex *lx, const char *fmt, ...)
{
    if (lx->failed)
        return false;
    char want[96], got[40];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(want, sizeof(want), fmt, ap);
    va_end(ap);
    return fail_at(lx, lx->start, "expected %s, found %s", want, what(lx, got, sizeof(got)));
}

static bool enter(struct lex *lx)
{
    if (++lx->depth > FX_MAX_PATTERN_DEPTH)
        return fail_at(lx, lx->start, "nested more than %d levels deep", FX_MAX_PATTERN_DEPTH);
    return true;
}

/* ---- comparison expressions ---- */

/* The object type a comparison expression names: one type, or several (mixed). */
struct ctype {
    const char *p;
    size_t len;
    bool mixed;
};

static bool same_type(const struct ctype *a, const struct ctype *b)
{
    return !a->mixed && !b->mixed && a->len == b->len && memcmp(a->p, b->p, a->len) == 0;
}

static bool property_name(struct lex *lx, const char *after)
{
    if ((lx->tok == T_IDENT && !lx->hyphen) || lx->tok == T_STRING) {
        next(lx);
        return true;
    }
    if (lx->tok == T_IDENT)
        return fail_at(lx, lx->start, "property names with '-' must be quoted: '%.*s'",
                       (int)(lx->tlen > 40 ? 40 : lx->tlen), lx->p + lx->start);
    return expected(lx, "a property name after %s", after);
}

static bool object_path(struct lex *lx, struct ctype *type)
{
    if (lx->tok != T_IDENT)
        return expected(lx, "an object path (object-type:property)");
    type->p = lx->p + lx->start;
    type->len = lx->tlen;
    type->mixed = false;
    next(lx);
    if (lx->tok != T_COLON)
        return expected(lx, "':' after the object type");
    next(lx);
    if (!property_name(lx, "':'"))
        return false;
    for (;;) {
        if (lx->tok == T_DOT) {
            next(lx);
            if (!property_name(lx, "'.'"))
                return false;
        } else if (lx->tok == T_LBRACK) {
            next(lx);
            if (lx->tok != T_INT && lx->tok != T_STAR)
                return expected(lx, "a list index or '*'");
            next(lx);
            if (lx->tok != T_RBRACK)
                return expected(lx, "']' after the list index");
            next(lx);
        } else {
            return !lx->failed;
        }
    }
}

static bool orderable(enum tok t)
{
    return t == T_INT || t == T_FLOAT || t == T_STRING || t == T_BINARY || t == T_HEX ||
           t == T_TIMESTAMP;
}

static bool primitive(enum tok t)
{
    return orderable(t) || t == T_TRUE || t == T_FALSE;
}

static bool constant(struct lex *lx, bool (*ok)(enum tok), const char *desc)
{
    if (!ok(lx->tok))
        return expected(lx, "%s", desc);
    next(lx);
    return true;
}

static bool set_constant(struct lex *lx)
{
    if (lx->tok != T_LPAREN)
        return expected(lx, "'(' to open the set after IN");
    next(lx);
    if (lx->tok == T_RPAREN) {
        next(lx);
        return true;
    }
    for (;;) {
        if (!constant(lx, primitive, "a constant in the set"))
            return false;
        if (lx->tok == T_RPAREN) {
            next(lx);
            return true;
        }
        if (lx->tok != T_COMMA)
            return expected(lx, "',' or ')' in the set");
        next(lx);
    }
}

static bool cmp_or(struct lex *lx, struct ctype *t);

static bool prop_test(struct lex *lx, struct ctype *t)
{
    if (lx->tok == T_LPAREN) {
        if (!enter(lx))
            return false;
        next(lx);
        if (!cmp_or(lx, t))
            return false;
        if (lx->tok != T_RPAREN)
            return expected(lx, "')' to close the comparison expression");
        next(lx);
        lx->depth--;
        return true;
    }
    if (lx->tok == T_EXISTS) {
        next(lx);
        return object_path(lx, t);
    }
    if (!object_path(lx, t))
        return false;
    if (lx->tok == T_NOT)
        next(lx);
    switch (lx->tok) {
    case T_EQ:
    case T_NEQ:
        next(lx);
        return constant(lx, primitive, "a constant after = or !=");
    case T_LT:
    case T_LE:
    case T_GT:
    case T_GE:
        next(lx);
        return constant(lx, orderable, "a number, string, binary, hex or timestamp constant");
    case T_IN:
        next(lx);
        return set_constant(lx);
    case T_LIKE:
    case T_MATCHES:
    case T_ISSUBSET:
    case T_ISSUPERSET:
        next(lx);
        if (lx->tok != T_STRING)
            return expected(lx, "a string constant");
        next(lx);
        return true;
    default:
        return expected(lx, "a comparison operator (=, !=, <, <=, >, >=, IN, LIKE, MATCHES, "
                            "ISSUBSET, ISSUPERSET)");
    }
}

/*
 * STIX 2.1 §9.5: comparison expressions joined by AND describe one object, so
 * they name one object type; OR may join different types.
 */
static bool cmp_and(struct lex *lx, struct ctype *t)
{
    if (!prop_test(lx, t))
        return false;
    while (lx->tok == T_AND) {
        next(lx);
        size_t at = lx->start;
        struct ctype u;
        if (!prop_test(lx, &u))
            return false;
        if (!same_type(t, &u))
            return fail_at(lx, at, "comparison expressions joined by AND must use the same "
                                   "object type");
    }
    return true;
}

static bool cmp_or(struct lex *lx, struct ctype *t)
{
    if (!cmp_and(lx, t))
        return false;
    while (lx->tok == T_OR) {
        next(lx);
        struct ctype u;
        if (!cmp_and(lx, &u))
            return false;
        if (!same_type(t, &u))
            t->mixed = true;
    }
    return true;
}

/* ---- observation expressions ---- */

static bool obs_fby(struct lex *lx);

static bool obs_primary(struct lex *lx)
{
    if (lx->tok == T_LBRACK) {
        next(lx);
        struct ctype t;
        if (!cmp_or(lx, &t))
            return false;
        if (lx->tok != T_RBRACK)
            return expected(lx, "']' to close the observation expression");
        next(lx);
        return true;
    }
    if (lx->tok == T_LPAREN) {
        if (!enter(lx))
            return false;
        next(lx);
        if (!obs_fby(lx))
            return false;
        if (lx->tok != T_RPAREN)
            return expected(lx, "')' to close the observation expression");
        next(lx);
        lx->depth--;
        return true;
    }
    return expected(lx, "'[' or '(' to start an observation expression");
}

static bool positive(struct lex *lx, bool int_only, const char *qualifier)
{
    bool number = lx->tok == T_INT || (!int_only && lx->tok == T_FLOAT);
    if (!number || lx->negative || lx->zero)
        return expected(lx, "a positive %s after %s", int_only ? "integer" : "number", qualifier);
    next(lx);
    return true;
}

static bool obs_qual(struct lex *lx)
{
    if (!obs_primary(lx))
        return false;
    for (;;) {
        if (lx->tok == T_START) {
            next(lx);
            if (lx->tok != T_TIMESTAMP)
                return expected(lx, "a timestamp t'...' after START");
            int64_t start = lx->ts_us;
            next(lx);
            if (lx->tok != T_STOP)
                return expected(lx, "STOP after START t'...'");
            next(lx);
            if (lx->tok != T_TIMESTAMP)
                return expected(lx, "a timestamp t'...' after STOP");
            if (lx->ts_us <= start)
                return fail_at(lx, lx->start, "the STOP time must be later than the START time");
            next(lx);
        } else if (lx->tok == T_WITHIN) {
            next(lx);
            if (!positive(lx, false, "WITHIN"))
                return false;
            if (lx->tok != T_SECONDS)
                return expected(lx, "SECONDS after WITHIN n");
            next(lx);
        } else if (lx->tok == T_REPEATS) {
            next(lx);
            if (!positive(lx, true, "REPEATS"))
                return false;
            if (lx->tok != T_TIMES)
                return expected(lx, "TIMES after REPEATS n");
            next(lx);
        } else {
            return !lx->failed;
        }
    }
}

static bool obs_and(struct lex *lx)
{
    if (!obs_qual(lx))
        return false;
    while (lx->tok == T_AND) {
        next(lx);
        if (!obs_qual(lx))
            return false;
    }
    return true;
}

static bool obs_or(struct lex *lx)
{
    if (!obs_and(lx))
        return false;
    while (lx->tok == T_OR) {
        next(lx);
        if (!obs_and(lx))
            return false;
    }
    return true;
}

static bool obs_fby(struct lex *lx)
{
    if (!obs_or(lx))
        return false;
    while (lx->tok == T_FOLLOWEDBY) {
        next(lx);
        if (!obs_or(lx))
            return false;
    }
    return true;
}

enum fx_err fx_pattern_validate(const char *p, size_t len, struct fx_pattern_error *err)
{
    struct lex lx;
    memset(&lx, 0, sizeof(lx));
    lx.p = p;
    lx.len = len;
    lx.err = err;
    if (err) {
        err->offset = 0;
        err->message[0] = '\0';
    }
    next(&lx);
    if (lx.tok == T_EOF) {
        fail_at(&lx, 0, "the pattern is empty");
        return FX_EINVAL;
    }
    if (obs_fby(&lx) && lx.tok != T_EOF)
        expected(&lx, "AND, OR, FOLLOWEDBY or a qualifier");
    return lx.failed ? FX_EINVAL : FX_OK;
}
