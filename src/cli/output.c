/*
 * output.c: turning the server's JSON into text for people. Everything the
 * server sends is printed through fx_output_clean(), which replaces control
 * characters, so that a hostile record cannot move the cursor, recolour or
 * retitle the user's terminal. Errors (RFC 9457 problem documents) go to
 * stderr: title, detail, then each invalid field as "  /field: message".
 */
#include "cli/cli_int.h"
#include "common/json.h"

#include <string.h>

/* Byte length of the UTF-8 sequence at p (at most len), or 0 when it is not valid UTF-8. */
static size_t utf8_len(const unsigned char *p, size_t len)
{
    size_t n;
    if (p[0] < 0x80)
        return 1;
    if ((p[0] & 0xe0) == 0xc0 && p[0] >= 0xc2)
        n = 2;
    else if ((p[0] & 0xf0) == 0xe0)
        n = 3;
    else if ((p[0] & 0xf8) == 0xf0 && p[0] <= 0xf4)
        n = 4;
    else
        return 0;
    if (n > len)
        return 0;
    for (size_t i = 1; i < n; i++)
        if ((p[i] & 0xc0) != 0x80)
            return 0;
    return n;
}

/*
 * A copy of s (owned by the caller) that is safe to print on a terminal:
 * C0 and C1 control characters, DEL and invalid UTF-8 become '?', except
 * that tabs, and line breaks when keep_newlines is false, become spaces.
 */
char *fx_output_clean(const char *s, bool keep_newlines)
{
    size_t len = strlen(s);
    const unsigned char *p = (const unsigned char *)s;
    char *out = fx_xmalloc(len + 1);
    size_t o = 0;

    for (size_t i = 0; i < len;) {
        size_t n = utf8_len(p + i, len - i);
        if (n == 0) {
            out[o++] = '?';
            i++;
        } else if (n == 1) {
            unsigned char c = p[i];
            if (c == '\n' && keep_newlines)
                out[o++] = '\n';
            else if (c == '\n' || c == '\t' || c == '\r')
                out[o++] = ' ';
            else if (c < 0x20 || c == 0x7f)
                out[o++] = '?';
            else
                out[o++] = (char)c;
            i++;
        } else if (n == 2 && p[i] == 0xc2 && p[i + 1] < 0xa0) {
            out[o++] = '?'; /* U+0080..U+009F: C1 controls, CSI among them */
            i += 2;
        } else {
            memcpy(out + o, p + i, n);
            o += n;
            i += n;
        }
    }
    out[o] = '\0';
    return out;
}

/*
 * The text form of one JSON value for a table cell or a "key: value" line,
 * owned by the caller and already cleaned: "-" for absent or null, strings as
 * they are, booleans as yes/no, lists of scalars joined with ", ", a change
 * {"from", "to"} as "FROM -> TO", anything else as compact JSON.
 */
char *fx_output_value(const json_t *v)
{
    struct fx_buf b;
    char *raw = NULL;
    char *out = NULL;

    fx_buf_init(&b, FX_CLI_MAX_RESPONSE);
    if (v == NULL || json_is_null(v)) {
        raw = fx_xstrdup("-");
    } else if (json_is_string(v)) {
        raw = fx_xstrdup(json_string_value(v));
    } else if (json_is_boolean(v)) {
        raw = fx_xstrdup(json_is_true(v) ? "yes" : "no");
    } else if (json_is_integer(v)) {
        if (fx_buf_printf(&b, "%" JSON_INTEGER_FORMAT, json_integer_value(v)) == FX_OK)
            raw = fx_buf_take(&b, NULL);
    } else if (json_is_real(v)) {
        /* as the server writes reals (common/json.h): "%g" keeps six digits, and
         * 9.9999999e25 would show as 1e+26, the very threshold it is compared with */
        if (fx_buf_printf(&b, "%.*g", FX_JSON_REAL_DIGITS, json_real_value(v)) == FX_OK)
            raw = fx_buf_take(&b, NULL);
    } else if (json_is_object(v) && json_object_size(v) == 2 && json_object_get(v, "from") &&
               json_object_get(v, "to")) {
        /* a change in a history event: "AMBER -> RED" reads better than its JSON */
        char *from = fx_output_value(json_object_get(v, "from"));
        char *to = fx_output_value(json_object_get(v, "to"));
        if (fx_buf_printf(&b, "%s -> %s", from, to) == FX_OK)
            raw = fx_buf_take(&b, NULL);
        free(from);
        free(to);
    } else if (json_is_array(v) && json_array_size(v) == 0) {
        raw = fx_xstrdup("-");
    } else if (json_is_array(v)) {
        size_t i;
        json_t *item;
        bool scalars = true;
        json_array_foreach(v, i, item)
        {
            if (json_is_object(item) || json_is_array(item))
                scalars = false;
        }
        if (scalars) {
            json_array_foreach(v, i, item)
            {
                char *s = fx_output_value(item);
                if (fx_buf_printf(&b, "%s%s", i ? ", " : "", s) != FX_OK)
                    scalars = false;
                free(s);
            }
            raw = fx_buf_take(&b, NULL);
        }
    }
    if (raw == NULL) /* reals in it as above */
        raw = fx_json_compact(v, NULL);
    out = fx_output_clean(raw, false);
    free(raw);
    fx_buf_cleanup(&b);
    return out;
}

