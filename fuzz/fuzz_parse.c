/*
 * fuzz_parse.c: the small checked parsers of src/common/parse.h (query values,
 * path ids, dates and timestamps in bodies) and the JSON depth pre-scan, all on
 * the same input.
 *
 * Invariants:
 *  - fx_parse_i64: a value is in its range and prints back to digits that parse
 *    to the same value;
 *  - fx_parse_date: an accepted date formats back to exactly the input;
 *  - fx_parse_time: an accepted time within 1970..9999 UTC formats to RFC 3339
 *    text that parses to the same millisecond;
 *  - fx_uuid_valid: only 36 characters of the 8-4-4-4-12 shape;
 *  - fx_utf8_valid: agrees with a straightforward reference decoder;
 *  - fx_json_depth: never more than the number of opening brackets.
 */
#include "fuzz.h"

#include "common/json.h"
#include "common/parse.h"

#include <inttypes.h>
#include <sodium.h>
#include <string.h>

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    FUZZ_CHECK(sodium_init() >= 0);
    return 0;
}

static void check_i64(const char *p, size_t n, int64_t min, int64_t max)
{
    int64_t v = 0, back = 0;
    if (fx_parse_i64(p, n, min, max, &v) != FX_OK)
        return;
    FUZZ_CHECK(v >= min && v <= max);
    FUZZ_CHECK(n > 0 && (p[0] == '-' || (p[0] >= '0' && p[0] <= '9')));
    char txt[32];
    int tn = snprintf(txt, sizeof(txt), "%" PRId64, v);
    FUZZ_CHECK(fx_parse_i64(txt, (size_t)tn, min, max, &back) == FX_OK);
    FUZZ_CHECK(back == v);
}

static void check_date(const char *p, size_t n)
{
    int64_t days = 0;
    if (fx_parse_date(p, n, &days) != FX_OK)
        return;
    FUZZ_CHECK(n == 10);
    FUZZ_CHECK(days >= 0);
    char out[11];
    fx_format_date(days, out);
    FUZZ_CHECK(memcmp(out, p, 10) == 0);
}

static void check_time(const char *p, size_t n)
{
    int64_t ms = 0, back = 0;
    if (fx_parse_time(p, n, &ms) != FX_OK)
        return;
    /* The date part alone is a valid date. */
    int64_t days = 0;
    FUZZ_CHECK(n >= 20 && fx_parse_date(p, 10, &days) == FX_OK);
    /* The offset moves the instant by less than a day from the stated wall time. */
    FUZZ_CHECK(ms > (days - 1) * 86400000 && ms < (days + 2) * 86400000);
    if (ms < 0 || ms > 253402300799999LL)
        return; /* outside what fx_format_time can print */
    char txt[25];
    fx_format_time(ms, txt);
    FUZZ_CHECK(strlen(txt) == 24);
    FUZZ_CHECK(fx_parse_time(txt, 24, &back) == FX_OK);
    FUZZ_CHECK(back == ms);
}

static void check_uuid(const char *p, size_t n)
{
    if (!fx_uuid_valid(p, n))
        return;
    FUZZ_CHECK(n == 36);
    FUZZ_CHECK(p[8] == '-' && p[13] == '-' && p[18] == '-' && p[23] == '-');
}

/* Reference UTF-8 check, written from RFC 3629 §4's table rather than bit tricks. */
static bool utf8_ref(const unsigned char *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        unsigned char c = s[i];
        if (c == 0)
            return false;
        if (c <= 0x7f) {
            i++;
            continue;
        }
        unsigned char lo = 0x80, hi = 0xbf;
        size_t k;
        if (c >= 0xc2 && c <= 0xdf) {
            k = 1;
        } else if (c == 0xe0) {
            k = 2;
            lo = 0xa0;
        } else if ((c >= 0xe1 && c <= 0xec) || c == 0xee || c == 0xef) {
            k = 2;
        } else if (c == 0xed) {
            k = 2;
            hi = 0x9f;
        } else if (c == 0xf0) {
            k = 3;
            lo = 0x90;
        } else if (c >= 0xf1 && c <= 0xf3) {
            k = 3;
        } else if (c == 0xf4) {
            k = 3;
            hi = 0x8f;
        } else {
            return false;
        }
        if (n - i <= k)
            return false;
        if (s[i + 1] < lo || s[i + 1] > hi)
            return false;
        for (size_t j = 2; j <= k; j++)
            if (s[i + j] < 0x80 || s[i + j] > 0xbf)
                return false;
        i += k + 1;
    }
    return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* An exact-size copy without NUL termination: the parsers must not read past n. */
    const char *p = (const char *)data;
    check_i64(p, size, INT64_MIN, INT64_MAX);
    check_i64(p, size, 0, 3650);
    check_i64(p, size, -1, 1);
    check_date(p, size);
    check_time(p, size);
    check_uuid(p, size);
    FUZZ_CHECK(fx_utf8_valid(p, size) == utf8_ref(data, size));

    size_t opens = 0;
    for (size_t i = 0; i < size; i++)
        opens += p[i] == '[' || p[i] == '{';
    FUZZ_CHECK(fx_json_depth(p, size) <= opens);
    return 0;
}
