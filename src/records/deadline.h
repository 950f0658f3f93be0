/*
 * deadline.h: what falls due soon, and what is overdue (SPEC §13: one clock for
 * every deadline). Notices releasing soon, assessment windows opening and
 * closing, assessment tasks due (overdue once the window's last day passed),
 * grants starting and ending. Only plain metadata is read: nothing is opened.
 * Who may see each item is the gate's decision (the caller's keep callback).
 */
#ifndef FX_DEADLINE_H
#define FX_DEADLINE_H

#include "common/fx.h"
#include "store/store.h"

#include <stdbool.h>

struct fx_deadline {
    const char *kind;        /* static: notice_release, assessment_opens, assessment_closes,
                                task_due, grant_starts, grant_ends */
    const char *record_kind; /* static: notice, assessment, task, grant */
    char record_id[37];      /* the notice, assessment or grant (tasks: the assessment) */
    char notice_id[37];
    char ref[16];
    char org_id[37];         /* the developer org */
    char status[16];         /* the notice's status */
    char agency_org[37];     /* task_due: the task's agency */
    char partner_org[37];    /* grants: the partner */
    bool approved;           /* grants: both sides consented */
    bool assigned;           /* the viewer's org is an agency assigned to the notice */
    int64_t due;             /* days */
};

/*
 * Every item due from today through today + within days, and every task already
 * overdue, that keep(item, arg) allows, sorted by due date. viewer_org: the
 * caller's org (for `assigned`). *items_out malloc'd, *n_out items.
 */
enum fx_err fx_deadline_list(struct fx_db *db, int64_t today, int64_t within,
                             const char *viewer_org,
                             bool (*keep)(const struct fx_deadline *, void *), void *keep_arg,
                             struct fx_deadline **items_out, size_t *n_out);

#endif
