"""nlmon and the route controller against a real kernel.

Each test gets a throwaway network namespace (ar-nltest-<pid>) with three
members a0, b0, c0: veth pairs whose peers (a1, b1, c1) act as the far end,
so setting a peer down takes the member's carrier away. Every member has an
IPv4 and an IPv6 address and default routes at metrics 100, 200, 300.

The driver, tests/system/nltool.c, is built here from the real modules and
runs inside the namespace; it prints nlmon's callbacks as JSON lines and
applies rankings read from stdin (see its header). NLTOOL_CFLAGS adds compiler
flags, e.g. NLTOOL_CFLAGS=-fsanitize=address,undefined."""
import json
import os
import queue
import shutil
import subprocess
import threading
import time

import pytest

from conftest import ROOT

pytestmark = pytest.mark.skipif(
    os.geteuid() != 0 or not shutil.which("ip") or not shutil.which("gcc"),
    reason="needs root, iproute2 and gcc")

MEMBERS = {"a0": 1, "b0": 2, "c0": 3}		# device -> subnet number (metric = n * 100)
SOURCES = ["tests/system/nltool.c", "src/netlink/nlmon.c", "src/control/route.c",
           "src/core/log.c", "src/core/util.c"]


def pkg_config(*args):
    return subprocess.run(["pkg-config"] + list(args), check=True, capture_output=True,
                          text=True).stdout.split()


def build(outdir, name, defines=()):
    out = str(outdir / name)
    cmd = (["gcc", "-std=gnu11", "-Wall", "-Wextra", "-Werror", "-g", "-O1", "-D_GNU_SOURCE",
            "-Isrc"] + list(defines) + pkg_config("--cflags", "libmnl", "json-c")
           + os.environ.get("NLTOOL_CFLAGS", "").split()
           + ["-o", out] + SOURCES + pkg_config("--libs", "libmnl", "json-c") + ["-lev"])
    r = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    return out


@pytest.fixture(scope="module")
def nltool_bin(tmp_path_factory):
    return build(tmp_path_factory.mktemp("nltool"), "nltool")


@pytest.fixture(scope="module")
def nltool_small_bin(tmp_path_factory):
    # A receive buffer the kernel rounds up to its minimum: easy to overflow.
    return build(tmp_path_factory.mktemp("nltool-small"), "nltool", ["-DNLMON_RCVBUF=1024"])


class Net:
    def __init__(self, name):
        self.name = name

    def ip(self, *args, check=True):
        r = subprocess.run(["ip", "-n", self.name] + list(args), capture_output=True, text=True)
        if check:
            assert r.returncode == 0, "ip %s: %s" % (" ".join(args), r.stderr)
        return r

    def defaults(self, family=4):
        """{dev: sorted metrics} of the default routes in the main table."""
        out = self.ip("-j", "-%d" % family, "route", "show", "default", "table", "main").stdout
        routes = {}
        for r in json.loads(out or "[]"):
            routes.setdefault(r.get("dev"), []).append(r.get("metric", 0))
        return {dev: sorted(m) for dev, m in routes.items()}

    def setup_members(self):
        for dev, n in MEMBERS.items():
            peer = dev[0] + "1"
            self.ip("link", "add", dev, "type", "veth", "peer", "name", peer)
            self.ip("link", "set", dev, "up")
            self.ip("link", "set", peer, "up")
            self.ip("addr", "add", "10.0.%d.2/24" % n, "dev", dev)
            self.ip("-6", "addr", "add", "2001:db8:%d::2/64" % n, "dev", dev, "nodad")
            self.ip("route", "add", "default", "via", "10.0.%d.1" % n, "dev", dev,
                    "metric", str(n * 100))
            self.ip("-6", "route", "add", "default", "via", "2001:db8:%d::1" % n, "dev", dev,
                    "metric", str(n * 100))


@pytest.fixture
def net():
    n = Net("ar-nltest-%d" % os.getpid())
    subprocess.run(["ip", "netns", "del", n.name], capture_output=True)	# a leftover
    subprocess.run(["ip", "netns", "add", n.name], check=True)
    try:
        n.setup_members()
        yield n
    finally:
        subprocess.run(["ip", "netns", "del", n.name], capture_output=True)


