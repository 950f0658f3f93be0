"""Objects posted over TAXII are ledger leaves (SPEC §9: every record of fact).

Each STIX object version a POST stores appends a leaf {kind "stix_object",
record_id the STIX id, version the version in microseconds, content_sha256,
org, time} in the envelope's own transaction, with one signed checkpoint per
envelope. The status resource gives each stored object's leaf index and that
checkpoint (x_fx_leaf_index, x_fx_ledger), from which a client proves it: the
leaf from /ledger/entries, the path from /ledger/proof/inclusion, the root
from the signed checkpoint, and content_sha256 from the exact bytes TAXII
serves for that object version. Leaves carry no content, TLP:RED included.
"""
import base64
import hashlib
import json
import uuid

import pytest

from fxharness import expect, org_client
from fxreview import fx
from fxtaxii import (H, TLP_IDS, collection_url, indicator, new_id, parse_ts, post_envelope,
                     taxii_ok)
from test_ledger import leaf_hash, parse_checkpoint, verify_inclusion

LEAF_KEYS = {"kind", "record_id", "version", "content_sha256", "org", "time"}


@pytest.fixture(scope="module")
def lab(fxd):
    return org_client(fxd, "developer", role="member")


def micros(ts):
    d = parse_ts(ts)
    return (int(d.timestamp()) * 1_000_000) + d.microsecond


def served_bytes(client, coll, oid, version):
    """The exact bytes TAXII serves for one object version: the envelope's only object."""
    r = client.get(collection_url(coll) + "objects/%s/" % oid,
                   params={"match[version]": version}, headers=H)
    body = taxii_ok(r)
    assert len(body["objects"]) == 1, body
    raw = r.content
    start = raw.index(b'"objects":[') + len(b'"objects":[')
    end = raw.rindex(b"]}")
    assert json.loads(raw[start:end]) == body["objects"][0]
    return raw[start:end]


def prove(fxd, status, success):
    """The leaf of one success of status, checked against the status's signed checkpoint
    (RFC 9162 inclusion, Ed25519 signature when python3-cryptography is there)."""
    anon = fxd.anon()
    index = success["x_fx_leaf_index"]
    ledger = status["x_fx_ledger"]
    vkey = anon.get("/api/v1/ledger/key").text.strip()
    _, size, root = parse_checkpoint(ledger["checkpoint"], vkey)
    assert size == ledger["tree_size"] and index < size
    leaf_b = base64.b64decode(expect(anon.get("ledger/entries/%d" % index), 200)["leaf"])
    proof = expect(anon.get("ledger/proof/inclusion", params={"index": index, "size": size}), 200)
    path = [base64.b64decode(h) for h in proof["inclusion_path"]]
    assert verify_inclusion(index, size, leaf_hash(leaf_b), path, root)
    leaf = json.loads(leaf_b)
    assert set(leaf) == LEAF_KEYS, leaf
    return leaf


