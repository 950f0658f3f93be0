/*
 * taxii.c: the TAXII 2.1 object store (taxii.h) over the taxii_objects and
 * taxii_status tables. Owns nothing between calls. Rows are read in
 * date_added order in batches; every row goes through the caller's gate
 * before it counts, so a filter or a marking never shortens a page silently:
 * the loop reads on until the page is full or the collection ends.
 */
#include "taxii/taxii.h"
#include "common/buf.h"
#include "common/json.h"
#include "common/parse.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>

void fx_taxii_put_cleanup(struct fx_taxii_put *p)
{
    free(p->id);
    free(p->type);
    free(p->version);
    free(p->bytes);
    free(p->sealed);
    memset(p, 0, sizeof(*p));
}

void fx_taxii_rows_free(struct fx_taxii_row *rows, size_t n)
{
    (void)n;
    free(rows);
}

/* "stix:<collection>:<id>:<version_us>" into out (n bytes; ids are at most 300). */
static void body_aad(const char *collection, const char *id, int64_t version_us, char *out,
                     size_t n)
{
    /* by hand: this runs for every object of every page */
    size_t cl = strlen(collection), il = strlen(id), at = 0;
    char num[24];
    int k = 23;
    uint64_t v = version_us < 0 ? (uint64_t)-version_us : (uint64_t)version_us;
    num[k] = '\0';
    do {
        num[--k] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    if (version_us < 0)
        num[--k] = '-';
    if (5 + cl + 1 + il + 1 + (size_t)(23 - k) + 1 > n) {
        snprintf(out, n, "stix:%s:%s:%lld", collection, id, (long long)version_us);
        return;
    }
    memcpy(out, "stix:", 5);
    at = 5;
    memcpy(out + at, collection, cl);
    at += cl;
    out[at++] = ':';
    memcpy(out + at, id, il);
    at += il;
    out[at++] = ':';
    memcpy(out + at, num + k, (size_t)(23 - k) + 1);
}

enum fx_err fx_taxii_seal(struct fx_db *db, struct fx_keyring *kr, const char *org_id,
                          const char *collection, struct fx_taxii_put *puts, size_t n)
{
    enum fx_err err = FX_OK;
    for (size_t i = 0; i < n && err == FX_OK; i++) {
        char aad[400];
        body_aad(collection, puts[i].id, puts[i].version_us, aad, sizeof(aad));
        FX_FREE(puts[i].sealed);
        err = fx_keyring_seal(kr, db, org_id, aad, puts[i].bytes, puts[i].len, &puts[i].sealed,
                              &puts[i].sealed_len);
    }
    return err;
}

static enum fx_err newest_added(struct fx_db *db, int64_t *out)
{
    static const char *sql = "SELECT MAX(date_added) FROM taxii_objects";
    struct fx_stmt *st = NULL;
    bool row = false;
    enum fx_err err = fx_db_prepare(db, sql, &st);
    if (err != FX_OK)
        return err;
    err = fx_stmt_step(st, &row);
    *out = err == FX_OK && row && !fx_stmt_is_null(st, 0) ? fx_stmt_i64(st, 0) : 0;
    fx_stmt_finalize(st);
    return err;
}

static enum fx_err exec2(struct fx_db *db, const char *sql, const char *a, const char *b)
{
    struct fx_stmt *st = NULL;
    bool row;
    enum fx_err err = fx_db_prepare(db, sql, &st);
    if (err != FX_OK)
        return err;
    fx_stmt_bind_str(st, 1, a);
    fx_stmt_bind_str(st, 2, b);
    err = fx_stmt_step(st, &row);
    fx_stmt_finalize(st);
    return err;
}

/* Stores one put: the flags of the id's other versions move when this one is first or last. */
static enum fx_err store_one(struct fx_db *db, const char *collection, const char *org_id,
                             const char *incident_id, struct fx_taxii_put *p)
{
    static const char *q_versions =
        "SELECT MIN(version_us), MAX(version_us),"
        " SUM(CASE WHEN version_us = $3 THEN 1 ELSE 0 END) FROM taxii_objects"
        " WHERE collection = $1 AND stix_id = $2";
    static const char *u_first = "UPDATE taxii_objects SET is_first = 0 WHERE collection = $1"
                                 " AND stix_id = $2 AND is_first = 1";
    static const char *u_last = "UPDATE taxii_objects SET is_last = 0 WHERE collection = $1"
                                " AND stix_id = $2 AND is_last = 1";
    static const char *ins =
        "INSERT INTO taxii_objects (date_added, collection, stix_id, type, version, version_us,"
        " spec_version, org_id, tlp, incident_id, is_first, is_last, body)"
        " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)";
    struct fx_stmt *st = NULL;
    bool row = false;
    enum fx_err err = fx_db_prepare(db, q_versions, &st);
    if (err != FX_OK)
        return err;
    fx_stmt_bind_str(st, 1, collection);
    fx_stmt_bind_str(st, 2, p->id);
    fx_stmt_bind_i64(st, 3, p->version_us);
    err = fx_stmt_step(st, &row);
    bool any = err == FX_OK && row && !fx_stmt_is_null(st, 0);
    int64_t lo = any ? fx_stmt_i64(st, 0) : 0, hi = any ? fx_stmt_i64(st, 1) : 0;
    p->duplicate = any && fx_stmt_i64(st, 2) > 0;
    fx_stmt_finalize(st);
    if (err != FX_OK || p->duplicate)
        return err;
    bool first = !any || p->version_us < lo, last = !any || p->version_us > hi;
    if (any && first)
        err = exec2(db, u_first, collection, p->id);
    if (err == FX_OK && any && last)
        err = exec2(db, u_last, collection, p->id);
    if (err == FX_OK)
        err = fx_db_prepare(db, ins, &st);
    if (err != FX_OK)
        return err;
    fx_stmt_bind_i64(st, 1, p->date_added);
    fx_stmt_bind_str(st, 2, collection);
    fx_stmt_bind_str(st, 3, p->id);
    fx_stmt_bind_str(st, 4, p->type);
    fx_stmt_bind_str(st, 5, p->version ? p->version : "");
    fx_stmt_bind_i64(st, 6, p->version_us);
    fx_stmt_bind_str(st, 7, "2.1");
    fx_stmt_bind_str(st, 8, org_id);
    fx_stmt_bind_str(st, 9, fx_stix_tlp_name(p->tlp));
    fx_stmt_bind_str(st, 10, incident_id);
    fx_stmt_bind_i64(st, 11, first ? 1 : 0);
    fx_stmt_bind_i64(st, 12, last ? 1 : 0);
    fx_stmt_bind_blob(st, 13, p->sealed, p->sealed_len);
    err = fx_stmt_step(st, &row);
    fx_stmt_finalize(st);
    return err;
}

static enum fx_err bump(struct fx_db *db, const char *collection);

/*
 * Bulk storing. Most objects of an envelope are ids the collection has never
 * seen: for those the flags are known (first and last) and no duplicate is
 * possible, so they are found with a few IN queries and inserted several rows
 * per statement. An id the collection (or this envelope) already holds takes
 * store_one(), after the pending rows are written. Inside the one write
 * transaction nothing else writes, so what the probe saw stays true.
 *
 * Statements are as wide as every backend binds (64 parameters): the cost of
 * a statement (its step, its statement journal, its bindings cleared) is paid
 * once per 8 rows. What every row of one store shares (collection, org,
 * incident) is bound once, as $1-$3, and the constants are written in the SQL.
 */
#define PROBE_IDS 63  /* with the collection: 64 parameters */
#define INSERT_ROWS 8 /* 3 shared + 8 x 7 = 59 parameters */
#define INSERT_COLS 7 /* date_added, stix_id, type, version, version_us, tlp, body */
#define INSERT_SHARED 3

static const char *probe_sql;  /* built once: the statement cache keys on the pointer */
static const char *insert_sql; /* INSERT_ROWS rows */
static const char *insert1_sql; /* one row */
static pthread_once_t sql_once = PTHREAD_ONCE_INIT;

/* "INSERT ... VALUES" with rows rows in the shared layout (bind_row()); owned. */
static char *insert_text(int rows)
{
    struct fx_buf b;
    size_t len = 0;
    fx_buf_init(&b, 4096);
    fx_buf_adds(&b, "INSERT INTO taxii_objects (collection, org_id, incident_id, date_added,"
                    " stix_id, type, version, version_us, tlp, body, spec_version, is_first,"
                    " is_last) VALUES ");
    for (int r = 0; r < rows; r++) {
        int k = INSERT_SHARED + r * INSERT_COLS;
        fx_buf_printf(&b, "%s($1, $2, $3", r ? ", " : "");
        for (int c = 1; c <= INSERT_COLS; c++)
            fx_buf_printf(&b, ", $%d", k + c);
        fx_buf_adds(&b, ", '2.1', 1, 1)");
    }
    return fx_buf_take(&b, &len);
}

static void build_sql(void)
{
    static char probe[PROBE_IDS * 6 + 160];
    struct fx_buf b;
    size_t len = 0;
    char *t;
    fx_buf_init(&b, sizeof(probe));
    fx_buf_adds(&b, "SELECT stix_id FROM taxii_objects WHERE collection = $1 AND stix_id IN (");
    for (int i = 0; i < PROBE_IDS; i++)
        fx_buf_printf(&b, "%s$%d", i ? ", " : "", i + 2);
    fx_buf_adds(&b, ")");
    t = fx_buf_take(&b, &len);
    memcpy(probe, t, len + 1);
    free(t);
    probe_sql = probe;
    insert_sql = insert_text(INSERT_ROWS); /* kept for the life of the process */
    insert1_sql = insert_text(1);
}

/* A set of id strings (borrowed), open addressing. */
struct idset {
    const char **slot;
    size_t cap;
};

static uint64_t hash_str(const char *s)
{
    uint64_t h = 1469598103934665603ull;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return h;
}

/* Adds s; true when it was there already. */
static bool idset_add(struct idset *set, const char *s)
{
    size_t i = (size_t)hash_str(s) & (set->cap - 1);
    while (set->slot[i]) {
        if (strcmp(set->slot[i], s) == 0)
            return true;
        i = (i + 1) & (set->cap - 1);
    }
    set->slot[i] = s;
    return false;
}

static bool idset_has(const struct idset *set, const char *s)
{
    size_t i = (size_t)hash_str(s) & (set->cap - 1);
    while (set->slot[i]) {
        if (strcmp(set->slot[i], s) == 0)
            return true;
        i = (i + 1) & (set->cap - 1);
    }
    return false;
}

/* The ids among puts that the collection holds already, into known (copies into *owned). */
static enum fx_err probe(struct fx_db *db, const char *collection, const struct fx_taxii_put *puts,
                         size_t n, struct idset *known, char ***owned, size_t *n_owned)
{
    enum fx_err err = FX_OK;
    for (size_t at = 0; at < n && err == FX_OK; at += PROBE_IDS) {
        struct fx_stmt *st = NULL;
        bool row = false;
        err = fx_db_prepare(db, probe_sql, &st);
        if (err != FX_OK)
            break;
        fx_stmt_bind_str(st, 1, collection);
        for (size_t k = 0; k < PROBE_IDS; k++)
            fx_stmt_bind_str(st, (int)k + 2, at + k < n ? puts[at + k].id : NULL);
        while ((err = fx_stmt_step(st, &row)) == FX_OK && row) {
            char *id = fx_xstrdup(fx_stmt_text(st, 0, NULL));
            *owned = fx_xrealloc(*owned, (*n_owned + 1) * sizeof(**owned));
            (*owned)[(*n_owned)++] = id;
            idset_add(known, id);
        }
        fx_stmt_finalize(st);
    }
    return err;
}

/* Binds one new row r of a statement in the shared layout (insert_text()). */
static void bind_row(struct fx_stmt *st, int r, const struct fx_taxii_put *p)
{
    int k = INSERT_SHARED + r * INSERT_COLS;
    fx_stmt_bind_i64(st, k + 1, p->date_added);
    fx_stmt_bind_str(st, k + 2, p->id);
    fx_stmt_bind_str(st, k + 3, p->type);
    fx_stmt_bind_str(st, k + 4, p->version ? p->version : "");
    fx_stmt_bind_i64(st, k + 5, p->version_us);
    fx_stmt_bind_str(st, k + 6, fx_stix_tlp_name(p->tlp));
    fx_stmt_bind_blob(st, k + 7, p->sealed, p->sealed_len);
}

/* Inserts the pending puts (new ids: first and last), INSERT_ROWS per statement. */
static enum fx_err flush(struct fx_db *db, const char *collection, const char *org_id,
                         const char *incident_id, struct fx_taxii_put *puts, size_t *pending,
                         size_t *np)
{
    enum fx_err err = FX_OK;
    size_t i = 0;
    while (i < *np && err == FX_OK) {
        bool bulk = *np - i >= INSERT_ROWS;
        size_t rows = bulk ? INSERT_ROWS : 1;
        struct fx_stmt *st = NULL;
        bool row;
        err = fx_db_prepare(db, bulk ? insert_sql : insert1_sql, &st);
        if (err != FX_OK)
            break;
        fx_stmt_bind_str(st, 1, collection);
        fx_stmt_bind_str(st, 2, org_id);
        fx_stmt_bind_str(st, 3, incident_id);
        for (size_t r = 0; r < rows; r++)
            bind_row(st, (int)r, &puts[pending[i + r]]);
        err = fx_stmt_step(st, &row);
        fx_stmt_finalize(st);
        i += rows;
    }
    *np = 0;
    return err;
}

enum fx_err fx_taxii_store(struct fx_db *db, const char *collection, const char *org_id,
                           const char *incident_id, int64_t now_us, struct fx_taxii_put *puts,
                           size_t n)
{
    pthread_once(&sql_once, build_sql);
    int64_t newest = 0;
    enum fx_err err = newest_added(db, &newest);
    int64_t next = now_us > newest ? now_us : newest + 1;
    struct idset known = {NULL, 16};
    while (known.cap < 2 * n + 2)
        known.cap *= 2;
    known.slot = fx_xcalloc(known.cap, sizeof(*known.slot));
    size_t *pending = fx_xmalloc((n ? n : 1) * sizeof(*pending));
    size_t np = 0, n_owned = 0;
    char **owned = NULL;
    if (err == FX_OK)
        err = probe(db, collection, puts, n, &known, &owned, &n_owned);
    for (size_t i = 0; i < n && err == FX_OK; i++) {
        struct fx_taxii_put *p = &puts[i];
        if (!idset_has(&known, p->id)) {
            /* an id the collection never held: first and last, never a duplicate */
            p->date_added = next++;
            p->duplicate = false;
            idset_add(&known, p->id);
            pending[np++] = i;
            if (np == INSERT_ROWS)
                err = flush(db, collection, org_id, incident_id, puts, pending, &np);
            continue;
        }
        err = flush(db, collection, org_id, incident_id, puts, pending, &np);
        if (err != FX_OK)
            break;
        p->date_added = next;
        err = store_one(db, collection, org_id, incident_id, p);
        if (!p->duplicate)
            next++;
    }
    if (err == FX_OK)
        err = flush(db, collection, org_id, incident_id, puts, pending, &np);
    bool changed = false;
    for (size_t i = 0; i < n; i++)
        changed = changed || !puts[i].duplicate;
    if (err == FX_OK && changed)
        err = bump(db, collection);
    for (size_t i = 0; i < n_owned; i++)
        free(owned[i]);
    free(owned);
    free(pending);
    free(known.slot);
    return err;
}

static enum fx_err bump(struct fx_db *db, const char *collection)
{
    static const char *sql = "INSERT INTO taxii_generations (collection, n) VALUES ($1, 1)"
                             " ON CONFLICT (collection) DO UPDATE SET n = taxii_generations.n + 1";
    struct fx_stmt *st = NULL;
    bool row;
    enum fx_err err = fx_db_prepare(db, sql, &st);
    if (err != FX_OK)
        return err;
    fx_stmt_bind_str(st, 1, collection);
    err = fx_stmt_step(st, &row);
    fx_stmt_finalize(st);
    return err;
}

enum fx_err fx_taxii_generation(struct fx_db *db, const char *collection, int64_t *out)
{
    static const char *sql = "SELECT n FROM taxii_generations WHERE collection = $1";
    struct fx_stmt *st = NULL;
    bool row = false;
    *out = 0;
    enum fx_err err = fx_db_prepare(db, sql, &st);
    if (err != FX_OK)
        return err;
    fx_stmt_bind_str(st, 1, collection);
    err = fx_stmt_step(st, &row);
    if (err == FX_OK && row)
        *out = fx_stmt_i64(st, 0);
    fx_stmt_finalize(st);
    return err;
}

/* TLP rank of the incident an identity row follows now (RED when it follows none). */
static enum fx_err anchor_rank(struct fx_db *db, const struct fx_taxii_put *p, int *rank)
{
    static const char *sql = "SELECT i.tlp FROM taxii_objects o JOIN incidents i"
                             " ON i.id = o.incident_id WHERE o.collection = $1"
                             " AND o.stix_id = $2 AND o.version_us = $3";
    struct fx_stmt *st = NULL;
    bool row = false;
    enum fx_err err = fx_db_prepare(db, sql, &st);
    if (err != FX_OK)
        return err;
    fx_stmt_bind_str(st, 1, FX_TAXII_INCIDENTS_ID);
    fx_stmt_bind_str(st, 2, p->id);
    fx_stmt_bind_i64(st, 3, p->version_us);
    err = fx_stmt_step(st, &row);
    int r = row ? fx_stix_tlp_parse(fx_stmt_text(st, 0, NULL)) : -1;
    *rank = r < 0 ? FX_TLP_RED : r;
    fx_stmt_finalize(st);
    return err;
}

static enum fx_err reanchor(struct fx_db *db, const struct fx_taxii_put *p,
                            const char *incident_id, enum fx_tlp tlp)
{
    static const char *sql = "UPDATE taxii_objects SET incident_id = $4 WHERE collection = $1"
                             " AND stix_id = $2 AND version_us = $3";
    int rank = 0;
    enum fx_err err = anchor_rank(db, p, &rank);
    if (err != FX_OK || (int)tlp >= rank)
        return err;
    struct fx_stmt *st = NULL;
    bool row;
    err = fx_db_prepare(db, sql, &st);
    if (err != FX_OK)
        return err;
    fx_stmt_bind_str(st, 1, FX_TAXII_INCIDENTS_ID);
    fx_stmt_bind_str(st, 2, p->id);
    fx_stmt_bind_i64(st, 3, p->version_us);
    fx_stmt_bind_str(st, 4, incident_id);
    err = fx_stmt_step(st, &row);
    fx_stmt_finalize(st);
    return err;
}

enum fx_err fx_taxii_publish(struct fx_db *db, struct fx_keyring *kr, const char *org_id,
                             const char *incident_id, const json_t *objects, int64_t now_us)
{
    size_t n = json_array_size(objects);
    struct fx_taxii_put *puts = fx_xcalloc(n ? n : 1, sizeof(*puts));
    enum fx_tlp tlp = FX_TLP_RED;
    enum fx_err err = FX_OK;
    for (size_t i = 0; i < n && err == FX_OK; i++) {
        const json_t *o = json_array_get(objects, i);
        const char *v = json_string_value(json_object_get(o, "modified"));
        struct fx_taxii_put *p = &puts[i];
        p->id = fx_xstrdup(json_string_value(json_object_get(o, "id")));
        p->type = fx_xstrdup(json_string_value(json_object_get(o, "type")));
        if (v == NULL || fx_stix_parse_timestamp(v, strlen(v), &p->version_us) != FX_OK)
            err = FX_EINVAL; /* FX made these objects: a missing modified is a bug */
        p->version = v ? fx_xstrdup(v) : NULL;
        bool marked = false;
        p->tlp = fx_stix_object_tlp(o, &marked);
        if (marked)
            tlp = p->tlp;
        p->bytes = fx_json_canonical(o, &p->len);
    }
    if (err == FX_OK)
        err = fx_taxii_seal(db, kr, org_id, FX_TAXII_INCIDENTS_ID, puts, n);
    if (err == FX_OK)
        err = fx_taxii_store(db, FX_TAXII_INCIDENTS_ID, org_id, incident_id, now_us, puts, n);
    for (size_t i = 0; i < n && err == FX_OK; i++)
        if (puts[i].duplicate && strcmp(puts[i].type, "identity") == 0)
            err = reanchor(db, &puts[i], incident_id, tlp);
    for (size_t i = 0; i < n; i++)
        fx_taxii_put_cleanup(&puts[i]);
    free(puts);
    return err;
}

/* ---- queries ---- */

#define ROW_SELECT                                                                                 \
    "SELECT o.stix_id, o.type, o.version, o.version_us, o.date_added, o.org_id,"                  \
    " COALESCE(i.tlp, o.tlp), COALESCE(o.incident_id, ''), o.is_first, o.is_last,"               \
    " o.collection, o.body FROM taxii_objects o LEFT JOIN incidents i ON i.id = o.incident_id"

/* an org's collection holds only what the org posted: no incident to join */
static const char *q_coll =
    "SELECT o.stix_id, o.type, o.version, o.version_us, o.date_added, o.org_id, o.tlp, '',"
    " o.is_first, o.is_last, o.collection, o.body FROM taxii_objects o"
    " WHERE o.collection = $1 AND o.date_added > $2 AND ($3 = 0 OR o.is_last = 1)"
    " ORDER BY o.date_added LIMIT $4";
static const char *q_all = ROW_SELECT " WHERE o.date_added > $1 AND ($2 = 0 OR o.is_last = 1)"
                                      " ORDER BY o.date_added LIMIT $3";
static const char *q_coll_id = ROW_SELECT " WHERE o.collection = $1 AND o.stix_id = $2"
                                          " AND o.date_added > $3"
                                          " ORDER BY o.date_added LIMIT $4";
/*
 * One object across every collection: a seek per collection on the
 * (collection, stix_id, version_us) index, which every insert keeps anyway,
 * rather than an index on stix_id alone that every insert would have to keep too.
 */
static const char *q_all_id =
    ROW_SELECT " WHERE o.collection IN (SELECT id FROM orgs UNION ALL SELECT '"
    FX_TAXII_INCIDENTS_ID "') AND o.stix_id = $1 AND o.date_added > $2"
               " ORDER BY o.date_added LIMIT $3";

static bool in_list(const char *const *list, size_t n, const char *v)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(list[i], v) == 0)
            return true;
    return false;
}

