/*
 * cli.c: what every command does around one API call: find the server and
 * the token (--url/--token, then $FX_URL/$FX_TOKEN, then the config file),
 * send, turn the answer into an exit status, print the problem when there is
 * one, and page through lists. The functions here return exit statuses
 * (enum fx_exit), because that is what their callers hand back to main().
 */
#include "cli/cli_int.h"

#include "common/limits.h"
#include "common/parse.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

void fx_cli_init(struct fx_cli *cli)
{
    memset(cli, 0, sizeof(*cli));
}

void fx_cli_cleanup(struct fx_cli *cli)
{
    if (cli->connected)
        fx_client_cleanup(&cli->client);
    cli->connected = false;
    FX_FREE(cli->url);
}

static const char *nonempty_env(const char *name)
{
    const char *v = getenv(name);
    return v != NULL && v[0] != '\0' ? v : NULL;
}

/*
 * Finds the server URL and the token, each owned by the caller; the token
 * is NULL when none is configured. Returns FX_EXIT_LOCAL when the config
 * file exists but cannot be used, FX_EXIT_USAGE when the URL is not http(s).
 */
int fx_cli_resolve(struct fx_cli *cli, char **url_out, char **token_out)
{
    int rc = FX_EXIT_OK;
    const char *url = cli->url_opt ? cli->url_opt : nonempty_env("FX_URL");
    /* a token is a credential: never handed to a server that only serves public data */
    const char *token = cli->anonymous   ? NULL
                        : cli->token_opt ? cli->token_opt
                                         : nonempty_env("FX_TOKEN");
    char *path = NULL;
    char *cfg_url = NULL;
    char *cfg_token = NULL;

    *url_out = NULL;
    *token_out = NULL;
    if (url == NULL || (token == NULL && !cli->anonymous)) {
        path = fx_config_path();
        if (path != NULL && fx_config_load(path, &cfg_url, &cfg_token) != FX_OK) {
            rc = FX_EXIT_LOCAL;
            goto out;
        }
        if (url == NULL)
            url = cfg_url;
        if (token == NULL && !cli->anonymous)
            token = cfg_token;
    }
    if (url == NULL)
        url = FX_CLI_DEFAULT_URL;
    if (strncmp(url, "http://", 7) != 0 && strncmp(url, "https://", 8) != 0) {
        rc = fx_args_usage_error(cli, "the server URL must start with http:// or https://");
        goto out;
    }
    const char *host = url + (url[4] == 's' ? 8 : 7);
    if (*host == '\0' || *host == '/' || *host == '?' || *host == '#') {
        rc = fx_args_usage_error(cli, "the server URL names no host");
        goto out;
    }
    *url_out = fx_xstrdup(url);
    *token_out = token ? fx_xstrdup(token) : NULL;
out:
    free(cfg_url);
    free(cfg_token);
    free(path);
    return rc;
}

static int connect_once(struct fx_cli *cli)
{
    int rc = FX_EXIT_OK;
    char *token = NULL;

    if (cli->connected)
        goto out;
    rc = fx_cli_resolve(cli, &cli->url, &token);
    if (rc != FX_EXIT_OK)
        goto out;
    switch (fx_client_init(&cli->client, cli->url, token)) {
    case FX_OK:
        break;
    case FX_EIO: /* libcurl could not be loaded: said on stderr */
        fx_client_cleanup(&cli->client);
        rc = FX_EXIT_LOCAL;
        goto out;
    default:
        fx_client_cleanup(&cli->client);
        rc = fx_args_usage_error(cli, "the token is not a valid API token");
        goto out;
    }
    cli->connected = true;
out:
    free(token);
    return rc;
}

/*
 * Sends rq (adding --idempotency-key to POSTs) and checks the answer, which
 * stays in resp for the caller (initialised and cleaned up by the caller).
 * On 2xx returns FX_EXIT_OK and, when json_out is not NULL, the parsed body
 * in *json_out (owned; NULL for an empty body). Otherwise prints why on
 * stderr and returns FX_EXIT_REFUSED (4xx), FX_EXIT_SERVER (5xx, other
 * statuses, broken or unreadable answers) or FX_EXIT_CONNECT.
 */
