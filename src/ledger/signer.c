/*
 * signer.c: holds the ledger's Ed25519 key in sodium_malloc memory.
 */
#include "ledger/signer.h"

#include "ledger/checkpoint.h"

#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct fx_signer {
    unsigned char *sk; /* sodium_malloc'd, crypto_sign_SECRETKEYBYTES */
    unsigned char pk[crypto_sign_PUBLICKEYBYTES];
    char name[128];
};

enum fx_err fx_signer_create(const char *path)
{
    unsigned char *seed = sodium_malloc(crypto_sign_SEEDBYTES);
    if (seed == NULL)
        fx_die("sodium_malloc failed");
    randombytes_buf(seed, crypto_sign_SEEDBYTES);
    enum fx_err err = FX_EIO;
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
    if (fd >= 0) {
        if (write(fd, seed, crypto_sign_SEEDBYTES) == crypto_sign_SEEDBYTES && fsync(fd) == 0)
            err = FX_OK;
        close(fd);
    }
    sodium_free(seed);
    return err;
}

enum fx_err fx_signer_load(const char *path, const char *name, struct fx_signer **out)
{
    *out = NULL;
    int fd = open(path, O_RDONLY);
    if (fd < 0)
        return FX_EIO;
    struct stat sb;
    if (fstat(fd, &sb) != 0 || (sb.st_mode & 077) || sb.st_size != crypto_sign_SEEDBYTES) {
        close(fd);
        return FX_ECRYPTO;
    }
    unsigned char *seed = sodium_malloc(crypto_sign_SEEDBYTES);
    struct fx_signer *s = fx_xcalloc(1, sizeof(*s));
    s->sk = sodium_malloc(crypto_sign_SECRETKEYBYTES);
    if (seed == NULL || s->sk == NULL)
        fx_die("sodium_malloc failed");
    ssize_t r = read(fd, seed, crypto_sign_SEEDBYTES);
    close(fd);
    if (r != crypto_sign_SEEDBYTES) {
        sodium_free(seed);
        fx_signer_free(s);
        return FX_EIO;
    }
    crypto_sign_seed_keypair(s->pk, s->sk, seed);
    sodium_free(seed);
    snprintf(s->name, sizeof(s->name), "%s", name);
    *out = s;
    return FX_OK;
}

void fx_signer_free(struct fx_signer *s)
{
    if (s == NULL)
        return;
    sodium_free(s->sk);
    free(s);
}

void fx_signer_vkey(const struct fx_signer *s, char *out, size_t n)
{
    /* key id: SHA-256(name ‖ 0x0A ‖ 0x01 ‖ public key)[:4] (C2SP signed-note) */
    unsigned char blob[1 + crypto_sign_PUBLICKEYBYTES], d[32];
    blob[0] = 0x01;
    memcpy(blob + 1, s->pk, sizeof(s->pk));
    crypto_hash_sha256_state h;
    crypto_hash_sha256_init(&h);
    crypto_hash_sha256_update(&h, (const unsigned char *)s->name, strlen(s->name));
    crypto_hash_sha256_update(&h, (const unsigned char *)"\n", 1);
    crypto_hash_sha256_update(&h, blob, sizeof(blob));
    crypto_hash_sha256_final(&h, d);
    char b64[sodium_base64_ENCODED_LEN(sizeof(blob), sodium_base64_VARIANT_ORIGINAL)];
    sodium_bin2base64(b64, sizeof(b64), blob, sizeof(blob), sodium_base64_VARIANT_ORIGINAL);
    snprintf(out, n, "%s+%02x%02x%02x%02x+%s", s->name, d[0], d[1], d[2], d[3], b64);
}

enum fx_err fx_signer_sign(const struct fx_signer *s, const void *msg, size_t len,
                           unsigned char sig[FX_SIGNER_SIG])
{
    if (crypto_sign_ed25519_detached(sig, NULL, msg, len, s->sk) != 0)
        return FX_ECRYPTO;
    return FX_OK;
}

const char *fx_signer_name(const struct fx_signer *s)
{
    return s->name;
}

void fx_signer_public_key(const struct fx_signer *s, unsigned char out[FX_SIGNER_PUBKEY])
{
    memcpy(out, s->pk, FX_SIGNER_PUBKEY);
}

void fx_signer_key_id(const struct fx_signer *s, unsigned char out[FX_SIGNER_KEY_ID])
{
    /* One definition of the key id for signing and verifying: checkpoint.c's. */
    fx_checkpoint_key_id(s->name, strlen(s->name), s->pk, out);
}
