/*
 * fuzz_checkpoint.c: the ledger's signed checkpoints as a verifier reads them
 * (SPEC §9; `fx verify`, `fx ledger watch`, fxd reading its key): the same
 * bytes go to fx_checkpoint_parse_vkey(), fx_checkpoint_parse() and
 * fx_checkpoint_open_note() with a fixed key (Ed25519 seed 00 01 .. 1f, name
 * fx.local/ledger), whose signed notes are among the seeds so that the
 * signature-checking paths are reached.
 *
 * Invariants:
 *  - a refused input leaves the output zeroed; only inputs over
 *    FX_CHECKPOINT_MAX_NOTE are FX_ETOOBIG;
 *  - an accepted verifier key has a valid name, the key id of its name and
 *    key, and is exactly "name+hex+base64" of what was parsed (hex in either
 *    case): one key, one spelling;
 *  - an accepted checkpoint body is exactly what fx_checkpoint_format() writes
 *    for its origin, size and root;
 *  - an opened note's text ends at a blank line inside the input; when that
 *    text is a checkpoint of this key's log, fx_checkpoint_verify() agrees;
 *  - a checkpoint body signed here with the fixed key opens and verifies.
 */
#include "fuzz.h"

#include "common/limits.h"
#include "ledger/checkpoint.h"

#include <ctype.h>
#include <sodium.h>
#include <string.h>

#define NAME "fx.local/ledger"

static struct fx_checkpoint_vkey key;
static unsigned char sk[crypto_sign_SECRETKEYBYTES];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    unsigned char seed[crypto_sign_SEEDBYTES];
    (void)argc;
    (void)argv;
    FUZZ_CHECK(sodium_init() >= 0);
    for (size_t i = 0; i < sizeof(seed); i++)
        seed[i] = (unsigned char)i;
    FUZZ_CHECK(crypto_sign_seed_keypair(key.pk, sk, seed) == 0);
    memcpy(key.name, NAME, sizeof(NAME));
    key.name_len = sizeof(NAME) - 1;
    fx_checkpoint_key_id(key.name, key.name_len, key.pk, key.id);
    return 0;
}

static bool all_zero(const void *p, size_t n)
{
    const unsigned char *u = p;
    for (size_t i = 0; i < n; i++)
        if (u[i] != 0)
            return false;
    return true;
}

static void check_vkey(const uint8_t *data, size_t size)
{
    struct fx_checkpoint_vkey vk;
    unsigned char id[FX_SIGNER_KEY_ID], raw[1 + FX_SIGNER_PUBKEY];
    char hex[2 * FX_SIGNER_KEY_ID + 1];
    char b64[sodium_base64_ENCODED_LEN(sizeof(raw), sodium_base64_VARIANT_ORIGINAL)];
    char again[FX_MAX_SHORT_STRING + 64];

    if (fx_checkpoint_parse_vkey((const char *)data, size, &vk) != FX_OK) {
        FUZZ_CHECK(all_zero(&vk, sizeof(vk)));
        return;
    }
    FUZZ_CHECK(vk.name_len >= 1 && vk.name_len <= FX_MAX_SHORT_STRING);
    FUZZ_CHECK(strlen(vk.name) == vk.name_len);
    FUZZ_CHECK(strchr(vk.name, '+') == NULL && strchr(vk.name, ' ') == NULL);
    fx_checkpoint_key_id(vk.name, vk.name_len, vk.pk, id);
    FUZZ_CHECK(memcmp(id, vk.id, sizeof(id)) == 0);
    raw[0] = 0x01;
    memcpy(raw + 1, vk.pk, FX_SIGNER_PUBKEY);
    sodium_bin2hex(hex, sizeof(hex), vk.id, sizeof(vk.id));
    sodium_bin2base64(b64, sizeof(b64), raw, sizeof(raw), sodium_base64_VARIANT_ORIGINAL);
    int n = snprintf(again, sizeof(again), "%s+%s+%s", vk.name, hex, b64);
    FUZZ_CHECK(n > 0 && (size_t)n == size);
    for (size_t i = 0; i < size; i++)
        FUZZ_CHECK(tolower((unsigned char)data[i]) == tolower((unsigned char)again[i]));
}

