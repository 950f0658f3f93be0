/*
 * client.c: one HTTP exchange with fxd through libcurl (libcurl.c). It owns the curl
 * handle (kept between requests so that the pages of a list share one
 * connection) and the Authorization header, which it wipes when done.
 *
 * It knows HTTP, not the API: it never interprets a status or a body, and
 * never prints. It follows no redirects, so the token is only ever sent to
 * the server the user named, and it speaks only http and https.
 */
#include "cli/cli_int.h"

#include <sodium.h>
#include <string.h>

#define USER_AGENT "fx/1"

/*
 * Prepares c to talk to base_url (a trailing '/' is dropped), sending token
 * as a Bearer credential when it is not NULL. FX_EINVAL when the token holds
 * anything but printable ASCII (it would break or inject header lines) or is
 * absurdly long. c must be cleaned up with fx_client_cleanup() either way.
 */
enum fx_err fx_client_init(struct fx_client *c, const char *base_url, const char *token)
{
    enum fx_err err = FX_OK;
    size_t len = strlen(base_url);
    struct fx_buf auth;

    memset(c, 0, sizeof(*c));
    fx_buf_init(&auth, 64 * 1024);
    while (len > 0 && base_url[len - 1] == '/')
        len--;
    c->base = fx_xstrndup(base_url, len);
    c->api = fx_curl();
    if (c->api == NULL) {
        err = FX_EIO;
        goto out;
    }
    c->curl = c->api->easy_init();
    if (c->curl == NULL)
        fx_die("curl_easy_init failed");
    if (token != NULL) {
        if (token[0] == '\0')
            err = FX_EINVAL;
        for (const char *p = token; *p != '\0'; p++) {
            if (*p <= ' ' || *p > '~') {
                err = FX_EINVAL;
                goto out;
            }
        }
        if (err != FX_OK)
            goto out;
        err = fx_buf_printf(&auth, "Authorization: Bearer %s", token);
        if (err != FX_OK) {
            err = FX_EINVAL;
            goto out;
        }
        c->auth = fx_buf_take(&auth, NULL);
    }
out:
    fx_buf_cleanup(&auth);
    return err;
}

void fx_client_cleanup(struct fx_client *c)
{
    if (c->curl != NULL)
        c->api->easy_cleanup(c->curl);
    if (c->auth != NULL)
        sodium_memzero(c->auth, strlen(c->auth));
    FX_FREE(c->auth);
    FX_FREE(c->base);
    c->curl = NULL;
}

void fx_client_response_init(struct fx_response *r)
{
    memset(r, 0, sizeof(*r));
    fx_buf_init(&r->body, FX_CLI_MAX_RESPONSE);
}

void fx_client_response_cleanup(struct fx_response *r)
{
    fx_buf_cleanup(&r->body);
    FX_FREE(r->content_type);
    FX_FREE(r->etag);
    FX_FREE(r->location);
    FX_FREE(r->retry_after);
    FX_FREE(r->error);
    r->status = 0;
}

struct sink {
    struct fx_buf *buf;
    bool too_big;
};

static size_t on_body(char *p, size_t size, size_t nmemb, void *userdata)
{
    struct sink *s = userdata;
    size_t n = size * nmemb;
    if (fx_buf_add(s->buf, p, n) != FX_OK) {
        s->too_big = true;
        return 0; /* makes curl fail the transfer with CURLE_WRITE_ERROR */
    }
    return n;
}

/* Copies a response header's value, or NULL when it is absent. */
static char *header_value(const struct fx_client *c, const char *name)
{
    struct curl_header *h = NULL;
    if (c->api->easy_header(c->curl, name, 0, CURLH_HEADER, -1, &h) != CURLHE_OK || h == NULL)
        return NULL;
    return fx_xstrdup(h->value);
}

/* Errors where no server answered at all, as opposed to one that answered badly. */
static bool is_connect_error(CURLcode rc)
{
    switch (rc) {
    case CURLE_COULDNT_RESOLVE_PROXY:
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_CONNECT:
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CACERT_BADFILE:
        return true;
    default:
        return false;
    }
}

