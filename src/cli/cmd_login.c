/*
 * cmd_login.c: "fx login", which checks a token against the server and saves
 * it with the server's URL in the config file (config.c), so that later runs
 * need neither --url/--token nor the environment. The token never appears
 * on stdout or stderr.
 */
#include "cli/cli_int.h"

#include <sodium.h>
#include <string.h>
#include <unistd.h>

static const char usage[] =
    "usage: fx login [--url URL] --token TOKEN [--no-verify]\n"
    "\n"
    "Checks the token against the server (GET /api/v1/me), then saves the URL and\n"
    "the token in the config file ($FX_CONFIG, else $XDG_CONFIG_HOME/fx/config,\n"
    "else ~/.config/fx/config), mode 0600. Later runs use them unless --url/--token\n"
    "or $FX_URL/$FX_TOKEN say otherwise.\n"
    "\n"
    "  --url URL     the server (else $FX_URL, else the config file's, else\n"
    "                " FX_CLI_DEFAULT_URL ")\n"
    "  --token TOKEN the API token (else $FX_TOKEN); '-' reads it from standard input,\n"
    "                which keeps it out of the shell history and the process list\n"
    "  --no-verify   save without asking the server\n";

/* Reads one line from stdin (the token), without its line break, into *out (owned). */
static enum fx_err read_token_line(char **out)
{
    enum fx_err err = FX_OK;
    struct fx_buf b;
    size_t n;

    *out = NULL;
    fx_buf_init(&b, 64 * 1024);
    err = fx_cli_read_fd(STDIN_FILENO, 64 * 1024, &b);
    if (err != FX_OK)
        goto out;
    n = b.p ? strcspn(b.p, "\r\n") : 0;
    *out = fx_xstrndup(b.p ? b.p : "", n);
out:
    if (b.p != NULL)
        sodium_memzero(b.p, b.len);
    fx_buf_cleanup(&b);
    return err;
}

int fx_cmd_login_run(struct fx_cli *cli, int argc, char **argv)
{
    int rc = FX_EXIT_OK;
    struct fx_opt opts[] = {{"no-verify", false, NULL}};
    const char *pos[FX_CLI_MAX_POS];
    char *stdin_token = NULL;
    char *path = NULL;
    char *cfg_url = NULL, *cfg_token = NULL; /* the config file's, as it was */
    json_t *me = NULL;
    const char *env;

    cli->usage = usage;
    rc = fx_cli_positional(cli, argc, argv, opts, FX_ARRAY_LEN(opts), 0, 0, pos);
    if (rc != FX_EXIT_OK || cli->help)
        goto out;
    if (cli->token_opt != NULL && strcmp(cli->token_opt, "-") == 0) {
        if (read_token_line(&stdin_token) != FX_OK) {
            fputs("fx: cannot read the token from standard input\n", stderr);
            rc = FX_EXIT_LOCAL;
            goto out;
        }
        cli->token_opt = stdin_token;
    }
    env = getenv("FX_TOKEN");
    if (cli->token_opt == NULL && env != NULL && env[0] != '\0')
        cli->token_opt = env;
    if (cli->token_opt == NULL) {
        rc = fx_args_usage_error(cli, "--token is required");
        goto out;
    }
    path = fx_config_path();
    if (path == NULL) {
        fputs("fx: no config file path: set $FX_CONFIG or $HOME\n", stderr);
        rc = FX_EXIT_LOCAL;
        goto out;
    }
    /* the URL as every command finds it (CLI.md): --url, $FX_URL, the config file's,
     * the default; a config file that cannot be read is about to be replaced */
    env = getenv("FX_URL");
    if (cli->url_opt == NULL && env != NULL && env[0] != '\0')
        cli->url_opt = env;
    if (cli->url_opt == NULL && fx_config_load(path, &cfg_url, &cfg_token) == FX_OK)
        cli->url_opt = cfg_url;
    if (cli->url_opt == NULL)
        cli->url_opt = FX_CLI_DEFAULT_URL;
    if (fx_args_get(opts, FX_ARRAY_LEN(opts), "no-verify") == NULL) {
        rc = fx_cli_get(cli, "/api/v1/me", &me);
        if (rc != FX_EXIT_OK)
            goto out;
    } else {
        /* Still check the URL and the token's form, as a real request would. */
        char *url = NULL;
        char *token = NULL;
        struct fx_client c;
        rc = fx_cli_resolve(cli, &url, &token);
        if (rc == FX_EXIT_OK) {
            enum fx_err err = fx_client_init(&c, url, token);
            fx_client_cleanup(&c);
            if (err != FX_OK)
                rc = fx_args_usage_error(cli, "the token is not a valid API token");
        }
        free(url);
        if (token != NULL)
            sodium_memzero(token, strlen(token));
        free(token);
        if (rc != FX_EXIT_OK)
            goto out;
    }
    if (fx_config_save(path, cli->url_opt, cli->token_opt) != FX_OK) {
        rc = FX_EXIT_LOCAL;
        goto out;
    }
    if (cli->json) {
        if (me != NULL)
            fx_cli_print_json(me);
    } else {
        const json_t *user = json_object_get(me, "user");
        const json_t *org = json_object_get(me, "org");
        char *u = fx_output_value(json_object_get(user, "email"));
        char *o = fx_output_value(json_object_get(org, "name"));
        char *url = fx_output_clean(cli->url_opt, false);
        char *p = fx_output_clean(path, false);
        if (me != NULL)
            printf("Logged in to %s as %s (%s).\n", url, u, o);
        printf("Saved the server URL and token in %s.\n", p);
        free(u);
        free(o);
        free(url);
        free(p);
    }
out:
    json_decref(me);
    free(path);
    free(cfg_url);
    if (cfg_token != NULL)
        sodium_memzero(cfg_token, strlen(cfg_token));
    free(cfg_token);
    if (stdin_token != NULL)
        sodium_memzero(stdin_token, strlen(stdin_token));
    free(stdin_token);
    return rc;
}
