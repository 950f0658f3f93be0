"""Policies (SPEC §4): versioned by SHA-256, validated whole, dry-run and applied.

A policy is a JSON document. A bad one is refused with every problem listed and
nothing of it applied. POST /policy/check lists every open notice whose
screening or short-notice flag would change, old and new; PUT /policy (and
`fxd policy apply FILE`) re-screens every open notice in one transaction, one
history event each, and stamps each with the new version.
"""
import copy
import datetime as dt
import json
import os

import pytest

from fxharness import expect, problem
from fxreview import (Community, fx, fxd_cmd, policy_file, submitted, POLICIES)

TODAY = dt.datetime.now(dt.timezone.utc).date()
DRAFT = policy_file("draft-order-2026.json")
SIGNED = policy_file("signed-order-2026.json")


@pytest.fixture(scope="module")
def c(fxd):
    return Community(fxd)


def leaf(**over):
    rule = {"id": "compute", "field": "training_compute_flop", "op": ">=", "value": 1e26}
    rule.update(over)
    return rule


def with_rules(*rules, **top):
    p = copy.deepcopy(DRAFT)
    p["covered_if_any"] = list(rules)
    p.update(top)
    return p


def active(c):
    return expect(c.fxd.admin.get("policy"), 200)


def put_back_draft(c):
    expect(c.fxd.admin.put("policy", json=DRAFT), 200)
    assert active(c)["name"] == "draft-order-2026"


def test_the_default_policy_is_the_draft_order_file(c):
    p = active(c)
    assert p["document"] == DRAFT and p["name"] == "draft-order-2026"
    assert p["document"]["min_notice_days"] == 90 and p["document"]["access_window_days"] == 30
    # the same document is the same version: nothing to do
    again = expect(c.fxd.admin.put("policy", json=DRAFT), 200)
    assert again["unchanged"] is True and again["changed"] == 0
    assert SIGNED["min_notice_days"] == 30 and SIGNED["name"] == "signed-order-2026"


def test_check_lists_what_would_change_and_changes_nothing(c):
    release_short = str(TODAY + dt.timedelta(days=60))  # short under 90, not under 30
    covered = submitted(c, training_compute_flop=3e26)
    cyber = submitted(c, training_compute_flop=1e24,
                      evaluations=[{"domain": "cyber", "benchmark": "CyBench", "score": 45,
                                    "max_score": 100}])
    short = submitted(c, training_compute_flop=1e24, planned_release_date=release_short,
                      evaluations=[])
    assert short["short_notice"] is True
    before = {n["id"]: expect(c.dev.get("notices/%s/screening" % n["id"]), 200)
              for n in (covered, cyber, short)}
    assert before[cyber["id"]]["result"] == "likely_not_covered"

    new = with_rules(leaf(), {"id": "cyber-eval", "eval_domain": "cyber", "benchmark": "cybench",
                              "metric": "score_ratio", "op": ">=", "value": 0.4},
                     name="lower-cyber", min_notice_days=30)
    dry = expect(c.reviewer.post("policy/check", json=new), 200)
    assert dry["policy"]["name"] == "lower-cyber" and dry["active"]["name"] == "draft-order-2026"
    changes = {x["notice_id"]: x for x in dry["changes"]}
    assert covered["id"] not in changes
    assert changes[cyber["id"]]["screening"] == {"from": "likely_not_covered",
                                                 "to": "likely_covered"}
    assert changes[short["id"]]["short_notice"] == {"from": True, "to": False}
    assert changes[short["id"]]["ref"] == short["ref"]
    assert dry["examined"] >= 3 and dry["changed"] == len(dry["changes"])
    # a dry run: nothing moved
    for n in (covered, cyber, short):
        assert expect(c.dev.get("notices/%s/screening" % n["id"]), 200) == before[n["id"]]
    assert expect(c.dev.get("notices/%s" % short["id"]), 200)["short_notice"] is True
    assert active(c)["name"] == "draft-order-2026"
    # the coordinator's reads of other orgs' notices are audited
    rows = expect(c.fxd.admin.get("audit", params={"record": cyber["id"], "action": "policy.check"}),
                  200)["items"]
    assert rows, "the dry run's read is not in the audit trail"


