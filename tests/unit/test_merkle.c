/*
 * test_merkle.c: the ledger's RFC 9162 tree against a reference written from
 * the RFC's recursive definitions (MTH §2.1.1, PATH §2.1.3.1, PROOF and
 * SUBPROOF §2.1.4.1), over the leaves "leaf-<i>": roots, every inclusion proof
 * of every tree up to 300 leaves, every consistency proof between them,
 * tampered proofs, argument errors, and the number of store reads (O(log n)
 * when the store keeps the nodes the appender reports).
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

#define N_REF 300 /* sizes checked exhaustively against the reference */

/* ---- reference, straight from RFC 9162 §2.1, independent of merkle.c ---- */

static unsigned char ref_leaf[N_REF][32];
static unsigned char ref_memo[N_REF + 1][N_REF + 1][32];
static bool ref_memo_set[N_REF + 1][N_REF + 1];

static void leaf_data(uint64_t i, char *buf, size_t cap, size_t *len)
{
    int n = snprintf(buf, cap, "leaf-%llu", (unsigned long long)i);
    *len = (size_t)n;
}

static void ref_hash_leaf(uint64_t i, unsigned char out[32])
{
    char buf[32];
    unsigned char in[1 + sizeof(buf)];
    size_t len;
    leaf_data(i, buf, sizeof(buf), &len);
    in[0] = 0x00;
    memcpy(in + 1, buf, len);
    crypto_hash_sha256(out, in, 1 + len);
}

static void ref_hash_node(const unsigned char l[32], const unsigned char r[32],
                          unsigned char out[32])
{
    unsigned char in[65];
    in[0] = 0x01;
    memcpy(in + 1, l, 32);
    memcpy(in + 33, r, 32);
    crypto_hash_sha256(out, in, sizeof(in));
}

/* k: the largest power of two smaller than n (n > 1). */
static uint64_t ref_k(uint64_t n)
{
    uint64_t k = 1;
    while (k * 2 < n)
        k *= 2;
    return k;
}

/* MTH(D[a:b]) (§2.1.1), memoized: the definition is unchanged, only remembered. */
static const unsigned char *ref_mth(uint64_t a, uint64_t b)
{
    if (!ref_memo_set[a][b]) {
        uint64_t n = b - a;
        if (n == 0) {
            crypto_hash_sha256(ref_memo[a][b], NULL, 0);
        } else if (n == 1) {
            memcpy(ref_memo[a][b], ref_leaf[a], 32);
        } else {
            uint64_t k = ref_k(n);
            ref_hash_node(ref_mth(a, a + k), ref_mth(a + k, b), ref_memo[a][b]);
        }
        ref_memo_set[a][b] = true;
    }
    return ref_memo[a][b];
}

static void ref_push(struct fx_merkle_proof *p, const unsigned char *h)
{
    assert_true(p->n < FX_MERKLE_MAX_PROOF);
    memcpy(p->hash[p->n++], h, 32);
}

/* PATH(m, D[a:b]) (§2.1.3.1). */
static void ref_path(uint64_t m, uint64_t a, uint64_t b, struct fx_merkle_proof *p)
{
    uint64_t n = b - a;
    if (n <= 1)
        return;
    uint64_t k = ref_k(n);
    if (m < k) {
        ref_path(m, a, a + k, p);
        ref_push(p, ref_mth(a + k, b));
    } else {
        ref_path(m - k, a + k, b, p);
        ref_push(p, ref_mth(a, a + k));
    }
}

/* SUBPROOF(m, D[a:b], flag) (§2.1.4.1). */
static void ref_subproof(uint64_t m, uint64_t a, uint64_t b, bool flag, struct fx_merkle_proof *p)
{
    uint64_t n = b - a;
    if (m == n) {
        if (!flag)
            ref_push(p, ref_mth(a, b));
        return;
    }
    uint64_t k = ref_k(n);
    if (m <= k) {
        ref_subproof(m, a, a + k, flag, p);
        ref_push(p, ref_mth(a + k, b));
    } else {
        ref_subproof(m - k, a + k, b, false, p);
        ref_push(p, ref_mth(a, a + k));
    }
}

