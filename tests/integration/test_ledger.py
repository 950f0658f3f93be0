"""The transparency log end to end (SPEC §9): receipts, fx verify, fx ledger watch,
the public /api/v1/ledger endpoints and the C2SP tiles, against the real fxd.

The RFC 9162 tree, its proofs and the C2SP signed note are reimplemented below
in a few lines of Python, from the RFCs, so that fxd and fx are checked against
a second implementation and not only against themselves. Ed25519 signatures are
checked here too when python3-cryptography is installed (fx verify checks them
in every case).

Tampering tests change ledger_leaves / ledger_hashes in DATA/fx.db with Python's
sqlite3 while fxd runs (WAL: another process may write), so they need the
SQLite backend and are skipped on PostgreSQL.
"""
import base64
import datetime as dt
import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import tempfile
import threading

import pytest

from fxharness import (BACKEND, FX, describe, expect, notice_body, org_client, problem,
                       start_server, unique, user_client)

try:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
except ImportError:  # fx verify still checks every signature
    Ed25519PublicKey = None

EXIT_VERIFY = 6
DASH = "\u2014"
TODAY = dt.datetime.now(dt.timezone.utc).date().isoformat()
sqlite_only = pytest.mark.skipif(BACKEND != "sqlite",
                                 reason="tampering edits the SQLite file (DATA/fx.db)")


# --------------------------------------------------------------------------
# RFC 9162 §2.1 and C2SP signed-note, independently


def leaf_hash(b):
    return hashlib.sha256(b"\x00" + b).digest()


def node_hash(left, right):
    return hashlib.sha256(b"\x01" + left + right).digest()


class Tree:
    """MTH over a list of leaf hashes, memoised on aligned subtrees (RFC 9162 §2.1.1)."""

    def __init__(self, hashes):
        self.h = hashes
        self.memo = {}

    def mth(self, start, n):
        if n == 0:
            return hashlib.sha256(b"").digest()
        if n == 1:
            return self.h[start]
        key = (start, n)
        if key not in self.memo:
            k = 1 << ((n - 1).bit_length() - 1)  # largest power of two below n
            self.memo[key] = node_hash(self.mth(start, k), self.mth(start + k, n - k))
        return self.memo[key]

    def root(self, size):
        return self.mth(0, size)


def verify_inclusion(index, size, lh, path, root):
    """RFC 9162 §2.1.3.2."""
    if index >= size:
        return False
    fn, sn, r = index, size - 1, lh
    for p in path:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            if not fn & 1:
                while True:
                    fn >>= 1
                    sn >>= 1
                    if fn & 1 or fn == 0:
                        break
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    return sn == 0 and r == root


def verify_consistency(first, second, r1, r2, path):
    """RFC 9162 §2.1.4.2."""
    if first == second:
        return not path and r1 == r2
    if first == 0 or first > second or not path:
        return False
    if first & (first - 1) == 0:
        path = [r1] + list(path)
    fn, sn = first - 1, second - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            if not fn & 1:
                while True:
                    fn >>= 1
                    sn >>= 1
                    if fn & 1 or fn == 0:
                        break
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    return sn == 0 and fr == r1 and sr == r2


def parse_checkpoint(note, vkey=None):
    """(origin, size, root) of a signed note; checks the signature when it can."""
    cut = note.rindex("\n\n") + 1
    body, sigs = note[:cut], note[cut + 1:]
    origin, size, root, rest = body.split("\n")
    assert rest == "", note
    assert sigs.endswith("\n") and sigs, note
    if vkey is not None and Ed25519PublicKey is not None:
        name, keyid, b64 = vkey.split("+", 2)
        raw = base64.b64decode(b64)
        assert raw[0] == 1 and len(raw) == 33
        ours = 0
        for line in sigs[:-1].split("\n"):
            assert line.startswith(DASH + " "), line
            nm, sig = line[2:].split(" ")
            blob = base64.b64decode(sig)
            if nm == name and blob[:4] == bytes.fromhex(keyid):
                Ed25519PublicKey.from_public_bytes(raw[1:]).verify(blob[4:], body.encode())
                ours += 1
        assert ours == 1, note
    return origin, int(size), base64.b64decode(root)


def leaf_of(receipt):
    """The leaf a receipt carries, parsed."""
    return json.loads(base64.b64decode(receipt["leaf"]))


def b64s(hashes):
    return [base64.b64decode(h) for h in hashes]


# --------------------------------------------------------------------------
# Fixtures: a log with a few hundred leaves made by real writes


SECRETS = ["secret-model-%s" % unique("m"), "secret-desc-%s" % unique("d"),
           "secret-safeguards-%s" % unique("s"), "secret-notes-%s" % unique("n"),
           "secret-reason-%s" % unique("r"), "secret-contact-%s" % unique("c"),
           "secret-withdraw-%s" % unique("w")]


@pytest.fixture(scope="module")
def work():
    d = tempfile.mkdtemp(prefix="fxledger-")
    yield d
    shutil.rmtree(d, ignore_errors=True)


@pytest.fixture(scope="module")
def keyfile(fxd, work):
    """The verifier key as fxd init printed it, one trailing newline (as GET /ledger/key)."""
    path = os.path.join(work, "ledger.pub")
    with open(path, "w") as f:
        f.write(fxd.init_info["ledger_public_key"] + "\n")
    return path


@pytest.fixture(scope="module")
def dev(fxd):
    admin = org_client(fxd, "developer", role="admin")
    return user_client(fxd, admin, admin.org, "member")


