/*
 * cmd_notice.c: "fx notice ...", pre-release notices and their lifecycle
 * (SPEC §3; docs/API.md, Notices). A notice is named by its UUID or its
 * FXN-YYYY-NNNN reference; the server accepts both, fx passes either.
 *
 * Amendments are guarded by ETags (no lost updates): "fx notice amend" reads
 * the current ETag itself unless --if-match names the version the user
 * meant to change, in which case a stale ETag is refused by the server (412)
 * rather than silently overwritten. "fx notice version" prints the stored
 * bytes unchanged, since they are what the ledger hashed (SPEC §9).
 */
#include "cli/cli_int.h"

#include "common/parse.h"

#include <string.h>

static const char group_usage[] = "usage: fx notice COMMAND [arguments]\n"
                                  "\n"
                                  "Pre-release notices of covered frontier models. NOTICE is a "
                                  "notice's id or its\nreference (FXN-2026-0001).\n";

static const char create_usage[] =
    "usage: fx notice create --file FILE [--submit]\n"
    "\n"
    "Creates a notice (a draft) from a JSON file of notice fields: model_name,\n"
    "model_version, planned_release_date, description, ... (see docs/API.md).\n"
    "\n"
    "  --file FILE   the JSON object; '-' reads standard input\n"
    "  --submit      submit it at once instead of leaving a draft\n";

static const char submit_usage[] = "usage: fx notice submit NOTICE\n"
                                   "\n"
                                   "Submits a draft notice. The notice period is counted from the "
                                   "first submission.\n";

static const char amend_usage[] =
    "usage: fx notice amend NOTICE --file FILE [--reason REASON] [--if-match ETAG]\n"
    "\n"
    "Changes a notice: the file is a JSON merge patch of the fields to change (a\n"
    "field set to null is removed). Once the notice has been submitted every change\n"
    "makes a new version and needs a reason.\n"
    "\n"
    "  --file FILE      the JSON object; '-' reads standard input\n"
    "  --reason REASON  why it changed (sent as change_reason)\n"
    "  --if-match ETAG  only change the version with this ETag (as 'fx notice show'\n"
    "                   printed it); without it fx reads the current ETag first\n";

static const char withdraw_usage[] = "usage: fx notice withdraw NOTICE --reason REASON\n"
                                     "\n"
                                     "Withdraws a notice (any state but withdrawn and "
                                     "released).\n";

static const char release_usage[] = "usage: fx notice release NOTICE --date YYYY-MM-DD\n"
                                    "\n"
                                    "Records that the model was released, and when.\n";

static const char list_usage[] =
    "usage: fx notice list [--status STATUS] [--developer ORG_ID] [--short-notice true|false]\n"
    "                      [--release-after DATE] [--release-before DATE]\n"
    "                      [--limit N] [--cursor C] [--all]\n"
    "\n"
    "Lists the notices you may read, newest first.\n"
    "\n"
    "  --status STATUS         draft, submitted, under_review, determined, assessment,\n"
    "                          assessed, withdrawn or released\n"
    "  --developer ORG_ID      notices of this developer organization\n"
    "  --short-notice BOOL     only notices flagged (true) or not flagged (false)\n"
    "  --release-after DATE    planned release on or after DATE (YYYY-MM-DD)\n"
    "  --release-before DATE   planned release on or before DATE (YYYY-MM-DD)\n" FX_CLI_LIST_HELP;

static const char show_usage[] = "usage: fx notice show NOTICE\n"
                                 "\n"
                                 "Shows the current version of a notice, with its ETag.\n";

static const char versions_usage[] = "usage: fx notice versions NOTICE\n"
                                     "\n"
                                     "Lists every version of a notice, oldest first.\n";

static const char version_usage[] =
    "usage: fx notice version NOTICE N\n"
    "\n"
    "Prints version N of a notice exactly as stored: the bytes whose SHA-256 the\n"
    "ledger holds. --json changes nothing here.\n";

