"""The real daemon on a temporary config and socket, driven through autonomyctl
and the raw socket: answers, bad clients, reloads, clean shutdown."""
import json
import os
import shutil
import signal
import socket
import stat
import subprocess
import time

import pytest

from conftest import AUTONOMYCTL, AUTONOMYD, BASE_CONFIG, Daemon, read_line


def test_check_good_and_bad(tmp_path):
    good = tmp_path / "good.conf"
    good.write_text(BASE_CONFIG + "\toption weight '5000'\n")
    r = subprocess.run([AUTONOMYD, "--check", "-c", str(good)], capture_output=True, text=True)
    assert r.returncode == 0
    assert "OK (2 members)" in r.stdout
    line = BASE_CONFIG.count("\n") + 1
    assert "good.conf:%d: member 'lte': weight: '5000' is out of range" % line in r.stderr

    bad = tmp_path / "bad.conf"
    bad.write_text("config member 'x'\n\toption device 'eth0\n\tlist\n")
    before = bad.read_text()
    r = subprocess.run([AUTONOMYD, "--check", "-c", str(bad)], capture_output=True, text=True)
    assert r.returncode == 1
    assert "bad.conf:2: unterminated quote" in r.stderr
    assert "bad.conf:3:" in r.stderr
    assert bad.read_text() == before

    r = subprocess.run([AUTONOMYD, "--check", "-c", str(tmp_path / "missing")],
                       capture_output=True, text=True)
    assert r.returncode == 1
    assert "missing" in r.stderr


def test_refuses_to_start_on_bad_config(tmp_path):
    d = Daemon(tmp_path, config="config member 'a'\n")
    with pytest.raises(RuntimeError, match="option 'device' is required"):
        d.start()
    assert d.proc.returncode == 1


def test_status_human_and_json(daemon):
    r = daemon.ctl("status")
    assert r.returncode == 0, r.stderr
    assert "fiber" in r.stdout and "lte" in r.stdout and "controller: none" in r.stdout

    r = daemon.ctl("--json", "members")
    assert r.returncode == 0, r.stderr
    members = json.loads(r.stdout)
    assert [m["name"] for m in members] == ["fiber", "lte"]
    assert members[1]["class"] == "cellular" and members[1]["metered"] is True
    assert members[1]["targets"] == ["1.1.1.1", "9.9.9.9"]
    assert members[0]["latency_ms"] is None
    assert members[0]["status"] == "down" and members[0]["down_cause"] == "device"

    st = os.stat(daemon.sock)
    assert stat.S_IMODE(st.st_mode) == 0o600


def test_cli_errors_and_exit_codes(daemon, tmp_path):
    r = daemon.ctl("failover")
    assert r.returncode == 1
    assert "no other member is up" in r.stderr
    r = daemon.ctl("failover", "lte")
    assert r.returncode == 1
    assert "lte is down" in r.stderr
    r = daemon.ctl("setlog", "loud")
    assert r.returncode == 1
    r = daemon.ctl("frobnicate")
    assert r.returncode == 2
    r = subprocess.run([AUTONOMYCTL, "--socket", str(tmp_path / "nope.sock"), "status"],
                       capture_output=True, text=True)
    assert r.returncode == 3
    assert "nope.sock" in r.stderr


def test_rpcd_plugin(daemon):
    r = daemon.ctl("rpcd", "list")
    assert r.returncode == 0
    sig = json.loads(r.stdout)
    for m in ("status", "members", "events", "action", "config.get", "config.set", "info"):
        assert m in sig
    assert isinstance(sig["events"]["limit"], int)

    r = daemon.ctl("rpcd", "call", "events", stdin='{"limit": 1}')
    assert r.returncode == 0
    out = json.loads(r.stdout)
    assert isinstance(out["events"], list) and len(out["events"]) == 1

    r = daemon.ctl("rpcd", "call", "status", stdin="")
    assert json.loads(r.stdout)["controller"] == "none"


def test_garbage_and_many_requests_on_one_connection(daemon):
    with daemon.connect() as s:
        f = s.makefile("rb")
        s.sendall(b"this is not json\n")
        assert json.loads(f.readline())["error"]["code"] == "invalid_request"
        s.sendall(b'{"method":"nope"}\n{"method":"info"}\n')
        assert json.loads(f.readline())["error"]["code"] == "unknown_method"
        assert "version" in json.loads(f.readline())
        s.sendall(b"\x00\xff\xfe{{{\n")
        assert json.loads(f.readline())["error"]["code"] == "invalid_request"
    assert daemon.request({"method": "status"})["state"] in ("starting", "all-down")


def test_oversized_line_is_refused(daemon):
    with daemon.connect() as s:
        try:
            s.sendall(b"x" * 200000)
        except (BrokenPipeError, ConnectionResetError):
            pass
        reply = json.loads(read_line(s))
        assert reply["error"]["code"] == "too_large"
        try:    # and the connection is closed (reset: we sent more than was read)
            assert s.recv(10) == b""
        except ConnectionResetError:
            pass
    assert daemon.request({"method": "info"})["pid"] == daemon.proc.pid


