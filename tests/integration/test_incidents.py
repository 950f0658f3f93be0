"""Incidents (SPEC §7, §9-§12, §14), against a server with a pinned clock.

  * reporting: required fields, their forms, 422 naming every bad field (an
    invalid STIX pattern names its indicator), reported_at stamped by the
    server, the late flag against the policy's incident_report_hours (72);
  * updates: versions under If-Match (428 without, 412 stale), status changes,
    the late flag re-evaluated, versions and their stored bytes hashed into the
    ledger leaf of the receipt, the history;
  * the sharing lists: orgs for AMBER and AMBER+STRICT, named users for RED,
    every one of them must exist;
  * lists and their filters, pagination;
  * audit of outside reads of AMBER/RED incidents, the access log;
  * confidentiality at rest: the description and indicators never reach the
    database files in clear;
  * fx incident report|update|list|show|stix.
"""
import base64
import datetime as dt
import hashlib
import json
import os
import subprocess
import tempfile

import pytest

from fxharness import (FX, describe, expect, files_containing, org_client, problem, unique,
                       user_client)
from fxtaxii import TLP_IDS, incident_body, report

NOW = dt.datetime(2026, 3, 2, 12, 0, tzinfo=dt.timezone.utc)
FXD_OPTIONS = {"test_clock": NOW}


def iso(d):
    return d.strftime("%Y-%m-%dT%H:%M:%SZ")


@pytest.fixture(scope="module")
def lab(fxd):
    return org_client(fxd, "developer", role="member")


@pytest.fixture(scope="module")
def lab_admin(fxd, lab):
    return user_client(fxd, fxd.admin, lab.org, "admin")


@pytest.fixture(scope="module")
def grid(fxd):
    return org_client(fxd, "operator", role="member")


# ------------------------------------------------------------ reporting


def test_report(fxd, lab):
    body = incident_body(tlp="AMBER", detected_at=iso(NOW - dt.timedelta(hours=5)),
                         occurred_at=iso(NOW - dt.timedelta(days=1)),
                         affected={"models": ["Model-X"], "systems": ["bucket-7"],
                                   "sectors": ["energy"]})
    r = lab.post("incidents", json=body)
    inc = expect(r, 201)
    assert r.headers["Location"].endswith("/api/v1/incidents/" + inc["id"])
    assert r.headers["ETag"] == inc["etag"]
    assert inc["ref"].startswith("FXI-2026-")
    assert inc["reported_at"] == "2026-03-02T12:00:00.000Z"
    assert inc["detected_at"] == "2026-03-02T07:00:00.000Z"
    assert inc["late"] is False
    assert inc["status"] == "open" and inc["version"] == 1
    assert inc["org_id"] == lab.org["id"]
    assert inc["tlp"] == "AMBER" and inc["title"] == body["title"]
    assert inc["affected"] == body["affected"]
    assert inc["indicators"][0]["pattern"] == body["indicators"][0]["pattern"]
    assert inc["indicators"][0]["id"].startswith("indicator--")
    assert inc["receipt"]["leaf_index"] >= 0
    # by id and by reference
    assert expect(lab.get("incidents/%s" % inc["ref"]), 200)["id"] == inc["id"]
    got = lab.get("incidents/%s" % inc["id"])
    assert expect(got, 200)["etag"] == got.headers["ETag"] == inc["etag"]


@pytest.mark.parametrize("hours,late", [(1, False), (71, False), (72, False), (73, True),
                                        (24 * 30, True)])
def test_late_flag(lab, hours, late):
    inc = report(lab, detected_at=iso(NOW - dt.timedelta(hours=hours)))
    assert inc["late"] is late, (hours, inc)
    assert inc["incident_report_hours"] == 72


