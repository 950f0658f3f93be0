"""Screening, review, determination and reconsideration (SPEC §4).

Screening is automatic: on submission and on every amendment of a submitted
notice, a new screening version records the result under the active policy and
explains every rule (matched or not, the notice's value, the threshold).
A coordinator reviewer takes the notice up, then determines it covered or not
covered with a rationale and the policy relied on; the developer may ask once
for reconsideration, with a statement, and the coordinator decides again.
Each step is in the notice's history; a wrong step answers 409 with the
allowed ones.
"""
import datetime as dt
import json

import pytest

from fxharness import expect, problem
from fxreview import (Community, covered_body, determined, fx, in_assessment, submitted,
                      under_review)

TODAY = dt.datetime.now(dt.timezone.utc).date()


@pytest.fixture(scope="module")
def c(fxd):
    return Community(fxd)


def rules_by_id(screening):
    out = {}

    def walk(rules):
        for r in rules:
            out[r["id"]] = r
            walk(r.get("rules", []))
    walk(screening["rules"])
    return out


def history(client, n):
    return expect(client.get("notices/%s/history" % n["id"]), 200)["items"]


def test_submission_is_screened_with_every_rule_explained(c):
    n = submitted(c, training_compute_flop=2e26,
                  evaluations=[{"domain": "cyber", "benchmark": "cybench", "score": 31,
                                "max_score": 100}])
    r = c.dev.get("notices/%s/screening" % n["id"])
    s = expect(r, 200)
    policy = expect(c.dev.get("policy"), 200)
    assert s["result"] == "likely_covered"
    assert s["policy"] == {"name": policy["name"], "sha256": policy["sha256"]}
    assert s["version"] == 1 and s["trigger"] == "submission" and s["notice_version"] == 1
    assert s["notice_id"] == n["id"] and s["ref"] == n["ref"]
    rules = rules_by_id(s)
    assert set(rules) == {"compute", "cyber-eval"}
    assert rules["compute"] == {"id": "compute", "field": "training_compute_flop", "op": ">=",
                                "threshold": 1e26, "value": 2e26, "matched": True}
    cyber = rules["cyber-eval"]
    assert cyber["matched"] is False and cyber["threshold"] == 0.5
    assert cyber["value"] == pytest.approx(0.31) and cyber["metric"] == "score_ratio"
    # the same bytes every time: a record of fact
    assert c.dev.get("notices/%s/screening" % n["id"]).content == r.content
    assert json.loads(r.content) == s


def test_an_absent_value_never_matches(c):
    n = submitted(c, training_compute_flop=None, evaluations=[])
    s = expect(c.dev.get("notices/%s/screening" % n["id"]), 200)
    assert s["result"] == "likely_not_covered"
    assert all(r["value"] is None and r["matched"] is False for r in s["rules"]), s


def test_a_draft_has_no_screening(c):
    d = expect(c.dev.post("notices", json={"model_name": "Not yet"}), 201)
    p = problem(c.dev.get("notices/%s/screening" % d["id"]), 404)
    assert "screened" in p["detail"]


def test_every_amendment_is_screened_again(c):
    n = submitted(c, training_compute_flop=2e26, evaluations=[])
    etag = expect(c.dev.get("notices/%s" % n["id"]), 200)["etag"]
    r = c.dev.patch("notices/%s" % n["id"], json={"training_compute_flop": 1e24,
                                                  "change_reason": "smaller run"},
                    headers={"If-Match": etag})
    etag = expect(r, 200)["etag"]
    s = expect(c.dev.get("notices/%s/screening" % n["id"]), 200)
    assert s["version"] == 2 and s["trigger"] == "amendment" and s["notice_version"] == 2
    assert s["result"] == "likely_not_covered"
    ev = [e for e in history(c.dev, n) if e["action"] == "screened"]
    assert len(ev) == 1 and ev[0]["previous_result"] == "likely_covered"
    assert ev[0]["result"] == "likely_not_covered" and ev[0]["trigger"] == "amendment"
    # an amendment that does not change the result: a new screening, no new event
    expect(c.dev.patch("notices/%s" % n["id"], json={"description": "Now longer.",
                                                     "change_reason": "wording"},
                       headers={"If-Match": etag}), 200)
    s3 = expect(c.dev.get("notices/%s/screening" % n["id"]), 200)
    assert s3["version"] == 3 and s3["result"] == "likely_not_covered"
    assert len([e for e in history(c.dev, n) if e["action"] == "screened"]) == 1


