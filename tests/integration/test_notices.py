"""Pre-release notices: the whole of SPEC §3 through the HTTP API (API.md Notices)."""
import datetime as dt
import hashlib
import json
import re
import threading
import time

import pytest

from fxharness import (REF_RE, create_notice, describe, etag_of, expect, get_notice,
                       notice_body, org_client, problem, sha256_matches, start_server, unique,
                       user_client)

# "Today" is pinned (SPEC §13 test clock): the real date at noon UTC, so that the
# init admin's token (made on the real clock) stays valid.
NOW = dt.datetime.now(dt.timezone.utc).replace(hour=12, minute=0, second=0, microsecond=0)
TODAY = NOW.date()
FXD_OPTIONS = {"test_clock": NOW}


def days(n):
    return TODAY + dt.timedelta(days=n)


def bare(etag):
    """An entity tag without W/ and quotes."""
    e = str(etag)
    if e.startswith("W/"):
        e = e[2:]
    return e.strip('"')


@pytest.fixture(scope="module")
def dev(fxd):
    """A developer member; its org's admin is dev.admin_client."""
    a = org_client(fxd, "developer", role="admin", name=unique("Lab A"))
    m = user_client(fxd, a, a.org, "member")
    m.admin_client = a
    return m


@pytest.fixture(autouse=True)
def reset_clock(fxd):
    fxd.clock.set(NOW)
    yield
    fxd.clock.set(NOW)


def count(client, **params):
    return len(client.list_all("notices", params=params))


# ------------------------------------------------------------ create, submit, read

def test_create_draft(fxd, dev):
    body = notice_body(release=days(200))
    r = dev.post("notices", json=body)
    n = expect(r, 201)
    for k, v in body.items():
        assert n[k] == v, k
    assert n["status"] == "draft"
    assert n["version"] == 1
    assert n["org_id"] == dev.org["id"]
    assert n["submitted_at"] is None and n["notice_days"] is None
    assert n["short_notice"] is False
    assert n["determination"] is None and n["withdrawn_reason"] is None
    assert n["actual_release_date"] is None
    assert n["policy"]["name"] and n["policy"]["sha256"]
    m = REF_RE.match(n["ref"])
    assert m and int(m.group(1)) == NOW.year, n["ref"]
    assert r.headers["Location"].endswith("/api/v1/notices/" + n["id"]), r.headers.get("Location")
    assert bare(etag_of(r)) == bare(n["etag"])
    assert n["created_at"].startswith(TODAY.isoformat())


def test_draft_may_be_incomplete_but_submission_needs_required_fields(dev):
    r = dev.post("notices", json={"model_name": unique("Partial")})
    n = expect(r, 201)
    assert n["status"] == "draft"
    r2 = dev.post("notices/%s/submit" % n["id"], json={})
    problem(r2, 422, fields=["/model_version", "/planned_release_date", "/description"])
    assert get_notice(dev, n["id"])[0]["status"] == "draft"


def test_submit_a_draft(fxd, dev):
    n, _ = create_notice(dev, release=days(120))
    r = dev.post("notices/%s/submit" % n["id"], json={})
    s = expect(r, 200)
    assert s["status"] == "submitted"
    assert s["submitted_at"].startswith(TODAY.isoformat())
    assert s["notice_days"] == 120
    assert s["short_notice"] is False
    assert etag_of(r)


def test_create_with_submit_true(dev):
    n, _ = create_notice(dev, submit=True, release=days(150))
    assert n["status"] == "submitted"
    assert n["notice_days"] == 150
    assert n["submitted_at"] is not None
    assert "submit" not in n


def test_refs_are_sequential(dev):
    refs = [create_notice(dev)[0]["ref"] for _ in range(4)]
    nums = [int(REF_RE.match(x).group(2)) for x in refs]
    assert nums == list(range(nums[0], nums[0] + 4)), refs
    assert all(REF_RE.match(x).group(1) == str(NOW.year) for x in refs)


def test_get_by_id_and_by_ref(dev):
    n, etag = create_notice(dev, submit=True)
    r1 = dev.get("notices/%s" % n["id"])
    r2 = dev.get("notices/%s" % n["ref"])
    assert expect(r1, 200) == expect(r2, 200)
    assert etag_of(r1) == etag_of(r2) == etag
    assert r1.json()["id"] == n["id"]


