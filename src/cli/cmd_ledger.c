/*
 * cmd_ledger.c: "fx ledger", the transparency log's public endpoints (SPEC
 * §9, GET /api/v1/ledger/...): the verifier key, the signed checkpoint, an
 * entry, proofs, and "fx ledger watch", which does what a witness does: it
 * verifies the latest checkpoint with the log's key, verifies that it extends
 * the last one it kept (RFC 9162 consistency proof), and only then keeps the
 * new one. A log that shrank, changed its root at the same size, or cannot
 * prove the new tree extends the old one has rewritten its history: watch
 * says so loudly and exits 6 (FX_EXIT_VERIFY), keeping the old checkpoint and
 * saving the server's beside it as evidence.
 *
 * The state file holds the last checkpoint exactly as the server signed it,
 * so it proves itself: it is verified with the key on every run.
 */
#include "cli/cli_int.h"

#include "common/parse.h"
#include "ledger/ledger.h"

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define STATE_NAME "ledger-state"

static const char group_usage[] =
    "usage: fx ledger COMMAND [arguments]\n"
    "\n"
    "The transparency log (public: no token needed): its key, checkpoints, entries\n"
    "and proofs, and 'watch', which checks that the log never rewrites its history.\n";

static const char key_usage[] =
    "usage: fx ledger key\n"
    "\n"
    "Prints the log's verifier key (GET /api/v1/ledger/key), the line\n"
    "'fx verify --key' and 'fx ledger watch --key' read. Fetch it once\n"
    "and keep it: a key fetched from the server it checks proves "
    "little.\n";

static const char checkpoint_usage[] =
    "usage: fx ledger checkpoint [--key KEYFILE]\n"
    "\n"
    "Prints the log's latest signed checkpoint (GET /api/v1/ledger/checkpoint).\n"
    "With --key, verifies its signature first (exit 6 when it does not verify).\n"
    "\n"
    "  --key KEYFILE    the log's verifier key\n";

static const char entry_usage[] = "usage: fx ledger entry N\n"
                                  "\n"
                                  "Prints leaf N of the log (GET /api/v1/ledger/entries/N): the "
                                  "exact leaf\nbytes, a JSON object, then a newline.\n";

static const char proof_usage[] =
    "usage: fx ledger proof inclusion INDEX SIZE\n"
    "       fx ledger proof consistency FROM TO\n"
    "\n"
    "Prints a proof as the server gives it (RFC 9162): that leaf INDEX is in the\n"
    "tree of SIZE leaves, or that the tree of TO leaves extends that of FROM.\n";

static const char watch_usage[] =
    "usage: fx ledger watch --key KEYFILE [--state FILE]\n"
    "\n"
    "Fetches the latest checkpoint, verifies its signature with KEYFILE, verifies\n"
    "that it extends the checkpoint kept from the last run (a consistency proof),\n"
    "then keeps it. The first run only verifies and keeps. Exits 6, loudly, when\n"
    "the log's history was rewritten: a checkpoint that does not verify, a tree\n"
    "that shrank, another root at the same size, or a failed consistency proof.\n"
    "The kept checkpoint is then left alone and the server's is saved in\n"
    "FILE.rejected. Run it from cron; one state file per log.\n"
    "\n"
    "  --key KEYFILE    the log's verifier key\n"
    "  --state FILE     where the last checkpoint is kept (default: ledger-state\n"
    "                   beside the config file, ~/.config/fx/ledger-state)\n";

/* GETs path; the raw answer body in out (2xx only). Exit status as fx_cli_call(). */
static int get_raw(struct fx_cli *cli, const char *path, struct fx_buf *out)
{
    struct fx_request rq = {"GET", path, NULL, 0, NULL, NULL};
    struct fx_response resp;
    int rc;

    fx_client_response_init(&resp);
    rc = fx_cli_call(cli, &rq, &resp, NULL);
    if (rc == FX_EXIT_OK &&
        fx_buf_add(out, resp.body.p ? resp.body.p : "", resp.body.len) != FX_OK) {
        fprintf(stderr, "fx: the answer from %s is too large\n", cli->url);
        rc = FX_EXIT_SERVER;
    }
    fx_client_response_cleanup(&resp);
    return rc;
}

