/*
 * main.c: fxd's commands: init, serve, rotate-master-key. Fatal errors end
 * fxd only here, before it serves; once it listens, errors go to the client
 * and the log.
 */
#include "auth/token.h"
#include "auth/tokencache.h"
#include "common/log.h"
#include "common/parse.h"
#include "crypto/keyring.h"
#include "fxd/policy_cmd.h"
#include "http/ratelimit.h"
#include "http/server.h"
#include "http/viewcache.h"
#include "http/write.h"
#include "ledger/signer.h"
#include "policy/policy.h"
#include "records/audit.h"
#include "records/org.h"
#include "records/tlog.h"
#include "store/store.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

struct opts {
    const char *data, *db, *listen, *master_key, *ledger_key, *tls_cert, *tls_key;
    const char *test_clock, *org_name, *admin_email, *origin;
    int json, quiet;
    unsigned threads, pool, max_conns;
    double rate;
    size_t taxii_max_body;
};

static void usage(FILE *f)
{
    fputs("usage: fxd init --data DIR [--json] [--db URL] [--org-name NAME] [--admin-email E]\n"
          "       fxd serve --data DIR [--listen HOST:PORT] [--db URL] [--threads N]\n"
          "                 [--tls-cert F --tls-key F] [--rate-limit N] [--quiet]\n"
          "                 [--master-key-file F] [--ledger-key-file F] [--ledger-origin O]\n"
          "                 [--test-clock FILE] [--taxii-max-body BYTES] [--max-connections N]\n"
          "       fxd rotate-master-key --data DIR [--master-key-file F] [--db URL]\n"
          "       fxd migrate --data DIR [--db URL]\n"
          "       fxd backup DEST --data DIR\n"
          "       fxd policy apply|check FILE --data DIR [--json] (see fxd policy --help)\n"
          "\n"
          "--db URL (or FX_DB): postgres://… to share one PostgreSQL database between\n"
          "several fxd nodes; SQLite in DIR/fx.db otherwise. --db-pool N: PostgreSQL\n"
          "read connections per node (default 8).\n"
          "\n"
          "--test-clock FILE pins the clock to the RFC 3339 time in FILE (read on every\n"
          "use); for tests only, refused unless fxd listens on loopback.\n"
          "--rate-limit N: requests per second per token and per address (burst 2N;\n"
          "0 disables; default 2000).\n"
          "--taxii-max-body BYTES: the largest TAXII envelope accepted (default 10 MiB).\n"
          "--max-connections N: connections open at once (default 4096); more wait\n"
          "in the kernel's backlog.\n",
          f);
}

static _Noreturn void fatal(const char *msg, const char *detail)
{
    fx_log("fatal", msg, detail ? json_pack("{s:s}", "detail", detail) : NULL);
    exit(1);
}

/*
 * The data directory remembers the database it was initialised with
 * (DATA/db-url, 0600: a URL may hold a password), so that later commands need
 * only --data (the store reads it back). --db or FX_DB, when given, win.
 */
static int remember_db(const char *data, const char *url)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s/db-url", data);
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
    if (fd < 0)
        return -1;
    size_t n = strlen(url);
    int ok = write(fd, url, n) == (ssize_t)n && write(fd, "\n", 1) == 1 && fsync(fd) == 0;
    close(fd);
    return ok ? 0 : -1;
}

/*
 * Opens the store named by --db / FX_DB / DATA/db-url (SQLite in DATA by
 * default). Only the server pipelines its commits: a one-shot command's
 * commit must be durable before the server's readers can see it.
 */
static enum fx_err open_store(const struct opts *o, bool serving, struct fx_store **out)
{
    struct fx_store_config cfg = {o->db, o->data, o->pool, serving};
    return fx_store_open_config(&cfg, out);
}

static void path_in(char *out, size_t n, const char *dir, const char *file, const char *given)
{
    if (given)
        snprintf(out, n, "%s", given);
    else
        snprintf(out, n, "%s/%s", dir, file);
}

