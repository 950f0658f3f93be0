"""docs/openapi.json against the server that serves it.

The document is compiled into fxd (cmake/embed.cmake), so these tests hold it to
what the server does:
  - the served document is the committed file, byte for byte;
  - it is well formed: every $ref resolves, path parameters are declared, every
    schema keyword is one the validator below understands, examples are valid;
  - its (method, path) set is the route table of src/http/router.c, and the
    public routes are the ones documented with `security: []`;
  - every documented operation is routed (never 405 nor the router's 404) and
    answers a status it documents; a method a path lacks answers 405 with an
    Allow listing exactly the documented methods (and HEAD beside GET);
  - every documented query parameter is accepted with its example, and every
    operation refuses one it does not document;
  - real answers of every operation (successes and problems) validate against
    the documented schemas, headers included.

JSON Schema validation is done by the small validator below: it implements the
subset the document uses, and the well-formedness test refuses any keyword it
does not know, so a constraint can never be silently ignored.
"""
import datetime as dt
import json
import os
import re
from urllib.parse import urlsplit

import pytest

from fxharness import API, REPO, describe, notice_body, org_client, unique, user_client

DOC_PATH = os.path.join(REPO, "docs", "openapi.json")
ROUTER_C = os.path.join(REPO, "src", "http", "router.c")
METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
PLACEHOLDER_ID = "01900000-0000-7000-8000-000000000000"
TODAY = dt.datetime.now(dt.timezone.utc).date()


def load_doc():
    with open(DOC_PATH, "rb") as f:
        return json.loads(f.read())


@pytest.fixture(scope="module")
def doc():
    return load_doc()


@pytest.fixture(scope="module")
def validator(doc):
    return Validator(doc)


def operations(doc):
    """(METHOD, template, operation) for every documented operation."""
    out = []
    for path, item in doc["paths"].items():
        for m, o in item.items():
            if m in METHODS:
                out.append((m.upper(), path, o))
    return out


def shape(template):
    """A path with every parameter segment as "*" (the router's notation)."""
    return "/".join("*" if re.fullmatch(r"\{[^/{}]+\}", s) else s for s in template.split("/"))


# --------------------------------------------------------------------------
# A JSON Schema validator for the subset of 2020-12 the document uses

KEYWORDS = {"$ref", "type", "enum", "const", "properties", "required", "additionalProperties",
            "items", "minItems", "maxItems", "uniqueItems", "minLength", "maxLength", "pattern",
            "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "allOf", "anyOf",
            "oneOf", "not", "if", "then", "else", "format"}
ANNOTATIONS = {"description", "examples", "default", "title", "deprecated", "readOnly",
               "writeOnly", "$comment"}
UUID_ANY_CASE = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-"
                           r"[0-9a-fA-F]{12}$")
DATE_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$")


def json_type_ok(value, t):
    if t == "null":
        return value is None
    if t == "boolean":
        return isinstance(value, bool)
    if t == "integer":
        return (isinstance(value, int) and not isinstance(value, bool)) or (
            isinstance(value, float) and value.is_integer())
    if t == "number":
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if t == "string":
        return isinstance(value, str)
    if t == "array":
        return isinstance(value, list)
    if t == "object":
        return isinstance(value, dict)
    raise AssertionError("unknown JSON Schema type %r" % t)


def format_ok(value, fmt):
    if not isinstance(value, str):
        return True
    if fmt == "uuid":
        return bool(UUID_ANY_CASE.match(value))
    if fmt == "date":
        try:
            dt.date.fromisoformat(value)
        except ValueError:
            return False
        return len(value) == 10
    if fmt == "date-time":
        return bool(DATE_TIME.match(value))
    return True  # email, uri, uri-reference: annotations here


def canonical(v):
    return json.dumps(v, sort_keys=True)


class Validator:
    def __init__(self, doc):
        self.doc = doc

    def resolve(self, ref):
        assert ref.startswith("#/"), "only local references are used: %r" % ref
        node = self.doc
        for part in ref[2:].split("/"):
            part = part.replace("~1", "/").replace("~0", "~")
            assert isinstance(node, dict) and part in node, "unresolved $ref %r" % ref
            node = node[part]
        return node

    def deref(self, node):
        while isinstance(node, dict) and "$ref" in node:
            node = self.resolve(node["$ref"])
        return node

    def valid(self, value, schema):
        return not self.errors(value, schema)

    def errors(self, v, s, where="$"):
        """A list of "where: what" strings; empty when v is valid against s."""
        if s is True or s == {}:
            return []
        if s is False:
            return ["%s: no value is allowed here" % where]
        errs = []
        if "$ref" in s:
            errs += self.errors(v, self.resolve(s["$ref"]), where)
        if "type" in s:
            types = s["type"] if isinstance(s["type"], list) else [s["type"]]
            if not any(json_type_ok(v, t) for t in types):
                return errs + ["%s: %s is not of type %s" % (where, short(v), "|".join(types))]
        if "enum" in s and not any(canonical(v) == canonical(e) for e in s["enum"]):
            errs.append("%s: %s is not one of %s" % (where, short(v), s["enum"]))
        if "const" in s and canonical(v) != canonical(s["const"]):
            errs.append("%s: %s is not %r" % (where, short(v), s["const"]))
        if "format" in s and not format_ok(v, s["format"]):
            errs.append("%s: %s is not a %s" % (where, short(v), s["format"]))
        if isinstance(v, str):
            if len(v) < s.get("minLength", 0):
                errs.append("%s: shorter than %d" % (where, s["minLength"]))
            if "maxLength" in s and len(v) > s["maxLength"]:
                errs.append("%s: longer than %d" % (where, s["maxLength"]))
            if "pattern" in s and not re.search(s["pattern"], v):
                errs.append("%s: %s does not match %s" % (where, short(v), s["pattern"]))
        if isinstance(v, (int, float)) and not isinstance(v, bool):
            if "minimum" in s and v < s["minimum"]:
                errs.append("%s: %r < minimum %r" % (where, v, s["minimum"]))
            if "maximum" in s and v > s["maximum"]:
                errs.append("%s: %r > maximum %r" % (where, v, s["maximum"]))
            if "exclusiveMinimum" in s and v <= s["exclusiveMinimum"]:
                errs.append("%s: %r <= exclusiveMinimum %r" % (where, v, s["exclusiveMinimum"]))
            if "exclusiveMaximum" in s and v >= s["exclusiveMaximum"]:
                errs.append("%s: %r >= exclusiveMaximum %r" % (where, v, s["exclusiveMaximum"]))
        if isinstance(v, list):
            if len(v) < s.get("minItems", 0):
                errs.append("%s: fewer than %d items" % (where, s["minItems"]))
            if "maxItems" in s and len(v) > s["maxItems"]:
                errs.append("%s: more than %d items" % (where, s["maxItems"]))
            if s.get("uniqueItems") and len({canonical(x) for x in v}) != len(v):
                errs.append("%s: items are not unique" % where)
            if "items" in s:
                for i, x in enumerate(v):
                    errs += self.errors(x, s["items"], "%s[%d]" % (where, i))
        if isinstance(v, dict):
            for k in s.get("required", []):
                if k not in v:
                    errs.append("%s: %r is required" % (where, k))
            props = s.get("properties", {})
            for k, x in v.items():
                if k in props:
                    errs += self.errors(x, props[k], "%s.%s" % (where, k))
                elif "additionalProperties" in s:
                    ap = s["additionalProperties"]
                    if ap is False:
                        errs.append("%s: %r is not an allowed member" % (where, k))
                    else:
                        errs += self.errors(x, ap, "%s.%s" % (where, k))
        for sub in s.get("allOf", []):
            errs += self.errors(v, sub, where)
        if "anyOf" in s and not any(self.valid(v, sub) for sub in s["anyOf"]):
            detail = [self.errors(v, sub, where) for sub in s["anyOf"]]
            errs.append("%s: matches none of anyOf: %s" % (where, detail))
        if "oneOf" in s:
            n = sum(1 for sub in s["oneOf"] if self.valid(v, sub))
            if n != 1:
                errs.append("%s: matches %d of oneOf, not 1" % (where, n))
        if "not" in s and self.valid(v, s["not"]):
            errs.append("%s: matches a schema it must not" % where)
        if "if" in s:
            branch = "then" if self.valid(v, s["if"]) else "else"
            if branch in s:
                errs += self.errors(v, s[branch], where)
        return errs

    def check(self, v, s, what):
        errs = self.errors(v, s)
        assert not errs, "%s does not match its schema:\n  %s\nvalue: %s" % (
            what, "\n  ".join(errs[:20]), short(v, 1500))


