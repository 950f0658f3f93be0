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

struct sockaddr;

/* Size of the text fx_ratelimit_addr_key() writes, its NUL included. */
#define FX_RL_ADDR_KEY 64

/*
 * The bucket a client address draws from before authentication: an IPv4
 * address, or the /64 an IPv6 address belongs to (one site's usual
 * allocation, in which a host may pick a new address per request). An
 * IPv4-mapped IPv6 address, as a dual-stack listener sees IPv4 clients, is
 * its IPv4 address. "" for another family or none.
 */
void fx_ratelimit_addr_key(const struct sockaddr *sa, char out[static FX_RL_ADDR_KEY]);

/* rate: requests per second; burst: bucket size. *out owned: fx_ratelimit_free(). */
struct fx_ratelimit *fx_ratelimit_new(double rate, double burst);
void fx_ratelimit_free(struct fx_ratelimit *rl);
/* Takes one request from key's bucket. False when empty, with the seconds to wait. */
bool fx_ratelimit_take(struct fx_ratelimit *rl, const char *key, int64_t now_ms,
                       unsigned *retry_after_out);

#endif
