/*
 * screening.c: screenings in the store (SPEC §4). The rule evaluation itself is
 * src/policy/screen.c; this file keeps what each screening was judged on and
 * what it found, and re-screens every open notice when a policy is applied.
 * Owns nothing between calls.
 *
 * A screening is deterministic (SPEC §4), so its document is derived rather
 * than stored: a screening row keeps the result, the trigger, the short-notice
 * figures, the notice version and the policy's SHA-256 in plain columns, and
 * the notice values the rules read (numeric fields and evaluations: the
 * "inputs") are kept once per notice version, sealed under the developer org's
 * key with the notice id and version as associated data. GET .../screening
 * opens the inputs, screens them again under the stored policy document and
 * serves the canonical bytes: the same bytes every time. Re-screening thus
 * writes one small row per notice and reads a few sealed bytes instead of a
 * whole notice version (descriptions may run to 64 KiB).
 *
 * Re-screening works in chunks of notices, each in three passes: read (one
 * query, on the transaction's connection; it also loads the org keys the next
 * pass needs), open and screen (pure CPU, on worker threads that never touch
 * the connection), write (on the connection again). The passes overlap: the
 * workers screen one chunk while the caller writes the previous one and reads
 * the next. bench/rescreen.sh times it on 100,000 notices.
 */
#include "records/screening.h"
#include "common/json.h"
#include "common/parse.h"
#include "crypto/digest.h"
#include "policy/screen.h"
#include "records/audit.h"
#include "records/tlog.h"

#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>

/* Notices read, screened and written per pass of a re-screening. */
#define CHUNK 4096
/* Threads that open and screen a chunk while the caller reads and writes (2 cores or more). */
#define WORKERS 2
/* Distinct orgs per chunk whose keys are loaded up front; past this, items open on the caller. */
#define MAX_WARM 64

/* What a screening row holds besides the notice. */
struct meta {
    int64_t version;
    const char *result;  /* static */
    const char *trigger; /* static */
    bool short_notice;
    bool has_notice_days;
    int64_t notice_days;
    int64_t min_notice_days;
    int64_t notice_version;
    int64_t created_at;
};

enum fx_err fx_screening_current(struct fx_db *db, const char *notice_id, int64_t *version_out,
                                 char *result_out)
{
    static const char *sql = "SELECT version, result FROM screenings WHERE notice_id = $1"
                             " ORDER BY version DESC LIMIT 1";
    struct fx_stmt *st = NULL;
    bool r = false;
    *version_out = 0;
    result_out[0] = '\0';
    enum fx_err err = fx_db_prepare(db, sql, &st);
    if (err != FX_OK)
        return err;
    fx_stmt_bind_str(st, 1, notice_id);
    err = fx_stmt_step(st, &r);
    if (err == FX_OK && r) {
        *version_out = fx_stmt_i64(st, 0);
        snprintf(result_out, 24, "%s", fx_stmt_text(st, 1, NULL));
    }
    fx_stmt_finalize(st);
    return err;
}

/* What a rule may read of a notice: the numeric fields and the evaluations (new object). */
static json_t *inputs_of(const json_t *fields)
{
    static const char *const numeric[] = {"training_compute_flop", "parameter_count"};
    static const char *const eval_keys[] = {"domain", "benchmark", "score", "max_score"};
    json_t *in = json_object();
    for (size_t i = 0; i < FX_ARRAY_LEN(numeric); i++) {
        json_t *v = json_object_get(fields, numeric[i]);
        if (v)
            json_object_set(in, numeric[i], v);
    }
    json_t *evals = json_object_get(fields, "evaluations");
    if (json_is_array(evals)) {
        json_t *out = json_array();
        size_t i;
        json_t *e;
        json_array_foreach(evals, i, e)
        {
            json_t *c = json_object();
            for (size_t k = 0; k < FX_ARRAY_LEN(eval_keys); k++) {
                json_t *v = json_object_get(e, eval_keys[k]);
                if (v)
                    json_object_set(c, eval_keys[k], v);
            }
            json_array_append_new(out, c);
        }
        json_object_set_new(in, "evaluations", out);
    }
    return in;
}

static void inputs_aad(const char *notice_id, int64_t notice_version, char *out, size_t n)
{
    snprintf(out, n, "screening-inputs:%s:v%lld", notice_id, (long long)notice_version);
}