@pytest.fixture(scope="module")
def writes(fxd, dev):
    """Every kind of notice write, with secrets in every free-text field; then enough
    submitted notices to pass one full tile (256 leaves). [(answer, notice id)]."""
    out = []
    body = notice_body(model_name=SECRETS[0], description=SECRETS[1], safeguards=SECRETS[2],
                       contact={"name": SECRETS[5], "email": "pat@example.test"})
    body["evaluations"][0]["notes"] = SECRETS[3]
    r = dev.post("notices", json=body)
    n = expect(r, 201)
    out.append((n, n["id"]))
    r2 = dev.patch("notices/%s" % n["id"], json={"model_version": "1.1"},
                   headers={"If-Match": r.headers["ETag"]})
    n2 = expect(r2, 200)
    out.append((n2, n["id"]))
    n3 = expect(dev.post("notices/%s/submit" % n["id"], json={}), 200)
    out.append((n3, n["id"]))
    n4 = expect(dev.patch("notices/%s" % n["id"], json={"model_version": "1.2",
                                                        "change_reason": SECRETS[4]},
                          headers={"If-Match": n3["etag"]}), 200)
    out.append((n4, n["id"]))
    n5 = expect(dev.post("notices/%s/release" % n["id"],
                         json={"actual_release_date": TODAY}), 200)
    out.append((n5, n["id"]))
    w = expect(dev.post("notices", json=dict(notice_body(), submit=True)), 201)
    out.append((w, w["id"]))
    w2 = expect(dev.post("notices/%s/withdraw" % w["id"], json={"reason": SECRETS[6]}), 200)
    out.append((w2, w["id"]))
    size = max(a["receipt"]["leaf_index"] for a, _ in out) + 1
    while size < 300:
        a = expect(dev.post("notices", json=dict(notice_body(), submit=True)), 201)
        out.append((a, a["id"]))
        size = a["receipt"]["leaf_index"] + 1
    return out


@pytest.fixture(scope="module")
def receipts(writes):
    """Every receipt the writes answered with, in leaf order."""
    rs = []
    for a, _ in writes:
        assert "receipt" in a, a
        rs.extend(a["receipts"] if "receipts" in a else [a["receipt"]])
    return sorted(rs, key=lambda r: r["leaf_index"])


@pytest.fixture(scope="module")
def entries(fxd, writes):
    """Every leaf's bytes, from GET /ledger/entries/i, once the writes are done."""
    anon = fxd.anon()
    size = parse_checkpoint(anon.get("ledger/checkpoint").text)[1]
    out = []
    for i in range(size):
        e = expect(anon.get("ledger/entries/%d" % i), 200)
        assert e["index"] == i
        out.append(base64.b64decode(e["leaf"]))
    return out


@pytest.fixture(scope="module")
def fx(fxd, work):
    def run(*args, stdin=None, env_extra=None, url=None):
        env = {k: v for k, v in os.environ.items() if not k.startswith("FX_")}
        env.update(HOME=work, XDG_CONFIG_HOME=os.path.join(work, "xdg"),
                   FX_URL=url or fxd.url)
        env.update(env_extra or {})
        p = subprocess.run([FX] + [str(a) for a in args], env=env, input=stdin,
                           capture_output=True, timeout=120)
        p.out = p.stdout.decode("utf-8", errors="replace")
        p.err = p.stderr.decode("utf-8", errors="replace")
        return p
    return run


def exit_status(p, code):
    assert p.returncode == code, "expected exit %d: fx %s -> %d\nstdout: %s\nstderr: %s" % (
        code, " ".join(map(str, p.args[1:])), p.returncode, p.out, p.err)
    return p


def save(work, name, data):
    path = os.path.join(work, name)
    with open(path, "wb") as f:
        f.write(data if isinstance(data, bytes) else data.encode())
    return path


# --------------------------------------------------------------------------
# Receipts of real writes, fx verify


def test_every_write_answers_with_a_receipt_that_verifies(fx, work, keyfile, writes, receipts):
    # creation with submit appends three leaves (the version, the submission, the
    # screening): receipts holds them in order, receipt the last
    several = [a for a, _ in writes if "receipts" in a]
    assert several, "no write answered with receipts"
    for a in several:
        assert a["receipts"][-1] == a["receipt"]
        idx = [r["leaf_index"] for r in a["receipts"]]
        assert idx == list(range(idx[0], idx[0] + len(idx))), idx
    created = [a for a, _ in writes if a.get("status") == "submitted" and a["version"] == 1]
    assert created
    for a in created:
        assert [leaf_of(r)["kind"] for r in a["receipts"]] == [
            "notice_version", "notice_submitted", "screening"]
    for i, r in enumerate(receipts[:40] + receipts[-5:]):
        path = save(work, "receipt-%d.json" % i, json.dumps(r))
        p = exit_status(fx("verify", path, "--key", keyfile), 0)
        assert "verified: leaf %d " % r["leaf_index"] in p.out, p.out
    # a whole API answer (what fx --json notice create prints) is a receipt file too
    a, _ = writes[0]
    path = save(work, "answer.json", json.dumps(a))
    j = json.loads(exit_status(fx("--json", "verify", path, "--key", keyfile), 0).out)
    assert j["verified"] is True and j["leaf_index"] == a["receipt"]["leaf_index"]
    assert j["leaf"]["record_id"] == a["id"] and j["leaf"]["kind"] == "notice_version"
    assert j["tree_size"] == j["leaf_index"] + 1 and j["record"] is None
    # and standard input
    exit_status(fx("verify", "-", "--key", keyfile, stdin=json.dumps(a).encode()), 0)


