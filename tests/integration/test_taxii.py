"""TAXII 2.1 (SPEC §8; OASIS TAXII 2.1 §3-5), written from the specification.

What is checked here, and where the rule comes from:
  * media types: answers are application/taxii+json;version=2.1; an Accept
    that admits none of it is 406; a POST in another type is 415 (§1.6.8);
    errors are TAXII error messages with a title (§3.6.1);
  * authentication: Bearer, and HTTP Basic with the token as password (SPEC §8);
  * discovery, API root (max_content_length), collections (§4.1-4.4, §5.1-5.2);
  * add objects (§5.4): an envelope answers 202 with a status resource that
    lists every invalid object with a reason, the valid ones being stored;
  * get objects and manifest (§5.3, §5.5): limit/next pagination over more
    than a thousand objects, added_after boundaries, the X-TAXII-Date-Added
    headers, match[id], match[type], match[version] (first, last, all, a
    timestamp, combinations), match[spec_version];
  * an object, its versions, and deletion (§5.6-5.8);
  * bad input: oversized envelopes, envelopes that are not objects, invalid
    objects of many kinds (wrong type--id, no created, modified before
    created, a 10,000-deep extension, malformed patterns), bad filters,
    unknown collections, another organization's collection.
"""
import base64
import json

import pytest

from fxharness import describe, org_client, raw_request, start_server, unique, user_client
from fxtaxii import (H, H_POST, INCIDENTS, ROOT, STIX, TAXII, TLP_IDS, add, collection_url,
                     get_all, indicator, new_id, parse_ts, post_envelope, report, taxii_ok,
                     taxii_problem)


@pytest.fixture(scope="module")
def lab(fxd):
    return org_client(fxd, "developer", role="member")


@pytest.fixture(scope="module")
def grid(fxd):
    return org_client(fxd, "operator", role="member")


def coll_of(client):
    return client.org["id"]


# ------------------------------------------------------------ discovery and media types


def test_discovery_and_api_root(lab):
    d = taxii_ok(lab.get("/taxii2/", headers=H))
    assert d["title"]
    roots = d["api_roots"]
    assert len(roots) == 1 and roots[0].endswith(ROOT), d
    assert d["default"] == roots[0]
    root = taxii_ok(lab.get(ROOT, headers=H))
    assert root["versions"] == [TAXII]
    assert root["max_content_length"] == 10 * 1024 * 1024
    assert root["title"]


def test_media_types(lab):
    # no Accept, */* and the TAXII type with or without its version are all fine
    for accept in (None, "*/*", TAXII, "application/taxii+json",
                   "text/html, application/taxii+json;version=2.1;q=0.9"):
        r = lab.get(ROOT, headers={"Accept": accept})
        taxii_ok(r)
    for accept in ("application/json", "text/html", "application/taxii+json;version=2.0"):
        taxii_problem(lab.get(ROOT, headers={"Accept": accept}), 406)
    st = post_envelope(lab, coll_of(lab), [indicator()], headers={"Content-Type": "application/json"})
    taxii_problem(st, 415)
    taxii_problem(post_envelope(lab, coll_of(lab), [indicator()],
                                headers={"Content-Type": "application/taxii+json;version=2.0"}), 415)


def test_authentication(fxd, lab):
    anon = fxd.anon()
    for path in ("/taxii2/", ROOT, ROOT + "collections/"):
        body = taxii_problem(anon.get(path, headers=H), 401)
        assert "Basic" in anon.get(path, headers=H).headers.get("WWW-Authenticate", "")
        assert body["title"]
    taxii_problem(lab.get(ROOT, headers=H, token="fx_" + "A" * 43), 401)
    # HTTP Basic with the token as the password (any user name)
    basic = base64.b64encode(("whoever:" + lab.token).encode()).decode()
    r = anon.get(ROOT + "collections/", headers={"Accept": TAXII, "Authorization": "Basic " + basic})
    taxii_ok(r)
    bad = base64.b64encode(b"whoever:fx_nonsense").decode()
    taxii_problem(anon.get(ROOT, headers={"Accept": TAXII, "Authorization": "Basic " + bad}), 401)


