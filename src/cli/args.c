/*
 * args.c: the command line. Commands are words ("fx notice list"), options are
 * long ("--status submitted" or "--status=submitted"), and the global options
 * (--url, --token, --json, --idempotency-key, -h/--help) are accepted at any
 * level and in any position, so "fx --json notice list" and "fx notice list
 * --json" mean the same. "--" ends the options; a lone "-" is an argument
 * (stdin for --file).
 *
 * Values stay borrowed from argv. Nothing here talks to the server.
 */
#include "cli/cli_int.h"

#include <stdarg.h>
#include <string.h>

static const char global_help[] =
    "Global options (accepted anywhere):\n"
    "  --url URL               server (else $FX_URL, else the config file, else " FX_CLI_DEFAULT_URL
    ")\n"
    "  --token TOKEN           API token (else $FX_TOKEN, else the config file)\n"
    "  --json                  print the server's JSON answer instead of a table\n"
    "  --idempotency-key KEY   send Idempotency-Key on POST requests\n"
    "  -h, --help              show help\n";

enum parsed {
    PARSED_NONE,  /* not an option: a positional argument */
    PARSED_OK,    /* an option, consumed */
    PARSED_ERROR, /* a usage error, already printed */
};

static void print_usage(FILE *f, const struct fx_cli *cli)
{
    if (cli->usage != NULL)
        fputs(cli->usage, f);
    fputs("\n", f);
    fputs(global_help, f);
}

/*
 * Prints "fx CMD: message" and a pointer to the help on stderr, and returns
 * FX_EXIT_USAGE so that callers can write "rc = fx_args_usage_error(...)".
 */
int fx_args_usage_error(const struct fx_cli *cli, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "fx%s%s: ", cli->cmd_name ? " " : "", cli->cmd_name ? cli->cmd_name : "");
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    if (cli->usage != NULL && strncmp(cli->usage, "usage: ", 7) == 0)
        fprintf(stderr, "%.*s\n", (int)strcspn(cli->usage, "\n"), cli->usage);
    fprintf(stderr, "Run 'fx%s%s --help' for more.\n", cli->cmd_name ? " " : "",
            cli->cmd_name ? cli->cmd_name : "");
    return FX_EXIT_USAGE;
}

/* The value of a command option, or NULL when it was not given. */
const char *fx_args_get(const struct fx_opt *opts, size_t n_opts, const char *name)
{
    for (size_t i = 0; i < n_opts; i++)
        if (strcmp(opts[i].name, name) == 0)
            return opts[i].value;
    return NULL;
}

/* Matches "--name" or "--name=value" against name; sets *inline_value for the latter. */
static bool match(const char *arg, const char *name, const char **inline_value)
{
    size_t n = strlen(name);
    if (strncmp(arg + 2, name, n) != 0)
        return false;
    if (arg[2 + n] == '\0') {
        *inline_value = NULL;
        return true;
    }
    if (arg[2 + n] == '=') {
        *inline_value = arg + 3 + n;
        return true;
    }
    return false;
}

/*
 * Handles argv[*i] if it is an option, command options first, then the global
 * ones; advances *i past its value. opts may be NULL (n_opts 0).
 */
static enum parsed parse_one(struct fx_cli *cli, int argc, char **argv, int *i, struct fx_opt *opts,
                             size_t n_opts)
{
    enum parsed r = PARSED_ERROR;
    const char *arg = argv[*i];
    const char *inl = NULL;
    const char **dest = NULL;
    const char *name = NULL;
    bool has_arg = false;
    static const char *const global_names[] = {"url", "token", "idempotency-key", "json", "help"};
    const char **global_dest[] = {&cli->url_opt, &cli->token_opt, &cli->idempotency_key, NULL,
                                  NULL};
    struct fx_opt *opt = NULL;

    if (arg[0] != '-' || arg[1] == '\0') {
        r = PARSED_NONE;
        goto out;
    }
    if (strcmp(arg, "-h") == 0) {
        cli->help = true;
        r = PARSED_OK;
        goto out;
    }
    for (size_t k = 0; k < n_opts && name == NULL && arg[1] == '-'; k++) {
        if (match(arg, opts[k].name, &inl)) {
            opt = &opts[k];
            name = opt->name;
            has_arg = opt->has_arg;
            dest = &opt->value;
        }
    }
    for (size_t k = 0; k < FX_ARRAY_LEN(global_names) && name == NULL && arg[1] == '-'; k++) {
        if (match(arg, global_names[k], &inl)) {
            name = global_names[k];
            has_arg = global_dest[k] != NULL;
            dest = global_dest[k];
        }
    }
    if (name == NULL) {
        fx_args_usage_error(cli, "unknown option '%s'", arg);
        goto out;
    }
    if (!has_arg && inl != NULL) {
        fx_args_usage_error(cli, "option '--%s' takes no value", name);
        goto out;
    }
    if (!has_arg) {
        if (opt == NULL && strcmp(name, "help") == 0)
            cli->help = true;
        else if (opt == NULL && strcmp(name, "json") == 0)
            cli->json = true;
        else
            *dest = "";
        r = PARSED_OK;
        goto out;
    }
    if (inl == NULL && *i + 1 >= argc) {
        fx_args_usage_error(cli, "option '--%s' needs a value", name);
        goto out;
    }
    if (inl == NULL) {
        *i += 1;
        inl = argv[*i];
    }
    *dest = inl;
    r = PARSED_OK;
out:
    return r;
}

