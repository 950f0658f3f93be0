/*
 * test_list_index.c: every list reads its rows through the index of its most
 * selective filter (docs/internals/store.md, "List queries"). A SQLite store
 * holds thousands of rows that no filter below matches (audit rows of other
 * records and orgs, other orgs' notices, grants, incidents and users far from
 * the deadline window, orgs of another kind, other users' tokens) and a few
 * that do, written in groups
 * between runs of noise so that ids interleave. Each list, driven by each of
 * its indexed filters, must answer exactly the matching rows in its order,
 * page by page through its cursor, while the store's count of rows stepped
 * through in full scans (fx_store_stats) stays put: a statement that scanned
 * the table would add thousands. Lists in id order (orgs, users, tokens) must
 * not sort either: their index gives the order, so a page stops at its LIMIT.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "common/parse.h"
#include "policy/policy.h"
#include "records/audit.h"
#include "records/deadline.h"
#include "records/grant.h"
#include "records/incident.h"
#include "records/notice.h"
#include "records/org.h"
#include "store/store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define NOISE       3000 /* rows of each table that no filter below matches */
#define SPECIAL_GAP 450  /* a group of matching rows after every SPECIAL_GAP rows of noise */
/* Full-scan steps one list call may add (none in practice); a statement that read
 * a table in full would add about NOISE. */
#define MAX_SCAN_STEPS 4
#define PAGE           2 /* rows per page, so that every list takes several */
#define DAY_MS         86400000LL
#define HOUR_MS        3600000LL
#define TODAY          20000 /* days */
#define WITHIN         30
#define NONE           INT64_MIN /* an integer bound as NULL */

static struct {
    char dir[64];
    struct fx_store *store;
    unsigned seq;         /* ids in insertion order */
    int64_t report_hours; /* the default policy's incident clock */
    char coord[40], mine[40], other[40], agency[40];
} fx;

/* The ids (or audit actions) a list answered or should answer, in order. */
struct ids {
    char v[16][64];
    size_t n;
};

static void add_id(struct ids *ids, const char *id)
{
    size_t len = strlen(id);
    assert_true(ids->n < FX_ARRAY_LEN(ids->v) && len < sizeof(ids->v[0]));
    memcpy(ids->v[ids->n++], id, len + 1);
}

/* ids newest first: the order of every list but the org list */
static struct ids newest_first(const char *const *v, size_t n)
{
    struct ids out = {.n = 0};
    while (n-- > 0)
        add_id(&out, v[n]);
    return out;
}

static const char *next_id(char *buf, const char *prefix)
{
    snprintf(buf, 40, "%s-%07u", prefix, fx.seq++);
    return buf;
}

/* Runs sql with one parameter per character of types: s a string (or NULL), i an int64
 * (NONE binds NULL). */
static void put(struct fx_db *db, const char *sql, const char *types, ...)
{
    struct fx_stmt *st = NULL;
    bool row = false;
    va_list ap;
    assert_int_equal(fx_db_prepare(db, sql, &st), FX_OK);
    va_start(ap, types);
    for (int i = 0; types[i]; i++) {
        if (types[i] == 's') {
            fx_stmt_bind_str(st, i + 1, va_arg(ap, const char *));
        } else {
            int64_t v = va_arg(ap, int64_t);
            if (v == NONE)
                fx_stmt_bind_null(st, i + 1);
            else
                fx_stmt_bind_i64(st, i + 1, v);
        }
    }
    va_end(ap);
    assert_int_equal(fx_stmt_step(st, &row), FX_OK);
    fx_stmt_finalize(st);
}

static void add_org(struct fx_db *db, char *id, const char *kind)
{
    static const char *sql = "INSERT INTO orgs (id, name, kind, wrapped_key, created_at)"
                             " VALUES ($1, $1, $2, X'00', 0)";
    put(db, sql, "ss", next_id(id, "org"), kind);
}

static void add_user(struct fx_db *db, char *id, const char *org)
{
    static const char *sql = "INSERT INTO users (id, org_id, email, name, role, created_at)"
                             " VALUES ($1, $2, $1, $1, 'member', 0)";
    put(db, sql, "ss", next_id(id, "user"), org);
}

