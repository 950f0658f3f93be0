"""Records of the review process are ledger leaves (SPEC §9).

Determinations, reconsiderations, assessments and their outcome, findings
(hash only), grant state changes and partner feedback each append a leaf in the
write's own transaction; the write answers with its receipt, and `fx verify`
checks it offline against the served key. Leaves carry no confidential text.
"""
import base64
import datetime as dt
import json
import os
import subprocess

import pytest

from fxharness import FX, expect
from fxreview import Community, approved_grant, determined, in_assessment, under_review

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