/* ---- an in-memory store that checks the contract and counts reads ---- */

struct memstore {
    uint64_t n;
    size_t cap;
    unsigned char (*leaves)[32];
    unsigned char (*nodes[FX_MERKLE_MAX_LEVELS])[32];
    size_t ncap[FX_MERKLE_MAX_LEVELS];
    uint64_t nn[FX_MERKLE_MAX_LEVELS];
    struct fx_merkle_appender app;
    uint64_t keep_levels; /* bit L set: get_node serves level L */
    uint64_t limit;       /* reads must stay below this leaf */
    uint64_t fail_leaf;   /* get_leaf_hash fails here (UINT64_MAX: never) */
    unsigned long reads;
};

static enum fx_err ms_get_leaf(void *ctx, uint64_t index, unsigned char out[32])
{
    struct memstore *ms = ctx;
    assert_true(index < ms->limit);
    assert_true(index < ms->n);
    ms->reads++;
    if (index == ms->fail_leaf)
        return FX_ESTORE;
    memcpy(out, ms->leaves[index], 32);
    return FX_OK;
}

static enum fx_err ms_get_node(void *ctx, unsigned level, uint64_t index, unsigned char out[32],
                               bool *found)
{
    struct memstore *ms = ctx;
    assert_true(level >= 1 && level < FX_MERKLE_MAX_LEVELS);
    assert_true(((index + 1) << level) <= ms->limit);
    ms->reads++;
    *found = false;
    if ((ms->keep_levels >> level) & 1) {
        assert_true(index < ms->nn[level]);
        memcpy(out, ms->nodes[level][index], 32);
        *found = true;
    }
    return FX_OK;
}

static void ms_init(struct memstore *ms, uint64_t keep_levels)
{
    memset(ms, 0, sizeof(*ms));
    fx_merkle_appender_init(&ms->app);
    ms->keep_levels = keep_levels;
    ms->fail_leaf = UINT64_MAX;
}

static void ms_free(struct memstore *ms)
{
    free(ms->leaves);
    for (size_t l = 0; l < FX_MERKLE_MAX_LEVELS; l++)
        free(ms->nodes[l]);
}

/* Appends leaf "leaf-<n>" and stores the nodes it finished, as a real store would. */
static void ms_append(struct memstore *ms)
{
    char buf[32];
    size_t len, ndone = 0;
    struct fx_merkle_node done[FX_MERKLE_MAX_LEVELS];

    if (ms->n == ms->cap) {
        ms->cap = ms->cap ? ms->cap * 2 : 64;
        ms->leaves = fx_xrealloc(ms->leaves, ms->cap * 32);
    }
    leaf_data(ms->n, buf, sizeof(buf), &len);
    fx_merkle_leaf_hash(buf, len, ms->leaves[ms->n]);
    assert_int_equal(fx_merkle_appender_push(&ms->app, ms->leaves[ms->n], done, &ndone), FX_OK);
    ms->n++;
    for (size_t i = 0; i < ndone; i++) {
        unsigned l = done[i].level;
        assert_true(l >= 1 && l < FX_MERKLE_MAX_LEVELS);
        /* Nodes of a level are finished left to right, each once. */
        assert_true(done[i].index == ms->nn[l]);
        if (i > 0)
            assert_true(done[i].level == done[i - 1].level + 1);
        if (ms->nn[l] == ms->ncap[l]) {
            ms->ncap[l] = ms->ncap[l] ? ms->ncap[l] * 2 : 16;
            ms->nodes[l] = fx_xrealloc(ms->nodes[l], ms->ncap[l] * 32);
        }
        memcpy(ms->nodes[l][ms->nn[l]++], done[i].hash, 32);
    }
}

/* The store as the tree sees it, limited to the first size leaves. */
static struct fx_merkle_store ms_view(struct memstore *ms, uint64_t size, bool with_nodes)
{
    struct fx_merkle_store st = {
        .ctx = ms,
        .size = size,
        .get_leaf_hash = ms_get_leaf,
        .get_node = with_nodes ? ms_get_node : NULL,
    };
    ms->limit = size;
    ms->reads = 0;
    return st;
}

