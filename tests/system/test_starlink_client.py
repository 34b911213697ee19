"""The Starlink gRPC client against the dish simulator (lab/dishsim.py, real
gRPC over h2c from grpcio) on 127.0.0.1. A small driver (sltool.c) is compiled
against the client's sources; it runs one client on a real libev loop, takes
commands on stdin and prints every call's end as a JSON line. No root needed.
"""
import json
import os
import select
import shutil
import socket
import subprocess
import sys
import time

import pytest

from conftest import ROOT

DISHSIM = os.path.join(ROOT, "lab", "dishsim.py")
PY = "/usr/bin/python3" if os.path.exists("/usr/bin/python3") else sys.executable


def have_grpc():
    r = subprocess.run([PY, "-c", "import grpc, grpc_tools, google.protobuf"],
                       capture_output=True)
    return r.returncode == 0


def pkg_config(*pkgs):
    r = subprocess.run(["pkg-config", "--cflags", "--libs"] + list(pkgs),
                       capture_output=True, text=True)
    return r.stdout.split() if r.returncode == 0 else None


pytestmark = pytest.mark.skipif(
    not shutil.which("gcc") or not shutil.which("protoc-c")
    or pkg_config("json-c", "libnghttp2", "libprotobuf-c") is None,
    reason="needs gcc, protoc-c and the json-c, libnghttp2, libprotobuf-c headers")


