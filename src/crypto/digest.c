/*
 * digest.c: SHA-256 with the CPU's SHA instructions when it has them.
 * GnuTLS's (the TLS library libmicrohttpd already loads) runs them; libsodium's
 * portable code, the fallback, takes about five times as long, which is a
 * visible share of a notice write's time on the store's one writer thread.
 * Server-side only: fx, which never calls it, does not load GnuTLS.
 */
#include "crypto/digest.h"
#include "common/parse.h"

#include <gnutls/crypto.h>
#include <sodium.h>

void fx_digest_sha256(const void *p, size_t len, unsigned char out[FX_SHA256_BYTES])
{
    if (gnutls_hash_fast(GNUTLS_DIG_SHA256, p, len, out) < 0)
        crypto_hash_sha256(out, p, len);
}

void fx_digest_sha256_hex(const void *p, size_t len, char out[2 * FX_SHA256_BYTES + 1])
{
    unsigned char d[FX_SHA256_BYTES];
    fx_digest_sha256(p, len, d);
    fx_hex(d, sizeof(d), out);
}
