/*
 * checkpoint.c: C2SP tlog-checkpoint bodies and C2SP signed-note envelopes
 * with Ed25519 signatures: formatting and signing (through signer.c, which
 * alone holds the key), and the parsers a verifier runs on what it fetched.
 *
 * The parsers are total: any bytes in, FX_OK or an error out, no read outside
 * (p, len), no reliance on a NUL, no allocation. They are strict, since a
 * checkpoint is only worth its one exact encoding: a note another
 * implementation would read differently must not pass here. Key ids and
 * signatures are public, so plain comparisons are fine; Ed25519 and base64 are
 * libsodium's.
 */
#include "ledger/checkpoint.h"

#include "common/parse.h"

#include <inttypes.h>
#include <sodium.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#define KEY_TYPE_ED25519 0x01 /* C2SP signed-note signature type byte */
#define ROOT_B64_LEN     44   /* standard base64 of 32 bytes, padded */
/* "— " opening each signature line: U+2014 EM DASH in UTF-8, then a space. */
static const char sig_prefix[] = "\xe2\x80\x94 ";
#define SIG_PREFIX_LEN (sizeof(sig_prefix) - 1)
/* key id ‖ signature: what one of our signature lines carries. */
#define SIG_BLOB_LEN (FX_SIGNER_KEY_ID + FX_SIGNER_SIG)
/* A verifier key line: name, '+', 8 hex digits, '+', base64 of 33 bytes. */
#define VKEY_MAX_LEN (FX_MAX_SHORT_STRING + 1 + 8 + 1 + 44)

/*
 * Unicode White_Space characters above ASCII, in UTF-8: C2SP signed-note key
 * names exclude every Unicode space, as Go's golang.org/x/mod/sumdb/note does
 * (unicode.IsSpace), so that a name never reads differently in two programs.
 */
static const char *const unicode_spaces[] = {
    "\xc2\x85",     "\xc2\xa0",     "\xe1\x9a\x80", "\xe2\x80\x80", "\xe2\x80\x81",
    "\xe2\x80\x82", "\xe2\x80\x83", "\xe2\x80\x84", "\xe2\x80\x85", "\xe2\x80\x86",
    "\xe2\x80\x87", "\xe2\x80\x88", "\xe2\x80\x89", "\xe2\x80\x8a", "\xe2\x80\xa8",
    "\xe2\x80\xa9", "\xe2\x80\xaf", "\xe2\x81\x9f", "\xe3\x80\x80",
};

/*
 * True when (p, len) is UTF-8 without NUL and without control characters other
 * than \n (when newline_ok): C0, DEL and C1. A \r is a control character, so
 * CRLF line ends are refused here.
 */
static bool text_ok(const char *p, size_t len, bool newline_ok)
{
    const unsigned char *u = (const unsigned char *)p;

    if (!fx_utf8_valid(p, len))
        return false;
    for (size_t i = 0; i < len; i++) {
        if (u[i] == '\n' && newline_ok)
            continue;
        if (u[i] < 0x20 || u[i] == 0x7f)
            return false;
        /* C1 controls U+0080..U+009F are C2 80..C2 9F once the UTF-8 is valid. */
        if (u[i] == 0xc2 && i + 1 < len && u[i + 1] >= 0x80 && u[i + 1] <= 0x9f)
            return false;
    }
    return true;
}

/* C2SP signed-note key name: non-empty UTF-8 text, no space of any kind, no '+'. */
static bool name_ok(const char *p, size_t len)
{
    if (len == 0 || len > FX_MAX_SHORT_STRING || !text_ok(p, len, false))
        return false;
    for (size_t i = 0; i < len; i++) {
        if (p[i] == ' ' || p[i] == '+')
            return false;
        for (size_t k = 0; k < FX_ARRAY_LEN(unicode_spaces); k++) {
            size_t n = strlen(unicode_spaces[k]);
            if (len - i >= n && memcmp(p + i, unicode_spaces[k], n) == 0)
                return false;
        }
    }
    return true;
}

/*
 * Decodes standard padded base64 (b64, len) into out (at most cap bytes),
 * whole input only: libsodium refuses missing padding and non-zero trailing
 * bits, so one byte string has one accepted encoding. The alphabet is checked
 * here first: libsodium 1.0.18 takes every byte from 0x80 up for a base64
 * digit (it compares a signed char), which fuzz_checkpoint found.
 */
