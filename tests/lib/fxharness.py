"""
fxharness: start the real fxd for end-to-end tests and talk to it.

A test module gets a running server through the module-scoped `fxd` fixture
(see tests/integration/conftest.py). Each server has its own temporary data
directory (made by `fxd init --data DIR --json`), listens on 127.0.0.1 on an
ephemeral port, and is stopped with SIGTERM at teardown: the harness then
asserts that it exited 0 and that every line it wrote to stderr is a JSON
object (SPEC §13: JSON-lines logs). A sanitizer report is not JSON, so an ASan
or UBSan finding fails the module that provoked it.

A module tunes its server with a module-level dict, for example
    FXD_OPTIONS = {"test_clock": datetime(2026, 3, 2, 12, tzinfo=timezone.utc)}
    FXD_OPTIONS = {"rate_limit": 5}
Tests that need a server of their own (kill -9, a stopped data dir) use
`start_server()` / `Server` directly.

Environment: FXD and FX name the binaries (default build/fxd, build/fx);
FX_KEEP_TMP=1 keeps the temporary directories for a post-mortem.
"""

import atexit
import datetime as _dt
import hashlib
import base64
import itertools
import json
import os
import re
import shutil
import signal
import socket
import sqlite3
import subprocess
import tempfile
import time
import uuid

import pytest
import requests

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
FXD = os.environ.get("FXD") or os.path.join(REPO, "build", "fxd")
FX = os.environ.get("FX") or os.path.join(REPO, "build", "fx")
SANITIZED = os.environ.get("FX_SANITIZE", "").upper() in ("1", "ON", "TRUE", "YES")

API = "/api/v1"
# Generous: an ASan build on a busy 2-core machine starts slowly. These are
# deadlines for polling, never expectations about speed.
START_DEADLINE = 60.0
STOP_DEADLINE = 60.0
HTTP_TIMEOUT = 60.0

_live_servers = set()


def _kill_leftovers():
    for srv in list(_live_servers):
        srv.kill()


atexit.register(_kill_leftovers)


