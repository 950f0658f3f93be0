/*
 * cmd_assess.c: "fx assess open|show|start|complete|finding|findings|outcome"
 * (SPEC §5; docs/API.md, Assessments). The server decides who may do what and
 * which findings each caller may read; fx sends and prints.
 */
#include "cli/cli_int.h"

#include <string.h>

static const char group_usage[] = "usage: fx assess COMMAND [arguments]\n"
                                  "\n"
                                  "Assessments of covered models: agencies' tasks, findings and "
                                  "the advisory outcome.\n";

static const char open_usage[] =
    "usage: fx assess open NOTICE --agencies ORG_ID[,ORG_ID...] [--starts DATE] [--ends DATE]\n"
    "\n"
    "Opens the assessment of a notice determined covered (coordinator reviewers),\n"
    "assigning agencies. The access window defaults to the policy's access_window_days\n"
    "ending on the planned release date. fx prints the server's warnings when no\n"
    "civilian or no national_security agency is assigned.\n";

static const char show_usage[] = "usage: fx assess show NOTICE\n"
                                 "\n"
                                 "Shows a notice's assessment and its agencies' tasks.\n";

static const char start_usage[] = "usage: fx assess start ASSESSMENT AGENCY_ORG\n"
                                  "\n"
                                  "Starts an agency's task (that agency's reviewers).\n";

static const char complete_usage[] = "usage: fx assess complete ASSESSMENT AGENCY_ORG\n"
                                     "\n"
                                     "Completes an agency's task (that agency's reviewers).\n";

static const char finding_usage[] =
    "usage: fx assess finding ASSESSMENT --title T --severity S --domain D --marking M\n"
    "                         --description TEXT [--recommendation TEXT]\n"
    "\n"
    "Adds a finding of your agency (reviewers of an assigned agency).\n"
    "\n"
    "  --severity S   info, low, medium, high or critical\n"
    "  --domain D     cyber, bio, chem, nuclear, radiological, autonomy, persuasion, other\n"
    "  --marking M    shared_with_developer, government_only or national_security_only\n";

static const char findings_usage[] =
    "usage: fx assess findings ASSESSMENT [FINDING]\n"
    "\n"
    "Lists the findings you may read, by their marking; with FINDING (a finding's\n"
    "id), shows that one.\n";

static const char outcome_usage[] =
    "usage: fx assess outcome ASSESSMENT --outcome OUTCOME --summary TEXT\n"
    "\n"
    "Closes the assessment with the advisory outcome (coordinator reviewers):\n"
    "no_concerns, concerns_communicated or mitigations_recommended.\n";

static const char *const task_keys[] = {"agency_org", "agency_name", "mission", "status",
                                        "overdue", "started_at", "completed_at"};
static const char *const finding_keys[] = {"id",      "assessment_id", "ref",
                                           "agency_org", "title",      "severity",
                                           "domain",  "marking",       "description",
                                           "recommendation", "created_at"};

static void print_assessment(const json_t *a)
{
    static const char *const keys[] = {"id",       "ref",         "status",  "access_starts",
                                       "access_ends", "overdue",  "outcome", "summary",
                                       "opened_at", "closed_at", "policy"};
    static const struct fx_table_col task_cols[] = {{"AGENCY", "agency_org", NULL},
                                                    {"NAME", "agency_name", NULL},
                                                    {"MISSION", "mission", NULL},
                                                    {"TASK", "status", NULL},
                                                    {"OVERDUE", "overdue", NULL}};
    size_t i;
    json_t *warning;

    fx_cli_print_keys(a, keys, FX_ARRAY_LEN(keys));
    fputc('\n', stdout);
    fx_table_print_items(stdout, json_object_get(a, "tasks"), task_cols, FX_ARRAY_LEN(task_cols));
    json_array_foreach(json_object_get(a, "warnings"), i, warning)
    {
        char *w = fx_output_value(warning);
        fprintf(stderr, "fx: warning: %s\n", w);
        free(w);
    }
}