def test_apply_rescreens_every_open_notice_once(c):
    n = submitted(c, training_compute_flop=1e24, evaluations=[],
                  planned_release_date=str(TODAY + dt.timedelta(days=45)))
    draft = expect(c.dev.post("notices", json={"model_name": "Draft only"}), 201)
    withdrawn = submitted(c)
    expect(c.dev.post("notices/%s/withdraw" % withdrawn["id"], json={"reason": "x"}), 200)
    hist_before = expect(c.dev.get("notices/%s/history" % n["id"]), 200)["items"]
    screen_before = expect(c.dev.get("notices/%s/screening" % n["id"]), 200)
    wd_before = expect(c.dev.get("notices/%s/history" % withdrawn["id"]), 200)["items"]

    applied = expect(c.fxd.admin.put("policy", json=SIGNED), 200)
    try:
        assert applied["policy"]["name"] == "signed-order-2026"
        assert applied["previous"]["name"] == "draft-order-2026"
        assert applied["unchanged"] is False and applied["examined"] >= 1
        assert "receipt" in applied
        p = active(c)
        assert p["name"] == "signed-order-2026" and p["document"] == SIGNED
        # the open notice: a new screening under the new policy, its flag judged again,
        # the stamp, and exactly one history event
        s = expect(c.dev.get("notices/%s/screening" % n["id"]), 200)
        assert s["version"] == screen_before["version"] + 1 and s["trigger"] == "policy"
        assert s["policy"] == {"name": "signed-order-2026", "sha256": p["sha256"]}
        assert s["min_notice_days"] == 30 and s["short_notice"] is False
        view = expect(c.dev.get("notices/%s" % n["id"]), 200)
        assert view["short_notice"] is False and view["policy"]["sha256"] == p["sha256"]
        hist = expect(c.dev.get("notices/%s/history" % n["id"]), 200)["items"]
        added = hist[len(hist_before):]
        assert [e["action"] for e in added] == ["screened"], added
        ev = added[0]
        assert ev["trigger"] == "policy" and ev["policy_sha256"] == p["sha256"]
        assert ev["previous_short_notice"] is True and ev["short_notice"] is False
        # drafts and closed notices are not open: untouched
        assert expect(c.dev.get("notices/%s/history" % withdrawn["id"]), 200)["items"] == wd_before
        problem(c.dev.get("notices/%s/screening" % draft["id"]), 404)
        # one audit row for the application
        rows = expect(c.fxd.admin.get("audit", params={"action": "policy.apply"}), 200)["items"]
        assert any(r["record"] == p["sha256"] for r in rows)
    finally:
        put_back_draft(c)


BAD = [
    ("unknown operator", with_rules(leaf(op="~=")), ["/covered_if_any/0/op"]),
    ("field that does not exist", with_rules(leaf(field="training_vibes")),
     ["/covered_if_any/0/field"]),
    ("non-numeric threshold", with_rules(leaf(value="1e26")), ["/covered_if_any/0/value"]),
    ("a rule that names itself", with_rules({"id": "g", "any": [{"id": "g", "ref": "g"}]}),
     ["/covered_if_any/0/any/0/ref", "/covered_if_any/0/any/0/id"]),
    ("an empty group", with_rules({"id": "g", "all": []}), ["/covered_if_any/0/all"]),
    ("groups nested too deep", None, ["/covered_if_any"]),
    ("wrong types everywhere", {"name": 7, "min_notice_days": "90", "access_window_days": 0,
                                "covered_if_any": {}, "colour": "red"},
     ["/name", "/min_notice_days", "/access_window_days", "/incident_report_hours",
      "/covered_if_any", "/colour"]),
]


def deep_group(depth):
    rule = leaf()
    for i in range(depth):
        rule = {"id": "g%d" % i, "any": [rule]}
    return with_rules(rule)


@pytest.mark.parametrize("name,body,fields", BAD, ids=[b[0] for b in BAD])
def test_a_bad_policy_is_refused_whole(c, name, body, fields):
    before = active(c)["sha256"]
    if body is None:
        texts = [json.dumps(deep_group(9)), "{\"covered_if_any\": " + "[" * 10000 + "]" * 10000 + "}"]
    else:
        texts = [json.dumps(body)]
    for text in texts:
        for client, method, path in ((c.reviewer, "POST", "policy/check"),
                                     (c.fxd.admin, "PUT", "policy")):
            r = client.request(method, path, data=text.encode(),
                               headers={"Content-Type": "application/json"})
            p = problem(r, 422, fields if body is not None else None)
            if body is None:
                named = " ".join(e["field"] + " " + e["message"] for e in p["errors"])
                assert "/covered_if_any" in named and "deep" in named, p
    assert active(c)["sha256"] == before


def test_every_problem_of_a_policy_is_listed_at_once(c):
    body = with_rules(leaf(op="≈", value="x", field="nope"),
                      {"id": "c", "eval_domain": "astrology", "benchmark": "", "metric": "vibes",
                       "op": ">", "value": 1})
    p = problem(c.fxd.admin.put("policy", json=body), 422)
    named = {e["field"] for e in p["errors"]}
    assert {"/covered_if_any/0/op", "/covered_if_any/0/value", "/covered_if_any/0/field",
            "/covered_if_any/1/eval_domain", "/covered_if_any/1/metric"} <= named, p


