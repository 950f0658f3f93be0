"""Assessments of covered models (SPEC §5), and findings by marking (SPEC §2).

The coordinator opens the assessment of a notice determined covered, assigning
agencies (a warning when no civilian or no national_security agency is among
them) and the access window (by default the policy's 30 days ending on the
planned release date). Assigned agencies may then read the notice; others still
get 404. Each agency's task goes pending -> in_progress -> complete; a task not
complete after the window's last day is overdue, by the clock. Findings carry a
marking that decides who reads them on every path: list, single, history,
audit, CLI. The coordinator closes the assessment with an advisory outcome.
"""
import datetime as dt

import pytest

from fxharness import expect, files_containing, problem, unique
from fxreview import Community, determined, fx, in_assessment, submitted

FXD_OPTIONS = {"test_clock": dt.datetime(2026, 3, 2, 12, tzinfo=dt.timezone.utc)}


@pytest.fixture(scope="module")
def c(fxd):
    return Community(fxd)


def release(c, days):
    return str(c.fxd.clock.today + dt.timedelta(days=days))


def finding(**over):
    body = {"title": "Exploit chain " + unique(), "severity": "high", "domain": "cyber",
            "description": "Finds and chains two CVEs.", "recommendation": "Patch first.",
            "marking": "government_only"}
    body.update(over)
    return body


def test_open_assigns_agencies_and_sets_the_window(c):
    n = determined(c, planned_release_date=release(c, 120))
    a = expect(c.reviewer.post("notices/%s/assessment" % n["id"],
                               json={"agencies": [c.org("agency_civilian")["id"]]}), 201)
    assert a["warnings"] == ["no national_security agency is assigned"]
    assert a["status"] == "open" and a["version"] == 1 and a["outcome"] is None
    assert a["access_ends"] == release(c, 120) and a["access_starts"] == release(c, 90)
    assert [t["status"] for t in a["tasks"]] == ["pending"]
    assert a["tasks"][0]["agency_org"] == c.org("agency_civilian")["id"]
    assert a["tasks"][0]["mission"] == "civilian" and a["tasks"][0]["overdue"] is False
    assert expect(c.dev.get("notices/%s" % n["id"]), 200)["status"] == "assessment"
    n2, a2 = in_assessment(c)
    assert a2["warnings"] == []
    n3 = determined(c)
    a3 = expect(c.reviewer.post("notices/%s/assessment" % n3["id"],
                                json={"agencies": [c.org("agency_natsec")["id"]],
                                      "access_starts": release(c, 1),
                                      "access_ends": release(c, 10)}), 201)
    assert a3["warnings"] == ["no civilian agency is assigned"]
    assert (a3["access_starts"], a3["access_ends"]) == (release(c, 1), release(c, 10))
    hist = expect(c.dev.get("notices/%s/history" % n3["id"]), 200)["items"]
    opened = [e for e in hist if e["action"] == "assessment_opened"][0]
    assert opened["assessment_id"] == a3["id"] and opened["agencies"] == [c.org("agency_natsec")["id"]]


