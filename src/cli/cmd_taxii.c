/*
 * cmd_taxii.c: "fx taxii ...", a small TAXII 2.1 client of fxd's own server
 * (SPEC §8): the discovery and API root resources, collections, paging
 * through a collection's objects (or one object's versions) with the TAXII
 * filters, adding an envelope of STIX objects and reading its status again
 * later, and deleting an object. It speaks
 * application/taxii+json;version=2.1 as the protocol asks; the server's error
 * messages are printed like the API's problems.
 */
#include "cli/cli_int.h"

#include "common/limits.h"
#include "common/parse.h"
#include "taxii/stix.h"

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

static const char collections_usage[] =
    "usage: fx taxii collections [COLLECTION]\n"
    "\n"
    "Lists the collections: incidents (read-only) and one per organization (your own\n"
    "is writable); with COLLECTION, shows that one.\n";

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

static const char versions_usage[] =
    "usage: fx taxii versions COLLECTION OBJECT [--spec-version S] [--added-after TIME]\n"
    "                         [--limit N] [--next N] [--all]\n"
    "\n"
    "Lists the versions of one object you may see, in date_added order. With --json,\n"
    "prints the TAXII versions resource (all pages merged with --all).\n"
    "\n"
    "  --spec-version S    match[spec_version]\n"
    "  --added-after TIME  only versions added after TIME (a TAXII timestamp)\n"
    "  --limit N           page size (the server serves at most 1000)\n"
    "  --next N            continue from a previous page's next\n"
    "  --all               follow next until the last page\n";

static const char delete_usage[] =
    "usage: fx taxii delete COLLECTION OBJECT [--version V] [--spec-version S]\n"
    "\n"
    "Deletes an object from your organization's collection (its members and admins):\n"
    "every version, or those --version names.\n"
    "\n"
    "  --version V         match[version]: first, last, all, or a timestamp\n"
    "  --spec-version S    match[spec_version]\n";

static const char status_usage[] =
    "usage: fx taxii status STATUS\n"
    "\n"
    "Shows the status of an envelope your organization added (STATUS is the id\n"
    "'fx taxii add' printed): each object stored, or refused with the reason.\n";

static const char discovery_usage[] = "usage: fx taxii discovery\n"
                                      "\n"
                                      "Shows the server's TAXII discovery resource: its API "
                                      "roots.\n";

static const char root_usage[] = "usage: fx taxii root\n"
                                 "\n"
                                 "Shows the API root: the TAXII versions it speaks and the "
                                 "largest envelope\n(max_content_length) it accepts.\n";

static const char add_usage[] =
    "usage: fx taxii add COLLECTION --file FILE\n"
    "\n"
    "Adds the STIX objects of a TAXII envelope ({\"objects\": [...]}) or a STIX bundle\n"
    "to a collection, and prints the status: each object stored, or refused with the\n"
    "reason. Exit status 3 when any object was refused.\n"
    "\n"
    "  --file FILE   the JSON document; '-' reads standard input\n";

/* The options of a paged TAXII command, after its filters. */
/* clang-format off */
#define TAXII_PAGE_OPTS {"limit", true, NULL}, {"next", true, NULL}, {"all", false, NULL}
/* clang-format on */

/* Each filter option and the TAXII query parameter it becomes. */
static const char *const query_params[][2] = {{"type", "match[type]"},
                                              {"id", "match[id]"},
                                              {"version", "match[version]"},
                                              {"spec-version", "match[spec_version]"},
                                              {"added-after", "added_after"}};

/* TAXII 2.1 §3.4: ?limit=&next= answer {"more", "next", and objects or versions}. fxd caps
 * the page size itself (TAXII 2.1 §3.3.1), so any positive limit goes. */
static const struct fx_cli_pager objects_pager = {"objects", "next", "next", "more", INT64_MAX};
static const struct fx_cli_pager versions_pager = {"versions", "next", "next", "more", INT64_MAX};

/* Members shown of the discovery, API root and collection resources. */
static const char *const discovery_keys[] = {"title", "description", "contact", "default",
                                             "api_roots"};
static const char *const root_keys[] = {"title", "description", "versions", "max_content_length"};
static const char *const collection_keys[] = {"id",       "alias",     "title",      "description",
                                              "can_read", "can_write", "media_types"};

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

/*
 * Sets b to a resource of a collection: suffix after the collection
 * ("/objects/", "/manifest/") or, with object, after that object's path
 * (".../objects/ID" + "/" or "/versions/"); then the filter options given,
 * as TAXII query parameters (query_params).
 */
