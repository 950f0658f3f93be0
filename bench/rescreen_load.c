/*
 * rescreen_load.c: fills a data directory made by `fxd init` with N submitted,
 * screened notices for bench/rescreen.sh. It goes through the records layer
 * (fx_notice_create with submit, fx_screening_record), as POST /api/v1/notices
 * with "submit": true does, but commits BATCH notices per transaction, so that
 * loading 100,000 notices takes seconds rather than the minutes of one durable
 * request each. The notices vary, deterministically, in training compute, cyber
 * evaluation scores and notice period, so that a new policy changes some of
 * their screenings and short-notice flags. Prints figures; not a test.
 *
 *   rescreen_load --data DIR [--notices N] [--batch B]
 */
#include "common/clock.h"
#include "common/fx.h"
#include "common/parse.h"
#include "crypto/keyring.h"
#include "ledger/signer.h"
#include "policy/policy.h"
#include "records/notice.h"
#include "records/org.h"
#include "records/screening.h"
#include "store/store.h"

#include <jansson.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct load {
    struct fx_keyring *kr;
    struct fx_signer *sg;
    struct fx_principal who;
    long next, n, batch;
    json_t *receipts;
};

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void die(const char *what, enum fx_err err)
{
    fprintf(stderr, "rescreen_load: %s: %s\n", what, fx_err_str(err));
    exit(1);
}

static enum fx_err setup_fn(struct fx_db *db, void *arg)
{
    struct load *l = arg;
    json_t *org = NULL, *user = NULL;
    int64_t now = fx_clock_now(NULL);
    struct fx_org_input oi = {.name = "Bench Lab", .kind = "developer"};
    enum fx_err err = fx_org_create(db, l->kr, now, &oi, &org);
    struct fx_user_input ui = {.email = "bench@lab.invalid", .name = "Bench", .role = "member"};
    if (err == FX_OK)
        err = fx_user_create(db, now, json_string_value(json_object_get(org, "id")), &ui, &user);
    if (err == FX_OK) {
        snprintf(l->who.org_id, sizeof(l->who.org_id), "%s",
                 json_string_value(json_object_get(org, "id")));
        snprintf(l->who.user_id, sizeof(l->who.user_id), "%s",
                 json_string_value(json_object_get(user, "id")));
        l->who.kind = FX_ORG_DEVELOPER;
        l->who.role = FX_ROLE_MEMBER;
    }
    json_decref(org);
    json_decref(user);
    return err;
}

/* Notice i: about a quarter covered by compute, some by cyber scores, release 20-400 days out. */
static json_t *notice_of(long i, int64_t today, int64_t *release)
{
    unsigned long long x = (unsigned long long)i * 0x9e3779b97f4a7c15ull + 7;
    double flop = 1e24 * (double)(1 + (x >> 7) % 400);        /* 1e24 .. 4e26 */
    double cyber = (double)((x >> 17) % 100) / 100.0;          /* 0.00 .. 0.99 */
    double range = (double)((x >> 29) % 100) / 100.0;
    *release = today + 20 + (int64_t)((x >> 37) % 380);
    char date[11], model[32];
    fx_format_date(*release, date);
    snprintf(model, sizeof(model), "Bench-%ld", i);
    return json_pack("{s:s,s:s,s:s,s:s,s:f,s:I,s:[s,s],s:[s],s:[{s:s,s:s,s:f,s:f},{s:s,s:s,s:f,"
                     "s:f}],s:s,s:{s:s,s:s}}",
                     "model_name", model, "model_version", "1.0", "planned_release_date", date,
                     "description", "A frontier model made up for the re-screening benchmark.",
                     "training_compute_flop", flop, "parameter_count", (json_int_t)4e11,
                     "modalities", "text", "code", "release_channels", "api", "evaluations",
                     "domain", "cyber", "benchmark", "cybench", "score", cyber, "max_score", 1.0,
                     "domain", "cyber", "benchmark", "cyber-range", "score", range, "max_score",
                     1.0, "safeguards", "Staged rollout.", "contact", "name", "Pat",
                     "email", "pat@lab.invalid");
}

static enum fx_err batch_fn(struct fx_db *db, void *arg)
{
    struct load *l = arg;
    struct fx_policy pol;
    enum fx_err err = fx_policy_load_active(db, &pol);
    if (err != FX_OK)
        return err;
    struct fx_notice_env env = {.keys = l->kr, .signer = l->sg, .who = &l->who,
                                .now = fx_clock_now(NULL), .receipts = l->receipts};
    env.today = env.now / 86400000;
    for (long k = 0; k < l->batch && l->next < l->n && err == FX_OK; k++, l->next++) {
        int64_t release;
        json_t *fields = notice_of(l->next, env.today, &release);
        struct fx_notice_row row;
        err = fx_notice_create(db, &env, fields, &release, true, &pol, &row);
        if (err == FX_OK)
            err = fx_screening_record(db, &env, &row, fields, &pol, "submission");
        json_decref(fields);
        json_array_clear(l->receipts);
    }
    fx_policy_cleanup(&pol);
    return err;
}

int main(int argc, char **argv)
{
    const char *data = NULL;
    struct load l = {.n = 100000, .batch = 2000};
    for (int i = 1; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--data") == 0)
            data = argv[i + 1];
        else if (strcmp(argv[i], "--notices") == 0)
            l.n = strtol(argv[i + 1], NULL, 10);
        else if (strcmp(argv[i], "--batch") == 0)
            l.batch = strtol(argv[i + 1], NULL, 10);
    }
    if (data == NULL || l.n <= 0 || l.batch <= 0) {
        fprintf(stderr, "usage: rescreen_load --data DIR [--notices N] [--batch B]\n");
        return 2;
    }
    if (sodium_init() < 0)
        die("sodium_init", FX_ECRYPTO);
    char mk[4096], lk[4096];
    snprintf(mk, sizeof(mk), "%s/master.key", data);
    snprintf(lk, sizeof(lk), "%s/ledger.key", data);
    struct fx_store *store = NULL;
    enum fx_err err = fx_keyring_load(mk, &l.kr);
    if (err == FX_OK)
        err = fx_signer_load(lk, FX_LEDGER_DEFAULT_ORIGIN, &l.sg);
    if (err == FX_OK)
        err = fx_store_open(NULL, data, &store);
    if (err == FX_OK)
        err = fx_store_write(store, setup_fn, &l);
    if (err != FX_OK)
        die("set-up", err);
    l.receipts = json_array();
    double t0 = now_s();
    while (l.next < l.n) {
        err = fx_store_write(store, batch_fn, &l);
        if (err != FX_OK)
            die("loading notices", err);
    }
    double t = now_s() - t0;
    printf("loaded %ld submitted notices in %.1f s (%.0f/s, %ld per transaction)\n", l.n, t,
           (double)l.n / t, l.batch);
    json_decref(l.receipts);
    fx_store_close(store);
    fx_signer_free(l.sg);
    fx_keyring_free(l.kr);
    return 0;
}
