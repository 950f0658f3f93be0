#include "http/api.h"
void fx_api_notice_create(struct fx_req *req) { fx_req_problem(req, 404, "x"); }
void fx_api_notice_list(struct fx_req *req) { fx_req_problem(req, 404, "x"); }
void fx_api_notice_get(struct fx_req *req) { fx_req_problem(req, 404, "x"); }
void fx_api_notice_amend(struct fx_req *req) { fx_req_problem(req, 404, "x"); }
void fx_api_notice_submit(struct fx_req *req) { fx_req_problem(req, 404, "x"); }
void fx_api_notice_withdraw(struct fx_req *req) { fx_req_problem(req, 404, "x"); }
void fx_api_notice_release(struct fx_req *req) { fx_req_problem(req, 404, "x"); }
void fx_api_notice_versions(struct fx_req *req) { fx_req_problem(req, 404, "x"); }
void fx_api_notice_version(struct fx_req *req) { fx_req_problem(req, 404, "x"); }
void fx_api_notice_history(struct fx_req *req) { fx_req_problem(req, 404, "x"); }
void fx_api_notice_access_log(struct fx_req *req) { fx_req_problem(req, 404, "x"); }
