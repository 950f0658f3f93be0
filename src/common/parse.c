/*
 * parse.c: checked parsers for outside input. One helper per kind of value,
 * so that no handler calls strtol/strtod with its own idea of the edge cases.
 */
#include "common/parse.h"

#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>

enum fx_err fx_parse_i64(const char *p, size_t len, int64_t min, int64_t max, int64_t *out)
{
    if (len == 0 || len > 20)
        return FX_EINVAL;
    size_t i = 0;
    bool neg = false;
    if (p[0] == '-') {
        neg = true;
        i = 1;
        if (len == 1)
            return FX_EINVAL;
    }
    uint64_t v = 0;
    for (; i < len; i++) {
        if (p[i] < '0' || p[i] > '9')
            return FX_EINVAL;
        unsigned d = (unsigned)(p[i] - '0');
        if (v > (UINT64_MAX - d) / 10)
            return FX_EINVAL;
        v = v * 10 + d;
    }
    int64_t r;
    if (neg) {
        if (v > (uint64_t)INT64_MAX + 1)
            return FX_EINVAL;
        r = v == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)v;
    } else {
        if (v > (uint64_t)INT64_MAX)
            return FX_EINVAL;
        r = (int64_t)v;
    }
    if (r < min || r > max)
        return FX_EINVAL;
    *out = r;
    return FX_OK;
}

enum fx_err fx_parse_double(const char *p, size_t len, double *out)
{
    char buf[64];
    if (len == 0 || len >= sizeof(buf))
        return FX_EINVAL;
    memcpy(buf, p, len);
    buf[len] = '\0';
    char *end = NULL;
    errno = 0;
    double d = strtod(buf, &end);
    if (end != buf + len || errno == ERANGE || d != d)
        return FX_EINVAL;
    *out = d;
    return FX_OK;
}

int64_t fx_days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    const int64_t era = (y >= 0 ? y : y - 399) / 400;
    const unsigned yoe = (unsigned)(y - era * 400);
    const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

void fx_civil_from_days(int64_t z, int64_t *y_out, unsigned *m_out, unsigned *d_out)
{
    z += 719468;
    const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    const unsigned doe = (unsigned)(z - era * 146097);
    const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    const int64_t y = (int64_t)yoe + era * 400;
    const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    const unsigned mp = (5 * doy + 2) / 153;
    const unsigned d = doy - (153 * mp + 2) / 5 + 1;
    const unsigned m = mp < 10 ? mp + 3 : mp - 9;
    *y_out = y + (m <= 2);
    *m_out = m;
    *d_out = d;
}

static bool digits(const char *p, size_t n, unsigned *out)
{
    unsigned v = 0;
    for (size_t i = 0; i < n; i++) {
        if (p[i] < '0' || p[i] > '9')
            return false;
        v = v * 10 + (unsigned)(p[i] - '0');
    }
    *out = v;
    return true;
}

