/*
 * merkle.c: the RFC 9162 §2.1 Merkle tree over a caller's hash store.
 *
 * Every subtree that RFC 9162's recursive definitions name, MTH(D[a:b]), is
 * either a complete subtree of 2^k leaves aligned on 2^k, or a right-edge
 * range that splits into complete subtrees, one per bit of its length, largest
 * first. So a root or a proof needs only complete nodes, which the store may
 * keep (fx_merkle_appender_push() reports each one once): one read per
 * complete node, O(log n) in all. A node the store does not keep is computed
 * from its children, down to the leaf hashes.
 *
 * This file owns no memory and keeps no state between calls. It never reads a
 * leaf at or past the store's size, and its verifiers never index past the
 * proof they are given, whatever its length: they check outside input.
 */
#include "ledger/merkle.h"

#include <sodium.h>
#include <string.h>

/* RFC 9162 §2.1.1 domain separation: leaves and interior nodes never hash alike. */
#define LEAF_PREFIX 0x00
#define NODE_PREFIX 0x01

void fx_merkle_leaf_hash(const void *p, size_t len, unsigned char out[FX_MERKLE_HASH])
{
    static const unsigned char prefix = LEAF_PREFIX;
    crypto_hash_sha256_state h;
    crypto_hash_sha256_init(&h);
    crypto_hash_sha256_update(&h, &prefix, 1);
    if (len > 0)
        crypto_hash_sha256_update(&h, p, len);
    crypto_hash_sha256_final(&h, out);
}

void fx_merkle_node_hash(const unsigned char left[FX_MERKLE_HASH],
                         const unsigned char right[FX_MERKLE_HASH],
                         unsigned char out[FX_MERKLE_HASH])
{
    unsigned char buf[1 + 2 * FX_MERKLE_HASH];
    buf[0] = NODE_PREFIX;
    memcpy(buf + 1, left, FX_MERKLE_HASH);
    memcpy(buf + 1 + FX_MERKLE_HASH, right, FX_MERKLE_HASH);
    /* out may alias left or right: the inputs were copied first. */
    crypto_hash_sha256(out, buf, sizeof(buf));
}

/* The largest power of two below n (n >= 2): where RFC 9162 §2.1.1 splits D[n]. */
static uint64_t split_point(uint64_t n)
{
    uint64_t k = 1;
    /* k < n - k rather than 2k < n: 2k cannot overflow while the loop runs. */
    while (k < n - k)
        k <<= 1;
    return k;
}

/* The complete subtree of 2^level leaves starting at leaf index << level. */
static enum fx_err complete_hash(const struct fx_merkle_store *st, unsigned level, uint64_t index,
                                 unsigned char out[FX_MERKLE_HASH])
{
    enum fx_err err = FX_OK;
    unsigned char left[FX_MERKLE_HASH], right[FX_MERKLE_HASH];

    if (level == 0) {
        err = st->get_leaf_hash(st->ctx, index, out);
        goto out;
    }
    if (st->get_node != NULL) {
        bool found = false;
        err = st->get_node(st->ctx, level, index, out, &found);
        if (err != FX_OK || found)
            goto out;
    }
    /* Not kept: compute it. Recursion depth is at most level, itself below 64. */
    err = complete_hash(st, level - 1, index * 2, left);
    if (err != FX_OK)
        goto out;
    err = complete_hash(st, level - 1, index * 2 + 1, right);
    if (err != FX_OK)
        goto out;
    fx_merkle_node_hash(left, right, out);
out:
    return err;
}

/*
 * MTH(D[start:start + count]) for a range RFC 9162's recursion produces (count
 * >= 1, start aligned on the power of two at or above count): the complete
 * subtrees of count's bits, largest first, folded from the right, since
 * MTH = HASH(0x01 ‖ MTH(largest) ‖ MTH(rest)) at every step.
 */
static enum fx_err range_hash(const struct fx_merkle_store *st, uint64_t start, uint64_t count,
                              unsigned char out[FX_MERKLE_HASH])
{
    enum fx_err err = FX_OK;
    unsigned char parts[FX_MERKLE_MAX_LEVELS][FX_MERKLE_HASH];
    size_t nparts = 0;
    uint64_t at = start;

    for (unsigned level = FX_MERKLE_MAX_LEVELS; level-- > 0;) {
        uint64_t width = (uint64_t)1 << level;
        if ((count & width) == 0)
            continue;
        err = complete_hash(st, level, at >> level, parts[nparts]);
        if (err != FX_OK)
            goto out;
        nparts++;
        at += width;
    }
    memcpy(out, parts[nparts - 1], FX_MERKLE_HASH);
    for (size_t i = nparts - 1; i-- > 0;)
        fx_merkle_node_hash(parts[i], out, out);
out:
    return err;
}