READERS = [
    ("developer_a", "viewer", 200), ("developer_a", "admin", 200),
    ("coordinator", "viewer", 200), ("coordinator", "reviewer", 200),
    ("developer_b", "admin", 404), ("agency_civilian", "reviewer", 404),
    ("operator_partner", "admin", 404),
]


@pytest.mark.parametrize("org,role,code", READERS, ids=["%s-%s" % r[:2] for r in READERS])
def test_screening_and_determinations_are_read_as_the_notice(c, org, role, code):
    n = determined(c)
    for path in ("notices/%s/screening", "notices/%s/determinations"):
        r = c[(org, role)].get(path % n["id"])
        if code == 200:
            expect(r, 200)
        else:
            problem(r, 404)


def test_a_hidden_notice_reads_as_a_missing_one_on_every_path(c):
    """SPEC §2: a refused read answers 404 and existence is not leaked, not even
    by the detail. Another developer, an operator and an agency not assigned
    get, for another org's draft, submitted notice or open assessment, the same
    problem as for a reference that was never issued."""
    draft = expect(c.dev.post("notices", json=covered_body()), 201)
    sub = submitted(c)
    n, _ = in_assessment(c, agencies=("agency_natsec",))
    missing = "FXN-%d-9999" % TODAY.year
    paths = ("notices/%s/screening", "notices/%s/screenings/1", "notices/%s/assessment",
             "notices/%s/determinations", "notices/%s")
    for who in (("developer_b", "admin"), ("operator_partner", "admin"),
                ("agency_civilian", "reviewer")):
        client = c[who]
        for path in paths:
            want = problem(client.get(path % missing), 404)
            for notice in (draft, sub, n):
                for ident in (notice["id"], notice["ref"]):
                    got = problem(client.get(path % ident), 404)
                    assert (got.get("title"), got.get("detail")) == \
                        (want.get("title"), want.get("detail")), (who, path, notice["status"])


def test_review_determination_and_one_reconsideration(c):
    n = submitted(c)
    active = expect(c.dev.get("policy"), 200)
    taken = expect(c.reviewer.post("notices/%s/review" % n["id"]), 200)
    assert taken["status"] == "under_review" and taken["id"] == n["id"]
    bad = problem(c.reviewer.post("notices/%s/determination" % n["id"],
                                  json={"determination": "probably", "rationale": "", "x": 1}), 422,
                  ["/determination", "/rationale", "/x"])
    assert len(bad["errors"]) == 3
    problem(c.reviewer.post("notices/%s/determination" % n["id"],
                            json={"determination": "covered"}), 422, ["/rationale"])
    d = expect(c.reviewer.post("notices/%s/determination" % n["id"],
                               json={"determination": "covered",
                                     "rationale": "Trained with 2e26 FLOP.",
                                     "policy_sha256": active["sha256"]}), 201)
    assert d["kind"] == "determination" and d["determination"] == "covered"
    assert d["policy"] == {"name": active["name"], "sha256": active["sha256"]}
    assert d["screening"] == {"version": 1, "result": "likely_covered"}
    assert d["notice_status"] == "determined" and d["reconsideration_id"] is None
    view = expect(c.dev.get("notices/%s" % n["id"]), 200)
    assert view["status"] == "determined" and view["determination"] == "covered"

    rec = expect(c.dev.post("notices/%s/reconsideration" % n["id"],
                            json={"statement": "Our run was smaller than reported."}), 201)
    assert rec["kind"] == "reconsideration" and rec["determination_id"] == d["id"]
    assert rec["notice_status"] == "under_review"
    assert expect(c.dev.get("notices/%s" % n["id"]), 200)["status"] == "under_review"
    d2 = expect(c.reviewer.post("notices/%s/determination" % n["id"],
                                json={"determination": "not_covered",
                                      "rationale": "Corrected figures."}), 201)
    assert d2["reconsideration_id"] == rec["id"]
    # once: a second request is a conflict that says so
    again = problem(c.dev.post("notices/%s/reconsideration" % n["id"],
                               json={"statement": "Again."}), 409)
    assert "once" in again["detail"] and again["status_now"] == "determined"
    assert "reconsider" in again["allowed"]

    items = expect(c.dev.get("notices/%s/determinations" % n["id"]), 200)["items"]
    assert [(x["kind"], x.get("determination")) for x in items] == [
        ("determination", "covered"), ("reconsideration", "covered"),
        ("determination", "not_covered")]
    assert all(len(x["content_sha256"]) == 64 for x in items)
    steps = [e for e in history(c.dev, n) if e["action"] in
             ("under_review", "determined", "reconsideration")]
    assert [e["action"] for e in steps] == ["under_review", "determined", "reconsideration",
                                            "determined"]
    assert steps[1]["rationale"] == "Trained with 2e26 FLOP."
    assert steps[1]["policy_sha256"] == active["sha256"]
    assert steps[2]["statement"] == "Our run was smaller than reported."
    assert expect(c.dev.get("notices/%s" % n["id"]), 200)["determination"] == "not_covered"


