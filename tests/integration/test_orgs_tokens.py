"""Organizations, users, roles and tokens (SPEC §2, §12; API.md Organizations/Users/Tokens)."""
import datetime as dt
import json
import os
import secrets
import subprocess

import pytest

from fxharness import (BACKEND, FX, SECTORS, create_org, create_token, create_user,
                       describe, expect, files_containing, org_client, pg_cluster, problem,
                       start_server, unique, user_client)

# Pinned "now": the real date (so the init token, made on the real clock, is
# valid), at noon UTC. Token expiry moves this clock forward.
NOW = dt.datetime.now(dt.timezone.utc).replace(hour=12, minute=0, second=0, microsecond=0)
FXD_OPTIONS = {"test_clock": NOW}


def org_ids(admin):
    return {o["id"] for o in admin.list_all("orgs")}


# ---------------------------------------------------------------- orgs

@pytest.mark.parametrize("kind,extra", [
    ("developer", {}),
    ("agency", {"mission": "civilian"}),
    ("agency", {"mission": "national_security"}),
    ("operator", {"sector": "healthcare_public_health"}),
])
def test_coordinator_admin_creates_each_kind(fxd, kind, extra):
    name = unique("Org ü " + kind)
    r = fxd.admin.post("orgs", json=dict(name=name, kind=kind, **extra))
    org = expect(r, 201)
    assert org["name"] == name and org["kind"] == kind
    assert org["mission"] == extra.get("mission")
    assert org["sector"] == extra.get("sector")
    assert org["id"] and org["created_at"]
    assert expect(fxd.admin.get("orgs/%s" % org["id"]), 200) == org
    assert org["id"] in org_ids(fxd.admin)


@pytest.mark.parametrize("sector", SECTORS)
def test_every_cisa_sector_is_accepted(fxd, sector):
    org = create_org(fxd.admin, "operator", sector=sector)
    assert org["sector"] == sector


def test_org_list_filters_by_kind(fxd):
    create_org(fxd.admin, "operator")
    items = fxd.admin.list_all("orgs", params={"kind": "operator"})
    assert items and all(o["kind"] == "operator" for o in items)
    kinds = {o["kind"] for o in fxd.admin.list_all("orgs")}
    assert "coordinator" in kinds


@pytest.mark.parametrize("body,fields", [
    ({"kind": "agency"}, ["/mission"]),
    ({"kind": "agency", "mission": "military"}, ["/mission"]),
    ({"kind": "operator"}, ["/sector"]),
    ({"kind": "operator", "sector": "space"}, ["/sector"]),
    ({"kind": "developer", "mission": "civilian"}, ["/mission"]),
    ({"kind": "developer", "sector": "energy"}, ["/sector"]),
    ({"kind": "agency", "mission": "civilian", "sector": "energy"}, ["/sector"]),
    ({"kind": "bank"}, ["/kind"]),
    ({"kind": "developer", "name": ""}, ["/name"]),
    ({"kind": "developer", "name": None}, ["/name"]),
    ({"kind": "developer", "name": "x" * 257}, ["/name"]),
    ({"kind": "developer", "website": "https://example.test"}, ["/website"]),
])
def test_invalid_orgs_are_refused_and_not_stored(fxd, body, fields):
    body = dict(body)
    body.setdefault("name", unique("refused"))
    if body["name"] is None:
        del body["name"]
    before = org_ids(fxd.admin)
    problem(fxd.admin.post("orgs", json=body), 422, fields=fields)
    assert org_ids(fxd.admin) == before


def test_a_second_coordinator_is_refused(fxd):
    before = org_ids(fxd.admin)
    r = fxd.admin.post("orgs", json={"name": unique("Second coordinator"), "kind": "coordinator"})
    problem(r, (409, 422))
    assert org_ids(fxd.admin) == before
    coordinators = [o for o in fxd.admin.list_all("orgs") if o["kind"] == "coordinator"]
    assert len(coordinators) == 1


@pytest.mark.parametrize("kind,role", [
    ("coordinator", "member"),
    ("coordinator", "reviewer"),
    ("coordinator", "viewer"),
    ("developer", "admin"),
    ("developer", "member"),
    ("agency", "admin"),
    ("agency", "reviewer"),
    ("operator", "admin"),
])
def test_only_coordinator_admins_create_orgs(fxd, kind, role):
    if kind == "coordinator":
        coord = {"id": fxd.init_info["org_id"], "kind": "coordinator"}
        c = user_client(fxd, fxd.admin, coord, role)
    else:
        c = org_client(fxd, kind, role=role)
    before = org_ids(fxd.admin)
    problem(c.post("orgs", json={"name": unique("nope"), "kind": "developer"}), 403)
    assert org_ids(fxd.admin) == before


