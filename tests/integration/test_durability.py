"""An acknowledged write survives kill -9 (SPEC §1 store; STYLE §3: transactions mean
a restart loses nothing).

Several threads create and amend notices while fxd is killed with SIGKILL; after
a restart on the same data directory every acknowledged record must be there,
intact, and no half-written record may show up.
"""
import threading

import requests

from fxharness import (REF_RE, create_notice, describe, expect, notice_body, org_client,
                       sha256_matches, start_server)

THREADS = 4
ACKS_BEFORE_KILL = 600      # acknowledged writes before the kill: past several WAL restarts
MAX_OPS_PER_THREAD = 1000   # a bound, in case the server never gets there
WAIT_FOR_ACKS = 300         # seconds; a deadline for polling, not a timing assertion


class Tracker:
    def __init__(self):
        self.lock = threading.Lock()
        self.notices = {}        # id -> {"etag", "version", "pending", "body", "reason"}
        self.attempted_names = set()
        self.acks = 0
        self.enough = threading.Event()
        self.unexpected = []

    def ack(self):
        self.acks += 1
        if self.acks >= ACKS_BEFORE_KILL:
            self.enough.set()


def worker(srv, token, k, t, stop):
    c = srv.client(token)
    try:
        for i in range(MAX_OPS_PER_THREAD // 2):
            if stop.is_set():
                return
            name = "Durable %d-%d" % (k, i)
            body = notice_body(model_name=name, submit=True, description="durability %d-%d" % (k, i))
            with t.lock:
                t.attempted_names.add(name)
            r = c.post("notices", json=body, timeout=60)
            if r.status_code != 201:
                t.unexpected.append(describe(r))
                return
            n = r.json()
            with t.lock:
                t.notices[n["id"]] = {"etag": r.headers.get("ETag"), "version": 1, "pending": True,
                                      "body": body, "reason": None}
                t.ack()
            reason = "amendment %d-%d" % (k, i)
            r = c.patch("notices/%s" % n["id"], json={"model_version": "2.%d" % i, "change_reason": reason},
                        headers={"If-Match": r.headers.get("ETag")}, timeout=60)
            if r.status_code != 200:
                t.unexpected.append(describe(r))
                return
            with t.lock:
                t.notices[n["id"]].update(etag=r.headers.get("ETag"), version=2, pending=False,
                                          reason=reason)
                t.ack()
            # The next create follows: until it is answered, this notice is settled.
    except requests.RequestException:
        return  # fxd is gone: whatever was in flight is unacknowledged


def test_acknowledged_writes_survive_kill_9():
    srv = start_server()
    try:
        dev = org_client(srv, "developer", role="member")
        t = Tracker()
        stop = threading.Event()
        threads = [threading.Thread(target=worker, args=(srv, dev.token, k, t, stop), daemon=True)
                   for k in range(THREADS)]
        for th in threads:
            th.start()
        reached = t.enough.wait(WAIT_FOR_ACKS)
        srv.kill()
        stop.set()
        for th in threads:
            th.join(120)
        assert not t.unexpected, "writes refused before the kill: %s" % t.unexpected[:5]
        assert reached, "only %d writes acknowledged" % t.acks

        # "pending": an amendment may have been in flight (sent, never answered),
        # so it may or may not have landed; everything else must match exactly.
        srv.start()
        for nid, want in t.notices.items():
            r = dev.get("notices/%s" % nid)
            got = expect(r, 200)
            if not want["pending"]:
                assert r.headers.get("ETag") == want["etag"], "ETag changed for %s: %s" % (nid, describe(r))
            assert got["version"] >= want["version"]
            assert got["model_name"] == want["body"]["model_name"]
            assert got["description"] == want["body"]["description"]
            assert got["status"] == "submitted"
            if want["version"] == 2:
                assert got["model_version"].startswith("2."), got
            versions = expect(dev.get("notices/%s/versions" % nid), 200)
            versions = versions["items"] if isinstance(versions, dict) else versions
            assert len(versions) >= want["version"]
            if want["reason"]:
                assert versions[1]["change_reason"] == want["reason"]

        # No half-written record: everything listed opens, with intact versions.
        listed = dev.list_all("notices")
        listed_ids = {n["id"] for n in listed}
        print("durability: %d acknowledged writes, %d notices acknowledged, %d listed after restart" % (
            t.acks, len(t.notices), len(listed_ids)))
        assert set(t.notices) <= listed_ids, "acknowledged notices missing after restart"
        refs = set()
        for n in listed:
            assert n["model_name"] in t.attempted_names, "a notice nobody sent: %r" % n["model_name"]
            got = expect(dev.get("notices/%s" % n["id"]), 200)
            assert REF_RE.match(got["ref"]) and got["ref"] not in refs
            refs.add(got["ref"])
            versions = expect(dev.get("notices/%s/versions" % n["id"]), 200)
            versions = versions["items"] if isinstance(versions, dict) else versions
            assert [v["version"] for v in versions] == list(range(1, got["version"] + 1))
            for v in versions:
                raw = dev.get("notices/%s/versions/%d" % (n["id"], v["version"]))
                assert raw.status_code == 200, describe(raw)
                assert sha256_matches(raw.content, v["content_sha256"]), n["id"]

        # References are never reused after a crash.
        highest = max(int(REF_RE.match(r).group(2)) for r in refs)
        fresh, _ = create_notice(dev, submit=True)
        assert int(REF_RE.match(fresh["ref"]).group(2)) > highest

        srv.stop()
        # And a clean restart after a clean stop loses nothing either.
        srv.start()
        assert {n["id"] for n in dev.list_all("notices")} == listed_ids | {fresh["id"]}
        srv.stop()
    finally:
        srv.cleanup()


def test_sigterm_under_load_is_a_clean_stop():
    """SIGTERM while writes are arriving: exit 0, JSON logs, nothing acknowledged lost."""
    srv = start_server()
    try:
        dev = org_client(srv, "developer", role="member")
        t = Tracker()
        stop = threading.Event()
        threads = [threading.Thread(target=worker, args=(srv, dev.token, k, t, stop), daemon=True)
                   for k in range(THREADS)]
        for th in threads:
            th.start()
        reached = t.enough.wait(WAIT_FOR_ACKS)
        try:
            srv.stop()          # asserts exit status 0 and JSON-lines stderr
        finally:
            stop.set()
            for th in threads:
                th.join(120)
        assert reached, "only %d writes acknowledged" % t.acks
        srv.start()
        for nid, want in t.notices.items():
            r = dev.get("notices/%s" % nid)
            expect(r, 200)
            if not want["pending"]:
                assert r.headers.get("ETag") == want["etag"], describe(r)
        srv.stop()
    finally:
        srv.cleanup()


def test_clients_that_leave_while_their_write_is_in_flight():
    """A client that closes its connection while its notice write waits for the disk
    (decision 0012): the write still commits, the server stays up, and a clean stop
    after it exits 0 (no connection left suspended)."""
    import json
    import socket
    import time

    srv = start_server()
    try:
        dev = org_client(srv, "developer", role="member")
        host, port = dev.base_url.split("://", 1)[1].split(":")
        first, _ = create_notice(dev, submit=True)
        names = []
        for k in range(40):
            name = "Left-%d" % k
            names.append(name)
            body = json.dumps(dict(notice_body(), model_name=name, submit=True)).encode()
            head = ("POST /api/v1/notices HTTP/1.1\r\nHost: %s\r\nAuthorization: Bearer %s\r\n"
                    "Content-Type: application/json\r\nContent-Length: %d\r\n\r\n"
                    % (host, dev.token, len(body))).encode()
            s = socket.create_connection((host, int(port)))
            s.sendall(head + body)
            s.close()  # gone before the answer
        # an amendment refused inside its transaction (stale If-Match), its client gone:
        # the refusal is audited all the same
        body = json.dumps({"model_version": "9", "change_reason": "gone"}).encode()
        head = ("PATCH /api/v1/notices/%s HTTP/1.1\r\nHost: %s\r\nAuthorization: Bearer %s\r\n"
                "Content-Type: application/json\r\nIf-Match: \"stale\"\r\n"
                "Content-Length: %d\r\n\r\n" % (first["id"], host, dev.token, len(body))).encode()
        for _ in range(12):
            s = socket.create_connection((host, int(port)))
            s.sendall(head + body)
            s.close()
        admin = srv.admin
        deadline = time.monotonic() + WAIT_FOR_ACKS  # a bound for polling, not a timing assertion
        while True:  # rows are queued once each write ends
            rows = [x for x in admin.list_all("audit", params={"record": first["id"]})
                    if x["action"] == "notice.amend"]
            if len(rows) >= 12 or time.monotonic() > deadline:
                break
            time.sleep(0.05)
        assert [x["outcome"] for x in rows] == ["refused"] * 12, rows
        expect(dev.get("/healthz"), 200)
        fresh, _ = create_notice(dev, submit=True)
        # each request was sent whole before its client left: every one is stored, whole
        while True:
            listed = {n["model_name"] for n in dev.list_all("notices")}
            stored = [n for n in names if n in listed]
            if len(stored) == len(names) or time.monotonic() > deadline:
                break
            time.sleep(0.05)
        print("in flight when their clients left: %d of %d stored" % (len(stored), len(names)))
        assert fresh["model_name"] in listed
        assert stored == names
        for n in dev.list_all("notices"):
            if n["model_name"] in stored:
                expect(dev.get("notices/%s/versions/1" % n["id"]), 200)
        srv.stop()  # asserts exit status 0
    finally:
        srv.cleanup()
