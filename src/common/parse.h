/*
 * parse.h: the checked parsers for small pieces of outside input: integers,
 * numbers, calendar dates, RFC 3339 timestamps, UUIDs. Each takes (p, len),
 * never relies on a NUL, and checks the whole input was consumed and in range.
 */
#ifndef FX_PARSE_H
#define FX_PARSE_H

#include "common/fx.h"

#include <stdbool.h>

/* Decimal integer, optional leading '-', no spaces or '+'. FX_EINVAL unless min <= v <= max. */
enum fx_err fx_parse_i64(const char *p, size_t len, int64_t min, int64_t max, int64_t *out);

/* A finite decimal floating-point number (strtod syntax), the whole input. */
enum fx_err fx_parse_double(const char *p, size_t len, double *out);

/* v in decimal into out, NUL-terminated; returns its length (snprintf's "%lld", faster). */
size_t fx_format_i64(int64_t v, char out[static 21]);

/* YYYY-MM-DD, a real calendar date (2026-02-30 is refused). out: days since 1970-01-01. */
enum fx_err fx_parse_date(const char *p, size_t len, int64_t *days_out);
/* Formats days since the epoch as YYYY-MM-DD into out (at least 11 bytes), 1970 to 9999. */
void fx_format_date(int64_t days, char out[static 11]);

/* RFC 3339 timestamp with 'Z' or an offset, optional fraction. out: ms since the epoch, UTC. */
enum fx_err fx_parse_time(const char *p, size_t len, int64_t *ms_out);
/* Formats ms since the epoch as RFC 3339 UTC with milliseconds: 2026-11-27T02:23:02.123Z. */
void fx_format_time(int64_t ms, char out[static 25]);

/* Days since the epoch for a civil date, and back (Howard Hinnant's algorithms). */
int64_t fx_days_from_civil(int64_t y, unsigned m, unsigned d);
void fx_civil_from_days(int64_t days, int64_t *y, unsigned *m, unsigned *d);

/* 8-4-4-4-12 lowercase or uppercase hex. */
bool fx_uuid_valid(const char *p, size_t len);
/* A new UUIDv7 (RFC 9562) from the given time, lowercase, into out (37 bytes). */
void fx_uuid_v7(int64_t ms, char out[static 37]);

/* Lowercase hex of n bytes into out (2n+1 bytes). */
void fx_hex(const unsigned char *p, size_t n, char *out);

/* True when p is valid UTF-8 without NUL bytes. */
bool fx_utf8_valid(const char *p, size_t len);

#endif
