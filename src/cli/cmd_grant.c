/*
 * cmd_grant.c: "fx grant propose|consent|accept|revoke|feedback|list|show"
 * (SPEC §6; docs/API.md, Grants): trusted-partner early access.
 */
#include "cli/cli_int.h"

#include "common/limits.h"
#include "common/parse.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

static const char group_usage[] = "usage: fx grant COMMAND [arguments]\n"
                                  "\n"
                                  "Early access for critical-infrastructure operators "
                                  "(trusted partners).\n";

static const char propose_usage[] =
    "usage: fx grant propose NOTICE --partner ORG_ID --purpose TEXT --starts DATE\n"
    "                        --ends DATE (--terms TEXT | --terms-file FILE)\n"
    "\n"
    "Proposes a grant on a notice determined covered (the developer's members, the\n"
    "coordinator). It is approved once both the developer and the coordinator consent.\n";

static const char consent_usage[] = "usage: fx grant consent GRANT\n"
                                    "\n"
                                    "Consents to a proposed grant for your side (the "
                                    "developer or the coordinator).\n";

static const char accept_usage[] =
    "usage: fx grant accept GRANT [--terms-sha256 HEX]\n"
    "\n"
    "Accepts an approved grant's terms (the partner's members). --terms-sha256 makes\n"
    "sure the terms are the ones you read: the server refuses another hash.\n";

static const char revoke_usage[] = "usage: fx grant revoke GRANT --reason TEXT\n"
                                   "\n"
                                   "Revokes a grant (the developer's members, the "
                                   "coordinator).\n";

static const char feedback_usage[] =
    "usage: fx grant feedback GRANT --title T --severity S --description TEXT\n"
    "\n"
    "Files feedback on an active grant (the partner's members): e.g. a vulnerability\n"
    "found with the model's help. S: info, low, medium, high or critical.\n";

static const char list_usage[] =
    "usage: fx grant list [--sector SECTOR] [--state STATE] [--notice NOTICE_ID]\n"
    "                     [--limit N] [--cursor C] [--all]\n"
    "\n"
    "Lists the grants you may read, newest first.\n"
    "\n"
    "  --state STATE   proposed, approved, active, expired or revoked\n" FX_CLI_LIST_HELP;

static const char show_usage[] = "usage: fx grant show GRANT\n"
                                 "\n"
                                 "Shows a grant, with the partner's feedback.\n";

static const char version_usage[] =
    "usage: fx grant version GRANT N\n"
    "\n"
    "Prints version N of a grant exactly as stored: 1 is the proposal, each state\n"
    "change (consent, acceptance, revocation) the next; the bytes whose SHA-256 the\n"
    "ledger holds (fx verify RECEIPT --record FILE). --json changes nothing here.\n";

static const char *const grant_keys[] = {
    "id",        "state",          "model_name",  "model_version", "partner_org", "sector",
    "starts",    "ends",           "purpose",     "terms_sha256",  "developer_contact",
    "developer_consent_at", "coordinator_consent_at", "accepted_at", "revoked_at",
    "revoked_reason", "notice_id"};
static const char *const feedback_keys[] = {"id", "grant_id", "title", "severity", "description",
                                            "created_at"};

/* The terms of --terms-file, as text (owned). */
static char *read_terms(const char *path)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct fx_buf b;
    fx_buf_init(&b, FX_MAX_LONG_STRING);
    if (fd < 0 || fx_cli_read_fd(fd, FX_MAX_LONG_STRING, &b) != FX_OK) {
        fprintf(stderr, "fx: cannot read %s: %s\n", path, fd < 0 ? strerror(errno) : "too big");
        if (fd >= 0)
            close(fd);
        fx_buf_cleanup(&b);
        return NULL;
    }
    close(fd);
    size_t len = 0;
    char *s = fx_buf_take(&b, &len);
    fx_buf_cleanup(&b);
    if (s != NULL && !fx_utf8_valid(s, len)) { /* JSON holds UTF-8 text only */
        fprintf(stderr, "fx: %s is not UTF-8 text (or holds a NUL byte)\n", path);
        free(s);
        return NULL;
    }
    return s ? s : fx_xstrdup("");
}

static int run_propose(struct fx_cli *cli, int argc, char **argv)
{
    struct fx_opt opts[] = {{"partner", true, NULL}, {"purpose", true, NULL},
                            {"starts", true, NULL},  {"ends", true, NULL},
                            {"terms", true, NULL},   {"terms-file", true, NULL}};
    const char *pos[FX_CLI_MAX_POS] = {NULL};
    int rc = fx_cli_positional(cli, argc, argv, opts, FX_ARRAY_LEN(opts), 1, 1, pos);
    if (rc != FX_EXIT_OK || cli->help)
        return rc;
    const char *terms = fx_args_get(opts, FX_ARRAY_LEN(opts), "terms");
    const char *terms_file = fx_args_get(opts, FX_ARRAY_LEN(opts), "terms-file");
    char *file_terms = NULL;
    if (terms && terms_file)
        return fx_args_usage_error(cli, "give --terms or --terms-file, not both");
    if (terms_file) {
        file_terms = read_terms(terms_file);
        if (file_terms == NULL)
            return FX_EXIT_LOCAL;
        terms = file_terms;
    }
    /* what is missing or wrong the server names, all at once */
    json_t *body = json_object();
    static const char *const names[] = {"partner_org", "purpose", "starts", "ends"};
    for (size_t i = 0; i < FX_ARRAY_LEN(names); i++)
        if (opts[i].value)
            json_object_set_new(body, names[i], json_string(opts[i].value));
    if (terms)
        json_object_set_new(body, "terms", json_string(terms));
    rc = fx_cli_send_print(cli, "POST", "/api/v1/notices", pos[0], "/grants", body, grant_keys,
                           FX_ARRAY_LEN(grant_keys));
    json_decref(body);
    free(file_terms);
    return rc;
}