@pytest.mark.parametrize("bad", ["FXN-2026-999999", "0190a000-0000-7000-8000-000000000000",
                                 "not-a-notice", "FXN-20x6-0001"])
def test_unknown_notice_is_404(dev, bad):
    problem(dev.get("notices/%s" % bad), 404)


# ------------------------------------------------------------ amendments and versions

def test_patch_needs_if_match(dev):
    n, etag = create_notice(dev, submit=True)
    r = dev.patch("notices/%s" % n["id"], json={"model_version": "1.1", "change_reason": "x"})
    problem(r, 428)
    after, etag2 = get_notice(dev, n["id"])
    assert etag2 == etag and after["model_version"] == n["model_version"] and after["version"] == 1


def test_patch_with_stale_etag_is_412(dev):
    n, etag = create_notice(dev, submit=True)
    r = dev.patch("notices/%s" % n["id"], json={"model_version": "1.1", "change_reason": "first"},
                  headers={"If-Match": etag})
    expect(r, 200)
    fresh = etag_of(r)
    assert fresh != etag
    r = dev.patch("notices/%s" % n["id"], json={"model_version": "1.2", "change_reason": "lost update"},
                  headers={"If-Match": etag})
    problem(r, 412)
    after, e = get_notice(dev, n["id"])
    assert e == fresh and after["model_version"] == "1.1" and after["version"] == 2


def test_another_notices_etag_is_stale(dev):
    a, etag_a = create_notice(dev, submit=True)
    b, etag_b = create_notice(dev, submit=True)
    r = dev.patch("notices/%s" % a["id"], json={"model_version": "x", "change_reason": "y"},
                  headers={"If-Match": etag_b})
    problem(r, 412)
    assert get_notice(dev, a["id"])[1] == etag_a


@pytest.mark.parametrize("field,value", [("status", "released"), ("id", "x"), ("ref", "FXN-2000-0001"),
                                         ("version", 7), ("notice_days", 1000), ("short_notice", False),
                                         ("submit", True), ("org_id", "x")])
def test_server_fields_cannot_be_patched(dev, field, value):
    n, etag = create_notice(dev, submit=True, release=days(10))
    r = dev.patch("notices/%s" % n["id"], json={field: value, "change_reason": "sneaky"},
                  headers={"If-Match": etag})
    problem(r, 422, fields=["/" + field])
    after, e = get_notice(dev, n["id"])
    assert e == etag and after["status"] == "submitted" and after["short_notice"] is True


def test_change_reason_required_after_submission(dev):
    n, etag = create_notice(dev, submit=True)
    r = dev.patch("notices/%s" % n["id"], json={"model_version": "2.0"}, headers={"If-Match": etag})
    problem(r, 422, fields=["/change_reason"])
    r = dev.patch("notices/%s" % n["id"], json={"model_version": "2.0", "change_reason": ""},
                  headers={"If-Match": etag})
    problem(r, 422, fields=["/change_reason"])
    assert get_notice(dev, n["id"])[1] == etag


def test_draft_edit_needs_no_change_reason(dev):
    n, etag = create_notice(dev)
    r = dev.patch("notices/%s" % n["id"], json={"model_version": "0.9"}, headers={"If-Match": etag})
    d = expect(r, 200)
    assert d["model_version"] == "0.9" and d["status"] == "draft"


def test_patch_is_a_merge_patch(dev):
    n, etag = create_notice(dev, submit=True)
    r = dev.patch("notices/%s" % n["id"],
                  json={"safeguards": None, "parameter_count": 7, "change_reason": "trim"},
                  headers={"If-Match": etag})
    a = expect(r, 200)
    assert "safeguards" not in a or a["safeguards"] is None
    assert a["parameter_count"] == 7
    assert a["description"] == n["description"] and a["model_name"] == n["model_name"]
    r = dev.patch("notices/%s" % n["id"], json={"description": None, "change_reason": "oops"},
                  headers={"If-Match": etag_of(r)})
    problem(r, 422, fields=["/description"])