static const char history_usage[] = "usage: fx notice history NOTICE\n"
                                    "\n"
                                    "Lists a notice's events, oldest first.\n";

static const char access_log_usage[] =
    "usage: fx notice access-log NOTICE [--limit N] [--cursor C] [--all]\n"
    "\n"
    "Lists reads of a notice by users outside the developer org (developer admins\n"
    "and the coordinator).\n"
    "\n" FX_CLI_LIST_HELP;

/* Notice members shown in the short view after a change, in this order. */
static const char *const summary_keys[] = {
    "ref",
    "id",
    "status",
    "determination",
    "version",
    "etag",
    "model_name",
    "model_version",
    "planned_release_date",
    "actual_release_date",
    "notice_days",
    "short_notice",
    "withdrawn_reason",
    "submitted_at",
    "updated_at",
};

/* Members shown by "fx notice show", in this order; others follow in the server's order. */
static const char *const full_keys[] = {
    "ref",
    "id",
    "status",
    "determination",
    "version",
    "etag",
    "model_name",
    "model_version",
    "planned_release_date",
    "first_external_access_date",
    "actual_release_date",
    "submitted_at",
    "notice_days",
    "short_notice",
    "withdrawn_reason",
    "training_compute_flop",
    "parameter_count",
    "modalities",
    "release_channels",
    "contact",
    "org_id",
    "policy",
    "created_at",
    "updated_at",
};

/* Members printed as blocks or tables after the "key: value" lines, or not at all. */
static const char *const special_keys[] = {"description", "safeguards", "evaluations", "receipt"};

static bool in_list(const char *key, const char *const *list, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(key, list[i]) == 0)
            return true;
    return false;
}

/* Adds key: value for one notice member, giving contact and policy a readable form. */
static void add_member(struct fx_table *t, const json_t *n, const char *key)
{
    const json_t *v = json_object_get(n, key);
    struct fx_buf b;

    fx_buf_init(&b, 64 * 1024);
    if (v == NULL || (json_is_null(v) && strcmp(key, "determination") == 0))
        goto out;
    if (json_is_null(v) &&
        (strcmp(key, "withdrawn_reason") == 0 || strcmp(key, "actual_release_date") == 0))
        goto out;
    if (strcmp(key, "contact") == 0 && json_is_object(v)) {
        const json_t *name = json_object_get(v, "name");
        const json_t *email = json_object_get(v, "email");
        if (fx_buf_printf(&b, "%s <%s>", json_is_string(name) ? json_string_value(name) : "?",
                          json_is_string(email) ? json_string_value(email) : "?") == FX_OK) {
            fx_table_add(t, "contact:");
            fx_table_add(t, b.p);
        }
        goto out;
    }
    if (strcmp(key, "policy") == 0 && json_is_object(v)) {
        const json_t *name = json_object_get(v, "name");
        const json_t *sha = json_object_get(v, "sha256");
        if (fx_buf_printf(&b, "%s (sha256 %s)",
                          json_is_string(name) ? json_string_value(name) : "?",
                          json_is_string(sha) ? json_string_value(sha) : "?") == FX_OK) {
            fx_table_add(t, "policy:");
            fx_table_add(t, b.p);
        }
        goto out;
    }
    fx_table_kv(t, key, n, key);
out:
    fx_buf_cleanup(&b);
}

