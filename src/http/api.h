/*
 * api.h: the handlers of the route table (router.c). Each validates its input
 * into typed values, asks src/auth/access.c whether the caller may act, and
 * calls the records modules; none of them talks SQL.
 */
#ifndef FX_API_H
#define FX_API_H

#include "http/request.h"

/* api_ops.c */
void fx_api_healthz(struct fx_req *req);
void fx_api_metrics(struct fx_req *req);
void fx_api_openapi(struct fx_req *req);
void fx_api_me(struct fx_req *req);
void fx_api_audit_list(struct fx_req *req);
void fx_api_policy_get(struct fx_req *req);

/* api_orgs.c */
void fx_api_org_create(struct fx_req *req);
void fx_api_org_list(struct fx_req *req);
void fx_api_org_get(struct fx_req *req);
void fx_api_user_create(struct fx_req *req);
void fx_api_user_list(struct fx_req *req);
void fx_api_token_create(struct fx_req *req);
void fx_api_token_list(struct fx_req *req);
void fx_api_token_revoke(struct fx_req *req);

/* api_notices.c */
void fx_api_notice_create(struct fx_req *req);
void fx_api_notice_list(struct fx_req *req);
void fx_api_notice_get(struct fx_req *req);
void fx_api_notice_amend(struct fx_req *req);
void fx_api_notice_submit(struct fx_req *req);
void fx_api_notice_withdraw(struct fx_req *req);
void fx_api_notice_release(struct fx_req *req);
void fx_api_notice_versions(struct fx_req *req);
void fx_api_notice_version(struct fx_req *req);
void fx_api_notice_history(struct fx_req *req);
void fx_api_notice_access_log(struct fx_req *req);

/* review process (SPEC §4-6) */
/* api_review.c */
void fx_api_notice_screening(struct fx_req *req);
void fx_api_notice_screening_version(struct fx_req *req);
void fx_api_notice_review(struct fx_req *req);
void fx_api_notice_determine(struct fx_req *req);
void fx_api_notice_reconsider(struct fx_req *req);
void fx_api_notice_determinations(struct fx_req *req);
void fx_api_deadlines(struct fx_req *req);
/* api_policy.c */
void fx_api_policy_check(struct fx_req *req);
void fx_api_policy_put(struct fx_req *req);
/* api_assess.c */
void fx_api_assessment_open(struct fx_req *req);
void fx_api_assessment_get(struct fx_req *req);
void fx_api_task_start(struct fx_req *req);
void fx_api_task_complete(struct fx_req *req);
void fx_api_finding_create(struct fx_req *req);
void fx_api_finding_list(struct fx_req *req);
void fx_api_finding_get(struct fx_req *req);
void fx_api_assessment_outcome(struct fx_req *req);
/* api_grants.c */
void fx_api_grant_propose(struct fx_req *req);
void fx_api_grant_list(struct fx_req *req);
void fx_api_grant_get(struct fx_req *req);
void fx_api_grant_version(struct fx_req *req);
void fx_api_grant_consent(struct fx_req *req);
void fx_api_grant_accept(struct fx_req *req);
void fx_api_grant_revoke(struct fx_req *req);
void fx_api_grant_feedback(struct fx_req *req);

/* api_incidents.c: incidents (SPEC §7) */
void fx_api_incident_create(struct fx_req *req);
void fx_api_incident_list(struct fx_req *req);
void fx_api_incident_get(struct fx_req *req);
void fx_api_incident_update(struct fx_req *req);
void fx_api_incident_stix(struct fx_req *req);
void fx_api_incident_versions(struct fx_req *req);
void fx_api_incident_version(struct fx_req *req);
void fx_api_incident_history(struct fx_req *req);
void fx_api_incident_access_log(struct fx_req *req);

/* api_taxii.c: TAXII 2.1 (SPEC §8) */
void fx_api_taxii_discovery(struct fx_req *req);
void fx_api_taxii_root(struct fx_req *req);
void fx_api_taxii_status(struct fx_req *req);
void fx_api_taxii_collections(struct fx_req *req);
void fx_api_taxii_collection(struct fx_req *req);
void fx_api_taxii_manifest(struct fx_req *req);
void fx_api_taxii_objects(struct fx_req *req);
void fx_api_taxii_add(struct fx_req *req);
void fx_api_taxii_object(struct fx_req *req);
void fx_api_taxii_delete(struct fx_req *req);
void fx_api_taxii_versions(struct fx_req *req);

/* api_ledger.c */
void fx_api_ledger_checkpoint(struct fx_req *req);
void fx_api_ledger_key(struct fx_req *req);
void fx_api_ledger_entry(struct fx_req *req);
void fx_api_ledger_inclusion(struct fx_req *req);
void fx_api_ledger_consistency(struct fx_req *req);
void fx_api_ledger_tile(struct fx_req *req);

#endif
