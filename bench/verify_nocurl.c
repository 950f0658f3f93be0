/*
 * verify_nocurl.c: the checks `fx verify RECEIPT --key KEYFILE` makes, in a
 * program that does not link libcurl, for bench/ledger.sh to time beside fx.
 * fx links libcurl (and through it some thirty shared libraries) for its
 * network commands; loading them costs every fx process, fx verify included,
 * before main() runs. The difference between the two figures is that cost.
 *
 *   verify_nocurl RECEIPT KEYFILE      exit 0 when the receipt verifies, 6 when not
 */
#include "ledger/ledger.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Reads at most max bytes of path into a malloc'd buffer; NULL on failure. */
static char *slurp(const char *path, size_t max, size_t *len_out)
{
    FILE *f = fopen(path, "rb");
    char *p = f ? malloc(max + 1) : NULL;
    size_t n = p ? fread(p, 1, max + 1, f) : 0;
    if (f)
        fclose(f);
    if (p == NULL || n > max) {
        free(p);
        return NULL;
    }
    *len_out = n;
    return p;
}

int main(int argc, char **argv)
{
    struct fx_checkpoint_vkey vk;
    struct fx_checkpoint cp;
    struct fx_receipt_leaf leaf;
    enum fx_receipt_part part;
    struct fx_receipt *r = malloc(sizeof(*r));
    size_t klen = 0, rlen = 0;
    char *key = argc == 3 ? slurp(argv[2], 4096, &klen) : NULL;
    char *text = argc == 3 ? slurp(argv[1], FX_RECEIPT_MAX_FILE, &rlen) : NULL;
    int rc = 6;

    if (r == NULL || key == NULL || text == NULL || sodium_init() < 0) {
        fputs("usage: verify_nocurl RECEIPT KEYFILE\n", stderr);
        rc = 1;
        goto out;
    }
    if (klen > 0 && key[klen - 1] == '\n')
        klen--;
    if (fx_checkpoint_parse_vkey(key, klen, &vk) != FX_OK) {
        rc = 1;
        goto out;
    }
    if (fx_receipt_parse(text, rlen, r, NULL, 0) == FX_OK &&
        fx_receipt_verify(r, &vk, &cp, &part) == FX_OK &&
        fx_receipt_parse_leaf(r->leaf, r->leaf_len, &leaf, NULL, 0) == FX_OK) {
        printf("verified: leaf %llu of %s, in its tree of %llu leaves\n",
               (unsigned long long)r->leaf_index, cp.origin, (unsigned long long)cp.size);
        rc = 0;
    }
out:
    free(text);
    free(key);
    free(r);
    return rc;
}
