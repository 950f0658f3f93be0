"""Audit trail and access transparency (SPEC §10; API.md Audit, access-log)."""
import contextlib
import time
import uuid

import pytest

from fxharness import (BACKEND, create_notice, describe, expect, org_client, problem,
                       raw_request, unique, user_client)
from fxtaxii import report


@pytest.fixture(scope="module")
def lab(fxd):
    """Developer A: admin, member, viewer."""
    admin = org_client(fxd, "developer", role="admin", name=unique("Audit Lab"))
    lab = {"admin": admin,
           "member": user_client(fxd, admin, admin.org, "member"),
           "viewer": user_client(fxd, admin, admin.org, "viewer")}
    return lab


@pytest.fixture(scope="module")
def coord(fxd):
    org = {"id": fxd.init_info["org_id"], "kind": "coordinator"}
    return {"admin": fxd.admin,
            "reviewer": user_client(fxd, fxd.admin, org, "reviewer"),
            "member": user_client(fxd, fxd.admin, org, "member")}


def audit_rows(client, **params):
    return client.list_all("audit", params=params)


def test_audit_row_shape(fxd, lab):
    n, _ = create_notice(lab["member"])
    rows = audit_rows(fxd.admin, record=n["id"])
    assert rows, "creating a notice left no audit row"
    for row in rows:
        for k in ("id", "time", "user_id", "org_id", "action", "record", "outcome"):
            assert k in row, (k, row)
        assert row["record"] == n["id"]


def test_every_mutation_is_audited(fxd, lab):
    m = lab["member"]
    n, etag = create_notice(m)
    r = m.post("notices/%s/submit" % n["id"], json={})
    expect(r, 200)
    r = m.patch("notices/%s" % n["id"], json={"model_version": "2", "change_reason": "x"},
                headers={"If-Match": r.headers["ETag"]})
    expect(r, 200)
    expect(m.post("notices/%s/withdraw" % n["id"], json={"reason": "stop"}), 200)
    mine = [x for x in audit_rows(fxd.admin, record=n["id"]) if x["user_id"] == m.user["id"]]
    assert len(mine) >= 4, "create, submit, amend, withdraw: %s" % mine
    assert len({x["action"] for x in mine}) >= 4, mine
    assert all(x["org_id"] == m.org["id"] for x in mine)
    # Filters by user and org find the same rows.
    by_user = {x["id"] for x in audit_rows(fxd.admin, user=m.user["id"])}
    by_org = {x["id"] for x in audit_rows(fxd.admin, org=m.org["id"])}
    assert {x["id"] for x in mine} <= by_user
    assert {x["id"] for x in mine} <= by_org


def test_admin_actions_are_audited(fxd):
    c = org_client(fxd, "operator", role="member")
    rows = audit_rows(fxd.admin, record=c.org["id"])
    assert any(x["user_id"] == fxd.init_info["user_id"] for x in rows), rows
    assert audit_rows(fxd.admin, record=c.user["id"]), "user creation not audited"
    assert audit_rows(fxd.admin, record=c.token_id), "token creation not audited"
    assert fxd.admin.delete("tokens/%s" % c.token_id).status_code == 204
    assert len(audit_rows(fxd.admin, record=c.token_id)) >= 2, "token revocation not audited"


def test_refused_mutations_are_audited_with_their_outcome(fxd, lab):
    n, _ = create_notice(lab["member"], submit=True)
    ok_rows = audit_rows(fxd.admin, record=n["id"])
    problem(lab["viewer"].post("notices/%s/withdraw" % n["id"], json={"reason": "x"}), 403)
    rows = [x for x in audit_rows(fxd.admin, record=n["id"]) if x["user_id"] == lab["viewer"].user["id"]]
    assert rows, "refused withdraw left no audit row"
    assert rows[-1]["outcome"] not in {x["outcome"] for x in ok_rows}, rows


