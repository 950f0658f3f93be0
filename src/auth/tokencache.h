/*
 * tokencache.h: recently verified tokens, so that a request does not pay a
 * database read to learn who is calling. An entry is trusted for at most its
 * TTL (one second by default), never past the token's expiry, and not at all
 * after a revocation on this node (which empties the cache). A revocation made
 * on another node of the same database takes effect here within the TTL
 * (docs/decisions/0007-token-cache.md). Keys are token hashes, never tokens.
 */
#ifndef FX_TOKENCACHE_H
#define FX_TOKENCACHE_H

#include "auth/principal.h"
#include "auth/token.h"

#include <stdbool.h>
#include <stdint.h>

struct fx_tokencache;

struct fx_tokencache *fx_tokencache_new(size_t slots, int64_t ttl_ms);
void fx_tokencache_free(struct fx_tokencache *c);
/* True and *out filled when hash was verified within the TTL and has not expired at now. */
bool fx_tokencache_get(struct fx_tokencache *c, const unsigned char hash[FX_TOKEN_HASH],
                       int64_t now, struct fx_principal *out);
void fx_tokencache_put(struct fx_tokencache *c, const unsigned char hash[FX_TOKEN_HASH],
                       const struct fx_principal *p, int64_t expires_at, int64_t now);
/* Forgets every entry (after a revocation). */
void fx_tokencache_flush(struct fx_tokencache *c);

#endif