/* A non-negative decimal argument; FX_EXIT_USAGE (said) when it is not one. */
static int number_arg(struct fx_cli *cli, const char *s, const char *what, uint64_t *out)
{
    int64_t v;
    if (fx_parse_i64(s, strlen(s), 0, INT64_MAX, &v) != FX_OK)
        return fx_args_usage_error(cli, "%s must be a non-negative integer", what);
    *out = (uint64_t)v;
    return FX_EXIT_OK;
}

static void b64(const unsigned char *p, size_t n, char *out, size_t cap)
{
    sodium_bin2base64(out, cap, p, n, sodium_base64_VARIANT_ORIGINAL);
}

/* ------------------------------------------------------------------ key, checkpoint, entry */

static int run_key(struct fx_cli *cli, int argc, char **argv)
{
    int rc;
    const char *pos[FX_CLI_MAX_POS];
    struct fx_buf body;
    struct fx_checkpoint_vkey vk;
    size_t len;

    fx_buf_init(&body, 4096);
    rc = fx_cli_positional(cli, argc, argv, NULL, 0, 0, 0, pos);
    if (rc != FX_EXIT_OK || cli->help)
        goto out;
    rc = get_raw(cli, "/api/v1/ledger/key", &body);
    if (rc != FX_EXIT_OK)
        goto out;
    len = body.len > 0 && body.p[body.len - 1] == '\n' ? body.len - 1 : body.len;
    if (len == 0 || fx_checkpoint_parse_vkey(body.p, len, &vk) != FX_OK) {
        fprintf(stderr, "fx: the server's answer is not a verifier key\n");
        rc = FX_EXIT_SERVER;
        goto out;
    }
    if (cli->json) {
        json_t *j = json_pack("{s:s%,s:s}", "key", body.p, len, "name", vk.name);
        if (j == NULL)
            fx_die("out of memory");
        fx_cli_print_json(j);
        json_decref(j);
    } else {
        printf("%.*s\n", (int)len, body.p);
    }
out:
    fx_buf_cleanup(&body);
    return rc;
}

static int run_checkpoint(struct fx_cli *cli, int argc, char **argv)
{
    int rc;
    struct fx_opt opts[] = {{"key", true, NULL}};
    const char *pos[FX_CLI_MAX_POS];
    const char *key_path;
    struct fx_buf note;
    struct fx_checkpoint_vkey vk;
    struct fx_checkpoint cp;
    size_t body = 0;
    bool verified = false;
    char root[sodium_base64_ENCODED_LEN(FX_MERKLE_HASH, sodium_base64_VARIANT_ORIGINAL)];
    enum fx_err err;

    fx_buf_init(&note, FX_CHECKPOINT_MAX_NOTE);
    rc = fx_cli_positional(cli, argc, argv, opts, FX_ARRAY_LEN(opts), 0, 0, pos);
    if (rc != FX_EXIT_OK || cli->help)
        goto out;
    key_path = fx_args_get(opts, FX_ARRAY_LEN(opts), "key");
    if (key_path != NULL) {
        rc = fx_cmd_verify_read_key(key_path, &vk);
        if (rc != FX_EXIT_OK)
            goto out;
    }
    rc = get_raw(cli, "/api/v1/ledger/checkpoint", &note);
    if (rc != FX_EXIT_OK)
        goto out;
    if (key_path != NULL) {
        err = fx_checkpoint_verify(note.p, note.len, &vk, &cp);
        if (err != FX_OK) {
            fprintf(stderr, "fx ledger checkpoint: FAILED: the server's checkpoint %s (key %s)\n",
                    err == FX_ECRYPTO ? "carries no valid signature by this key"
                                      : "is not a well-formed signed note of this log",
                    vk.name);
            rc = FX_EXIT_VERIFY;
            goto out;
        }
        verified = true;
    } else {
        /* no key: read the body for --json and to check it is one, trusting nothing */
        const char *blank = note.p ? strstr(note.p, "\n\n") : NULL;
        body = blank ? (size_t)(blank - note.p) + 1 : 0;
        if (body == 0 || fx_checkpoint_parse(note.p, body, &cp) != FX_OK) {
            fprintf(stderr, "fx: the server's answer is not a checkpoint\n");
            rc = FX_EXIT_SERVER;
            goto out;
        }
    }
    if (cli->json) {
        b64(cp.root, sizeof(cp.root), root, sizeof(root));
        json_t *j = json_pack("{s:s,s:I,s:s,s:b,s:s%}", "origin", cp.origin, "tree_size",
                              (json_int_t)cp.size, "root", root, "verified", verified, "checkpoint",
                              note.p, note.len);
        if (j == NULL) { /* unverified, the signature lines may be anything */
            fprintf(stderr, "fx: the server's checkpoint is not UTF-8 text\n");
            rc = FX_EXIT_SERVER;
            goto out;
        }
        fx_cli_print_json(j);
        json_decref(j);
    } else {
        char *clean = fx_output_clean(note.p, true);
        fputs(clean, stdout);
        free(clean);
    }
out:
    fx_buf_cleanup(&note);
    return rc;
}