def test_versions_keep_every_amendment_with_exact_bytes(dev):
    n, etag = create_notice(dev, submit=True, model_version="1.0")
    reasons = ["fixed the eval table", "new checkpoint"]
    for i, reason in enumerate(reasons):
        r = dev.patch("notices/%s" % n["id"], json={"model_version": "1.%d" % (i + 1),
                                                      "change_reason": reason},
                      headers={"If-Match": etag})
        a = expect(r, 200)
        assert a["version"] == i + 2
        assert a["etag"] != n["etag"]
        etag = etag_of(r)

    vl = expect(dev.get("notices/%s/versions" % n["id"]), 200)
    items = vl["items"] if isinstance(vl, dict) else vl
    assert [v["version"] for v in items] == [1, 2, 3]
    assert [v["change_reason"] for v in items[1:]] == reasons
    for v in items:
        for k in ("version", "created_at", "created_by", "change_reason", "content_sha256"):
            assert k in v, k
        assert v["created_by"] == dev.user["id"]
        r = dev.get("notices/%s/versions/%d" % (n["id"], v["version"]))
        assert r.status_code == 200, describe(r)
        raw = r.content
        assert sha256_matches(raw, v["content_sha256"]), (
            "version %d: sha256 %s of served bytes != content_sha256 %s" % (
                v["version"], hashlib.sha256(raw).hexdigest(), v["content_sha256"]))
        # Compact JSON with sorted keys.
        pairs_in_order = []
        doc = json.loads(raw, object_pairs_hook=lambda p: pairs_in_order.append([k for k, _ in p]) or dict(p))
        for keys in pairs_in_order:
            assert keys == sorted(keys), "keys not sorted: %s" % keys
        assert b"\n" not in raw and b'": ' not in raw
        assert doc["notice_id"] == n["id"] and doc["ref"] == n["ref"]
        assert doc["version"] == v["version"]
        assert doc["model_version"] == "1.%d" % (v["version"] - 1)
        assert doc["model_name"] == n["model_name"]
        assert doc["change_reason"] == v["change_reason"]
        # The same bytes every time.
        assert dev.get("notices/%s/versions/%d" % (n["id"], v["version"])).content == raw
    for bad in (0, 4, 99):
        problem(dev.get("notices/%s/versions/%d" % (n["id"], bad)), 404)
    # By ref too.
    assert dev.get("notices/%s/versions/1" % n["ref"]).content == \
        dev.get("notices/%s/versions/1" % n["id"]).content


def test_history_oldest_first(fxd, dev):
    n, etag = create_notice(dev, release=days(200))
    etag = etag_of(dev.post("notices/%s/submit" % n["id"], json={}))
    fxd.clock.advance(hours=1)
    r = dev.patch("notices/%s" % n["id"], json={"model_version": "9", "change_reason": "bump"},
                  headers={"If-Match": etag})
    expect(r, 200)
    fxd.clock.advance(hours=1)
    expect(dev.post("notices/%s/withdraw" % n["id"], json={"reason": "cancelled"}), 200)
    h = expect(dev.get("notices/%s/history" % n["id"]), 200)["items"]
    actions = [e["action"] for e in h]
    assert actions == ["created", "submitted", "amended", "withdrawn"], actions
    times = [e["time"] for e in h]
    assert times == sorted(times)
    for e in h:
        assert e["user_id"] == dev.user["id"] and e["org_id"] == dev.org["id"]
    amended = h[2]
    assert amended.get("version") == 2
    assert h[3].get("reason") == "cancelled"
    assert h[3].get("from", "submitted") == "submitted" and h[3].get("to", "withdrawn") == "withdrawn"


# ------------------------------------------------------------ lifecycle

def test_withdraw_needs_a_reason(dev):
    n, _ = create_notice(dev, submit=True)
    problem(dev.post("notices/%s/withdraw" % n["id"], json={}), 422, fields=["/reason"])
    problem(dev.post("notices/%s/withdraw" % n["id"], json={"reason": ""}), 422, fields=["/reason"])
    assert get_notice(dev, n["id"])[0]["status"] == "submitted"
    w = expect(dev.post("notices/%s/withdraw" % n["id"], json={"reason": "Launch cancelled"}), 200)
    assert w["status"] == "withdrawn" and w["withdrawn_reason"] == "Launch cancelled"


def test_draft_can_be_withdrawn(dev):
    n, _ = create_notice(dev)
    w = expect(dev.post("notices/%s/withdraw" % n["id"], json={"reason": "never mind"}), 200)
    assert w["status"] == "withdrawn"