/*
 * TAXII 2.1 §3.4.2: no match[version] means "last"; several values are
 * alternatives. v_us is the version the object is named by: for objects with
 * neither modified nor created (stored with version_us 0), their date_added.
 */
static bool version_ok(const struct fx_taxii_query *q, bool first, bool last, int64_t v_us)
{
    if (q->v_all)
        return true;
    if (!q->v_first && !q->v_last && q->n_ts == 0)
        return last;
    if ((q->v_first && first) || (q->v_last && last))
        return true;
    for (size_t i = 0; i < q->n_ts; i++)
        if (q->v_ts[i] == v_us)
            return true;
    return false;
}

static bool only_last(const struct fx_taxii_query *q)
{
    return !q->v_all && !q->v_first && q->n_ts == 0;
}

/* A text column into a fixed field (cut to fit; NUL-terminated). */
static void col(struct fx_stmt *st, int c, char *out, size_t n)
{
    size_t len = 0;
    const char *v = fx_stmt_text(st, c, &len);
    if (v == NULL)
        len = 0;
    if (len >= n)
        len = n - 1;
    memcpy(out, v ? v : "", len);
    out[len] = '\0';
}

static void read_qrow(struct fx_stmt *st, struct fx_taxii_row *r, bool *first, bool *last)
{
    col(st, 0, r->id, sizeof(r->id));
    col(st, 1, r->type, sizeof(r->type));
    col(st, 2, r->version, sizeof(r->version));
    r->version_us = fx_stmt_i64(st, 3);
    r->date_added = fx_stmt_i64(st, 4);
    col(st, 5, r->org_id, sizeof(r->org_id));
    col(st, 6, r->tlp, sizeof(r->tlp));
    col(st, 7, r->incident_id, sizeof(r->incident_id));
    *first = fx_stmt_i64(st, 8) != 0;
    *last = fx_stmt_i64(st, 9) != 0;
    col(st, 10, r->collection, sizeof(r->collection));
}