class Tool:
    """nltool running in the namespace; its output lines land in a queue."""

    def __init__(self, binary, net, logfile, args=()):
        self.logfile = logfile
        self.events = []
        self.lines = queue.Queue()
        self.proc = subprocess.Popen(
            ["ip", "netns", "exec", net.name, binary] + list(args),
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=open(logfile, "w"), text=True)
        threading.Thread(target=self._read, daemon=True).start()
        assert self._next(10) == {"ready": True}, self.log()

    def _read(self):
        for line in self.proc.stdout:
            self.lines.put(json.loads(line))
        self.lines.put(None)

    def _next(self, timeout):
        try:
            msg = self.lines.get(timeout=timeout)
        except queue.Empty:
            raise AssertionError("nltool said nothing for %s s; log:\n%s" % (timeout, self.log()))
        assert msg is not None, "nltool exited; log:\n" + self.log()
        if "event" in msg:
            self.events.append(msg)
        return msg

    def log(self):
        with open(self.logfile) as f:
            return f.read()

    def cmd(self, line, timeout=10):
        """Sends a command and returns its reply; events meanwhile are kept."""
        self.proc.stdin.write(line + "\n")
        self.proc.stdin.flush()
        word = line.split()[0]
        deadline = time.monotonic() + timeout
        while True:
            msg = self._next(max(0.1, deadline - time.monotonic()))
            if msg.get("reply") == word:
                return msg

    def wait_event(self, pred, timeout=5):
        """The first event (already seen or coming) for which pred is true."""
        for e in self.events:
            if pred(e):
                return e
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                msg = self._next(max(0.05, deadline - time.monotonic()))
            except AssertionError:
                break
            if "event" in msg and pred(msg):
                return msg
        raise AssertionError("no such event; events:\n%s\nlog:\n%s" %
                             ("\n".join(map(json.dumps, self.events)), self.log()))

    def settle(self, quiet=0.3):
        """Collects events until none arrive for `quiet` seconds."""
        while True:
            try:
                msg = self.lines.get(timeout=quiet)
            except queue.Empty:
                return
            if msg is None:
                return
            if "event" in msg:
                self.events.append(msg)

    def stop(self):
        if self.proc.poll() is None:
            try:
                self.proc.stdin.write("quit\n")
                self.proc.stdin.flush()
            except BrokenPipeError:
                pass
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode


@pytest.fixture
def tool(nltool_bin, net, tmp_path):
    t = Tool(nltool_bin, net, str(tmp_path / "nltool.log"))
    yield t
    assert t.stop() == 0, t.log()


def link(state, name):
    return next(l for l in state["links"] if l["name"] == name)


def for_dev(dev, *bits):
    return lambda e: e["event"] == dev and all(b in e["changed"] for b in bits)


def test_initial_state(tool):
    state = tool.cmd("state")
    for dev, n in MEMBERS.items():
        l = link(state, dev)
        assert l["up"] and l["carrier"]
        assert l["addr4"] == "10.0.%d.2" % n
        assert l["addr6"] == "2001:db8:%d::2" % n
        assert l["default4"] and l["default6"]
    routes = {(r["dev"], r["family"]): (r["gw"], r["metric"]) for r in state["routes"]}
    assert routes[("b0", 4)] == ("10.0.2.1", 200)
    assert routes[("c0", 6)] == ("2001:db8:3::1", 300)
    assert len(routes) == 6
    # The initial dump is state, not change: no callbacks for it.
    tool.settle()
    assert tool.events == []


def test_carrier_down_and_up(tool, net):
    net.ip("link", "set", "a1", "down")
    e = tool.wait_event(for_dev("a0", "carrier"))
    # One callback says it all; the routes stay (the kernel marks them linkdown).
    assert e["link"]["carrier"] is False and e["link"]["up"] is True
    assert e["link"]["default4"] is True
    assert "linkdown" in net.ip("route", "show", "default", "dev", "a0").stdout

    tool.events.clear()
    net.ip("link", "set", "a1", "up")
    e = tool.wait_event(for_dev("a0", "carrier"))
    assert e["link"]["carrier"] is True


def test_address_removed(tool, net):
    net.ip("-6", "addr", "del", "2001:db8:1::2/64", "dev", "a0")
    e = tool.wait_event(for_dev("a0", "addr"))
    assert e["link"]["addr6"] is None and e["link"]["addr4"] == "10.0.1.2"

    # The last IPv4 address goes: the kernel flushes a0's IPv4 default route
    # without any RTM_DELROUTE, and nlmon finds out by reading the routes again.
    tool.events.clear()
    net.ip("addr", "del", "10.0.1.2/24", "dev", "a0")
    e = tool.wait_event(for_dev("a0", "addr"))
    assert e["link"]["addr4"] is None
    e = tool.wait_event(lambda e: e["event"] == "a0" and e["link"]["default4"] is False)
    assert "route" in e["changed"]
    assert "a0" not in net.defaults(4)


def test_default_route_deleted(tool, net):
    net.ip("route", "del", "default", "via", "10.0.2.1", "dev", "b0")
    e = tool.wait_event(for_dev("b0", "route"))
    assert e["link"]["default4"] is False and e["link"]["default6"] is True
    state = tool.cmd("state")
    assert not link(state, "b0")["default4"]
    assert all(r["dev"] != "b0" or r["family"] == 6 for r in state["routes"])


def test_admin_down_reports_carrier_and_routes_at_once(tool, net):
    net.ip("link", "set", "c0", "down")
    e = tool.wait_event(for_dev("c0", "carrier"))
    assert "route" in e["changed"]
    assert e["link"]["up"] is False
    assert e["link"]["default4"] is False and e["link"]["default6"] is False
    tool.settle()
    assert not link(tool.cmd("state"), "c0")["default4"]