def test_collections(fxd, lab, grid):
    body = taxii_ok(lab.get(ROOT + "collections/", headers=H))
    by_id = {c["id"]: c for c in body["collections"]}
    incidents = [c for c in body["collections"] if c.get("alias") == INCIDENTS]
    assert len(incidents) == 1
    inc = incidents[0]
    assert inc["can_read"] is True and inc["can_write"] is False
    mine = by_id[lab.org["id"]]
    assert mine["can_read"] is True and mine["can_write"] is True
    assert STIX in mine["media_types"]
    other = by_id[grid.org["id"]]
    assert other["can_write"] is False
    # one collection by id, by the incidents alias, and unknown ones
    one = taxii_ok(lab.get(collection_url(inc["id"]), headers=H))
    assert one["id"] == inc["id"]
    taxii_ok(lab.get(collection_url(INCIDENTS), headers=H))
    taxii_problem(lab.get(collection_url("01900000-0000-7000-8000-000000000000"), headers=H), 404)
    taxii_problem(lab.get(collection_url("no-such-collection") + "objects/", headers=H), 404)
    # a viewer reads but does not write
    viewer = user_client(fxd, fxd.admin, lab.org, "viewer")
    assert {c["id"]: c for c in taxii_ok(viewer.get(ROOT + "collections/", headers=H))
            ["collections"]}[lab.org["id"]]["can_write"] is False
    taxii_problem(post_envelope(viewer, coll_of(lab), [indicator()]), 403)


# ------------------------------------------------------------ adding objects


def test_add_and_status(lab, grid):
    objs = [indicator(), indicator()]
    st = add(lab, coll_of(lab), objs)
    assert st["total_count"] == 2 and st["success_count"] == 2 and st["pending_count"] == 0
    assert {s["id"] for s in st["successes"]} == {o["id"] for o in objs}
    assert all(s["version"] == o["modified"] for s, o in zip(st["successes"], objs))
    again = taxii_ok(lab.get(ROOT + "status/%s/" % st["id"], headers=H))
    assert again["id"] == st["id"] and again["success_count"] == 2
    # another org may not learn the status exists
    taxii_problem(grid.get(ROOT + "status/%s/" % st["id"], headers=H), 404)
    taxii_problem(lab.get(ROOT + "status/not-a-status/", headers=H), 404)
    # re-posting the same versions stores nothing new and still succeeds
    st2 = add(lab, coll_of(lab), objs)
    assert st2["success_count"] == 2
    items, _ = get_all(lab, coll_of(lab), params={"match[id]": ",".join(o["id"] for o in objs),
                                                   "match[version]": "all"})
    assert len(items) == 2


def test_posting_to_other_collections_is_refused(lab, grid):
    taxii_problem(post_envelope(lab, coll_of(grid), [indicator()]), 403)
    taxii_problem(post_envelope(lab, INCIDENTS, [indicator()]), 403)
    taxii_problem(post_envelope(lab, "01900000-0000-7000-8000-000000000000", [indicator()]), 404)


def test_invalid_object_inside_a_valid_envelope(lab):
    good1, good2 = indicator(), indicator()
    no_created = indicator()
    del no_created["created"]
    backwards = indicator(created="2026-02-01T00:00:00.000Z", modified="2026-01-01T00:00:00.000Z")
    wrong_form = indicator(id_="indicator--not-a-uuid")
    wrong_type = indicator(id_=new_id("malware"))
    bad_pattern = indicator(pattern="[ipv4-addr:value = '1.2.3.4'")
    no_spec = indicator()
    del no_spec["spec_version"]
    old_spec = indicator(spec_version="2.0")
    bad_ts = indicator(created="2026-13-01T00:00:00Z", modified="2026-13-01T00:00:00Z")
    bad_ref = indicator(created_by_ref="identity--zzz")
    bundle = {"type": "bundle", "id": new_id("bundle"), "objects": [indicator()]}
    deep = indicator()
    nest = {}
    cur = nest
    for _ in range(10000):
        cur["x"] = {}
        cur = cur["x"]
    deep["extensions"] = {"x-deep-ext": nest}
    objects = [good1, no_created, backwards, wrong_form, wrong_type, bad_pattern, no_spec,
               old_spec, bad_ts, bad_ref, bundle, "a string", 42, None, good2]
    # json.dumps cannot write 10,000 levels: splice the deep object in by hand
    text = json.dumps({"objects": objects})
    deep_text = json.dumps(dict(deep, extensions={})).replace(
        '"extensions": {}', '"extensions": {"x-deep-ext": ' + '{"x": ' * 10000 + "{}" + "}" * 10000 + "}")
    text = text[:-2] + ", " + deep_text + "]}"
    st = taxii_ok(post_envelope(lab, coll_of(lab), None, raw=text), 202)
    assert st["total_count"] == len(objects) + 1, st
    assert st["success_count"] == 2, st
    assert st["failure_count"] == len(objects) + 1 - 2, st
    assert {s["id"] for s in st["successes"]} == {good1["id"], good2["id"]}
    fails = {f["id"]: f for f in st["failures"]}
    for f in st["failures"]:
        assert f["message"], f
        assert "version" in f and "id" in f
    why = lambda o: fails[o["id"]]["message"]
    assert "created" in why(no_created)
    assert "modified" in why(backwards)
    assert "id" in why(wrong_form)
    assert "id" in why(wrong_type)
    assert "pattern" in why(bad_pattern)
    assert "spec_version" in why(no_spec) and "spec_version" in why(old_spec)
    assert "created" in why(bad_ts)
    assert "created_by_ref" in why(bad_ref)
    assert deep["id"] in fails and "deep" in fails[deep["id"]]["message"]
    # the valid ones are stored, none of the others
    got = {o["id"] for o in get_all(lab, coll_of(lab), params={"match[version]": "all"})[0]}
    assert good1["id"] in got and good2["id"] in got
    assert not ({o["id"] for o in objects if isinstance(o, dict)} - {good1["id"], good2["id"]}) & got


