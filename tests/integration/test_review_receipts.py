"""Records of the review process are ledger leaves (SPEC §9).

Screenings, determinations, reconsiderations, assessments and their outcome,
findings (hash only), grant state changes and partner feedback each append a leaf in the
write's own transaction; the write answers with its receipt, and `fx verify`
checks it offline against the served key. Leaves carry no confidential text.
"""
import base64
import datetime as dt
import hashlib
import json
import os
import subprocess

import pytest

from fxharness import FX, expect, problem
from fxreview import (Community, approved_grant, determined, fx, grant_body, in_assessment,
                      policy_file, submitted, under_review)

FXD_OPTIONS = {"test_clock": dt.datetime(2026, 3, 2, 12, tzinfo=dt.timezone.utc)}


@pytest.fixture(scope="module")
def c(fxd):
    return Community(fxd)


def verify(fxd, tmp_path, answer, kind):
    receipt = answer["receipt"]
    leaf = json.loads(base64.b64decode(receipt["leaf"]))
    assert leaf["kind"] == kind, leaf
    key = tmp_path / "ledger.pub"
    key.write_text(fxd.anon().get("/api/v1/ledger/key").text)
    path = tmp_path / ("%s.json" % kind)
    path.write_text(json.dumps(answer))
    p = subprocess.run([FX, "verify", str(path), "--key", str(key)], capture_output=True,
                       timeout=60, env=dict(os.environ, FX_URL="http://127.0.0.1:9"))
    assert p.returncode == 0, (p.stdout, p.stderr)
    return leaf


def test_each_review_record_answers_with_a_verifiable_receipt(c, fxd, tmp_path):
    n = under_review(c)
    det = expect(c.reviewer.post("notices/%s/determination" % n["id"],
                                 json={"determination": "not_covered", "rationale": "below"}), 201)
    verify(fxd, tmp_path, det, "determination")
    n2 = determined(c, determination="not_covered")
    r = c.dev.post("notices/%s/reconsideration" % n2["id"],
                   json={"statement": "the cyber evaluation was run wrongly"})
    recon = expect(r, 201)
    verify(fxd, tmp_path, recon, recon["kind"])

    n3, a = in_assessment(c)
    verify(fxd, tmp_path, a, "assessment")
    f = expect(c.civ.post("assessments/%s/findings" % a["id"],
                          json={"title": "Uplift in exploit writing", "severity": "high",
                                "domain": "cyber", "description": "SECRET-FINDING-TEXT",
                                "recommendation": "gate the tool use",
                                "marking": "government_only"}), 201)
    leaf = verify(fxd, tmp_path, f, "finding")
    assert "SECRET-FINDING-TEXT" not in json.dumps(leaf)

    today = fxd.clock.today
    g = approved_grant(c, n3, today + dt.timedelta(days=1), today + dt.timedelta(days=20))
    verify(fxd, tmp_path, g, "grant")


def test_every_grant_version_is_served_as_its_leaf_hashed_it(c, fxd, tmp_path):
    """Each state change of a grant is a version and a leaf over that version's bytes
    (SPEC §9): GET /grants/{id}/versions/{n} serves them, fx grant version prints them,
    and fx verify --record checks each step's receipt against them. Who may not read
    the grant gets 404 for its versions, as for a version that does not exist."""
    n, _ = in_assessment(c)
    today = fxd.clock.today
    body = grant_body(c, today, today + dt.timedelta(days=20))
    g = expect(c.dev.post("notices/%s/grants" % n["id"], json=body), 201)
    problem(c.partner.get("grants/%s/versions/1" % g["id"]), 404)  # not approved yet
    steps = [g, expect(c.dev.post("grants/%s/consent" % g["id"], json={}), 200),
             expect(c.reviewer.post("grants/%s/consent" % g["id"], json={}), 200),
             expect(c.partner.post("grants/%s/accept" % g["id"],
                                   json={"terms_sha256": g["terms_sha256"]}), 200),
             expect(c.dev.post("grants/%s/revoke" % g["id"], json={"reason": "Done."}), 200)]
    key = tmp_path / "ledger.pub"
    key.write_text(fxd.anon().get("/api/v1/ledger/key").text)
    for i, answer in enumerate(steps, start=1):
        leaf = json.loads(base64.b64decode(answer["receipt"]["leaf"]))
        assert (leaf["kind"], leaf["record_id"], leaf["version"]) == ("grant", g["id"], i), leaf
        for who in (c.dev, c.reviewer, c.partner):
            r = who.get("grants/%s/versions/%d" % (g["id"], i))
            assert r.status_code == 200, r.text
            assert hashlib.sha256(r.content).hexdigest() == leaf["content_sha256"]
        record, receipt = tmp_path / ("v%d.json" % i), tmp_path / ("r%d.json" % i)
        record.write_bytes(r.content)
        receipt.write_text(json.dumps(answer))
        p = subprocess.run([FX, "verify", str(receipt), "--key", str(key), "--record", str(record)],
                           capture_output=True, timeout=60,
                           env=dict(os.environ, FX_URL="http://127.0.0.1:9"))
        assert p.returncode == 0, (p.stdout, p.stderr)
        assert fx(fxd, c.dev, "grant", "version", g["id"], i).ok().out.encode() == r.content
    assert "Done." in json.loads(r.content).values()
    missing = problem(c.dev.get("grants/%s/versions/%d" % (g["id"], len(steps) + 1)), 404)
    for path in ("grants/%s/versions/0", "grants/%s/versions/x", "grants/%s/versions/1"):
        who = c.dev if not path.endswith("/1") else c[("developer_b", "admin")]
        assert problem(who.get(path % g["id"]), 404)["detail"] == missing["detail"]


