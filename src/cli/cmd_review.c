/*
 * cmd_review.c: "fx screening", "fx review", "fx determine", "fx reconsider",
 * "fx determinations" (SPEC §4; docs/API.md, Review), and the helpers the
 * review-process commands share (cmd_policy.c, cmd_assess.c, cmd_grant.c,
 * cmd_deadlines.c): sending one request about one record and printing the
 * answer as "key: value" lines.
 */
#include "cli/cli_int.h"
#include "common/parse.h"

#include <string.h>

/* ---- shared helpers (cli_int.h) ---- */

void fx_cli_print_keys(const json_t *obj, const char *const *keys, size_t n)
{
    struct fx_table t;
    fx_table_init(&t, 2);
    for (size_t i = 0; i < n; i++)
        if (!json_is_null(json_object_get(obj, keys[i])))
            fx_table_kv(&t, keys[i], obj, keys[i]);
    fx_table_print(&t, stdout);
    fx_table_cleanup(&t);
}

int fx_cli_send(struct fx_cli *cli, const char *method, const char *prefix, const char *id,
                const char *suffix, json_t *body, json_t **out)
{
    int rc = FX_EXIT_OK;
    struct fx_buf path;
    struct fx_response resp;
    char *text = NULL;
    fx_buf_init(&path, 64 * 1024);
    fx_client_response_init(&resp);
    *out = NULL;
    if (fx_cli_path(&path, prefix, id, suffix) != FX_OK) {
        rc = fx_args_usage_error(cli, "the id is too long");
        goto out;
    }
    if (body != NULL) {
        text = json_dumps(body, JSON_COMPACT);
        if (text == NULL)
            fx_die("out of memory");
    }
    struct fx_request rq = {.method = method, .path = path.p, .body = text,
                            .body_len = text ? strlen(text) : 0};
    rc = fx_cli_call(cli, &rq, &resp, out);
    if (rc == FX_EXIT_OK && *out == NULL) {
        fprintf(stderr, "fx: the answer from %s is empty\n", cli->url);
        rc = FX_EXIT_SERVER;
    }
out:
    free(text);
    fx_client_response_cleanup(&resp);
    fx_buf_cleanup(&path);
    return rc;
}

int fx_cli_send_print(struct fx_cli *cli, const char *method, const char *prefix, const char *id,
                      const char *suffix, json_t *body, const char *const *keys, size_t n)
{
    json_t *out = NULL;
    int rc = fx_cli_send(cli, method, prefix, id, suffix, body, &out);
    if (rc == FX_EXIT_OK) {
        if (cli->json)
            fx_cli_print_json(out);
        else
            fx_cli_print_keys(out, keys, n);
    }
    json_decref(out);
    return rc;
}

/* ---- the commands ---- */

static const char screening_usage[] =
    "usage: fx screening NOTICE [N]\n"
    "\n"
    "Shows the newest screening of a notice, or its version N: the result, the\n"
    "policy it was judged under, and every rule with whether it matched, the\n"
    "notice's value and the threshold. With --json, the exact bytes served, which\n"
    "the screening's ledger leaf hashes (fx verify RECEIPT --record FILE).\n";

static const char review_usage[] = "usage: fx review NOTICE\n"
                                   "\n"
                                   "Takes a submitted notice up for review (coordinator "
                                   "reviewers).\n";

static const char determine_usage[] =
    "usage: fx determine NOTICE covered|not_covered --rationale TEXT [--policy SHA256]\n"
    "\n"
    "Determines a notice under review covered or not covered (coordinator\n"
    "reviewers), with the rationale. The active policy is the one relied on;\n"
    "--policy names it, and is refused when another one has become active.\n";

static const char reconsider_usage[] =
    "usage: fx reconsider NOTICE --statement TEXT\n"
    "\n"
    "Asks once for reconsideration of a determination (the developer's members and\n"
    "admins). The coordinator then determines again.\n";

static const char determinations_usage[] =
    "usage: fx determinations NOTICE\n"
    "\n"
    "Lists a notice's determinations and requests for reconsideration, oldest first,\n"
    "with the rationale or the statement.\n";

static const char *const notice_keys[] = {"ref", "id", "status", "determination", "version",
                                          "etag", "model_name", "model_version",
                                          "planned_release_date"};
static const char *const determination_keys[] = {
    "id", "kind", "ref", "notice_status", "determination", "rationale", "statement",
    "policy", "screening", "determination_id", "reconsideration_id", "created_at"};


static void print_rules(const json_t *rules, int depth)
{
    size_t i;
    json_t *r;
    json_array_foreach(rules, i, r)
    {
        const char *group = json_string_value(json_object_get(r, "group"));
        char *id = fx_output_value(json_object_get(r, "id"));
        const char *mark = json_is_true(json_object_get(r, "matched")) ? "matched" : "no";
        if (group) {
            printf("%*s%s (%s): %s\n", depth * 2 + 2, "", id, group, mark);
            print_rules(json_object_get(r, "rules"), depth + 1);
        } else {
            const json_t *field = json_object_get(r, "field");
            char *what = fx_output_value(field ? field : json_object_get(r, "benchmark"));
            char *op = fx_output_value(json_object_get(r, "op"));
            char *value = fx_output_value(json_object_get(r, "value"));
            char *threshold = fx_output_value(json_object_get(r, "threshold"));
            const char *metric = json_string_value(json_object_get(r, "metric"));
            printf("%*s%s: %s  %s%s%s %s %s  (notice's value: %s)\n", depth * 2 + 2, "", id,
                   mark, what, metric ? " " : "", metric ? metric : "", op, threshold, value);
            free(what);
            free(op);
            free(value);
            free(threshold);
        }
        free(id);
    }
}

