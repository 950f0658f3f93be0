"""HEAD wherever GET (RFC 9110 §9.3.2; docs/ARCHITECTURE.md, docs/openapi.json).

A HEAD answers what the GET of the same resource answers, status and headers
(Content-Length of the GET body, ETag, Content-Type), after the same access
checks and with the same audit rows, and sends no body: each HEAD here goes
over its own connection, read to the end, so that a stray body would show.
"""
import socket

from fxharness import (API, HTTP_TIMEOUT, create_notice, describe, expect, org_client, problem,
                       user_client)

# Headers that must be the GET's; Date may tick between the two requests.
SAME = ("Content-Type", "Content-Length", "ETag", "Cache-Control", "X-Content-Type-Options",
        "Allow", "WWW-Authenticate")


def head(client, path):
    """(status, {header: value}, every byte after the headers) of HEAD path, read until the
    server closes the connection."""
    host, port = client.base_url.split("://", 1)[1].split(":")
    lines = ["HEAD %s HTTP/1.1" % client.url(path)[len(client.base_url):],
             "Host: %s:%s" % (host, port), "Connection: close"]
    if client.token:
        lines.append("Authorization: Bearer " + client.token)
    with socket.create_connection((host, int(port)), timeout=HTTP_TIMEOUT) as s:
        s.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        data = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
    head_part, _, rest = data.partition(b"\r\n\r\n")
    status_line, *header_lines = head_part.decode("latin-1").split("\r\n")
    headers = {}
    for line in header_lines:
        k, _, v = line.partition(":")
        headers[k.strip().lower()] = v.strip()
    return int(status_line.split(" ")[1]), headers, rest


def same_as_get(client, path, status):
    """HEAD path answers as GET path does (status), headers and all, without the body."""
    g = client.get(path)
    assert g.status_code == status, describe(g)
    code, headers, rest = head(client, path)
    assert code == status, (path, code, headers)
    assert rest == b"", "HEAD %s sent a body: %r" % (path, rest[:200])
    for name in SAME:
        assert headers.get(name.lower()) == g.headers.get(name), (
            "HEAD %s: %s is %r, GET's %r" % (path, name, headers.get(name.lower()),
                                             g.headers.get(name)))
    assert int(headers["content-length"]) == len(g.content) > 0
    return g


def test_head_answers_as_get_without_the_body(fxd):
    anon = fxd.anon()
    same_as_get(anon, "/healthz", 200)
    same_as_get(fxd.admin, "me", 200)
    same_as_get(fxd.admin, "orgs", 200)
    same_as_get(fxd.admin, "orgs?limit=1", 200)
    same_as_get(fxd.admin, "/taxii2/", 200)
    same_as_get(anon, "me", 401)  # WWW-Authenticate too
    same_as_get(fxd.admin, "notices/01900000-0000-7000-8000-000000000000", 404)
    same_as_get(fxd.admin, "/api/v1/nothing-here", 404)
    same_as_get(fxd.admin, "me?colour=red", 422)  # the same refusal of an unknown parameter


def test_head_of_a_notice_has_its_etag_and_is_an_audited_outside_read(fxd):
    """SPEC §10: a HEAD by a reader outside the developer org is an outside read, as its
    GET is, and the same checks apply (404 for whoever may not know the notice)."""
    dev = org_client(fxd, "developer", role="admin")
    member = user_client(fxd, dev, dev.org, "member")
    stranger = org_client(fxd, "developer", role="admin")
    reviewer = user_client(fxd, fxd.admin, {"id": fxd.init_info["org_id"]}, "reviewer")
    n, etag = create_notice(member, submit=True)
    path = "notices/%s" % n["id"]
    log = "notices/%s/access-log" % n["id"]

    g = same_as_get(member, path, 200)
    assert g.headers["ETag"] == etag
    same_as_get(stranger, path, 404)
    assert expect(dev.get(log), 200)["items"] == []  # own-org and refused reads: no rows

    code, headers, rest = head(reviewer, path)
    assert (code, headers.get("etag"), rest) == (200, etag, b"")
    rows = expect(dev.get(log), 200)["items"]
    assert [r["user_id"] for r in rows] == [reviewer.user["id"]], rows
    expect(reviewer.get(path), 200)
    rows = expect(dev.get(log), 200)["items"]
    assert len(rows) == 2 and rows[0]["action"] == rows[1]["action"], rows


def test_allow_names_head_beside_get(fxd):
    r = fxd.admin.request("PUT", "me")
    problem(r, 405)
    assert [m.strip() for m in r.headers["Allow"].split(",")] == ["GET", "HEAD"]
    r = fxd.admin.request("PUT", "orgs")
    assert sorted(m.strip() for m in r.headers["Allow"].split(",")) == ["GET", "HEAD", "POST"]
    # a path that two routes match (the key, and the ledger's tiles) names each method once
    for path in ("ledger/key", "ledger/checkpoint", "ledger/entries/0"):
        r = fxd.admin.request("PUT", path)
        problem(r, 405)
        assert [m.strip() for m in r.headers["Allow"].split(",")] == ["GET", "HEAD"], path
    # a path without GET has no HEAD either
    code, headers, rest = head(fxd.admin, API + "/notices/FXN-2026-0001/submit")
    assert (code, headers.get("allow"), rest) == (405, "POST", b"")
