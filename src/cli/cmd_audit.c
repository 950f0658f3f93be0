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
    struct fx_opt opts[] = {{"record", true, NULL},
                            {"user", true, NULL},
                            {"org", true, NULL},
                            {"since", true, NULL},
                            FX_CLI_LIST_OPTS};
    static const struct fx_table_col cols[] = {
        {"TIME", "time", NULL},    {"ACTION", "action", NULL}, {"OUTCOME", "outcome", NULL},
        {"USER", "user_id", NULL}, {"ORG", "org_id", NULL},    {"RECORD", "record", NULL}};
    const char *pos[FX_CLI_MAX_POS];
    int rc;

    cli->usage = usage;
    rc = fx_cli_positional(cli, argc, argv, opts, FX_ARRAY_LEN(opts), 0, 0, pos);
    if (rc != FX_EXIT_OK || cli->help)
        return rc;
    return fx_cli_list_print(cli, "/api/v1/audit", opts, FX_ARRAY_LEN(opts), cols,
                             FX_ARRAY_LEN(cols));
}
