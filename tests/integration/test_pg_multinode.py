"""Several fxd nodes on one PostgreSQL database (runs on the postgres backend only).

Two nodes share the database and the key files of one data directory. Writes
from both must behave as writes to one server: unique references, one winner
per ETag, idempotency keys honoured across nodes, one dense ledger whose
checkpoints agree whichever node serves them. While the database is away,
every node answers 503 problem+json and recovers by itself when it returns.
"""
import base64
import concurrent.futures as cf
import hashlib
import os
import shutil
import subprocess
import tempfile
import threading

import pytest

from fxharness import (BACKEND, FXD, Server, create_notice, etag_of, expect, free_port,
                       notice_body, org_client, pg_cluster, problem, start_server, unique,
                       user_client)

pytestmark = pytest.mark.skipif(BACKEND != "postgres", reason="PostgreSQL only")


@pytest.fixture(scope="module")
def nodes(fxd):
    """fxd (node A) and a second node B serving the same data directory's database."""
    b = Server(tempfile.mkdtemp(prefix="fxnode-"))  # its own logs
    b.data = fxd.data
    b.init_info = fxd.init_info
    b.start()
    try:
        yield fxd, b
    finally:
        b.stop()
        b.cleanup()


def on(node, client):
    """The same caller, talking to another node."""
    c = node.client(client.token)
    c.user, c.org = client.user, client.org
    return c


def test_both_nodes_serve_the_same_records(nodes):
    a, b = nodes
    dev = org_client(a, "developer", role="member")
    n, _ = create_notice(on(a, dev), submit=True)
    got = expect(on(b, dev).get("notices/%s" % n["id"]), 200)
    assert got["ref"] == n["ref"] and got["etag"] == n["etag"]
    assert expect(b.anon().get("/healthz"), 200)["store"] == "postgres"


def test_references_are_unique_across_nodes(nodes):
    a, b = nodes
    dev = org_client(a, "developer", role="member")
    clients = [on(a, dev), on(b, dev)]

    def make(i):
        return expect(clients[i % 2].post("notices", json=notice_body()), 201)["ref"]

    with cf.ThreadPoolExecutor(16) as ex:
        refs = list(ex.map(make, range(60)))
    assert len(set(refs)) == 60, refs
    nums = sorted(int(r.rsplit("-", 1)[1]) for r in refs)
    assert nums == list(range(nums[0], nums[0] + 60)), "gaps or repeats: %s" % nums


def test_one_amendment_wins_across_nodes(nodes):
    a, b = nodes
    dev = org_client(a, "developer", role="member")
    n, etag = create_notice(on(a, dev), submit=True)
    clients = [on(a, dev), on(b, dev)]

    def amend(i):
        return clients[i % 2].patch("notices/%s" % n["id"], headers={"If-Match": etag},
                                    json={"model_version": "v%d" % i, "change_reason": "race %d" % i})

    with cf.ThreadPoolExecutor(8) as ex:
        rs = list(ex.map(amend, range(8)))
    codes = sorted(r.status_code for r in rs)
    assert codes == [200] + [412] * 7, codes
    final = expect(on(b, dev).get("notices/%s" % n["id"]), 200)
    assert final["version"] == 2


def test_idempotency_keys_hold_across_nodes(nodes):
    a, b = nodes
    dev = org_client(a, "developer", role="member")
    body = notice_body()
    r1 = on(a, dev).post("notices", json=body, headers={"Idempotency-Key": "cross-node-1"})
    n1 = expect(r1, 201)
    r2 = on(b, dev).post("notices", json=body, headers={"Idempotency-Key": "cross-node-1"})
    n2 = expect(r2, 201)
    assert n1["id"] == n2["id"]
    assert r2.headers.get("Idempotent-Replayed") == "true"


def _leaf_hash(b64):
    return hashlib.sha256(b"\x00" + base64.b64decode(b64)).digest()


def test_one_dense_ledger_with_agreeing_checkpoints(nodes):
    a, b = nodes
    dev = org_client(a, "developer", role="member")
    clients = [on(a, dev), on(b, dev)]

    def make(i):
        return expect(clients[i % 2].post("notices", json=notice_body(), params=None), 201)["receipt"]

    with cf.ThreadPoolExecutor(8) as ex:
        receipts = list(ex.map(make, range(24)))
    idx = sorted(r["leaf_index"] for r in receipts)
    assert len(set(idx)) == len(idx), "a leaf index was handed out twice"
    ca = expect_text(a.anon().get("/api/v1/ledger/checkpoint"))
    cb = expect_text(b.anon().get("/api/v1/ledger/checkpoint"))
    assert ca == cb, "the nodes sign different checkpoints of one log:\n%s\n%s" % (ca, cb)
    size = int(ca.split("\n")[1])
    assert size > idx[-1]
    for i in range(size):  # dense: every index from 0 answers, on either node
        expect((a if i % 2 else b).anon().get("/api/v1/ledger/entries/%d" % i), 200)
    expect(a.anon().get("/api/v1/ledger/entries/%d" % size), 404)


