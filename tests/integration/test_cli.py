"""fx, the command-line client, against a real fxd (docs/CLI.md).

Exit statuses: 0 ok, 1 local file problem, 2 usage, 3 server refused (4xx),
4 server failed (5xx), 5 no connection. FX_URL and FX_TOKEN name the server
and the token; --json prints the server's JSON answer.
"""
import base64
import hashlib
import json
import os
import subprocess
import tempfile

import pytest

from fxharness import (FX, REF_RE, create_org, free_port, notice_body, org_client, unique,
                       user_client)
from fxtaxii import H, collection_url, incident_body, indicator


@pytest.fixture(scope="module")
def home():
    """An empty HOME, so no config file of the machine's user is read."""
    d = tempfile.mkdtemp(prefix="fxcli-home-")
    yield d
    subprocess.run(["rm", "-rf", d])


@pytest.fixture(scope="module")
def fx(fxd, home):
    if not os.path.exists(FX):
        pytest.fail("fx binary not found at %s (set FX)" % FX)

    def run(*args, token=None, url=None, stdin=None):
        env = {k: v for k, v in os.environ.items() if not k.startswith("FX_")}
        env.update(HOME=home, XDG_CONFIG_HOME=os.path.join(home, ".config"),
                   FX_URL=url or fxd.url, FX_TOKEN=token or fxd.init_info["token"])
        if isinstance(stdin, str):
            stdin = stdin.encode()
        p = subprocess.run([FX] + [str(a) for a in args], env=env, input=stdin,
                           capture_output=True, timeout=120)
        p.out = p.stdout.decode("utf-8", errors="replace")
        p.err = p.stderr.decode("utf-8", errors="replace")
        return p
    return run


def ok(p):
    assert p.returncode == 0, "fx %s -> %d\nstdout: %s\nstderr: %s" % (
        " ".join(map(str, p.args[1:])), p.returncode, p.out, p.err)
    return p


def js(p):
    ok(p)
    try:
        return json.loads(p.out)
    except ValueError:
        raise AssertionError("fx --json printed no JSON: %r" % p.out[:500])


def status(p, code):
    assert p.returncode == code, "expected exit %d: fx %s -> %d\nstdout: %s\nstderr: %s" % (
        code, " ".join(map(str, p.args[1:])), p.returncode, p.out, p.err)
    return p


def write(tmpdir, name, obj):
    path = os.path.join(tmpdir, name)
    with open(path, "w", encoding="utf-8") as f:
        f.write(obj if isinstance(obj, str) else json.dumps(obj))
    return path


@pytest.fixture(scope="module")
def files():
    d = tempfile.mkdtemp(prefix="fxcli-files-")
    yield d
    subprocess.run(["rm", "-rf", d])


@pytest.fixture(scope="module")
def dev(fxd):
    a = org_client(fxd, "developer", role="admin")
    m = user_client(fxd, a, a.org, "member")
    return m


# ---------------------------------------------------------------- me, orgs, users, tokens

def test_me(fx, fxd):
    me = js(fx("me", "--json"))
    assert me["user"]["id"] == fxd.init_info["user_id"]
    assert me["org"]["kind"] == "coordinator"
    human = ok(fx("me"))
    assert me["user"]["email"] in human.out
    assert js(fx("--json", "me")) == me   # global options go anywhere


def test_org_create_list_show(fx):
    names = {k: unique("CLI %s" % k) for k in ("developer", "agency", "operator")}
    dev = js(fx("org", "create", names["developer"], "--kind", "developer", "--json"))
    ag = js(fx("org", "create", names["agency"], "--kind", "agency", "--mission", "national_security",
               "--json"))
    op = js(fx("org", "create", names["operator"], "--kind", "operator", "--sector", "water_wastewater",
               "--json"))
    assert dev["kind"] == "developer" and ag["mission"] == "national_security"
    assert op["sector"] == "water_wastewater"
    listed = js(fx("org", "list", "--all", "--json"))
    assert {dev["id"], ag["id"], op["id"]} <= {o["id"] for o in listed["items"]}
    assert listed["next_cursor"] is None
    table = ok(fx("org", "list", "--all")).out
    for n in names.values():
        assert n in table
    assert js(fx("org", "show", dev["id"], "--json")) == dev
    only_ops = js(fx("org", "list", "--kind", "operator", "--all", "--json"))["items"]
    assert only_ops and all(o["kind"] == "operator" for o in only_ops)


