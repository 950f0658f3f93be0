/*
 * policy_cmd.c: "fxd policy apply FILE" and "fxd policy check FILE" (SPEC §4,
 * §13). The same work as PUT /api/v1/policy and POST /api/v1/policy/check,
 * done by fxd itself on the data directory (fxd may be serving meanwhile: the
 * store serialises writers). The acting principal is the coordinator org with
 * no user: history events and the audit row say so.
 *
 * Exit status: 0 applied (or checked), 1 refused (a bad policy, printed with
 * every problem) or failed, 2 usage.
 */
#include "fxd/policy_cmd.h"
#include "common/clock.h"
#include "common/limits.h"
#include "common/log.h"
#include "crypto/keyring.h"
#include "ledger/signer.h"
#include "policy/policy.h"
#include "records/org.h"
#include "records/screening.h"
#include "store/store.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>

static void usage(FILE *f)
{
    fputs("usage: fxd policy apply FILE --data DIR [--json] [--db URL] [--master-key-file F]\n"
          "                  [--ledger-key-file F] [--ledger-origin O]\n"
          "       fxd policy check FILE --data DIR [--json] [--db URL] [--master-key-file F]\n"
          "\n"
          "apply makes FILE the active policy and re-screens every open notice in one\n"
          "transaction; check lists what that would change and changes nothing.\n",
          f);
}

struct popts {
    const char *data, *db, *master_key, *ledger_key, *origin;
    bool json;
};

struct run {
    struct fx_keyring *kr;
    struct fx_signer *sg;
    struct fx_policy pol;
    struct fx_principal who;
    bool apply;
    json_t *receipts; /* owned */
    json_t *out;      /* owned */
};

/* Reads the whole file (at most FX_MAX_BODY bytes) into a malloc'd buffer. */
static char *read_file(const char *path, size_t *len_out)
{
    FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
    if (f == NULL)
        return NULL;
    char *buf = fx_xmalloc(FX_MAX_BODY + 1);
    size_t n = fread(buf, 1, FX_MAX_BODY + 1, f);
    bool bad = ferror(f) || n > FX_MAX_BODY;
    if (f != stdin)
        fclose(f);
    if (bad) {
        free(buf);
        errno = EFBIG;
        return NULL;
    }
    *len_out = n;
    return buf;
}

static bool keep_all(const struct fx_notice_row *row, void *arg)
{
    (void)row;
    (void)arg;
    return true;
}

static enum fx_err run_fn(struct fx_db *db, void *arg)
{
    struct run *r = arg;
    enum fx_err err = fx_keyring_verify(r->kr, db);
    json_t *orgs = NULL;
    char *next = NULL;
    if (err == FX_OK)
        err = fx_org_list(db, "coordinator", NULL, 1, &orgs, &next);
    free(next);
    if (err != FX_OK)
        return err;
    const char *coord = json_string_value(json_object_get(json_array_get(orgs, 0), "id"));
    if (coord == NULL) {
        json_decref(orgs);
        return FX_ESTORE;
    }
    snprintf(r->who.org_id, sizeof(r->who.org_id), "%s", coord);
    json_decref(orgs);
    r->who.kind = FX_ORG_COORDINATOR;
    r->who.role = FX_ROLE_ADMIN;
    struct fx_notice_env env = {.keys = r->kr, .signer = r->sg, .who = &r->who,
                                .now = fx_clock_now(NULL), .receipts = r->receipts};
    env.today = env.now / 86400000;
    if (r->apply)
        return fx_screening_apply(db, &env, &r->pol, &r->out);
    return fx_screening_check(db, &env, &r->pol, keep_all, NULL, &r->out);
}

static void print_human(const struct run *r)
{
    const json_t *o = r->out;
    const char *name = json_string_value(json_object_get(json_object_get(o, "policy"), "name"));
    if (json_is_true(json_object_get(o, "unchanged"))) {
        printf("policy %s (sha256 %s) is the active policy already: nothing to do\n", name,
               r->pol.sha256);
        return;
    }
    printf("policy %s (sha256 %s) %s: %lld open notices screened, %lld %s\n", name,
           r->pol.sha256, r->apply ? "applied" : "checked",
           (long long)json_integer_value(json_object_get(o, "examined")),
           (long long)json_integer_value(json_object_get(o, "changed")),
           r->apply ? "changed" : "would change");
    size_t i;
    json_t *c;
    json_array_foreach(json_object_get(o, "changes"), i, c)
    {
        json_t *s = json_object_get(c, "screening"), *sn = json_object_get(c, "short_notice");
        const char *from = json_string_value(json_object_get(s, "from"));
        printf("  %s  screening %s -> %s  short_notice %s -> %s\n",
               json_string_value(json_object_get(c, "ref")), from ? from : "none",
               json_string_value(json_object_get(s, "to")),
               json_is_true(json_object_get(sn, "from")) ? "true" : "false",
               json_is_true(json_object_get(sn, "to")) ? "true" : "false");
    }
}