static bool b64_decode(const char *b64, size_t len, unsigned char *out, size_t cap, size_t *out_len)
{
    static const char alphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=";
    if (len == 0)
        return false;
    for (size_t i = 0; i < len; i++)
        if (b64[i] == '\0' || memchr(alphabet, b64[i], sizeof(alphabet) - 1) == NULL)
            return false;
    return sodium_base642bin(out, cap, b64, len, NULL, out_len, NULL,
                             sodium_base64_VARIANT_ORIGINAL) == 0;
}

/* Appends (p, n) to out at *at, keeping a byte for the NUL. */
static bool put(char *out, size_t cap, size_t *at, const char *p, size_t n)
{
    if (cap == 0 || n >= cap - *at)
        return false;
    memcpy(out + *at, p, n);
    *at += n;
    out[*at] = '\0';
    return true;
}

void fx_checkpoint_key_id(const char *name, size_t len, const unsigned char pk[FX_SIGNER_PUBKEY],
                          unsigned char out[FX_SIGNER_KEY_ID])
{
    static const unsigned char sep[2] = {'\n', KEY_TYPE_ED25519};
    unsigned char d[crypto_hash_sha256_BYTES];
    crypto_hash_sha256_state h;

    crypto_hash_sha256_init(&h);
    crypto_hash_sha256_update(&h, (const unsigned char *)name, len);
    crypto_hash_sha256_update(&h, sep, sizeof(sep));
    crypto_hash_sha256_update(&h, pk, FX_SIGNER_PUBKEY);
    crypto_hash_sha256_final(&h, d);
    memcpy(out, d, FX_SIGNER_KEY_ID);
}

enum fx_err fx_checkpoint_format(const char *origin, uint64_t size,
                                 const unsigned char root[FX_MERKLE_HASH], char *out, size_t cap,
                                 size_t *len_out)
{
    enum fx_err err = FX_OK;
    char b64[sodium_base64_ENCODED_LEN(FX_MERKLE_HASH, sodium_base64_VARIANT_ORIGINAL)];
    char num[24];
    size_t olen = strnlen(origin, FX_MAX_SHORT_STRING + 1);
    size_t at = 0;
    int nlen;

    *len_out = 0;
    /* Sizes past INT64_MAX would not parse back (fx_parse_i64), so they are not written. */
    if (olen == 0 || olen > FX_MAX_SHORT_STRING || !text_ok(origin, olen, false) ||
        size > (uint64_t)INT64_MAX) {
        err = FX_EINVAL;
        goto out;
    }
    sodium_bin2base64(b64, sizeof(b64), root, FX_MERKLE_HASH, sodium_base64_VARIANT_ORIGINAL);
    nlen = snprintf(num, sizeof(num), "%" PRIu64, size);
    if (!put(out, cap, &at, origin, olen) || !put(out, cap, &at, "\n", 1) ||
        !put(out, cap, &at, num, (size_t)nlen) || !put(out, cap, &at, "\n", 1) ||
        !put(out, cap, &at, b64, strlen(b64)) || !put(out, cap, &at, "\n", 1)) {
        err = FX_ETOOBIG;
        goto out;
    }
    *len_out = at;
out:
    if (err != FX_OK && cap > 0)
        out[0] = '\0';
    return err;
}

