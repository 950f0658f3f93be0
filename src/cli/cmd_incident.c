/*
 * cmd_incident.c: "fx incident ...", security-breach incidents shared by TLP
 * 2.0 (SPEC §7; docs/API.md, Incidents). An incident is named by its UUID or
 * its FXI-YYYY-NNNN reference.
 *
 * Updates are guarded by ETags, as notice amendments are: "fx incident
 * update" reads the current ETag itself unless --if-match names the version
 * the user meant to change, in which case a stale ETag is refused (412).
 * "fx incident stix" prints the STIX 2.1 bundle as JSON in any mode: it is
 * meant for other tools. "fx incident version" prints a version's stored
 * bytes unchanged, as "fx notice version" does, since they are what the
 * incident_version leaf hashed (SPEC §9).
 */
#include "cli/cli_int.h"

#include <string.h>

static const char group_usage[] =
    "usage: fx incident COMMAND [arguments]\n"
    "\n"
    "Security incidents, shared with exactly the audience their TLP marking allows.\n"
    "INCIDENT is an incident's id or its reference (FXI-2026-0001).\n";

static const char report_usage[] =
    "usage: fx incident report --file FILE\n"
    "\n"
    "Reports an incident from a JSON file: title, category, detected_at, severity,\n"
    "description, tlp (CLEAR, GREEN, AMBER, AMBER+STRICT, RED), and optionally\n"
    "occurred_at, status, affected, indicators [{pattern, valid_from, description}],\n"
    "share_with (org ids, AMBER and AMBER+STRICT) or share_with_users (user ids, RED).\n"
    "\n"
    "  --file FILE   the JSON object; '-' reads standard input\n";

static const char update_usage[] =
    "usage: fx incident update INCIDENT --file FILE [--reason REASON] [--if-match ETAG]\n"
    "\n"
    "Makes a new version: the file is a JSON merge patch of the fields to change\n"
    "(null removes a field), e.g. {\"status\": \"contained\"}.\n"
    "\n"
    "  --file FILE      the JSON object; '-' reads standard input\n"
    "  --reason REASON  why it changed (sent as change_reason)\n"
    "  --if-match ETAG  only change the version with this ETag; without it fx reads\n"
    "                   the current ETag first\n";

static const char list_usage[] =
    "usage: fx incident list [--tlp TLP] [--status STATUS] [--severity S] [--category C]\n"
    "                        [--reporter ORG_ID] [--late true|false] [--since TIME]\n"
    "                        [--limit N] [--cursor C] [--all]\n"
    "\n"
    "Lists the incidents you may read, newest first.\n"
    "\n"
    "  --tlp TLP          CLEAR, GREEN, AMBER, AMBER+STRICT or RED\n"
    "  --status STATUS    open, contained or resolved\n"
    "  --severity S       info, low, medium, high or critical\n"
    "  --category C       intrusion, model_weight_exfiltration, model_misuse,\n"
    "                     data_breach, vulnerability_exploitation, supply_chain, other\n"
    "  --reporter ORG_ID  incidents this organization reported\n"
    "  --late BOOL        only late (true) or timely (false) reports\n"
    "  --since TIME       reported at or after this RFC 3339 time\n" FX_CLI_LIST_HELP;

static const char show_usage[] = "usage: fx incident show INCIDENT\n"
                                 "\n"
                                 "Shows the current version of an incident, with its ETag.\n";

static const char stix_usage[] = "usage: fx incident stix INCIDENT\n"
                                 "\n"
                                 "Prints the incident as a STIX 2.1 bundle (JSON).\n";

static const char versions_usage[] = "usage: fx incident versions INCIDENT\n"
                                     "\n"
                                     "Lists every version of an incident, oldest first.\n";

static const char version_usage[] =
    "usage: fx incident version INCIDENT N\n"
    "\n"
    "Prints version N of an incident exactly as stored: the bytes whose SHA-256 the\n"
    "ledger holds (fx verify RECEIPT --record FILE). --json changes nothing here.\n";

static const char history_usage[] = "usage: fx incident history INCIDENT\n"
                                    "\n"
                                    "Lists an incident's events, oldest first: reported, then "
                                    "each update with\nthe TLP, status and late flag it "
                                    "changed.\n";

static const char access_log_usage[] =
    "usage: fx incident access-log INCIDENT [--limit N] [--cursor C] [--all]\n"
    "\n"
    "Lists reads of an incident by users outside the reporter org, newest first: for\n"
    "the reporter's admins, and the coordinator's when the marking admits the\n"
    "coordinator.\n"
    "\n" FX_CLI_LIST_HELP;