static int run_entry(struct fx_cli *cli, int argc, char **argv)
{
    int rc;
    const char *pos[FX_CLI_MAX_POS];
    uint64_t n = 0;
    struct fx_buf path;
    json_t *j = NULL;
    const char *leaf;
    unsigned char bytes[FX_RECEIPT_MAX_LEAF + 1];
    size_t blen = 0;

    fx_buf_init(&path, 256);
    rc = fx_cli_positional(cli, argc, argv, NULL, 0, 1, 1, pos);
    if (rc != FX_EXIT_OK || cli->help)
        goto out;
    rc = number_arg(cli, pos[0], "N", &n);
    if (rc != FX_EXIT_OK)
        goto out;
    if (fx_buf_printf(&path, "/api/v1/ledger/entries/%llu", (unsigned long long)n) != FX_OK) {
        rc = FX_EXIT_USAGE;
        goto out;
    }
    rc = fx_cli_get(cli, path.p, &j);
    if (rc != FX_EXIT_OK)
        goto out;
    if (cli->json) {
        fx_cli_print_json(j);
        goto out;
    }
    leaf = json_string_value(json_object_get(j, "leaf"));
    if (leaf == NULL ||
        !fx_receipt_b64_decode(leaf, strlen(leaf), bytes, sizeof(bytes) - 1, &blen)) {
        fprintf(stderr, "fx: the answer from %s has no leaf\n", cli->url);
        rc = FX_EXIT_SERVER;
        goto out;
    }
    bytes[blen] = '\0';
    {
        char *clean = fx_output_clean((const char *)bytes, false);
        printf("%s\n", clean);
        free(clean);
    }
out:
    json_decref(j);
    fx_buf_cleanup(&path);
    return rc;
}

/* ------------------------------------------------------------------ proofs */

static int run_proof_of(struct fx_cli *cli, int argc, char **argv, const char *what, const char *na,
                        const char *nb)
{
    int rc;
    const char *pos[FX_CLI_MAX_POS];
    uint64_t a = 0, b = 0;
    struct fx_buf path;
    json_t *j = NULL;

    fx_buf_init(&path, 256);
    rc = fx_cli_positional(cli, argc, argv, NULL, 0, 2, 2, pos);
    if (rc != FX_EXIT_OK || cli->help)
        goto out;
    rc = number_arg(cli, pos[0], what[0] == 'i' ? "INDEX" : "FROM", &a);
    if (rc == FX_EXIT_OK)
        rc = number_arg(cli, pos[1], what[0] == 'i' ? "SIZE" : "TO", &b);
    if (rc != FX_EXIT_OK)
        goto out;
    if (fx_buf_printf(&path, "/api/v1/ledger/proof/%s?%s=%llu&%s=%llu", what, na,
                      (unsigned long long)a, nb, (unsigned long long)b) != FX_OK) {
        rc = FX_EXIT_USAGE;
        goto out;
    }
    rc = fx_cli_get(cli, path.p, &j);
    if (rc == FX_EXIT_OK)
        fx_cli_print_json(j);
out:
    json_decref(j);
    fx_buf_cleanup(&path);
    return rc;
}

static int run_inclusion(struct fx_cli *cli, int argc, char **argv)
{
    return run_proof_of(cli, argc, argv, "inclusion", "index", "size");
}

static int run_consistency(struct fx_cli *cli, int argc, char **argv)
{
    return run_proof_of(cli, argc, argv, "consistency", "from", "to");
}

static const struct fx_cmd proof_commands[] = {
    {"inclusion", run_inclusion, "that leaf INDEX is in the tree of SIZE leaves", proof_usage},
    {"consistency", run_consistency, "that the tree of TO leaves extends that of FROM",
     proof_usage},
};

