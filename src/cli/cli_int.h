/*
 * cli_int.h: what the files of src/cli share. fx is a client of the HTTP API
 * (docs/API.md) and nothing else: it uses src/common, jansson and libcurl
 * (opened only when a command needs the network, libcurl.c), never the
 * store, so everything it knows comes over the wire (STYLE §1).
 *
 * Layout: main.c dispatches to one cmd_<group>.c per command group; args.c
 * parses options, config.c finds the server and the token, client.c speaks
 * HTTP through libcurl, cli.c ties them together (parse a command's words,
 * send, check, page through lists), output.c and table.c print for humans.
 */
#ifndef FX_CLI_INT_H
#define FX_CLI_INT_H

#include "common/buf.h"
#include "common/fx.h"

#include <curl/curl.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>

/* Exit statuses, documented in docs/CLI.md. Scripts rely on them: never renumber. */
enum fx_exit {
    FX_EXIT_OK = 0,
    FX_EXIT_LOCAL = 1,   /* a local file could not be read or written */
    FX_EXIT_USAGE = 2,   /* bad command line */
    FX_EXIT_REFUSED = 3, /* the server refused the request (4xx) */
    FX_EXIT_SERVER = 4,  /* the server failed (5xx), or its answer cannot be read */
    FX_EXIT_CONNECT = 5, /* no connection to the server */
    FX_EXIT_VERIFY = 6,  /* a receipt or checkpoint did not verify: evidence of tampering */
};

/* Where fx looks for a server when nothing else names one (fxd's default --listen). */
#define FX_CLI_DEFAULT_URL "http://127.0.0.1:8080"
/* Largest answer fx buffers. A full page of 500 notices whose description and safeguards
 * are both at the 64 KiB limit is about 64 MiB; four times that is surely a broken server. */
#define FX_CLI_MAX_RESPONSE (256u * 1024 * 1024)
/* Largest config file: it holds a URL and a token, so anything bigger is not ours. */
#define FX_CLI_MAX_CONFIG (64 * 1024)
/* A server that accepts no connection within this long is down, not slow (milliseconds). */
#define FX_CLI_CONNECT_TIMEOUT_MS 10000L
/* A transfer that moves no byte for this long has stalled (seconds). */
#define FX_CLI_STALL_SECONDS 120L
/* Pages fx follows for --all before it suspects the server of looping. */
#define FX_CLI_MAX_PAGES 100000
/* Positional arguments any command takes, at most. */
#define FX_CLI_MAX_POS 4

/* ------------------------------------------------------------------ libcurl.c */

/* The libcurl functions fx calls, bound by fx_curl() when first needed. */
struct fx_curl {
    CURLcode (*global_init)(long flags);
    void (*global_cleanup)(void);
    CURL *(*easy_init)(void);
    void (*easy_cleanup)(CURL *curl);
    void (*easy_reset)(CURL *curl);
    CURLcode (*easy_setopt)(CURL *curl, CURLoption option, ...);
    CURLcode (*easy_perform)(CURL *curl);
    CURLcode (*easy_getinfo)(CURL *curl, CURLINFO info, ...);
    CURLHcode (*easy_header)(CURL *curl, const char *name, size_t index, unsigned int origin,
                             int request, struct curl_header **hout);
    const char *(*easy_strerror)(CURLcode code);
    struct curl_slist *(*slist_append)(struct curl_slist *list, const char *data);
    void (*slist_free_all)(struct curl_slist *list);
};

const struct fx_curl *fx_curl(void);
void fx_curl_unload(void);

/* ------------------------------------------------------------------ client.c */

struct fx_client {
    const struct fx_curl *api; /* static: libcurl, loaded by fx_client_init() */
    CURL *curl; /* owned; reused so that pages share one connection */
    char *base; /* owned; the server URL without a trailing '/' */
    char *auth; /* owned; "Authorization: Bearer ..." or NULL; wiped on cleanup */
    const char *media; /* borrowed: Accept and Content-Type; NULL for application/json */
    char errbuf[CURL_ERROR_SIZE];
};

struct fx_request {
    const char *method; /* "GET", "POST", "PATCH", "DELETE" */
    const char *path;   /* "/api/v1/...", already escaped, with any query */
    const char *body;   /* borrowed; NULL for no body */
    size_t body_len;
    const char *if_match;        /* borrowed; NULL for none */
    const char *idempotency_key; /* borrowed; NULL for none */
};

struct fx_response {
    long status;        /* HTTP status, 0 when no answer arrived */
    struct fx_buf body; /* owned */
    char *content_type; /* owned, may be NULL */
    char *etag;         /* owned, may be NULL */
    char *location;     /* owned, may be NULL */
    char *retry_after;  /* owned, may be NULL */
    bool replayed;      /* Idempotent-Replayed: true */
    char *error;        /* owned; why no complete answer arrived, or NULL */
    bool bad_request;   /* nothing was sent: the URL or a header value is malformed */
};