def test_numbers_read_as_the_json_parser_reads_them(lab):
    """A real too small for a double reads as zero, whatever its length, as
    jansson reads it; only one beyond a double or a 64-bit integer is refused."""
    small, long_real, big, huge_int = indicator(), indicator(), indicator(), indicator()
    text = json.dumps({"objects": [small, long_real, big, huge_int]})
    for o, raw in ((small, "1e-400"), (long_real, "0." + "0" * 80 + "1"), (big, "1e400"),
                   (huge_int, "9223372036854775808")):
        text = text.replace('"id": "%s"' % o["id"], '"id": "%s", "x_n": %s' % (o["id"], raw))
    st = taxii_ok(post_envelope(lab, coll_of(lab), None, raw=text), 202)
    assert {s["id"] for s in st["successes"]} == {small["id"], long_real["id"]}, st
    fails = {f["id"]: f["message"] for f in st["failures"]}
    assert set(fails) == {big["id"], huge_int["id"]}, st
    assert all("out of range" in m for m in fails.values()), fails


def test_bad_envelopes(lab):
    c = coll_of(lab)
    for raw in ("[]", '"objects"', "42", "null", "{", '{"objects": {}}', '{"objects": [1,}',
                '{"objects": [], "objects": []}', '{"objects": []} trailing'):
        taxii_problem(post_envelope(lab, c, None, raw=raw), 400)
    taxii_problem(post_envelope(lab, c, None, raw=""), 400)
    # an empty envelope is fine and stores nothing
    st = taxii_ok(post_envelope(lab, c, None, raw="{}"), 202)
    assert st["total_count"] == 0


def test_oversized_envelope(fxd, lab):
    big = b'{"objects": [' + b",".join([b'{"type": "x"}'] * 10) + b"]}" + b" " * (20 * 1024 * 1024)
    host_hdrs = [("Authorization", "Bearer " + lab.token), ("Content-Type", TAXII),
                 ("Accept", TAXII), ("Content-Length", str(len(big)))]
    r = raw_request(fxd.url, "POST", collection_url(coll_of(lab)) + "objects/", host_hdrs, big)
    taxii_problem(r, 413)
    r = raw_request(fxd.url, "POST", collection_url(coll_of(lab)) + "objects/", host_hdrs, big,
                    expect_continue=True)
    taxii_problem(r, 413)
    # the server still answers
    taxii_ok(lab.get(ROOT, headers=H))


