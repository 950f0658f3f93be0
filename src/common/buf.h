/*
 * buf.h: a growable byte buffer with a maximum fixed at init (after curl's dynbuf).
 * The buffer owns its bytes; fx_buf_cleanup() releases them. Contents stay
 * NUL-terminated so that text can be handed to C APIs, but length is what counts.
 */
#ifndef FX_BUF_H
#define FX_BUF_H

#include "common/fx.h"

#include <stdarg.h>

struct fx_buf {
    char *p;    /* owned */
    size_t len;
    size_t cap;
    size_t max; /* appending past this fails with FX_ETOOBIG */
};

void fx_buf_init(struct fx_buf *b, size_t max);
void fx_buf_cleanup(struct fx_buf *b);
void fx_buf_reset(struct fx_buf *b);
enum fx_err fx_buf_add(struct fx_buf *b, const void *p, size_t len);
enum fx_err fx_buf_adds(struct fx_buf *b, const char *s);
enum fx_err fx_buf_printf(struct fx_buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Hands the bytes to the caller (who must free() them) and leaves the buffer empty. */
char *fx_buf_take(struct fx_buf *b, size_t *len_out);

#endif
