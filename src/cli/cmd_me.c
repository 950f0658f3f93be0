/*
 * cmd_me.c: "fx me", who the token belongs to (GET /api/v1/me).
 */
#include "cli/cli_int.h"

static const char usage[] = "usage: fx me\n"
                            "\n"
                            "Shows the user the token belongs to, their role and their "
                            "organization.\n";

/* Prints the answer of GET /api/v1/me as "key: value" lines. */
static void print_me(const json_t *me)
{
    const json_t *user = json_object_get(me, "user");
    const json_t *org = json_object_get(me, "org");
    struct fx_table t;

    fx_table_init(&t, 2);
    fx_table_kv(&t, "user", user, "id");
    fx_table_kv(&t, "email", user, "email");
    fx_table_kv(&t, "name", user, "name");
    fx_table_kv(&t, "role", user, "role");
    fx_table_kv(&t, "org", org, "id");
    fx_table_kv(&t, "org name", org, "name");
    fx_table_kv(&t, "org kind", org, "kind");
    if (!json_is_null(json_object_get(org, "mission")))
        fx_table_kv(&t, "mission", org, "mission");
    if (!json_is_null(json_object_get(org, "sector")))
        fx_table_kv(&t, "sector", org, "sector");
    fx_table_print(&t, stdout);
    fx_table_cleanup(&t);
}

int fx_cmd_me_run(struct fx_cli *cli, int argc, char **argv)
{
    int rc = FX_EXIT_OK;
    const char *pos[FX_CLI_MAX_POS];
    json_t *me = NULL;

    cli->usage = usage;
    rc = fx_cli_positional(cli, argc, argv, NULL, 0, 0, 0, pos);
    if (rc != FX_EXIT_OK || cli->help)
        goto out;
    rc = fx_cli_get(cli, "/api/v1/me", &me);
    if (rc != FX_EXIT_OK)
        goto out;
    if (cli->json)
        fx_cli_print_json(me);
    else
        print_me(me);
out:
    json_decref(me);
    return rc;
}
