/*
 * ratelimit.c: a hashed table of token buckets under one mutex (the work
 * inside is a few arithmetic operations).
 */
#include "http/ratelimit.h"
#include "common/fx.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#define BUCKETS 4096
#define FX_RL_MAX_KEYS 100000

struct entry {
    char key[64];
    double tokens;
    int64_t last_ms;
    struct entry *next;
};

struct fx_ratelimit {
    double rate, burst;
    pthread_mutex_t mu;
    struct entry *table[BUCKETS];
    size_t n;
};

struct fx_ratelimit *fx_ratelimit_new(double rate, double burst)
{
    struct fx_ratelimit *rl = fx_xcalloc(1, sizeof(*rl));
    rl->rate = rate;
    rl->burst = burst;
    pthread_mutex_init(&rl->mu, NULL);
    return rl;
}

static void clear(struct fx_ratelimit *rl)
{
    for (size_t i = 0; i < BUCKETS; i++) {
        struct entry *e = rl->table[i];
        while (e) {
            struct entry *next = e->next;
            free(e);
            e = next;
        }
        rl->table[i] = NULL;
    }
    rl->n = 0;
}

void fx_ratelimit_free(struct fx_ratelimit *rl)
{
    if (rl == NULL)
        return;
    clear(rl);
    pthread_mutex_destroy(&rl->mu);
    free(rl);
}

static size_t hash(const char *s)
{
    size_t h = 1469598103934665603ull;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return h % BUCKETS;
}

bool fx_ratelimit_take(struct fx_ratelimit *rl, const char *key, int64_t now_ms,
                       unsigned *retry_after_out)
{
    size_t h = hash(key);
    bool ok;
    pthread_mutex_lock(&rl->mu);
    struct entry *e = rl->table[h];
    while (e && strncmp(e->key, key, sizeof(e->key) - 1) != 0)
        e = e->next;
    if (e == NULL) {
        if (rl->n >= FX_RL_MAX_KEYS)
            clear(rl);
        e = fx_xcalloc(1, sizeof(*e));
        snprintf(e->key, sizeof(e->key), "%s", key);
        e->tokens = rl->burst;
        e->last_ms = now_ms;
        e->next = rl->table[h];
        rl->table[h] = e;
        rl->n++;
    }
    double elapsed = (double)(now_ms - e->last_ms) / 1000.0;
    if (elapsed > 0) {
        e->tokens += elapsed * rl->rate;
        if (e->tokens > rl->burst)
            e->tokens = rl->burst;
        e->last_ms = now_ms;
    }
    if (e->tokens >= 1.0) {
        e->tokens -= 1.0;
        ok = true;
    } else {
        double wait = (1.0 - e->tokens) / rl->rate;
        *retry_after_out = (unsigned)wait + 1;
        ok = false;
    }
    pthread_mutex_unlock(&rl->mu);
    return ok;
}

void fx_ratelimit_addr_key(const struct sockaddr *sa, char out[static FX_RL_ADDR_KEY])
{
    out[0] = '\0';
    if (sa == NULL)
        return;
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *s4 = (const struct sockaddr_in *)(const void *)sa;
        inet_ntop(AF_INET, &s4->sin_addr, out, FX_RL_ADDR_KEY);
        return;
    }
    if (sa->sa_family != AF_INET6)
        return;
    const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)(const void *)sa;
    if (IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr)) {
        inet_ntop(AF_INET, &s6->sin6_addr.s6_addr[12], out, FX_RL_ADDR_KEY);
        return;
    }
    struct in6_addr net = s6->sin6_addr;
    memset(&net.s6_addr[8], 0, 8);
    char text[INET6_ADDRSTRLEN];
    inet_ntop(AF_INET6, &net, text, sizeof(text));
    snprintf(out, FX_RL_ADDR_KEY, "%s/64", text);
}
