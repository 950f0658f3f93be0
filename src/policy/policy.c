/*
 * policy.c: parsing and storing policy documents. Rule evaluation lives in
 * screen.c; here a rule is checked for shape only, so that a bad policy is
 * refused whole, with every problem listed.
 */
#include "policy/policy.h"
#include "common/json.h"
#include "common/limits.h"
#include "common/parse.h"

#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>

const char fx_policy_default[] =
    "{\"name\": \"draft-order-2026\", \"min_notice_days\": 90, \"access_window_days\": 30,"
    " \"incident_report_hours\": 72, \"covered_if_any\": ["
    " {\"id\": \"compute\", \"field\": \"training_compute_flop\", \"op\": \">=\", \"value\": 1e26},"
    " {\"id\": \"cyber-eval\", \"eval_domain\": \"cyber\", \"benchmark\": \"cybench\","
    " \"metric\": \"score_ratio\", \"op\": \">=\", \"value\": 0.5}]}";

static const char *const top_fields[] = {"name", "min_notice_days", "access_window_days",
                                         "incident_report_hours", "covered_if_any", NULL};
static const char *const rule_fields[] = {"id", "field", "eval_domain", "benchmark", "metric",
                                          "op", "value", "all", "any", NULL};
static const char *const ops[] = {">=", ">", "<=", "<", "==", "!=", NULL};
static const char *const numeric_fields[] = {"training_compute_flop", "parameter_count", NULL};
static const char *const metrics[] = {"score", "score_ratio", NULL};
static const char *const domains[] = {"cyber", "bio", "chem", "nuclear", "radiological",
                                      "autonomy", "persuasion", "other", NULL};

static void check_rules(const json_t *list, const char *ptr, int depth, size_t *count,
                        json_t *ids, struct fx_problem *pb);

/*
 * Rule ids name the lines of every screening's explanation, so each is used once.
 * (Rules never refer to one another: a cycle cannot be written, and a key such as
 * "ref" is refused as unknown.)
 */
static void check_id(json_t *r, const char *ptr, bool required, json_t *ids,
                     struct fx_problem *pb)
{
    const char *id = NULL;
    bool present = false;
    fx_json_get_str(r, "id", ptr, required, FX_MAX_SHORT_STRING, pb, &id, &present);
    if (!present)
        return;
    char fp[512];
    fx_json_ptr(fp, sizeof(fp), ptr, "id");
    if (id[0] == '\0')
        fx_problem_add(pb, fp, "must not be empty");
    else if (json_object_get(ids, id))
        fx_problem_add(pb, fp, "the id %s is used twice", id);
    else
        json_object_set_new(ids, id, json_true());
}

static void check_rule(json_t *r, const char *ptr, int depth, size_t *count, json_t *ids,
                       struct fx_problem *pb)
{
    char fp[512];
    if (!json_is_object(r)) {
        fx_problem_add(pb, ptr, "a rule must be an object");
        return;
    }
    if (++*count > FX_MAX_POLICY_RULES) {
        fx_problem_add(pb, ptr, "more than %d rules", FX_MAX_POLICY_RULES);
        return;
    }
    fx_json_only_keys(r, rule_fields, ptr, pb);
    json_t *all = json_object_get(r, "all"), *any = json_object_get(r, "any");
    if (all || any) {
        if (all && any) {
            fx_problem_add(pb, ptr, "a group has either all or any, not both");
            return;
        }
        if (depth >= FX_MAX_POLICY_DEPTH) {
            fx_problem_add(pb, ptr, "groups nest deeper than %d", FX_MAX_POLICY_DEPTH);
            return;
        }
        static const char *const leaf_only[] = {"field", "eval_domain", "benchmark", "metric",
                                                "op", "value"};
        for (size_t i = 0; i < FX_ARRAY_LEN(leaf_only); i++) {
            if (json_object_get(r, leaf_only[i])) {
                fx_json_ptr(fp, sizeof(fp), ptr, leaf_only[i]);
                fx_problem_add(pb, fp, "a group holds only id and %s", all ? "all" : "any");
            }
        }
        check_id(r, ptr, false, ids, pb);
        fx_json_ptr(fp, sizeof(fp), ptr, all ? "all" : "any");
        if (json_is_array(all ? all : any) && json_array_size(all ? all : any) == 0)
            fx_problem_add(pb, fp, "a group needs at least one rule");
        check_rules(all ? all : any, fp, depth + 1, count, ids, pb);
        return;
    }
    const char *s = NULL;
    check_id(r, ptr, true, ids, pb);
    fx_json_get_enum(r, "op", ptr, true, ops, pb, &s, NULL);
    double v;
    fx_json_get_number(r, "value", ptr, true, -1e308, pb, &v, NULL);
    bool has_field = json_object_get(r, "field") != NULL;
    bool has_eval = json_object_get(r, "eval_domain") != NULL;
    if (has_field == has_eval) {
        fx_problem_add(pb, ptr, "a rule names either a field or an eval_domain");
    } else if (has_field) {
        fx_json_get_enum(r, "field", ptr, true, numeric_fields, pb, &s, NULL);
    } else {
        fx_json_get_enum(r, "eval_domain", ptr, true, domains, pb, &s, NULL);
        fx_json_get_str(r, "benchmark", ptr, true, FX_MAX_SHORT_STRING, pb, &s, NULL);
        fx_json_get_enum(r, "metric", ptr, true, metrics, pb, &s, NULL);
    }
}