static void add_token(struct fx_db *db, char *id, const char *user)
{
    static const char *sql = "INSERT INTO tokens (id, user_id, hash, created_at, expires_at)"
                             " VALUES ($1, $2, CAST($1 AS BLOB), 0, 0)";
    put(db, sql, "ss", next_id(id, "token"), user);
}

static void add_notice(struct fx_db *db, char *id, const char *org, const char *status,
                       int64_t release)
{
    static const char *sql =
        "INSERT INTO notices (id, ref, org_id, status, version, etag, planned_release_date,"
        " policy_sha256, created_at, updated_at) VALUES ($1, $1, $2, $3, 1, 'e', $4, 'p', 0, 0)";
    put(db, sql, "sssi", next_id(id, "notice"), org, status, release);
}

static void add_grant(struct fx_db *db, char *id, const char *notice, const char *dev,
                      const char *partner, int64_t starts, int64_t ends, int64_t revoked)
{
    static const char *sql =
        "INSERT INTO grants (id, notice_id, developer_org, partner_org, sector, starts, ends,"
        " developer_consent_at, coordinator_consent_at, terms_sha256, revoked_at, version,"
        " created_at, updated_at) VALUES ($1, $2, $3, $4, 'energy', $5, $6, 1, 1, 't', $7, 1,"
        " 0, 0)";
    put(db, sql, "ssssiii", next_id(id, "grant"), notice, dev, partner, starts, ends, revoked);
}

static void add_incident(struct fx_db *db, char *id, const char *org, const char *status,
                         int64_t late, int64_t detected_at, const char *policy)
{
    static const char *sql =
        "INSERT INTO incidents (id, ref, org_id, tlp, status, severity, category, version, etag,"
        " detected_at, reported_at, late, policy_sha256, created_by, created_at, updated_at)"
        " VALUES ($1, $1, $2, 'CLEAR', $3, 'low', 'other', 1, 'e', $4, $4, $5, $6, 'u', 0, 0)";
    put(db, sql, "sssiis", next_id(id, "incident"), org, status, detected_at, late, policy);
}

/* An assessment of notice whose task is agency's: the notice is assigned to it. */
static void assign(struct fx_db *db, const char *notice, const char *agency)
{
    static const char *assessment =
        "INSERT INTO assessments (id, notice_id, org_id, status, access_starts, access_ends,"
        " version, opened_at) VALUES ($1, $2, $3, 'closed', 0, 0, 1, 0)";
    static const char *task = "INSERT INTO assessment_tasks (assessment_id, agency_org, status)"
                              " VALUES ($1, $2, 'open')";
    char id[40];
    put(db, assessment, "sss", next_id(id, "assessment"), notice, fx.coord);
    put(db, task, "ss", id, agency);
}

static void add_audit(struct fx_db *db, const char *org, const char *action, const char *record,
                      const char *record_org)
{
    struct fx_principal p;
    memset(&p, 0, sizeof(p));
    snprintf(p.user_id, sizeof(p.user_id), "user-of-%s", org ? org : "");
    snprintf(p.org_id, sizeof(p.org_id), "%s", org ? org : "");
    assert_int_equal(fx_audit_write(db, 1, org ? &p : NULL, action, record, record_org, "ok"),
                     FX_OK);
}

/* ---- the data: what each list below must answer ---- */

static struct {
    struct ids notices_mine, notices_dev_mine, notices_assessed, notices_window, notices_before,
        notices_assigned;
    struct ids grants_n1, grants_n2, grants_mine, grants_mine_n2;
    struct ids incidents_mine, agencies, users_mine, tokens_mine;
    char user[40]; /* a user of mine, whose tokens are listed */
    struct ids audit_record, audit_acting, audit_scope, audit_access_log, audit_agency_in_scope;
    struct ids deadlines; /* kind:record_id, by due date */
    char notices[6][40];  /* the special notices, which grants name */
} want;

