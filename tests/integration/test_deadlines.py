"""Deadlines (SPEC §4-6, §13): GET /api/v1/deadlines and fx deadlines.

Notices releasing soon, assessment windows opening and closing, assessment
tasks due (and overdue once the window's last day has passed), grants starting
and ending: each with the record, the due date and the days left, by the one
clock (pinned here with --test-clock), and only what the caller may see.
"""
import datetime as dt

import pytest

from fxharness import expect, problem
from fxreview import Community, approved_grant, determined, fx, grant_body, submitted

FXD_OPTIONS = {"test_clock": dt.datetime(2026, 3, 2, 12, tzinfo=dt.timezone.utc)}


@pytest.fixture(scope="module")
def c(fxd):
    return Community(fxd)


def on(c, days):
    return str(c.fxd.clock.today + dt.timedelta(days=days))


def items(client, **params):
    out = expect(client.get("deadlines", params=params), 200)
    return out["items"]


def find(rows, kind, record_id):
    hits = [d for d in rows if d["kind"] == kind and d["record"]["id"] == record_id]
    assert len(hits) <= 1, hits
    return hits[0] if hits else None


def test_notices_releasing_soon(c):
    n = submitted(c, planned_release_date=on(c, 10))
    far = submitted(c, planned_release_date=on(c, 200))
    d = find(items(c.dev), "notice_release", n["id"])
    assert d == {"kind": "notice_release", "record": {"kind": "notice", "id": n["id"]},
                 "due": on(c, 10), "days_left": 10, "overdue": False, "notice_id": n["id"],
                 "ref": n["ref"]}
    assert find(items(c.dev), "notice_release", far["id"]) is None
    assert find(items(c.dev, within=365), "notice_release", far["id"])["days_left"] == 200
    assert find(items(c.reviewer), "notice_release", n["id"]) is not None
    for who in (("developer_b", "admin"), ("agency_civilian", "reviewer"),
                ("operator_partner", "admin")):
        assert find(items(c[who], within=365), "notice_release", n["id"]) is None
    # drafts are the developer's alone; withdrawn notices release nothing
    expect(c.dev.post("notices/%s/withdraw" % n["id"], json={"reason": "x"}), 200)
    assert find(items(c.dev), "notice_release", n["id"]) is None


def test_assessment_windows_and_overdue_tasks(c):
    n = determined(c, planned_release_date=on(c, 40))
    civ, nat = c.org("agency_civilian")["id"], c.org("agency_natsec")["id"]
    a = expect(c.reviewer.post("notices/%s/assessment" % n["id"], json={"agencies": [civ]}), 201)
    assert (a["access_starts"], a["access_ends"]) == (on(c, 10), on(c, 40))
    rows = items(c.civ)
    assert find(rows, "assessment_opens", a["id"])["days_left"] == 10
    assert find(rows, "assessment_closes", a["id"]) is None
    rows = items(c.civ, within=60)
    assert find(rows, "assessment_closes", a["id"])["due"] == on(c, 40)
    assert find(rows, "task_due", a["id"])["agency_org"] == civ
    assert find(items(c.natsec, within=60), "assessment_opens", a["id"]) is None

    n2 = determined(c)
    a2 = expect(c.reviewer.post("notices/%s/assessment" % n2["id"],
                                json={"agencies": [civ, nat], "access_starts": on(c, 0),
                                      "access_ends": on(c, 2)}), 201)
    expect(c.natsec.post("assessments/%s/tasks/%s/start" % (a2["id"], nat)), 200)
    expect(c.natsec.post("assessments/%s/tasks/%s/complete" % (a2["id"], nat)), 200)
    due = [d for d in items(c.reviewer) if d["kind"] == "task_due" and d["record"]["id"] == a2["id"]]
    assert [(d["agency_org"], d["days_left"], d["overdue"]) for d in due] == [(civ, 2, False)]
    start = c.fxd.clock.now
    try:
        c.fxd.clock.advance(days=3)
        rows = items(c.reviewer, within=0)
        late = [d for d in rows if d["kind"] == "task_due" and d["record"]["id"] == a2["id"]]
        assert [(d["agency_org"], d["days_left"], d["overdue"]) for d in late] == [(civ, -1, True)]
        assert find(items(c.civ, within=0), "task_due", a2["id"])["overdue"] is True
        assert find(items(c.dev, within=0), "task_due", a2["id"]) is not None
        assert find(items(c[("agency_other", "reviewer")], within=0), "task_due", a2["id"]) is None
        out = fx(c.fxd, c.reviewer, "deadlines", "--within", "0", "--kind", "task_due").ok().out
        assert n2["ref"] in out and "-1" in out
    finally:
        c.fxd.clock.set(start)


