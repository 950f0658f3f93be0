/*
 * test_checkpoint.c: C2SP signed checkpoints: a sign/verify round trip with
 * keys made by signer.c, the published Go sumdb/note example (interop), notes
 * of other keys and cosigned notes, and a long list of malformed notes, keys
 * and bodies that must fail cleanly. Every prefix and many one-byte changes of
 * a valid note are refused (run under ASan this also shows the parsers stay in
 * bounds).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "ledger/ledger.h"

#include <sodium.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define NAME "fx.test/ledger"
#define EM   "\xe2\x80\x94" /* U+2014 EM DASH */

/* golang.org/x/mod/sumdb/note's documented example: a note from another implementation. */
#define GO_VKEY "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
#define GO_TEXT                                                                                    \
    "If you think cryptography is the answer to your problem,\n"                                   \
    "then you don't know what your problem is.\n"
#define GO_SIG                                                                                     \
    EM " PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvq"         \
       "fqdngotpRZb6KE6RyyBwJnAM=\n"
#define ENOCH_VKEY "EnochRoot+af0cfe78+ATtqJ7zOtqQtYqOo0CpvDXNlMhV3HeJDpjrASKGLWdop"

struct keys {
    char dir[64];
    struct fx_signer *a;     /* the log's key */
    struct fx_signer *b;     /* same name, another key */
    struct fx_signer *other; /* another name */
    struct fx_checkpoint_vkey va, vb;
    char note[FX_CHECKPOINT_MAX_NOTE];
    size_t note_len;
    unsigned char root[32];
};

static struct fx_signer *make_key(const char *dir, const char *file, const char *name)
{
    char path[128];
    struct fx_signer *s = NULL;
    snprintf(path, sizeof(path), "%s/%s", dir, file);
    assert_int_equal(fx_signer_create(path), FX_OK);
    assert_int_equal(fx_signer_load(path, name, &s), FX_OK);
    unlink(path);
    return s;
}

static void vkey_of(const struct fx_signer *s, struct fx_checkpoint_vkey *out)
{
    char line[256];
    fx_signer_vkey(s, line, sizeof(line));
    assert_int_equal(fx_checkpoint_parse_vkey(line, strlen(line), out), FX_OK);
}

static int setup(void **state)
{
    static struct keys k;
    if (sodium_init() < 0)
        return -1;
    snprintf(k.dir, sizeof(k.dir), "/tmp/fx-test-checkpoint-XXXXXX");
    if (mkdtemp(k.dir) == NULL)
        return -1;
    k.a = make_key(k.dir, "a.key", NAME);
    k.b = make_key(k.dir, "b.key", NAME);
    k.other = make_key(k.dir, "o.key", "witness.example/w1");
    vkey_of(k.a, &k.va);
    vkey_of(k.b, &k.vb);
    for (size_t i = 0; i < sizeof(k.root); i++)
        k.root[i] = (unsigned char)(i * 7 + 1);
    if (fx_checkpoint_sign(k.a, 12345, k.root, k.note, sizeof(k.note), &k.note_len) != FX_OK)
        return -1;
    *state = &k;
    return 0;
}

static int teardown(void **state)
{
    struct keys *k = *state;
    fx_signer_free(k->a);
    fx_signer_free(k->b);
    fx_signer_free(k->other);
    rmdir(k->dir);
    return 0;
}

/* Verifies (p, len) with vk; the note is copied to the heap so ASan sees any overread. */
static enum fx_err verify(const char *p, size_t len, const struct fx_checkpoint_vkey *vk,
                          struct fx_checkpoint *out)
{
    char *copy = fx_xmalloc(len ? len : 1);
    memcpy(copy, p, len);
    enum fx_err err = fx_checkpoint_verify(copy, len, vk, out);
    free(copy);
    return err;
}

static enum fx_err verify_str(const char *s, const struct fx_checkpoint_vkey *vk)
{
    struct fx_checkpoint cp;
    return verify(s, strlen(s), vk, &cp);
}

static enum fx_err vkey_str(const char *s)
{
    struct fx_checkpoint_vkey vk;
    char *copy = fx_xstrndup(s, strlen(s));
    enum fx_err err = fx_checkpoint_parse_vkey(copy, strlen(s), &vk);
    free(copy);
    return err;
}

