"""Trusted-partner early access (SPEC §6).

For a notice determined covered, the developer or the coordinator proposes a
grant to an operator org. It is approved when both the developer and the
coordinator have consented (each side once), active when the partner accepted
its terms (their SHA-256 recorded) and its first day has come, expired after
its last day, or revoked with a reason. The partner files feedback on an active
grant. The partner sees the model's name and version, the window, the terms and
the developer's contact, never the notice body; before approval it does not see
the grant at all. Lists filter by sector and state.
"""
import datetime as dt

import pytest

from fxharness import expect, problem
from fxreview import (Community, approved_grant, determined, fx, grant_body, in_assessment,
                      sha256_hex, submitted)

FXD_OPTIONS = {"test_clock": dt.datetime(2026, 3, 2, 12, tzinfo=dt.timezone.utc)}

NOTICE_BODY_FIELDS = {"description", "evaluations", "safeguards", "training_compute_flop",
                      "parameter_count", "modalities", "release_channels",
                      "planned_release_date", "notice_id", "ref"}


@pytest.fixture(scope="module")
def c(fxd):
    return Community(fxd)


def on(c, days):
    return c.fxd.clock.today + dt.timedelta(days=days)


@pytest.fixture
def clock(c):
    start = c.fxd.clock.now
    yield c.fxd.clock
    c.fxd.clock.set(start)


def test_the_whole_life_of_a_grant(c, clock):
    n = determined(c)
    body = grant_body(c, on(c, 2), on(c, 10))
    g = expect(c.dev.post("notices/%s/grants" % n["id"], json=body), 201)
    assert g["state"] == "proposed" and g["version"] == 1
    assert g["terms_sha256"] == sha256_hex(body["terms"])
    assert g["model_name"] == n["model_name"] and g["model_version"] == n["model_version"]
    assert g["developer_contact"] == n["contact"] and g["sector"] == "energy"
    assert g["notice_id"] == n["id"]
    # the partner does not learn of a proposal
    problem(c.partner.get("grants/%s" % g["id"]), 404)
    assert g["id"] not in {x["id"] for x in c.partner.list_all("grants")}

    d1 = expect(c.dev.post("grants/%s/consent" % g["id"]), 200)
    assert d1["state"] == "proposed" and d1["developer_consent_at"]
    again = problem(c.dev.post("grants/%s/consent" % g["id"]), 409)
    assert "developer" in again["detail"] and "consented" in again["detail"]
    d2 = expect(c.reviewer.post("grants/%s/consent" % g["id"], json={}), 200)
    assert d2["state"] == "approved" and d2["coordinator_consent_at"]
    problem(c.reviewer.post("grants/%s/consent" % g["id"]), 409)

    seen = expect(c.partner.get("grants/%s" % g["id"]), 200)
    assert seen["terms"] == body["terms"] and seen["purpose"] == body["purpose"]
    assert (seen["starts"], seen["ends"]) == (body["starts"], body["ends"])
    assert seen["model_name"] == n["model_name"] and seen["developer_contact"] == n["contact"]
    assert not NOTICE_BODY_FIELDS & set(seen), "the partner sees %s" % (NOTICE_BODY_FIELDS & set(seen))
    problem(c.partner.get("notices/%s" % n["id"]), 404)

    problem(c.partner.post("grants/%s/accept" % g["id"], json={"terms_sha256": sha256_hex("other")}),
            422, ["/terms_sha256"])
    problem(c.partner.post("grants/%s/feedback" % g["id"],
                           json={"title": "t", "severity": "low", "description": "d"}), 409)
    acc = expect(c.partner.post("grants/%s/accept" % g["id"],
                                json={"terms_sha256": g["terms_sha256"]}), 200)
    assert acc["state"] == "approved" and acc["accepted_terms_sha256"] == g["terms_sha256"]
    problem(c.partner.post("grants/%s/accept" % g["id"]), 409)

    clock.advance(days=2)  # the first day
    assert expect(c.partner.get("grants/%s" % g["id"]), 200)["state"] == "active"
    fb = {"title": "Found an exposed HMI", "severity": "high",
          "description": "The model found our exposed HMI in minutes."}
    f = expect(c.partner.post("grants/%s/feedback" % g["id"], json=fb), 201)
    assert f["severity"] == "high" and f["grant_id"] == g["id"]
    mine = expect(c.dev.get("grants/%s" % g["id"]), 200)
    assert [x["title"] for x in mine["feedback"]] == [fb["title"]]
    assert expect(c.partner.get("grants", params={"state": "active"}), 200)["items"][0]["id"] == g["id"]

    clock.advance(days=8)  # the last day: still active
    assert expect(c.dev.get("grants/%s" % g["id"]), 200)["state"] == "active"
    clock.advance(days=1)
    assert expect(c.dev.get("grants/%s" % g["id"]), 200)["state"] == "expired"
    problem(c.partner.post("grants/%s/feedback" % g["id"], json=fb), 409)
    p = problem(c.dev.post("grants/%s/revoke" % g["id"], json={"reason": "late"}), 409)
    assert p["status_now"] == "expired"

    hist = expect(c.dev.get("notices/%s/history" % n["id"]), 200)["items"]
    assert [e["action"] for e in hist if e["action"].startswith("grant_")] == [
        "grant_proposed", "grant_consented", "grant_consented", "grant_accepted", "grant_feedback"]


