/*
 * limits.h: every limit on outside input, each with the reason for its value.
 * Code uses these names, never the numbers.
 */
#ifndef FX_LIMITS_H
#define FX_LIMITS_H

/* A notice with long evaluations fits many times over; a bigger body is a mistake or an attack. */
#define FX_MAX_BODY (1024 * 1024)
/* Before authentication nothing needs more than a small JSON object. */
#define FX_MAX_BODY_UNAUTH (16 * 1024)
/* TAXII envelopes carry many STIX objects at once. */
#define FX_MAX_TAXII_BODY (10 * 1024 * 1024)
/* Our documents nest four levels; 32 leaves room and stops stack-hungry input early. */
#define FX_MAX_JSON_DEPTH 32
/* Names, titles, references. */
#define FX_MAX_SHORT_STRING 256
/* Descriptions, safeguards, rationales. */
#define FX_MAX_LONG_STRING (64 * 1024)
/* Items in any list field (evaluations, modalities, indicators). */
#define FX_MAX_LIST_ITEMS 256
/* Query string parameters per request. */
#define FX_MAX_QUERY_ARGS 32
/* One query parameter value. */
#define FX_MAX_QUERY_VALUE 512
/* Page sizes of lists. */
#define FX_DEFAULT_PAGE 50
#define FX_MAX_PAGE 500
/* Errors listed in one problem document; past this the list says it was cut. */
#define FX_MAX_PROBLEM_ERRORS 64
/* Length of an Idempotency-Key header. */
#define FX_MAX_IDEMPOTENCY_KEY 128
/* Length of an If-Match header. */
#define FX_MAX_ETAG 128
/* All request headers together: a token and a few standard headers need far less. */
#define FX_MAX_HEADER_BYTES (16 * 1024)
/*
 * Memory libmicrohttpd may use per connection to read headers: libmicrohttpd's
 * own default. Twice FX_MAX_HEADER_BYTES, so that FX itself refuses headers up
 * to about 31 KiB (and about 430 fields) with problem+json; past this
 * libmicrohttpd answers on its own (docs/decisions/0004). Not larger:
 * libmicrohttpd zeroes the whole pool between keep-alive requests, and at
 * 80 KiB that memset was a tenth of a GET's CPU (a third at 256 KiB).
 */
#define FX_CONNECTION_MEMORY (32 * 1024)
/* Connections open at once (--max-connections); past this the clients wait in the backlog. */
#define FX_MAX_CONNECTIONS 4096
/* URL path, before routing. */
#define FX_MAX_PATH 1024
/* Path segments the router looks at. */
#define FX_MAX_PATH_PARAMS 4
/* Token lifetime when the request names none, and the longest one may ask for (days). */
#define FX_DEFAULT_TOKEN_DAYS 90
#define FX_MAX_TOKEN_DAYS 366
/* Idempotency keys are remembered this long (seconds). */
#define FX_IDEMPOTENCY_TTL (24 * 3600)
/* fxd serve removes keys past FX_IDEMPOTENCY_TTL when it starts and this often (seconds). */
#define FX_IDEMPOTENCY_SWEEP 3600
/* Requests allowed per token (and per address before auth) per second, and burst. */
#define FX_DEFAULT_RATE 2000
#define FX_DEFAULT_BURST 4000
/* Rules in one policy document, and how deep all/any groups may nest. */
#define FX_MAX_POLICY_RULES 256
#define FX_MAX_POLICY_DEPTH 8

/*
 * Incidents and TAXII 2.1 (SPEC §7-8). FX_MAX_TAXII_BODY above is the default
 * envelope limit; fxd serve --taxii-max-body changes it, within this ceiling.
 */
#define FX_MAX_TAXII_BODY_CEILING (256 * 1024 * 1024)
/* STIX objects in one envelope: batches are ~1,000; ten times that still validates in well under a second. */
#define FX_MAX_TAXII_OBJECTS 10000
/* TAXII page sizes (limit): 100 when the client names none; 1,000 objects of a few KiB stay a few MiB. */
#define FX_TAXII_DEFAULT_PAGE 100
#define FX_MAX_TAXII_PAGE 1000
/* Comma-separated values in one match[...] filter. */
#define FX_MAX_TAXII_MATCH 64
/* Parentheses nested in a STIX pattern: real patterns nest a few levels; this bounds the parser's stack. */
#define FX_MAX_PATTERN_DEPTH 64
/*
 * TAXII pages kept rendered (slots), and the largest one kept: at most 64 MiB
 * in all. A page of 100 typical indicators is about 42 KiB.
 */
#define FX_TAXII_PAGE_CACHE 1024
#define FX_TAXII_PAGE_CACHE_MAX (64 * 1024)
/* Orgs in an incident's share_with, users in share_with_users. */
#define FX_MAX_SHARE 256

#endif
