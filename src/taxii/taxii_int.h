/*
 * taxii_int.h: what the files of src/taxii share and nothing else sees: a
 * JSON scanner that checks one JSON value as strictly as the parser of the
 * API (duplicate keys, NUL, invalid UTF-8, nesting past FX_MAX_JSON_DEPTH
 * refused) and leaves a flat array of tokens to walk instead of a tree of
 * allocated values. stix.c validates STIX objects over it: an envelope holds
 * thousands of objects, and building and freeing a tree for each cost more
 * than everything else done with them.
 */
#ifndef FX_TAXII_INT_H
#define FX_TAXII_INT_H

#include "common/fx.h"

#include <stdbool.h>

enum fx_jtype { FX_J_OBJ, FX_J_ARR, FX_J_STR, FX_J_NUM, FX_J_TRUE, FX_J_FALSE, FX_J_NULL };

/* One value (or object member name). Offsets into the scanned text. */
struct fx_jtok {
    unsigned char type; /* enum fx_jtype */
    bool esc;           /* a string with escapes: its raw text is not its value */
    uint32_t start;     /* strings: first byte after the quote; others: first byte */
    uint32_t end;       /* strings: the closing quote; others: one past the last byte */
    uint32_t size;      /* objects: members; arrays: items */
    uint32_t next;      /* the token after this value and everything inside it */
};

/* Reusable scratch: the token array and a buffer for unescaped strings. */
struct fx_jscan {
    struct fx_jtok *tok; /* owned */
    size_t n, cap;
    char *text;          /* owned: unescaping scratch */
    size_t text_cap;
    const char *p;       /* the text scanned last (borrowed) */
};

void fx_jscan_init(struct fx_jscan *s);
void fx_jscan_cleanup(struct fx_jscan *s);

/*
 * Scans (p, len) as one JSON value. FX_OK leaves the tokens in s (token 0 is
 * the value); FX_EINVAL writes why into msg. Objects list their members as
 * name token, value token(s), in order. Never recurses.
 */
enum fx_err fx_jscan(struct fx_jscan *s, const char *p, size_t len, char *msg, size_t msg_len);

/* The member of object token obj named key: its value token's index, or -1. */
long fx_jscan_get(struct fx_jscan *s, size_t obj, const char *key);
/*
 * A string token's value (unescaped when it must be, into s's scratch: valid
 * until the next call that unescapes), and its length. NULL for non-strings.
 */
const char *fx_jscan_str(struct fx_jscan *s, size_t i, size_t *len_out);
/* True when string token i equals (v, n). */
bool fx_jscan_str_eq(struct fx_jscan *s, size_t i, const char *v, size_t n);

#endif