static void check_rules(const json_t *list, const char *ptr, int depth, size_t *count,
                        json_t *ids, struct fx_problem *pb)
{
    if (!json_is_array(list)) {
        fx_problem_add(pb, ptr, "must be a list of rules");
        return;
    }
    size_t i;
    json_t *r;
    json_array_foreach(list, i, r)
    {
        char fp[512];
        snprintf(fp, sizeof(fp), "%s/%zu", ptr, i);
        check_rule(r, fp, depth, count, ids, pb);
    }
}

enum fx_err fx_policy_parse(const char *p, size_t len, struct fx_policy *out,
                            struct fx_problem *pb)
{
    memset(out, 0, sizeof(*out));
    char msg[256];
    json_t *doc = NULL;
    if (fx_json_parse(p, len, &doc, msg, sizeof(msg)) != FX_OK) {
        fx_problem_add(pb, "", "%s", msg);
        return FX_EINVAL;
    }
    if (!json_is_object(doc)) {
        fx_problem_add(pb, "", "a policy is a JSON object");
        json_decref(doc);
        return FX_EINVAL;
    }
    fx_json_only_keys(doc, top_fields, "", pb);
    const char *name = NULL;
    fx_json_get_str(doc, "name", "", true, FX_MAX_SHORT_STRING, pb, &name, NULL);
    fx_json_get_int(doc, "min_notice_days", "", true, 0, 3650, pb, &out->min_notice_days, NULL);
    fx_json_get_int(doc, "access_window_days", "", true, 1, 3650, pb, &out->access_window_days,
                    NULL);
    fx_json_get_int(doc, "incident_report_hours", "", true, 1, 24 * 365, pb,
                    &out->incident_report_hours, NULL);
    size_t count = 0;
    json_t *rules = json_object_get(doc, "covered_if_any");
    json_t *ids = json_object();
    if (rules == NULL)
        fx_problem_add(pb, "/covered_if_any", "required");
    else
        check_rules(rules, "/covered_if_any", 0, &count, ids, pb);
    json_decref(ids);
    if (fx_problem_any(pb)) {
        json_decref(doc);
        return FX_EINVAL;
    }
    snprintf(out->name, sizeof(out->name), "%s", name);
    size_t clen = 0;
    char *canon = fx_json_canonical(doc, &clen);
    unsigned char d[32];
    crypto_hash_sha256(d, (const unsigned char *)canon, clen);
    free(canon);
    fx_hex(d, 32, out->sha256);
    out->doc = doc;
    return FX_OK;
}

void fx_policy_cleanup(struct fx_policy *pol)
{
    json_decref(pol->doc);
    pol->doc = NULL;
}

