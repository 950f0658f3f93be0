/*
 * deadline.c: the deadlines of the review process and of incident reporting,
 * from plain columns only (dates, states, the policies' figures), in five
 * queries. Owns nothing between calls.
 */
#include "records/deadline.h"
#include "common/parse.h"
#include "policy/policy.h"

#include <stdio.h>
#include <string.h>

#define DAY_MS 86400000LL
#define HOUR_MS 3600000LL
/* A policy's incident_report_hours is at most a year (src/policy/policy.c). */
#define MAX_REPORT_HOURS (24 * 365)

struct acc {
    struct fx_deadline *items; /* owned */
    size_t n, cap;
    bool (*keep)(const struct fx_deadline *, void *);
    void *keep_arg;
};

/* Room for one more item in a; returns it zeroed. */
static struct fx_deadline *grow(struct acc *a)
{
    if (a->n == a->cap) {
        a->cap = a->cap ? a->cap * 2 : 64;
        a->items = fx_xrealloc(a->items, a->cap * sizeof(*a->items));
    }
    struct fx_deadline *d = &a->items[a->n];
    memset(d, 0, sizeof(*d));
    return d;
}

/*
 * Every query answers the same columns: record_id, notice_id, ref, org_id, status,
 * agency_org, partner_org, approved, assigned, due, kind selector (0 or 1 picks
 * kinds[0] or kinds[1]).
 */
static enum fx_err run(struct fx_db *db, const char *sql, int64_t today, int64_t until,
                       const char *viewer, const char *record_kind, const char *const kinds[2],
                       struct acc *a)
{
    struct fx_stmt *st = NULL;
    bool r = false;
    enum fx_err err = fx_db_prepare(db, sql, &st);
    if (err != FX_OK)
        return err;
    fx_stmt_bind_i64(st, 1, today);
    fx_stmt_bind_i64(st, 2, until);
    fx_stmt_bind_str(st, 3, viewer);
    while ((err = fx_stmt_step(st, &r)) == FX_OK && r) {
        struct fx_deadline *d = grow(a);
        d->record_kind = record_kind;
        fx_stmt_copy_text(st, 0, d->record_id, sizeof(d->record_id));
        fx_stmt_copy_text(st, 1, d->notice_id, sizeof(d->notice_id));
        fx_stmt_copy_text(st, 2, d->ref, sizeof(d->ref));
        fx_stmt_copy_text(st, 3, d->org_id, sizeof(d->org_id));
        fx_stmt_copy_text(st, 4, d->status, sizeof(d->status));
        fx_stmt_copy_text(st, 5, d->agency_org, sizeof(d->agency_org));
        fx_stmt_copy_text(st, 6, d->partner_org, sizeof(d->partner_org));
        d->approved = fx_stmt_i64(st, 7) != 0;
        d->assigned = fx_stmt_i64(st, 8) != 0;
        d->due = fx_stmt_i64(st, 9);
        d->kind = kinds[fx_stmt_i64(st, 10) ? 1 : 0];
        if (a->keep(d, a->keep_arg))
            a->n++;
    }
    fx_stmt_finalize(st);
    return err;
}

#define ASSIGNED(notice_col)                                                                       \
    "EXISTS (SELECT 1 FROM assessments x JOIN assessment_tasks y ON y.assessment_id = x.id"       \
    " WHERE x.notice_id = " notice_col " AND y.agency_org = $3)"

/* The incident_report_hours of the policy with this SHA-256 (parsed once per call). */
struct hours_memo {
    char sha[8][65];
    int64_t hours[8];
    size_t n;
};

static enum fx_err report_hours(struct fx_db *db, struct hours_memo *m, const char *sha,
                                int64_t *out)
{
    for (size_t i = 0; i < m->n; i++) {
        if (strcmp(m->sha[i], sha) == 0) {
            *out = m->hours[i];
            return FX_OK;
        }
    }
    struct fx_policy pol;
    enum fx_err err = fx_policy_load(db, sha, &pol);
    if (err == FX_ENOTFOUND)
        err = FX_ESTORE; /* every incident names a stored policy */
    if (err != FX_OK)
        return err;
    *out = pol.incident_report_hours;
    fx_policy_cleanup(&pol);
    if (m->n < FX_ARRAY_LEN(m->hours)) {
        snprintf(m->sha[m->n], sizeof(m->sha[m->n]), "%s", sha);
        m->hours[m->n++] = *out;
    }
    return FX_OK;
}