def expect_text(r):
    assert r.status_code == 200, r.text
    return r.text


def test_database_outage_answers_503_and_recovers(nodes):
    a, b = nodes
    dev = org_client(a, "developer", role="member")
    n, _ = create_notice(on(a, dev), submit=True)
    cluster = pg_cluster()
    # load on both nodes for the whole outage: every answer is a success or a 503
    stop = threading.Event()
    seen = []

    def load(node):
        c = on(node, dev)
        while not stop.is_set():
            seen.append(c.get("notices/%s" % n["id"]).status_code)
            seen.append(c.post("notices", json=notice_body()).status_code)

    workers = [threading.Thread(target=load, args=(node,)) for node in (a, b, a, b)]
    for w in workers:
        w.start()
    cluster.pg_ctl("stop")
    try:
        for node in (a, b):
            r = on(node, dev).get("notices/%s" % n["id"])
            problem(r, 503)
            r = on(node, dev).post("notices", json=notice_body())
            problem(r, 503)
            problem(node.anon().get("/healthz"), 503)  # load balancers take the node out
    finally:
        cluster.pg_ctl("start")
        stop.set()
        for w in workers:
            w.join(timeout=120)
    assert not any(w.is_alive() for w in workers), "a request hung through the outage"
    assert set(seen) <= {200, 201, 503}, sorted(set(seen))
    assert 503 in seen
    # back by itself: no restart of either node
    for node in (a, b):
        expect(on(node, dev).get("notices/%s" % n["id"]), 200)
        expect(on(node, dev).post("notices", json=notice_body()), 201)


def test_a_node_with_another_master_key_refuses_to_serve(nodes, tmp_path):
    import subprocess
    from fxharness import FXD
    a, _ = nodes
    bad = tmp_path / "other.key"
    bad.write_bytes(b"\x07" * 32)
    bad.chmod(0o600)
    p = subprocess.run([FXD, "serve", "--data", a.data, "--master-key-file", str(bad),
                        "--listen", "127.0.0.1:%d" % free_port()], capture_output=True, timeout=60)
    assert p.returncode != 0
    assert b"master key does not match" in p.stderr


def test_a_node_running_across_a_key_rotation_wraps_no_key_under_the_old_one():
    """A node elsewhere (its own data directory, the same database) rotates the master key
    while this one serves: this node then refuses to create an org, whose data key it could
    only wrap under the key it started with, and serves again once restarted with the new key."""
    srv = start_server()
    elsewhere = tempfile.mkdtemp(prefix="fxnode-")
    try:
        dev = org_client(srv, "developer", role="member")
        n, _ = create_notice(dev, submit=True)
        for f in ("master.key", "db-url"):
            shutil.copy2(os.path.join(srv.data, f), os.path.join(elsewhere, f))
        p = subprocess.run([FXD, "rotate-master-key", "--data", elsewhere], capture_output=True,
                           timeout=120)
        assert p.returncode == 0, p.stderr
        name = unique("After rotation")
        problem(srv.admin.post("orgs", json={"name": name, "kind": "developer"}), (500, 503))
        assert name not in [o["name"] for o in srv.admin.list_all("orgs")], "an org was stored"
        assert expect(dev.get("notices/%s" % n["id"]), 200)["id"] == n["id"]
        srv.stop()
        shutil.copy2(os.path.join(elsewhere, "master.key"), os.path.join(srv.data, "master.key"))
        srv.start()
        created = expect(srv.admin.post("orgs", json={"name": name, "kind": "developer"}), 201)
        member = user_client(srv, srv.admin, created, "member")
        m, _ = create_notice(member, submit=True)
        assert expect(member.get("notices/%s" % m["id"]), 200)["id"] == m["id"]
        assert expect(dev.get("notices/%s" % n["id"]), 200)["id"] == n["id"]
    finally:
        srv.stop()
        srv.cleanup()
        shutil.rmtree(elsewhere, ignore_errors=True)
