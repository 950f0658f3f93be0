/*
 * clock.h: the one source of "now" for every deadline (SPEC §13). Tests pin it
 * with fxd's --test-clock FILE: the file holds an RFC 3339 time that is read on
 * every call, so a test can move time by rewriting the file. fxd refuses that
 * option unless it listens on loopback.
 */
#ifndef FX_CLOCK_H
#define FX_CLOCK_H

#include <stdint.h>

struct fx_clock {
    const char *pinned_file; /* borrowed; NULL means the system clock */
};

/* Milliseconds since the epoch, UTC. */
int64_t fx_clock_now(const struct fx_clock *c);
/* Days since the epoch of the UTC date of now. */
int64_t fx_clock_today(const struct fx_clock *c);
/* Nanoseconds of CLOCK_MONOTONIC: for intervals and timeouts, never pinned. */
int64_t fx_clock_monotonic_ns(void);

#endif