/* Keeps the inputs of the notice's current version (once: later screenings reuse them). */
static enum fx_err put_inputs(struct fx_db *db, struct fx_keyring *kr,
                              const struct fx_notice_row *row, const json_t *inputs)
{
    static const char *sql = "INSERT INTO screening_inputs (notice_id, notice_version, inputs)"
                             " VALUES ($1, $2, $3) ON CONFLICT (notice_id, notice_version)"
                             " DO NOTHING";
    char *pt = fx_json_canonical(inputs, NULL), aad[96];
    unsigned char *c = NULL;
    size_t clen = 0;
    inputs_aad(row->id, row->version, aad, sizeof(aad));
    enum fx_err err = fx_keyring_seal(kr, db, row->org_id, aad, pt, strlen(pt), &c, &clen);
    free(pt);
    struct fx_stmt *st = NULL;
    bool r;
    if (err == FX_OK)
        err = fx_db_prepare(db, sql, &st);
    if (err == FX_OK) {
        fx_stmt_bind_str(st, 1, row->id);
        fx_stmt_bind_i64(st, 2, row->version);
        fx_stmt_bind_blob(st, 3, c, clen);
        err = fx_stmt_step(st, &r);
        fx_stmt_finalize(st);
    }
    free(c);
    return err;
}

/* Opens sealed inputs (new reference). db may be NULL once the org's key is loaded. */
static enum fx_err open_inputs(struct fx_keyring *kr, struct fx_db *db, const char *notice_id,
                               const char *org_id, int64_t notice_version, const void *blob,
                               size_t len, json_t **out)
{
    char aad[96], *pt = NULL;
    size_t plen = 0;
    inputs_aad(notice_id, notice_version, aad, sizeof(aad));
    enum fx_err err = fx_keyring_open(kr, db, org_id, aad, blob, len, &pt, &plen);
    if (err != FX_OK)
        return err;
    *out = json_loadb(pt, plen, 0, NULL);
    free(pt);
    return *out ? FX_OK : FX_ESTORE;
}

static enum fx_err insert(struct fx_db *db, const struct fx_notice_row *row, const char *policy,
                          const struct meta *m)
{
    static const char *sql = "INSERT INTO screenings (notice_id, version, result, trigger,"
                             " short_notice, notice_days, min_notice_days, policy_sha256,"
                             " notice_version, created_at)"
                             " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)";
    struct fx_stmt *st = NULL;
    bool r;
    enum fx_err err = fx_db_prepare(db, sql, &st);
    if (err != FX_OK)
        return err;
    fx_stmt_bind_str(st, 1, row->id);
    fx_stmt_bind_i64(st, 2, m->version);
    fx_stmt_bind_str(st, 3, m->result);
    fx_stmt_bind_str(st, 4, m->trigger);
    fx_stmt_bind_i64(st, 5, m->short_notice ? 1 : 0);
    if (m->has_notice_days)
        fx_stmt_bind_i64(st, 6, m->notice_days);
    else
        fx_stmt_bind_null(st, 6);
    fx_stmt_bind_i64(st, 7, m->min_notice_days);
    fx_stmt_bind_str(st, 8, policy);
    fx_stmt_bind_i64(st, 9, m->notice_version);
    fx_stmt_bind_i64(st, 10, m->created_at);
    err = fx_stmt_step(st, &r);
    fx_stmt_finalize(st);
    return err;
}

static const char *result_of(const struct fx_policy *pol, const json_t *inputs)
{
    return fx_screen_result(pol, inputs) ? "likely_covered" : "likely_not_covered";
}

/*
 * The canonical bytes of a screening (owned): the explanation of inputs under pol,
 * with what the row and m say. What GET .../screenings/{n} serves and what the
 * screening's ledger leaf hashes, so both paths build it here.
 */
