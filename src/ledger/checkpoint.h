/*
 * checkpoint.h: the ledger's signed tree heads. A checkpoint is the C2SP
 * tlog-checkpoint text
 *
 *     <origin>\n<tree size, decimal>\n<base64 root hash>\n
 *
 * signed as a C2SP signed-note: the text, a blank line, then one line per
 * signature, "— <key name> <base64(key id ‖ Ed25519 signature)>\n", the dash
 * being U+2014. A verifier key is the C2SP line
 * "<name>+<hex key id>+<base64(0x01 ‖ public key)>".
 *
 * The parsers here read outside input (clients verify checkpoints they
 * fetched; fxd reads keys): they take (p, len), never read a NUL, refuse
 * anything not exactly as specified, and are fuzzed.
 */
#ifndef FX_CHECKPOINT_H
#define FX_CHECKPOINT_H

#include "common/fx.h"
#include "common/limits.h"
#include "ledger/merkle.h"
#include "ledger/signer.h"

/*
 * A signed checkpoint of ours is about 250 bytes; room for a few dozen
 * witness cosignatures, and a bound on what a verifier reads.
 */
#define FX_CHECKPOINT_MAX_NOTE 4096
/* Signature lines in one note: ours plus witness cosignatures. */
#define FX_CHECKPOINT_MAX_SIGS 16

/* A verifier key (fx_checkpoint_parse_vkey()). */
struct fx_checkpoint_vkey {
    char name[FX_MAX_SHORT_STRING + 1]; /* NUL-terminated; the log origin */
    size_t name_len;
    unsigned char id[FX_SIGNER_KEY_ID];
    unsigned char pk[FX_SIGNER_PUBKEY]; /* Ed25519 */
};

/* A checkpoint body (fx_checkpoint_parse()). */
struct fx_checkpoint {
    char origin[FX_MAX_SHORT_STRING + 1]; /* NUL-terminated */
    size_t origin_len;
    uint64_t size;
    unsigned char root[FX_MERKLE_HASH];
};

/*
 * The C2SP signed-note key id of an Ed25519 key, SHA-256(name ‖ 0x0A ‖ 0x01 ‖
 * pk)[:4], into out. name is (name, len), not NUL-terminated.
 */
void fx_checkpoint_key_id(const char *name, size_t len, const unsigned char pk[FX_SIGNER_PUBKEY],
                          unsigned char out[FX_SIGNER_KEY_ID]);

/*
 * Formats the checkpoint body "origin\nsize\nbase64(root)\n" (C2SP
 * tlog-checkpoint, no extension lines) into out, NUL-terminated, and its length
 * without the NUL into *len_out. FX_EINVAL when origin (NUL-terminated) is
 * empty, longer than FX_MAX_SHORT_STRING, not UTF-8 or holds a control
 * character, or when size exceeds INT64_MAX (fx_checkpoint_parse()'s bound);
 * FX_ETOOBIG when cap is too small.
 */
enum fx_err fx_checkpoint_format(const char *origin, uint64_t size,
                                 const unsigned char root[FX_MERKLE_HASH], char *out, size_t cap,
                                 size_t *len_out);

/*
 * The signed checkpoint of the tree (size, root), with the signer's name as
 * origin and key name: the body, a blank line and one signature line
 * (C2SP signed-note), NUL-terminated into out, its length into *len_out.
 * FX_CHECKPOINT_MAX_NOTE bytes always suffice. FX_EINVAL when the signer's name
 * cannot be a key name (empty, a space, a '+', a control character) or size
 * exceeds INT64_MAX;
 * FX_ETOOBIG when cap is too small; FX_ECRYPTO if signing fails.
 */
enum fx_err fx_checkpoint_sign(const struct fx_signer *s, uint64_t size,
                               const unsigned char root[FX_MERKLE_HASH], char *out, size_t cap,
                               size_t *len_out);

/*
 * Parses a verifier key line "name+hexkeyid+base64(0x01 ‖ pk)", exactly (no
 * surrounding spaces or newline), into *out. FX_EINVAL when a part is missing
 * or malformed, the key type is not Ed25519 (0x01), the key is not 32 bytes or
 * not a valid point, or the key id does not match the name and key.
 */
enum fx_err fx_checkpoint_parse_vkey(const char *p, size_t len, struct fx_checkpoint_vkey *out);

/*
 * Opens the signed note (p, len) with vk: checks its form strictly (UTF-8, no
 * control character but \n, text ending in \n, a blank line, 1 to
 * FX_CHECKPOINT_MAX_SIGS well-formed signature lines ending in \n, nothing
 * else) and that one line is a valid signature of the text by vk. Lines of
 * other keys are skipped unverified (witnesses). On FX_OK the text is p[0,
 * *body_len_out), ending in \n. FX_ETOOBIG over FX_CHECKPOINT_MAX_NOTE;
 * FX_EINVAL for a malformed note or two signatures by vk; FX_ECRYPTO when no
 * line verifies with vk, or one by vk does not.
 */
enum fx_err fx_checkpoint_open_note(const char *p, size_t len, const struct fx_checkpoint_vkey *vk,
                                    size_t *body_len_out);

/*
 * Parses a checkpoint body (the text of the note) into *out: exactly three
 * lines, a non-empty UTF-8 origin without control characters of at most
 * FX_MAX_SHORT_STRING bytes, a decimal size without sign or leading zero (at
 * most INT64_MAX), and the standard base64 of 32 bytes. Extension lines are
 * refused: this log writes none. FX_EINVAL otherwise. Checks no signature.
 */
enum fx_err fx_checkpoint_parse(const char *p, size_t len, struct fx_checkpoint *out);

/*
 * fx_checkpoint_open_note() then fx_checkpoint_parse(), and the origin must be
 * vk's name: a checkpoint of another log signed with the same key is refused
 * (FX_EINVAL). Errors as the two calls'.
 */
enum fx_err fx_checkpoint_verify(const char *p, size_t len, const struct fx_checkpoint_vkey *vk,
                                 struct fx_checkpoint *out);

#endif