def test_receipt_checkpoints_match_an_independent_implementation(fxd, receipts, entries):
    """Each receipt's checkpoint signs the root of the first leaf_index + 1 leaves, as
    computed here from the entries, and its path proves the leaf (RFC 9162)."""
    vkey = fxd.init_info["ledger_public_key"]
    tree = Tree([leaf_hash(e) for e in entries])
    assert [r["leaf_index"] for r in receipts] == list(range(1, len(entries))), (
        "receipts do not cover every leaf but the first (fxd init's policy leaf) exactly once")
    for r in receipts:
        i = r["leaf_index"]
        leaf = base64.b64decode(r["leaf"])
        assert leaf == entries[i], "receipt %d's leaf is not entry %d" % (i, i)
        origin, size, root = parse_checkpoint(r["checkpoint"], vkey)
        # a write's receipts share one checkpoint: the size the write reached
        assert origin == vkey.split("+")[0] and i + 1 <= size <= len(entries)
        assert root == tree.root(size), "the checkpoint of size %d signs another root" % size
        assert verify_inclusion(i, size, leaf_hash(leaf), b64s(r["inclusion_path"]), root)


def test_a_writes_receipts_share_one_checkpoint(writes):
    """One signature per batch of the store's writer: every receipt of an answer names
    the same checkpoint, that of the batch's tree; a write alone in its batch (these
    are made one after the other) gets the size just after its last leaf."""
    several = [a for a, _ in writes if len(a.get("receipts", [])) > 1]
    assert several
    for a in several:
        notes = {r["checkpoint"] for r in a["receipts"]}
        assert len(notes) == 1, notes
        assert parse_checkpoint(notes.pop())[1] == a["receipts"][-1]["leaf_index"] + 1
        paths = [len(r["inclusion_path"]) for r in a["receipts"]]
        assert all(n > 0 for n in paths), paths


def test_record_bytes_are_checked(fx, fxd, dev, work, keyfile, writes):
    a, nid = writes[0]  # version 1 of the first notice
    v1 = dev.get("notices/%s/versions/1" % nid)
    assert v1.status_code == 200, describe(v1)
    rec = save(work, "v1.json", v1.content)
    rpath = save(work, "r-v1.json", json.dumps(a["receipt"]))
    p = exit_status(fx("verify", rpath, "--key", keyfile, "--record", rec), 0)
    assert "matches content_sha256" in p.out
    # one byte changed, one byte added, another version: refused, naming the record
    for name, data in (("flip", v1.content[:-2] + bytes([v1.content[-2] ^ 1]) + v1.content[-1:]),
                       ("extra", v1.content + b"\n"),
                       ("v2", dev.get("notices/%s/versions/2" % nid).content)):
        bad = save(work, "bad-%s.json" % name, data)
        p = exit_status(fx("verify", rpath, "--key", keyfile, "--record", bad), EXIT_VERIFY)
        assert "FAILED: record:" in p.err, p.err
    # a status leaf (submitted) names the version current at the time: version 2
    sub, _ = writes[2]
    v2 = save(work, "v2.json", dev.get("notices/%s/versions/2" % nid).content)
    (submitted,) = [r for r in sub["receipts"] if leaf_of(r)["kind"] == "notice_submitted"]
    spath = save(work, "r-sub.json", json.dumps(submitted))
    exit_status(fx("verify", spath, "--key", keyfile, "--record", v2), 0)
    # the record from standard input; a missing record file is a local error
    exit_status(fx("verify", rpath, "--key", keyfile, "--record", "-", stdin=v1.content), 0)
    exit_status(fx("verify", rpath, "--key", keyfile, "--record", os.path.join(work, "nope")), 1)


def test_a_receipt_does_not_verify_under_another_servers_key(fx, work, receipts):
    other = start_server()
    try:
        okey = save(work, "other.pub", other.init_info["ledger_public_key"] + "\n")
        assert other.init_info["ledger_public_key"] != open(work + "/ledger.pub").read().strip()
        path = save(work, "r-any.json", json.dumps(receipts[5]))
        p = exit_status(fx("verify", path, "--key", okey), EXIT_VERIFY)
        assert "FAILED: checkpoint signature" in p.err, p.err
        # and the other server's own receipts do not verify under ours
        c = org_client(other, "developer", role="member")
        a = expect(c.post("notices", json=notice_body()), 201)
        opath = save(work, "r-other.json", json.dumps(a))
        exit_status(fx("verify", opath, "--key", okey), 0)
        exit_status(fx("verify", opath, "--key", work + "/ledger.pub"), EXIT_VERIFY)
    finally:
        other.stop()
        other.cleanup()


def mutate(r, **changes):
    out = dict(r)
    out.update(changes)
    return out