static enum fx_err body_str(const char *s)
{
    struct fx_checkpoint cp;
    char *copy = fx_xstrndup(s, strlen(s));
    enum fx_err err = fx_checkpoint_parse(copy, strlen(s), &cp);
    free(copy);
    return err;
}

/* A signature line by s over body, for building notes by hand. */
static void sig_line(const struct fx_signer *s, const char *body, char *out, size_t cap)
{
    unsigned char blob[4 + 64];
    char b64[sodium_base64_ENCODED_LEN(sizeof(blob), sodium_base64_VARIANT_ORIGINAL)];
    fx_signer_key_id(s, blob);
    assert_int_equal(fx_signer_sign(s, body, strlen(body), blob + 4), FX_OK);
    sodium_bin2base64(b64, sizeof(b64), blob, sizeof(blob), sodium_base64_VARIANT_ORIGINAL);
    snprintf(out, cap, EM " %s %s\n", fx_signer_name(s), b64);
}

static void body_of(const struct keys *k, char *out, size_t cap)
{
    size_t len;
    assert_int_equal(fx_checkpoint_format(NAME, 12345, k->root, out, cap, &len), FX_OK);
}

static void test_round_trip(void **state)
{
    struct keys *k = *state;
    struct fx_checkpoint cp;
    char body[256], b64[64], want[256];
    unsigned char pk[32], id[4];
    size_t body_len = 0;

    /* The exact text: C2SP tlog-checkpoint body, blank line, one signature line. */
    sodium_bin2base64(b64, sizeof(b64), k->root, 32, sodium_base64_VARIANT_ORIGINAL);
    snprintf(body, sizeof(body), NAME "\n12345\n%s\n", b64);
    assert_true(k->note_len == strlen(k->note));
    assert_true(k->note_len > strlen(body) + 1);
    assert_memory_equal(k->note, body, strlen(body));
    snprintf(want, sizeof(want), "\n" EM " " NAME " ");
    assert_memory_equal(k->note + strlen(body), want, strlen(want));
    assert_true(k->note[k->note_len - 1] == '\n');

    /* The signature checks out with libsodium alone, over the body bytes. */
    const char *sigb64 = k->note + strlen(body) + strlen(want);
    unsigned char blob[68];
    size_t blen = 0;
    assert_int_equal(sodium_base642bin(blob, sizeof(blob), sigb64,
                                       k->note_len - 1 - (size_t)(sigb64 - k->note), NULL, &blen,
                                       NULL, sodium_base64_VARIANT_ORIGINAL),
                     0);
    assert_int_equal(blen, 68);
    fx_signer_public_key(k->a, pk);
    fx_signer_key_id(k->a, id);
    assert_memory_equal(blob, id, 4);
    assert_int_equal(crypto_sign_ed25519_verify_detached(blob + 4, (const unsigned char *)body,
                                                         strlen(body), pk),
                     0);

    /* The verifier key line of signer.c parses to the same key and id. */
    assert_string_equal(k->va.name, NAME);
    assert_int_equal(k->va.name_len, strlen(NAME));
    assert_memory_equal(k->va.pk, pk, 32);
    assert_memory_equal(k->va.id, id, 4);

    assert_int_equal(fx_checkpoint_open_note(k->note, k->note_len, &k->va, &body_len), FX_OK);
    assert_int_equal(body_len, strlen(body));
    assert_int_equal(verify(k->note, k->note_len, &k->va, &cp), FX_OK);
    assert_string_equal(cp.origin, NAME);
    assert_true(cp.size == 12345);
    assert_memory_equal(cp.root, k->root, 32);

    /* Edge sizes. */
    static const uint64_t sizes[] = {0, 1, 10, INT64_MAX};
    for (size_t i = 0; i < FX_ARRAY_LEN(sizes); i++) {
        char note[FX_CHECKPOINT_MAX_NOTE];
        size_t len;
        assert_int_equal(fx_checkpoint_sign(k->a, sizes[i], k->root, note, sizeof(note), &len),
                         FX_OK);
        assert_int_equal(verify(note, len, &k->va, &cp), FX_OK);
        assert_true(cp.size == sizes[i]);
    }
    /* A size the parser could not read back is not signed. */
    char note[FX_CHECKPOINT_MAX_NOTE];
    size_t len;
    assert_int_equal(
        fx_checkpoint_sign(k->a, (uint64_t)INT64_MAX + 1, k->root, note, sizeof(note), &len),
        FX_EINVAL);

    /* Too small an output buffer: FX_ETOOBIG and an empty string, at every size. */
    for (size_t cap = 0; cap <= k->note_len; cap++) {
        char small[FX_CHECKPOINT_MAX_NOTE];
        memset(small, 'x', sizeof(small));
        assert_int_equal(fx_checkpoint_sign(k->a, 12345, k->root, small, cap, &len), FX_ETOOBIG);
        assert_int_equal(len, 0);
        if (cap > 0)
            assert_int_equal(small[0], '\0');
        assert_int_equal(small[cap], 'x');
    }
    assert_int_equal(fx_checkpoint_sign(k->a, 12345, k->root, note, k->note_len + 1, &len), FX_OK);
}