def test_required_fields_and_forms(lab):
    r = lab.post("incidents", json={})
    problem(r, 422, ["/title", "/category", "/detected_at", "/severity", "/description", "/tlp"])
    bad = incident_body(category="theft", severity="extreme", tlp="ORANGE", status="closed",
                        detected_at="yesterday", occurred_at="2026-02-30T00:00:00Z",
                        colour="red", affected={"sectors": ["bakeries"], "planets": []},
                        share_with=["not-an-id"])
    problem(lab.post("incidents", json=bad), 422,
            ["/category", "/severity", "/tlp", "/status", "/detected_at", "/occurred_at",
             "/colour", "/affected/sectors/0", "/affected/planets", "/share_with/0"])
    problem(lab.post("incidents", json=incident_body(title="")), 422, ["/title"])
    later = incident_body(occurred_at=iso(NOW - dt.timedelta(hours=1)),
                          detected_at=iso(NOW - dt.timedelta(hours=2)))
    problem(lab.post("incidents", json=later), 422, ["/occurred_at"])
    future = incident_body(detected_at=iso(NOW + dt.timedelta(hours=2)))
    problem(lab.post("incidents", json=future), 422, ["/detected_at"])
    problem(lab.post("incidents", data=b'{"title": ', headers={"Content-Type": "application/json"}),
            400)
    problem(lab.post("incidents", data=b"[]", headers={"Content-Type": "application/json"}), 422)
    problem(lab.post("incidents", data=b"title=x", headers={"Content-Type": "text/plain"}), 415)
    # TLP names: any case, with or without "TLP:"
    assert report(lab, tlp="tlp:amber+strict")["tlp"] == "AMBER+STRICT"
    assert report(lab, tlp="clear")["tlp"] == "CLEAR"


BAD_PATTERNS = [
    "", "ipv4-addr:value = '1.2.3.4'", "[ipv4-addr:value = '1.2.3.4'", "[ipv4-addr:value '1.2.3.4']",
    "[ipv4-addr = '1.2.3.4']", "[:value = '1.2.3.4']", "[ipv4-addr:value = 1.2.3.4]",
    "[ipv4-addr:value = 'unterminated]", "[file:name = 'a' AND]", "[file:name = 'a'] FOLLOWEDBY",
    "[file:name = 'a'] WITHIN seconds", "[file:name = 'a'] WITHIN 0 SECONDS",
    "[file:name = 'a'] REPEATS 2.5 TIMES", "[file:name = 'a'] START t'2026-01-02T00:00:00Z' "
    "STOP t'2026-01-01T00:00:00Z'", "[file:created > t'2026-13-01T00:00:00Z']",
    "[file:hashes.SHA-256 = 'aa']", "[file:name LIKE 5]", "[file:size > true]",
    "[file:name IN ('a', 'b']", "[file:name = 'a' AND ipv4-addr:value = '1.2.3.4']",
    "[file:content = h'abc']", "[file:content = b'abc']", "[file:name = 'a\\n']",
    "[file:name = 'a'] and [file:name = 'b']", "[file:name = 'a'] garbage",
    "(" * 100 + "[file:name = 'a']" + ")" * 100,
]


@pytest.mark.parametrize("pattern", BAD_PATTERNS)
def test_invalid_pattern_names_the_indicator(lab, pattern):
    body = incident_body(indicators=[{"pattern": "[file:name = 'ok.exe']"},
                                     {"pattern": pattern, "description": "the bad one"}])
    p = problem(lab.post("incidents", json=body), 422, ["/indicators/1/pattern"])
    msgs = [e["message"] for e in p["errors"] if e["field"] == "/indicators/1/pattern"]
    assert msgs and ("indicator 1" in msgs[0]), p


def test_indicator_forms(lab):
    problem(lab.post("incidents", json=incident_body(indicators=[{"description": "no pattern"}])),
            422, ["/indicators/0/pattern"])
    problem(lab.post("incidents", json=incident_body(
        indicators=[{"pattern": "alert tcp any any", "pattern_type": "snort"}])), 422,
        ["/indicators/0/pattern_type"])
    problem(lab.post("incidents", json=incident_body(
        indicators=[{"pattern": "[file:name = 'a']", "valid_from": "soon"}])), 422,
        ["/indicators/0/valid_from"])
    same = {"pattern": "[file:name = 'a']"}
    problem(lab.post("incidents", json=incident_body(indicators=[same, same])), 422,
            ["/indicators/1/pattern"])
    problem(lab.post("incidents", json=incident_body(indicators="[file:name = 'a']")), 422,
            ["/indicators"])
    inc = report(lab, indicators=[])
    assert inc["indicators"] == []


