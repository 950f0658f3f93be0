/*
 * taxii.h: the TAXII 2.1 object store behind /taxii2/ (SPEC §8): object
 * versions in collections, each with a unique date_added (microseconds, the
 * pagination key), sealed bodies, the first/last flags that match[version]
 * needs, queries with every TAXII filter, deletion, and status resources.
 *
 * Collections: "incidents" (FX_TAXII_INCIDENTS_ID) holds the STIX objects FX
 * makes from incident versions (their visibility follows the incident's TLP
 * and sharing lists); each org's collection (its id is the org's id) holds
 * what that org posted (visibility by the marking each object carries). A
 * query of the incidents collection reads every collection: it is "every
 * STIX object the caller may see". The gate is the caller's: queries take a
 * keep() callback that is asked about every row before it counts.
 *
 * Nothing here knows HTTP; everything runs inside the caller's transaction.
 */
#ifndef FX_TAXII_H
#define FX_TAXII_H

#include "common/buf.h"
#include "crypto/keyring.h"
#include "store/store.h"
#include "taxii/stix.h"

#include <jansson.h>
#include <stdbool.h>

#define FX_TAXII_INCIDENTS_ID "6f7c2a0e-3b1d-4c5e-9a8f-0d1e2f3a4b5c"
#define FX_TAXII_INCIDENTS_ALIAS "incidents"
#define FX_TAXII_MEDIA "application/taxii+json;version=2.1"
#define FX_STIX_MEDIA "application/stix+json;version=2.1"

/* One object version to store: validated, canonical, then sealed. */
struct fx_taxii_put {
    char *id;               /* owned */
    char *type;             /* owned */
    char *version;          /* owned; NULL for objects with neither modified nor created */
    int64_t version_us;     /* 0 when version is NULL */
    enum fx_tlp tlp;        /* the marking it carries (AMBER when unmarked) */
    char *bytes;            /* owned: canonical JSON */
    size_t len;
    unsigned char *sealed;  /* owned: fx_taxii_seal() */
    size_t sealed_len;
    int64_t date_added;     /* out (µs) */
    bool duplicate;         /* out: this id and version was already in the collection */
};
void fx_taxii_put_cleanup(struct fx_taxii_put *p);

/*
 * Seals each put's bytes under org_id's data key, with
 * "stix:<collection>:<id>:<version_us>" as associated data (SPEC §11).
 * Runs in any transaction (the key may have to be read).
 */
enum fx_err fx_taxii_seal(struct fx_db *db, struct fx_keyring *kr, const char *org_id,
                          const char *collection, struct fx_taxii_put *puts, size_t n);

/*
 * Stores sealed puts in collection (write transaction), in order: date_added
 * strictly increasing from max(now_us, the newest date_added + 1), the
 * first/last flags kept, an id and version already there marked duplicate and
 * not stored again. incident_id: the incident whose visibility they follow
 * (NULL for objects posted by an org).
 */
enum fx_err fx_taxii_store(struct fx_db *db, const char *collection, const char *org_id,
                           const char *incident_id, int64_t now_us, struct fx_taxii_put *puts,
                           size_t n);

/*
 * Stores STIX objects FX made from an incident version (a JSON array,
 * borrowed) in the incidents collection: canonical, sealed under org_id's
 * key, following incident_id's visibility. The reporter's identity is kept
 * once, following the least restrictive of its incidents.
 */
enum fx_err fx_taxii_publish(struct fx_db *db, struct fx_keyring *kr, const char *org_id,
                             const char *incident_id, const json_t *objects, int64_t now_us);

/* A query: every TAXII filter (TAXII 2.1 §3.4) and the page. */
struct fx_taxii_query {
    const char *collection;          /* an org's collection id; NULL: every collection */
    const char *object_id;           /* NULL: any object */
    int64_t after;                   /* date_added strictly after (µs); -1: from the start */
    const char *const *ids;          /* match[id]: any of these */
    size_t n_ids;
    const char *const *types;        /* match[type]: any of these */
    size_t n_types;
    bool v_first, v_last, v_all;     /* match[version]: first, last, all ... */
    const int64_t *v_ts;             /* ... or these versions (µs) */
    size_t n_ts;
    bool spec_ok;                    /* match[spec_version] admits 2.1 (or is absent) */
    size_t limit;
    bool bodies;                     /* open the sealed bodies (see fx_taxii_query) */
};

/* One object version as a query returns it. */
struct fx_taxii_row {
    char id[300];
    char type[256];
    char version[64];                /* as the object wrote it; "" when it has none */
    int64_t version_us;
    int64_t date_added;
    char org_id[37];                 /* whose key sealed it: the posting or reporting org */
    char tlp[16];                    /* the incident's current TLP, or the object's marking */
    char incident_id[37];            /* "" for objects posted by an org */
    char collection[37];
};
void fx_taxii_rows_free(struct fx_taxii_row *rows, size_t n);

/*
 * Runs q in date_added order. keep(row, arg) is the gate: rows it refuses
 * are skipped and never counted. *rows_out (malloc'd, fx_taxii_rows_free)
 * holds at most q->limit rows; *more_out is true when another row would
 * have followed. With q->bodies, the kept rows' bodies are opened and
 * appended to bodies (borrowed), separated by commas: the inside of a JSON
 * array, written without a copy per object.
 */
enum fx_err fx_taxii_query(struct fx_db *db, struct fx_keyring *kr, const struct fx_taxii_query *q,
                           bool (*keep)(const struct fx_taxii_row *, void *), void *keep_arg,
                           struct fx_buf *bodies, struct fx_taxii_row **rows_out, size_t *n_out,
                           bool *more_out);

/*
 * Deletes the versions of object_id in collection that match the version
 * filter of q (all of them when it names none); *n_out how many. The
 * first/last flags of what remains are recomputed.
 */
enum fx_err fx_taxii_delete(struct fx_db *db, const char *collection, const char *object_id,
                            const struct fx_taxii_query *q, size_t *n_out);

/* The org whose collection id names (its name into name_out). FX_ENOTFOUND when none. */
enum fx_err fx_taxii_org_collection(struct fx_db *db, const char *id, char *name_out, size_t n);
/* Every org's collection, oldest org first: [{"id", "name"}] (new reference). */
enum fx_err fx_taxii_org_collections(struct fx_db *db, json_t **out);

/*
 * A collection's generation: a counter every store and delete that changes it
 * moves, in the same transaction. Pages rendered from a collection are
 * current as long as its generation is the one they were read at. 0 for a
 * collection never written.
 */
enum fx_err fx_taxii_generation(struct fx_db *db, const char *collection, int64_t *out);

/* Status resources (TAXII 2.1 §4.3), sealed under the posting org's key. */
enum fx_err fx_taxii_status_put(struct fx_db *db, struct fx_keyring *kr, const char *id,
                                const char *org_id, const char *user_id, int64_t now,
                                const char *status, size_t len);
/*
 * The status as stored (*out malloc'd, *len_out bytes); *org_out (37 bytes) the
 * posting org. FX_ENOTFOUND when there is no such status.
 */
enum fx_err fx_taxii_status_get(struct fx_db *db, struct fx_keyring *kr, const char *id,
                                char *org_out, char **out, size_t *len_out);

#endif