def conflict(r, status_now):
    body = problem(r, 409)
    assert body.get("status_now") == status_now, body
    assert isinstance(body.get("allowed"), list), body
    assert all(isinstance(a, str) for a in body["allowed"]), body
    return body["allowed"]


def test_withdrawn_is_final(dev):
    n, etag = create_notice(dev, submit=True)
    r = dev.post("notices/%s/withdraw" % n["id"], json={"reason": "cancelled"})
    expect(r, 200)
    etag = etag_of(r)
    allowed = conflict(dev.post("notices/%s/withdraw" % n["id"], json={"reason": "again"}), "withdrawn")
    assert "withdraw" not in allowed and "release" not in allowed
    conflict(dev.post("notices/%s/release" % n["id"], json={"actual_release_date": days(1).isoformat()}),
             "withdrawn")
    conflict(dev.post("notices/%s/submit" % n["id"], json={}), "withdrawn")
    conflict(dev.patch("notices/%s" % n["id"], json={"model_version": "x", "change_reason": "y"},
                       headers={"If-Match": etag}), "withdrawn")
    assert get_notice(dev, n["id"])[1] == etag


def test_release(dev):
    n, _ = create_notice(dev, submit=True, release=days(100))
    problem(dev.post("notices/%s/release" % n["id"], json={}), 422, fields=["/actual_release_date"])
    problem(dev.post("notices/%s/release" % n["id"], json={"actual_release_date": "2026-02-30"}), 422,
            fields=["/actual_release_date"])
    # Recorded after the launch: tomorrow (UTC) is already today somewhere, no later day is.
    problem(dev.post("notices/%s/release" % n["id"], json={"actual_release_date": days(2).isoformat()}),
            422, fields=["/actual_release_date"])
    assert get_notice(dev, n["id"])[0]["status"] == "submitted"
    r = dev.post("notices/%s/release" % n["id"], json={"actual_release_date": days(1).isoformat()})
    rel = expect(r, 200)
    assert rel["status"] == "released" and rel["actual_release_date"] == days(1).isoformat()
    allowed = conflict(dev.post("notices/%s/withdraw" % n["id"], json={"reason": "too late"}), "released")
    assert "withdraw" not in allowed
    conflict(dev.post("notices/%s/release" % n["id"], json={"actual_release_date": days(-1).isoformat()}),
             "released")


def test_draft_cannot_be_released(dev):
    n, _ = create_notice(dev)
    allowed = conflict(dev.post("notices/%s/release" % n["id"],
                                json={"actual_release_date": days(1).isoformat()}), "draft")
    assert "submit" in allowed and "withdraw" in allowed and "release" not in allowed


def test_submitted_cannot_be_submitted_again(dev):
    n, _ = create_notice(dev, submit=True)
    allowed = conflict(dev.post("notices/%s/submit" % n["id"], json={}), "submitted")
    assert "withdraw" in allowed and "release" in allowed and "submit" not in allowed


# ------------------------------------------------------------ lists

@pytest.fixture(scope="module")
def listed(fxd):
    """A developer org of its own with four notices of known shape."""
    lab = org_client(fxd, "developer", role="member")
    fxd.clock.set(NOW)
    draft, _ = create_notice(lab, release=days(200))
    ok, _ = create_notice(lab, submit=True, release=days(200))
    short, _ = create_notice(lab, submit=True, release=days(30))
    gone, _ = create_notice(lab, submit=True, release=days(250))
    expect(lab.post("notices/%s/withdraw" % gone["id"], json={"reason": "x"}), 200)
    return lab, {"draft": draft["id"], "ok": ok["id"], "short": short["id"], "gone": gone["id"]}


