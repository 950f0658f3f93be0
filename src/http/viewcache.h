/*
 * viewcache.h: rendered answers of records that many callers read again and
 * again (a notice under review), so that a read skips opening the sealed
 * version and rendering JSON. Entries are keyed by everything the answer is
 * made of (record id, version, state, update time), so a changed record can
 * never be served stale: its key changes. Need-to-know is checked before the
 * cache is asked; the cache holds decrypted text in process memory only.
 */
#ifndef FX_VIEWCACHE_H
#define FX_VIEWCACHE_H

#include <stdbool.h>
#include <stddef.h>

struct fx_viewcache;

/* A cache of at most n entries. */
struct fx_viewcache *fx_viewcache_new(size_t n);
void fx_viewcache_free(struct fx_viewcache *vc);
/* A copy of the bytes under key (malloc'd, caller frees), or NULL. */
char *fx_viewcache_get(struct fx_viewcache *vc, const char *key, size_t *len_out);
/* Stores a copy of (p, len) under key, replacing an older entry in its slot. */
void fx_viewcache_put(struct fx_viewcache *vc, const char *key, const char *p, size_t len);

#endif