def free_port():
    """A port that was free a moment ago: bind port 0, read it, close."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def rfc3339(dt):
    """2026-03-02T12:00:00.000Z (the form fxd writes)."""
    dt = dt.astimezone(_dt.timezone.utc)
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + "%03dZ" % (dt.microsecond // 1000)


def unique(prefix="x"):
    return "%s-%s" % (prefix, uuid.uuid4().hex[:12])


# --------------------------------------------------------------------------
# The test clock (fxd serve --test-clock FILE)


class TestClock:
    """The file fxd reads "now" from on every call. Rewritten atomically."""

    __test__ = False  # not a pytest test class

    def __init__(self, path, start):
        self.path = path
        self.set(start)

    def set(self, when):
        if isinstance(when, str):
            text = when
            self.now = None
        else:
            if when.tzinfo is None:
                when = when.replace(tzinfo=_dt.timezone.utc)
            text = rfc3339(when)
            self.now = when.astimezone(_dt.timezone.utc)
        tmp = self.path + ".tmp"
        with open(tmp, "w") as f:
            f.write(text + "\n")
        os.replace(tmp, self.path)

    def advance(self, **delta):
        self.set(self.now + _dt.timedelta(**delta))

    @property
    def today(self):
        return self.now.date()


# --------------------------------------------------------------------------
# HTTP client


_UNSET = object()


class Client:
    """A requests.Session bound to one fxd and one token.

    Paths starting with "/" are used as they are; others are relative to
    /api/v1 ("me" -> /api/v1/me). `json=` sends application/json; raw bodies go
    through `data=` with explicit headers. Extra attributes (user, org, role,
    token_id) are filled in by the helpers that create principals.
    """

    def __init__(self, base, token=None):
        # `base` is a URL, or a Server (then the client follows its restarts).
        self._base = base
        self.token = token
        self.session = requests.Session()
        self.user = None
        self.org = None
        self.role = None
        self.token_id = None

    def __repr__(self):
        kind = self.org.get("kind") if self.org else "?"
        return "<Client %s/%s>" % (kind, self.role)

    @property
    def base_url(self):
        return self._base if isinstance(self._base, str) else self._base.url

    def url(self, path):
        if path.startswith("http://") or path.startswith("https://"):
            return path
        if not path.startswith("/"):
            path = API + "/" + path
        return self.base_url + path

    def request(self, method, path, json=_UNSET, data=None, headers=None, token=_UNSET, **kw):
        h = {}
        tok = self.token if token is _UNSET else token
        if tok is not None:
            h["Authorization"] = "Bearer " + tok
        if headers:
            h.update(headers)
        h = {k: v for k, v in h.items() if v is not None}
        kw.setdefault("timeout", HTTP_TIMEOUT)
        kw.setdefault("allow_redirects", False)
        if json is not _UNSET:
            kw["json"] = json
        return self.session.request(method, self.url(path), data=data, headers=h, **kw)

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def post(self, path, json=_UNSET, **kw):
        return self.request("POST", path, json=json, **kw)

    def patch(self, path, json=_UNSET, **kw):
        return self.request("PATCH", path, json=json, **kw)

    def put(self, path, json=_UNSET, **kw):
        return self.request("PUT", path, json=json, **kw)

    def delete(self, path, **kw):
        return self.request("DELETE", path, **kw)

    def as_token(self, token):
        return Client(self._base, token)

    def list_all(self, path, params=None, limit=500):
        """Every item of a paginated list, following next_cursor."""
        params = dict(params or {})
        params["limit"] = limit
        items = []
        seen_cursors = set()
        while True:
            r = self.get(path, params=params)
            assert r.status_code == 200, describe(r)
            body = r.json()
            items.extend(body["items"])
            cur = body.get("next_cursor")
            if not cur:
                return items
            assert cur not in seen_cursors, "pagination loops on cursor %r" % cur
            seen_cursors.add(cur)
            params["cursor"] = cur


def describe(r):
    """One line for assertion messages: request, status and body."""
    req = r.request
    body = r.text
    if len(body) > 800:
        body = body[:800] + "..."
    return "%s %s -> %d %s" % (req.method, req.path_url, r.status_code, body)


def expect(r, status):
    """Assert the status and return the parsed JSON body (or None when empty)."""
    assert r.status_code == status, "expected %d: %s" % (status, describe(r))
    if not r.content:
        return None
    return r.json()


def etag_of(r):
    e = r.headers.get("ETag")
    assert e, "no ETag header: %s" % describe(r)
    return e


def problem(r, status, fields=None):
    """Assert an RFC 9457 problem document with this status; return it.

    `fields`, when given, must each be named in `errors` (JSON Pointers or
    query:NAME / header:NAME).
    """
    statuses = status if isinstance(status, (tuple, list, set)) else (status,)
    assert r.status_code in statuses, "expected %s: %s" % (
        "/".join(map(str, statuses)), describe(r))
    ctype = r.headers.get("Content-Type", "")
    assert ctype.split(";")[0].strip().lower() == "application/problem+json", (
        "problem Content-Type is %r: %s" % (ctype, describe(r)))
    body = r.json()
    assert isinstance(body, dict), describe(r)
    assert isinstance(body.get("type"), str) and body["type"], "no type: %s" % describe(r)
    assert isinstance(body.get("title"), str) and body["title"], "no title: %s" % describe(r)
    assert body.get("status") == r.status_code, "status member: %s" % describe(r)
    if "errors" in body:
        assert isinstance(body["errors"], list), describe(r)
        for e in body["errors"]:
            assert isinstance(e, dict), describe(r)
            assert isinstance(e.get("field"), str), describe(r)
            assert isinstance(e.get("message"), str) and e["message"], describe(r)
    if r.status_code == 422:
        assert body.get("errors"), "422 without errors: %s" % describe(r)
    if fields:
        named = {e["field"] for e in body.get("errors", [])}
        for f in fields:
            # A tuple means "any one of these".
            options = f if isinstance(f, tuple) else (f,)
            assert named & set(options), "field %s not named in errors %s: %s" % (
                " or ".join(options), sorted(named), describe(r))
    return body


def sha256_matches(data, claimed):
    """True when `claimed` is the SHA-256 of data, as hex or base64."""
    d = hashlib.sha256(data).digest()
    if not isinstance(claimed, str):
        return False
    return claimed.lower() in (d.hex(), ) or claimed in (
        base64.b64encode(d).decode(), base64.urlsafe_b64encode(d).decode(),
        base64.urlsafe_b64encode(d).decode().rstrip("="))


class RawResponse:
    """What raw_request() read: enough of a requests.Response for problem()."""

    def __init__(self, method, path, status, headers, content):
        self.status_code = status
        self.headers = requests.structures.CaseInsensitiveDict(headers)
        self.content = content
        self.text = content.decode("utf-8", errors="replace")
        self.request = type("Req", (), {"method": method, "path_url": path})()

    def json(self):
        return json.loads(self.content)


def raw_request(base_url, method, path, headers, body=b"", expect_continue=False, chunk=65536):
    """One HTTP/1.1 request over a plain socket.

    With expect_continue the body is held back until the server answers
    100 Continue; a final answer instead (413, 401, ...) ends the exchange
    without sending the body. Otherwise the body is sent in chunks and a
    server that stops reading (and answers early) is tolerated: the answer is
    read after the send fails.
    """
    try:
        return _raw_request(base_url, method, path, headers, body, expect_continue, chunk)
    except (ConnectionError, socket.timeout) as e:
        raise AssertionError("%s %s: no HTTP answer from fxd (%s)" % (method, path, e))


def _raw_request(base_url, method, path, headers, body, expect_continue, chunk):
    host, port = base_url.split("://", 1)[1].split(":")
    sock = socket.create_connection((host, int(port)), timeout=HTTP_TIMEOUT)
    try:
        lines = ["%s %s HTTP/1.1" % (method, path), "Host: %s:%s" % (host, port),
                 "Connection: close"]
        lines += ["%s: %s" % kv for kv in headers]
        if expect_continue:
            lines.append("Expect: 100-continue")
        head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
        reader = _SockReader(sock)
        sock.sendall(head)
        if expect_continue:
            status, hdrs = reader.head()
            if status != 100:
                return RawResponse(method, path, status, hdrs, reader.body(hdrs, method))
        try:
            for i in range(0, len(body), chunk):
                sock.sendall(body[i:i + chunk])
        except (BrokenPipeError, ConnectionResetError):
            pass
        while True:
            status, hdrs = reader.head()
            if status != 100:
                return RawResponse(method, path, status, hdrs, reader.body(hdrs, method))
    finally:
        sock.close()


class _SockReader:
    def __init__(self, sock):
        self.sock = sock
        self.buf = b""

    def _fill(self):
        data = self.sock.recv(65536)
        if not data:
            raise ConnectionError("connection closed by fxd")
        self.buf += data

    def _line(self):
        while b"\r\n" not in self.buf:
            self._fill()
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line.decode("latin-1")

    def head(self):
        status_line = self._line()
        parts = status_line.split(" ", 2)
        assert parts[0].startswith("HTTP/1."), "not an HTTP answer: %r" % status_line
        hdrs = {}
        while True:
            line = self._line()
            if not line:
                break
            k, _, v = line.partition(":")
            hdrs[k.strip()] = v.strip()
        return int(parts[1]), hdrs

    def _exact(self, n):
        while len(self.buf) < n:
            self._fill()
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def body(self, hdrs, method):
        h = {k.lower(): v for k, v in hdrs.items()}
        if method == "HEAD":
            return b""
        if "chunked" in h.get("transfer-encoding", "").lower():
            out = b""
            while True:
                size = int(self._line().split(";")[0], 16)
                if size == 0:
                    self._line()
                    return out
                out += self._exact(size)
                self._line()
        if "content-length" in h:
            return self._exact(int(h["content-length"]))
        while True:
            try:
                self._fill()
            except ConnectionError:
                out, self.buf = self.buf, b""
                return out


# --------------------------------------------------------------------------
# PostgreSQL (FX_TEST_BACKEND=postgres): one throwaway cluster per test process,
# a fresh database per Server, removed at exit.

BACKEND = os.environ.get("FX_TEST_BACKEND", "sqlite")
PG_BIN = "/usr/lib/postgresql/15/bin"


class PgCluster:
    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="fxpg-")
        self.port = free_port()
        self.as_pg = os.geteuid() == 0  # initdb refuses root: run as postgres
        if self.as_pg:
            shutil.chown(self.dir, "postgres", "postgres")
        os.chmod(self.dir, 0o700)
        self._run([PG_BIN + "/initdb", "-D", self.dir + "/data", "-U", "postgres", "-A", "trust",
                   "-E", "UTF8", "--no-sync"])
        self._run([PG_BIN + "/pg_ctl", "-D", self.dir + "/data", "-l", self.dir + "/server.log",
                   "-w", "-t", "60", "-o",
                   "-k %s -p %d -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=400"
                   % (self.dir, self.port), "start"])
        self.n = 0

    def _run(self, cmd):
        if self.as_pg:
            cmd = ["runuser", "-u", "postgres", "--"] + cmd
        r = subprocess.run(cmd, capture_output=True, timeout=120)
        assert r.returncode == 0, "%s failed: %s %s" % (cmd, r.stdout, r.stderr)

    def url(self, db="postgres"):
        return "postgresql://postgres@127.0.0.1:%d/%s" % (self.port, db)

    def new_database(self):
        self.n += 1
        name = "fx_%d_%s" % (self.n, uuid.uuid4().hex[:8])
        self._run(["psql", "-q", "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres",
                   "-c", "CREATE DATABASE %s" % name])
        return self.url(name)

    def pg_ctl(self, action):
        """stop / start the cluster (tests of the store going away and coming back)."""
        args = [PG_BIN + "/pg_ctl", "-D", self.dir + "/data", "-w", "-t", "60"]
        if action == "stop":
            args += ["-m", "fast", "stop"]
        else:
            args += ["-l", self.dir + "/server.log", "-o",
                     "-k %s -p %d -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=400"
                     % (self.dir, self.port), "start"]
        self._run(args)

    def destroy(self):
        try:
            self.pg_ctl("stop")
        except AssertionError:
            pass
        shutil.rmtree(self.dir, ignore_errors=True)


_pg = None


def pg_cluster():
    """The process's throwaway cluster, started on first use."""
    global _pg
    if _pg is None:
        _pg = PgCluster()
        atexit.register(_pg.destroy)
    return _pg


