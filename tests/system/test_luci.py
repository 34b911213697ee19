"""luci-app-autonomy (packaging/openwrt/luci-app-autonomy): the views parse, the menu and
ACL JSON are valid and agree with the files and with `autonomyctl rpcd list`, and the
views render real daemon data.

The behavioural tests load each view in headless Chromium (tests/luci/run.mjs, needs
`make www` for playwright-core) on top of tests/luci/runtime.js, a small stand-in for
the LuCI runtime written for these tests. They check OUR view code (what it asks for
over ubus and with which arguments, what it renders from the answers, the options its
form declares) against JSON recorded from a real autonomyd through
`autonomyctl rpcd call` (exactly what rpcd hands to ubus); they do not test LuCI itself.
The daemon runs in a private network namespace (unshare -n) with members on `lo`, so
they come up; the namespace also holds the dish simulator (lab/dishsim.py) behind a
Starlink member. Nothing on the host changes."""
import glob
import json
import os
import shutil
import signal
import subprocess
import time

import pytest

from conftest import AUTONOMYCTL, BUILD, ROOT, Daemon

APP = os.path.join(ROOT, "packaging", "openwrt", "luci-app-autonomy")
VIEWS = os.path.join(APP, "htdocs", "luci-static", "resources", "view")
MENU = os.path.join(APP, "root", "usr", "share", "luci", "menu.d", "luci-app-autonomy.json")
ACL = os.path.join(APP, "root", "usr", "share", "rpcd", "acl.d", "luci-app-autonomy.json")
RUNNER = os.path.join(ROOT, "tests", "luci", "run.mjs")
DISHSIM = os.path.join(ROOT, "lab", "dishsim.py")
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
VIEW_FILES = sorted(glob.glob(os.path.join(VIEWS, "autonomy", "*.js")))

needs_node = pytest.mark.skipif(not shutil.which("node"), reason="needs node")
needs_browser = pytest.mark.skipif(
    not (shutil.which("node") and shutil.which("npm") and os.access(CHROMIUM, os.X_OK)),
    reason="needs node, npm and %s (scripts/deps.sh test installs them)" % CHROMIUM)
needs_netns = pytest.mark.skipif(
    os.geteuid() != 0 or not all(shutil.which(t) for t in ("unshare", "ip")),
    reason="needs root, unshare and iproute2")


def rpcd_list():
    r = subprocess.run([AUTONOMYCTL, "rpcd", "list"], capture_output=True, text=True, timeout=10)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


def rpcd_call(sock, method, args=None):
    r = subprocess.run([AUTONOMYCTL, "--socket", sock, "rpcd", "call", method],
                       input=json.dumps(args or {}), capture_output=True, text=True, timeout=10)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


def json_type(v):
    return {bool: "bool", int: "number", float: "number", str: "string", dict: "object",
            list: "array"}[type(v)]


# ---- static checks ---------------------------------------------------------------------

def test_package_files():
    assert set(os.path.basename(f) for f in VIEW_FILES) == {"overview.js", "members.js",
                                                            "settings.js"}
    mk = open(os.path.join(APP, "Makefile")).read()
    for line in ("LUCI_TITLE:=", "LUCI_DEPENDS:=+luci-base +autonomy", "LUCI_PKGARCH:=all",
                 "include ../../luci.mk"):
        assert line in mk, line