def short(v, n=120):
    t = json.dumps(v)
    return t if len(t) <= n else t[:n] + "..."


def test_validator_is_not_vacuous(doc, validator):
    """The validator refuses what it should (so a passing check means something)."""
    org = {"id": PLACEHOLDER_ID, "name": "A", "kind": "developer", "mission": None,
           "sector": None, "created_at": "2026-11-27T02:23:02.123Z"}
    s = {"$ref": "#/components/schemas/Org"}
    assert validator.valid(org, s)
    assert not validator.valid(dict(org, colour="red"), s)              # additionalProperties
    assert not validator.valid({k: v for k, v in org.items() if k != "kind"}, s)  # required
    assert not validator.valid(dict(org, kind="club"), s)               # enum
    assert not validator.valid(dict(org, mission="peace"), s)           # anyOf
    assert not validator.valid(dict(org, created_at="yesterday"), s)    # pattern
    assert not validator.valid(dict(org, id=7), s)                      # type
    assert not validator.valid({"name": "x", "kind": "agency"},
                               {"$ref": "#/components/schemas/OrgCreate"})  # if/then
    assert not validator.valid({"name": "x", "kind": "developer", "sector": "energy"},
                               {"$ref": "#/components/schemas/OrgCreate"})  # else/not
    nb = notice_body()
    assert validator.valid(nb, {"$ref": "#/components/schemas/NoticeCreate"})
    assert not validator.valid(dict(nb, modalities=["text", "text"]),
                               {"$ref": "#/components/schemas/NoticeCreate"})  # uniqueItems
    assert not validator.valid(dict(nb, planned_release_date="2026-02-30"),
                               {"$ref": "#/components/schemas/NoticeCreate"})  # format date
    assert not validator.valid({"submit": True, "model_name": "M"},
                               {"$ref": "#/components/schemas/NoticeCreate"})  # submission


# --------------------------------------------------------------------------
# The document itself


def test_served_document_is_the_committed_file(fxd):
    r = fxd.anon().get(API + "/openapi.json")
    assert r.status_code == 200, describe(r)
    assert r.headers.get("Content-Type", "").split(";")[0] == "application/json"
    with open(DOC_PATH, "rb") as f:
        committed = f.read()
    assert r.content == committed, (
        "fxd serves a different openapi.json than docs/openapi.json: rebuild "
        "(cmake --build build) after editing the document")


def walk_schemas(node, where, out):
    """Collects (where, schema) for every schema object below node."""
    if isinstance(node, bool):
        return
    assert isinstance(node, dict), "%s: a schema must be an object" % where
    out.append((where, node))
    for k in ("properties",):
        for name, sub in node.get(k, {}).items():
            walk_schemas(sub, "%s/%s/%s" % (where, k, name), out)
    for k in ("items", "not", "if", "then", "else", "additionalProperties"):
        if k in node and not isinstance(node[k], bool):
            walk_schemas(node[k], "%s/%s" % (where, k), out)
    for k in ("allOf", "anyOf", "oneOf"):
        for i, sub in enumerate(node.get(k, [])):
            walk_schemas(sub, "%s/%s/%d" % (where, k, i), out)


def all_schemas(doc):
    out = []
    comps = doc["components"]
    for name, s in comps.get("schemas", {}).items():
        walk_schemas(s, "#/components/schemas/" + name, out)
    for name, p in comps.get("parameters", {}).items():
        walk_schemas(p["schema"], "#/components/parameters/%s/schema" % name, out)
    for name, h in comps.get("headers", {}).items():
        walk_schemas(h["schema"], "#/components/headers/%s/schema" % name, out)
    for name, resp in comps.get("responses", {}).items():
        for mt, media in resp.get("content", {}).items():
            walk_schemas(media["schema"], "#/components/responses/%s/%s" % (name, mt), out)
    for method, path, o in operations(doc):
        where = "%s %s" % (method, path)
        for p in o.get("parameters", []):
            if "schema" in p:
                walk_schemas(p["schema"], where + " parameter " + p["name"], out)
        for mt, media in o.get("requestBody", {}).get("content", {}).items():
            walk_schemas(media["schema"], where + " body " + mt, out)
        for code, resp in o["responses"].items():
            for mt, media in resp.get("content", {}).items():
                walk_schemas(media["schema"], "%s %s %s" % (where, code, mt), out)
    return out


