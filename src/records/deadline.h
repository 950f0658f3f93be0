/*
 * deadline.h: what falls due soon, and what is overdue (SPEC §13: one clock for
 * every deadline). Notices releasing soon, assessment windows opening and
 * closing, assessment tasks due (overdue once the window's last day passed),
 * grants starting and ending, and incidents' reporting deadlines (SPEC §7:
 * detected_at + the policy's incident_report_hours). Only plain metadata is
 * read: nothing is opened. Who may see each item is the gate's decision (the
 * caller's keep callback).
 */
#ifndef FX_DEADLINE_H
#define FX_DEADLINE_H

#include "common/fx.h"
#include "store/store.h"

#include <stdbool.h>

struct fx_deadline {
    const char *kind;        /* static: notice_release, assessment_opens, assessment_closes,
                                task_due, grant_starts, grant_ends, incident_report */
    const char *record_kind; /* static: notice, assessment, task, grant, incident */
    char record_id[37];      /* the notice, assessment, grant or incident (tasks: the assessment) */
    char notice_id[37];      /* "" for incidents */
    char ref[16];            /* the notice's FXN-… or the incident's FXI-… reference */
    char org_id[37];         /* the developer org; for incidents the reporter org */
    char status[16];         /* the notice's status; for incidents the incident's */
    char agency_org[37];     /* task_due: the task's agency */
    char partner_org[37];    /* grants: the partner */
    bool approved;           /* grants: both sides consented */
    bool assigned;           /* the viewer's org is an agency assigned to the notice */
    int64_t due;             /* days */
    /* incident_report only */
    char tlp[16];            /* the incident's marking, for the gate */
    int64_t due_at;          /* ms: detected_at + incident_report_hours */
    int64_t reported_at;     /* ms */
    bool late;               /* reported after due_at: the deadline was missed */
};

/*
 * Every item due from today through today + within days, every task already
 * overdue, and every incident reported late that is not resolved, that
 * keep(item, arg) allows, sorted by due date. An incident's deadline follows
 * the policy its current version was judged under (the one that set `late`).
 * viewer_org: the caller's org (for `assigned`). *items_out malloc'd, *n_out
 * items.
 */
enum fx_err fx_deadline_list(struct fx_db *db, int64_t today, int64_t within,
                             const char *viewer_org,
                             bool (*keep)(const struct fx_deadline *, void *), void *keep_arg,
                             struct fx_deadline **items_out, size_t *n_out);

#endif