/* Opens a row's sealed body into scratch (grown as needed) and appends it to out. */
static enum fx_err append_body(struct fx_db *db, struct fx_keyring *kr, const struct fx_taxii_row *r,
                               const void *c, size_t clen, unsigned char **scratch, size_t *cap,
                               struct fx_buf *out, bool comma)
{
    char aad[400];
    size_t len = 0;
    body_aad(r->collection, r->id, r->version_us, aad, sizeof(aad));
    if (*cap < clen) {
        *cap = clen < 4096 ? 4096 : clen;
        *scratch = fx_xrealloc(*scratch, *cap);
    }
    enum fx_err err = fx_keyring_open_to(kr, db, r->org_id, aad, c, clen, *scratch, *cap, &len);
    if (err == FX_OK && comma)
        err = fx_buf_add(out, ",", 1);
    if (err == FX_OK)
        err = fx_buf_add(out, *scratch, len);
    return err;
}

enum fx_err fx_taxii_query(struct fx_db *db, struct fx_keyring *kr, const struct fx_taxii_query *q,
                           bool (*keep)(const struct fx_taxii_row *, void *), void *keep_arg,
                           struct fx_buf *bodies, struct fx_taxii_row **rows_out, size_t *n_out,
                           bool *more_out)
{
    unsigned char *scratch = NULL;
    size_t scratch_cap = 0;
    *rows_out = NULL;
    *n_out = 0;
    *more_out = false;
    if (!q->spec_ok || q->limit == 0)
        return FX_OK;
    size_t batch = q->limit + 1 < 64 ? 64 : q->limit + 1;
    struct fx_taxii_row *rows = fx_xmalloc(q->limit * sizeof(*rows));
    size_t n = 0;
    int64_t after = q->after;
    enum fx_err err = FX_OK;
    bool done = false;
    const char *sql = q->object_id ? (q->collection ? q_coll_id : q_all_id)
                                   : (q->collection ? q_coll : q_all);
    while (!done && err == FX_OK) {
        struct fx_stmt *st = NULL;
        bool r = false;
        size_t got = 0;
        int k = 1;
        err = fx_db_prepare(db, sql, &st);
        if (err != FX_OK)
            break;
        if (q->collection)
            fx_stmt_bind_str(st, k++, q->collection);
        if (q->object_id)
            fx_stmt_bind_str(st, k++, q->object_id);
        fx_stmt_bind_i64(st, k++, after);
        if (!q->object_id)
            fx_stmt_bind_i64(st, k++, only_last(q) ? 1 : 0);
        fx_stmt_bind_i64(st, k, (int64_t)batch);
        while (!done && (err = fx_stmt_step(st, &r)) == FX_OK && r) {
            struct fx_taxii_row row;
            bool first, last;
            got++;
            read_qrow(st, &row, &first, &last);
            after = row.date_added;
            if (!version_ok(q, first, last, row.version[0] ? row.version_us : row.date_added))
                continue;
            if (q->n_types && !in_list(q->types, q->n_types, row.type))
                continue;
            if (q->n_ids && !in_list(q->ids, q->n_ids, row.id))
                continue;
            if (!keep(&row, keep_arg))
                continue;
            if (n == q->limit) {
                *more_out = true;
                done = true;
                break;
            }
            if (q->bodies && bodies) {
                size_t clen = 0;
                const void *c = fx_stmt_blob(st, 11, &clen);
                err = append_body(db, kr, &row, c, clen, &scratch, &scratch_cap, bodies, n > 0);
                if (err != FX_OK)
                    break;
            }
            rows[n++] = row;
        }
        fx_stmt_finalize(st);
        if (got < batch)
            done = true;
    }
    free(scratch);
    if (err != FX_OK) {
        fx_taxii_rows_free(rows, n);
        *more_out = false;
        return err;
    }
    *rows_out = rows;
    *n_out = n;
    return FX_OK;
}

