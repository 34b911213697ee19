"""The dashboard (www/, built by `make www`) in real headless Chromium, driven by
playwright-core through tests/dashboard/e2e.mjs, against the real daemon.

Without the lab: a daemon on the host (a free port, controller none) serves
build/www; the manifest, the icons, Chromium's installability check, the service
worker controlling the page, keyboard navigation, labels and text contrast (light and
dark), and the offline reload of the cached shell.

In the lab (root): the overview shows the active member; `lab/lab fault starlink
blackhole` brings the failover banner, a notification and the card change without a
reload; the history chart has data and the switch marked; events filter; the system
page; a settings change round-trips (after a refused and an accepted token) and an
invalid value shows the daemon's error at the field; an action with confirmation;
the phone layout; offline reload; no console errors. Screenshots go to
build/test-artifacts/. The lab is shared with other test runs: it is used under
flock /tmp/autonomy-lab.lock, held for about a minute."""
import fcntl
import json
import os
import shutil
import subprocess
import time
import urllib.request

import pytest

from conftest import AUTONOMYCTL, BUILD, ROOT
from test_http import Http

LAB = os.path.join(ROOT, "lab", "lab")
SOCK = "/run/autonomy-lab/state/autonomy.sock"
LOCK = "/tmp/autonomy-lab.lock"
E2E = os.path.join(ROOT, "tests", "dashboard", "e2e.mjs")
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
ARTIFACTS = os.path.join(BUILD, "test-artifacts")
TOKEN = "dashboard-test-token-0123456789"
DASHBOARD = "http://127.0.0.1:8080/"

INSTALL_CHECKS = ["loads", "manifest", "icons", "sw_controls", "installable", "keyboard",
                  "labels_contrast", "offline_shell", "console_clean"]
LAB_CHECKS = INSTALL_CHECKS[:-2] + [
    "overview_active", "class_lines", "failover_live", "notification", "history_chart", "events_filter",
    "system", "login", "settings_roundtrip", "settings_invalid", "action_recheck", "phone",
    "offline_shell", "console_clean"]

needs_browser = pytest.mark.skipif(
    not (shutil.which("node") and shutil.which("npm") and os.access(CHROMIUM, os.X_OK)),
    reason="needs node, npm and %s (scripts/deps.sh test installs them)" % CHROMIUM)


@pytest.fixture(scope="module")
def www():
    """build/www, made by `make www` (npm ci, uPlot copied in, gzip variants)."""
    r = subprocess.run(["make", "--no-print-directory", "www"], cwd=ROOT, capture_output=True,
                       text=True, timeout=600)
    assert r.returncode == 0, r.stdout + r.stderr
    assert os.path.exists(os.path.join(BUILD, "www", "index.html"))
    return os.path.join(BUILD, "www")


def e2e(url, scenario, *args, timeout=240):
    r = subprocess.run(["node", E2E, "--url", url, "--scenario", scenario,
                        "--artifacts", ARTIFACTS, "--chromium", CHROMIUM] + list(args),
                       cwd=ROOT, capture_output=True, text=True, timeout=timeout)
    lines = r.stdout.strip().splitlines()
    assert r.returncode == 0 and lines, r.stdout[-3000:] + r.stderr[-3000:]
    report = json.loads(lines[-1])
    if "driver" in report["checks"]:
        raise AssertionError("the browser driver failed: " + report["checks"]["driver"]["detail"])
    return report


def failed(report, name):
    c = report["checks"].get(name)
    if c is None:
        return "not run (an earlier step failed?)"
    return None if c["ok"] else c["detail"]


# ---- without the lab ----------------------------------------------------------------------

@needs_browser
def test_installable_offline_shell(www, tmp_path):
    os.symlink(www, tmp_path / "www")
    h = Http(tmp_path, extra=f"\toption http_token '{TOKEN}'\n").start()
    try:
        report = e2e(h.url("/"), "install")
    finally:
        h.stop()
    bad = {n: failed(report, n) for n in INSTALL_CHECKS if failed(report, n)}
    assert not bad, json.dumps(bad, indent=1)
    assert report["checks"]["offline_shell"]["detail"]["cards"] == 2


# ---- in the lab -----------------------------------------------------------------------------