/* The documented Go example verifies here: the note format matches another implementation. */
static void test_go_interop(void **state)
{
    struct fx_checkpoint_vkey vk, enoch;
    size_t body_len = 0;
    const char *note = GO_TEXT "\n" GO_SIG;
    (void)state;

    assert_int_equal(fx_checkpoint_parse_vkey(GO_VKEY, strlen(GO_VKEY), &vk), FX_OK);
    assert_string_equal(vk.name, "PeterNeumann");
    assert_int_equal(fx_checkpoint_open_note(note, strlen(note), &vk, &body_len), FX_OK);
    assert_int_equal(body_len, strlen(GO_TEXT));
    /* It is a note, not a checkpoint. */
    assert_int_equal(verify_str(note, &vk), FX_EINVAL);
    /* Another key's verifier ignores Peter's line and finds none of its own. */
    assert_int_equal(fx_checkpoint_parse_vkey(ENOCH_VKEY, strlen(ENOCH_VKEY), &enoch), FX_OK);
    assert_int_equal(fx_checkpoint_open_note(note, strlen(note), &enoch, &body_len), FX_ECRYPTO);
    /* The key id is computed as Go computes it. */
    unsigned char id[4];
    fx_checkpoint_key_id("PeterNeumann", 12, vk.pk, id);
    assert_memory_equal(id, "\xc7\x4f\x20\xa3", 4);
}

static void test_other_keys(void **state)
{
    struct keys *k = *state;
    struct fx_checkpoint cp;
    char note[FX_CHECKPOINT_MAX_NOTE], body[256], line[256], buf[FX_CHECKPOINT_MAX_NOTE];
    size_t len;

    /* Signed by another key of the same name: its line is not ours, so nothing verifies. */
    assert_int_equal(fx_checkpoint_sign(k->b, 12345, k->root, note, sizeof(note), &len), FX_OK);
    assert_int_equal(verify(note, len, &k->va, &cp), FX_ECRYPTO);
    assert_int_equal(verify(note, len, &k->vb, &cp), FX_OK);
    assert_int_equal(verify(k->note, k->note_len, &k->vb, &cp), FX_ECRYPTO);

    /* Signed by a key of another name: valid for it, but its origin is not our log. */
    struct fx_checkpoint_vkey vo;
    vkey_of(k->other, &vo);
    assert_int_equal(fx_checkpoint_sign(k->other, 12345, k->root, note, sizeof(note), &len), FX_OK);
    assert_int_equal(verify(note, len, &k->va, &cp), FX_ECRYPTO);
    assert_int_equal(verify(note, len, &vo, &cp), FX_OK);

    /* Our key, our name, but a checkpoint naming another origin. */
    assert_int_equal(
        fx_checkpoint_format("elsewhere.example/log", 1, k->root, body, sizeof(body), &len), FX_OK);
    sig_line(k->a, body, line, sizeof(line));
    snprintf(buf, sizeof(buf), "%s\n%s", body, line);
    assert_int_equal(fx_checkpoint_open_note(buf, strlen(buf), &k->va, &len), FX_OK);
    assert_int_equal(verify_str(buf, &k->va), FX_EINVAL);

    /* A line with our name and key id but another key's signature. */
    body_of(k, body, sizeof(body));
    sig_line(k->b, body, line, sizeof(line));
    unsigned char blob[68];
    size_t blen;
    const char *b64 = strrchr(line, ' ') + 1;
    assert_int_equal(sodium_base642bin(blob, sizeof(blob), b64, strlen(b64) - 1, NULL, &blen, NULL,
                                       sodium_base64_VARIANT_ORIGINAL),
                     0);
    memcpy(blob, k->va.id, 4);
    char b64buf[128];
    sodium_bin2base64(b64buf, sizeof(b64buf), blob, sizeof(blob), sodium_base64_VARIANT_ORIGINAL);
    snprintf(buf, sizeof(buf), "%s\n" EM " " NAME " %s\n", body, b64buf);
    assert_int_equal(verify_str(buf, &k->va), FX_ECRYPTO);

    /* The body changed after signing. */
    memcpy(buf, k->note, k->note_len + 1);
    buf[strlen(NAME) + 1] = '9'; /* 12345 -> 92345 */
    assert_int_equal(verify_str(buf, &k->va), FX_ECRYPTO);
}