def test_open_refusals(c):
    n = determined(c)
    civ = c.org("agency_civilian")["id"]
    path = "notices/%s/assessment" % n["id"]
    problem(c.reviewer.post(path, json={"agencies": []}), 422, ["/agencies"])
    problem(c.reviewer.post(path, json={"agencies": [civ, civ.upper()]}), 422, ["/agencies/1"])
    problem(c.reviewer.post(path, json={"agencies": [civ, "nope", 7]}), 422,
            ["/agencies/1", "/agencies/2"])
    p = problem(c.reviewer.post(path, json={"agencies": [c.org("developer_b")["id"],
                                                         "01900000-0000-7000-8000-000000000000",
                                                         civ]}), 422)
    assert {e["field"] for e in p["errors"]} == {"/agencies/0", "/agencies/1"}
    problem(c.reviewer.post(path, json={"agencies": [civ], "access_starts": release(c, 5),
                                        "access_ends": release(c, 4)}), 422, ["/access_ends"])
    problem(c.reviewer.post(path, json={"agencies": [civ], "colour": "red"}), 422, ["/colour"])
    problem(c.dev.post(path, json={"agencies": [civ]}), 403)
    problem(c[("coordinator", "admin")].post(path, json={"agencies": [civ]}), 403)
    problem(c.civ.post(path, json={"agencies": [civ]}), 404)
    assert expect(c.dev.get("notices/%s" % n["id"]), 200)["status"] == "determined"
    expect(c.reviewer.post(path, json={"agencies": [civ]}), 201)
    p = problem(c.reviewer.post(path, json={"agencies": [civ]}), 409)
    assert p["status_now"] == "assessment" and "record_outcome" in p["allowed"]
    # not covered, or not determined yet
    nc = determined(c, determination="not_covered")
    p = problem(c.reviewer.post("notices/%s/assessment" % nc["id"], json={"agencies": [civ]}), 409)
    assert "covered" in p["detail"] and p["status_now"] == "determined" and "allowed" in p
    s = submitted(c)
    p = problem(c.reviewer.post("notices/%s/assessment" % s["id"], json={"agencies": [civ]}), 409)
    assert p["status_now"] == "submitted"


def test_assigned_agencies_read_the_notice_others_do_not(c):
    n, a = in_assessment(c, agencies=("agency_civilian",))
    paths = ["notices/%s", "notices/%s/versions", "notices/%s/versions/1", "notices/%s/history",
             "notices/%s/screening", "notices/%s/determinations", "notices/%s/assessment"]
    for role in ("admin", "member", "reviewer", "viewer"):
        for p in paths:
            expect(c[("agency_civilian", role)].get(p % n["id"]), 200)
            problem(c[("agency_other", role)].get(p % n["id"]), 404)
            problem(c[("agency_natsec", role)].get(p % n["id"]), 404)
        listed = {x["id"] for x in c[("agency_civilian", role)].list_all("notices")}
        assert n["id"] in listed
        assert n["id"] not in {x["id"] for x in c[("agency_other", role)].list_all("notices")}
    # reads from outside the developer org are in the developer's access log
    log = expect(c[("developer_a", "admin")].get("notices/%s/access-log" % n["id"]), 200)["items"]
    assert any(e["org_id"] == c.org("agency_civilian")["id"] for e in log), log
    # an assigned agency reads; it does not write the notice
    etag = expect(c.dev.get("notices/%s" % n["id"]), 200)["etag"]
    problem(c.civ.patch("notices/%s" % n["id"], json={"model_version": "x", "change_reason": "x"},
                        headers={"If-Match": etag}), 403)


def test_task_states(c):
    n, a = in_assessment(c)
    civ = c.org("agency_civilian")["id"]
    task = "assessments/%s/tasks/%s/" % (a["id"], civ)
    problem(c.natsec.post(task + "start"), 403)           # another agency's task
    problem(c[("agency_civilian", "member")].post(task + "start"), 403)
    problem(c.reviewer.post(task + "start"), 403)
    problem(c[("agency_other", "reviewer")].post(task + "start"), 404)
    problem(c.dev.post(task + "start"), 403)
    p = problem(c.civ.post(task + "complete"), 409)
    assert p["status_now"] == "pending" and p["allowed"] == ["start"]
    t = expect(c.civ.post(task + "start", json={}), 200)
    assert t["status"] == "in_progress" and t["started_at"] and t["completed_at"] is None
    p = problem(c.civ.post(task + "start"), 409)
    assert p["status_now"] == "in_progress" and p["allowed"] == ["complete"]
    t = expect(c.civ.post(task + "complete"), 200)
    assert t["status"] == "complete" and t["completed_at"]
    p = problem(c.civ.post(task + "complete"), 409)
    assert p["status_now"] == "complete" and p["allowed"] == []
    problem(c.civ.post("assessments/%s/tasks/%s/start" % (a["id"], c.org("agency_other")["id"])),
            403)
    problem(c.civ.post("assessments/01900000-0000-7000-8000-000000000000/tasks/%s/start" % civ),
            404)
    view = expect(c.dev.get("notices/%s/assessment" % n["id"]), 200)
    assert {t["agency_org"]: t["status"] for t in view["tasks"]} == {
        civ: "complete", c.org("agency_natsec")["id"]: "pending"}
    actions = [e["action"] for e in expect(c.dev.get("notices/%s/history" % n["id"]), 200)["items"]]
    assert actions[-2:] == ["task_started", "task_completed"]


