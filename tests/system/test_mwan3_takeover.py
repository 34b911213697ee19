"""`autonomyctl mwan3 takeover|release|status` on the real daemon.

The daemon observes only (controller 'none': nothing on the host changes) with
config_root pointing at a temporary copy of a tree from tests/data/openwrt and
mwan3_reload pointing at a script that records each run. What is checked is the
file under config_root, the script's record and what autonomyctl prints."""
import json
import os
import shutil
import time

import pytest

from conftest import ROOT, Daemon

DATA = os.path.join(ROOT, "tests", "data", "openwrt")

RELOAD = """#!/bin/sh
echo "$*" >> %s
"""


class Router:
    def __init__(self, tmp_path, tree, members=""):
        self.etc = tmp_path / "etc"
        shutil.copytree(os.path.join(DATA, tree), self.etc)
        self.mwan3 = self.etc / "mwan3"
        self.original = self.mwan3.read_bytes()
        self.record = tmp_path / "reloads.log"
        script = tmp_path / "reload.sh"
        script.write_text(RELOAD % self.record)
        script.chmod(0o755)
        conf = ("config autonomy 'main'\n"
                "\toption controller 'none'\n"
                f"\toption config_root '{self.etc}'\n"
                f"\toption mwan3_reload '{script} reload'\n"
                "\toption http_listen ''\n" + members)
        self.d = Daemon(tmp_path, conf).start()

    def ctl(self, *args, rc=0):
        r = self.d.ctl(*args)
        assert r.returncode == rc, (args, r.stdout, r.stderr, self.d.log())
        return r

    def json(self, *args):
        return json.loads(self.ctl("--json", *args).stdout)

    def reloads(self):
        return self.record.read_text().splitlines() if self.record.exists() else []

    def wait_reloads(self, n, timeout=10.0):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and len(self.reloads()) < n:
            time.sleep(0.05)
        # and the daemon has seen it end
        while time.monotonic() < deadline:
            r = self.json("status")["mwan3"]["reload"]
            if r and not r["running"]:
                return r
            time.sleep(0.05)
        raise AssertionError("the reload did not finish: " + self.d.log())

    def stop(self):
        assert self.d.stop() == 0, self.d.log()


@pytest.fixture
def openwrt(tmp_path):
    r = Router(tmp_path, "openwrt")
    yield r
    r.stop()


def test_takeover_and_release(openwrt):
    r = openwrt
    assert "mwan3 tracking: mwan3" in r.ctl("mwan3", "status").stdout
    assert "mwan3 tracking: mwan3" in r.ctl("status").stdout
    assert r.json("status")["mwan3"] == {"tracking": "mwan3", "reload": None}

    # the dry run shows exactly what would be done and changes nothing
    out = r.ctl("mwan3", "takeover", "--dry-run").stdout
    lines = out.splitlines()
    assert lines[0] == "would run (nothing is changed):"
    assert lines[1:3] == ["  uci del_list mwan3.wan.track_ip='1.0.0.1'",
                          "  uci add_list mwan3.wan.autonomy_track_ip='1.0.0.1'"]
    assert "  uci add_list mwan3.wanb.autonomy_track_ip='dns.google'" in lines
    assert "  uci commit mwan3" in lines
    assert "mwan3 tracking: mwan3 (after takeover: autonomy)" in lines
    assert "wan6" not in out
    assert r.mwan3.read_bytes() == r.original
    dry = r.json("mwan3", "takeover", "--dry-run")
    assert dry["dry_run"] is True and dry["applied"] is False
    assert len(dry["changes"]) == 14
    assert r.reloads() == []

    # for real: the file changes as shown, mwan3 is reloaded once
    res = r.json("mwan3", "takeover")
    assert res["applied"] is True and res["state"] == "autonomy"
    assert res["changes"] == dry["changes"]
    assert res["reload"]["started"] is True
    assert res["reload"]["command"].endswith("reload.sh reload")
    assert "warning" in res      # controller 'none': nothing tells mwan3 of failures
    text = r.mwan3.read_text()
    assert "track_ip '1.1.1.1'" not in text.replace("autonomy_track_ip", "X")
    assert "\tlist autonomy_track_ip '208.67.220.220'\n" in text
    assert "\tlist track_ip '2606:4700:4700::1001'\n" in text    # wan6: disabled
    last = r.wait_reloads(1)
    assert last["result"] == "ok" and last["finished"]
    assert r.reloads() == ["reload"]
    st = r.json("status")
    assert st["mwan3"]["tracking"] == "autonomy"
    assert "mwan3 tracking: autonomy" in r.ctl("mwan3", "status").stdout
    ev = r.json("events", "20")
    assert any(e["type"] == "mwan3" and e["reason"] == "takeover" for e in ev)

    # again: nothing to change, nothing written or run
    mtime = os.stat(r.mwan3).st_mtime_ns
    out = r.ctl("mwan3", "takeover").stdout
    assert "nothing to change" in out and "mwan3 tracking: autonomy" in out
    time.sleep(0.3)
    assert r.reloads() == ["reload"] and os.stat(r.mwan3).st_mtime_ns == mtime

    # release: the original file back (as uci writes it: no leading blank line)
    out = r.ctl("mwan3", "release").stdout
    assert out.startswith("changed:\n  uci del_list mwan3.wan.autonomy_track_ip='1.0.0.1'\n")
    assert "mwan3 tracking: mwan3" in out and "reload:" in out
    assert r.mwan3.read_bytes() == r.original.lstrip(b"\n")
    r.wait_reloads(2)
    assert r.reloads() == ["reload", "reload"]
    assert r.json("status")["mwan3"]["tracking"] == "mwan3"


