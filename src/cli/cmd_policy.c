/*
 * cmd_policy.c: "fx policy show|check|apply" (SPEC §4; docs/API.md, Policy).
 * The policy file goes to the server exactly as it is on disk: the server
 * judges it and lists every problem of a bad one (fx does not parse it first,
 * so its answer is the server's, whatever the file holds).
 */
#include "cli/cli_int.h"

#include "common/limits.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

static const char group_usage[] = "usage: fx policy COMMAND [arguments]\n"
                                  "\n"
                                  "The coverage policy: the figures and rules notices are "
                                  "screened by.\n";

static const char show_usage[] = "usage: fx policy show\n"
                                 "\n"
                                 "Shows the active policy: its name, its SHA-256 and the "
                                 "document.\n";

static const char check_usage[] =
    "usage: fx policy check FILE\n"
    "\n"
    "A dry run (coordinator reviewers and admins): lists every open notice whose\n"
    "screening or short-notice flag the policy in FILE ('-': standard input) would\n"
    "change, old and new. Nothing changes.\n";

static const char apply_usage[] =
    "usage: fx policy apply FILE [--if-match ETAG]\n"
    "\n"
    "Makes the policy in FILE the active one (coordinator admins): every open notice\n"
    "is re-screened in the same transaction. A bad policy is refused whole.\n"
    "\n"
    "  --if-match ETAG  apply only if the active policy is still this one: its ETag is\n"
    "                   the \"sha256\" that 'fx policy show --json' reports, in double\n"
    "                   quotes: --if-match '\"SHA256\"'\n";

/* Reads FILE ('-' for stdin) as it is, at most the server's body limit. */
static int read_file(const char *path, struct fx_buf *out)
{
    bool is_stdin = strcmp(path, "-") == 0;
    int fd = is_stdin ? STDIN_FILENO : open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        fprintf(stderr, "fx: cannot open %s: %s\n", path, strerror(errno));
        return FX_EXIT_LOCAL;
    }
    enum fx_err err = fx_cli_read_fd(fd, FX_MAX_BODY, out);
    if (!is_stdin)
        close(fd);
    if (err == FX_ETOOBIG)
        fprintf(stderr, "fx: %s is larger than the server accepts (%d bytes)\n", path,
                FX_MAX_BODY);
    else if (err != FX_OK)
        fprintf(stderr, "fx: cannot read %s: %s\n", path, strerror(errno));
    return err == FX_OK ? FX_EXIT_OK : FX_EXIT_LOCAL;
}

static void print_ref(const char *label, const json_t *ref)
{
    char *name = fx_output_value(json_object_get(ref, "name"));
    char *sha = fx_output_value(json_object_get(ref, "sha256"));
    printf("%-10s %s (sha256 %s)\n", label, name, sha);
    free(name);
    free(sha);
}

static void print_changes(const json_t *o, bool applied)
{
    print_ref("policy:", json_object_get(o, "policy"));
    print_ref(applied ? "previous:" : "active:",
              json_object_get(o, applied ? "previous" : "active"));
    if (json_is_true(json_object_get(o, "unchanged"))) {
        puts("it is the active policy: nothing changes");
        return;
    }
    printf("%lld open notices screened, %lld %s\n",
           (long long)json_integer_value(json_object_get(o, "examined")),
           (long long)json_integer_value(json_object_get(o, "changed")),
           applied ? "changed" : "would change");
    const json_t *changes = json_object_get(o, "changes");
    if (json_array_size(changes) == 0)
        return;
    struct fx_table t;
    fx_table_init(&t, 5);
    fx_table_add(&t, "NOTICE");
    fx_table_add(&t, "SCREENING");
    fx_table_add(&t, "NOW");
    fx_table_add(&t, "SHORT NOTICE");
    fx_table_add(&t, "NOW");
    size_t i;
    json_t *c;
    json_array_foreach(changes, i, c)
    {
        const json_t *s = json_object_get(c, "screening"), *sn = json_object_get(c, "short_notice");
        fx_table_add_field(&t, c, "ref");
        fx_table_add_field(&t, s, "from");
        fx_table_add_field(&t, s, "to");
        fx_table_add_field(&t, sn, "from");
        fx_table_add_field(&t, sn, "to");
    }
    fx_table_print(&t, stdout);
    fx_table_cleanup(&t);
}

static int run_show(struct fx_cli *cli, int argc, char **argv)
{
    const char *pos[FX_CLI_MAX_POS] = {NULL};
    json_t *pol = NULL;
    int rc = fx_cli_positional(cli, argc, argv, NULL, 0, 0, 0, pos);
    if (rc != FX_EXIT_OK || cli->help)
        return rc;
    rc = fx_cli_get(cli, "/api/v1/policy", &pol);
    if (rc == FX_EXIT_OK && cli->json) {
        fx_cli_print_json(pol);
    } else if (rc == FX_EXIT_OK) {
        print_ref("policy:", pol);
        char *doc = json_dumps(json_object_get(pol, "document"),
                               JSON_INDENT(2) | JSON_REAL_PRECISION(15));
        char *clean = fx_output_clean(doc ? doc : "", true);
        printf("%s\n", clean);
        free(clean);
        free(doc);
    }
    json_decref(pol);
    return rc;
}

/* POST /policy/check or PUT /policy with FILE as the body. */
static int send_file(struct fx_cli *cli, int argc, char **argv, bool apply)
{
    struct fx_opt opts[] = {{"if-match", true, NULL}};
    const char *pos[FX_CLI_MAX_POS] = {NULL};
    struct fx_buf body;
    struct fx_response resp;
    json_t *out = NULL;
    int rc;
    fx_buf_init(&body, FX_MAX_BODY + 1);
    fx_client_response_init(&resp);
    rc = fx_cli_positional(cli, argc, argv, opts, apply ? 1 : 0, 1, 1, pos);
    if (rc != FX_EXIT_OK || cli->help)
        goto out;
    rc = read_file(pos[0], &body);
    if (rc != FX_EXIT_OK)
        goto out;
    struct fx_request rq = {.method = apply ? "PUT" : "POST",
                            .path = apply ? "/api/v1/policy" : "/api/v1/policy/check",
                            .body = body.p ? body.p : "", .body_len = body.len,
                            .if_match = apply ? fx_args_get(opts, 1, "if-match") : NULL};
    rc = fx_cli_call(cli, &rq, &resp, &out);
    if (rc == FX_EXIT_OK && out == NULL) {
        fprintf(stderr, "fx: the answer from %s is empty\n", cli->url);
        rc = FX_EXIT_SERVER;
    }
    if (rc != FX_EXIT_OK)
        goto out;
    if (cli->json)
        fx_cli_print_json(out);
    else
        print_changes(out, apply);
out:
    json_decref(out);
    fx_client_response_cleanup(&resp);
    fx_buf_cleanup(&body);
    return rc;
}

static int run_check(struct fx_cli *cli, int argc, char **argv)
{
    return send_file(cli, argc, argv, false);
}

static int run_apply(struct fx_cli *cli, int argc, char **argv)
{
    return send_file(cli, argc, argv, true);
}

static const struct fx_cmd commands[] = {
    {"show", run_show, "show the active policy", show_usage},
    {"check", run_check, "what a policy would change (dry run)", check_usage},
    {"apply", run_apply, "make a policy the active one", apply_usage},
};

int fx_cmd_policy_run(struct fx_cli *cli, int argc, char **argv)
{
    return fx_args_dispatch(cli, "policy", group_usage, commands, FX_ARRAY_LEN(commands), argc,
                            argv);
}