static char *render(const struct fx_policy *pol, const json_t *inputs,
                    const struct fx_notice_row *row, const struct meta *m, size_t *len_out)
{
    json_t *doc = NULL;
    char t[25];
    fx_screen_notice(pol, inputs, &doc);
    fx_format_time(m->created_at, t);
    json_object_set_new(doc, "notice_id", json_string(row->id));
    json_object_set_new(doc, "ref", json_string(row->ref));
    json_object_set_new(doc, "version", json_integer(m->version));
    json_object_set_new(doc, "notice_version", json_integer(m->notice_version));
    json_object_set_new(doc, "trigger", json_string(m->trigger));
    json_object_set_new(doc, "short_notice", json_boolean(m->short_notice));
    json_object_set_new(doc, "notice_days",
                        m->has_notice_days ? json_integer(m->notice_days) : json_null());
    json_object_set_new(doc, "min_notice_days", json_integer(m->min_notice_days));
    json_object_set_new(doc, "created_at", json_string(t));
    char *bytes = fx_json_canonical(doc, len_out);
    json_decref(doc);
    return bytes;
}

/* The leaf of screening m of row (SPEC §9): the SHA-256 of its served bytes. */
static void screening_leaf(const struct fx_policy *pol, const json_t *inputs,
                           const struct fx_notice_row *row, const struct meta *m,
                           int64_t now, struct fx_leaf *leaf, char hex[65])
{
    size_t len = 0;
    char *bytes = render(pol, inputs, row, m, &len);
    fx_digest_sha256_hex(bytes, len, hex);
    free(bytes);
    *leaf = (struct fx_leaf){"screening", row->id, m->version, hex, row->org_id, now};
}

static json_t *screened_event(const struct fx_policy *pol, const char *trigger, int64_t version,
                              const char *result, const char *prev)
{
    return json_pack("{s:s,s:I,s:s,s:o,s:s,s:s}", "trigger", trigger, "screening_version",
                     (json_int_t)version, "result", result, "previous_result",
                     prev[0] ? json_string(prev) : json_null(), "policy", pol->name,
                     "policy_sha256", pol->sha256);
}

enum fx_err fx_screening_record(struct fx_db *db, const struct fx_notice_env *env,
                                const struct fx_notice_row *row, const json_t *fields,
                                const struct fx_policy *pol, const char *trigger)
{
    char prev[24];
    struct meta m = {.trigger = trigger, .short_notice = row->short_notice,
                     .has_notice_days = row->has_notice_days, .notice_days = row->notice_days,
                     .min_notice_days = pol->min_notice_days, .notice_version = row->version,
                     .created_at = env->now};
    enum fx_err err = fx_screening_current(db, row->id, &m.version, prev);
    if (err != FX_OK)
        return err;
    m.version++;
    json_t *inputs = inputs_of(fields);
    m.result = result_of(pol, inputs);
    err = put_inputs(db, env->keys, row, inputs);
    if (err == FX_OK)
        err = insert(db, row, pol->sha256, &m);
    /* SPEC §9: every screening is a leaf, its receipt in the write's answer */
    if (err == FX_OK) {
        struct fx_leaf leaf;
        char hex[65];
        screening_leaf(pol, inputs, row, &m, env->now, &leaf, hex);
        err = fx_notice_leaf(db, env, leaf.kind, leaf.record_id, leaf.version,
                             leaf.content_sha256, leaf.org);
    }
    json_decref(inputs);
    /* the history notes a screening that changed the result; every one is kept as a record */
    if (err == FX_OK && prev[0] && strcmp(prev, m.result) != 0)
        err = fx_notice_event(db, env, row, "screened",
                              screened_event(pol, trigger, m.version, m.result, prev));
    return err;
}

/* The policy document of a stored version (any, not only the active one). */
static enum fx_err load_policy(struct fx_db *db, const char *sha256, struct fx_policy *out)
{
    enum fx_err err = fx_policy_load(db, sha256, out);
    return err == FX_ENOTFOUND ? FX_ESTORE : err; /* every screening names a stored policy */
}