static void reverse(struct fx_merkle_proof *p)
{
    unsigned char tmp[FX_MERKLE_HASH];
    for (size_t i = 0, j = p->n; i + 1 < j; i++, j--) {
        memcpy(tmp, p->hash[i], FX_MERKLE_HASH);
        memcpy(p->hash[i], p->hash[j - 1], FX_MERKLE_HASH);
        memcpy(p->hash[j - 1], tmp, FX_MERKLE_HASH);
    }
}

void fx_merkle_appender_init(struct fx_merkle_appender *a)
{
    memset(a, 0, sizeof(*a));
}

enum fx_err fx_merkle_appender_load(struct fx_merkle_appender *a, const struct fx_merkle_store *st,
                                    uint64_t size)
{
    enum fx_err err = FX_OK;
    uint64_t at = 0;

    fx_merkle_appender_init(a);
    if (size > st->size) {
        err = FX_EINVAL;
        goto out;
    }
    /* The frontier is the tree's left-to-right run of complete subtrees, largest first. */
    for (unsigned level = FX_MERKLE_MAX_LEVELS; level-- > 0;) {
        uint64_t width = (uint64_t)1 << level;
        if ((size & width) == 0)
            continue;
        err = complete_hash(st, level, at >> level, a->frontier[level]);
        if (err != FX_OK)
            goto out;
        at += width;
    }
    a->size = size;
out:
    if (err != FX_OK)
        fx_merkle_appender_init(a);
    return err;
}

enum fx_err fx_merkle_appender_push(struct fx_merkle_appender *a,
                                    const unsigned char leaf_hash[FX_MERKLE_HASH],
                                    struct fx_merkle_node done_out[FX_MERKLE_MAX_LEVELS],
                                    size_t *ndone_out)
{
    enum fx_err err = FX_OK;
    unsigned char cur[FX_MERKLE_HASH];
    unsigned level = 0;
    uint64_t index = a->size;

    *ndone_out = 0;
    if (a->size == UINT64_MAX) {
        err = FX_ETOOBIG;
        goto out;
    }
    memcpy(cur, leaf_hash, FX_MERKLE_HASH);
    /*
     * Like adding one in binary: each 1 bit of the old size is a complete
     * subtree of the same width just left of cur, so the two merge into a
     * complete node one level up, and the carry moves on.
     */
    while ((a->size >> level) & 1) {
        fx_merkle_node_hash(a->frontier[level], cur, cur);
        level++;
        index >>= 1;
        done_out[*ndone_out].level = level;
        done_out[*ndone_out].index = index;
        memcpy(done_out[*ndone_out].hash, cur, FX_MERKLE_HASH);
        (*ndone_out)++;
    }
    memcpy(a->frontier[level], cur, FX_MERKLE_HASH);
    a->size++;
out:
    return err;
}

void fx_merkle_appender_root(const struct fx_merkle_appender *a, unsigned char out[FX_MERKLE_HASH])
{
    bool any = false;

    /* Smallest subtree first: it is the innermost right operand of the fold. */
    for (unsigned level = 0; level < FX_MERKLE_MAX_LEVELS; level++) {
        if (((a->size >> level) & 1) == 0)
            continue;
        if (!any)
            memcpy(out, a->frontier[level], FX_MERKLE_HASH);
        else
            fx_merkle_node_hash(a->frontier[level], out, out);
        any = true;
    }
    if (!any)
        crypto_hash_sha256(out, NULL, 0); /* RFC 9162 §2.1.1: MTH({}) = HASH() */
}

enum fx_err fx_merkle_root(const struct fx_merkle_store *st, uint64_t size,
                           unsigned char out[FX_MERKLE_HASH])
{
    enum fx_err err = FX_OK;

    if (size > st->size) {
        err = FX_EINVAL;
        goto out;
    }
    if (size == 0) {
        crypto_hash_sha256(out, NULL, 0);
        goto out;
    }
    err = range_hash(st, 0, size, out);
out:
    return err;
}

enum fx_err fx_merkle_inclusion_proof(const struct fx_merkle_store *st, uint64_t index,
                                      uint64_t size, struct fx_merkle_proof *out)
{
    enum fx_err err = FX_OK;
    uint64_t start = 0, count = size, m = index;

    out->n = 0;
    if (index >= size || size > st->size) {
        err = FX_EINVAL;
        goto out;
    }
    /*
     * RFC 9162 §2.1.3.1 PATH(m, D[n]), walked from the root down: each step
     * keeps the half holding m and records the other half. The recursion lists
     * the deepest sibling first, hence the reversal at the end.
     */
    while (count > 1) {
        uint64_t k = split_point(count);
        if (m < k) {
            err = range_hash(st, start + k, count - k, out->hash[out->n]);
            count = k;
        } else {
            err = range_hash(st, start, k, out->hash[out->n]);
            start += k;
            m -= k;
            count -= k;
        }
        if (err != FX_OK)
            goto out;
        out->n++;
    }
    reverse(out);
out:
    if (err != FX_OK)
        out->n = 0;
    return err;
}