enum fx_err fx_taxii_delete(struct fx_db *db, const char *collection, const char *object_id,
                            const struct fx_taxii_query *q, size_t *n_out)
{
    static const char *sel = "SELECT date_added, CASE WHEN version = '' THEN date_added"
                             " ELSE version_us END, is_first, is_last FROM taxii_objects"
                             " WHERE collection = $1 AND stix_id = $2";
    static const char *del = "DELETE FROM taxii_objects WHERE date_added = $1";
    static const char *bounds = "SELECT MIN(version_us), MAX(version_us) FROM taxii_objects"
                                " WHERE collection = $1 AND stix_id = $2";
    static const char *flags =
        "UPDATE taxii_objects SET is_first = CASE WHEN version_us = $3 THEN 1 ELSE 0 END,"
        " is_last = CASE WHEN version_us = $4 THEN 1 ELSE 0 END"
        " WHERE collection = $1 AND stix_id = $2";
    struct fx_stmt *st = NULL;
    bool r = false;
    int64_t *victims = NULL;
    size_t nv = 0;
    *n_out = 0;
    if (!q->spec_ok)
        return FX_OK;
    bool any_filter = q->v_all || q->v_first || q->v_last || q->n_ts;
    enum fx_err err = fx_db_prepare(db, sel, &st);
    if (err != FX_OK)
        return err;
    fx_stmt_bind_str(st, 1, collection);
    fx_stmt_bind_str(st, 2, object_id);
    while ((err = fx_stmt_step(st, &r)) == FX_OK && r) {
        bool first = fx_stmt_i64(st, 2) != 0, last = fx_stmt_i64(st, 3) != 0;
        if (any_filter && !version_ok(q, first, last, fx_stmt_i64(st, 1)))
            continue;
        victims = fx_xrealloc(victims, (nv + 1) * sizeof(*victims));
        victims[nv++] = fx_stmt_i64(st, 0);
    }
    fx_stmt_finalize(st);
    for (size_t i = 0; i < nv && err == FX_OK; i++) {
        err = fx_db_prepare(db, del, &st);
        if (err != FX_OK)
            break;
        fx_stmt_bind_i64(st, 1, victims[i]);
        err = fx_stmt_step(st, &r);
        fx_stmt_finalize(st);
    }
    free(victims);
    if (err != FX_OK || nv == 0)
        return err;
    err = bump(db, collection);
    if (err != FX_OK)
        return err;
    err = fx_db_prepare(db, bounds, &st);
    if (err != FX_OK)
        return err;
    fx_stmt_bind_str(st, 1, collection);
    fx_stmt_bind_str(st, 2, object_id);
    err = fx_stmt_step(st, &r);
    bool left = err == FX_OK && r && !fx_stmt_is_null(st, 0);
    int64_t lo = left ? fx_stmt_i64(st, 0) : 0, hi = left ? fx_stmt_i64(st, 1) : 0;
    fx_stmt_finalize(st);
    if (err == FX_OK && left) {
        err = fx_db_prepare(db, flags, &st);
        if (err == FX_OK) {
            fx_stmt_bind_str(st, 1, collection);
            fx_stmt_bind_str(st, 2, object_id);
            fx_stmt_bind_i64(st, 3, lo);
            fx_stmt_bind_i64(st, 4, hi);
            err = fx_stmt_step(st, &r);
            fx_stmt_finalize(st);
        }
    }
    if (err == FX_OK)
        *n_out = nv;
    return err;
}