enum fx_err fx_screening_bytes(struct fx_db *db, struct fx_keyring *kr,
                               const struct fx_notice_row *row, int64_t version, char **out,
                               size_t *len_out)
{
    static const char *sql =
        "SELECT s.version, s.result, s.trigger, s.short_notice, s.notice_days,"
        " s.min_notice_days, s.policy_sha256, s.notice_version, s.created_at, i.inputs"
        " FROM screenings s JOIN screening_inputs i ON i.notice_id = s.notice_id"
        " AND i.notice_version = s.notice_version WHERE s.notice_id = $1"
        " AND s.version <= CAST($2 AS BIGINT) ORDER BY s.version DESC LIMIT 1";
    struct fx_stmt *st = NULL;
    struct fx_policy pol;
    bool r = false;
    json_t *inputs = NULL;
    memset(&pol, 0, sizeof(pol));
    *out = NULL;
    enum fx_err err = fx_db_prepare(db, sql, &st);
    if (err != FX_OK)
        return err;
    fx_stmt_bind_str(st, 1, row->id);
    fx_stmt_bind_i64(st, 2, version > 0 ? version : INT64_MAX);
    err = fx_stmt_step(st, &r);
    if (err == FX_OK && (!r || (version > 0 && fx_stmt_i64(st, 0) != version)))
        err = FX_ENOTFOUND;
    if (err == FX_OK) {
        char stored[24], trigger[16], sha[65];
        struct meta m = {.version = fx_stmt_i64(st, 0), .trigger = trigger,
                         .short_notice = fx_stmt_i64(st, 3) != 0,
                         .has_notice_days = !fx_stmt_is_null(st, 4),
                         .notice_days = fx_stmt_i64(st, 4),
                         .min_notice_days = fx_stmt_i64(st, 5),
                         .notice_version = fx_stmt_i64(st, 7), .created_at = fx_stmt_i64(st, 8)};
        snprintf(stored, sizeof(stored), "%s", fx_stmt_text(st, 1, NULL));
        snprintf(trigger, sizeof(trigger), "%s", fx_stmt_text(st, 2, NULL));
        snprintf(sha, sizeof(sha), "%s", fx_stmt_text(st, 6, NULL));
        size_t len = 0;
        const void *blob = fx_stmt_blob(st, 9, &len);
        err = open_inputs(kr, db, row->id, row->org_id, m.notice_version, blob, len, &inputs);
        if (err == FX_OK)
            err = load_policy(db, sha, &pol);
        /* derived again, the result must be the one recorded */
        if (err == FX_OK && strcmp(result_of(&pol, inputs), stored) != 0)
            err = FX_ESTORE;
        if (err == FX_OK)
            *out = render(&pol, inputs, row, &m, len_out);
    }
    fx_stmt_finalize(st);
    json_decref(inputs);
    fx_policy_cleanup(&pol);
    return err;
}

/* ---- re-screening every open notice ---- */

/* One open notice in a pass. */
struct item {
    struct fx_notice_row row; /* id, ref, org_id, status, version, notice_days, short_notice */
    int64_t version;          /* the newest screening's version; 0 when never screened */
    char prev[24];            /* its result */
    unsigned char *sealed;    /* owned: the sealed inputs of the current notice version */
    size_t sealed_len;
    json_t *inputs;           /* owned: opened */
    bool fresh_inputs;        /* inputs were rebuilt from the notice version: keep them */
    bool short_to;
    const char *result;       /* the new result */
    unsigned char *event;     /* apply: the sealed event detail, owned */
    size_t event_len;
    struct fx_tlog_ready ready; /* apply: the leaf's bytes and hash (owned) */
    enum fx_err err;
};

struct pass {
    char from[37], to[37]; /* the chunk: open notices with from < id <= to */
    struct fx_db *db;
    const struct fx_notice_env *env;
    const struct fx_policy *pol;
    bool apply;
    uint64_t first_index; /* apply: the ledger index of the chunk's first leaf */
    struct item *items;
    size_t n;
    size_t next; /* the next item a worker takes, under mu */
    pthread_mutex_t mu;
};

static void item_cleanup(struct item *it)
{
    fx_tlog_ready_cleanup(&it->ready);
    json_decref(it->inputs);
    free(it->sealed);
    free(it->event);
    memset(it, 0, sizeof(*it));
}