# The server


class Server:
    """One fxd: a data directory and, while started, a serving process."""

    def __init__(self, workdir, test_clock=None, rate_limit=None, extra_args=()):
        self.workdir = workdir
        self.data = os.path.join(workdir, "data")
        self.proc = None
        self.port = None
        self.url = None
        self.starts = 0
        self.log_paths = []
        self.extra_args = list(extra_args)
        self.rate_limit = rate_limit
        self.clock = None
        if test_clock is not None:
            self.clock = TestClock(os.path.join(workdir, "clock"), test_clock)
        self.init_info = None
        self.admin = None

    # -- lifecycle --------------------------------------------------------

    def init(self):
        cmd = [FXD, "init", "--data", self.data, "--json"]
        if BACKEND == "postgres":
            # the data directory remembers the URL (DATA/db-url) for every later command
            cmd += ["--db", pg_cluster().new_database()]
        r = subprocess.run(cmd,
                           capture_output=True, timeout=STOP_DEADLINE)
        assert r.returncode == 0, "fxd init failed (%d): %s %s" % (
            r.returncode, r.stdout.decode(errors="replace"), r.stderr.decode(errors="replace"))
        text = r.stdout.decode().strip()
        try:
            info = json.loads(text)
        except ValueError:
            raise AssertionError("fxd init --json printed %r" % text)
        for k in ("org_id", "user_id", "token", "ledger_public_key"):
            assert k in info, "fxd init --json lacks %s: %r" % (k, info)
        self.init_info = info
        return info

    def args(self, port):
        a = [FXD, "serve", "--data", self.data, "--listen", "127.0.0.1:%d" % port]
        if self.clock:
            a += ["--test-clock", self.clock.path]
        if self.rate_limit is not None:
            a += ["--rate-limit", str(self.rate_limit)]
        return a + self.extra_args

    def start(self):
        """Start serving and poll /healthz until it answers."""
        assert self.proc is None, "already started"
        last_err = None
        for _attempt in range(3):
            port = free_port()
            self.starts += 1
            log = os.path.join(self.workdir, "fxd-%d.stderr" % self.starts)
            out = os.path.join(self.workdir, "fxd-%d.stdout" % self.starts)
            self.log_paths.append(log)
            with open(log, "wb") as ferr, open(out, "wb") as fout:
                self.proc = subprocess.Popen(self.args(port), stdout=fout, stderr=ferr,
                                             stdin=subprocess.DEVNULL)
            _live_servers.add(self)
            self.port = port
            self.url = "http://127.0.0.1:%d" % port
            if self._wait_ready():
                break
            # It exited before answering: most likely the port was taken in the
            # meantime. Try another port; report the last failure otherwise.
            rc = self.proc.returncode
            last_err = "fxd serve exited %s before answering; stderr:\n%s" % (rc, self.stderr_text())
            _live_servers.discard(self)
            self.proc = None
        else:
            raise AssertionError(last_err)
        if self.init_info and self.admin is None:
            self.admin = self.client(self.init_info["token"])
        return self

    def _wait_ready(self):
        deadline = time.monotonic() + START_DEADLINE
        s = requests.Session()
        try:
            while time.monotonic() < deadline:
                if self.proc.poll() is not None:
                    return False
                try:
                    r = s.get(self.url + "/healthz", timeout=5)
                    if r.status_code == 200:
                        return True
                except requests.RequestException:
                    pass
                time.sleep(0.02)  # polling interval, not synchronisation
        finally:
            s.close()
        self.kill()
        raise AssertionError("fxd did not answer /healthz within %ds; stderr:\n%s" % (
            START_DEADLINE, self.stderr_text()))

    def stop(self):
        """SIGTERM; assert a clean exit (0) and JSON-lines stderr."""
        if self.proc is None:
            return
        proc = self.proc
        proc.send_signal(signal.SIGTERM)
        try:
            rc = proc.wait(timeout=STOP_DEADLINE)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            self.proc = None
            _live_servers.discard(self)
            raise AssertionError("fxd did not exit within %ds of SIGTERM; stderr:\n%s" % (
                STOP_DEADLINE, self.stderr_text()))
        self.proc = None
        _live_servers.discard(self)
        assert rc == 0, "fxd exited %d after SIGTERM; stderr tail:\n%s" % (rc, self.stderr_text()[-6000:])
        self.check_log(self.log_paths[-1])

    def kill(self):
        """SIGKILL, no questions asked (crash simulation, or cleanup)."""
        if self.proc is None:
            return
        try:
            self.proc.kill()
        except ProcessLookupError:
            pass
        self.proc.wait()
        self.proc = None
        _live_servers.discard(self)

    def restart(self):
        self.stop()
        return self.start()

    def cleanup(self):
        self.kill()
        if not os.environ.get("FX_KEEP_TMP"):
            shutil.rmtree(self.workdir, ignore_errors=True)

    # -- the database -----------------------------------------------------

    def sql(self, statements):
        """Runs SQL statements on the server's database beside fxd (SQLite in WAL mode
        lets another process write; PostgreSQL through psql), or while it is stopped."""
        if BACKEND == "sqlite":
            db = sqlite3.connect(os.path.join(self.data, "fx.db"), timeout=30)
            try:
                db.executescript(statements)
            finally:
                db.close()
            return
        url = open(os.path.join(self.data, "db-url")).read().strip()
        r = subprocess.run([PG_BIN + "/psql", "-q", "-v", "ON_ERROR_STOP=1", url, "-c",
                            statements], capture_output=True, timeout=60)
        assert r.returncode == 0, r.stderr

    # -- logs -------------------------------------------------------------

    def stderr_text(self):
        if not self.log_paths:
            return ""
        with open(self.log_paths[-1], "rb") as f:
            return f.read().decode(errors="replace")

    def log_lines(self):
        """Every JSON log line written so far, across restarts."""
        out = []
        for p in self.log_paths:
            with open(p, "rb") as f:
                for line in f.read().decode(errors="replace").splitlines():
                    if line.strip():
                        try:
                            out.append(json.loads(line))
                        except ValueError:
                            pass
        return out

    @staticmethod
    def check_log(path):
        with open(path, "rb") as f:
            raw = f.read()
        bad = []
        for i, line in enumerate(raw.decode(errors="replace").splitlines(), 1):
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except ValueError:
                bad.append((i, line))
                continue
            if not isinstance(obj, dict):
                bad.append((i, line))
        assert not bad, "fxd stderr has %d non-JSON-object lines, first ones:\n%s" % (
            len(bad), "\n".join("%d: %s" % b for b in bad[:40]))

    # -- clients ----------------------------------------------------------

    def client(self, token=None):
        return Client(self, token)

    def anon(self):
        return Client(self, None)