static enum fx_err taxii_url(struct fx_buf *b, const char *collection, const char *object,
                             const char *suffix, const struct fx_opt *opts, size_t n_opts)
{
    enum fx_err err =
        fx_cli_path(b, TAXII_ROOT "/collections", collection, object ? "/objects" : NULL);
    if (err == FX_OK && object != NULL)
        err = fx_client_path_add(b, object);
    if (err == FX_OK)
        err = fx_buf_adds(b, suffix);
    for (size_t k = 0; k < FX_ARRAY_LEN(query_params) && err == FX_OK; k++)
        err = fx_client_query_add(b, query_params[k][1],
                                  fx_args_get(opts, n_opts, query_params[k][0]));
    return err;
}

/*
 * The words of a command about one object, COLLECTION OBJECT and opts: url
 * becomes the object's resource (suffix "/" or "/versions/", filters from
 * opts), *object_out the OBJECT word. Returns as fx_cli_positional does.
 */
static int parse_object(struct fx_cli *cli, int argc, char **argv, struct fx_opt *opts,
                        size_t n_opts, const char *suffix, struct fx_buf *url,
                        const char **object_out)
{
    const char *pos[FX_CLI_MAX_POS];
    int rc = fx_cli_positional(cli, argc, argv, opts, n_opts, 2, 2, pos);
    if (rc != FX_EXIT_OK || cli->help)
        return rc;
    *object_out = pos[1];
    if (taxii_url(url, pos[0], pos[1], suffix, opts, n_opts) != FX_OK)
        return fx_args_usage_error(cli, "the collection, the object id or an option is too long");
    return FX_EXIT_OK;
}

static int run_discovery(struct fx_cli *cli, int argc, char **argv)
{
    const char *pos[FX_CLI_MAX_POS];
    int rc = fx_cli_positional(cli, argc, argv, NULL, 0, 0, 0, pos);
    if (rc != FX_EXIT_OK || cli->help)
        return rc;
    return fx_cli_send_print(cli, "GET", "/taxii2/", NULL, NULL, NULL, discovery_keys,
                             FX_ARRAY_LEN(discovery_keys));
}

static int run_root(struct fx_cli *cli, int argc, char **argv)
{
    const char *pos[FX_CLI_MAX_POS];
    int rc = fx_cli_positional(cli, argc, argv, NULL, 0, 0, 0, pos);
    if (rc != FX_EXIT_OK || cli->help)
        return rc;
    return fx_cli_send_print(cli, "GET", TAXII_ROOT "/", NULL, NULL, NULL, root_keys,
                             FX_ARRAY_LEN(root_keys));
}

static int run_collections(struct fx_cli *cli, int argc, char **argv)
{
    const char *pos[FX_CLI_MAX_POS] = {NULL};
    size_t i;
    json_t *body = NULL, *c;
    struct fx_table t;
    int rc;

    rc = fx_cli_positional(cli, argc, argv, NULL, 0, 0, 1, pos);
    if (rc != FX_EXIT_OK || cli->help)
        return rc;
    if (pos[0] != NULL)
        return fx_cli_send_print(cli, "GET", TAXII_ROOT "/collections", pos[0], "/", NULL,
                                 collection_keys, FX_ARRAY_LEN(collection_keys));
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
                            {"manifest", false, NULL},   TAXII_PAGE_OPTS};
    const char *pos[FX_CLI_MAX_POS];
    size_t i;
    struct fx_buf url;
    json_t *all = NULL, *o;
    int rc = FX_EXIT_OK;

    fx_buf_init(&url, 64 * 1024);
    rc = fx_cli_positional(cli, argc, argv, opts, FX_ARRAY_LEN(opts), 1, 1, pos);
    if (rc != FX_EXIT_OK || cli->help)
        goto out;
    const char *object = fx_args_get(opts, FX_ARRAY_LEN(opts), "object");
    bool manifest = fx_args_get(opts, FX_ARRAY_LEN(opts), "manifest") != NULL;
    if (object != NULL && manifest) {
        rc = fx_args_usage_error(cli, "--object and --manifest do not go together");
        goto out;
    }
    const char *suffix = manifest ? "/manifest/" : "/objects/";
    if (taxii_url(&url, pos[0], object, object ? "/" : suffix, opts, FX_ARRAY_LEN(opts)) != FX_OK) {
        rc = fx_args_usage_error(cli, "the collection, the object id or an option is too long");
        goto out;
    }
    rc = fx_cli_list(cli, &objects_pager, url.p, opts, FX_ARRAY_LEN(opts), &all);
    if (rc != FX_EXIT_OK || all == NULL)
        goto out;
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
out:
    json_decref(all);
    fx_buf_cleanup(&url);
    return rc;
}

/* A versions page lists bare timestamps: each item is its own cell. */
static const json_t *itself(const json_t *item)
{
    return item;
}