/* Pass 1: the next chunk of open notices after `after` (id order). */
static enum fx_err read_chunk(struct pass *p, const char *after)
{
    /* "NOT IN" the closed statuses rather than "IN" the open ones: the id index leads */
    static const char *sql =
        "SELECT n.id, n.ref, n.org_id, n.status, n.version, n.notice_days, n.short_notice,"
        " s.version, s.result, i.inputs FROM notices n"
        " LEFT JOIN screenings s ON s.notice_id = n.id AND s.version ="
        " (SELECT MAX(x.version) FROM screenings x WHERE x.notice_id = n.id)"
        " LEFT JOIN screening_inputs i ON i.notice_id = n.id AND i.notice_version = n.version"
        " WHERE n.id > $1 AND n.status NOT IN ('draft', 'withdrawn', 'released')"
        " ORDER BY n.id LIMIT $2";
    struct fx_stmt *st = NULL;
    bool r = false;
    p->n = 0;
    enum fx_err err = fx_db_prepare(p->db, sql, &st);
    if (err != FX_OK)
        return err;
    fx_stmt_bind_str(st, 1, after);
    fx_stmt_bind_i64(st, 2, CHUNK);
    while ((err = fx_stmt_step(st, &r)) == FX_OK && r) {
        struct item *it = &p->items[p->n++];
        struct fx_notice_row *row = &it->row;
        snprintf(row->id, sizeof(row->id), "%s", fx_stmt_text(st, 0, NULL));
        snprintf(row->ref, sizeof(row->ref), "%s", fx_stmt_text(st, 1, NULL));
        snprintf(row->org_id, sizeof(row->org_id), "%s", fx_stmt_text(st, 2, NULL));
        snprintf(row->status, sizeof(row->status), "%s", fx_stmt_text(st, 3, NULL));
        row->version = fx_stmt_i64(st, 4);
        row->has_notice_days = !fx_stmt_is_null(st, 5);
        row->notice_days = fx_stmt_i64(st, 5);
        row->short_notice = fx_stmt_i64(st, 6) != 0;
        it->version = fx_stmt_is_null(st, 7) ? 0 : fx_stmt_i64(st, 7);
        snprintf(it->prev, sizeof(it->prev), "%s", it->version ? fx_stmt_text(st, 8, NULL) : "");
        if (!fx_stmt_is_null(st, 9)) {
            size_t len = 0;
            const void *blob = fx_stmt_blob(st, 9, &len);
            it->sealed = fx_xmalloc(len ? len : 1);
            memcpy(it->sealed, blob, len);
            it->sealed_len = len;
        }
    }
    fx_stmt_finalize(st);
    return err;
}

/*
 * Still pass 1, on the connection: loads the key of every org in the chunk (opening
 * that org's first item), and opens here what the workers cannot: notices whose
 * inputs were never kept are read from their current version.
 */
static enum fx_err prepare_chunk(struct pass *p)
{
    const char *warm[MAX_WARM];
    size_t n_warm = 0;
    enum fx_err err = FX_OK;
    for (size_t i = 0; i < p->n && err == FX_OK; i++) {
        struct item *it = &p->items[i];
        if (it->sealed == NULL) {
            json_t *fields = NULL;
            err = fx_notice_fields(p->db, p->env->keys, &it->row, &fields);
            if (err == FX_OK) {
                it->inputs = inputs_of(fields);
                it->fresh_inputs = true;
                json_decref(fields);
            }
            continue;
        }
        bool known = false;
        for (size_t k = 0; k < n_warm && !known; k++)
            known = strcmp(warm[k], it->row.org_id) == 0;
        if (known)
            continue;
        err = open_inputs(p->env->keys, p->db, it->row.id, it->row.org_id, it->row.version,
                          it->sealed, it->sealed_len, &it->inputs);
        /* past MAX_WARM orgs, items of the orgs not tracked are opened here, one by one */
        if (n_warm < MAX_WARM)
            warm[n_warm++] = it->row.org_id;
    }
    return err;
}

/* What an application records as it's new screening (row: the item's, re-flagged). */
static struct meta meta_of(const struct pass *p, const struct item *it,
                           const struct fx_notice_row *row)
{
    return (struct meta){.version = it->version + 1, .result = it->result, .trigger = "policy",
                         .short_notice = it->short_to, .has_notice_days = row->has_notice_days,
                         .notice_days = row->notice_days,
                         .min_notice_days = p->pol->min_notice_days,
                         .notice_version = row->version, .created_at = p->env->now};
}

/* Pass 2, for one item: open, screen, and for an application make its leaf ready and
 * seal its event. */