def test_revocation(c, clock):
    n = determined(c)
    g = approved_grant(c, n, on(c, 0), on(c, 30))
    problem(c.dev.post("grants/%s/revoke" % g["id"], json={}), 422, ["/reason"])
    problem(c.partner.post("grants/%s/revoke" % g["id"], json={"reason": "x"}), 403)
    r = expect(c[("coordinator", "member")].post("grants/%s/revoke" % g["id"],
                                                 json={"reason": "The model was withdrawn."}), 200)
    assert r["state"] == "revoked" and r["revoked_reason"] == "The model was withdrawn."
    seen = expect(c.partner.get("grants/%s" % g["id"]), 200)
    assert seen["state"] == "revoked" and seen["revoked_at"]
    problem(c.partner.post("grants/%s/accept" % g["id"]), 409)
    problem(c.dev.post("grants/%s/revoke" % g["id"], json={"reason": "again"}), 409)


def test_bad_proposals(c):
    n = determined(c)
    path = "notices/%s/grants" % n["id"]
    problem(c.dev.post(path, json=grant_body(c, on(c, 10), on(c, 9))), 422, ["/ends"])
    p = problem(c.dev.post(path, json=grant_body(c, on(c, 1), on(c, 2),
                                                 partner_org=c.org("developer_b")["id"])), 422,
                ["/partner_org"])
    assert "operator" in p["errors"][0]["message"]
    problem(c.dev.post(path, json=grant_body(c, on(c, 1), on(c, 2), partner_org=c.org(
        "agency_civilian")["id"])), 422, ["/partner_org"])
    problem(c.dev.post(path, json=grant_body(c, on(c, 1), on(c, 2),
                                             partner_org="01900000-0000-7000-8000-000000000000")),
            422, ["/partner_org"])
    # a window that is over already, named together with a partner that is not an operator
    p = problem(c.dev.post(path, json=grant_body(c, on(c, -9), on(c, -1), partner_org=c.org(
        "developer_b")["id"])), 422, ["/ends", "/partner_org"])
    assert str(on(c, 0)) in [e for e in p["errors"] if e["field"] == "/ends"][0]["message"]
    expect(c.dev.post(path, json=grant_body(c, on(c, -9), on(c, 0))), 201)  # ends today: fine
    p = problem(c.dev.post(path, json={"starts": "soon", "terms": "", "colour": 1}), 422)
    assert {"/partner_org", "/purpose", "/starts", "/ends", "/terms", "/colour"} <= {
        e["field"] for e in p["errors"]}
    for other in (submitted(c), determined(c, determination="not_covered")):
        p = problem(c.dev.post("notices/%s/grants" % other["id"],
                               json=grant_body(c, on(c, 1), on(c, 2))), 409)
        assert "covered" in p["detail"]
    assert len([g for g in c.dev.list_all("grants") if g.get("notice_id") == n["id"]]) == 1