def start_server(test_clock=None, rate_limit=None, extra_args=()):
    """init + serve in a fresh temp dir; the caller must stop() and cleanup()."""
    workdir = tempfile.mkdtemp(prefix="fxtest-")
    srv = Server(workdir, test_clock=test_clock, rate_limit=rate_limit, extra_args=extra_args)
    try:
        srv.init()
        srv.start()
        me = expect(srv.admin.get("me"), 200)
        srv.admin.user = me["user"]
        srv.admin.org = me["org"]
        srv.admin.role = me["user"]["role"]
    except BaseException:
        srv.cleanup()
        raise
    return srv


@pytest.fixture(scope="module")
def fxd(request):
    """A running fxd shared by the tests of one module.

    Options come from the module's FXD_OPTIONS dict (test_clock, rate_limit,
    extra_args). Teardown stops it with SIGTERM and checks the exit.
    """
    if not os.path.exists(FXD):
        pytest.fail("fxd binary not found at %s (set FXD)" % FXD)
    opts = dict(getattr(request.module, "FXD_OPTIONS", {}))
    srv = start_server(**opts)
    try:
        yield srv
        srv.stop()
    finally:
        srv.cleanup()


@pytest.fixture(scope="module")
def admin(fxd):
    """The coordinator admin made by fxd init."""
    return fxd.admin


