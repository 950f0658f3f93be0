"""Incident reporting deadlines in GET /api/v1/deadlines (SPEC §7, §13, §14).

An incident's deadline is its reporting deadline: detected_at plus the
incident_report_hours of the policy its current version was judged under (the
figure that sets `late`). It is listed while it falls from today through
`within` days ahead, and, when the report came late, for as long as the
incident is not resolved (overdue, as a task stays overdue until complete).
`overdue` is the incident's `late`. Who sees an item is decided by the TLP
gate exactly as on every other incident path: the table of test_tlp_matrix.py,
every TLP level against every kind of organization. Items naming AMBER,
AMBER+STRICT or RED incidents of another org are audited before the answer.
"""
import datetime as dt
import pytest

from fxharness import expect, problem, user_client
from fxreview import fx, policy_file
from fxtaxii import LEVELS, report
from test_tlp_matrix import READERS, SEES, world  # noqa: F401  (world: the fixture)

NOW = dt.datetime(2026, 3, 2, 12, tzinfo=dt.timezone.utc)
FXD_OPTIONS = {"test_clock": NOW}


def iso(t):
    return t.strftime("%Y-%m-%dT%H:%M:%S.000Z")


def deadlines(client, **params):
    params.setdefault("kind", "incident_report")
    return expect(client.get("deadlines", params=dict(params, limit=500)), 200)["items"]


def find(rows, incident_id):
    hits = [d for d in rows if d["record"]["id"] == incident_id]
    assert len(hits) <= 1, hits
    return hits[0] if hits else None


@pytest.mark.parametrize("who", READERS)
def test_every_tlp_level_against_every_kind_of_org(world, who):  # noqa: F811
    """The world's incidents were detected 2026-01-10 08:00 and reported now: late, open."""
    w, incidents = world
    rows = deadlines(w[who])
    for level in LEVELS:
        inc = incidents[level]
        d = find(rows, inc["id"])
        if level not in SEES[who]:
            assert d is None, (who, level)
            continue
        assert d == {"kind": "incident_report", "record": {"kind": "incident", "id": inc["id"]},
                     "due": "2026-01-13", "due_at": "2026-01-13T08:00:00.000Z",
                     "days_left": -48, "overdue": True, "notice_id": None, "ref": inc["ref"],
                     "reported_at": iso(NOW), "status": d["status"], "tlp": level}, (who, d)
        assert d["status"] in ("open", "contained")
        assert d["due_at"] == inc["report_deadline"]


def test_outside_reads_of_confidential_incidents_are_audited(fxd, world):  # noqa: F811
    w, incidents = world
    partner, named = w["partner"], w["named"]
    assert find(deadlines(partner), incidents["AMBER+STRICT"]["id"]) is not None
    assert find(deadlines(named), incidents["RED"]["id"]) is not None
    # the reporter org's admin reads its incidents' audit trail
    lab_admin = user_client(fxd, fxd.admin, w["lab_member"].org, "admin")
    for level, reader, audited in (("AMBER", partner, True), ("AMBER+STRICT", partner, True),
                                   ("RED", named, True), ("GREEN", partner, False)):
        rows = expect(lab_admin.get("audit", params={"record": incidents[level]["id"],
                                                     "limit": 500}), 200)["items"]
        mine = [r for r in rows if r["action"] == "incident.deadlines"
                and r["user_id"] == reader.user["id"]]
        assert bool(mine) == audited, (level, rows)


def test_an_on_time_report_shows_its_deadline_ahead(world):  # noqa: F811
    w, _ = world
    lab = w["lab_member"]
    detected = NOW - dt.timedelta(hours=1)
    inc = report(lab, tlp="GREEN", detected_at=iso(detected))
    assert inc["late"] is False
    d = find(deadlines(lab), inc["id"])
    due = detected + dt.timedelta(hours=72)
    assert d["due"] == due.date().isoformat() and d["due_at"] == iso(due)
    assert d["days_left"] == 3 and d["overdue"] is False
    # outside the window: not listed; within=3 reaches it
    assert find(deadlines(lab, within=2), inc["id"]) is None
    assert find(deadlines(lab, within=3), inc["id"]) is not None
    # every reader of GREEN sees it, through the whole list too
    assert find(expect(w["grid"].get("deadlines"), 200)["items"], inc["id"]) is not None


def test_late_incidents_leave_the_list_once_resolved(world):  # noqa: F811
    w, _ = world
    lab = w["lab_member"]
    inc = report(lab, tlp="AMBER", detected_at="2025-06-01T00:00:00Z")
    assert inc["late"] is True
    assert find(deadlines(lab), inc["id"])["overdue"] is True
    r = lab.patch("incidents/%s" % inc["id"], json={"status": "resolved"},
                  headers={"If-Match": inc["etag"]})
    expect(r, 200)
    assert find(deadlines(lab), inc["id"]) is None
    # reported on time, due later today: listed even with within=0
    ok = report(lab, tlp="AMBER", detected_at=iso(NOW - dt.timedelta(hours=66)))
    assert ok["late"] is False
    d = find(deadlines(lab, within=0), ok["id"])
    assert d["days_left"] == 0 and d["overdue"] is False
    assert d["due_at"] == iso(NOW + dt.timedelta(hours=6))


def test_kind_filter_and_the_cli(fxd, world):  # noqa: F811
    w, incidents = world
    lab = w["lab_member"]
    rows = expect(lab.get("deadlines", params={"limit": 500}), 200)["items"]
    assert find(rows, incidents["RED"]["id"]) is not None
    assert {d["kind"] for d in deadlines(lab)} == {"incident_report"}
    problem(lab.get("deadlines", params={"kind": "incident"}), 422, ["query:kind"])
    out = fx(fxd, lab, "deadlines", "--kind", "incident_report").ok().out
    assert incidents["RED"]["ref"] in out and "incident_report" in out
    js = fx(fxd, lab, "deadlines", "--kind", "incident_report", "--json").json()
    assert incidents["RED"]["id"] in {d["record"]["id"] for d in js["items"]}
    # a reader the marking keeps out finds no trace of it in the CLI either
    out = fx(fxd, w["grid"], "deadlines", "--kind", "incident_report").ok().out
    assert incidents["RED"]["ref"] not in out


def test_the_deadline_follows_the_incidents_policy(world):  # noqa: F811
    """A tighter policy moves the deadline of incidents judged under it, not of older ones."""
    w, incidents = world
    lab, coord = w["lab_member"], w["coord_admin"]
    draft = policy_file("draft-order-2026.json")
    expect(coord.put("policy", json=dict(draft, name="tight-incident-clock",
                                         incident_report_hours=24)), 200)
    try:
        detected = NOW - dt.timedelta(hours=30)
        inc = report(lab, tlp="CLEAR", detected_at=iso(detected))
        assert inc["late"] is True
        d = find(deadlines(lab), inc["id"])
        assert d["due_at"] == iso(detected + dt.timedelta(hours=24)) and d["overdue"] is True
        # the world's incidents keep the deadline of the policy they were judged under
        assert find(deadlines(lab), incidents["CLEAR"]["id"])["due_at"] == \
            "2026-01-13T08:00:00.000Z"
    finally:
        expect(coord.put("policy", json=draft), 200)