/* Noise row i of each table: other orgs' rows, dated far from every filter. */
static void noise(struct fx_db *db, int i, const char *policy)
{
    static char orgs[8][40];
    char id[40], notice[40];
    if (i < 8)
        add_org(db, orgs[i], "developer");
    else if (i % 4 == 0)
        add_org(db, id, "developer");
    add_notice(db, notice, fx.other, i % 2 ? "submitted" : "draft", TODAY + 1000 + i % 50);
    add_grant(db, id, notice, fx.other, orgs[i % 8], TODAY + 1000, TODAY + 2000, NONE);
    add_incident(db, id, fx.other, "open", 0, (TODAY - 400) * DAY_MS, policy);
    snprintf(id, sizeof(id), "record-%d", i);
    add_audit(db, orgs[i % 8], "noise", id, fx.other);
    add_user(db, notice, fx.other);
    add_token(db, id, notice);
}

/* The matching rows of group k, written between two runs of noise. */
static void special(struct fx_db *db, int k, const char *policy)
{
    static const char *const record = "record-R";
    char(*n)[40] = want.notices;
    const int64_t clock = fx.report_hours * HOUR_MS;
    switch (k) {
    case 0: /* notices */
        add_notice(db, n[0], fx.mine, "draft", NONE);
        add_notice(db, n[1], fx.mine, "submitted", TODAY + 5);
        add_notice(db, n[2], fx.other, "assessed", TODAY + 10);
        add_notice(db, n[3], fx.mine, "assessed", TODAY + 40);
        add_notice(db, n[4], fx.other, "withdrawn", TODAY + 3);
        add_notice(db, n[5], fx.mine, "under_review", TODAY + 20);
        assign(db, n[2], fx.agency);
        assign(db, n[3], fx.agency);
        want.notices_mine = newest_first((const char *[]){n[0], n[1], n[3], n[5]}, 4);
        want.notices_dev_mine = newest_first((const char *[]){n[1], n[3], n[5]}, 3);
        want.notices_assessed = newest_first((const char *[]){n[2], n[3]}, 2);
        want.notices_window = newest_first((const char *[]){n[1], n[2], n[4], n[5]}, 4);
        want.notices_before = want.notices_window;
        want.notices_assigned = newest_first((const char *[]){n[2], n[3]}, 2);
        break;
    case 1: /* grants: by notice, by org as developer or as partner */
    {
        char g[4][40];
        add_grant(db, g[0], n[2], fx.other, fx.mine, TODAY + 5, TODAY + 100, NONE);
        add_grant(db, g[1], n[1], fx.mine, fx.other, TODAY - 100, TODAY + 10, NONE);
        add_grant(db, g[2], n[1], fx.mine, fx.agency, TODAY + 1, TODAY + 2, 1);
        add_grant(db, g[3], n[2], fx.other, fx.agency, TODAY + 500, TODAY + 600, NONE);
        want.grants_n1 = newest_first((const char *[]){g[1], g[2]}, 2);
        want.grants_n2 = newest_first((const char *[]){g[0], g[3]}, 2);
        want.grants_mine = newest_first((const char *[]){g[0], g[1], g[2]}, 3);
        want.grants_mine_n2 = newest_first((const char *[]){g[0]}, 1);
        /* by due date, then kind, then id */
        char d[5][64];
        snprintf(d[0], sizeof(d[0]), "grant_starts:%s", g[0]);
        snprintf(d[1], sizeof(d[1]), "notice_release:%s", n[1]);
        snprintf(d[2], sizeof(d[2]), "grant_ends:%s", g[1]);
        snprintf(d[3], sizeof(d[3]), "notice_release:%s", n[2]);
        snprintf(d[4], sizeof(d[4]), "notice_release:%s", n[5]);
        for (int i = 0; i < 5; i++)
            add_id(&want.deadlines, d[i]);
        break;
    }
    case 2: /* incidents: reported by mine; due soon, reported late, resolved */
    {
        char i[4][40], d[2][64];
        add_incident(db, i[0], fx.mine, "open", 0, (TODAY + 3) * DAY_MS - clock, policy);
        add_incident(db, i[1], fx.mine, "open", 1, (TODAY - 400) * DAY_MS - clock, policy);
        add_incident(db, i[2], fx.other, "resolved", 1, (TODAY - 400) * DAY_MS, policy);
        add_incident(db, i[3], fx.mine, "resolved", 0, (TODAY - 400) * DAY_MS, policy);
        want.incidents_mine = newest_first((const char *[]){i[0], i[1], i[3]}, 3);
        /* before every other deadline: i[1] was due 400 days ago, i[0] in 3 days */
        snprintf(d[0], sizeof(d[0]), "incident_report:%s", i[1]);
        snprintf(d[1], sizeof(d[1]), "incident_report:%s", i[0]);
        struct ids rest = want.deadlines;
        want.deadlines.n = 0;
        add_id(&want.deadlines, d[0]);
        add_id(&want.deadlines, d[1]);
        for (size_t r = 0; r < rest.n; r++)
            add_id(&want.deadlines, rest.v[r]);
        break;
    }
    case 3: /* orgs of one kind */
    {
        char a[2][40];
        add_org(db, a[0], "agency");
        add_org(db, a[1], "agency");
        want.agencies.n = 0;
        add_id(&want.agencies, fx.agency);
        add_id(&want.agencies, a[0]);
        add_id(&want.agencies, a[1]);
        break;
    }
    case 4: /* audit rows: a record's, an acting org's, an org's scope, an access log */
        add_audit(db, fx.other, "a", record, fx.mine);
        add_audit(db, fx.mine, "b", record, fx.mine);
        add_audit(db, fx.mine, "c", "record-X", fx.other);
        add_audit(db, NULL, "d", record, fx.mine);
        add_audit(db, fx.agency, "e", "record-Y", fx.mine);
        add_audit(db, fx.mine, "f", "record-Z", fx.mine);
        want.audit_record = newest_first((const char *[]){"a", "b", "d"}, 3);
        want.audit_acting = newest_first((const char *[]){"b", "c", "f"}, 3);
        want.audit_scope = newest_first((const char *[]){"a", "b", "c", "d", "e", "f"}, 6);
        want.audit_access_log = newest_first((const char *[]){"a", "d"}, 2);
        want.audit_agency_in_scope = newest_first((const char *[]){"e"}, 1);
        break;
    case 5: /* an org's users, a user's tokens (oldest first) */
    {
        char u[2][40], t[40];
        add_user(db, want.user, fx.mine);
        add_user(db, u[0], fx.mine);
        add_user(db, u[1], fx.mine);
        add_id(&want.users_mine, want.user);
        add_id(&want.users_mine, u[0]);
        add_id(&want.users_mine, u[1]);
        for (int i = 0; i < 3; i++) {
            add_token(db, t, want.user);
            add_id(&want.tokens_mine, t);
        }
        break;
    }
    default:
        break;
    }
}

