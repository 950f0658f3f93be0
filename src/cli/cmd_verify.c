/*
 * cmd_verify.c: "fx verify RECEIPT --key KEYFILE [--record FILE]", the
 * offline check of a ledger receipt (SPEC §9). With only the log's verifier
 * key it checks that the receipt's checkpoint is signed by that key, that the
 * leaf sits at its index in the checkpoint's tree (RFC 9162 inclusion proof),
 * that the leaf is an FX leaf, and, with --record, that the record's bytes
 * hash to the leaf's content_sha256. It never opens a connection: everything
 * it trusts is the key file, and everything else is checked against it.
 *
 * Exit 0 only when every part holds; 6 (FX_EXIT_VERIFY) with a message naming
 * the part that failed otherwise; 1 when a file cannot be read or the key
 * file holds no verifier key; 2 for usage errors.
 */
#include "cli/cli_int.h"
#include "common/limits.h"

#include "ledger/ledger.h"

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdarg.h>
#include <string.h>
#include <unistd.h>

/* A verifier key line is under 400 bytes; a key file much bigger is not one. */
#define KEY_FILE_MAX 4096

static const char usage[] =
    "usage: fx verify RECEIPT --key KEYFILE [--record FILE]\n"
    "\n"
    "Verifies a ledger receipt offline, with only the log's public key: the\n"
    "checkpoint's signature, the inclusion proof of the leaf in that checkpoint's\n"
    "tree and, with --record, that the record's bytes are the ones the leaf names.\n"
    "RECEIPT is a file holding the receipt JSON, or a whole API answer with a\n"
    "\"receipt\" member (what 'fx --json notice create' prints); - reads standard\n"
    "input. Nothing is sent over the network.\n"
    "\n"
    "  --key KEYFILE    the log's verifier key, as GET /api/v1/ledger/key or\n"
    "                   'fxd init --json' (ledger_public_key) give it\n"
    "  --record FILE    the exact bytes of the record version the leaf names\n"
    "                   ('fx notice version NOTICE N > FILE')\n"
    "\n"
    "Exit status 0 when everything verifies, 6 when a part does not (the message\n"
    "names it), 1 when a file cannot be read or KEYFILE holds no verifier key.\n";

/*
 * Reads the whole file at path ("-": standard input) into out, at most max
 * bytes. what names the file in messages ("the receipt"). Returns
 * FX_EXIT_OK, or FX_EXIT_LOCAL after saying why on stderr.
 */
int fx_cmd_verify_read_file(const char *path, const char *what, size_t max, struct fx_buf *out)
{
    int rc = FX_EXIT_OK;
    bool is_stdin = strcmp(path, "-") == 0;
    int fd = is_stdin ? STDIN_FILENO : open(path, O_RDONLY | O_CLOEXEC);
    enum fx_err err;

    if (fd < 0) {
        fprintf(stderr, "fx: cannot open %s (%s): %s\n", what, path, strerror(errno));
        rc = FX_EXIT_LOCAL;
        goto out;
    }
    err = fx_cli_read_fd(fd, max, out);
    if (err == FX_ETOOBIG) {
        fprintf(stderr, "fx: %s (%s) is larger than %zu bytes\n", what, path, max);
        rc = FX_EXIT_LOCAL;
    } else if (err != FX_OK) {
        fprintf(stderr, "fx: cannot read %s (%s): %s\n", what, path, strerror(errno));
        rc = FX_EXIT_LOCAL;
    }
out:
    if (fd >= 0 && !is_stdin)
        close(fd);
    return rc;
}

/*
 * Reads the verifier key line at path into *out. One trailing newline is
 * allowed (GET /api/v1/ledger/key ends with one); nothing else around the key.
 * Returns FX_EXIT_OK, or FX_EXIT_LOCAL after saying why on stderr.
 */