int fx_cmd_screening_run(struct fx_cli *cli, int argc, char **argv)
{
    static const char *const keys[] = {"ref", "result", "policy", "version", "notice_version",
                                       "trigger", "short_notice", "notice_days",
                                       "min_notice_days", "created_at"};
    const char *pos[FX_CLI_MAX_POS] = {NULL};
    json_t *s = NULL;
    char suffix[48] = "/screening";
    int64_t n = 0;
    cli->usage = screening_usage;
    int rc = fx_cli_positional(cli, argc, argv, NULL, 0, 1, 2, pos);
    if (rc != FX_EXIT_OK || cli->help)
        return rc;
    if (pos[1] != NULL) {
        if (fx_parse_i64(pos[1], strlen(pos[1]), 1, INT64_MAX, &n) != FX_OK)
            return fx_args_usage_error(cli, "N must be a screening version (1, 2, ...)");
        snprintf(suffix, sizeof(suffix), "/screenings/%lld", (long long)n);
    }
    if (cli->json) /* the served bytes, which the screening's leaf hashes (fx verify --record) */
        return fx_cli_print_raw(cli, "/api/v1/notices", pos[0], suffix, "notice id");
    rc = fx_cli_send(cli, "GET", "/api/v1/notices", pos[0], suffix, NULL, &s);
    if (rc == FX_EXIT_OK) {
        fx_cli_print_keys(s, keys, FX_ARRAY_LEN(keys));
        fputs("rules:\n", stdout);
        print_rules(json_object_get(s, "rules"), 0);
    }
    json_decref(s);
    return rc;
}

int fx_cmd_review_run(struct fx_cli *cli, int argc, char **argv)
{
    const char *pos[FX_CLI_MAX_POS] = {NULL};
    cli->usage = review_usage;
    int rc = fx_cli_positional(cli, argc, argv, NULL, 0, 1, 1, pos);
    if (rc != FX_EXIT_OK || cli->help)
        return rc;
    json_t *body = json_object();
    rc = fx_cli_send_print(cli, "POST", "/api/v1/notices", pos[0], "/review", body, notice_keys,
                           FX_ARRAY_LEN(notice_keys));
    json_decref(body);
    return rc;
}

int fx_cmd_determine_run(struct fx_cli *cli, int argc, char **argv)
{
    struct fx_opt opts[] = {{"rationale", true, NULL}, {"policy", true, NULL}};
    const char *pos[FX_CLI_MAX_POS] = {NULL};
    cli->usage = determine_usage;
    int rc = fx_cli_positional(cli, argc, argv, opts, FX_ARRAY_LEN(opts), 1, 2, pos);
    if (rc != FX_EXIT_OK || cli->help)
        return rc;
    const char *rationale = fx_args_get(opts, FX_ARRAY_LEN(opts), "rationale");
    const char *policy = fx_args_get(opts, FX_ARRAY_LEN(opts), "policy");
    if (pos[1] == NULL || (strcmp(pos[1], "covered") != 0 && strcmp(pos[1], "not_covered") != 0))
        return fx_args_usage_error(cli, "say covered or not_covered after the notice");
    if (rationale == NULL || rationale[0] == '\0')
        return fx_args_usage_error(cli, "--rationale is required");
    json_t *body = json_pack("{s:s,s:s}", "determination", pos[1], "rationale", rationale);
    if (policy)
        json_object_set_new(body, "policy_sha256", json_string(policy));
    rc = fx_cli_send_print(cli, "POST", "/api/v1/notices", pos[0], "/determination", body,
                           determination_keys, FX_ARRAY_LEN(determination_keys));
    json_decref(body);
    return rc;
}

int fx_cmd_reconsider_run(struct fx_cli *cli, int argc, char **argv)
{
    struct fx_opt opts[] = {{"statement", true, NULL}};
    const char *pos[FX_CLI_MAX_POS] = {NULL};
    cli->usage = reconsider_usage;
    int rc = fx_cli_positional(cli, argc, argv, opts, FX_ARRAY_LEN(opts), 1, 1, pos);
    if (rc != FX_EXIT_OK || cli->help)
        return rc;
    const char *statement = fx_args_get(opts, FX_ARRAY_LEN(opts), "statement");
    if (statement == NULL || statement[0] == '\0')
        return fx_args_usage_error(cli, "--statement is required");
    json_t *body = json_pack("{s:s}", "statement", statement);
    rc = fx_cli_send_print(cli, "POST", "/api/v1/notices", pos[0], "/reconsideration", body,
                           determination_keys, FX_ARRAY_LEN(determination_keys));
    json_decref(body);
    return rc;
}

/* The text of a determination (its rationale) or of a reconsideration (its statement). */
static const json_t *determination_text(const json_t *item)
{
    const json_t *r = json_object_get(item, "rationale");
    return r != NULL ? r : json_object_get(item, "statement");
}

int fx_cmd_determinations_run(struct fx_cli *cli, int argc, char **argv)
{
    static const struct fx_table_col cols[] = {
        {"CREATED", "created_at", NULL},
        {"KIND", "kind", NULL},
        {"DETERMINATION", "determination", NULL},
        {"VERSION", "notice_version", NULL},
        {"BY", "created_by", NULL},
        {"TEXT", NULL, determination_text},
    };
    cli->usage = determinations_usage;
    return fx_cli_record_list(cli, argc, argv, "/api/v1/notices", "/determinations", "notice id",
                              false, cols, FX_ARRAY_LEN(cols));
}