def test_sharing_lists(fxd, lab, grid):
    problem(lab.post("incidents", json=incident_body(tlp="RED", share_with=[grid.org["id"]])),
            422, ["/share_with"])
    problem(lab.post("incidents", json=incident_body(tlp="AMBER",
                                                     share_with_users=[grid.user["id"]])),
            422, ["/share_with_users"])
    problem(lab.post("incidents", json=incident_body(tlp="GREEN", share_with=[grid.org["id"]])),
            422, ["/share_with"])
    ghost = "01900000-0000-7000-8000-000000000000"
    problem(lab.post("incidents", json=incident_body(tlp="AMBER", share_with=[grid.org["id"], ghost])),
            422, ["/share_with/1"])
    problem(lab.post("incidents", json=incident_body(tlp="RED", share_with_users=[ghost])),
            422, ["/share_with_users/0"])
    problem(lab.post("incidents", json=incident_body(tlp="AMBER",
                                                     share_with=[grid.org["id"], grid.org["id"]])),
            422, ["/share_with/1"])
    inc = report(lab, tlp="AMBER+STRICT", share_with=[grid.org["id"]])
    assert inc["share_with"] == [grid.org["id"]] and inc["share_with_users"] == []
    red = report(lab, tlp="RED", share_with_users=[grid.user["id"]])
    assert red["share_with_users"] == [grid.user["id"]]


def test_who_may_report(fxd, lab):
    viewer = user_client(fxd, fxd.admin, lab.org, "viewer")
    problem(viewer.post("incidents", json=incident_body()), 403)
    for kind in ("operator", "agency", "developer"):
        c = org_client(fxd, kind, role="member")
        assert report(c)["org_id"] == c.org["id"]
    assert report(fxd.admin)["org_id"] == fxd.admin.org["id"]


# ------------------------------------------------------------ updates and versions