static void print_evaluations(const json_t *evals)
{
    struct fx_table t;
    size_t i;
    json_t *e;

    if (!json_is_array(evals) || json_array_size(evals) == 0)
        return;
    fx_table_init(&t, 6);
    fputs("\nevaluations:\n", stdout);
    fx_table_add(&t, "  DOMAIN");
    fx_table_add(&t, "BENCHMARK");
    fx_table_add(&t, "SCORE");
    fx_table_add(&t, "MAX");
    fx_table_add(&t, "RUN DATE");
    fx_table_add(&t, "NOTES");
    json_array_foreach(evals, i, e)
    {
        char *d = fx_output_value(json_object_get(e, "domain"));
        struct fx_buf b;
        fx_buf_init(&b, 64 * 1024);
        if (fx_buf_printf(&b, "  %s", d) == FX_OK)
            fx_table_add(&t, b.p);
        else
            fx_table_add(&t, d);
        fx_buf_cleanup(&b);
        free(d);
        fx_table_add_field(&t, e, "benchmark");
        fx_table_add_field(&t, e, "score");
        fx_table_add_field(&t, e, "max_score");
        fx_table_add_field(&t, e, "run_date");
        fx_table_add_field(&t, e, "notes");
    }
    fx_table_print(&t, stdout);
    fx_table_cleanup(&t);
}

/*
 * Prints a notice as "key: value" lines: the short view after a change, or
 * with full, every member (long texts and evaluations after the rest).
 */
static void print_notice(json_t *n, bool full)
{
    struct fx_table t;
    const char *key;
    json_t *v;

    fx_table_init(&t, 2);
    if (!full) {
        for (size_t i = 0; i < FX_ARRAY_LEN(summary_keys); i++)
            add_member(&t, n, summary_keys[i]);
    } else {
        for (size_t i = 0; i < FX_ARRAY_LEN(full_keys); i++)
            add_member(&t, n, full_keys[i]);
        json_object_foreach(n, key, v)
        {
            if (!in_list(key, full_keys, FX_ARRAY_LEN(full_keys)) &&
                !in_list(key, special_keys, FX_ARRAY_LEN(special_keys)))
                add_member(&t, n, key);
        }
    }
    if (json_object_get(n, "receipt") != NULL) {
        fx_table_add(&t, "receipt:");
        fx_table_add(&t, "included (--json shows it)");
    }
    fx_table_print(&t, stdout);
    fx_table_cleanup(&t);
    if (full) {
        fx_output_block(stdout, "description", json_object_get(n, "description"));
        fx_output_block(stdout, "safeguards", json_object_get(n, "safeguards"));
        print_evaluations(json_object_get(n, "evaluations"));
    }
}

/*
 * The usual ending of a command that changes a notice: its JSON, or the
 * short view. warn_short notes a short-notice flag (SPEC §3: flagged, never
 * refused) after the steps that can set it: creation, submission, amendment.
 */
static void print_changed(const struct fx_cli *cli, json_t *n, bool warn_short)
{
    if (cli->json) {
        fx_cli_print_json(n);
        return;
    }
    print_notice(n, false);
    if (warn_short && json_is_true(json_object_get(n, "short_notice")))
        fputs("fx: note: this notice is flagged short notice (fewer notice days than the "
              "policy asks for)\n",
              stderr);
}

/* Parses the words of a command taking one NOTICE and opts; builds /api/v1/notices/ID+suffix. */
static int parse_notice_cmd(struct fx_cli *cli, int argc, char **argv, struct fx_opt *opts,
                            size_t n_opts, const char *suffix, struct fx_buf *path)
{
    return fx_cli_parse_record(cli, argc, argv, opts, n_opts, "/api/v1/notices", suffix,
                               "notice id", path);
}

/* Reads --file into *body_out, mapping failures to exit statuses. */
static int read_body(const char *file, json_t **body_out)
{
    enum fx_err err = fx_cli_read_json_file(file, body_out);
    return err == FX_OK ? FX_EXIT_OK : FX_EXIT_LOCAL;
}