/*
 * DATA/serve.lock: every fxd serve of a data directory holds it shared, a
 * master-key rotation exclusively. A server keeps the master key it started
 * with: one running across a rotation could open no org key it had not yet
 * cached (and fx_keyring_new_org_key refuses to wrap new ones under the old
 * key, which also covers servers on other machines sharing a PostgreSQL
 * database). Held until the process exits.
 */
static void lock_data(const char *dir, int how, const char *busy)
{
    char path[4096];
    path_in(path, sizeof(path), dir, "serve.lock", NULL);
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0)
        fatal("cannot open the data directory's lock file", path);
    if (flock(fd, how | LOCK_NB) != 0)
        fatal(errno == EWOULDBLOCK ? busy : "cannot lock the data directory", dir);
}

static int parse_opts(int argc, char **argv, struct opts *o)
{
    static const struct option longopts[] = {
        {"data", required_argument, NULL, 'd'},
        {"db", required_argument, NULL, 'D'},
        {"listen", required_argument, NULL, 'l'},
        {"json", no_argument, NULL, 'j'},
        {"master-key-file", required_argument, NULL, 'm'},
        {"ledger-key-file", required_argument, NULL, 'L'},
        {"tls-cert", required_argument, NULL, 'c'},
        {"tls-key", required_argument, NULL, 'k'},
        {"threads", required_argument, NULL, 't'},
        {"rate-limit", required_argument, NULL, 'r'},
        {"test-clock", required_argument, NULL, 'T'},
        {"org-name", required_argument, NULL, 'o'},
        {"admin-email", required_argument, NULL, 'e'},
        {"quiet", no_argument, NULL, 'q'},
        {"ledger-origin", required_argument, NULL, 'O'},
        {"db-pool", required_argument, NULL, 'P'},
        {"taxii-max-body", required_argument, NULL, 'X'},
        {"max-connections", required_argument, NULL, 'C'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    memset(o, 0, sizeof(*o));
    o->listen = "127.0.0.1:8080";
    o->threads = 32; /* writers wait for their group commit on a pool thread */
    o->rate = FX_DEFAULT_RATE;
    o->taxii_max_body = FX_MAX_TAXII_BODY;
    o->org_name = "Coordinator";
    o->admin_email = "admin@coordinator.invalid";
    o->origin = FX_LEDGER_DEFAULT_ORIGIN;
    o->db = getenv("FX_DB");
    int c;
    int64_t v;
    while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        switch (c) {
        case 'd': o->data = optarg; break;
        case 'D': o->db = optarg; break;
        case 'l': o->listen = optarg; break;
        case 'j': o->json = 1; break;
        case 'm': o->master_key = optarg; break;
        case 'L': o->ledger_key = optarg; break;
        case 'c': o->tls_cert = optarg; break;
        case 'k': o->tls_key = optarg; break;
        case 'T': o->test_clock = optarg; break;
        case 'o': o->org_name = optarg; break;
        case 'e': o->admin_email = optarg; break;
        case 'q': o->quiet = 1; break;
        case 'O': o->origin = optarg; break;
        case 't':
            if (fx_parse_i64(optarg, strlen(optarg), 1, 256, &v) != FX_OK)
                return -1;
            o->threads = (unsigned)v;
            break;
        case 'P':
            if (fx_parse_i64(optarg, strlen(optarg), 1, 1024, &v) != FX_OK)
                return -1;
            o->pool = (unsigned)v;
            break;
        case 'C':
            if (fx_parse_i64(optarg, strlen(optarg), 1, 1000000, &v) != FX_OK)
                return -1;
            o->max_conns = (unsigned)v;
            break;
        case 'r':
            if (fx_parse_i64(optarg, strlen(optarg), 0, 10000000, &v) != FX_OK)
                return -1;
            o->rate = (double)v;
            break;
        case 'X':
            if (fx_parse_i64(optarg, strlen(optarg), FX_MAX_BODY, FX_MAX_TAXII_BODY_CEILING,
                             &v) != FX_OK)
                return -1;
            o->taxii_max_body = (size_t)v;
            break;
        case 'h': usage(stdout); exit(0);
        default: return -1;
        }
    }
    if (o->data == NULL || optind != argc || (o->tls_cert == NULL) != (o->tls_key == NULL))
        return -1;
    return 0;
}

struct init_arg {
    struct fx_keyring *kr;
    const struct fx_signer *sg;
    const struct opts *o;
    int64_t now;
    json_t *org, *user, *token;
};

/* A database shared by several nodes is initialised once: it has its coordinator. */
static enum fx_err initialised(struct fx_db *db)
{
    static const char *sql = "SELECT 1 FROM orgs WHERE kind = 'coordinator'";
    struct fx_stmt *st = NULL;
    bool row = false;
    enum fx_err err = fx_db_prepare(db, sql, &st);
    if (err != FX_OK)
        return err;
    err = fx_stmt_step(st, &row);
    fx_stmt_finalize(st);
    return err == FX_OK && row ? FX_ECONFLICT : err;
}

static enum fx_err init_fn(struct fx_db *db, void *arg)
{
    struct init_arg *a = arg;
    enum fx_err err = initialised(db);
    if (err == FX_OK)
        err = fx_keyring_verify(a->kr, db);
    if (err != FX_OK)
        return err;
    struct fx_policy pol;
    struct fx_problem pb;
    fx_problem_init(&pb);
    err = fx_policy_parse(fx_policy_default, strlen(fx_policy_default), &pol, &pb);
    fx_problem_cleanup(&pb);
    if (err != FX_OK)
        return err;
    err = fx_policy_activate(db, a->now, &pol);
    if (err != FX_OK) {
        fx_policy_cleanup(&pol);
        return err;
    }
    struct fx_org_input oi = {.name = a->o->org_name, .kind = "coordinator"};
    err = fx_org_create(db, a->kr, a->now, &oi, &a->org);
    if (err != FX_OK)
        return err;
    const char *org_id = json_string_value(json_object_get(a->org, "id"));
    /* SPEC §9: policy changes are leaves; the first policy is the first leaf */
    json_t *receipt = NULL;
    struct fx_leaf leaf = {"policy", pol.sha256, 1, pol.sha256, org_id, a->now};
    err = fx_tlog_append(db, a->sg, &leaf, &receipt);
    json_decref(receipt);
    fx_policy_cleanup(&pol);
    if (err != FX_OK)
        return err;
    struct fx_user_input ui = {.email = a->o->admin_email, .name = "Administrator",
                               .role = "admin"};
    err = fx_user_create(db, a->now, org_id, &ui, &a->user);
    if (err != FX_OK)
        return err;
    const char *user_id = json_string_value(json_object_get(a->user, "id"));
    err = fx_token_create(db, a->now, user_id, "initial admin token", FX_MAX_TOKEN_DAYS,
                          &a->token);
    if (err != FX_OK)
        return err;
    struct fx_principal p = {.role = FX_ROLE_ADMIN, .kind = FX_ORG_COORDINATOR};
    snprintf(p.user_id, sizeof(p.user_id), "%s", user_id);
    snprintf(p.org_id, sizeof(p.org_id), "%s", org_id);
    return fx_audit_write(db, a->now, &p, "fxd.init", org_id, org_id, "ok");
}

static int cmd_init(const struct opts *o)
{
    char mk[4096], lk[4096], vkey[256];
    struct stat sb;
    if (stat(o->data, &sb) == 0) {
        static const char *const marks[] = {"fx.db", "db-url", "master.key"};
        for (size_t i = 0; i < FX_ARRAY_LEN(marks); i++) {
            char probe[4096];
            snprintf(probe, sizeof(probe), "%s/%s", o->data, marks[i]);
            if (access(probe, F_OK) == 0 && !(i == 2 && o->master_key))
                fatal("the data directory is already initialised", o->data);
        }
    } else if (mkdir(o->data, 0700) != 0) {
        fatal("cannot create the data directory", strerror(errno));
    }
    if (o->db && o->db[0] && strncmp(o->db, "sqlite:", 7) != 0 && remember_db(o->data, o->db) != 0)
        fatal("cannot write DATA/db-url", o->data);
    path_in(mk, sizeof(mk), o->data, "master.key", o->master_key);
    path_in(lk, sizeof(lk), o->data, "ledger.key", o->ledger_key);
    if (access(mk, F_OK) != 0 && fx_keyring_create_master(mk) != FX_OK)
        fatal("cannot write the master key", mk);
    if (access(lk, F_OK) != 0 && fx_signer_create(lk) != FX_OK)
        fatal("cannot write the ledger key", lk);
    struct fx_keyring *kr = NULL;
    struct fx_signer *sg = NULL;
    if (fx_keyring_load(mk, &kr) != FX_OK)
        fatal("cannot load the master key (32 bytes, mode 0600)", mk);
    if (fx_signer_load(lk, o->origin, &sg) != FX_OK)
        fatal("cannot load the ledger key (mode 0600)", lk);
    fx_signer_vkey(sg, vkey, sizeof(vkey));
    struct fx_store *store = NULL;
    if (open_store(o, false, &store) != FX_OK)
        fatal("cannot open the store", o->db ? o->db : o->data);
    struct init_arg a = {.kr = kr, .sg = sg, .o = o, .now = fx_clock_now(NULL)};
    enum fx_err err = fx_store_write(store, init_fn, &a);
    fx_store_close(store);
    fx_keyring_free(kr);
    fx_signer_free(sg);
    if (err == FX_ECONFLICT)
        fatal("the database is already initialised; start more nodes with fxd serve", NULL);
    if (err != FX_OK)
        fatal("initialisation failed", fx_err_str(err));
    const char *tok = json_string_value(json_object_get(a.token, "token"));
    if (o->json) {
        json_t *j = json_pack("{s:O,s:O,s:s,s:s}", "org_id", json_object_get(a.org, "id"),
                              "user_id", json_object_get(a.user, "id"), "token", tok,
                              "ledger_public_key", vkey);
        char *s = json_dumps(j, JSON_COMPACT);
        printf("%s\n", s);
        free(s);
        json_decref(j);
    } else {
        printf("Initialised %s\n"
               "Coordinator org:   %s\n"
               "Admin user:        %s (%s)\n"
               "Admin token:       %s\n"
               "                   (shown once: keep it safe)\n"
               "Ledger public key: %s\n",
               o->data, json_string_value(json_object_get(a.org, "id")), o->admin_email,
               json_string_value(json_object_get(a.user, "id")), tok, vkey);
    }
    json_decref(a.org);
    json_decref(a.user);
    json_decref(a.token);
    return 0;
}

static enum fx_err verify_fn(struct fx_db *db, void *arg)
{
    return fx_keyring_verify(arg, db);
}

/*
 * Until one of the stop signals in set arrives (its number is returned): sweeps
 * expired Idempotency-Keys now and every FX_IDEMPOTENCY_SWEEP seconds, looking
 * for a stop signal between two of the sweep's transactions. A failed sweep is
 * logged and tried again at the next.
 */
static int wait_sweeping(struct fx_ctx *ctx, const sigset_t *set)
{
    static const struct timespec now = {0}, every = {.tv_sec = FX_IDEMPOTENCY_SWEEP};
    for (;;) {
        int64_t removed = 0, n = 0;
        bool more = true;
        enum fx_err err = FX_OK;
        int sig = -1;
        while (err == FX_OK && more && sig < 0) {
            err = fx_idempotency_sweep(ctx->store, fx_clock_now(&ctx->clock), &n, &more);
            removed += n;
            sig = sigtimedwait(set, NULL, &now);
        }
        if (err != FX_OK)
            fx_log("error", "idempotency sweep failed",
                   json_pack("{s:s}", "error", fx_err_str(err)));
        if (removed > 0)
            fx_log("info", "expired idempotency keys removed",
                   json_pack("{s:I}", "removed", (json_int_t)removed));
        while (sig < 0) /* EAGAIN: the time is up; EINTR: another signal, wait on */
            if ((sig = sigtimedwait(set, NULL, &every)) < 0 && errno == EAGAIN)
                break;
        if (sig > 0)
            return sig;
    }
}

static int cmd_serve(const struct opts *o)
{
    char mk[4096], lk[4096];
    lock_data(o->data, LOCK_SH, "fxd rotate-master-key is running on this data directory");
    path_in(mk, sizeof(mk), o->data, "master.key", o->master_key);
    path_in(lk, sizeof(lk), o->data, "ledger.key", o->ledger_key);
    if (o->quiet)
        fx_log_set_quiet(1);
    /*
     * Block the stop signals before any thread exists (the store starts its own):
     * threads inherit the mask, and this one waits for the signals below.
     */
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);
    struct sockaddr_storage sa;
    unsigned sa_len;
    int loopback = 0;
    if (fx_server_parse_listen(o->listen, &sa, &sa_len, &loopback) != FX_OK)
        fatal("--listen wants HOST:PORT (IPv4, or [IPv6])", o->listen);
    if (o->test_clock && !loopback)
        fatal("--test-clock is for tests only and needs a loopback --listen address", NULL);

    struct fx_keyring *kr = NULL;
    if (fx_keyring_load(mk, &kr) != FX_OK)
        fatal("cannot load the master key (32 bytes, mode 0600); run fxd init first", mk);
    struct fx_signer *sg = NULL;
    if (fx_signer_load(lk, o->origin, &sg) != FX_OK)
        fatal("cannot load the ledger key (32 bytes, mode 0600)", lk);
    struct fx_store *store = NULL;
    if (open_store(o, true, &store) != FX_OK)
        fatal("cannot open the store", o->db ? o->db : o->data);
    if (fx_store_write(store, verify_fn, kr) != FX_OK) {
        fx_store_close(store);
        fatal("the master key does not match this database; refusing to serve", mk);
    }


    struct fx_ctx ctx;
    memset(&ctx, 0, sizeof(ctx));
    ctx.store = store;
    ctx.keys = kr;
    ctx.signer = sg;
    ctx.clock.pinned_file = o->test_clock;
    ctx.data_dir = o->data;
    ctx.metrics.started_ms = fx_clock_now(NULL);
    ctx.rl = o->rate > 0 ? fx_ratelimit_new(o->rate, o->rate * 2) : NULL;
    ctx.taxii_max_body = o->taxii_max_body;
    ctx.views = fx_viewcache_new(4096);
    ctx.taxii_pages = fx_viewcache_new(FX_TAXII_PAGE_CACHE);
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    sem_init(&ctx.taxii_checkers, 0, cores > 2 ? (unsigned)(cores - 1) : 1);
    ctx.tokens = fx_tokencache_new(4096, 1000);
    struct fx_server_opts so = {.listen = o->listen,
                                .threads = o->threads,
                                .max_connections = o->max_conns,
                                .tls_cert = o->tls_cert,
                                .tls_key = o->tls_key};
    struct fx_server *srv = NULL;
    if (fx_server_start(&ctx, &so, &srv) != FX_OK) {
        fx_store_close(store);
        fatal("cannot listen", o->listen);
    }
    fx_log("notice", "serving",
           json_pack("{s:s,s:s,s:s,s:i}", "listen", o->listen, "scheme",
                     o->tls_cert ? "https" : "http", "store", fx_store_backend(store), "threads",
                     (int)o->threads));
    int sig = wait_sweeping(&ctx, &set);
    fx_log("notice", "stopping", json_pack("{s:i}", "signal", sig));
    fx_server_stop(srv);
    fx_store_close(store);
    fx_ratelimit_free(ctx.rl);
    fx_viewcache_free(ctx.views);
    fx_viewcache_free(ctx.taxii_pages);
    sem_destroy(&ctx.taxii_checkers);
    fx_tokencache_free(ctx.tokens);
    fx_keyring_free(kr);
    fx_signer_free(sg);
    fx_log("notice", "stopped", NULL);
    return 0;
}

