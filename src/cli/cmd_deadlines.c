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

/* The record a deadline is about is an object; the table shows its id. */
static const json_t *record_id(const json_t *d)
{
    return json_object_get(json_object_get(d, "record"), "id");
}

int fx_cmd_deadlines_run(struct fx_cli *cli, int argc, char **argv)
{
    struct fx_opt opts[] = {{"within", true, NULL}, {"kind", true, NULL}, FX_CLI_LIST_OPTS};
    static const struct fx_table_col cols[] = {
        {"DUE", "due", NULL}, {"DAYS LEFT", "days_left", NULL}, {"KIND", "kind", NULL},
        {"REF", "ref", NULL}, {"RECORD", NULL, record_id},      {"OVERDUE", "overdue", NULL}};
    const char *pos[FX_CLI_MAX_POS] = {NULL};
    int rc;

    cli->usage = usage;
    rc = fx_cli_positional(cli, argc, argv, opts, FX_ARRAY_LEN(opts), 0, 0, pos);
    if (rc != FX_EXIT_OK || cli->help)
        return rc;
    return fx_cli_list_print(cli, "/api/v1/deadlines", opts, FX_ARRAY_LEN(opts), cols,
                             FX_ARRAY_LEN(cols));
}