static void test_cosigned(void **state)
{
    struct keys *k = *state;
    struct fx_checkpoint cp;
    char body[256], ours[256], wit[256], b[256], note[FX_CHECKPOINT_MAX_NOTE];

    body_of(k, body, sizeof(body));
    sig_line(k->a, body, ours, sizeof(ours));
    sig_line(k->other, body, wit, sizeof(wit));
    sig_line(k->b, body, b, sizeof(b));

    /* Witness lines before or after ours are skipped, not checked. */
    snprintf(note, sizeof(note), "%s\n%s%s", body, ours, wit);
    assert_int_equal(verify_str(note, &k->va), FX_OK);
    snprintf(note, sizeof(note), "%s\n%s%s%s", body, wit, b, ours);
    assert_int_equal(verify_str(note, &k->va), FX_OK);
    assert_memory_equal(note, body, strlen(body));
    /* A witness line with a signature that would not verify is still not ours to judge. */
    snprintf(note, sizeof(note), "%s\n%s" EM " witness.example/w2 AAAAAAAA\n", body, ours);
    assert_int_equal(verify_str(note, &k->va), FX_OK);

    /* Our signature twice. */
    snprintf(note, sizeof(note), "%s\n%s%s", body, ours, ours);
    assert_int_equal(verify_str(note, &k->va), FX_EINVAL);
    /* Only witnesses. */
    snprintf(note, sizeof(note), "%s\n%s%s", body, wit, b);
    assert_int_equal(verify_str(note, &k->va), FX_ECRYPTO);

    /* Up to FX_CHECKPOINT_MAX_SIGS lines in all, not one more. */
    size_t at = (size_t)snprintf(note, sizeof(note), "%s\n%s", body, ours);
    for (size_t i = 1; i < FX_CHECKPOINT_MAX_SIGS; i++)
        at += (size_t)snprintf(note + at, sizeof(note) - at, "%s", wit);
    assert_int_equal(verify_str(note, &k->va), FX_OK);
    snprintf(note + at, sizeof(note) - at, "%s", wit);
    assert_int_equal(verify_str(note, &k->va), FX_EINVAL);

    /* Over the size limit: refused before any parsing. */
    char big[FX_CHECKPOINT_MAX_NOTE + 2];
    memcpy(big, k->note, k->note_len);
    memset(big + k->note_len, 'a', sizeof(big) - k->note_len);
    assert_int_equal(verify(big, sizeof(big), &k->va, &cp), FX_ETOOBIG);
}

/* Replaces the first occurrence of from in s with to, into out. */
static void replace(const char *s, const char *from, const char *to, char *out, size_t cap)
{
    const char *at = strstr(s, from);
    assert_non_null(at);
    snprintf(out, cap, "%.*s%s%s", (int)(at - s), s, to, at + strlen(from));
}

