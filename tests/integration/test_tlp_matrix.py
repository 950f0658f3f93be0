"""Every TLP level against every kind of organization (SPEC §7, TLP 2.0), on every path.

The community:
    lab           the reporter (a developer): a member and a viewer
    coordinator   the program office: its admin and a member
    agency_civ    an agency, mission civilian
    agency_ns     an agency, mission national_security
    lab_b         another developer
    grid          an operator (energy)
    partner       an operator named in share_with (AMBER, AMBER+STRICT)
    named         a user of another operator, named in share_with_users (RED);
                  named_mate is a colleague of theirs who is not named

Read from SPEC §7:
    CLEAR         every authenticated user
    GREEN         every organization of the community
    AMBER         the reporter org, the coordinator, the orgs in share_with
    AMBER+STRICT  the reporter org and the orgs in share_with only
    RED           the reporter org and the users named in share_with_users only

Whoever may not read an incident gets 404 on every path (existence is not
leaked: SPEC §2), does not find it in lists or filtered lists, in the TAXII
incidents collection (objects, manifest, object, versions), nor in the audit
trail; whoever may read it but is not of the reporter org gets 403 on update.

Objects posted to an organization's TAXII collection follow the same table
by the marking they carry, with no sharing lists: CLEAR and GREEN, everyone;
AMBER (and unmarked), the poster and the coordinator; AMBER+STRICT and RED,
the poster only. TLP 1.0 markings (STIX 2.1 §7.2.1.4) count as their 2.0
levels. A TLP marking given as a granular marking (STIX 2.1 §7.2.3) counts
too, for the whole object, since FX does not withhold single properties: the
most restrictive of all the markings wins.
"""
import pytest

from fxharness import create_org, describe, expect, org_client, problem, unique, user_client
from fxtaxii import (H, INCIDENTS, LEVELS, TLP_IDS, add, collection_url, get_all, indicator,
                     new_id, report, taxii_ok)

ALL = set(LEVELS)
SEES = {
    "lab_member":   ALL,
    "lab_viewer":   ALL,
    "coord_admin":  {"CLEAR", "GREEN", "AMBER"},
    "coord_member": {"CLEAR", "GREEN", "AMBER"},
    "agency_civ":   {"CLEAR", "GREEN"},
    "agency_ns":    {"CLEAR", "GREEN"},
    "lab_b":        {"CLEAR", "GREEN"},
    "grid":         {"CLEAR", "GREEN"},
    "partner":      {"CLEAR", "GREEN", "AMBER", "AMBER+STRICT"},
    "named":        {"CLEAR", "GREEN", "RED"},
    "named_mate":   {"CLEAR", "GREEN"},
}

# posted objects: the marking they carry -> who reads them
POSTED = {"CLEAR": ALL, "GREEN": ALL, "AMBER": {"AMBER"}, "AMBER+STRICT": set(), "RED": set()}
TLP1 = {  # STIX 2.1 §7.2.1.4 TLP 1.0 ids and their 2.0 levels
    "marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9": "CLEAR",
    "marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da": "GREEN",
    "marking-definition--f88d31f6-486f-44da-b317-01333bde0b82": "AMBER",
    "marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed": "RED",
}


@pytest.fixture(scope="module")
def world(fxd):
    admin = fxd.admin
    w = {}
    lab = org_client(fxd, "developer", role="member")
    w["lab_member"] = lab
    w["lab_viewer"] = user_client(fxd, admin, lab.org, "viewer")
    w["coord_admin"] = admin
    w["coord_member"] = user_client(fxd, admin, admin.org, "member")
    w["agency_civ"] = org_client(fxd, "agency", role="reviewer", mission="civilian")
    w["agency_ns"] = org_client(fxd, "agency", role="admin", mission="national_security")
    w["lab_b"] = org_client(fxd, "developer", role="admin")
    w["grid"] = org_client(fxd, "operator", role="member")
    w["partner"] = org_client(fxd, "operator", role="viewer", sector="financial_services")
    w["named"] = org_client(fxd, "operator", role="member", sector="healthcare_public_health")
    w["named_mate"] = user_client(fxd, admin, w["named"].org, "admin")
    if admin.user is None:
        me = expect(admin.get("me"), 200)
        admin.user, admin.org = me["user"], me["org"]
    incidents = {}
    for level in LEVELS:
        extra = {}
        if level in ("AMBER", "AMBER+STRICT"):
            extra["share_with"] = [w["partner"].org["id"]]
        if level == "RED":
            extra["share_with_users"] = [w["named"].user["id"]]
        incidents[level] = report(lab, tlp=level, **extra)
    return w, incidents