static void screen_item(struct pass *p, struct item *it)
{
    const struct fx_policy *pol = p->pol;
    /* the org's key was loaded by prepare_chunk: no connection is needed here */
    if (it->inputs == NULL)
        it->err = open_inputs(p->env->keys, NULL, it->row.id, it->row.org_id, it->row.version,
                              it->sealed, it->sealed_len, &it->inputs);
    if (it->err != FX_OK)
        return;
    /* SPEC §3 under the new min_notice_days: the flag is judged again from notice_days */
    it->short_to = it->row.has_notice_days && it->row.notice_days < pol->min_notice_days;
    it->result = result_of(pol, it->inputs);
    /* SPEC §9: the new screening's leaf, made ready here, appended by finish() */
    if (p->apply) {
        struct fx_notice_row row = it->row;
        row.short_notice = it->short_to;
        struct meta m = meta_of(p, it, &row);
        struct fx_leaf leaf;
        char hex[65];
        screening_leaf(pol, it->inputs, &row, &m, p->env->now, &leaf, hex);
        fx_tlog_prepare(&leaf, &it->ready);
    }
    /* done with the inputs: freed here rather than on the connection's thread, unless
     * they were rebuilt from the notice and are still to be kept */
    if (!it->fresh_inputs) {
        json_decref(it->inputs);
        it->inputs = NULL;
        FX_FREE(it->sealed);
    }
    if (!p->apply)
        return;
    json_t *ev = screened_event(pol, "policy", it->version + 1, it->result, it->prev);
    json_object_set_new(ev, "short_notice", json_boolean(it->short_to));
    json_object_set_new(ev, "previous_short_notice", json_boolean(it->row.short_notice));
    json_object_set_new(ev, "ledger_index",
                        json_integer((json_int_t)(p->first_index + (uint64_t)(it - p->items))));
    it->err = fx_notice_event_seal(p->env->keys, NULL, &it->row, ev, &it->event, &it->event_len);
}

static void *worker(void *arg)
{
    struct pass *p = arg;
    for (;;) {
        pthread_mutex_lock(&p->mu);
        size_t i = p->next++;
        pthread_mutex_unlock(&p->mu);
        if (i >= p->n)
            return NULL;
        screen_item(p, &p->items[i]);
    }
}

/* The threads screening one chunk while the caller writes the previous one. */
struct crew {
    pthread_t t[WORKERS];
    size_t started;
    struct pass *p; /* the chunk being screened; NULL when idle */
};

static void crew_start(struct crew *c, struct pass *p)
{
    c->p = p;
    c->started = 0;
    p->next = 0;
    for (size_t i = 0; i < WORKERS; i++)
        if (pthread_create(&c->t[i], NULL, worker, p) == 0)
            c->started++;
}

/* Waits for the chunk; with no thread to be had, the caller screens it itself. */
static void crew_join(struct crew *c)
{
    if (c->p == NULL)
        return;
    if (c->started == 0)
        worker(c->p);
    for (size_t i = 0; i < c->started; i++)
        pthread_join(c->t[i], NULL);
    c->p = NULL;
}

static json_t *change_of(const struct item *it)
{
    return json_pack("{s:s,s:s,s:s,s:{s:o,s:s},s:{s:b,s:b}}", "notice_id", it->row.id, "ref",
                     it->row.ref, "org_id", it->row.org_id, "screening", "from",
                     it->prev[0] ? json_string(it->prev) : json_null(), "to", it->result,
                     "short_notice", "from", it->row.short_notice, "to", it->short_to);
}

/* Pass 3, for one item of an application: the screening and the event. */
static enum fx_err write_item(struct pass *p, struct item *it)
{
    const struct fx_notice_env *env = p->env;
    struct fx_notice_row row = it->row;
    row.short_notice = it->short_to;
    struct meta m = meta_of(p, it, &row);
    enum fx_err err = FX_OK;
    if (it->fresh_inputs)
        err = put_inputs(p->db, env->keys, &row, it->inputs);
    if (err == FX_OK)
        err = insert(p->db, &row, p->pol->sha256, &m);
    if (err == FX_OK)
        err = fx_notice_event_put(p->db, env, &row, "screened", it->event, it->event_len);
    return err;
}