static int run_open(struct fx_cli *cli, int argc, char **argv)
{
    struct fx_opt opts[] = {{"agencies", true, NULL}, {"starts", true, NULL}, {"ends", true, NULL}};
    const char *pos[FX_CLI_MAX_POS] = {NULL};
    int rc = fx_cli_positional(cli, argc, argv, opts, FX_ARRAY_LEN(opts), 1, 1, pos);
    if (rc != FX_EXIT_OK || cli->help)
        return rc;
    const char *agencies = fx_args_get(opts, FX_ARRAY_LEN(opts), "agencies");
    if (agencies == NULL || agencies[0] == '\0')
        return fx_args_usage_error(cli, "--agencies is required (org ids, comma-separated)");
    json_t *body = json_pack("{s:[]}", "agencies");
    char *copy = fx_xstrdup(agencies);
    for (char *p = copy, *end; p; p = end) {
        end = strchr(p, ',');
        if (end)
            *end++ = '\0';
        if (*p)
            json_array_append_new(json_object_get(body, "agencies"), json_string(p));
    }
    free(copy);
    const char *starts = fx_args_get(opts, FX_ARRAY_LEN(opts), "starts");
    const char *ends = fx_args_get(opts, FX_ARRAY_LEN(opts), "ends");
    if (starts)
        json_object_set_new(body, "access_starts", json_string(starts));
    if (ends)
        json_object_set_new(body, "access_ends", json_string(ends));
    json_t *a = NULL;
    rc = fx_cli_send(cli, "POST", "/api/v1/notices", pos[0], "/assessment", body, &a);
    if (rc == FX_EXIT_OK && cli->json)
        fx_cli_print_json(a);
    else if (rc == FX_EXIT_OK)
        print_assessment(a);
    json_decref(a);
    json_decref(body);
    return rc;
}

static int run_show(struct fx_cli *cli, int argc, char **argv)
{
    const char *pos[FX_CLI_MAX_POS] = {NULL};
    int rc = fx_cli_positional(cli, argc, argv, NULL, 0, 1, 1, pos);
    if (rc != FX_EXIT_OK || cli->help)
        return rc;
    json_t *a = NULL;
    rc = fx_cli_send(cli, "GET", "/api/v1/notices", pos[0], "/assessment", NULL, &a);
    if (rc == FX_EXIT_OK && cli->json)
        fx_cli_print_json(a);
    else if (rc == FX_EXIT_OK)
        print_assessment(a);
    json_decref(a);
    return rc;
}

static int task(struct fx_cli *cli, int argc, char **argv, const char *step)
{
    const char *pos[FX_CLI_MAX_POS] = {NULL};
    int rc = fx_cli_positional(cli, argc, argv, NULL, 0, 2, 2, pos);
    if (rc != FX_EXIT_OK || cli->help)
        return rc;
    struct fx_buf suffix;
    fx_buf_init(&suffix, 4096);
    json_t *body = json_object();
    if (fx_buf_adds(&suffix, "/tasks") != FX_OK || fx_client_path_add(&suffix, pos[1]) != FX_OK ||
        fx_buf_printf(&suffix, "/%s", step) != FX_OK)
        rc = fx_args_usage_error(cli, "the agency id is too long");
    else
        rc = fx_cli_send_print(cli, "POST", "/api/v1/assessments", pos[0], suffix.p, body,
                               task_keys, FX_ARRAY_LEN(task_keys));
    json_decref(body);
    fx_buf_cleanup(&suffix);
    return rc;
}

static int run_start(struct fx_cli *cli, int argc, char **argv)
{
    return task(cli, argc, argv, "start");
}

static int run_complete(struct fx_cli *cli, int argc, char **argv)
{
    return task(cli, argc, argv, "complete");
}

static int run_finding(struct fx_cli *cli, int argc, char **argv)
{
    struct fx_opt opts[] = {{"title", true, NULL},   {"severity", true, NULL},
                            {"domain", true, NULL},  {"marking", true, NULL},
                            {"description", true, NULL}, {"recommendation", true, NULL}};
    const char *pos[FX_CLI_MAX_POS] = {NULL};
    int rc = fx_cli_positional(cli, argc, argv, opts, FX_ARRAY_LEN(opts), 1, 1, pos);
    if (rc != FX_EXIT_OK || cli->help)
        return rc;
    /* what is missing or wrong the server names, all at once */
    json_t *body = json_object();
    for (size_t i = 0; i < FX_ARRAY_LEN(opts); i++)
        if (opts[i].value)
            json_object_set_new(body, opts[i].name, json_string(opts[i].value));
    rc = fx_cli_send_print(cli, "POST", "/api/v1/assessments", pos[0], "/findings", body,
                           finding_keys, FX_ARRAY_LEN(finding_keys));
    json_decref(body);
    return rc;
}

