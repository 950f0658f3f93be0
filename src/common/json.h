/*
 * json.h: parsing outside JSON and pulling typed, validated values out of it.
 * Every getter records a struct fx_problem entry (field as a JSON Pointer)
 * instead of failing at the first error, so a request learns all it did wrong.
 */
#ifndef FX_JSON_H
#define FX_JSON_H

#include "common/problem.h"

#include <jansson.h>
#include <stdbool.h>

/*
 * Parses a request body: depth-checked before jansson sees it (FX_MAX_JSON_DEPTH),
 * duplicate keys refused, NUL in strings and invalid UTF-8 refused.
 * On success *out is a new reference. On FX_EINVAL, msg (msg_len bytes) says why.
 */
enum fx_err fx_json_parse(const char *p, size_t len, json_t **out, char *msg, size_t msg_len);

/* Largest nesting depth of arrays/objects in p, ignoring brackets inside strings. */
size_t fx_json_depth(const char *p, size_t len);

/* ptr + "/" + key with RFC 6901 escaping, into buf (truncated to n). */
void fx_json_ptr(char *buf, size_t n, const char *ptr, const char *key);

/* Adds "unknown field" for every key of obj not in allowed (NULL-terminated). */
void fx_json_only_keys(json_t *obj, const char *const *allowed, const char *ptr,
                       struct fx_problem *pb);

/*
 * Getters. `ptr` is the pointer of obj itself ("" for the root). A missing key or
 * JSON null leaves *present false (and errs "required" when required). The
 * returned strings are borrowed from obj.
 */
void fx_json_get_str(const json_t *obj, const char *key, const char *ptr, bool required,
                     size_t max_len, struct fx_problem *pb, const char **out, bool *present);
void fx_json_get_enum(const json_t *obj, const char *key, const char *ptr, bool required,
                      const char *const *values, struct fx_problem *pb, const char **out,
                      bool *present);
void fx_json_get_date(const json_t *obj, const char *key, const char *ptr, bool required,
                      struct fx_problem *pb, int64_t *days_out, bool *present);
void fx_json_get_number(const json_t *obj, const char *key, const char *ptr, bool required,
                        double min, struct fx_problem *pb, double *out, bool *present);
void fx_json_get_int(const json_t *obj, const char *key, const char *ptr, bool required,
                     int64_t min, int64_t max, struct fx_problem *pb, int64_t *out,
                     bool *present);
void fx_json_get_bool(const json_t *obj, const char *key, const char *ptr, bool required,
                      struct fx_problem *pb, bool *out, bool *present);

/* True when s is one of the NULL-terminated values. */
bool fx_json_in(const char *s, const char *const *values);

/*
 * Significant digits when writing reals: 15 (DBL_DIG) reproduces every decimal a
 * client sent with up to 15 digits, so 0.6 stays 0.6 rather than 0.59999999999999998.
 */
#define FX_JSON_REAL_DIGITS 15
/* The largest magnitude accepted: its 15-digit form still reads back as a double. */
#define FX_JSON_MAX_MAGNITUDE 1e308

struct fx_buf;
/* Appends s (n bytes of UTF-8) to b as a JSON string, escaped as fx_json_canonical() writes it. */
void fx_json_add_string(struct fx_buf *b, const char *s, size_t n);
/* Compact, sorted-key serialisation: the canonical bytes FX stores and hashes. Caller frees. */
char *fx_json_canonical(const json_t *v, size_t *len_out);
/*
 * Compact serialisation with members in insertion order: byte for byte
 * json_dumps(v, JSON_COMPACT | JSON_REAL_PRECISION(FX_JSON_REAL_DIGITS)), faster.
 * How answers are rendered. Caller frees.
 */
char *fx_json_compact(const json_t *v, size_t *len_out);

#endif
