/*
 * page.h: one page of a list read newest first below a cursor. The caller's
 * statement orders by id descending with LIMIT limit + 1; rows its gate drops
 * are skipped. A page thinned out by the gate may be short: its cursor then
 * goes on after the last row read, so that no row past the LIMIT is lost.
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

/*
 * Steps st to the end of its page. *rows_out: owned, room for limit + 1 rows
 * of which *n_out are kept; *next_out: owned, NULL on the last page. keep may
 * be NULL (every row). Nothing is returned on error.
 */
enum fx_err fx_page_read(struct fx_stmt *st, int64_t limit, const struct fx_page_kind *kind,
                         bool (*keep)(const void *row, void *arg), void *keep_arg,
                         void **rows_out, size_t *n_out, char **next_out);

#endif