# ---------------------------------------------------------------- users

@pytest.mark.parametrize("kind,role", [
    ("developer", "admin"), ("developer", "member"), ("developer", "viewer"),
    ("agency", "admin"), ("agency", "member"), ("agency", "reviewer"), ("agency", "viewer"),
    ("operator", "admin"), ("operator", "member"), ("operator", "viewer"),
])
def test_users_with_roles(fxd, kind, role):
    c = org_client(fxd, kind, role=role)
    assert c.user["role"] == role and c.user["org_id"] == c.org["id"]
    me = expect(c.get("me"), 200)
    assert me["user"]["role"] == role
    assert me["org"]["id"] == c.org["id"]


@pytest.mark.parametrize("kind", ["developer", "operator"])
def test_reviewer_only_in_government_orgs(fxd, kind):
    org = create_org(fxd.admin, kind)
    r = fxd.admin.post("orgs/%s/users" % org["id"],
                       json={"email": unique("rev") + "@example.test", "name": "R", "role": "reviewer"})
    problem(r, 422, fields=["/role"])
    users = expect(fxd.admin.get("orgs/%s/users" % org["id"]), 200)["items"]
    assert users == []


@pytest.mark.parametrize("body,fields", [
    ({"name": "N", "role": "member"}, ["/email"]),
    ({"email": "not-an-email", "name": "N", "role": "member"}, ["/email"]),
    ({"email": "ok@example.test", "name": "N", "role": "superuser"}, ["/role"]),
    ({"email": "ok@example.test", "name": "N"}, ["/role"]),
    ({"email": "ok@example.test", "name": "N", "role": "member", "password": "x"}, ["/password"]),
])
def test_invalid_users_are_refused(fxd, body, fields):
    org = create_org(fxd.admin, "developer")
    problem(fxd.admin.post("orgs/%s/users" % org["id"], json=body), 422, fields=fields)
    assert expect(fxd.admin.get("orgs/%s/users" % org["id"]), 200)["items"] == []


def test_emails_are_unique(fxd):
    org = create_org(fxd.admin, "developer")
    email = unique("dup") + "@example.test"
    create_user(fxd.admin, org["id"], "member", email=email)
    other = create_org(fxd.admin, "developer")
    r = fxd.admin.post("orgs/%s/users" % other["id"], json={"email": email, "name": "B", "role": "member"})
    problem(r, 409)


def test_emails_that_differ_only_by_case_are_one_email(fxd):
    """docs/API.md: emails are unique, whatever the case of their letters; kept as given."""
    org = create_org(fxd.admin, "developer")
    local = unique("devm")
    first = create_user(fxd.admin, org["id"], "member", email=local + "@lab.example")
    other = create_org(fxd.admin, "developer")
    for email in (local.upper() + "@LAB.EXAMPLE", local + "@Lab.Example"):
        for where in (org, other):
            r = fxd.admin.post("orgs/%s/users" % where["id"],
                               json={"email": email, "name": "B", "role": "member"})
            assert [e["field"] for e in problem(r, 409)["errors"]] == ["/email"], describe(r)
    shown = create_user(fxd.admin, org["id"], "member",
                        email=unique("Mixed.Case") + "@Lab.Example")
    assert "Mixed.Case" in shown["email"] and "@Lab.Example" in shown["email"]
    users = fxd.admin.list_all("orgs/%s/users" % org["id"])
    assert sorted(u["id"] for u in users) == sorted([first["id"], shown["id"]])


def test_a_database_holding_emails_that_differ_by_case_migrates():
    """Migration 9 (decision 0014) on a store whose users already differ only by case: it
    does not fail, nobody is changed or locked out, and no new user takes the address."""
    srv = start_server()
    try:
        org = create_org(srv.admin, "developer")
        srv.stop()
        back = ("PRAGMA user_version=8;" if BACKEND == "sqlite"
                else "DELETE FROM fx_schema WHERE version = 9;")
        srv.sql("DROP INDEX users_email_ci; ALTER TABLE users DROP COLUMN email_key;"
            "INSERT INTO users (id, org_id, email, name, role, created_at) VALUES"
            " ('01900000-0000-7000-8000-0000000000a1', '%s', 'Twin@Lab.Example', 'Old',"
            " 'admin', 1), ('01900000-0000-7000-8000-0000000000a2', '%s', 'twin@lab.example',"
            " 'New', 'member', 2);"
            % (org["id"], org["id"]) + back)
        srv.start()
        users = srv.admin.list_all("orgs/%s/users" % org["id"])
        assert [(u["email"], u["name"]) for u in users] == [
            ("Twin@Lab.Example", "Old"), ("twin@lab.example", "New")]
        for u in users:  # both still get in
            tok = create_token(srv.admin, u["id"])
            assert expect(srv.client(tok["token"]).get("me"), 200)["user"]["id"] == u["id"]
        for email in ("TWIN@lab.example", "twin@lab.example"):
            r = srv.admin.post("orgs/%s/users" % org["id"],
                               json={"email": email, "name": "Third", "role": "viewer"})
            problem(r, 409, ["/email"])
        srv.stop()
    finally:
        srv.cleanup()


