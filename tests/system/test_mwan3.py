"""The mwan3 controller and mwan3 discovery on the real daemon.

The daemon runs in a private network namespace (unshare -n) with config_root
pointing at a temporary /etc/config tree (network + mwan3, no member sections
in autonomy's own file) and mwan3_hotplug_call pointing at a stand-in that
records its argv and its exact environment. Its two uplinks are veth pairs into
a second private namespace that answers the probes:

    va 10.1.1.1/24 ───── pa 10.1.1.2     (mwan3 interface wan,  metric 1)
    vb 10.1.2.1/24 ───── pb 10.1.2.2     (mwan3 interface wanb, metric 2)

Both namespaces disappear with their processes; nothing on the host changes."""
import json
import os
import shutil
import signal
import subprocess
import time

import pytest

from conftest import Daemon

pytestmark = pytest.mark.skipif(
    os.geteuid() != 0 or not all(shutil.which(t) for t in ("unshare", "nsenter", "ip", "nft")),
    reason="needs root, unshare, nsenter, iproute2 and nft")

NETWORK = """
config interface 'loopback'
	option device 'lo'
	option proto 'static'

config interface 'wan'
	option device 'va'
	option proto 'dhcp'

config interface 'wan6'
	option device 'va'
	option proto 'dhcpv6'

config interface 'wanb'
	option device 'vb'
	option proto 'dhcp'
"""

MWAN3 = """
config globals 'globals'
	option mmx_mask '0x3F00'

config interface 'wan'
	option enabled '1'
	list track_ip '10.1.1.2'
	option reliability '1'

config interface 'wan6'
	option enabled '0'

config interface 'wanb'
	option enabled '1'
	list track_ip '10.1.2.2'

config member 'wan_m1'
	option interface 'wan'
	option metric '1'

config member 'wanb_m2'
	option interface 'wanb'
	option metric '2'

config policy 'failover'
	list use_member 'wan_m1'
	list use_member 'wanb_m2'
"""

STANDIN = """#!/usr/bin/python3
# Records one JSON line per call: argv and the environment exactly as executed.
import json, sys
with open("/proc/self/environ", "rb") as f:
    env = dict(v.decode().split("=", 1) for v in f.read().split(b"\\0") if v)
with open(%r, "a") as f:
    f.write(json.dumps({"argv": sys.argv, "env": env}) + "\\n")
"""

FAST = """
	option probe_interval_ms '200'
	option standby_interval_ms '200'
	option burst_interval_ms '100'
	option probe_timeout_ms '300'
	option hard_fail_ms '600'
	option fail_min_duration_s '0'
	option restore_min_duration_s '1'
	option cooldown_s '0'
	option min_uptime_s '0'
	option dampening_suppress '100000'
"""

# The peer namespace: a sleeping process owns it; its pid goes to a file.
SETUP = [
    "ip link set lo up",
    "unshare -n sleep 600 & echo $! > {peerpid}",
    "sleep 0.2",
    "ip link add va type veth peer name pa netns $(cat {peerpid})",
    "ip link add vb type veth peer name pb netns $(cat {peerpid})",
    "ip addr add 10.1.1.1/24 dev va", "ip addr add 10.1.2.1/24 dev vb",
    "ip link set va up", "ip link set vb up",
    "nsenter --net=/proc/$(cat {peerpid})/ns/net sh -ec '"
    "ip link set lo up; ip addr add 10.1.1.2/24 dev pa; ip addr add 10.1.2.2/24 dev pb; "
    "ip link set pa up; ip link set pb up'",
    "ip route add default via 10.1.1.2 dev va metric 10",
    "ip route add default via 10.1.2.2 dev vb metric 20",
    # counts probes leaving through va with mwan3's bypass mark
    "nft add table inet m3t",
    "nft add chain inet m3t out '{{ type filter hook output priority 0; }}'",
    "nft add rule inet m3t out oifname va meta mark 0x3f00 counter",
]


