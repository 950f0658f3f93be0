/*
 * assessment.h: assessment of covered models (SPEC §5). The coordinator opens
 * an assessment of a notice determined covered, assigning agencies and an
 * access window; each assigned agency's task moves pending -> in_progress ->
 * complete and holds findings, each with a marking that decides who may read
 * it (the gate, src/auth/access.c); the coordinator closes the assessment with
 * an advisory outcome. A task not complete after the window's last day is
 * overdue.
 *
 * Records of fact: the assessment (version 1 when opened, 2 with its outcome)
 * and each finding (version 1). Their documents are sealed: assessments and
 * findings marked shared_with_developer under the developer org's key; findings
 * marked government_only or national_security_only under the key of the agency
 * that wrote them, so the developer's key never seals what it may not read.
 */
#ifndef FX_ASSESSMENT_H
#define FX_ASSESSMENT_H

#include "records/notice.h"

struct fx_assessment_row {
    char id[37];
    char notice_id[37];
    char org_id[37];       /* the developer org */
    char status[8];        /* "open" or "closed" */
    int64_t access_starts; /* days, inclusive */
    int64_t access_ends;   /* days, inclusive: tasks not complete after this day are overdue */
    char outcome[32];      /* "" while open */
    int64_t version;
    int64_t opened_at, closed_at; /* ms; closed_at 0 while open */
};

/* By the assessment's id. FX_ENOTFOUND when absent. */
enum fx_err fx_assessment_load(struct fx_db *db, const char *id, struct fx_assessment_row *out);
/* The assessment of a notice. FX_ENOTFOUND when none was opened. */
enum fx_err fx_assessment_of_notice(struct fx_db *db, const char *notice_id,
                                    struct fx_assessment_row *out);
/* Whether agency_org has a task in the assessment of notice_id (SPEC §2: it may read). */
enum fx_err fx_assessment_assigned(struct fx_db *db, const char *notice_id,
                                   const char *agency_org, bool *out);

#define FX_MAX_ASSESSMENT_AGENCIES 64

struct fx_assessment_input {
    const char *agencies[FX_MAX_ASSESSMENT_AGENCIES]; /* org ids, borrowed, unique */
    size_t n_agencies;
    bool has_starts, has_ends;
    int64_t starts, ends; /* days */
};

/* Validates a POST .../assessment body into in (strings borrowed from body). */
void fx_assessment_validate(json_t *body, struct fx_assessment_input *in, struct fx_problem *pb);

/*
 * Opens the assessment of a determined, covered notice (FX_ECONFLICT otherwise,
 * with a detail in pb): the agencies must be agency orgs (FX_EINVAL naming each
 * in pb); the window defaults to the policy's access_window_days ending on the
 * planned release date. Moves the notice to "assessment". *warnings_out (new
 * array) says when no civilian or no national_security agency is assigned.
 */
enum fx_err fx_assessment_open(struct fx_db *db, const struct fx_notice_env *env,
                               struct fx_notice_row *notice,
                               const struct fx_assessment_input *in,
                               const struct fx_policy *pol, struct fx_problem *pb,
                               struct fx_assessment_row *out, json_t **warnings_out);

/*
 * The assessment as served: its document, the tasks with their states and
 * whether each is overdue on `today`, and the record's content_sha256.
 */
enum fx_err fx_assessment_view(struct fx_db *db, struct fx_keyring *kr,
                               const struct fx_assessment_row *a, int64_t today, json_t **out);

/*
 * Starts (complete false) or completes an agency's task. FX_ENOTFOUND when the
 * agency has no task; FX_ECONFLICT (status and allowed steps in pb) when the
 * task's state or the closed assessment does not allow it. *out: the task view.
 */
enum fx_err fx_assessment_task_step(struct fx_db *db, const struct fx_notice_env *env,
                                    const struct fx_assessment_row *a,
                                    const struct fx_notice_row *notice, const char *agency_org,
                                    bool complete, struct fx_problem *pb, json_t **out);

struct fx_finding_input {
    const char *title, *severity, *domain, *description, *recommendation, *marking;
};
void fx_assessment_finding_validate(json_t *body, struct fx_finding_input *in,
                                    struct fx_problem *pb);

/*
 * Adds a finding of the caller's agency (env->who). FX_ECONFLICT when the
 * assessment is closed or the agency's task is complete. *out: the finding.
 */
enum fx_err fx_assessment_finding_add(struct fx_db *db, const struct fx_notice_env *env,
                                      const struct fx_assessment_row *a,
                                      const struct fx_notice_row *notice,
                                      const struct fx_finding_input *in, struct fx_problem *pb,
                                      json_t **out);

/* A finding's plain columns: what the gate needs before anything is opened. */
struct fx_finding_row {
    char id[37];
    char assessment_id[37];
    char agency_org[37];
    char marking[32];
    char severity[16];
    char seal_org[37];
};

/*
 * The findings of an assessment that keep(row, arg) allows (the gate), oldest
 * first, opened (new array). *rows_out (malloc'd, *n_out) are the rows served,
 * for the audit of outside reads.
 */
enum fx_err fx_assessment_findings(struct fx_db *db, struct fx_keyring *kr,
                                   const struct fx_assessment_row *a,
                                   bool (*keep)(const struct fx_finding_row *, void *),
                                   void *keep_arg, json_t **items_out,
                                   struct fx_finding_row **rows_out, size_t *n_out);
/* One finding's row, by id within the assessment. FX_ENOTFOUND when absent. */
enum fx_err fx_assessment_finding_row(struct fx_db *db, const char *assessment_id,
                                      const char *finding_id, struct fx_finding_row *out);
/* One finding, opened (new reference). */
enum fx_err fx_assessment_finding_open(struct fx_db *db, struct fx_keyring *kr,
                                       const struct fx_finding_row *f, json_t **out);

/*
 * Closes the assessment with an advisory outcome (no_concerns,
 * concerns_communicated, mitigations_recommended) and a summary: version 2 of
 * the record; the notice moves to "assessed". FX_ECONFLICT when closed already.
 */
enum fx_err fx_assessment_close(struct fx_db *db, const struct fx_notice_env *env,
                                struct fx_assessment_row *a, struct fx_notice_row *notice,
                                const char *outcome, const char *summary, json_t **out);

extern const char *const fx_finding_markings[];  /* NULL-terminated */
extern const char *const fx_severities[];        /* info .. critical, NULL-terminated */
extern const char *const fx_assessment_outcomes[];

#endif