enum fx_err fx_policy_activate(struct fx_db *db, int64_t now, const struct fx_policy *pol)
{
    static const char *off = "UPDATE policies SET active = 0 WHERE active = 1";
    static const char *ins = "INSERT INTO policies (sha256, name, body, created_at, active)"
                             " VALUES ($1, $2, $3, $4, 1) ON CONFLICT (sha256) DO UPDATE"
                             " SET active = 1";
    enum fx_err err = fx_db_exec(db, off);
    if (err != FX_OK)
        return err;
    struct fx_stmt *st = NULL;
    bool row;
    err = fx_db_prepare(db, ins, &st);
    if (err != FX_OK)
        return err;
    char *canon = fx_json_canonical(pol->doc, NULL);
    fx_stmt_bind_str(st, 1, pol->sha256);
    fx_stmt_bind_str(st, 2, pol->name);
    fx_stmt_bind_str(st, 3, canon);
    fx_stmt_bind_i64(st, 4, now);
    err = fx_stmt_step(st, &row);
    fx_stmt_finalize(st);
    free(canon);
    return err;
}

/*
 * Every write that judges a notice needs the active policy; parsing and
 * validating it each time cost more than the write itself. Parsed documents are
 * memoised by SHA-256, which names their content: a cached entry can never be
 * stale, only unused. The table is tiny (one entry per policy ever applied).
 */
#define POLICY_MEMO 8
static struct {
    pthread_mutex_t mu;
    struct fx_policy entries[POLICY_MEMO]; /* doc owned (one reference each) */
    size_t n, next;
} memo = {.mu = PTHREAD_MUTEX_INITIALIZER};

static bool memo_get(const char *sha256, struct fx_policy *out)
{
    bool hit = false;
    pthread_mutex_lock(&memo.mu);
    for (size_t i = 0; i < memo.n && !hit; i++) {
        if (strcmp(memo.entries[i].sha256, sha256) == 0) {
            *out = memo.entries[i];
            json_incref(out->doc);
            hit = true;
        }
    }
    pthread_mutex_unlock(&memo.mu);
    return hit;
}

static void memo_put(const struct fx_policy *pol)
{
    pthread_mutex_lock(&memo.mu);
    size_t i = memo.n < POLICY_MEMO ? memo.n++ : memo.next++ % POLICY_MEMO;
    if (memo.entries[i].doc)
        json_decref(memo.entries[i].doc);
    memo.entries[i] = *pol;
    json_incref(pol->doc);
    pthread_mutex_unlock(&memo.mu);
}

enum fx_err fx_policy_load(struct fx_db *db, const char *sha256, struct fx_policy *out)
{
    static const char *sql = "SELECT body FROM policies WHERE sha256 = $1";
    if (memo_get(sha256, out))
        return FX_OK;
    struct fx_stmt *st = NULL;
    bool row = false;
    enum fx_err err = fx_db_prepare(db, sql, &st);
    if (err != FX_OK)
        return err;
    fx_stmt_bind_str(st, 1, sha256);
    err = fx_stmt_step(st, &row);
    if (err == FX_OK && !row)
        err = FX_ENOTFOUND;
    if (err == FX_OK) {
        size_t len = 0;
        const char *body = fx_stmt_text(st, 0, &len);
        struct fx_problem pb;
        fx_problem_init(&pb);
        err = fx_policy_parse(body, len, out, &pb) == FX_OK ? FX_OK : FX_ESTORE;
        fx_problem_cleanup(&pb);
        if (err == FX_OK)
            memo_put(out);
    }
    fx_stmt_finalize(st);
    return err;
}

enum fx_err fx_policy_load_active(struct fx_db *db, struct fx_policy *out)
{
    static const char *sql = "SELECT sha256 FROM policies WHERE active = 1";
    struct fx_stmt *st = NULL;
    bool row = false;
    char sha[65] = "";
    enum fx_err err = fx_db_prepare(db, sql, &st);
    if (err != FX_OK)
        return err;
    err = fx_stmt_step(st, &row);
    if (err == FX_OK && row)
        fx_stmt_copy_text(st, 0, sha, sizeof(sha));
    fx_stmt_finalize(st);
    if (err != FX_OK)
        return err;
    return row ? fx_policy_load(db, sha, out) : FX_ENOTFOUND;
}