/* Members shown first by "fx incident show", in this order; others follow. */
static const char *const main_keys[] = {
    "ref",         "id",          "title",          "tlp",           "status",
    "severity",    "category",    "version",        "etag",          "detected_at",
    "occurred_at", "reported_at", "late",           "report_deadline", "share_with",
    "share_with_users", "org_id", "created_at",     "updated_at",
};

/* Shown apart (description, indicators, affected) or as a note (receipt). */
static const char *const special_keys[] = {"description", "indicators", "receipt", "affected"};

static bool in_list(const char *key, const char *const *list, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(key, list[i]) == 0)
            return true;
    return false;
}

static void print_incident(const json_t *inc, bool full)
{
    struct fx_table t;
    const char *key;
    json_t *v;
    size_t i;

    fx_table_init(&t, 2);
    for (i = 0; i < FX_ARRAY_LEN(main_keys); i++)
        if (json_object_get(inc, main_keys[i]) != NULL)
            fx_table_kv(&t, main_keys[i], inc, main_keys[i]);
    if (full) {
        json_object_foreach((json_t *)(uintptr_t)inc, key, v)
        {
            if (!in_list(key, main_keys, FX_ARRAY_LEN(main_keys)) &&
                !in_list(key, special_keys, FX_ARRAY_LEN(special_keys)))
                fx_table_kv(&t, key, inc, key);
        }
        if (json_object_get(inc, "affected") != NULL)
            fx_table_kv(&t, "affected", inc, "affected");
    }
    if (json_object_get(inc, "receipt") != NULL) {
        fx_table_add(&t, "receipt:");
        fx_table_add(&t, "included (--json shows it)");
    }
    fx_table_print(&t, stdout);
    fx_table_cleanup(&t);
    if (!full)
        return;
    fx_output_block(stdout, "description", json_object_get(inc, "description"));
    json_t *inds = json_object_get(inc, "indicators");
    if (json_is_array(inds) && json_array_size(inds) > 0) {
        struct fx_table it;
        json_t *ind;
        fx_table_init(&it, 3);
        fputs("\nindicators:\n", stdout);
        fx_table_add(&it, "  PATTERN");
        fx_table_add(&it, "STIX ID");
        fx_table_add(&it, "DESCRIPTION");
        json_array_foreach(inds, i, ind)
        {
            char *p = fx_output_value(json_object_get(ind, "pattern"));
            struct fx_buf b;
            fx_buf_init(&b, 128 * 1024);
            fx_table_add(&it, fx_buf_printf(&b, "  %s", p) == FX_OK ? b.p : p);
            fx_buf_cleanup(&b);
            free(p);
            fx_table_add_field(&it, ind, "id");
            fx_table_add_field(&it, ind, "description");
        }
        fx_table_print(&it, stdout);
        fx_table_cleanup(&it);
    }
}

static void print_changed(const struct fx_cli *cli, const json_t *inc)
{
    if (cli->json) {
        fx_cli_print_json(inc);
        return;
    }
    print_incident(inc, false);
    if (json_is_true(json_object_get(inc, "late")))
        fputs("fx: note: this incident is flagged late (reported more than the policy's "
              "incident_report_hours after detection)\n",
              stderr);
}

/* One INCIDENT argument (and options): builds /api/v1/incidents/ID + suffix. */
static int parse_one(struct fx_cli *cli, int argc, char **argv, struct fx_opt *opts, size_t n_opts,
                     const char *suffix, struct fx_buf *path)
{
    return fx_cli_parse_record(cli, argc, argv, opts, n_opts, "/api/v1/incidents", suffix,
                               "incident id", path);
}

static int run_report(struct fx_cli *cli, int argc, char **argv)
{
    int rc = FX_EXIT_OK;
    struct fx_opt opts[] = {{"file", true, NULL}};
    const char *pos[FX_CLI_MAX_POS];
    json_t *body = NULL, *inc = NULL;

    rc = fx_cli_positional(cli, argc, argv, opts, FX_ARRAY_LEN(opts), 0, 0, pos);
    if (rc != FX_EXIT_OK || cli->help)
        goto out;
    if (opts[0].value == NULL) {
        rc = fx_args_usage_error(cli, "--file is required");
        goto out;
    }
    if (fx_cli_read_json_file(opts[0].value, &body) != FX_OK) {
        rc = FX_EXIT_LOCAL;
        goto out;
    }
    rc = fx_cli_post(cli, "/api/v1/incidents", body, &inc);
    if (rc == FX_EXIT_OK)
        print_changed(cli, inc);
out:
    json_decref(inc);
    json_decref(body);
    return rc;
}

