/*
 * xalloc.c: allocation that aborts on failure, and the error strings.
 * Owns nothing. Every caller of these gets memory it must free().
 */
#include "common/fx.h"

#include <stdio.h>
#include <string.h>

_Noreturn void fx_die(const char *what)
{
    fprintf(stderr, "{\"level\":\"fatal\",\"msg\":\"%s\"}\n", what);
    abort();
}

void *fx_xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (p == NULL)
        fx_die("out of memory");
    return p;
}

void *fx_xcalloc(size_t nmemb, size_t size)
{
    void *p = calloc(nmemb ? nmemb : 1, size ? size : 1);
    if (p == NULL)
        fx_die("out of memory");
    return p;
}

void *fx_xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n ? n : 1);
    if (q == NULL)
        fx_die("out of memory");
    return q;
}

char *fx_xstrndup(const char *s, size_t n)
{
    char *p = fx_xmalloc(n + 1);
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

char *fx_xstrdup(const char *s)
{
    return fx_xstrndup(s, strlen(s));
}

const char *fx_err_str(enum fx_err err)
{
    switch (err) {
    case FX_OK: return "ok";
    case FX_EINVAL: return "invalid input";
    case FX_ENOTFOUND: return "not found";
    case FX_EFORBIDDEN: return "forbidden";
    case FX_ECONFLICT: return "conflict";
    case FX_ESTALE: return "stale precondition";
    case FX_ETOOBIG: return "too big";
    case FX_ESTORE: return "store error";
    case FX_EIO: return "i/o error";
    case FX_ECRYPTO: return "cryptographic failure";
    case FX_EUNAUTH: return "unauthenticated";
    case FX_EBUSY: return "busy";
    }
    return "unknown error";
}