static enum fx_err fill_fn(struct fx_db *db, void *arg)
{
    (void)arg;
    struct fx_policy pol;
    struct fx_problem pb;
    fx_problem_init(&pb);
    assert_int_equal(fx_policy_parse(fx_policy_default, strlen(fx_policy_default), &pol, &pb),
                     FX_OK);
    fx_problem_cleanup(&pb);
    assert_int_equal(fx_policy_activate(db, 0, &pol), FX_OK);
    fx.report_hours = pol.incident_report_hours;
    add_org(db, fx.coord, "coordinator");
    add_org(db, fx.mine, "developer");
    add_org(db, fx.other, "developer");
    add_org(db, fx.agency, "agency");
    for (int i = 0; i < NOISE; i++) {
        noise(db, i, pol.sha256);
        if (i % SPECIAL_GAP == SPECIAL_GAP / 2)
            special(db, i / SPECIAL_GAP, pol.sha256);
    }
    fx_policy_cleanup(&pol);
    return FX_OK;
}

static int setup(void **state)
{
    (void)state;
    snprintf(fx.dir, sizeof(fx.dir), "/tmp/fx-list-index.XXXXXX");
    assert_non_null(mkdtemp(fx.dir));
    assert_int_equal(fx_store_open("sqlite:", fx.dir, &fx.store), FX_OK);
    assert_int_equal(fx_store_write(fx.store, fill_fn, NULL), FX_OK);
    assert_int_equal(want.audit_record.n, 3); /* every special row was written */
    assert_int_equal(want.tokens_mine.n, 3);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    static const char *const files[] = {"fx.db", "fx.db-wal", "fx.db-shm"};
    char path[96];
    fx_store_close(fx.store);
    for (size_t i = 0; i < FX_ARRAY_LEN(files); i++) {
        snprintf(path, sizeof(path), "%s/%s", fx.dir, files[i]);
        unlink(path);
    }
    rmdir(fx.dir);
    return 0;
}