static void ms_fill(struct memstore *ms, uint64_t n)
{
    while (ms->n < n)
        ms_append(ms);
}

static int setup_ref(void **state)
{
    (void)state;
    if (sodium_init() < 0)
        return -1;
    for (uint64_t i = 0; i < N_REF; i++)
        ref_hash_leaf(i, ref_leaf[i]);
    return 0;
}

static void assert_proof_equal(const struct fx_merkle_proof *got,
                               const struct fx_merkle_proof *want)
{
    assert_int_equal(got->n, want->n);
    if (want->n > 0)
        assert_memory_equal(got->hash, want->hash, want->n * 32);
}

/* ---- tests ---- */

/* RFC 6962's test vectors (the same tree definition as RFC 9162's). */
static void test_known_roots(void **state)
{
    static const char *const leaves[] = {
        "",
        "\x00",
        "\x10",
        "\x20\x21",
        "\x30\x31",
        "\x40\x41\x42\x43",
        "\x50\x51\x52\x53\x54\x55\x56\x57",
        "\x60\x61\x62\x63\x64\x65\x66\x67\x68\x69\x6a\x6b\x6c\x6d\x6e\x6f",
    };
    static const size_t lens[] = {0, 1, 1, 2, 2, 4, 8, 16};
    static const char *const roots[] = {
        "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
        "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
        "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
        "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
        "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
    };
    struct fx_merkle_appender a;
    struct fx_merkle_node done[FX_MERKLE_MAX_LEVELS];
    unsigned char h[32], root[32], want[32];
    size_t ndone;
    (void)state;

    fx_merkle_appender_init(&a);
    fx_merkle_appender_root(&a, root);
    assert_int_equal(
        sodium_hex2bin(want, 32, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
                       64, NULL, NULL, NULL),
        0);
    assert_memory_equal(root, want, 32);
    for (size_t i = 0; i < FX_ARRAY_LEN(leaves); i++) {
        fx_merkle_leaf_hash(leaves[i], lens[i], h);
        assert_int_equal(fx_merkle_appender_push(&a, h, done, &ndone), FX_OK);
        fx_merkle_appender_root(&a, root);
        assert_int_equal(sodium_hex2bin(want, 32, roots[i], 64, NULL, NULL, NULL), 0);
        assert_memory_equal(root, want, 32);
    }
}

static void test_roots_and_nodes(void **state)
{
    struct memstore ms;
    unsigned char root[32];
    (void)state;

    ms_init(&ms, ~(uint64_t)0);
    struct fx_merkle_store st = ms_view(&ms, 0, true);
    assert_int_equal(fx_merkle_root(&st, 0, root), FX_OK);
    assert_memory_equal(root, ref_mth(0, 0), 32);
    for (uint64_t n = 1; n <= N_REF; n++) {
        ms_append(&ms);
        fx_merkle_appender_root(&ms.app, root);
        assert_memory_equal(root, ref_mth(0, n), 32);
        /* Every complete node below a full-size tree is reported exactly once. */
        uint64_t nodes = 0;
        for (unsigned l = 1; l < FX_MERKLE_MAX_LEVELS; l++)
            nodes += ms.nn[l];
        assert_int_equal(nodes, n - (uint64_t)__builtin_popcountll(n));
    }
    for (unsigned l = 1; l < FX_MERKLE_MAX_LEVELS; l++)
        for (uint64_t i = 0; i < ms.nn[l]; i++)
            assert_memory_equal(ms.nodes[l][i], ref_mth(i << l, (i + 1) << l), 32);
    for (uint64_t n = 0; n <= N_REF; n++) {
        st = ms_view(&ms, n, true);
        assert_int_equal(fx_merkle_root(&st, n, root), FX_OK);
        assert_memory_equal(root, ref_mth(0, n), 32);
        /* A larger store answers for any smaller tree too. */
        st = ms_view(&ms, N_REF, true);
        assert_int_equal(fx_merkle_root(&st, n, root), FX_OK);
        assert_memory_equal(root, ref_mth(0, n), 32);
    }
    ms_free(&ms);
}

