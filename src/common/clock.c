/*
 * clock.c: system time, or the pinned time of a test clock file.
 */
#include "common/clock.h"
#include "common/parse.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

int64_t fx_clock_now(const struct fx_clock *c)
{
    if (c && c->pinned_file) {
        char buf[64];
        FILE *f = fopen(c->pinned_file, "r");
        if (f) {
            size_t n = fread(buf, 1, sizeof(buf) - 1, f);
            fclose(f);
            while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == ' ' || buf[n - 1] == '\r'))
                n--;
            int64_t ms;
            if (fx_parse_time(buf, n, &ms) == FX_OK)
                return ms;
        }
        /* An unreadable test clock falls back to real time; fxd checked it at start. */
    }
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t fx_clock_today(const struct fx_clock *c)
{
    int64_t ms = fx_clock_now(c);
    int64_t secs = ms >= 0 ? ms / 1000 : (ms - 999) / 1000;
    return secs >= 0 ? secs / 86400 : (secs - 86399) / 86400;
}

int64_t fx_clock_monotonic_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
}