def test_update_versions_and_status(fxd, lab, grid):
    inc = report(lab, tlp="AMBER", share_with=[grid.org["id"]],
                 detected_at=iso(NOW - dt.timedelta(hours=2)))
    path = "incidents/%s" % inc["id"]
    problem(lab.patch(path, json={"status": "contained"}), 428)
    problem(lab.patch(path, json={"status": "contained"}, headers={"If-Match": '"1-0000"'}), 412)
    r = lab.patch(path, json={"status": "contained", "change_reason": "host isolated"},
                  headers={"If-Match": inc["etag"]})
    v2 = expect(r, 200)
    assert v2["version"] == 2 and v2["status"] == "contained"
    assert r.headers["ETag"] == v2["etag"] != inc["etag"]
    assert v2["receipt"]["leaf_index"] > inc["receipt"]["leaf_index"]
    assert v2["reported_at"] == inc["reported_at"] and v2["ref"] == inc["ref"]
    # the first ETag is stale now: no lost update
    problem(lab.patch(path, json={"status": "resolved"}, headers={"If-Match": inc["etag"]}), 412)
    # a merge patch: null removes an optional field; the result must still be complete
    problem(lab.patch(path, json={"title": None}, headers={"If-Match": v2["etag"]}), 422,
            ["/title"])
    v3 = expect(lab.patch(path, json={"status": "resolved", "indicators": None},
                          headers={"If-Match": v2["etag"]}), 200)
    assert v3["version"] == 3 and v3["indicators"] == [] and v3["status"] == "resolved"
    # moving detected_at earlier makes the report late
    v4 = expect(lab.patch(path, json={"detected_at": iso(NOW - dt.timedelta(days=10))},
                          headers={"If-Match": v3["etag"]}), 200)
    assert v4["late"] is True
    # the shared org reads but may not update; a viewer of the lab neither
    problem(grid.patch(path, json={"status": "open"}, headers={"If-Match": v4["etag"]}), 403)
    viewer = user_client(fxd, fxd.admin, lab.org, "viewer")
    problem(viewer.patch(path, json={"status": "open"}, headers={"If-Match": v4["etag"]}), 403)
    # who may not read gets 404
    other = org_client(fxd, "developer", role="member")
    problem(other.patch(path, json={"status": "open"}, headers={"If-Match": v4["etag"]}), 404)

    versions = expect(lab.get(path + "/versions"), 200)["items"]
    assert [v["version"] for v in versions] == [1, 2, 3, 4]
    assert versions[1]["change_reason"] == "host isolated" and versions[1]["status"] == "contained"
    # /versions/{n} serves exactly the bytes the ledger leaf hashed
    for v, answer in ((1, inc), (2, v2)):
        raw = lab.get(path + "/versions/%d" % v)
        assert raw.status_code == 200, describe(raw)
        digest = hashlib.sha256(raw.content).hexdigest()
        assert versions[v - 1]["content_sha256"] == digest
        leaf = json.loads(base64.b64decode(answer["receipt"]["leaf"]))
        assert leaf == {"kind": "incident_version", "record_id": inc["id"], "version": v,
                        "content_sha256": digest, "org": lab.org["id"],
                        "time": "2026-03-02T12:00:00.000Z"}, leaf
        doc = raw.json()
        assert doc["version"] == v and doc["title"] == inc["title"]
    problem(lab.get(path + "/versions/9"), 404)
    problem(lab.get(path + "/versions/zero"), 404)

    history = expect(lab.get(path + "/history"), 200)["items"]
    assert [e["action"] for e in history] == ["reported", "updated", "updated", "updated"]
    assert history[1]["status"] == {"from": "open", "to": "contained"}
    assert history[1]["reason"] == "host isolated"
    assert history[3]["late"] is True


def test_tlp_change_moves_visibility(fxd, lab, grid):
    inc = report(lab, tlp="GREEN")
    path = "incidents/%s" % inc["id"]
    expect(grid.get(path), 200)
    v2 = expect(lab.patch(path, json={"tlp": "RED"}, headers={"If-Match": inc["etag"]}), 200)
    problem(grid.get(path), 404)
    problem(grid.get(path + "/versions/1"), 404)
    problem(grid.get(path + "/history"), 404)
    problem(grid.get(path + "/stix"), 404)
    expect(lab.patch(path, json={"share_with_users": [grid.user["id"]]},
                     headers={"If-Match": v2["etag"]}), 200)
    expect(grid.get(path), 200)


def test_idempotent_report(lab):
    body = incident_body()
    key = unique("idem")
    a = lab.post("incidents", json=body, headers={"Idempotency-Key": key})
    b = lab.post("incidents", json=body, headers={"Idempotency-Key": key})
    assert expect(a, 201)["id"] == expect(b, 201)["id"]
    assert b.headers.get("Idempotent-Replayed") == "true"


# ------------------------------------------------------------ lists