static void check_body(const uint8_t *data, size_t size)
{
    struct fx_checkpoint cp;
    char again[FX_CHECKPOINT_MAX_NOTE];
    size_t len = 0;

    if (fx_checkpoint_parse((const char *)data, size, &cp) != FX_OK) {
        FUZZ_CHECK(all_zero(&cp, sizeof(cp)));
        return;
    }
    FUZZ_CHECK(cp.origin_len >= 1 && cp.origin_len <= FX_MAX_SHORT_STRING);
    FUZZ_CHECK(strlen(cp.origin) == cp.origin_len);
    FUZZ_CHECK(fx_checkpoint_format(cp.origin, cp.size, cp.root, again, sizeof(again), &len) ==
               FX_OK);
    FUZZ_CHECK(len == size && memcmp(again, data, size) == 0);

    /* signed here with the fixed key, the body must open and verify */
    unsigned char blob[FX_SIGNER_KEY_ID + crypto_sign_BYTES];
    char b64[sodium_base64_ENCODED_LEN(sizeof(blob), sodium_base64_VARIANT_ORIGINAL)];
    char note[2 * FX_CHECKPOINT_MAX_NOTE];
    size_t body_len = 0;
    struct fx_checkpoint v;
    memcpy(blob, key.id, FX_SIGNER_KEY_ID);
    FUZZ_CHECK(crypto_sign_detached(blob + FX_SIGNER_KEY_ID, NULL, data, size, sk) == 0);
    sodium_bin2base64(b64, sizeof(b64), blob, sizeof(blob), sodium_base64_VARIANT_ORIGINAL);
    int n = snprintf(note, sizeof(note), "%.*s\n\xe2\x80\x94 %s %s\n", (int)size,
                     (const char *)data, NAME, b64);
    FUZZ_CHECK(n > 0 && (size_t)n < sizeof(note));
    if ((size_t)n > FX_CHECKPOINT_MAX_NOTE) {
        FUZZ_CHECK(fx_checkpoint_open_note(note, (size_t)n, &key, &body_len) == FX_ETOOBIG);
        return;
    }
    FUZZ_CHECK(fx_checkpoint_open_note(note, (size_t)n, &key, &body_len) == FX_OK);
    FUZZ_CHECK(body_len == size);
    enum fx_err err = fx_checkpoint_verify(note, (size_t)n, &key, &v);
    if (cp.origin_len == key.name_len && memcmp(cp.origin, key.name, key.name_len) == 0) {
        FUZZ_CHECK(err == FX_OK);
        FUZZ_CHECK(v.size == cp.size && memcmp(v.root, cp.root, sizeof(v.root)) == 0);
    } else {
        FUZZ_CHECK(err == FX_EINVAL); /* another log's checkpoint under this key */
    }
}

static void check_note(const uint8_t *data, size_t size)
{
    const char *p = (const char *)data;
    size_t body_len = 12345;
    enum fx_err err = fx_checkpoint_open_note(p, size, &key, &body_len);
    struct fx_checkpoint cp, v;

    if (size > FX_CHECKPOINT_MAX_NOTE)
        FUZZ_CHECK(err == FX_ETOOBIG);
    if (err != FX_OK) {
        FUZZ_CHECK(err == FX_EINVAL || err == FX_ECRYPTO || err == FX_ETOOBIG);
        FUZZ_CHECK(body_len == 0);
        FUZZ_CHECK(fx_checkpoint_verify(p, size, &key, &v) != FX_OK);
        FUZZ_CHECK(all_zero(&v, sizeof(v)));
        return;
    }
    FUZZ_CHECK(body_len >= 1 && body_len + 1 < size);
    FUZZ_CHECK(p[body_len - 1] == '\n' && p[body_len] == '\n' && p[size - 1] == '\n');
    err = fx_checkpoint_verify(p, size, &key, &v);
    if (fx_checkpoint_parse(p, body_len, &cp) == FX_OK && cp.origin_len == key.name_len &&
        memcmp(cp.origin, key.name, key.name_len) == 0) {
        FUZZ_CHECK(err == FX_OK);
        FUZZ_CHECK(v.size == cp.size && memcmp(v.root, cp.root, sizeof(v.root)) == 0);
    } else {
        FUZZ_CHECK(err == FX_EINVAL);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    check_vkey(data, size);
    check_body(data, size);
    check_note(data, size);
    return 0;
}
