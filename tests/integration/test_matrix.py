"""The need-to-know matrix of the review process (SPEC §2, §4-6), as a table.

Every org kind and role against every record kind and every endpoint of the
review process. Y: allowed (2xx); F: 403, the caller may know the record but
not do this; N: 404, the caller may not even learn that it exists.

The community (tests/lib/fxreview.py): the coordinator; three agencies, two of
them assigned to the assessment (civilian and national_security) and one not;
developer A, whose notice it is, and developer B; the partner operator of the
grant, and another operator. Every org has a user per role it may hold.

Reads, on a notice in assessment (both assigned agencies) with a finding of
each marking (by the national_security agency), an approved grant and a
proposed one:
    pol  GET  /policy
    scr  GET  /notices/{id}/screening
    det  GET  /notices/{id}/determinations
    asm  GET  /notices/{id}/assessment
    fls  GET  /assessments/{id}/findings            (200 lists only what the marking allows)
    fgv  GET  /assessments/{id}/findings/{f}        marking government_only
    fns  GET  /assessments/{id}/findings/{f}        marking national_security_only
    fsh  GET  /assessments/{id}/findings/{f}        marking shared_with_developer
    gra  GET  /grants/{id}                          approved
    grp  GET  /grants/{id}                          proposed (not yet approved)
    gls  GET  /grants                               (200 lists only what the caller may read)
    ddl  GET  /deadlines                            (200 lists only what the caller may read)
Writes, each on a record in the state the step needs:
    chk  POST /policy/check
    put  PUT  /policy
    rev  POST /notices/{id}/review                  a submitted notice
    dtm  POST /notices/{id}/determination           a notice under review
    rcn  POST /notices/{id}/reconsideration         a determined notice
    opn  POST /notices/{id}/assessment              a notice determined covered
    tsk  POST /assessments/{id}/tasks/{civilian}/start
    fnd  POST /assessments/{id}/findings
    out  POST /assessments/{id}/outcome
    prp  POST /notices/{id}/grants                  a notice in assessment
    cns  POST /grants/{id}/consent                  a proposed grant
    acc  POST /grants/{id}/accept                   an approved grant
    rvk  POST /grants/{id}/revoke                   an approved grant
    fbk  POST /grants/{id}/feedback                 an active grant

Notes the table encodes: notices not yet in assessment are unknown to agencies
(rev, dtm, rcn, opn: N); agencies never read grants, even when assigned; a
partner does not learn of a proposal (grp, cns: N); only reviewers of the
task's own agency move a task.
"""
import datetime as dt

import pytest

from fxharness import describe
from fxreview import (Community, approved_grant, determined, grant_body, in_assessment,
                      policy_file, submitted, under_review)

COLUMNS = ("pol scr det asm fls fgv fns fsh gra grp gls ddl "
           "chk put rev dtm rcn opn tsk fnd out prp cns acc rvk fbk").split()