# Who reads a finding of each marking (SPEC §2), on every path.
MARKINGS = ["shared_with_developer", "government_only", "national_security_only"]
FINDING_READERS = [
    # org, role, shared, government_only, national_security_only
    ("coordinator", "admin", True, True, True),
    ("coordinator", "viewer", True, True, True),
    ("agency_civilian", "reviewer", True, True, False),
    ("agency_civilian", "viewer", True, True, False),
    ("agency_natsec", "reviewer", True, True, True),
    ("agency_natsec", "viewer", True, True, True),
    ("developer_a", "admin", True, False, False),
    ("developer_a", "viewer", True, False, False),
]
NOBODY = [("agency_other", "reviewer"), ("developer_b", "admin"), ("operator_partner", "admin")]


@pytest.fixture(scope="module")
def marked(c):
    """An assessment with one finding of each marking, by the civilian agency."""
    n, a = in_assessment(c)
    expect(c.civ.post("assessments/%s/tasks/%s/start" % (a["id"], c.org("agency_civilian")["id"])),
           200)
    found = {}
    for m in MARKINGS:
        f = expect(c.civ.post("assessments/%s/findings" % a["id"], json=finding(marking=m)), 201)
        assert f["marking"] == m and f["agency_org"] == c.org("agency_civilian")["id"]
        found[m] = f
    return n, a, found


@pytest.mark.parametrize("row", FINDING_READERS, ids=["%s-%s" % r[:2] for r in FINDING_READERS])
def test_findings_are_read_by_their_marking_on_every_path(c, marked, row):
    n, a, found = marked
    who = c[row[:2]]
    may = dict(zip(MARKINGS, row[2:]))
    listed = {f["marking"] for f in expect(who.get("assessments/%s/findings" % a["id"]), 200)["items"]}
    assert listed == {m for m in MARKINGS if may[m]}
    for m, f in found.items():
        r = who.get("assessments/%s/findings/%s" % (a["id"], f["id"]))
        if may[m]:
            got = expect(r, 200)
            assert got["title"] == f["title"] and got["description"] == f["description"]
        else:
            problem(r, 404)
    events = [e for e in expect(who.get("notices/%s/history" % n["id"]), 200)["items"]
              if e["action"] == "finding"]
    assert {e["marking"] for e in events} == {m for m in MARKINGS if may[m]}
    out = fx(c.fxd, who, "assess", "findings", a["id"]).ok().out
    for m, f in found.items():
        assert (f["title"] in out) == may[m], (m, out)


@pytest.mark.parametrize("org,role", NOBODY, ids=["%s-%s" % r for r in NOBODY])
def test_others_may_not_learn_of_the_findings(c, marked, org, role):
    n, a, found = marked
    who = c[(org, role)]
    problem(who.get("assessments/%s/findings" % a["id"]), 404)
    for f in found.values():
        problem(who.get("assessments/%s/findings/%s" % (a["id"], f["id"])), 404)
    problem(who.get("notices/%s/history" % n["id"]), 404)


