/*
 * pattern.h: the STIX 2.1 patterning language (STIX 2.1 §9): a validator for
 * the "pattern" of indicators whose pattern_type is "stix". It checks the
 * grammar (observation expressions joined by AND, OR and FOLLOWEDBY, with
 * START/STOP, WITHIN and REPEATS qualifiers; comparison expressions of object
 * paths, operators and constants) and the rules the grammar alone does not
 * express: literal forms (timestamps, hex, base64), STOP after START, and
 * comparison expressions joined by AND naming one object type.
 *
 * Pure: no allocation, no global state; the input is (p, len) and need not
 * be NUL-terminated. Nesting is bounded (FX_MAX_PATTERN_DEPTH), so hostile
 * input cannot exhaust the stack.
 */
#ifndef FX_PATTERN_H
#define FX_PATTERN_H

#include "common/fx.h"

#include <stdbool.h>

/* Why a pattern was refused: the byte offset where it went wrong and a sentence. */
struct fx_pattern_error {
    size_t offset;
    char message[160];
};

/*
 * FX_OK when p is a valid STIX pattern; FX_EINVAL otherwise, with *err filled
 * (err may be NULL).
 */
enum fx_err fx_pattern_validate(const char *p, size_t len, struct fx_pattern_error *err);

#endif