def test_refused_notice_writes_are_audited_before_and_inside_their_transaction(fxd, lab):
    """Notice writes answer on libmicrohttpd's thread and hand the refusal's audit row to
    the write pool (decision 0012): a create refused before its write (422) and an
    amendment refused inside it (412) are each audited once, with their outcome."""
    m = lab["viewer"]
    before = {x["id"] for x in audit_rows(fxd.admin, user=m.user["id"])}
    problem(m.post("notices", json={"model_name": ""}), 403)
    member = lab["member"]
    n, etag = create_notice(member)
    seen = {x["id"] for x in audit_rows(fxd.admin, user=member.user["id"])}
    problem(member.post("notices", json={"model_name": 7}), 422)
    problem(member.patch("notices/%s" % n["id"], json={"model_version": "2"},
                         headers={"If-Match": '"stale"'}), 412)
    new = [x for x in audit_rows(fxd.admin, user=member.user["id"]) if x["id"] not in seen]
    assert sorted((x["action"], x["outcome"]) for x in new) == [
        ("notice.amend", "refused"), ("notice.create", "refused")], new
    assert [x["record"] for x in new if x["action"] == "notice.amend"] == [n["id"]], new
    mine = [x for x in audit_rows(fxd.admin, user=m.user["id"]) if x["id"] not in before]
    assert [(x["action"], x["outcome"]) for x in mine] == [("notice.create", "denied")], mine


def test_writes_refused_before_their_handler_are_audited(fxd, lab):
    """A write refused for what it sent before its handler runs (a query parameter
    the route does not take, a body over the limit, declared or sent) leaves a
    refusal's row as a handler's refusal does; a refused read or a request that
    matches no route leaves none."""
    member = lab["member"]
    n, _ = create_notice(member)
    seen = {x["id"] for x in audit_rows(fxd.admin, user=member.user["id"])}
    problem(member.post("notices?dry_run=1", json={"model_name": "x"}), 422)
    problem(member.patch("notices/%s?force=1" % n["id"], json={"model_version": "2"}), 422)
    problem(member.post("notices", data=b"{" + b" " * (2 * 1024 * 1024) + b"}",
                        headers={"Content-Type": "application/json"}), 413)
    big = b"{}" + b" " * (2 * 1024 * 1024)
    r = raw_request(fxd.url, "PATCH", "/api/v1/notices/" + n["id"],
                    [("Authorization", "Bearer " + member.token),
                     ("Content-Type", "application/json"), ("Content-Length", str(len(big)))],
                    big, expect_continue=True)
    problem(r, 413)
    problem(member.get("notices/%s?x=1" % n["id"]), 422)
    problem(member.delete("notices"), 405)
    want = sorted([("notice.amend", "refused", n["id"]), ("notice.amend", "refused", n["id"]),
                   ("notice.create", "refused", None), ("notice.create", "refused", None)])
    # the row of an answer refused before its body is kept without holding the answer
    for _ in range(50):
        new = [x for x in audit_rows(fxd.admin, user=member.user["id"]) if x["id"] not in seen]
        if len(new) >= len(want):
            break
        time.sleep(0.1)
    assert sorted((x["action"], x["outcome"], x["record"]) for x in new) == want, new


def test_since_filter(fxd, lab):
    rows = audit_rows(fxd.admin)
    assert rows
    latest = max(x["time"] for x in rows)
    create_notice(lab["member"])
    newer = audit_rows(fxd.admin, since=latest)
    assert newer and all(x["time"] >= latest for x in newer)
    assert len(newer) < len(audit_rows(fxd.admin))


@pytest.mark.parametrize("params,field", [({"since": "yesterday"}, "query:since"),
                                          ({"limit": "0"}, "query:limit")])
def test_bad_audit_filters(fxd, params, field):
    problem(fxd.admin.get("audit", params=params), 422, fields=[field])