def test_org_admin_manages_own_users_only(fxd):
    a = org_client(fxd, "developer", role="admin")
    b = org_client(fxd, "developer", role="admin")
    u = create_user(a, a.org["id"], "member")
    assert u["org_id"] == a.org["id"]
    listed = {x["id"] for x in a.list_all("orgs/%s/users" % a.org["id"])}
    assert u["id"] in listed and a.user["id"] in listed
    r = a.post("orgs/%s/users" % b.org["id"],
               json={"email": unique("x") + "@example.test", "name": "X", "role": "admin"})
    problem(r, 403)
    m = user_client(fxd, a, a.org, "member")
    r = m.post("orgs/%s/users" % a.org["id"],
               json={"email": unique("y") + "@example.test", "name": "Y", "role": "admin"})
    problem(r, 403)


# ---------------------------------------------------------------- tokens

def test_token_is_shown_once_and_only_its_hash_is_stored(fxd):
    c = org_client(fxd, "developer", role="member")
    tok = create_token(c, c.user["id"], name="laptop")
    for k in ("id", "token", "user_id", "name", "created_at", "expires_at"):
        assert k in tok, k
    assert tok["user_id"] == c.user["id"] and tok["name"] == "laptop"
    secret = tok["token"]
    assert len(secret) >= 3 + 43, "32 random bytes in base64url after fx_"
    assert expect(fxd.client(secret).get("me"), 200)["user"]["id"] == c.user["id"]

    r = c.get("users/%s/tokens" % c.user["id"])
    listing = expect(r, 200)
    assert secret not in r.text and secret[3:] not in r.text
    ids = {t["id"] for t in listing["items"]}
    assert tok["id"] in ids and c.token_id in ids
    for t in listing["items"]:
        assert "token" not in t

    # Neither the token nor the init admin's token appears anywhere under the data dir.
    needles = [secret.encode(), secret[3:].encode(), fxd.init_info["token"].encode(),
               fxd.init_info["token"][3:].encode()]
    assert files_containing(fxd.data, needles) == {}


def test_an_idempotent_retry_never_shows_the_token_again(fxd):
    """SPEC §12: tokens are shown once. A retry with the same Idempotency-Key is the first
    answer again (same token id, nothing new) without the secret, and nothing the store
    keeps for the key holds it."""
    c = org_client(fxd, "developer", role="member")
    key = unique("idem-token")
    first = c.post("users/%s/tokens" % c.user["id"], json={"name": "ci"},
                   headers={"Idempotency-Key": key})
    tok = expect(first, 201)
    secret = tok["token"]
    assert secret.startswith("fx_") and "Idempotent-Replayed" not in first.headers
    answers = [first]
    for _ in range(2):
        again = c.post("users/%s/tokens" % c.user["id"], json={"name": "ci"},
                       headers={"Idempotency-Key": key})
        body = expect(again, 201)
        assert again.headers.get("Idempotent-Replayed") == "true", describe(again)
        assert body["token"] is None and body["note"], body
        assert {k: v for k, v in body.items() if k not in ("token", "note")} == {
            k: v for k, v in tok.items() if k != "token"}
        answers.append(again)
    r = c.get("users/%s/tokens" % c.user["id"])
    listed = [t["id"] for t in expect(r, 200)["items"]]
    assert listed.count(tok["id"]) == 1 and len(listed) == 2, listed  # no second token
    answers += [r, c.get("me"), fxd.admin.get("audit", params={"record": tok["id"]})]
    shown = [a for a in answers if secret in a.text or secret[3:] in a.text]
    assert shown == [first], [describe(a) for a in shown]
    assert expect(fxd.client(secret).get("me"), 200)["user"]["id"] == c.user["id"]
    roots = [fxd.data] + ([pg_cluster().dir] if BACKEND == "postgres" else [])
    needles = [secret.encode(), secret[3:].encode()]
    for root in roots:
        assert files_containing(root, needles) == {}, root