MATRIX = [
    #                             pol scr det asm fls fgv fns fsh gra grp gls ddl | chk put rev dtm rcn opn tsk fnd out prp cns acc rvk fbk
    ("coordinator", "admin",     "Y   Y   Y   Y   Y   Y   Y   Y   Y   Y   Y   Y  |  Y   Y   F   F   F   F   F   F   F   Y   Y   F   Y   F"),
    ("coordinator", "member",    "Y   Y   Y   Y   Y   Y   Y   Y   Y   Y   Y   Y  |  F   F   F   F   F   F   F   F   F   Y   Y   F   Y   F"),
    ("coordinator", "reviewer",  "Y   Y   Y   Y   Y   Y   Y   Y   Y   Y   Y   Y  |  Y   F   Y   Y   F   Y   F   F   Y   Y   Y   F   Y   F"),
    ("coordinator", "viewer",    "Y   Y   Y   Y   Y   Y   Y   Y   Y   Y   Y   Y  |  F   F   F   F   F   F   F   F   F   F   F   F   F   F"),
    ("agency_civilian", "admin",    "Y   Y   Y   Y   Y   Y   N   Y   N   N   Y   Y  |  F   F   N   N   N   N   F   F   F   F   N   N   N   N"),
    ("agency_civilian", "member",   "Y   Y   Y   Y   Y   Y   N   Y   N   N   Y   Y  |  F   F   N   N   N   N   F   F   F   F   N   N   N   N"),
    ("agency_civilian", "reviewer", "Y   Y   Y   Y   Y   Y   N   Y   N   N   Y   Y  |  F   F   N   N   N   N   Y   Y   F   F   N   N   N   N"),
    ("agency_civilian", "viewer",   "Y   Y   Y   Y   Y   Y   N   Y   N   N   Y   Y  |  F   F   N   N   N   N   F   F   F   F   N   N   N   N"),
    ("agency_natsec", "admin",      "Y   Y   Y   Y   Y   Y   Y   Y   N   N   Y   Y  |  F   F   N   N   N   N   F   F   F   F   N   N   N   N"),
    ("agency_natsec", "member",     "Y   Y   Y   Y   Y   Y   Y   Y   N   N   Y   Y  |  F   F   N   N   N   N   F   F   F   F   N   N   N   N"),
    ("agency_natsec", "reviewer",   "Y   Y   Y   Y   Y   Y   Y   Y   N   N   Y   Y  |  F   F   N   N   N   N   F   Y   F   F   N   N   N   N"),
    ("agency_natsec", "viewer",     "Y   Y   Y   Y   Y   Y   Y   Y   N   N   Y   Y  |  F   F   N   N   N   N   F   F   F   F   N   N   N   N"),
    ("agency_other", "admin",       "Y   N   N   N   N   N   N   N   N   N   Y   Y  |  F   F   N   N   N   N   N   N   N   N   N   N   N   N"),
    ("agency_other", "member",      "Y   N   N   N   N   N   N   N   N   N   Y   Y  |  F   F   N   N   N   N   N   N   N   N   N   N   N   N"),
    ("agency_other", "reviewer",    "Y   N   N   N   N   N   N   N   N   N   Y   Y  |  F   F   N   N   N   N   N   N   N   N   N   N   N   N"),
    ("agency_other", "viewer",      "Y   N   N   N   N   N   N   N   N   N   Y   Y  |  F   F   N   N   N   N   N   N   N   N   N   N   N   N"),
    ("developer_a", "admin",     "Y   Y   Y   Y   Y   N   N   Y   Y   Y   Y   Y  |  F   F   F   F   Y   F   F   F   F   Y   Y   F   Y   F"),
    ("developer_a", "member",    "Y   Y   Y   Y   Y   N   N   Y   Y   Y   Y   Y  |  F   F   F   F   Y   F   F   F   F   Y   Y   F   Y   F"),
    ("developer_a", "viewer",    "Y   Y   Y   Y   Y   N   N   Y   Y   Y   Y   Y  |  F   F   F   F   F   F   F   F   F   F   F   F   F   F"),
    ("developer_b", "admin",     "Y   N   N   N   N   N   N   N   N   N   Y   Y  |  F   F   N   N   N   N   N   N   N   N   N   N   N   N"),
    ("developer_b", "member",    "Y   N   N   N   N   N   N   N   N   N   Y   Y  |  F   F   N   N   N   N   N   N   N   N   N   N   N   N"),
    ("developer_b", "viewer",    "Y   N   N   N   N   N   N   N   N   N   Y   Y  |  F   F   N   N   N   N   N   N   N   N   N   N   N   N"),
    ("operator_partner", "admin",  "Y   N   N   N   N   N   N   N   Y   N   Y   Y  |  F   F   N   N   N   N   N   N   N   N   N   Y   F   Y"),
    ("operator_partner", "member", "Y   N   N   N   N   N   N   N   Y   N   Y   Y  |  F   F   N   N   N   N   N   N   N   N   N   Y   F   Y"),
    ("operator_partner", "viewer", "Y   N   N   N   N   N   N   N   Y   N   Y   Y  |  F   F   N   N   N   N   N   N   N   N   N   F   F   F"),
    ("operator_other", "admin",    "Y   N   N   N   N   N   N   N   N   N   Y   Y  |  F   F   N   N   N   N   N   N   N   N   N   N   N   N"),
    ("operator_other", "member",   "Y   N   N   N   N   N   N   N   N   N   Y   Y  |  F   F   N   N   N   N   N   N   N   N   N   N   N   N"),
    ("operator_other", "viewer",   "Y   N   N   N   N   N   N   N   N   N   Y   Y  |  F   F   N   N   N   N   N   N   N   N   N   N   N   N"),
]

DRAFT = policy_file("draft-order-2026.json")
SIGNED = policy_file("signed-order-2026.json")
TODAY = dt.datetime.now(dt.timezone.utc).date()


def cells(row):
    codes = row[2].replace("|", " ").split()
    assert len(codes) == len(COLUMNS), row
    return dict(zip(COLUMNS, codes))


@pytest.fixture(scope="module")
def c(fxd):
    return Community(fxd)


@pytest.fixture(scope="module")
def world(c):
    """The records the read columns look at."""
    n, a = in_assessment(c)
    expect_ok(c.reviewer.get("notices/%s/screening" % n["id"]))
    findings = {}
    for m in ("government_only", "national_security_only", "shared_with_developer"):
        r = c.natsec.post("assessments/%s/findings" % a["id"],
                          json={"title": "t", "severity": "low", "domain": "cyber",
                                "description": "d", "marking": m})
        findings[m] = expect_ok(r)["id"]
    approved = approved_grant(c, n, TODAY, TODAY + dt.timedelta(days=30))
    proposed = expect_ok(c.dev.post("notices/%s/grants" % n["id"],
                                    json=grant_body(c, TODAY, TODAY + dt.timedelta(days=30))))
    return {"notice": n, "assessment": a, "findings": findings, "approved": approved,
            "proposed": proposed}


