/*
 * fx.h: what every FX module shares: the one error enum, a few macros, and the
 * allocation helpers that abort on out-of-memory (fxd is an application: a
 * transaction that never committed loses nothing on restart).
 */
#ifndef FX_FX_H
#define FX_FX_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

enum fx_err {
    FX_OK = 0,
    FX_EINVAL,    /* input is invalid; details travel in a struct fx_problem */
    FX_ENOTFOUND, /* no such record, or the caller may not know it exists */
    FX_EFORBIDDEN,
    FX_ECONFLICT, /* state does not allow the operation (a lifecycle transition) */
    FX_ESTALE,    /* precondition failed: If-Match names an older version */
    FX_ETOOBIG,
    FX_ESTORE,    /* the database failed */
    FX_EIO,
    FX_ECRYPTO,   /* a seal did not open, a key is wrong */
    FX_EUNAUTH,   /* no credentials, or credentials that are not valid */
    FX_EBUSY,     /* rate limited or store unavailable */
};

const char *fx_err_str(enum fx_err err);

#define FX_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))
#define FX_FREE(p)                                                                                 \
    do {                                                                                           \
        free(p);                                                                                   \
        (p) = NULL;                                                                                \
    } while (0)

/* Unit tests reach file-local helpers through FX_STATIC (static except in the test build). */
#ifdef FX_UNIT_TEST
#define FX_STATIC
#else
#define FX_STATIC static
#endif

void *fx_xmalloc(size_t n);
void *fx_xcalloc(size_t nmemb, size_t size);
void *fx_xrealloc(void *p, size_t n);
char *fx_xstrdup(const char *s);
char *fx_xstrndup(const char *s, size_t n);
/* Aborts with a message: for out-of-memory and broken invariants only. */
_Noreturn void fx_die(const char *what);

#endif
