/*
 * buf.c: the growable buffer of buf.h. Never grows past the maximum given at
 * init, so a hostile peer cannot make it allocate without bound.
 */
#include "common/buf.h"

#include <stdio.h>
#include <string.h>

void fx_buf_init(struct fx_buf *b, size_t max)
{
    b->p = NULL;
    b->len = 0;
    b->cap = 0;
    b->max = max;
}

void fx_buf_cleanup(struct fx_buf *b)
{
    FX_FREE(b->p);
    b->len = 0;
    b->cap = 0;
}

void fx_buf_reset(struct fx_buf *b)
{
    b->len = 0;
    if (b->p)
        b->p[0] = '\0';
}

static enum fx_err reserve(struct fx_buf *b, size_t extra)
{
    if (extra > b->max || b->len > b->max - extra)
        return FX_ETOOBIG;
    size_t need = b->len + extra + 1;
    if (need <= b->cap)
        return FX_OK;
    size_t cap = b->cap ? b->cap : 64;
    while (cap < need)
        cap *= 2;
    b->p = fx_xrealloc(b->p, cap);
    b->cap = cap;
    return FX_OK;
}

enum fx_err fx_buf_add(struct fx_buf *b, const void *p, size_t len)
{
    enum fx_err err = reserve(b, len);
    if (err != FX_OK)
        return err;
    if (len)
        memcpy(b->p + b->len, p, len);
    b->len += len;
    b->p[b->len] = '\0';
    return FX_OK;
}

enum fx_err fx_buf_adds(struct fx_buf *b, const char *s)
{
    return fx_buf_add(b, s, strlen(s));
}

enum fx_err fx_buf_printf(struct fx_buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        return FX_EINVAL;
    enum fx_err err = reserve(b, (size_t)n);
    if (err != FX_OK)
        return err;
    va_start(ap, fmt);
    vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
    return FX_OK;
}

char *fx_buf_take(struct fx_buf *b, size_t *len_out)
{
    char *p = b->p ? b->p : fx_xstrdup("");
    if (len_out)
        *len_out = b->len;
    b->p = NULL;
    b->len = 0;
    b->cap = 0;
    return p;
}