def test_every_screening_is_a_leaf_over_the_bytes_the_api_serves(c, fxd, tmp_path):
    """SPEC §9: screenings are leaves. A submission's answer ends with the screening's
    receipt; /screenings/{n} serves the exact bytes its content_sha256 names; an
    amendment adds the next; a policy application appends one per open notice, in
    the range its answer names, each event naming its leaf."""
    n = submitted(c)
    kinds = [json.loads(base64.b64decode(r["leaf"]))["kind"] for r in n["receipts"]]
    assert kinds == ["notice_version", "notice_submitted", "screening"]
    leaf = verify(fxd, tmp_path, n, "screening")
    assert leaf["record_id"] == n["id"] and leaf["version"] == 1
    assert leaf["org"] == c.org("developer_a")["id"]
    one = c.dev.get("notices/%s/screenings/1" % n["id"])
    assert one.status_code == 200 and one.content == c.dev.get(
        "notices/%s/screening" % n["id"]).content
    assert hashlib.sha256(one.content).hexdigest() == leaf["content_sha256"]
    record = tmp_path / "screening-1.json"
    record.write_bytes(one.content)
    answer = tmp_path / "submitted.json"
    answer.write_text(json.dumps(n))
    key = tmp_path / "ledger.pub"
    p = subprocess.run([FX, "verify", str(answer), "--key", str(key), "--record", str(record)],
                       capture_output=True, timeout=60)
    assert p.returncode == 0, p.stderr
    # an amendment of a submitted notice: screening 2, the answer's last receipt
    a = expect(c.dev.patch("notices/%s" % n["id"], json={"description": "Longer now.",
                                                         "change_reason": "wording"},
                           headers={"If-Match": n["etag"]}), 200)
    leaf2 = verify(fxd, tmp_path, a, "screening")
    assert leaf2["version"] == 2
    two = expect(c.dev.get("notices/%s/screenings/2" % n["id"]), 200)
    assert json.loads(c.dev.get("notices/%s/screenings/2" % n["id"]).content) == two
    assert hashlib.sha256(c.dev.get("notices/%s/screenings/2" % n["id"]).content).hexdigest() \
        == leaf2["content_sha256"]
    # version 1 still serves its own bytes
    assert c.dev.get("notices/%s/screenings/1" % n["id"]).content == one.content
    for bad in ("3", "0", "-1", "x", "1.0", "99999999999999999999"):
        r = c.dev.get("notices/%s/screenings/%s" % (n["id"], bad))
        assert r.status_code == 404, (bad, r.status_code, r.text)
    # need to know: another developer does not learn that the notice exists
    r = c[("developer_b", "member")].get("notices/%s/screenings/1" % n["id"])
    assert r.status_code == 404


def test_a_policy_application_appends_a_leaf_per_screening(c, fxd):
    n = submitted(c)
    admin = fxd.admin
    draft = policy_file("draft-order-2026.json")
    signed = policy_file("signed-order-2026.json")
    applied = expect(admin.put("policy", json=signed), 200)
    try:
        rng = applied["screening_leaves"]
        assert rng["count"] == applied["examined"] >= 1
        policy_leaf = json.loads(base64.b64decode(applied["receipt"]["leaf"]))
        assert policy_leaf["kind"] == "policy"
        assert applied["receipt"]["leaf_index"] == rng["first"] + rng["count"]
        anon = fxd.anon()
        ours = None
        for i in range(rng["first"], rng["first"] + rng["count"]):
            e = expect(anon.get("ledger/entries/%d" % i), 200)
            leaf = json.loads(base64.b64decode(e["leaf"]))
            assert leaf["kind"] == "screening", leaf
            if leaf["record_id"] == n["id"]:
                ours = (i, leaf)
        assert ours is not None, "no screening leaf for the open notice"
        index, leaf = ours
        s = c.dev.get("notices/%s/screenings/%d" % (n["id"], leaf["version"]))
        assert s.status_code == 200 and json.loads(s.content)["trigger"] == "policy"
        assert hashlib.sha256(s.content).hexdigest() == leaf["content_sha256"]
        ev = [e for e in expect(c.dev.get("notices/%s/history" % n["id"]), 200)["items"]
              if e["action"] == "screened"][-1]
        assert ev["ledger_index"] == index
        # the policy's checkpoint covers the range: a proof at its size checks out
        size = applied["receipt"]["leaf_index"] + 1
        expect(anon.get("ledger/proof/inclusion", params={"index": index, "size": size}), 200)
    finally:
        expect(admin.put("policy", json=draft), 200)