@pytest.mark.parametrize("params,expected", [
    ({}, {"draft", "ok", "short", "gone"}),
    ({"status": "submitted"}, {"ok", "short"}),
    ({"status": "draft"}, {"draft"}),
    ({"status": "withdrawn"}, {"gone"}),
    ({"short_notice": "true"}, {"short"}),
    ({"short_notice": "false"}, {"draft", "ok", "gone"}),
    ({"release_after": days(30).isoformat(), "release_before": days(30).isoformat()}, {"short"}),
    ({"release_after": days(31).isoformat()}, {"draft", "ok", "gone"}),
    ({"release_before": days(200).isoformat()}, {"draft", "ok", "short"}),
    ({"release_after": days(200).isoformat(), "release_before": days(249).isoformat()}, {"draft", "ok"}),
    ({"status": "submitted", "short_notice": "false"}, {"ok"}),
])
def test_list_filters(listed, params, expected):
    lab, ids = listed
    params = dict(params, developer=lab.org["id"])
    got = {n["id"] for n in lab.list_all("notices", params=params)}
    assert got == {ids[k] for k in expected}, params


def test_developer_filter_scopes_to_one_org(fxd, listed, dev):
    lab, ids = listed
    # The coordinator sees submitted notices of every developer; the filter narrows.
    got = {n["id"] for n in fxd.admin.list_all("notices", params={"developer": lab.org["id"]})}
    assert got == {ids["ok"], ids["short"], ids["gone"]}
    assert all(n["org_id"] == dev.org["id"]
               for n in fxd.admin.list_all("notices", params={"developer": dev.org["id"]}))


@pytest.mark.parametrize("params,field", [
    ({"status": "approved"}, "query:status"),
    ({"short_notice": "maybe"}, "query:short_notice"),
    ({"release_after": "2026-02-30"}, "query:release_after"),
    ({"release_before": "tomorrow"}, "query:release_before"),
    ({"limit": "0"}, "query:limit"),
    ({"limit": "501"}, "query:limit"),
    ({"limit": "ten"}, "query:limit"),
    ({"developer": "' OR '1'='1"}, "query:developer"),
])
def test_bad_list_parameters(listed, params, field):
    lab, _ = listed
    problem(lab.get("notices", params=params), 422, fields=[field])


def test_bad_cursor(listed):
    lab, _ = listed
    problem(lab.get("notices", params={"cursor": "bm90LWEtY3Vyc29y"}), (400, 422))


def test_cursor_pagination_over_120_notices(fxd):
    lab = org_client(fxd, "developer", role="member")
    created = []
    for i in range(120):
        # One second apart, so "newest first" has a single answer.
        fxd.clock.set(NOW + dt.timedelta(seconds=i))
        created.append(create_notice(lab, model_name="Paged %03d" % i)[0])
    params = {"developer": lab.org["id"], "limit": 25}
    pages = []
    seen_cursors = set()
    while True:
        body = expect(lab.get("notices", params=params), 200)
        pages.append(body["items"])
        if not body["next_cursor"]:
            break
        assert body["next_cursor"] not in seen_cursors
        seen_cursors.add(body["next_cursor"])
        params["cursor"] = body["next_cursor"]
        assert len(pages) <= 10, "pagination does not end"
    assert [len(p) for p in pages] == [25, 25, 25, 25, 20]
    got = [n["id"] for p in pages for n in p]
    assert len(set(got)) == 120
    assert got == [n["id"] for n in reversed(created)], "not newest first"
    # Default page size is 50.
    first = expect(lab.get("notices", params={"developer": lab.org["id"]}), 200)
    assert len(first["items"]) == 50 and first["next_cursor"]
    # The largest page holds them all.
    allp = expect(lab.get("notices", params={"developer": lab.org["id"], "limit": 500}), 200)
    assert len(allp["items"]) == 120 and allp["next_cursor"] is None


# ------------------------------------------------------------ timeliness (default policy: 90 days)

@pytest.mark.parametrize("ahead,short", [(365, False), (91, False), (90, False), (89, True),
                                         (30, True), (0, True)])
def test_notice_days_and_short_notice_on_submission(dev, ahead, short):
    n, _ = create_notice(dev, submit=True, release=days(ahead))
    assert n["notice_days"] == ahead
    assert n["short_notice"] is short
    h = expect(dev.get("notices/%s/history" % n["id"]), 200)["items"]
    assert ("short_notice" in [e["action"] for e in h]) is short


def test_short_notice_is_never_refused_even_after_the_date(dev):
    n, _ = create_notice(dev, submit=True, release=days(-3))
    assert n["status"] == "submitted" and n["notice_days"] == -3 and n["short_notice"] is True