def test_configurable_envelope_limit():
    srv = start_server(extra_args=["--taxii-max-body", str(2 * 1024 * 1024)])
    try:
        dev = org_client(srv, "developer", role="member")
        assert taxii_ok(dev.get(ROOT, headers=H))["max_content_length"] == 2 * 1024 * 1024
        objs = [indicator(description="x" * 1000) for _ in range(3000)]  # about 4 MiB
        taxii_problem(post_envelope(dev, coll_of(dev), objs), 413)
        st = taxii_ok(post_envelope(dev, coll_of(dev), objs[:1000]), 202)  # about 1.3 MiB
        assert st["success_count"] == 1000
        # the API's own limit stays 1 MiB
        r = dev.post("incidents", data=b"{" + b" " * (1100 * 1024) + b"}",
                     headers={"Content-Type": "application/json"})
        assert r.status_code == 413, describe(r)
    finally:
        srv.stop()
        srv.cleanup()


# ------------------------------------------------------------ pagination


@pytest.fixture(scope="module")
def bulk(fxd):
    """A fresh org whose collection holds 1,250 indicators, posted in three envelopes."""
    dev = org_client(fxd, "developer", role="member")
    posted = []
    for n in (500, 500, 250):
        objs = [indicator() for _ in range(n)]
        add(dev, coll_of(dev), objs)
        posted.extend(objs)
    return dev, posted


def test_pagination_over_a_thousand_objects(bulk):
    dev, posted = bulk
    items, pages = get_all(dev, coll_of(dev), limit=100)
    assert len(pages) == 13
    assert [o["id"] for o in items] == [o["id"] for o in posted], "every object once, in order"
    for r, body in pages[:-1]:
        assert body["more"] is True and len(body["objects"]) == 100
    assert pages[-1][1]["more"] is False and len(pages[-1][1]["objects"]) == 50
    # the manifest pages the same way and its date_added are strictly increasing
    man, mpages = get_all(dev, coll_of(dev), resource="manifest/", limit=250)
    assert [m["id"] for m in man] == [o["id"] for o in posted]
    added = [parse_ts(m["date_added"]) for m in man]
    assert all(a < b for a, b in zip(added, added[1:]))
    assert all(m["media_type"] == STIX and m["version"] == "2026-01-01T00:00:00.000Z"
               for m in man)
    # the headers name the first and last date_added of each page
    for (r, body), chunk in zip(mpages, [man[i:i + 250] for i in range(0, len(man), 250)]):
        assert r.headers["X-TAXII-Date-Added-First"] == chunk[0]["date_added"]
        assert r.headers["X-TAXII-Date-Added-Last"] == chunk[-1]["date_added"]


def test_pagination_by_added_after(bulk):
    """TAXII 2.1 §3.3: X-TAXII-Date-Added-Last as added_after continues without gaps or repeats."""
    dev, posted = bulk
    seen, after = [], None
    while True:
        params = {"limit": 300}
        if after:
            params["added_after"] = after
        r = dev.get(collection_url(coll_of(dev)) + "objects/", params=params, headers=H)
        body = taxii_ok(r)
        objs = body.get("objects", [])
        if not objs:
            assert r.headers.get("X-TAXII-Date-Added-Last") is None
            break
        seen.extend(o["id"] for o in objs)
        after = r.headers["X-TAXII-Date-Added-Last"]
    assert seen == [o["id"] for o in posted]


def test_added_after_boundaries(bulk):
    dev, posted = bulk
    man, _ = get_all(dev, coll_of(dev), resource="manifest/", limit=1000)
    for k in (0, 1, 499, 500, 1248):
        body = taxii_ok(dev.get(collection_url(coll_of(dev)) + "manifest/",
                                params={"added_after": man[k]["date_added"], "limit": 1000},
                                headers=H))
        got = [m["id"] for m in body.get("objects", [])]
        assert got == [m["id"] for m in man[k + 1:]][:1000], "strictly after object %d" % k
    last = man[-1]["date_added"]
    body = taxii_ok(dev.get(collection_url(coll_of(dev)) + "objects/",
                            params={"added_after": last}, headers=H))
    assert not body.get("objects") and body.get("more") is False
    # a time before everything returns the first page
    body = taxii_ok(dev.get(collection_url(coll_of(dev)) + "objects/",
                            params={"added_after": "2000-01-01T00:00:00Z", "limit": 5}, headers=H))
    assert [o["id"] for o in body["objects"]] == [o["id"] for o in posted[:5]]


