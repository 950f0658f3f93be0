/*
 * fuzz_receipt.c: a ledger receipt as `fx verify` reads it from a file
 * (SPEC §9): fx_receipt_parse(), then fx_receipt_verify() with a fixed key
 * (Ed25519 seed 00 01 .. 1f, name fx.local/ledger, the key of the seeds'
 * checkpoints) and fx_receipt_parse_leaf() on the leaf. The input also goes
 * to fx_receipt_parse_leaf() as it is, since leaf bytes are outside input too.
 *
 * Invariants:
 *  - refused: a reason is given and the output is zeroed;
 *  - accepted: every length is within its limit, the note holds no NUL, and
 *    writing the receipt back as JSON and parsing it again gives the same
 *    receipt (nothing is lost or invented by the parser);
 *  - verification names the part that failed, and succeeds only for a leaf
 *    index inside the signed tree;
 *  - an accepted leaf is exactly the canonical JSON of what was parsed, with
 *    a time that formats back to itself.
 */
#include "fuzz.h"

#include "common/json.h"
#include "common/parse.h"
#include "ledger/receipt.h"

#include <jansson.h>
#include <sodium.h>
#include <string.h>

#define NAME "fx.local/ledger"

static struct fx_checkpoint_vkey key;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    unsigned char seed[crypto_sign_SEEDBYTES], sk[crypto_sign_SECRETKEYBYTES];
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

static json_t *b64(const unsigned char *p, size_t n)
{
    size_t cap = sodium_base64_ENCODED_LEN(n, sodium_base64_VARIANT_ORIGINAL);
    char *s = malloc(cap);
    FUZZ_CHECK(s != NULL);
    sodium_bin2base64(s, cap, p, n, sodium_base64_VARIANT_ORIGINAL);
    json_t *j = json_string(s);
    free(s);
    FUZZ_CHECK(j != NULL);
    return j;
}

/* The receipt written back as JSON, as fxd writes one. */
static char *write_back(const struct fx_receipt *r, size_t *len_out)
{
    json_t *path = json_array();
    for (size_t i = 0; i < r->path.n; i++)
        json_array_append_new(path, b64(r->path.hash[i], FX_MERKLE_HASH));
    json_t *j = json_pack("{s:I,s:o,s:s%,s:o}", "leaf_index", (json_int_t)r->leaf_index, "leaf",
                          b64(r->leaf, r->leaf_len), "checkpoint", r->note, r->note_len,
                          "inclusion_path", path);
    FUZZ_CHECK(j != NULL);
    char *s = fx_json_canonical(j, len_out);
    json_decref(j);
    return s;
}

static void check_leaf(const unsigned char *p, size_t len)
{
    struct fx_receipt_leaf leaf;
    char why[256];
    if (fx_receipt_parse_leaf(p, len, &leaf, why, sizeof(why)) != FX_OK) {
        FUZZ_CHECK(why[0] != '\0');
        FUZZ_CHECK(all_zero(&leaf, sizeof(leaf)));
        return;
    }
    FUZZ_CHECK(len <= FX_RECEIPT_MAX_LEAF);
    FUZZ_CHECK(leaf.version >= 0);
    FUZZ_CHECK(strlen(leaf.content_sha256_hex) == 64);
    const char *strs[] = {leaf.kind, leaf.record_id, leaf.org};
    for (size_t k = 0; k < FX_ARRAY_LEN(strs); k++) {
        FUZZ_CHECK(strs[k][0] != '\0');
        for (const char *c = strs[k]; *c; c++)
            FUZZ_CHECK(*c > ' ' && *c <= '~');
    }
    char t[25];
    fx_format_time(leaf.time_ms, t);
    FUZZ_CHECK(strcmp(t, leaf.time) == 0);
    json_t *j = json_pack("{s:s,s:s,s:I,s:s,s:s,s:s}", "kind", leaf.kind, "record_id",
                          leaf.record_id, "version", (json_int_t)leaf.version, "content_sha256",
                          leaf.content_sha256_hex, "org", leaf.org, "time", leaf.time);
    FUZZ_CHECK(j != NULL);
    size_t clen = 0;
    char *canon = fx_json_canonical(j, &clen);
    FUZZ_CHECK(clen == len && memcmp(canon, p, len) == 0);
    free(canon);
    json_decref(j);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fx_receipt *r = malloc(sizeof(*r)), *again = malloc(sizeof(*again));
    char why[256];
    FUZZ_CHECK(r != NULL && again != NULL);

    check_leaf(data, size);
    enum fx_err err = fx_receipt_parse((const char *)data, size, r, why, sizeof(why));
    if (err != FX_OK) {
        FUZZ_CHECK(err == FX_EINVAL || (err == FX_ETOOBIG && size > FX_RECEIPT_MAX_FILE));
        FUZZ_CHECK(why[0] != '\0');
        FUZZ_CHECK(all_zero(r, sizeof(*r)));
        goto out;
    }
    FUZZ_CHECK(r->leaf_index <= INT64_MAX);
    FUZZ_CHECK(r->leaf_len >= 1 && r->leaf_len <= FX_RECEIPT_MAX_LEAF);
    FUZZ_CHECK(r->note_len >= 1 && r->note_len <= FX_CHECKPOINT_MAX_NOTE);
    FUZZ_CHECK(strlen(r->note) == r->note_len);
    FUZZ_CHECK(r->path.n <= FX_RECEIPT_MAX_PATH);

    size_t wlen = 0;
    char *w = write_back(r, &wlen);
    FUZZ_CHECK(fx_receipt_parse(w, wlen, again, why, sizeof(why)) == FX_OK);
    FUZZ_CHECK(again->leaf_index == r->leaf_index && again->leaf_len == r->leaf_len &&
               memcmp(again->leaf, r->leaf, r->leaf_len) == 0);
    FUZZ_CHECK(again->note_len == r->note_len && memcmp(again->note, r->note, r->note_len) == 0);
    FUZZ_CHECK(again->path.n == r->path.n &&
               memcmp(again->path.hash, r->path.hash, r->path.n * FX_MERKLE_HASH) == 0);
    free(w);

    struct fx_checkpoint cp;
    enum fx_receipt_part part = FX_RECEIPT_PART_NONE;
    err = fx_receipt_verify(r, &key, &cp, &part);
    if (err == FX_OK) {
        FUZZ_CHECK(part == FX_RECEIPT_PART_NONE);
        FUZZ_CHECK(r->leaf_index < cp.size);
        FUZZ_CHECK(cp.origin_len == key.name_len && strcmp(cp.origin, NAME) == 0);
    } else {
        FUZZ_CHECK(part == FX_RECEIPT_PART_CHECKPOINT || part == FX_RECEIPT_PART_INCLUSION);
        FUZZ_CHECK(err == FX_EINVAL || err == FX_ECRYPTO || err == FX_ETOOBIG);
    }
    check_leaf(r->leaf, r->leaf_len);
out:
    free(again);
    free(r);
    return 0;
}