static void test_inclusion_all(void **state)
{
    struct memstore ms;
    struct fx_merkle_proof got, want;
    (void)state;

    ms_init(&ms, ~(uint64_t)0);
    ms_fill(&ms, N_REF);
    for (uint64_t size = 1; size <= N_REF; size++) {
        for (uint64_t i = 0; i < size; i++) {
            struct fx_merkle_store st = ms_view(&ms, size, true);
            assert_int_equal(fx_merkle_inclusion_proof(&st, i, size, &got), FX_OK);
            want.n = 0;
            ref_path(i, 0, size, &want);
            assert_proof_equal(&got, &want);
            assert_int_equal(
                fx_merkle_verify_inclusion(ref_leaf[i], i, size, &got, ref_mth(0, size)), FX_OK);
            /* Another leaf at the same place does not verify. */
            assert_int_equal(fx_merkle_verify_inclusion(ref_leaf[(i + 1) % N_REF], i, size, &got,
                                                        ref_mth(0, size)),
                             FX_ECRYPTO);
        }
    }
    ms_free(&ms);
}

static void test_consistency_all(void **state)
{
    struct memstore ms;
    struct fx_merkle_proof got, want;
    (void)state;

    ms_init(&ms, ~(uint64_t)0);
    ms_fill(&ms, N_REF);
    for (uint64_t to = 1; to <= N_REF; to++) {
        for (uint64_t from = 1; from <= to; from++) {
            struct fx_merkle_store st = ms_view(&ms, to, true);
            assert_int_equal(fx_merkle_consistency_proof(&st, from, to, &got), FX_OK);
            want.n = 0;
            ref_subproof(from, 0, to, true, &want);
            assert_proof_equal(&got, &want);
            assert_int_equal(
                fx_merkle_verify_consistency(from, to, ref_mth(0, from), ref_mth(0, to), &got),
                FX_OK);
        }
    }
    ms_free(&ms);
}

/* Every single change to a valid proof makes it fail. */
static void test_tampered(void **state)
{
    struct memstore ms;
    struct fx_merkle_proof p, t;
    static const unsigned char zero[32];
    (void)state;

    ms_init(&ms, ~(uint64_t)0);
    ms_fill(&ms, N_REF);
    for (uint64_t size = 1; size <= N_REF; size += (size < 40 ? 1 : 17)) {
        const unsigned char *root = ref_mth(0, size);
        for (uint64_t i = 0; i < size; i++) {
            struct fx_merkle_store st = ms_view(&ms, size, true);
            assert_int_equal(fx_merkle_inclusion_proof(&st, i, size, &p), FX_OK);
            for (size_t k = 0; k < p.n; k++) {
                t = p;
                t.hash[k][k % 32] ^= 0x01;
                assert_int_equal(fx_merkle_verify_inclusion(ref_leaf[i], i, size, &t, root),
                                 FX_ECRYPTO);
            }
            if (p.n > 0) {
                t = p;
                t.n--;
                assert_int_equal(fx_merkle_verify_inclusion(ref_leaf[i], i, size, &t, root),
                                 FX_ECRYPTO);
            }
            t = p;
            memcpy(t.hash[t.n++], zero, 32);
            assert_int_equal(fx_merkle_verify_inclusion(ref_leaf[i], i, size, &t, root),
                             FX_ECRYPTO);
            assert_int_equal(fx_merkle_verify_inclusion(ref_leaf[i], i, size, &p, zero),
                             FX_ECRYPTO);
            if (size > 1)
                assert_int_equal(
                    fx_merkle_verify_inclusion(ref_leaf[i], (i + 1) % size, size, &p, root),
                    FX_ECRYPTO);
        }
        for (uint64_t from = 1; from <= size; from++) {
            const unsigned char *old = ref_mth(0, from);
            struct fx_merkle_store st = ms_view(&ms, size, true);
            assert_int_equal(fx_merkle_consistency_proof(&st, from, size, &p), FX_OK);
            for (size_t k = 0; k < p.n; k++) {
                t = p;
                t.hash[k][31 - k % 32] ^= 0x80;
                assert_int_equal(fx_merkle_verify_consistency(from, size, old, root, &t),
                                 FX_ECRYPTO);
            }
            if (p.n > 0) {
                t = p;
                t.n--;
                assert_int_equal(fx_merkle_verify_consistency(from, size, old, root, &t),
                                 FX_ECRYPTO);
            }
            t = p;
            memcpy(t.hash[t.n++], zero, 32);
            assert_int_equal(fx_merkle_verify_consistency(from, size, old, root, &t), FX_ECRYPTO);
            assert_int_equal(fx_merkle_verify_consistency(from, size, zero, root, &p), FX_ECRYPTO);
            assert_int_equal(fx_merkle_verify_consistency(from, size, old, zero, &p), FX_ECRYPTO);
        }
    }
    ms_free(&ms);
}