def test_silent_client_times_out_others_served(daemon):
    silent = daemon.connect()
    silent.sendall(b'{"method":')    # half a request, then nothing
    t0 = time.monotonic()
    for _ in range(5):
        assert daemon.request({"method": "status"})["controller"] == "none"
    reply = json.loads(read_line(silent))
    assert reply["error"]["code"] == "timeout"
    assert 8 <= time.monotonic() - t0 <= 14
    silent.close()


def test_too_many_clients(daemon):
    conns = [daemon.connect() for _ in range(32)]
    try:
        extra = daemon.connect()
        assert json.loads(read_line(extra))["error"]["code"] == "unavailable"
        extra.close()
    finally:
        for c in conns:
            c.close()
    time.sleep(0.2)
    assert daemon.request({"method": "info"})["version"]


def test_reload_good_then_bad(daemon):
    daemon.conf.write_text(BASE_CONFIG.replace("option weight '80'", "option weight '60'")
                           + "\nconfig member 'wifi'\n\toption device 'wlan0'\n")
    daemon.proc.send_signal(signal.SIGHUP)
    assert daemon.wait_log("configuration reloaded")
    st = daemon.request({"method": "status"})
    assert [m["name"] for m in st["members"]] == ["fiber", "lte", "wifi"]
    assert st["members"][0]["weight"] == 60
    assert st["config"]["error"] is None

    daemon.conf.write_text("config member 'fiber'\n\toption device 'eth1\n")
    daemon.proc.send_signal(signal.SIGHUP)
    assert daemon.wait_log("reload refused")
    st = daemon.request({"method": "status"})
    assert len(st["members"]) == 3                      # still the running config
    assert "unterminated quote" in st["config"]["error"]
    r = daemon.ctl("status")
    assert "unterminated quote" in r.stdout
    assert daemon.proc.poll() is None


def test_config_set_through_cli(daemon):
    r = daemon.ctl("config", "set", "fiber.weight=90", "main.log_level=debug")
    assert r.returncode == 0, r.stderr
    assert "option weight '90'" in daemon.conf.read_text()
    assert daemon.request({"method": "members"})[0]["weight"] == 90
    assert daemon.request({"method": "info"})["log_level"] == "debug"

    before = daemon.conf.read_text()
    r = daemon.ctl("config", "set", "fiber.weight=0")
    assert r.returncode == 1
    assert "out of range" in r.stderr
    assert daemon.conf.read_text() == before

    r = daemon.ctl("--json", "config", "get")
    assert json.loads(r.stdout)["values"]["fiber"]["weight"] == 90


def test_setlog_and_events(daemon):
    assert daemon.ctl("setlog", "debug").returncode == 0
    ev = daemon.request({"method": "events", "params": {"limit": 5}})
    assert ev[0]["type"] == "log" and ev[0]["reason"] == "level"
    assert "start" in [e["reason"] for e in ev]


def test_second_instance_refused(daemon):
    r = subprocess.run([AUTONOMYD, "-f", "-c", str(daemon.conf), "-s", str(daemon.state)],
                       capture_output=True, text=True, timeout=10)
    assert r.returncode == 1
    assert "another autonomyd" in r.stderr
    assert daemon.request({"method": "info"})["pid"] == daemon.proc.pid


def test_clean_stop_writes_state_and_removes_socket(tmp_path):
    d = Daemon(tmp_path).start()
    assert d.stop() == 0
    assert not os.path.exists(d.sock)
    assert not os.path.exists(d.state / "autonomyd.pid")
    state = json.loads((d.state / "state.json").read_text())
    assert "active" in state
    assert "autonomyd stopping" in d.log()


@pytest.mark.skipif(shutil.which("valgrind") is None, reason="valgrind not installed")
def test_no_leaks_under_valgrind(tmp_path):
    d = Daemon(tmp_path, wrapper=["valgrind", "--leak-check=full", "--show-leak-kinds=definite,indirect",
                                  "--errors-for-leak-kinds=definite,indirect", "--error-exitcode=99",
                                  "-q"])
    d.start(timeout=60)
    d.request({"method": "status"})
    d.request({"method": "members"})
    d.request({"method": "config.get", "params": {"schema": True}})
    d.request({"method": "config.set", "params": {"values": {"lte.weight": 7}}})
    d.request({"method": "config.set", "params": {"values": {"lte.weight": "x"}}})
    with d.connect() as s:
        s.sendall(b"garbage\n" + b"y" * 70000)
        read_line(s)
    d.proc.send_signal(signal.SIGHUP)
    assert d.wait_log("configuration reloaded", timeout=20)
    assert d.stop(timeout=120) == 0, d.log()