def test_notice_days_count_from_first_submission_not_creation(fxd, dev):
    n, _ = create_notice(dev, release=days(100))
    fxd.clock.set(NOW + dt.timedelta(days=15))
    s = expect(dev.post("notices/%s/submit" % n["id"], json={}), 200)
    assert s["notice_days"] == 85 and s["short_notice"] is True


def test_notice_days_use_the_utc_date(fxd, dev):
    # 23:30 at UTC-05:00 is already tomorrow in UTC.
    fxd.clock.set("%sT23:30:00-05:00" % TODAY.isoformat())
    n, _ = create_notice(dev, submit=True, release=days(91))
    assert n["notice_days"] == 90 and n["short_notice"] is False


def test_amendment_moving_the_date_earlier_flags_short_notice(fxd, dev):
    n, etag = create_notice(dev, submit=True, release=days(120))
    assert n["short_notice"] is False
    # Later amendments count from the first submission, not from the amendment:
    # 40 days on, moving the date to day 100 still gives 100 days of notice.
    fxd.clock.set(NOW + dt.timedelta(days=40))
    r = dev.patch("notices/%s" % n["id"], json={"planned_release_date": days(100).isoformat(),
                                                "change_reason": "slipped forward"},
                  headers={"If-Match": etag})
    a = expect(r, 200)
    assert a["notice_days"] == 100 and a["short_notice"] is False
    r = dev.patch("notices/%s" % n["id"], json={"planned_release_date": days(60).isoformat(),
                                                "change_reason": "launch moved up"},
                  headers={"If-Match": etag_of(r)})
    a = expect(r, 200)
    assert a["notice_days"] == 60 and a["short_notice"] is True
    assert a["version"] == 3
    h = expect(dev.get("notices/%s/history" % n["id"]), 200)["items"]
    actions = [e["action"] for e in h]
    assert actions.count("short_notice") == 1, actions
    assert actions.index("short_notice") > actions.index("amended"), actions


def test_amendment_moving_the_date_later_is_not_short(fxd, dev):
    n, etag = create_notice(dev, submit=True, release=days(95))
    r = dev.patch("notices/%s" % n["id"], json={"planned_release_date": days(180).isoformat(),
                                                "change_reason": "delay"},
                  headers={"If-Match": etag})
    a = expect(r, 200)
    assert a["notice_days"] == 180 and a["short_notice"] is False


# ------------------------------------------------------------ idempotency

def test_idempotency_key_replays_the_first_answer(dev):
    before = count(dev)
    body = notice_body(submit=True)
    key = unique("idem")
    r1 = dev.post("notices", json=body, headers={"Idempotency-Key": key})
    n1 = expect(r1, 201)
    r2 = dev.post("notices", json=body, headers={"Idempotency-Key": key})
    assert r2.status_code == 201, describe(r2)
    assert r2.json()["id"] == n1["id"] and r2.json()["ref"] == n1["ref"]
    assert r2.headers.get("Idempotent-Replayed", "").lower() == "true"
    assert count(dev) == before + 1
    # Same key, different body: refused, nothing created.
    r3 = dev.post("notices", json=notice_body(), headers={"Idempotency-Key": key})
    problem(r3, 422)
    assert count(dev) == before + 1
    # Another key creates another notice.
    r4 = dev.post("notices", json=body, headers={"Idempotency-Key": unique("idem")})
    assert expect(r4, 201)["id"] != n1["id"]
    assert count(dev) == before + 2


def test_idempotency_key_on_a_lifecycle_step(dev):
    n, _ = create_notice(dev)
    key = unique("idem")
    r1 = dev.post("notices/%s/submit" % n["id"], json={}, headers={"Idempotency-Key": key})
    expect(r1, 200)
    r2 = dev.post("notices/%s/submit" % n["id"], json={}, headers={"Idempotency-Key": key})
    assert r2.status_code == 200, describe(r2)
    assert r2.json() == r1.json()
    h = expect(dev.get("notices/%s/history" % n["id"]), 200)["items"]
    assert [e["action"] for e in h].count("submitted") == 1


def test_idempotency_keys_belong_to_their_user(fxd, dev):
    other = user_client(fxd, dev.admin_client, dev.org, "member")
    key = unique("idem")
    body = notice_body()
    a = expect(dev.post("notices", json=body, headers={"Idempotency-Key": key}), 201)
    b = expect(other.post("notices", json=body, headers={"Idempotency-Key": key}), 201)
    assert a["id"] != b["id"]