/* ---- reading a list page by page ---- */

/* One page below (or after) cursor ("" for the first) into out; *next: "" on the last. */
typedef enum fx_err (*page_fn)(struct fx_db *db, const void *filter, const char *cursor,
                               struct ids *out, char next[40]);

struct page_call {
    page_fn fn;
    const void *filter;
    const char *cursor;
    struct ids *out;
    char *next;
};

static enum fx_err page_read_fn(struct fx_db *db, void *arg)
{
    struct page_call *c = arg;
    return c->fn(db, c->filter, c->cursor, c->out, c->next);
}

static int64_t fullscan_steps(void)
{
    struct fx_store_stats st;
    fx_store_stats(fx.store, &st);
    assert_true(st.fullscan_steps >= 0);
    return st.fullscan_steps;
}

static int64_t sorts(void)
{
    struct fx_store_stats st;
    fx_store_stats(fx.store, &st);
    assert_true(st.sorts >= 0);
    return st.sorts;
}

/* Reads every page of a list and checks it against want, and each read's full-scan steps. */
static void check_list(page_fn fn, const void *filter, const struct ids *want_ids)
{
    struct ids got = {.n = 0};
    char cursor[40] = "", next[40] = "";
    for (int pages = 0; pages < 16; pages++) {
        struct ids page = {.n = 0};
        struct page_call c = {fn, filter, cursor, &page, next};
        int64_t before = fullscan_steps();
        assert_int_equal(fx_store_read(fx.store, page_read_fn, &c), FX_OK);
        int64_t steps = fullscan_steps() - before;
        if (steps > MAX_SCAN_STEPS)
            fail_msg("a page stepped through %lld rows in full scans", (long long)steps);
        assert_true(page.n <= PAGE);
        for (size_t i = 0; i < page.n; i++)
            add_id(&got, page.v[i]);
        if (next[0] == '\0')
            break;
        snprintf(cursor, sizeof(cursor), "%s", next);
    }
    assert_int_equal(next[0], '\0');
    for (size_t i = 0; i < got.n && i < want_ids->n; i++)
        assert_string_equal(got.v[i], want_ids->v[i]);
    assert_int_equal(got.n, want_ids->n);
}

/* check_list for a list its index gives in order: no page may sort. */
static void check_list_in_order(page_fn fn, const void *filter, const struct ids *want_ids)
{
    int64_t before = sorts();
    check_list(fn, filter, want_ids);
    if (sorts() != before)
        fail_msg("a list in id order sorted its rows: its index does not give the order");
}

static enum fx_err audit_page(struct fx_db *db, const void *filter, const char *cursor,
                              struct ids *out, char next[40])
{
    struct fx_audit_filter f = *(const struct fx_audit_filter *)filter;
    json_t *items = NULL;
    int64_t next_id = 0;
    f.limit = PAGE;
    f.before_id = 0;
    if (cursor[0])
        assert_int_equal(fx_parse_i64(cursor, strlen(cursor), 1, INT64_MAX, &f.before_id), FX_OK);
    enum fx_err err = fx_audit_list(db, &f, &items, &next_id);
    if (err != FX_OK)
        return err;
    for (size_t i = 0; i < json_array_size(items); i++)
        add_id(out, json_string_value(json_object_get(json_array_get(items, i), "action")));
    json_decref(items);
    if (next_id)
        snprintf(next, 40, "%lld", (long long)next_id);
    else
        next[0] = '\0';
    return FX_OK;
}

static void take_next(char next[40], char *cursor)
{
    snprintf(next, 40, "%s", cursor ? cursor : "");
    free(cursor);
}

_Static_assert(offsetof(struct fx_notice_row, id) == 0, "a notice row starts with its id");
_Static_assert(offsetof(struct fx_grant_row, id) == 0, "a grant row starts with its id");

/* The ids of n rows of size bytes that start with their id, then the cursor; frees both. */
static void take_rows(struct ids *out, char next[40], void *rows, size_t n, size_t size,
                      char *cursor)
{
    for (size_t i = 0; i < n; i++)
        add_id(out, (const char *)rows + i * size);
    free(rows);
    take_next(next, cursor);
}