/* Pass 1 for a chunk: read, keep what the gate allows, prepare. *read_out: rows read. */
static enum fx_err load(struct pass *p, char *after,
                        bool (*keep)(const struct fx_notice_row *, void *), void *keep_arg,
                        size_t *read_out, uint64_t *next_index)
{
    snprintf(p->from, sizeof(p->from), "%s", after);
    enum fx_err err = read_chunk(p, after);
    *read_out = p->n;
    if (p->n)
        snprintf(after, 37, "%s", p->items[p->n - 1].row.id);
    snprintf(p->to, sizeof(p->to), "%s", after);
    /* the gate first: what it refuses is neither screened nor listed */
    size_t kept = 0;
    for (size_t i = 0; i < p->n; i++) {
        if (keep(&p->items[i].row, keep_arg))
            p->items[kept++] = p->items[i];
        else
            item_cleanup(&p->items[i]);
    }
    p->n = kept;
    p->first_index = *next_index;
    *next_index += kept;
    return err == FX_OK ? prepare_chunk(p) : err;
}

/* Pass 3 for a chunk: write (apply), list the changes, release the items. */
static enum fx_err finish(struct pass *p, enum fx_err err, json_t *changes)
{
    for (size_t i = 0; i < p->n; i++) {
        struct item *it = &p->items[i];
        if (err == FX_OK)
            err = it->err;
        if (err == FX_OK && p->apply)
            err = write_item(p, it);
        if (err == FX_OK && (strcmp(it->prev, it->result) != 0 ||
                             it->row.short_notice != it->short_to))
            json_array_append_new(changes, change_of(it));
    }
    /* the stamp and the short-notice flag of the whole chunk, in one statement */
    if (err == FX_OK && p->apply && p->n)
        err = fx_notice_restamp_range(p->db, p->from, p->to, p->pol->sha256,
                                      p->pol->min_notice_days, p->env->now);
    /* the chunk's leaves, at the indices their events name; no checkpoint is signed
     * until the policy's own leaf, the last of the application */
    if (err == FX_OK && p->apply && p->n) {
        struct fx_tlog_ready *ready = fx_xcalloc(p->n, sizeof(*ready));
        uint64_t size = 0;
        for (size_t i = 0; i < p->n; i++)
            ready[i] = p->items[i].ready;
        err = fx_tlog_append_ready(p->db, p->env->signer, ready, p->n, &size, NULL, 0, NULL);
        if (err == FX_OK && size != p->first_index + p->n)
            err = FX_ESTORE;
        free(ready);
    }
    for (size_t i = 0; i < p->n; i++)
        item_cleanup(&p->items[i]);
    p->n = 0;
    return err;
}

/*
 * Re-screens every open notice that keep allows: a dry run, or (apply) the writes
 * of fx_screening_apply, for which keep must allow every row (the range stamp).
 */
static enum fx_err rescreen(struct fx_db *db, const struct fx_notice_env *env,
                            const struct fx_policy *pol, bool apply,
                            bool (*keep)(const struct fx_notice_row *, void *), void *keep_arg,
                            json_t **changes_out, size_t *examined_out, uint64_t *first_leaf_out)
{
    /* two chunks: the crew screens one while this thread reads or writes the other */
    struct pass chunks[2];
    for (size_t i = 0; i < 2; i++) {
        chunks[i] = (struct pass){.db = db, .env = env, .pol = pol, .apply = apply};
        pthread_mutex_init(&chunks[i].mu, NULL);
        chunks[i].items = fx_xcalloc(CHUNK, sizeof(struct item));
    }
    struct crew crew = {.p = NULL};
    struct pass *cur = &chunks[0], *nxt = &chunks[1];
    json_t *changes = json_array();
    size_t examined = 0, read = 0;
    char after[37] = "";
    uint64_t next_index = 0; /* apply: where the next chunk's leaves go */
    *changes_out = NULL;
    *examined_out = 0;
    enum fx_err err = apply ? fx_tlog_size(db, &next_index) : FX_OK;
    *first_leaf_out = next_index;
    if (err == FX_OK)
        err = load(cur, after, keep, keep_arg, &read, &next_index);
    if (err == FX_OK)
        crew_start(&crew, cur);
    while (err == FX_OK) {
        bool more = read == CHUNK;
        if (more)
            err = load(nxt, after, keep, keep_arg, &read, &next_index);
        crew_join(&crew);
        if (err == FX_OK && more)
            crew_start(&crew, nxt);
        examined += cur->n;
        err = finish(cur, err, changes);
        struct pass *t = cur;
        cur = nxt;
        nxt = t;
        if (!more)
            break;
    }
    crew_join(&crew);
    for (size_t i = 0; i < 2; i++) {
        for (size_t k = 0; k < chunks[i].n; k++)
            item_cleanup(&chunks[i].items[k]);
        free(chunks[i].items);
        pthread_mutex_destroy(&chunks[i].mu);
    }
    if (err != FX_OK) {
        json_decref(changes);
        return err;
    }
    *changes_out = changes;
    *examined_out = examined;
    return FX_OK;
}