int fx_cli_call(struct fx_cli *cli, const struct fx_request *rq, struct fx_response *resp,
                json_t **json_out)
{
    int rc = FX_EXIT_OK;
    struct fx_request r = *rq;
    enum fx_err err;
    json_error_t jerr;

    if (json_out != NULL)
        *json_out = NULL;
    rc = connect_once(cli);
    if (rc != FX_EXIT_OK)
        goto out;
    cli->client.media = cli->media;
    if (strcmp(r.method, "POST") == 0 && cli->idempotency_key != NULL)
        r.idempotency_key = cli->idempotency_key;
    err = fx_client_send(&cli->client, &r, resp);
    if (err != FX_OK && resp->bad_request) { /* the command line's fault, not the server's */
        rc = fx_args_usage_error(cli, "%s", resp->error ? resp->error : fx_err_str(err));
        goto out;
    }
    if (err == FX_EIO) {
        fprintf(stderr, "fx: cannot connect to %s: %s\n", cli->url, resp->error);
        rc = FX_EXIT_CONNECT;
        goto out;
    }
    if (err != FX_OK) {
        fprintf(stderr, "fx: no usable answer from %s: %s\n", cli->url,
                resp->error ? resp->error : fx_err_str(err));
        rc = FX_EXIT_SERVER;
        goto out;
    }
    if (resp->status >= 400 && resp->status < 500) {
        fx_output_problem(resp);
        rc = FX_EXIT_REFUSED;
        goto out;
    }
    if (resp->status < 200 || resp->status >= 300) {
        fx_output_problem(resp);
        rc = FX_EXIT_SERVER;
        goto out;
    }
    if (resp->replayed)
        fprintf(stderr, "fx: note: the server replayed its answer to an earlier request with "
                        "this idempotency key\n");
    if (json_out != NULL && resp->body.len > 0) {
        *json_out = json_loadb(resp->body.p, resp->body.len, 0, &jerr);
        if (*json_out == NULL) {
            fprintf(stderr, "fx: the answer from %s is not JSON: %s\n", cli->url, jerr.text);
            rc = FX_EXIT_SERVER;
            goto out;
        }
    }
out:
    return rc;
}

/* GETs path; the answer's JSON in *json_out (owned). */
int fx_cli_get(struct fx_cli *cli, const char *path, json_t **json_out)
{
    struct fx_request rq = {"GET", path, NULL, 0, NULL, NULL};
    struct fx_response resp;
    int rc;

    fx_client_response_init(&resp);
    rc = fx_cli_call(cli, &rq, &resp, json_out);
    if (rc == FX_EXIT_OK && *json_out == NULL) {
        fprintf(stderr, "fx: the answer from %s is empty\n", cli->url);
        rc = FX_EXIT_SERVER;
    }
    fx_client_response_cleanup(&resp);
    return rc;
}

/* POSTs body (borrowed) as JSON to path; the answer's JSON in *json_out (owned). */
int fx_cli_post(struct fx_cli *cli, const char *path, json_t *body, json_t **json_out)
{
    char *text = json_dumps(body, JSON_COMPACT);
    struct fx_request rq = {"POST", path, text, text ? strlen(text) : 0, NULL, NULL};
    struct fx_response resp;
    int rc;

    if (text == NULL)
        fx_die("out of memory");
    fx_client_response_init(&resp);
    rc = fx_cli_call(cli, &rq, &resp, json_out);
    if (rc == FX_EXIT_OK && *json_out == NULL) {
        fprintf(stderr, "fx: the answer from %s is empty\n", cli->url);
        rc = FX_EXIT_SERVER;
    }
    fx_client_response_cleanup(&resp);
    free(text);
    return rc;
}

/*
 * Sets b to prefix, then "/" and the percent-encoded id, then suffix (NULL
 * for none): fx_cli_path(&b, "/api/v1/orgs", id, "/users"). Ids come from
 * the command line, so they are escaped rather than trusted to be UUIDs.
 */