enum fx_err fx_checkpoint_sign(const struct fx_signer *s, uint64_t size,
                               const unsigned char root[FX_MERKLE_HASH], char *out, size_t cap,
                               size_t *len_out)
{
    enum fx_err err = FX_OK;
    const char *name = fx_signer_name(s);
    size_t nlen = strlen(name);
    unsigned char blob[SIG_BLOB_LEN];
    char b64[sodium_base64_ENCODED_LEN(SIG_BLOB_LEN, sodium_base64_VARIANT_ORIGINAL)];
    size_t at = 0;

    *len_out = 0;
    /* The origin doubles as the key name, so it must satisfy both grammars. */
    if (!name_ok(name, nlen)) {
        err = FX_EINVAL;
        goto out;
    }
    err = fx_checkpoint_format(name, size, root, out, cap, &at);
    if (err != FX_OK)
        goto out;
    /* C2SP signed-note: the signature covers the text exactly, final \n included. */
    fx_signer_key_id(s, blob);
    err = fx_signer_sign(s, out, at, blob + FX_SIGNER_KEY_ID);
    if (err != FX_OK)
        goto out;
    sodium_bin2base64(b64, sizeof(b64), blob, sizeof(blob), sodium_base64_VARIANT_ORIGINAL);
    if (!put(out, cap, &at, "\n", 1) || !put(out, cap, &at, sig_prefix, SIG_PREFIX_LEN) ||
        !put(out, cap, &at, name, nlen) || !put(out, cap, &at, " ", 1) ||
        !put(out, cap, &at, b64, strlen(b64)) || !put(out, cap, &at, "\n", 1)) {
        err = FX_ETOOBIG;
        goto out;
    }
    *len_out = at;
out:
    if (err != FX_OK && cap > 0)
        out[0] = '\0';
    return err;
}

enum fx_err fx_checkpoint_parse_vkey(const char *p, size_t len, struct fx_checkpoint_vkey *out)
{
    enum fx_err err = FX_EINVAL;
    unsigned char id[FX_SIGNER_KEY_ID], want[FX_SIGNER_KEY_ID];
    unsigned char key[1 + FX_SIGNER_PUBKEY + 1]; /* one spare byte: longer keys fail to fit */
    size_t klen = 0, idlen = 0;
    const char *plus, *hex, *b64;

    memset(out, 0, sizeof(*out));
    if (len == 0 || len > VKEY_MAX_LEN)
        goto out;
    /* Names cannot hold a '+', so the first one ends the name. */
    plus = memchr(p, '+', len);
    if (plus == NULL || !name_ok(p, (size_t)(plus - p)))
        goto out;
    hex = plus + 1;
    if ((size_t)(p + len - hex) < 8 + 1 || hex[8] != '+')
        goto out;
    b64 = hex + 9;
    if (sodium_hex2bin(id, sizeof(id), hex, 8, NULL, &idlen, NULL) != 0 || idlen != sizeof(id))
        goto out;
    if (!b64_decode(b64, (size_t)(p + len - b64), key, sizeof(key), &klen) ||
        klen != 1 + FX_SIGNER_PUBKEY || key[0] != KEY_TYPE_ED25519)
        goto out;
    /* Small-order and non-canonical points can never carry a valid signature. */
    if (crypto_core_ed25519_is_valid_point(key + 1) != 1)
        goto out;
    fx_checkpoint_key_id(p, (size_t)(plus - p), key + 1, want);
    if (memcmp(id, want, sizeof(id)) != 0)
        goto out;
    out->name_len = (size_t)(plus - p);
    memcpy(out->name, p, out->name_len);
    out->name[out->name_len] = '\0';
    memcpy(out->id, id, sizeof(id));
    memcpy(out->pk, key + 1, FX_SIGNER_PUBKEY);
    err = FX_OK;
out:
    if (err != FX_OK)
        memset(out, 0, sizeof(*out));
    return err;
}