static void test_malformed_notes(void **state)
{
    struct keys *k = *state;
    /* note is well under m, so that every note + extra below fits without truncation. */
    char body[256], ours[256], wit[256], note[1024], m[FX_CHECKPOINT_MAX_NOTE];
    char sigb64[128];

    body_of(k, body, sizeof(body));
    sig_line(k->a, body, ours, sizeof(ours));
    sig_line(k->other, body, wit, sizeof(wit));
    snprintf(note, sizeof(note), "%s\n%s", body, ours);
    assert_int_equal(verify_str(note, &k->va), FX_OK);
    snprintf(sigb64, sizeof(sigb64), "%s", strrchr(ours, ' ') + 1);
    sigb64[strlen(sigb64) - 1] = '\0';

    static const char *const whole[] = {"", "\n", "\n\n", "a\n\n", "\n\n\n", EM " x AAAA\n"};
    for (size_t i = 0; i < FX_ARRAY_LEN(whole); i++)
        assert_int_equal(verify_str(whole[i], &k->va), FX_EINVAL);

    /* Each row: a change to the valid note, and the error it must give. */
    static const struct {
        const char *from, *to;
        enum fx_err err;
    } edits[] = {
        {"\n\n", "\n", FX_EINVAL},                      /* no blank line */
        {"\n\n", "\n \n", FX_EINVAL},                   /* a "blank" line with a space */
        {"\n\n", "\n\n\n", FX_ECRYPTO},                 /* text gains a blank line */
        {EM " ", "- ", FX_EINVAL},                      /* ASCII hyphen */
        {EM " ", "-- ", FX_EINVAL},                     /* two hyphens */
        {EM " ", "\xe2\x80\x93 ", FX_EINVAL},           /* U+2013 EN DASH */
        {EM " ", EM, FX_EINVAL},                        /* no space after the dash */
        {EM " ", EM "  ", FX_EINVAL},                   /* two spaces */
        {EM " ", " " EM " ", FX_EINVAL},                /* indented */
        {NAME " ", NAME "  ", FX_EINVAL},               /* two spaces before the signature */
        {NAME " ", NAME "\t", FX_EINVAL},               /* a tab */
        {"12345", "12\t345", FX_EINVAL},                /* control character in the body */
        {"12345", "12\r345", FX_EINVAL},                /* CR in the body */
        {"12345", "12\177345", FX_EINVAL},              /* DEL (octal escapes: 3 digits at most) */
        {"12345", "12\302\205345", FX_EINVAL},          /* C1 NEL, U+0085 */
        {"12345", "12\377345", FX_EINVAL},              /* not UTF-8 */
        {"12345", "12\303345", FX_EINVAL},              /* truncated UTF-8 */
        {"12345", "12\355\240\200345", FX_EINVAL},      /* UTF-16 surrogate */
        {EM " " NAME, EM " fx.test+ledger", FX_EINVAL}, /* '+' in a key name */
        {EM " " NAME, EM " fx.test\xc2\xa0l", FX_EINVAL},     /* NO-BREAK SPACE in a key name */
        {EM " " NAME, EM " fx.test\xe3\x80\x80l", FX_EINVAL}, /* IDEOGRAPHIC SPACE */
        {EM " " NAME " ", EM " ", FX_EINVAL},                 /* no name */
        {EM " " NAME, EM " " NAME "x", FX_ECRYPTO},           /* another key's name: not ours */
        {"12345", "12346", FX_ECRYPTO},                       /* changed body */
    };
    for (size_t i = 0; i < FX_ARRAY_LEN(edits); i++) {
        replace(note, edits[i].from, edits[i].to, m, sizeof(m));
        if (verify_str(m, &k->va) != edits[i].err)
            fail_msg("edit %zu (%s -> %s): got %d", i, edits[i].from, edits[i].to,
                     (int)verify_str(m, &k->va));
    }

    /* Signature base64: truncated, padded wrong, bad characters, too short. */
    char bad[160];
    static const char *const sigs[] = {"", "AAAA", "AAAAAA==", "not base64!"};
    for (size_t i = 0; i < FX_ARRAY_LEN(sigs); i++) {
        replace(note, sigb64, sigs[i], m, sizeof(m));
        assert_int_equal(verify_str(m, &k->va), FX_EINVAL);
    }
    snprintf(bad, sizeof(bad), "%.*s=", (int)strlen(sigb64) - 2, sigb64); /* one char short */
    replace(note, sigb64, bad, m, sizeof(m));
    assert_int_equal(verify_str(m, &k->va), FX_EINVAL);
    snprintf(bad, sizeof(bad), "%.*s", (int)strlen(sigb64) - 4, sigb64); /* one group short */
    replace(note, sigb64, bad, m, sizeof(m));
    assert_int_equal(verify_str(m, &k->va), FX_ECRYPTO); /* well-formed, but 66 bytes */
    snprintf(bad, sizeof(bad), "%.*s", (int)strlen(sigb64) - 1, sigb64); /* no padding */
    replace(note, sigb64, bad, m, sizeof(m));
    assert_int_equal(verify_str(m, &k->va), FX_EINVAL);
    snprintf(bad, sizeof(bad), "%s ", sigb64); /* trailing space */
    replace(note, sigb64, bad, m, sizeof(m));
    assert_int_equal(verify_str(m, &k->va), FX_EINVAL);
    /* The same bytes with non-zero trailing bits: a second encoding, refused. */
    snprintf(bad, sizeof(bad), "%s", sigb64);
    char *pad = strchr(bad, '=');
    assert_non_null(pad);
    pad[-1] = pad[-1] == 'A' ? 'B' : (char)(pad[-1] ^ 1);
    replace(note, sigb64, bad, m, sizeof(m));
    assert_int_equal(verify_str(m, &k->va), FX_EINVAL);

    /* CRLF line ends throughout. */
    size_t j = 0;
    for (size_t i = 0; note[i] != '\0'; i++) {
        if (note[i] == '\n')
            m[j++] = '\r';
        m[j++] = note[i];
    }
    m[j] = '\0';
    assert_int_equal(verify_str(m, &k->va), FX_EINVAL);
    /* Last line without its newline, text after the signatures, an empty last line. */
    snprintf(m, sizeof(m), "%.*s", (int)strlen(note) - 1, note);
    assert_int_equal(verify_str(m, &k->va), FX_EINVAL);
    snprintf(m, sizeof(m), "%sand more\n", note);
    assert_int_equal(verify_str(m, &k->va), FX_EINVAL);
    snprintf(m, sizeof(m), "%s\n", note);
    assert_int_equal(verify_str(m, &k->va), FX_EINVAL);
    snprintf(m, sizeof(m), "%s\n%s", note, wit);
    assert_int_equal(verify_str(m, &k->va), FX_ECRYPTO); /* the text now ends with our line */
    /* A NUL inside: the parsers take (p, len) and refuse it. */
    memcpy(m, note, strlen(note));
    m[3] = '\0';
    struct fx_checkpoint cp;
    assert_int_equal(verify(m, strlen(note), &k->va, &cp), FX_EINVAL);
}