static int run_versions(struct fx_cli *cli, int argc, char **argv)
{
    struct fx_opt opts[] = {
        {"spec-version", true, NULL}, {"added-after", true, NULL}, TAXII_PAGE_OPTS};
    static const struct fx_table_col cols[] = {{"VERSION", NULL, itself}};
    const char *object = NULL;
    struct fx_buf url;
    json_t *versions = NULL;
    int rc = FX_EXIT_OK;

    fx_buf_init(&url, 64 * 1024);
    rc = parse_object(cli, argc, argv, opts, FX_ARRAY_LEN(opts), "/versions/", &url, &object);
    if (rc != FX_EXIT_OK || cli->help)
        goto out;
    rc = fx_cli_list(cli, &versions_pager, url.p, opts, FX_ARRAY_LEN(opts), &versions);
    if (rc == FX_EXIT_OK && versions != NULL)
        fx_table_print_items(stdout, versions, cols, FX_ARRAY_LEN(cols));
out:
    json_decref(versions);
    fx_buf_cleanup(&url);
    return rc;
}

static int run_delete(struct fx_cli *cli, int argc, char **argv)
{
    struct fx_opt opts[] = {{"version", true, NULL}, {"spec-version", true, NULL}};
    const char *object = NULL;
    struct fx_buf url;
    struct fx_response resp;
    int rc = FX_EXIT_OK;

    fx_buf_init(&url, 64 * 1024);
    fx_client_response_init(&resp);
    rc = parse_object(cli, argc, argv, opts, FX_ARRAY_LEN(opts), "/", &url, &object);
    if (rc != FX_EXIT_OK || cli->help)
        goto out;
    struct fx_request rq = {"DELETE", url.p, NULL, 0, NULL, NULL};
    rc = fx_cli_call(cli, &rq, &resp, NULL);
    /* the answer has no body: --json prints nothing, as for "fx token revoke" */
    if (rc == FX_EXIT_OK && !cli->json) {
        char *id = fx_output_clean(object, false);
        printf("Deleted %s.\n", id);
        free(id);
    }
out:
    fx_client_response_cleanup(&resp);
    fx_buf_cleanup(&url);
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

/* A status resource for people: the counts, the ledger leaves, each refused object and why. */
static void print_status(const json_t *status)
{
    char *sid = fx_output_value(json_object_get(status, "id"));
    size_t i;
    json_t *f;

    printf("status %s: %lld of %lld stored, %lld refused\n", sid,
           (long long)json_integer_value(json_object_get(status, "success_count")),
           (long long)json_integer_value(json_object_get(status, "total_count")),
           (long long)json_integer_value(json_object_get(status, "failure_count")));
    free(sid);
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

static int run_status(struct fx_cli *cli, int argc, char **argv)
{
    const char *pos[FX_CLI_MAX_POS];
    json_t *status = NULL;
    int rc = fx_cli_positional(cli, argc, argv, NULL, 0, 1, 1, pos);
    if (rc != FX_EXIT_OK || cli->help)
        return rc;
    rc = fx_cli_send(cli, "GET", TAXII_ROOT "/status", pos[0], "/", NULL, &status);
    if (rc == FX_EXIT_OK && cli->json)
        fx_cli_print_json(status);
    else if (rc == FX_EXIT_OK)
        print_status(status);
    json_decref(status);
    return rc;
}

/* Where the elements of an envelope's "objects" lie in its text (fx_stix_envelope_each). */
struct elements {
    const char *first; /* the first element's first byte */
    const char *end;   /* one past the last element's last byte */
    size_t n;
};

static enum fx_err on_element(const char *p, size_t len, size_t index, void *arg)
{
    struct elements *e = arg;
    if (index == 0)
        e->first = p;
    e->end = p + len;
    e->n++;
    return FX_OK;
}

/*
 * Appends {"objects":ARRAY} to env, ARRAY being the text of the top-level
 * "objects" of the JSON object (p, len), which holds n elements, byte for
 * byte. FX_EINVAL when it cannot be found as written.
 */
static enum fx_err splice_objects(const char *p, size_t len, size_t n, struct fx_buf *env)
{
    static const char ws[] = " \t\r\n";
    struct elements el = {NULL, NULL, 0};
    char msg[256];

    /* the walker finds "objects" only when spelt plainly, not as "objec\u0074s" */
    if (fx_stix_envelope_each(p, len, SIZE_MAX, on_element, &el, msg, sizeof(msg)) != FX_OK ||
        el.n != n || n == 0)
        return FX_EINVAL;
    /* (p, len) is valid JSON: only white space lies between the brackets and the elements */
    const char *lb = el.first, *rb = el.end;
    while (lb > p && strchr(ws, lb[-1]) != NULL)
        lb--;
    while (rb < p + len && strchr(ws, *rb) != NULL)
        rb++;
    if (lb == p || lb[-1] != '[' || rb == p + len || *rb != ']')
        return FX_EINVAL;
    enum fx_err err = fx_buf_adds(env, "{\"objects\":");
    if (err == FX_OK)
        err = fx_buf_add(env, lb - 1, (size_t)(rb + 1 - (lb - 1)));
    if (err == FX_OK)
        err = fx_buf_adds(env, "}");
    return err;
}

/*
 * A STIX bundle in body becomes the envelope TAXII 2.1 collections take,
 * {"objects":[...]}, whose array is the bundle's own text, byte for byte:
 * the server stores, and the ledger hashes, each object's bytes as posted,
 * and re-encoding them would not keep "0.1" or "\u00e9" as written. A bundle
 * without objects (optional in STIX 2.1) sends {"objects":[]}. Anything that
 * is not a bundle is left as it is, for the server to judge. FX_EXIT_LOCAL,
 * said on stderr, for a bundle that is not strict JSON (a duplicate member
 * name among others) or whose "objects" is not a list.
 */
static int bundle_to_envelope(const char *name, struct fx_buf *body)
{
    const char *p = body->p ? body->p : "", *type = NULL;
    const json_t *t, *objects;
    size_t len = body->len, type_len = 0;
    struct fx_buf env;
    json_error_t jerr;
    enum fx_err err;
    int rc = FX_EXIT_OK;

    fx_buf_init(&env, body->max);
    json_t *doc = json_loadb(p, len, JSON_REJECT_DUPLICATES, &jerr);
    if (doc == NULL) {
        /* refused here, not sent: the server would read a broken bundle its own way */
        if (fx_stix_shallow_string(p, len, "type", &type, &type_len) && type_len == 6 &&
            memcmp(type, "bundle", 6) == 0) {
            fprintf(stderr, "fx: %s: the bundle is not valid JSON: %s (line %d, column %d)\n", name,
                    jerr.text, jerr.line, jerr.column);
            rc = FX_EXIT_LOCAL;
        }
        goto out;
    }
    t = json_object_get(doc, "type");
    objects = json_object_get(doc, "objects");
    if (!json_is_string(t) || strcmp(json_string_value(t), "bundle") != 0)
        goto out; /* an envelope (or something else): sent as it is */
    if (objects != NULL && !json_is_array(objects)) {
        fprintf(stderr, "fx: %s: the bundle's \"objects\" is not a list\n", name);
        rc = FX_EXIT_LOCAL;
        goto out;
    }
    if (json_array_size(objects) == 0)
        err = fx_buf_adds(&env, "{\"objects\":[]}");
    else
        err = splice_objects(p, len, json_array_size(objects), &env);
    if (err != FX_OK) { /* FX_ETOOBIG cannot happen: the envelope is shorter than the bundle */
        fprintf(stderr, "fx: %s: the bundle's \"objects\" %s\n", name,
                err == FX_EINVAL ? "cannot be sent as written" : "is too large");
        rc = FX_EXIT_LOCAL;
        goto out;
    }
    fx_buf_cleanup(body);
    *body = env;
    fx_buf_init(&env, body->max);
out:
    json_decref(doc);
    fx_buf_cleanup(&env);
    return rc;
}

static int run_add(struct fx_cli *cli, int argc, char **argv)
{
    struct fx_opt opts[] = {{"file", true, NULL}};
    const char *pos[FX_CLI_MAX_POS];
    struct fx_buf body, path;
    struct fx_response resp;
    json_t *status = NULL;
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
    rc = bundle_to_envelope(is_stdin ? "standard input" : opts[0].value, &body);
    if (rc != FX_EXIT_OK)
        goto out;
    struct fx_request rq = {"POST", path.p, body.p ? body.p : "", body.len, NULL, NULL};
    rc = fx_cli_call(cli, &rq, &resp, &status);
    if (rc != FX_EXIT_OK)
        goto out;
    if (cli->json)
        fx_cli_print_json(status);
    else
        print_status(status);
    if (json_integer_value(json_object_get(status, "failure_count")) > 0)
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
    {"discovery", run_discovery, "show the discovery resource", discovery_usage},
    {"root", run_root, "show the API root", root_usage},
    {"collections", run_collections, "list the collections, or show one", collections_usage},
    {"get", run_get, "get objects or manifest records of a collection", get_usage},
    {"versions", run_versions, "list the versions of one object", versions_usage},
    {"add", run_add, "add STIX objects to your organization's collection", add_usage},
    {"status", run_status, "show the status of an envelope added", status_usage},
    {"delete", run_delete, "delete an object from your organization's collection", delete_usage},
};

int fx_cmd_taxii_run(struct fx_cli *cli, int argc, char **argv)
{
    cli->media = TAXII_MEDIA; /* TAXII 2.1 §1.6.8: its own media type both ways */
    return fx_args_dispatch(cli, "taxii", group_usage, commands, FX_ARRAY_LEN(commands), argc,
                            argv);
}