def test_consent_twice_is_a_conflict_for_each_side(c):
    n = determined(c)
    g = expect(c.reviewer.post("notices/%s/grants" % n["id"],
                               json=grant_body(c, on(c, 1), on(c, 5))), 201)
    assert g["proposed_by_org"] == c.org("coordinator")["id"]
    expect(c[("coordinator", "admin")].post("grants/%s/consent" % g["id"]), 200)
    problem(c.reviewer.post("grants/%s/consent" % g["id"]), 409)
    expect(c[("developer_a", "admin")].post("grants/%s/consent" % g["id"]), 200)
    problem(c.dev.post("grants/%s/consent" % g["id"]), 409)


# org, role: propose; consent (to a proposal); accept and feedback; revoke (once approved).
# The partner may not learn of a proposal (404), and reads the grant once approved.
WHO = [
    ("developer_a", "admin", 201, 200, 403, 200),
    ("developer_a", "member", 201, 200, 403, 200),
    ("developer_a", "viewer", 403, 403, 403, 403),
    ("coordinator", "admin", 201, 200, 403, 200),
    ("coordinator", "reviewer", 201, 200, 403, 200),
    ("coordinator", "member", 201, 200, 403, 200),
    ("coordinator", "viewer", 403, 403, 403, 403),
    ("agency_civilian", "reviewer", 403, 404, 404, 404),  # assigned: reads the notice only
    ("agency_other", "reviewer", 404, 404, 404, 404),
    ("developer_b", "admin", 404, 404, 404, 404),
    ("operator_partner", "admin", 404, 404, 200, 403),
    ("operator_partner", "member", 404, 404, 200, 403),
    ("operator_partner", "viewer", 404, 404, 403, 403),
    ("operator_other", "admin", 404, 404, 404, 404),
]


def check(r, code):
    return expect(r, code) if code < 300 else problem(r, code)


@pytest.mark.parametrize("row", WHO, ids=["%s-%s" % r[:2] for r in WHO])
def test_who_takes_each_step(c, row):
    org, role, propose, consent, accept, revoke = row
    who = c[(org, role)]
    n, _ = in_assessment(c, agencies=("agency_civilian",))
    check(who.post("notices/%s/grants" % n["id"], json=grant_body(c, on(c, 0), on(c, 9))), propose)
    g = expect(c.dev.post("notices/%s/grants" % n["id"], json=grant_body(c, on(c, 0), on(c, 9))), 201)
    check(who.post("grants/%s/consent" % g["id"]), consent)
    # the two consents, whichever this caller did not give
    for side in (c.dev, c.reviewer):
        r = side.post("grants/%s/consent" % g["id"])
        assert r.status_code in (200, 409), r.text
    assert expect(c.dev.get("grants/%s" % g["id"]), 200)["state"] == "approved"
    check(who.post("grants/%s/accept" % g["id"]), accept)
    feedback = {"title": "t", "severity": "info", "description": "d"}
    check(who.post("grants/%s/feedback" % g["id"], json=feedback), 201 if accept == 200 else accept)
    check(who.post("grants/%s/revoke" % g["id"], json={"reason": "r"}), revoke)