static int run_proof(struct fx_cli *cli, int argc, char **argv)
{
    return fx_args_dispatch(cli, "ledger proof", proof_usage, proof_commands,
                            FX_ARRAY_LEN(proof_commands), argc, argv);
}

/* ------------------------------------------------------------------ watch */

/* The default state file: ledger-state beside the config file. Owned; NULL without a home. */
static char *default_state_path(void)
{
    char *cfg = fx_config_path();
    char *slash = cfg ? strrchr(cfg, '/') : NULL;
    struct fx_buf b;
    char *out = NULL;

    fx_buf_init(&b, 64 * 1024);
    if (cfg == NULL)
        goto out;
    if (slash == NULL)
        slash = cfg - 1; /* "config" in the current directory */
    if (fx_buf_printf(&b, "%.*s%s", (int)(slash + 1 - cfg), cfg, STATE_NAME) == FX_OK)
        out = fx_buf_take(&b, NULL);
out:
    fx_buf_cleanup(&b);
    free(cfg);
    return out;
}

/* Creates the directories above path that are missing (mode 0700). */
static int make_parents(const char *path)
{
    int rc = FX_EXIT_OK;
    char *dir = fx_xstrdup(path);

    for (char *p = dir + 1; *p != '\0'; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
            fprintf(stderr, "fx: cannot create %s: %s\n", dir, strerror(errno));
            rc = FX_EXIT_LOCAL;
            goto out;
        }
        *p = '/';
    }
out:
    free(dir);
    return rc;
}