static enum fx_err notice_page(struct fx_db *db, const void *filter, const char *cursor,
                               struct ids *out, char next[40])
{
    struct fx_notice_filter f = *(const struct fx_notice_filter *)filter;
    struct fx_notice_row *rows = NULL;
    size_t n = 0;
    char *cur = NULL;
    f.limit = PAGE;
    f.before_id = cursor[0] ? cursor : NULL;
    enum fx_err err = fx_notice_list(db, &f, NULL, NULL, &rows, &n, &cur);
    take_rows(out, next, rows, n, sizeof(*rows), cur);
    return err;
}

static enum fx_err grant_page(struct fx_db *db, const void *filter, const char *cursor,
                              struct ids *out, char next[40])
{
    struct fx_grant_filter f = *(const struct fx_grant_filter *)filter;
    struct fx_grant_row *rows = NULL;
    size_t n = 0;
    char *cur = NULL;
    f.limit = PAGE;
    f.today = TODAY;
    f.before_id = cursor[0] ? cursor : NULL;
    enum fx_err err = fx_grant_list(db, &f, NULL, NULL, &rows, &n, &cur);
    take_rows(out, next, rows, n, sizeof(*rows), cur);
    return err;
}

static bool keep_incident(const struct fx_incident_row *row, void *arg)
{
    (void)row;
    (void)arg;
    return true;
}

static enum fx_err incident_page(struct fx_db *db, const void *filter, const char *cursor,
                                 struct ids *out, char next[40])
{
    struct fx_incident_filter f = *(const struct fx_incident_filter *)filter;
    struct fx_incident_row *rows = NULL;
    size_t n = 0;
    char *cur = NULL;
    f.limit = PAGE;
    f.before_id = cursor[0] ? cursor : NULL;
    enum fx_err err = fx_incident_list(db, &f, keep_incident, NULL, &rows, &n, &cur);
    for (size_t i = 0; i < n; i++) {
        add_id(out, rows[i].id);
        fx_incident_row_cleanup(&rows[i]);
    }
    free(rows);
    take_next(next, cur);
    return err;
}

/* fx_org_list, fx_user_list and fx_token_list: a key, then the same page arguments. */
typedef enum fx_err (*json_list_fn)(struct fx_db *db, const char *key, const char *after_id,
                                    int64_t limit, json_t **items_out, char **next_out);

static enum fx_err json_page(json_list_fn fn, struct fx_db *db, const char *key, const char *cursor,
                             struct ids *out, char next[40])
{
    json_t *items = NULL;
    char *cur = NULL;
    enum fx_err err = fn(db, key, cursor[0] ? cursor : NULL, PAGE, &items, &cur);
    for (size_t i = 0; i < json_array_size(items); i++)
        add_id(out, json_string_value(json_object_get(json_array_get(items, i), "id")));
    json_decref(items);
    take_next(next, cur);
    return err;
}

static enum fx_err org_page(struct fx_db *db, const void *filter, const char *cursor,
                            struct ids *out, char next[40])
{
    return json_page(fx_org_list, db, filter, cursor, out, next);
}

static enum fx_err user_page(struct fx_db *db, const void *filter, const char *cursor,
                             struct ids *out, char next[40])
{
    return json_page(fx_user_list, db, filter, cursor, out, next);
}

static enum fx_err token_page(struct fx_db *db, const void *filter, const char *cursor,
                              struct ids *out, char next[40])
{
    return json_page(fx_token_list, db, filter, cursor, out, next);
}

/* ---- the tests ---- */

static void test_audit_list_by_index(void **state)
{
    (void)state;
    struct fx_audit_filter by_record = {.record = "record-R"};
    struct fx_audit_filter acting = {.org_id = fx.mine};
    struct fx_audit_filter scope = {.scope_org = fx.mine};
    struct fx_audit_filter access_log = {
        .record = "record-R", .scope_org = fx.mine, .outside_only = true};
    struct fx_audit_filter agency_in_scope = {.org_id = fx.agency, .scope_org = fx.mine};
    check_list(audit_page, &by_record, &want.audit_record);
    check_list(audit_page, &acting, &want.audit_acting);
    check_list(audit_page, &scope, &want.audit_scope);
    check_list(audit_page, &access_log, &want.audit_access_log);
    check_list(audit_page, &agency_in_scope, &want.audit_agency_in_scope);
}