def test_lists_filter_by_sector_and_state(c):
    n = determined(c)
    energy = approved_grant(c, n, on(c, 0), on(c, 20))
    health = approved_grant(c, n, on(c, 0), on(c, 20), partner="operator_other")
    proposed = expect(c.dev.post("notices/%s/grants" % n["id"],
                                 json=grant_body(c, on(c, 0), on(c, 20))), 201)
    mine = {g["id"]: g for g in c.dev.list_all("grants", params={"notice": n["id"]})}
    assert set(mine) == {energy["id"], health["id"], proposed["id"]}
    assert all(g["notice_id"] == n["id"] for g in mine.values())
    by_sector = {g["id"] for g in c.reviewer.list_all("grants", params={"sector": "energy"})}
    assert energy["id"] in by_sector and proposed["id"] in by_sector and health["id"] not in by_sector
    by_state = {g["id"] for g in c.dev.list_all("grants", params={"state": "proposed"})}
    assert proposed["id"] in by_state and energy["id"] not in by_state
    approved = {g["id"] for g in c.dev.list_all("grants", params={"state": "approved",
                                                                  "notice": n["id"]})}
    assert approved == {energy["id"], health["id"]}
    partner = {g["id"] for g in c.partner.list_all("grants")}
    assert energy["id"] in partner and health["id"] not in partner and proposed["id"] not in partner
    assert all("notice_id" not in g for g in c.partner.list_all("grants"))
    other = {g["id"] for g in c[("operator_other", "viewer")].list_all("grants")}
    assert health["id"] in other and energy["id"] not in other
    assert c[("agency_civilian", "admin")].list_all("grants") == []
    assert c[("developer_b", "admin")].list_all("grants") == []
    problem(c.dev.get("grants", params={"state": "pending"}), 422, ["query:state"])
    problem(c.dev.get("grants", params={"sector": "space"}), 422, ["query:sector"])


def test_grant_events_follow_the_grant(c):
    n, a = in_assessment(c, agencies=("agency_civilian",))
    approved_grant(c, n, on(c, 0), on(c, 5))
    agency = [e["action"] for e in expect(c.civ.get("notices/%s/history" % n["id"]), 200)["items"]]
    assert not [x for x in agency if x.startswith("grant_")], agency
    coord = [e["action"] for e in expect(c.reviewer.get("notices/%s/history" % n["id"]),
                                         200)["items"]]
    assert "grant_proposed" in coord


def test_partner_reads_are_in_the_developers_audit_trail(c):
    n = determined(c)
    g = approved_grant(c, n, on(c, 0), on(c, 5))
    expect(c.partner.get("grants/%s" % g["id"]), 200)
    rows = expect(c[("developer_a", "admin")].get("audit", params={"record": g["id"]}), 200)["items"]
    assert any(r["action"] == "grant.read" and r["org_id"] == c.org("operator_partner")["id"]
               for r in rows), rows


def test_fx_grant_commands(c, clock, tmp_path):
    n = determined(c)
    partner = c.org("operator_partner")["id"]
    terms = tmp_path / "terms.txt"
    terms.write_text("Use only to harden your own systems.\n")
    g = fx(c.fxd, c.dev, "grant", "propose", n["ref"], "--partner", partner, "--purpose",
           "Grid hardening", "--starts", str(on(c, 0)), "--ends", str(on(c, 3)), "--terms-file",
           terms, "--json").json()
    assert g["state"] == "proposed" and g["terms_sha256"] == sha256_hex(terms.read_text())
    bad = fx(c.fxd, c.dev, "grant", "propose", n["ref"], "--partner", partner, "--purpose", "p",
             "--starts", str(on(c, 3)), "--ends", str(on(c, 1)), "--terms", "t").status(3)
    assert "/ends" in bad.err
    fx(c.fxd, c.dev, "grant", "consent", g["id"]).ok()
    fx(c.fxd, c.dev, "grant", "consent", g["id"]).status(3)
    assert "approved" in fx(c.fxd, c.reviewer, "grant", "consent", g["id"]).ok().out
    fx(c.fxd, c.partner, "grant", "accept", g["id"], "--terms-sha256", "0" * 64).status(3)
    assert "active" in fx(c.fxd, c.partner, "grant", "accept", g["id"], "--terms-sha256",
                          g["terms_sha256"]).ok().out
    fx(c.fxd, c.partner, "grant", "feedback", g["id"], "--title", "Weak VPN", "--severity",
       "medium", "--description", "Found it fast.").ok()
    listed = fx(c.fxd, c.partner, "grant", "list", "--sector", "energy", "--state", "active").ok()
    assert g["id"] in listed.out
    shown = fx(c.fxd, c.dev, "grant", "show", g["id"]).ok()
    assert "Weak VPN" in shown.out and "harden your own systems" in shown.out
    assert "revoked" in fx(c.fxd, c.dev, "grant", "revoke", g["id"], "--reason", "done").ok().out


