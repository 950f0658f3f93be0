/*
 * test_receipt.c: ledger receipts as `fx verify` reads them (receipt.h).
 * Receipts are built here from a tree of 11 leaves held in memory, signed with
 * a fresh key: every one verifies; the parser takes the receipt alone and
 * inside an API answer; each kind of damage fails in the part it damages; leaf
 * bytes are held to FX's canonical form; and base64 with bytes from 0x80 up,
 * which libsodium 1.0.18 takes for digits, is refused.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "common/json.h"
#include "common/parse.h"
#include "ledger/ledger.h"

#include <jansson.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define NAME   "fx.test/ledger"
#define NLEAF  11
#define ORG    "01a21b00-35f0-71af-a6cc-f1cd6cd3308d"
#define RECORD "01a21b00-5185-719e-b1e7-02200797989d"

struct fixture {
    struct fx_signer *sg, *other;
    struct fx_checkpoint_vkey vk, vk_other;
    char *leaf[NLEAF]; /* owned: canonical leaf JSON */
    unsigned char hash[NLEAF][FX_MERKLE_HASH];
};

static struct fixture fx;

static enum fx_err leaf_hash(void *ctx, uint64_t index, unsigned char out[FX_MERKLE_HASH])
{
    (void)ctx;
    memcpy(out, fx.hash[index], FX_MERKLE_HASH);
    return FX_OK;
}

static struct fx_signer *make_key(const char *dir, const char *file, const char *name,
                                  struct fx_checkpoint_vkey *vk)
{
    char path[128], line[256];
    struct fx_signer *s = NULL;
    snprintf(path, sizeof(path), "%s/%s", dir, file);
    assert_int_equal(fx_signer_create(path), FX_OK);
    assert_int_equal(fx_signer_load(path, name, &s), FX_OK);
    unlink(path);
    fx_signer_vkey(s, line, sizeof(line));
    assert_int_equal(fx_checkpoint_parse_vkey(line, strlen(line), vk), FX_OK);
    return s;
}

static int setup(void **state)
{
    char dir[] = "/tmp/fx-test-receipt-XXXXXX";
    (void)state;
    if (sodium_init() < 0 || mkdtemp(dir) == NULL)
        return -1;
    fx.sg = make_key(dir, "a.key", NAME, &fx.vk);
    fx.other = make_key(dir, "b.key", NAME, &fx.vk_other); /* same log name, another key */
    rmdir(dir);
    for (int i = 0; i < NLEAF; i++) {
        char t[25], hex[65];
        unsigned char d[32];
        fx_format_time(1795000000000 + i, t);
        crypto_hash_sha256(d, (const unsigned char *)&i, sizeof(i));
        fx_hex(d, sizeof(d), hex);
        json_t *j =
            json_pack("{s:s,s:s,s:I,s:s,s:s,s:s}", "kind", "notice_version", "record_id", RECORD,
                      "version", (json_int_t)i + 1, "content_sha256", hex, "org", ORG, "time", t);
        fx.leaf[i] = fx_json_canonical(j, NULL);
        json_decref(j);
        fx_merkle_leaf_hash(fx.leaf[i], strlen(fx.leaf[i]), fx.hash[i]);
    }
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    for (int i = 0; i < NLEAF; i++)
        free(fx.leaf[i]);
    fx_signer_free(fx.sg);
    fx_signer_free(fx.other);
    return 0;
}

static json_t *b64(const void *p, size_t n)
{
    char s[4096];
    sodium_bin2base64(s, sizeof(s), p, n, sodium_base64_VARIANT_ORIGINAL);
    return json_string(s);
}

