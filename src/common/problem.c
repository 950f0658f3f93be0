/*
 * problem.c: the list of field errors of one request.
 */
#include "common/problem.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void fx_problem_init(struct fx_problem *pb)
{
    memset(pb, 0, sizeof(*pb));
}

void fx_problem_cleanup(struct fx_problem *pb)
{
    for (size_t i = 0; i < pb->n; i++) {
        free(pb->errors[i].field);
        free(pb->errors[i].message);
    }
    for (size_t i = 0; i < pb->n_allowed; i++)
        free(pb->allowed[i]);
    free(pb->allowed);
    free(pb->detail);
    free(pb->status_now);
    memset(pb, 0, sizeof(*pb));
}

__attribute__((format(printf, 1, 0))) static char *vformat(const char *fmt, va_list ap)
{
    va_list cp;
    va_copy(cp, ap);
    int n = vsnprintf(NULL, 0, fmt, cp);
    va_end(cp);
    if (n < 0)
        return fx_xstrdup("");
    char *s = fx_xmalloc((size_t)n + 1);
    vsnprintf(s, (size_t)n + 1, fmt, ap);
    return s;
}

void fx_problem_add(struct fx_problem *pb, const char *field, const char *fmt, ...)
{
    if (pb->n == FX_MAX_PROBLEM_ERRORS) {
        pb->truncated = true;
        return;
    }
    va_list ap;
    va_start(ap, fmt);
    pb->errors[pb->n].message = vformat(fmt, ap);
    va_end(ap);
    pb->errors[pb->n].field = fx_xstrdup(field);
    pb->n++;
}

void fx_problem_detail(struct fx_problem *pb, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    free(pb->detail);
    pb->detail = vformat(fmt, ap);
    va_end(ap);
}

void fx_problem_allow(struct fx_problem *pb, const char *status_now, const char *const *allowed,
                      size_t n)
{
    free(pb->status_now);
    pb->status_now = fx_xstrdup(status_now);
    pb->allowed = fx_xcalloc(n ? n : 1, sizeof(char *));
    for (size_t i = 0; i < n; i++)
        pb->allowed[i] = fx_xstrdup(allowed[i]);
    pb->n_allowed = n;
}