static unsigned days_in_month(unsigned y, unsigned m)
{
    static const unsigned dim[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
        return 29;
    return dim[m - 1];
}

static enum fx_err parse_ymd(const char *p, int64_t *days_out)
{
    unsigned y, m, d;
    if (!digits(p, 4, &y) || p[4] != '-' || !digits(p + 5, 2, &m) || p[7] != '-' ||
        !digits(p + 8, 2, &d))
        return FX_EINVAL;
    if (y < 1970 || m < 1 || m > 12 || d < 1 || d > days_in_month(y, m))
        return FX_EINVAL;
    *days_out = fx_days_from_civil(y, m, d);
    return FX_OK;
}

enum fx_err fx_parse_date(const char *p, size_t len, int64_t *days_out)
{
    if (len != 10)
        return FX_EINVAL;
    return parse_ymd(p, days_out);
}

/* n decimal digits of v, zero-padded, at p: dates and times are formatted on
 * every write and every answer, where snprintf's parsing of its format showed. */
static void put_digits(char *p, unsigned v, int n)
{
    while (n-- > 0) {
        p[n] = (char)('0' + v % 10);
        v /= 10;
    }
}

size_t fx_format_i64(int64_t v, char out[static 21])
{
    char rev[20];
    uint64_t u = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;
    size_t n = 0, len = 0;
    do {
        rev[n++] = (char)('0' + u % 10);
        u /= 10;
    } while (u != 0);
    if (v < 0)
        out[len++] = '-';
    while (n > 0)
        out[len++] = rev[--n];
    out[len] = '\0';
    return len;
}

/* YYYY-MM-DD of days since the epoch, years 1970 to 9999 (clamped: the text always fits). */
static void put_date(char *p, int64_t days)
{
    int64_t y;
    unsigned m, d;
    if (days < 0)
        days = 0;
    if (days > 2932896) /* 9999-12-31 */
        days = 2932896;
    fx_civil_from_days(days, &y, &m, &d);
    put_digits(p, (unsigned)y, 4);
    p[4] = '-';
    put_digits(p + 5, m, 2);
    p[7] = '-';
    put_digits(p + 8, d, 2);
}

void fx_format_date(int64_t days, char out[static 11])
{
    put_date(out, days);
    out[10] = '\0';
}

enum fx_err fx_parse_time(const char *p, size_t len, int64_t *ms_out)
{
    int64_t days;
    unsigned hh, mm, ss, frac_ms = 0;
    if (len < 20 || len > 40)
        return FX_EINVAL;
    if (parse_ymd(p, &days) != FX_OK)
        return FX_EINVAL;
    if ((p[10] != 'T' && p[10] != 't') || !digits(p + 11, 2, &hh) || p[13] != ':' ||
        !digits(p + 14, 2, &mm) || p[16] != ':' || !digits(p + 17, 2, &ss))
        return FX_EINVAL;
    if (hh > 23 || mm > 59 || ss > 60)
        return FX_EINVAL;
    size_t i = 19;
    if (p[i] == '.') {
        size_t start = ++i;
        unsigned scale = 100;
        while (i < len && p[i] >= '0' && p[i] <= '9') {
            frac_ms += (unsigned)(p[i] - '0') * scale;
            scale /= 10;
            i++;
        }
        if (i == start || i - start > 9)
            return FX_EINVAL;
    }
    int64_t offset_min = 0;
    if (i + 1 == len && (p[i] == 'Z' || p[i] == 'z')) {
        /* UTC */
    } else if (i + 6 == len && (p[i] == '+' || p[i] == '-') && p[i + 3] == ':') {
        unsigned oh, om;
        if (!digits(p + i + 1, 2, &oh) || !digits(p + i + 4, 2, &om) || oh > 23 || om > 59)
            return FX_EINVAL;
        offset_min = (int64_t)oh * 60 + om;
        if (p[i] == '-')
            offset_min = -offset_min;
    } else {
        return FX_EINVAL;
    }
    if (ss == 60)
        ss = 59; /* a leap second reads as the second before it */
    int64_t secs = days * 86400 + (int64_t)hh * 3600 + mm * 60 + ss - offset_min * 60;
    *ms_out = secs * 1000 + frac_ms;
    return FX_OK;
}

void fx_format_time(int64_t ms, char out[static 25])
{
    /* years past 9999 do not occur in FX; clamp so the text always fits */
    if (ms > 253402300799999LL)
        ms = 253402300799999LL;
    if (ms < 0)
        ms = 0;
    int64_t secs = ms / 1000;
    int64_t days = secs / 86400;
    unsigned rem = (unsigned)(secs - days * 86400);
    put_date(out, days);
    out[10] = 'T';
    put_digits(out + 11, rem / 3600, 2);
    out[13] = ':';
    put_digits(out + 14, rem / 60 % 60, 2);
    out[16] = ':';
    put_digits(out + 17, rem % 60, 2);
    out[19] = '.';
    put_digits(out + 20, (unsigned)(ms - secs * 1000), 3);
    out[23] = 'Z';
    out[24] = '\0';
}

static bool is_hex(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

bool fx_uuid_valid(const char *p, size_t len)
{
    if (len != 36)
        return false;
    for (size_t i = 0; i < 36; i++) {
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (p[i] != '-')
                return false;
        } else if (!is_hex(p[i])) {
            return false;
        }
    }
    return true;
}

void fx_hex(const unsigned char *p, size_t n, char *out)
{
    static const char hx[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = hx[p[i] >> 4];
        out[2 * i + 1] = hx[p[i] & 15];
    }
    out[2 * n] = '\0';
}

void fx_uuid_v7(int64_t ms, char out[static 37])
{
    unsigned char b[16];
    randombytes_buf(b, sizeof(b));
    uint64_t t = (uint64_t)ms;
    for (int i = 0; i < 6; i++)
        b[i] = (unsigned char)(t >> (40 - 8 * i));
    b[6] = (unsigned char)(0x70 | (b[6] & 0x0f));
    b[8] = (unsigned char)(0x80 | (b[8] & 0x3f));
    char hex[33];
    fx_hex(b, 16, hex);
    snprintf(out, 37, "%.8s-%.4s-%.4s-%.4s-%.12s", hex, hex + 8, hex + 12, hex + 16, hex + 20);
}

bool fx_utf8_valid(const char *s, size_t len)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0;
    while (i < len) {
        unsigned c = p[i];
        size_t n;
        uint32_t cp;
        if (c == 0)
            return false;
        if (c < 0x80) {
            i++;
            continue;
        } else if ((c & 0xe0) == 0xc0) {
            n = 1;
            cp = c & 0x1f;
        } else if ((c & 0xf0) == 0xe0) {
            n = 2;
            cp = c & 0x0f;
        } else if ((c & 0xf8) == 0xf0) {
            n = 3;
            cp = c & 0x07;
        } else {
            return false;
        }
        if (len - i <= n)
            return false;
        for (size_t k = 1; k <= n; k++) {
            if ((p[i + k] & 0xc0) != 0x80)
                return false;
            cp = (cp << 6) | (p[i + k] & 0x3f);
        }
        if ((n == 1 && cp < 0x80) || (n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) ||
            cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
            return false;
        i += n + 1;
    }
    return true;
}