static int run_create(struct fx_cli *cli, int argc, char **argv)
{
    int rc = FX_EXIT_OK;
    struct fx_opt opts[] = {{"file", true, NULL}, {"submit", false, NULL}};
    const char *pos[FX_CLI_MAX_POS];
    json_t *body = NULL;
    json_t *notice = NULL;
    const char *file;

    rc = fx_cli_positional(cli, argc, argv, opts, FX_ARRAY_LEN(opts), 0, 0, pos);
    if (rc != FX_EXIT_OK || cli->help)
        goto out;
    file = fx_args_get(opts, FX_ARRAY_LEN(opts), "file");
    if (file == NULL) {
        rc = fx_args_usage_error(cli, "--file is required");
        goto out;
    }
    rc = read_body(file, &body);
    if (rc != FX_EXIT_OK)
        goto out;
    if (fx_args_get(opts, FX_ARRAY_LEN(opts), "submit") != NULL)
        json_object_set_new(body, "submit", json_true());
    rc = fx_cli_post(cli, "/api/v1/notices", body, &notice);
    if (rc != FX_EXIT_OK)
        goto out;
    print_changed(cli, notice, true);
out:
    json_decref(notice);
    json_decref(body);
    return rc;
}

/* A lifecycle step: POST /api/v1/notices/ID/<action> with body, answering the notice. */
static int lifecycle(struct fx_cli *cli, const char *path, json_t *body, bool warn_short)
{
    int rc = FX_EXIT_OK;
    json_t *notice = NULL;

    rc = fx_cli_post(cli, path, body, &notice);
    if (rc == FX_EXIT_OK)
        print_changed(cli, notice, warn_short);
    json_decref(notice);
    return rc;
}

static int run_submit(struct fx_cli *cli, int argc, char **argv)
{
    int rc = FX_EXIT_OK;
    struct fx_buf path;
    json_t *body = json_object();

    fx_buf_init(&path, 64 * 1024);
    if (body == NULL)
        fx_die("out of memory");
    rc = parse_notice_cmd(cli, argc, argv, NULL, 0, "/submit", &path);
    if (rc != FX_EXIT_OK || cli->help)
        goto out;
    rc = lifecycle(cli, path.p, body, true);
out:
    json_decref(body);
    fx_buf_cleanup(&path);
    return rc;
}

static int run_withdraw(struct fx_cli *cli, int argc, char **argv)
{
    int rc = FX_EXIT_OK;
    struct fx_opt opts[] = {{"reason", true, NULL}};
    struct fx_buf path;
    json_t *body = NULL;

    fx_buf_init(&path, 64 * 1024);
    rc = parse_notice_cmd(cli, argc, argv, opts, FX_ARRAY_LEN(opts), "/withdraw", &path);
    if (rc != FX_EXIT_OK || cli->help)
        goto out;
    if (opts[0].value == NULL || opts[0].value[0] == '\0') {
        rc = fx_args_usage_error(cli, "--reason is required");
        goto out;
    }
    body = json_pack("{s:s}", "reason", opts[0].value);
    if (body == NULL)
        fx_die("out of memory");
    rc = lifecycle(cli, path.p, body, false);
out:
    json_decref(body);
    fx_buf_cleanup(&path);
    return rc;
}

static int run_release(struct fx_cli *cli, int argc, char **argv)
{
    int rc = FX_EXIT_OK;
    struct fx_opt opts[] = {{"date", true, NULL}};
    struct fx_buf path;
    json_t *body = NULL;
    int64_t days;

    fx_buf_init(&path, 64 * 1024);
    rc = parse_notice_cmd(cli, argc, argv, opts, FX_ARRAY_LEN(opts), "/release", &path);
    if (rc != FX_EXIT_OK || cli->help)
        goto out;
    if (opts[0].value == NULL) {
        rc = fx_args_usage_error(cli, "--date is required");
        goto out;
    }
    if (fx_parse_date(opts[0].value, strlen(opts[0].value), &days) != FX_OK) {
        rc = fx_args_usage_error(cli, "--date must be a calendar date (YYYY-MM-DD)");
        goto out;
    }
    body = json_pack("{s:s}", "actual_release_date", opts[0].value);
    if (body == NULL)
        fx_die("out of memory");
    rc = lifecycle(cli, path.p, body, false);
out:
    json_decref(body);
    fx_buf_cleanup(&path);
    return rc;
}