@pytest.mark.parametrize("params", [
    {"limit": "0"}, {"limit": "-1"}, {"limit": "ten"}, {"limit": "1.5"},
    {"added_after": "yesterday"}, {"added_after": "2026-01-01"}, {"added_after": "2026-02-30T00:00:00Z"},
    {"next": "not-ours"}, {"match[version]": "newest"}, {"match[type]": "NOT A TYPE"},
    {"match[id]": "indicator--zzz"}, {"match[spec_version]": "two"}, {"colour": "red"},
])
def test_bad_filters(lab, params):
    body = taxii_problem(lab.get(collection_url(coll_of(lab)) + "objects/", params=params,
                                 headers=H), 400)
    assert body.get("description")


def test_huge_limit_is_capped(bulk):
    dev, posted = bulk
    body = taxii_ok(dev.get(collection_url(coll_of(dev)) + "objects/",
                            params={"limit": str(10 ** 9)}, headers=H))
    assert 1 <= len(body["objects"]) <= 1000
    assert body["more"] is True and body.get("next")
    body = taxii_ok(dev.get(collection_url(coll_of(dev)) + "objects/", params={"limit": "1"},
                            headers=H))
    assert len(body["objects"]) == 1 and body["more"] is True


# ------------------------------------------------------------ filters and versions


@pytest.fixture(scope="module")
def versioned(fxd):
    """Three versions of one indicator, another object, and a malware, posted out of order."""
    dev = org_client(fxd, "developer", role="member")
    oid = new_id("indicator")
    v = ["2026-01-01T00:00:00.000Z", "2026-01-02T00:00:00.000Z", "2026-01-03T00:00:00.000Z"]
    add(dev, coll_of(dev), [indicator(id_=oid, created=v[0], modified=v[1])])
    add(dev, coll_of(dev), [indicator(id_=oid, created=v[0], modified=v[2])])
    add(dev, coll_of(dev), [indicator(id_=oid, created=v[0], modified=v[0])])
    other = indicator()
    mal = {"type": "malware", "spec_version": "2.1", "id": new_id("malware"),
           "created": v[0], "modified": v[0], "name": "Example", "is_family": False}
    add(dev, coll_of(dev), [other, mal])
    return dev, oid, v, other, mal


def versions_of(dev, oid, **params):
    items, _ = get_all(dev, coll_of(dev), params=dict(params, **{"match[id]": oid}))
    return sorted(o["modified"] for o in items)


def test_match_version(versioned):
    dev, oid, v, other, mal = versioned
    assert versions_of(dev, oid) == [v[2]], "last is the default"
    assert versions_of(dev, oid, **{"match[version]": "last"}) == [v[2]]
    assert versions_of(dev, oid, **{"match[version]": "first"}) == [v[0]]
    assert versions_of(dev, oid, **{"match[version]": "all"}) == v
    assert versions_of(dev, oid, **{"match[version]": v[1]}) == [v[1]]
    assert versions_of(dev, oid, **{"match[version]": "first,last"}) == [v[0], v[2]]
    assert versions_of(dev, oid, **{"match[version]": "%s,%s" % (v[0], v[1])}) == [v[0], v[1]]
    assert versions_of(dev, oid, **{"match[version]": "2030-01-01T00:00:00.000Z"}) == []
    # the manifest honours the same filter
    man, _ = get_all(dev, coll_of(dev), resource="manifest/",
                     params={"match[id]": oid, "match[version]": "all"})
    assert sorted(m["version"] for m in man) == v


def test_match_type_and_id(versioned):
    dev, oid, v, other, mal = versioned
    items, _ = get_all(dev, coll_of(dev), params={"match[type]": "malware"})
    assert [o["id"] for o in items] == [mal["id"]]
    items, _ = get_all(dev, coll_of(dev), params={"match[type]": "malware,indicator"})
    assert {o["id"] for o in items} == {oid, other["id"], mal["id"]}
    items, _ = get_all(dev, coll_of(dev), params={"match[id]": "%s,%s" % (other["id"], mal["id"])})
    assert {o["id"] for o in items} == {other["id"], mal["id"]}
    items, _ = get_all(dev, coll_of(dev), params={"match[type]": "indicator",
                                                   "match[id]": mal["id"]})
    assert items == []
    items, _ = get_all(dev, coll_of(dev), params={"match[type]": "campaign"})
    assert items == []


def test_match_spec_version(versioned):
    dev, oid, v, other, mal = versioned
    assert len(get_all(dev, coll_of(dev), params={"match[spec_version]": "2.1"})[0]) == 3
    assert len(get_all(dev, coll_of(dev), params={"match[spec_version]": "2.0,2.1"})[0]) == 3
    assert get_all(dev, coll_of(dev), params={"match[spec_version]": "2.0"})[0] == []


