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

#endif