def refs_in(node, out):
    if isinstance(node, dict):
        if isinstance(node.get("$ref"), str):
            out.append(node["$ref"])
        for v in node.values():
            refs_in(v, out)
    elif isinstance(node, list):
        for v in node:
            refs_in(v, out)
    return out


def test_document_is_well_formed(doc, validator):
    with open(DOC_PATH, "rb") as f:
        text = f.read().decode("utf-8")
    assert text.startswith("{\n  \""), "keep docs/openapi.json pretty-printed"
    assert doc["openapi"] == "3.1.0"
    assert doc["info"]["title"] and doc["info"]["version"]
    schemes = doc["components"]["securitySchemes"]
    assert "bearerAuth" in schemes and schemes["bearerAuth"]["scheme"] == "bearer"

    for ref in refs_in(doc, []):
        validator.resolve(ref)

    for where, s in all_schemas(doc):
        unknown = set(s) - KEYWORDS - ANNOTATIONS
        assert not unknown, "%s uses %s, which the test's validator does not implement" % (
            where, sorted(unknown))
        for i, ex in enumerate(s.get("examples", [])):
            validator.check(ex, s, "%s examples[%d]" % (where, i))

    seen_ids = set()
    for method, path, o in operations(doc):
        where = "%s %s" % (method, path)
        assert o.get("operationId") and o["operationId"] not in seen_ids, where
        seen_ids.add(o["operationId"])
        assert o.get("summary"), where + ": no summary"
        assert o.get("responses"), where + ": no responses"
        for code, resp in o["responses"].items():
            assert re.fullmatch(r"[1-5][0-9][0-9]|default", code), (where, code)
            resp = validator.deref(resp)
            assert resp.get("description"), "%s %s: no description" % (where, code)
        for req in o.get("security", doc.get("security", [])):
            for name in req:
                assert name in schemes, "%s: unknown security scheme %s" % (where, name)
        params = [validator.deref(p) for p in o.get("parameters", [])]
        names = [(p["in"], p["name"]) for p in params]
        assert len(names) == len(set(names)), where + ": a parameter is declared twice"
        in_path = re.findall(r"\{([^/{}]+)\}", path)
        declared = [p["name"] for p in params if p["in"] == "path"]
        assert sorted(in_path) == sorted(declared), (
            "%s: path parameters %s but declared %s" % (where, in_path, declared))
        for p in params:
            assert p["in"] in ("path", "query", "header"), (where, p)
            if p["in"] == "path":
                assert p.get("required") is True, "%s: path parameter %s" % (where, p["name"])
            if "example" in p:
                validator.check(p["example"], p["schema"],
                                "%s parameter %s example" % (where, p["name"]))
        # 401 is documented exactly where a token is needed
        public = o.get("security") == []
        assert ("401" in o["responses"]) != public, where + ": 401 vs security"


# --------------------------------------------------------------------------
# The route table


def route_table():
    """[(METHOD, pattern, public)] parsed from src/http/router.c."""
    with open(ROUTER_C) as f:
        src = f.read()
    m = re.search(r"\broutes\[\]\s*=\s*\{(.*?)\n\};", src, re.S)
    assert m, "no routes[] table in %s" % ROUTER_C
    rows = re.findall(r'\{\s*"([A-Z]+)"\s*,\s*"(/[^"]*)"\s*,\s*(\w+)\s*,\s*([^{}]*?)\s*\}',
                      m.group(1))
    assert len(rows) >= 10, "could not parse the route table of %s" % ROUTER_C
    return [(meth, pat, "FX_ROUTE_PUBLIC" in flags) for meth, pat, _fn, flags in rows]


def routed_shape(table, method, template):
    """The route pattern a documented path falls to: its shape, or a "/**" route's pattern.

    router.c's "**" takes the rest of the path (the C2SP tile paths), so the
    document lists the paths it serves, and each falls to the "**" route of its
    prefix unless a route matches it exactly.
    """
    s = shape(template)
    if any(m == method and p == s for m, p, _ in table):
        return s
    for m, p, _ in table:
        if m == method and p.endswith("/**") and s.startswith(p[:-2]):
            return p
    return s


def test_paths_are_the_route_table(doc):
    table = route_table()
    routed = {(m, p) for m, p, _ in table} | {("GET", "/healthz"), ("GET", "/metrics")}
    documented = {(m, routed_shape(table, m, p)) for m, p, _ in operations(doc)}
    missing = sorted(routed - documented)
    extra = sorted(documented - routed)
    assert not missing and not extra, (
        "docs/openapi.json and src/http/router.c disagree:\n  routed, not documented: %s\n"
        "  documented, not routed: %s" % (missing, extra))
    public = {(m, p) for m, p, pub in table if pub}
    documented_public = {(m, routed_shape(table, m, p)) for m, p, o in operations(doc)
                         if o.get("security") == []}
    assert public == documented_public, (
        "public routes (FX_ROUTE_PUBLIC) %s but documented with security: [] %s" % (
            sorted(public), sorted(documented_public)))
    assert ("GET", "/healthz") in documented and ("GET", "/metrics") in documented


# --------------------------------------------------------------------------
# Checking real answers against the document


