"""The failover engine end to end in the network-namespace lab: the real daemon
on real sockets, faults injected in the ISP namespaces, and both autonomy's
state and the path traffic really takes (lab/lab path) checked."""
import json
import os
import re
import shutil
import signal
import subprocess
import threading
import time
import urllib.request

import pytest

from conftest import AUTONOMYCTL, ROOT

LAB = os.path.join(ROOT, "lab", "lab")
SOCK = "/run/autonomy-lab/state/autonomy.sock"
MEMBERS = ("starlink", "cellular", "fiber")

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="the lab needs root")


def lab(*args, check=True, timeout=60):
    r = subprocess.run([LAB] + list(args), capture_output=True, text=True, timeout=timeout)
    if check and r.returncode != 0:
        raise AssertionError(f"lab {' '.join(args)}: {r.returncode}\n{r.stdout}\n{r.stderr}")
    return r


def ctl(*args):
    r = subprocess.run([AUTONOMYCTL, "--socket", SOCK] + list(args), capture_output=True,
                       text=True, timeout=30)
    return r


def status():
    r = ctl("--json", "status")
    return json.loads(r.stdout) if r.returncode == 0 else {}


def path():
    return lab("path", check=False).stdout.strip()


def wait_for(pred, timeout, step=0.1):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if pred():
            return True
        time.sleep(step)
    return False


def events(n=100):
    r = ctl("--json", "events", str(n))
    return json.loads(r.stdout) if r.returncode == 0 else []


def switches():
    """Switches after the first choice, oldest first."""
    return [e for e in reversed(events(1000)) if e["type"] == "switch" and e["reason"] != "initial"]


def write_conf(tmp_path, extra_main="", members=None):
    """lab/autonomy.conf with extra main options, and extra options per member
    ({"cellular": "\toption weight '90'\n"}: later options win)."""
    base = open(os.path.join(ROOT, "lab", "autonomy.conf")).read()
    base = base.replace("config autonomy 'main'\n", "config autonomy 'main'\n" + extra_main, 1)
    for name, extra in (members or {}).items():
        head = f"config member '{name}'\n"
        start = base.index(head)
        end = base.find("\n\n", start)
        end = len(base) if end < 0 else end + 1
        base = base[:end] + extra + base[end:]
    conf = tmp_path / "autonomy.conf"
    conf.write_text(base)
    return conf


@pytest.fixture(scope="module")
def labnet():
    lab("down", check=False)
    lab("up", timeout=120)
    yield
    lab("stop", check=False)
    lab("down", check=False)


@pytest.fixture
def daemon(labnet, request):
    """Starts autonomyd in the lab (optionally with extra main options from the
    test's `conf` marker) and waits for the first decision: starlink, the
    highest weight, healthy."""
    for m in MEMBERS:
        lab("fault", m, "clear")
    lab("dish", "clear", "normal")
    lab("modem", "clear")
    lab("stop", check=False)
    subprocess.run(["rm", "-rf", "/run/autonomy-lab/state"], check=False)
    marker = request.node.get_closest_marker("conf")
    members = request.node.get_closest_marker("members")
    conf = write_conf(request.getfixturevalue("tmp_path"), marker.args[0] if marker else "",
                      members.args[0] if members else None)
    lab("start", "-c", str(conf))
    assert wait_for(lambda: status().get("state") == "normal", 30), lab("logs").stdout[-3000:]
    assert status()["active"] == "starlink"
    assert wait_for(lambda: path() == "starlink", 5)
    yield
    print(lab("logs", check=False).stdout[-6000:])    # shown when the test failed
    r = lab("stop", check=False)
    for m in MEMBERS:
        lab("fault", m, "clear", check=False)
    lab("modem", "clear", check=False)
    assert r.returncode == 0, r.stdout + r.stderr + lab("logs").stdout[-3000:]


