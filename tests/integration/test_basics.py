"""Operational endpoints, the caller, authentication and the error shape (SPEC §12, API.md)."""
import contextlib
import hashlib
import json
import os
import re
import secrets
import signal
import socket
import subprocess
import time

import pytest
import requests

from fxharness import (API, BACKEND, FXD, expect, free_port, org_client, problem, raw_request,
                       start_server)


def test_healthz_answers_without_auth(fxd):
    r = fxd.anon().get("/healthz")
    assert expect(r, 200)["status"] == "ok"
    assert r.headers["Content-Type"].split(";")[0] == "application/json"


METRIC_LINE = re.compile(
    r'^[a-zA-Z_:][a-zA-Z0-9_:]*'                       # name
    r'(\{([a-zA-Z_][a-zA-Z0-9_]*="([^"\\]|\\.)*",?)*\})?'  # labels
    r' +[-+]?([0-9.]+([eE][-+]?[0-9]+)?|NaN|[-+]?Inf)'  # value
    r'( +-?[0-9]+)?$')                                  # timestamp


def test_metrics_is_prometheus_text(fxd):
    fxd.admin.get("me")  # at least one API request has been counted
    r = fxd.anon().get("/metrics")
    assert r.status_code == 200, r.text
    assert r.headers["Content-Type"].startswith("text/plain"), r.headers["Content-Type"]
    samples = 0
    typed = set()
    for line in r.text.splitlines():
        if not line.strip():
            continue
        if line.startswith("# TYPE "):
            parts = line.split()
            assert len(parts) == 4 and parts[3] in (
                "counter", "gauge", "histogram", "summary", "untyped"), line
            typed.add(parts[2])
            continue
        if line.startswith("# HELP ") or line.startswith("#"):
            continue
        assert METRIC_LINE.match(line), "not a Prometheus sample line: %r" % line
        samples += 1
    assert samples > 0, "no samples in /metrics"
    if BACKEND == "sqlite":  # the WAL's size and how often it was copied back and restarted
        for name in ("fx_sqlite_wal_pages", "fx_sqlite_checkpoints_total",
                     "fx_sqlite_wal_restarts_total", "fx_sqlite_fullscan_steps_total"):
            assert re.search(r"^%s \d+$" % name, r.text, re.M), name
    # every store: writes, their transactions, and where their time went
    for name in ("fx_store_write_jobs_total", "fx_store_write_batches_total"):
        assert re.search(r"^%s \d+$" % name, r.text, re.M), name
    for stage in ("queued", "batch", "durable", "wakeup"):
        assert re.search(r'^fx_store_write_seconds_total\{stage="%s"\} [0-9.]+$' % stage,
                         r.text, re.M), stage
    assert typed, "no # TYPE lines in /metrics"


def test_openapi_is_served(fxd):
    r = fxd.anon().get(API + "/openapi.json")
    doc = expect(r, 200)
    assert str(doc.get("openapi", "")).startswith("3.1"), doc.get("openapi")
    assert "/notices" in str(doc.get("paths", {}).keys()), "notices missing from OpenAPI paths"


def test_me_is_the_init_admin(fxd):
    me = expect(fxd.admin.get("me"), 200)
    info = fxd.init_info
    assert me["user"]["id"] == info["user_id"]
    assert me["user"]["role"] == "admin"
    assert me["org"]["id"] == info["org_id"]
    assert me["org"]["kind"] == "coordinator"
    for k in ("id", "org_id", "email", "name", "role", "created_at"):
        assert k in me["user"], k
    for k in ("id", "name", "kind", "mission", "sector", "created_at"):
        assert k in me["org"], k


def test_me_for_a_developer_member(fxd):
    c = org_client(fxd, "developer", role="member")
    me = expect(c.get("me"), 200)
    assert me["user"]["id"] == c.user["id"]
    assert me["user"]["role"] == "member"
    assert me["org"]["id"] == c.org["id"]
    assert me["org"]["kind"] == "developer"
    assert "token" not in me and "token_hash" not in me["user"]