static void test_every_prefix_and_byte(void **state)
{
    struct keys *k = *state;
    struct fx_checkpoint cp;
    char m[FX_CHECKPOINT_MAX_NOTE];
    static const unsigned char vals[] = {0x00, '\n', ' ', '+', 'A', '=', 0x80, 0xe2, 0xff};

    for (size_t len = 0; len < k->note_len; len++)
        assert_int_not_equal(verify(k->note, len, &k->va, &cp), FX_OK);
    for (size_t i = 0; i < k->note_len; i++) {
        for (size_t v = 0; v < sizeof(vals); v++) {
            if ((unsigned char)k->note[i] == vals[v])
                continue;
            memcpy(m, k->note, k->note_len);
            m[i] = (char)vals[v];
            assert_int_not_equal(verify(m, k->note_len, &k->va, &cp), FX_OK);
        }
        /* One byte removed. */
        memcpy(m, k->note, i);
        memcpy(m + i, k->note + i + 1, k->note_len - i - 1);
        assert_int_not_equal(verify(m, k->note_len - 1, &k->va, &cp), FX_OK);
    }
    /* Random input: no crash, no success. */
    for (int round = 0; round < 3000; round++) {
        size_t len = randombytes_uniform(600);
        randombytes_buf(m, len);
        if (round % 2)
            for (size_t i = 0; i < len; i++)
                m[i] = "ab+=\n \xe2\x80\x94/0"[(unsigned char)m[i] % 11];
        assert_int_not_equal(verify(m, len, &k->va, &cp), FX_OK);
        struct fx_checkpoint_vkey vk;
        char *copy = fx_xmalloc(len ? len : 1);
        memcpy(copy, m, len);
        assert_int_not_equal(fx_checkpoint_parse_vkey(copy, len, &vk), FX_OK);
        (void)fx_checkpoint_parse(copy, len, &cp);
        free(copy);
    }
}