class Mwan3Lab:
    def __init__(self, tmp_path, controller="auto", members=""):
        self.tmp = tmp_path
        etc = tmp_path / "etc"
        etc.mkdir()
        (etc / "network").write_text(NETWORK)
        (etc / "mwan3").write_text(MWAN3)
        self.events = tmp_path / "events.jsonl"
        self.hotplug = tmp_path / "hotplug-call"
        self.hotplug.write_text(STANDIN % str(self.events))
        self.hotplug.chmod(0o755)
        self.peerpid = tmp_path / "peer.pid"
        conf = ("config autonomy 'main'\n"
                f"\toption controller '{controller}'\n"
                f"\toption config_root '{etc}'\n"
                f"\toption mwan3_hotplug_call '{self.hotplug}'\n"
                "\toption http_listen ''\n" + FAST + members)
        setup = "; ".join(SETUP).format(peerpid=self.peerpid)
        self.d = Daemon(tmp_path, conf,
                        wrapper=["unshare", "--net", "sh", "-ec", setup + '; exec "$@"', "sh"])

    def start(self):
        self.d.start()
        return self

    def ns(self, *cmd):
        r = subprocess.run(["nsenter", "--net=/proc/%d/ns/net" % self.d.proc.pid] + list(cmd),
                           capture_output=True, text=True, timeout=30)
        assert r.returncode == 0, r.stderr
        return r.stdout

    def recorded(self):
        if not self.events.exists():
            return []
        return [json.loads(ln) for ln in self.events.read_text().splitlines()]

    def actions(self):
        return [(e["env"]["ACTION"], e["env"]["INTERFACE"], e["env"]["DEVICE"])
                for e in self.recorded()]

    def wait_actions(self, n, timeout=15.0):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and len(self.recorded()) < n:
            time.sleep(0.05)
        return self.actions()

    def cleanup(self):
        rc = self.d.stop()
        if self.peerpid.exists():
            try:
                os.kill(int(self.peerpid.read_text()), signal.SIGTERM)
            except (ProcessLookupError, ValueError):
                pass
        return rc


@pytest.fixture
def lab(tmp_path):
    m = Mwan3Lab(tmp_path)
    yield m
    m.cleanup()


def test_events_on_switch_failback_link_loss_and_shutdown(lab):
    lab.start()
    C, D = "connected", "disconnected"
    # the first decision: both interfaces announced once, active first
    assert lab.wait_actions(2) == [(C, "wan", "va"), (C, "wanb", "vb")], lab.d.log()
    for e in lab.recorded():
        assert e["argv"] == [str(lab.hotplug), "iface"]
        assert sorted(e["env"]) == ["ACTION", "DEVICE", "INTERFACE"]
    st = lab.d.ctl("--json", "status")
    assert st.returncode == 0, st.stderr
    st = json.loads(st.stdout)
    assert st["controller"] == "mwan3"
    assert [m["name"] for m in st["members"]] == ["wan", "wanb"]
    # nothing changes: nothing is emitted
    time.sleep(2)
    assert len(lab.recorded()) == 2

    # manual switch: wan (mwan3's preferred) goes offline so mwan3 uses wanb
    r = lab.d.ctl("failover", "wanb")
    assert r.returncode == 0, r.stderr
    assert lab.wait_actions(3)[2:] == [(D, "wan", "va")]
    time.sleep(1)
    assert len(lab.recorded()) == 3
    # failback
    r = lab.d.ctl("restore")
    assert r.returncode == 0, r.stderr
    assert lab.wait_actions(4)[3:] == [(C, "wan", "va")]

    # a real failure: wan's link goes down, then comes back
    lab.ns("ip", "link", "set", "va", "down")
    assert lab.wait_actions(5)[4:] == [(D, "wan", "va")], lab.d.log()
    lab.ns("ip", "link", "set", "va", "up")
    lab.ns("ip", "route", "replace", "default", "via", "10.1.1.2", "dev", "va", "metric", "10")
    assert lab.wait_actions(6)[5:] == [(C, "wan", "va")], lab.d.log()
    time.sleep(1.5)
    assert len(lab.recorded()) == 6

    # probes carry mwan3's bypass mark
    counters = lab.ns("nft", "list", "chain", "inet", "m3t", "out")
    packets = int(counters.split("counter packets ")[1].split()[0])
    assert packets > 0, counters

    # shutdown while wan is bypassed: it is up, so mwan3 gets it back online
    r = lab.d.ctl("failover", "wanb")
    assert r.returncode == 0, r.stderr
    assert lab.wait_actions(7)[6:] == [(D, "wan", "va")]
    assert lab.cleanup() == 0, lab.d.log()
    assert lab.actions()[7:] == [(C, "wan", "va")]
    assert len(lab.recorded()) == 8


def test_member_sections_override_discovery(tmp_path):
    """With member sections in the autonomy file, mwan3 is not used for members."""
    m = Mwan3Lab(tmp_path, controller="none",
                 members="\nconfig member 'uplink'\n\toption device 'vb'\n"
                         "\tlist target '10.1.2.2'\n")
    m.start()
    try:
        st = json.loads(m.d.ctl("--json", "status").stdout)
        assert st["controller"] == "none"
        assert [x["name"] for x in st["members"]] == ["uplink"]
    finally:
        assert m.cleanup() == 0
    assert m.recorded() == []