/* ---- collections ---- */

enum fx_err fx_taxii_org_collection(struct fx_db *db, const char *id, char *name_out, size_t n)
{
    static const char *sql = "SELECT name FROM orgs WHERE id = $1";
    struct fx_stmt *st = NULL;
    bool row = false;
    if (!fx_uuid_valid(id, strlen(id)))
        return FX_ENOTFOUND;
    enum fx_err err = fx_db_prepare(db, sql, &st);
    if (err != FX_OK)
        return err;
    fx_stmt_bind_str(st, 1, id);
    err = fx_stmt_step(st, &row);
    if (err == FX_OK && !row)
        err = FX_ENOTFOUND;
    if (err == FX_OK)
        snprintf(name_out, n, "%s", fx_stmt_text(st, 0, NULL));
    fx_stmt_finalize(st);
    return err;
}

enum fx_err fx_taxii_org_collections(struct fx_db *db, json_t **out)
{
    static const char *sql = "SELECT id, name FROM orgs ORDER BY created_at, id";
    struct fx_stmt *st = NULL;
    bool row = false;
    enum fx_err err = fx_db_prepare(db, sql, &st);
    if (err != FX_OK)
        return err;
    json_t *a = json_array();
    while ((err = fx_stmt_step(st, &row)) == FX_OK && row)
        json_array_append_new(a, json_pack("{s:s,s:s}", "id", fx_stmt_text(st, 0, NULL), "name",
                                           fx_stmt_text(st, 1, NULL)));
    fx_stmt_finalize(st);
    if (err != FX_OK) {
        json_decref(a);
        return err;
    }
    *out = a;
    return FX_OK;
}