int fx_cmd_verify_read_key(const char *path, struct fx_checkpoint_vkey *out)
{
    struct fx_buf b;
    size_t len;
    int rc;

    fx_buf_init(&b, KEY_FILE_MAX);
    rc = fx_cmd_verify_read_file(path, "the key file", KEY_FILE_MAX, &b);
    if (rc != FX_EXIT_OK)
        goto out;
    len = b.len;
    if (len > 0 && b.p[len - 1] == '\n')
        len--;
    if (len == 0 || fx_checkpoint_parse_vkey(b.p, len, out) != FX_OK) {
        fprintf(stderr,
                "fx: %s does not hold a ledger verifier key (one line "
                "NAME+KEYID+BASE64, an Ed25519 key, as GET /api/v1/ledger/key serves it)\n",
                path);
        rc = FX_EXIT_LOCAL;
    }
out:
    fx_buf_cleanup(&b);
    return rc;
}

/* SHA-256 of the file at path, streamed. FX_EXIT_OK or FX_EXIT_LOCAL (said on stderr). */
static int hash_file(const char *path, unsigned char out[crypto_hash_sha256_BYTES])
{
    int rc = FX_EXIT_OK;
    bool is_stdin = strcmp(path, "-") == 0;
    int fd = is_stdin ? STDIN_FILENO : open(path, O_RDONLY | O_CLOEXEC);
    crypto_hash_sha256_state st;
    unsigned char chunk[65536];
    ssize_t n = 1;
    size_t total = 0; /* no record FX serves is larger than a TAXII envelope may be */

    crypto_hash_sha256_init(&st);
    if (fd < 0) {
        fprintf(stderr, "fx: cannot open the record file (%s): %s\n", path, strerror(errno));
        rc = FX_EXIT_LOCAL;
        goto out;
    }
    while (n != 0) {
        n = read(fd, chunk, sizeof(chunk));
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            fprintf(stderr, "fx: cannot read the record file (%s): %s\n", path, strerror(errno));
            rc = FX_EXIT_LOCAL;
            goto out;
        }
        total += (size_t)n;
        if (total > FX_MAX_TAXII_BODY_CEILING) {
            fprintf(stderr, "fx: the record file (%s) is larger than any record fxd serves\n",
                    path);
            rc = FX_EXIT_LOCAL;
            goto out;
        }
        crypto_hash_sha256_update(&st, chunk, (unsigned long long)n);
    }
    crypto_hash_sha256_final(&st, out);
out:
    if (fd >= 0 && !is_stdin)
        close(fd);
    return rc;
}

/* "fx verify: FAILED: part: ..." on stderr; returns FX_EXIT_VERIFY. */
static int failed(const char *part, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int failed(const char *part, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "fx verify: FAILED: %s: ", part);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    return FX_EXIT_VERIFY;
}

static void b64(const unsigned char *p, size_t n, char *out, size_t cap)
{
    sodium_bin2base64(out, cap, p, n, sodium_base64_VARIANT_ORIGINAL);
}

static void print_result(const struct fx_cli *cli, const struct fx_checkpoint *cp,
                         const struct fx_receipt *r, const struct fx_receipt_leaf *leaf,
                         const char *record)
{
    char root[sodium_base64_ENCODED_LEN(FX_MERKLE_HASH, sodium_base64_VARIANT_ORIGINAL)];
    b64(cp->root, sizeof(cp->root), root, sizeof(root));
    if (cli->json) {
        json_t *j = json_pack("{s:b,s:s,s:I,s:s,s:I,s:{s:s,s:s,s:I,s:s,s:s,s:s},s:s?}", "verified",
                              1, "origin", cp->origin, "tree_size", (json_int_t)cp->size, "root",
                              root, "leaf_index", (json_int_t)r->leaf_index, "leaf", "kind",
                              leaf->kind, "record_id", leaf->record_id, "version",
                              (json_int_t)leaf->version, "org", leaf->org, "time", leaf->time,
                              "content_sha256", leaf->content_sha256_hex, "record", record);
        if (j == NULL)
            fx_die("out of memory");
        fx_cli_print_json(j);
        json_decref(j);
        return;
    }
    printf("verified: leaf %llu of %s, in its tree of %llu leaves\n",
           (unsigned long long)r->leaf_index, cp->origin, (unsigned long long)cp->size);
    printf("  kind:           %s\n", leaf->kind);
    printf("  record:         %s version %lld\n", leaf->record_id, (long long)leaf->version);
    printf("  org:            %s\n", leaf->org);
    printf("  time:           %s\n", leaf->time);
    printf("  content_sha256: %s\n", leaf->content_sha256_hex);
    printf("  root:           %s\n", root);
    if (record != NULL)
        printf("  record file:    %s matches content_sha256\n", record);
}