def lab(*args, check=True, timeout=120):
    r = subprocess.run([LAB] + list(args), capture_output=True, text=True, timeout=timeout)
    if check and r.returncode != 0:
        raise AssertionError(f"lab {' '.join(args)}: {r.returncode}\n{r.stdout}\n{r.stderr}")
    return r


def status():
    r = subprocess.run([AUTONOMYCTL, "--socket", SOCK, "--json", "status"], capture_output=True,
                       text=True, timeout=10)
    return json.loads(r.stdout) if r.returncode == 0 else {}


def wait_for(pred, timeout, step=0.2):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if pred():
            return True
        time.sleep(step)
    return False


def dashboard_answers():
    try:
        with urllib.request.urlopen(DASHBOARD + "healthz", timeout=2) as r:
            return r.status == 200
    except OSError:
        return False


def ancestors():
    pids, pid = set(), os.getpid()
    while pid > 1:
        pids.add(pid)
        with open(f"/proc/{pid}/status") as f:
            pid = int(next(ln for ln in f if ln.startswith("PPid:")).split()[1])
    return pids


def held_by_ancestor(fd):
    """True when a process we run under (`flock LOCK pytest …`) holds the lock already."""
    ino = os.fstat(fd).st_ino
    mine = ancestors()
    with open("/proc/locks") as f:
        for ln in f:
            parts = ln.split()
            if len(parts) > 5 and parts[1] == "FLOCK" and parts[5].rsplit(":", 1)[-1] == str(ino):
                if int(parts[4]) in mine:
                    return True
    return False


@pytest.fixture(scope="module")
def lab_report(request):
    if os.geteuid() != 0:
        pytest.skip("the lab needs root")
    request.getfixturevalue("www")
    fd = os.open(LOCK, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        if not held_by_ancestor(fd):
            deadline = time.monotonic() + 900
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    assert time.monotonic() < deadline, "the lab stayed locked for 15 min"
                    time.sleep(1)
        yield run_lab_story()
    finally:
        os.close(fd)


def run_lab_story():
    lab("down", check=False)
    lab("up")
    report = None
    try:
        base = open(os.path.join(ROOT, "lab", "autonomy.conf")).read()
        conf = "/run/autonomy-lab/dashboard-test.conf"
        with open(os.open(conf, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as f:
            f.write(base.replace("config autonomy 'main'\n",
                                 f"config autonomy 'main'\n\toption http_token '{TOKEN}'\n", 1))
        out = lab("start", "-c", conf).stdout
        assert "dashboard: " + DASHBOARD in out, out
        assert wait_for(lambda: status().get("active") == "starlink", 30), lab("logs").stdout[-3000:]
        # every member settled (min_uptime_s), so the pictures show a calm start
        wait_for(lambda: all(m["eligible"] for m in status().get("members", [{"eligible": 0}])), 30)
        assert wait_for(dashboard_answers, 10), "nothing answers on " + DASHBOARD
        report = e2e(DASHBOARD, "lab", "--token", TOKEN, "--active", "starlink",
                     "--after", "fiber", "--fault", f"{LAB} fault starlink blackhole")
        report["log"] = lab("logs", check=False).stdout[-4000:]
    finally:
        stopped = lab("stop", check=False)
        if report is not None:
            report["stop"] = {"rc": stopped.returncode, "out": stopped.stdout + stopped.stderr,
                              "forwarder_gone": not os.path.exists("/run/autonomy-lab/httpfwd.pid")
                              and not dashboard_answers()}
        lab("down", check=False)
    return report


@needs_browser
@pytest.mark.parametrize("check", LAB_CHECKS)
def test_lab_dashboard(lab_report, check):
    assert not failed(lab_report, check), failed(lab_report, check)
    if check == "failover_live":
        # blackhole → hard:no-reply within hard_fail_ms, then one status tick to the page
        assert lab_report["checks"][check]["detail"]["seconds"] < 10


@needs_browser
def test_lab_stop_ends_daemon_and_forwarder(lab_report):
    assert lab_report["stop"]["rc"] == 0, lab_report["stop"]["out"] + lab_report["log"]
    assert lab_report["stop"]["forwarder_gone"], "the host port still answers after lab stop"
