/*
 * problem.h: validation failures as data (STYLE §3). A struct fx_problem
 * collects every {field, message} of one request, fields as JSON Pointers,
 * so that the answer names all of them at once. It knows nothing of HTTP;
 * src/http/problem.c turns it into RFC 9457 problem+json.
 */
#ifndef FX_PROBLEM_H
#define FX_PROBLEM_H

#include "common/fx.h"
#include "common/limits.h"

#include <stdbool.h>

struct fx_field_error {
    char *field;   /* owned; JSON Pointer ("/evaluations/0/score") or "query:limit" */
    char *message; /* owned */
};

struct fx_problem {
    struct fx_field_error errors[FX_MAX_PROBLEM_ERRORS];
    size_t n;
    bool truncated; /* more errors than fit */
    char *detail;   /* owned; optional sentence for the whole problem */
    char **allowed; /* owned list of allowed actions, for lifecycle conflicts */
    size_t n_allowed;
    char *status_now; /* owned; current state for lifecycle conflicts */
};

void fx_problem_init(struct fx_problem *pb);
void fx_problem_cleanup(struct fx_problem *pb);
/* Records one invalid field. The pointer is copied. */
void fx_problem_add(struct fx_problem *pb, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void fx_problem_detail(struct fx_problem *pb, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void fx_problem_allow(struct fx_problem *pb, const char *status_now, const char *const *allowed,
                      size_t n);
static inline bool fx_problem_any(const struct fx_problem *pb)
{
    return pb->n > 0;
}

#endif