def test_default_and_explicit_expiry(fxd):
    c = org_client(fxd, "developer", role="member")
    t90 = create_token(c, c.user["id"])
    t7 = create_token(c, c.user["id"], expires_in_days=7)
    exp90 = dt.datetime.fromisoformat(t90["expires_at"].replace("Z", "+00:00"))
    exp7 = dt.datetime.fromisoformat(t7["expires_at"].replace("Z", "+00:00"))
    assert exp90 - NOW == dt.timedelta(days=90), t90
    assert exp7 - NOW == dt.timedelta(days=7), t7


@pytest.mark.parametrize("days", [0, -1, 367, 1.5, "30"])
def test_token_lifetime_out_of_range(fxd, days):
    c = org_client(fxd, "developer", role="member")
    before = len(c.list_all("users/%s/tokens" % c.user["id"]))
    problem(c.post("users/%s/tokens" % c.user["id"], json={"expires_in_days": days}), 422,
            fields=["/expires_in_days"])
    assert len(c.list_all("users/%s/tokens" % c.user["id"])) == before


def test_who_may_create_tokens(fxd):
    admin = org_client(fxd, "developer", role="admin")
    m1 = user_client(fxd, admin, admin.org, "member")
    m2 = user_client(fxd, admin, admin.org, "member")
    create_token(m1, m1.user["id"])             # the user
    create_token(admin, m1.user["id"])          # an admin of the user's org
    problem(m2.post("users/%s/tokens" % m1.user["id"], json={}), 403)   # a peer
    # The coordinator admin issues a user's first token only: one more would let it act
    # as a user who already has a way in.
    problem(fxd.admin.post("users/%s/tokens" % m1.user["id"], json={}), 403)
    fresh = create_user(fxd.admin, admin.org["id"], "member")
    first = create_token(fxd.admin, fresh["id"])
    problem(fxd.admin.post("users/%s/tokens" % fresh["id"], json={}), 403)
    expect(fxd.client(first["token"]).delete("tokens/%s" % first["id"]), 204)
    problem(fxd.admin.post("users/%s/tokens" % fresh["id"], json={}), 403)  # revoked ones count
    create_token(admin, fresh["id"])            # its org's admin still may
    # The coordinator admin's own org: it is that org's admin.
    mate = create_user(fxd.admin, fxd.init_info["org_id"], "reviewer")
    create_token(fxd.admin, mate["id"])
    create_token(fxd.admin, mate["id"])
    other = org_client(fxd, "developer", role="admin")
    r = other.post("users/%s/tokens" % m1.user["id"], json={})
    problem(r, (403, 404))                      # another org's admin


def test_revoked_token_answers_401(fxd):
    c = org_client(fxd, "developer", role="member")
    tok = create_token(c, c.user["id"])
    t = fxd.client(tok["token"])
    expect(t.get("me"), 200)
    r = c.delete("tokens/%s" % tok["id"])
    assert r.status_code == 204, r.text
    problem(t.get("me"), 401)
    problem(t.post("notices", json={"model_name": "x"}), 401)
    listing = c.list_all("users/%s/tokens" % c.user["id"])
    row = [x for x in listing if x["id"] == tok["id"]]
    assert row and row[0]["revoked_at"], listing
    # The caller's own token still works.
    expect(c.get("me"), 200)


def test_revoking_someone_elses_token(fxd):
    a = org_client(fxd, "developer", role="member")
    b = org_client(fxd, "developer", role="admin")
    problem(b.delete("tokens/%s" % a.token_id), (403, 404))
    expect(a.get("me"), 200)
    # The coordinator admin may revoke it.
    assert fxd.admin.delete("tokens/%s" % a.token_id).status_code == 204
    problem(a.get("me"), 401)


def test_revoke_unknown_token(fxd):
    problem(fxd.admin.delete("tokens/0190a000-0000-7000-8000-000000000000"), 404)


def test_expired_token_answers_401(fxd):
    c = org_client(fxd, "developer", role="member")
    tok = create_token(c, c.user["id"], expires_in_days=1)
    t = fxd.client(tok["token"])
    try:
        fxd.clock.set(NOW + dt.timedelta(hours=23))
        expect(t.get("me"), 200)
        fxd.clock.set(NOW + dt.timedelta(days=1, seconds=1))
        r = t.get("me")
        problem(r, 401)
        assert r.headers.get("WWW-Authenticate", "").lower().startswith("bearer")
        # A token with the default 90 days is still good.
        expect(c.get("me"), 200)
    finally:
        fxd.clock.set(NOW)