static void test_vkeys(void **state)
{
    struct keys *k = *state;
    char line[256], m[256], b64[64];
    unsigned char blob[34], id[4];
    (void)k;

    fx_signer_vkey(k->a, line, sizeof(line));
    assert_int_equal(vkey_str(line), FX_OK);
    /* The key id may be written in capitals; it is a number. */
    snprintf(m, sizeof(m), "%s", line);
    for (char *p = m + strlen(NAME) + 1; *p != '+'; p++)
        if (*p >= 'a' && *p <= 'f')
            *p = (char)(*p - 'a' + 'A');
    assert_int_equal(vkey_str(m), FX_OK);

    static const char *const bad[] = {
        "",
        "+",
        "++",
        NAME,
        NAME "+",
        NAME "+c74f20a3",
        NAME "+c74f20a3+",
        "+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",               /* no name */
        "PeterNeumann+c74f20a4+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",   /* id */
        "PeterNeumann+c74f20a+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",    /* 7 hex */
        "PeterNeumann+c74f20a3a+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",  /* 9 hex */
        "PeterNeumann+c74f20g3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",   /* not hex */
        "Peterneumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",   /* name */
        "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10T",    /* short */
        "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TWAA", /* long */
        "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TX",   /* key */
        "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW\n", /* newline */
        " PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",  /* space */
        "Peter Neumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",  /* space */
        "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq_LDE4izWy10TW",   /* URL b64 */
        "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW+",  /* extra */
    };
    for (size_t i = 0; i < FX_ARRAY_LEN(bad); i++)
        if (vkey_str(bad[i]) != FX_EINVAL)
            fail_msg("vkey %zu accepted: %s", i, bad[i]);

    /* Well-formed lines around keys that are not Ed25519 keys. */
    struct {
        unsigned char type;
        size_t len;
        bool small_order;
    } cases[] = {
        {0x02, 33, false},                                       /* another key type */
        {0x00, 33, false}, {0x04, 33, false}, {0x01, 32, false}, /* 31-byte key */
        {0x01, 34, false},                                       /* 33-byte key */
        {0x01, 33, true}, /* the identity point: small order */
    };
    blob[0] = 0x01;
    fx_signer_public_key(k->a, blob + 1);
    blob[33] = 0;
    for (size_t i = 0; i < FX_ARRAY_LEN(cases); i++) {
        unsigned char key[34];
        memcpy(key, blob, sizeof(key));
        key[0] = cases[i].type;
        if (cases[i].small_order) {
            memset(key + 1, 0, 32);
            key[1] = 0x01;
        }
        /* The id is computed as for an Ed25519 key, so that only the key itself is wrong. */
        fx_checkpoint_key_id(NAME, strlen(NAME), key + 1, id);
        sodium_bin2base64(b64, sizeof(b64), key, cases[i].len, sodium_base64_VARIANT_ORIGINAL);
        snprintf(m, sizeof(m), NAME "+%02x%02x%02x%02x+%s", id[0], id[1], id[2], id[3], b64);
        if (vkey_str(m) != FX_EINVAL)
            fail_msg("key case %zu accepted: %s", i, m);
    }
    /* The same construction with type 0x01 and the real key is accepted (the cases above are fair).
     */
    fx_checkpoint_key_id(NAME, strlen(NAME), blob + 1, id);
    blob[0] = 0x01;
    sodium_bin2base64(b64, sizeof(b64), blob, 33, sodium_base64_VARIANT_ORIGINAL);
    snprintf(m, sizeof(m), NAME "+%02x%02x%02x%02x+%s", id[0], id[1], id[2], id[3], b64);
    assert_int_equal(vkey_str(m), FX_OK);
    assert_string_equal(m, line);

    /* A name over FX_MAX_SHORT_STRING bytes. */
    char longname[FX_MAX_SHORT_STRING + 2];
    memset(longname, 'n', sizeof(longname) - 1);
    longname[sizeof(longname) - 1] = '\0';
    char longline[512];
    fx_checkpoint_key_id(longname, strlen(longname), blob + 1, id);
    snprintf(longline, sizeof(longline), "%s+%02x%02x%02x%02x+%s", longname, id[0], id[1], id[2],
             id[3], b64);
    assert_int_equal(vkey_str(longline), FX_EINVAL);
}