@needs_node
@pytest.mark.parametrize("path", VIEW_FILES, ids=os.path.basename)
def test_view_parses(path, tmp_path):
    """LuCI compiles a view as a function body (it ends in `return view.extend(...)`), so
    the check wraps it in a function and lets node parse that as a script."""
    src = open(path).read()
    lines = src.splitlines()
    assert lines[0] == "'use strict';", "a view starts with 'use strict';"
    requires = [ln for ln in lines if ln.startswith("'require ")]
    assert requires and lines[1:1 + len(requires)] == requires, "'require x' directives at the top"
    assert "return view.extend(" in src
    wrapped = tmp_path / os.path.basename(path)
    wrapped.write_text("(function() {\n" + src + "\n});\n")
    r = subprocess.run(["node", "--check", str(wrapped)], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert "\t" in src and "    " not in src.replace("\t", ""), "indent with tabs (LuCI style)"


def test_menu_points_at_views():
    menu = json.load(open(MENU))
    acl = json.load(open(ACL))
    assert menu["admin/services/autonomy"]["depends"]["acl"] == ["luci-app-autonomy"]
    assert set(menu["admin/services/autonomy"]["depends"]["acl"]) <= set(acl)
    views = {}
    for path, node in menu.items():
        assert path.startswith("admin/services/autonomy"), path
        assert node["title"] and isinstance(node["order"], int)
        if node["action"]["type"] == "view":
            views[path] = node["action"]["path"]
            assert os.path.isfile(os.path.join(VIEWS, node["action"]["path"] + ".js")), path
    assert views == {"admin/services/autonomy/overview": "autonomy/overview",
                     "admin/services/autonomy/members": "autonomy/members",
                     "admin/services/autonomy/settings": "autonomy/settings"}


def test_acl_methods_exist():
    methods = rpcd_list()
    acl = json.load(open(ACL))
    assert list(acl) == ["luci-app-autonomy"]
    group = acl["luci-app-autonomy"]
    assert group["description"]
    read, write = group["read"], group["write"]
    assert set(read["ubus"]) == {"autonomy"} and set(write["ubus"]) == {"autonomy"}
    assert sorted(read["ubus"]["autonomy"]) == ["events", "history", "info", "members", "status"]
    assert sorted(write["ubus"]["autonomy"]) == ["action", "config.set"]
    for m in read["ubus"]["autonomy"] + write["ubus"]["autonomy"]:
        assert m in methods, m
    assert read["uci"] == ["autonomy"] and write["uci"] == ["autonomy"]


# ---- the views in a browser, on real daemon data -------------------------------------------

MEMBERS = """
config member 'a'
	option device 'lo'
	option weight '200'
	list target '127.0.0.1'

config member 'sl'
	option device 'lo'
	option class 'starlink'
	option dish '127.0.0.1:{port}'
	list target '127.0.0.1'

config member 'lte'
	option device 'lo'
	option class 'cellular'
	option weight '50'
	option metered '1'
	option data_budget_mb '100'
	option radio_source 'uqmi'
	list target '127.0.0.1'
"""
# the lte member's modem: the lab's fake uqmi, on a state file of this test
MODEM_TOOLS = os.path.join(ROOT, "lab", "modem")
MAIN = ("config autonomy 'main'\n\toption controller 'none'\n\toption http_listen ''\n"
        "\toption min_uptime_s '0'\n\toption dish_poll_ms '200'\n")
NETNS_SETUP = "ip link set lo up; ip addr add 10.9.9.9/32 dev lo; ip route add default dev lo"


def wait_for(fn, timeout, step=0.2):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        v = fn()
        if v:
            return v
        time.sleep(step)
    return None


@pytest.fixture(scope="module")
def recorded(tmp_path_factory):
    """Answers of a real daemon (members `a` and starlink `sl` up, the dish reporting an
    alert), then of the same socket once the daemon has stopped."""
    pytest.importorskip("grpc", reason="the dish simulator needs python3-grpcio")
    pytest.importorskip("grpc_tools", reason="the dish simulator needs python3-grpc-tools")
    tmp = tmp_path_factory.mktemp("luci")
    state, pidfile, port = tmp / "dish.json", tmp / "dishsim.pid", 9200
    sim = ("/usr/bin/python3 %s serve --listen 127.0.0.1:%d --state %s --log %s --pidfile %s "
           ">/dev/null 2>&1 &" % (DISHSIM, port, state, tmp / "dishsim.log", pidfile))
    modem = ("export PATH=%s:$PATH AUTONOMY_LAB_MODEM=%s; %s/../lab modem roaming on; "
             % (MODEM_TOOLS, tmp / "modem.state", MODEM_TOOLS))
    d = Daemon(tmp, MAIN + "\toption radio_poll_ms '1000'\n" + MEMBERS.format(port=port),
               wrapper=["unshare", "--net", "sh", "-ec",
                        NETNS_SETUP + "; " + modem + sim + ' exec "$@"', "sh"])
    try:
        d.start()
        assert wait_for(lambda: pidfile.exists(), 15), "dishsim did not start"
        subprocess.run(["/usr/bin/python3", DISHSIM, "set", "--state", str(state),
                        "alert", "thermal_throttle", "obstructed", "0.04"], check=True,
                       capture_output=True, timeout=30)

        def ready():
            st = rpcd_call(d.sock, "status")
            ms = rpcd_call(d.sock, "members").get("members", [])
            sl = next((m for m in ms if m["name"] == "sl"), {}).get("starlink") or {}
            lte = next((m for m in ms if m["name"] == "lte"), {}).get("cellular") or {}
            scores = {m["name"]: m["score"]["final"] for m in ms}
            ok = (st.get("active") == "a" and None not in scores.values()
                  and sl.get("reachable") and sl.get("alerts") and scores["sl"] < scores["a"]
                  and lte.get("tech") == "lte" and lte.get("roaming") is True)
            return (st, ms) if ok else None

        got = wait_for(ready, 40)
        assert got, d.log()
        data = {
            "status": got[0],
            "members": {"members": got[1]},
            "events": rpcd_call(d.sock, "events", {"limit": 15}),
            "schema": rpcd_call(d.sock, "config.get", {"schema": True})["schema"],
        }
    finally:
        rc = d.stop()
        # the simulator lives in the daemon's namespace: stop it by its pid
        if wait_for(lambda: pidfile.exists(), 5):
            try:
                os.kill(int(pidfile.read_text().strip()), signal.SIGTERM)
            except (ProcessLookupError, ValueError):
                pass
    assert rc == 0, d.log()
    data["down"] = rpcd_call(d.sock, "status")
    assert data["down"]["error"]["code"] == "unavailable"
    return data


@pytest.fixture(scope="module")
def report(recorded, tmp_path_factory):
    www = subprocess.run(["make", "--no-print-directory", "www"], cwd=ROOT, capture_output=True,
                         text=True, timeout=600)
    assert www.returncode == 0, www.stdout + www.stderr
    down = recorded["down"]
    ok = {"autonomy.status": recorded["status"], "autonomy.events": recorded["events"],
          "autonomy.members": recorded["members"]}
    view = "packaging/openwrt/luci-app-autonomy/htdocs/luci-static/resources/view/autonomy/"
    plan = {"cases": [
        {"name": "overview", "view": view + "overview.js", "answers": ok,
         "tick": {"autonomy.status": down, "autonomy.events": down}},
        {"name": "overview_no_plugin", "view": view + "overview.js", "answers": {}},
        {"name": "members", "view": view + "members.js", "answers": ok,
         "tick": {"autonomy.members": down}},
        {"name": "settings", "view": view + "settings.js", "answers": {},
         "validate": {"device": ["eth1", "wwan0", "", "sixteen-chars-xx", "a/b", "eth 1"]}},
    ]}
    path = tmp_path_factory.mktemp("plan") / "plan.json"
    path.write_text(json.dumps(plan))
    r = subprocess.run(["node", RUNNER, "--plan", str(path), "--chromium", CHROMIUM], cwd=ROOT,
                       capture_output=True, text=True, timeout=180)
    lines = r.stdout.strip().splitlines()
    assert r.returncode == 0 and lines, r.stdout[-3000:] + r.stderr[-3000:]
    rep = json.loads(lines[-1])
    os.makedirs(os.path.join(BUILD, "test-artifacts"), exist_ok=True)
    with open(os.path.join(BUILD, "test-artifacts", "luci-report.json"), "w") as f:
        json.dump(rep, f, indent=1)
    assert not rep["errors"], rep["errors"]
    for name, case in rep["cases"].items():
        assert "failed" not in case, name + ": " + case["failed"]
        assert not case["errors"], (name, case["errors"])
    return rep["cases"]


def rows_by_first_cell(table):
    return {r[0]: r for r in table[1:]}


@needs_browser
@needs_netns
def test_declared_rpc_matches_rpcd_list(report):
    methods = rpcd_list()
    acl = json.load(open(ACL))["luci-app-autonomy"]
    allowed = acl["read"]["ubus"]["autonomy"] + acl["write"]["ubus"]["autonomy"]
    seen = set()
    for name, case in report.items():
        for d in case["declared"]:
            assert d["object"] == "autonomy", (name, d)
            assert d["method"] in methods and d["method"] in allowed, (name, d)
            assert set(d["params"]) <= set(methods[d["method"]]), (name, d)
            seen.add(d["method"])
        for c in case["calls"]:
            sig = methods[c["method"]]
            for k, v in c["args"].items():
                assert json_type(v) == json_type(sig[k]), (name, c)
    assert seen == {"status", "events", "members"}


@needs_browser
@needs_netns
def test_overview_renders_active_and_scores(report, recorded):
    st = recorded["status"]
    case = report["overview"]
    assert case["requires"] == ["view", "dom", "poll", "rpc"]
    assert case["buttons"] == {"saveApply": None, "save": None, "reset": None}
    assert [c["method"] for c in case["calls"]] == ["status", "events"]
    assert case["calls"][1]["args"] == {"limit": 15}
    assert case["polls"] and all(2 <= p <= 5 for p in case["polls"])
    first = case["first"]
    assert first["error"] is None
    active = rows_by_first_cell([[]] + first["tables"]["autonomy-active"])
    assert active["Active uplink"][1] == st["active"] == "a"
    assert active["State"][1].startswith({"normal": "Normal", "failover": "Failover"}[st["state"]])
    assert st["last_event"]["message"] in active["Last event"][1]
    members = first["tables"]["autonomy-members"]
    assert members[0] == ["Member", "Class", "Device", "Status", "Eligible", "Weight", "Metered",
                          "Score", "Instant", "EWMA", "Window"]
    score_col = members[0].index("Score")
    shown = rows_by_first_cell(members)
    assert len(shown) == len(st["members"]) == 3
    for m in st["members"]:
        row = shown[m["name"] + (" *" if m["name"] == st["active"] else "")]
        assert row[1] == m["class"] and row[2] == m["device"] and row[3] == m["status"]
        for i, k in enumerate(("final", "instant", "ewma", "window")):
            assert row[score_col + i] == "%.1f" % m["score"][k], (m["name"], k, row)
    events = first["tables"]["autonomy-events"]
    assert [r[2] for r in events[1:]] == [e["message"] for e in recorded["events"]["events"]]
    # the next poll finds the daemon stopped: the view says so instead of old data
    after = case["after_poll"]
    assert after["error"].startswith(recorded["down"]["error"]["message"] + ". Start it with ")
    assert "autonomy-members" not in after["tables"]
    assert [c["method"] for c in case["calls_after_poll"]] == ["status", "events"]


@needs_browser
@needs_netns
def test_overview_without_rpcd_plugin(report):
    case = report["overview_no_plugin"]
    assert 'The ubus object "autonomy" is not available' in case["first"]["error"]
    assert "Object not found" in case["first"]["error"]


@needs_browser
@needs_netns
def test_members_view_shows_details_and_dish(report, recorded):
    case = report["members"]
    ms = recorded["members"]["members"]
    tables = case["first"]["tables"]
    for m in ms:
        f = rows_by_first_cell([[]] + tables["autonomy-member:" + m["name"]])
        want = " / ".join("%.1f" % m["score"][k] for k in ("final", "instant", "ewma", "window"))
        assert f["Score (final / instant / EWMA / window)"][1] == want
        assert f["Probe / targets"][1].startswith("icmp: " + ", ".join(m["targets"]))
        assert f["Class / device"][1] == m["class"] + " / " + m["device"]
    assert "autonomy-starlink:a" not in tables
    sl = next(m for m in ms if m["name"] == "sl")["starlink"]
    dish = rows_by_first_cell([[]] + tables["autonomy-starlink:sl"])
    assert dish["Dish reachable"][1].startswith("yes")
    assert dish["Alerts"][1] == ", ".join(sl["alerts"]) and "thermal_throttle" in sl["alerts"]
    assert dish["Obstruction"][1].startswith("%.1f %%" % sl["obstruction_pct"])
    assert dish["Outage"][1] == ("none" if sl["outage"] is None else dish["Outage"][1])
    assert "autonomy-cellular:a" not in tables and "autonomy-data:a" not in tables
    radio = rows_by_first_cell([[]] + tables["autonomy-cellular:lte"])
    assert radio["Technology"][1] == "lte"
    assert radio["RSRP / RSRQ / SINR"][1] == "-90 dBm / -9.0 dB / 15.0 dB"
    assert radio["Operator"][1] == "LabTel (99901), roaming"
    data = rows_by_first_cell([[]] + tables["autonomy-data:lte"])
    assert data["Used this period"][1].endswith(" of 100 MB (%.1f %%)"
                                                % next(m for m in ms if m["name"] == "lte")["data"]["used_pct"])
    assert case["after_poll"]["error"].startswith(recorded["down"]["error"]["message"] + ". ")


@needs_browser
@needs_netns
def test_settings_form_matches_schema(report, recorded):
    case = report["settings"]
    assert case["requires"] == ["view", "form"]
    assert case["calls"] == [] and case["polls"] == []
    form = case["form"]
    assert form["config"] == "autonomy"
    schema = {(o["section"], o["option"]): o for o in recorded["schema"]}
    main, member = form["sections"]
    assert main["kind"] == "NamedSection" and main["args"][:2] == ["main", "autonomy"]
    assert member["kind"] == "GridSection" and member["args"][0] == "member"
    assert member["addremove"] and not member["anonymous"]
    want_main = {"controller", "probe_interval_ms", "hard_fail_ms", "switch_margin",
                 "fail_min_duration_s", "restore_min_duration_s", "cooldown_s", "http_listen",
                 "http_port", "mqtt_host", "mqtt_password"}
    want_member = {"device", "class", "weight", "metered", "target", "enabled"}
    assert want_main <= {o["name"] for o in main["options"]}
    assert want_member <= {o["name"] for o in member["options"]}
    for sec, stype in ((main, "autonomy"), (member, "member")):
        for o in sec["options"]:
            sch = schema.get((stype, o["name"]))
            assert sch, "%s.%s is not in the daemon's schema" % (stype, o["name"])
            check_option(o, sch)
    dev = dict(case["validate"]["device"])
    assert dev["eth1"] is True and dev["wwan0"] is True
    assert all(dev[v] is not True for v in ("", "sixteen-chars-xx", "a/b", "eth 1"))


def check_option(o, sch):
    name = o["name"]
    if sch["type"] == "enum":
        assert o["kind"] == "ListValue", name
        assert set(o["values"]) == set(sch["choices"]), (name, o["values"], sch["choices"])
        assert o["default"] == sch["default"], name
    elif sch["type"] == "bool":
        assert o["kind"] == "Flag", name
        assert o["default"] == sch["default"], name
    elif sch["type"] == "int":
        assert o["kind"] == "Value", name
        if o["datatype"] == "port":
            assert (sch["min"], sch["max"]) == (1, 65535), name
        else:
            assert o["datatype"] == "and(uinteger,range(%d,%d))" % (sch["min"], sch["max"]), name
        assert o["placeholder"] == sch["default"], name
    elif sch["type"] == "list":
        assert o["kind"] == "DynamicList", name
    else:
        assert o["kind"] == "Value", name
        assert o["password"] == sch["secret"], name