/* Writes (p, len) to path through a temporary file, fsync and rename: never half written. */
static int write_file(const char *path, const char *p, size_t len)
{
    int rc = FX_EXIT_OK;
    struct fx_buf tmp;
    int fd = -1;
    bool created = false;

    fx_buf_init(&tmp, 64 * 1024);
    rc = make_parents(path);
    if (rc != FX_EXIT_OK)
        goto out;
    if (fx_buf_printf(&tmp, "%s.XXXXXX", path) != FX_OK) {
        fprintf(stderr, "fx: the path %s is too long\n", path);
        rc = FX_EXIT_LOCAL;
        goto out;
    }
    fd = mkstemp(tmp.p);
    if (fd < 0)
        goto fail;
    created = true;
    if (fchmod(fd, 0644) != 0)
        goto fail;
    while (len > 0) {
        ssize_t n = write(fd, p, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            goto fail;
        p += n;
        len -= (size_t)n;
    }
    if (fsync(fd) != 0)
        goto fail;
    if (close(fd) != 0) {
        fd = -1;
        goto fail;
    }
    fd = -1;
    if (rename(tmp.p, path) != 0)
        goto fail;
    created = false;
    goto out;
fail:
    fprintf(stderr, "fx: cannot write %s: %s\n", path, strerror(errno));
    rc = FX_EXIT_LOCAL;
out:
    if (fd >= 0)
        close(fd);
    if (created)
        unlink(tmp.p);
    fx_buf_cleanup(&tmp);
    return rc;
}

/*
 * Loads the kept checkpoint from path into note and *cp, verified with vk.
 * *have is false when there is no state file yet. FX_EXIT_LOCAL (said) when
 * it cannot be read or does not verify: a state file of another log, or one
 * edited by hand, is not something to compare against.
 */
static int load_state(const char *path, const struct fx_checkpoint_vkey *vk, struct fx_buf *note,
                      struct fx_checkpoint *cp, bool *have)
{
    int rc;

    *have = false;
    if (access(path, F_OK) != 0 && errno == ENOENT)
        return FX_EXIT_OK;
    rc = fx_cmd_verify_read_file(path, "the state file", FX_CHECKPOINT_MAX_NOTE, note);
    if (rc != FX_EXIT_OK)
        return rc;
    if (fx_checkpoint_verify(note->p ? note->p : "", note->len, vk, cp) != FX_OK) {
        fprintf(stderr,
                "fx: the state file %s does not hold a checkpoint signed by this key (%s);\n"
                "    it belongs to another log or was changed. Move it away to start afresh.\n",
                path, vk->name);
        return FX_EXIT_LOCAL;
    }
    *have = true;
    return FX_EXIT_OK;
}

/* Fetches and checks the consistency proof between two verified checkpoints. */
static int check_consistency(struct fx_cli *cli, const struct fx_checkpoint *old,
                             const struct fx_checkpoint *now, bool *consistent)
{
    int rc;
    struct fx_buf path;
    json_t *j = NULL, *arr;
    struct fx_merkle_proof *proof = fx_xmalloc(sizeof(*proof));
    size_t i;

    *consistent = false;
    fx_buf_init(&path, 256);
    if (fx_buf_printf(&path, "/api/v1/ledger/proof/consistency?from=%llu&to=%llu",
                      (unsigned long long)old->size, (unsigned long long)now->size) != FX_OK) {
        rc = FX_EXIT_USAGE;
        goto out;
    }
    rc = fx_cli_get(cli, path.p, &j);
    if (rc != FX_EXIT_OK)
        goto out;
    arr = json_object_get(j, "consistency_path");
    if (!json_is_integer(json_object_get(j, "first")) ||
        (uint64_t)json_integer_value(json_object_get(j, "first")) != old->size ||
        !json_is_integer(json_object_get(j, "second")) ||
        (uint64_t)json_integer_value(json_object_get(j, "second")) != now->size ||
        !json_is_array(arr) || json_array_size(arr) > FX_MERKLE_MAX_PROOF) {
        /* a server that cannot answer with the proof asked for gives no proof at all */
        goto out;
    }
    proof->n = json_array_size(arr);
    for (i = 0; i < proof->n; i++) {
        const char *h = json_string_value(json_array_get(arr, i));
        size_t hl = 0;
        if (h == NULL ||
            !fx_receipt_b64_decode(h, strlen(h), proof->hash[i], FX_MERKLE_HASH, &hl) ||
            hl != FX_MERKLE_HASH)
            goto out;
    }
    *consistent =
        fx_merkle_verify_consistency(old->size, now->size, old->root, now->root, proof) == FX_OK;
out:
    free(proof);
    json_decref(j);
    fx_buf_cleanup(&path);
    return rc;
}

/* The loud part: what was kept, what was served, where the evidence is. Returns 6. */
static int alert(const char *why, const char *state, const struct fx_checkpoint *old,
                 const struct fx_checkpoint *now, const struct fx_buf *served)
{
    char r1[sodium_base64_ENCODED_LEN(FX_MERKLE_HASH, sodium_base64_VARIANT_ORIGINAL)];
    char r2[sizeof(r1)];
    struct fx_buf ev;

    fprintf(stderr, "\nfx ledger watch: ALERT: THE LOG'S HISTORY WAS REWRITTEN\n");
    fprintf(stderr, "  %s\n", why);
    if (old != NULL) {
        b64(old->root, sizeof(old->root), r1, sizeof(r1));
        fprintf(stderr, "  kept:   %llu leaves, root %s (%s)\n", (unsigned long long)old->size, r1,
                state);
    }
    if (now != NULL) {
        b64(now->root, sizeof(now->root), r2, sizeof(r2));
        fprintf(stderr, "  served: %llu leaves, root %s\n", (unsigned long long)now->size, r2);
    }
    fx_buf_init(&ev, 64 * 1024);
    if (served->len > 0 && fx_buf_printf(&ev, "%s.rejected", state) == FX_OK &&
        write_file(ev.p, served->p, served->len) == FX_EXIT_OK)
        fprintf(stderr, "  the server's checkpoint is saved in %s as evidence\n", ev.p);
    fprintf(stderr, "  the kept checkpoint was left unchanged.\n\n");
    fx_buf_cleanup(&ev);
    return FX_EXIT_VERIFY;
}

static int run_watch(struct fx_cli *cli, int argc, char **argv)
{
    int rc;
    struct fx_opt opts[] = {{"key", true, NULL}, {"state", true, NULL}};
    const char *pos[FX_CLI_MAX_POS];
    const char *key_path, *state_opt;
    char *state = NULL;
    struct fx_checkpoint_vkey vk;
    struct fx_checkpoint old, now;
    struct fx_buf kept, served;
    bool have = false, consistent = false;
    char root[sodium_base64_ENCODED_LEN(FX_MERKLE_HASH, sodium_base64_VARIANT_ORIGINAL)];
    const char *verdict;
    enum fx_err err;

    fx_buf_init(&kept, FX_CHECKPOINT_MAX_NOTE);
    fx_buf_init(&served, FX_CHECKPOINT_MAX_NOTE);
    rc = fx_cli_positional(cli, argc, argv, opts, FX_ARRAY_LEN(opts), 0, 0, pos);
    if (rc != FX_EXIT_OK || cli->help)
        goto out;
    key_path = fx_args_get(opts, FX_ARRAY_LEN(opts), "key");
    state_opt = fx_args_get(opts, FX_ARRAY_LEN(opts), "state");
    if (key_path == NULL || key_path[0] == '\0') {
        rc = fx_args_usage_error(cli, "--key KEYFILE is required: the log's verifier key");
        goto out;
    }
    if (state_opt != NULL && state_opt[0] == '\0') {
        rc = fx_args_usage_error(cli, "--state needs a file name");
        goto out;
    }
    state = state_opt ? fx_xstrdup(state_opt) : default_state_path();
    if (state == NULL) {
        rc = fx_args_usage_error(cli, "no home directory: name the state file with --state");
        goto out;
    }
    rc = fx_cmd_verify_read_key(key_path, &vk);
    if (rc != FX_EXIT_OK)
        goto out;
    rc = load_state(state, &vk, &kept, &old, &have);
    if (rc != FX_EXIT_OK)
        goto out;
    rc = get_raw(cli, "/api/v1/ledger/checkpoint", &served);
    if (rc != FX_EXIT_OK)
        goto out;
    err = fx_checkpoint_verify(served.p ? served.p : "", served.len, &vk, &now);
    if (err != FX_OK) {
        rc = alert(err == FX_ECRYPTO
                       ? "the server's checkpoint carries no valid signature by the log's key"
                       : "the server's checkpoint is not a well-formed signed note of this log",
                   state, have ? &old : NULL, NULL, &served);
        goto out;
    }
    if (!have) {
        verdict = "first checkpoint, verified and kept";
    } else if (now.size < old.size) {
        rc = alert("the log shrank: it served fewer leaves than it had signed before", state, &old,
                   &now, &served);
        goto out;
    } else if (now.size == old.size) {
        if (sodium_memcmp(now.root, old.root, FX_MERKLE_HASH) != 0) {
            rc = alert("the same number of leaves under another root: leaves were changed", state,
                       &old, &now, &served);
            goto out;
        }
        verdict = "unchanged";
    } else if (old.size == 0) {
        verdict = "consistent (the kept tree was empty)";
    } else {
        rc = check_consistency(cli, &old, &now, &consistent);
        if (rc != FX_EXIT_OK)
            goto out;
        if (!consistent) {
            rc = alert("the new tree does not extend the kept one: the consistency proof "
                       "fails",
                       state, &old, &now, &served);
            goto out;
        }
        verdict = "consistent with the kept checkpoint";
    }
    if (!have || now.size != old.size) {
        rc = write_file(state, served.p, served.len);
        if (rc != FX_EXIT_OK)
            goto out;
    }
    b64(now.root, sizeof(now.root), root, sizeof(root));
    if (cli->json) {
        json_t *j = json_pack("{s:s,s:s,s:I,s:I,s:s,s:s}", "verdict", verdict, "origin", now.origin,
                              "previous_size", (json_int_t)(have ? old.size : 0), "tree_size",
                              (json_int_t)now.size, "root", root, "state", state);
        if (j == NULL)
            fx_die("out of memory");
        fx_cli_print_json(j);
        json_decref(j);
    } else if (have && now.size != old.size) {
        printf("%s: %s grew from %llu to %llu leaves, root %s\n", verdict, now.origin,
               (unsigned long long)old.size, (unsigned long long)now.size, root);
    } else {
        printf("%s: %s has %llu leaves, root %s\n", verdict, now.origin,
               (unsigned long long)now.size, root);
    }
out:
    fx_buf_cleanup(&kept);
    fx_buf_cleanup(&served);
    free(state);
    return rc;
}

static const struct fx_cmd commands[] = {
    {"key", run_key, "print the log's verifier key", key_usage},
    {"checkpoint", run_checkpoint, "print (and with --key verify) the latest checkpoint",
     checkpoint_usage},
    {"entry", run_entry, "print one leaf", entry_usage},
    {"proof", run_proof, "print an inclusion or a consistency proof", NULL},
    {"watch", run_watch, "verify the log only ever grows, as a witness does", watch_usage},
};

int fx_cmd_ledger_run(struct fx_cli *cli, int argc, char **argv)
{
    cli->anonymous = true; /* CLI.md: public endpoints, no token is sent or needed */
    return fx_args_dispatch(cli, "ledger", group_usage, commands, FX_ARRAY_LEN(commands), argc,
                            argv);
}