static void test_bodies(void **state)
{
    struct keys *k = *state;
    struct fx_checkpoint cp;
    char body[256], b64[64], m[512];
    size_t len;

    body_of(k, body, sizeof(body));
    assert_int_equal(fx_checkpoint_parse(body, strlen(body), &cp), FX_OK);
    sodium_bin2base64(b64, sizeof(b64), k->root, 32, sodium_base64_VARIANT_ORIGINAL);

    static const char *const sizes_ok[] = {"0", "1", "9223372036854775807"};
    for (size_t i = 0; i < FX_ARRAY_LEN(sizes_ok); i++) {
        snprintf(m, sizeof(m), "o\n%s\n%s\n", sizes_ok[i], b64);
        assert_int_equal(body_str(m), FX_OK);
    }
    static const char *const sizes_bad[] = {"",
                                            "00",
                                            "012",
                                            "-1",
                                            "+1",
                                            " 1",
                                            "1 ",
                                            "0x10",
                                            "1e3",
                                            "9223372036854775808",
                                            "18446744073709551616"};
    for (size_t i = 0; i < FX_ARRAY_LEN(sizes_bad); i++) {
        snprintf(m, sizeof(m), "o\n%s\n%s\n", sizes_bad[i], b64);
        if (body_str(m) != FX_EINVAL)
            fail_msg("size %s accepted", sizes_bad[i]);
    }
    snprintf(m, sizeof(m), "o\n1\n%s\nextension line\n", b64);
    assert_int_equal(body_str(m), FX_EINVAL);
    snprintf(m, sizeof(m), "o\n1\n%s", b64); /* no final newline */
    assert_int_equal(body_str(m), FX_EINVAL);
    snprintf(m, sizeof(m), "o\n1\n%s\n\n", b64);
    assert_int_equal(body_str(m), FX_EINVAL);
    snprintf(m, sizeof(m), "\n1\n%s\n", b64); /* empty origin */
    assert_int_equal(body_str(m), FX_EINVAL);
    snprintf(m, sizeof(m), "o\tx\n1\n%s\n", b64);
    assert_int_equal(body_str(m), FX_EINVAL);
    snprintf(m, sizeof(m), "o\n1\n%.43s\n", b64); /* root one character short */
    assert_int_equal(body_str(m), FX_EINVAL);
    snprintf(m, sizeof(m), "o\n1\n%sAAAA\n", b64); /* root too long */
    assert_int_equal(body_str(m), FX_EINVAL);
    assert_int_equal(body_str("o\n1\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAB=\n"), FX_EINVAL);
    assert_int_equal(body_str("o\n1\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n"), FX_OK);
    assert_int_equal(body_str("o\n1\n\n"), FX_EINVAL);
    assert_int_equal(body_str("o\n1\n"), FX_EINVAL);
    assert_int_equal(body_str(""), FX_EINVAL);

    /* Origins the formatter refuses. */
    assert_int_equal(fx_checkpoint_format("", 1, k->root, m, sizeof(m), &len), FX_EINVAL);
    assert_int_equal(fx_checkpoint_format("a\nb", 1, k->root, m, sizeof(m), &len), FX_EINVAL);
    char longname[FX_MAX_SHORT_STRING + 2];
    memset(longname, 'n', sizeof(longname) - 1);
    longname[sizeof(longname) - 1] = '\0';
    assert_int_equal(fx_checkpoint_format(longname, 1, k->root, m, sizeof(m), &len), FX_EINVAL);
    longname[FX_MAX_SHORT_STRING] = '\0';
    assert_int_equal(fx_checkpoint_format(longname, 1, k->root, m, sizeof(m), &len), FX_OK);
    assert_int_equal(fx_checkpoint_parse(m, len, &cp), FX_OK);
    assert_int_equal(cp.origin_len, FX_MAX_SHORT_STRING);
}

/* A signer whose name cannot be a key name does not sign. */
static void test_bad_signer_name(void **state)
{
    struct keys *k = *state;
    char note[FX_CHECKPOINT_MAX_NOTE];
    size_t len;
    static const char *const names[] = {"", "fx local", "fx+local", "fx\tlocal"};

    for (size_t i = 0; i < FX_ARRAY_LEN(names); i++) {
        struct fx_signer *s = make_key(k->dir, "n.key", names[i]);
        assert_int_equal(fx_checkpoint_sign(s, 1, k->root, note, sizeof(note), &len), FX_EINVAL);
        assert_int_equal(len, 0);
        fx_signer_free(s);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip),      cmocka_unit_test(test_go_interop),
        cmocka_unit_test(test_other_keys),      cmocka_unit_test(test_cosigned),
        cmocka_unit_test(test_malformed_notes), cmocka_unit_test(test_every_prefix_and_byte),
        cmocka_unit_test(test_vkeys),           cmocka_unit_test(test_bodies),
        cmocka_unit_test(test_bad_signer_name),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