/*
 * A proof cut short proves that the leaf (or the old tree) is under some
 * subtree, often the root of a smaller tree D[0:x], not under the root of
 * size. A proof with one more hash e proves it under HASH(0x01 ‖ e ‖ root).
 * Both are refused because the verifier tracks where the path must end
 * (RFC 9162: sn must reach 0 exactly at the last hash).
 */
static void test_wrong_length(void **state)
{
    struct memstore ms;
    struct fx_merkle_proof p, t;
    unsigned char e[32], r1[32], r2[32];
    (void)state;

    memset(e, 0x5a, sizeof(e));
    ms_init(&ms, ~(uint64_t)0);
    ms_fill(&ms, 40);
    for (uint64_t size = 1; size <= 40; size++) {
        for (uint64_t i = 0; i < size; i++) {
            struct fx_merkle_store st = ms_view(&ms, size, true);
            assert_int_equal(fx_merkle_inclusion_proof(&st, i, size, &p), FX_OK);
            for (size_t cut = 0; cut < p.n; cut++) {
                t = p;
                t.n = cut;
                for (uint64_t x = 1; x <= 40; x++)
                    assert_int_equal(
                        fx_merkle_verify_inclusion(ref_leaf[i], i, size, &t, ref_mth(0, x)),
                        FX_ECRYPTO);
            }
            t = p;
            memcpy(t.hash[t.n++], e, 32);
            ref_hash_node(e, ref_mth(0, size), r1);
            assert_int_equal(fx_merkle_verify_inclusion(ref_leaf[i], i, size, &t, r1), FX_ECRYPTO);
        }
        for (uint64_t from = 1; from < size; from++) {
            struct fx_merkle_store st = ms_view(&ms, size, true);
            assert_int_equal(fx_merkle_consistency_proof(&st, from, size, &p), FX_OK);
            for (size_t cut = 0; cut < p.n; cut++) {
                t = p;
                t.n = cut;
                for (uint64_t x = 1; x <= 40; x++)
                    assert_int_equal(fx_merkle_verify_consistency(from, size, ref_mth(0, from),
                                                                  ref_mth(0, x), &t),
                                     FX_ECRYPTO);
            }
            t = p;
            memcpy(t.hash[t.n++], e, 32);
            ref_hash_node(e, ref_mth(0, from), r1);
            ref_hash_node(e, ref_mth(0, size), r2);
            assert_int_equal(fx_merkle_verify_consistency(from, size, r1, r2, &t), FX_ECRYPTO);
        }
    }
    ms_free(&ms);
}

