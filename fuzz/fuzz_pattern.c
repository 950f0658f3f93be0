/*
 * fuzz_pattern.c: the STIX 2.1 pattern validator (src/taxii/pattern.h), as
 * incident indicators and posted indicator objects reach it.
 *
 * Invariants:
 *  - the answer is FX_OK or FX_EINVAL, and the same on a second run;
 *  - a refusal names an offset inside the input (or at its end) and a message;
 *  - an accepted pattern is still accepted inside parentheses, with a
 *    qualifier appended, and joined to itself by AND, OR and FOLLOWEDBY (the
 *    grammar's observation operators compose);
 *  - an accepted pattern cut short at its last byte (not a space) is refused:
 *    every pattern ends with ']', ')', SECONDS or TIMES;
 *  - the nesting bound holds: deep input is refused, never a stack overflow.
 */
#include "fuzz.h"

#include "taxii/pattern.h"

#include <string.h>

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    return 0;
}

static enum fx_err check(const char *p, size_t n)
{
    struct fx_pattern_error e;
    enum fx_err err = fx_pattern_validate(p, n, &e);
    FUZZ_CHECK(err == FX_OK || err == FX_EINVAL);
    if (err != FX_OK) {
        FUZZ_CHECK(e.offset <= n);
        FUZZ_CHECK(e.message[0] != '\0');
    }
    FUZZ_CHECK(fx_pattern_validate(p, n, NULL) == err);
    return err;
}

static void composed(const char *p, size_t n)
{
    static const char *const wrap[][2] = {
        {"(", ")"}, {"", " WITHIN 5 SECONDS"}, {"", " REPEATS 2 TIMES"},
        {"", " START t'2020-01-01T00:00:00Z' STOP t'2021-01-01T00:00:00Z'"},
    };
    static const char *const ops[] = {" AND ", " OR ", " FOLLOWEDBY "};
    size_t cap = 2 * n + 96;
    char *buf = malloc(cap);
    FUZZ_CHECK(buf != NULL);
    for (size_t i = 0; i < FX_ARRAY_LEN(wrap); i++) {
        size_t a = strlen(wrap[i][0]), b = strlen(wrap[i][1]);
        memcpy(buf, wrap[i][0], a);
        memcpy(buf + a, p, n);
        memcpy(buf + a + n, wrap[i][1], b);
        FUZZ_CHECK(fx_pattern_validate(buf, a + n + b, NULL) == FX_OK);
    }
    for (size_t i = 0; i < FX_ARRAY_LEN(ops); i++) {
        size_t o = strlen(ops[i]);
        memcpy(buf, p, n);
        memcpy(buf + n, ops[i], o);
        memcpy(buf + n + o, p, n);
        FUZZ_CHECK(fx_pattern_validate(buf, 2 * n + o, NULL) == FX_OK);
    }
    free(buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *p = (const char *)data;
    if (check(p, size) != FX_OK)
        return 0;
    FUZZ_CHECK(size > 0);
    char last = p[size - 1];
    if (strchr(" \t\r\n\v\f", last) == NULL || last == '\0')
        FUZZ_CHECK(check(p, size - 1) == FX_EINVAL);
    /* composition adds a level of nesting: only where the bound leaves room */
    size_t parens = 0;
    for (size_t i = 0; i < size; i++)
        parens += p[i] == '(';
    if (size < 4096 && parens < 60)
        composed(p, size);
    return 0;
}