def test_each_stored_object_is_a_provable_leaf(fxd, lab):
    coll = lab.org["id"]
    secret = "RED-ONLY-%s" % uuid.uuid4().hex
    amber = indicator()
    red = indicator(pattern="[domain-name:value = '%s.example']" % secret,
                    markings=[TLP_IDS["RED"]], description="seen by " + secret, name=secret)
    later = dict(amber, modified="2026-02-01T00:00:00.000Z", name="second version")
    sco = {"type": "ipv4-addr", "spec_version": "2.1", "id": new_id("ipv4-addr"),
           "value": "198.51.100.77"}
    bad = indicator(modified="2025-01-01T00:00:00.000Z")  # modified before created
    objects = [amber, red, later, bad, sco]
    r = post_envelope(lab, coll, objects)
    st = taxii_ok(r, 202)
    assert st["success_count"] == 4 and st["failure_count"] == 1, st
    assert [f["id"] for f in st["failures"]] == [bad["id"]]
    # leaves in envelope order, contiguous, ending at the checkpoint's size
    idx = [s["x_fx_leaf_index"] for s in st["successes"]]
    assert idx == list(range(idx[0], idx[0] + 4)), st
    assert st["x_fx_ledger"]["tree_size"] == idx[-1] + 1
    # the status resource says the same later
    again = taxii_ok(lab.get("/taxii2/fx/status/%s/" % st["id"], headers=H))
    assert again["x_fx_ledger"] == st["x_fx_ledger"] and again["successes"] == st["successes"]

    # each success, in envelope order, is the leaf of the object version posted at that place
    for o, ok in zip((amber, red, later, sco), st["successes"]):
        assert ok["id"] == o["id"]
        leaf = prove(fxd, st, ok)
        assert leaf["kind"] == "stix_object" and leaf["record_id"] == o["id"], leaf
        assert leaf["org"] == coll, leaf
        assert leaf["version"] == micros(ok["version"]), (leaf, ok)
        if "modified" in o:
            assert ok["version"] == o["modified"]
        served = served_bytes(lab, coll, o["id"], ok["version"])
        assert served == json.dumps(o).encode()
        assert hashlib.sha256(served).hexdigest() == leaf["content_sha256"]
        assert secret not in json.dumps(leaf)
    # an object without created or modified is named by its date_added
    sco_ok = st["successes"][3]
    man = taxii_ok(lab.get(collection_url(coll) + "manifest/",
                           params={"match[id]": sco["id"]}, headers=H))
    assert man["objects"][0]["date_added"] == sco_ok["version"]


def test_duplicates_and_refused_objects_append_nothing(fxd, lab):
    coll = lab.org["id"]
    anon = fxd.anon()
    objs = [indicator(), indicator()]
    first = taxii_ok(post_envelope(lab, coll, objs), 202)
    size = first["x_fx_ledger"]["tree_size"]
    again = taxii_ok(post_envelope(lab, coll, objs), 202)
    assert again["success_count"] == 2
    assert all("x_fx_leaf_index" not in s for s in again["successes"]), again
    assert all(s["message"] == "already in the collection" for s in again["successes"])
    assert "x_fx_ledger" not in again
    refused = taxii_ok(post_envelope(lab, coll, [{"type": "indicator", "id": "nope"}]), 202)
    assert refused["failure_count"] == 1 and "x_fx_ledger" not in refused
    cp = anon.get("/api/v1/ledger/checkpoint").text
    assert parse_checkpoint(cp)[1] == size


def test_leaves_of_red_objects_name_only_ids_and_hashes(fxd, lab):
    """A RED object's leaf is public (the ledger is): it holds no text of the object."""
    coll = lab.org["id"]
    secret = "EXFIL-%s" % uuid.uuid4().hex
    o = indicator(pattern="[url:value = 'https://%s.example/drop']" % secret,
                  markings=[TLP_IDS["RED"]], name=secret, description=secret)
    st = taxii_ok(post_envelope(lab, coll, [o]), 202)
    leaf = prove(fxd, st, st["successes"][0])
    raw = json.dumps(leaf)
    assert secret not in raw and "url:value" not in raw and "RED" not in raw
    # another organization cannot read the object, yet the leaf proves what was posted
    other = org_client(fxd, "operator", role="member")
    r = other.get(collection_url(coll) + "objects/%s/" % o["id"], headers=H)
    assert r.status_code == 404
    assert leaf["content_sha256"] == hashlib.sha256(json.dumps(o).encode()).hexdigest()


def test_fx_taxii_add_names_the_leaves(fxd, lab, tmp_path):
    env = tmp_path / "envelope.json"
    objs = [indicator(), indicator()]
    env.write_text(json.dumps({"objects": objs}))
    out = fx(fxd, lab, "taxii", "add", lab.org["id"], "--file", str(env)).ok().out
    st = fx(fxd, lab, "taxii", "add", lab.org["id"], "--file", str(env), "--json").json()
    assert all(s["message"] == "already in the collection" for s in st["successes"])
    assert "ledger: leaves " in out and "in the signed checkpoint of tree size" in out, out