def test_blackhole_switches(daemon):
    t0 = time.monotonic()
    lab("fault", "starlink", "blackhole")
    assert wait_for(lambda: status().get("active") == "fiber", 10)
    took = time.monotonic() - t0
    assert wait_for(lambda: path() == "fiber", 5)
    sw = switches()[0]
    assert sw["reason"] == "hard:no-reply" and sw["from"] == "starlink" and sw["to"] == "fiber"
    assert took < 6, took
    m = {x["name"]: x for x in json.loads(ctl("--json", "members").stdout)}
    assert m["starlink"]["status"] == "down" and m["starlink"]["down_cause"] == "no-reply"


class LanStream:
    """bench/trafficwatch.py in the lab's LAN client (ar-lan, masqueraded by
    ar-router): a UDP datagram every 10 ms from one socket to the whoami server;
    keeps (send time, member) for every reply."""

    def __init__(self):
        self.p = subprocess.Popen([LAB, "lan", "/usr/bin/python3",
                                   os.path.join(ROOT, "bench", "trafficwatch.py"), "10", "60"],
                                  stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        self.replies = []
        self.t = threading.Thread(target=self._read, daemon=True)
        self.t.start()

    def _read(self):
        for line in self.p.stdout:
            sent, member = line.split()
            self.replies.append((float(sent), member))

    def through(self, member, after):
        return [t for t, m in self.replies if m == member and t > after]

    def close(self):
        self.p.stdin.close()
        self.p.wait(10)


def lan_switch(moves):
    """Blackholes starlink under a LAN flow and checks whether the flow goes on
    through fiber, the new active member."""
    s = LanStream()
    try:
        assert wait_for(lambda: s.through("starlink", 0), 5), "no LAN traffic through starlink"
        lab("fault", "starlink", "blackhole")
        assert wait_for(lambda: status().get("active") == "fiber", 10)
        switched = time.monotonic()
        if moves:
            assert wait_for(lambda: s.through("fiber", switched), 3), \
                (s.replies[-3:], lab("logs").stdout[-2000:])
        else:
            time.sleep(5)
            assert not s.through("fiber", 0), "the flow moved without a flush"
    finally:
        s.close()


@pytest.fixture
def snat(labnet):
    lab("nat", "snat")
    yield
    lab("nat", "masquerade")


def flush_log():
    return [line for line in lab("logs").stdout.splitlines() if "conntrack: deleted" in line]


def test_lan_flow_moves_with_the_switch(daemon):
    """Masqueraded (the lab's default, and OpenWrt's): the kernel NATs a connection
    again when its device changes, and the flush deletes the entries as well."""
    lan_switch(moves=True)
    assert wait_for(lambda: flush_log(), 5)
    assert "of starlink" in flush_log()[-1]
    info = json.loads(ctl("--json", "info").stdout)["conntrack"]
    assert info["deleted"] >= 1 and info["flushes"] == 1 and info["last_error"] is None, info


def test_snat_flow_moves_with_the_flush(snat, daemon):
    """A fixed source NAT (static addresses) keeps the old address for good: only the
    flush lets the flow start again through fiber."""
    lan_switch(moves=True)
    assert wait_for(lambda: flush_log(), 5)


@pytest.mark.conf("\toption conntrack_flush '0'\n")
def test_snat_flow_hangs_without_the_flush(snat, daemon):
    lan_switch(moves=False)
    assert json.loads(ctl("--json", "info").stdout)["conntrack"]["flushes"] == 0
    assert not flush_log()


def test_carrier_down_switches(daemon):
    lab("fault", "starlink", "down")
    assert wait_for(lambda: status().get("active") == "fiber", 2)
    assert wait_for(lambda: path() == "fiber", 5)
    assert switches()[0]["reason"] == "hard:carrier"


@pytest.mark.conf("\toption restore_min_duration_s '8'\n\toption min_uptime_s '2'\n")
def test_restore_fails_back_after_window(daemon):
    lab("fault", "starlink", "blackhole")
    assert wait_for(lambda: status().get("active") == "fiber", 10)
    t0 = time.monotonic()
    lab("fault", "starlink", "clear")
    assert wait_for(lambda: status().get("active") == "starlink", 30)
    took = time.monotonic() - t0
    assert took >= 8, took          # not before the restore window
    assert wait_for(lambda: path() == "starlink", 5)
    assert switches()[-1]["reason"] == "failback"


def test_loss_switches_after_soft_window(daemon):
    lab("fault", "starlink", "loss", "30")
    t0 = time.monotonic()
    assert wait_for(lambda: status().get("active") == "fiber", 60, step=0.5)
    took = time.monotonic() - t0
    assert took >= 10, took         # fail_min_duration_s
    assert switches()[0]["reason"] == "soft:score"
    assert wait_for(lambda: path() == "fiber", 5)


def test_handover_blips_cause_no_switch(daemon):
    """Starlink-like: 1.5 s of total loss every 15 s for 2 minutes."""
    end = time.monotonic() + 120
    while time.monotonic() < end:
        lab("fault", "starlink", "blackhole")
        time.sleep(1.5)
        lab("fault", "starlink", "clear")
        time.sleep(13.5)
    assert switches() == []
    assert status()["active"] == "starlink"
    assert path() == "starlink"


@pytest.mark.conf("\toption restore_min_duration_s '5'\n\toption min_uptime_s '2'\n"
                  "\toption cooldown_s '0'\n")
def test_flapping_link_is_dampened(daemon):
    """Down/up every 20 s for 2 minutes: at most the first flaps move traffic."""
    for _ in range(6):
        lab("fault", "starlink", "down")
        time.sleep(10)
        lab("fault", "starlink", "up")
        time.sleep(10)
    sw = switches()
    away = [s for s in sw if s["from"] == "starlink"]
    back = [s for s in sw if s["to"] == "starlink"]
    assert len(back) <= 2, sw      # suppressed after the third flap
    assert len(away) <= 3, sw
    m = {x["name"]: x for x in json.loads(ctl("--json", "members").stdout)}
    assert m["starlink"]["dampening"]["suppressed"] is True
    assert status()["active"] == "fiber"


def test_all_down_no_thrash_first_back_wins(daemon):
    for m in MEMBERS:
        lab("fault", m, "blackhole")
    assert wait_for(lambda: status().get("state") == "all-down", 15)
    n = len(switches())
    time.sleep(8)
    assert len(switches()) == n     # no thrashing while everything is down
    lab("fault", "cellular", "clear")
    assert wait_for(lambda: status().get("active") == "cellular", 10)
    assert wait_for(lambda: path() == "cellular", 5)


def test_manual_failover_holds_until_restore(daemon):
    r = ctl("failover", "cellular")
    assert r.returncode == 0, r.stderr
    assert wait_for(lambda: status().get("active") == "cellular", 3)
    assert status()["state"] == "manual"
    assert wait_for(lambda: path() == "cellular", 5)
    time.sleep(5)
    assert status()["active"] == "cellular"
    r = ctl("restore")
    assert r.returncode == 0
    assert status()["state"] != "manual"
    assert ctl("failover", "nosuch").returncode == 1


def test_bad_config_on_sighup_keeps_engine(daemon):
    pid = int(open("/run/autonomy-lab/autonomyd.pid").read())
    conf = json.loads(ctl("--json", "config", "get").stdout)["path"]
    with open(conf, "w") as f:
        f.write("config member 'x\n")
    os.kill(pid, signal.SIGHUP)
    assert wait_for(lambda: (status().get("config") or {}).get("error"), 5)
    assert status()["active"] == "starlink"
    lab("fault", "starlink", "blackhole")
    assert wait_for(lambda: status().get("active") == "fiber", 10)
    assert wait_for(lambda: path() == "fiber", 5)


def test_restart_mid_failover_does_not_flap_back(daemon):
    lab("fault", "starlink", "blackhole")
    assert wait_for(lambda: status().get("active") == "fiber", 10)
    lab("fault", "starlink", "clear")
    conf = json.loads(ctl("--json", "config", "get").stdout)["path"]
    lab("stop")
    lab("start", "-c", conf)
    assert wait_for(lambda: status().get("active") == "fiber", 10)
    time.sleep(8)   # within the restore window nothing moves back
    assert status()["active"] == "fiber"
    assert path() == "fiber"
    assert [s for s in switches() if s["to"] == "starlink"] == []


def test_discovery_without_members(labnet, tmp_path):
    """No member sections: every device with a default route becomes a member."""
    lab("stop", check=False)
    conf = tmp_path / "autonomy.conf"
    conf.write_text("config autonomy 'main'\n\toption log_level 'info'\n")
    lab("start", "-c", str(conf))
    try:
        assert wait_for(lambda: status().get("active") is not None, 15)
        names = sorted(m["name"] for m in status()["members"])
        assert names == ["eth1", "eth2", "wwan0"]
        classes = {m["name"]: m["class"] for m in status()["members"]}
        assert classes["wwan0"] == "cellular" and classes["eth2"] == "wired"
        # the dish answers through eth1 only: that member is the dish's
        assert wait_for(lambda: member("eth1")["class"] == "starlink", 10)
        assert member("eth1")["starlink"]["reachable"]
        found = [e for e in events() if e["reason"] == "discovered"]
        assert [e["from"] for e in found] == ["eth1"], found
        assert member("eth2")["class"] == "wired" and "starlink" not in member("eth2")
        active = status()["active"]
        owner = {"eth1": "starlink", "wwan0": "cellular", "eth2": "fiber"}[active]
        assert path() == owner
        lab("fault", owner, "down")
        assert wait_for(lambda: status().get("active") not in (None, active), 5)
        assert wait_for(lambda: path() not in ("none", owner), 5)
    finally:
        print(lab("logs", check=False).stdout[-4000:])
        lab("stop", check=False)
        for m in MEMBERS:
            lab("fault", m, "clear", check=False)


def member(name):
    return {m["name"]: m for m in json.loads(ctl("--json", "members").stdout)}[name]


def test_dish_fields_visible(daemon):
    assert wait_for(lambda: (member("starlink").get("starlink") or {}).get("reachable"), 10)
    sl = member("starlink")["starlink"]
    assert sl["outage"] is None and sl["id"].startswith("ut")
    assert 10 <= sl["pop_latency_ms"] <= 100
    assert "starlink" not in member("fiber")


@pytest.mark.conf("\toption restore_min_duration_s '8'\n\toption min_uptime_s '2'\n")
def test_dish_outage_switches_before_probes_notice(daemon):
    """The dish reports an outage while the probes still get through: the
    dish knows first, and the cause is in the reason. Back after the restore
    window once the dish is connected again."""
    lab("dish", "outage", "NO_SATS")
    assert wait_for(lambda: status().get("active") == "fiber", 5)
    sw = switches()[0]
    assert sw["reason"] == "hard:dish-outage:NO_SATS", sw
    assert member("starlink")["down_cause"] == "dish-outage:NO_SATS"
    assert wait_for(lambda: path() == "fiber", 5)
    # a real outage carries no traffic either: the standby probes go unanswered
    lab("fault", "starlink", "blackhole")
    time.sleep(6)
    assert status()["active"] == "fiber"      # the outage goes on: no way back
    t0 = time.monotonic()
    lab("fault", "starlink", "clear")
    lab("dish", "clear")
    assert wait_for(lambda: member("starlink")["status"] == "up", 10)
    assert wait_for(lambda: status().get("active") == "starlink", 30)
    assert time.monotonic() - t0 >= 8           # not before the restore window
    assert switches()[-1]["reason"] == "failback"
    assert wait_for(lambda: path() == "starlink", 5)


# The alternatives must be eligible (min_uptime_s) before the risk shows: with
# the default 10 s the switch waits for the first to qualify, and cellular may
# do so a millisecond before fiber.
@pytest.mark.conf("\toption min_uptime_s '2'\n")
def test_rising_obstruction_switches_before_the_outage(daemon):
    """The obstructed fraction climbs: traffic leaves before the dish reports
    the outage that follows, and the outage itself then moves nothing."""
    for frac in ("0.005", "0.01", "0.025"):
        lab("dish", "obstructed", frac)
        time.sleep(1.5)
    assert wait_for(lambda: status().get("active") == "fiber", 5)
    assert [s["reason"] for s in switches()] == ["predict:obstruction"]
    sl = member("starlink")
    assert sl["starlink"]["outage"] is None and sl["status"] == "up"
    assert sl["risk"] == "predict:obstruction"
    assert sl["eligible"] is False
    assert any(e["type"] == "member" and e["reason"] == "at-risk" for e in events())
    assert wait_for(lambda: path() == "fiber", 5)
    lab("dish", "outage", "OBSTRUCTED")
    assert wait_for(lambda: member("starlink").get("down_cause") == "dish-outage:OBSTRUCTED", 5)
    time.sleep(1)
    assert len(switches()) == 1 and status()["active"] == "fiber"
    lab("dish", "clear")


def test_planned_update_reboot_moves_to_unmetered(daemon):
    lab("dish", "swupdate", "on")
    # fiber (not cellular, which is metered), once it has been up min_uptime_s
    assert wait_for(lambda: status().get("active") == "fiber", 15)
    assert switches()[0]["reason"] == "planned:swupdate"
    assert member("starlink")["starlink"]["risk"] == "planned:swupdate"
    lab("dish", "clear")


def test_dish_garbage_or_hang_keeps_deciding_on_probes(daemon):
    for mode in ("garbage", "hang"):
        lab("dish", mode)
        assert wait_for(lambda: not member("starlink")["starlink"]["reachable"], 10), mode
        assert member("starlink")["starlink"]["error"]
        time.sleep(3)
        assert status()["active"] == "starlink" and switches() == []
        lab("dish", "normal")
        assert wait_for(lambda: member("starlink")["starlink"]["reachable"], 10)
    # probes still decide without the dish
    lab("dish", "hang")
    lab("fault", "starlink", "blackhole")
    assert wait_for(lambda: status().get("active") == "fiber", 10)
    assert switches()[0]["reason"] == "hard:no-reply"
    lab("dish", "normal")


def test_dish_obstruction_lowers_the_score(daemon):
    lab("dish", "obstructed", "0.05", "alert", "thermal_throttle")
    try:
        assert wait_for(lambda: member("starlink")["starlink"]["penalty"] >= 20, 10)
        assert "thermal_throttle" in member("starlink")["starlink"]["alerts"]
        assert wait_for(lambda: member("starlink")["score"]["instant"] <= 80, 10)
    finally:
        lab("dish", "clear")


# ---- cellular (issue 5): the fake modem tools of lab/modem --------------------

FAST_RADIO = "\toption radio_poll_ms '1000'\n\toption min_uptime_s '2'\n"


def cellular():
    return member("cellular").get("cellular") or {}


@pytest.mark.parametrize("source", ["auto", "ubus", "uqmi", "mmcli"])
def test_cellular_radio_from_each_source(labnet, tmp_path, source):
    """Each modem tool's output reaches `members` the same way; auto takes the
    first that answers (ubus, as on RutOS)."""
    lab("modem", "clear")
    lab("stop", check=False)
    subprocess.run(["rm", "-rf", "/run/autonomy-lab/state"], check=False)
    conf = write_conf(tmp_path, FAST_RADIO,
                      {"cellular": f"\toption radio_source '{source}'\n"})
    lab("start", "-c", str(conf))
    try:
        assert wait_for(lambda: cellular().get("tech") == "lte", 15), cellular()
        c = cellular()
        assert c["source"] == ("ubus" if source == "auto" else source)
        assert c["rsrp_dbm"] == -90 and c["sinr_db"] == 15
        assert c["roaming"] is False and c["registered"] is True
        assert c["operator"] == "LabTel" and c["error"] is None
        assert c["penalty"] == 0
        lab("modem", "tech", "5g")
        assert wait_for(lambda: cellular().get("tech") == "5g-nsa", 15), cellular()
        if source in ("uqmi", "mmcli"):     # RutOS's ubus reports the LTE anchor only
            assert cellular()["nr"]["rsrp_dbm"] == -95, cellular()
        lab("modem", "roaming", "on")
        assert wait_for(lambda: cellular().get("roaming") is True, 15), cellular()
        assert cellular()["penalty"] >= 20
        out = lab("run", "autonomyctl", "cellular").stdout
        assert "roaming" in out and "LabTel" in out and "5g-nsa" in out, out
        if source == "uqmi" and shutil.which("promtool"):
            text = urllib.request.urlopen("http://127.0.0.1:8080/metrics", timeout=5).read().decode()
            assert re.search(r'^autonomy_cellular_roaming\{member="cellular"[^}]*\} 1$', text, re.M)
            assert re.search(r'^autonomy_cellular_rsrp_dbm\{member="cellular"[^}]*\} -90$', text, re.M), \
                [ln for ln in text.splitlines() if "cellular_" in ln]
            r = subprocess.run(["promtool", "check", "metrics"], input=text, capture_output=True, text=True)
            assert r.returncode == 0, r.stdout + r.stderr
    finally:
        print(lab("logs", check=False).stdout[-3000:])
        lab("stop", check=False)
        lab("modem", "clear", check=False)


@pytest.mark.conf(FAST_RADIO)
@pytest.mark.members({"cellular": "\toption weight '90'\n"})
def test_roaming_backup_loses_to_a_home_alternative(daemon):
    """Cellular outweighs fiber, but it roams: when starlink fails, fiber takes
    the traffic."""
    lab("modem", "roaming", "on")
    assert wait_for(lambda: cellular().get("roaming") is True, 10)
    # 20 points for roaming: more than switch_margin (15) once the score has settled
    assert wait_for(lambda: member("fiber")["score"]["final"] - member("cellular")["score"]["final"] > 15, 30)
    lab("fault", "starlink", "blackhole")
    assert wait_for(lambda: status().get("active") == "fiber", 10)
    assert wait_for(lambda: path() == "fiber", 5)


@pytest.mark.conf(FAST_RADIO)
@pytest.mark.members({"cellular": "\toption weight '90'\n"})
def test_signal_collapse_on_active_cellular_switches(daemon):
    lab("fault", "starlink", "blackhole")
    assert wait_for(lambda: status().get("active") == "cellular", 10)   # the heavier backup
    assert wait_for(lambda: cellular().get("rsrp_dbm") == -90, 10)
    lab("modem", "signal", "-125", "-20", "-10")
    assert wait_for(lambda: status().get("active") == "fiber", 10)
    sw = switches()[-1]
    assert sw["from"] == "cellular" and sw["reason"] == "predict:signal", sw
    assert member("cellular")["risk"] == "predict:signal"
    assert wait_for(lambda: path() == "fiber", 5)


@pytest.mark.conf(FAST_RADIO + "\toption radio_timeout_ms '1000'\n")
def test_modem_tool_hang_or_garbage_does_not_stall(daemon):
    assert wait_for(lambda: cellular().get("tech") == "lte", 10)
    lab("modem", "hang")
    assert wait_for(lambda: "no answer in time" in (cellular().get("error") or ""), 15), cellular()
    assert cellular()["tech"] is None and cellular()["penalty"] == 0
    # the loop never waits for the tool: the API answers and failover works
    t0 = time.monotonic()
    for _ in range(20):
        assert status().get("active") == "starlink"
    assert time.monotonic() - t0 < 10
    lab("fault", "starlink", "blackhole")
    assert wait_for(lambda: status().get("active") == "fiber", 10)
    lab("modem", "garbage")
    assert wait_for(lambda: "JSON" in (cellular().get("error") or ""), 15), cellular()
    lab("modem", "clear")
    assert wait_for(lambda: cellular().get("tech") == "lte", 30), cellular()
    logs = lab("logs").stdout
    assert logs.count("radio unknown: ") <= 4, logs[-3000:]   # once per change, not per poll
    assert not [p for p in os.popen("ip netns pids ar-router").read().split()
                if "sleep" in open(f"/proc/{p}/comm").read()]    # the hung tool was killed


@pytest.mark.conf("\toption data_warn_pct '1 90'\n")
@pytest.mark.members({"cellular": "\toption data_budget_mb '1'\n"})
def test_data_budget_counts_warns_and_survives_a_restart(daemon, tmp_path):
    # about 62 KB out through wwan0: 6 % of a 1 MB budget
    lab("run", "/usr/bin/python3", "-c",
        "import socket\n"
        "s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\n"
        "s.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, b'wwan0')\n"
        "for _ in range(60): s.sendto(b'x' * 1000, ('1.1.1.1', 9))\n")
    assert wait_for(lambda: (member("cellular").get("data") or {}).get("used_mb", 0) >= 0.05, 25), \
        member("cellular").get("data")
    d = member("cellular")["data"]
    assert d["budget_mb"] == 1 and d["warned_pct"] == 1 and d["reset_day"] == 1
    assert 0 <= d["probe_mb"] < d["used_mb"]
    ev = [e for e in events() if e["type"] == "member" and e["reason"] == "data-budget"]
    assert len(ev) == 1 and "1 %" in ev[0]["message"], ev
    out = lab("run", "autonomyctl", "cellular").stdout
    assert "of 1 MB" in out, out
    used = d["used_mb"]
    # a clean restart keeps the month's figure (state dir budget.json)
    conf = write_conf(tmp_path, "\toption data_warn_pct '1 90'\n",
                      {"cellular": "\toption data_budget_mb '1'\n"})
    lab("stop")
    lab("start", "-c", str(conf))
    assert wait_for(lambda: status().get("state") == "normal", 30)
    assert member("cellular")["data"]["used_mb"] >= used
    assert not [e for e in events() if e["type"] == "member" and e["reason"] == "data-budget"]


@pytest.mark.conf("\toption metered_interval_ms '5000'\n\toption traffic_proof '1'\n")
def test_traffic_proof_spares_metered_probes(daemon):
    """cellular is metered standby: while its own traffic comes back through
    wwan0 it is alive without probes; when the traffic stops, probing resumes."""
    gen = subprocess.Popen([LAB, "run", "/usr/bin/python3", "-c",
                            "import socket, time\n"
                            "s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\n"
                            "s.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, b'wwan0')\n"
                            "end = time.time() + 22\n"
                            "while time.time() < end:\n"
                            "    s.sendto(b'x' * 1000, ('203.0.113.80', 7777)); time.sleep(0.05)\n"])
    try:
        assert wait_for(lambda: member("cellular")["probes"]["skipped"] >= 2, 30), \
            member("cellular")["probes"]
        assert member("cellular")["status"] == "up"
    finally:
        gen.wait(timeout=40)
    p = member("cellular")["probes"]
    time.sleep(12)                  # quiet again: two intervals, probed again
    q = member("cellular")["probes"]
    assert q["sent"] > p["sent"] and q["skipped"] <= p["skipped"] + 1, (p, q)