READERS = sorted(SEES)


@pytest.mark.parametrize("who", READERS)
@pytest.mark.parametrize("level", LEVELS)
def test_incident_paths(world, who, level):
    w, incidents = world
    c, inc = w[who], incidents[level]
    sees = level in SEES[who]
    paths = ["incidents/%s", "incidents/%s/stix", "incidents/%s/versions",
             "incidents/%s/versions/1", "incidents/%s/history"]
    for p in paths:
        r = c.get(p % inc["id"])
        if sees:
            assert r.status_code == 200, "%s should read %s: %s" % (who, level, describe(r))
        else:
            problem(r, 404)
    # by reference too
    assert c.get("incidents/%s" % inc["ref"]).status_code == (200 if sees else 404)
    # update: 403 when it may read and is not of the reporter org (or a viewer), 404 otherwise
    r = c.patch("incidents/%s" % inc["id"], json={"status": "contained"},
                headers={"If-Match": inc["etag"]})
    if not sees:
        problem(r, 404)
    elif who == "lab_member":
        assert r.status_code == 200, describe(r)
        inc["etag"] = r.json()["etag"]
    else:
        problem(r, 403)


@pytest.mark.parametrize("who", READERS)
def test_lists_and_filters(world, who):
    w, incidents = world
    c = w[who]
    lab_org = w["lab_member"].org["id"]
    listed = {i["id"] for i in c.list_all("incidents", {"reporter": lab_org})}
    expected = {incidents[l]["id"] for l in SEES[who]}
    # the reporter's own update test may have made versions: ids stay the same
    assert listed == expected, who
    for level in LEVELS:
        got = {i["id"] for i in c.list_all("incidents", {"reporter": lab_org, "tlp": level})}
        assert got == ({incidents[level]["id"]} if level in SEES[who] else set()), (who, level)
    for status in ("open", "contained"):
        got = {i["id"] for i in c.list_all("incidents", {"reporter": lab_org, "status": status})}
        assert got <= expected


@pytest.mark.parametrize("who", READERS)
def test_taxii_incidents_collection(world, who):
    w, incidents = world
    c = w[who]
    items, _ = get_all(c, INCIDENTS, params={"match[version]": "all"}, limit=1000)
    ids = {o["id"] for o in items}
    man, _ = get_all(c, INCIDENTS, resource="manifest/", params={"match[version]": "all"},
                     limit=1000)
    man_ids = {m["id"] for m in man}
    for level in LEVELS:
        inc = incidents[level]
        sdo = "incident--" + inc["id"]
        ind = inc["indicators"][0]["id"]
        sees = level in SEES[who]
        for what in (sdo, ind):
            assert (what in ids) == sees, (who, level, what)
            assert (what in man_ids) == sees, (who, level, what)
        r = c.get(collection_url(INCIDENTS) + "objects/%s/" % sdo, headers=H)
        assert r.status_code == (200 if sees else 404), describe(r)
        r = c.get(collection_url(INCIDENTS) + "objects/%s/versions/" % sdo, headers=H)
        assert r.status_code == (200 if sees else 404), describe(r)
        # filters never widen what is seen
        only, _ = get_all(c, INCIDENTS, params={"match[id]": sdo, "match[version]": "all"})
        assert bool(only) == sees
        typed, _ = get_all(c, INCIDENTS, params={"match[type]": "incident"}, limit=1000)
        assert (sdo in {o["id"] for o in typed}) == sees
        # every object seen carries a marking the reader may see
    for o in items:
        for ref in o.get("object_marking_refs", []):
            level = [k for k, v in TLP_IDS.items() if v == ref]
            if level and o["id"].split("--")[0] in ("incident", "indicator", "relationship"):
                assert level[0] in SEES[who], (who, o["id"], level)


@pytest.mark.parametrize("who", READERS)
def test_audit_trail_hides_what_the_reader_may_not_see(world, who):
    w, incidents = world
    c = w[who]
    if c.role != "admin":
        return  # the audit trail is for admins
    for level in LEVELS:
        inc = incidents[level]
        body = expect(c.get("audit", params={"record": inc["id"], "limit": 500}), 200)
        if level not in SEES[who]:
            assert body["items"] == [], (who, level, body["items"][:3])