# --------------------------------------------------------------------------
# Principals: orgs, users, tokens

_seq = itertools.count(1)

MISSIONS = ("civilian", "national_security")
SECTORS = ("chemical", "commercial_facilities", "communications", "critical_manufacturing",
           "dams", "defense_industrial_base", "emergency_services", "energy",
           "financial_services", "food_agriculture", "government_facilities",
           "healthcare_public_health", "information_technology", "nuclear",
           "transportation", "water_wastewater")


def create_org(admin, kind, name=None, mission=None, sector=None):
    body = {"name": name or unique(kind), "kind": kind}
    if kind == "agency":
        body["mission"] = mission or "civilian"
    if kind == "operator":
        body["sector"] = sector or "energy"
    org = expect(admin.post("orgs", json=body), 201)
    assert org["kind"] == kind, org
    return org


def create_user(caller, org_id, role, email=None, name=None):
    n = next(_seq)
    body = {"email": email or "u%d-%s@example.test" % (n, uuid.uuid4().hex[:8]),
            "name": name or "User %d" % n, "role": role}
    return expect(caller.post("orgs/%s/users" % org_id, json=body), 201)


def create_token(caller, user_id, **body):
    tok = expect(caller.post("users/%s/tokens" % user_id, json=body), 201)
    assert tok["token"].startswith("fx_"), tok
    return tok