static enum fx_err add_header(const struct fx_curl *api, struct curl_slist **list,
                              const char *name, const char *value)
{
    enum fx_err err = FX_OK;
    struct fx_buf line;
    struct curl_slist *l;

    fx_buf_init(&line, 64 * 1024);
    err = fx_buf_printf(&line, "%s: %s", name, value);
    if (err != FX_OK)
        goto out;
    l = api->slist_append(*list, line.p);
    if (l == NULL)
        fx_die("out of memory");
    *list = l;
out:
    fx_buf_cleanup(&line);
    return err;
}

/*
 * Sends one request and reads the whole answer into out (initialised by the
 * caller with fx_client_response_init, cleaned up by the caller).
 * Returns FX_OK when a complete answer arrived, whatever its status; FX_EIO
 * when no server could be reached (out->error says why); FX_ETOOBIG when the
 * answer exceeds FX_CLI_MAX_RESPONSE; FX_EINVAL when the answer broke off or
 * was not HTTP. A header value with a CR or LF, or a malformed URL, is refused
 * with FX_EINVAL and out->bad_request before anything is sent.
 */
enum fx_err fx_client_send(struct fx_client *c, const struct fx_request *rq,
                           struct fx_response *out)
{
    enum fx_err err = FX_OK;
    struct curl_slist *headers = NULL;
    struct fx_buf url;
    struct sink sink = {&out->body, false};
    CURLcode rc;
    char *ct = NULL;

    fx_buf_init(&url, 64 * 1024);
    if ((rq->if_match && strpbrk(rq->if_match, "\r\n")) ||
        (rq->idempotency_key && strpbrk(rq->idempotency_key, "\r\n"))) {
        out->error = fx_xstrdup("a header value contains a line break");
        out->bad_request = true;
        err = FX_EINVAL;
        goto out;
    }
    err = fx_buf_printf(&url, "%s%s", c->base, rq->path);
    if (err != FX_OK)
        goto out;

    c->api->easy_reset(c->curl);
    c->errbuf[0] = '\0';
    c->api->easy_setopt(c->curl, CURLOPT_URL, url.p);
    c->api->easy_setopt(c->curl, CURLOPT_ERRORBUFFER, c->errbuf);
    c->api->easy_setopt(c->curl, CURLOPT_PROTOCOLS_STR, "http,https");
    c->api->easy_setopt(c->curl, CURLOPT_FOLLOWLOCATION, 0L);
    c->api->easy_setopt(c->curl, CURLOPT_NOSIGNAL, 1L);
    c->api->easy_setopt(c->curl, CURLOPT_USERAGENT, USER_AGENT);
    c->api->easy_setopt(c->curl, CURLOPT_CONNECTTIMEOUT_MS, FX_CLI_CONNECT_TIMEOUT_MS);
    c->api->easy_setopt(c->curl, CURLOPT_LOW_SPEED_LIMIT, 1L);
    c->api->easy_setopt(c->curl, CURLOPT_LOW_SPEED_TIME, FX_CLI_STALL_SECONDS);
    c->api->easy_setopt(c->curl, CURLOPT_WRITEFUNCTION, on_body);
    c->api->easy_setopt(c->curl, CURLOPT_WRITEDATA, &sink);

