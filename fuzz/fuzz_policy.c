/*
 * fuzz_policy.c: a policy document (SPEC §4), as `fxd policy apply` and
 * PUT /api/v1/policy receive it.
 *
 * Invariants:
 *  - refused: at least one error, no document kept;
 *  - accepted: the figures are in their ranges, the version is 64 lowercase hex
 *    digits, and parsing the canonical bytes again gives FX_OK, the same
 *    version (SHA-256) and the same figures, as loading the stored policy does.
 */
#include "fuzz.h"

#include "common/json.h"
#include "policy/policy.h"

#include <sodium.h>
#include <string.h>

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    FUZZ_CHECK(sodium_init() >= 0);
    return 0;
}

static void check_accepted(const struct fx_policy *pol)
{
    FUZZ_CHECK(json_is_object(pol->doc));
    FUZZ_CHECK(strlen(pol->sha256) == 64);
    for (size_t i = 0; i < 64; i++)
        FUZZ_CHECK((pol->sha256[i] >= '0' && pol->sha256[i] <= '9') ||
                   (pol->sha256[i] >= 'a' && pol->sha256[i] <= 'f'));
    FUZZ_CHECK(pol->name[0] != '\0');
    FUZZ_CHECK(pol->min_notice_days >= 0 && pol->min_notice_days <= 3650);
    FUZZ_CHECK(pol->access_window_days >= 1 && pol->access_window_days <= 3650);
    FUZZ_CHECK(pol->incident_report_hours >= 1 && pol->incident_report_hours <= 24 * 365);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fx_policy pol, again;
    struct fx_problem pb;
    fx_problem_init(&pb);
    enum fx_err err = fx_policy_parse((const char *)data, size, &pol, &pb);
    if (err != FX_OK) {
        FUZZ_CHECK(err == FX_EINVAL);
        FUZZ_CHECK(pb.n >= 1);
        FUZZ_CHECK(pol.doc == NULL);
        fx_problem_cleanup(&pb);
        return 0;
    }
    FUZZ_CHECK(pb.n == 0);
    check_accepted(&pol);

    size_t clen = 0;
    char *canon = fx_json_canonical(pol.doc, &clen);
    struct fx_problem pb2;
    fx_problem_init(&pb2);
    FUZZ_CHECK(fx_policy_parse(canon, clen, &again, &pb2) == FX_OK);
    FUZZ_CHECK(pb2.n == 0);
    FUZZ_CHECK(strcmp(pol.sha256, again.sha256) == 0);
    FUZZ_CHECK(strcmp(pol.name, again.name) == 0);
    FUZZ_CHECK(pol.min_notice_days == again.min_notice_days);
    FUZZ_CHECK(pol.access_window_days == again.access_window_days);
    FUZZ_CHECK(pol.incident_report_hours == again.incident_report_hours);
    char *canon2 = fx_json_canonical(again.doc, NULL);
    FUZZ_CHECK(strcmp(canon, canon2) == 0);

    free(canon2);
    free(canon);
    fx_policy_cleanup(&again);
    fx_policy_cleanup(&pol);
    fx_problem_cleanup(&pb2);
    fx_problem_cleanup(&pb);
    return 0;
}