def test_org_create_refused_shows_the_problem(fx):
    p = status(fx("org", "create", unique("No mission"), "--kind", "agency"), 3)
    assert "/mission" in p.err and "422" in p.err


def test_user_and_token(fx):
    org = js(fx("org", "create", unique("CLI lab"), "--kind", "developer", "--json"))
    email = unique("cli") + "@example.test"
    user = js(fx("user", "create", org["id"], "--email", email, "--name", "Cli User",
                 "--role", "member", "--json"))
    assert user["email"] == email and user["role"] == "member"
    users = js(fx("user", "list", org["id"], "--all", "--json"))["items"]
    assert user["id"] in {u["id"] for u in users}
    tok = js(fx("token", "create", user["id"], "--name", "ci", "--expires-in-days", "5", "--json"))
    assert tok["token"].startswith("fx_")
    me = js(fx("me", "--json", token=tok["token"]))
    assert me["user"]["id"] == user["id"] and me["user"]["role"] == "member"
    # Human output of token create shows the token (it is shown only once). The user
    # makes its second token itself: the coordinator admin issues only a first one.
    p = status(fx("token", "create", user["id"]), 3)
    assert "403" in p.err
    tok2 = ok(fx("token", "create", user["id"], token=tok["token"]))
    assert "fx_" in tok2.out
    listed = js(fx("token", "list", user["id"], "--all", "--json"))["items"]
    assert tok["id"] in {t["id"] for t in listed}
    assert tok["token"] not in json.dumps(listed)
    ok(fx("token", "revoke", tok["id"]))
    p = status(fx("me", token=tok["token"]), 3)
    assert "401" in p.err


# ---------------------------------------------------------------- notices

def test_notice_lifecycle(fx, dev, files):
    body = notice_body(model_name=unique("CLI model"))
    f = write(files, "notice.json", body)
    n = js(fx("notice", "create", "--file", f, "--json", token=dev.token))
    assert n["status"] == "draft" and REF_RE.match(n["ref"])
    assert n["model_name"] == body["model_name"]

    s = js(fx("notice", "submit", n["ref"], "--json", token=dev.token))
    assert s["status"] == "submitted" and s["notice_days"] is not None

    patch = write(files, "patch.json", {"model_version": "1.1"})
    a = js(fx("notice", "amend", n["id"], "--file", patch, "--reason", "new checkpoint", "--json",
              token=dev.token))
    assert a["version"] == 2 and a["model_version"] == "1.1"

    shown = js(fx("notice", "show", n["ref"], "--json", token=dev.token))
    assert shown["id"] == n["id"] and shown["version"] == 2
    human = ok(fx("notice", "show", n["ref"], token=dev.token)).out
    assert n["ref"] in human and body["model_name"] in human

    listed = js(fx("notice", "list", "--all", "--json", token=dev.token))["items"]
    assert n["id"] in {x["id"] for x in listed}
    table = ok(fx("notice", "list", "--status", "submitted", token=dev.token)).out
    assert n["ref"] in table

    versions = js(fx("notice", "versions", n["id"], "--json", token=dev.token))
    versions = versions["items"] if isinstance(versions, dict) else versions
    assert [v["version"] for v in versions] == [1, 2]
    assert versions[1]["change_reason"] == "new checkpoint"
    raw = ok(fx("notice", "version", n["id"], "2", token=dev.token)).stdout
    assert hashlib.sha256(raw).hexdigest() == versions[1]["content_sha256"].lower()
    assert json.loads(raw)["model_version"] == "1.1"

    hist = js(fx("notice", "history", n["id"], "--json", token=dev.token))
    actions = [e["action"] for e in hist["items"]]
    assert actions[:3] == ["created", "submitted", "amended"], actions

    w = js(fx("notice", "withdraw", n["ref"], "--reason", "cancelled", "--json", token=dev.token))
    assert w["status"] == "withdrawn" and w["withdrawn_reason"] == "cancelled"
    again = status(fx("notice", "withdraw", n["ref"], "--reason", "again", token=dev.token), 3)
    assert "409" in again.err and "withdrawn" in again.err