static int step(struct fx_cli *cli, int argc, char **argv, const char *what, struct fx_opt *opts,
                size_t n_opts, json_t *body)
{
    const char *pos[FX_CLI_MAX_POS] = {NULL};
    int rc = fx_cli_positional(cli, argc, argv, opts, n_opts, 1, 1, pos);
    if (rc != FX_EXIT_OK || cli->help)
        return rc;
    for (size_t i = 0; i < n_opts; i++) {
        const char *key = strcmp(opts[i].name, "terms-sha256") == 0 ? "terms_sha256"
                                                                    : opts[i].name;
        if (opts[i].value)
            json_object_set_new(body, key, json_string(opts[i].value));
    }
    char suffix[32];
    snprintf(suffix, sizeof(suffix), "/%s", what);
    bool feedback = strcmp(what, "feedback") == 0;
    return fx_cli_send_print(cli, "POST", "/api/v1/grants", pos[0], suffix, body,
                             feedback ? feedback_keys : grant_keys,
                             feedback ? FX_ARRAY_LEN(feedback_keys) : FX_ARRAY_LEN(grant_keys));
}

static int run_consent(struct fx_cli *cli, int argc, char **argv)
{
    json_t *body = json_object();
    int rc = step(cli, argc, argv, "consent", NULL, 0, body);
    json_decref(body);
    return rc;
}

static int run_accept(struct fx_cli *cli, int argc, char **argv)
{
    struct fx_opt opts[] = {{"terms-sha256", true, NULL}};
    json_t *body = json_object();
    int rc = step(cli, argc, argv, "accept", opts, FX_ARRAY_LEN(opts), body);
    json_decref(body);
    return rc;
}

static int run_revoke(struct fx_cli *cli, int argc, char **argv)
{
    struct fx_opt opts[] = {{"reason", true, NULL}};
    json_t *body = json_object();
    int rc = step(cli, argc, argv, "revoke", opts, FX_ARRAY_LEN(opts), body);
    json_decref(body);
    return rc;
}

static int run_feedback(struct fx_cli *cli, int argc, char **argv)
{
    struct fx_opt opts[] = {{"title", true, NULL}, {"severity", true, NULL},
                            {"description", true, NULL}};
    json_t *body = json_object();
    int rc = step(cli, argc, argv, "feedback", opts, FX_ARRAY_LEN(opts), body);
    json_decref(body);
    return rc;
}

static int run_list(struct fx_cli *cli, int argc, char **argv)
{
    struct fx_opt opts[] = {
        {"sector", true, NULL}, {"state", true, NULL}, {"notice", true, NULL}, FX_CLI_LIST_OPTS};
    static const struct fx_table_col cols[] = {{"ID", "id", NULL},
                                               {"STATE", "state", NULL},
                                               {"MODEL", "model_name", NULL},
                                               {"PARTNER", "partner_org", NULL},
                                               {"SECTOR", "sector", NULL},
                                               {"STARTS", "starts", NULL},
                                               {"ENDS", "ends", NULL}};
    const char *pos[FX_CLI_MAX_POS] = {NULL};
    int rc = fx_cli_positional(cli, argc, argv, opts, FX_ARRAY_LEN(opts), 0, 0, pos);
    if (rc != FX_EXIT_OK || cli->help)
        return rc;
    return fx_cli_list_print(cli, "/api/v1/grants", opts, FX_ARRAY_LEN(opts), cols,
                             FX_ARRAY_LEN(cols));
}

static int run_show(struct fx_cli *cli, int argc, char **argv)
{
    const char *pos[FX_CLI_MAX_POS] = {NULL};
    int rc = fx_cli_positional(cli, argc, argv, NULL, 0, 1, 1, pos);
    if (rc != FX_EXIT_OK || cli->help)
        return rc;
    json_t *g = NULL;
    rc = fx_cli_send(cli, "GET", "/api/v1/grants", pos[0], NULL, NULL, &g);
    if (rc == FX_EXIT_OK && cli->json) {
        fx_cli_print_json(g);
    } else if (rc == FX_EXIT_OK) {
        fx_cli_print_keys(g, grant_keys, FX_ARRAY_LEN(grant_keys));
        fx_output_block(stdout, "terms", json_object_get(g, "terms"));
        size_t i;
        json_t *f;
        json_array_foreach(json_object_get(g, "feedback"), i, f)
        {
            fputs("\nfeedback:\n", stdout);
            fx_cli_print_keys(f, feedback_keys, FX_ARRAY_LEN(feedback_keys));
        }
    }
    json_decref(g);
    return rc;
}

static int run_version(struct fx_cli *cli, int argc, char **argv)
{
    return fx_cli_record_version(cli, argc, argv, "/api/v1/grants", "grant id");
}

static const struct fx_cmd commands[] = {
    {"propose", run_propose, "propose early access for an operator", propose_usage},
    {"consent", run_consent, "consent for your side", consent_usage},
    {"accept", run_accept, "accept the terms (the partner)", accept_usage},
    {"revoke", run_revoke, "revoke, with a reason", revoke_usage},
    {"feedback", run_feedback, "file feedback on an active grant (the partner)", feedback_usage},
    {"list", run_list, "list grants", list_usage},
    {"show", run_show, "show one grant", show_usage},
    {"version", run_version, "print one version of a grant's record as stored", version_usage},
};

int fx_cmd_grant_run(struct fx_cli *cli, int argc, char **argv)
{
    return fx_args_dispatch(cli, "grant", group_usage, commands, FX_ARRAY_LEN(commands), argc,
                            argv);
}
