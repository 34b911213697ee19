"""lab/dishsim.py: the Starlink dish simulator, asked over real gRPC on 127.0.0.1.

Each test starts its own simulator (port 0, so no port race) with a state file in the
test's temporary directory, and changes that state with the `set` command as a person
would. The client's message classes are generated from src/collect/starlink.proto by
the simulator's own loader, so both ends use the contract and nothing else.
"""
import importlib.util
import json
import math
import os
import random
import select
import shutil
import signal
import socket
import subprocess
import sys
import time

import pytest

grpc = pytest.importorskip("grpc", reason="needs python3-grpcio")
pytest.importorskip("grpc_tools", reason="needs python3-grpc-tools")
from google.protobuf.message import DecodeError  # noqa: E402  (after the skips)

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
DISHSIM = os.path.join(ROOT, "lab", "dishsim.py")
PYTHON = "/usr/bin/python3" if os.path.exists("/usr/bin/python3") else sys.executable
METHOD = "/SpaceX.API.Device.Device/Handle"


def _load_dishsim():
    spec = importlib.util.spec_from_file_location("dishsim", DISHSIM)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


dishsim = _load_dishsim()
pb = dishsim.load_messages()

REQUEST_FIELD = {"status": "get_status", "history": "get_history", "device_info": "get_device_info"}


class Sim:
    """One simulator process and a client for it."""

    def __init__(self, tmp_path, *extra):
        self.dir = tmp_path
        self.state = str(tmp_path / "state.json")
        self.log = str(tmp_path / "dishsim.log")
        self.pidfile = str(tmp_path / "dishsim.pid")
        # The generated code must not outlive the start: TMPDIR lets us look.
        self.tmpdir = tmp_path / "tmp"
        self.tmpdir.mkdir(exist_ok=True)
        env = dict(os.environ, TMPDIR=str(self.tmpdir))
        self.proc = subprocess.Popen(
            [PYTHON, DISHSIM, "serve", "--listen", "127.0.0.1:0", "--state", self.state,
             "--log", self.log, "--pidfile", self.pidfile, *extra],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env)
        line = self._first_line(15.0)
        assert line.startswith("dishsim: listening on 127.0.0.1:"), line + self.log_text()
        self.port = int(line.rsplit(":", 1)[1])
        self.target = "127.0.0.1:%d" % self.port
        self.channel = grpc.insecure_channel(self.target)
        self.handle = self.channel.unary_unary(
            METHOD, request_serializer=pb.Request.SerializeToString,
            response_deserializer=pb.Response.FromString)
        self.raw = self.channel.unary_unary(METHOD)   # bytes in, bytes out

    def _first_line(self, timeout):
        ready, _, _ = select.select([self.proc.stdout], [], [], timeout)
        if not ready:
            return "(no output within %.0f s)" % timeout
        return self.proc.stdout.readline().decode(errors="replace").strip()

    def log_text(self):
        return open(self.log).read() if os.path.exists(self.log) else ""

    def set(self, *spec):
        r = subprocess.run([PYTHON, DISHSIM, "set", "--state", self.state, *spec],
                           capture_output=True, text=True, timeout=30)
        assert r.returncode == 0, r.stderr
        return r

    def call(self, what="status", timeout=3.0, req_id=7):
        req = pb.Request(id=req_id)
        getattr(req, REQUEST_FIELD[what]).SetInParent()
        return self.handle(req, timeout=timeout)

    def status(self):
        return self.call("status").dish_get_status

    def history(self):
        return self.call("history").dish_get_history

    def alive(self):
        return self.proc.poll() is None

    def stop(self):
        self.channel.close()
        if self.alive():
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc.stdout.close()
        return self.proc.returncode


@pytest.fixture
def start(tmp_path):
    sims = []

    def _start(*extra):
        sims.append(Sim(tmp_path, *extra))
        return sims[-1]

    yield _start
    for s in sims:
        s.stop()


@pytest.fixture
def sim(start):
    return start("--uptime", "1000")


