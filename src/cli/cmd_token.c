/*
 * cmd_token.c: "fx token create|list|revoke", API tokens (docs/API.md,
 * Tokens). The server shows a new token once; fx prints it once, on stdout
 * only, and never writes it anywhere else.
 */
#include "cli/cli_int.h"

#include "common/limits.h"
#include "common/parse.h"

#include <string.h>

static const char group_usage[] = "usage: fx token COMMAND [arguments]\n"
                                  "\n"
                                  "API tokens (Authorization: Bearer fx_...).\n";

static const char create_usage[] =
    "usage: fx token create USER_ID [--name NAME] [--expires-in-days DAYS]\n"
    "\n"
    "Creates a token for a user (the user, an admin of their org, or a coordinator\n"
    "admin). The token is printed once: the server keeps only its hash.\n"
    "\n"
    "  --name NAME             a label, e.g. the machine that will use it\n"
    "  --expires-in-days DAYS  1 to 366 (the server's default is 90)\n";

static const char list_usage[] = "usage: fx token list USER_ID [--limit N] [--cursor C] [--all]\n"
                                 "\n"
                                 "Lists a user's tokens (never the secrets).\n"
                                 "\n" FX_CLI_LIST_HELP;

static const char revoke_usage[] = "usage: fx token revoke TOKEN_ID\n"
                                   "\n"
                                   "Revokes a token at once: requests carrying it answer 401.\n";

static int run_create(struct fx_cli *cli, int argc, char **argv)
{
    int rc = FX_EXIT_OK;
    struct fx_opt opts[] = {{"name", true, NULL}, {"expires-in-days", true, NULL}};
    json_t *body = NULL;
    json_t *tok = NULL;
    struct fx_buf path;
    const char *name, *days;
    int64_t n = 0;

    fx_buf_init(&path, 64 * 1024);
    rc = fx_cli_parse_record(cli, argc, argv, opts, FX_ARRAY_LEN(opts), "/api/v1/users", "/tokens",
                             "id", &path);
    if (rc != FX_EXIT_OK || cli->help)
        goto out;
    name = fx_args_get(opts, FX_ARRAY_LEN(opts), "name");
    days = fx_args_get(opts, FX_ARRAY_LEN(opts), "expires-in-days");
    if (days != NULL && fx_parse_i64(days, strlen(days), 1, FX_MAX_TOKEN_DAYS, &n) != FX_OK) {
        rc = fx_args_usage_error(cli, "--expires-in-days must be an integer from 1 to %d",
                                 FX_MAX_TOKEN_DAYS);
        goto out;
    }
    body = json_object();
    if (body == NULL)
        fx_die("out of memory");
    if (name != NULL)
        json_object_set_new(body, "name", json_string(name));
    if (days != NULL)
        json_object_set_new(body, "expires_in_days", json_integer(n));
    rc = fx_cli_post(cli, path.p, body, &tok);
    if (rc != FX_EXIT_OK)
        goto out;
    if (cli->json) {
        fx_cli_print_json(tok);
    } else {
        struct fx_table t;
        fx_table_init(&t, 2);
        fx_table_kv(&t, "id", tok, "id");
        fx_table_kv(&t, "token", tok, "token");
        fx_table_kv(&t, "user_id", tok, "user_id");
        fx_table_kv(&t, "name", tok, "name");
        fx_table_kv(&t, "created_at", tok, "created_at");
        fx_table_kv(&t, "expires_at", tok, "expires_at");
        const json_t *note = json_object_get(tok, "note");
        if (json_is_string(note))
            fx_table_kv(&t, "note", tok, "note");
        fx_table_print(&t, stdout);
        fx_table_cleanup(&t);
        /* a replayed creation (--idempotency-key) carries no secret, and a note saying so */
        if (json_is_string(json_object_get(tok, "token")))
            fputs("fx: keep the token now: the server will not show it again\n", stderr);
    }
out:
    json_decref(tok);
    json_decref(body);
    fx_buf_cleanup(&path);
    return rc;
}

static int run_list(struct fx_cli *cli, int argc, char **argv)
{
    struct fx_opt opts[] = {FX_CLI_LIST_OPTS};
    static const struct fx_table_col cols[] = {{"ID", "id", NULL},
                                               {"NAME", "name", NULL},
                                               {"CREATED", "created_at", NULL},
                                               {"EXPIRES", "expires_at", NULL},
                                               {"REVOKED", "revoked_at", NULL}};
    struct fx_buf path;
    int rc;

    fx_buf_init(&path, 64 * 1024);
    rc = fx_cli_parse_record(cli, argc, argv, opts, FX_ARRAY_LEN(opts), "/api/v1/users", "/tokens",
                             "id", &path);
    if (rc == FX_EXIT_OK && !cli->help)
        rc = fx_cli_list_print(cli, path.p, opts, FX_ARRAY_LEN(opts), cols, FX_ARRAY_LEN(cols));
    fx_buf_cleanup(&path);
    return rc;
}

static int run_revoke(struct fx_cli *cli, int argc, char **argv)
{
    int rc = FX_EXIT_OK;
    struct fx_buf path;
    struct fx_response resp;
    struct fx_request rq = {"DELETE", NULL, NULL, 0, NULL, NULL};
    const char *pos[FX_CLI_MAX_POS];

    fx_buf_init(&path, 64 * 1024);
    fx_client_response_init(&resp);
    rc = fx_cli_positional(cli, argc, argv, NULL, 0, 1, 1, pos);
    if (rc != FX_EXIT_OK || cli->help)
        goto out;
    if (fx_cli_path(&path, "/api/v1/tokens", pos[0], NULL) != FX_OK) {
        rc = fx_args_usage_error(cli, "the id is too long");
        goto out;
    }
    rq.path = path.p;
    rc = fx_cli_call(cli, &rq, &resp, NULL);
    if (rc != FX_EXIT_OK)
        goto out;
    if (!cli->json) {
        char *id = fx_output_clean(pos[0], false);
        printf("Revoked token %s.\n", id);
        free(id);
    }
out:
    fx_client_response_cleanup(&resp);
    fx_buf_cleanup(&path);
    return rc;
}

static const struct fx_cmd commands[] = {
    {"create", run_create, "create a token for a user (shown once)", create_usage},
    {"list", run_list, "list a user's tokens", list_usage},
    {"revoke", run_revoke, "revoke a token", revoke_usage},
};

int fx_cmd_token_run(struct fx_cli *cli, int argc, char **argv)
{
    return fx_args_dispatch(cli, "token", group_usage, commands, FX_ARRAY_LEN(commands), argc,
                            argv);
}