enum fx_err fx_merkle_consistency_proof(const struct fx_merkle_store *st, uint64_t from,
                                        uint64_t to, struct fx_merkle_proof *out)
{
    enum fx_err err = FX_OK;
    uint64_t start = 0, count = to, m = from;
    bool whole = true; /* SUBPROOF's b: D[0:m] is still a subtree the verifier knows */

    out->n = 0;
    if (from == 0 || from > to || to > st->size) {
        err = FX_EINVAL;
        goto out;
    }
    /* RFC 9162 §2.1.4.1 SUBPROOF(m, D[n], b), walked from the root down, then reversed. */
    for (;;) {
        if (m == count) {
            if (!whole)
                err = range_hash(st, start, count, out->hash[out->n++]);
            break;
        }
        uint64_t k = split_point(count); /* count > m >= 1 */
        if (m <= k) {
            err = range_hash(st, start + k, count - k, out->hash[out->n]);
            count = k;
        } else {
            err = range_hash(st, start, k, out->hash[out->n]);
            start += k;
            m -= k;
            count -= k;
            whole = false;
        }
        if (err != FX_OK)
            goto out;
        out->n++;
    }
    if (err != FX_OK)
        goto out;
    reverse(out);
out:
    if (err != FX_OK)
        out->n = 0;
    return err;
}

enum fx_err fx_merkle_verify_inclusion(const unsigned char leaf_hash[FX_MERKLE_HASH],
                                       uint64_t index, uint64_t size,
                                       const struct fx_merkle_proof *proof,
                                       const unsigned char root[FX_MERKLE_HASH])
{
    enum fx_err err = FX_ECRYPTO;
    unsigned char r[FX_MERKLE_HASH];
    uint64_t fn = index, sn;

    if (index >= size || proof->n > FX_MERKLE_MAX_PROOF) {
        err = FX_EINVAL;
        goto out;
    }
    /* RFC 9162 §2.1.3.2, step by step. */
    sn = size - 1;
    memcpy(r, leaf_hash, FX_MERKLE_HASH);
    for (size_t i = 0; i < proof->n; i++) {
        if (sn == 0)
            goto out; /* more hashes than the path has levels */
        if ((fn & 1) || fn == sn) {
            fx_merkle_node_hash(proof->hash[i], r, r);
            /* Skip the levels where this node is a right-edge node with no sibling. */
            while ((fn & 1) == 0 && fn != 0) {
                fn >>= 1;
                sn >>= 1;
            }
        } else {
            fx_merkle_node_hash(r, proof->hash[i], r);
        }
        fn >>= 1;
        sn >>= 1;
    }
    if (sn == 0 && sodium_memcmp(r, root, FX_MERKLE_HASH) == 0)
        err = FX_OK;
out:
    return err;
}

enum fx_err fx_merkle_verify_consistency(uint64_t from, uint64_t to,
                                         const unsigned char from_root[FX_MERKLE_HASH],
                                         const unsigned char to_root[FX_MERKLE_HASH],
                                         const struct fx_merkle_proof *proof)
{
    enum fx_err err = FX_ECRYPTO;
    unsigned char fr[FX_MERKLE_HASH], sr[FX_MERKLE_HASH];
    uint64_t fn, sn;
    size_t i = 0;

    if (from == 0 || from > to || proof->n > FX_MERKLE_MAX_PROOF) {
        err = FX_EINVAL;
        goto out;
    }
    /* Equal sizes: the proof is empty (SUBPROOF(m, D[m], true) = {}) and the roots match. */
    if (from == to) {
        if (proof->n == 0 && sodium_memcmp(from_root, to_root, FX_MERKLE_HASH) == 0)
            err = FX_OK;
        goto out;
    }
    /* RFC 9162 §2.1.4.2, step by step. */
    if (proof->n == 0)
        goto out;
    /* Step 2: when from is a power of two, the path starts with from_root itself. */
    if ((from & (from - 1)) == 0) {
        memcpy(fr, from_root, FX_MERKLE_HASH);
    } else {
        memcpy(fr, proof->hash[0], FX_MERKLE_HASH);
        i = 1;
    }
    memcpy(sr, fr, FX_MERKLE_HASH);
    fn = from - 1;
    sn = to - 1;
    while (fn & 1) {
        fn >>= 1;
        sn >>= 1;
    }
    for (; i < proof->n; i++) {
        if (sn == 0)
            goto out;
        if ((fn & 1) || fn == sn) {
            fx_merkle_node_hash(proof->hash[i], fr, fr);
            fx_merkle_node_hash(proof->hash[i], sr, sr);
            while ((fn & 1) == 0 && fn != 0) {
                fn >>= 1;
                sn >>= 1;
            }
        } else {
            fx_merkle_node_hash(sr, proof->hash[i], sr);
        }
        fn >>= 1;
        sn >>= 1;
    }
    if (sn == 0 && sodium_memcmp(fr, from_root, FX_MERKLE_HASH) == 0 &&
        sodium_memcmp(sr, to_root, FX_MERKLE_HASH) == 0)
        err = FX_OK;
out:
    return err;
}