class Checker:
    """Validates answers against the document and remembers what it has seen."""

    def __init__(self, doc):
        self.doc = doc
        self.v = Validator(doc)
        self.templates = [(p, re.compile("^" + re.sub(r"\\\{[^/{}]+\\\}", "[^/]+",
                                                      re.escape(p)) + "$"))
                          for p in doc["paths"]]
        self.seen = set()  # (METHOD, template, status)

    def template_of(self, path):
        hits = [t for t, rx in self.templates if rx.match(path)]
        assert len(hits) == 1, "path %s matches documented paths %s" % (path, hits)
        return hits[0]

    def operation(self, method, template):
        o = self.doc["paths"][template].get(method.lower())
        assert o is not None, "%s %s is not documented" % (method, template)
        return o

    def request_body(self, method, template, body, valid=True):
        """Asserts that the document accepts (or refuses) a request body."""
        rb = self.v.deref(self.operation(method, template)["requestBody"])
        schema = rb["content"]["application/json"]["schema"]
        if valid:
            self.v.check(body, schema, "the request body of %s %s" % (method, template))
        else:
            assert not self.v.valid(body, schema), (
                "the document accepts a body the server refuses (%s %s): %s" % (
                    method, template, short(body, 600)))

    def __call__(self, r, status=None):
        """Checks one answer; returns its parsed JSON body (or None)."""
        method = r.request.method
        template = self.template_of(urlsplit(r.request.url).path)
        o = self.operation(method, template)
        what = "%s %s -> %d" % (method, template, r.status_code)
        if status is not None:
            assert r.status_code == status, "expected %d: %s" % (status, describe(r))
        code = str(r.status_code)
        assert code in o["responses"], "%s: status not documented (%s)" % (what, describe(r))
        resp = self.v.deref(o["responses"][code])
        self.seen.add((method, template, r.status_code))

        declared = {k.lower(): v for k, v in resp.get("headers", {}).items()}
        for name, h in declared.items():
            h = self.v.deref(h)
            value = r.headers.get(name)
            if value is None:
                assert not h.get("required"), "%s: no %s header" % (what, name)
                continue
            schema = h["schema"]
            if self.v.deref(schema).get("type") == "integer":
                assert re.fullmatch(r"[0-9]+", value), "%s: %s: %r" % (what, name, value)
                value = int(value)
            self.v.check(value, schema, "%s header %s" % (what, name))
        for name in ("ETag", "Location", "Idempotent-Replayed", "Retry-After",
                     "WWW-Authenticate"):
            if name in r.headers:
                assert name.lower() in declared, "%s: undocumented header %s" % (what, name)

        content = resp.get("content")
        if not content:
            assert not r.content, "%s: a body where none is documented" % what
            return None
        ctype = r.headers.get("Content-Type", "")
        key = next((k for k in content if k == ctype), None) or next(
            (k for k in content if k.split(";")[0].strip() == ctype.split(";")[0].strip()),
            None)
        assert key, "%s: Content-Type %r, documented %s" % (what, ctype, list(content))
        if "json" not in key:
            return r.text
        body = r.json()
        self.v.check(body, content[key]["schema"], what)
        return body


@pytest.fixture(scope="module")
def check(doc):
    return Checker(doc)


def placeholder_url(validator, template, o):
    url = template
    for p in (validator.deref(p) for p in o.get("parameters", [])):
        if p["in"] == "path":
            t = validator.deref(p["schema"]).get("type")
            url = url.replace("{%s}" % p["name"], "1" if t == "integer" else PLACEHOLDER_ID)
    return url


def test_every_operation_is_routed(fxd, doc, check):
    """Each documented operation reaches its handler and answers a documented status."""
    v = check.v
    for method, template, o in operations(doc):
        url = placeholder_url(v, template, o)
        kw = {}
        if "requestBody" in o:
            kw["json"] = {}
        r = fxd.admin.request(method, url, **kw)
        assert r.status_code != 405, "%s %s is not routed: %s" % (method, template, describe(r))
        if r.status_code == 404:
            assert r.json().get("detail") != "no such resource", (
                "%s %s is not routed: %s" % (method, template, describe(r)))
        check(r)


def test_allow_lists_the_documented_methods(fxd, doc, validator):
    assert "**HEAD** is served wherever GET is" in doc["info"]["description"]
    for template, item in doc["paths"].items():
        methods = {m.upper() for m in item if m in METHODS}
        if "GET" in methods:
            methods.add("HEAD")  # RFC 9110 §9.3.2, as the document's description says
        url = placeholder_url(validator, template,
                              {"parameters": [p for m in item if m in METHODS
                                              for p in item[m].get("parameters", [])]})
        wrong = "PUT" if "PUT" not in methods else "DELETE"
        r = fxd.admin.request(wrong, url)
        assert r.status_code == 405, "%s %s: %s" % (wrong, url, describe(r))
        allow = {m.strip() for m in r.headers.get("Allow", "").split(",") if m.strip()}
        assert allow == methods, "%s: Allow %s, documented %s" % (template, allow, methods)


def test_documented_query_parameters_are_accepted(fxd, doc, validator):
    for method, template, o in operations(doc):
        query = [validator.deref(p) for p in o.get("parameters", [])]
        query = [p for p in query if p["in"] == "query"]
        if not query:
            continue
        url = placeholder_url(validator, template, o)
        for p in query:
            assert "example" in p, "%s %s: query parameter %s has no example" % (
                method, template, p["name"])
            r = fxd.admin.request(method, url, params={p["name"]: p["example"]})
            named = []
            if r.status_code == 422:
                named = [e["field"] for e in r.json().get("errors", [])]
            assert "query:" + p["name"] not in named, (
                "%s %s refuses its documented query parameter: %s" % (
                    method, template, describe(r)))
        r = fxd.admin.request(method, url, params={"colour": "red"})
        if template.startswith("/taxii2/"):
            # TAXII routes answer bad parameters with 400 and a TAXII error message
            assert r.status_code == 400, describe(r)
            assert "query:colour" in [e["field"] for e in r.json()["details"]["errors"]], (
                describe(r))
            continue
        assert r.status_code == 422, describe(r)
        assert "query:colour" in [e["field"] for e in r.json()["errors"]], describe(r)


def test_unknown_query_parameters_are_refused_everywhere(fxd, doc, check):
    """Decision 0004: every operation, those that take no parameter too, refuses one it
    does not list, by name, before it runs (so placeholder ids do not matter)."""
    for method, template, o in operations(doc):
        url = placeholder_url(check.v, template, o)
        kw = {"json": {}} if "requestBody" in o else {}
        r = fxd.admin.request(method, url, params={"colour": "red"}, **kw)
        if template.startswith("/taxii2/"):
            assert r.status_code == 400, describe(r)
            named = [e["field"] for e in r.json()["details"]["errors"]]
        else:
            assert r.status_code == 422, describe(r)
            named = [e["field"] for e in r.json()["errors"]]
        assert named == ["query:colour"], describe(r)
        check(r)