def test_notice_show_prints_reals_as_they_were_sent(fx, dev, files):
    # six significant digits would show 9.9999999e25 as 1e+26, the usual threshold itself
    body = notice_body(training_compute_flop=9.9999999e25)
    body["evaluations"][0]["score"] = 0.4999999
    n = js(fx("notice", "create", "--file", write(files, unique("reals") + ".json", body),
              "--json", token=dev.token))
    human = ok(fx("notice", "show", n["ref"], token=dev.token)).out
    assert kv(human)["training_compute_flop"] == "9.9999999e+25", human
    assert "1e+26" not in human
    assert "0.4999999" in human and "0.5 " not in human
    assert "0.31" in ok(fx("notice", "show", js(fx(
        "notice", "create", "--file", write(files, unique("reals") + ".json", notice_body()),
        "--json", token=dev.token))["ref"], token=dev.token)).out


def test_notice_create_from_stdin_and_release(fx, dev):
    body = notice_body()
    n = js(fx("notice", "create", "--file", "-", "--submit", "--json", token=dev.token,
              stdin=json.dumps(body)))
    assert n["status"] == "submitted"
    r = js(fx("notice", "release", n["id"], "--date", "2026-03-01", "--json", token=dev.token))
    assert r["status"] == "released" and r["actual_release_date"] == "2026-03-01"


def test_amend_with_stale_if_match(fx, dev, files):
    n = js(fx("notice", "create", "--file", write(files, "n2.json", notice_body()), "--submit",
              "--json", token=dev.token))
    patch = write(files, "p2.json", {"model_version": "3"})
    js(fx("notice", "amend", n["id"], "--file", patch, "--reason", "one", "--json", token=dev.token))
    p = status(fx("notice", "amend", n["id"], "--file", patch, "--reason", "two",
                  "--if-match", n["etag"], token=dev.token), 3)
    assert "412" in p.err


def test_idempotency_key(fx, dev, files):
    f = write(files, "idem.json", notice_body())
    key = unique("cli-idem")
    a = js(fx("notice", "create", "--file", f, "--idempotency-key", key, "--json", token=dev.token))
    b = js(fx("notice", "create", "--file", f, "--idempotency-key", key, "--json", token=dev.token))
    assert a["id"] == b["id"]


def test_bad_request_exits_3_and_shows_the_problem(fx, dev, files):
    before = js(fx("notice", "list", "--all", "--json", token=dev.token))["items"]
    bad = write(files, "bad.json", notice_body(model_name=42, colour="red",
                                               planned_release_date="2026-02-30"))
    p = status(fx("notice", "create", "--file", bad, token=dev.token), 3)
    for field in ("/model_name", "/colour", "/planned_release_date"):
        assert field in p.err, p.err
    assert "422" in p.err
    after = js(fx("notice", "list", "--all", "--json", token=dev.token))["items"]
    assert len(after) == len(before)


def test_malformed_file_is_refused(fx, dev, files):
    bad = write(files, "broken.json", '{"model_name": ')
    p = fx("notice", "create", "--file", bad, token=dev.token)
    assert p.returncode in (1, 2, 3), (p.returncode, p.err)   # refused locally or by the server
    assert p.err.strip()


def test_not_found_exits_3(fx, dev):
    p = status(fx("notice", "show", "FXN-2000-9999", token=dev.token), 3)
    assert "404" in p.err