def wait_for_current(sim, at_least, timeout=5.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        h = sim.history()
        if h.current >= at_least:
            return h
        time.sleep(0.1)
    raise AssertionError("history current did not reach %d" % at_least)


# --- status ----------------------------------------------------------------

def test_status_normal(sim):
    resp = sim.call("status", req_id=4242)
    assert resp.id == 4242 and resp.api_version == 25
    assert resp.WhichOneof("response") == "dish_get_status"
    st = resp.dish_get_status
    assert st.device_info.id == "ut01000000-00000000-00000000"
    assert st.device_info.hardware_version == "rev4_prod1"
    assert st.device_info.software_version.startswith("20")
    assert st.device_info.country_code == "US"
    assert st.device_info.bootcount > 0
    assert 1000 <= st.device_state.uptime_s < 1030
    assert not st.HasField("outage")
    assert st.pop_ping_drop_rate == 0.0
    assert 20.0 < st.pop_ping_latency_ms < 60.0
    assert st.downlink_throughput_bps > 0 and st.uplink_throughput_bps > 0
    ob = st.obstruction_stats
    assert ob.fraction_obstructed == 0.0 and not ob.currently_obstructed
    assert not ob.avg_prolonged_obstruction_valid
    assert math.isnan(ob.avg_prolonged_obstruction_interval_s)
    assert ob.valid_s >= 1000
    assert not any(v for _, v in st.alerts.ListFields())
    assert st.gps_stats.gps_valid and st.gps_stats.gps_sats > 0
    assert st.eth_speed_mbps == 1000
    assert st.is_snr_above_noise_floor
    assert st.software_update_state == 1 and st.disablement_code == 1
    assert not st.swupdate_reboot_ready


def test_status_values_have_noise_and_uptime_grows(sim):
    a, b = sim.status(), sim.status()
    assert a.pop_ping_latency_ms != b.pop_ping_latency_ms
    time.sleep(1.1)
    assert sim.status().device_state.uptime_s > a.device_state.uptime_s


def test_device_info(sim):
    resp = sim.call("device_info", req_id=9)
    assert resp.id == 9 and resp.WhichOneof("response") == "get_device_info"
    info = resp.get_device_info.device_info
    assert info.id == "ut01000000-00000000-00000000" and info.country_code == "US"
    assert info.bootcount == sim.status().device_info.bootcount


# --- outages ---------------------------------------------------------------

def test_outage_no_sats_then_clear(sim):
    sim.set("outage", "NO_SATS")
    before_ns = time.time_ns()
    st = sim.status()
    assert st.HasField("outage") and st.outage.cause == 5
    assert st.pop_ping_drop_rate == 1.0
    assert st.pop_ping_latency_ms == 0.0       # absent, as real firmware sends it
    assert abs(st.outage.start_timestamp_ns - before_ns) < 5 * 10**9
    first = st.outage.duration_ns
    time.sleep(1.2)
    st = sim.status()
    assert st.outage.duration_ns >= first + 10**9
    start_ns = st.outage.start_timestamp_ns

    sim.set("clear")
    st = sim.status()
    assert not st.HasField("outage") and st.pop_ping_drop_rate == 0.0
    assert 20.0 < st.pop_ping_latency_ms < 60.0
    outages = list(sim.history().outages)
    assert len(outages) == 1
    assert outages[0].cause == 5 and outages[0].start_timestamp_ns == start_ns
    assert outages[0].duration_ns >= 10**9


def test_outage_causes_by_number_and_unknown(sim):
    sim.set("outage", "42")                # open enum: numbers are always accepted
    assert sim.status().outage.cause == 42
    sim.set("outage", "unknown")           # cause 0 must still mark the outage present
    st = sim.status()
    assert st.HasField("outage") and st.outage.cause == 0
    sim.set("outage", "OBSTRUCTED")
    assert sim.status().outage.cause == 6
    sim.set("outage", "none")
    assert not sim.status().HasField("outage")
    # Every change of cause ended one outage and began another.
    assert [o.cause for o in sim.history().outages] == [42, 0, 6]


# --- obstruction, alerts, other settings --------------------------------------

def test_obstructed(sim):
    sim.set("obstructed", "0.3")
    st = sim.status()
    ob = st.obstruction_stats
    assert abs(ob.fraction_obstructed - 0.3) < 1e-6
    assert ob.currently_obstructed
    assert ob.avg_prolonged_obstruction_valid
    assert math.isfinite(ob.avg_prolonged_obstruction_interval_s)
    assert ob.avg_prolonged_obstruction_duration_s > 0
    assert 0.0 < st.pop_ping_drop_rate < 0.2
    assert not st.HasField("outage")
    sim.set("obstructed", "0.05")          # below the 0.1 threshold
    ob = sim.status().obstruction_stats
    assert abs(ob.fraction_obstructed - 0.05) < 1e-6 and not ob.currently_obstructed


def test_alerts(sim):
    sim.set("alert", "thermal_throttle")
    sim.set("alert", "roaming", "alert", "no_ethernet_link")
    alerts = sim.status().alerts
    on = sorted(f.name for f, v in alerts.ListFields() if v)
    assert on == ["no_ethernet_link", "roaming", "thermal_throttle"]
    sim.set("clear")
    assert not sim.status().alerts.ListFields()


def test_swupdate_latency_drop(sim):
    sim.set("swupdate", "on", "latency", "120", "drop", "0.25")
    samples = [sim.status() for _ in range(10)]
    assert all(s.swupdate_reboot_ready and s.software_update_state == 6 for s in samples)
    mean = sum(s.pop_ping_latency_ms for s in samples) / len(samples)
    assert 100 < mean < 140
    assert all(0.25 <= s.pop_ping_drop_rate < 0.26 for s in samples)
    sim.set("latency", "0")                # the firmware that reports 0
    assert sim.status().pop_ping_latency_ms == 0.0
    sim.set("swupdate", "off")
    st = sim.status()
    assert not st.swupdate_reboot_ready and st.software_update_state == 1


def test_hand_edited_state_file(sim):
    # A person writing the file in place (not atomically) is noticed too.
    with open(sim.state, "w") as f:
        json.dump({"outage": 6, "obstructed": 0.5}, f)
    st = sim.status()
    assert st.outage.cause == 6 and st.obstruction_stats.currently_obstructed
    # Broken JSON: the previous state stays, the server goes on and says why.
    with open(sim.state, "w") as f:
        f.write("{not json")
    assert sim.status().outage.cause == 6
    assert "unreadable" in sim.log_text()
    # One bad value falls back to its default, the rest applies.
    with open(sim.state, "w") as f:
        json.dump({"outage": "NO_SUCH", "alerts": ["roaming"]}, f)
    st = sim.status()
    assert not st.HasField("outage") and st.alerts.roaming
    assert sim.alive()


# --- history ---------------------------------------------------------------

def test_history_current_advances_once_a_second(sim):
    t0, c0 = time.monotonic(), sim.history().current
    time.sleep(2.5)
    t1, c1 = time.monotonic(), sim.history().current
    assert abs((c1 - c0) - (t1 - t0)) <= 1.0


def test_history_ring_full(sim):
    h = sim.history()
    assert h.current >= 1000
    for name in ("pop_ping_drop_rate", "pop_ping_latency_ms", "downlink_throughput_bps",
                 "uplink_throughput_bps", "power_in"):
        assert len(getattr(h, name)) == 900, name
    assert all(v == 0.0 for v in h.pop_ping_drop_rate)
    assert all(20 < v < 60 for v in h.pop_ping_latency_ms)
    assert all(30 < v < 60 for v in h.power_in)

    c0 = h.current                          # samples before c0 were written before the outage
    sim.set("outage", "NO_SATS")
    c1 = sim.history().current              # samples from c1 on are written during it
    h = wait_for_current(sim, c1 + 3)
    c2 = h.current
    drop, lat = h.pop_ping_drop_rate, h.pop_ping_latency_ms
    for n in range(c1, c2):                 # sample n sits at n % 900: the ring wraps
        assert drop[n % 900] == 1.0 and lat[n % 900] == 0.0, n
    for n in range(c0 - 5, c0):
        assert drop[n % 900] == 0.0 and lat[n % 900] > 0, n
    # The newest sample is just before the oldest one, in the middle of the array.
    assert drop[(c2 - 1) % 900] == 1.0
    assert drop[c2 % 900] == 0.0
    assert 0 < (c2 - 1) % 900 < 899


def test_history_ring_written_mode(start):
    sim = start("--ring", "written")
    h = sim.history()
    assert h.current < 3
    assert len(h.pop_ping_drop_rate) == h.current
    h = wait_for_current(sim, 2)
    for name in ("pop_ping_drop_rate", "pop_ping_latency_ms", "downlink_throughput_bps",
                 "uplink_throughput_bps", "power_in"):
        assert len(getattr(h, name)) == h.current, name


def test_history_full_mode_before_the_ring_fills(start):
    sim = start()                           # uptime 0, default ring "full"
    h = wait_for_current(sim, 2)
    assert len(h.pop_ping_latency_ms) == 900
    valid = h.pop_ping_latency_ms[:h.current]
    assert all(v > 0 for v in valid)        # written samples come first...
    assert all(v == 0.0 for v in h.pop_ping_latency_ms[h.current:])   # ...then unwritten


def test_reboot_resets_current(sim):
    before = sim.status()
    assert sim.history().current >= 1000
    sim.set("outage", "NO_SATS")
    sim.set("outage", "none")
    assert len(sim.history().outages) == 1
    sim.set("reboot")
    st = sim.status()
    assert st.device_info.bootcount == before.device_info.bootcount + 1
    assert st.device_state.uptime_s < 3
    h = sim.history()
    assert h.current < 3 and not h.outages
    assert sim.call("device_info").get_device_info.device_info.bootcount == st.device_info.bootcount
    # `clear` keeps the counter: no second reboot, and no missed one later.
    sim.set("clear")
    assert sim.status().device_info.bootcount == st.device_info.bootcount
    sim.set("reboot")
    assert sim.status().device_info.bootcount == st.device_info.bootcount + 1


# --- failure modes -----------------------------------------------------------

def test_hang_hits_the_client_deadline_and_frees_the_server(sim):
    sim.set("hang")
    t0 = time.monotonic()
    with pytest.raises(grpc.RpcError) as e:
        sim.call("status", timeout=0.5)
    elapsed = time.monotonic() - t0
    assert e.value.code() == grpc.StatusCode.DEADLINE_EXCEEDED
    assert 0.4 <= elapsed < 2.0
    # More hung calls than the server has worker threads: if a worker were not
    # released when its client gave up, the normal call below would starve.
    req = pb.Request(id=1, get_status=pb.GetStatusRequest())
    futures = [sim.handle.future(req, timeout=0.5) for _ in range(dishsim.MAX_WORKERS + 8)]
    for f in futures:
        assert f.exception(timeout=10).code() == grpc.StatusCode.DEADLINE_EXCEEDED
    sim.set("normal")
    t0 = time.monotonic()
    assert sim.call("status", timeout=3.0).dish_get_status.device_info.id
    assert time.monotonic() - t0 < 1.5


def test_garbage_cannot_be_parsed(sim):
    sim.set("garbage")
    for what in ("status", "history", "device_info"):
        with pytest.raises(grpc.RpcError) as e:
            sim.call(what)
        assert e.value.code() == grpc.StatusCode.INTERNAL   # the client's deserializer failed
        req = pb.Request(id=1)
        getattr(req, REQUEST_FIELD[what]).SetInParent()
        data = sim.raw(req.SerializeToString(), timeout=3)
        assert data
        with pytest.raises(DecodeError):
            pb.Response.FromString(data)
    sim.set("normal")
    assert sim.status().eth_speed_mbps == 1000


def test_error_mode_is_unavailable(sim):
    sim.set("error")
    with pytest.raises(grpc.RpcError) as e:
        sim.call("status")
    assert e.value.code() == grpc.StatusCode.UNAVAILABLE and "simulated" in e.value.details()
    sim.set("normal")
    assert sim.status().eth_speed_mbps == 1000


def test_unknown_requests_are_unimplemented(sim):
    def code(data, method=METHOD):
        with pytest.raises(grpc.RpcError) as e:
            sim.channel.unary_unary(method)(data, timeout=3)
        return e.value.code()

    assert code(pb.Request(id=1).SerializeToString()) == grpc.StatusCode.UNIMPLEMENTED
    # reboot (1001) and dish_stow (2002): requests the real dish knows, our contract not.
    assert code(b"\x08\x01\xca\x3e\x00") == grpc.StatusCode.UNIMPLEMENTED
    assert code(b"\x92\x7d\x02\x08\x01") == grpc.StatusCode.UNIMPLEMENTED
    assert code(b"", "/SpaceX.API.Device.Device/Stream") == grpc.StatusCode.UNIMPLEMENTED


def test_malformed_requests_are_invalid_argument(sim):
    for data in (b"\x08", b"\xe2\x3e\x05ab", b"\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff"):
        with pytest.raises(grpc.RpcError) as e:
            sim.raw(data, timeout=3)
        assert e.value.code() == grpc.StatusCode.INVALID_ARGUMENT, data
    assert sim.status().eth_speed_mbps == 1000 and sim.alive()


def test_survives_raw_tcp_junk(sim):
    rng = random.Random(1)
    junk = [
        bytes(rng.getrandbits(8) for _ in range(4096)),
        b"GET / HTTP/1.1\r\nHost: dish\r\n\r\n",
        b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + bytes(rng.getrandbits(8) for _ in range(512)),
        b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\x00\x00\x00\x04\x00\x00\x00\x00\x00"
        b"\x00\x10\x00\x01\x05\x00\x00\x00\x01" + b"\xff" * 16,   # a HEADERS frame of junk
    ]
    for data in junk:
        with socket.create_connection(("127.0.0.1", sim.port), timeout=3) as s:
            s.sendall(data)
            s.settimeout(2)
            try:
                while s.recv(65536):
                    pass
            except (socket.timeout, ConnectionResetError):
                pass
    # Half a connection left open while the next client is served.
    idle = socket.create_connection(("127.0.0.1", sim.port), timeout=3)
    try:
        assert sim.status().eth_speed_mbps == 1000
    finally:
        idle.close()
    assert sim.alive()


@pytest.mark.skipif(shutil.which("curl") is None, reason="curl not installed")
def test_curl_http2_prior_knowledge(sim, tmp_path):
    msg = pb.Request(id=77, get_status=pb.GetStatusRequest()).SerializeToString()
    body = tmp_path / "req.bin"
    body.write_bytes(b"\x00" + len(msg).to_bytes(4, "big") + msg)
    out = tmp_path / "resp.bin"
    r = subprocess.run(
        ["curl", "-sS", "--http2-prior-knowledge", "--max-time", "5", "-o", str(out),
         "-w", "%{http_version} %{http_code}", "-X", "POST",
         "-H", "content-type: application/grpc", "-H", "te: trailers",
         "--data-binary", "@" + str(body),
         "http://%s/SpaceX.API.Device.Device/Handle" % sim.target],
        capture_output=True, text=True, timeout=30)
    assert r.returncode == 0, r.stderr
    assert r.stdout == "2 200"
    data = out.read_bytes()
    assert data[0] == 0 and int.from_bytes(data[1:5], "big") == len(data) - 5
    resp = pb.Response.FromString(data[5:])
    assert resp.id == 77 and resp.dish_get_status.device_info.country_code == "US"


# --- command line ------------------------------------------------------------

def run_cli(*args):
    return subprocess.run([PYTHON, DISHSIM, *args], capture_output=True, text=True, timeout=30)


def test_set_validation(tmp_path):
    state = str(tmp_path / "state.json")
    assert run_cli("set", "--state", state, "outage", "NO_SATS").returncode == 0
    saved = open(state).read()
    bad = {
        ("outage", "NO_SUCH"): "NO_SATS (5)",        # the error lists the valid names
        ("alert", "bogus"): "thermal_throttle",
        ("obstructed", "1.5"): "0..1",
        ("obstructed", "x"): "not a number",
        ("latency", "-3"): "latency",
        ("swupdate", "maybe"): "on or off",
        ("latency",): "needs 1 argument",
        ("explode",): "unknown SPEC",
        ("clear", "outage"): "needs 1 argument",
    }
    for spec, words in bad.items():
        r = run_cli("set", "--state", state, *spec)
        assert r.returncode == 2, spec
        assert words in r.stderr, (spec, r.stderr)
    assert open(state).read() == saved           # a failed `set` changes nothing
    state_now = json.loads(saved)
    assert state_now["outage"] == "NO_SATS" and state_now["mode"] == "normal"
    assert run_cli("set", "--state", state, "outage", "99", "hang", "reboot").returncode == 0
    s = json.loads(open(state).read())
    assert (s["outage"], s["mode"], s["reboot"]) == (99, "hang", 1)
    assert [p.name for p in tmp_path.iterdir()] == ["state.json"]   # no temp or lock files


def test_get_command_prints_json(sim):
    sim.set("outage", "NO_SATS")
    r = run_cli("get", "--target", sim.target, "status")
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert out["dish_get_status"]["outage"]["cause"] == 5
    r = run_cli("get", "--target", sim.target, "history")
    out = json.loads(r.stdout)["dish_get_history"]
    assert int(out["current"]) >= 1000 and len(out["pop_ping_drop_rate"]) == 900
    sim.set("error")
    r = run_cli("get", "--target", sim.target, "--timeout", "1", "device_info")
    assert r.returncode == 1 and "UNAVAILABLE" in r.stderr


def test_lifecycle(start):
    sim = start()
    assert int(open(sim.pidfile).read()) == sim.proc.pid
    assert list(sim.tmpdir.iterdir()) == []        # generated code removed right after loading
    assert sim.status().eth_speed_mbps == 1000
    assert json.load(open(sim.state))["mode"] == "normal"   # created with the defaults
    # A second simulator on the same port must fail, not share it (SO_REUSEPORT).
    r = subprocess.run([PYTHON, DISHSIM, "serve", "--listen", sim.target,
                        "--state", str(sim.dir / "other.json")],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 1 and "cannot listen" in r.stderr
    assert sim.stop() == 0
    assert not os.path.exists(sim.pidfile)
    assert list(sim.tmpdir.iterdir()) == []
    assert "listening on 127.0.0.1:%d" % sim.port in sim.log_text()
    assert "stopped" in sim.log_text()
