/*
 * token.c: token generation, parsing from headers, and lookup by hash.
 * Never logs a token.
 */
#include "auth/token.h"

#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

void fx_token_hash(const char *tok, size_t len, unsigned char hash[static FX_TOKEN_HASH])
{
    crypto_hash_sha256(hash, (const unsigned char *)tok, len);
}

void fx_token_generate(char out[static FX_TOKEN_LEN + 1], unsigned char hash[static FX_TOKEN_HASH])
{
    unsigned char raw[32];
    randombytes_buf(raw, sizeof(raw));
    memcpy(out, "fx_", 3);
    sodium_bin2base64(out + 3, FX_TOKEN_LEN + 1 - 3, raw, sizeof(raw),
                      sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    sodium_memzero(raw, sizeof(raw));
    fx_token_hash(out, FX_TOKEN_LEN, hash);
}

static int token_shape_ok(const char *t, size_t len)
{
    if (len != FX_TOKEN_LEN || memcmp(t, "fx_", 3) != 0)
        return 0;
    for (size_t i = 3; i < len; i++) {
        char c = t[i];
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_'))
            return 0;
    }
    return 1;
}

enum fx_err fx_token_from_header(const char *h, char out[static FX_TOKEN_LEN + 1])
{
    if (h == NULL)
        return FX_EUNAUTH;
    if (strncasecmp(h, "Bearer ", 7) == 0) {
        const char *t = h + 7;
        while (*t == ' ')
            t++;
        size_t len = strlen(t);
        while (len > 0 && t[len - 1] == ' ')
            len--;
        if (!token_shape_ok(t, len))
            return FX_EUNAUTH;
        memcpy(out, t, len);
        out[len] = '\0';
        return FX_OK;
    }
    if (strncasecmp(h, "Basic ", 6) == 0) {
        const char *b = h + 6;
        while (*b == ' ')
            b++;
        unsigned char dec[256];
        size_t dlen = 0;
        if (strlen(b) > 340 ||
            sodium_base642bin(dec, sizeof(dec) - 1, b, strlen(b), NULL, &dlen, NULL,
                              sodium_base64_VARIANT_ORIGINAL) != 0)
            return FX_EUNAUTH;
        dec[dlen] = '\0';
        const char *colon = memchr(dec, ':', dlen);
        if (colon == NULL)
            return FX_EUNAUTH;
        const char *t = colon + 1;
        size_t len = dlen - (size_t)(t - (const char *)dec);
        if (!token_shape_ok(t, len))
            return FX_EUNAUTH;
        memcpy(out, t, len);
        out[len] = '\0';
        return FX_OK;
    }
    return FX_EUNAUTH;
}

enum fx_err fx_token_lookup(struct fx_db *db, const char *token, int64_t now_ms,
                            struct fx_principal *out)
{
    unsigned char hash[FX_TOKEN_HASH];
    int64_t expires;
    fx_token_hash(token, strlen(token), hash);
    return fx_token_lookup_hash(db, hash, now_ms, out, &expires);
}

enum fx_err fx_token_lookup_hash(struct fx_db *db, const unsigned char hash[FX_TOKEN_HASH],
                                 int64_t now_ms, struct fx_principal *out, int64_t *expires_out)
{
    static const char *sql =
        "SELECT t.id, u.id, u.role, o.id, o.kind, o.mission, t.expires_at, t.revoked_at"
        " FROM tokens t JOIN users u ON u.id = t.user_id JOIN orgs o ON o.id = u.org_id"
        " WHERE t.hash = $1";
    struct fx_stmt *st = NULL;
    bool row = false;
    enum fx_err err = fx_db_prepare(db, sql, &st);
    if (err != FX_OK)
        return err;
    fx_stmt_bind_blob(st, 1, hash, FX_TOKEN_HASH);
    err = fx_stmt_step(st, &row);
    if (err == FX_OK && !row)
        err = FX_EUNAUTH;
    if (err == FX_OK && (!fx_stmt_is_null(st, 7) || fx_stmt_i64(st, 6) <= now_ms))
        err = FX_EUNAUTH;
    if (err == FX_OK) {
        memset(out, 0, sizeof(*out));
        snprintf(out->token_id, sizeof(out->token_id), "%s", fx_stmt_text(st, 0, NULL));
        snprintf(out->user_id, sizeof(out->user_id), "%s", fx_stmt_text(st, 1, NULL));
        out->role = (enum fx_role)fx_role_parse(fx_stmt_text(st, 2, NULL));
        snprintf(out->org_id, sizeof(out->org_id), "%s", fx_stmt_text(st, 3, NULL));
        out->kind = (enum fx_org_kind)fx_org_kind_parse(fx_stmt_text(st, 4, NULL));
        int m = fx_stmt_is_null(st, 5) ? -1 : fx_mission_parse(fx_stmt_text(st, 5, NULL));
        out->mission = m < 0 ? FX_MISSION_NONE : (enum fx_mission)m;
        *expires_out = fx_stmt_i64(st, 6);
    }
    fx_stmt_finalize(st);
    return err;
}