def test_malformed_json_and_wrong_media_type(c):
    problem(c.fxd.admin.put("policy", data=b'{"name": ', headers={"Content-Type": "application/json"}),
            400)
    problem(c.fxd.admin.put("policy", data=json.dumps(DRAFT).encode(),
                            headers={"Content-Type": "text/plain"}), 415)


WHO = [
    # org, role, may check, may apply
    ("coordinator", "admin", True, True),
    ("coordinator", "reviewer", True, False),
    ("coordinator", "member", False, False),
    ("coordinator", "viewer", False, False),
    ("agency_civilian", "reviewer", False, False),
    ("developer_a", "admin", False, False),
    ("operator_partner", "admin", False, False),
]


@pytest.mark.parametrize("row", WHO, ids=["%s-%s" % r[:2] for r in WHO])
def test_who_may_check_and_apply(c, row):
    org, role, check, apply = row
    who = c[(org, role)]
    expect(who.get("policy"), 200)  # anyone reads the active policy
    r = who.post("policy/check", json=SIGNED)
    assert r.status_code == 200 if check else problem(r, 403)
    if not apply:
        problem(who.put("policy", json=SIGNED), 403)
        assert active(c)["name"] == "draft-order-2026"


def test_if_match_guards_against_a_concurrent_change(c):
    problem(c.fxd.admin.put("policy", json=SIGNED, headers={"If-Match": '"%s"' % ("0" * 64)}), 412)
    etag = c.fxd.admin.get("policy").headers["ETag"]
    try:
        expect(c.fxd.admin.put("policy", json=SIGNED, headers={"If-Match": etag}), 200)
    finally:
        put_back_draft(c)


def test_fxd_policy_apply_and_check(c):
    """The operator's commands on the data directory, beside the running server."""
    n = submitted(c, training_compute_flop=1e24, evaluations=[],
                  planned_release_date=str(TODAY + dt.timedelta(days=50)))
    signed = os.path.join(POLICIES, "signed-order-2026.json")
    dry = fxd_cmd("policy", "check", signed, "--data", c.fxd.data, "--json").json()
    assert dry["policy"]["name"] == "signed-order-2026" and dry["examined"] >= 1
    assert any(x["notice_id"] == n["id"] for x in dry["changes"])
    assert active(c)["name"] == "draft-order-2026"
    human = fxd_cmd("policy", "check", signed, "--data", c.fxd.data).ok()
    assert n["ref"] in human.out and "would change" in human.out
    try:
        done = fxd_cmd("policy", "apply", signed, "--data", c.fxd.data, "--json").json()
        assert done["previous"]["name"] == "draft-order-2026" and done["examined"] >= 1
        assert active(c)["name"] == "signed-order-2026"
        hist = expect(c.dev.get("notices/%s/history" % n["id"]), 200)["items"]
        assert hist[-1]["action"] == "screened" and hist[-1]["user_id"] is None
        again = fxd_cmd("policy", "apply", signed, "--data", c.fxd.data).ok()
        assert "nothing to do" in again.out
    finally:
        put_back_draft(c)
    bad = os.path.join(c.fxd.workdir, "bad-policy.json")
    with open(bad, "w") as f:
        json.dump(with_rules(leaf(op="~")), f)
    refused = fxd_cmd("policy", "apply", bad, "--data", c.fxd.data).status(1)
    assert "/covered_if_any/0/op" in refused.err and "nothing applied" in refused.err
    fxd_cmd("policy", "apply", "--data", c.fxd.data).status(2)
    fxd_cmd("policy", "remove", signed, "--data", c.fxd.data).status(2)
    assert active(c)["name"] == "draft-order-2026"


def test_fx_policy_commands(c):
    admin = c.fxd.admin
    shown = fx(c.fxd, admin, "policy", "show").ok()
    assert "draft-order-2026" in shown.out and "covered_if_any" in shown.out
    assert fx(c.fxd, admin, "policy", "show", "--json").json()["name"] == "draft-order-2026"
    signed = os.path.join(POLICIES, "signed-order-2026.json")
    dry = fx(c.fxd, c.reviewer, "policy", "check", signed).ok()
    assert "signed-order-2026" in dry.out and "open notices screened" in dry.out
    fx(c.fxd, c.reviewer, "policy", "apply", signed).status(3)
    bad = os.path.join(c.fxd.workdir, "bad-cli.json")
    with open(bad, "w") as f:
        json.dump(with_rules(leaf(value="high")), f)
    refused = fx(c.fxd, admin, "policy", "apply", bad).status(3)
    assert "/covered_if_any/0/value" in refused.err
    fx(c.fxd, admin, "policy", "apply", os.path.join(c.fxd.workdir, "missing.json")).status(1)
    try:
        done = fx(c.fxd, admin, "policy", "apply", signed, "--json").json()
        assert done["policy"]["name"] == "signed-order-2026"
    finally:
        put_back_draft(c)