def test_viewer_refused_exits_3(fx, fxd, dev, files):
    viewer = user_client(fxd, fxd.admin, dev.org, "viewer")
    p = status(fx("notice", "create", "--file", write(files, "v.json", notice_body()),
                  token=viewer.token), 3)
    assert "403" in p.err


def test_usage_errors_exit_2(fx):
    status(fx("notice", "create"), 2)
    status(fx("no-such-command"), 2)
    status(fx("notice", "list", "--limit", "0"), 2)
    status(fx("notice", "release", "FXN-2026-0001", "--date", "2026-02-30"), 2)
    status(fx("notice", "list", "--no-such-option"), 2)


def test_help_exits_0(fx):
    p = ok(fx("--help"))
    assert "notice" in p.out + p.err
    p = ok(fx("notice", "--help"))
    assert "create" in p.out + p.err


def test_missing_file_exits_1(fx, dev):
    status(fx("notice", "create", "--file", "/nonexistent/notice.json", token=dev.token), 1)


def test_bad_token_exits_3(fx):
    p = status(fx("me", token="fx_" + "A" * 43), 3)
    assert "401" in p.err


def test_no_server_exits_5(fx):
    p = status(fx("me", url="http://127.0.0.1:%d" % free_port()), 5)
    assert p.err.strip()


# ---------------------------------------------------------------- the review process

@pytest.fixture(scope="module")
def reviewer(fxd):
    """A reviewer of the coordinator."""
    return user_client(fxd, fxd.admin, {"id": fxd.init_info["org_id"]}, "reviewer")


@pytest.fixture(scope="module")
def stranger(fxd):
    """A member of a developer org that shares nothing with anyone here."""
    return org_client(fxd, "developer", role="member")


def kv(out):
    """fx's "key: value" lines (aligned) as a dict."""
    return dict((k, v.strip()) for k, _, v in (line.partition(":") for line in out.splitlines()))


def not_found(p):
    """The server's 404 problem, shown plainly on stderr, exit 3, and nothing on stdout."""
    status(p, 3)
    assert "404" in p.err and p.out == "", (p.out, p.err)
    return p


def determined_notice(fx, dev, reviewer):
    """A notice of dev's, screened likely covered, submitted and determined covered."""
    n = js(fx("notice", "create", "--file", "-", "--submit", "--json", token=dev.token,
              stdin=json.dumps(notice_body(training_compute_flop=2e26))))
    ok(fx("review", n["id"], token=reviewer.token))
    ok(fx("determine", n["ref"], "covered", "--rationale", "Trained with 2e26 FLOP.",
          token=reviewer.token))
    return n


def test_determinations(fx, dev, reviewer, stranger):
    n = determined_notice(fx, dev, reviewer)
    ok(fx("reconsider", n["id"], "--statement", "Our run was smaller.", token=dev.token))
    items = js(fx("determinations", n["ref"], "--json", token=dev.token))["items"]
    assert [(d["kind"], d["determination"]) for d in items] == [
        ("determination", "covered"), ("reconsideration", "covered")]
    table = ok(fx("determinations", n["id"], token=reviewer.token)).out
    assert "Trained with 2e26 FLOP." in table and "Our run was smaller." in table
    assert table.splitlines()[0].split()[:3] == ["CREATED", "KIND", "DETERMINATION"]
    # another org's notice is not there for a stranger
    p = not_found(fx("determinations", n["id"], token=stranger.token))
    assert "no such notice" in p.err
    status(fx("determinations", token=dev.token), 2)