def test_idempotency_key_on_another_path_is_refused(dev):
    key = unique("idem")
    n = expect(dev.post("notices", json=notice_body(), headers={"Idempotency-Key": key}), 201)
    problem(dev.post("notices/%s/submit" % n["id"], json={}, headers={"Idempotency-Key": key}), 422)
    assert get_notice(dev, n["id"])[0]["status"] == "draft"


def test_idempotency_key_is_remembered_for_a_day(fxd, dev):
    before = count(dev)
    body = notice_body()
    key = unique("idem")
    first = expect(dev.post("notices", json=body, headers={"Idempotency-Key": key}), 201)
    fxd.clock.set(NOW + dt.timedelta(hours=23, minutes=59))
    again = dev.post("notices", json=body, headers={"Idempotency-Key": key})
    assert again.status_code == 201 and again.json()["id"] == first["id"], describe(again)
    assert count(dev) == before + 1



def test_expired_idempotency_keys_are_removed_from_the_store():
    """Past 24 hours a key no longer replays (above), and fxd serve removes its
    stored answer, sealed copy of a record included, when it starts and hourly,
    a thousand rows per transaction. Its own server: the count of keys removed
    must be exactly this test's."""
    srv = start_server(test_clock=NOW)
    try:
        d = org_client(srv, "developer")
        old_body, young_body = notice_body(), notice_body()
        old_key, young_key = unique("idem"), unique("idem")
        old = expect(d.post("notices", json=old_body, headers={"Idempotency-Key": old_key}), 201)
        for i in range(1000):  # more than one transaction's worth
            expect(d.post("notices", json={"model_name": "M%d" % i},
                          headers={"Idempotency-Key": unique("idem")}), 201)
        srv.clock.set(NOW + dt.timedelta(hours=23))
        young = expect(d.post("notices", json=young_body,
                              headers={"Idempotency-Key": young_key}), 201)
        srv.clock.set(NOW + dt.timedelta(hours=24, minutes=1))
        srv.restart()
        deadline = time.monotonic() + 30
        swept = []
        while not swept and time.monotonic() < deadline:
            swept = [e for e in srv.log_lines() if e.get("msg") == "expired idempotency keys removed"]
            time.sleep(0.05)  # polling interval, not synchronisation
        assert [e["removed"] for e in swept] == [1001], swept
        # the younger key still replays; the older one makes a new notice
        r = d.post("notices", json=young_body, headers={"Idempotency-Key": young_key})
        assert r.status_code == 201 and r.json()["id"] == young["id"], describe(r)
        assert r.headers.get("Idempotent-Replayed", "").lower() == "true"
        r = d.post("notices", json=old_body, headers={"Idempotency-Key": old_key})
        assert r.status_code == 201 and r.json()["id"] != old["id"], describe(r)
        srv.stop()
    finally:
        srv.cleanup()


def test_refs_take_the_utc_year_of_creation(fxd, dev):
    # A token that outlives the jump to next year.
    tok = expect(dev.post("users/%s/tokens" % dev.user["id"], json={"expires_in_days": 366}), 201)
    c = fxd.client(tok["token"])
    y = NOW.year
    fxd.clock.set("%d-12-31T23:59:59.999Z" % y)
    last = expect(c.post("notices", json=notice_body()), 201)["ref"]
    assert last.startswith("FXN-%d-" % y), last
    fxd.clock.set("%d-12-31T20:00:00-05:00" % y)   # already next year in UTC
    first = expect(c.post("notices", json=notice_body()), 201)["ref"]
    assert first == "FXN-%d-0001" % (y + 1), first
    fxd.clock.set("%d-01-01T00:00:01Z" % (y + 1))
    second = expect(c.post("notices", json=notice_body()), 201)["ref"]
    assert second == "FXN-%d-0002" % (y + 1), second


@pytest.mark.parametrize("key", ["", "x" * 129, "caf\u00e9"])
def test_bad_idempotency_key(dev, key):
    before = count(dev)
    r = dev.post("notices", json=notice_body(),
                 headers={"Idempotency-Key": key.encode("utf-8")})
    problem(r, (400, 422))
    assert count(dev) == before