def test_list_filters_and_pages(fxd):
    me = org_client(fxd, "agency", role="member")
    made = []
    for i, (sev, cat, tlp, status) in enumerate([
            ("low", "intrusion", "CLEAR", "open"), ("high", "data_breach", "AMBER", "open"),
            ("critical", "supply_chain", "RED", "contained"), ("high", "intrusion", "GREEN", "resolved"),
            ("medium", "model_misuse", "AMBER+STRICT", "open")]):
        made.append(report(me, severity=sev, category=cat, tlp=tlp, status=status,
                           detected_at=iso(NOW - dt.timedelta(hours=10 + 40 * i))))
    mine = {"reporter": me.org["id"]}

    def ids(**q):
        return [i["id"] for i in me.list_all("incidents", dict(mine, **q))]

    everything = ids()
    assert set(everything) == {m["id"] for m in made}
    assert everything == sorted(everything, reverse=True), "newest first"

    def newest_first(*k):
        return sorted((made[i]["id"] for i in k), reverse=True)

    assert ids(severity="high") == newest_first(3, 1)
    assert ids(category="intrusion") == newest_first(3, 0)
    assert ids(tlp="amber") == newest_first(1)
    assert ids(tlp="AMBER+STRICT") == newest_first(4)
    assert ids(status="contained") == newest_first(2)
    assert ids(late="true") == newest_first(4, 3, 2)
    assert ids(late="false") == newest_first(1, 0)
    assert ids(since="2026-03-02T12:00:00Z") == everything
    assert ids(since="2026-03-02T12:00:01Z") == []
    # pages of 2
    pages, cursor = [], None
    while True:
        q = dict(mine, limit=2)
        if cursor:
            q["cursor"] = cursor
        body = expect(me.get("incidents", params=q), 200)
        pages.append([i["id"] for i in body["items"]])
        cursor = body["next_cursor"]
        if not cursor:
            break
    assert [len(p) for p in pages] == [2, 2, 1]
    assert sum(pages, []) == everything
    for q in ({"tlp": "PURPLE"}, {"severity": "x"}, {"late": "maybe"}, {"since": "today"},
              {"reporter": "x"}, {"limit": "0"}, {"colour": "red"}):
        problem(me.get("incidents", params=q), 422)


# ------------------------------------------------------------ audit, access log, at rest


def audit_rows(admin, record):
    return expect(admin.get("audit", params={"record": record, "limit": 500}), 200)["items"]


def test_outside_reads_are_audited(fxd, lab, lab_admin, grid):
    amber = report(lab, tlp="AMBER", share_with=[grid.org["id"]])
    clear = report(lab, tlp="CLEAR")
    for path in ("incidents/%s", "incidents/%s/stix", "incidents/%s/history"):
        expect(grid.get(path % amber["id"]), 200)
        expect(grid.get(path % clear["id"]), 200)
    expect(lab.get("incidents/%s" % amber["id"]), 200)  # the reporter's own reads are not
    rows = audit_rows(fxd.admin, amber["id"])
    reads = [r for r in rows if r["user_id"] == grid.user["id"]]
    assert {r["action"] for r in reads} >= {"incident.read", "incident.stix", "incident.history"}
    assert not [r for r in rows if r["user_id"] == lab.user["id"] and r["action"] == "incident.read"]
    assert not [r for r in audit_rows(fxd.admin, clear["id"]) if r["user_id"] == grid.user["id"]]
    log = expect(lab_admin.get("incidents/%s/access-log" % amber["id"]), 200)["items"]
    assert {r["user_id"] for r in log} == {grid.user["id"]}
    problem(lab.get("incidents/%s/access-log" % amber["id"]), 403)
    problem(grid.get("incidents/%s/access-log" % amber["id"]), 403)
    expect(fxd.admin.get("incidents/%s/access-log" % amber["id"]), 200)
    page = expect(lab_admin.get("incidents/%s/access-log" % amber["id"], params={"limit": 1}), 200)
    assert len(page["items"]) == 1
    for bad, field in (({"cursor": "x"}, "query:cursor"), ({"cursor": "0"}, "query:cursor"),
                       ({"limit": "0"}, "query:limit"), ({"since": "1"}, "query:since")):
        problem(lab_admin.get("incidents/%s/access-log" % amber["id"], params=bad), 422, [field])
    problem(lab_admin.get("incidents/%s/access-log" % unique("no-such")), 404)