def expect_ok(r):
    assert 200 <= r.status_code < 300, describe(r)
    return r.json()


def read_request(col, w):
    n, a, f = w["notice"]["id"], w["assessment"]["id"], w["findings"]
    return {
        "pol": "policy",
        "scr": "notices/%s/screening" % n,
        "det": "notices/%s/determinations" % n,
        "asm": "notices/%s/assessment" % n,
        "fls": "assessments/%s/findings" % a,
        "fgv": "assessments/%s/findings/%s" % (a, f["government_only"]),
        "fns": "assessments/%s/findings/%s" % (a, f["national_security_only"]),
        "fsh": "assessments/%s/findings/%s" % (a, f["shared_with_developer"]),
        "gra": "grants/%s" % w["approved"]["id"],
        "grp": "grants/%s" % w["proposed"]["id"],
        "gls": "grants",
        "ddl": "deadlines",
    }[col]


def write_request(c, col):
    """A fresh record in the state the step needs: (method, path, body)."""
    civ = c.org("agency_civilian")["id"]
    if col == "chk":
        return "POST", "policy/check", SIGNED
    if col == "put":
        return "PUT", "policy", SIGNED
    if col == "rev":
        return "POST", "notices/%s/review" % submitted(c)["id"], {}
    if col == "dtm":
        return ("POST", "notices/%s/determination" % under_review(c)["id"],
                {"determination": "covered", "rationale": "r"})
    if col == "rcn":
        return "POST", "notices/%s/reconsideration" % determined(c)["id"], {"statement": "s"}
    if col == "opn":
        return "POST", "notices/%s/assessment" % determined(c)["id"], {"agencies": [civ]}
    if col in ("tsk", "fnd", "out", "prp"):
        n, a = in_assessment(c)
        return {
            "tsk": ("POST", "assessments/%s/tasks/%s/start" % (a["id"], civ), {}),
            "fnd": ("POST", "assessments/%s/findings" % a["id"],
                    {"title": "t", "severity": "info", "domain": "cyber", "description": "d",
                     "marking": "government_only"}),
            "out": ("POST", "assessments/%s/outcome" % a["id"],
                    {"outcome": "no_concerns", "summary": "s"}),
            "prp": ("POST", "notices/%s/grants" % n["id"],
                    grant_body(c, TODAY, TODAY + dt.timedelta(days=9))),
        }[col]
    n, _ = in_assessment(c)
    window = (TODAY, TODAY + dt.timedelta(days=9))
    if col == "cns":
        g = expect_ok(c.dev.post("notices/%s/grants" % n["id"], json=grant_body(c, *window)))
        return "POST", "grants/%s/consent" % g["id"], {}
    g = approved_grant(c, n, *window)
    if col == "acc":
        return "POST", "grants/%s/accept" % g["id"], {}
    if col == "rvk":
        return "POST", "grants/%s/revoke" % g["id"], {"reason": "r"}
    expect_ok(c.partner.post("grants/%s/accept" % g["id"], json={}))
    return ("POST", "grants/%s/feedback" % g["id"],
            {"title": "t", "severity": "low", "description": "d"})


def verdict(r):
    if 200 <= r.status_code < 300:
        return "Y"
    return {403: "F", 404: "N"}.get(r.status_code, str(r.status_code))


@pytest.mark.parametrize("row", MATRIX, ids=["%s-%s" % r[:2] for r in MATRIX])
def test_matrix(c, world, row):
    who = c[row[:2]]
    want = cells(row)
    wrong = []
    for col in COLUMNS[:12]:
        r = who.get(read_request(col, world))
        if verdict(r) != want[col]:
            wrong.append("%s: want %s, got %s" % (col, want[col], describe(r)))
    for col in COLUMNS[12:]:
        method, path, body = write_request(c, col)
        r = who.request(method, path, json=body)
        if verdict(r) != want[col]:
            wrong.append("%s: want %s, got %s" % (col, want[col], describe(r)))
        if col == "put" and r.status_code == 200:
            expect_ok(c.fxd.admin.put("policy", json=DRAFT))
    assert not wrong, "%s %s:\n  %s" % (row[0], row[1], "\n  ".join(wrong))


def test_the_table_covers_every_org_kind_role_and_column(c):
    assert {r[:2] for r in MATRIX} == set(c.people), "every person of the community is a row"
    kinds = {c.org(o)["kind"] for o, _ in c.people}
    assert kinds == {"coordinator", "agency", "developer", "operator"}
    for r in MATRIX:
        assert set(cells(r).values()) <= {"Y", "F", "N"}