def test_a_step_out_of_order_answers_409_with_the_allowed_ones(c):
    n = submitted(c)
    p = problem(c.reviewer.post("notices/%s/determination" % n["id"],
                                json={"determination": "covered", "rationale": "r"}), 409)
    assert p["status_now"] == "submitted" and "review" in p["allowed"]
    problem(c.dev.post("notices/%s/reconsideration" % n["id"], json={"statement": "s"}), 409)
    expect(c.reviewer.post("notices/%s/review" % n["id"]), 200)
    p = problem(c.reviewer.post("notices/%s/review" % n["id"]), 409)
    assert p["status_now"] == "under_review" and "determine" in p["allowed"]
    expect(c.dev.post("notices/%s/withdraw" % n["id"], json={"reason": "cancelled"}), 200)
    p = problem(c.reviewer.post("notices/%s/determination" % n["id"],
                                json={"determination": "covered", "rationale": "r"}), 409)
    assert p["status_now"] == "withdrawn" and p["allowed"] == []
    # a draft is the developer's alone: the reviewer may not know it exists
    d = expect(c.dev.post("notices", json={"model_name": "Draft"}), 201)
    problem(c.reviewer.post("notices/%s/review" % d["id"]), 404)


def test_the_policy_named_must_be_the_active_one(c):
    n = under_review(c)
    problem(c.reviewer.post("notices/%s/determination" % n["id"],
                            json={"determination": "covered", "rationale": "r",
                                  "policy_sha256": "0" * 64}), 422, ["/policy_sha256"])
    assert expect(c.dev.get("notices/%s" % n["id"]), 200)["status"] == "under_review"
    active = expect(c.dev.get("policy"), 200)
    d = expect(c.reviewer.post("notices/%s/determination" % n["id"],
                               json={"determination": "covered", "rationale": "r",
                                     "policy_sha256": active["sha256"].upper()}), 201)
    assert d["policy"]["sha256"] == active["sha256"]


STEPS = [
    # org, role, review/determine, reconsider
    ("coordinator", "reviewer", 200, 403),
    ("coordinator", "admin", 403, 403),
    ("coordinator", "member", 403, 403),
    ("coordinator", "viewer", 403, 403),
    ("developer_a", "member", 403, 200),
    ("developer_a", "admin", 403, 200),
    ("developer_a", "viewer", 403, 403),
    ("developer_b", "member", 404, 404),
    ("agency_civilian", "reviewer", 404, 404),
    ("operator_partner", "member", 404, 404),
]


