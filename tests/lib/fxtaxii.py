"""
fxtaxii: helpers for the incident, STIX and TAXII suites (SPEC §7-8).

Written from the specifications, not from fxd: the TLP 2.0 marking ids are
the ones the OASIS TLP 2.0 extension publishes, the media types and headers
those of OASIS TAXII 2.1, identifiers and timestamps those of STIX 2.1.
"""
import datetime as _dt
import json
import re
import uuid

from fxharness import describe, expect, unique

TAXII = "application/taxii+json;version=2.1"
STIX = "application/stix+json;version=2.1"
ROOT = "/taxii2/fx/"
INCIDENTS = "incidents"

# TLP 2.0 marking-definition ids (OASIS cti-stix-common-objects, tlp-2.0 extension)
TLP_IDS = {
    "CLEAR": "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487",
    "GREEN": "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb",
    "AMBER": "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421",
    "AMBER+STRICT": "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003",
    "RED": "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1",
}
TLP_EXTENSION = "extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d"
LEVELS = ["CLEAR", "GREEN", "AMBER", "AMBER+STRICT", "RED"]

STIX_ID = re.compile(r"^([a-z][a-z0-9-]+[a-z0-9])--([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-"
                     r"[89abAB0-9a-fA-F][0-9a-fA-F]{3}-[0-9a-fA-F]{12})$")
STIX_TS = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$")

H = {"Accept": TAXII}
H_POST = {"Accept": TAXII, "Content-Type": TAXII}


def parse_ts(s):
    """A STIX/TAXII timestamp as an aware datetime (microsecond precision)."""
    assert STIX_TS.match(s), "not a STIX timestamp: %r" % s
    base, _, frac = s[:-1].partition(".")
    dt = _dt.datetime.strptime(base, "%Y-%m-%dT%H:%M:%S").replace(tzinfo=_dt.timezone.utc)
    return dt + _dt.timedelta(microseconds=int((frac + "000000")[:6]) if frac else 0)


def ts(dt):
    """A datetime as a STIX timestamp with milliseconds."""
    dt = dt.astimezone(_dt.timezone.utc)
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + "%03dZ" % (dt.microsecond // 1000)


def incident_body(tlp="AMBER", **over):
    body = {
        "title": unique("Incident"),
        "category": "intrusion",
        "detected_at": "2026-01-10T08:00:00Z",
        "severity": "high",
        "description": "An unknown key listed a training bucket: " + unique("secret"),
        "tlp": tlp,
        "indicators": [{"pattern": "[ipv4-addr:value = '198.51.100.%d']" % (uuid.uuid4().int % 250),
                        "description": "the host that listed the bucket"}],
    }
    body.update(over)
    return body


def report(client, tlp="AMBER", **over):
    r = client.post("incidents", json=incident_body(tlp=tlp, **over))
    return expect(r, 201)


def taxii_problem(r, status):
    """Assert a TAXII 2.1 error message with this status; return it."""
    statuses = status if isinstance(status, (tuple, list, set)) else (status,)
    assert r.status_code in statuses, "expected %s: %s" % (statuses, describe(r))
    ctype = r.headers.get("Content-Type", "")
    assert ctype.replace(" ", "").lower() == TAXII, "error Content-Type %r: %s" % (ctype, describe(r))
    body = r.json()
    assert isinstance(body, dict) and isinstance(body.get("title"), str) and body["title"], describe(r)
    if "http_status" in body:
        assert body["http_status"] == str(r.status_code), describe(r)
    return body


def taxii_ok(r, status=200):
    assert r.status_code == status, "expected %d: %s" % (status, describe(r))
    ctype = r.headers.get("Content-Type", "")
    assert ctype.replace(" ", "").lower() == TAXII, "Content-Type %r: %s" % (ctype, describe(r))
    return r.json() if r.content else None


def collection_url(coll):
    return ROOT + "collections/%s/" % coll


def new_id(type_):
    return "%s--%s" % (type_, uuid.uuid4())


def indicator(pattern=None, created="2026-01-01T00:00:00.000Z", modified=None, markings=None,
              id_=None, **over):
    o = {"type": "indicator", "spec_version": "2.1", "id": id_ or new_id("indicator"),
         "created": created, "modified": modified or created,
         "pattern": pattern or "[ipv4-addr:value = '203.0.113.%d']" % (uuid.uuid4().int % 250),
         "pattern_type": "stix", "valid_from": created}
    if markings is not None:
        o["object_marking_refs"] = markings
    o.update(over)
    return o


def post_envelope(client, coll, objects, raw=None, headers=None):
    h = dict(H_POST)
    if headers:
        h.update(headers)
    data = raw if raw is not None else json.dumps({"objects": objects})
    return client.post(collection_url(coll) + "objects/", data=data, headers=h)


def add(client, coll, objects):
    """POST an envelope; assert 202 and no failures; return the status."""
    st = taxii_ok(post_envelope(client, coll, objects), 202)
    assert st["status"] == "complete", st
    assert st.get("failure_count", 0) == 0, st
    return st


def get_all(client, coll, resource="objects/", params=None, limit=100, key="objects"):
    """Every item of a TAXII list, following next; returns (items, pages)."""
    params = dict(params or {})
    params["limit"] = limit
    items, pages, seen = [], [], set()
    while True:
        r = client.get(collection_url(coll) + resource, params=params, headers=H)
        body = taxii_ok(r)
        pages.append((r, body))
        items.extend(body.get(key, []))
        if not body.get("more"):
            return items, pages
        nxt = body.get("next")
        assert nxt, "more without next: %s" % describe(r)
        assert nxt not in seen, "pagination loops on next %r" % nxt
        seen.add(nxt)
        params["next"] = nxt


def visible_ids(client, coll=INCIDENTS, params=None):
    items, _ = get_all(client, coll, params=params, limit=1000)
    return {o["id"] for o in items}
