/*
 * main.c: fx, the command-line client of fxd's HTTP API (SPEC §1, §13).
 * It dispatches the first word to a command or a command group and turns
 * what the command returns into the process's exit status (docs/CLI.md).
 * It holds no state of its own beyond one struct fx_cli for the run.
 */
#include "cli/cli_int.h"
#include "common/parse.h"

#include <stdio.h>
#include <string.h>

static const char usage[] = "usage: fx [options] COMMAND [arguments]\n"
                            "\n"
                            "fx talks to a Frontier Exchange server (fxd) over its HTTP API.\n"
                            "Tables for people by default; --json prints the server's answer.\n";

/* Groups print their own help, and top-level leaves set cli->usage themselves: usage is NULL. */
static const struct fx_cmd commands[] = {
    {"login", fx_cmd_login_run, "check a token and save it, with the server URL, for later runs",
     NULL},
    {"me", fx_cmd_me_run, "show the user and organization the token belongs to", NULL},
    {"org", fx_cmd_org_run, "organizations: create, list, show", NULL},
    {"user", fx_cmd_user_run, "users of an organization: create, list", NULL},
    {"token", fx_cmd_token_run, "API tokens: create, list, revoke", NULL},
    {"notice", fx_cmd_notice_run,
     "pre-release notices: create, submit, amend, withdraw, release, list, show, ...", NULL},
    {"audit", fx_cmd_audit_run, "the audit trail", NULL},
    {"policy", fx_cmd_policy_run, "the coverage policy: show, check, apply", NULL},
    {"screening", fx_cmd_screening_run, "a notice's screening, rule by rule", NULL},
    {"review", fx_cmd_review_run, "take a submitted notice up for review", NULL},
    {"determine", fx_cmd_determine_run, "determine a notice covered or not covered", NULL},
    {"reconsider", fx_cmd_reconsider_run, "ask once for reconsideration of a determination", NULL},
    {"determinations", fx_cmd_determinations_run, "a notice's determinations and reconsiderations",
     NULL},
    {"assess", fx_cmd_assess_run,
     "assessments: open, show, start, complete, finding, findings, outcome", NULL},
    {"grant", fx_cmd_grant_run,
     "early access grants: propose, consent, accept, revoke, feedback, list, show", NULL},
    {"deadlines", fx_cmd_deadlines_run, "what falls due soon, and what is overdue", NULL},
    {"verify", fx_cmd_verify_run, "verify a ledger receipt offline, with the log's public key",
     NULL},
    {"ledger", fx_cmd_ledger_run, "the transparency log: key, checkpoint, entries, proofs, watch",
     NULL},
    {"incident", fx_cmd_incident_run,
     "security incidents shared by TLP: report, update, list, show, stix, versions, ...", NULL},
    {"taxii", fx_cmd_taxii_run,
     "the TAXII 2.1 server: discovery, root, collections, get, versions, add, status, ...", NULL},
};

int main(int argc, char **argv)
{
    int rc = FX_EXIT_OK;
    struct fx_cli cli;

    fx_cli_init(&cli);
    /* Every argument may end up in a JSON body or a URL, which hold UTF-8 text only:
     * one that is not is refused here, by position, rather than dropped on the way. */
    for (int i = 1; i < argc; i++)
        if (!fx_utf8_valid(argv[i], strlen(argv[i]))) {
            fprintf(stderr, "fx: argument %d is not UTF-8 text\n", i);
            return FX_EXIT_USAGE;
        }
    rc = fx_args_dispatch(&cli, NULL, usage, commands, FX_ARRAY_LEN(commands), argc - 1, argv + 1);
    fx_cli_cleanup(&cli);
    fx_curl_unload();
    if (fflush(stdout) != 0 && rc == FX_EXIT_OK) {
        fputs("fx: cannot write to standard output\n", stderr);
        rc = FX_EXIT_LOCAL;
    }
    return rc;
}