static void test_notice_list_by_index(void **state)
{
    (void)state;
    const struct fx_notice_filter all = {
        .scope = FX_LIST_ALL_SUBMITTED, .scope_org = fx.coord, .short_notice = -1};
    struct fx_notice_filter own = all, developer = all, status = all, window = all, before = all,
                            assigned = all;
    own.scope = FX_LIST_ORG;
    own.scope_org = fx.mine;
    developer.developer = fx.mine;
    status.status = "assessed";
    window.has_after = window.has_before = true;
    window.release_after = TODAY;
    window.release_before = TODAY + WITHIN;
    before.has_before = true;
    before.release_before = TODAY + WITHIN;
    assigned.scope = FX_LIST_ASSIGNED;
    assigned.scope_org = fx.agency;
    check_list(notice_page, &own, &want.notices_mine);
    check_list(notice_page, &developer, &want.notices_dev_mine);
    check_list(notice_page, &status, &want.notices_assessed);
    check_list(notice_page, &window, &want.notices_window);
    check_list(notice_page, &before, &want.notices_before);
    check_list(notice_page, &assigned, &want.notices_assigned);
}

static void test_grant_list_by_index(void **state)
{
    (void)state;
    struct fx_grant_filter n1 = {.notice_id = want.notices[1]};
    struct fx_grant_filter n2 = {.notice_id = want.notices[2]};
    struct fx_grant_filter mine = {.org_id = fx.mine};
    struct fx_grant_filter mine_n2 = {.org_id = fx.mine, .notice_id = n2.notice_id};
    check_list(grant_page, &n1, &want.grants_n1);
    check_list(grant_page, &n2, &want.grants_n2);
    check_list(grant_page, &mine, &want.grants_mine);
    check_list(grant_page, &mine_n2, &want.grants_mine_n2);
}

static void test_incident_list_by_reporter(void **state)
{
    (void)state;
    struct fx_incident_filter mine = {.scope_org = fx.mine, .reporter = fx.mine, .late = -1};
    check_list(incident_page, &mine, &want.incidents_mine);
}

static void test_org_list_by_kind(void **state)
{
    (void)state;
    check_list_in_order(org_page, "agency", &want.agencies);
}

static void test_user_and_token_lists_by_key(void **state)
{
    (void)state;
    check_list_in_order(user_page, fx.mine, &want.users_mine);
    check_list_in_order(token_page, want.user, &want.tokens_mine);
}

static bool keep_deadline(const struct fx_deadline *d, void *arg)
{
    (void)d;
    (void)arg;
    return true;
}

struct deadlines {
    struct fx_deadline *items; /* owned */
    size_t n;
};

static enum fx_err deadlines_fn(struct fx_db *db, void *arg)
{
    struct deadlines *d = arg;
    return fx_deadline_list(db, TODAY, WITHIN, fx.agency, keep_deadline, NULL, &d->items, &d->n);
}

static void test_deadline_list_by_index(void **state)
{
    (void)state;
    struct deadlines d = {NULL, 0};
    int64_t before = fullscan_steps();
    assert_int_equal(fx_store_read(fx.store, deadlines_fn, &d), FX_OK);
    assert_true(fullscan_steps() - before <= MAX_SCAN_STEPS);
    for (size_t i = 0; i < d.n && i < want.deadlines.n; i++) {
        char got[64];
        snprintf(got, sizeof(got), "%s:%s", d.items[i].kind, d.items[i].record_id);
        assert_string_equal(got, want.deadlines.v[i]);
    }
    assert_int_equal(d.n, want.deadlines.n);
    free(d.items);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_audit_list_by_index),
        cmocka_unit_test(test_notice_list_by_index),
        cmocka_unit_test(test_grant_list_by_index),
        cmocka_unit_test(test_incident_list_by_reporter),
        cmocka_unit_test(test_org_list_by_kind),
        cmocka_unit_test(test_user_and_token_lists_by_key),
        cmocka_unit_test(test_deadline_list_by_index),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
