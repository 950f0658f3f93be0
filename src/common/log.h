/*
 * log.h: structured JSON-lines logs on stderr, one object per line. Never log
 * secrets, tokens or request bodies.
 */
#ifndef FX_LOG_H
#define FX_LOG_H

#include <jansson.h>

/* Logs {"time","level","msg",...fields}. Takes ownership of fields (may be NULL). */
void fx_log(const char *level, const char *msg, json_t *fields);
/* Silences info-level lines (tests and benchmarks that would drown in access logs). */
void fx_log_set_quiet(int quiet);

#endif