def test_apply_idempotent_and_fini_restores(tool, net):
    assert tool.cmd("apply b0 a0 c0")["rc"] == 0
    want = {"b0": [10], "a0": [11], "c0": [12]}
    assert net.defaults(4) == want
    assert net.defaults(6) == want
    first = net.ip("route", "show", "default").stdout.splitlines()[0]
    assert "dev b0" in first and "metric 10" in first
    assert "route: b0 default metric 200 -> 10" in tool.log()
    # nlmon saw every move.
    tool.wait_event(lambda e: e["event"] == "b0" and "route" in e["changed"])
    tool.settle()

    # Again: nothing at all reaches the kernel (ip monitor stays silent).
    mon = subprocess.Popen(["ip", "-n", net.name, "monitor", "route"],
                           stdout=subprocess.PIPE, text=True)
    try:
        time.sleep(0.3)
        tool.events.clear()
        assert tool.cmd("apply b0 a0 c0")["rc"] == 0
        tool.settle()
    finally:
        mon.terminate()
        out = mon.communicate(timeout=5)[0]
    assert out == ""
    assert tool.events == []
    assert "route: default routes already in place" in tool.log()
    assert "route: IPv6 default routes already in place" in tool.log()

    # A full reversal, then back to what the kernel had before us.
    assert tool.cmd("apply c0 a0 b0")["rc"] == 0
    assert net.defaults(4) == {"c0": [10], "a0": [11], "b0": [12]}
    assert tool.cmd("fini")["rc"] == 0
    assert net.defaults(4) == {"a0": [100], "b0": [200], "c0": [300]}
    assert net.defaults(6) == {"a0": [100], "b0": [200], "c0": [300]}


def test_apply_moves_a_route_without_carrier(tool, net):
    # a0 lost its carrier: its route is "linkdown", and moving it must still
    # work (the kernel refuses RTNH_F_LINKDOWN in a request, so it is not copied).
    net.ip("link", "set", "a1", "down")
    tool.wait_event(for_dev("a0", "carrier"))
    assert tool.cmd("apply b0 c0 a0")["rc"] == 0
    assert net.defaults(4) == {"b0": [10], "c0": [11], "a0": [12]}
    assert "linkdown" in net.ip("route", "show", "default", "dev", "a0").stdout
    assert tool.cmd("fini")["rc"] == 0
    assert net.defaults(4) == {"a0": [100], "b0": [200], "c0": [300]}


def test_dhcp_duplicate_and_other_routes(tool, net):
    # A route through a device that is not a member is never touched, even
    # when it holds a metric a member would get.
    net.ip("link", "add", "x0", "type", "veth", "peer", "name", "x1")
    net.ip("link", "set", "x0", "up")
    net.ip("link", "set", "x1", "up")
    net.ip("addr", "add", "10.0.9.2/24", "dev", "x0")
    net.ip("route", "add", "default", "via", "10.0.9.1", "dev", "x0", "metric", "12")
    assert tool.cmd("apply b0 a0 c0")["rc"] == 0
    assert net.defaults(4) == {"b0": [10], "a0": [11], "c0": [300], "x0": [12]}
    assert "route: cannot give c0 default metric 12" in tool.log()

    # a0's DHCP client puts its route back at metric 150: the copy goes, and
    # 150 is what fini restores.
    net.ip("route", "add", "default", "via", "10.0.1.1", "dev", "a0", "metric", "150")
    assert tool.cmd("apply b0 a0 c0")["rc"] == 0
    assert net.defaults(4)["a0"] == [11]
    assert "a duplicate of the one at metric 11" in tool.log()
    assert tool.cmd("fini")["rc"] == 0
    assert net.defaults(4) == {"a0": [150], "b0": [200], "c0": [300], "x0": [12]}


def test_event_overflow_is_recovered(nltool_small_bin, net, tmp_path):
    t = Tool(nltool_small_bin, net, str(tmp_path / "nltool.log"), ["-n"])
    try:
        # While the tool does not read, flood it with address events and take
        # a0's IPv4 address (and with it, silently, its default route) away.
        t.proc.stdin.write("pause 1500\n")
        t.proc.stdin.flush()
        time.sleep(0.3)
        batch = tmp_path / "flood"
        batch.write_text("".join("addr add 2001:db8:99::%x/128 dev c0 nodad\n" % i
                                 for i in range(1, 301)))
        net.ip("-batch", str(batch))
        net.ip("addr", "del", "10.0.1.2/24", "dev", "a0")
        t.cmd("pause")
        e = t.wait_event(lambda e: e["event"] == "a0" and e["link"]["addr4"] is None
                         and e["link"]["default4"] is False)
        assert "addr" in e["changed"] and "route" in e["changed"]
        assert "events were lost" in t.log()
        t.settle()
        state = t.cmd("state")
        assert link(state, "a0")["addr4"] is None
        assert link(state, "b0")["default4"] is True
    finally:
        assert t.stop() == 0, t.log()