def test_the_developers_audit_trail_names_only_what_it_may_read(c, marked):
    n, a, found = marked
    rows = c[("developer_a", "admin")].list_all("audit")
    records = {r["record"] for r in rows}
    assert found["shared_with_developer"]["id"] in records
    assert found["government_only"]["id"] not in records
    assert found["national_security_only"]["id"] not in records
    every = {r["record"] for r in c.fxd.admin.list_all("audit")}
    assert {f["id"] for f in found.values()} <= every


def test_findings_are_sealed_at_rest(c, marked):
    n, a, found = marked
    needles = [f["title"].encode() for f in found.values()]
    assert not files_containing(c.fxd.data, needles)


def test_finding_refusals(c):
    n, a = in_assessment(c)
    path = "assessments/%s/findings" % a["id"]
    p = problem(c.civ.post(path, json=finding(marking="top_secret", severity="dire", domain="x",
                                              title="", extra=1)), 422)
    assert {"/marking", "/severity", "/domain", "/title", "/extra"} <= {e["field"] for e in p["errors"]}
    problem(c.civ.post(path, json={"title": "t"}), 422, ["/severity", "/domain", "/description",
                                                         "/marking"])
    problem(c.dev.post(path, json=finding()), 403)
    problem(c.reviewer.post(path, json=finding()), 403)
    problem(c[("agency_civilian", "member")].post(path, json=finding()), 403)
    problem(c[("agency_other", "reviewer")].post(path, json=finding()), 404)
    civ = c.org("agency_civilian")["id"]
    expect(c.civ.post("assessments/%s/tasks/%s/start" % (a["id"], civ)), 200)
    expect(c.civ.post("assessments/%s/tasks/%s/complete" % (a["id"], civ)), 200)
    problem(c.civ.post(path, json=finding()), 409)
    expect(c.natsec.post(path, json=finding(marking="national_security_only")), 201)


def test_outcome_closes_the_assessment(c):
    n, a = in_assessment(c)
    path = "assessments/%s/outcome" % a["id"]
    body = {"outcome": "mitigations_recommended", "summary": "Patch the two CVEs first."}
    problem(c.reviewer.post(path, json={"outcome": "approved", "summary": ""}), 422,
            ["/outcome", "/summary"])
    problem(c.civ.post(path, json=body), 403)
    problem(c.dev.post(path, json=body), 403)
    done = expect(c.reviewer.post(path, json=body), 200)
    assert done["status"] == "closed" and done["version"] == 2
    assert done["outcome"] == "mitigations_recommended" and done["summary"] == body["summary"]
    assert expect(c.dev.get("notices/%s" % n["id"]), 200)["status"] == "assessed"
    seen = expect(c.dev.get("notices/%s/assessment" % n["id"]), 200)
    assert seen["outcome"] == "mitigations_recommended" and seen["content_sha256"] != a["content_sha256"]
    p = problem(c.reviewer.post(path, json=body), 409)
    assert p["status_now"] == "closed"
    civ = c.org("agency_civilian")["id"]
    problem(c.civ.post("assessments/%s/tasks/%s/start" % (a["id"], civ)), 409)
    events = [e for e in expect(c.dev.get("notices/%s/history" % n["id"]), 200)["items"]
              if e["action"] == "assessed"]
    assert events and events[0]["outcome"] == "mitigations_recommended"


