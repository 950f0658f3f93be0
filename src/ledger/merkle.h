/*
 * merkle.h: the ledger's Merkle tree as RFC 9162 §2.1 defines it (SHA-256,
 * leaf prefix 0x00, node prefix 0x01): an incremental appender, tree roots,
 * inclusion and consistency proofs, and their verifiers.
 *
 * The tree never lives in memory. Hashes come from a struct fx_merkle_store
 * that the caller implements over its database. A node is named by (level,
 * index): it is the hash of the complete subtree of 2^level leaves that starts
 * at leaf index << level. Level 0 is the leaf hashes. A store that keeps every
 * complete node (the appender reports each one as it is finished) serves a
 * root or a proof with O(log n) reads; a store that keeps only the leaf hashes
 * still works, at O(n) reads.
 */
#ifndef FX_MERKLE_H
#define FX_MERKLE_H

#include "common/fx.h"

#include <stdbool.h>
#include <stdint.h>

#define FX_MERKLE_HASH 32
/* Levels of a tree of fewer than 2^64 leaves; also the most nodes one push finishes. */
#define FX_MERKLE_MAX_LEVELS 64
/*
 * Longest proof of a tree of fewer than 2^64 leaves: an inclusion proof has at
 * most 64 hashes, a consistency proof one per level plus its last subtree (65).
 * Verifiers refuse longer proofs before hashing anything.
 */
#define FX_MERKLE_MAX_PROOF 65

/*
 * Where the hashes live. Borrowed by every call that takes it; the callbacks
 * run on the calling thread, inside whatever transaction the caller holds.
 */
struct fx_merkle_store {
    void *ctx;     /* passed to the callbacks unchanged */
    uint64_t size; /* leaves the store holds; no call reads at or past it */
    /* Hash of leaf index (< size) into out. Any error is passed back to the caller. */
    enum fx_err (*get_leaf_hash)(void *ctx, uint64_t index, unsigned char out[FX_MERKLE_HASH]);
    /*
     * Optional (NULL: compute every node from the leaves). The node (level >= 1,
     * index): the complete subtree over leaves [index << level, (index + 1) << level),
     * always inside the store's size. Sets *found to false, and returns FX_OK,
     * when it does not keep that node: the tree then computes it from its two
     * children. Any error is passed back to the caller.
     */
    enum fx_err (*get_node)(void *ctx, unsigned level, uint64_t index,
                            unsigned char out[FX_MERKLE_HASH], bool *found);
};

/* A proof: n hashes, in the order RFC 9162 lists them. */
struct fx_merkle_proof {
    size_t n;
    unsigned char hash[FX_MERKLE_MAX_PROOF][FX_MERKLE_HASH];
};

/* A complete node finished by fx_merkle_appender_push(), for the caller to store. */
struct fx_merkle_node {
    unsigned level; /* >= 1: leaves (level 0) are not reported, the caller has them */
    uint64_t index;
    unsigned char hash[FX_MERKLE_HASH];
};

/*
 * The right edge of the tree (its "frontier" or compact range): for every bit k
 * set in size, the hash of the complete subtree of 2^k leaves it ends with.
 * That is all that appending needs, and it yields the root at the current size.
 * Caller-provided; fx_merkle_appender_init() or fx_merkle_appender_load() fill it.
 */
struct fx_merkle_appender {
    uint64_t size;
    unsigned char frontier[FX_MERKLE_MAX_LEVELS][FX_MERKLE_HASH]; /* valid where size has a 1 */
};

/* Leaf hash, RFC 9162 §2.1.1: SHA-256(0x00 ‖ leaf). p may be NULL when len is 0. */
void fx_merkle_leaf_hash(const void *p, size_t len, unsigned char out[FX_MERKLE_HASH]);
/* Interior node hash, RFC 9162 §2.1.1: SHA-256(0x01 ‖ left ‖ right). */
void fx_merkle_node_hash(const unsigned char left[FX_MERKLE_HASH],
                         const unsigned char right[FX_MERKLE_HASH],
                         unsigned char out[FX_MERKLE_HASH]);