def test_object_and_versions_endpoints(versioned):
    dev, oid, v, other, mal = versioned
    base = collection_url(coll_of(dev)) + "objects/%s/" % oid
    r = dev.get(base, headers=H)
    body = taxii_ok(r)
    assert [o["modified"] for o in body["objects"]] == [v[2]]
    assert r.headers.get("X-TAXII-Date-Added-First") and r.headers.get("X-TAXII-Date-Added-Last")
    body = taxii_ok(dev.get(base, params={"match[version]": "all"}, headers=H))
    assert sorted(o["modified"] for o in body["objects"]) == v
    vs = taxii_ok(dev.get(base + "versions/", headers=H))
    assert sorted(vs["versions"]) == v and vs["more"] is False
    page = taxii_ok(dev.get(base + "versions/", params={"limit": 2}, headers=H))
    assert len(page["versions"]) == 2 and page["more"] is True
    rest = taxii_ok(dev.get(base + "versions/", params={"limit": 2, "next": page["next"]},
                            headers=H))
    assert sorted(page["versions"] + rest["versions"]) == v
    taxii_problem(dev.get(collection_url(coll_of(dev)) + "objects/%s/" % new_id("indicator"),
                          headers=H), 404)
    taxii_problem(dev.get(collection_url(coll_of(dev)) + "objects/not-an-id/", headers=H), 404)


def test_delete(fxd, versioned, grid):
    dev, oid, v, other, mal = versioned
    base = collection_url(coll_of(dev)) + "objects/%s/" % oid
    # others may not delete: another org, the read-only incidents collection
    taxii_problem(grid.delete(base, headers=H), 403)
    taxii_problem(dev.delete(collection_url(INCIDENTS) + "objects/%s/" % oid, headers=H), 403)
    # the last version goes: "last" is now the middle one
    r = dev.delete(base, params={"match[version]": "last"}, headers=H)
    assert r.status_code == 200, describe(r)
    assert versions_of(dev, oid) == [v[1]]
    assert versions_of(dev, oid, **{"match[version]": "all"}) == [v[0], v[1]]
    # then every version
    assert dev.delete(base, headers=H).status_code == 200
    taxii_problem(dev.get(base, headers=H), 404)
    taxii_problem(dev.delete(base, headers=H), 404)
    assert versions_of(dev, other["id"]) == [other["modified"]]


# ------------------------------------------------------------ the incidents collection


def test_incidents_collection_holds_incidents_and_posted_objects(fxd, lab):
    inc = report(lab, tlp="GREEN")
    posted = indicator(markings=[TLP_IDS["GREEN"]])
    add(lab, coll_of(lab), [posted])
    other = org_client(fxd, "operator", role="viewer")
    items, _ = get_all(other, INCIDENTS, limit=1000)
    ids = {o["id"] for o in items}
    assert "incident--" + inc["id"] in ids
    assert posted["id"] in ids
    mine = [o for o in items if o["id"] == "incident--" + inc["id"]][0]
    assert mine["name"] == inc["title"] and mine["object_marking_refs"] == [TLP_IDS["GREEN"]]
    # match[type] over the union
    inc_only, _ = get_all(other, INCIDENTS, params={"match[type]": "incident"}, limit=1000)
    assert all(o["type"] == "incident" for o in inc_only)
    assert "incident--" + inc["id"] in {o["id"] for o in inc_only}
    # an update makes a new version: the last one is served, both are listed
    r = lab.get("incidents/%s" % inc["id"])
    upd = lab.patch("incidents/%s" % inc["id"], json={"status": "resolved"},
                    headers={"If-Match": r.headers["ETag"]})
    assert upd.status_code == 200, describe(upd)
    base = collection_url(INCIDENTS) + "objects/incident--%s/" % inc["id"]
    body = taxii_ok(other.get(base, headers=H))
    assert len(body["objects"]) == 1 and body["objects"][0]["x_fx_status"] == "resolved"
    vs = taxii_ok(other.get(base + "versions/", headers=H))
    assert len(vs["versions"]) == 2
    assert parse_ts(vs["versions"][0]) < parse_ts(vs["versions"][1])