enum fx_err fx_cli_path(struct fx_buf *b, const char *prefix, const char *id, const char *suffix)
{
    enum fx_err err = FX_OK;
    fx_buf_reset(b);
    err = fx_buf_adds(b, prefix);
    if (err == FX_OK && id != NULL)
        err = fx_client_path_add(b, id);
    if (err == FX_OK && suffix != NULL)
        err = fx_buf_adds(b, suffix);
    return err;
}

/* Prints a JSON value on stdout, indented by two spaces, and returns FX_EXIT_OK. */
int fx_cli_print_json(const json_t *j)
{
    json_dumpf(j, stdout, JSON_INDENT(2) | JSON_ENCODE_ANY);
    fputc('\n', stdout);
    return FX_EXIT_OK;
}

/* The API's lists (SPEC §12): ?limit=&cursor= answer {"items", "next_cursor"}. */
const struct fx_cli_pager fx_cli_api_pager = {"items", "cursor", "next_cursor", NULL, FX_MAX_PAGE};

/*
 * GETs a list (path may already carry filters) that pages as pager says,
 * honouring the list options in opts (--limit, --all, and the option named
 * as pager's cursor parameter: --cursor, or TAXII's --next; absent from opts
 * for lists that are not paginated). With --json it prints the answer itself
 * (with --all, one document holding every page's items, and "next_cursor":
 * null, or TAXII's "more": false) and leaves *items_out NULL; otherwise it
 * returns the items (owned) in *items_out, and notes on stderr when more
 * pages remain. A bare JSON array is taken as the items of a list that has
 * no pages.
 */
int fx_cli_list(struct fx_cli *cli, const struct fx_cli_pager *pager, const char *path,
                const struct fx_opt *opts, size_t n_opts, json_t **items_out)
{
    int rc = FX_EXIT_OK;
    const char *limit = fx_args_get(opts, n_opts, "limit");
    const char *cursor = fx_args_get(opts, n_opts, pager->cursor);
    bool all = fx_args_get(opts, n_opts, "all") != NULL;
    json_t *items = json_array();
    json_t *page = NULL;
    char *next = NULL;
    struct fx_buf url;
    int64_t n;

    *items_out = NULL;
    fx_buf_init(&url, 64 * 1024);
    if (items == NULL)
        fx_die("out of memory");
    if (limit != NULL && fx_parse_i64(limit, strlen(limit), 1, pager->max_limit, &n) != FX_OK) {
        rc = pager->max_limit == INT64_MAX
                 ? fx_args_usage_error(cli, "--limit must be a positive integer")
                 : fx_args_usage_error(cli, "--limit must be an integer from 1 to %lld",
                                       (long long)pager->max_limit);
        goto out;
    }
    next = cursor ? fx_xstrdup(cursor) : NULL;
    for (long pages = 0;; pages++) {
        json_t *got, *nc;
        fx_buf_reset(&url);
        if (fx_buf_adds(&url, path) != FX_OK ||
            fx_client_query_add(&url, "limit", limit) != FX_OK ||
            fx_client_query_add(&url, pager->cursor, next) != FX_OK) {
            rc = fx_args_usage_error(cli, "the request URL is too long");
            goto out;
        }
        json_decref(page);
        page = NULL;
        rc = fx_cli_get(cli, url.p, &page);
        if (rc != FX_EXIT_OK)
            goto out;
        if (json_is_array(page)) {
            json_array_extend(items, page);
            FX_FREE(next);
            break;
        }
        /* a TAXII page with nothing on it leaves its array out */
        got = json_object_get(page, pager->items);
        if (!json_is_object(page) || (got == NULL ? pager->more == NULL : !json_is_array(got))) {
            fprintf(stderr, "fx: the answer from %s is not a list\n", cli->url);
            rc = FX_EXIT_SERVER;
            goto out;
        }
        if (got != NULL)
            json_array_extend(items, got);
        nc = json_object_get(page, pager->next);
        if (!json_is_string(nc) || json_string_length(nc) == 0 ||
            (pager->more != NULL && !json_is_true(json_object_get(page, pager->more)))) {
            FX_FREE(next);
            break;
        }
        if (next != NULL && strcmp(next, json_string_value(nc)) == 0) {
            fprintf(stderr, "fx: the server returned the same cursor twice; stopping\n");
            rc = FX_EXIT_SERVER;
            goto out;
        }
        free(next);
        next = fx_xstrdup(json_string_value(nc));
        if (!all)
            break;
        if (pages >= FX_CLI_MAX_PAGES) {
            fprintf(stderr, "fx: more than %d pages; stopping\n", FX_CLI_MAX_PAGES);
            rc = FX_EXIT_SERVER;
            goto out;
        }
    }
    if (cli->json) {
        if (all) {
            json_t *doc = json_pack("{s:O}", pager->items, items);
            if (doc == NULL)
                fx_die("out of memory");
            if (pager->more != NULL)
                json_object_set_new(doc, pager->more, json_false());
            else
                json_object_set_new(doc, pager->next, json_null());
            fx_cli_print_json(doc);
            json_decref(doc);
        } else {
            fx_cli_print_json(page);
        }
        goto out;
    }
    if (next != NULL) {
        char *c = fx_output_clean(next, false);
        fprintf(stderr, "fx: more %s follow: add --all, or --%s %s\n", pager->items, pager->cursor,
                c);
        free(c);
    }
    *items_out = items;
    items = NULL;
out:
    free(next);
    json_decref(page);
    json_decref(items);
    fx_buf_cleanup(&url);
    return rc;
}

