/*
 * log.c: one JSON object per line on stderr, written with a single fwrite so
 * lines from different threads never interleave.
 */
#include "common/log.h"
#include "common/clock.h"
#include "common/parse.h"

#include <stdio.h>
#include <string.h>

static int quiet_flag;

void fx_log_set_quiet(int quiet)
{
    quiet_flag = quiet;
}

void fx_log(const char *level, const char *msg, json_t *fields)
{
    if (quiet_flag && strcmp(level, "info") == 0) {
        json_decref(fields);
        return;
    }
    char now[25];
    fx_format_time(fx_clock_now(NULL), now);
    json_t *o = json_object();
    json_object_set_new(o, "time", json_string(now));
    json_object_set_new(o, "level", json_string(level));
    json_object_set_new(o, "msg", json_string(msg));
    if (fields)
        json_object_update(o, fields);
    json_decref(fields);
    char *line = json_dumps(o, JSON_COMPACT | JSON_ENSURE_ASCII);
    json_decref(o);
    if (line) {
        size_t n = strlen(line);
        line[n] = '\n';
        fwrite(line, 1, n + 1, stderr);
        free(line);
    }
}