/* Starts an empty tree. */
void fx_merkle_appender_init(struct fx_merkle_appender *a);
/*
 * Restores the appender of a tree of size leaves from a store (after a
 * restart): reads one node per bit set in size, at most 64. FX_EINVAL when size
 * exceeds st->size; a store error is passed back and leaves *a empty.
 */
enum fx_err fx_merkle_appender_load(struct fx_merkle_appender *a, const struct fx_merkle_store *st,
                                    uint64_t size);
/*
 * Appends the leaf whose hash (fx_merkle_leaf_hash()) is leaf_hash, at index
 * a->size. Writes the complete nodes this leaf finished, lowest level first,
 * into done_out and their count (0 to 64) into *ndone_out: storing them is
 * what makes later roots and proofs O(log n). FX_ETOOBIG, changing nothing,
 * when the tree already has 2^64 - 1 leaves.
 */
enum fx_err fx_merkle_appender_push(struct fx_merkle_appender *a,
                                    const unsigned char leaf_hash[FX_MERKLE_HASH],
                                    struct fx_merkle_node done_out[FX_MERKLE_MAX_LEVELS],
                                    size_t *ndone_out);
/* Root at a->size (RFC 9162 §2.1.1; the empty tree's root is SHA-256 of nothing). */
void fx_merkle_appender_root(const struct fx_merkle_appender *a, unsigned char out[FX_MERKLE_HASH]);

/*
 * Root of the tree of the first size leaves (RFC 9162 §2.1.1 MTH), any size up
 * to st->size, 0 included. FX_EINVAL when size > st->size; store errors pass back.
 */
enum fx_err fx_merkle_root(const struct fx_merkle_store *st, uint64_t size,
                           unsigned char out[FX_MERKLE_HASH]);

/*
 * Inclusion proof of leaf index in the tree of size leaves (RFC 9162 §2.1.3.1),
 * the leaf's sibling first, into *out. FX_EINVAL when index >= size (so size
 * 0 too) or size > st->size; store errors pass back.
 */
enum fx_err fx_merkle_inclusion_proof(const struct fx_merkle_store *st, uint64_t index,
                                      uint64_t size, struct fx_merkle_proof *out);
/*
 * Consistency proof between the trees of from and to leaves (RFC 9162
 * §2.1.4.1), into *out; empty when from == to. FX_EINVAL when from == 0
 * (nothing to be consistent with), from > to, or to > st->size; store errors
 * pass back.
 */
enum fx_err fx_merkle_consistency_proof(const struct fx_merkle_store *st, uint64_t from,
                                        uint64_t to, struct fx_merkle_proof *out);

/*
 * Checks that leaf_hash sits at index in the tree of size leaves whose root is
 * root, with the RFC 9162 §2.1.3.2 algorithm. FX_OK when it does; FX_EINVAL
 * when the arguments cannot describe a proof (index >= size, proof->n >
 * FX_MERKLE_MAX_PROOF); FX_ECRYPTO when the proof does not lead to root.
 * Needs no store: this is what a client runs offline.
 */
enum fx_err fx_merkle_verify_inclusion(const unsigned char leaf_hash[FX_MERKLE_HASH],
                                       uint64_t index, uint64_t size,
                                       const struct fx_merkle_proof *proof,
                                       const unsigned char root[FX_MERKLE_HASH]);
/*
 * Checks that the tree of to leaves (root to_root) extends the tree of from
 * leaves (root from_root), with the RFC 9162 §2.1.4.2 algorithm; when from ==
 * to the proof must be empty and the roots equal. FX_OK when it does; FX_EINVAL
 * when from == 0, from > to or proof->n > FX_MERKLE_MAX_PROOF; FX_ECRYPTO
 * otherwise.
 */
enum fx_err fx_merkle_verify_consistency(uint64_t from, uint64_t to,
                                         const unsigned char from_root[FX_MERKLE_HASH],
                                         const unsigned char to_root[FX_MERKLE_HASH],
                                         const struct fx_merkle_proof *proof);

#endif
