/*
 * page.h: one page of a list read newest first below a cursor. The caller's
 * statement orders by id descending with LIMIT limit + 1; rows its gate drops
 * are skipped, and a run the gate thinned out is followed by another below
 * its last row, until the page and one row beyond it are kept or the rows run
 * out. So a cursor only ever names a row the caller was shown (SPEC §2: the
 * id of one it may not see would tell it exists), and a page is short only
 * when it is the last.
 */
#ifndef FX_RECORDS_PAGE_H
#define FX_RECORDS_PAGE_H

#include "store/store.h"

#include <stdbool.h>
#include <stddef.h>

/*
 * SQL: the rows of two pages a and b (each a SELECT ... ORDER BY id DESC LIMIT),
 * once each, for a list whose filter is an OR of two indexed columns: each page
 * reads its own index in order and stops at the LIMIT, where one statement with
 * the OR would read and sort every row of both. The caller orders and limits
 * the union again. A page with ORDER BY and LIMIT must be a subquery in FROM to
 * be part of a UNION in SQLite; PostgreSQL accepts that form too.
 */
#define FX_PAGE_UNION(a, b) "(SELECT * FROM (" a ") page1 UNION SELECT * FROM (" b ") page2)"

struct fx_page_kind {
    size_t size;                                   /* of one row */
    void (*read)(struct fx_stmt *st, void *row);   /* the current result row into row */
    const char *(*id)(const void *row);            /* the row's cursor value */
};

/* Prepares the caller's statement for the rows below before_id (NULL: from the newest). */
typedef enum fx_err (*fx_page_open_fn)(struct fx_db *db, const void *arg, const char *before_id,
                                       struct fx_stmt **st_out);

/*
 * Reads one page. *rows_out: owned, room for limit + 1 rows of which *n_out
 * are kept; *next_out: owned, NULL on the last page. keep may be NULL (every
 * row). Nothing is returned on error.
 */
enum fx_err fx_page_read(struct fx_db *db, fx_page_open_fn open, const void *open_arg,
                         const char *before_id, int64_t limit, const struct fx_page_kind *kind,
                         bool (*keep)(const void *row, void *arg), void *keep_arg, void **rows_out,
                         size_t *n_out, char **next_out);

#endif