@pytest.mark.parametrize("end", ["withdraw", "release"])
def test_an_assessment_ends_with_its_notice(c, end):
    """SPEC §3 lets the developer withdraw or release a notice in assessment. Its
    assessment then takes no task step, finding or outcome (409 naming the
    notice's status, with what it allows), and its window and tasks leave the
    deadlines, where they would otherwise stay overdue for ever."""
    n, a = in_assessment(c)
    civ = c.org("agency_civilian")["id"]
    expect(c.civ.post("assessments/%s/tasks/%s/start" % (a["id"], civ)), 200)
    due = lambda: {d["record"]["id"] for d in c.reviewer.list_all("deadlines",
                                                                   params={"within": 3660})}
    assert a["id"] in due()
    if end == "withdraw":
        expect(c.dev.post("notices/%s/withdraw" % n["id"], json={"reason": "Shelved."}), 200)
    else:
        expect(c.dev.post("notices/%s/release" % n["id"],
                          json={"actual_release_date": str(c.fxd.clock.today)}), 200)
    status = "withdrawn" if end == "withdraw" else "released"
    for r in (c.civ.post("assessments/%s/tasks/%s/complete" % (a["id"], civ)),
              c.civ.post("assessments/%s/findings" % a["id"], json=finding()),
              c.reviewer.post("assessments/%s/outcome" % a["id"],
                              json={"outcome": "no_concerns", "summary": "Nothing found."})):
        p = problem(r, 409)
        assert p["status_now"] == status and status in p["detail"] and "allowed" in p, p
    assert a["id"] not in due()
    assert expect(c.civ.get("assessments/%s/findings" % a["id"]), 200)["items"] == []


def test_tasks_not_complete_after_the_window_are_overdue(c):
    n = determined(c)
    civ, nat = c.org("agency_civilian")["id"], c.org("agency_natsec")["id"]
    a = expect(c.reviewer.post("notices/%s/assessment" % n["id"],
                               json={"agencies": [civ, nat], "access_starts": release(c, 0),
                                     "access_ends": release(c, 2)}), 201)
    expect(c.civ.post("assessments/%s/tasks/%s/start" % (a["id"], civ)), 200)
    expect(c.civ.post("assessments/%s/tasks/%s/complete" % (a["id"], civ)), 200)
    view = expect(c.dev.get("notices/%s/assessment" % n["id"]), 200)
    assert view["overdue"] is False
    start = c.fxd.clock.now
    try:
        c.fxd.clock.advance(days=2)  # the last day: not overdue yet
        assert expect(c.dev.get("notices/%s/assessment" % n["id"]), 200)["overdue"] is False
        c.fxd.clock.advance(days=1)
        view = expect(c.dev.get("notices/%s/assessment" % n["id"]), 200)
        assert view["overdue"] is True
        assert {t["agency_org"]: t["overdue"] for t in view["tasks"]} == {civ: False, nat: True}
    finally:
        c.fxd.clock.set(start)


def test_fx_assess_commands(c):
    n = determined(c)
    civ, nat = c.org("agency_civilian")["id"], c.org("agency_natsec")["id"]
    opened = fx(c.fxd, c.reviewer, "assess", "open", n["ref"], "--agencies", civ).ok()
    assert "no national_security agency is assigned" in opened.err and "pending" in opened.out
    fx(c.fxd, c.reviewer, "assess", "open", n["ref"]).status(2)
    a = fx(c.fxd, c.dev, "assess", "show", n["ref"], "--json").json()
    assert a["status"] == "open"
    assert "in_progress" in fx(c.fxd, c.civ, "assess", "start", a["id"], civ).ok().out
    fx(c.fxd, c.civ, "assess", "start", a["id"], nat).status(3)
    f = fx(c.fxd, c.civ, "assess", "finding", a["id"], "--title", "Jailbreak", "--severity", "low",
           "--domain", "cyber", "--marking", "shared_with_developer", "--description",
           "A prompt that...", "--json").json()
    assert f["marking"] == "shared_with_developer"
    bad = fx(c.fxd, c.civ, "assess", "finding", a["id"], "--title", "x", "--marking", "secret").status(3)
    assert "/marking" in bad.err and "/severity" in bad.err
    assert "Jailbreak" in fx(c.fxd, c.dev, "assess", "findings", a["id"]).ok().out
    fx(c.fxd, c.civ, "assess", "complete", a["id"], civ).ok()
    closed = fx(c.fxd, c.reviewer, "assess", "outcome", a["id"], "--outcome", "no_concerns",
                "--summary", "Fine.").ok()
    assert "closed" in closed.out and "no_concerns" in closed.out