static void test_errors(void **state)
{
    struct memstore ms;
    struct fx_merkle_proof p;
    struct fx_merkle_node done[FX_MERKLE_MAX_LEVELS];
    unsigned char root[32];
    size_t ndone = 7;
    (void)state;

    ms_init(&ms, ~(uint64_t)0);
    ms_fill(&ms, 10);
    struct fx_merkle_store st = ms_view(&ms, 10, true);
    p.n = 5;
    assert_int_equal(fx_merkle_inclusion_proof(&st, 0, 0, &p), FX_EINVAL);
    assert_int_equal(p.n, 0);
    assert_int_equal(fx_merkle_inclusion_proof(&st, 3, 3, &p), FX_EINVAL);
    assert_int_equal(fx_merkle_inclusion_proof(&st, 4, 3, &p), FX_EINVAL);
    assert_int_equal(fx_merkle_inclusion_proof(&st, 0, 11, &p), FX_EINVAL);
    assert_int_equal(fx_merkle_inclusion_proof(&st, UINT64_MAX, UINT64_MAX, &p), FX_EINVAL);
    assert_int_equal(fx_merkle_consistency_proof(&st, 0, 5, &p), FX_EINVAL);
    assert_int_equal(fx_merkle_consistency_proof(&st, 0, 0, &p), FX_EINVAL);
    assert_int_equal(fx_merkle_consistency_proof(&st, 6, 5, &p), FX_EINVAL);
    assert_int_equal(fx_merkle_consistency_proof(&st, 5, 11, &p), FX_EINVAL);
    assert_int_equal(fx_merkle_root(&st, 11, root), FX_EINVAL);
    assert_int_equal(fx_merkle_consistency_proof(&st, 4, 4, &p), FX_OK);
    assert_int_equal(p.n, 0);

    struct fx_merkle_appender a;
    assert_int_equal(fx_merkle_appender_load(&a, &st, 11), FX_EINVAL);
    assert_int_equal(a.size, 0);

    /* Verifiers: arguments no proof can satisfy. */
    p.n = 0;
    assert_int_equal(fx_merkle_verify_inclusion(ref_leaf[0], 0, 0, &p, ref_mth(0, 1)), FX_EINVAL);
    assert_int_equal(fx_merkle_verify_inclusion(ref_leaf[0], 1, 1, &p, ref_mth(0, 1)), FX_EINVAL);
    assert_int_equal(fx_merkle_verify_inclusion(ref_leaf[0], 0, 1, &p, ref_mth(0, 1)), FX_OK);
    assert_int_equal(fx_merkle_verify_consistency(0, 1, ref_mth(0, 0), ref_mth(0, 1), &p),
                     FX_EINVAL);
    assert_int_equal(fx_merkle_verify_consistency(2, 1, ref_mth(0, 2), ref_mth(0, 1), &p),
                     FX_EINVAL);
    /* Equal sizes: an empty proof and equal roots, nothing else. */
    assert_int_equal(fx_merkle_verify_consistency(3, 3, ref_mth(0, 3), ref_mth(0, 3), &p), FX_OK);
    assert_int_equal(fx_merkle_verify_consistency(3, 3, ref_mth(0, 3), ref_mth(0, 4), &p),
                     FX_ECRYPTO);
    p.n = 1;
    memcpy(p.hash[0], ref_mth(0, 3), 32);
    assert_int_equal(fx_merkle_verify_consistency(3, 3, ref_mth(0, 3), ref_mth(0, 3), &p),
                     FX_ECRYPTO);
    /* An empty proof between different sizes proves nothing. */
    p.n = 0;
    assert_int_equal(fx_merkle_verify_consistency(1, 2, ref_mth(0, 1), ref_mth(0, 2), &p),
                     FX_ECRYPTO);
    /* An oversized count is refused before anything is read. */
    p.n = FX_MERKLE_MAX_PROOF + 1;
    assert_int_equal(fx_merkle_verify_inclusion(ref_leaf[0], 0, 2, &p, ref_mth(0, 2)), FX_EINVAL);
    assert_int_equal(fx_merkle_verify_consistency(1, 2, ref_mth(0, 1), ref_mth(0, 2), &p),
                     FX_EINVAL);
    p.n = SIZE_MAX;
    assert_int_equal(fx_merkle_verify_inclusion(ref_leaf[0], 0, 2, &p, ref_mth(0, 2)), FX_EINVAL);

    /* Huge sizes verify (or fail) without overflow: a 64-hash path at size 2^64 - 1. */
    p.n = FX_MERKLE_MAX_PROOF - 1;
    memset(p.hash, 0, sizeof(p.hash));
    assert_int_equal(
        fx_merkle_verify_inclusion(ref_leaf[0], UINT64_MAX - 1, UINT64_MAX, &p, ref_mth(0, 2)),
        FX_ECRYPTO);
    p.n = FX_MERKLE_MAX_PROOF;
    assert_int_equal(
        fx_merkle_verify_consistency(UINT64_MAX - 2, UINT64_MAX, ref_mth(0, 2), ref_mth(0, 3), &p),
        FX_ECRYPTO);

    /* The appender stops before its size would wrap, changing nothing. */
    fx_merkle_appender_init(&a);
    a.size = UINT64_MAX;
    assert_int_equal(fx_merkle_appender_push(&a, ref_leaf[0], done, &ndone), FX_ETOOBIG);
    assert_int_equal(ndone, 0);
    assert_true(a.size == UINT64_MAX);
    ms_free(&ms);
}

