/*
 * viewcache.c: a direct-mapped cache (one entry per slot, chosen by a hash of
 * the key), under striped locks. Collisions simply replace: it is a cache.
 */
#include "http/viewcache.h"
#include "common/fx.h"

#include <pthread.h>
#include <string.h>

#define STRIPES 16

struct entry {
    char *key;  /* owned */
    char *val;  /* owned */
    size_t len;
};

struct fx_viewcache {
    size_t n;
    struct entry *slots; /* owned, n */
    pthread_mutex_t locks[STRIPES];
};

struct fx_viewcache *fx_viewcache_new(size_t n)
{
    struct fx_viewcache *vc = fx_xcalloc(1, sizeof(*vc));
    vc->n = n ? n : 1;
    vc->slots = fx_xcalloc(vc->n, sizeof(*vc->slots));
    for (size_t i = 0; i < STRIPES; i++)
        pthread_mutex_init(&vc->locks[i], NULL);
    return vc;
}

void fx_viewcache_free(struct fx_viewcache *vc)
{
    if (vc == NULL)
        return;
    for (size_t i = 0; i < vc->n; i++) {
        free(vc->slots[i].key);
        free(vc->slots[i].val);
    }
    for (size_t i = 0; i < STRIPES; i++)
        pthread_mutex_destroy(&vc->locks[i]);
    free(vc->slots);
    free(vc);
}

static size_t slot_of(const struct fx_viewcache *vc, const char *key)
{
    size_t h = 1469598103934665603ull;
    for (const char *k = key; *k; k++)
        h = (h ^ (unsigned char)*k) * 1099511628211ull;
    return h % vc->n;
}

char *fx_viewcache_get(struct fx_viewcache *vc, const char *key, size_t *len_out)
{
    size_t i = slot_of(vc, key);
    char *out = NULL;
    pthread_mutex_lock(&vc->locks[i % STRIPES]);
    struct entry *e = &vc->slots[i];
    if (e->key && strcmp(e->key, key) == 0) {
        out = fx_xmalloc(e->len ? e->len : 1);
        memcpy(out, e->val, e->len);
        *len_out = e->len;
    }
    pthread_mutex_unlock(&vc->locks[i % STRIPES]);
    return out;
}

void fx_viewcache_put(struct fx_viewcache *vc, const char *key, const char *p, size_t len)
{
    size_t i = slot_of(vc, key);
    char *k = fx_xstrdup(key);
    char *v = fx_xmalloc(len ? len : 1);
    memcpy(v, p, len);
    pthread_mutex_lock(&vc->locks[i % STRIPES]);
    struct entry *e = &vc->slots[i];
    char *old_k = e->key, *old_v = e->val;
    e->key = k;
    e->val = v;
    e->len = len;
    pthread_mutex_unlock(&vc->locks[i % STRIPES]);
    free(old_k);
    free(old_v);
}