static json_t *ref_of(const struct fx_policy *pol)
{
    return json_pack("{s:s,s:s}", "name", pol->name, "sha256", pol->sha256);
}

static bool keep_all(const struct fx_notice_row *row, void *arg)
{
    (void)row;
    (void)arg;
    return true;
}

/* Runs the re-screening unless pol is the active policy; builds the answer. */
static enum fx_err rescreen_answer(struct fx_db *db, const struct fx_notice_env *env,
                                   const struct fx_policy *pol, bool apply,
                                   bool (*keep)(const struct fx_notice_row *, void *),
                                   void *keep_arg, json_t **out, bool *unchanged_out)
{
    struct fx_policy active;
    enum fx_err err = fx_policy_load_active(db, &active);
    if (err != FX_OK)
        return err == FX_ENOTFOUND ? FX_ESTORE : err;
    bool same = strcmp(active.sha256, pol->sha256) == 0;
    json_t *changes = NULL;
    size_t examined = 0;
    uint64_t first_leaf = 0;
    if (same)
        changes = json_array();
    else
        err = rescreen(db, env, pol, apply, keep, keep_arg, &changes, &examined, &first_leaf);
    if (err == FX_OK)
        *out = json_pack("{s:o,s:o,s:I,s:I,s:o,s:b}", "policy", ref_of(pol),
                         apply ? "previous" : "active", ref_of(&active), "examined",
                         (json_int_t)examined, "changed", (json_int_t)json_array_size(changes),
                         "changes", changes, "unchanged", same);
    /* where the new screenings' leaves are: the policy leaf's checkpoint covers them */
    if (err == FX_OK && apply && !same)
        json_object_set_new(*out, "screening_leaves",
                            json_pack("{s:I,s:I}", "first", (json_int_t)first_leaf, "count",
                                      (json_int_t)examined));
    fx_policy_cleanup(&active);
    *unchanged_out = same;
    return err;
}

enum fx_err fx_screening_check(struct fx_db *db, const struct fx_notice_env *env,
                               const struct fx_policy *pol,
                               bool (*keep)(const struct fx_notice_row *, void *),
                               void *keep_arg, json_t **out)
{
    bool same = false;
    return rescreen_answer(db, env, pol, false, keep, keep_arg, out, &same);
}

enum fx_err fx_screening_apply(struct fx_db *db, const struct fx_notice_env *env,
                               const struct fx_policy *pol, json_t **out)
{
    bool same = false;
    enum fx_err err = rescreen_answer(db, env, pol, true, keep_all, NULL, out, &same);
    if (err != FX_OK || same)
        return err;
    err = fx_policy_activate(db, env->now, pol);
    /* SPEC §9: a policy change is a leaf: the policy document's hash, by the acting org */
    json_t *receipt = NULL;
    if (err == FX_OK) {
        struct fx_leaf leaf = {"policy", pol->sha256, 1, pol->sha256, env->who->org_id,
                               env->now};
        err = fx_tlog_append(db, env->signer, &leaf, &receipt);
    }
    /* one audit row for the whole application; each notice's history has its event */
    if (err == FX_OK) {
        json_array_append(env->receipts, receipt);
        json_object_set_new(*out, "receipt", receipt);
        err = fx_audit_write(db, env->now, env->who->user_id[0] ? env->who : NULL,
                             "policy.apply", pol->sha256, env->who->org_id, "ok");
    }
    if (err != FX_OK) {
        json_decref(*out);
        *out = NULL;
    }
    return err;
}
