/*
 * arena.c: bump allocation in 4 KiB blocks; large requests get a block of their
 * own. Alignment is that of max_align_t.
 */
#include "common/arena.h"
#include "common/fx.h"

#include <stdarg.h>
#include <stdalign.h>
#include <stdio.h>
#include <string.h>

#define BLOCK_SIZE 4096

struct fx_arena_block {
    struct fx_arena_block *next;
    size_t used, cap;
    alignas(max_align_t) unsigned char data[];
};

void fx_arena_init(struct fx_arena *a)
{
    a->head = NULL;
}

void fx_arena_cleanup(struct fx_arena *a)
{
    struct fx_arena_block *b = a->head;
    while (b) {
        struct fx_arena_block *next = b->next;
        free(b);
        b = next;
    }
    a->head = NULL;
}

void *fx_arena_alloc(struct fx_arena *a, size_t n)
{
    size_t align = alignof(max_align_t);
    n = (n + align - 1) & ~(align - 1);
    if (n == 0)
        n = align;
    struct fx_arena_block *b = a->head;
    if (b == NULL || b->cap - b->used < n) {
        size_t cap = n > BLOCK_SIZE / 2 ? n : BLOCK_SIZE;
        b = fx_xmalloc(sizeof(*b) + cap);
        b->used = 0;
        b->cap = cap;
        if (n > BLOCK_SIZE / 2 && a->head) {
            /* keep the current block in front: it still has room for small things */
            b->next = a->head->next;
            a->head->next = b;
        } else {
            b->next = a->head;
            a->head = b;
        }
    }
    void *p = b->data + b->used;
    b->used += n;
    return p;
}

char *fx_arena_strndup(struct fx_arena *a, const char *s, size_t n)
{
    char *p = fx_arena_alloc(a, n + 1);
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

char *fx_arena_strdup(struct fx_arena *a, const char *s)
{
    return fx_arena_strndup(a, s, strlen(s));
}

char *fx_arena_printf(struct fx_arena *a, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        return fx_arena_strdup(a, "");
    char *p = fx_arena_alloc(a, (size_t)n + 1);
    va_start(ap, fmt);
    vsnprintf(p, (size_t)n + 1, fmt, ap);
    va_end(ap);
    return p;
}
