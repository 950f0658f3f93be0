/*
 * keyring.h: confidentiality at rest (SPEC §11). Each organization has a data
 * key; data keys are stored wrapped (XChaCha20-Poly1305) by the master key,
 * which lives in a 0600 file outside the database. Confidential bodies are
 * sealed under their owner org's data key with the record id and version as
 * associated data, so a sealed body moved to another row does not open.
 *
 * Keys live in sodium_malloc memory and are wiped on free. Nothing here logs
 * key material.
 */
#ifndef FX_KEYRING_H
#define FX_KEYRING_H

#include "common/fx.h"
#include "store/store.h"

#define FX_KEY_BYTES 32

struct fx_keyring; /* owned by fxd; thread-safe */

/* Writes a new random master key to path (mode 0600, refuses to overwrite). */
enum fx_err fx_keyring_create_master(const char *path);
/* Loads the master key file. *out owned by the caller: fx_keyring_free(). */
enum fx_err fx_keyring_load(const char *path, struct fx_keyring **out);
void fx_keyring_free(struct fx_keyring *kr);

/*
 * Checks the master key against the check value kept in the database (written
 * on first use). FX_ECRYPTO when the key is not the one the data was written with.
 */
enum fx_err fx_keyring_verify(struct fx_keyring *kr, struct fx_db *db);

/*
 * A fresh data key for a new org, wrapped, inside the write transaction that
 * stores it: FX_ECRYPTO (logged) when the database's master key is no longer
 * the one this process loaded (a rotation since it started), so that no key is
 * stored under a master key nobody keeps. *blob_out is malloc'd, caller frees.
 */
enum fx_err fx_keyring_new_org_key(struct fx_keyring *kr, struct fx_db *db, const char *org_id,
                                   unsigned char **blob_out, size_t *len_out);

/*
 * Seals pt under org_id's data key. aad binds the ciphertext to its place
 * (record id and version). *out is malloc'd: nonce ‖ ciphertext ‖ tag.
 */
enum fx_err fx_keyring_seal(struct fx_keyring *kr, struct fx_db *db, const char *org_id,
                            const char *aad, const void *pt, size_t pt_len, unsigned char **out,
                            size_t *out_len);
/* Opens what fx_keyring_seal made. *out is malloc'd and NUL-terminated; caller frees. */
enum fx_err fx_keyring_open(struct fx_keyring *kr, struct fx_db *db, const char *org_id,
                            const char *aad, const void *ct, size_t ct_len, char **out,
                            size_t *out_len);

/*
 * The same into the caller's buffer (cap bytes; no allocation): for reads that
 * open many small bodies in a row (TAXII pages). *out_len is the plaintext's
 * length; FX_ETOOBIG when cap is short (ct_len bytes always suffice).
 */
enum fx_err fx_keyring_open_to(struct fx_keyring *kr, struct fx_db *db, const char *org_id,
                               const char *aad, const void *ct, size_t ct_len, void *out,
                               size_t cap, size_t *out_len);

/*
 * Re-wraps every org data key under a new master key (fxd rotate-master-key),
 * in the caller's write transaction. new_master: FX_KEY_BYTES.
 */
enum fx_err fx_keyring_rewrap_all(struct fx_keyring *kr, struct fx_db *db,
                                  const unsigned char *new_master);
/* Writes a new master key into a fresh 0600 file (for rotation). */
enum fx_err fx_keyring_write_key_file(const char *path, const unsigned char *key);

#endif