def test_user_list_statuses_are_the_documented_ones(fxd, doc, check):
    """listUsers: 404 when no organization has the id, 403 for a caller of another one."""
    o = doc["paths"]["/api/v1/orgs/{org}/users"]["get"]
    assert "404 when no organization has this id" in o["description"], o["description"]
    assert "another organization get 403" in o["description"], o["description"]
    a = org_client(fxd, "developer", role="admin")
    b = org_client(fxd, "developer", role="admin")
    check(fxd.admin.get("orgs/%s/users" % PLACEHOLDER_ID), 404)
    check(b.get("orgs/%s/users" % PLACEHOLDER_ID), 404)
    check(b.get("orgs/%s/users" % a.org["id"]), 403)


# --------------------------------------------------------------------------
# Real answers, operation by operation


def test_answers_match_the_document(fxd, doc, check):
    admin = fxd.admin
    anon = fxd.anon()

    # operations and the caller
    check(anon.get("/healthz"), 200)
    check(anon.get("/metrics"), 200)
    check(anon.get("openapi.json"), 200)
    me = check(admin.get("me"), 200)
    assert me["org"]["kind"] == "coordinator"
    check(anon.get("me"), 401)
    check(admin.get("me", token="fx_" + "A" * 43), 401)
    check(admin.get("policy"), 200)

    # organizations
    for body in ({"name": unique("Lab"), "kind": "developer"},
                 {"name": unique("Agency"), "kind": "agency", "mission": "national_security"},
                 {"name": unique("Grid"), "kind": "operator", "sector": "energy"}):
        check.request_body("POST", "/api/v1/orgs", body)
        org = check(admin.post("orgs", json=body), 201)
        assert org["kind"] == body["kind"]
        check(admin.get("orgs/%s" % org["id"]), 200)
    key = unique("idem")
    body = {"name": unique("Replay"), "kind": "developer"}
    first = admin.post("orgs", json=body, headers={"Idempotency-Key": key})
    check(first, 201)
    again = admin.post("orgs", json=body, headers={"Idempotency-Key": key})
    assert again.headers.get("Idempotent-Replayed") == "true", describe(again)
    assert check(again, 201) == first.json()
    dup = check(admin.post("orgs", json=body), 409)
    assert [e["field"] for e in dup["errors"]] == ["/name"], dup
    bad = {"name": "", "kind": "coordinator", "colour": "red"}
    check.request_body("POST", "/api/v1/orgs", bad, valid=False)
    check(admin.post("orgs", json=bad), 422)
    check(admin.post("orgs", data=b'{"name": ', headers={"Content-Type": "application/json"}),
          400)
    check(admin.post("orgs", data=b"name=x", headers={"Content-Type": "text/plain"}), 415)
    check(admin.get("orgs", params={"kind": "developer", "limit": 1}), 200)
    check(admin.get("orgs", params={"limit": 0}), 422)
    check(admin.get("orgs/%s" % PLACEHOLDER_ID), 404)

    # users and tokens
    lab = check(admin.post("orgs", json={"name": unique("Lab A"), "kind": "developer"}), 201)
    ubody = {"email": "%s@example.test" % unique("dev"), "name": "Dev Admin", "role": "admin"}
    check.request_body("POST", "/api/v1/orgs/{org}/users", ubody)
    dev_admin_user = check(admin.post("orgs/%s/users" % lab["id"], json=ubody), 201)
    check(admin.post("orgs/%s/users" % lab["id"], json=ubody), 409)
    check(admin.post("orgs/%s/users" % lab["id"],
                     json={"email": "no-at", "name": "X", "role": "reviewer"}), 422)
    check(admin.get("orgs/%s/users" % lab["id"]), 200)
    tbody = {"name": "ci", "expires_in_days": 30}
    check.request_body("POST", "/api/v1/users/{user}/tokens", tbody)
    tok = check(admin.post("users/%s/tokens" % dev_admin_user["id"], json=tbody), 201)
    dev_admin = fxd.client(tok["token"])
    dev_admin.org = lab
    check(dev_admin.post("users/%s/tokens" % dev_admin_user["id"]), 201)  # empty body
    listed = check(dev_admin.get("users/%s/tokens" % dev_admin_user["id"]), 200)
    assert len(listed["items"]) == 2
    dev = user_client(fxd, dev_admin, lab, "member")
    viewer = user_client(fxd, dev_admin, lab, "viewer")
    check(dev.post("orgs/%s/users" % lab["id"], json=dict(ubody, email="x@y.example")), 403)
    check(dev.get("users/%s/tokens" % dev_admin_user["id"]), 403)
    check(dev.delete("tokens/%s" % tok["id"]), 403)
    other = org_client(fxd, "developer")
    check(other.get("orgs/%s/users" % lab["id"]), 403)
    check(other.get("users/%s/tokens" % dev_admin_user["id"]), 404)
    spare = check(dev.post("users/%s/tokens" % dev.user["id"], json={"name": "spare"}), 201)
    check(dev.delete("tokens/%s" % spare["id"]), 204)
    check(dev.delete("tokens/%s" % PLACEHOLDER_ID), 404)

    # notices: create, read, amend, submit
    nb = notice_body()
    check.request_body("POST", "/api/v1/notices", nb)
    r = dev.post("notices", json=nb)
    n = check(r, 201)
    assert r.headers["ETag"] == n["etag"]
    assert n["status"] == "draft"
    check(admin.post("notices", json=notice_body()), 403)
    bad = dict(notice_body(), planned_release_date="next spring", colour="red")
    check.request_body("POST", "/api/v1/notices", bad, valid=False)
    p = check(dev.post("notices", json=bad), 422)
    assert {"/planned_release_date", "/colour"} <= {e["field"] for e in p["errors"]}, p
    check(dev.post("notices", data=b"x" * (1024 * 1024 + 1),
                   headers={"Content-Type": "application/json"}), 413)
    check(dev.get("notices/%s" % n["id"]), 200)
    check(dev.get("notices/%s" % n["ref"]), 200)
    check(admin.get("notices/%s" % n["id"]), 404)  # a draft is the developer's alone
    check(dev.get("notices/FXN-1999-9999"), 404)

    patch = {"model_version": "1.1", "safeguards": None}
    check.request_body("PATCH", "/api/v1/notices/{id}", patch)
    check(dev.patch("notices/%s" % n["id"], json=patch), 428)
    check(dev.patch("notices/%s" % n["id"], json=patch, headers={"If-Match": '"9-0"'}), 412)
    check(viewer.patch("notices/%s" % n["id"], json=patch, headers={"If-Match": n["etag"]}),
          403)
    r = dev.patch("notices/%s" % n["id"], json=patch, headers={"If-Match": n["etag"]})
    n2 = check(r, 200)
    assert n2["version"] == 2 and "safeguards" not in n2

    check(dev.post("notices/%s/submit" % n["id"], json={"now": True}), 422)
    sub = check(dev.post("notices/%s/submit" % n["id"], json={}), 200)
    assert sub["status"] == "submitted"
    check(dev.post("notices/%s/submit" % n["id"]), 409)
    late = str(TODAY + dt.timedelta(days=100))
    check(dev.patch("notices/%s" % n["id"], json={"planned_release_date": late},
                    headers={"If-Match": sub["etag"]}), 422)  # change_reason required now
    amend = {"planned_release_date": str(TODAY + dt.timedelta(days=20)),
             "change_reason": "moved up"}
    check.request_body("PATCH", "/api/v1/notices/{id}", amend)
    n3 = check(dev.patch("notices/%s" % n["id"], json=amend,
                         headers={"If-Match": sub["etag"]}), 200)
    assert n3["short_notice"] is True, n3

    # reads from outside, history, versions, access log
    check(admin.get("notices/%s" % n["id"]), 200)
    check(admin.get("notices", params={"status": "submitted", "limit": 5}), 200)
    check(dev.get("notices", params={"short_notice": "true"}), 200)
    check(dev.get("notices", params={"release_after": "tomorrow"}), 422)
    vers = check(dev.get("notices/%s/versions" % n["id"]), 200)
    assert [x["version"] for x in vers["items"]] == [1, 2, 3]
    for x in vers["items"]:
        check(dev.get("notices/%s/versions/%d" % (n["id"], x["version"])), 200)
    check(dev.get("notices/%s/versions/9" % n["id"]), 404)
    hist = check(dev.get("notices/%s/history" % n["id"]), 200)
    actions = [e["action"] for e in hist["items"]]
    assert "short_notice" in actions and "amended" in actions, actions
    log = check(dev_admin.get("notices/%s/access-log" % n["id"]), 200)
    assert log["items"], "the coordinator's read is not in the access log"
    check(dev.get("notices/%s/access-log" % n["id"]), 403)
    check(admin.get("notices/%s/access-log" % n["id"], params={"cursor": "x"}), 422)
    check(admin.get("notices/%s/access-log" % n["id"]), 200)

    # lifecycle ends
    rel_body = {"actual_release_date": str(TODAY)}
    check.request_body("POST", "/api/v1/notices/{id}/release", rel_body)
    check(dev.post("notices/%s/release" % n["id"], json={}), 422)
    check(admin.post("notices/%s/release" % n["id"], json=rel_body), 403)
    rel = check(dev.post("notices/%s/release" % n["id"], json=rel_body), 200)
    assert rel["status"] == "released" and rel["actual_release_date"] == str(TODAY)
    conflict = check(dev.post("notices/%s/withdraw" % n["id"], json={"reason": "r"}), 409)
    assert conflict["status_now"] == "released" and conflict["allowed"] == []
    check(dev.patch("notices/%s" % n["id"], json=amend, headers={"If-Match": rel["etag"]}),
          409)
    other_n = check(dev.post("notices", json=dict(notice_body(), submit=True)), 201)
    wd_body = {"reason": "cancelled"}
    check.request_body("POST", "/api/v1/notices/{id}/withdraw", wd_body)
    wd = check(dev.post("notices/%s/withdraw" % other_n["id"], json=wd_body), 200)
    assert wd["withdrawn_reason"] == "cancelled"
    check(dev.post("notices/%s/withdraw" % PLACEHOLDER_ID, json=wd_body), 404)
    check(dev.get("notices/%s/history" % other_n["id"]), 200)

    # audit
    check(admin.get("audit", params={"limit": 3}), 200)
    check(admin.get("audit", params={"record": n["id"], "since": "2026-01-01T00:00:00Z"}), 200)
    check(dev_admin.get("audit"), 200)
    check(dev.get("audit"), 403)
    check(admin.get("audit", params={"since": "today"}), 422)

    # the transparency log: public, and past one full tile of 256 leaves
    size = int(check(anon.get("ledger/checkpoint"), 200).split("\n")[1])
    while size <= 256:
        r = dev.post("notices", json=dict(notice_body(), submit=True))
        assert r.status_code == 201, describe(r)
        size += len(r.json()["receipts"])
    note = check(anon.get("ledger/checkpoint"), 200)
    assert int(note.split("\n")[1]) == size, note
    check(anon.get("ledger/key"), 200)
    check(anon.get("ledger/entries/0"), 200)
    check(anon.get("ledger/entries/%d" % size), 404)
    check(anon.get("ledger/proof/inclusion", params={"index": 3, "size": size}), 200)
    check(anon.get("ledger/proof/inclusion", params={"index": size, "size": size}), 422)
    check(anon.get("ledger/proof/inclusion", params={"index": "x", "size": 1}), 422)
    check(anon.get("ledger/proof/consistency", params={"from": 1, "to": size}), 200)
    check(anon.get("ledger/proof/consistency", params={"from": size, "to": 1}), 422)
    for level in ("0", "entries"):
        check(anon.get("ledger/tile/%s/000" % level), 200)
        check(anon.get("ledger/tile/%s/001.p/%d" % (level, size - 256)), 200)
        check(anon.get("ledger/tile/%s/001" % level), 404)
    check(anon.get("ledger/tile/9/000"), 404)

    review_process(fxd, check, dev)

    check_incidents_and_taxii(fxd, check)

    # every documented operation was seen answering a success
    ok = {(m, t) for m, t, s in check.seen if 200 <= s < 300}
    missing = sorted((m, t) for m, t, _ in operations(doc) if (m, t) not in ok)
    assert not missing, "no successful answer of these was checked: %s" % missing


