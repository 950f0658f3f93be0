"""fxd backup: a consistent copy of a serving SQLite store opens as the same data."""
import os
import shutil
import subprocess

from fxharness import (BACKEND, FXD, Server, create_notice, expect, org_client)


def test_backup_of_a_serving_store_restores(fxd, tmp_path):
    dev = org_client(fxd, "developer", role="member")
    n, _ = create_notice(dev, submit=True)
    dest = tmp_path / "copy.db"
    p = subprocess.run([FXD, "backup", str(dest), "--data", fxd.data], capture_output=True,
                       timeout=120)
    if BACKEND == "postgres":
        assert p.returncode != 0 and b"pg_dump" in p.stderr, p.stderr
        return
    assert p.returncode == 0, p.stderr
    # a second data directory made of the copy and the same keys serves the same notice
    restored = tmp_path / "restored"
    os.makedirs(restored / "data", mode=0o700)
    shutil.copy(dest, restored / "data" / "fx.db")
    for key in ("master.key", "ledger.key"):
        shutil.copy2(os.path.join(fxd.data, key), restored / "data" / key)
    srv = Server(str(restored))
    srv.init_info = fxd.init_info
    srv.start()
    try:
        got = expect(srv.client(dev.token).get("notices/%s" % n["id"]), 200)
        assert got["etag"] == n["etag"]
    finally:
        srv.stop()
    # refuses to overwrite
    p = subprocess.run([FXD, "backup", str(dest), "--data", fxd.data], capture_output=True,
                       timeout=120)
    assert p.returncode != 0
