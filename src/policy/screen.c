/*
 * screen.c: rule evaluation. The policy was validated by policy.c, so rule
 * shapes are trusted here; notice values are not (absent fields, zero
 * max_score) and an absent value never matches (SPEC §4).
 */
#include "policy/screen.h"

#include <math.h>
#include <string.h>
#include <strings.h>

static bool compare(double v, const char *op, double t)
{
    if (strcmp(op, ">=") == 0)
        return v >= t;
    if (strcmp(op, ">") == 0)
        return v > t;
    if (strcmp(op, "<=") == 0)
        return v <= t;
    if (strcmp(op, "<") == 0)
        return v < t;
    if (strcmp(op, "==") == 0)
        return v == t;
    return v != t; /* "!=" */
}

/* The metric of one evaluation, or false when it cannot be computed. */
static bool metric_of(const json_t *e, const char *metric, double *out)
{
    json_t *score = json_object_get(e, "score");
    if (!json_is_number(score))
        return false;
    if (strcmp(metric, "score") == 0) {
        *out = json_number_value(score);
        return true;
    }
    json_t *max = json_object_get(e, "max_score");
    if (!json_is_number(max) || json_number_value(max) <= 0)
        return false;
    *out = json_number_value(score) / json_number_value(max);
    return true;
}

/*
 * One leaf: whether it matched, and the notice's value it compared (the matching
 * evaluation's, or else the highest seen; *have false when there was none).
 */
static bool leaf_match(const json_t *rule, const json_t *fields, bool *have, double *value)
{
    const char *op = json_string_value(json_object_get(rule, "op"));
    double t = json_number_value(json_object_get(rule, "value"));
    *have = false;
    const char *field = json_string_value(json_object_get(rule, "field"));
    if (field) {
        json_t *v = json_object_get(fields, field);
        if (!json_is_number(v))
            return false;
        *have = true;
        *value = json_number_value(v);
        return compare(*value, op, t);
    }
    const char *domain = json_string_value(json_object_get(rule, "eval_domain"));
    const char *bench = json_string_value(json_object_get(rule, "benchmark"));
    const char *metric = json_string_value(json_object_get(rule, "metric"));
    /* Every matching evaluation counts; the value shown is the one that matched, or else
     * the highest seen. Benchmarks compare without regard to case. */
    size_t i;
    json_t *e;
    json_array_foreach(json_object_get(fields, "evaluations"), i, e)
    {
        const char *d = json_string_value(json_object_get(e, "domain"));
        const char *b = json_string_value(json_object_get(e, "benchmark"));
        double m;
        if (!d || !b || strcmp(d, domain) != 0 || strcasecmp(b, bench) != 0 ||
            !metric_of(e, metric, &m))
            continue;
        if (compare(m, op, t)) {
            *have = true;
            *value = m;
            return true;
        }
        if (!*have || m > *value)
            *value = m;
        *have = true;
    }
    return false;
}

static json_t *leaf_rule(const json_t *rule, const json_t *fields, bool *matched)
{
    bool have = false;
    double value = 0;
    *matched = leaf_match(rule, fields, &have, &value);
    json_t *out = json_object();
    json_object_set(out, "id", json_object_get(rule, "id"));
    json_object_set(out, "op", json_object_get(rule, "op"));
    json_object_set(out, "threshold", json_object_get(rule, "value"));
    json_t *field = json_object_get(rule, "field");
    if (field) {
        json_object_set(out, "field", field);
        /* the notice's own number, as it was given (an integer stays an integer) */
        json_t *v = json_object_get(fields, json_string_value(field));
        json_object_set_new(out, "value", have ? json_incref(v) : json_null());
    } else {
        json_object_set(out, "eval_domain", json_object_get(rule, "eval_domain"));
        json_object_set(out, "benchmark", json_object_get(rule, "benchmark"));
        json_object_set(out, "metric", json_object_get(rule, "metric"));
        json_object_set_new(out, "value", have ? json_real(value) : json_null());
    }
    json_object_set_new(out, "matched", json_boolean(*matched));
    return out;
}

static json_t *eval_list(const json_t *rules, const json_t *fields, bool all, bool explain,
                         bool *matched);

/* One rule or group; with explain, its explanation (new reference), else NULL. */
static json_t *eval_rule(const json_t *rule, const json_t *fields, bool explain, bool *matched)
{
    json_t *all = json_object_get(rule, "all"), *any = json_object_get(rule, "any");
    if (!all && !any) {
        if (explain)
            return leaf_rule(rule, fields, matched);
        bool have;
        double value;
        *matched = leaf_match(rule, fields, &have, &value);
        return NULL;
    }
    json_t *sub = eval_list(all ? all : any, fields, all != NULL, explain, matched);
    if (!explain)
        return NULL;
    json_t *out = json_pack("{s:s,s:b,s:o}", "group", all ? "all" : "any", "matched", *matched,
                            "rules", sub);
    if (json_object_get(rule, "id"))
        json_object_set(out, "id", json_object_get(rule, "id"));
    return out;
}

/*
 * Evaluates every rule of a list. With explain there is no short cut: the
 * explanation lists them all; without, evaluation stops once the answer is known.
 */
static json_t *eval_list(const json_t *rules, const json_t *fields, bool all, bool explain,
                         bool *matched)
{
    json_t *out = explain ? json_array() : NULL;
    bool acc = all;
    size_t i;
    json_t *r;
    json_array_foreach(rules, i, r)
    {
        bool m = false;
        json_t *e = eval_rule(r, fields, explain, &m);
        if (explain)
            json_array_append_new(out, e);
        acc = all ? (acc && m) : (acc || m);
        if (!explain && acc != all)
            break;
    }
    if (all && json_array_size(rules) == 0)
        acc = false; /* an empty "all" would cover everything: treat it as no rule */
    *matched = acc;
    return out;
}

bool fx_screen_notice(const struct fx_policy *pol, const json_t *fields, json_t **explanation_out)
{
    bool covered = false;
    json_t *rules = eval_list(json_object_get(pol->doc, "covered_if_any"), fields, false, true,
                              &covered);
    *explanation_out = json_pack("{s:s,s:{s:s,s:s},s:o}", "result",
                                 covered ? "likely_covered" : "likely_not_covered", "policy",
                                 "name", pol->name, "sha256", pol->sha256, "rules", rules);
    return covered;
}

bool fx_screen_result(const struct fx_policy *pol, const json_t *fields)
{
    bool covered = false;
    eval_list(json_object_get(pol->doc, "covered_if_any"), fields, false, false, &covered);
    return covered;
}
