"""Confidentiality at rest (SPEC §11): the data directory alone reveals no notice text.

Every file under the data directory (the SQLite database, its WAL and shm, keys,
anything else) is searched for distinctive strings from notice bodies, while
fxd runs and again after it has stopped (when the WAL has been checkpointed).
"""
import os
import stat
import subprocess
import uuid

import pytest

from fxharness import (FXD, create_notice, expect, files_containing, free_port, notice_body,
                       org_client, start_server, unique)

MARK = uuid.uuid4().hex[:16]
SECRETS = {
    "model_name": "Zephyrine-%s" % MARK,
    "model_version": "v-%s-rc" % MARK,
    "description": "Quasar-lattice reasoning engine %s with undisclosed capabilities" % MARK,
    "safeguards": "Tripwire canaries %s on the weights" % MARK,
    "contact": {"name": "Ottoline %s" % MARK, "email": "ottoline.%s@lab.example" % MARK},
    "evaluations": [{"domain": "bio", "benchmark": "bench-%s" % MARK, "score": 0.7,
                     "notes": "uplift note %s" % MARK}],
}
AMENDED = "Amended-secret-%s" % MARK


def needles():
    texts = [SECRETS["model_name"], SECRETS["model_version"], SECRETS["description"],
             SECRETS["safeguards"], SECRETS["contact"]["name"], SECRETS["contact"]["email"],
             "bench-%s" % MARK, "uplift note %s" % MARK, AMENDED]
    out = []
    for t in texts:
        out.append(t.encode("utf-8"))
        out.append(t.encode("utf-16-le"))
    out.append(MARK.encode())  # the random mark alone, in any field
    return out


@pytest.fixture(scope="module")
def srv():
    s = start_server()
    try:
        yield s
        s.stop()
    finally:
        s.cleanup()


@pytest.fixture(scope="module")
def notice(srv):
    dev = org_client(srv, "developer", role="member")
    # With an Idempotency-Key, so that the stored first answer is on disk too.
    r = dev.post("notices", json=notice_body(submit=True, **SECRETS),
                 headers={"Idempotency-Key": uuid.uuid4().hex})
    n = expect(r, 201)
    etag = r.headers["ETag"]
    r = dev.patch("notices/%s" % n["id"], json={"description": AMENDED,
                                                "change_reason": "Because of finding %s" % MARK},
                  headers={"If-Match": etag})
    expect(r, 200)
    # A second notice, withdrawn with a reason that names the model.
    other, _ = create_notice(dev, submit=True, model_name="Second-%s" % MARK)
    expect(dev.post("notices/%s/withdraw" % other["id"],
                    json={"reason": "Withdrawn: %s failed red-teaming" % MARK}), 200)
    # The API still serves the plaintext to those entitled to it.
    assert expect(dev.get("notices/%s/versions/1" % n["id"]), 200)["description"] == SECRETS["description"]
    assert expect(dev.get("notices/%s" % n["id"]), 200)["description"] == AMENDED
    return dev, n


def test_no_plaintext_while_running(srv, notice):
    found = files_containing(srv.data, needles())
    assert found == {}, "plaintext at rest: %s" % {k.decode("latin-1"): v for k, v in found.items()}


def test_no_plaintext_in_the_server_log(srv, notice):
    text = srv.stderr_text()
    for n in needles():
        try:
            s = n.decode("utf-8")
        except UnicodeDecodeError:
            continue
        assert s not in text, "notice text in fxd's log: %r" % s


def test_key_files_are_private(srv):
    keyish = []
    for dirpath, _dirs, files in os.walk(srv.data):
        for fn in files:
            if "key" in fn.lower() or fn.lower().endswith((".pem", ".sec")):
                keyish.append(os.path.join(dirpath, fn))
    assert keyish, "no key file under the data dir (SPEC §11: a file made by fxd init)"
    for p in keyish:
        mode = stat.S_IMODE(os.stat(p).st_mode)
        assert mode & 0o077 == 0, "%s has mode %o" % (p, mode)


def test_no_plaintext_after_a_clean_stop(srv, notice):
    dev, n = notice
    srv.stop()
    found = files_containing(srv.data, needles())
    assert found == {}, "plaintext at rest: %s" % {k.decode("latin-1"): v for k, v in found.items()}
    # It all decrypts again after a restart.
    srv.start()
    assert expect(dev.get("notices/%s/versions/1" % n["id"]), 200)["model_name"] == SECRETS["model_name"]


def test_rotation_refuses_while_fxd_serves_the_data_directory(srv, notice):
    """A running fxd keeps the master key it started with, so rotate-master-key refuses to
    run beside one (and changes nothing) rather than leave it wrapping keys under the old key."""
    dev, n = notice
    key = os.path.join(srv.data, "master.key")
    with open(key, "rb") as f:
        old = f.read()
    p = subprocess.run([FXD, "rotate-master-key", "--data", srv.data], capture_output=True, timeout=120)
    assert p.returncode != 0, p.stderr
    assert b"stop it first" in p.stderr, p.stderr
    with open(key, "rb") as f:
        assert f.read() == old, "master.key changed by a refused rotation"
    assert not os.path.exists(key + ".new") and not os.path.exists(key + ".old")
    expect(srv.admin.post("orgs", json={"name": unique("After"), "kind": "developer"}), 201)
    assert expect(dev.get("notices/%s" % n["id"]), 200)["id"] == n["id"]


def test_rotate_master_key(srv, notice):
    """fxd rotate-master-key re-wraps the data keys; the old key no longer opens the store."""
    dev, n = notice
    srv.stop()
    key = os.path.join(srv.data, "master.key")
    with open(key, "rb") as f:
        old = f.read()
    p = subprocess.run([FXD, "rotate-master-key", "--data", srv.data], capture_output=True, timeout=120)
    assert p.returncode == 0, p.stderr
    with open(key, "rb") as f:
        assert f.read() != old, "master.key unchanged by rotation"
    assert stat.S_IMODE(os.stat(key).st_mode) & 0o077 == 0
    # The data is still there under the new key...
    srv.start()
    assert expect(dev.get("notices/%s/versions/1" % n["id"]), 200)["model_name"] == SECRETS["model_name"]
    assert files_containing(srv.data, needles()) == {}
    srv.stop()
    # ...and fxd refuses to serve with the old one rather than write unreadable data.
    old_file = os.path.join(srv.workdir, "old.key")
    with open(old_file, "wb") as f:
        f.write(old)
    os.chmod(old_file, 0o600)
    p = subprocess.Popen([FXD, "serve", "--data", srv.data, "--listen", "127.0.0.1:%d" % free_port(),
                          "--master-key-file", old_file], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        _, err = p.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        p.kill()
        p.communicate()
        pytest.fail("fxd served with the old master key")
    assert p.returncode != 0
    srv.start()
