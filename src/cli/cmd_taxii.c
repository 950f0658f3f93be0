/*
 * cmd_taxii.c: "fx taxii ...", a small TAXII 2.1 client of fxd's own server
 * (SPEC §8): list collections, page through a collection's objects with the
 * TAXII filters, and add an envelope of STIX objects. It speaks
 * application/taxii+json;version=2.1 as the protocol asks; the server's error
 * messages are printed like the API's problems.
 */
#include "cli/cli_int.h"

#include "common/limits.h"
#include "common/parse.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#define TAXII_MEDIA "application/taxii+json;version=2.1"
#define TAXII_ROOT "/taxii2/fx"

static const char group_usage[] =
    "usage: fx taxii COMMAND [arguments]\n"
    "\n"
    "The server's TAXII 2.1 API root. COLLECTION is a collection id, or 'incidents'\n"
    "for the collection of every STIX object you may see.\n";

static const char collections_usage[] = "usage: fx taxii collections\n"
                                        "\n"
                                        "Lists the collections: incidents (read-only) and one per "
                                        "organization\n(your own is writable).\n";

static const char get_usage[] =
    "usage: fx taxii get COLLECTION [--type T,...] [--id ID,...] [--version V]\n"
    "                    [--spec-version S] [--added-after TIME] [--object ID]\n"
    "                    [--manifest] [--limit N] [--next N] [--all]\n"
    "\n"
    "Gets objects (or, with --manifest, manifest records) in date_added order.\n"
    "With --json, prints the TAXII envelope (all pages merged with --all).\n"
    "\n"
    "  --type T,...        match[type]\n"
    "  --id ID,...         match[id]\n"
    "  --version V         match[version]: first, last (the default), all, or a timestamp\n"
    "  --spec-version S    match[spec_version]\n"
    "  --added-after TIME  only objects added after TIME (a TAXII timestamp)\n"
    "  --object ID         the versions of one object (its own endpoint)\n"
    "  --manifest          manifest records instead of objects\n"
    "  --limit N           page size (the server serves at most 1000)\n"
    "  --next N            continue from a previous page's next\n"
    "  --all               follow next until the last page\n";

static const char add_usage[] =
    "usage: fx taxii add COLLECTION --file FILE\n"
    "\n"
    "Adds the STIX objects of a TAXII envelope ({\"objects\": [...]}) or a STIX bundle\n"
    "to a collection, and prints the status: each object stored, or refused with the\n"
    "reason. Exit status 3 when any object was refused.\n"
    "\n"
    "  --file FILE   the JSON document; '-' reads standard input\n";

/* GET with the TAXII media type; the answer's JSON in *out (owned). */
static int taxii_get(struct fx_cli *cli, const char *path, json_t **out)
{
    struct fx_request rq = {"GET", path, NULL, 0, NULL, NULL};
    struct fx_response resp;
    fx_client_response_init(&resp);
    int rc = fx_cli_call(cli, &rq, &resp, out);
    if (rc == FX_EXIT_OK && *out == NULL)
        *out = json_object();
    fx_client_response_cleanup(&resp);
    return rc;
}

static int run_collections(struct fx_cli *cli, int argc, char **argv)
{
    const char *pos[FX_CLI_MAX_POS];
    size_t i;
    json_t *body = NULL, *c;
    struct fx_table t;
    int rc;

    rc = fx_cli_positional(cli, argc, argv, NULL, 0, 0, 0, pos);
    if (rc != FX_EXIT_OK || cli->help)
        return rc;
    rc = taxii_get(cli, TAXII_ROOT "/collections/", &body);
    if (rc != FX_EXIT_OK)
        goto out;
    if (cli->json) {
        fx_cli_print_json(body);
        goto out;
    }
    fx_table_init(&t, 5);
    fx_table_add(&t, "ID");
    fx_table_add(&t, "ALIAS");
    fx_table_add(&t, "READ");
    fx_table_add(&t, "WRITE");
    fx_table_add(&t, "TITLE");
    json_array_foreach(json_object_get(body, "collections"), i, c)
    {
        fx_table_add_field(&t, c, "id");
        fx_table_add_field(&t, c, "alias");
        fx_table_add_field(&t, c, "can_read");
        fx_table_add_field(&t, c, "can_write");
        fx_table_add_field(&t, c, "title");
    }
    fx_table_print(&t, stdout);
    fx_table_cleanup(&t);
out:
    json_decref(body);
    return rc;
}