def test_assess_one_finding(fx, fxd, dev, reviewer):
    agency = create_org(fxd.admin, "agency", mission="national_security")
    analyst = user_client(fxd, fxd.admin, agency, "reviewer")
    n = determined_notice(fx, dev, reviewer)
    a = js(fx("assess", "open", n["id"], "--agencies", agency["id"], "--json",
              token=reviewer.token))
    ok(fx("assess", "start", a["id"], agency["id"], token=analyst.token))
    f = js(fx("assess", "finding", a["id"], "--title", "Exploit chain", "--severity", "high",
              "--domain", "cyber", "--marking", "government_only", "--description",
              "Chains two CVEs.", "--json", token=analyst.token))
    one = js(fx("assess", "findings", a["id"], f["id"], "--json", token=reviewer.token))
    assert one["id"] == f["id"] and one["description"] == "Chains two CVEs."
    human = kv(ok(fx("assess", "findings", a["id"], f["id"], token=analyst.token)).out)
    assert human["title"] == "Exploit chain" and human["marking"] == "government_only"
    # the list still lists
    assert f["id"] in ok(fx("assess", "findings", a["id"], token=analyst.token)).out
    # a government_only finding is not the developer's to read: the server's 404
    p = not_found(fx("assess", "findings", a["id"], f["id"], token=dev.token))
    assert "no such finding" in p.err
    status(fx("assess", "findings", a["id"], f["id"], "extra", token=dev.token), 2)


# ---------------------------------------------------------------- incidents

@pytest.fixture(scope="module")
def lab(fxd):
    """A reporter org: a member who reports, an admin who reads the access log."""
    member = org_client(fxd, "developer", role="member")
    member.admin = user_client(fxd, fxd.admin, member.org, "admin")
    return member


@pytest.fixture(scope="module")
def reported(fx, fxd, lab, files):
    """An AMBER incident shared with one operator, updated once: (answers, operator)."""
    grid = org_client(fxd, "operator", role="member")
    body = incident_body(tlp="AMBER", share_with=[grid.org["id"]])
    created = js(fx("--json", "incident", "report", "--file", write(files, "inc.json", body),
                    token=lab.token))
    patch = write(files, "inc-patch.json", {"status": "contained"})
    updated = js(fx("--json", "incident", "update", created["ref"], "--file", patch, "--reason",
                    "isolated the host", token=lab.token))
    assert updated["version"] == 2
    return created, updated, grid


def test_incident_versions_and_version_bytes(fx, lab, reported, stranger):
    created, updated, _ = reported
    vs = js(fx("incident", "versions", created["ref"], "--json", token=lab.token))
    assert vs["next_cursor"] is None
    assert [(v["version"], v["status"], v["change_reason"]) for v in vs["items"]] == [
        (1, "open", None), (2, "contained", "isolated the host")]
    table = ok(fx("incident", "versions", created["id"], token=lab.token)).out
    assert "isolated the host" in table and vs["items"][1]["content_sha256"] in table
    for v in vs["items"]:
        raw = ok(fx("incident", "version", created["id"], v["version"], token=lab.token)).stdout
        assert hashlib.sha256(raw).hexdigest() == v["content_sha256"].lower()
        assert json.loads(raw)["version"] == v["version"]
        # the bytes as stored, whatever --json says
        assert ok(fx("--json", "incident", "version", created["ref"], v["version"],
                     token=lab.token)).stdout == raw
    not_found(fx("incident", "versions", created["id"], token=stranger.token))
    not_found(fx("incident", "version", created["id"], "1", token=stranger.token))
    not_found(fx("incident", "version", created["id"], "3", token=lab.token))
    status(fx("incident", "version", created["id"], "0", token=lab.token), 2)
    status(fx("incident", "version", created["id"], token=lab.token), 2)