# ------------------------------------------------------------ concurrency and HTTP details

def test_etag_is_a_quoted_entity_tag(dev):
    n, etag = create_notice(dev)
    assert re.match(r'^(W/)?"[\x21\x23-\x7e]+"$', etag), "ETag %r is not an entity-tag (RFC 9110)" % etag


def test_concurrent_amendments_with_one_etag_only_one_wins(fxd, dev):
    n, etag = create_notice(dev, submit=True)
    results = []

    def amend(i):
        c = fxd.client(dev.token)
        r = c.patch("notices/%s" % n["id"], json={"model_version": "race-%d" % i, "change_reason": "race"},
                    headers={"If-Match": etag})
        results.append((r.status_code, r.json().get("model_version") if r.status_code == 200 else None))

    threads = [threading.Thread(target=amend, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    codes = sorted(c for c, _ in results)
    assert codes == [200] + [412] * 7, codes
    winner = [v for c, v in results if c == 200][0]
    after, _ = get_notice(dev, n["id"])
    assert after["version"] == 2 and after["model_version"] == winner


def test_concurrent_retries_with_one_idempotency_key_create_one_notice(fxd, dev):
    before = count(dev)
    body = notice_body()
    key = unique("idem-race")
    results = []

    def post():
        c = fxd.client(dev.token)
        r = c.post("notices", json=body, headers={"Idempotency-Key": key})
        results.append((r.status_code, r.json().get("id") if r.status_code == 201 else None))

    threads = [threading.Thread(target=post) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    ids = {i for c, i in results if c == 201}
    assert len(ids) == 1, results
    assert all(c in (201, 409) for c, _ in results), results
    assert count(dev) == before + 1


def test_concurrent_creates_get_distinct_sequential_refs(fxd, dev):
    refs = []

    def post(k):
        c = fxd.client(dev.token)
        for _ in range(5):
            refs.append(expect(c.post("notices", json=notice_body()), 201)["ref"])

    threads = [threading.Thread(target=post, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    nums = sorted(int(REF_RE.match(r).group(2)) for r in refs)
    assert len(set(nums)) == 20, refs
    assert nums == list(range(nums[0], nums[0] + 20)), "gaps in %s" % nums


def test_refused_requests_use_up_no_reference(dev):
    a = create_notice(dev)[0]
    problem(dev.post("notices", json=notice_body(model_name=5)), 422)
    problem(dev.post("notices", json=notice_body(colour="red")), 422)
    b = create_notice(dev)[0]
    assert int(REF_RE.match(b["ref"]).group(2)) == int(REF_RE.match(a["ref"]).group(2)) + 1, (a["ref"], b["ref"])


def test_pagination_is_stable_while_notices_are_added(fxd):
    lab = org_client(fxd, "developer", role="member")
    first = []
    for i in range(30):
        fxd.clock.set(NOW + dt.timedelta(seconds=i))
        first.append(create_notice(lab)[0]["id"])
    params = {"developer": lab.org["id"], "limit": 10}
    page = expect(lab.get("notices", params=params), 200)
    seen = [n["id"] for n in page["items"]]
    # New notices arrive between pages: they are newer, so they belong before
    # the first page and must neither appear later nor push older ones twice.
    for i in range(5):
        fxd.clock.set(NOW + dt.timedelta(seconds=100 + i))
        create_notice(lab)
    while page["next_cursor"]:
        params["cursor"] = page["next_cursor"]
        page = expect(lab.get("notices", params=params), 200)
        seen += [n["id"] for n in page["items"]]
    assert len(seen) == len(set(seen)), "duplicates across pages"
    assert seen == list(reversed(first))


def test_an_amendment_without_its_reason_names_every_invalid_field(dev):
    """SPEC §3: the errors list names every invalid field, the missing change_reason among them."""
    n, etag = create_notice(dev, submit=True)
    r = dev.patch("notices/%s" % n["id"], json={"model_name": "", "colour": 1,
                                                "planned_release_date": "2027-02-30"},
                  headers={"If-Match": etag})
    problem(r, 422, fields=["/change_reason", "/model_name", "/colour", "/planned_release_date"])
    got, now = get_notice(dev, n["id"])
    assert now == etag and got["version"] == 1, "a refused amendment changed the notice"
