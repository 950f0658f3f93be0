/* page.c: see page.h. */
#include "records/page.h"

#include <stdlib.h>

enum fx_err fx_page_read(struct fx_db *db, fx_page_open_fn open, const void *open_arg,
                         const char *before_id, int64_t limit, const struct fx_page_kind *kind,
                         bool (*keep)(const void *row, void *arg), void *keep_arg, void **rows_out,
                         size_t *n_out, char **next_out)
{
    size_t want = (size_t)limit, n = 0;
    char *rows = fx_xcalloc(want + 1, kind->size);
    char *cursor = before_id ? fx_xstrdup(before_id) : NULL; /* owned: where a run starts */
    bool more = true; /* the last run stopped at its LIMIT: rows may lie beyond it */
    enum fx_err err = FX_OK;
    *rows_out = NULL;
    *n_out = 0;
    *next_out = NULL;
    /* one row kept past the page says there is a next page: until then, or the end */
    while (err == FX_OK && more && n <= want) {
        struct fx_stmt *st = NULL;
        err = open(db, open_arg, cursor, &st);
        if (err != FX_OK)
            break;
        const void *last = NULL;
        size_t read = 0;
        bool row = false;
        while (n <= want && (err = fx_stmt_step(st, &row)) == FX_OK && row) {
            void *slot = rows + n * kind->size; /* a dropped row's slot is read into again */
            kind->read(st, slot);
            read++;
            last = slot;
            if (keep == NULL || keep(slot, keep_arg))
                n++;
        }
        more = read == want + 1;
        if (err == FX_OK && more && n <= want) { /* the next run starts below the last row read */
            free(cursor);
            cursor = fx_xstrdup(kind->id(last));
        }
        fx_stmt_finalize(st);
    }
    free(cursor);
    if (err != FX_OK) {
        free(rows);
        return err;
    }
    if (n > want) { /* the cursor names the page's last row: one the caller may see */
        n = want;
        *next_out = fx_xstrdup(kind->id(rows + (n - 1) * kind->size));
    }
    *rows_out = rows;
    *n_out = n;
    return FX_OK;
}