/* The ETag of the incident at path (header, else the view's etag member). */
static int current_etag(struct fx_cli *cli, const char *path, char **out)
{
    struct fx_request rq = {"GET", path, NULL, 0, NULL, NULL};
    struct fx_response resp;
    json_t *inc = NULL;
    const json_t *e;

    *out = NULL;
    fx_client_response_init(&resp);
    int rc = fx_cli_call(cli, &rq, &resp, &inc);
    if (rc == FX_EXIT_OK) {
        e = json_object_get(inc, "etag");
        if (resp.etag != NULL && resp.etag[0] != '\0')
            *out = fx_xstrdup(resp.etag);
        else if (json_is_string(e))
            *out = fx_xstrdup(json_string_value(e));
        if (*out == NULL) {
            fputs("fx: the server sent no ETag for the incident; give --if-match ETAG\n", stderr);
            rc = FX_EXIT_SERVER;
        }
    }
    json_decref(inc);
    fx_client_response_cleanup(&resp);
    return rc;
}

static int run_update(struct fx_cli *cli, int argc, char **argv)
{
    int rc = FX_EXIT_OK;
    struct fx_opt opts[] = {{"file", true, NULL}, {"reason", true, NULL}, {"if-match", true, NULL}};
    struct fx_buf path;
    struct fx_response resp;
    struct fx_request rq = {"PATCH", NULL, NULL, 0, NULL, NULL};
    json_t *body = NULL, *inc = NULL;
    char *etag = NULL, *text = NULL;
    const char *file, *reason, *if_match;

    fx_buf_init(&path, 64 * 1024);
    fx_client_response_init(&resp);
    rc = parse_one(cli, argc, argv, opts, FX_ARRAY_LEN(opts), NULL, &path);
    if (rc != FX_EXIT_OK || cli->help)
        goto out;
    file = fx_args_get(opts, FX_ARRAY_LEN(opts), "file");
    reason = fx_args_get(opts, FX_ARRAY_LEN(opts), "reason");
    if_match = fx_args_get(opts, FX_ARRAY_LEN(opts), "if-match");
    if (file == NULL) {
        rc = fx_args_usage_error(cli, "--file is required");
        goto out;
    }
    if (if_match != NULL && if_match[0] == '\0') {
        rc = fx_args_usage_error(cli, "--if-match needs an ETag");
        goto out;
    }
    if (fx_cli_read_json_file(file, &body) != FX_OK) {
        rc = FX_EXIT_LOCAL;
        goto out;
    }
    if (reason != NULL)
        json_object_set_new(body, "change_reason", json_string(reason));
    if (if_match == NULL) {
        rc = current_etag(cli, path.p, &etag);
        if (rc != FX_EXIT_OK)
            goto out;
        if_match = etag;
    }
    text = json_dumps(body, JSON_COMPACT);
    if (text == NULL)
        fx_die("out of memory");
    rq.path = path.p;
    rq.body = text;
    rq.body_len = strlen(text);
    rq.if_match = if_match;
    rc = fx_cli_call(cli, &rq, &resp, &inc);
    if (rc != FX_EXIT_OK)
        goto out;
    if (inc == NULL) {
        fputs("fx: the server's answer is empty\n", stderr);
        rc = FX_EXIT_SERVER;
        goto out;
    }
    print_changed(cli, inc);
out:
    free(text);
    free(etag);
    json_decref(inc);
    json_decref(body);
    fx_client_response_cleanup(&resp);
    fx_buf_cleanup(&path);
    return rc;
}

static int run_list(struct fx_cli *cli, int argc, char **argv)
{
    struct fx_opt opts[] = {{"tlp", true, NULL},      {"status", true, NULL},
                            {"severity", true, NULL}, {"category", true, NULL},
                            {"reporter", true, NULL}, {"late", true, NULL},
                            {"since", true, NULL},    FX_CLI_LIST_OPTS};
    static const struct fx_table_col cols[] = {{"REF", "ref", NULL},
                                               {"TLP", "tlp", NULL},
                                               {"STATUS", "status", NULL},
                                               {"SEVERITY", "severity", NULL},
                                               {"CATEGORY", "category", NULL},
                                               {"LATE", "late", NULL},
                                               {"REPORTED", "reported_at", NULL},
                                               {"TITLE", "title", NULL}};
    const char *pos[FX_CLI_MAX_POS];
    int rc = fx_cli_positional(cli, argc, argv, opts, FX_ARRAY_LEN(opts), 0, 0, pos);
    if (rc != FX_EXIT_OK || cli->help)
        return rc;
    const char *late = fx_args_get(opts, FX_ARRAY_LEN(opts), "late");
    if (late != NULL && strcmp(late, "true") != 0 && strcmp(late, "false") != 0)
        return fx_args_usage_error(cli, "--late must be true or false");
    return fx_cli_list_print(cli, "/api/v1/incidents", opts, FX_ARRAY_LEN(opts), cols,
                             FX_ARRAY_LEN(cols));
}

