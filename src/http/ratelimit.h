/*
 * ratelimit.h: token buckets per key (a token id, or a client address before
 * authentication). Bounded memory: past FX_RL_MAX_KEYS the table is cleared,
 * which only ever forgives.
 */
#ifndef FX_RATELIMIT_H
#define FX_RATELIMIT_H

#include <stdbool.h>
#include <stdint.h>

struct fx_ratelimit;

/* rate: requests per second; burst: bucket size. *out owned: fx_ratelimit_free(). */
struct fx_ratelimit *fx_ratelimit_new(double rate, double burst);
void fx_ratelimit_free(struct fx_ratelimit *rl);
/* Takes one request from key's bucket. False when empty, with the seconds to wait. */
bool fx_ratelimit_take(struct fx_ratelimit *rl, const char *key, int64_t now_ms,
                       unsigned *retry_after_out);

#endif
