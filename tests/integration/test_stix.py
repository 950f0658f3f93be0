"""Incidents as STIX 2.1 (SPEC §7), and the STIX patterning grammar.

From the STIX 2.1 specification and the TLP 2.0 extension:
  * a bundle: type "bundle", id bundle--UUID, objects that each carry type,
    an id of the form type--UUID (RFC 4122), spec_version "2.1", created and
    modified timestamps (modified not before created);
  * the incident SDO, an indicator per indicator with an "indicates"
    relationship from indicator to incident, an identity for the reporter
    (created_by_ref), and the standard TLP 2.0 marking-definition, whose id is
    the one the extension publishes, in every object's object_marking_refs;
  * every reference inside the bundle resolves inside the bundle;
  * versions: ids stay, modified moves forward, a removed indicator is
    revoked in the TAXII collection;
  * patterns: the examples of the specification are accepted, broken ones refused.
"""
import pytest

from fxharness import describe, expect, org_client, problem
from fxtaxii import (H, INCIDENTS, LEVELS, STIX, STIX_ID, TLP_EXTENSION, TLP_IDS, add,
                     collection_url, get_all, incident_body, parse_ts, report, taxii_ok)


@pytest.fixture(scope="module")
def lab(fxd):
    return org_client(fxd, "developer", role="member")


def bundle_of(client, inc_id):
    r = client.get("incidents/%s/stix" % inc_id)
    assert r.status_code == 200, describe(r)
    assert r.headers["Content-Type"].replace(" ", "").lower() == STIX
    return r.json()


def refs_in(obj):
    """Every identifier the object references (*_ref and *_refs, at any depth)."""
    out = []
    if isinstance(obj, dict):
        for k, v in obj.items():
            if k.endswith("_ref") and isinstance(v, str):
                out.append(v)
            elif k.endswith("_refs") and isinstance(v, list):
                out.extend(v)
            else:
                out.extend(refs_in(v))
    elif isinstance(obj, list):
        for v in obj:
            out.extend(refs_in(v))
    return out


def check_bundle(b, inc, org_name, level):
    assert b["type"] == "bundle"
    assert STIX_ID.match(b["id"]) and b["id"].startswith("bundle--")
    objs = b["objects"]
    by_id = {o["id"]: o for o in objs}
    assert len(by_id) == len(objs), "ids are unique"
    for o in objs:
        m = STIX_ID.match(o["id"])
        assert m and m.group(1) == o["type"], o["id"]
        assert o["spec_version"] == "2.1"
        assert parse_ts(o["created"])
        if o["type"] != "marking-definition":
            assert parse_ts(o["modified"]) >= parse_ts(o["created"]), o
        for ref in refs_in(o):
            assert ref in by_id, "%s references %s, not in the bundle" % (o["id"], ref)
    kinds = [o["type"] for o in objs]
    n = len(inc["indicators"])
    assert kinds.count("incident") == 1 and kinds.count("identity") == 1
    assert kinds.count("indicator") == n and kinds.count("relationship") == n
    assert kinds.count("marking-definition") == 1
    marking = [o for o in objs if o["type"] == "marking-definition"][0]
    assert marking["id"] == TLP_IDS[level]
    assert marking["name"] == "TLP:" + level
    assert marking["extensions"][TLP_EXTENSION] == {"extension_type": "property-extension",
                                                    "tlp_2_0": level.lower()}
    ident = [o for o in objs if o["type"] == "identity"][0]
    assert ident["name"] == org_name and ident["identity_class"] == "organization"
    incident = [o for o in objs if o["type"] == "incident"][0]
    assert incident["id"] == "incident--" + inc["id"]
    assert incident["name"] == inc["title"] and incident["description"] == inc["description"]
    assert incident["created_by_ref"] == ident["id"]
    for o in objs:
        if o["type"] in ("incident", "indicator", "relationship"):
            assert o["object_marking_refs"] == [TLP_IDS[level]], o
            assert o["created_by_ref"] == ident["id"]
    inds = {o["id"]: o for o in objs if o["type"] == "indicator"}
    assert set(inds) == {i["id"] for i in inc["indicators"]}
    for i in inc["indicators"]:
        o = inds[i["id"]]
        assert o["pattern"] == i["pattern"] and o["pattern_type"] == "stix"
        assert parse_ts(o["valid_from"])
        if "description" in i:
            assert o["description"] == i["description"]
    rels = [o for o in objs if o["type"] == "relationship"]
    assert {(r["source_ref"], r["target_ref"]) for r in rels} == {
        (i, incident["id"]) for i in inds}
    assert all(r["relationship_type"] == "indicates" for r in rels)
    return by_id


