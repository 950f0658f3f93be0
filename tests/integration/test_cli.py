"""fx, the command-line client, against a real fxd (docs/CLI.md).

Exit statuses: 0 ok, 1 local file problem, 2 usage, 3 server refused (4xx),
4 server failed (5xx), 5 no connection. FX_URL and FX_TOKEN name the server
and the token; --json prints the server's JSON answer.
"""
import hashlib
import json
import os
import subprocess
import tempfile

import pytest

from fxharness import FX, REF_RE, free_port, notice_body, org_client, unique, user_client


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
    # Human output of token create shows the token (it is shown only once).
    tok2 = ok(fx("token", "create", user["id"]))
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