def test_coordinator_reads_are_in_the_access_log(fxd, lab, coord):
    n, _ = create_notice(lab["member"], submit=True)
    expect(coord["reviewer"].get("notices/%s" % n["id"]), 200)
    expect(coord["reviewer"].get("notices/%s/versions/1" % n["id"]), 200)
    expect(coord["admin"].get("notices/%s" % n["ref"]), 200)
    # Reads inside the developer org are not "access by others".
    expect(lab["member"].get("notices/%s" % n["id"]), 200)
    expect(lab["viewer"].get("notices/%s" % n["id"]), 200)
    expect(lab["admin"].get("notices/%s/versions/1" % n["id"]), 200)

    log = lab["admin"].list_all("notices/%s/access-log" % n["id"])
    readers = [x["user_id"] for x in log]
    assert readers.count(coord["reviewer"].user["id"]) >= 2, log
    assert coord["admin"].user["id"] in readers, log
    for u in ("member", "viewer", "admin"):
        assert lab[u].user["id"] not in readers, "own-org read logged: %s" % log
    row = [x for x in log if x["user_id"] == coord["reviewer"].user["id"]][0]
    for k in ("time", "user_id", "user_email", "org_id", "org_name", "action"):
        assert k in row, (k, row)
    assert row["org_id"] == fxd.init_info["org_id"]
    assert row["user_email"] == coord["reviewer"].user["email"]
    # The same reads are in the audit trail.
    reads = [x for x in audit_rows(fxd.admin, record=n["id"]) if x["user_id"] == coord["reviewer"].user["id"]]
    assert len(reads) >= 2, reads


def test_who_may_read_the_access_log(fxd, lab, coord):
    n, _ = create_notice(lab["member"], submit=True)
    path = "notices/%s/access-log" % n["id"]
    expect(lab["admin"].get(path), 200)
    expect(coord["admin"].get(path), 200)
    problem(lab["member"].get(path), 403)
    problem(lab["viewer"].get(path), 403)
    other = org_client(fxd, "developer", role="admin")
    problem(other.get(path), 404)
    agency = org_client(fxd, "agency", role="admin", mission="national_security")
    problem(agency.get(path), 404)


def test_who_may_read_the_audit_trail(fxd, lab, coord):
    problem(coord["member"].get("audit"), 403)
    problem(coord["reviewer"].get("audit"), 403)
    problem(lab["member"].get("audit"), 403)
    problem(lab["viewer"].get("audit"), 403)
    # A developer admin sees its own org's rows, never another lab's.
    other = org_client(fxd, "developer", role="member")
    theirs, _ = create_notice(other, submit=True)
    mine, _ = create_notice(lab["member"], submit=True)
    rows = audit_rows(lab["admin"])
    assert any(x["record"] == mine["id"] for x in rows)
    assert not any(x["record"] == theirs["id"] for x in rows), "another org's notice in the audit"
    assert not any(x["user_id"] == other.user["id"] for x in rows)
    assert not any(x["org_id"] == other.org["id"] for x in rows)


@pytest.mark.parametrize("method", ["DELETE", "PATCH", "PUT", "POST"])
def test_audit_rows_cannot_be_changed(fxd, lab, method):
    create_notice(lab["member"])
    before = audit_rows(fxd.admin)
    kw = {} if method == "DELETE" else {"json": {}}
    r = fxd.admin.request(method, "audit", **kw)
    problem(r, 405)
    assert "GET" in r.headers.get("Allow", ""), r.headers
    row = before[0]
    r = fxd.admin.request(method, "audit/%s" % row["id"], **kw)
    problem(r, (404, 405))
    after = audit_rows(fxd.admin)
    after_ids = {x["id"] for x in after}
    assert all(x["id"] in after_ids for x in before), "an audit row disappeared"
    kept = {x["id"]: x for x in after}
    for x in before:
        assert kept[x["id"]] == x, "audit row changed: %s" % describe(r)


