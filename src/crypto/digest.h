/*
 * digest.h: SHA-256 of bytes the server hashes on hot paths (stored versions'
 * content hashes). Same digest as libsodium's crypto_hash_sha256, faster.
 */
#ifndef FX_DIGEST_H
#define FX_DIGEST_H

#include <stddef.h>

#define FX_SHA256_BYTES 32

/* SHA-256 of (p, len) into out. */
void fx_digest_sha256(const void *p, size_t len, unsigned char out[FX_SHA256_BYTES]);
/* The same as 64 lowercase hex digits and a NUL: a record's content_sha256. */
void fx_digest_sha256_hex(const void *p, size_t len, char out[2 * FX_SHA256_BYTES + 1]);

#endif