def test_incident_version_verifies_against_its_receipt(fx, fxd, lab, reported, files):
    """As for notices (docs/CLI.md): the receipt of a write, and the bytes fx prints for
    that version, verify offline; the other version's bytes do not."""
    created, updated, _ = reported
    key = write(files, "ledger.pub", fxd.init_info["ledger_public_key"] + "\n")
    v = {}
    for n in (1, 2):
        v[n] = os.path.join(files, "inc-v%d.json" % n)
        with open(v[n], "wb") as f:
            f.write(ok(fx("incident", "version", created["id"], n, token=lab.token)).stdout)
    for answer, n in ((created, 1), (updated, 2)):
        receipt = write(files, "inc-answer-%d.json" % n, answer)
        p = ok(fx("verify", receipt, "--key", key, "--record", v[n]))
        assert "matches content_sha256" in p.out, p.out
        leaf = js(fx("--json", "verify", receipt, "--key", key, "--record", v[n]))["leaf"]
        assert (leaf["kind"], leaf["record_id"], leaf["version"]) == (
            "incident_version", created["id"], n)
        p = status(fx("verify", receipt, "--key", key, "--record", v[3 - n]), 6)
        assert "FAILED: record:" in p.err, p.err


def test_incident_history(fx, lab, reported, stranger):
    created, _, grid = reported
    hist = js(fx("incident", "history", created["id"], "--json", token=grid.token))["items"]
    assert [(e["action"], e["version"]) for e in hist] == [("reported", 1), ("updated", 2)]
    assert hist[1]["status"] == {"from": "open", "to": "contained"}
    table = ok(fx("incident", "history", created["ref"], token=lab.token)).out
    assert "open -> contained" in table and "isolated the host" in table
    p = not_found(fx("incident", "history", created["id"], token=stranger.token))
    assert "no such incident" in p.err


def test_incident_access_log(fx, lab, reported, stranger):
    created, _, grid = reported
    for _ in range(2):   # reads from outside the reporter org, audited (SPEC §10)
        ok(fx("incident", "show", created["id"], token=grid.token))
    rows = js(fx("incident", "access-log", created["id"], "--all", "--json",
                 token=lab.admin.token))
    assert rows["next_cursor"] is None
    mine = [r for r in rows["items"] if r["user_id"] == grid.user["id"]]
    assert len(mine) >= 2 and all(r["record"] == created["id"] for r in mine), rows
    assert lab.user["id"] not in {r["user_id"] for r in rows["items"]}
    page = ok(fx("incident", "access-log", created["ref"], "--limit", "1", token=lab.admin.token))
    assert grid.user["email"] in page.out and "--cursor" in page.err
    # the reporter's members may read the incident but not its access log: 403
    p = status(fx("incident", "access-log", created["id"], token=lab.token), 3)
    assert "403" in p.err and p.out == ""
    not_found(fx("incident", "access-log", created["id"], token=stranger.token))
    status(fx("incident", "access-log", created["id"], "--limit", "0", token=lab.admin.token), 2)


# ---------------------------------------------------------------- TAXII

def test_taxii_discovery_root_and_one_collection(fx, fxd, dev):
    d = js(fx("taxii", "discovery", "--json", token=dev.token))
    assert d["api_roots"] == [fxd.url + "/taxii2/fx/"]
    assert "api_roots:" in ok(fx("taxii", "discovery", token=dev.token)).out
    root = js(fx("--json", "taxii", "root", token=dev.token))
    assert isinstance(root["max_content_length"], int) and root["versions"]
    assert kv(ok(fx("taxii", "root", token=dev.token)).out)["max_content_length"] == str(
        root["max_content_length"])
    mine = js(fx("taxii", "collections", dev.org["id"], "--json", token=dev.token))
    assert mine["id"] == dev.org["id"] and mine["can_write"] is True
    human = kv(ok(fx("taxii", "collections", "incidents", token=dev.token)).out)
    assert human["alias"] == "incidents" and human["can_write"] == "no"
    for args in (("discovery",), ("root",)):
        p = status(fx("taxii", *args, token="fx_" + "A" * 43), 3)
        assert "401" in p.err and p.out == ""
    not_found(fx("taxii", "collections", "01900000-0000-7000-8000-000000000000",
                 token=dev.token))