/* The current ETag of the notice at path: the ETag header, else the view's "etag" member. */
static int current_etag(struct fx_cli *cli, const char *path, char **etag_out)
{
    int rc = FX_EXIT_OK;
    struct fx_request rq = {"GET", path, NULL, 0, NULL, NULL};
    struct fx_response resp;
    json_t *notice = NULL;
    const json_t *e;

    *etag_out = NULL;
    fx_client_response_init(&resp);
    rc = fx_cli_call(cli, &rq, &resp, &notice);
    if (rc != FX_EXIT_OK)
        goto out;
    e = json_object_get(notice, "etag");
    if (resp.etag != NULL && resp.etag[0] != '\0')
        *etag_out = fx_xstrdup(resp.etag);
    else if (json_is_string(e) && json_string_length(e) > 0)
        *etag_out = fx_xstrdup(json_string_value(e));
    if (*etag_out == NULL) {
        fputs("fx: the server sent no ETag for the notice; give --if-match ETAG\n", stderr);
        rc = FX_EXIT_SERVER;
    }
out:
    json_decref(notice);
    fx_client_response_cleanup(&resp);
    return rc;
}

static int run_amend(struct fx_cli *cli, int argc, char **argv)
{
    int rc = FX_EXIT_OK;
    struct fx_opt opts[] = {{"file", true, NULL}, {"reason", true, NULL}, {"if-match", true, NULL}};
    struct fx_buf path;
    struct fx_response resp;
    struct fx_request rq = {"PATCH", NULL, NULL, 0, NULL, NULL};
    json_t *body = NULL;
    json_t *notice = NULL;
    char *etag = NULL;
    char *text = NULL;
    const char *file, *reason, *if_match;

    fx_buf_init(&path, 64 * 1024);
    fx_client_response_init(&resp);
    rc = parse_notice_cmd(cli, argc, argv, opts, FX_ARRAY_LEN(opts), NULL, &path);
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
    rc = read_body(file, &body);
    if (rc != FX_EXIT_OK)
        goto out;
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
    rc = fx_cli_call(cli, &rq, &resp, &notice);
    if (rc != FX_EXIT_OK)
        goto out;
    if (notice == NULL) {
        fputs("fx: the server's answer is empty\n", stderr);
        rc = FX_EXIT_SERVER;
        goto out;
    }
    print_changed(cli, notice, true);
out:
    free(text);
    free(etag);
    json_decref(notice);
    json_decref(body);
    fx_client_response_cleanup(&resp);
    fx_buf_cleanup(&path);
    return rc;
}

static enum fx_err check_date(struct fx_cli *cli, const char *opt, const char *value)
{
    enum fx_err err = FX_OK;
    int64_t days;

    if (value != NULL && fx_parse_date(value, strlen(value), &days) != FX_OK) {
        fx_args_usage_error(cli, "--%s must be a calendar date (YYYY-MM-DD)", opt);
        err = FX_EINVAL;
    }
    return err;
}

static int run_list(struct fx_cli *cli, int argc, char **argv)
{
    struct fx_opt opts[] = {{"status", true, NULL},         {"developer", true, NULL},
                            {"short-notice", true, NULL},   {"release-after", true, NULL},
                            {"release-before", true, NULL}, FX_CLI_LIST_OPTS};
    static const struct fx_table_col cols[] = {
        {"REF", "ref", NULL},
        {"STATUS", "status", NULL},
        {"MODEL", "model_name", NULL},
        {"VERSION", "model_version", NULL},
        {"RELEASE", "planned_release_date", NULL},
        {"SHORT", "short_notice", NULL},
    };
    const char *pos[FX_CLI_MAX_POS];
    const char *sn;
    int rc = fx_cli_positional(cli, argc, argv, opts, FX_ARRAY_LEN(opts), 0, 0, pos);

    if (rc != FX_EXIT_OK || cli->help)
        return rc;
    sn = fx_args_get(opts, FX_ARRAY_LEN(opts), "short-notice");
    if (sn != NULL && strcmp(sn, "true") != 0 && strcmp(sn, "false") != 0)
        return fx_args_usage_error(cli, "--short-notice must be true or false");
    if (check_date(cli, "release-after", fx_args_get(opts, FX_ARRAY_LEN(opts), "release-after")) !=
            FX_OK ||
        check_date(cli, "release-before",
                   fx_args_get(opts, FX_ARRAY_LEN(opts), "release-before")) != FX_OK)
        return FX_EXIT_USAGE;
    return fx_cli_list_print(cli, "/api/v1/notices", opts, FX_ARRAY_LEN(opts), cols,
                             FX_ARRAY_LEN(cols));
}

