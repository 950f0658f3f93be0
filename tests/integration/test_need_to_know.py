"""Need-to-know for notices (SPEC §2), as a table.

The community in this file:

    coordinator            the program office (made by fxd init)
    agency_civilian        an agency with mission civilian
    agency_natsec          an agency with mission national_security
    developer_a            the lab whose notices are at stake
    developer_b            another lab
    operator               a critical-infrastructure operator (energy)

Each org has one user per role it may hold: admin, member, viewer everywhere,
and reviewer in the coordinator and the agencies.

Rules read from SPEC §2 and §14:
  * A notice is readable by its developer org (every role) and by the
    coordinator, but the coordinator only once it has been submitted: a draft
    is the developer's own. Agencies see a notice only when assigned to its
    assessment; none is assigned here, so they see nothing.
  * Whoever may not read a notice gets 404 for every path under it, and the
    notice is missing from their lists: existence is not leaked.
  * Only developer members and admins write notices. A write by someone who
    may read the notice is 403; by someone who may not, 404.
"""
import pytest

from fxharness import (create_notice, create_org, describe, expect, get_notice,
                       notice_body, problem, user_client)

SEE = "sees it"           # 200 on every read path; listed
HIDDEN = "404"            # 404 on every read path; not listed

# ---------------------------------------------------------------- who reads what
#  org               role        A's draft   A's submitted notice
READS = [
    ("developer_a",   "admin",    SEE,        SEE),
    ("developer_a",   "member",   SEE,        SEE),
    ("developer_a",   "viewer",   SEE,        SEE),
    ("coordinator",   "admin",    HIDDEN,     SEE),
    ("coordinator",   "member",   HIDDEN,     SEE),
    ("coordinator",   "reviewer", HIDDEN,     SEE),
    ("coordinator",   "viewer",   HIDDEN,     SEE),
    ("agency_civilian", "admin",    HIDDEN,   HIDDEN),
    ("agency_civilian", "member",   HIDDEN,   HIDDEN),
    ("agency_civilian", "reviewer", HIDDEN,   HIDDEN),
    ("agency_civilian", "viewer",   HIDDEN,   HIDDEN),
    ("agency_natsec", "admin",    HIDDEN,     HIDDEN),
    ("agency_natsec", "member",   HIDDEN,     HIDDEN),
    ("agency_natsec", "reviewer", HIDDEN,     HIDDEN),
    ("agency_natsec", "viewer",   HIDDEN,     HIDDEN),
    ("developer_b",   "admin",    HIDDEN,     HIDDEN),
    ("developer_b",   "member",   HIDDEN,     HIDDEN),
    ("developer_b",   "viewer",   HIDDEN,     HIDDEN),
    ("operator",      "admin",    HIDDEN,     HIDDEN),
    ("operator",      "member",   HIDDEN,     HIDDEN),
    ("operator",      "viewer",   HIDDEN,     HIDDEN),
]

OK = "allowed"
FORBIDDEN = "403"         # may read, may not write
NOT_FOUND = "404"         # may not even read

# ---------------------------------------------------------------- who writes what
#  org               role        create   on A's draft:        on A's submitted notice:
#                                         submit   amend       amend    withdraw  release
WRITES = [
    ("developer_a",   "admin",    OK,        OK,        OK,        OK,        OK,        OK),
    ("developer_a",   "member",   OK,        OK,        OK,        OK,        OK,        OK),
    ("developer_a",   "viewer",   FORBIDDEN, FORBIDDEN, FORBIDDEN, FORBIDDEN, FORBIDDEN, FORBIDDEN),
    ("coordinator",   "admin",    FORBIDDEN, NOT_FOUND, NOT_FOUND, FORBIDDEN, FORBIDDEN, FORBIDDEN),
    ("coordinator",   "member",   FORBIDDEN, NOT_FOUND, NOT_FOUND, FORBIDDEN, FORBIDDEN, FORBIDDEN),
    ("coordinator",   "reviewer", FORBIDDEN, NOT_FOUND, NOT_FOUND, FORBIDDEN, FORBIDDEN, FORBIDDEN),
    ("coordinator",   "viewer",   FORBIDDEN, NOT_FOUND, NOT_FOUND, FORBIDDEN, FORBIDDEN, FORBIDDEN),
    ("agency_civilian", "admin",    FORBIDDEN, NOT_FOUND, NOT_FOUND, NOT_FOUND, NOT_FOUND, NOT_FOUND),
    ("agency_civilian", "member",   FORBIDDEN, NOT_FOUND, NOT_FOUND, NOT_FOUND, NOT_FOUND, NOT_FOUND),
    ("agency_civilian", "reviewer", FORBIDDEN, NOT_FOUND, NOT_FOUND, NOT_FOUND, NOT_FOUND, NOT_FOUND),
    ("agency_civilian", "viewer",   FORBIDDEN, NOT_FOUND, NOT_FOUND, NOT_FOUND, NOT_FOUND, NOT_FOUND),
    ("agency_natsec", "admin",    FORBIDDEN, NOT_FOUND, NOT_FOUND, NOT_FOUND, NOT_FOUND, NOT_FOUND),
    ("agency_natsec", "member",   FORBIDDEN, NOT_FOUND, NOT_FOUND, NOT_FOUND, NOT_FOUND, NOT_FOUND),
    ("agency_natsec", "reviewer", FORBIDDEN, NOT_FOUND, NOT_FOUND, NOT_FOUND, NOT_FOUND, NOT_FOUND),
    ("agency_natsec", "viewer",   FORBIDDEN, NOT_FOUND, NOT_FOUND, NOT_FOUND, NOT_FOUND, NOT_FOUND),
    ("developer_b",   "admin",    OK,        NOT_FOUND, NOT_FOUND, NOT_FOUND, NOT_FOUND, NOT_FOUND),
    ("developer_b",   "member",   OK,        NOT_FOUND, NOT_FOUND, NOT_FOUND, NOT_FOUND, NOT_FOUND),
    ("developer_b",   "viewer",   FORBIDDEN, NOT_FOUND, NOT_FOUND, NOT_FOUND, NOT_FOUND, NOT_FOUND),
    ("operator",      "admin",    FORBIDDEN, NOT_FOUND, NOT_FOUND, NOT_FOUND, NOT_FOUND, NOT_FOUND),
    ("operator",      "member",   FORBIDDEN, NOT_FOUND, NOT_FOUND, NOT_FOUND, NOT_FOUND, NOT_FOUND),
    ("operator",      "viewer",   FORBIDDEN, NOT_FOUND, NOT_FOUND, NOT_FOUND, NOT_FOUND, NOT_FOUND),
]