def add_versions(fx, dev, files, *objects):
    """Adds each object, then a second version of the first, through fx: add's status."""
    later = dict(objects[0], modified="2026-02-01T00:00:00.000Z")
    st = js(fx("--json", "taxii", "add", dev.org["id"], "--file",
               write(files, unique("env") + ".json", {"objects": list(objects)}), token=dev.token))
    js(fx("--json", "taxii", "add", dev.org["id"], "--file",
          write(files, unique("env") + ".json", {"objects": [later]}), token=dev.token))
    return st


@pytest.fixture(scope="module")
def stix(fx, dev, files):
    """Two versions of one indicator and one other, added by dev: (add's status, the first id)."""
    first = indicator()
    return add_versions(fx, dev, files, first, indicator()), first["id"]


def test_taxii_status(fx, dev, stix, stranger):
    st, _ = stix
    again = js(fx("taxii", "status", st["id"], "--json", token=dev.token))
    assert again["id"] == st["id"] and again["success_count"] == 2
    assert [s["id"] for s in again["successes"]] == [s["id"] for s in st["successes"]]
    human = ok(fx("taxii", "status", st["id"], token=dev.token)).out
    assert "status %s: 2 of 2 stored, 0 refused" % st["id"] in human
    # another org's status: the server's 404 (a TAXII error message), exit 3
    p = not_found(fx("taxii", "status", st["id"], token=stranger.token))
    assert "no such status" in p.err


def test_taxii_versions(fx, dev, stix):
    _, obj = stix
    vs = js(fx("taxii", "versions", dev.org["id"], obj, "--json", token=dev.token))
    assert vs["versions"] == ["2026-01-01T00:00:00.000Z", "2026-02-01T00:00:00.000Z"]
    table = ok(fx("taxii", "versions", dev.org["id"], obj, token=dev.token)).out
    assert table.split() == ["VERSION"] + vs["versions"]
    page = ok(fx("taxii", "versions", dev.org["id"], obj, "--limit", "1", token=dev.token))
    assert page.out.split() == ["VERSION", vs["versions"][0]] and "--next" in page.err
    merged = js(fx("taxii", "versions", dev.org["id"], obj, "--limit", "1", "--all", "--json",
                   token=dev.token))
    assert merged == {"more": False, "versions": vs["versions"]}
    p = not_found(fx("taxii", "versions", dev.org["id"], indicator()["id"], token=dev.token))
    assert "no such object" in p.err
    status(fx("taxii", "versions", dev.org["id"], token=dev.token), 2)


def test_taxii_delete(fx, dev, files, stranger):
    obj, other = indicator()["id"], indicator()["id"]
    add_versions(fx, dev, files, indicator(id_=obj), indicator(id_=other))
    # someone outside the org may not delete from its collection: 403
    p = status(fx("taxii", "delete", dev.org["id"], obj, token=stranger.token), 3)
    assert "403" in p.err
    p = ok(fx("taxii", "delete", dev.org["id"], obj, "--version", "first", token=dev.token))
    assert "Deleted %s" % obj in p.out
    vs = js(fx("taxii", "versions", dev.org["id"], obj, "--json", token=dev.token))
    assert vs["versions"] == ["2026-02-01T00:00:00.000Z"]
    assert ok(fx("--json", "taxii", "delete", dev.org["id"], obj, token=dev.token)).out == ""
    not_found(fx("taxii", "get", dev.org["id"], "--object", obj, token=dev.token))
    p = not_found(fx("taxii", "delete", dev.org["id"], obj, token=dev.token))
    assert "no such object" in p.err
    # the other object stays
    got = js(fx("taxii", "get", dev.org["id"], "--object", other, "--json", token=dev.token))
    assert [o["id"] for o in got["objects"]] == [other]



def bundle_text(*objects, **members):
    """A STIX bundle as text: objects are already JSON text, kept as they are."""
    head = "".join('"%s": %s, ' % (k, json.dumps(v)) for k, v in members.items())
    inner = ",\n    ".join(objects)
    return ('{"type": "bundle", "id": "bundle--0e60b95c-3e54-4097-9a0a-d7d637514312", %s'
            '"objects": [\n    %s\n]}' % (head, inner))


