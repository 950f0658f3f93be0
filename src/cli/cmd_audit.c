/*
 * cmd_audit.c: "fx audit", the audit trail (docs/API.md, Audit; SPEC §10).
 * Coordinator admins see every row, org admins the rows about their org.
 */
#include "cli/cli_int.h"

static const char usage[] =
    "usage: fx audit [--record ID] [--user USER_ID] [--org ORG_ID] [--since TIME]\n"
    "                [--limit N] [--cursor C] [--all]\n"
    "\n"
    "Lists the audit trail, newest first: every change, and every read of a\n"
    "confidential record by someone outside the org that owns it.\n"
    "\n"
    "  --record ID      rows about this record\n"
    "  --user USER_ID   rows of this user's actions\n"
    "  --org ORG_ID     rows of this organization's users\n"
    "  --since TIME     rows at or after this time (RFC 3339, e.g. "
    "2026-11-27T00:00:00Z)\n" FX_CLI_LIST_HELP;

int fx_cmd_audit_run(struct fx_cli *cli, int argc, char **argv)
{
    int rc = FX_EXIT_OK;
    struct fx_opt opts[] = {{"record", true, NULL},
                            {"user", true, NULL},
                            {"org", true, NULL},
                            {"since", true, NULL},
                            FX_CLI_LIST_OPTS};
    static const char *const filters[] = {"record", "user", "org", "since"};
    const char *pos[FX_CLI_MAX_POS];
    size_t npos = 0;
    json_t *items = NULL;
    json_t *row;
    size_t i;
    struct fx_buf path;
    struct fx_table t;

    cli->usage = usage;
    fx_buf_init(&path, 64 * 1024);
    fx_table_init(&t, 6);
    if (fx_args_parse(cli, argc, argv, opts, FX_ARRAY_LEN(opts), 0, 0, pos, &npos) != FX_OK ||
        cli->help) {
        rc = cli->help ? FX_EXIT_OK : FX_EXIT_USAGE;
        goto out;
    }
    if (fx_buf_adds(&path, "/api/v1/audit") != FX_OK) {
        rc = FX_EXIT_USAGE;
        goto out;
    }
    for (size_t k = 0; k < FX_ARRAY_LEN(filters); k++) {
        if (fx_client_query_add(&path, filters[k],
                                fx_args_get(opts, FX_ARRAY_LEN(opts), filters[k])) != FX_OK) {
            rc = fx_args_usage_error(cli, "an option value is too long");
            goto out;
        }
    }
    rc = fx_cli_list(cli, path.p, opts, FX_ARRAY_LEN(opts), &items);
    if (rc != FX_EXIT_OK || items == NULL)
        goto out;
    fx_table_add(&t, "TIME");
    fx_table_add(&t, "ACTION");
    fx_table_add(&t, "OUTCOME");
    fx_table_add(&t, "USER");
    fx_table_add(&t, "ORG");
    fx_table_add(&t, "RECORD");
    json_array_foreach(items, i, row)
    {
        fx_table_add_field(&t, row, "time");
        fx_table_add_field(&t, row, "action");
        fx_table_add_field(&t, row, "outcome");
        fx_table_add_field(&t, row, "user_id");
        fx_table_add_field(&t, row, "org_id");
        fx_table_add_field(&t, row, "record");
    }
    fx_table_print(&t, stdout);
out:
    fx_table_cleanup(&t);
    json_decref(items);
    fx_buf_cleanup(&path);
    return rc;
}