/* A store error reaches the caller, and no partial proof is left behind. */
static void test_store_errors(void **state)
{
    struct memstore ms;
    struct fx_merkle_proof p;
    struct fx_merkle_appender a;
    unsigned char root[32];
    (void)state;

    ms_init(&ms, 0); /* no nodes: every hash comes from the leaves */
    ms_fill(&ms, 20);
    ms.fail_leaf = 13;
    struct fx_merkle_store st = ms_view(&ms, 20, true);
    assert_int_equal(fx_merkle_root(&st, 20, root), FX_ESTORE);
    assert_int_equal(fx_merkle_root(&st, 13, root), FX_OK);
    assert_int_equal(fx_merkle_inclusion_proof(&st, 2, 20, &p), FX_ESTORE);
    assert_int_equal(p.n, 0);
    assert_int_equal(fx_merkle_inclusion_proof(&st, 13, 20, &p), FX_OK);
    assert_int_equal(fx_merkle_consistency_proof(&st, 3, 20, &p), FX_ESTORE);
    assert_int_equal(p.n, 0);
    assert_int_equal(fx_merkle_consistency_proof(&st, 14, 20, &p), FX_ESTORE);
    assert_int_equal(fx_merkle_appender_load(&a, &st, 20), FX_ESTORE);
    assert_int_equal(a.size, 0);
    ms_free(&ms);
}

/*
 * Stores that keep fewer nodes give the same answers: none at all (get_node
 * NULL), none although get_node exists, and only the odd levels.
 */
static void test_partial_stores(void **state)
{
    static const uint64_t keeps[] = {0, 0, 0xaaaaaaaaaaaaaaaaULL};
    struct fx_merkle_proof got, want;
    unsigned char root[32];
    (void)state;

    for (size_t s = 0; s < FX_ARRAY_LEN(keeps); s++) {
        struct memstore ms;
        bool with_nodes = s > 0;
        ms_init(&ms, keeps[s]);
        ms_fill(&ms, 70);
        for (uint64_t size = 1; size <= 70; size++) {
            struct fx_merkle_store st = ms_view(&ms, size, with_nodes);
            assert_int_equal(fx_merkle_root(&st, size, root), FX_OK);
            assert_memory_equal(root, ref_mth(0, size), 32);
            for (uint64_t i = 0; i < size; i++) {
                st = ms_view(&ms, size, with_nodes);
                assert_int_equal(fx_merkle_inclusion_proof(&st, i, size, &got), FX_OK);
                want.n = 0;
                ref_path(i, 0, size, &want);
                assert_proof_equal(&got, &want);
            }
            for (uint64_t from = 1; from <= size; from++) {
                st = ms_view(&ms, size, with_nodes);
                assert_int_equal(fx_merkle_consistency_proof(&st, from, size, &got), FX_OK);
                want.n = 0;
                ref_subproof(from, 0, size, true, &want);
                assert_proof_equal(&got, &want);
            }
        }
        ms_free(&ms);
    }
}

/*
 * With every complete node stored, a root or a proof costs O(log n) reads;
 * without nodes it reads every leaf. 2^17 + 2^16 + 12345 leaves.
 */
