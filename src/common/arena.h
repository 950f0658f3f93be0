/*
 * arena.h: a per-request arena (after H2O's h2o_mem_pool_t). Everything a
 * handler allocates for the life of one request comes from here and is freed
 * at once by fx_arena_cleanup() when libmicrohttpd reports the request done.
 * Whatever must outlive the request is copied out explicitly.
 */
#ifndef FX_ARENA_H
#define FX_ARENA_H

#include <stddef.h>

struct fx_arena_block;

struct fx_arena {
    struct fx_arena_block *head; /* owned list of blocks */
};

void fx_arena_init(struct fx_arena *a);
void fx_arena_cleanup(struct fx_arena *a);
void *fx_arena_alloc(struct fx_arena *a, size_t n);
char *fx_arena_strndup(struct fx_arena *a, const char *s, size_t n);
char *fx_arena_strdup(struct fx_arena *a, const char *s);
char *fx_arena_printf(struct fx_arena *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
