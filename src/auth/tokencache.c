/*
 * tokencache.c: a direct-mapped table under one mutex; a generation number
 * makes flushing O(1).
 */
#include "auth/tokencache.h"
#include "common/fx.h"

#include <pthread.h>
#include <sodium.h>
#include <string.h>

struct slot {
    unsigned char hash[FX_TOKEN_HASH];
    struct fx_principal p;
    int64_t expires_at, cached_at;
    uint64_t generation; /* 0: empty */
};

struct fx_tokencache {
    pthread_mutex_t mu;
    size_t n;
    int64_t ttl_ms;
    uint64_t generation;
    struct slot *slots; /* owned */
};

struct fx_tokencache *fx_tokencache_new(size_t slots, int64_t ttl_ms)
{
    struct fx_tokencache *c = fx_xcalloc(1, sizeof(*c));
    c->n = slots ? slots : 1;
    c->ttl_ms = ttl_ms;
    c->generation = 1;
    c->slots = fx_xcalloc(c->n, sizeof(*c->slots));
    pthread_mutex_init(&c->mu, NULL);
    return c;
}

void fx_tokencache_free(struct fx_tokencache *c)
{
    if (c == NULL)
        return;
    sodium_memzero(c->slots, c->n * sizeof(*c->slots));
    free(c->slots);
    pthread_mutex_destroy(&c->mu);
    free(c);
}

static struct slot *slot_of(struct fx_tokencache *c, const unsigned char hash[FX_TOKEN_HASH])
{
    uint64_t h;
    memcpy(&h, hash, sizeof(h)); /* the hash is already uniform */
    return &c->slots[h % c->n];
}

bool fx_tokencache_get(struct fx_tokencache *c, const unsigned char hash[FX_TOKEN_HASH],
                       int64_t now, struct fx_principal *out)
{
    bool hit = false;
    pthread_mutex_lock(&c->mu);
    struct slot *s = slot_of(c, hash);
    if (s->generation == c->generation && sodium_memcmp(s->hash, hash, FX_TOKEN_HASH) == 0 &&
        now - s->cached_at < c->ttl_ms && now >= s->cached_at && now < s->expires_at) {
        *out = s->p;
        hit = true;
    }
    pthread_mutex_unlock(&c->mu);
    return hit;
}

void fx_tokencache_put(struct fx_tokencache *c, const unsigned char hash[FX_TOKEN_HASH],
                       const struct fx_principal *p, int64_t expires_at, int64_t now)
{
    pthread_mutex_lock(&c->mu);
    struct slot *s = slot_of(c, hash);
    memcpy(s->hash, hash, FX_TOKEN_HASH);
    s->p = *p;
    s->expires_at = expires_at;
    s->cached_at = now;
    s->generation = c->generation;
    pthread_mutex_unlock(&c->mu);
}

void fx_tokencache_flush(struct fx_tokencache *c)
{
    pthread_mutex_lock(&c->mu);
    c->generation++;
    pthread_mutex_unlock(&c->mu);
}