ORG_KINDS = {
    "developer_a": ("developer", {}),
    "developer_b": ("developer", {}),
    "agency_civilian": ("agency", {"mission": "civilian"}),
    "agency_natsec": ("agency", {"mission": "national_security"}),
    "operator": ("operator", {"sector": "energy"}),
}


def case_id(row):
    return "%s-%s" % (row[0], row[1])


@pytest.fixture(scope="module")
def people(fxd):
    """{(org, role): Client} for every row of the tables."""
    orgs = {"coordinator": {"id": fxd.init_info["org_id"], "kind": "coordinator"}}
    for name, (kind, extra) in ORG_KINDS.items():
        orgs[name] = create_org(fxd.admin, kind, name="%s %s" % (name, fxd.port), **extra)
    out = {("coordinator", "admin"): fxd.admin}
    for org, role, *_ in READS:
        if (org, role) not in out:
            out[(org, role)] = user_client(fxd, fxd.admin, orgs[org], role)
    return out


@pytest.fixture(scope="module")
def a_notices(people):
    """Developer A's draft and submitted notice, for the read table."""
    author = people[("developer_a", "member")]
    draft, _ = create_notice(author)
    submitted, _ = create_notice(author, submit=True)
    return {"draft": draft, "submitted": submitted}


READ_PATHS = ["notices/{id}", "notices/{ref}", "notices/{id}/versions", "notices/{id}/versions/1",
              "notices/{id}/history", "notices/{ref}/history"]


def check_read(client, notice, expected):
    for p in READ_PATHS:
        r = client.get(p.format(id=notice["id"], ref=notice["ref"]))
        if expected == SEE:
            assert r.status_code == 200, describe(r)
        else:
            problem(r, 404)
    listed = {n["id"] for n in client.list_all("notices")}
    assert (notice["id"] in listed) == (expected == SEE), "list visibility of %s" % notice["status"]
    by_dev = {n["id"] for n in client.list_all("notices", params={"developer": notice["org_id"]})}
    assert (notice["id"] in by_dev) == (expected == SEE)


@pytest.mark.parametrize("row", READS, ids=case_id)
def test_who_reads_a_draft(people, a_notices, row):
    org, role, on_draft, _ = row
    check_read(people[(org, role)], a_notices["draft"], on_draft)


@pytest.mark.parametrize("row", READS, ids=case_id)
def test_who_reads_a_submitted_notice(people, a_notices, row):
    org, role, _, on_submitted = row
    check_read(people[(org, role)], a_notices["submitted"], on_submitted)


def check_write(r, expected):
    if expected == OK:
        assert 200 <= r.status_code < 300, describe(r)
    elif expected == FORBIDDEN:
        problem(r, 403)
    else:
        problem(r, 404)


@pytest.mark.parametrize("row", WRITES, ids=case_id)
def test_who_writes(people, row):
    org, role, create, submit, amend_draft, amend, withdraw, release = row
    actor = people[(org, role)]
    author = people[("developer_a", "member")]

    r = actor.post("notices", json=notice_body())
    check_write(r, create)

    def attempt(submitted, action, expected):
        n, etag = create_notice(author, submit=submitted)
        if action == "submit":
            r = actor.post("notices/%s/submit" % n["id"], json={})
        elif action == "amend":
            r = actor.patch("notices/%s" % n["id"], json={"model_version": "2", "change_reason": "x"},
                            headers={"If-Match": etag})
        elif action == "withdraw":
            r = actor.post("notices/%s/withdraw" % n["id"], json={"reason": "x"})
        else:
            r = actor.post("notices/%s/release" % n["id"], json={"actual_release_date": "2026-01-01"})
        check_write(r, expected)
        after, etag_after = get_notice(author, n["id"])
        if expected != OK:
            assert etag_after == etag and after["status"] == n["status"], "refused write changed the notice"

    attempt(False, "submit", submit)
    attempt(False, "amend", amend_draft)
    attempt(True, "amend", amend)
    attempt(True, "withdraw", withdraw)
    attempt(True, "release", release)


def test_the_table_covers_every_person(people):
    assert {(o, r) for o, r, *_ in READS} == {(o, r) for o, r, *_ in WRITES} == set(people)


def test_every_version_follows_the_notice(people):
    """Amendments keep older versions exactly as visible as the notice itself."""
    author = people[("developer_a", "member")]
    n, etag = create_notice(author, submit=True)
    r = author.patch("notices/%s" % n["id"], json={"model_version": "2", "change_reason": "x"},
                     headers={"If-Match": etag})
    expect(r, 200)
    for org, role, _, on_submitted in READS:
        reader = people[(org, role)]
        for v in (1, 2):
            r = reader.get("notices/%s/versions/%d" % (n["id"], v))
            if on_submitted == SEE:
                assert r.status_code == 200, describe(r)
            else:
                problem(r, 404)