/*
 * Parses the words after a leaf command's name: its options (opts, whose
 * values it fills), the global options (into cli) and between min_pos and
 * max_pos positional arguments (into pos_out, borrowed from argv).
 * On -h/--help it prints the usage to stdout, sets cli->help and returns
 * FX_OK: the caller then stops with FX_EXIT_OK. On a usage error it prints
 * why to stderr and returns FX_EINVAL: the caller stops with FX_EXIT_USAGE.
 */
enum fx_err fx_args_parse(struct fx_cli *cli, int argc, char **argv, struct fx_opt *opts,
                          size_t n_opts, size_t min_pos, size_t max_pos,
                          const char *pos_out[FX_CLI_MAX_POS], size_t *n_pos_out)
{
    enum fx_err err = FX_OK;
    size_t npos = 0;
    bool only_pos = false;

    for (int i = 0; i < argc; i++) {
        enum parsed p = PARSED_NONE;
        if (!only_pos && strcmp(argv[i], "--") == 0) {
            only_pos = true;
            continue;
        }
        if (!only_pos)
            p = parse_one(cli, argc, argv, &i, opts, n_opts);
        if (p == PARSED_ERROR) {
            err = FX_EINVAL;
            goto out;
        }
        if (p == PARSED_OK)
            continue;
        if (npos >= max_pos || npos >= FX_CLI_MAX_POS) {
            if (!cli->help)
                fx_args_usage_error(cli, "unexpected argument '%s'", argv[i]);
            err = FX_EINVAL;
            goto out;
        }
        pos_out[npos++] = argv[i];
    }
    if (cli->help) {
        print_usage(stdout, cli);
        goto out;
    }
    if (npos < min_pos) {
        fx_args_usage_error(cli, "missing argument");
        err = FX_EINVAL;
        goto out;
    }
out:
    if (err != FX_OK && cli->help) {
        /* "fx x a b c --help": help wins over the extra words. */
        print_usage(stdout, cli);
        err = FX_OK;
    }
    *n_pos_out = npos;
    return err;
}

static void print_group_help(FILE *f, const char *usage, const char *group,
                             const struct fx_cmd *cmds, size_t n_cmds)
{
    size_t w = 0;
    fputs(usage, f);
    fputs("\nCommands:\n", f);
    for (size_t i = 0; i < n_cmds; i++)
        if (strlen(cmds[i].name) > w)
            w = strlen(cmds[i].name);
    for (size_t i = 0; i < n_cmds; i++)
        fprintf(f, "  %-*s  %s\n", (int)w, cmds[i].name, cmds[i].summary);
    fprintf(f, "\nRun 'fx %s%sCOMMAND --help' for a command's options.\n\n", group ? group : "",
            group ? " " : "");
    fputs(global_help, f);
}

/*
 * Runs the command named by the first word of argv (after any global
 * options) from cmds, passing it the words that follow. group is the words
 * already consumed ("notice"; NULL at the top) and usage the group's help.
 * Returns the command's exit status, FX_EXIT_OK after printing help, or
 * FX_EXIT_USAGE.
 */
int fx_args_dispatch(struct fx_cli *cli, const char *group, const char *usage,
                     const struct fx_cmd *cmds, size_t n_cmds, int argc, char **argv)
{
    int rc = FX_EXIT_USAGE;
    int i = 0;
    const struct fx_cmd *cmd = NULL;
    struct fx_buf name;

    fx_buf_init(&name, 256);
    cli->cmd_name = group;
    cli->usage = usage;
    for (; i < argc; i++) {
        if (strcmp(argv[i], "--") == 0) { /* ends the options: the command comes next */
            i++;
            break;
        }
        enum parsed p = parse_one(cli, argc, argv, &i, NULL, 0);
        if (p == PARSED_ERROR)
            goto out;
        if (p == PARSED_NONE)
            break;
    }
    if (i >= argc) {
        print_group_help(cli->help ? stdout : stderr, usage, group, cmds, n_cmds);
        rc = cli->help ? FX_EXIT_OK : FX_EXIT_USAGE;
        goto out;
    }
    for (size_t k = 0; k < n_cmds && cmd == NULL; k++)
        if (strcmp(cmds[k].name, argv[i]) == 0)
            cmd = &cmds[k];
    if (cmd == NULL) {
        rc = fx_args_usage_error(cli, "unknown command '%s'", argv[i]);
        goto out;
    }
    if (fx_buf_printf(&name, "%s%s%s", group ? group : "", group ? " " : "", cmd->name) != FX_OK)
        goto out;
    cli->cmd_name = name.p;
    cli->usage = cmd->usage;
    rc = cmd->run(cli, argc - i - 1, argv + i + 1);
out:
    cli->cmd_name = NULL;
    fx_buf_cleanup(&name);
    return rc;
}
