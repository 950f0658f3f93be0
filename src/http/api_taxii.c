/*
 * api_taxii.c: the TAXII 2.1 endpoints (SPEC §8; OASIS TAXII 2.1 §4-5) under
 * /taxii2/: discovery, one API root (/taxii2/fx/), collections, objects,
 * manifest, single objects, versions, deletion and status resources.
 *
 * Media types: every answer is application/taxii+json;version=2.1 (errors
 * too: src/http/problem.c writes TAXII error messages on these routes); an
 * Accept header that admits none of it is refused (406), a POST in another
 * type as well (415). Filters are checked before the store is touched; bad
 * ones answer 400 naming each parameter. Every row a query reads is put to
 * the gate (src/auth/access.c) before it counts, and reads of AMBER and RED
 * objects from outside their org are audited before the answer (SPEC §10).
 * Every object version a POST stores is a ledger leaf (SPEC §9), appended in
 * the envelope's transaction with one signed checkpoint for the envelope; the
 * status resource names each stored object's leaf index and that checkpoint.
 */
#include "auth/access.h"
#include "common/json.h"
#include "common/parse.h"
#include "crypto/digest.h"
#include "http/api.h"
#include "http/viewcache.h"
#include "records/audit.h"
#include "records/incident.h"
#include "records/tlog.h"
#include "taxii/stix.h"
#include "taxii/taxii.h"

#include <microhttpd.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#define API_ROOT "/taxii2/fx/"

/* ---- media types ---- */

static bool media_is(const char *p, size_t n, const char *type)
{
    while (n > 0 && (*p == ' ' || *p == '\t')) {
        p++;
        n--;
    }
    const char *semi = memchr(p, ';', n);
    size_t tl = semi ? (size_t)(semi - p) : n;
    while (tl > 0 && (p[tl - 1] == ' ' || p[tl - 1] == '\t'))
        tl--;
    if (tl != strlen(type) || strncasecmp(p, type, tl) != 0)
        return false;
    /* a version parameter, when present, must be 2.1 */
    for (const char *q = semi; q && q < p + n;) {
        q++;
        while (q < p + n && (*q == ' ' || *q == '\t'))
            q++;
        const char *end = memchr(q, ';', (size_t)(p + n - q));
        size_t len = end ? (size_t)(end - q) : (size_t)(p + n - q);
        if (len >= 8 && strncasecmp(q, "version=", 8) == 0) {
            const char *v = q + 8;
            size_t vl = len - 8;
            while (vl > 0 && (v[vl - 1] == ' ' || v[vl - 1] == '\t'))
                vl--;
            if (vl >= 2 && v[0] == '"' && v[vl - 1] == '"') {
                v++;
                vl -= 2;
            }
            if (vl != 3 || memcmp(v, "2.1", 3) != 0)
                return false;
        }
        q = end;
    }
    return true;
}

/* TAXII 2.1 §1.6.8: 406 unless Accept admits application/taxii+json;version=2.1. */
static bool accept_ok(struct fx_req *req)
{
    const char *a = fx_req_header(req, "Accept");
    if (a == NULL || *a == '\0')
        return true;
    for (const char *p = a; p && *p;) {
        const char *comma = strchr(p, ',');
        size_t n = comma ? (size_t)(comma - p) : strlen(p);
        if (media_is(p, n, "application/taxii+json") || media_is(p, n, "*/*") ||
            media_is(p, n, "application/*"))
            return true;
        p = comma ? comma + 1 : NULL;
    }
    fx_req_problem(req, 406, "this server answers application/taxii+json;version=2.1: "
                             "send an Accept header that admits it");
    return false;
}

static void answer(struct fx_req *req, unsigned status, json_t *body)
{
    fx_req_json(req, status, body);
    req->content_type = FX_TAXII_MEDIA;
}

/* Hands a built body to the request (takes the buffer's bytes). */
static void answer_buf(struct fx_req *req, unsigned status, struct fx_buf *b)
{
    size_t len = 0;
    char *p = fx_buf_take(b, &len);
    free(req->resp);
    req->resp = p;
    req->resp_len = len;
    req->status = status;
    req->content_type = FX_TAXII_MEDIA;
}

/* ---- discovery, API root ---- */