BAD_AUTH = [
    pytest.param(None, id="no-header"),
    pytest.param("Bearer", id="scheme-only"),
    pytest.param("Bearer ", id="empty-token"),
    pytest.param("Bearer fx_", id="prefix-only"),
    pytest.param("Bearer fx_" + secrets.token_urlsafe(32), id="unknown-token"),
    pytest.param("Bearer not-an-fx-token", id="garbage"),
    pytest.param("Bearer " + "fx_" + "A" * 5000, id="very-long"),
]


@pytest.mark.parametrize("auth", BAD_AUTH)
def test_401_without_a_valid_token(fxd, auth):
    c = fxd.anon()
    r = c.get("me", headers={"Authorization": auth})
    problem(r, 401)
    assert r.headers.get("WWW-Authenticate", "").lower().startswith("bearer"), r.headers


def test_401_when_the_real_token_is_sent_with_another_scheme(fxd):
    r = fxd.anon().get("me", headers={"Authorization": "Token " + fxd.init_info["token"]})
    problem(r, 401)


def test_401_on_writes_too(fxd):
    r = fxd.anon().post("orgs", json={"name": "x", "kind": "developer"})
    problem(r, 401)


def test_problem_shape_on_404(fxd):
    r = fxd.admin.get("no-such-resource")
    body = problem(r, 404)
    assert body["type"].startswith("http") or body["type"] == "about:blank", body


def test_problem_shape_on_unknown_notice(fxd):
    problem(fxd.admin.get("notices/0190a000-0000-7000-8000-000000000000"), 404)


def test_problem_shape_on_422_names_every_field(fxd):
    r = fxd.admin.post("orgs", json={"name": 7, "kind": "bank", "colour": "red"})
    body = problem(r, 422, fields=["/name", "/kind", "/colour"])
    assert len(body["errors"]) >= 3


def test_problem_shape_on_400(fxd):
    r = fxd.admin.post("orgs", data=b'{"name": "x",', headers={"Content-Type": "application/json"})
    problem(r, 400)


def test_problem_shape_on_405_with_allow(fxd):
    r = fxd.admin.delete("me")
    problem(r, 405)
    assert "GET" in r.headers.get("Allow", ""), r.headers


def test_errors_are_never_html(fxd):
    for path in ("/api/v1/../../etc/passwd", "/api/v1/%00", "/api/v1/notices/%ff%fe",
                 "/api/v1/" + "a/" * 600):
        r = fxd.admin.get(path)
        assert r.status_code >= 400, path
        ctype = r.headers.get("Content-Type", "")
        assert "html" not in ctype, (path, ctype)
        if r.status_code < 500:
            assert ctype.startswith("application/problem+json"), (path, ctype, r.text[:200])


@pytest.mark.parametrize("pad", [16 * 1024, 30000])
def test_oversized_headers_are_refused_as_problems(fxd, pad):
    # past 16 KiB of headers, and up to about 31 KiB (libmicrohttpd's pool: decision 0004)
    r = raw_request(fxd.url, "GET", "/api/v1/me",
                    [("Authorization", "Bearer " + fxd.init_info["token"]), ("X-Padding", "a" * pad)])
    assert b"<html" not in r.content.lower(), "HTML error page: %r" % r.content[:200]
    problem(r, 431)
    expect(fxd.admin.get("me"), 200)


def test_headers_up_to_the_limit_are_served_on_a_kept_connection(fxd):
    host, port = fxd.url.split("://")[1].split(":")
    pad = "a" * (16 * 1024 - 200)
    with socket.create_connection((host, int(port)), timeout=30) as s:
        for _ in range(3):
            s.sendall(("GET /api/v1/me HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\n"
                       "X-Padding: %s\r\n\r\n" % (fxd.init_info["token"], pad)).encode())
            head = b""
            while b"\r\n\r\n" not in head:
                chunk = s.recv(65536)
                assert chunk, "connection closed after %r" % head[:200]
                head += chunk
            assert head.startswith(b"HTTP/1.1 200 "), head[:200]
            length = int(re.search(rb"(?i)\r\ncontent-length: *(\d+)", head).group(1))
            body = head.split(b"\r\n\r\n", 1)[1]
            while len(body) < length:
                body += s.recv(65536)
            assert b"close" not in head.split(b"\r\n\r\n")[0].lower(), head[:300]