/*
 * Prints a long text field as "title:" followed by its lines, indented by
 * two spaces. Prints nothing when text is absent, null or empty.
 */
void fx_output_block(FILE *f, const char *title, const json_t *text)
{
    char *clean = NULL;
    const char *s;

    if (!json_is_string(text) || json_string_length(text) == 0)
        return;
    clean = fx_output_clean(json_string_value(text), true);
    fprintf(f, "\n%s:\n", title);
    s = clean;
    while (*s != '\0') {
        const char *nl = strchr(s, '\n');
        size_t n = nl ? (size_t)(nl - s) : strlen(s);
        fprintf(f, "  %.*s\n", (int)n, s);
        s += n + (nl ? 1 : 0);
    }
    free(clean);
}

static void print_clean(FILE *f, const char *prefix, const char *s, const char *suffix)
{
    char *c = fx_output_clean(s, false);
    fprintf(f, "%s%s%s", prefix, c, suffix);
    free(c);
}

/* Hints for the statuses where the next step is not obvious from the problem alone. */
static const char *hint_for(long status)
{
    switch (status) {
    case 401:
        return "give a valid token with --token, $FX_TOKEN or 'fx login'";
    case 412:
        return "the record changed since its ETag was read; show it again and retry";
    case 428:
        return "this change needs --if-match ETAG (fx notice show prints the ETag)";
    default:
        return NULL;
    }
}

/*
 * Prints why a request failed, from a non-2xx answer, on stderr:
 *   fx: Invalid request (422): 2 fields are invalid
 *     /planned_release_date: not a calendar date (YYYY-MM-DD)
 * plus the allowed actions of a lifecycle conflict (409), Retry-After of a
 * 429, and a hint for 401, 412 and 428. An answer that is not a problem
 * document is shown by its status and first line.
 */
void fx_output_problem(const struct fx_response *resp)
{
    json_t *j = NULL;
    json_error_t jerr;
    const char *hint = hint_for(resp->status);

    if (resp->body.len > 0)
        j = json_loadb(resp->body.p, resp->body.len, 0, &jerr);
    if (!json_is_object(j)) {
        fprintf(stderr, "fx: the server answered HTTP %ld", resp->status);
        if (resp->body.len > 0) {
            size_t n = strcspn(resp->body.p, "\r\n");
            char *line = fx_xstrndup(resp->body.p, n > 200 ? 200 : n);
            print_clean(stderr, ": ", line, "");
            free(line);
        }
        fputs("\n", stderr);
    } else {
        const json_t *title = json_object_get(j, "title");
        const json_t *detail = json_object_get(j, "detail");
        const json_t *errors = json_object_get(j, "errors");
        /* TAXII 2.1 error messages say the same under other names */
        if (detail == NULL)
            detail = json_object_get(j, "description");
        if (errors == NULL)
            errors = json_object_get(json_object_get(j, "details"), "errors");
        const json_t *now = json_object_get(j, "status_now");
        const json_t *allowed = json_object_get(j, "allowed");
        size_t i;
        json_t *e;

        print_clean(stderr, "fx: ", json_is_string(title) ? json_string_value(title) : "error", "");
        fprintf(stderr, " (%ld)", resp->status);
        if (json_is_string(detail))
            print_clean(stderr, ": ", json_string_value(detail), "");
        fputs("\n", stderr);
        json_array_foreach(errors, i, e)
        {
            const json_t *field = json_object_get(e, "field");
            const json_t *msg = json_object_get(e, "message");
            print_clean(stderr, "  ", json_is_string(field) ? json_string_value(field) : "?", "");
            print_clean(stderr, ": ", json_is_string(msg) ? json_string_value(msg) : "invalid",
                        "\n");
        }
        if (json_is_string(now))
            print_clean(stderr, "  status now: ", json_string_value(now), "\n");
        if (json_is_array(allowed)) {
            char *list = fx_output_value(allowed);
            fprintf(stderr, "  allowed: %s\n", json_array_size(allowed) ? list : "nothing");
            free(list);
        }
    }
    if (resp->status == 429 && resp->retry_after != NULL)
        print_clean(stderr, "  retry after ", resp->retry_after, " seconds\n");
    if (hint != NULL)
        fprintf(stderr, "  hint: %s\n", hint);
    json_decref(j);
}
