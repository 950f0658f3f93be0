/* page.c: see page.h. */
#include "records/page.h"

#include <stdlib.h>

enum fx_err fx_page_read(struct fx_stmt *st, int64_t limit, const struct fx_page_kind *kind,
                         bool (*keep)(const void *row, void *arg), void *keep_arg,
                         void **rows_out, size_t *n_out, char **next_out)
{
    size_t want = (size_t)limit, n = 0, read = 0;
    char *rows = fx_xcalloc(want + 1, kind->size);
    const char *last = NULL; /* the id of the last row read, kept or not */
    bool row = false;
    enum fx_err err;
    *next_out = NULL;
    while ((err = fx_stmt_step(st, &row)) == FX_OK && row) {
        if (n == want) { /* a full page, and more beyond it */
            *next_out = fx_xstrdup(kind->id(rows + (n - 1) * kind->size));
            break;
        }
        void *slot = rows + n * kind->size; /* a dropped row's slot is read into again */
        kind->read(st, slot);
        read++;
        last = kind->id(slot);
        if (keep == NULL || keep(slot, keep_arg))
            n++;
    }
    if (err == FX_OK && *next_out == NULL && read == want + 1)
        *next_out = fx_xstrdup(last); /* the LIMIT ended the scan before the page filled */
    if (err != FX_OK) {
        free(rows);
        FX_FREE(*next_out);
        return err;
    }
    *rows_out = rows;
    *n_out = n;
    return FX_OK;
}
