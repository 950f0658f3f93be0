/*
 * receipt.c: the client's side of a ledger receipt (SPEC §9): parse what a
 * user hands to `fx verify`, check the leaf's form, and verify the
 * checkpoint's signature and the inclusion proof with the log's public key.
 *
 * Every parser is total over (p, len): FX_OK or an error with a sentence
 * naming the member at fault, never a read outside the input, never a NUL
 * relied on. Strict, because a receipt is evidence: an encoding FX never
 * writes (non-canonical base64, extra members, a leaf that is not FX's
 * canonical JSON) is refused rather than guessed at. Nothing here holds a
 * secret or touches the network.
 */
#include "ledger/receipt.h"

#include "common/json.h"
#include "common/parse.h"

#include <jansson.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#define SHA256_HEX 64

static void say(char *why, size_t n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Writes the reason into why (when there is room for one). */
static void say(char *why, size_t n, const char *fmt, ...)
{
    va_list ap;
    if (why == NULL || n == 0)
        return;
    va_start(ap, fmt);
    vsnprintf(why, n, fmt, ap);
    va_end(ap);
}

bool fx_receipt_b64_decode(const char *b64, size_t len, unsigned char *out, size_t cap,
                           size_t *out_len)
{
    static const char alphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=";
    *out_len = 0;
    if (len == 0)
        return false;
    /* libsodium 1.0.18 takes every byte from 0x80 up for a digit: check the alphabet first */
    for (size_t i = 0; i < len; i++)
        if (b64[i] == '\0' || memchr(alphabet, b64[i], sizeof(alphabet) - 1) == NULL)
            return false;
    return sodium_base642bin(out, cap, b64, len, NULL, out_len, NULL,
                             sodium_base64_VARIANT_ORIGINAL) == 0;
}

/* The receipt's members, each checked for type and form. */
static enum fx_err parse_receipt_object(json_t *r, struct fx_receipt *out, char *why, size_t n)
{
    static const char *const members[] = {"leaf_index", "leaf", "checkpoint", "inclusion_path"};
    const char *key;
    json_t *v;
    size_t i;

    if (!json_is_object(r)) {
        say(why, n, "the receipt is not a JSON object");
        return FX_EINVAL;
    }
    json_object_foreach(r, key, v)
    {
        bool known = false;
        for (size_t k = 0; k < FX_ARRAY_LEN(members); k++)
            known = known || strcmp(key, members[k]) == 0;
        if (!known) {
            say(why, n, "the receipt has a member it should not: \"%.64s\"", key);
            return FX_EINVAL;
        }
    }

    v = json_object_get(r, "leaf_index");
    if (!json_is_integer(v) || json_integer_value(v) < 0) {
        say(why, n, "leaf_index: missing, or not a non-negative integer");
        return FX_EINVAL;
    }
    out->leaf_index = (uint64_t)json_integer_value(v);

    v = json_object_get(r, "leaf");
    if (!json_is_string(v) ||
        json_string_length(v) >
            sodium_base64_ENCODED_LEN(FX_RECEIPT_MAX_LEAF, sodium_base64_VARIANT_ORIGINAL) ||
        !fx_receipt_b64_decode(json_string_value(v), json_string_length(v), out->leaf,
                               sizeof(out->leaf), &out->leaf_len)) {
        say(why, n, "leaf: missing, or not the standard base64 of 1 to %d bytes",
            FX_RECEIPT_MAX_LEAF);
        return FX_EINVAL;
    }

    v = json_object_get(r, "checkpoint");
    if (!json_is_string(v) || json_string_length(v) == 0 ||
        json_string_length(v) > FX_CHECKPOINT_MAX_NOTE) {
        say(why, n, "checkpoint: missing, empty, or longer than %d bytes", FX_CHECKPOINT_MAX_NOTE);
        return FX_EINVAL;
    }
    out->note_len = json_string_length(v);
    memcpy(out->note, json_string_value(v), out->note_len);
    out->note[out->note_len] = '\0';

    v = json_object_get(r, "inclusion_path");
    if (!json_is_array(v) || json_array_size(v) > FX_RECEIPT_MAX_PATH) {
        say(why, n, "inclusion_path: missing, or not an array of at most %d hashes",
            FX_RECEIPT_MAX_PATH);
        return FX_EINVAL;
    }
    out->path.n = json_array_size(v);
    for (i = 0; i < out->path.n; i++) {
        const json_t *h = json_array_get(v, i);
        size_t hl = 0;
        if (!json_is_string(h) ||
            !fx_receipt_b64_decode(json_string_value(h), json_string_length(h), out->path.hash[i],
                                   FX_MERKLE_HASH, &hl) ||
            hl != FX_MERKLE_HASH) {
            say(why, n, "inclusion_path[%zu]: not the standard base64 of a 32-byte hash", i);
            return FX_EINVAL;
        }
    }
    return FX_OK;
}

enum fx_err fx_receipt_parse(const char *p, size_t len, struct fx_receipt *out, char *why,
                             size_t why_len)
{
    enum fx_err err = FX_EINVAL;
    json_t *j = NULL;
    json_t *r;
    char msg[160];

    memset(out, 0, sizeof(*out));
    say(why, why_len, "%s", "");
    if (len > FX_RECEIPT_MAX_FILE) {
        say(why, why_len, "the receipt file is larger than %d bytes", FX_RECEIPT_MAX_FILE);
        err = FX_ETOOBIG;
        goto out;
    }
    /* depth-checked, duplicate keys and NUL in strings refused */
    if (fx_json_parse(p, len, &j, msg, sizeof(msg)) != FX_OK) {
        say(why, why_len, "the receipt is not JSON: %s", msg);
        goto out;
    }
    if (!json_is_object(j)) {
        say(why, why_len, "the receipt is not a JSON object");
        goto out;
    }
    /* a whole API answer: its "receipt" member (the last leaf the write appended) */
    r = json_object_get(j, "receipt");
    if (r == NULL)
        r = j;
    err = parse_receipt_object(r, out, why, why_len);
out:
    json_decref(j);
    if (err != FX_OK)
        memset(out, 0, sizeof(*out));
    return err;
}

/* 1 to FX_MAX_SHORT_STRING printable ASCII characters, no space: ids and kinds. */
static bool token_ok(const json_t *v)
{
    const char *s = json_string_value(v);
    size_t len = json_string_length(v);
    if (s == NULL || len == 0 || len > FX_MAX_SHORT_STRING)
        return false;
    for (size_t i = 0; i < len; i++)
        if (s[i] <= ' ' || s[i] > '~')
            return false;
    return true;
}

enum fx_err fx_receipt_parse_leaf(const unsigned char *p, size_t len, struct fx_receipt_leaf *out,
                                  char *why, size_t why_len)
{
    static const char *const members[] = {"content_sha256", "kind", "org",
                                          "record_id",      "time", "version"};
    static const char *const tokens[] = {"kind", "org", "record_id"};
    char *const dest[] = {out->kind, out->org, out->record_id};
    enum fx_err err = FX_EINVAL;
    json_t *j = NULL, *v;
    const char *key, *hex;
    char *canon = NULL;
    size_t clen = 0, hlen = 0;
    char msg[160];

    memset(out, 0, sizeof(*out));
    say(why, why_len, "%s", "");
    if (len == 0 || len > FX_RECEIPT_MAX_LEAF) {
        say(why, why_len, "leaf: empty, or longer than %d bytes", FX_RECEIPT_MAX_LEAF);
        goto out;
    }
    if (fx_json_parse((const char *)p, len, &j, msg, sizeof(msg)) != FX_OK) {
        say(why, why_len, "leaf: not JSON: %s", msg);
        goto out;
    }
    if (!json_is_object(j) || json_object_size(j) != FX_ARRAY_LEN(members)) {
        say(why, why_len, "leaf: not an object of exactly the %zu members of a ledger leaf",
            FX_ARRAY_LEN(members));
        goto out;
    }
    json_object_foreach(j, key, v)
    {
        bool known = false;
        for (size_t k = 0; k < FX_ARRAY_LEN(members); k++)
            known = known || strcmp(key, members[k]) == 0;
        if (!known) {
            say(why, why_len, "leaf: a member no ledger leaf has: \"%.64s\"", key);
            goto out;
        }
    }
    for (size_t k = 0; k < FX_ARRAY_LEN(tokens); k++) {
        v = json_object_get(j, tokens[k]);
        if (!token_ok(v)) {
            say(why, why_len, "leaf: %s is not 1 to %d printable characters", tokens[k],
                FX_MAX_SHORT_STRING);
            goto out;
        }
        memcpy(dest[k], json_string_value(v), json_string_length(v) + 1);
    }
    v = json_object_get(j, "version");
    if (!json_is_integer(v) || json_integer_value(v) < 0) {
        say(why, why_len, "leaf: version is not a non-negative integer");
        goto out;
    }
    out->version = json_integer_value(v);
    v = json_object_get(j, "time");
    if (!json_is_string(v) ||
        fx_parse_time(json_string_value(v), json_string_length(v), &out->time_ms) != FX_OK) {
        say(why, why_len, "leaf: time is not an RFC 3339 time");
        goto out;
    }
    /* the one spelling fxd writes: UTC, milliseconds */
    fx_format_time(out->time_ms, out->time);
    if (strcmp(out->time, json_string_value(v)) != 0) {
        say(why, why_len, "leaf: time is not written as fxd writes it (%s)", out->time);
        goto out;
    }
    v = json_object_get(j, "content_sha256");
    hex = json_string_value(v);
    if (hex == NULL || json_string_length(v) != SHA256_HEX ||
        strspn(hex, "0123456789abcdef") != SHA256_HEX ||
        sodium_hex2bin(out->content_sha256, sizeof(out->content_sha256), hex, SHA256_HEX, NULL,
                       &hlen, NULL) != 0 ||
        hlen != sizeof(out->content_sha256)) {
        say(why, why_len, "leaf: content_sha256 is not 64 lowercase hex digits");
        goto out;
    }
    memcpy(out->content_sha256_hex, hex, SHA256_HEX + 1);
    /* one encoding only: compact, sorted keys, as fx_json_canonical() writes */
    canon = fx_json_canonical(j, &clen);
    if (clen != len || memcmp(canon, p, len) != 0) {
        say(why, why_len, "leaf: not in the canonical form (compact JSON, sorted keys)");
        goto out;
    }
    err = FX_OK;
out:
    free(canon);
    json_decref(j);
    if (err != FX_OK)
        memset(out, 0, sizeof(*out));
    return err;
}

enum fx_err fx_receipt_verify(const struct fx_receipt *r, const struct fx_checkpoint_vkey *vk,
                              struct fx_checkpoint *cp_out, enum fx_receipt_part *part_out)
{
    enum fx_err err;
    unsigned char h[FX_MERKLE_HASH];

    *part_out = FX_RECEIPT_PART_CHECKPOINT;
    err = fx_checkpoint_verify(r->note, r->note_len, vk, cp_out);
    if (err != FX_OK)
        return err;
    *part_out = FX_RECEIPT_PART_INCLUSION;
    fx_merkle_leaf_hash(r->leaf, r->leaf_len, h);
    err = fx_merkle_verify_inclusion(h, r->leaf_index, cp_out->size, &r->path, cp_out->root);
    if (err != FX_OK)
        return err;
    *part_out = FX_RECEIPT_PART_NONE;
    return FX_OK;
}
