/*
 * fuzz_stix.c: a TAXII envelope as POST /taxii2/.../objects/ receives it: the
 * envelope walker, then each object parsed and validated as STIX 2.1
 * (src/taxii/stix.h), with the shallow id lookup used to name objects that do
 * not parse, and the timestamp parser on every string the walker hands out.
 *
 * Invariants:
 *  - the walker answers FX_OK, FX_EINVAL (with a message) or FX_ETOOBIG, and
 *    hands out slices inside the input, in order, never more than the limit;
 *  - the checker's JSON scanner accepts exactly what the API's parser accepts;
 *  - a slice that validates yields an id of the form type--UUID whose type is
 *    the object's type, a TLP level in range, and, when it has a version, a
 *    timestamp that parses to the same value;
 *  - a refused object has at least one problem;
 *  - fx_stix_shallow_string returns a range inside the slice;
 *  - a timestamp that parses formats to one that parses to the same value.
 */
#include "fuzz.h"

#include "common/json.h"
#include "common/limits.h"
#include "taxii/stix.h"

#include <string.h>

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    return 0;
}

struct walk {
    struct fx_stix_checker *checker;
    const char *base;
    size_t len;
    const char *last_end;
    size_t count;
};

static void check_ts(const char *p, size_t n)
{
    int64_t us = 0, back = 0;
    if (fx_stix_parse_timestamp(p, n, &us) != FX_OK)
        return;
    char out[28];
    fx_stix_format_us(us, out);
    FUZZ_CHECK(fx_stix_parse_timestamp(out, strlen(out), &back) == FX_OK);
    FUZZ_CHECK(back == us);
}

static enum fx_err on_object(const char *p, size_t n, size_t index, void *arg)
{
    struct walk *w = arg;
    FUZZ_CHECK(p >= w->base && p + n <= w->base + w->len);
    FUZZ_CHECK(p >= w->last_end);
    FUZZ_CHECK(index == w->count);
    w->last_end = p + n;
    w->count++;
    const char *v = NULL;
    size_t vl = 0;
    if (fx_stix_shallow_string(p, n, "id", &v, &vl))
        FUZZ_CHECK(v >= p && v + vl <= p + n);
    if (fx_stix_shallow_string(p, n, "modified", &v, &vl))
        check_ts(v, vl);
    struct fx_problem pb;
    struct fx_stix_summary sum;
    fx_problem_init(&pb);
    enum fx_err err = fx_stix_check(w->checker, p, n, &pb, &sum);
    FUZZ_CHECK(err == FX_OK || err == FX_EINVAL);
    FUZZ_CHECK(strlen(sum.id) < sizeof(sum.id) && strlen(sum.type) < sizeof(sum.type));
    /* the scanner agrees with the API's parser on what is JSON */
    json_t *o = NULL;
    char msg[256];
    bool parses = fx_json_parse(p, n, &o, msg, sizeof(msg)) == FX_OK;
    bool scanned = !(pb.n == 1 && pb.errors[0].field[0] == '\0' &&
                     strncmp(pb.errors[0].message, "not valid JSON", 14) == 0);
    size_t lead = 0;
    while (lead < n && strchr(" \t\r\n", p[lead]) != NULL && p[lead] != '\0')
        lead++;
    bool container = lead < n && (p[lead] == '{' || p[lead] == '[');
    if (container) /* jansson takes only arrays and objects at the top */
        FUZZ_CHECK(parses == scanned);
    else
        FUZZ_CHECK(!parses);
    json_decref(o);
    if (err == FX_OK) {
        FUZZ_CHECK(pb.n == 0);
        FUZZ_CHECK(fx_stix_id_valid(sum.id, strlen(sum.id), sum.type));
        FUZZ_CHECK((unsigned)sum.tlp < FX_TLP_COUNT);
        if (sum.version[0]) {
            int64_t us = 0;
            FUZZ_CHECK(fx_stix_parse_timestamp(sum.version, strlen(sum.version), &us) == FX_OK);
            FUZZ_CHECK(us == sum.version_us);
        }
    } else {
        FUZZ_CHECK(pb.n > 0 || pb.truncated);
    }
    fx_problem_cleanup(&pb);
    return FX_OK;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *p = (const char *)data;
    struct fx_stix_checker *c = fx_stix_checker_new();
    struct walk w = {c, p, size, p, 0};
    char msg[256] = "";
    enum fx_err err = fx_stix_envelope_each(p, size, 64, on_object, &w, msg, sizeof(msg));
    FUZZ_CHECK(err == FX_OK || err == FX_EINVAL || err == FX_ETOOBIG);
    if (err != FX_OK)
        FUZZ_CHECK(msg[0] != '\0');
    FUZZ_CHECK(w.count <= 64);
    /* the whole input as one object, and as a timestamp */
    struct walk one = {c, p, size, p, 0};
    on_object(p, size, 0, &one);
    check_ts(p, size);
    fx_stix_checker_free(c);
    return 0;
}