static int64_t floor_div(int64_t a, int64_t b)
{
    return a / b - (a % b != 0 && (a < 0) != (b < 0));
}

/*
 * SPEC §7, §13: an incident's reporting deadline, detected_at +
 * incident_report_hours. Listed while it falls in the window, and for as long
 * as an incident reported late stays unresolved (as an overdue task stays
 * until it is complete). The SQL bound is loose (no policy allows more than
 * MAX_REPORT_HOURS); each row is then judged exactly under its own policy.
 */
static enum fx_err incidents(struct fx_db *db, int64_t today, int64_t until, struct acc *a)
{
    static const char *sql =
        "SELECT id, ref, org_id, tlp, status, detected_at, reported_at, late, policy_sha256"
        " FROM incidents WHERE (late = 1 AND status <> 'resolved')"
        " OR detected_at BETWEEN $1 AND $2";
    struct fx_stmt *st = NULL;
    bool r = false;
    size_t first = a->n;
    char (*sha)[65] = NULL;
    struct hours_memo memo = {.n = 0};
    enum fx_err err = fx_db_prepare(db, sql, &st);
    if (err != FX_OK)
        return err;
    fx_stmt_bind_i64(st, 1, today * DAY_MS - MAX_REPORT_HOURS * HOUR_MS);
    fx_stmt_bind_i64(st, 2, (until + 1) * DAY_MS - 1);
    /* rows first, then their policies: no statement runs while another steps */
    while ((err = fx_stmt_step(st, &r)) == FX_OK && r) {
        struct fx_deadline *d = grow(a);
        d->kind = "incident_report";
        d->record_kind = "incident";
        fx_stmt_copy_text(st, 0, d->record_id, sizeof(d->record_id));
        fx_stmt_copy_text(st, 1, d->ref, sizeof(d->ref));
        fx_stmt_copy_text(st, 2, d->org_id, sizeof(d->org_id));
        fx_stmt_copy_text(st, 3, d->tlp, sizeof(d->tlp));
        fx_stmt_copy_text(st, 4, d->status, sizeof(d->status));
        d->due_at = fx_stmt_i64(st, 5); /* detected_at, until the policy is known */
        d->reported_at = fx_stmt_i64(st, 6);
        d->late = fx_stmt_i64(st, 7) != 0;
        size_t k = a->n++ - first;
        sha = fx_xrealloc(sha, (k + 1) * sizeof(*sha));
        fx_stmt_copy_text(st, 8, sha[k], sizeof(sha[k]));
    }
    fx_stmt_finalize(st);
    size_t kept = first;
    for (size_t i = first; i < a->n && err == FX_OK; i++) {
        struct fx_deadline *d = &a->items[i];
        int64_t hours = 0;
        err = report_hours(db, &memo, sha[i - first], &hours);
        if (err != FX_OK)
            break;
        d->due_at += hours * HOUR_MS;
        d->due = floor_div(d->due_at, DAY_MS);
        bool open_late = d->late && strcmp(d->status, "resolved") != 0;
        if ((open_late || (d->due >= today && d->due <= until)) && a->keep(d, a->keep_arg))
            a->items[kept++] = *d;
    }
    free(sha);
    a->n = err == FX_OK ? kept : first;
    return err;
}

static int by_due(const void *x, const void *y)
{
    const struct fx_deadline *a = x, *b = y;
    if (a->due != b->due)
        return a->due < b->due ? -1 : 1;
    int c = strcmp(a->kind, b->kind);
    return c ? c : strcmp(a->record_id, b->record_id);
}

