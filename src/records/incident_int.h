/*
 * incident_int.h: what incident.c (pure) and incident_db.c (the store) share:
 * the STIX side of an incident version. Not for other modules: they see a
 * version's objects through incident.h (fx_incident_bundle, env->publish).
 */
#ifndef FX_INCIDENT_INT_H
#define FX_INCIDENT_INT_H

#include <jansson.h>
#include <stdint.h>

/*
 * A stable UUID (RFC 4122 variant, shaped as version 4) from SHA-256 of a and
 * b: an indicator keeps its STIX id across versions as long as its pattern is
 * the same, and its relationship follows it.
 */
void fx_incident_derived_uuid(const char *a, const char *b, char out[static 37]);

/*
 * Gives each indicator of the version document doc its STIX id, created and
 * modified: carried over from prev (the previous version's document, NULL for
 * the first) while neither the indicator nor the marking changed, stamp
 * (this version's STIX time, doc's "stix_modified") otherwise. Indicators of prev that doc no longer has are appended to
 * removed_out (when not NULL). Sets doc's "marked_at": when the TLP was last set.
 */
void fx_incident_indicator_versions(json_t *doc, const json_t *prev, const char *incident_id,
                                    const char *stamp, json_t *removed_out);

/* The reporter's identity SDO (new reference). */
json_t *fx_incident_identity_object(const char *org_id, const char *org_name, const char *kind,
                                    int64_t org_created);

/*
 * The version document doc as STIX 2.1 objects (new reference): identity
 * (taken over), the incident, an indicator and an "indicates" relationship
 * per indicator, and revoked versions of the removed ones (now: their
 * modified time, doc's "stix_modified"). The incident's created and modified
 * are doc's "stix_created" and "stix_modified". Each carries the TLP 2.0 marking in object_marking_refs.
 */
json_t *fx_incident_stix(const json_t *doc, const char *org_id, json_t *identity,
                         const json_t *removed, const char *now);

#endif