def test_tampered_and_malformed_receipts_fail_naming_the_part(fx, work, keyfile, receipts):
    r = receipts[9]
    leaf = base64.b64decode(r["leaf"])
    note = r["checkpoint"]
    body_end = note.rindex("\n\n") + 1
    sigline = note[body_end + 1:]
    other_leaf = leaf.replace(b'"version":', b'"version":1')  # still an FX leaf in form
    cases = [
        # the leaf, its index or its path changed: the proof no longer holds
        ("leaf changed", mutate(r, leaf=base64.b64encode(other_leaf).decode()),
         "inclusion proof"),
        ("index changed", mutate(r, leaf_index=r["leaf_index"] + 1), "inclusion proof"),
        ("index past the tree", mutate(r, leaf_index=10 ** 6), "inclusion proof"),
        ("path hash changed", mutate(r, inclusion_path=[base64.b64encode(
            bytes(32)).decode()] + r["inclusion_path"][1:]), "inclusion proof"),
        ("path cut", mutate(r, inclusion_path=r["inclusion_path"][:-1]), "inclusion proof"),
        ("path longer", mutate(r, inclusion_path=r["inclusion_path"] + r["inclusion_path"][:1]),
         "inclusion proof"),
        # the checkpoint changed: the signature no longer holds
        ("size changed", mutate(r, checkpoint=note.replace("\n%d\n" % (r["leaf_index"] + 1),
                                                           "\n%d\n" % (r["leaf_index"] + 2), 1)),
         "checkpoint signature"),
        ("signature cut", mutate(r, checkpoint=note[:-10] + "\n"), "checkpoint"),
        ("no signature", mutate(r, checkpoint=note[:body_end]), "checkpoint"),
        ("our signature twice", mutate(r, checkpoint=note + sigline), "checkpoint"),
        ("control character", mutate(r, checkpoint=note.replace("ledger\n", "ledger\x1b\n", 1)),
         "checkpoint"),
        ("CRLF", mutate(r, checkpoint=note.replace("\n", "\r\n")), "checkpoint"),
        ("NUL in the note", mutate(r, checkpoint=note.replace("ledger", "led\u0000ger", 1)),
         "receipt"),
        ("17 signature lines", mutate(r, checkpoint=note + (DASH + " w.example/w AAAAAAAA\n") * 16),
         "checkpoint"),
        # malformed members
        ("leaf base64 truncated", mutate(r, leaf=r["leaf"][:-3]), "receipt"),
        ("path base64 truncated", mutate(r, inclusion_path=[r["inclusion_path"][0][:-2]]),
         "receipt"),
        ("path hash of 31 bytes", mutate(r, inclusion_path=[base64.b64encode(
            bytes(31)).decode()]), "receipt"),
        ("path of 65 hashes", mutate(r, inclusion_path=r["inclusion_path"][:1] * 65), "receipt"),
        ("negative index", mutate(r, leaf_index=-1), "receipt"),
        ("index as a string", mutate(r, leaf_index=str(r["leaf_index"])), "receipt"),
        ("index as a float", mutate(r, leaf_index=float(r["leaf_index"])), "receipt"),
        ("extra member", mutate(r, colour="red"), "receipt"),
        ("missing checkpoint", {k: v for k, v in r.items() if k != "checkpoint"}, "receipt"),
        ("checkpoint not a string", mutate(r, checkpoint=["x"]), "receipt"),
        ("empty leaf", mutate(r, leaf=""), "receipt"),
    ]
    for name, rec, part in cases:
        path = save(work, "t.json", json.dumps(rec))
        p = exit_status(fx("verify", path, "--key", keyfile), EXIT_VERIFY)
        assert "FAILED: %s" % part in p.err, "%s: %s" % (name, p.err)
    # not receipts at all
    for name, text in (("empty", b""), ("not JSON", b"{"), ("array", b"[1]"),
                       ("duplicate key", b'{"leaf":"x","leaf":"y"}'), ("number", b"7"),
                       ("deep", b"[" * 100 + b"]" * 100), ("invalid UTF-8", b'{"leaf":"\xff"}'),
                       ("receipt not an object", b'{"receipt": 7}')):
        path = save(work, "t.json", text)
        p = exit_status(fx("verify", path, "--key", keyfile), EXIT_VERIFY)
        assert "FAILED: receipt:" in p.err, "%s: %s" % (name, p.err)
    # a witness's cosignature line (another key) is allowed by C2SP signed-note
    witnessed = mutate(r, checkpoint=note + DASH + " witness.example/w "
                       + base64.b64encode(b"\x01\x02\x03\x04" + bytes(64)).decode() + "\n")
    exit_status(fx("verify", save(work, "t.json", json.dumps(witnessed)), "--key", keyfile), 0)
    exit_status(fx("verify", os.path.join(work, "missing.json"), "--key", keyfile), 1)


def test_malformed_keys_are_refused(fx, fxd, work, keyfile, receipts):
    rpath = save(work, "r-keys.json", json.dumps(receipts[3]))
    vkey = fxd.init_info["ledger_public_key"]
    name, keyid, b64 = vkey.split("+", 2)
    raw = base64.b64decode(b64)
    wrong_type = "%s+%s+%s" % (name, keyid, base64.b64encode(b"\x02" + raw[1:]).decode())
    bad = {
        "empty": "",
        "truncated base64": vkey[:-4],
        "key changed": vkey[:-1] + ("B" if vkey[-1] != "B" else "C"),
        "wrong key type": wrong_type,
        "wrong key id": "%s+%s+%s" % (name, "00000000", b64),
        "no key id": "%s+%s" % (name, b64),
        "two lines": vkey + "\n" + vkey + "\n",
        "two newlines": vkey + "\n\n",
        "CRLF": vkey + "\r\n",
        "leading space": " " + vkey,
        "a checkpoint": receipts[3]["checkpoint"],
        "binary": "\x00\x01\x02",
    }
    for what, text in bad.items():
        p = exit_status(fx("verify", rpath, "--key", save(work, "k.pub", text)), 1)
        assert "does not hold a ledger verifier key" in p.err, "%s: %s" % (what, p.err)
    exit_status(fx("verify", rpath, "--key", save(work, "k.pub", vkey)), 0)  # no newline: fine
    exit_status(fx("verify", rpath, "--key", os.path.join(work, "none.pub")), 1)
    exit_status(fx("verify", rpath), 2)                       # --key is required
    exit_status(fx("verify", "--key", keyfile), 2)            # RECEIPT is required
    exit_status(fx("verify", rpath, rpath, "--key", keyfile), 2)
    exit_status(fx("verify", "-", "--key", keyfile, "--record", "-"), 2)