static int run_show(struct fx_cli *cli, int argc, char **argv)
{
    int rc = FX_EXIT_OK;
    struct fx_buf path;
    json_t *notice = NULL;

    fx_buf_init(&path, 64 * 1024);
    rc = parse_notice_cmd(cli, argc, argv, NULL, 0, NULL, &path);
    if (rc != FX_EXIT_OK || cli->help)
        goto out;
    rc = fx_cli_get(cli, path.p, &notice);
    if (rc != FX_EXIT_OK)
        goto out;
    if (cli->json)
        fx_cli_print_json(notice);
    else
        print_notice(notice, true);
out:
    json_decref(notice);
    fx_buf_cleanup(&path);
    return rc;
}

static int run_versions(struct fx_cli *cli, int argc, char **argv)
{
    static const struct fx_table_col cols[] = {
        {"VERSION", "version", NULL},      {"CREATED", "created_at", NULL},
        {"BY", "created_by", NULL},        {"SHA256", "content_sha256", NULL},
        {"REASON", "change_reason", NULL},
    };
    return fx_cli_record_list(cli, argc, argv, "/api/v1/notices", "/versions", "notice id", false,
                              cols, FX_ARRAY_LEN(cols));
}

static int run_history(struct fx_cli *cli, int argc, char **argv)
{
    static const struct fx_table_col cols[] = {
        {"TIME", "time", NULL},     {"ACTION", "action", NULL}, {"VERSION", "version", NULL},
        {"FROM", "from", NULL},     {"TO", "to", NULL},         {"USER", "user_id", NULL},
        {"REASON", "reason", NULL},
    };
    return fx_cli_record_list(cli, argc, argv, "/api/v1/notices", "/history", "notice id", false,
                              cols, FX_ARRAY_LEN(cols));
}

static int run_access_log(struct fx_cli *cli, int argc, char **argv)
{
    return fx_cli_access_log(cli, argc, argv, "/api/v1/notices", "notice id");
}

static int run_version(struct fx_cli *cli, int argc, char **argv)
{
    return fx_cli_record_version(cli, argc, argv, "/api/v1/notices", "notice id");
}

static const struct fx_cmd commands[] = {
    {"create", run_create, "create a notice from a JSON file", create_usage},
    {"submit", run_submit, "submit a draft", submit_usage},
    {"amend", run_amend, "change a notice (a new version once submitted)", amend_usage},
    {"withdraw", run_withdraw, "withdraw a notice", withdraw_usage},
    {"release", run_release, "record the model's release", release_usage},
    {"list", run_list, "list notices", list_usage},
    {"show", run_show, "show a notice", show_usage},
    {"versions", run_versions, "list a notice's versions", versions_usage},
    {"version", run_version, "print one version's stored bytes", version_usage},
    {"history", run_history, "list a notice's events", history_usage},
    {"access-log", run_access_log, "list reads by users outside the developer", access_log_usage},
};

int fx_cmd_notice_run(struct fx_cli *cli, int argc, char **argv)
{
    return fx_args_dispatch(cli, "notice", group_usage, commands, FX_ARRAY_LEN(commands), argc,
                            argv);
}
