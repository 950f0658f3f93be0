"""fx at the edges of its command line and of the network (docs/CLI.md).

What is checked: the public ledger commands never send a token; arguments
that are not UTF-8, empty ids, header values with line breaks and malformed
URLs are the command line's fault (exit 2), never a crash or a server's; an
answer that is not HTTP is a broken answer (4), not a failed connection (5);
`fx login` finds the URL as every command does; `--` ends the options before
the command; `fx --json screening` prints the served bytes; a replayed token
creation shows the server's note and no secret.
"""
import base64
import hashlib
import http.server
import json
import os
import socket
import subprocess
import tempfile
import threading

import pytest

from fxharness import FX, org_client, unique, user_client
from fxreview import Community, submitted


@pytest.fixture(scope="module")
def home():
    d = tempfile.mkdtemp(prefix="fxcli-edges-")
    yield d
    subprocess.run(["rm", "-rf", d])


def run(home, *args, env=None):
    e = {k: v for k, v in os.environ.items() if not k.startswith("FX_")}
    e.update(HOME=home, XDG_CONFIG_HOME=os.path.join(home, ".config"))
    e.update(env or {})
    p = subprocess.run([FX] + list(args), env=e, capture_output=True, timeout=60)
    p.out = p.stdout.decode("utf-8", errors="replace")
    p.err = p.stderr.decode("utf-8", errors="replace")
    return p


def as_admin(fxd):
    return {"FX_URL": fxd.url, "FX_TOKEN": fxd.init_info["token"]}


class Recorder(http.server.BaseHTTPRequestHandler):
    """Answers every GET with a fixed body and keeps the request headers."""
    seen = []

    def do_GET(self):
        Recorder.seen.append(dict(self.headers))
        body = b"-----BEGIN PUBLIC KEY-----\nnot a key\n-----END PUBLIC KEY-----\n"
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def test_ledger_commands_send_no_token(home):
    srv = http.server.HTTPServer(("127.0.0.1", 0), Recorder)
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    try:
        url = "http://127.0.0.1:%d" % srv.server_address[1]
        Recorder.seen.clear()
        run(home, "ledger", "key", env={"FX_URL": url, "FX_TOKEN": "fx_" + "a" * 43})
        # a token fx would refuse to send is not even read
        run(home, "ledger", "key", env={"FX_URL": url, "FX_TOKEN": "bad token"})
        assert len(Recorder.seen) == 2, Recorder.seen
        assert not any("Authorization" in h for h in Recorder.seen), Recorder.seen
    finally:
        srv.shutdown()
        srv.server_close()


def test_arguments_that_are_not_utf8_are_refused_by_position(fxd, home):
    bad = b"Bad\xffName"
    p = subprocess.run([FX.encode(), b"org", b"create", bad, b"--kind", b"developer"],
                       env=dict(os.environ, HOME=home, **as_admin(fxd)), capture_output=True,
                       timeout=60)
    assert p.returncode == 2, p
    assert b"argument 3 is not UTF-8" in p.stderr, p.stderr


def test_a_terms_file_that_is_not_utf8_is_named(fxd, home, tmp_path):
    c = Community(fxd)
    latin1 = tmp_path / "terms.txt"
    latin1.write_bytes("Conditions d'acc\u00e8s".encode("latin-1"))
    p = run(home, "grant", "propose", "FXN-2026-0001", "--partner", c.org("operator_partner")["id"],
            "--purpose", "p", "--starts", "2030-01-01", "--ends", "2030-02-01",
            "--terms-file", str(latin1), env={"FX_URL": fxd.url, "FX_TOKEN": c.dev.token})
    assert p.returncode == 1 and "not UTF-8" in p.err, (p.returncode, p.err)


def test_empty_ids_and_line_breaks_are_usage_errors(fxd, home):
    env = as_admin(fxd)
    p = run(home, "notice", "show", "", env=env)
    assert p.returncode == 2 and "argument 1 is empty" in p.err, (p.returncode, p.err)
    p = run(home, "--idempotency-key", "a\nb", "org", "create", unique("Org"), "--kind",
            "developer", env=env)
    assert p.returncode == 2 and "line break" in p.err, (p.returncode, p.err)


@pytest.mark.parametrize("url", ["http://", "http:///api", "http://[::1"])
def test_a_malformed_url_is_a_usage_error(home, url):
    p = run(home, "me", env={"FX_URL": url, "FX_TOKEN": "fx_" + "a" * 43})
    assert p.returncode == 2, (url, p.returncode, p.err)


def test_an_answer_that_is_not_http_is_a_broken_answer(home):
    lsock = socket.socket()
    lsock.bind(("127.0.0.1", 0))
    lsock.listen(4)

    def serve():
        for _ in range(2):
            try:
                conn, _ = lsock.accept()
            except OSError:
                return
            conn.recv(65536)
            conn.sendall(b"hello this is not http\r\n")
            conn.close()
    t = threading.Thread(target=serve, daemon=True)
    t.start()
    try:
        p = run(home, "me", env={"FX_URL": "http://127.0.0.1:%d" % lsock.getsockname()[1],
                                 "FX_TOKEN": "fx_" + "a" * 43})
        assert p.returncode == 4, (p.returncode, p.err)
    finally:
        lsock.close()


def test_login_takes_the_config_files_url(fxd, tmp_path):
    h = str(tmp_path)
    tok = fxd.init_info["token"]
    ok = run(h, "login", "--token", tok, env={"FX_URL": fxd.url})
    assert ok.returncode == 0, ok.err
    # no --url, no FX_URL: the saved URL, not the default 127.0.0.1:8080
    again = run(h, "login", "--token", tok)
    assert again.returncode == 0, again.err
    assert fxd.url in again.out
    cfg = run(h, "me")
    assert cfg.returncode == 0, cfg.err


def test_double_dash_ends_the_options(fxd, home):
    p = run(home, "--json", "--", "me", env=as_admin(fxd))
    assert p.returncode == 0, p.err
    assert json.loads(p.out)["user"]["id"]


def test_json_screening_prints_the_served_bytes(fxd, home):
    c = Community(fxd)
    n = submitted(c)
    p = run(home, "--json", "screening", n["id"], env={"FX_URL": fxd.url, "FX_TOKEN": c.dev.token})
    assert p.returncode == 0, p.err
    served = c.dev.get("notices/%s/screening" % n["id"]).content
    assert p.stdout == served
    leaves = [json.loads(base64.b64decode(r["leaf"])) for r in n["receipts"]]
    leaf = [x for x in leaves if x["kind"] == "screening"]
    assert len(leaf) == 1, leaves
    assert hashlib.sha256(p.stdout).hexdigest() == leaf[0]["content_sha256"]


def test_a_replayed_token_creation_shows_the_note_and_no_secret(fxd, home):
    admin = org_client(fxd, "developer", role="admin")
    member = user_client(fxd, fxd.admin, admin.org, "member")
    uid = member.user["id"]
    env = {"FX_URL": fxd.url, "FX_TOKEN": admin.token}
    key = unique("k")
    first = run(home, "--idempotency-key", key, "token", "create", uid, env=env)
    assert first.returncode == 0, first.err
    assert "keep the token now" in first.err
    again = run(home, "--idempotency-key", key, "token", "create", uid, env=env)
    assert again.returncode == 0, again.err
    assert "keep the token now" not in again.err
    assert "note" in again.out, again.out
