/*
 * stix.h: STIX 2.1 objects as FX receives and makes them (SPEC §7, §8):
 * identifiers and timestamps, the TLP 2.0 markings, validation of one object
 * (common properties, type--UUID ids, timestamps, spec_version, references,
 * the properties each type requires, indicator patterns through pattern.h),
 * and the splitting of a TAXII envelope into its objects' bytes.
 *
 * Pure: nothing here touches the store or knows HTTP. Inputs are (p, len)
 * or borrowed jansson values; the envelope walker never recurses, so a deeply
 * nested object costs the walker nothing and is refused later, on its own.
 */
#ifndef FX_STIX_H
#define FX_STIX_H

#include "common/problem.h"

#include <jansson.h>
#include <stdbool.h>

/* TLP 2.0 levels, least restrictive first (the order matters: max() is "most restrictive"). */
enum fx_tlp { FX_TLP_CLEAR, FX_TLP_GREEN, FX_TLP_AMBER, FX_TLP_AMBER_STRICT, FX_TLP_RED };
#define FX_TLP_COUNT 5

/* "CLEAR", "GREEN", "AMBER", "AMBER+STRICT", "RED". */
const char *fx_stix_tlp_name(enum fx_tlp t);
/* Parses a TLP name: the forms above, any case, with or without "TLP:". -1 when unknown. */
int fx_stix_tlp_parse(const char *s);
/* The marking-definition id TLP 2.0 publishes for t (OASIS extension 60a3c5c5-…). */
const char *fx_stix_tlp_marking_id(enum fx_tlp t);
/* The standard TLP 2.0 marking-definition object for t (new reference). */
json_t *fx_stix_tlp_marking_object(enum fx_tlp t);
/*
 * The most restrictive TLP among the TLP 2.0 and TLP 1.0 marking ids in the
 * object's object_marking_refs and its granular_markings' marking_ref (a
 * granular marking covers the whole object: FX does not redact properties);
 * *found is false (and FX_TLP_AMBER returned) when there is none.
 */
enum fx_tlp fx_stix_object_tlp(const json_t *obj, bool *found);

/*
 * A STIX timestamp: YYYY-MM-DDTHH:MM:SS[.fraction]Z (RFC 3339, UTC, 'Z'),
 * a real calendar date. *us_out: microseconds since the epoch (digits past
 * the sixth are dropped).
 */
enum fx_err fx_stix_parse_timestamp(const char *p, size_t len, int64_t *us_out);
/* Formats microseconds as 2026-03-02T12:00:00.123456Z (28 bytes with the NUL). */
void fx_stix_format_us(int64_t us, char out[static 28]);

/* A STIX type name: 3-250 of a-z, 0-9 and '-', no "--", starting with a letter. */
bool fx_stix_type_valid(const char *p, size_t len);
/* "type--UUID" (RFC 4122 variant); when type is not NULL the prefix must be that type. */
bool fx_stix_id_valid(const char *p, size_t len, const char *type);

/* What storing an object needs, copied out of it (also, when they could be read, on failure). */
struct fx_stix_summary {
    char type[251];
    char id[300];
    char version[64];   /* modified, else created; "" for objects with neither */
    int64_t version_us; /* 0 when version is "" */
    enum fx_tlp tlp;    /* as fx_stix_object_tlp() reads it (AMBER when unmarked) */
    bool marked;        /* a TLP marking was found */
};

/* Reusable scratch of fx_stix_check(): one per thread of work. */
struct fx_stix_checker;
struct fx_stix_checker *fx_stix_checker_new(void);
void fx_stix_checker_free(struct fx_stix_checker *c);

/*
 * Checks the bytes (p, len) as one STIX 2.1 object: strict JSON (as the API
 * parses it: duplicate names, NUL, invalid UTF-8, nesting past 32 refused),
 * then every rule of decision 0006. Every problem goes to pb as a JSON
 * Pointer relative to the object ("/created", "/object_marking_refs/0"); a
 * problem with the JSON itself has the field "". FX_OK or FX_EINVAL; *out is
 * filled either way, as far as the object could be read. Never builds a tree:
 * the scanner's tokens are walked in place.
 */
enum fx_err fx_stix_check(struct fx_stix_checker *c, const char *p, size_t len,
                          struct fx_problem *pb, struct fx_stix_summary *out);

/* Called for each element of an envelope's "objects": its bytes, untouched, and its index. */
typedef enum fx_err (*fx_stix_object_fn)(const char *p, size_t len, size_t index, void *arg);

/*
 * Walks a TAXII 2.1 envelope (p, len): a JSON object whose "objects" member,
 * when present, is an array. Calls fn for each element in order; an error
 * from fn stops the walk and is returned. Members other than "objects" are
 * skipped. FX_EINVAL with a sentence in msg when the bytes are not such an
 * envelope; FX_ETOOBIG when it holds more than max_objects. The walker checks
 * the envelope's own syntax; each element's is left to whoever parses it.
 */
enum fx_err fx_stix_envelope_each(const char *p, size_t len, size_t max_objects,
                                  fx_stix_object_fn fn, void *arg, char *msg, size_t msg_len);

/*
 * The raw text of a top-level string member of the JSON object (p, len),
 * without parsing the rest: for naming an object that failed to parse. True
 * with [*v, *v + *vlen) when found as a plain string (no escapes).
 */
bool fx_stix_shallow_string(const char *p, size_t len, const char *key, const char **v,
                            size_t *vlen);

#endif