/* The server's own base URL, from Host (relative when the client sent none). */
static void base_url(struct fx_req *req, char *out, size_t n)
{
    const char *host = fx_req_header(req, "Host");
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(req->conn, MHD_CONNECTION_INFO_GNUTLS_SESSION);
    bool tls = ci != NULL && ci->tls_session != NULL;
    bool host_ok = host && *host && strlen(host) < 256;
    for (const char *c = host; host_ok && *c; c++)
        host_ok = (*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
                  (*c >= '0' && *c <= '9') || strchr(".-:[]", *c) != NULL;
    if (host_ok)
        snprintf(out, n, "%s://%s", tls ? "https" : "http", host);
    else
        out[0] = '\0';
}

void fx_api_taxii_discovery(struct fx_req *req)
{
    if (!accept_ok(req))
        return;
    char base[300], root[400];
    base_url(req, base, sizeof(base));
    snprintf(root, sizeof(root), "%s" API_ROOT, base);
    answer(req, 200,
           json_pack("{s:s,s:s,s:s,s:s,s:[s]}", "title", "Frontier Exchange", "description",
                     "Security-incident sharing under TLP 2.0", "contact",
                     "the program coordinator", "default", root, "api_roots", root));
}

static size_t max_body(const struct fx_req *req)
{
    return req->ctx->taxii_max_body ? req->ctx->taxii_max_body : FX_MAX_TAXII_BODY;
}

void fx_api_taxii_root(struct fx_req *req)
{
    if (!accept_ok(req))
        return;
    answer(req, 200,
           json_pack("{s:s,s:s,s:[s],s:I}", "title", "Frontier Exchange", "description",
                     "Incidents as STIX 2.1, and one collection per organization for its own "
                     "submissions",
                     "versions", FX_TAXII_MEDIA, "max_content_length",
                     (json_int_t)max_body(req)));
}

/* ---- collections ---- */

struct coll {
    const char *org;  /* NULL: the incidents collection */
    char name[FX_MAX_SHORT_STRING + 1];
};

static enum fx_err coll_fn(struct fx_db *db, void *arg)
{
    struct coll *c = arg;
    return fx_taxii_org_collection(db, c->org, c->name, sizeof(c->name));
}

/* Resolves the {collection} segment; answers 404 itself when there is none. */
static bool resolve(struct fx_req *req, struct coll *c)
{
    const char *id = req->params[0];
    memset(c, 0, sizeof(*c));
    if (strcmp(id, FX_TAXII_INCIDENTS_ID) == 0 || strcmp(id, FX_TAXII_INCIDENTS_ALIAS) == 0)
        return true;
    c->org = id;
    enum fx_err err = fx_store_read(req->ctx->store, coll_fn, c);
    if (err == FX_OK)
        return true;
    fx_req_error(req, err, NULL, err == FX_ENOTFOUND ? "no such collection" : NULL);
    return false;
}

static bool can_write(struct fx_req *req, const char *org)
{
    struct fx_subject s = {.kind = FX_REC_COLLECTION, .org_id = org};
    return org && fx_access_check(&req->who, FX_ACT_CREATE, &s) == FX_OK;
}

static json_t *collection_json(struct fx_req *req, const char *org, const char *name)
{
    json_t *o;
    if (org == NULL) {
        o = json_pack("{s:s,s:s,s:s,s:s,s:b,s:b,s:[s]}", "id", FX_TAXII_INCIDENTS_ID, "title",
                      "Incidents", "description",
                      "Every STIX object you may see: incidents reported to FX as STIX bundles, "
                      "and objects organizations posted, each as its TLP marking allows",
                      "alias", FX_TAXII_INCIDENTS_ALIAS, "can_read", 1, "can_write", 0,
                      "media_types", FX_STIX_MEDIA);
    } else {
        char title[FX_MAX_SHORT_STRING + 32];
        snprintf(title, sizeof(title), "%s: submissions", name);
        o = json_pack("{s:s,s:s,s:s,s:b,s:b,s:[s]}", "id", org, "title", title, "description",
                      "STIX objects this organization posted; read as their TLP markings allow",
                      "can_read", 1, "can_write", can_write(req, org), "media_types",
                      FX_STIX_MEDIA);
    }
    if (o == NULL)
        fx_die("json_pack failed");
    return o;
}

static enum fx_err collections_fn(struct fx_db *db, void *arg)
{
    return fx_taxii_org_collections(db, (json_t **)arg);
}

void fx_api_taxii_collections(struct fx_req *req)
{
    if (!accept_ok(req))
        return;
    json_t *orgs = NULL;
    enum fx_err err = fx_store_read(req->ctx->store, collections_fn, &orgs);
    if (err != FX_OK) {
        fx_req_error(req, err, NULL, NULL);
        return;
    }
    json_t *list = json_array();
    json_array_append_new(list, collection_json(req, NULL, NULL));
    size_t i;
    json_t *o;
    json_array_foreach(orgs, i, o)
    {
        json_array_append_new(list,
                              collection_json(req, json_string_value(json_object_get(o, "id")),
                                              json_string_value(json_object_get(o, "name"))));
    }
    json_decref(orgs);
    answer(req, 200, json_pack("{s:o}", "collections", list));
}

void fx_api_taxii_collection(struct fx_req *req)
{
    struct coll c;
    if (!accept_ok(req) || !resolve(req, &c))
        return;
    answer(req, 200, collection_json(req, c.org, c.name));
}

/* ---- filters ---- */

struct page {
    struct fx_req *req;
    struct coll coll;
    struct fx_taxii_query q;
    struct fx_problem pb;
    const char *ids[FX_MAX_TAXII_MATCH], *types[FX_MAX_TAXII_MATCH];
    int64_t ts[FX_MAX_TAXII_MATCH];
    struct fx_incident_shares shares; /* owned: the caller in incidents' sharing lists */
    struct fx_taxii_row *rows; /* owned */
    size_t n;
    bool more;
    struct fx_buf bodies;      /* owned: the objects' bytes, comma-separated */
    size_t audited;            /* rows whose read was audited */
    char *cache_key;           /* arena: the rendered page's key, when it may be cached */
};

static void page_cleanup(struct page *pg)
{
    fx_buf_cleanup(&pg->bodies);
    fx_taxii_rows_free(pg->rows, pg->n);
    fx_incident_shares_cleanup(&pg->shares);
    fx_problem_cleanup(&pg->pb);
}

/* Splits a comma-separated filter value into arena strings; false (and a problem) past the limit. */
static size_t split(struct page *pg, const char *name, const char *v, const char **out)
{
    size_t n = 0;
    for (const char *p = v; p;) {
        const char *comma = strchr(p, ',');
        size_t len = comma ? (size_t)(comma - p) : strlen(p);
        if (n == FX_MAX_TAXII_MATCH) {
            char f[64];
            snprintf(f, sizeof(f), "query:%s", name);
            fx_problem_add(&pg->pb, f, "more than %d values", FX_MAX_TAXII_MATCH);
            return n;
        }
        out[n++] = fx_arena_strndup(&pg->req->arena, p, len);
        p = comma ? comma + 1 : NULL;
    }
    return n;
}

/*
 * TAXII 2.1 §3.4: the filters and pagination of a request. Each endpoint's
 * route (router.c) names those it takes: the server refused any other.
 */
static bool parse_filters(struct page *pg)
{
    struct fx_req *req = pg->req;
    struct fx_taxii_query *q = &pg->q;
    fx_problem_init(&pg->pb);
    q->after = -1;
    q->spec_ok = true;
    q->limit = FX_TAXII_DEFAULT_PAGE;
    const char *v;
    int64_t x;
    if ((v = fx_req_query(req, "limit"))) {
        if (fx_parse_i64(v, strlen(v), 1, INT64_MAX, &x) != FX_OK)
            fx_problem_add(&pg->pb, "query:limit", "must be a positive integer");
        else /* TAXII 2.1 §3.3.1: the server may answer fewer than asked */
            q->limit = x > FX_MAX_TAXII_PAGE ? FX_MAX_TAXII_PAGE : (size_t)x;
    }
    if ((v = fx_req_query(req, "added_after"))) {
        if (fx_stix_parse_timestamp(v, strlen(v), &x) != FX_OK)
            fx_problem_add(&pg->pb, "query:added_after",
                           "must be a UTC timestamp YYYY-MM-DDTHH:MM:SS[.s]Z");
        else
            q->after = x;
    }
    if ((v = fx_req_query(req, "next"))) {
        if (fx_parse_i64(v, strlen(v), 0, INT64_MAX, &x) != FX_OK)
            fx_problem_add(&pg->pb, "query:next", "not a next value this server gave");
        else if (x > q->after)
            q->after = x;
    }
    if ((v = fx_req_query(req, "match[id]"))) {
        q->n_ids = split(pg, "match[id]", v, pg->ids);
        for (size_t i = 0; i < q->n_ids; i++)
            if (!fx_stix_id_valid(pg->ids[i], strlen(pg->ids[i]), NULL))
                fx_problem_add(&pg->pb, "query:match[id]", "'%.80s' is not a STIX id type--UUID",
                               pg->ids[i]);
        q->ids = pg->ids;
    }
    if ((v = fx_req_query(req, "match[type]"))) {
        q->n_types = split(pg, "match[type]", v, pg->types);
        for (size_t i = 0; i < q->n_types; i++)
            if (!fx_stix_type_valid(pg->types[i], strlen(pg->types[i])))
                fx_problem_add(&pg->pb, "query:match[type]", "'%.80s' is not a STIX type",
                               pg->types[i]);
        q->types = pg->types;
    }
    if ((v = fx_req_query(req, "match[version]"))) {
        const char *vals[FX_MAX_TAXII_MATCH];
        size_t n = split(pg, "match[version]", v, vals);
        for (size_t i = 0; i < n; i++) {
            if (strcmp(vals[i], "first") == 0)
                q->v_first = true;
            else if (strcmp(vals[i], "last") == 0)
                q->v_last = true;
            else if (strcmp(vals[i], "all") == 0)
                q->v_all = true;
            else if (fx_stix_parse_timestamp(vals[i], strlen(vals[i]), &pg->ts[q->n_ts]) ==
                     FX_OK)
                q->n_ts++;
            else
                fx_problem_add(&pg->pb, "query:match[version]",
                               "'%.80s' is not first, last, all or a timestamp", vals[i]);
        }
        q->v_ts = pg->ts;
    }
    if ((v = fx_req_query(req, "match[spec_version]"))) {
        const char *vals[FX_MAX_TAXII_MATCH];
        size_t n = split(pg, "match[spec_version]", v, vals);
        q->spec_ok = false;
        for (size_t i = 0; i < n; i++) {
            size_t l = strlen(vals[i]);
            bool form = l >= 3 && l <= 8 && strspn(vals[i], "0123456789.") == l &&
                        vals[i][0] != '.' && strchr(vals[i], '.') != NULL;
            if (!form)
                fx_problem_add(&pg->pb, "query:match[spec_version]",
                               "'%.80s' is not a STIX version such as 2.1", vals[i]);
            q->spec_ok = q->spec_ok || strcmp(vals[i], "2.1") == 0;
        }
    }
    if (fx_problem_any(&pg->pb)) {
        fx_req_problem_fields(req, 400, &pg->pb, "invalid filter or pagination parameters");
        return false;
    }
    return true;
}

/* The gate for one row (SPEC §7 through src/auth/access.c). */
static bool keep_row(const struct fx_taxii_row *r, void *arg)
{
    struct page *pg = arg;
    struct fx_subject s;
    if (r->incident_id[0]) {
        fx_incident_shares_subject(&pg->shares, r->incident_id, r->org_id, r->tlp, &s);
    } else {
        memset(&s, 0, sizeof(s));
        s.kind = FX_REC_STIX;
        s.org_id = r->org_id;
        s.tlp = r->tlp;
    }
    return fx_access_check(&pg->req->who, FX_ACT_READ, &s) == FX_OK;
}

static enum fx_err query_fn(struct fx_db *db, void *arg)
{
    struct page *pg = arg;
    enum fx_err err = FX_OK;
    if (pg->coll.org) {
        err = fx_taxii_org_collection(db, pg->coll.org, pg->coll.name, sizeof(pg->coll.name));
    } else {
        err = fx_incident_shares_load(db, &pg->req->who, &pg->shares);
    }
    if (err == FX_OK)
        err = fx_taxii_query(db, pg->req->ctx->keys, &pg->q, keep_row, pg, &pg->bodies,
                             &pg->rows, &pg->n, &pg->more);
    return err;
}

/*
 * SPEC §10: reads of AMBER, AMBER+STRICT and RED objects by users outside the
 * owning org are audited, durably, before the answer: per incident, or per
 * posted object.
 */
static void audit_page(struct page *pg, const char *action)
{
    struct fx_req *req = pg->req;
    struct fx_audit_target *t = fx_arena_alloc(&req->arena, (pg->n + 1) * sizeof(*t));
    size_t nt = 0;
    for (size_t i = 0; i < pg->n; i++) {
        const struct fx_taxii_row *r = &pg->rows[i];
        bool open = strcmp(r->tlp, "CLEAR") == 0 || strcmp(r->tlp, "GREEN") == 0;
        if (open || !fx_access_is_outside_read(&req->who, r->org_id))
            continue;
        const char *rec = r->incident_id[0] ? r->incident_id : r->id;
        bool seen = false;
        for (size_t k = 0; k < nt && !seen; k++)
            seen = strcmp(t[k].record, rec) == 0;
        if (!seen)
            t[nt++] = (struct fx_audit_target){rec, r->org_id};
    }
    pg->audited = nt;
    fx_req_audit_reads(req, action, t, nt);
}

/* Runs the page's query and its audit; false after answering an error. */
static bool run_page(struct page *pg, const char *action)
{
    enum fx_err err = fx_store_read(pg->req->ctx->store, query_fn, pg);
    if (err != FX_OK) {
        fx_req_error(pg->req, err, NULL, err == FX_ENOTFOUND ? "no such collection" : NULL);
        return false;
    }
    audit_page(pg, action);
    return true;
}

/* TAXII 2.1 §3.3.2: the date_added of the first and last items of the page. */
static void date_headers(struct page *pg)
{
    if (pg->n == 0)
        return;
    char t[28];
    fx_stix_format_us(pg->rows[0].date_added, t);
    fx_req_set_header(pg->req, "X-TAXII-Date-Added-First", t);
    fx_stix_format_us(pg->rows[pg->n - 1].date_added, t);
    fx_req_set_header(pg->req, "X-TAXII-Date-Added-Last", t);
}

static void add_more_next(struct page *pg, struct fx_buf *b)
{
    fx_buf_printf(b, "\"more\":%s", pg->more ? "true" : "false");
    if (pg->more && pg->n > 0)
        fx_buf_printf(b, ",\"next\":\"%lld\"", (long long)pg->rows[pg->n - 1].date_added);
}

/* An envelope of the page's objects, spliced as stored (each one JSON value). */
static void answer_envelope(struct page *pg)
{
    struct fx_buf b;
    fx_buf_init(&b, pg->bodies.len + 128);
    fx_buf_adds(&b, "{");
    add_more_next(pg, &b);
    if (pg->n > 0) {
        fx_buf_adds(&b, ",\"objects\":[");
        fx_buf_add(&b, pg->bodies.p, pg->bodies.len);
        fx_buf_adds(&b, "]");
    }
    fx_buf_adds(&b, "}");
    date_headers(pg);
    answer_buf(pg->req, 200, &b);
    fx_buf_cleanup(&b);
}

static const char *version_of(const struct fx_taxii_row *r, char buf[static 28])
{
    if (r->version[0])
        return r->version;
    fx_stix_format_us(r->date_added, buf); /* objects without created or modified */
    return buf;
}

/* ---- rendered pages ----
 *
 * Clients poll the same pages of a collection again and again. A page of an
 * organization's collection is kept rendered, keyed by the collection's
 * generation (every change moves it, in the change's transaction: a changed
 * collection is never served stale, on any node), the query, and the reader's
 * class. The gate decides on posted objects by their marking, the poster org
 * and whether the reader is of the coordinator (src/auth/access.c, taxii()):
 * poster, coordinator and everyone else are the only classes. Only pages whose
 * reading needed no audit row are kept, so audited reads always reach the
 * store. The incidents collection, whose gate looks at sharing lists per
 * reader, is never kept. Decrypted text stays in process memory only.
 */

struct gen_arg {
    const char *collection;
    int64_t gen;
};

static enum fx_err gen_fn(struct fx_db *db, void *arg)
{
    struct gen_arg *g = arg;
    return fx_taxii_generation(db, g->collection, &g->gen);
}

/* True when the page was answered from the cache; otherwise sets pg->cache_key. */
static bool cached_answer(struct page *pg, char kind)
{
    struct fx_req *req = pg->req;
    const struct fx_taxii_query *q = &pg->q;
    if (pg->coll.org == NULL || req->ctx->taxii_pages == NULL)
        return false;
    struct gen_arg g = {pg->coll.org, 0};
    if (fx_store_read(req->ctx->store, gen_fn, &g) != FX_OK)
        return false;
    char cls = strcmp(req->who.org_id, pg->coll.org) == 0 ? 'p'
               : req->who.kind == FX_ORG_COORDINATOR  ? 'c'
                                                      : 'x';
    struct fx_buf k;
    fx_buf_init(&k, 64 * 1024);
    fx_buf_printf(&k, "taxii|%s|%lld|%c|%c|%lld|%zu|%d%d%d%d|%s|", pg->coll.org, (long long)g.gen,
                  cls, kind, (long long)q->after, q->limit, q->v_first, q->v_last, q->v_all,
                  q->spec_ok, q->object_id ? q->object_id : "");
    for (size_t i = 0; i < q->n_ids; i++)
        fx_buf_printf(&k, "%s,", q->ids[i]);
    fx_buf_adds(&k, "|");
    for (size_t i = 0; i < q->n_types; i++)
        fx_buf_printf(&k, "%s,", q->types[i]);
    fx_buf_adds(&k, "|");
    for (size_t i = 0; i < q->n_ts; i++)
        fx_buf_printf(&k, "%lld,", (long long)q->v_ts[i]);
    pg->cache_key = fx_arena_strdup(&req->arena, k.p ? k.p : "");
    fx_buf_cleanup(&k);
    size_t len = 0;
    char *v = fx_viewcache_get(req->ctx->taxii_pages, pg->cache_key, &len);
    if (v == NULL)
        return false;
    /* "<first>\n<last>\n<body>" */
    char *nl1 = memchr(v, '\n', len);
    char *nl2 = nl1 ? memchr(nl1 + 1, '\n', len - (size_t)(nl1 + 1 - v)) : NULL;
    if (nl2 == NULL) {
        free(v);
        return false;
    }
    *nl1 = *nl2 = '\0';
    if (nl1 > v) {
        fx_req_set_header(req, "X-TAXII-Date-Added-First", v);
        fx_req_set_header(req, "X-TAXII-Date-Added-Last", nl1 + 1);
    }
    fx_req_bytes(req, 200, FX_TAXII_MEDIA, nl2 + 1, len - (size_t)(nl2 + 1 - v));
    free(v);
    return true;
}

/* Keeps the answer just given, when it may be kept (see above). */
static void remember(struct page *pg)
{
    struct fx_req *req = pg->req;
    if (pg->cache_key == NULL || pg->audited > 0 || req->status != 200 ||
        req->resp_len > FX_TAXII_PAGE_CACHE_MAX)
        return;
    char first[28] = "", last[28] = "";
    if (pg->n > 0) {
        fx_stix_format_us(pg->rows[0].date_added, first);
        fx_stix_format_us(pg->rows[pg->n - 1].date_added, last);
    }
    struct fx_buf v;
    fx_buf_init(&v, FX_TAXII_PAGE_CACHE_MAX + 128);
    fx_buf_printf(&v, "%s\n%s\n", first, last);
    if (fx_buf_add(&v, req->resp, req->resp_len) == FX_OK)
        fx_viewcache_put(req->ctx->taxii_pages, pg->cache_key, v.p, v.len);
    fx_buf_cleanup(&v);
}

/* ---- objects, manifest ---- */

static bool begin(struct page *pg, struct fx_req *req)
{
    memset(pg, 0, sizeof(*pg));
    pg->req = req;
    fx_buf_init(&pg->bodies, (size_t)FX_MAX_TAXII_PAGE * FX_MAX_TAXII_BODY_CEILING);
    if (!accept_ok(req) || !parse_filters(pg) || !resolve(req, &pg->coll))
        return false;
    pg->q.collection = pg->coll.org;
    return true;
}

void fx_api_taxii_objects(struct fx_req *req)
{
    struct page pg;
    if (begin(&pg, req)) {
        pg.q.bodies = true;
        if (!cached_answer(&pg, 'o') && run_page(&pg, "taxii.read")) {
            answer_envelope(&pg);
            remember(&pg);
        }
    }
    page_cleanup(&pg);
}

void fx_api_taxii_manifest(struct fx_req *req)
{
    struct page pg;
    if (begin(&pg, req) && !cached_answer(&pg, 'm') && run_page(&pg, "taxii.manifest")) {
        json_t *items = json_array();
        for (size_t i = 0; i < pg.n; i++) {
            char added[28], v[28];
            fx_stix_format_us(pg.rows[i].date_added, added);
            json_array_append_new(items, json_pack("{s:s,s:s,s:s,s:s}", "id", pg.rows[i].id,
                                                   "date_added", added, "version",
                                                   version_of(&pg.rows[i], v), "media_type",
                                                   FX_STIX_MEDIA));
        }
        json_t *o = json_pack("{s:b}", "more", pg.more);
        if (pg.more && pg.n > 0)
            json_object_set_new(o, "next", json_sprintf("%lld",
                                                        (long long)pg.rows[pg.n - 1].date_added));
        if (pg.n > 0)
            json_object_set_new(o, "objects", items);
        else
            json_decref(items);
        date_headers(&pg);
        answer(req, 200, o);
        remember(&pg);
    }
    page_cleanup(&pg);
}

/* The {object} segment: a STIX id, or 404 (it can name nothing here). */
static bool object_id(struct page *pg)
{
    const char *id = pg->req->params[1];
    if (!fx_stix_id_valid(id, strlen(id), NULL)) {
        fx_req_problem(pg->req, 404, "no such object");
        return false;
    }
    pg->q.object_id = id;
    return true;
}

void fx_api_taxii_object(struct fx_req *req)
{
    struct page pg;
    if (begin(&pg, req) && object_id(&pg)) {
        pg.q.bodies = true;
        if (run_page(&pg, "taxii.read")) {
            if (pg.n == 0 && pg.q.after < 0)
                fx_req_problem(req, 404, "no such object in this collection");
            else
                answer_envelope(&pg);
        }
    }
    page_cleanup(&pg);
}

void fx_api_taxii_versions(struct fx_req *req)
{
    struct page pg;
    if (begin(&pg, req) && object_id(&pg)) {
        pg.q.v_all = true;
        if (run_page(&pg, "taxii.versions")) {
            if (pg.n == 0 && pg.q.after < 0) {
                fx_req_problem(req, 404, "no such object in this collection");
            } else {
                json_t *vs = json_array();
                for (size_t i = 0; i < pg.n; i++) {
                    char v[28];
                    json_array_append_new(vs, json_string(version_of(&pg.rows[i], v)));
                }
                json_t *o = json_pack("{s:b}", "more", pg.more);
                if (pg.more && pg.n > 0)
                    json_object_set_new(
                        o, "next", json_sprintf("%lld", (long long)pg.rows[pg.n - 1].date_added));
                if (pg.n > 0)
                    json_object_set_new(o, "versions", vs);
                else
                    json_decref(vs);
                date_headers(&pg);
                answer(req, 200, o);
            }
        }
    }
    page_cleanup(&pg);
}

/* ---- delete ---- */

struct del {
    struct page *pg;
    size_t n;
};

static enum fx_err delete_fn(struct fx_db *db, void *arg)
{
    struct del *d = arg;
    struct page *pg = d->pg;
    enum fx_err err = fx_taxii_delete(db, pg->coll.org, pg->q.object_id, &pg->q, &d->n);
    if (err == FX_OK && d->n == 0)
        err = FX_ENOTFOUND;
    if (err == FX_OK)
        err = fx_audit_write(db, fx_clock_now(&pg->req->ctx->clock), &pg->req->who,
                             "taxii.delete", pg->q.object_id, pg->coll.org, "ok");
    return err;
}

void fx_api_taxii_delete(struct fx_req *req)
{
    struct page pg;
    if (begin(&pg, req) && object_id(&pg)) {
        req->audit_record = fx_arena_strdup(&req->arena, pg.q.object_id);
        struct fx_subject s = {.kind = FX_REC_COLLECTION, .org_id = pg.coll.org};
        if (pg.coll.org == NULL) {
            fx_req_problem(req, 403, "the incidents collection is read-only: FX fills it from "
                                     "incidents");
        } else if (fx_access_check(&req->who, FX_ACT_EDIT, &s) != FX_OK) {
            fx_req_problem(req, 403, "only the organization's members and admins delete from "
                                     "its collection");
        } else {
            if (!pg.q.v_first && !pg.q.v_last && pg.q.n_ts == 0)
                pg.q.v_all = true; /* TAXII 2.1 §5.7: no match[version] deletes every version */
            struct del d = {&pg, 0};
            enum fx_err err = fx_store_write(req->ctx->store, delete_fn, &d);
            if (err == FX_OK) {
                req->status = 200;
                req->resp_len = 0;
                req->content_type = FX_TAXII_MEDIA;
            } else {
                fx_req_error(req, err, NULL,
                             err == FX_ENOTFOUND ? "no such object in this collection" : NULL);
            }
        }
    }
    page_cleanup(&pg);
}

/* ---- add objects ---- */

struct ingest {
    struct fx_req *req;
    const char *collection;
    struct fx_taxii_put *puts; /* owned */
    size_t n, cap;
    json_t *failures;          /* owned: status-details */
    size_t total;
    struct fx_buf status_text; /* owned: the answer */
    struct fx_stix_checker *checker; /* owned: the scanner's reusable scratch */
    char status_id[37];
    int64_t received;              /* ms: the leaves' time */
    /* one ledger leaf per put (SPEC §9), prepared before the write transaction */
    struct fx_leaf *leaves;        /* owned array of n; borrows puts' ids and hex[] */
    char (*hex)[65];               /* owned: each put's content SHA-256, hex */
    struct fx_tlog_ready *ready;   /* owned: each leaf's bytes and hash */
    struct fx_tlog_ready *stored;  /* owned scratch: the ready leaves of stored puts (borrowed) */
    uint64_t tree_size;            /* the log's size after the envelope's leaves */
    size_t n_leaves;               /* leaves appended: the last n_leaves below tree_size */
    char note[FX_CHECKPOINT_MAX_NOTE]; /* the signed checkpoint of tree_size */
    size_t note_len;
};

/*
 * TAXII 2.1 status-details: {id, version, message}. The id and version are
 * what the checker could read, else what a shallow look at the bytes finds.
 */
static void fail_object(struct ingest *in, const char *p, size_t len,
                        const struct fx_stix_summary *sum, const char *msg)
{
    json_t *idj = sum->id[0] ? json_string(sum->id) : NULL;
    json_t *vj = sum->version[0] ? json_string(sum->version) : NULL;
    const char *v = NULL;
    size_t vl = 0;
    if (idj == NULL && fx_stix_shallow_string(p, len, "id", &v, &vl))
        idj = json_stringn(v, vl);
    if (vj == NULL && (fx_stix_shallow_string(p, len, "modified", &v, &vl) ||
                       fx_stix_shallow_string(p, len, "created", &v, &vl)))
        vj = json_stringn(v, vl);
    json_array_append_new(in->failures,
                          json_pack("{s:o,s:o,s:s}", "id", idj ? idj : json_string(""), "version",
                                    vj ? vj : json_string(""), "message", msg));
}

static enum fx_err on_object(const char *p, size_t len, size_t index, void *arg)
{
    struct ingest *in = arg;
    struct fx_problem pb;
    struct fx_stix_summary sum;
    in->total++;
    fx_problem_init(&pb);
    if (fx_stix_check(in->checker, p, len, &pb, &sum) != FX_OK) {
        struct fx_buf b;
        fx_buf_init(&b, 4096);
        bool json = pb.n == 1 && pb.errors[0].field[0] == '\0';
        fx_buf_printf(&b, json ? "object %zu:" : "object %zu is not valid STIX 2.1:", index);
        for (size_t i = 0; i < pb.n; i++)
            fx_buf_printf(&b, "%s %s%s%s", i ? ";" : "", pb.errors[i].field,
                          pb.errors[i].field[0] ? ": " : "", pb.errors[i].message);
        fail_object(in, p, len, &sum, b.p ? b.p : "invalid");
        fx_buf_cleanup(&b);
    } else {
        if (in->n == in->cap) {
            in->cap = in->cap ? in->cap * 2 : 64;
            in->puts = fx_xrealloc(in->puts, in->cap * sizeof(*in->puts));
        }
        struct fx_taxii_put *put = &in->puts[in->n++];
        memset(put, 0, sizeof(*put));
        put->id = fx_xstrdup(sum.id);
        put->type = fx_xstrdup(sum.type);
        put->version = sum.version[0] ? fx_xstrdup(sum.version) : NULL;
        put->version_us = sum.version[0] ? sum.version_us : 0;
        put->tlp = sum.tlp; /* SPEC §8: unmarked objects are AMBER for the posting org */
        /* kept as posted: the bytes checked as one JSON value, and TAXII serves them back */
        put->bytes = fx_xstrndup(p, len);
        put->len = len;
    }
    fx_problem_cleanup(&pb);
    return FX_OK;
}

/*
 * SPEC §9: each object version stored is a leaf {kind "stix_object", record_id
 * its STIX id, version the version TAXII names it by (its modified, else
 * created, in microseconds; date_added for objects with neither, set in the
 * write), content_sha256 of the exact bytes TAXII serves for it (the bytes as
 * posted), org the posting org, time of receipt}. Never any content. Bytes and
 * hashes are made here, outside the write transaction, where checking runs.
 */
static void prepare_leaves(struct ingest *in)
{
    size_t n = in->n ? in->n : 1;
    in->leaves = fx_xcalloc(n, sizeof(*in->leaves));
    in->hex = fx_xcalloc(n, sizeof(*in->hex));
    in->ready = fx_xcalloc(n, sizeof(*in->ready));
    in->stored = fx_xcalloc(n, sizeof(*in->stored));
    for (size_t i = 0; i < in->n; i++) {
        const struct fx_taxii_put *p = &in->puts[i];
        /* the CPU's SHA instructions: every object is hashed */
        fx_digest_sha256_hex(p->bytes, p->len, in->hex[i]);
        in->leaves[i] = (struct fx_leaf){"stix_object", p->id, p->version_us, in->hex[i],
                                         in->req->who.org_id, in->received};
        if (p->version != NULL)
            fx_tlog_prepare(&in->leaves[i], &in->ready[i]);
    }
}

/* Appends the leaves of the puts stored (not the duplicates), in order: one checkpoint. */
static enum fx_err append_leaves(struct fx_db *db, struct ingest *in)
{
    size_t m = 0;
    in->n_leaves = 0;
    for (size_t i = 0; i < in->n; i++) {
        if (in->puts[i].duplicate)
            continue;
        if (in->puts[i].version == NULL) {
            /* TAXII names it by its date_added, known only now (again on a retry) */
            in->leaves[i].version = in->puts[i].date_added;
            fx_tlog_ready_cleanup(&in->ready[i]);
            fx_tlog_prepare(&in->leaves[i], &in->ready[i]);
        }
        in->stored[m++] = in->ready[i];
    }
    if (m == 0)
        return FX_OK;
    enum fx_err err = fx_tlog_append_ready(db, in->req->ctx->signer, in->stored, m,
                                           &in->tree_size, in->note, sizeof(in->note),
                                           &in->note_len);
    if (err == FX_OK)
        in->n_leaves = m;
    return err;
}

static enum fx_err seal_fn(struct fx_db *db, void *arg)
{
    struct ingest *in = arg;
    return fx_taxii_seal(db, in->req->ctx->keys, in->req->who.org_id, in->collection, in->puts,
                         in->n);
}

static enum fx_err store_fn(struct fx_db *db, void *arg)
{
    struct ingest *in = arg;
    struct fx_req *req = in->req;
    int64_t now = fx_clock_now(&req->ctx->clock);
    fx_buf_reset(&in->status_text);
    enum fx_err err = fx_taxii_store(db, in->collection, req->who.org_id, NULL, now * 1000,
                                     in->puts, in->n);
    if (err == FX_OK)
        err = append_leaves(db, in);
    if (err != FX_OK)
        return err;
    /*
     * The status as text, written directly: a thousand successes through jansson
     * cost more than storing them. Ids and versions passed fx_stix_check (STIX
     * ids and timestamps: nothing to escape); failures may hold anything and go
     * through jansson.
     */
    char t[28];
    fx_stix_format_us(now * 1000, t);
    size_t nf = json_array_size(in->failures);
    struct fx_buf *b = &in->status_text;
    uint64_t leaf = in->tree_size - in->n_leaves;
    fx_buf_printf(b, "{\"id\":\"%s\",\"status\":\"complete\",\"request_timestamp\":\"%s\","
                     "\"total_count\":%zu,\"success_count\":%zu,\"failure_count\":%zu,"
                     "\"pending_count\":0",
                  in->status_id, t, in->total, in->n, nf);
    for (size_t i = 0; i < in->n; i++) {
        char v[28];
        const char *ver = in->puts[i].version;
        if (ver == NULL) {
            fx_stix_format_us(in->puts[i].date_added, v);
            ver = v;
        }
        fx_buf_adds(b, i ? ",{\"id\":\"" : ",\"successes\":[{\"id\":\"");
        fx_buf_adds(b, in->puts[i].id);
        fx_buf_adds(b, "\",\"version\":\"");
        fx_buf_adds(b, ver);
        if (in->puts[i].duplicate)
            fx_buf_adds(b, "\",\"message\":\"already in the collection\"}");
        else
            fx_buf_printf(b, "\",\"x_fx_leaf_index\":%llu}", (unsigned long long)leaf++);
    }
    if (in->n > 0)
        fx_buf_adds(b, "]");
    if (nf > 0) {
        char *f = json_dumps(in->failures, JSON_COMPACT);
        if (f == NULL)
            fx_die("json_dumps failed");
        fx_buf_adds(b, ",\"failures\":");
        fx_buf_adds(b, f);
        free(f);
    }
    if (in->n_leaves > 0) {
        /* the proof's anchor: GET /api/v1/ledger/proof/inclusion?index=&size=tree_size */
        json_t *note = json_stringn(in->note, in->note_len);
        char *nj = json_dumps(note, JSON_ENCODE_ANY);
        if (nj == NULL)
            fx_die("json_dumps failed");
        fx_buf_printf(b, ",\"x_fx_ledger\":{\"tree_size\":%llu,\"checkpoint\":%s}",
                      (unsigned long long)in->tree_size, nj);
        free(nj);
        json_decref(note);
    }
    if (fx_buf_adds(b, "}") != FX_OK)
        return FX_ETOOBIG;
    err = fx_taxii_status_put(db, req->ctx->keys, in->status_id, req->who.org_id,
                              req->who.user_id, now, b->p, b->len);
    if (err == FX_OK)
        err = fx_audit_write(db, now, &req->who, "taxii.add", in->status_id, in->collection,
                             "ok");
    return err;
}

static bool content_type_ok(struct fx_req *req)
{
    const char *ct = fx_req_header(req, "Content-Type");
    if (ct && media_is(ct, strlen(ct), "application/taxii+json"))
        return true;
    fx_req_problem(req, 415, "send the envelope as Content-Type: "
                             "application/taxii+json;version=2.1");
    return false;
}

void fx_api_taxii_add(struct fx_req *req)
{
    struct coll c;
    struct ingest in;
    memset(&in, 0, sizeof(in));
    if (!accept_ok(req) || !resolve(req, &c) || !content_type_ok(req))
        return;
    if (c.org == NULL) {
        fx_req_problem(req, 403, "the incidents collection is read-only: report incidents "
                                 "through /api/v1/incidents, post objects to your "
                                 "organization's collection");
        return;
    }
    if (!can_write(req, c.org)) {
        fx_req_problem(req, 403, "only members and admins of the organization add objects to "
                                 "its collection");
        return;
    }
    in.req = req;
    in.collection = c.org;
    in.failures = json_array();
    in.checker = fx_stix_checker_new();
    fx_buf_init(&in.status_text, FX_MAX_TAXII_BODY_CEILING);
    in.received = fx_clock_now(&req->ctx->clock);
    fx_uuid_v7(in.received, in.status_id);
    char msg[256];
    /* checking and sealing are the CPU's work: as many at once as leaves the writer a core */
    while (sem_wait(&req->ctx->taxii_checkers) != 0)
        ;
    enum fx_err err = fx_stix_envelope_each(req->body.p ? req->body.p : "", req->body.len,
                                            FX_MAX_TAXII_OBJECTS, on_object, &in, msg,
                                            sizeof(msg));
    if (err == FX_OK)
        err = fx_store_read(req->ctx->store, seal_fn, &in);
    if (err == FX_OK)
        prepare_leaves(&in);
    sem_post(&req->ctx->taxii_checkers);
    if (err == FX_ETOOBIG) {
        fx_req_problem(req, 413, msg);
        goto out;
    }
    if (err == FX_EINVAL) {
        fx_req_problem(req, 400, msg);
        goto out;
    }
    if (err == FX_OK)
        err = fx_store_write(req->ctx->store, store_fn, &in);
    if (err != FX_OK) {
        fx_req_error(req, err, NULL, NULL);
        goto out;
    }
    atomic_fetch_add(&req->ctx->metrics.writes, 1);
    answer_buf(req, 202, &in.status_text);
out:
    for (size_t i = 0; in.ready && i < in.n; i++)
        fx_tlog_ready_cleanup(&in.ready[i]);
    free(in.ready);
    free(in.stored);
    free(in.leaves);
    free(in.hex);
    for (size_t i = 0; i < in.n; i++)
        fx_taxii_put_cleanup(&in.puts[i]);
    free(in.puts);
    json_decref(in.failures);
    fx_buf_cleanup(&in.status_text);
    fx_stix_checker_free(in.checker);
}

/* ---- status ---- */

struct status_arg {
    struct fx_keyring *keys;
    const char *id;
    char org[37];
    char *out;  /* owned: the status as stored */
    size_t len;
};

static enum fx_err status_fn(struct fx_db *db, void *arg)
{
    struct status_arg *s = arg;
    return fx_taxii_status_get(db, s->keys, s->id, s->org, &s->out, &s->len);
}

void fx_api_taxii_status(struct fx_req *req)
{
    if (!accept_ok(req))
        return;
    struct status_arg s = {.keys = req->ctx->keys, .id = req->params[0]};
    if (!fx_uuid_valid(s.id, strlen(s.id))) {
        fx_req_problem(req, 404, "no such status");
        return;
    }
    enum fx_err err = fx_store_read(req->ctx->store, status_fn, &s);
    struct fx_subject sub = {.kind = FX_REC_TAXII_STATUS, .org_id = s.org};
    if (err == FX_OK)
        err = fx_access_check(&req->who, FX_ACT_READ, &sub);
    if (err != FX_OK) {
        free(s.out);
        fx_req_error(req, err, NULL, err == FX_ENOTFOUND ? "no such status" : NULL);
        return;
    }
    free(req->resp);
    req->resp = s.out;
    req->resp_len = s.len;
    req->status = 200;
    req->content_type = FX_TAXII_MEDIA;
}
