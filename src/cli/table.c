/*
 * table.c: aligned columns for people. Cells are added left to right, row by
 * row; the first row is the header when there is one (the caller decides by
 * what it adds first). Each column is as wide as its widest cell, columns are
 * two spaces apart, and the last column is not padded. Cells are cleaned of
 * control characters as they are added (output.c), and an empty or absent
 * value prints as "-" so that columns never collapse.
 *
 * Width counts code points, which is right for the Latin, Greek and Cyrillic
 * text we expect; wide CJK characters will misalign, which is cosmetic.
 */
#include "cli/cli_int.h"

#include <string.h>

void fx_table_init(struct fx_table *t, size_t ncols)
{
    memset(t, 0, sizeof(*t));
    t->ncols = ncols;
}

void fx_table_cleanup(struct fx_table *t)
{
    for (size_t i = 0; i < t->n; i++)
        free(t->cells[i]);
    FX_FREE(t->cells);
    t->n = 0;
    t->cap = 0;
}

/* Takes ownership of s, which must already be clean. */
static void add_owned(struct fx_table *t, char *s)
{
    if (t->n == t->cap) {
        t->cap = t->cap ? t->cap * 2 : 32;
        t->cells = fx_xrealloc(t->cells, t->cap * sizeof(*t->cells));
    }
    t->cells[t->n++] = s;
}

/* Adds one cell, a copy of s cleaned for the terminal; NULL or "" shows as "-". */
void fx_table_add(struct fx_table *t, const char *s)
{
    add_owned(t, fx_output_clean(s != NULL && s[0] != '\0' ? s : "-", false));
}

/* Adds one cell showing a JSON value (see fx_output_value); NULL shows as "-". */
void fx_table_add_json(struct fx_table *t, const json_t *v)
{
    char *s = fx_output_value(v);
    if (s[0] == '\0') {
        free(s);
        s = fx_xstrdup("-");
    }
    add_owned(t, s);
}

/* Adds one cell showing obj[key]. */
void fx_table_add_field(struct fx_table *t, const json_t *obj, const char *key)
{
    fx_table_add_json(t, json_object_get(obj, key));
}

/*
 * Adds a "key:" / value row to a two-column table, showing obj[field];
 * adds nothing when obj has no such member, so optional fields that are
 * not set do not clutter the view.
 */
void fx_table_kv(struct fx_table *t, const char *key, const json_t *obj, const char *field)
{
    const json_t *v = json_object_get(obj, field);
    struct fx_buf b;

    if (v == NULL)
        return;
    fx_buf_init(&b, 1024);
    if (fx_buf_printf(&b, "%s:", key) == FX_OK) {
        fx_table_add(t, b.p);
        fx_table_add_json(t, v);
    }
    fx_buf_cleanup(&b);
}

static size_t width(const char *s)
{
    size_t w = 0;
    for (; *s != '\0'; s++)
        if (((unsigned char)*s & 0xc0) != 0x80)
            w++;
    return w;
}

/* Prints the table to f. A partly filled last row is printed as far as it goes. */
void fx_table_print(const struct fx_table *t, FILE *f)
{
    size_t *w = fx_xcalloc(t->ncols, sizeof(*w));

    for (size_t i = 0; i < t->n; i++) {
        size_t cw = width(t->cells[i]);
        if (cw > w[i % t->ncols])
            w[i % t->ncols] = cw;
    }
    for (size_t i = 0; i < t->n; i++) {
        size_t col = i % t->ncols;
        bool last = col == t->ncols - 1 || i == t->n - 1;
        fputs(t->cells[i], f);
        if (last) {
            fputc('\n', f);
            continue;
        }
        for (size_t k = width(t->cells[i]); k < w[col] + 2; k++)
            fputc(' ', f);
    }
    free(w);
}

/*
 * Prints items (a JSON array, borrowed) to f as a table: a header row of the
 * columns' titles, then one row per item. The header is printed even when
 * there are no items, so that an empty list still says what it lists.
 */
void fx_table_print_items(FILE *f, const json_t *items, const struct fx_table_col *cols,
                          size_t ncols)
{
    struct fx_table t;
    size_t i;
    const json_t *item;

    fx_table_init(&t, ncols);
    for (size_t c = 0; c < ncols; c++)
        fx_table_add(&t, cols[c].title);
    json_array_foreach(items, i, item)
    {
        for (size_t c = 0; c < ncols; c++)
            fx_table_add_json(&t,
                              cols[c].get ? cols[c].get(item) : json_object_get(item, cols[c].key));
    }
    fx_table_print(&t, f);
    fx_table_cleanup(&t);
}