enum fx_err fx_client_init(struct fx_client *c, const char *base_url, const char *token);
void fx_client_cleanup(struct fx_client *c);
void fx_client_response_init(struct fx_response *r);
void fx_client_response_cleanup(struct fx_response *r);
enum fx_err fx_client_send(struct fx_client *c, const struct fx_request *rq,
                           struct fx_response *out);
enum fx_err fx_client_path_add(struct fx_buf *b, const char *segment);
enum fx_err fx_client_query_add(struct fx_buf *b, const char *name, const char *value);

/* ------------------------------------------------------------------ args.c */

struct fx_cli;

/* One command: run() gets the words after the command's name. */
struct fx_cmd {
    const char *name;
    int (*run)(struct fx_cli *cli, int argc, char **argv);
    const char *summary; /* one line, for the group's help */
    const char *usage;   /* the full help text */
};

/* One option of a command, by its long name. */
struct fx_opt {
    const char *name; /* without the leading "--" */
    bool has_arg;
    const char *value; /* out: the last value given (borrowed from argv); "" for a flag */
};

int fx_args_dispatch(struct fx_cli *cli, const char *group, const char *usage,
                     const struct fx_cmd *cmds, size_t n_cmds, int argc, char **argv);
enum fx_err fx_args_parse(struct fx_cli *cli, int argc, char **argv, struct fx_opt *opts,
                          size_t n_opts, size_t min_pos, size_t max_pos,
                          const char *pos_out[FX_CLI_MAX_POS], size_t *n_pos_out);