def test_fx_verify_never_touches_the_network(fx, work, keyfile, receipts):
    rpath = save(work, "r-net.json", json.dumps(receipts[7]))
    # no server at that address: verify does not care
    exit_status(fx("verify", rpath, "--key", keyfile, url="http://127.0.0.1:9"), 0)
    if shutil.which("strace") is None:
        pytest.skip("strace is not installed")
    log = os.path.join(work, "strace.log")
    p = subprocess.run(["strace", "-f", "-o", log, "-e", "trace=socket,connect", FX, "verify",
                        rpath, "--key", keyfile], capture_output=True, timeout=120)
    if p.returncode != 0 and b"ptrace" in p.stderr:
        pytest.skip("ptrace is not permitted here")
    assert p.returncode == 0, p.stderr
    calls = [l for l in open(log).read().splitlines() if "socket(" in l or "connect(" in l]
    assert not calls, "fx verify opened sockets: %s" % calls


def test_fx_verify_does_not_load_libcurl(fx, work, keyfile, receipts):
    # Loading libcurl's thirty-odd libraries costs more than verifying does;
    # fx opens it only for commands that talk to a server.
    rpath = save(work, "r-libs.json", json.dumps(receipts[3]))
    env = dict(os.environ, LD_DEBUG="files")
    p = subprocess.run([FX, "verify", rpath, "--key", keyfile], capture_output=True,
                       timeout=120, env=env)
    assert p.returncode == 0, p.stderr
    if b"file=" not in p.stderr:
        pytest.skip("the dynamic loader here does not honour LD_DEBUG")
    assert b"libcurl" not in p.stderr
    p = subprocess.run([FX, "--url", "http://127.0.0.1:9", "me"], capture_output=True,
                       timeout=120, env=env)
    assert b"libcurl" in p.stderr  # and a network command does open it
    assert p.returncode == 5, p.stderr[-2000:]


# --------------------------------------------------------------------------
# Leaves and indices


def test_leaves_never_contain_confidential_text(fxd, entries, writes):
    assert len(entries) >= 300
    blob = b"".join(entries)
    for s in SECRETS:
        assert s.encode() not in blob, "a leaf holds confidential text %r" % s
    kinds = set()
    for i, e in enumerate(entries):
        j = json.loads(e)
        assert sorted(j) == ["content_sha256", "kind", "org", "record_id", "time", "version"], e
        assert json.dumps(j, sort_keys=True, separators=(",", ":")).encode() == e, (
            "leaf %d is not compact sorted-key JSON: %r" % (i, e))
        assert len(j["content_sha256"]) == 64 and int(j["content_sha256"], 16) >= 0
        assert isinstance(j["version"], int) and j["version"] >= 0
        kinds.add(j["kind"])
    assert {"policy", "notice_version", "notice_submitted", "notice_released",
            "notice_withdrawn"} <= kinds, kinds
    # nor the entry bundles
    anon = fxd.anon()
    tile = anon.get("ledger/tile/entries/000")
    assert tile.status_code == 200, describe(tile)
    for s in SECRETS:
        assert s.encode() not in tile.content


