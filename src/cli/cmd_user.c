/*
 * cmd_user.c: "fx user create|list", the users of an organization
 * (docs/API.md, Users; SPEC §2 roles).
 */
#include "cli/cli_int.h"

static const char group_usage[] = "usage: fx user COMMAND [arguments]\n"
                                  "\n"
                                  "Users of an organization.\n";

static const char create_usage[] =
    "usage: fx user create ORG_ID --email EMAIL --name NAME --role ROLE\n"
    "\n"
    "Adds a user to an organization (coordinator admins, or admins of that org).\n"
    "Give the new user a token with 'fx token create USER_ID'.\n"
    "\n"
    "  --email EMAIL  unique across the exchange\n"
    "  --name NAME    the person's name\n"
    "  --role ROLE    admin, member, reviewer (coordinator and agencies only) or viewer\n";

static const char list_usage[] = "usage: fx user list ORG_ID [--limit N] [--cursor C] [--all]\n"
                                 "\n"
                                 "Lists the users of an organization.\n"
                                 "\n" FX_CLI_LIST_HELP;

static void print_user(const json_t *user)
{
    struct fx_table t;

    fx_table_init(&t, 2);
    fx_table_kv(&t, "id", user, "id");
    fx_table_kv(&t, "org_id", user, "org_id");
    fx_table_kv(&t, "email", user, "email");
    fx_table_kv(&t, "name", user, "name");
    fx_table_kv(&t, "role", user, "role");
    fx_table_kv(&t, "created_at", user, "created_at");
    fx_table_print(&t, stdout);
    fx_table_cleanup(&t);
}

static int run_create(struct fx_cli *cli, int argc, char **argv)
{
    int rc = FX_EXIT_OK;
    struct fx_opt opts[] = {{"email", true, NULL}, {"name", true, NULL}, {"role", true, NULL}};
    json_t *body = NULL;
    json_t *user = NULL;
    struct fx_buf path;

    fx_buf_init(&path, 64 * 1024);
    rc = fx_cli_parse_record(cli, argc, argv, opts, FX_ARRAY_LEN(opts), "/api/v1/orgs", "/users",
                             "id", &path);
    if (rc != FX_EXIT_OK || cli->help)
        goto out;
    for (size_t i = 0; i < FX_ARRAY_LEN(opts); i++) {
        if (opts[i].value == NULL) {
            rc = fx_args_usage_error(cli, "--%s is required", opts[i].name);
            goto out;
        }
    }
    body = json_pack("{s:s, s:s, s:s}", "email", opts[0].value, "name", opts[1].value, "role",
                     opts[2].value);
    if (body == NULL)
        fx_die("out of memory");
    rc = fx_cli_post(cli, path.p, body, &user);
    if (rc != FX_EXIT_OK)
        goto out;
    if (cli->json)
        fx_cli_print_json(user);
    else
        print_user(user);
out:
    json_decref(user);
    json_decref(body);
    fx_buf_cleanup(&path);
    return rc;
}

static int run_list(struct fx_cli *cli, int argc, char **argv)
{
    struct fx_opt opts[] = {FX_CLI_LIST_OPTS};
    static const struct fx_table_col cols[] = {{"ID", "id", NULL},
                                               {"EMAIL", "email", NULL},
                                               {"NAME", "name", NULL},
                                               {"ROLE", "role", NULL},
                                               {"CREATED", "created_at", NULL}};
    struct fx_buf path;
    int rc;

    fx_buf_init(&path, 64 * 1024);
    rc = fx_cli_parse_record(cli, argc, argv, opts, FX_ARRAY_LEN(opts), "/api/v1/orgs", "/users",
                             "id", &path);
    if (rc == FX_EXIT_OK && !cli->help)
        rc = fx_cli_list_print(cli, path.p, opts, FX_ARRAY_LEN(opts), cols, FX_ARRAY_LEN(cols));
    fx_buf_cleanup(&path);
    return rc;
}

static const struct fx_cmd commands[] = {
    {"create", run_create, "add a user to an organization", create_usage},
    {"list", run_list, "list the users of an organization", list_usage},
};

int fx_cmd_user_run(struct fx_cli *cli, int argc, char **argv)
{
    return fx_args_dispatch(cli, "user", group_usage, commands, FX_ARRAY_LEN(commands), argc, argv);
}