static int run_show(struct fx_cli *cli, int argc, char **argv)
{
    int rc = FX_EXIT_OK;
    struct fx_buf path;
    json_t *inc = NULL;

    fx_buf_init(&path, 64 * 1024);
    rc = parse_one(cli, argc, argv, NULL, 0, NULL, &path);
    if (rc != FX_EXIT_OK || cli->help)
        goto out;
    rc = fx_cli_get(cli, path.p, &inc);
    if (rc != FX_EXIT_OK)
        goto out;
    if (cli->json)
        fx_cli_print_json(inc);
    else
        print_incident(inc, true);
out:
    json_decref(inc);
    fx_buf_cleanup(&path);
    return rc;
}

static int run_stix(struct fx_cli *cli, int argc, char **argv)
{
    int rc = FX_EXIT_OK;
    struct fx_buf path;
    json_t *bundle = NULL;

    fx_buf_init(&path, 64 * 1024);
    rc = parse_one(cli, argc, argv, NULL, 0, "/stix", &path);
    if (rc != FX_EXIT_OK || cli->help)
        goto out;
    rc = fx_cli_get(cli, path.p, &bundle);
    if (rc == FX_EXIT_OK)
        fx_cli_print_json(bundle);
out:
    json_decref(bundle);
    fx_buf_cleanup(&path);
    return rc;
}

static int run_versions(struct fx_cli *cli, int argc, char **argv)
{
    static const struct fx_table_col cols[] = {
        {"VERSION", "version", NULL},      {"CREATED", "created_at", NULL},
        {"BY", "created_by", NULL},        {"TLP", "tlp", NULL},
        {"STATUS", "status", NULL},        {"SHA256", "content_sha256", NULL},
        {"REASON", "change_reason", NULL},
    };
    return fx_cli_record_list(cli, argc, argv, "/api/v1/incidents", "/versions", "incident id",
                              false, cols, FX_ARRAY_LEN(cols));
}

static int run_version(struct fx_cli *cli, int argc, char **argv)
{
    return fx_cli_record_version(cli, argc, argv, "/api/v1/incidents", "incident id");
}

static int run_history(struct fx_cli *cli, int argc, char **argv)
{
    /* tlp and status are a value on "reported", {from, to} when an update changed them */
    static const struct fx_table_col cols[] = {
        {"TIME", "time", NULL},    {"ACTION", "action", NULL}, {"VERSION", "version", NULL},
        {"TLP", "tlp", NULL},      {"STATUS", "status", NULL}, {"LATE", "late", NULL},
        {"USER", "user_id", NULL}, {"REASON", "reason", NULL},
    };
    return fx_cli_record_list(cli, argc, argv, "/api/v1/incidents", "/history", "incident id",
                              false, cols, FX_ARRAY_LEN(cols));
}

static int run_access_log(struct fx_cli *cli, int argc, char **argv)
{
    return fx_cli_access_log(cli, argc, argv, "/api/v1/incidents", "incident id");
}

static const struct fx_cmd commands[] = {
    {"report", run_report, "report an incident from a JSON file", report_usage},
    {"update", run_update, "change an incident (a new version)", update_usage},
    {"list", run_list, "list incidents", list_usage},
    {"show", run_show, "show an incident", show_usage},
    {"stix", run_stix, "print an incident as a STIX 2.1 bundle", stix_usage},
    {"versions", run_versions, "list an incident's versions", versions_usage},
    {"version", run_version, "print one version's stored bytes", version_usage},
    {"history", run_history, "list an incident's events", history_usage},
    {"access-log", run_access_log, "list reads by users outside the reporter", access_log_usage},
};

int fx_cmd_incident_run(struct fx_cli *cli, int argc, char **argv)
{
    return fx_args_dispatch(cli, "incident", group_usage, commands, FX_ARRAY_LEN(commands), argc,
                            argv);
}