struct rotate_arg {
    struct fx_keyring *kr;
    unsigned char *new_key;
};

static enum fx_err rotate_fn(struct fx_db *db, void *arg)
{
    struct rotate_arg *a = arg;
    enum fx_err err = fx_keyring_verify(a->kr, db);
    if (err == FX_OK)
        err = fx_keyring_rewrap_all(a->kr, db, a->new_key);
    return err;
}

static int cmd_rotate(const struct opts *o)
{
    char mk[4096], next[4200], old[4200];
    lock_data(o->data, LOCK_EX, "fxd serve is running on this data directory: stop it first");
    path_in(mk, sizeof(mk), o->data, "master.key", o->master_key);
    snprintf(next, sizeof(next), "%s.new", mk);
    snprintf(old, sizeof(old), "%s.old", mk);
    struct fx_keyring *kr = NULL;
    if (fx_keyring_load(mk, &kr) != FX_OK)
        fatal("cannot load the master key", mk);
    struct rotate_arg a = {kr, sodium_malloc(FX_KEY_BYTES)};
    if (a.new_key == NULL)
        fx_die("sodium_malloc failed");
    crypto_aead_xchacha20poly1305_ietf_keygen(a.new_key);
    /* The new key reaches the disk before the database depends on it. */
    unlink(next);
    if (fx_keyring_write_key_file(next, a.new_key) != FX_OK)
        fatal("cannot write the new master key", next);
    struct fx_store *store = NULL;
    if (open_store(o, false, &store) != FX_OK)
        fatal("cannot open the store", o->data);
    enum fx_err err = fx_store_write(store, rotate_fn, &a);
    fx_store_close(store);
    sodium_free(a.new_key);
    fx_keyring_free(kr);
    if (err != FX_OK) {
        unlink(next);
        fatal("rotation failed; the old key stays in use", fx_err_str(err));
    }
    if (rename(mk, old) != 0 || rename(next, mk) != 0)
        fatal("re-wrapped, but could not move the key files; the new key is", next);
    printf("master key rotated; the previous key is kept as %s until you remove it\n", old);
    return 0;
}