static int run_get(struct fx_cli *cli, int argc, char **argv)
{
    struct fx_opt opts[] = {{"type", true, NULL},        {"id", true, NULL},
                            {"version", true, NULL},     {"spec-version", true, NULL},
                            {"added-after", true, NULL}, {"object", true, NULL},
                            {"manifest", false, NULL},   {"limit", true, NULL},
                            {"next", true, NULL},        {"all", false, NULL}};
    static const char *const filters[][2] = {{"type", "match[type]"},
                                             {"id", "match[id]"},
                                             {"version", "match[version]"},
                                             {"spec-version", "match[spec_version]"},
                                             {"added-after", "added_after"},
                                             {"limit", "limit"}};
    const char *pos[FX_CLI_MAX_POS];
    size_t i;
    struct fx_buf base, url;
    json_t *page = NULL, *all = json_array(), *o;
    char *next = NULL;
    int rc = FX_EXIT_OK;
    int64_t n;

    fx_buf_init(&base, 64 * 1024);
    fx_buf_init(&url, 64 * 1024);
    rc = fx_cli_positional(cli, argc, argv, opts, FX_ARRAY_LEN(opts), 1, 1, pos);
    if (rc != FX_EXIT_OK || cli->help)
        goto out;
    const char *object = fx_args_get(opts, FX_ARRAY_LEN(opts), "object");
    bool manifest = fx_args_get(opts, FX_ARRAY_LEN(opts), "manifest") != NULL;
    bool follow = fx_args_get(opts, FX_ARRAY_LEN(opts), "all") != NULL;
    const char *limit = fx_args_get(opts, FX_ARRAY_LEN(opts), "limit");
    if (limit != NULL && fx_parse_i64(limit, strlen(limit), 1, INT64_MAX, &n) != FX_OK) {
        rc = fx_args_usage_error(cli, "--limit must be a positive integer");
        goto out;
    }
    if (object != NULL && manifest) {
        rc = fx_args_usage_error(cli, "--object and --manifest do not go together");
        goto out;
    }
    enum fx_err err = fx_cli_path(&base, TAXII_ROOT "/collections", pos[0], NULL);
    if (err == FX_OK && object != NULL) {
        err = fx_buf_adds(&base, "/objects");
        if (err == FX_OK)
            err = fx_client_path_add(&base, object);
        if (err == FX_OK)
            err = fx_buf_adds(&base, "/");
    } else if (err == FX_OK) {
        err = fx_buf_adds(&base, manifest ? "/manifest/" : "/objects/");
    }
    if (err != FX_OK) {
        rc = fx_args_usage_error(cli, "the collection or object id is too long");
        goto out;
    }
    const char *start = fx_args_get(opts, FX_ARRAY_LEN(opts), "next");
    next = start ? fx_xstrdup(start) : NULL;
    bool more = false;
    for (long pages = 0;; pages++) {
        fx_buf_reset(&url);
        err = fx_buf_adds(&url, base.p);
        for (size_t k = 0; k < FX_ARRAY_LEN(filters) && err == FX_OK; k++)
            err = fx_client_query_add(&url, filters[k][1],
                                      fx_args_get(opts, FX_ARRAY_LEN(opts), filters[k][0]));
        if (err == FX_OK)
            err = fx_client_query_add(&url, "next", next);
        if (err != FX_OK) {
            rc = fx_args_usage_error(cli, "an option value is too long");
            goto out;
        }
        json_decref(page);
        page = NULL;
        rc = taxii_get(cli, url.p, &page);
        if (rc != FX_EXIT_OK)
            goto out;
        json_array_extend(all, json_object_get(page, "objects"));
        more = json_is_true(json_object_get(page, "more"));
        const json_t *nx = json_object_get(page, "next");
        FX_FREE(next);
        if (!more || !json_is_string(nx) || !follow)
            break;
        next = fx_xstrdup(json_string_value(nx));
        if (pages >= FX_CLI_MAX_PAGES) {
            fprintf(stderr, "fx: more than %d pages; stopping\n", FX_CLI_MAX_PAGES);
            rc = FX_EXIT_SERVER;
            goto out;
        }
    }
    if (cli->json) {
        json_t *doc = follow ? json_pack("{s:b,s:O}", "more", 0, "objects", all) : json_incref(page);
        fx_cli_print_json(doc);
        json_decref(doc);
        goto out;
    }
    struct fx_table t;
    fx_table_init(&t, manifest ? 3 : 4);
    fx_table_add(&t, "ID");
    if (manifest) {
        fx_table_add(&t, "VERSION");
        fx_table_add(&t, "DATE ADDED");
    } else {
        fx_table_add(&t, "TYPE");
        fx_table_add(&t, "MODIFIED");
        fx_table_add(&t, "NAME");
    }
    json_array_foreach(all, i, o)
    {
        fx_table_add_field(&t, o, "id");
        if (manifest) {
            fx_table_add_field(&t, o, "version");
            fx_table_add_field(&t, o, "date_added");
        } else {
            fx_table_add_field(&t, o, "type");
            fx_table_add_field(&t, o, json_object_get(o, "modified") ? "modified" : "created");
            fx_table_add_field(&t, o, json_object_get(o, "name") ? "name" : "pattern");
        }
    }
    fx_table_print(&t, stdout);
    fx_table_cleanup(&t);
    const json_t *nx = json_object_get(page, "next");
    if (more && json_is_string(nx) && !follow)
        fprintf(stderr, "fx: more objects follow: add --all, or --next %s\n",
                json_string_value(nx));
out:
    free(next);
    json_decref(page);
    json_decref(all);
    fx_buf_cleanup(&url);
    fx_buf_cleanup(&base);
    return rc;
}