def test_indices_are_dense_under_concurrent_writes(fxd, dev):
    """Concurrent writes land in batches of the store's writer, each batch's
    receipts signed once, for the batch's tree: every receipt still proves its
    leaf against a signed root that the stored entries give."""
    anon = fxd.anon()
    vkey = fxd.init_info["ledger_public_key"]
    before = parse_checkpoint(anon.get("ledger/checkpoint").text)[1]
    got, errors = [], []

    def writer():
        c = dev.as_token(dev.token)  # a session per thread
        for _ in range(6):
            r = c.post("notices", json=dict(notice_body(), submit=True))
            if r.status_code != 201:
                errors.append(describe(r))
                return
            got.extend(r.json()["receipts"])

    threads = [threading.Thread(target=writer) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    after = parse_checkpoint(anon.get("ledger/checkpoint").text)[1]
    indices = sorted(r["leaf_index"] for r in got)
    assert indices == list(range(before, after)), "indices are not dense: %s" % indices
    expect(anon.get("ledger/entries/%d" % (after - 1)), 200)
    problem(anon.get("ledger/entries/%d" % after), 404)
    stored = [base64.b64decode(expect(anon.get("ledger/entries/%d" % i), 200)["leaf"])
              for i in range(after)]
    tree = Tree([leaf_hash(e) for e in stored])
    for r in got:
        i = r["leaf_index"]
        leaf = base64.b64decode(r["leaf"])
        assert leaf == stored[i], "receipt %d's leaf is not entry %d" % (i, i)
        _, size, root = parse_checkpoint(r["checkpoint"], vkey)
        assert i + 1 <= size <= after
        assert root == tree.root(size), "the checkpoint of size %d signs another root" % size
        assert verify_inclusion(i, size, leaf_hash(leaf), b64s(r["inclusion_path"]), root)


# --------------------------------------------------------------------------
# Proofs through the API


SIZES = [1, 2, 3, 4, 5, 6, 7, 8, 9, 15, 16, 17, 31, 32, 33, 63, 64, 65, 127, 128, 129, 255,
         256, 257, 299, 300]


def test_api_proofs_verify_against_signed_checkpoints(fxd, entries, receipts):
    anon = fxd.anon()
    tree = Tree([leaf_hash(e) for e in entries])
    signed = {parse_checkpoint(r["checkpoint"])[1]: parse_checkpoint(r["checkpoint"])[2]
              for r in receipts}
    for n in SIZES:
        root = signed.get(n, tree.root(n))
        assert root == tree.root(n)
        for i in range(n):
            p = expect(anon.get("ledger/proof/inclusion", params={"index": i, "size": n}), 200)
            assert p["leaf_index"] == i and p["tree_size"] == n
            assert verify_inclusion(i, n, leaf_hash(entries[i]), b64s(p["inclusion_path"]),
                                    root), "inclusion %d in %d" % (i, n)
            if i + 1 < n:  # the proof is of this leaf, not of its neighbour
                assert not verify_inclusion(i + 1, n, leaf_hash(entries[i]),
                                            b64s(p["inclusion_path"]), root)
    for m in SIZES:
        for n in SIZES:
            if m > n:
                continue
            p = expect(anon.get("ledger/proof/consistency", params={"from": m, "to": n}), 200)
            assert (p["first"], p["second"]) == (m, n)
            path = b64s(p["consistency_path"])
            assert verify_consistency(m, n, tree.root(m), tree.root(n), path), (m, n)
            if m < n:
                assert not verify_consistency(m, n, tree.root(n), tree.root(n), path)


def test_bad_proof_parameters_answer_422_naming_them(fxd, entries):
    anon = fxd.anon()
    size = parse_checkpoint(anon.get("ledger/checkpoint").text)[1]
    inc, con = "ledger/proof/inclusion", "ledger/proof/consistency"
    cases = [
        (inc, {"index": size, "size": size}, ["query:index"]),
        (inc, {"index": 5, "size": 3}, ["query:index"]),
        (inc, {"index": 0, "size": 0}, [("query:index", "query:size")]),
        (inc, {"index": 0, "size": size + 1}, [("query:index", "query:size")]),
        (inc, {"index": 0, "size": 2 ** 63 - 1}, [("query:index", "query:size")]),
        (inc, {"index": "x", "size": "y"}, ["query:index", "query:size"]),
        (inc, {"index": "-1", "size": "1"}, ["query:index"]),
        (inc, {"index": "1e3", "size": "0x10"}, ["query:index", "query:size"]),
        (inc, {"index": "", "size": " 3"}, ["query:index", "query:size"]),
        (inc, {"index": 2 ** 63, "size": 2 ** 64}, ["query:index", "query:size"]),
        (inc, {}, ["query:index", "query:size"]),
        (inc, {"index": 0, "size": 1, "colour": "red"}, ["query:colour"]),
        (con, {"from": 5, "to": 3}, [("query:from", "query:to")]),
        (con, {"from": 0, "to": 3}, [("query:from", "query:to")]),
        (con, {"from": 1, "to": size + 1}, [("query:from", "query:to")]),
        (con, {"from": "a", "to": "b"}, ["query:from", "query:to"]),
        (con, {"from": 1}, ["query:to"]),
        (con, {"to": 1}, ["query:from"]),
        (con, {"from": "+1", "to": "01x"}, ["query:from", "query:to"]),
    ]
    for path, params, fields in cases:
        problem(anon.get(path, params=params), 422, fields)
    for bad in ("abc", "-1", "1.5", "99999999999999999999", "%d" % size):
        problem(anon.get("ledger/entries/" + bad), 404)


# --------------------------------------------------------------------------
# Tiles (C2SP tlog-tiles)


def bundle(data):
    """Decodes an entry bundle: 2-byte big-endian length, then the leaf, repeated."""
    out, i = [], 0
    while i < len(data):
        assert i + 2 <= len(data), "entry bundle cut inside a length"
        n = int.from_bytes(data[i:i + 2], "big")
        assert i + 2 + n <= len(data), "entry bundle cut inside a leaf"
        out.append(data[i + 2:i + 2 + n])
        i += 2 + n
    return out


def test_tiles_hold_the_stored_hashes_and_entries(fxd, entries):
    anon = fxd.anon()
    size = parse_checkpoint(anon.get("ledger/checkpoint").text)[1]  # more leaves than entries
    assert 256 < size < 512
    entries = list(entries) + [base64.b64decode(expect(anon.get("ledger/entries/%d" % i),
                                                       200)["leaf"])
                               for i in range(len(entries), size)]
    hashes = [leaf_hash(e) for e in entries]
    tree = Tree(hashes)
    full = anon.get("ledger/tile/0/000")
    assert full.status_code == 200, describe(full)
    assert full.content == b"".join(hashes[:256])
    assert "immutable" in full.headers.get("Cache-Control", "")
    w = size - 256
    part = anon.get("ledger/tile/0/001.p/%d" % w)
    assert part.status_code == 200, describe(part)
    assert part.content == b"".join(hashes[256:size])
    assert "immutable" not in part.headers.get("Cache-Control", "")
    assert anon.get("ledger/tile/0/001.p/%d" % (w - 1)).content == b"".join(hashes[256:size - 1])
    # level 1 holds tree level 8: the roots of complete 256-leaf subtrees
    l1 = anon.get("ledger/tile/1/000.p/1")
    assert l1.status_code == 200 and l1.content == tree.mth(0, 256), describe(l1)
    # entry bundles decode to the entries
    eb = anon.get("ledger/tile/entries/000")
    assert eb.status_code == 200 and bundle(eb.content) == entries[:256], describe(eb)
    pb = anon.get("ledger/tile/entries/001.p/%d" % w)
    assert pb.status_code == 200 and bundle(pb.content) == entries[256:size], describe(pb)
    # tiles the log does not have (yet), and paths that are not tiles
    for path in ("tile/0/001", "tile/0/001.p/%d" % (w + 1), "tile/1/000", "tile/2/000.p/1",
                 "tile/entries/001", "tile/0/002.p/1", "tile/9/000", "tile/-1/000",
                 "tile/0/0", "tile/0/0000", "tile/0/x000", "tile/0/x001/000",
                 "tile/0/000.p/0", "tile/0/000.p/256", "tile/0/000.p/007", "tile/0/000.p/",
                 "tile/0/000.p/1/x", "tile/0", "tile/entries", "tile/abc/000", "tiles/0/000",
                 "tile/0/000/"):
        r = anon.get("ledger/" + path)
        assert r.status_code == 404, describe(r)
    if BACKEND == "sqlite":
        db = sqlite3.connect("file:%s?mode=ro" % os.path.join(fxd.data, "fx.db"), uri=True,
                             timeout=30)
        try:
            stored = [h for (h,) in db.execute(
                "SELECT hash FROM ledger_hashes WHERE pos < 512 AND pos % 2 = 0 ORDER BY pos")]
            (node,) = db.execute("SELECT hash FROM ledger_hashes WHERE pos = ?",
                                 (position(8, 0),)).fetchone()
        finally:
            db.close()
        assert full.content == b"".join(stored)
        assert l1.content == node


# --------------------------------------------------------------------------
# fx ledger


def test_fx_ledger_commands(fx, fxd, work, keyfile, entries):
    key = exit_status(fx("ledger", "key"), 0).out
    assert key == fxd.init_info["ledger_public_key"] + "\n"
    assert key == fxd.anon().get("ledger/key").text
    note = exit_status(fx("ledger", "checkpoint", "--key", keyfile), 0).out
    origin, size, _root = parse_checkpoint(note, fxd.init_info["ledger_public_key"])
    j = json.loads(exit_status(fx("--json", "ledger", "checkpoint", "--key", keyfile), 0).out)
    assert j["verified"] is True and j["tree_size"] >= size and j["origin"] == origin
    j = json.loads(exit_status(fx("--json", "ledger", "checkpoint"), 0).out)
    assert j["verified"] is False
    okey = save(work, "wrong.pub", start_key())
    p = exit_status(fx("ledger", "checkpoint", "--key", okey), EXIT_VERIFY)
    assert "FAILED" in p.err
    assert exit_status(fx("ledger", "entry", "0"), 0).out == entries[0].decode() + "\n"
    e = json.loads(exit_status(fx("--json", "ledger", "entry", "5"), 0).out)
    assert base64.b64decode(e["leaf"]) == entries[5]
    exit_status(fx("ledger", "entry", "99999999"), 3)
    exit_status(fx("ledger", "entry", "x"), 2)
    p = json.loads(exit_status(fx("ledger", "proof", "inclusion", "3", "10"), 0).out)
    assert p["leaf_index"] == 3 and p["tree_size"] == 10
    p = json.loads(exit_status(fx("ledger", "proof", "consistency", "3", "10"), 0).out)
    assert p["first"] == 3 and p["second"] == 10
    exit_status(fx("ledger", "proof", "inclusion", "10", "3"), 3)
    exit_status(fx("ledger", "proof", "inclusion", "-1", "3"), 2)
    exit_status(fx("ledger", "proof", "sideways", "1", "2"), 2)
    exit_status(fx("ledger", "checkpoint", url="http://127.0.0.1:9"), 5)
    exit_status(fx("ledger"), 2)
    exit_status(fx("ledger", "--help"), 0)


_other_key = []


def start_key():
    """The verifier key of some other log (made once)."""
    if not _other_key:
        srv = start_server()
        try:
            _other_key.append(srv.init_info["ledger_public_key"])
        finally:
            srv.stop()
            srv.cleanup()
    return _other_key[0]


# --------------------------------------------------------------------------
# fx ledger watch


def test_watch_keeps_the_checkpoint_and_checks_consistency(fx, fxd, dev, work, keyfile):
    state = os.path.join(work, "watch", "state")
    p = exit_status(fx("ledger", "watch", "--key", keyfile, "--state", state), 0)
    assert "first checkpoint" in p.out
    kept = open(state).read()
    parse_checkpoint(kept, fxd.init_info["ledger_public_key"])
    p = exit_status(fx("ledger", "watch", "--key", keyfile, "--state", state), 0)
    assert "unchanged" in p.out and open(state).read() == kept
    expect(dev.post("notices", json=notice_body()), 201)
    p = exit_status(fx("ledger", "watch", "--key", keyfile, "--state", state), 0)
    assert "consistent" in p.out and "grew from" in p.out
    assert open(state).read() != kept
    j = json.loads(exit_status(fx("--json", "ledger", "watch", "--key", keyfile, "--state",
                                  state), 0).out)
    assert j["verdict"] == "unchanged" and j["tree_size"] == j["previous_size"]
    # the default state file sits beside the config file
    cfgdir = os.path.join(work, "cfg")
    exit_status(fx("ledger", "watch", "--key", keyfile,
                   env_extra={"FX_CONFIG": os.path.join(cfgdir, "config")}), 0)
    assert os.path.exists(os.path.join(cfgdir, "ledger-state"))
    exit_status(fx("ledger", "watch", "--key", keyfile), 0)
    assert os.path.exists(os.path.join(work, "xdg", "fx", "ledger-state"))
    # a state file that is not a checkpoint of this log is not compared against
    junk = save(work, "junk-state", "fx.local/ledger\n1\n" + "A" * 43 + "=\n\n")
    exit_status(fx("ledger", "watch", "--key", keyfile, "--state", junk), 1)
    okey = save(work, "other-watch.pub", start_key())
    exit_status(fx("ledger", "watch", "--key", okey, "--state", state), 1)
    fresh = os.path.join(work, "fresh-state")
    p = exit_status(fx("ledger", "watch", "--key", okey, "--state", fresh), EXIT_VERIFY)
    assert "ALERT" in p.err and not os.path.exists(fresh)
    exit_status(fx("ledger", "watch", "--state", state), 2)
    exit_status(fx("ledger", "watch", "--key", keyfile, "--state", state,
                   url="http://127.0.0.1:9"), 5)


class TamperedLog:
    """A fresh fxd of its own, a watcher's state file, and the SQLite file to change."""

    def __init__(self, work, fx, name):
        self.srv = start_server()
        self.fx = fx
        self.key = save(work, "%s.pub" % name, self.srv.init_info["ledger_public_key"] + "\n")
        self.state = os.path.join(work, "%s.state" % name)
        self.dev = org_client(self.srv, "developer", role="member")
        self.db_path = os.path.join(self.srv.data, "fx.db")

    def write(self, n=1):
        for _ in range(n):
            expect(self.dev.post("notices", json=dict(notice_body(), submit=True)), 201)

    def size(self):
        return parse_checkpoint(self.srv.anon().get("ledger/checkpoint").text)[1]

    def watch(self, code):
        return exit_status(self.fx("ledger", "watch", "--key", self.key, "--state", self.state,
                                   url=self.srv.url), code)

    def sql(self, statement, *args):
        db = sqlite3.connect(self.db_path, timeout=30)
        try:
            cur = db.execute(statement, args)
            db.commit()
            return cur.rowcount
        finally:
            db.close()

    def close(self):
        self.srv.stop()
        self.srv.cleanup()


def position(level, idx):
    """Where the store keeps the hash of node (level, idx): its in-order position."""
    return (idx << (level + 1)) + (1 << level) - 1


def frontier(size):
    """(level, index) of the complete subtrees the tree of size leaves ends with, largest first."""
    out, start = [], 0
    for level in range(63, -1, -1):
        if size >> level & 1:
            out.append((level, start >> level))
            start += 1 << level
    return out


def assert_alert(p, state, kept):
    assert "ALERT" in p.err and "REWRITTEN" in p.err, p.err
    assert open(state).read() == kept, "the kept checkpoint was overwritten"
    assert os.path.exists(state + ".rejected")


@sqlite_only
def test_watch_catches_a_changed_node(fx, work):
    log = TamperedLog(work, fx, "node")
    try:
        log.write(4)  # 1 + 4 * 3 leaves: 13 = 8 + 4 + 1
        size = log.size()
        log.watch(0)
        kept = open(log.state).read()
        level, idx = frontier(size)[0]
        assert level >= 1
        assert log.sql("UPDATE ledger_hashes SET hash = ? WHERE pos = ?",
                       b"\x11" * 32, position(level, idx)) == 1
        p = log.watch(EXIT_VERIFY)
        assert "another root" in p.err
        assert_alert(p, log.state, kept)
        log.watch(EXIT_VERIFY)  # and again: the alarm does not go away by itself
    finally:
        log.close()


@sqlite_only
def test_watch_catches_a_changed_leaf_hash(fx, work):
    log = TamperedLog(work, fx, "leaf")
    try:
        log.write(2)  # 1 + 2 * 3 leaves: 7
        size = log.size()
        assert size % 2 == 1  # the last leaf's hash is part of the root
        log.watch(0)
        kept = open(log.state).read()
        assert log.sql("UPDATE ledger_hashes SET hash = ? WHERE pos = ?", b"\x22" * 32,
                       position(0, size - 1)) == 1
        assert_alert(log.watch(EXIT_VERIFY), log.state, kept)
    finally:
        log.close()


@sqlite_only
def test_watch_catches_history_rewritten_then_extended(fx, work):
    """The old tree is changed and new leaves are appended on top of it: the size grew,
    so only the consistency proof can tell, and it does."""
    log = TamperedLog(work, fx, "extended")
    try:
        log.write(4)  # 1 + 4 * 3 leaves: 13 = 8 + 4 + 1
        size = log.size()
        log.watch(0)
        kept = open(log.state).read()
        level, idx = frontier(size)[1]
        assert log.sql("UPDATE ledger_hashes SET hash = ? WHERE pos = ?",
                       b"\x33" * 32, position(level, idx)) == 1
        log.write(4)
        assert log.size() > size
        p = log.watch(EXIT_VERIFY)
        assert "consistency proof fails" in p.err
        assert_alert(p, log.state, kept)
    finally:
        log.close()


@sqlite_only
def test_watch_catches_a_log_that_shrank(fx, work):
    log = TamperedLog(work, fx, "shrank")
    try:
        log.write(4)
        size = log.size()
        log.watch(0)
        kept = open(log.state).read()
        assert log.sql("DELETE FROM ledger_leaves WHERE idx = ?", size - 1) == 1
        assert log.sql("DELETE FROM ledger_hashes WHERE pos >= ?", position(0, size - 1)) >= 1
        assert log.size() == size - 1
        p = log.watch(EXIT_VERIFY)
        assert "shrank" in p.err
        assert_alert(p, log.state, kept)
    finally:
        log.close()


@sqlite_only
def test_a_changed_leaf_hash_breaks_its_neighbours_proof(fx, work):
    """Below the frontier a leaf's stored hash is read only as a sibling: the API's proof
    for its neighbour then fails against the checkpoint, which the client catches."""
    log = TamperedLog(work, fx, "sibling")
    try:
        log.write(8)
        anon = log.srv.anon()
        _, size, root = parse_checkpoint(anon.get("ledger/checkpoint").text)
        leaf3 = base64.b64decode(expect(anon.get("ledger/entries/3"), 200)["leaf"])
        p = expect(anon.get("ledger/proof/inclusion", params={"index": 3, "size": size}), 200)
        assert verify_inclusion(3, size, leaf_hash(leaf3), b64s(p["inclusion_path"]), root)
        assert log.sql("UPDATE ledger_hashes SET hash = ? WHERE pos = ?", b"\x44" * 32,
                       position(0, 2)) == 1
        p = expect(anon.get("ledger/proof/inclusion", params={"index": 3, "size": size}), 200)
        assert not verify_inclusion(3, size, leaf_hash(leaf3), b64s(p["inclusion_path"]), root)
    finally:
        log.close()
