/*
 * receipt.h: ledger receipts as a client reads them (SPEC §9). A write that
 * appends a leaf answers with
 *
 *     {"leaf_index": N, "leaf": base64(leaf bytes), "checkpoint": signed note,
 *      "inclusion_path": [base64(32 bytes), ...]}
 *
 * and `fx verify` checks such a receipt offline, with only the log's verifier
 * key: the checkpoint's signature, the leaf's inclusion in the checkpoint's
 * tree and, when the record's bytes are at hand, their SHA-256 against the
 * leaf. The parsers here read files a user hands over, so they take (p, len),
 * never rely on a NUL, refuse anything not exactly as FX writes it, and are
 * fuzzed (fuzz/fuzz_receipt.c). They use jansson, whose memory is released
 * before they return; results go into caller-provided structs.
 */
#ifndef FX_RECEIPT_H
#define FX_RECEIPT_H

#include "common/fx.h"
#include "common/limits.h"
#include "ledger/checkpoint.h"
#include "ledger/merkle.h"

#include <stdbool.h>
#include <stdint.h>

/*
 * A receipt file: the receipt alone is under 4 KiB, but a whole API answer
 * that holds one (a notice with fields up to FX_MAX_BODY, its metadata and the
 * receipts of every leaf the write appended) is accepted too. Twice the body
 * limit and some room; a bound on what the parser gives to jansson.
 */
#define FX_RECEIPT_MAX_FILE (2 * FX_MAX_BODY + 64 * 1024)
/*
 * Leaf bytes: six short members of compact JSON, about 250 bytes. The bound
 * keeps a receipt struct on the stack and refuses absurd leaves early.
 */
#define FX_RECEIPT_MAX_LEAF 2048
/* Inclusion proofs of a tree below 2^64 leaves have at most 64 hashes (RFC 9162 §2.1.3). */
#define FX_RECEIPT_MAX_PATH FX_MERKLE_MAX_LEVELS

/* A receipt (fx_receipt_parse()). Everything decoded; nothing checked but form. */
struct fx_receipt {
    uint64_t leaf_index;
    size_t leaf_len;
    unsigned char leaf[FX_RECEIPT_MAX_LEAF];
    size_t note_len;
    char note[FX_CHECKPOINT_MAX_NOTE + 1]; /* the signed checkpoint, NUL-terminated */
    struct fx_merkle_proof path;           /* the inclusion path, sibling first */
};

/* What a leaf says (fx_receipt_parse_leaf()). Strings are NUL-terminated copies. */
struct fx_receipt_leaf {
    char kind[FX_MAX_SHORT_STRING + 1];
    char record_id[FX_MAX_SHORT_STRING + 1];
    char org[FX_MAX_SHORT_STRING + 1];
    int64_t version;
    int64_t time_ms;
    char time[25]; /* RFC 3339, as in the leaf */
    unsigned char content_sha256[32];
    char content_sha256_hex[65];
};

/*
 * Parses a receipt from (p, len): the receipt object itself, or any JSON
 * object holding one as its "receipt" member (a whole API answer). The
 * receipt must have exactly the four members above: leaf_index an integer
 * from 0 to INT64_MAX; leaf the standard padded base64 of 1 to
 * FX_RECEIPT_MAX_LEAF bytes; checkpoint a string of at most
 * FX_CHECKPOINT_MAX_NOTE bytes without NUL (its form and signature are
 * fx_checkpoint_verify()'s to judge); inclusion_path an array of at most
 * FX_RECEIPT_MAX_PATH strings, each the standard padded base64 of 32 bytes.
 * Fills *out. FX_ETOOBIG over FX_RECEIPT_MAX_FILE, FX_EINVAL for anything
 * else; either way a sentence saying what is wrong, naming the member, goes
 * into why (why_len bytes, NUL-terminated; why may be NULL).
 */
enum fx_err fx_receipt_parse(const char *p, size_t len, struct fx_receipt *out, char *why,
                             size_t why_len);

/*
 * Parses leaf bytes as FX writes them (SPEC §9): compact JSON with sorted
 * keys and exactly the members content_sha256 (64 lowercase hex digits), kind,
 * org, record_id (each 1 to FX_MAX_SHORT_STRING printable ASCII characters
 * without space), time (RFC 3339 UTC with milliseconds, as fxd writes it) and
 * version (an integer from 0 to INT64_MAX), and nothing else: no room for
 * confidential text. The bytes must be exactly the canonical encoding of what
 * they say. Fills *out; FX_EINVAL otherwise, with why as for fx_receipt_parse().
 */
enum fx_err fx_receipt_parse_leaf(const unsigned char *p, size_t len, struct fx_receipt_leaf *out,
                                  char *why, size_t why_len);

/*
 * Decodes the standard padded base64 (b64, len), whole input only, into out
 * (cap bytes) and its length into *out_len: false for anything else, so that
 * one byte string has one accepted spelling (no foreign or non-ASCII
 * characters, padding present, trailing bits zero). For the base64 a client
 * reads from the ledger endpoints too.
 */
bool fx_receipt_b64_decode(const char *b64, size_t len, unsigned char *out, size_t cap,
                           size_t *out_len);

/* The parts of a receipt fx_receipt_verify() checks, to name the one that failed. */
enum fx_receipt_part {
    FX_RECEIPT_PART_NONE = 0,
    FX_RECEIPT_PART_CHECKPOINT, /* the signed note: form, origin, signature */
    FX_RECEIPT_PART_INCLUSION,  /* the leaf at leaf_index in the checkpoint's tree */
};

/*
 * Verifies a parsed receipt with the log's verifier key: the checkpoint is a
 * note signed by vk whose origin is vk's name (fx_checkpoint_verify()), and
 * the leaf's hash sits at leaf_index in the tree of the checkpoint's size and
 * root (fx_merkle_verify_inclusion(), RFC 9162 §2.1.3.2). The checkpoint
 * goes into *cp_out once it verified, so it is there on FX_OK and when only
 * the inclusion failed. On failure *part_out names the part that
 * failed and the error is that check's: FX_EINVAL (malformed, or an index
 * outside the tree), FX_ECRYPTO (a signature or a proof that does not hold),
 * FX_ETOOBIG (an oversized note).
 */
enum fx_err fx_receipt_verify(const struct fx_receipt *r, const struct fx_checkpoint_vkey *vk,
                              struct fx_checkpoint *cp_out, enum fx_receipt_part *part_out);

#endif