def test_unknown_token_with_the_right_shape(fxd):
    problem(fxd.client("fx_" + secrets.token_urlsafe(32)).get("me"), 401)


def test_org_list_pagination(fxd):
    for _ in range(3):
        create_org(fxd.admin, "developer")
    everything = [o["id"] for o in fxd.admin.list_all("orgs")]
    walked = [o["id"] for o in fxd.admin.list_all("orgs", limit=2)]
    assert walked == everything and len(set(walked)) == len(walked)


@pytest.mark.parametrize("what", ["users", "tokens"])
def test_user_and_token_lists_are_paginated(fxd, what):
    """SPEC §12: ?limit=&cursor= -> {"items", "next_cursor"}, oldest first."""
    c = org_client(fxd, "developer", role="admin")
    if what == "users":
        path = "orgs/%s/users" % c.org["id"]
        made = [c.user["id"]] + [create_user(c, c.org["id"], "member")["id"] for _ in range(4)]
    else:
        path = "users/%s/tokens" % c.user["id"]
        made = [c.token_id] + [create_token(c, c.user["id"])["id"] for _ in range(4)]
    made.sort()  # id order: ids made in the same millisecond need not follow creation
    page = expect(c.get(path, params={"limit": 2}), 200)
    assert [x["id"] for x in page["items"]] == made[:2] and page["next_cursor"], page
    page = expect(c.get(path, params={"limit": 2, "cursor": page["next_cursor"]}), 200)
    assert [x["id"] for x in page["items"]] == made[2:4] and page["next_cursor"], page
    last = expect(c.get(path, params={"limit": 2, "cursor": page["next_cursor"]}), 200)
    assert [x["id"] for x in last["items"]] == made[4:] and last["next_cursor"] is None, last
    assert [x["id"] for x in c.list_all(path, limit=1)] == made
    assert [x["id"] for x in expect(c.get(path), 200)["items"]] == made
    problem(c.get(path, params={"limit": 0}), 422, ["query:limit"])
    problem(c.get(path, params={"limit": 501}), 422, ["query:limit"])
    problem(c.get(path, params={"cursor": "x"}), 422, ["query:cursor"])


def test_fx_user_and_token_lists_follow_pages(fxd):
    """fx user list / fx token list page as the API does: --limit is one page (more
    noted on stderr), --all follows next_cursor to the end."""
    c = org_client(fxd, "developer", role="admin")
    users = sorted([c.user["id"]] + [create_user(c, c.org["id"], "member")["id"] for _ in "ab"])
    tokens = sorted([c.token_id] + [create_token(c, c.user["id"])["id"] for _ in "ab"])
    env = {k: v for k, v in os.environ.items() if not k.startswith("FX_")}
    env.update(FX_URL=fxd.url, FX_TOKEN=c.token, HOME=fxd.workdir)

    def fx(*args):
        p = subprocess.run([FX] + list(args), env=env, capture_output=True, timeout=120)
        assert p.returncode == 0, (args, p.stdout, p.stderr)
        return p

    for args, ids in ((("user", "list", c.org["id"]), users),
                      (("token", "list", c.user["id"]), tokens)):
        one = json.loads(fx(*args, "--limit", "1", "--json").stdout)
        assert [x["id"] for x in one["items"]] == ids[:1] and one["next_cursor"], one
        table = fx(*args, "--limit", "1")
        assert ids[0] in table.stdout.decode() and ids[1] not in table.stdout.decode()
        assert table.stderr, "no note that more pages remain"
        every = json.loads(fx(*args, "--limit", "1", "--all", "--json").stdout)
        assert [x["id"] for x in every["items"]] == ids and every["next_cursor"] is None


def test_users_and_tokens_of_another_org_are_not_listed(fxd):
    a = org_client(fxd, "developer", role="admin")
    b = org_client(fxd, "developer", role="admin")
    problem(b.get("orgs/%s/users" % a.org["id"]), (403, 404))
    problem(b.get("users/%s/tokens" % a.user["id"]), (403, 404))
    problem(b.post("users/%s/tokens" % a.user["id"], json={}), (403, 404))


def test_user_in_unknown_org(fxd):
    r = fxd.admin.post("orgs/0190a000-0000-7000-8000-000000000000/users",
                       json={"email": unique("u") + "@example.test", "name": "N", "role": "member"})
    problem(r, 404)