/*
 * fx_args_parse for a command, the positional arguments (borrowed from argv)
 * in pos. Returns FX_EXIT_USAGE after a usage error, else FX_EXIT_OK; with
 * cli->help set the usage has been printed and the command stops there.
 */
int fx_cli_positional(struct fx_cli *cli, int argc, char **argv, struct fx_opt *opts, size_t n_opts,
                      size_t min_pos, size_t max_pos, const char **pos)
{
    size_t npos = 0;

    if (fx_args_parse(cli, argc, argv, opts, n_opts, min_pos, max_pos, pos, &npos) != FX_OK)
        return FX_EXIT_USAGE;
    /* an empty id would name the collection instead ("/notices/"): never what is meant */
    for (size_t i = 0; i < npos && !cli->help; i++)
        if (pos[i][0] == '\0')
            return fx_args_usage_error(cli, "argument %zu is empty", i + 1);
    return FX_EXIT_OK;
}

/*
 * fx_cli_positional for a command about one record: opts and exactly one
 * positional argument, the record's id, which goes into path_out as
 * fx_cli_path(path_out, prefix, id, suffix) puts it. what names the id in
 * the message when it is too long ("notice id"). Returns as
 * fx_cli_positional does.
 */
int fx_cli_parse_record(struct fx_cli *cli, int argc, char **argv, struct fx_opt *opts,
                        size_t n_opts, const char *prefix, const char *suffix, const char *what,
                        struct fx_buf *path_out)
{
    const char *pos[FX_CLI_MAX_POS];
    int rc = fx_cli_positional(cli, argc, argv, opts, n_opts, 1, 1, pos);

    if (rc != FX_EXIT_OK || cli->help)
        return rc;
    if (fx_cli_path(path_out, prefix, pos[0], suffix) != FX_OK)
        return fx_args_usage_error(cli, "the %s is too long", what);
    return FX_EXIT_OK;
}

/* The options every list command has (FX_CLI_LIST_OPTS): fx_cli_list sends them. */
static bool list_opt(const char *name)
{
    return strcmp(name, "limit") == 0 || strcmp(name, "cursor") == 0 || strcmp(name, "all") == 0;
}

/*
 * Sets b to base, then one query parameter for each option given but the
 * list options, named as the option with '_' for '-' (the API's spelling:
 * --short-notice becomes short_notice).
 */