@pytest.mark.parametrize("row", STEPS, ids=["%s-%s" % r[:2] for r in STEPS])
def test_who_takes_each_step(c, row):
    org, role, review, reconsider = row
    who = c[(org, role)]
    n = submitted(c)
    r = who.post("notices/%s/review" % n["id"])
    if review == 200:
        expect(r, 200)
    else:
        problem(r, review)
        expect(c.reviewer.post("notices/%s/review" % n["id"]), 200)
    r = who.post("notices/%s/determination" % n["id"],
                 json={"determination": "covered", "rationale": "r"})
    if review == 200:
        expect(r, 201)
    else:
        problem(r, review)
        expect(c.reviewer.post("notices/%s/determination" % n["id"],
                               json={"determination": "covered", "rationale": "r"}), 201)
    r = who.post("notices/%s/reconsideration" % n["id"], json={"statement": "s"})
    if reconsider == 200:
        expect(r, 201)
    else:
        problem(r, reconsider)
        assert expect(c.dev.get("notices/%s" % n["id"]), 200)["status"] == "determined"


def test_idempotent_determination(c):
    n = under_review(c)
    body = {"determination": "covered", "rationale": "r"}
    first = c.reviewer.post("notices/%s/determination" % n["id"], json=body,
                            headers={"Idempotency-Key": "det-%s" % n["id"]})
    again = c.reviewer.post("notices/%s/determination" % n["id"], json=body,
                            headers={"Idempotency-Key": "det-%s" % n["id"]})
    assert expect(first, 201) == expect(again, 201)
    assert again.headers.get("Idempotent-Replayed") == "true"
    assert len(expect(c.dev.get("notices/%s/determinations" % n["id"]), 200)["items"]) == 1


def test_refusals_and_reads_are_audited(c):
    n = determined(c)
    problem(c[("coordinator", "viewer")].post("notices/%s/review" % n["id"]), 403)
    expect(c.reviewer.get("notices/%s/screening" % n["id"]), 200)
    rows = expect(c.fxd.admin.get("audit", params={"record": n["id"]}), 200)["items"]
    actions = {(r["action"], r["outcome"]) for r in rows}
    assert ("notice.determine", "ok") in actions and ("notice.review", "ok") in actions
    assert ("screening.read", "ok") in actions
    assert any(a == "notice.review" and o != "ok" for a, o in actions), actions


def test_fx_review_commands(c):
    n = submitted(c)
    s = fx(c.fxd, c.dev, "screening", n["ref"]).ok()
    assert "likely_covered" in s.out and "compute: matched" in s.out
    assert fx(c.fxd, c.dev, "screening", n["id"], "--json").json()["result"] == "likely_covered"
    assert fx(c.fxd, c.dev, "screening", n["ref"], "1", "--json").json()["version"] == 1
    fx(c.fxd, c.dev, "screening", n["ref"], "2").status(3)      # no such version: 404
    fx(c.fxd, c.dev, "screening", n["ref"], "zero").status(2)   # not a version number
    fx(c.fxd, c.dev, "review", n["ref"]).status(3)
    assert "under_review" in fx(c.fxd, c.reviewer, "review", n["ref"]).ok().out
    fx(c.fxd, c.reviewer, "determine", n["ref"], "maybe", "--rationale", "r").status(2)
    fx(c.fxd, c.reviewer, "determine", n["ref"], "covered").status(2)
    d = fx(c.fxd, c.reviewer, "determine", n["ref"], "covered", "--rationale",
           "Compute over the line.", "--json").json()
    assert d["determination"] == "covered"
    rec = fx(c.fxd, c.dev, "reconsider", n["ref"], "--statement", "Please look again.").ok()
    assert "reconsideration" in rec.out
    fx(c.fxd, c.reviewer, "determine", n["ref"], "not_covered", "--rationale", "Agreed.").ok()
    again = fx(c.fxd, c.dev, "reconsider", n["ref"], "--statement", "Again.").status(3)
    assert "409" in again.err and "once" in again.err