/* ---- status resources ---- */

enum fx_err fx_taxii_status_put(struct fx_db *db, struct fx_keyring *kr, const char *id,
                                const char *org_id, const char *user_id, int64_t now,
                                const char *status, size_t len)
{
    static const char *sql = "INSERT INTO taxii_status (id, org_id, user_id, created_at, body)"
                             " VALUES ($1, $2, $3, $4, $5)";
    char aad[80];
    snprintf(aad, sizeof(aad), "taxii-status:%s", id);
    unsigned char *c = NULL;
    size_t clen = 0;
    enum fx_err err = fx_keyring_seal(kr, db, org_id, aad, status, len, &c, &clen);
    struct fx_stmt *st = NULL;
    bool row;
    if (err == FX_OK)
        err = fx_db_prepare(db, sql, &st);
    if (err == FX_OK) {
        fx_stmt_bind_str(st, 1, id);
        fx_stmt_bind_str(st, 2, org_id);
        fx_stmt_bind_str(st, 3, user_id);
        fx_stmt_bind_i64(st, 4, now);
        fx_stmt_bind_blob(st, 5, c, clen);
        err = fx_stmt_step(st, &row);
        fx_stmt_finalize(st);
    }
    free(c);
    return err;
}

enum fx_err fx_taxii_status_get(struct fx_db *db, struct fx_keyring *kr, const char *id,
                                char *org_out, char **out, size_t *len_out)
{
    static const char *sql = "SELECT org_id, body FROM taxii_status WHERE id = $1";
    struct fx_stmt *st = NULL;
    bool row = false;
    enum fx_err err = fx_db_prepare(db, sql, &st);
    if (err != FX_OK)
        return err;
    fx_stmt_bind_str(st, 1, id);
    err = fx_stmt_step(st, &row);
    if (err == FX_OK && !row)
        err = FX_ENOTFOUND;
    if (err == FX_OK) {
        char aad[80];
        size_t clen = 0;
        snprintf(org_out, 37, "%s", fx_stmt_text(st, 0, NULL));
        snprintf(aad, sizeof(aad), "taxii-status:%s", id);
        const void *c = fx_stmt_blob(st, 1, &clen);
        err = fx_keyring_open(kr, db, org_out, aad, c, clen, out, len_out);
    }
    fx_stmt_finalize(st);
    return err;
}