# ------------------------------------------------------------ fx taxii


def test_fx_taxii(fxd, tmp_path):
    import os
    import subprocess
    from fxharness import FX
    dev = org_client(fxd, "developer", role="member")

    def fx(*args):
        env = {k: v for k, v in os.environ.items() if not k.startswith("FX_")}
        env.update(HOME=str(tmp_path), FX_URL=fxd.url, FX_TOKEN=dev.token)
        p = subprocess.run([FX] + list(args), env=env, capture_output=True, timeout=120)
        p.out, p.err = p.stdout.decode(), p.stderr.decode()
        return p

    p = fx("taxii", "collections")
    assert p.returncode == 0, p.err
    assert "incidents" in p.out and dev.org["id"] in p.out
    objs = [indicator() for _ in range(5)]
    env_file = tmp_path / "env.json"
    env_file.write_text(json.dumps({"objects": objs + [{"type": "indicator", "id": "nope"}]}))
    p = fx("taxii", "add", dev.org["id"], "--file", str(env_file))
    assert p.returncode == 3, (p.out, p.err)  # one object refused
    assert "5 of 6 stored" in p.out and "nope" in p.out
    bundle = tmp_path / "bundle.json"
    more = [indicator() for _ in range(3)]
    bundle.write_text(json.dumps({"type": "bundle", "id": new_id("bundle"), "objects": more}))
    p = fx("--json", "taxii", "add", dev.org["id"], "--file", str(bundle))
    assert p.returncode == 0, p.err
    assert json.loads(p.out)["success_count"] == 3
    p = fx("--json", "taxii", "get", dev.org["id"], "--limit", "3", "--all")
    assert p.returncode == 0, p.err
    got = json.loads(p.out)["objects"]
    assert [o["id"] for o in got] == [o["id"] for o in objs + more]
    p = fx("taxii", "get", dev.org["id"], "--limit", "2")
    assert p.returncode == 0 and "--next" in p.err
    p = fx("--json", "taxii", "get", dev.org["id"], "--manifest", "--id", objs[0]["id"])
    assert [m["id"] for m in json.loads(p.out)["objects"]] == [objs[0]["id"]]
    p = fx("taxii", "get", dev.org["id"], "--added-after", "yesterday")
    assert p.returncode == 3 and "added_after" in p.err
    p = fx("taxii", "get", "01900000-0000-7000-8000-000000000000")
    assert p.returncode == 3


def test_pages_follow_every_change(fxd):
    """A page read again after a change shows the change (whatever the server keeps)."""
    dev = org_client(fxd, "developer", role="member")
    coll = coll_of(dev)
    first = [indicator(markings=[TLP_IDS["GREEN"]]) for _ in range(3)]
    add(dev, coll, first)
    params = {"limit": 10}
    ids = lambda c: [o["id"] for o in taxii_ok(c.get(collection_url(coll) + "objects/",
                                                     params=params, headers=H)).get("objects", [])]
    assert ids(dev) == [o["id"] for o in first]
    assert ids(dev) == [o["id"] for o in first]
    extra = indicator(markings=[TLP_IDS["GREEN"]])
    add(dev, coll, [extra])
    assert ids(dev) == [o["id"] for o in first + [extra]]
    newer = dict(first[0], modified="2026-02-01T00:00:00.000Z")
    add(dev, coll, [newer])
    assert ids(dev) == [o["id"] for o in first[1:] + [extra, newer]]
    assert dev.delete(collection_url(coll) + "objects/%s/" % extra["id"], headers=H).status_code == 200
    assert ids(dev) == [o["id"] for o in first[1:] + [newer]]
    # the same page read by the coordinator (AMBER is theirs to read, audited) and by an outsider
    amber = indicator()
    add(dev, coll, [amber])
    outsider = org_client(fxd, "operator", role="member")
    assert amber["id"] not in ids(outsider)
    for _ in range(2):
        assert amber["id"] in ids(fxd.admin)
    rows = expect_rows(fxd.admin, amber["id"])
    assert len([r for r in rows if r["action"] == "taxii.read"]) >= 2, rows
    assert amber["id"] in ids(dev) and amber["id"] not in ids(outsider)


def expect_rows(admin, record):
    r = admin.get("audit", params={"record": record, "limit": 100})
    assert r.status_code == 200, describe(r)
    return r.json()["items"]