enum fx_err fx_deadline_list(struct fx_db *db, int64_t today, int64_t within,
                             const char *viewer_org,
                             bool (*keep)(const struct fx_deadline *, void *), void *keep_arg,
                             struct fx_deadline **items_out, size_t *n_out)
{
    /* "NOT IN" the lifecycle's other statuses (notice.c) rather than "IN" the open ones:
     * SQLite would read every open notice through notices_status, not the window
     * through notices_release. clang-format cannot lay out a macro between literals. */
    /* clang-format off */
    static const char *notices =
        "SELECT n.id, n.id, n.ref, n.org_id, n.status, NULL, NULL, 0, " ASSIGNED("n.id")
        ", n.planned_release_date, 0 FROM notices n"
        " WHERE n.status NOT IN ('draft', 'withdrawn', 'released')"
        " AND n.planned_release_date BETWEEN $1 AND $2";
    static const char *windows =
        "SELECT a.id, n.id, n.ref, n.org_id, n.status, NULL, NULL, 0, " ASSIGNED("n.id")
        ", a.access_starts, 0 FROM assessments a JOIN notices n ON n.id = a.notice_id"
        " WHERE a.status = 'open' AND n.status = 'assessment'"
        " AND a.access_starts BETWEEN $1 AND $2 UNION ALL"
        " SELECT a.id, n.id, n.ref, n.org_id, n.status, NULL, NULL, 0, " ASSIGNED("n.id")
        ", a.access_ends, 1 FROM assessments a JOIN notices n ON n.id = a.notice_id"
        " WHERE a.status = 'open' AND n.status = 'assessment'"
        " AND a.access_ends BETWEEN $1 AND $2";
    static const char *tasks =
        "SELECT a.id, n.id, n.ref, n.org_id, n.status, t.agency_org, NULL, 0, " ASSIGNED("n.id")
        ", a.access_ends, 0 FROM assessment_tasks t JOIN assessments a ON a.id = t.assessment_id"
        " JOIN notices n ON n.id = a.notice_id WHERE a.status = 'open'"
        " AND n.status = 'assessment' AND t.status <> 'complete' AND a.access_ends <= $2";
    /* clang-format on */
#define GRANT_COLS                                                                                 \
    "SELECT g.id, n.id, n.ref, n.org_id, n.status, NULL, g.partner_org,"                          \
    " CASE WHEN g.developer_consent_at IS NOT NULL AND g.coordinator_consent_at IS NOT NULL"      \
    " THEN 1 ELSE 0 END, " ASSIGNED("n.id")
    static const char *grants =
        GRANT_COLS ", g.starts, 0 FROM grants g JOIN notices n ON n.id = g.notice_id"
        " WHERE g.revoked_at IS NULL AND g.starts BETWEEN $1 AND $2 UNION ALL " GRANT_COLS
        ", g.ends, 1 FROM grants g JOIN notices n ON n.id = g.notice_id"
        " WHERE g.revoked_at IS NULL AND g.ends BETWEEN $1 AND $2";
    static const char *const notice_kinds[2] = {"notice_release", "notice_release"};
    static const char *const window_kinds[2] = {"assessment_opens", "assessment_closes"};
    static const char *const task_kinds[2] = {"task_due", "task_due"};
    static const char *const grant_kinds[2] = {"grant_starts", "grant_ends"};
    struct acc a = {.keep = keep, .keep_arg = keep_arg};
    int64_t until = today + within;
    *items_out = NULL;
    *n_out = 0;
    enum fx_err err = run(db, notices, today, until, viewer_org, "notice", notice_kinds, &a);
    if (err == FX_OK)
        err = run(db, windows, today, until, viewer_org, "assessment", window_kinds, &a);
    if (err == FX_OK)
        err = run(db, tasks, today, until, viewer_org, "task", task_kinds, &a);
    if (err == FX_OK)
        err = run(db, grants, today, until, viewer_org, "grant", grant_kinds, &a);
    if (err == FX_OK)
        err = incidents(db, today, until, &a);
    if (err != FX_OK) {
        free(a.items);
        return err;
    }
    if (a.n > 1)
        qsort(a.items, a.n, sizeof(*a.items), by_due);
    *items_out = a.items;
    *n_out = a.n;
    return FX_OK;
}