@pytest.fixture(scope="module")
def sltool(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("sltool")
    gen = tmp / "collect"
    gen.mkdir()
    r = subprocess.run(["protoc-c", "--c_out=" + str(gen), "-Isrc/collect",
                        "src/collect/starlink.proto"], cwd=ROOT, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    out = str(tmp / "sltool")
    srcs = ["tests/system/sltool.c", "src/collect/starlink.c", "src/collect/grpc.c",
            "src/core/log.c", "src/core/util.c", str(gen / "starlink.pb-c.c")]
    r = subprocess.run(["gcc", "-std=gnu11", "-Wall", "-Wextra", "-Werror", "-O1", "-g",
                        "-Isrc", "-I" + str(tmp), "-D_GNU_SOURCE", "-o", out] + srcs
                       + pkg_config("json-c", "libnghttp2", "libprotobuf-c") + ["-lev", "-lm"],
                       cwd=ROOT, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    return out


class Dish:
    """lab/dishsim.py serving on 127.0.0.1, any free port."""

    def __init__(self, tmp):
        self.state = str(tmp / "dish.json")
        self.logfile = str(tmp / "dishsim.log")
        self.errfile = tmp / "dishsim.err"
        with open(self.errfile, "w") as err:
            self.proc = subprocess.Popen(
                [PY, DISHSIM, "serve", "--listen", "127.0.0.1:0", "--state", self.state,
                 "--log", self.logfile, "--seed", "1"],
                stdout=subprocess.PIPE, stderr=err)
        line = LineReader(self.proc.stdout).line(30)
        if "listening on" not in line:
            self.proc.kill()
            raise RuntimeError("dishsim did not start: %r %s" % (line, self.errfile.read_text()))
        self.addr = line.split("listening on ")[1].strip()

    def set(self, *spec):
        r = subprocess.run([PY, DISHSIM, "set", "--state", self.state] + list(spec),
                           capture_output=True, text=True, timeout=30)
        assert r.returncode == 0, r.stderr

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


class LineReader:
    """Lines from a pipe with a timeout (select on the fd, our own buffer: a
    file object's buffer would hide lines that have already arrived)."""

    def __init__(self, f):
        self.fd = f.fileno()
        self.buf = b""

    def line(self, timeout):
        deadline = time.monotonic() + timeout
        while b"\n" not in self.buf:
            ready, _, _ = select.select([self.fd], [], [], max(0.0, deadline - time.monotonic()))
            if not ready:
                return ""
            chunk = os.read(self.fd, 65536)
            if not chunk:
                return ""
            self.buf += chunk
        text, self.buf = self.buf.split(b"\n", 1)
        return text.decode() + "\n"


@pytest.fixture(scope="module")
def dish_server(tmp_path_factory):
    if not os.path.exists(DISHSIM):
        pytest.skip("lab/dishsim.py (the dish simulator) does not exist yet")
    if not have_grpc():
        pytest.skip("the dish simulator needs python3-grpcio, python3-grpc-tools, python3-protobuf")
    d = Dish(tmp_path_factory.mktemp("dish"))
    yield d
    d.stop()


@pytest.fixture
def dish(dish_server):
    dish_server.set("clear", "normal")
    return dish_server


class Tool:
    """One sltool process: one client, one connection (while it lasts)."""

    def __init__(self, path, addr, tmp, timeout_ms=1000, device=None):
        self.errpath = tmp / "sltool.err"
        self.err = open(self.errpath, "w")
        extra = ["--device", device] if device else []
        self.proc = subprocess.Popen([path, "--timeout", str(timeout_ms)] + extra + [addr],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=self.err, text=True, bufsize=1)
        self.out = LineReader(self.proc.stdout)

    def cmd(self, line, n=1, timeout=10.0):
        """Sends a command and returns its n JSON lines."""
        self.proc.stdin.write(line + "\n")
        self.proc.stdin.flush()
        out = []
        deadline = time.monotonic() + timeout
        while len(out) < n:
            text = self.out.line(max(0.0, deadline - time.monotonic()))
            assert text, "sltool said nothing to %r (got %r); stderr: %s" % (line, out, self.log())
            out.append(json.loads(text))
        return out

    def call(self, what, **kw):
        return self.cmd(what, 1, **kw)[0]

    def stats(self):
        return self.cmd("stats")[0]["stats"]

    def log(self):
        self.err.flush()
        return self.errpath.read_text()

    def close(self):
        if self.proc.poll() is None:
            self.proc.stdin.write("quit\n")
            self.proc.stdin.close()
            self.proc.wait(10)
        self.err.close()
        return self.proc.returncode


@pytest.fixture
def tool(sltool, dish, tmp_path):
    t = Tool(sltool, dish.addr, tmp_path)
    yield t
    assert t.close() == 0, t.log()


def ok(res, what):
    assert res["call"] == what
    assert res["ok"], res
    return res["result"]


def test_normal_status_and_device_info(tool):
    st = ok(tool.call("status"), "status")
    assert 1.0 <= st["pop_ping_latency_ms"] <= 200.0
    assert 0.0 <= st["pop_ping_drop_rate"] <= 1.0
    assert st["downlink_bps"] > 0 and st["uplink_bps"] > 0
    assert st["outage"] is False and st["alerts"] == []
    assert st["device_info"]["id"] == "ut01000000-00000000-00000000"
    assert st["device_info"]["bootcount"] >= 0
    assert st["eth_speed_mbps"] == 1000 and st["gps_valid"] is True
    # the simulator sends NaN for the interval while nothing is obstructed
    assert st["avg_prolonged_interval_s"] is None
    info = ok(tool.call("info"), "device_info")
    assert info["id"] == "ut01000000-00000000-00000000"
    assert info["hardware_version"] == "rev4_prod1"
    assert info["software_version"] and info["country_code"] == "US"
    assert "connected to the dish at" in tool.log()


def test_outage_no_sats(tool, dish):
    dish.set("outage", "NO_SATS")
    st = ok(tool.call("status"), "status")
    assert st["outage"] is True
    assert st["outage_cause"] == 5 and st["outage_cause_name"] == "NO_SATS"
    assert st["pop_ping_drop_rate"] == 1.0
    assert st["pop_ping_latency_ms"] is None
    dish.set("outage", "99")
    st = ok(tool.call("status"), "status")
    assert st["outage"] is True and st["outage_cause"] == 99
    assert st["outage_cause_name"] == "CAUSE_99"
    dish.set("clear")
    st = ok(tool.call("status"), "status")
    assert st["outage"] is False


def test_obstructed(tool, dish):
    dish.set("obstructed", "0.3")
    st = ok(tool.call("status"), "status")
    assert st["fraction_obstructed"] == pytest.approx(0.3, abs=1e-6)
    assert st["currently_obstructed"] is True
    assert st["avg_prolonged_valid"] is True
    assert st["avg_prolonged_interval_s"] == pytest.approx(200.0, rel=1e-4)


def test_alerts(tool, dish):
    dish.set("alert", "thermal_throttle", "alert", "roaming")
    st = ok(tool.call("status"), "status")
    assert sorted(st["alerts"]) == ["roaming", "thermal_throttle"]
    assert st["alerts_mask"] == (1 << 3) | (1 << 7)
    dish.set("clear")
    assert ok(tool.call("status"), "status")["alerts"] == []


def test_history(tool, dish):
    h = ok(tool.call("history"), "history")
    assert h["ring_len"] == 900
    assert h["samples"] == min(900, h["current"])
    assert h["rebooted"] is False
    if h["window_samples"]:
        assert 1.0 <= h["latency_avg_ms"] <= 200.0
    dish.set("outage", "NO_SATS")
    time.sleep(2.5)
    h2 = ok(tool.call("history"), "history")
    assert h2["current"] >= h["current"] + 2
    assert h2["full_drop_samples"] >= 1
    # outage samples carry latency 0: never part of the average
    if h2["latency_avg_ms"] is not None:
        assert h2["latency_avg_ms"] >= 1.0
    dish.set("clear")
    h3 = ok(tool.call("history"), "history")
    assert h3["outages"] >= 1 and h3["outage_s"] > 0
    assert h3["last_outage_cause"] == 5
    dish.set("reboot")
    h4 = ok(tool.call("history"), "history")
    assert h4["rebooted"] is True and h4["current"] < h3["current"]
    assert ok(tool.call("history"), "history")["rebooted"] is False


def test_hang_times_out_then_reconnects(tool, dish):
    ok(tool.call("status"), "status")
    dish.set("hang")
    res = tool.call("status")
    assert res["ok"] is False and res["error"] == "timeout"
    assert 1000.0 <= res["ms"] < 1300.0
    st = tool.stats()
    assert st["state"] == "down" and st["backoff_ms"] == 1000
    dish.set("normal")
    # the next call waits for the reconnect (backoff 1 s ends before its deadline)
    ok(tool.call("status"), "status")
    st = tool.stats()
    assert st["connects"] == 2 and st["state"] == "up" and st["backoff_ms"] == 0
    assert "lost the dish at %s: timeout" % dish.addr in tool.log()


def test_hang_all_calls(tool, dish):
    dish.set("hang")
    res = tool.cmd("all", 3)
    assert sorted(r["call"] for r in res) == ["device_info", "history", "status"]
    assert all(not r["ok"] and r["error"] == "timeout" for r in res)
    assert all(r["ms"] < 1300.0 for r in res)


def test_garbage(tool, dish):
    ok(tool.call("status"), "status")
    dish.set("garbage")
    for _ in range(3):
        res = tool.cmd("all", 3)
        for r in res:
            assert r["ok"] is False
            assert r["error"].startswith("bad protobuf: "), r
    dish.set("normal")
    ok(tool.call("status"), "status")
    # garbage is an answer: the connection stays, and it is logged once per kind
    st = tool.stats()
    assert st["connects"] == 1 and st["calls_failed"] == 9
    log = tool.log()
    assert log.count("bad status answer") == 1
    assert log.count("bad history answer") == 1
    assert "status answers from %s are good again" % dish.addr in log


def test_grpc_error(tool, dish):
    dish.set("error")
    res = tool.call("status")
    assert res["ok"] is False
    assert res["error"] == "grpc-status 14 (UNAVAILABLE): simulated dish error (mode error)"
    dish.set("normal")
    ok(tool.call("status"), "status")
    assert tool.stats()["connects"] == 1


def test_connection_reuse(tool):
    for _ in range(20):
        res = tool.cmd("all", 3)
        assert all(r["ok"] for r in res), res
    st = tool.stats()
    assert st["connects"] == 1 and st["calls_ok"] == 60 and st["calls_failed"] == 0


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_nothing_listening(sltool, tmp_path):
    addr = "127.0.0.1:%d" % free_port()
    t = Tool(sltool, addr, tmp_path, timeout_ms=500)
    try:
        res = t.call("status")
        assert res["ok"] is False
        assert res["error"] == "connect %s: Connection refused" % addr
        assert res["ms"] < 100
        # in backoff (1 s, longer than the 500 ms deadline): fails at once
        res = t.call("history")
        assert res["error"].startswith("not connected: connect %s: Connection refused" % addr)
        assert "next attempt in" in res["error"] and res["ms"] < 100
        assert t.stats()["backoff_ms"] == 1000
        time.sleep(1.2)
        res = t.call("status")
        assert res["error"] == "connect %s: Connection refused" % addr
        st = t.stats()
        assert st["backoff_ms"] == 2000 and st["connects"] == 0
        assert t.log().count("cannot reach the dish at") == 1
    finally:
        assert t.close() == 0


def test_bound_to_device(sltool, dish, tmp_path):
    """SO_BINDTODEVICE: through lo the dish answers; a missing device is an error."""
    t = Tool(sltool, dish.addr, tmp_path, device="lo")
    try:
        res = t.call("status")
        if not res["ok"] and "Operation not permitted" in res.get("error", ""):
            pytest.skip("SO_BINDTODEVICE needs CAP_NET_RAW here")
        ok(res, "status")
    finally:
        assert t.close() == 0
    t = Tool(sltool, dish.addr, tmp_path, device="nosuchdev0")
    try:
        res = t.call("status")
        assert res["ok"] is False
        assert res["error"] in ("socket on nosuchdev0: No such device",
                                "socket on nosuchdev0: Operation not permitted"), res
    finally:
        assert t.close() == 0
