/*
 * token.h: API tokens. A token is "fx_" and 43 characters of base64url (32
 * random bytes); the store keeps only its SHA-256, so a database leak yields
 * no usable token. Tokens are shown once, at creation.
 */
#ifndef FX_TOKEN_H
#define FX_TOKEN_H

#include "auth/principal.h"
#include "common/fx.h"
#include "store/store.h"

#define FX_TOKEN_LEN 46 /* "fx_" + 43 */
#define FX_TOKEN_HASH 32

/* A new token into out (FX_TOKEN_LEN + 1 bytes) and its hash. */
void fx_token_generate(char out[static FX_TOKEN_LEN + 1], unsigned char hash[static FX_TOKEN_HASH]);
/* The hash by which a presented token is looked up. */
void fx_token_hash(const char *tok, size_t len, unsigned char hash[static FX_TOKEN_HASH]);

/*
 * Extracts the token from an Authorization header: "Bearer fx_…", or "Basic"
 * with the token as the password (TAXII clients that only speak Basic).
 * Returns FX_EUNAUTH when the header is absent or malformed.
 */
enum fx_err fx_token_from_header(const char *authorization, char out[static FX_TOKEN_LEN + 1]);

/*
 * Resolves a token to its user, within a read transaction. FX_EUNAUTH when the
 * token is unknown, revoked or expired at now_ms.
 */
enum fx_err fx_token_lookup(struct fx_db *db, const char *token, int64_t now_ms,
                            struct fx_principal *out);
/* The same by hash, also giving the token's expiry (ms). */
enum fx_err fx_token_lookup_hash(struct fx_db *db, const unsigned char hash[FX_TOKEN_HASH],
                                 int64_t now_ms, struct fx_principal *out, int64_t *expires_out);

#endif