static enum fx_err add_filters(struct fx_buf *b, const char *base, const struct fx_opt *opts,
                               size_t n_opts)
{
    enum fx_err err = fx_buf_adds(b, base);
    char param[64];

    for (size_t i = 0; i < n_opts && err == FX_OK; i++) {
        if (opts[i].value == NULL || list_opt(opts[i].name))
            continue;
        size_t k = 0;
        assert(strlen(opts[i].name) < sizeof(param));
        for (; opts[i].name[k] != '\0' && k < sizeof(param) - 1; k++)
            param[k] = opts[i].name[k] == '-' ? '_' : opts[i].name[k];
        param[k] = '\0';
        err = fx_client_query_add(b, param, opts[i].value);
    }
    return err;
}

/*
 * A list command's work once its options are parsed: GETs path with every
 * option given but the list options as a query parameter (see add_filters),
 * through fx_cli_list, and prints the items as a table of cols (with --json,
 * fx_cli_list has printed the answer already).
 */
int fx_cli_list_print(struct fx_cli *cli, const char *path, const struct fx_opt *opts,
                      size_t n_opts, const struct fx_table_col *cols, size_t ncols)
{
    int rc = FX_EXIT_OK;
    json_t *items = NULL;
    struct fx_buf url;

    fx_buf_init(&url, 64 * 1024);
    if (add_filters(&url, path, opts, n_opts) != FX_OK) {
        rc = fx_args_usage_error(cli, "an option value is too long");
        goto out;
    }
    rc = fx_cli_list(cli, &fx_cli_api_pager, url.p, opts, n_opts, &items);
    if (rc == FX_EXIT_OK && items != NULL)
        fx_table_print_items(stdout, items, cols, ncols);
out:
    json_decref(items);
    fx_buf_cleanup(&url);
    return rc;
}

/*
 * A command about one list under one record ("fx notice history NOTICE",
 * "fx incident versions INCIDENT"): parses the record's id (what names it in
 * messages) and, for a paginated list, the list options, then GETs
 * prefix/ID+suffix and prints the items as a table of cols.
 */
int fx_cli_record_list(struct fx_cli *cli, int argc, char **argv, const char *prefix,
                       const char *suffix, const char *what, bool paged,
                       const struct fx_table_col *cols, size_t ncols)
{
    int rc = FX_EXIT_OK;
    struct fx_opt opts[] = {FX_CLI_LIST_OPTS};
    size_t n_opts = paged ? FX_ARRAY_LEN(opts) : 0;
    struct fx_buf path;

    fx_buf_init(&path, 64 * 1024);
    rc = fx_cli_parse_record(cli, argc, argv, opts, n_opts, prefix, suffix, what, &path);
    if (rc != FX_EXIT_OK || cli->help)
        goto out;
    rc = fx_cli_list_print(cli, path.p, opts, n_opts, cols, ncols);
out:
    fx_buf_cleanup(&path);
    return rc;
}

/*
 * "fx notice access-log NOTICE" and its like for other records: the audit
 * rows of outside reads of the record at prefix/ID (SPEC §10), paginated.
 */
int fx_cli_access_log(struct fx_cli *cli, int argc, char **argv, const char *prefix,
                      const char *what)
{
    static const struct fx_table_col cols[] = {
        {"TIME", "time", NULL},    {"ACTION", "action", NULL},   {"USER", "user_email", NULL},
        {"ORG", "org_name", NULL}, {"USER ID", "user_id", NULL},
    };
    return fx_cli_record_list(cli, argc, argv, prefix, "/access-log", what, true, cols,
                              FX_ARRAY_LEN(cols));
}

/*
 * GETs prefix/ID suffix and writes the answer's bytes to stdout unchanged,
 * with no added newline: served bytes a ledger leaf hashes, which
 * "fx verify --record" checks exactly. what names ID in a usage error.
 */
int fx_cli_print_raw(struct fx_cli *cli, const char *prefix, const char *id, const char *suffix,
                     const char *what)
{
    struct fx_buf path;
    struct fx_response resp;
    int rc;
    fx_buf_init(&path, 64 * 1024);
    fx_client_response_init(&resp);
    if (fx_cli_path(&path, prefix, id, suffix) != FX_OK) {
        rc = fx_args_usage_error(cli, "the %s is too long", what);
        goto out;
    }
    struct fx_request rq = {"GET", path.p, NULL, 0, NULL, NULL};
    rc = fx_cli_call(cli, &rq, &resp, NULL);
    if (rc == FX_EXIT_OK && resp.body.len > 0 &&
        fwrite(resp.body.p, 1, resp.body.len, stdout) != resp.body.len) {
        fputs("fx: cannot write to standard output\n", stderr);
        rc = FX_EXIT_LOCAL;
    }
out:
    fx_client_response_cleanup(&resp);
    fx_buf_cleanup(&path);
    return rc;
}