    if (strcmp(rq->method, "GET") == 0) {
        c->api->easy_setopt(c->curl, CURLOPT_HTTPGET, 1L);
    } else {
        c->api->easy_setopt(c->curl, CURLOPT_CUSTOMREQUEST, rq->method);
        if (rq->body != NULL) {
            c->api->easy_setopt(c->curl, CURLOPT_POSTFIELDS, rq->body);
            c->api->easy_setopt(c->curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)rq->body_len);
        }
    }

    err = add_header(c->api, &headers, "Accept", c->media ? c->media : "application/json");
    if (err != FX_OK)
        goto out;
    /* An empty Expect: stops curl waiting for "100 Continue" before larger bodies. */
    headers = c->api->slist_append(headers, "Expect:");
    if (headers == NULL)
        fx_die("out of memory");
    if (rq->body != NULL)
        err = add_header(c->api, &headers, "Content-Type", c->media ? c->media : "application/json");
    if (err == FX_OK && c->auth != NULL) {
        struct curl_slist *l = c->api->slist_append(headers, c->auth);
        if (l == NULL)
            fx_die("out of memory");
        headers = l;
    }
    if (err == FX_OK && rq->if_match != NULL)
        err = add_header(c->api, &headers, "If-Match", rq->if_match);
    if (err == FX_OK && rq->idempotency_key != NULL)
        err = add_header(c->api, &headers, "Idempotency-Key", rq->idempotency_key);
    if (err != FX_OK)
        goto out;
    c->api->easy_setopt(c->curl, CURLOPT_HTTPHEADER, headers);

    rc = c->api->easy_perform(c->curl);
    if (rc != CURLE_OK) {
        if (sink.too_big) {
            out->error = fx_xstrdup("the answer is larger than fx accepts");
            err = FX_ETOOBIG;
        } else {
            out->error = fx_xstrdup(c->errbuf[0] ? c->errbuf : c->api->easy_strerror(rc));
            out->bad_request = rc == CURLE_URL_MALFORMAT;
            /* an answer that is not HTTP (CURLE_UNSUPPORTED_PROTOCOL: "HTTP/0.9") is FX_EINVAL */
            err = is_connect_error(rc) ? FX_EIO : FX_EINVAL;
        }
        goto out;
    }
    c->api->easy_getinfo(c->curl, CURLINFO_RESPONSE_CODE, &out->status);
    if (c->api->easy_getinfo(c->curl, CURLINFO_CONTENT_TYPE, &ct) == CURLE_OK && ct != NULL)
        out->content_type = fx_xstrdup(ct);
    out->etag = header_value(c, "ETag");
    out->location = header_value(c, "Location");
    out->retry_after = header_value(c, "Retry-After");
    {
        char *replayed = header_value(c, "Idempotent-Replayed");
        out->replayed = replayed != NULL && strcmp(replayed, "true") == 0;
        free(replayed);
    }
    if (out->status < 100 || out->status > 599) {
        out->error = fx_xstrdup("the server did not answer in HTTP");
        err = FX_EINVAL;
    }
out:
    /* The header list holds a copy of the token: wipe it before freeing. */
    for (struct curl_slist *l = headers; l != NULL; l = l->next)
        sodium_memzero(l->data, strlen(l->data));
    if (headers != NULL)
        c->api->slist_free_all(headers);
    fx_buf_cleanup(&url);
    return err;
}

/*
 * Appends s percent-encoded: every byte but RFC 3986's unreserved characters,
 * so that a segment or a query value can hold '/', '?', '&' or anything else.
 */
static enum fx_err add_escaped(struct fx_buf *b, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    enum fx_err err = FX_OK;
    for (const unsigned char *p = (const unsigned char *)s; *p != '\0' && err == FX_OK; p++) {
        if ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
            *p == '-' || *p == '.' || *p == '_' || *p == '~') {
            err = fx_buf_add(b, p, 1);
        } else {
            char e[3] = {'%', hex[*p >> 4], hex[*p & 15]};
            err = fx_buf_add(b, e, 3);
        }
    }
    return err;
}

/* Appends "/" and the percent-encoded segment to a path. */
enum fx_err fx_client_path_add(struct fx_buf *b, const char *segment)
{
    enum fx_err err = fx_buf_add(b, "/", 1);
    return err == FX_OK ? add_escaped(b, segment) : err;
}

/* Appends "?name=value" or "&name=value", the value percent-encoded; a NULL value adds nothing. */
enum fx_err fx_client_query_add(struct fx_buf *b, const char *name, const char *value)
{
    enum fx_err err = FX_OK;
    if (value == NULL)
        return FX_OK;
    err = fx_buf_printf(b, "%c%s=", b->p && strchr(b->p, '?') ? '&' : '?', name);
    return err == FX_OK ? add_escaped(b, value) : err;
}