def user_client(server, caller, org, role, email=None):
    """A new user with `role` in `org` (a dict), and a Client holding its token."""
    user = create_user(caller, org["id"], role, email=email)
    tok = create_token(caller, user["id"])
    c = server.client(tok["token"])
    c.user, c.org, c.role, c.token_id = user, org, role, tok["id"]
    return c


def org_client(server, kind, role="admin", mission=None, sector=None, name=None):
    """A new org of `kind` and a user of `role` in it (made by the coordinator admin)."""
    org = create_org(server.admin, kind, name=name, mission=mission, sector=sector)
    return user_client(server, server.admin, org, role)


# --------------------------------------------------------------------------
# Notices


def notice_body(release=None, **over):
    """A complete, valid notice. `release` is a date (default: 200 days from today, UTC)."""
    if release is None:
        release = _dt.datetime.now(_dt.timezone.utc).date() + _dt.timedelta(days=200)
    body = {
        "model_name": unique("Model"),
        "model_version": "1.0",
        "planned_release_date": release.isoformat() if hasattr(release, "isoformat") else release,
        "description": "A general-purpose frontier model for testing.",
        "training_compute_flop": 3.5e25,
        "parameter_count": 400000000000,
        "modalities": ["text", "code"],
        "release_channels": ["api", "enterprise"],
        "evaluations": [{"domain": "cyber", "benchmark": "cybench", "score": 0.31,
                         "max_score": 1, "run_date": "2026-01-15", "notes": "internal run"}],
        "safeguards": "Refusal training and staged rollout.",
        "contact": {"name": "Pat Example", "email": "pat@example.test"},
    }
    for k, v in over.items():
        if v is _DROP:
            body.pop(k, None)
        else:
            body[k] = v
    return body


_DROP = object()
DROP = _DROP  # notice_body(description=DROP) leaves the field out


def create_notice(client, submit=False, release=None, **over):
    """POST a notice; returns (notice, etag)."""
    body = notice_body(release=release, **over)
    if submit:
        body["submit"] = True
    r = client.post("notices", json=body)
    n = expect(r, 201)
    return n, etag_of(r)


def get_notice(client, nid):
    r = client.get("notices/%s" % nid)
    return expect(r, 200), etag_of(r)


def files_containing(root, needles):
    """{needle: [paths]} for every needle (bytes) found in any file under root."""
    found = {}
    for dirpath, _dirs, files in os.walk(root):
        for fn in files:
            p = os.path.join(dirpath, fn)
            try:
                with open(p, "rb") as f:
                    data = f.read()
            except OSError:
                continue
            for n in needles:
                if n in data:
                    found.setdefault(n, []).append(p)
    return found


REF_RE = re.compile(r"^FXN-(\d{4})-(\d{4,})$")