/*
 * "fx notice version NOTICE N" and its like for other records: prints
 * prefix/ID/versions/N as served (SPEC §9), whatever --json says.
 */
int fx_cli_record_version(struct fx_cli *cli, int argc, char **argv, const char *prefix,
                          const char *what)
{
    const char *pos[FX_CLI_MAX_POS];
    int64_t v;
    int rc = fx_cli_positional(cli, argc, argv, NULL, 0, 2, 2, pos);
    if (rc != FX_EXIT_OK || cli->help)
        return rc;
    if (fx_parse_i64(pos[1], strlen(pos[1]), 1, INT64_MAX, &v) != FX_OK)
        return fx_args_usage_error(cli, "the version must be a positive integer");
    char suffix[40];
    snprintf(suffix, sizeof(suffix), "/versions/%lld", (long long)v);
    return fx_cli_print_raw(cli, prefix, pos[0], suffix, what);
}

/* Reads fd to its end into out; FX_ETOOBIG past max bytes, FX_EIO (errno set) on error. */
enum fx_err fx_cli_read_fd(int fd, size_t max, struct fx_buf *out)
{
    enum fx_err err = FX_OK;
    char chunk[8192];
    ssize_t n = 1;

    while (err == FX_OK && n != 0) {
        n = read(fd, chunk, sizeof(chunk));
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            err = FX_EIO;
        else if (out->len + (size_t)n > max)
            err = FX_ETOOBIG;
        else if (n > 0)
            err = fx_buf_add(out, chunk, (size_t)n);
    }
    return err;
}

/*
 * Reads a JSON object from the file at path ("-" for stdin) into *out
 * (owned). The file may be at most FX_MAX_BODY bytes, the server's own
 * limit. Returns FX_EIO, FX_ETOOBIG or FX_EINVAL (not a JSON object, or
 * duplicate keys) after saying why on stderr.
 */
enum fx_err fx_cli_read_json_file(const char *path, json_t **out)
{
    enum fx_err err = FX_OK;
    int fd = -1;
    bool is_stdin = strcmp(path, "-") == 0;
    const char *name = is_stdin ? "standard input" : path;
    struct fx_buf b;
    json_error_t jerr;

    *out = NULL;
    fx_buf_init(&b, FX_MAX_BODY);
    fd = is_stdin ? STDIN_FILENO : open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        fprintf(stderr, "fx: cannot open %s: %s\n", name, strerror(errno));
        err = FX_EIO;
        goto out;
    }
    err = fx_cli_read_fd(fd, FX_MAX_BODY, &b);
    if (err == FX_ETOOBIG) {
        fprintf(stderr, "fx: %s is larger than the server accepts (%d bytes)\n", name, FX_MAX_BODY);
        goto out;
    }
    if (err != FX_OK) {
        fprintf(stderr, "fx: cannot read %s: %s\n", name, strerror(errno));
        goto out;
    }
    *out = json_loadb(b.p ? b.p : "", b.len, JSON_REJECT_DUPLICATES, &jerr);
    if (*out == NULL) {
        fprintf(stderr, "fx: %s: line %d, column %d: %s\n", name, jerr.line, jerr.column,
                jerr.text);
        err = FX_EINVAL;
        goto out;
    }
    if (!json_is_object(*out)) {
        fprintf(stderr, "fx: %s: not a JSON object\n", name);
        json_decref(*out);
        *out = NULL;
        err = FX_EINVAL;
        goto out;
    }
out:
    if (fd >= 0 && !is_stdin)
        close(fd);
    fx_buf_cleanup(&b);
    return err;
}