int fx_cmd_verify_run(struct fx_cli *cli, int argc, char **argv)
{
    int rc = FX_EXIT_OK;
    struct fx_opt opts[] = {{"key", true, NULL}, {"record", true, NULL}};
    const char *pos[FX_CLI_MAX_POS];
    const char *key_path, *record_path;
    struct fx_buf file;
    struct fx_checkpoint_vkey vk;
    struct fx_checkpoint cp;
    struct fx_receipt *r = NULL;
    struct fx_receipt_leaf leaf;
    enum fx_receipt_part part = FX_RECEIPT_PART_NONE;
    enum fx_err err;
    unsigned char digest[crypto_hash_sha256_BYTES];
    char why[256];

    cli->usage = usage;
    fx_buf_init(&file, FX_RECEIPT_MAX_FILE);
    rc = fx_cli_positional(cli, argc, argv, opts, FX_ARRAY_LEN(opts), 1, 1, pos);
    if (rc != FX_EXIT_OK || cli->help)
        goto out;
    key_path = fx_args_get(opts, FX_ARRAY_LEN(opts), "key");
    record_path = fx_args_get(opts, FX_ARRAY_LEN(opts), "record");
    if (key_path == NULL || key_path[0] == '\0') {
        rc = fx_args_usage_error(cli, "--key KEYFILE is required: the log's verifier key");
        goto out;
    }
    if (record_path != NULL && record_path[0] == '\0') {
        rc = fx_args_usage_error(cli, "--record needs a file name");
        goto out;
    }
    if (record_path != NULL && strcmp(record_path, "-") == 0 && strcmp(pos[0], "-") == 0) {
        rc = fx_args_usage_error(cli, "the receipt and the record cannot both be standard input");
        goto out;
    }
    rc = fx_cmd_verify_read_key(key_path, &vk);
    if (rc != FX_EXIT_OK)
        goto out;
    rc = fx_cmd_verify_read_file(pos[0], "the receipt", FX_RECEIPT_MAX_FILE, &file);
    if (rc != FX_EXIT_OK)
        goto out;

    r = fx_xmalloc(sizeof(*r));
    err = fx_receipt_parse(file.p ? file.p : "", file.len, r, why, sizeof(why));
    if (err != FX_OK) {
        rc = failed("receipt", "%s", why);
        goto out;
    }
    err = fx_receipt_verify(r, &vk, &cp, &part);
    if (err != FX_OK && part == FX_RECEIPT_PART_CHECKPOINT) {
        rc = failed(err == FX_ECRYPTO ? "checkpoint signature" : "checkpoint", "%s (key %s)",
                    err == FX_ECRYPTO
                        ? "the checkpoint carries no valid signature by this key"
                        : "the checkpoint is not a well-formed signed note of this log",
                    vk.name);
        goto out;
    }
    if (err != FX_OK) {
        rc = failed("inclusion proof",
                    err == FX_EINVAL
                        ? "leaf %llu cannot be in the tree of %llu leaves the checkpoint signs"
                        : "the path does not lead from leaf %llu to the root of the tree of "
                          "%llu leaves the checkpoint signs",
                    (unsigned long long)r->leaf_index, (unsigned long long)cp.size);
        goto out;
    }
    err = fx_receipt_parse_leaf(r->leaf, r->leaf_len, &leaf, why, sizeof(why));
    if (err != FX_OK) {
        rc = failed("leaf", "%s", why);
        goto out;
    }
    if (record_path != NULL) {
        rc = hash_file(record_path, digest);
        if (rc != FX_EXIT_OK)
            goto out;
        if (memcmp(digest, leaf.content_sha256, sizeof(digest)) != 0) {
            char hex[2 * sizeof(digest) + 1];
            sodium_bin2hex(hex, sizeof(hex), digest, sizeof(digest));
            rc = failed(
                "record", "the SHA-256 of %s is %s, but the leaf names %s (%s version %lld)",
                record_path, hex, leaf.content_sha256_hex, leaf.record_id, (long long)leaf.version);
            goto out;
        }
    }
    print_result(cli, &cp, r, &leaf, record_path);
out:
    free(r);
    fx_buf_cleanup(&file);
    return rc;
}