enum fx_err fx_checkpoint_open_note(const char *p, size_t len, const struct fx_checkpoint_vkey *vk,
                                    size_t *body_len_out)
{
    enum fx_err err = FX_EINVAL;
    /* The largest signature a line of a note within the limit can carry. */
    unsigned char blob[FX_CHECKPOINT_MAX_NOTE / 4 * 3];
    size_t body_len = 0, nsigs = 0, at;
    bool ours_seen = false;

    *body_len_out = 0;
    if (len > FX_CHECKPOINT_MAX_NOTE) {
        err = FX_ETOOBIG;
        goto out;
    }
    if (len < 3 || !text_ok(p, len, true))
        goto out;
    /*
     * The text ends at the last blank line, as in Go's note.Open: signature
     * lines are never empty, so only that split leaves a valid signature block.
     */
    for (size_t i = len - 1; i-- > 0;) {
        if (p[i] == '\n' && p[i + 1] == '\n') {
            body_len = i + 1;
            break;
        }
    }
    if (body_len == 0 || body_len + 1 == len)
        goto out;
    for (at = body_len + 1; at < len;) {
        const char *line = p + at;
        const char *nl = memchr(line, '\n', len - at);
        const char *sp;
        size_t llen, nlen, blen = 0;

        if (nl == NULL) /* the last line lacks its \n */
            goto out;
        llen = (size_t)(nl - line);
        at += llen + 1;
        if (++nsigs > FX_CHECKPOINT_MAX_SIGS)
            goto out;
        if (llen < SIG_PREFIX_LEN || memcmp(line, sig_prefix, SIG_PREFIX_LEN) != 0)
            goto out;
        line += SIG_PREFIX_LEN;
        llen -= SIG_PREFIX_LEN;
        sp = memchr(line, ' ', llen);
        if (sp == NULL)
            goto out;
        nlen = (size_t)(sp - line);
        if (!name_ok(line, nlen))
            goto out;
        /* A second space, or none after the name, fails base64 decoding. */
        if (!b64_decode(sp + 1, llen - nlen - 1, blob, sizeof(blob), &blen) ||
            blen < FX_SIGNER_KEY_ID + 1)
            goto out;
        if (nlen != vk->name_len || memcmp(line, vk->name, nlen) != 0 ||
            memcmp(blob, vk->id, FX_SIGNER_KEY_ID) != 0)
            continue; /* another key's: a witness cosignature, not ours to check */
        if (ours_seen)
            goto out;
        ours_seen = true;
        if (blen != SIG_BLOB_LEN ||
            crypto_sign_ed25519_verify_detached(blob + FX_SIGNER_KEY_ID, (const unsigned char *)p,
                                                body_len, vk->pk) != 0) {
            err = FX_ECRYPTO;
            goto out;
        }
    }
    if (!ours_seen) {
        err = FX_ECRYPTO;
        goto out;
    }
    *body_len_out = body_len;
    err = FX_OK;
out:
    return err;
}

enum fx_err fx_checkpoint_parse(const char *p, size_t len, struct fx_checkpoint *out)
{
    enum fx_err err = FX_EINVAL;
    const char *line[3];
    size_t llen[3];
    size_t at = 0, rlen = 0;
    int64_t size = 0;

    memset(out, 0, sizeof(*out));
    for (size_t i = 0; i < 3; i++) {
        const char *nl = at < len ? memchr(p + at, '\n', len - at) : NULL;
        if (nl == NULL)
            goto out;
        line[i] = p + at;
        llen[i] = (size_t)(nl - line[i]);
        at += llen[i] + 1;
    }
    if (at != len) /* extension lines, or bytes after the last \n */
        goto out;
    if (llen[0] == 0 || llen[0] > FX_MAX_SHORT_STRING || !text_ok(line[0], llen[0], false))
        goto out;
    /* C2SP tlog-checkpoint: ASCII decimal, no sign, no leading zeros. */
    if (llen[1] == 0 || line[1][0] < '0' || line[1][0] > '9' || (line[1][0] == '0' && llen[1] > 1))
        goto out;
    if (fx_parse_i64(line[1], llen[1], 0, INT64_MAX, &size) != FX_OK)
        goto out;
    if (llen[2] != ROOT_B64_LEN ||
        !b64_decode(line[2], llen[2], out->root, sizeof(out->root), &rlen) ||
        rlen != FX_MERKLE_HASH)
        goto out;
    memcpy(out->origin, line[0], llen[0]);
    out->origin[llen[0]] = '\0';
    out->origin_len = llen[0];
    out->size = (uint64_t)size;
    err = FX_OK;
out:
    if (err != FX_OK)
        memset(out, 0, sizeof(*out));
    return err;
}

enum fx_err fx_checkpoint_verify(const char *p, size_t len, const struct fx_checkpoint_vkey *vk,
                                 struct fx_checkpoint *out)
{
    enum fx_err err;
    size_t body_len = 0;

    memset(out, 0, sizeof(*out));
    err = fx_checkpoint_open_note(p, len, vk, &body_len);
    if (err != FX_OK)
        goto out;
    err = fx_checkpoint_parse(p, body_len, out);
    if (err != FX_OK)
        goto out;
    if (out->origin_len != vk->name_len || memcmp(out->origin, vk->name, vk->name_len) != 0) {
        err = FX_EINVAL;
        goto out;
    }
out:
    if (err != FX_OK)
        memset(out, 0, sizeof(*out));
    return err;
}
