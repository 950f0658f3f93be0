/*
 * signer.h: the ledger's Ed25519 signing key. Only signer.c touches the
 * secret key; other modules ask it to sign. The verifier key is a C2SP
 * signed-note line: name+hexkeyid+base64(0x01 ‖ public key).
 */
#ifndef FX_SIGNER_H
#define FX_SIGNER_H

#include "common/fx.h"

#define FX_LEDGER_DEFAULT_ORIGIN "fx.local/ledger"

struct fx_signer;

/* Writes a new key pair to path (0600: seed of 32 bytes). Refuses to overwrite. */
enum fx_err fx_signer_create(const char *path);
/* Loads the key. *out owned: fx_signer_free(). name is the key name (the log origin). */
enum fx_err fx_signer_load(const char *path, const char *name, struct fx_signer **out);
void fx_signer_free(struct fx_signer *s);
/* The verifier key line, NUL-terminated, into out (at least 256 bytes). */
void fx_signer_vkey(const struct fx_signer *s, char *out, size_t n);

#define FX_SIGNER_SIG    64 /* Ed25519 signature */
#define FX_SIGNER_PUBKEY 32 /* Ed25519 public key */
#define FX_SIGNER_KEY_ID 4  /* C2SP signed-note key id */

/*
 * Signs len bytes at msg with Ed25519 (RFC 8032, pure: the message itself, not
 * a hash of it) into sig. The message is borrowed for the call. FX_ECRYPTO if
 * libsodium refuses, which it does not for a loaded key.
 */
enum fx_err fx_signer_sign(const struct fx_signer *s, const void *msg, size_t len,
                           unsigned char sig[FX_SIGNER_SIG]);
/* The key name given to fx_signer_load() (the log origin), borrowed from s. */
const char *fx_signer_name(const struct fx_signer *s);
/* The Ed25519 public key into out. */
void fx_signer_public_key(const struct fx_signer *s, unsigned char out[FX_SIGNER_PUBKEY]);
/* The C2SP signed-note key id, SHA-256(name ‖ 0x0A ‖ 0x01 ‖ public key)[:4], into out. */
void fx_signer_key_id(const struct fx_signer *s, unsigned char out[FX_SIGNER_KEY_ID]);

#endif