/*
 * The ledger leaves the envelope's stored objects became (decision 0009): their
 * indices and the size of the signed checkpoint that proves them.
 */
static void print_leaves(const json_t *status)
{
    const json_t *lg = json_object_get(status, "x_fx_ledger"), *s;
    json_int_t first = -1, last = -1;
    size_t i;
    json_array_foreach(json_object_get(status, "successes"), i, s)
    {
        const json_t *ix = json_object_get(s, "x_fx_leaf_index");
        if (!json_is_integer(ix))
            continue;
        if (first < 0)
            first = json_integer_value(ix);
        last = json_integer_value(ix);
    }
    if (lg == NULL || first < 0)
        return;
    printf("ledger: leaves %lld to %lld, in the signed checkpoint of tree size %lld\n",
           (long long)first, (long long)last,
           (long long)json_integer_value(json_object_get(lg, "tree_size")));
}

static int run_add(struct fx_cli *cli, int argc, char **argv)
{
    struct fx_opt opts[] = {{"file", true, NULL}};
    const char *pos[FX_CLI_MAX_POS];
    size_t i;
    struct fx_buf body, path;
    struct fx_response resp;
    json_t *status = NULL, *f;
    int rc = FX_EXIT_OK, fd = -1;

    fx_buf_init(&body, FX_MAX_TAXII_BODY_CEILING);
    fx_buf_init(&path, 64 * 1024);
    fx_client_response_init(&resp);
    rc = fx_cli_positional(cli, argc, argv, opts, FX_ARRAY_LEN(opts), 1, 1, pos);
    if (rc != FX_EXIT_OK || cli->help)
        goto out;
    if (opts[0].value == NULL) {
        rc = fx_args_usage_error(cli, "--file is required");
        goto out;
    }
    bool is_stdin = strcmp(opts[0].value, "-") == 0;
    fd = is_stdin ? STDIN_FILENO : open(opts[0].value, O_RDONLY | O_CLOEXEC);
    if (fd < 0 || fx_cli_read_fd(fd, FX_MAX_TAXII_BODY_CEILING, &body) != FX_OK) {
        fprintf(stderr, "fx: cannot read %s: %s\n", is_stdin ? "standard input" : opts[0].value,
                errno ? strerror(errno) : "too large");
        rc = FX_EXIT_LOCAL;
        goto out;
    }
    if (fx_cli_path(&path, TAXII_ROOT "/collections", pos[0], "/objects/") != FX_OK) {
        rc = fx_args_usage_error(cli, "the collection id is too long");
        goto out;
    }
    /* a bundle travels as an envelope: TAXII 2.1 collections take envelopes */
    json_t *doc = json_loadb(body.p ? body.p : "", body.len, JSON_REJECT_DUPLICATES, NULL);
    if (json_is_object(doc) && json_is_string(json_object_get(doc, "type")) &&
        strcmp(json_string_value(json_object_get(doc, "type")), "bundle") == 0) {
        json_t *env = json_pack("{s:O}", "objects", json_object_get(doc, "objects"));
        char *text = env ? json_dumps(env, JSON_COMPACT) : NULL;
        json_decref(env);
        if (text == NULL)
            fx_die("out of memory");
        fx_buf_reset(&body);
        fx_buf_adds(&body, text);
        free(text);
    }
    json_decref(doc);
    struct fx_request rq = {"POST", path.p, body.p ? body.p : "", body.len, NULL, NULL};
    rc = fx_cli_call(cli, &rq, &resp, &status);
    if (rc != FX_EXIT_OK)
        goto out;
    json_int_t failures = json_integer_value(json_object_get(status, "failure_count"));
    if (cli->json) {
        fx_cli_print_json(status);
    } else {
        printf("status %s: %lld of %lld stored, %lld refused\n",
               json_string_value(json_object_get(status, "id")),
               (long long)json_integer_value(json_object_get(status, "success_count")),
               (long long)json_integer_value(json_object_get(status, "total_count")),
               (long long)failures);
        print_leaves(status);
        json_array_foreach(json_object_get(status, "failures"), i, f)
        {
            char *id = fx_output_clean(json_string_value(json_object_get(f, "id")), false);
            char *msg = fx_output_clean(json_string_value(json_object_get(f, "message")), false);
            printf("  refused %s: %s\n", id[0] ? id : "(no id)", msg);
            free(id);
            free(msg);
        }
    }
    if (failures > 0)
        rc = FX_EXIT_REFUSED;
out:
    if (fd >= 0 && fd != STDIN_FILENO)
        close(fd);
    json_decref(status);
    fx_client_response_cleanup(&resp);
    fx_buf_cleanup(&path);
    fx_buf_cleanup(&body);
    return rc;
}

static const struct fx_cmd commands[] = {
    {"collections", run_collections, "list the collections", collections_usage},
    {"get", run_get, "get objects or manifest records of a collection", get_usage},
    {"add", run_add, "add STIX objects to your organization's collection", add_usage},
};

int fx_cmd_taxii_run(struct fx_cli *cli, int argc, char **argv)
{
    cli->media = TAXII_MEDIA; /* TAXII 2.1 §1.6.8: its own media type both ways */
    return fx_args_dispatch(cli, "taxii", group_usage, commands, FX_ARRAY_LEN(commands), argc,
                            argv);
}