static int parse(int argc, char **argv, struct popts *o)
{
    static const struct option longopts[] = {
        {"data", required_argument, NULL, 'd'},
        {"db", required_argument, NULL, 'D'},
        {"master-key-file", required_argument, NULL, 'm'},
        {"ledger-key-file", required_argument, NULL, 'L'},
        {"ledger-origin", required_argument, NULL, 'O'},
        {"json", no_argument, NULL, 'j'},
        {NULL, 0, NULL, 0},
    };
    memset(o, 0, sizeof(*o));
    o->db = getenv("FX_DB");
    o->origin = FX_LEDGER_DEFAULT_ORIGIN;
    optind = 1;
    int c;
    while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        switch (c) {
        case 'd': o->data = optarg; break;
        case 'D': o->db = optarg; break;
        case 'm': o->master_key = optarg; break;
        case 'L': o->ledger_key = optarg; break;
        case 'O': o->origin = optarg; break;
        case 'j': o->json = true; break;
        default: return -1;
        }
    }
    return o->data && optind == argc ? 0 : -1;
}

static void path_in(char *out, size_t n, const char *dir, const char *file, const char *given)
{
    if (given)
        snprintf(out, n, "%s", given);
    else
        snprintf(out, n, "%s/%s", dir, file);
}

/* A refused policy: every problem, as problem+json-like JSON or as lines. */
static void print_problems(const struct fx_problem *pb, bool as_json)
{
    if (as_json) {
        json_t *errs = json_array();
        for (size_t i = 0; i < pb->n; i++)
            json_array_append_new(errs, json_pack("{s:s,s:s}", "field", pb->errors[i].field,
                                                  "message", pb->errors[i].message));
        json_t *o = json_pack("{s:s,s:o}", "detail", "the policy is refused; nothing applied",
                              "errors", errs);
        char *s = json_dumps(o, JSON_COMPACT);
        printf("%s\n", s);
        free(s);
        json_decref(o);
        return;
    }
    fprintf(stderr, "fxd: the policy is refused (%zu problem%s); nothing applied:\n", pb->n,
            pb->n == 1 ? "" : "s");
    for (size_t i = 0; i < pb->n; i++)
        fprintf(stderr, "  %s: %s\n", pb->errors[i].field[0] ? pb->errors[i].field : "(document)",
                pb->errors[i].message);
}

int fx_policy_cmd_run(int argc, char **argv)
{
    int rc = 1;
    struct popts o;
    struct run r;
    struct fx_problem pb;
    struct fx_store *store = NULL;
    char *text = NULL;
    size_t len = 0;
    memset(&r, 0, sizeof(r));
    fx_problem_init(&pb);
    for (int i = 0; i < argc; i++)
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            usage(stdout); /* asked for: not an error */
            rc = 0;
            goto out;
        }
    if (argc < 2 || (strcmp(argv[0], "apply") != 0 && strcmp(argv[0], "check") != 0) ||
        parse(argc - 1, argv + 1, &o) != 0) {
        usage(stderr);
        rc = 2;
        goto out;
    }
    r.apply = strcmp(argv[0], "apply") == 0;
    text = read_file(argv[1], &len);
    if (text == NULL) {
        fprintf(stderr, "fxd: cannot read %s: %s\n", argv[1], strerror(errno));
        goto out;
    }
    if (fx_policy_parse(text, len, &r.pol, &pb) != FX_OK) {
        print_problems(&pb, o.json);
        goto out;
    }
    char mk[4096], lk[4096];
    path_in(mk, sizeof(mk), o.data, "master.key", o.master_key);
    path_in(lk, sizeof(lk), o.data, "ledger.key", o.ledger_key);
    if (fx_keyring_load(mk, &r.kr) != FX_OK) {
        fprintf(stderr, "fxd: cannot load the master key %s\n", mk);
        goto out;
    }
    if (r.apply && fx_signer_load(lk, o.origin, &r.sg) != FX_OK) {
        fprintf(stderr, "fxd: cannot load the ledger key %s\n", lk);
        goto out;
    }
    if (fx_store_open(o.db, o.data, &store) != FX_OK) {
        fprintf(stderr, "fxd: cannot open the store in %s\n", o.data);
        goto out;
    }
    r.receipts = json_array();
    enum fx_err err = r.apply ? fx_store_write(store, run_fn, &r) : fx_store_read(store, run_fn, &r);
    if (err != FX_OK) {
        fprintf(stderr, "fxd: policy %s failed: %s; nothing changed\n", argv[0], fx_err_str(err));
        goto out;
    }
    if (o.json) {
        char *s = json_dumps(r.out, JSON_COMPACT | JSON_REAL_PRECISION(15));
        printf("%s\n", s);
        free(s);
    } else {
        print_human(&r);
    }
    rc = 0;
out:
    fx_store_close(store);
    fx_keyring_free(r.kr);
    fx_signer_free(r.sg);
    fx_policy_cleanup(&r.pol);
    json_decref(r.out);
    json_decref(r.receipts);
    fx_problem_cleanup(&pb);
    free(text);
    return rc;
}