/* The receipt of leaf i in the tree of size leaves, signed by sg, as fxd writes it. */
static json_t *receipt(const struct fx_signer *sg, uint64_t i, uint64_t size)
{
    struct fx_merkle_store st = {NULL, NLEAF, leaf_hash, NULL};
    struct fx_merkle_proof p;
    unsigned char root[FX_MERKLE_HASH];
    char note[FX_CHECKPOINT_MAX_NOTE];
    size_t nlen = 0;
    assert_int_equal(fx_merkle_root(&st, size, root), FX_OK);
    assert_int_equal(fx_checkpoint_sign(sg, size, root, note, sizeof(note), &nlen), FX_OK);
    assert_int_equal(fx_merkle_inclusion_proof(&st, i, size, &p), FX_OK);
    json_t *path = json_array();
    for (size_t k = 0; k < p.n; k++)
        json_array_append_new(path, b64(p.hash[k], FX_MERKLE_HASH));
    return json_pack("{s:I,s:o,s:s,s:o}", "leaf_index", (json_int_t)i, "leaf",
                     b64(fx.leaf[i], strlen(fx.leaf[i])), "checkpoint", note, "inclusion_path",
                     path);
}

/* Parses and verifies j with vk; returns the error and the failed part. */
static enum fx_err check(const json_t *j, const struct fx_checkpoint_vkey *vk,
                         enum fx_receipt_part *part)
{
    static struct fx_receipt r;
    struct fx_checkpoint cp;
    char why[256];
    char *s = json_dumps(j, JSON_COMPACT);
    enum fx_err err = fx_receipt_parse(s, strlen(s), &r, why, sizeof(why));
    free(s);
    *part = FX_RECEIPT_PART_NONE;
    if (err != FX_OK) {
        assert_true(why[0] != '\0');
        return err;
    }
    return fx_receipt_verify(&r, vk, &cp, part);
}

static void every_receipt_verifies(void **state)
{
    (void)state;
    for (uint64_t size = 1; size <= NLEAF; size++) {
        for (uint64_t i = 0; i < size; i++) {
            json_t *j = receipt(fx.sg, i, size);
            enum fx_receipt_part part;
            assert_int_equal(check(j, &fx.vk, &part), FX_OK);
            assert_int_equal(part, FX_RECEIPT_PART_NONE);
            /* the same receipt inside a whole API answer */
            json_t *answer =
                json_pack("{s:s,s:I,s:O}", "id", RECORD, "version", (json_int_t)1, "receipt", j);
            assert_int_equal(check(answer, &fx.vk, &part), FX_OK);
            /* and never under another key of the same name */
            assert_int_equal(check(j, &fx.vk_other, &part), FX_ECRYPTO);
            assert_int_equal(part, FX_RECEIPT_PART_CHECKPOINT);
            json_decref(answer);
            json_decref(j);
        }
    }
}

static void damage_fails_in_its_part(void **state)
{
    enum fx_receipt_part part;
    (void)state;
    json_t *good = receipt(fx.sg, 5, 9);

    json_t *j = json_deep_copy(good);
    json_object_set_new(j, "leaf", b64(fx.leaf[4], strlen(fx.leaf[4])));
    assert_int_equal(check(j, &fx.vk, &part), FX_ECRYPTO);
    assert_int_equal(part, FX_RECEIPT_PART_INCLUSION);
    json_decref(j);

    j = json_deep_copy(good);
    json_object_set_new(j, "leaf_index", json_integer(6));
    assert_int_equal(check(j, &fx.vk, &part), FX_ECRYPTO);
    assert_int_equal(part, FX_RECEIPT_PART_INCLUSION);
    json_object_set_new(j, "leaf_index", json_integer(9)); /* outside the tree */
    assert_int_equal(check(j, &fx.vk, &part), FX_EINVAL);
    assert_int_equal(part, FX_RECEIPT_PART_INCLUSION);
    json_decref(j);

    j = json_deep_copy(good);
    json_array_remove(json_object_get(j, "inclusion_path"), 0);
    assert_int_not_equal(check(j, &fx.vk, &part), FX_OK);
    assert_int_equal(part, FX_RECEIPT_PART_INCLUSION);
    json_decref(j);

    /* a checkpoint signed for another size does not cover this path */
    json_t *other = receipt(fx.sg, 5, 10);
    j = json_deep_copy(good);
    json_object_set(j, "checkpoint", json_object_get(other, "checkpoint"));
    assert_int_equal(check(j, &fx.vk, &part), FX_ECRYPTO);
    assert_int_equal(part, FX_RECEIPT_PART_INCLUSION);
    json_decref(j);
    json_decref(other);

    /* the checkpoint's text changed: the signature fails */
    char note[FX_CHECKPOINT_MAX_NOTE];
    snprintf(note, sizeof(note), "%s", json_string_value(json_object_get(good, "checkpoint")));
    note[strlen(NAME) + 1] = '8';
    j = json_deep_copy(good);
    json_object_set_new(j, "checkpoint", json_string(note));
    assert_int_equal(check(j, &fx.vk, &part), FX_ECRYPTO);
    assert_int_equal(part, FX_RECEIPT_PART_CHECKPOINT);
    json_decref(j);
    json_decref(good);
}

