/*
 * screen.h: coverage screening (SPEC §4): evaluates a policy's rules against a
 * notice's fields, deterministically, and explains every rule: whether it
 * matched, the notice's value it compared, and the threshold. Pure: no store.
 */
#ifndef FX_SCREEN_H
#define FX_SCREEN_H

#include "policy/policy.h"

#include <jansson.h>
#include <stdbool.h>

/*
 * Screens notice fields (the validated fields object) under pol.
 * *explanation_out (new reference): {"result", "policy": {"name","sha256"},
 * "rules": [...]} where each rule is {"id", "matched", "value", "op",
 * "threshold", and "field" or "eval_domain"/"benchmark"/"metric"} and each
 * group {"group": "all"|"any", "matched", "rules": [...]}.
 * Returns whether the notice is likely covered.
 */
bool fx_screen_notice(const struct fx_policy *pol, const json_t *fields, json_t **explanation_out);

/* The same result, without building the explanation (re-screening many notices). */
bool fx_screen_result(const struct fx_policy *pol, const json_t *fields);

#endif
