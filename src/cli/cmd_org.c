/*
 * cmd_org.c: "fx org create|list|show", organizations (docs/API.md,
 * Organizations; SPEC §2). Only a coordinator admin may create one; the
 * server decides, fx only sends what it was given.
 */
#include "cli/cli_int.h"

static const char group_usage[] = "usage: fx org COMMAND [arguments]\n"
                                  "\n"
                                  "Organizations: the coordinator, agencies, developers and "
                                  "operators.\n";

static const char create_usage[] =
    "usage: fx org create NAME --kind KIND [--mission MISSION] [--sector SECTOR]\n"
    "\n"
    "Creates an organization (coordinator admins only).\n"
    "\n"
    "  --kind KIND        agency, developer or operator\n"
    "  --mission MISSION  civilian or national_security (agencies: required)\n"
    "  --sector SECTOR    one of the 16 CISA sectors, e.g. energy (operators: required)\n";

static const char list_usage[] = "usage: fx org list [--kind KIND] [--limit N] [--cursor C] "
                                 "[--all]\n"
                                 "\n"
                                 "Lists organizations in the order they were created.\n"
                                 "\n"
                                 "  --kind KIND      only this kind (coordinator, agency, "
                                 "developer, operator)\n" FX_CLI_LIST_HELP;

static const char show_usage[] = "usage: fx org show ORG_ID\n"
                                 "\n"
                                 "Shows one organization.\n";

/* Adds obj[field] unless it is absent or null. */
static void kv_set(struct fx_table *t, const char *key, const json_t *obj, const char *field)
{
    if (!json_is_null(json_object_get(obj, field)))
        fx_table_kv(t, key, obj, field);
}

static void print_org(const json_t *org)
{
    struct fx_table t;

    fx_table_init(&t, 2);
    fx_table_kv(&t, "id", org, "id");
    fx_table_kv(&t, "name", org, "name");
    fx_table_kv(&t, "kind", org, "kind");
    kv_set(&t, "mission", org, "mission");
    kv_set(&t, "sector", org, "sector");
    fx_table_kv(&t, "created_at", org, "created_at");
    fx_table_print(&t, stdout);
    fx_table_cleanup(&t);
}

static int run_create(struct fx_cli *cli, int argc, char **argv)
{
    int rc = FX_EXIT_OK;
    struct fx_opt opts[] = {{"kind", true, NULL}, {"mission", true, NULL}, {"sector", true, NULL}};
    const char *pos[FX_CLI_MAX_POS];
    json_t *body = NULL;
    json_t *org = NULL;
    const char *kind, *mission, *sector;

    rc = fx_cli_positional(cli, argc, argv, opts, FX_ARRAY_LEN(opts), 1, 1, pos);
    if (rc != FX_EXIT_OK || cli->help)
        goto out;
    kind = fx_args_get(opts, FX_ARRAY_LEN(opts), "kind");
    mission = fx_args_get(opts, FX_ARRAY_LEN(opts), "mission");
    sector = fx_args_get(opts, FX_ARRAY_LEN(opts), "sector");
    if (kind == NULL) {
        rc = fx_args_usage_error(cli, "--kind is required");
        goto out;
    }
    body = json_pack("{s:s, s:s}", "name", pos[0], "kind", kind);
    if (body == NULL)
        fx_die("out of memory");
    if (mission != NULL)
        json_object_set_new(body, "mission", json_string(mission));
    if (sector != NULL)
        json_object_set_new(body, "sector", json_string(sector));
    rc = fx_cli_post(cli, "/api/v1/orgs", body, &org);
    if (rc != FX_EXIT_OK)
        goto out;
    if (cli->json)
        fx_cli_print_json(org);
    else
        print_org(org);
out:
    json_decref(org);
    json_decref(body);
    return rc;
}

/* One column shows an agency's mission or an operator's sector, whichever it has. */
static const json_t *mission_or_sector(const json_t *org)
{
    const json_t *mission = json_object_get(org, "mission");
    return json_is_string(mission) ? mission : json_object_get(org, "sector");
}

static int run_list(struct fx_cli *cli, int argc, char **argv)
{
    struct fx_opt opts[] = {{"kind", true, NULL}, FX_CLI_LIST_OPTS};
    static const struct fx_table_col cols[] = {{"ID", "id", NULL},
                                               {"NAME", "name", NULL},
                                               {"KIND", "kind", NULL},
                                               {"MISSION/SECTOR", NULL, mission_or_sector},
                                               {"CREATED", "created_at", NULL}};
    const char *pos[FX_CLI_MAX_POS];
    int rc = fx_cli_positional(cli, argc, argv, opts, FX_ARRAY_LEN(opts), 0, 0, pos);

    if (rc != FX_EXIT_OK || cli->help)
        return rc;
    return fx_cli_list_print(cli, "/api/v1/orgs", opts, FX_ARRAY_LEN(opts), cols,
                             FX_ARRAY_LEN(cols));
}

static int run_show(struct fx_cli *cli, int argc, char **argv)
{
    int rc = FX_EXIT_OK;
    json_t *org = NULL;
    struct fx_buf path;

    fx_buf_init(&path, 64 * 1024);
    rc = fx_cli_parse_record(cli, argc, argv, NULL, 0, "/api/v1/orgs", NULL, "id", &path);
    if (rc != FX_EXIT_OK || cli->help)
        goto out;
    rc = fx_cli_get(cli, path.p, &org);
    if (rc != FX_EXIT_OK)
        goto out;
    if (cli->json)
        fx_cli_print_json(org);
    else
        print_org(org);
out:
    json_decref(org);
    fx_buf_cleanup(&path);
    return rc;
}

static const struct fx_cmd commands[] = {
    {"create", run_create, "create an organization", create_usage},
    {"list", run_list, "list organizations", list_usage},
    {"show", run_show, "show one organization", show_usage},
};

int fx_cmd_org_run(struct fx_cli *cli, int argc, char **argv)
{
    return fx_args_dispatch(cli, "org", group_usage, commands, FX_ARRAY_LEN(commands), argc, argv);
}