def test_usage_and_errors(openwrt):
    r = openwrt
    err = r.ctl("mwan3", "status", "--dry-run", rc=2).stderr
    assert "--dry-run is only for mwan3 takeover and mwan3 release" in err
    assert "expected one of takeover, release, status" in r.ctl("mwan3", rc=2).stderr
    assert r.ctl("mwan3", "takeover", "now", rc=2).stderr
    # the API refuses what the CLI cannot send
    e = r.d.request({"method": "mwan3", "params": {"cmd": "grab"}})["error"]
    assert e["code"] == "invalid_argument"
    e = r.d.request({"method": "mwan3", "params": {"cmd": "takeover", "dry_run": "yes"}})
    assert e["error"]["code"] == "invalid_argument"

    # a file uci cannot read is left alone
    bad = b"config interface 'wan'\n\toption enabled '1'\n\tlist track_ip '1.1.1.1' x\n"
    r.mwan3.write_bytes(bad)
    res = r.ctl("mwan3", "takeover", rc=1)
    assert "uci cannot read" in res.stdout + res.stderr
    assert r.mwan3.read_bytes() == bad
    st = r.json("status")["mwan3"]
    assert st["tracking"] is None and st["error"]
    assert r.reloads() == []

    # no mwan3 at all: status says none, takeover is an error
    r.mwan3.unlink()
    assert "mwan3" not in r.json("status")
    assert r.json("mwan3", "status")["state"] == "none"
    res = r.ctl("mwan3", "takeover", "--dry-run", rc=1)
    assert "does not exist" in res.stdout + res.stderr


def test_rutos_with_member_sections(tmp_path):
    """Member sections limit takeover to their interfaces; RutOS keeps track_ip
    in anonymous condition sections."""
    r = Router(tmp_path, "rutos",
               members="\nconfig member 'wan'\n\toption device 'eth1'\n")
    try:
        dry = r.json("mwan3", "takeover", "--dry-run")
        assert dry["changes"] == [
            "uci del_list mwan3.@condition[0].track_ip='1.1.1.1'",
            "uci add_list mwan3.@condition[0].autonomy_track_ip='1.1.1.1'",
            "uci del_list mwan3.@condition[0].track_ip='8.8.8.8'",
            "uci add_list mwan3.@condition[0].autonomy_track_ip='8.8.8.8'",
        ]
        # through ubus, as LuCI or a script would call it
        res = r.d.ctl("rpcd", "call", "mwan3", stdin='{"cmd": "takeover"}')
        assert res.returncode == 0
        res = json.loads(res.stdout)
        assert res["applied"] is True and res["state"] == "autonomy"
        text = r.mwan3.read_text()
        assert text.count("autonomy_track_ip") == 2
        assert "\tlist track_ip '9.9.9.9'\n" in text     # mob1s1a1: not a member
        r.wait_reloads(1)
        res = json.loads(r.d.ctl("rpcd", "call", "mwan3", stdin='{"cmd": "release"}').stdout)
        assert res["state"] == "mwan3"
        assert r.mwan3.read_bytes() == r.original.lstrip(b"\n")
        r.wait_reloads(2)
    finally:
        r.stop()