def test_headers_beyond_the_pool_do_not_hurt_the_server(fxd):
    # libmicrohttpd's own refusal (decision 0004): it may close before reading them all
    host, port = fxd.url.split("://")[1].split(":")
    with socket.create_connection((host, int(port)), timeout=30) as s:
        try:
            s.sendall(b"GET /api/v1/me HTTP/1.1\r\nHost: x\r\nX-Padding: " + b"a" * 70000 + b"\r\n\r\n")
            s.recv(65536)
        except ConnectionError:
            pass
    expect(fxd.admin.get("me"), 200)


@pytest.mark.parametrize("garbage", [b"GARBAGE\r\n\r\n", b"GET / HTTP/9.9\r\n\r\n", b"\x16\x03\x01\x02\x00\x01",
                                     b"GET /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\n\r\n",
                                     b"POST /api/v1/orgs HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n"
                                     b"Transfer-Encoding: chunked\r\n\r\n"])
def test_protocol_garbage_does_not_hurt_the_server(fxd, garbage):
    host, port = fxd.url.split("://")[1].split(":")
    with socket.create_connection((host, int(port)), timeout=30) as s:
        s.sendall(garbage)
    # Whatever it made of that, it still serves.
    expect(fxd.anon().get("/healthz"), 200)


def test_test_clock_is_refused_off_loopback(fxd):
    clock = os.path.join(fxd.workdir, "clock-offloopback")
    with open(clock, "w") as f:
        f.write("2026-01-01T00:00:00Z\n")
    p = subprocess.Popen([FXD, "serve", "--data", fxd.data, "--listen", "0.0.0.0:%d" % free_port(),
                          "--test-clock", clock], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        _, err = p.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        p.kill()
        p.communicate()
        pytest.fail("fxd served with --test-clock on 0.0.0.0")
    assert p.returncode != 0
    lines = [json.loads(x) for x in err.decode().splitlines() if x.strip()]
    assert any("clock" in json.dumps(x) for x in lines), err


@pytest.mark.parametrize("value", ["0", "-1", "abc", "1000001", ""])
def test_a_bad_max_connections_is_refused_before_serving(fxd, value):
    p = subprocess.run([FXD, "serve", "--data", fxd.data, "--listen", "127.0.0.1:%d" % free_port(),
                        "--max-connections", value], capture_output=True, timeout=60)
    assert p.returncode == 2, (p.returncode, p.stderr)
    assert b"usage" in p.stderr, p.stderr


def test_a_second_server_on_a_taken_port_does_not_start(fxd, tmp_path):
    # fxd's own listening socket has no SO_REUSEPORT: two servers never share a port (decision 0016)
    data = str(tmp_path / "other")
    subprocess.run([FXD, "init", "--data", data, "--json"], check=True, capture_output=True, timeout=60)
    listen = fxd.url.split("://")[1]
    p = subprocess.run([FXD, "serve", "--data", data, "--listen", listen], capture_output=True, timeout=60)
    assert p.returncode != 0
    lines = [json.loads(x) for x in p.stderr.decode().splitlines() if x.strip()]
    assert any(x.get("msg") == "cannot open the listening socket" and "in use" in x.get("error", "")
               for x in lines), p.stderr
    expect(fxd.admin.get("me"), 200)


def test_connections_past_the_limit_wait_and_are_served_later():
    # decision 0016: the acceptor stops at --max-connections and the clients beyond wait in
    # the backlog; libmicrohttpd's own limit, which could block one of its threads, is never met
    srv = start_server(extra_args=("--threads", "2", "--max-connections", "20"))
    host, port = srv.url.split("://")[1].split(":")
    idle = []
    try:
        for _ in range(25):
            idle.append(socket.create_connection((host, int(port)), timeout=30))
        time.sleep(0.5)
        auth = {"Authorization": "Bearer " + srv.init_info["token"]}
        with pytest.raises(requests.exceptions.Timeout):  # a new connection waits in the backlog
            requests.get(srv.url + "/api/v1/me", headers=auth, timeout=1)
        for s in idle[:10]:
            s.close()
        del idle[:10]
        for _ in range(5):  # new connections are served again
            expect(requests.get(srv.url + "/api/v1/me", headers=auth, timeout=30), 200)
        srv.stop()  # with idle connections still open: a clean exit, no thread left blocked
    finally:
        for s in idle:
            s.close()
        srv.cleanup()


@contextlib.contextmanager
def own_server(tmp_path, host, *serve_args):
    """fxd init and serve on HOST at a free port; yields (port, admin token, stderr holder).
    Leaving the block stops it with SIGTERM and asserts a clean exit."""
    data = str(tmp_path / "data")
    init = subprocess.run([FXD, "init", "--data", data, "--json"], check=True, capture_output=True,
                          timeout=60)
    port = free_port()
    p = subprocess.Popen([FXD, "serve", "--data", data, "--listen", "%s:%d" % (host, port)]
                         + list(serve_args), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    out = {}
    try:
        yield port, json.loads(init.stdout)["token"], out
    finally:
        p.send_signal(signal.SIGTERM)
        try:
            _, out["stderr"] = p.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            p.kill()
            p.communicate()
            raise
    assert p.returncode == 0, out["stderr"]


def wait_up(get, url):
    for _ in range(100):
        try:
            get(url + "/healthz", timeout=5)
            return
        except requests.exceptions.SSLError:
            raise
        except requests.ConnectionError:
            time.sleep(0.1)


def test_ipv6_listen_address(tmp_path):
    try:
        probe = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
        probe.bind(("::1", 0))
        probe.close()
    except OSError:
        pytest.skip("no IPv6 loopback on this machine")
    with own_server(tmp_path, "[::1]") as (port, token, _):
        url = "http://[::1]:%d" % port
        wait_up(requests.get, url)
        r = requests.get(url + "/api/v1/me", headers={"Authorization": "Bearer " + token}, timeout=30)
        assert r.status_code == 200, r.text


def test_tls_serves_and_stops_cleanly(tmp_path):
    cert, key = str(tmp_path / "cert.pem"), str(tmp_path / "key.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
                    "-nodes", "-keyout", key, "-out", cert, "-days", "2", "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1"], check=True, capture_output=True, timeout=60)
    with own_server(tmp_path, "127.0.0.1", "--tls-cert", cert, "--tls-key", key) as (port, token, out):
        url = "https://127.0.0.1:%d" % port
        with requests.Session() as s:
            # verify per request: REQUESTS_CA_BUNDLE in the environment overrides the session's
            wait_up(lambda u, **kw: s.get(u, verify=cert, **kw), url)
            for _ in range(5):  # on one session: the acceptor hands TLS connections over too
                r = s.get(url + "/api/v1/me", headers={"Authorization": "Bearer " + token}, timeout=30,
                          verify=cert)
                assert r.status_code == 200, r.text
                assert r.json()["user"]["role"] == "admin"
        # plain HTTP on the TLS port gets no answer that looks like one of ours
        with pytest.raises(requests.RequestException):
            requests.get("http://127.0.0.1:%d/healthz" % port, timeout=5).raise_for_status()
    assert b'"scheme":"https"' in out["stderr"], out["stderr"]


def test_init_refuses_an_initialised_data_dir(fxd):
    def snapshot():
        out = {}
        for fn in sorted(os.listdir(fxd.data)):
            p = os.path.join(fxd.data, fn)
            if os.path.isfile(p) and not fn.startswith("fx.db"):
                with open(p, "rb") as f:
                    out[fn] = hashlib.sha256(f.read()).hexdigest()
        return out
    before = snapshot()
    p = subprocess.run([FXD, "init", "--data", fxd.data, "--json"], capture_output=True, timeout=60)
    assert p.returncode != 0, p.stdout
    assert b"token" not in p.stdout
    assert snapshot() == before, "keys changed by a second init"
    expect(fxd.admin.get("me"), 200)


UUID7 = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
UTC_TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?Z$")


def test_ids_are_uuidv7_and_times_rfc3339_utc(fxd):
    c = org_client(fxd, "developer", role="member")
    tok = expect(c.post("users/%s/tokens" % c.user["id"], json={}), 201)
    n = expect(c.post("notices", json={"model_name": "ids"}), 201)
    for obj, times in ((c.org, ["created_at"]), (c.user, ["created_at"]),
                       (tok, ["created_at", "expires_at"]), (n, ["created_at", "updated_at"])):
        assert UUID7.match(obj["id"]), obj["id"]
        for t in times:
            assert UTC_TIME.match(obj[t]), (t, obj[t])