def test_grants_starting_and_ending(c):
    n = determined(c)
    g = approved_grant(c, n, on(c, 5), on(c, 20))
    proposed = expect(c.dev.post("notices/%s/grants" % n["id"],
                                 json=grant_body(c, on(c, 6), on(c, 21))), 201)
    rows = items(c.partner)
    starts, ends = find(rows, "grant_starts", g["id"]), find(rows, "grant_ends", g["id"])
    assert starts["days_left"] == 5 and ends["days_left"] == 20
    assert starts["notice_id"] is None and starts["ref"] is None  # the partner never learns it
    assert find(rows, "grant_starts", proposed["id"]) is None
    mine = items(c.dev)
    assert find(mine, "grant_starts", g["id"])["ref"] == n["ref"]
    assert find(mine, "grant_starts", proposed["id"]) is not None
    assert find(items(c[("operator_other", "admin")]), "grant_starts", g["id"]) is None
    assert find(items(c.civ), "grant_starts", g["id"]) is None
    expect(c.dev.post("grants/%s/revoke" % g["id"], json={"reason": "r"}), 200)
    assert find(items(c.dev), "grant_ends", g["id"]) is None


def test_sorted_filtered_paginated_and_validated(c):
    for days in (3, 1, 2):
        submitted(c, planned_release_date=on(c, days))
    rows = items(c.dev, within=30)
    dues = [d["due"] for d in rows]
    assert dues == sorted(dues)
    only = items(c.dev, kind="notice_release")
    assert only and all(d["kind"] == "notice_release" for d in only)
    first = expect(c.dev.get("deadlines", params={"limit": 2}), 200)
    assert len(first["items"]) == 2 and first["next_cursor"] and first["today"] == on(c, 0)
    rest = expect(c.dev.get("deadlines", params={"limit": 2, "cursor": first["next_cursor"]}), 200)
    assert rest["items"][0] != first["items"][-1]
    everything = c.dev.list_all("deadlines")
    assert everything == expect(c.dev.get("deadlines", params={"limit": 500}), 200)["items"]
    problem(c.dev.get("deadlines", params={"within": "soon"}), 422, ["query:within"])
    problem(c.dev.get("deadlines", params={"within": -1}), 422, ["query:within"])
    problem(c.dev.get("deadlines", params={"kind": "birthday"}), 422, ["query:kind"])
    problem(c.dev.get("deadlines", params={"cursor": "x"}), 422, ["query:cursor"])
    problem(c.dev.get("deadlines", params={"colour": "red"}), 422, ["query:colour"])
    problem(c.dev.get("deadlines", token=None), 401)


def test_fx_deadlines(c):
    n = submitted(c, planned_release_date=on(c, 4))
    out = fx(c.fxd, c.dev, "deadlines").ok().out
    assert n["ref"] in out and "notice_release" in out
    js = fx(c.fxd, c.dev, "deadlines", "--within", "5", "--json").json()
    assert find(js["items"], "notice_release", n["id"])["days_left"] == 4
    fx(c.fxd, c.dev, "deadlines", "--within", "x").status(3)
