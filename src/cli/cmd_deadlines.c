/*
 * cmd_deadlines.c: "fx deadlines" (GET /api/v1/deadlines; SPEC §4-7, §13):
 * notices releasing soon, assessment windows, tasks due or overdue, grants
 * starting and ending, incidents' reporting deadlines; only what the caller
 * may see.
 */
#include "cli/cli_int.h"

static const char usage[] =
    "usage: fx deadlines [--within DAYS] [--kind KIND] [--limit N] [--cursor C] [--all]\n"
    "\n"
    "Lists what falls due from today through DAYS days ahead (default 30), every\n"
    "assessment task already overdue, and every unresolved incident reported after\n"
    "its reporting deadline, by due date. REF is the notice's FXN-... or the\n"
    "incident's FXI-... reference.\n"
    "\n"
    "  --kind KIND   notice_release, assessment_opens, assessment_closes, task_due,\n"
    "                grant_starts, grant_ends or incident_report\n" FX_CLI_LIST_HELP;

int fx_cmd_deadlines_run(struct fx_cli *cli, int argc, char **argv)
{
    struct fx_opt opts[] = {{"within", true, NULL}, {"kind", true, NULL}, FX_CLI_LIST_OPTS};
    const char *pos[FX_CLI_MAX_POS] = {NULL};
    size_t npos = 0;
    json_t *items = NULL, *d;
    struct fx_buf path;
    struct fx_table t;
    size_t i;
    int rc = FX_EXIT_OK;

    cli->usage = usage;
    fx_buf_init(&path, 64 * 1024);
    fx_table_init(&t, 6);
    if (fx_args_parse(cli, argc, argv, opts, FX_ARRAY_LEN(opts), 0, 0, pos, &npos) != FX_OK ||
        cli->help) {
        rc = cli->help ? FX_EXIT_OK : FX_EXIT_USAGE;
        goto out;
    }
    if (fx_buf_adds(&path, "/api/v1/deadlines") != FX_OK ||
        fx_client_query_add(&path, "within", fx_args_get(opts, FX_ARRAY_LEN(opts), "within")) !=
            FX_OK ||
        fx_client_query_add(&path, "kind", fx_args_get(opts, FX_ARRAY_LEN(opts), "kind")) !=
            FX_OK) {
        rc = fx_args_usage_error(cli, "an option value is too long");
        goto out;
    }
    rc = fx_cli_list(cli, path.p, opts, FX_ARRAY_LEN(opts), &items);
    if (rc != FX_EXIT_OK || items == NULL)
        goto out;
    fx_table_add(&t, "DUE");
    fx_table_add(&t, "DAYS LEFT");
    fx_table_add(&t, "KIND");
    fx_table_add(&t, "REF");
    fx_table_add(&t, "RECORD");
    fx_table_add(&t, "OVERDUE");
    json_array_foreach(items, i, d)
    {
        fx_table_add_field(&t, d, "due");
        fx_table_add_field(&t, d, "days_left");
        fx_table_add_field(&t, d, "kind");
        fx_table_add_field(&t, d, "ref");
        fx_table_add_field(&t, json_object_get(d, "record"), "id");
        fx_table_add_field(&t, d, "overdue");
    }
    fx_table_print(&t, stdout);
out:
    fx_table_cleanup(&t);
    json_decref(items);
    fx_buf_cleanup(&path);
    return rc;
}