def review_process(fxd, check, dev):
    """The review process (SPEC 4-6): every operation, successes and refusals."""
    admin = fxd.admin
    coordinator = {"id": fxd.init_info["org_id"], "kind": "coordinator"}
    reviewer = user_client(fxd, admin, coordinator, "reviewer")
    civ = org_client(fxd, "agency", role="reviewer", mission="civilian")
    natsec = org_client(fxd, "agency", role="reviewer", mission="national_security")
    partner = org_client(fxd, "operator", role="member", sector="energy")
    release = str(TODAY + dt.timedelta(days=120))
    n = check(dev.post("notices", json=dict(notice_body(release=release), submit=True,
                                            training_compute_flop=2e26)), 201)

    # policy: read, dry run, apply (and refusals)
    pol = check(admin.get("policy"), 200)["document"]
    signed = dict(pol, name="signed-order-2026", min_notice_days=30)
    check.request_body("POST", "/api/v1/policy/check", signed)
    dry = check(reviewer.post("policy/check", json=signed), 200)
    assert dry["policy"]["name"] == "signed-order-2026", dry
    check(dev.post("policy/check", json=signed), 403)
    bad = dict(pol, covered_if_any=[{"id": "x", "field": "nope", "op": "~", "value": "big"}])
    check.request_body("POST", "/api/v1/policy/check", bad, valid=False)
    check(reviewer.post("policy/check", json=bad), 422)
    check(reviewer.put("policy", json=signed), 403)
    check(admin.put("policy", json=bad), 422)
    check(admin.put("policy", json=signed, headers={"If-Match": '"%s"' % ("0" * 64)}), 412)
    applied = check(admin.put("policy", json=signed), 200)
    assert applied["examined"] >= 1 and applied["previous"]["name"] == "draft-order-2026"
    check(admin.put("policy", json=pol), 200)

    # screening, review, determination, reconsideration
    scr = check(dev.get("notices/%s/screening" % n["id"]), 200)
    check(dev.get("notices/%s/screenings/%d" % (n["id"], scr["version"])), 200)
    check(dev.get("notices/%s/screenings/%d" % (n["id"], scr["version"] + 1)), 404)
    assert scr["result"] == "likely_covered", scr
    check(civ.get("notices/%s/screening" % n["id"]), 404)
    check(dev.post("notices/%s/review" % n["id"], json={}), 403)
    check(reviewer.post("notices/%s/determination" % n["id"],
                        json={"determination": "covered", "rationale": "r"}), 409)
    check(reviewer.post("notices/%s/review" % n["id"]), 200)
    det = {"determination": "covered", "rationale": "compute above the threshold"}
    check.request_body("POST", "/api/v1/notices/{id}/determination", det)
    check(reviewer.post("notices/%s/determination" % n["id"], json={"determination": "maybe"}), 422)
    check(reviewer.post("notices/%s/determination" % n["id"], json=det), 201)
    rec = {"statement": "we disagree"}
    check.request_body("POST", "/api/v1/notices/{id}/reconsideration", rec)
    check(dev.post("notices/%s/reconsideration" % n["id"], json=rec), 201)
    check(dev.post("notices/%s/reconsideration" % n["id"], json=rec), 409)
    check(reviewer.post("notices/%s/determination" % n["id"], json=det), 201)
    dets = check(dev.get("notices/%s/determinations" % n["id"]), 200)
    assert [x["kind"] for x in dets["items"]] == ["determination", "reconsideration",
                                                  "determination"]

    # assessment, tasks, findings, outcome
    body = {"agencies": [civ.org["id"], natsec.org["id"]]}
    check.request_body("POST", "/api/v1/notices/{id}/assessment", body)
    check(dev.post("notices/%s/assessment" % n["id"], json=body), 403)
    check(reviewer.post("notices/%s/assessment" % n["id"], json={"agencies": [partner.org["id"]]}),
          422)
    a = check(reviewer.post("notices/%s/assessment" % n["id"], json=body), 201)
    assert a["warnings"] == [], a
    check(civ.get("notices/%s/assessment" % n["id"]), 200)
    task = "assessments/%s/tasks/%s/" % (a["id"], civ.org["id"])
    check(civ.post(task + "complete"), 409)
    check(natsec.post(task + "start"), 403)
    check(civ.post(task + "start"), 200)
    fb = {"title": "Exploit chain", "severity": "high", "domain": "cyber",
          "description": "details", "recommendation": "patch", "marking": "government_only"}
    check.request_body("POST", "/api/v1/assessments/{id}/findings", fb)
    check(civ.post("assessments/%s/findings" % a["id"], json=dict(fb, marking="secret")), 422)
    f = check(civ.post("assessments/%s/findings" % a["id"], json=fb), 201)
    check(civ.get("assessments/%s/findings" % a["id"]), 200)
    check(civ.get("assessments/%s/findings/%s" % (a["id"], f["id"])), 200)
    check(dev.get("assessments/%s/findings/%s" % (a["id"], f["id"])), 404)
    check(civ.post(task + "complete"), 200)
    out = {"outcome": "concerns_communicated", "summary": "see findings"}
    check.request_body("POST", "/api/v1/assessments/{id}/outcome", out)
    check(civ.post("assessments/%s/outcome" % a["id"], json=out), 403)
    check(reviewer.post("assessments/%s/outcome" % a["id"], json=out), 200)
    check(reviewer.post("assessments/%s/outcome" % a["id"], json=out), 409)

    # grants
    g = {"partner_org": partner.org["id"], "purpose": "harden the grid",
         "starts": str(TODAY), "ends": str(TODAY + dt.timedelta(days=30)), "terms": "no sharing"}
    check.request_body("POST", "/api/v1/notices/{id}/grants", g)
    check(dev.post("notices/%s/grants" % n["id"], json=dict(g, ends=str(TODAY - dt.timedelta(days=1)))),
          422)
    grant = check(dev.post("notices/%s/grants" % n["id"], json=g), 201)
    check(partner.get("grants/%s" % grant["id"]), 404)
    check(dev.post("grants/%s/consent" % grant["id"]), 200)
    check(dev.post("grants/%s/consent" % grant["id"]), 409)
    check(reviewer.post("grants/%s/consent" % grant["id"], json={}), 200)
    check(partner.post("grants/%s/consent" % grant["id"]), 403)
    check(partner.post("grants/%s/accept" % grant["id"], json={"terms_sha256": "0" * 64}), 422)
    acc = check(partner.post("grants/%s/accept" % grant["id"],
                             json={"terms_sha256": grant["terms_sha256"]}), 200)
    assert acc["state"] == "active" and "notice_id" not in acc, acc
    fbk = {"title": "Found a bug", "severity": "medium", "description": "in our SCADA"}
    check.request_body("POST", "/api/v1/grants/{id}/feedback", fbk)
    check(partner.post("grants/%s/feedback" % grant["id"], json=fbk), 201)
    check(partner.get("grants/%s" % grant["id"]), 200)
    check(partner.get("grants/%s/versions/%d" % (grant["id"], acc["version"])), 200)
    check(partner.get("grants/%s/versions/%d" % (grant["id"], acc["version"] + 1)), 404)
    check(partner.get("grants", params={"sector": "energy", "state": "active"}), 200)
    check(admin.get("grants", params={"state": "expired"}), 200)
    check(admin.get("grants", params={"state": "gone"}), 422)
    check(dev.post("grants/%s/revoke" % grant["id"], json={}), 422)
    check(dev.post("grants/%s/revoke" % grant["id"], json={"reason": "done"}), 200)
    check(partner.post("grants/%s/feedback" % grant["id"], json=fbk), 409)

    # deadlines
    check(dev.get("deadlines", params={"within": 365}), 200)
    check(admin.get("deadlines", params={"within": -1}), 422)