static void malformed_receipts_are_refused(void **state)
{
    (void)state;
    json_t *good = receipt(fx.sg, 2, 7);
    char *gs = json_dumps(good, JSON_COMPACT);
    const char *leaf = json_string_value(json_object_get(good, "leaf"));
    const char *h0 = json_string_value(json_array_get(json_object_get(good, "inclusion_path"), 0));
    static struct fx_receipt r;
    char why[256];
    struct {
        const char *what;
        const char *key;
        json_t *value;
    } cases[] = {
        {"negative index", "leaf_index", json_integer(-1)},
        {"index as a string", "leaf_index", json_string("2")},
        {"index as a real", "leaf_index", json_real(2.0)},
        {"leaf not base64", "leaf", json_string("!!!!")},
        {"leaf truncated", "leaf", json_stringn(leaf, strlen(leaf) - 2)},
        {"leaf empty", "leaf", json_string("")},
        {"path not an array", "inclusion_path", json_string(h0)},
        {"path hash short", "inclusion_path", json_pack("[s]", "AAAA")},
        {"checkpoint empty", "checkpoint", json_string("")},
        {"checkpoint not a string", "checkpoint", json_integer(1)},
        {"a member too many", "colour", json_string("red")},
    };
    for (size_t i = 0; i < FX_ARRAY_LEN(cases); i++) {
        json_t *j = json_deep_copy(good);
        json_object_set_new(j, cases[i].key, cases[i].value);
        char *s = json_dumps(j, JSON_COMPACT);
        assert_int_equal(fx_receipt_parse(s, strlen(s), &r, why, sizeof(why)), FX_EINVAL);
        assert_true(why[0] != '\0');
        free(s);
        json_decref(j);
    }
    /* 65 path hashes: longer than any tree below 2^64 leaves needs */
    json_t *j = json_deep_copy(good);
    json_t *path = json_array();
    for (int i = 0; i < 65; i++)
        json_array_append_new(path, json_string(h0));
    json_object_set_new(j, "inclusion_path", path);
    char *s = json_dumps(j, JSON_COMPACT);
    assert_int_equal(fx_receipt_parse(s, strlen(s), &r, why, sizeof(why)), FX_EINVAL);
    free(s);
    json_decref(j);
    /* every prefix of a good receipt is refused, and nothing reads past it */
    for (size_t n = 0; n < strlen(gs); n++)
        assert_int_not_equal(fx_receipt_parse(gs, n, &r, NULL, 0), FX_OK);
    assert_int_equal(fx_receipt_parse(gs, strlen(gs), &r, NULL, 0), FX_OK);
    /* not objects */
    const char *bad[] = {"", "[]", "7", "null", "{\"leaf\":1,\"leaf\":2}", "{\"receipt\":[]}"};
    for (size_t i = 0; i < FX_ARRAY_LEN(bad); i++)
        assert_int_equal(fx_receipt_parse(bad[i], strlen(bad[i]), &r, why, sizeof(why)), FX_EINVAL);
    free(gs);
    json_decref(good);
}