static int run_findings(struct fx_cli *cli, int argc, char **argv)
{
    static const struct fx_table_col cols[] = {
        {"ID", "id", NULL},           {"SEVERITY", "severity", NULL}, {"DOMAIN", "domain", NULL},
        {"MARKING", "marking", NULL}, {"AGENCY", "agency_org", NULL}, {"TITLE", "title", NULL}};
    const char *pos[FX_CLI_MAX_POS] = {NULL};
    int rc = fx_cli_positional(cli, argc, argv, NULL, 0, 1, 2, pos);
    if (rc != FX_EXIT_OK || cli->help)
        return rc;
    if (pos[1] != NULL) {
        struct fx_buf suffix;
        fx_buf_init(&suffix, 4096);
        if (fx_buf_adds(&suffix, "/findings") != FX_OK ||
            fx_client_path_add(&suffix, pos[1]) != FX_OK)
            rc = fx_args_usage_error(cli, "the finding id is too long");
        else
            rc = fx_cli_send_print(cli, "GET", "/api/v1/assessments", pos[0], suffix.p, NULL,
                                   finding_keys, FX_ARRAY_LEN(finding_keys));
        fx_buf_cleanup(&suffix);
        return rc;
    }
    json_t *list = NULL;
    rc = fx_cli_send(cli, "GET", "/api/v1/assessments", pos[0], "/findings", NULL, &list);
    if (rc == FX_EXIT_OK && cli->json) {
        fx_cli_print_json(list);
    } else if (rc == FX_EXIT_OK) {
        fx_table_print_items(stdout, json_object_get(list, "items"), cols, FX_ARRAY_LEN(cols));
    }
    json_decref(list);
    return rc;
}

static int run_outcome(struct fx_cli *cli, int argc, char **argv)
{
    struct fx_opt opts[] = {{"outcome", true, NULL}, {"summary", true, NULL}};
    const char *pos[FX_CLI_MAX_POS] = {NULL};
    int rc = fx_cli_positional(cli, argc, argv, opts, FX_ARRAY_LEN(opts), 1, 1, pos);
    if (rc != FX_EXIT_OK || cli->help)
        return rc;
    const char *outcome = fx_args_get(opts, FX_ARRAY_LEN(opts), "outcome");
    const char *summary = fx_args_get(opts, FX_ARRAY_LEN(opts), "summary");
    if (outcome == NULL || summary == NULL)
        return fx_args_usage_error(cli, "--outcome and --summary are required");
    json_t *body = json_pack("{s:s,s:s}", "outcome", outcome, "summary", summary);
    json_t *a = NULL;
    rc = fx_cli_send(cli, "POST", "/api/v1/assessments", pos[0], "/outcome", body, &a);
    if (rc == FX_EXIT_OK && cli->json)
        fx_cli_print_json(a);
    else if (rc == FX_EXIT_OK)
        print_assessment(a);
    json_decref(a);
    json_decref(body);
    return rc;
}

static const struct fx_cmd commands[] = {
    {"open", run_open, "open the assessment of a covered notice", open_usage},
    {"show", run_show, "show a notice's assessment and its tasks", show_usage},
    {"start", run_start, "start your agency's task", start_usage},
    {"complete", run_complete, "complete your agency's task", complete_usage},
    {"finding", run_finding, "add a finding", finding_usage},
    {"findings", run_findings, "list the findings you may read", findings_usage},
    {"outcome", run_outcome, "close with the advisory outcome", outcome_usage},
};

int fx_cmd_assess_run(struct fx_cli *cli, int argc, char **argv)
{
    return fx_args_dispatch(cli, "assess", group_usage, commands, FX_ARRAY_LEN(commands), argc,
                            argv);
}