@pytest.mark.parametrize("level", LEVELS)
def test_bundle_per_tlp_level(lab, level):
    inc = report(lab, tlp=level, indicators=[
        {"pattern": "[ipv4-addr:value = '198.51.100.1']", "description": "first"},
        {"pattern": "[domain-name:value = 'c2.example']"}])
    check_bundle(bundle_of(lab, inc["id"]), inc, lab.org["name"], level)


def test_bundle_without_indicators(lab):
    inc = report(lab, tlp="GREEN", indicators=[])
    check_bundle(bundle_of(lab, inc["id"]), inc, lab.org["name"], "GREEN")


def test_versions_keep_ids_and_move_modified(lab):
    keep = {"pattern": "[file:name = 'keep.exe']"}
    drop = {"pattern": "[file:name = 'drop.exe']"}
    inc = report(lab, tlp="GREEN", indicators=[keep, drop])
    b1 = {o["id"]: o for o in bundle_of(lab, inc["id"])["objects"]}
    path = "incidents/%s" % inc["id"]
    v2 = expect(lab.patch(path, json={"indicators": [keep], "status": "contained"},
                          headers={"If-Match": inc["etag"]}), 200)
    b2 = {o["id"]: o for o in bundle_of(lab, inc["id"])["objects"]}
    iid = "incident--" + inc["id"]
    assert parse_ts(b2[iid]["modified"]) > parse_ts(b1[iid]["modified"])
    assert b2[iid]["created"] == b1[iid]["created"]
    kept = [i for i in inc["indicators"] if i["pattern"] == keep["pattern"]][0]["id"]
    dropped = [i for i in inc["indicators"] if i["pattern"] == drop["pattern"]][0]["id"]
    assert kept in b2 and b2[kept] == b1[kept], "an unchanged indicator is the same version"
    assert dropped not in b2
    assert v2["indicators"][0]["id"] == kept
    # TAXII keeps every version; the removed indicator's last version is revoked
    vs = taxii_ok(lab.get(collection_url(INCIDENTS) + "objects/%s/versions/" % iid, headers=H))
    assert len(vs["versions"]) == 2
    last = taxii_ok(lab.get(collection_url(INCIDENTS) + "objects/%s/" % dropped, headers=H))
    assert last["objects"][0]["revoked"] is True
    first = taxii_ok(lab.get(collection_url(INCIDENTS) + "objects/%s/" % dropped,
                             params={"match[version]": "first"}, headers=H))
    assert "revoked" not in first["objects"][0]
    # a TLP change is a new version of every object, with the new marking
    v3 = expect(lab.patch(path, json={"tlp": "AMBER"}, headers={"If-Match": v2["etag"]}), 200)
    b3 = {o["id"]: o for o in bundle_of(lab, inc["id"])["objects"]}
    assert b3[kept]["object_marking_refs"] == [TLP_IDS["AMBER"]]
    assert parse_ts(b3[kept]["modified"]) > parse_ts(b2[kept]["modified"])
    assert v3["version"] == 3


def test_stix_objects_round_trip_through_taxii(lab):
    """What FX makes, FX's own TAXII validator accepts: the bundle is valid STIX 2.1."""
    inc = report(lab, tlp="AMBER", indicators=[{"pattern": "[url:value = 'http://x.example/a']"}])
    objs = bundle_of(lab, inc["id"])["objects"]
    st = add(lab, lab.org["id"], objs)
    assert st["success_count"] == len(objs)


def test_the_incident_is_404_everywhere_to_outsiders(fxd, lab):
    inc = report(lab, tlp="RED")
    outsider = org_client(fxd, "operator", role="admin")
    problem(outsider.get("incidents/%s/stix" % inc["id"]), 404)
    items, _ = get_all(outsider, INCIDENTS, params={"match[id]": "incident--" + inc["id"]})
    assert items == []