def test_a_partner_pages_past_proposals_it_may_not_see(c):
    """Proposals to a partner are hidden from it (404), yet its list must not end at them,
    and no cursor may name one (SPEC §2: the id would tell the partner it exists): the
    server reads on past the rows the gate drops, so a page is short only when it is the
    last, and its cursor names the last row shown."""
    n = determined(c)
    older = approved_grant(c, n, on(c, 0), on(c, 20))
    hidden = set()
    for _ in range(5):  # newer than the approved grant, all hidden from the partner
        hidden.add(expect(c.dev.post("notices/%s/grants" % n["id"],
                                     json=grant_body(c, on(c, 0), on(c, 20))), 201)["id"])
    newer = approved_grant(c, n, on(c, 0), on(c, 20))
    for limit in (1, 2, 3):
        shown, cursor = [], None
        while True:
            params = {"limit": limit, **({"cursor": cursor} if cursor else {})}
            page = expect(c.partner.get("grants", params=params), 200)
            shown += [g["id"] for g in page["items"]]
            cursor = page.get("next_cursor")
            if not cursor:
                break
            assert len(page["items"]) == limit, page
            assert cursor == page["items"][-1]["id"] and cursor not in hidden, page
        assert not hidden & set(shown)
        assert {older["id"], newer["id"]} <= set(shown), shown
        assert len(shown) == len(set(shown))


def test_a_grant_goes_no_further_once_its_notice_is_no_longer_covered(c):
    """SPEC §6: grants are for a notice determined covered. One proposed or approved
    before the notice was withdrawn, or determined not covered on reconsideration,
    is neither approved nor accepted after (409 naming the notice's status, the
    grant unchanged); it can still be revoked."""
    # withdrawn after both consents: the partner may not accept
    n = determined(c)
    g = approved_grant(c, n, on(c, 0), on(c, 20))
    expect(c.dev.post("notices/%s/withdraw" % n["id"], json={"reason": "Cancelled."}), 200)
    p = problem(c.partner.post("grants/%s/accept" % g["id"],
                               json={"terms_sha256": g["terms_sha256"]}), 409)
    assert "withdrawn" in p["detail"] and p["status_now"] == "withdrawn", p
    assert expect(c.partner.get("grants/%s" % g["id"]), 200)["state"] == "approved"
    expect(c.dev.post("grants/%s/revoke" % g["id"], json={"reason": "Notice withdrawn."}), 200)

    # determined not covered on reconsideration, between the two consents
    n = determined(c)
    g = expect(c.dev.post("notices/%s/grants" % n["id"],
                          json=grant_body(c, on(c, 0), on(c, 20))), 201)
    expect(c.dev.post("grants/%s/consent" % g["id"], json={}), 200)
    expect(c.dev.post("notices/%s/reconsideration" % n["id"],
                      json={"statement": "Our run was smaller than reported."}), 201)
    problem(c.reviewer.post("grants/%s/consent" % g["id"], json={}), 409)  # under review
    expect(c.reviewer.post("notices/%s/determination" % n["id"],
                           json={"determination": "not_covered", "rationale": "Corrected."}), 201)
    p = problem(c.reviewer.post("grants/%s/consent" % g["id"], json={}), 409)
    assert "determined covered" in p["detail"], p
    after = expect(c.dev.get("grants/%s" % g["id"]), 200)
    assert after["state"] == "proposed" and after["coordinator_consent_at"] is None, after