static void base64_is_strict(void **state)
{
    unsigned char out[64];
    size_t n = 0;
    (void)state;
    assert_true(fx_receipt_b64_decode("AAAA", 4, out, sizeof(out), &n) && n == 3);
    assert_true(fx_receipt_b64_decode("QQ==", 4, out, sizeof(out), &n) && n == 1);
    assert_false(fx_receipt_b64_decode("QR==", 4, out, sizeof(out), &n)); /* trailing bits */
    assert_false(fx_receipt_b64_decode("QQ", 2, out, sizeof(out), &n));   /* no padding */
    assert_false(fx_receipt_b64_decode("Q-==", 4, out, sizeof(out), &n)); /* url-safe */
    assert_false(fx_receipt_b64_decode("", 0, out, sizeof(out), &n));
    assert_false(fx_receipt_b64_decode("AA A", 4, out, sizeof(out), &n));
    assert_false(fx_receipt_b64_decode("AA\0A", 4, out, sizeof(out), &n));
    /* libsodium 1.0.18 takes each of these for a digit; FX must not */
    for (int c = 0x80; c <= 0xff; c++) {
        char s[4] = {'A', 'A', 'A', (char)c};
        assert_false(fx_receipt_b64_decode(s, 4, out, sizeof(out), &n));
    }
}

static void leaves_are_held_to_the_canonical_form(void **state)
{
    struct fx_receipt_leaf l;
    char why[256];
    (void)state;
    const char *p = fx.leaf[3];
    assert_int_equal(
        fx_receipt_parse_leaf((const unsigned char *)p, strlen(p), &l, why, sizeof(why)), FX_OK);
    assert_string_equal(l.kind, "notice_version");
    assert_string_equal(l.record_id, RECORD);
    assert_string_equal(l.org, ORG);
    assert_int_equal(l.version, 4);
    assert_int_equal(l.time_ms, 1795000000003);
    assert_int_equal(strlen(l.content_sha256_hex), 64);

    char spaced[1024], *q = spaced;
    for (const char *c = p; *c; c++) { /* the same members, with spaces after the colons */
        *q++ = *c;
        if (*c == ':' && c[1] == '"')
            *q++ = ' ';
    }
    *q = '\0';
    const char *bad[] = {
        spaced,
        "{\"content_sha256\":\"00\",\"kind\":\"x\",\"org\":\"o\",\"record_id\":\"r\","
        "\"time\":\"2026-11-27T03:15:35.429Z\",\"version\":1}",
        "{\"kind\":\"x\",\"content_sha256\":\"" /* keys out of order */
        "0000000000000000000000000000000000000000000000000000000000000000\",\"org\":\"o\","
        "\"record_id\":\"r\",\"time\":\"2026-11-27T03:15:35.429Z\",\"version\":1}",
        "{\"content_sha256\":\"0000000000000000000000000000000000000000000000000000000000000000\","
        "\"description\":\"secret\",\"kind\":\"x\",\"org\":\"o\",\"record_id\":\"r\","
        "\"time\":\"2026-11-27T03:15:35.429Z\",\"version\":1}",
        "{\"content_sha256\":\"0000000000000000000000000000000000000000000000000000000000000000\","
        "\"kind\":\"a secret\",\"org\":\"o\",\"record_id\":\"r\","
        "\"time\":\"2026-11-27T03:15:35.429Z\",\"version\":1}",
        "{\"content_sha256\":\"0000000000000000000000000000000000000000000000000000000000000000\","
        "\"kind\":\"x\",\"org\":\"o\",\"record_id\":\"r\",\"time\":\"2026-11-27T03:15:35Z\","
        "\"version\":1}",
        "{\"content_sha256\":\"0000000000000000000000000000000000000000000000000000000000000000\","
        "\"kind\":\"x\",\"org\":\"o\",\"record_id\":\"r\","
        "\"time\":\"2026-11-27T03:15:35.429Z\",\"version\":-1}",
        "{\"content_sha256\":\"000000000000000000000000000000000000000000000000000000000000000A\","
        "\"kind\":\"x\",\"org\":\"o\",\"record_id\":\"r\","
        "\"time\":\"2026-11-27T03:15:35.429Z\",\"version\":1}",
    };
    for (size_t i = 0; i < FX_ARRAY_LEN(bad); i++)
        assert_int_equal(fx_receipt_parse_leaf((const unsigned char *)bad[i], strlen(bad[i]), &l,
                                               why, sizeof(why)),
                         FX_EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(every_receipt_verifies),
        cmocka_unit_test(damage_fails_in_its_part),
        cmocka_unit_test(malformed_receipts_are_refused),
        cmocka_unit_test(base64_is_strict),
        cmocka_unit_test(leaves_are_held_to_the_canonical_form),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