# STIX 2.1 patterning: examples of the specification (§9.8 and the indicator
# examples), written as the pattern text (JSON escapes undone).
GOOD_PATTERNS = [
    r"[file:hashes.'SHA-256' = 'aec070645fe53ee3b3763059376134f058cc337247c978add178b6ccdfb0019f']",
    r"[email-message:from_ref.value MATCHES '.+\\@example\\.com$' AND email-message:body_multipart[*].body_raw_ref.name MATCHES '^Final Report.+\\.exe$']",
    r"[file:hashes.'SHA-256' = 'aec070645fe53ee3b3763059376134f058cc337247c978add178b6ccdfb0019f' AND file:mime_type = 'application/x-pdf']",
    r"[file:hashes.'SHA-256' = 'bf07a7fbb825fc0aae7bf4a1177b2b31fcf8a3feeaf7092761e18c859ee52a9c' OR file:hashes.MD5 = 'cead3f77f6cda6ec00f57d76c9a6879f'] AND [file:hashes.'SHA-256' = 'aec070645fe53ee3b3763059376134f058cc337247c978add178b6ccdfb0019f']",
    r"[file:hashes.MD5 = '79054025255fb1a26e4bc422aef54eb4'] FOLLOWEDBY [windows-registry-key:key = 'HKEY_LOCAL_MACHINE\\foo\\bar'] WITHIN 300 SECONDS",
    r"[user-account:account_type = 'unix' AND user-account:user_id = '1007' AND user-account:account_login = 'Peter'] AND [user-account:account_type = 'unix' AND user-account:user_id = '1008' AND user-account:account_login = 'Paul'] AND [user-account:account_type = 'unix' AND user-account:user_id = '1009' AND user-account:account_login = 'Mary']",
    r"[artifact:mime_type = 'application/vnd.tcpdump.pcap' AND artifact:payload_bin MATCHES '\\xd4\\xc3\\xb2\\xa1\\x02\\x00\\x04\\x00']",
    r"[file:name = 'foo.dll' AND file:parent_directory_ref.path = 'C:\\Windows\\System32']",
    r"[file:extensions.'windows-pebinary-ext'.sections[*].entropy > 7.0]",
    r"[file:mime_type = 'image/bmp' AND file:magic_number_hex = h'ffd8']",
    r"[network-traffic:dst_ref.type = 'ipv4-addr' AND network-traffic:dst_ref.value = '203.0.113.33/32']",
    r"[network-traffic:dst_ref.type = 'domain-name' AND network-traffic:dst_ref.value = 'example.com'] REPEATS 5 TIMES WITHIN 1800 SECONDS",
    r"[domain-name:value = 'www.5z8.info' AND domain-name:resolves_to_refs[*].value = '198.51.100.1/32']",
    r"[url:value = 'http://example.com/foo' OR url:value = 'http://example.com/bar']",
    r"[x509-certificate:issuer = 'CN=WEBMAIL' AND x509-certificate:serial_number = '4c:0b:1d:19:74:86:a7:66:b4:1a:bf:40:27:21:76:28']",
    r"[windows-registry-key:key = 'HKEY_CURRENT_USER\\Software\\CryptoLocker\\Files' OR windows-registry-key:key = 'HKEY_CURRENT_USER\\Software\\Microsoft\\CurrentVersion\\Run\\CryptoLocker_0388']",
    r"[(file:name = 'pdf.exe' OR file:size = '371712') AND file:created = t'2014-01-13T07:03:17Z']",
    r"[email-message:sender_ref.value = 'jdoe@example.com' AND email-message:subject = 'Conference Info']",
    r"[x-usb-device:usbdrive.serial_number = '575833344d32344d39383236']",
    r"[process:command_line MATCHES '^.+>-add GlobalSettings.lnk$' AND process:name = 'cmd.exe'] START t'2016-06-01T00:00:00Z' STOP t'2016-07-01T00:00:00Z'",
    r"[ipv4-addr:value ISSUBSET '198.51.100.0/24']",
    r"[ipv4-addr:value = '198.51.100.1' OR ipv6-addr:value = '2001:db8::1']",
    r"([file:name = 'a'] OR [file:name = 'b']) AND [file:name = 'c'] FOLLOWEDBY [file:name = 'd']",
    r"[file:size IN (1, 2, 3)]",
    r"[file:name NOT = 'x' AND file:size NOT IN (0)]",
    r"[file:size >= -5 AND file:size <= +10.5 AND file:size < .5]",
    r"[EXISTS file:name]",
    r"[artifact:payload_bin = b'aGVsbG8=']",
    r"[file:name == 'x' AND file:name <> 'y']",
    r"[file:name = 'it\'s']",
    r"[file:accessed > t'2016-01-01T00:00:00.123456Z']",
    "[file:name = 'a']\n\tWITHIN\u00a010 SECONDS",
]


@pytest.mark.parametrize("pattern", GOOD_PATTERNS)
def test_specification_patterns_are_accepted(lab, pattern):
    r = lab.post("incidents", json=incident_body(indicators=[{"pattern": pattern}]))
    assert r.status_code == 201, describe(r)
