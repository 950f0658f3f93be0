/*
 * fuzz_auth_header.c: the Authorization header, the first outside input of
 * every authenticated request (fx_token_from_header, SPEC §8 and §12).
 *
 * Invariants, on FX_OK:
 *  - the token is FX_TOKEN_LEN characters: "fx_" and base64url;
 *  - it occurs in the header as sent (Bearer) or after a colon in the decoded
 *    Basic credentials;
 *  - both header forms built from it give it back.
 */
#include "fuzz.h"

#include "auth/token.h"

#include <sodium.h>
#include <string.h>
#include <strings.h>

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    FUZZ_CHECK(sodium_init() >= 0);
    return 0;
}

static void check_shape(const char *t)
{
    FUZZ_CHECK(strlen(t) == FX_TOKEN_LEN);
    FUZZ_CHECK(memcmp(t, "fx_", 3) == 0);
    for (size_t i = 3; i < FX_TOKEN_LEN; i++) {
        char c = t[i];
        FUZZ_CHECK((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                   c == '-' || c == '_');
    }
}

static void check_forms(const char *t)
{
    char h[256], out[FX_TOKEN_LEN + 1];
    snprintf(h, sizeof(h), "Bearer %s", t);
    FUZZ_CHECK(fx_token_from_header(h, out) == FX_OK);
    FUZZ_CHECK(strcmp(out, t) == 0);

    char cred[64];
    int n = snprintf(cred, sizeof(cred), "u:%s", t);
    memcpy(h, "Basic ", 6);
    sodium_bin2base64(h + 6, sizeof(h) - 6, (const unsigned char *)cred, (size_t)n,
                      sodium_base64_VARIANT_ORIGINAL);
    FUZZ_CHECK(fx_token_from_header(h, out) == FX_OK);
    FUZZ_CHECK(strcmp(out, t) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* A header reaches the parser as a C string: everything up to the first NUL. */
    char *h = malloc(size + 1);
    FUZZ_CHECK(h != NULL);
    memcpy(h, data, size);
    h[size] = '\0';
    char out[FX_TOKEN_LEN + 1];
    memset(out, 0, sizeof(out));
    if (fx_token_from_header(h, out) == FX_OK) {
        check_shape(out);
        if (strncasecmp(h, "Bearer ", 7) == 0)
            FUZZ_CHECK(strstr(h, out) != NULL);
        else
            FUZZ_CHECK(strncasecmp(h, "Basic ", 6) == 0);
        check_forms(out);
    }
    free(h);
    return 0;
}