/* fxd backup DEST: a consistent copy of the SQLite database (fxd may be serving). */
static int cmd_backup(const struct opts *o, const char *dest)
{
    struct fx_store *store = NULL;
    if (open_store(o, false, &store) != FX_OK)
        fatal("cannot open the store", o->data);
    enum fx_err err = fx_store_backup(store, dest);
    fx_store_close(store);
    if (err == FX_EINVAL)
        fatal("fxd backup copies SQLite; back PostgreSQL up with pg_dump or PITR", NULL);
    if (err != FX_OK)
        fatal("backup failed (does DEST exist already?)", dest);
    printf("backed up to %s; keep master.key and ledger.key apart from it\n", dest);
    return 0;
}

/* Opening the store applies pending migrations; this command does only that. */
static int cmd_migrate(const struct opts *o)
{
    struct fx_store *store = NULL;
    if (open_store(o, false, &store) != FX_OK)
        fatal("cannot open the store or apply its migrations", o->db ? o->db : o->data);
    fx_store_close(store);
    printf("schema is up to date\n");
    return 0;
}

int main(int argc, char **argv)
{
    if (sodium_init() < 0)
        fx_die("libsodium failed to initialise");
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    const char *cmd = argv[1];
    struct opts o;
    if (strcmp(cmd, "-h") == 0 || strcmp(cmd, "--help") == 0) {
        usage(stdout);
        return 0;
    }
    /* fxd policy apply|check FILE --data DIR: src/fxd/policy_cmd.c */
    if (strcmp(cmd, "policy") == 0)
        return fx_policy_cmd_run(argc - 2, argv + 2);
    /* fxd backup DEST --data DIR: the destination comes first */
    const char *backup_dest = NULL;
    if (strcmp(cmd, "backup") == 0 && argc > 2 && argv[2][0] != '-') {
        backup_dest = argv[2];
        argv[2] = argv[1];
        argv++;
        argc--;
    }
    if (parse_opts(argc - 1, argv + 1, &o) != 0) {
        usage(stderr);
        return 2;
    }
    if (strcmp(cmd, "init") == 0)
        return cmd_init(&o);
    if (strcmp(cmd, "serve") == 0)
        return cmd_serve(&o);
    if (strcmp(cmd, "rotate-master-key") == 0)
        return cmd_rotate(&o);
    if (strcmp(cmd, "migrate") == 0)
        return cmd_migrate(&o);
    if (strcmp(cmd, "backup") == 0)
        return backup_dest ? cmd_backup(&o, backup_dest) : (usage(stderr), 2);
    usage(stderr);
    return 2;
}