TAXII_MEDIA = "application/taxii+json;version=2.1"


def check_incidents_and_taxii(fxd, check):
    """Successes of the incident (SPEC 7) and TAXII 2.1 (SPEC 8) operations."""
    dev = org_client(fxd, "developer", role="member")
    dev_admin = user_client(fxd, fxd.admin, dev.org, "admin")
    body = {"title": unique("Breach"), "category": "intrusion",
            "detected_at": "2026-01-01T00:00:00Z", "severity": "high",
            "description": "An unknown key read the staging bucket.", "tlp": "AMBER",
            "indicators": [{"pattern": "[ipv4-addr:value = '198.51.100.7']",
                            "description": "the reading host"}]}
    check.request_body("POST", "/api/v1/incidents", body)
    inc = check(dev.post("incidents", json=body), 201)
    check(dev.get("incidents", params={"tlp": "AMBER", "limit": 5}), 200)
    check(dev.get("incidents/%s" % inc["ref"]), 200)
    patch = {"status": "contained", "change_reason": "host isolated"}
    check.request_body("PATCH", "/api/v1/incidents/{id}", patch)
    check(dev.patch("incidents/%s" % inc["id"], json=patch, headers={"If-Match": inc["etag"]}),
          200)
    check(dev.patch("incidents/%s" % inc["id"], json=patch, headers={"If-Match": inc["etag"]}),
          412)
    bundle = check(dev.get("incidents/%s/stix" % inc["id"]), 200)
    assert bundle["type"] == "bundle"
    check(dev.get("incidents/%s/versions" % inc["id"]), 200)
    check(dev.get("incidents/%s/versions/1" % inc["id"]), 200)
    check(dev.get("incidents/%s/history" % inc["id"]), 200)
    check(dev_admin.get("incidents/%s/access-log" % inc["id"]), 200)
    check(dev.get("incidents/%s/access-log" % inc["id"]), 403)

    t = {"Accept": TAXII_MEDIA}
    check(dev.get("/taxii2/", headers=t), 200)
    check(dev.get("/taxii2/fx/", headers=t), 200)
    check(dev.get("/taxii2/fx/collections/", headers=t), 200)
    check(dev.get("/taxii2/fx/collections/incidents/", headers=t), 200)
    check(dev.get("/taxii2/fx/collections/%s/" % PLACEHOLDER_ID, headers=t), 404)
    check(dev.get("/taxii2/fx/", headers={"Accept": "text/html"}), 406)
    coll = "/taxii2/fx/collections/%s/" % dev.org["id"]
    ind = {"type": "indicator", "spec_version": "2.1",
           "id": "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f",
           "created": "2026-01-01T00:00:00.000Z", "modified": "2026-01-01T00:00:00.000Z",
           "pattern": "[domain-name:value = 'example.test']", "pattern_type": "stix",
           "valid_from": "2026-01-01T00:00:00Z"}
    env = {"objects": [ind, {"type": "indicator", "id": "indicator--x"}]}
    st = check(dev.post(coll + "objects/", data=json.dumps(env),
                        headers={"Content-Type": TAXII_MEDIA, "Accept": TAXII_MEDIA}), 202)
    assert st["success_count"] == 1 and st["failure_count"] == 1, st
    check(dev.post(coll + "objects/", data="[]",
                   headers={"Content-Type": TAXII_MEDIA, "Accept": TAXII_MEDIA}), 400)
    check(dev.post(coll + "objects/", json=env), 415)
    check(dev.post("/taxii2/fx/collections/incidents/objects/", data=json.dumps(env),
                   headers={"Content-Type": TAXII_MEDIA}), 403)
    check(dev.get("/taxii2/fx/status/%s/" % st["id"], headers=t), 200)
    check(dev.get(coll + "objects/", params={"limit": 1}, headers=t), 200)
    check(dev.get(coll + "objects/", params={"added_after": "yesterday"}, headers=t), 400)
    check(dev.get("/taxii2/fx/collections/incidents/objects/", headers=t), 200)
    check(dev.get(coll + "manifest/", headers=t), 200)
    check(dev.get(coll + "objects/%s/" % ind["id"], headers=t), 200)
    check(dev.get(coll + "objects/%s/versions/" % ind["id"], headers=t), 200)
    check(dev.delete(coll + "objects/%s/" % ind["id"], headers=t), 200)
    check(dev.delete(coll + "objects/%s/" % ind["id"], headers=t), 404)
    check(fxd.anon().get("/taxii2/", headers=t), 401)