int fx_args_usage_error(const struct fx_cli *cli, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
const char *fx_args_get(const struct fx_opt *opts, size_t n_opts, const char *name);

/* ------------------------------------------------------------------ config.c */

char *fx_config_path(void);
enum fx_err fx_config_load(const char *path, char **url_out, char **token_out);
enum fx_err fx_config_save(const char *path, const char *url, const char *token);

/* ------------------------------------------------------------------ cli.c */

struct fx_table_col;

/* How a paginated resource pages (fx_cli_list): the API's lists, or TAXII's. */
struct fx_cli_pager {
    const char *items;  /* the member holding a page's items: "items", "objects", ... */
    const char *cursor; /* the query parameter, and option, naming the next page */
    const char *next;   /* the member naming the page after this one */
    const char *more;   /* NULL, or the member that must be true for a next page (TAXII) */
    int64_t max_limit;  /* the largest --limit the server takes */
};

extern const struct fx_cli_pager fx_cli_api_pager;

struct fx_cli {
    const char *url_opt;         /* borrowed from argv: --url */
    const char *token_opt;       /* borrowed from argv: --token */
    const char *idempotency_key; /* borrowed from argv: --idempotency-key */
    bool json;                   /* --json: print the server's JSON */
    bool help;                   /* -h/--help was given: the usage has been printed */
    const char *media;           /* static: the media type spoken, NULL for JSON (fx taxii) */
    const char *cmd_name;        /* "notice list", for messages */
    const char *usage;           /* help text of the command running, borrowed */
    bool anonymous;              /* public endpoints (fx ledger): no token read, checked or sent */
    bool connected;
    char *url; /* owned; the server in use, once connected */
    struct fx_client client;
};

void fx_cli_init(struct fx_cli *cli);
void fx_cli_cleanup(struct fx_cli *cli);
int fx_cli_resolve(struct fx_cli *cli, char **url_out, char **token_out);
int fx_cli_call(struct fx_cli *cli, const struct fx_request *rq, struct fx_response *resp,
                json_t **json_out);
int fx_cli_get(struct fx_cli *cli, const char *path, json_t **json_out);
int fx_cli_post(struct fx_cli *cli, const char *path, json_t *body, json_t **json_out);
int fx_cli_list(struct fx_cli *cli, const struct fx_cli_pager *pager, const char *path,
                const struct fx_opt *opts, size_t n_opts, json_t **items_out);
int fx_cli_positional(struct fx_cli *cli, int argc, char **argv, struct fx_opt *opts, size_t n_opts,
                      size_t min_pos, size_t max_pos, const char **pos);
int fx_cli_parse_record(struct fx_cli *cli, int argc, char **argv, struct fx_opt *opts,
                        size_t n_opts, const char *prefix, const char *suffix, const char *what,
                        struct fx_buf *path_out);
int fx_cli_list_print(struct fx_cli *cli, const char *path, const struct fx_opt *opts,
                      size_t n_opts, const struct fx_table_col *cols, size_t ncols);
int fx_cli_record_list(struct fx_cli *cli, int argc, char **argv, const char *prefix,
                       const char *suffix, const char *what, bool paged,
                       const struct fx_table_col *cols, size_t ncols);
int fx_cli_access_log(struct fx_cli *cli, int argc, char **argv, const char *prefix,
                      const char *what);
int fx_cli_print_raw(struct fx_cli *cli, const char *prefix, const char *id, const char *suffix,
                     const char *what);
int fx_cli_record_version(struct fx_cli *cli, int argc, char **argv, const char *prefix,
                          const char *what);
enum fx_err fx_cli_path(struct fx_buf *b, const char *prefix, const char *id, const char *suffix);
int fx_cli_print_json(const json_t *j);
enum fx_err fx_cli_read_fd(int fd, size_t max, struct fx_buf *out);
enum fx_err fx_cli_read_json_file(const char *path, json_t **out);

/* The options every list command takes, and their help text. */
/* clang-format off */
#define FX_CLI_LIST_OPTS {"limit", true, NULL}, {"cursor", true, NULL}, {"all", false, NULL}
/* clang-format on */
#define FX_CLI_LIST_HELP                                                                           \
    "  --limit N        items per page (1-500; the server's default is 50)\n"                      \
    "  --cursor C       start from the page a previous answer's next_cursor named\n"               \
    "  --all            follow next_cursor until the last page\n"

/* ------------------------------------------------------------------ output.c */

char *fx_output_value(const json_t *v);
char *fx_output_clean(const char *s, bool keep_newlines);
void fx_output_block(FILE *f, const char *title, const json_t *text);
void fx_output_problem(const struct fx_response *resp);

/* ------------------------------------------------------------------ table.c */

struct fx_table {
    size_t ncols;
    size_t n; /* cells added so far */
    size_t cap;
    char **cells; /* owned, row by row, each cell owned */
};

void fx_table_init(struct fx_table *t, size_t ncols);
void fx_table_cleanup(struct fx_table *t);
void fx_table_add(struct fx_table *t, const char *s);
void fx_table_add_json(struct fx_table *t, const json_t *v);
void fx_table_add_field(struct fx_table *t, const json_t *obj, const char *key);
void fx_table_kv(struct fx_table *t, const char *key, const json_t *obj, const char *field);
void fx_table_print(const struct fx_table *t, FILE *f);

/* One column of a table of list items: its title and the member it shows, or
 * for a cell that is not one member, the function that finds it (borrowed). */
struct fx_table_col {
    const char *title;
    const char *key;
    const json_t *(*get)(const json_t *item); /* NULL: the item's member key */
};

void fx_table_print_items(FILE *f, const json_t *items, const struct fx_table_col *cols,
                          size_t ncols);

/* ------------------------------------------------------------------ commands */

int fx_cmd_me_run(struct fx_cli *cli, int argc, char **argv);
int fx_cmd_login_run(struct fx_cli *cli, int argc, char **argv);
int fx_cmd_org_run(struct fx_cli *cli, int argc, char **argv);
int fx_cmd_user_run(struct fx_cli *cli, int argc, char **argv);
int fx_cmd_token_run(struct fx_cli *cli, int argc, char **argv);
int fx_cmd_notice_run(struct fx_cli *cli, int argc, char **argv);
int fx_cmd_audit_run(struct fx_cli *cli, int argc, char **argv);
/* the review process (SPEC §4-6) */
int fx_cmd_policy_run(struct fx_cli *cli, int argc, char **argv);
int fx_cmd_screening_run(struct fx_cli *cli, int argc, char **argv);
int fx_cmd_review_run(struct fx_cli *cli, int argc, char **argv);
int fx_cmd_determine_run(struct fx_cli *cli, int argc, char **argv);
int fx_cmd_reconsider_run(struct fx_cli *cli, int argc, char **argv);
int fx_cmd_determinations_run(struct fx_cli *cli, int argc, char **argv);
int fx_cmd_assess_run(struct fx_cli *cli, int argc, char **argv);
int fx_cmd_grant_run(struct fx_cli *cli, int argc, char **argv);
int fx_cmd_deadlines_run(struct fx_cli *cli, int argc, char **argv);
/* cmd_review.c, shared with the other review-process commands: one request about one
 * record (prefix/ID/suffix, body may be NULL), the answer in *out (owned), or printed
 * (--json as it is, else the members named in keys as "key: value" lines). */
int fx_cli_send(struct fx_cli *cli, const char *method, const char *prefix, const char *id,
                const char *suffix, json_t *body, json_t **out);
int fx_cli_send_print(struct fx_cli *cli, const char *method, const char *prefix, const char *id,
                      const char *suffix, json_t *body, const char *const *keys, size_t n);
void fx_cli_print_keys(const json_t *obj, const char *const *keys, size_t n);
int fx_cmd_verify_run(struct fx_cli *cli, int argc, char **argv);
int fx_cmd_ledger_run(struct fx_cli *cli, int argc, char **argv);
int fx_cmd_incident_run(struct fx_cli *cli, int argc, char **argv);
int fx_cmd_taxii_run(struct fx_cli *cli, int argc, char **argv);

/* cmd_verify.c, shared with cmd_ledger.c */
struct fx_checkpoint_vkey;
int fx_cmd_verify_read_file(const char *path, const char *what, size_t max, struct fx_buf *out);
int fx_cmd_verify_read_key(const char *path, struct fx_checkpoint_vkey *out);

#endif