@pytest.fixture(scope="module")
def posted(world):
    """The lab posts one object per marking (TLP 2.0 and 1.0) and one unmarked."""
    w, _ = world
    lab = w["lab_member"]
    objs = {}
    for level in LEVELS:
        objs[level] = indicator(markings=[TLP_IDS[level]])
    for ref, level in TLP1.items():
        objs["1.0 " + level] = indicator(markings=[ref])
    objs["unmarked"] = indicator()
    objs["CLEAR+RED"] = indicator(markings=[TLP_IDS["CLEAR"], TLP_IDS["RED"]])
    add(lab, lab.org["id"], list(objs.values()))
    return objs


def posted_level(key):
    if key == "unmarked":
        return "AMBER"
    if key == "CLEAR+RED":
        return "RED"  # the most restrictive marking wins
    return key.split(" ")[-1]


def reads_posted(who, level):
    if who in ("lab_member", "lab_viewer"):
        return True
    if level in ("CLEAR", "GREEN"):
        return True
    return level == "AMBER" and who in ("coord_admin", "coord_member")


@pytest.mark.parametrize("who", READERS)
def test_posted_objects_follow_their_marking(world, posted, who):
    w, _ = world
    c = w[who]
    lab_coll = w["lab_member"].org["id"]
    in_org = {o["id"] for o in get_all(c, lab_coll, limit=1000)[0]}
    in_all = {o["id"] for o in get_all(c, INCIDENTS, limit=1000)[0]}
    for key, o in posted.items():
        sees = reads_posted(who, posted_level(key))
        assert (o["id"] in in_org) == sees, (who, key)
        assert (o["id"] in in_all) == sees, (who, key)
        r = c.get(collection_url(lab_coll) + "objects/%s/" % o["id"], headers=H)
        assert r.status_code == (200 if sees else 404), (who, key, describe(r))
        if sees:
            assert taxii_ok(r)["objects"][0] == o


def note(content, markings=None, granular=None):
    """A note; granular: TLP levels, each marking the note's content."""
    o = {"type": "note", "spec_version": "2.1", "id": new_id("note"),
         "created": "2026-01-01T00:00:00.000Z", "modified": "2026-01-01T00:00:00.000Z",
         "content": content, "object_refs": [new_id("indicator")]}
    if markings is not None:
        o["object_marking_refs"] = [TLP_IDS[m] for m in markings]
    if granular:
        o["granular_markings"] = [{"marking_ref": TLP_IDS[m], "selectors": ["content"]}
                                  for m in granular]
    return o


# granular markings: (object_marking_refs, granular marking levels) -> the level that applies
GRANULAR = {
    "CLEAR, RED content": (["CLEAR"], ["RED"], "RED"),
    "RED content only": (None, ["RED"], "RED"),
    "GREEN, AMBER content": (["GREEN"], ["AMBER"], "AMBER"),
}


@pytest.fixture(scope="module")
def granular(world):
    """The lab posts notes whose content carries a granular TLP marking."""
    w, _ = world
    lab = w["lab_member"]
    objs = {key: note(unique("granular secret"), markings=m, granular=g)
            for key, (m, g, _) in GRANULAR.items()}
    add(lab, lab.org["id"], list(objs.values()))
    return objs


@pytest.mark.parametrize("who", READERS)
def test_granular_markings_count_toward_the_level(world, granular, who):
    w, _ = world
    c = w[who]
    lab_coll = w["lab_member"].org["id"]
    org_items, org_pages = get_all(c, lab_coll, limit=1000)
    all_items, all_pages = get_all(c, INCIDENTS, limit=1000)
    in_org = {o["id"] for o in org_items}
    in_all = {o["id"] for o in all_items}
    served = "".join(r.text for r, _ in org_pages + all_pages)
    for key, o in granular.items():
        level = GRANULAR[key][2]
        sees = reads_posted(who, level)
        assert (o["id"] in in_org) == sees, (who, key, level)
        assert (o["id"] in in_all) == sees, (who, key, level)
        assert (o["content"] in served) == sees, (who, key, level)
        r = c.get(collection_url(lab_coll) + "objects/%s/" % o["id"], headers=H)
        assert r.status_code == (200 if sees else 404), (who, key, describe(r))
        if sees:
            assert taxii_ok(r)["objects"][0] == o
        else:
            assert o["content"] not in r.text, (who, key)
        r = c.get(collection_url(lab_coll) + "objects/%s/versions/" % o["id"], headers=H)
        assert r.status_code == (200 if sees else 404), (who, key, describe(r))