@contextlib.contextmanager
def audit_refused(fxd, record):
    """While inside: the database itself refuses audit rows about `record` (a trigger
    installed beside the running fxd), as a full disk or a failing store would."""
    if BACKEND == "sqlite":
        install = ("CREATE TRIGGER refuse_audit BEFORE INSERT ON audit WHEN NEW.record = '%s'"
                   " BEGIN SELECT RAISE(ABORT, 'audit refused by the test'); END;" % record)
        remove = "DROP TRIGGER refuse_audit;"
    else:
        install = ("CREATE FUNCTION refuse_audit() RETURNS trigger LANGUAGE plpgsql AS $$"
                   " BEGIN RAISE EXCEPTION 'audit refused by the test'; END $$;"
                   " CREATE TRIGGER refuse_audit BEFORE INSERT ON audit FOR EACH ROW"
                   " WHEN (NEW.record = '%s') EXECUTE FUNCTION refuse_audit();" % record)
        remove = "DROP TRIGGER refuse_audit ON audit; DROP FUNCTION refuse_audit();"
    fxd.sql(install)
    try:
        yield
    finally:
        fxd.sql(remove)


def test_a_read_whose_audit_row_cannot_be_kept_is_not_answered(fxd, lab, coord):
    """SPEC §10: every outside read is logged. When its row cannot be stored the read is
    answered 503, with nothing of the record, and the next try succeeds once the store can."""
    secret = unique("only-for-the-logged-reader")
    n, _ = create_notice(lab["member"], submit=True, description=secret)
    reader = coord["reviewer"]
    paths = ["notices/%s" % n["id"], "notices/%s/versions/1" % n["id"]]
    with audit_refused(fxd, n["id"]):
        for path in paths:
            r = reader.get(path)
            problem(r, 503)
            assert secret not in r.text, "an unlogged read was answered: %s" % describe(r)
        # Reads inside the owning org are not outside reads: nothing to keep, answered.
        assert secret in expect(lab["member"].get(paths[0]), 200)["description"]
        # A refusal's own row cannot be kept either: its answer stands.
        problem(lab["member"].patch(paths[0], json={"model_version": "2", "change_reason": "x"},
                                    headers={"If-Match": '"1-0000000000000000"'}), 412)
    for path in paths:
        expect(reader.get(path), 200)
    log = lab["admin"].list_all("notices/%s/access-log" % n["id"])
    assert [x["user_id"] for x in log].count(reader.user["id"]) == len(paths), \
        "the 503 reads were logged, or the later ones not: %s" % log


def test_a_refused_write_does_not_tell_the_callers_org_that_a_record_exists(fxd, lab):
    """SPEC §2: a record the caller may not read answers 404 as if it did not exist, and the
    audit row of that refusal, which the caller's org admin reads, says no more."""
    n, _ = create_notice(lab["member"], submit=True)
    inc = report(lab["member"], tlp="RED")
    other = org_client(fxd, "developer", role="admin")
    prober = user_client(fxd, other, other.org, "member")
    missing = "01a00000-0000-7000-8000-%012d" % (uuid.uuid4().int % 10**12)
    probes = [("notices/%s/withdraw", "post", {"reason": "x"}, t) for t in
              (n["ref"], n["id"], "FXN-2026-9999", missing)]
    probes += [("incidents/%s", "patch", {"severity": "low", "change_reason": "x"}, t) for t in
               (inc["id"], missing)]
    for path, method, body, target in probes:
        r = getattr(prober, method)(path % target, json=body, headers={"If-Match": '"1-x"'})
        problem(r, 404)
    rows = [x for x in audit_rows(other) if x["user_id"] == prober.user["id"]]
    # Notices: each refusal, named as the caller named it, whether the notice exists or not.
    # Incidents (SPEC §7): rows about an incident the reader may not see are not shown,
    # and so neither are those naming no incident.
    assert sorted((x["action"], x["record"], x["outcome"]) for x in rows) == sorted(
        ("notice.withdraw", t, "denied") for t in (n["ref"], n["id"], "FXN-2026-9999", missing)), \
        [(x["action"], x["record"]) for x in rows]
    # The coordinator's trail shows the same rows (the RED incident is not shared with it).
    seen = audit_rows(fxd.admin, user=prober.user["id"])
    assert sorted(x["id"] for x in seen) == sorted(x["id"] for x in rows), seen