static void test_reads_logarithmic(void **state)
{
    const uint64_t n = (1u << 17) + (1u << 16) + 12345;
    struct memstore ms;
    struct fx_merkle_proof p;
    struct fx_merkle_appender a;
    unsigned char root[32], want[32];
    (void)state;

    ms_init(&ms, ~(uint64_t)0);
    ms_fill(&ms, n);
    fx_merkle_appender_root(&ms.app, want);

    struct fx_merkle_store st = ms_view(&ms, n, true);
    assert_int_equal(fx_merkle_root(&st, n, root), FX_OK);
    assert_memory_equal(root, want, 32);
    assert_true(ms.reads <= 64);

    static const uint64_t idx[] = {0, 1, 77777, (1u << 17) - 1, (1u << 17), (1u << 17) + 5};
    for (size_t k = 0; k < FX_ARRAY_LEN(idx); k++) {
        for (uint64_t size = n - 3; size <= n; size++) {
            st = ms_view(&ms, size, true);
            assert_int_equal(fx_merkle_inclusion_proof(&st, idx[k], size, &p), FX_OK);
            assert_true(ms.reads <= 3 * 64);
            st = ms_view(&ms, size, true);
            assert_int_equal(fx_merkle_root(&st, size, root), FX_OK);
            assert_int_equal(fx_merkle_verify_inclusion(ms.leaves[idx[k]], idx[k], size, &p, root),
                             FX_OK);
            st = ms_view(&ms, size, true);
            assert_int_equal(fx_merkle_consistency_proof(&st, idx[k] + 1, size, &p), FX_OK);
            assert_true(ms.reads <= 3 * 64);
            unsigned char old[32];
            st = ms_view(&ms, size, true);
            assert_int_equal(fx_merkle_root(&st, idx[k] + 1, old), FX_OK);
            assert_int_equal(fx_merkle_verify_consistency(idx[k] + 1, size, old, root, &p), FX_OK);
        }
    }

    /* Restoring the appender reads one node per bit of the size. */
    st = ms_view(&ms, n, true);
    assert_int_equal(fx_merkle_appender_load(&a, &st, n), FX_OK);
    assert_int_equal(ms.reads, (unsigned long)__builtin_popcountll(n));
    fx_merkle_appender_root(&a, root);
    assert_memory_equal(root, want, 32);

    /* The fallback without nodes is correct, and reads each leaf once. */
    st = ms_view(&ms, n, false);
    assert_int_equal(fx_merkle_root(&st, n, root), FX_OK);
    assert_memory_equal(root, want, 32);
    assert_int_equal(ms.reads, n);
    ms_free(&ms);
}

/* An appender restored from the store at any size carries on as if never stopped. */
static void test_appender_load(void **state)
{
    struct memstore ms;
    unsigned char root[32];
    (void)state;

    ms_init(&ms, ~(uint64_t)0);
    ms_fill(&ms, 140);
    for (uint64_t size = 0; size <= 140; size++) {
        struct fx_merkle_appender a;
        struct fx_merkle_node done[FX_MERKLE_MAX_LEVELS];
        size_t ndone;
        struct fx_merkle_store st = ms_view(&ms, 140, size % 2 == 0);
        assert_int_equal(fx_merkle_appender_load(&a, &st, size), FX_OK);
        assert_true(a.size == size);
        fx_merkle_appender_root(&a, root);
        assert_memory_equal(root, ref_mth(0, size), 32);
        for (uint64_t i = size; i < 140; i++) {
            assert_int_equal(fx_merkle_appender_push(&a, ms.leaves[i], done, &ndone), FX_OK);
            for (size_t k = 0; k < ndone; k++)
                assert_memory_equal(done[k].hash, ms.nodes[done[k].level][done[k].index], 32);
        }
        fx_merkle_appender_root(&a, root);
        assert_memory_equal(root, ref_mth(0, 140), 32);
    }
    ms_free(&ms);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_known_roots),    cmocka_unit_test(test_roots_and_nodes),
        cmocka_unit_test(test_inclusion_all),  cmocka_unit_test(test_consistency_all),
        cmocka_unit_test(test_tampered),       cmocka_unit_test(test_wrong_length),
        cmocka_unit_test(test_errors),         cmocka_unit_test(test_store_errors),
        cmocka_unit_test(test_partial_stores), cmocka_unit_test(test_reads_logarithmic),
        cmocka_unit_test(test_appender_load),
    };
    return cmocka_run_group_tests(tests, setup_ref, NULL);
}