def test_confidential_text_is_not_stored_in_clear(fxd, lab):
    secret = unique("exfil-detail")
    pattern = "[domain-name:value = '%s.example']" % unique("c2")
    report(lab, tlp="RED", description="The attacker used " + secret,
           indicators=[{"pattern": pattern}])
    add_env = {"objects": [{"type": "note", "spec_version": "2.1", "id": "note--6a39d1a4-e1bc-4f47-9d7b-3b8bb6e3a6a2",
                            "created": "2026-01-01T00:00:00.000Z", "modified": "2026-01-01T00:00:00.000Z",
                            "content": "posted " + secret, "object_refs": ["incident--6a39d1a4-e1bc-4f47-9d7b-3b8bb6e3a6a2"]}]}
    r = lab.post("/taxii2/fx/collections/%s/objects/" % lab.org["id"], data=json.dumps(add_env),
                 headers={"Content-Type": "application/taxii+json;version=2.1"})
    assert r.status_code == 202, describe(r)
    found = files_containing(fxd.data, [secret.encode(), pattern.encode()])
    assert not found, "confidential text in clear in %s" % found


# ------------------------------------------------------------ fx incident


@pytest.fixture(scope="module")
def fx(fxd):
    home = tempfile.mkdtemp(prefix="fxcli-home-")

    def run(*args, token=None, stdin=None):
        env = {k: v for k, v in os.environ.items() if not k.startswith("FX_")}
        env.update(HOME=home, FX_URL=fxd.url, FX_TOKEN=token)
        p = subprocess.run([FX] + [str(a) for a in args], env=env, capture_output=True,
                           timeout=120, input=stdin.encode() if stdin else None)
        p.out = p.stdout.decode("utf-8", errors="replace")
        p.err = p.stderr.decode("utf-8", errors="replace")
        return p
    yield run
    subprocess.run(["rm", "-rf", home])


def ok(p):
    assert p.returncode == 0, "fx %s -> %d\n%s\n%s" % (p.args[1:], p.returncode, p.out, p.err)
    return p


def test_fx_incident(fx, lab, grid, outsider, tmp_path):
    f = tmp_path / "incident.json"
    body = incident_body(tlp="AMBER", share_with=[grid.org["id"]],
                         detected_at=iso(NOW - dt.timedelta(hours=100)))
    f.write_text(json.dumps(body))
    created = json.loads(ok(fx("--json", "incident", "report", "--file", str(f), token=lab.token)).out)
    assert created["title"] == body["title"] and created["late"] is True
    human = ok(fx("incident", "show", created["ref"], token=lab.token)).out
    assert created["ref"] in human and "AMBER" in human and body["title"] in human
    listed = ok(fx("incident", "list", "--tlp", "AMBER", token=grid.token)).out
    assert created["ref"] in listed
    js = json.loads(ok(fx("--json", "incident", "list", "--reporter", lab.org["id"], "--all",
                          token=lab.token)).out)
    assert created["id"] in [i["id"] for i in js["items"]]
    patch = tmp_path / "patch.json"
    patch.write_text(json.dumps({"status": "contained"}))
    upd = json.loads(ok(fx("--json", "incident", "update", created["id"], "--file", str(patch),
                           "--reason", "isolated", token=lab.token)).out)
    assert upd["version"] == 2 and upd["status"] == "contained"
    # a stale --if-match is refused by the server (exit 3)
    stale = fx("incident", "update", created["id"], "--file", str(patch), "--if-match",
               created["etag"], token=lab.token)
    assert stale.returncode == 3, (stale.out, stale.err)
    bundle = json.loads(ok(fx("incident", "stix", created["id"], token=grid.token)).out)
    assert bundle["type"] == "bundle"
    assert TLP_IDS["AMBER"] in {o["id"] for o in bundle["objects"]}
    # someone outside the marking: exit 3 and no incident
    p = fx("incident", "show", created["id"], token=outsider.token)
    assert p.returncode == 3
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(dict(body, indicators=[{"pattern": "[broken"}])))
    p = fx("incident", "report", "--file", str(bad), token=lab.token)
    assert p.returncode == 3 and "/indicators/0/pattern" in p.err
    assert fx("incident", "frobnicate", token=lab.token).returncode == 2


@pytest.fixture(scope="module")
def outsider(fxd):
    """A member of an organization nobody shares with."""
    return org_client(fxd, "developer", role="member")