def test_taxii_add_bundle_without_objects(fx, dev, files):
    # "objects" is optional in a STIX 2.1 bundle: sent as an envelope of none
    for text in ('{"type":"bundle","id":"bundle--0e60b95c-3e54-4097-9a0a-d7d637514312"}',
                 bundle_text()):
        f = write(files, unique("empty-bundle") + ".json", text)
        st = js(fx("--json", "taxii", "add", dev.org["id"], "--file", f, token=dev.token))
        assert st["total_count"] == 0 and st["success_count"] == 0, st
        p = ok(fx("taxii", "add", dev.org["id"], "--file", "-", stdin=text, token=dev.token))
        assert "0 of 0 stored, 0 refused" in p.out


def test_taxii_add_bundle_sends_the_objects_bytes_as_written(fx, fxd, dev, files):
    # jansson would re-encode 0.1 as 0.10000000000000001 and \u00e9 as UTF-8
    obj = indicator(name="caf\u00e9", x_score=0.1)
    text = json.dumps(obj, separators=(",", ":"))
    assert '"x_score":0.1' in text and '"caf\\u00e9"' in text
    other = json.dumps(indicator(x_score=1e-7), indent=1)
    f = write(files, unique("bundle") + ".json", bundle_text(text, other))
    st = js(fx("--json", "taxii", "add", dev.org["id"], "--file", f, token=dev.token))
    assert st["success_count"] == 2 and st["failure_count"] == 0, st
    r = dev.get(collection_url(dev.org["id"]) + "objects/%s/" % obj["id"], headers=H)
    assert r.status_code == 200, r.text
    assert text.encode() in r.content, r.content
    # the ledger leaf hashes the bytes sent
    assert st["successes"][0]["id"] == obj["id"]
    entry = dev.get("/api/v1/ledger/entries/%d" % st["successes"][0]["x_fx_leaf_index"])
    assert entry.status_code == 200, entry.text
    leaf = json.loads(base64.b64decode(entry.json()["leaf"]))
    assert leaf["record_id"] == obj["id"]
    assert leaf["content_sha256"].lower() == hashlib.sha256(text.encode()).hexdigest()
    r = dev.get(collection_url(dev.org["id"]) + "objects/%s/" % json.loads(other)["id"],
                headers=H)
    assert other.encode() in r.content, r.content


def test_taxii_add_bundle_refused_before_sending(fx, dev, files):
    obj = json.dumps(indicator())
    dup = bundle_text(obj).replace('"objects":', '"objects": [], "objects":')
    broken = bundle_text(obj)[:-2]
    not_a_list = '{"type": "bundle", "id": "bundle--0e60b95c-3e54-4097-9a0a-d7d637514312", ' \
                 '"objects": {}}'
    for text in (dup, broken, not_a_list):
        p = status(fx("taxii", "add", dev.org["id"], "--file",
                      write(files, unique("bad-bundle") + ".json", text), token=dev.token), 1)
        assert p.out == "" and p.err.startswith("fx: "), p.err
    got = js(fx("taxii", "get", dev.org["id"], "--id", json.loads(obj)["id"], "--json",
                token=dev.token))
    assert got.get("objects", []) == []


def test_taxii_add_envelope_file_is_sent_as_it_is(fx, dev, files):
    obj = indicator(x_score=0.1)
    text = '{"objects": [%s]}' % json.dumps(obj, separators=(",", ":"))
    st = js(fx("--json", "taxii", "add", dev.org["id"], "--file",
               write(files, unique("env") + ".json", text), token=dev.token))
    assert st["success_count"] == 1, st
    r = dev.get(collection_url(dev.org["id"]) + "objects/%s/" % obj["id"], headers=H)
    assert b'"x_score":0.1}' in r.content, r.content
    st = js(fx("--json", "taxii", "add", dev.org["id"], "--file",
               write(files, unique("env") + ".json", '{"objects": []}'), token=dev.token))
    assert st["total_count"] == 0
