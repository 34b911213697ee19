"""The history store in the real daemon: `history` over the socket and through
autonomyctl, `info.resources`, max_ram_kb on reload, members coming and going,
and history_file across restarts (including a full snapshot written by
tests/system/histtool.c from the store's own code, as bench/footprint does)."""
import json
import os
import re
import signal
import stat
import subprocess
import time

import pytest

from conftest import BASE_CONFIG, ROOT, Daemon

TS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")


def config(extra=""):
    return BASE_CONFIG.replace("\toption controller 'none'\n",
                               "\toption controller 'none'\n" + extra)


def pkg_config(*args):
    return subprocess.run(["pkg-config"] + list(args), check=True, capture_output=True,
                          text=True).stdout.split()


@pytest.fixture(scope="module")
def histtool(tmp_path_factory):
    out = str(tmp_path_factory.mktemp("histtool") / "histtool")
    cmd = (["gcc", "-std=gnu11", "-Wall", "-Wextra", "-Werror", "-O2", "-D_GNU_SOURCE", "-Isrc"]
           + pkg_config("--cflags", "json-c")
           + ["-o", out, "tests/system/histtool.c", "src/telem/history.c", "src/telem/series.c",
              "src/core/util.c", "src/core/log.c"] + pkg_config("--libs", "json-c") + ["-lm"])
    r = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    return out


def history(d, **params):
    return d.request({"method": "history", "params": params})


def wait_points(d, name, n, timeout=10.0):
    deadline = time.monotonic() + timeout
    while True:
        h = history(d, name=name, since_s=120, resolution="raw")
        if h["count"] >= n or time.monotonic() > deadline:
            return h
        time.sleep(0.2)


@pytest.fixture
def hd(tmp_path):
    d = Daemon(tmp_path, config(f"\toption history_file '{tmp_path}/hist.bin'\n")).start()
    yield d
    assert d.stop() == 0, d.log()


def test_history_over_the_socket(hd):
    h = wait_points(hd, "fiber", 3)
    assert h["count"] >= 3, hd.log()
    assert h["name"] == "fiber" and h["resolution"] == "raw" and h["step_s"] == 1
    assert h["fields"] == ["ts", "latency_ms", "loss_pct", "jitter_ms", "score", "status"]
    assert len(h["points"]) == h["count"]
    secs = []
    for p in h["points"]:
        assert TS.match(p[0]) and len(p) == len(h["fields"])
        # the device does not exist: nothing measured (null, not 0), status down
        assert p[1:5] == [None, None, None, None] and p[5] == "down"
        secs.append(time.mktime(time.strptime(p[0], "%Y-%m-%dT%H:%M:%SZ")))
    assert secs == sorted(secs) and len(set(secs)) == len(secs)
    assert h["from"] == h["points"][0][0] and h["to"] == h["points"][-1][0]
    assert 1 <= h["covered_s"] <= 120

    # the default: the last hour, which the raw tier cannot hold, so 10 s aggregates
    h = history(hd, name="fiber")
    assert h["since_s"] == 3600 and h["resolution"] == "10s"
    assert h["fields"][:5] == ["ts", "n", "latency_ms_min", "latency_ms", "latency_ms_max"]
    assert sum(p[1] for p in h["points"]) >= 3
    h = history(hd, name="lte", since_s=600, resolution="1m")
    assert h["resolution"] == "1m" and h["step_s"] == 60 and h["count"] >= 1

    h = history(hd, name="system", since_s=60)
    assert h["fields"][:3] == ["ts", "rss_kb", "cpu_pct"]
    rss = [p[1] for p in h["points"]]
    assert rss and all(r > 500 for r in rss)
    assert h["points"][-1][h["fields"].index("sys_mem_available_mb")] > 0


@pytest.mark.parametrize("params, code, text", [
    ({}, "invalid_argument", "needs name"),
    ({"name": "nope"}, "not_found", "no history for 'nope'"),
    ({"name": "fiber", "resolution": "1h"}, "invalid_argument", "unknown resolution '1h'"),
    ({"name": "fiber", "since_s": 0}, "invalid_argument", "since_s must be between 1 and"),
    ({"name": "fiber", "since_s": 10 ** 9}, "invalid_argument", "since_s must be between 1 and"),
    ({"name": "fiber", "since_s": "60"}, "invalid_argument", "must be a number"),
    ({"name": 5}, "invalid_argument", "must be a string"),
    ({"name": "fiber", "limit": 5}, "invalid_argument", "no parameter 'limit'"),
])
def test_history_bad_arguments(daemon, params, code, text):
    r = daemon.request({"method": "history", "params": params})
    assert r["error"]["code"] == code
    assert text in r["error"]["message"]


def test_autonomyctl_history(hd):
    wait_points(hd, "fiber", 2)
    r = hd.ctl("history", "fiber", "2m")
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert re.match(r"fiber: \d+ points? at raw resolution over the last 2m 00s", lines[0])
    assert lines[2].split() == ["TIME", "LATENCY_MS", "LOSS_PCT", "JITTER_MS", "SCORE", "STATUS"]
    assert lines[3].split()[1:] == ["-", "-", "-", "-", "down"]

    r = hd.ctl("--json", "history", "system")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["resolution"] == "10s"

    r = hd.ctl("history", "nope")
    assert r.returncode == 1 and "no history for 'nope'" in r.stderr
    r = hd.ctl("history", "fiber", "soon")
    assert r.returncode == 2 and "not 'soon'" in r.stderr
    r = hd.ctl("history")
    assert r.returncode == 2


def test_info_resources(hd):
    wait_points(hd, "system", 3)
    info = hd.request({"method": "info"})
    res = info["resources"]
    assert set(res) == {"rss_kb", "cpu_pct", "cpu_s", "wakeups_per_s", "system"}
    assert set(res["system"]) == {"cpu_pct", "mem_total_kb", "mem_available_kb",
                                  "load1", "load5", "load15"}
    assert 500 < res["rss_kb"] < 64 * 1024
    assert abs(res["rss_kb"] - info["rss_kb"]) < 2048
    assert 0 <= res["cpu_pct"] <= 100 and res["cpu_s"] >= 0
    assert res["wakeups_per_s"] > 0
    sysr = res["system"]
    assert 0 <= sysr["cpu_pct"] <= 100
    assert 0 < sysr["mem_available_kb"] <= sysr["mem_total_kb"]
    assert all(sysr[k] >= 0 for k in ("load1", "load5", "load15"))

    h = info["history"]
    assert h["max_ram_kb"] == 512 and h["series"] == 3
    assert 0 < h["used_bytes"] <= 512 * 1024
    assert 0 < h["span_s"]["raw"] <= 900 and h["span_s"]["1m"] <= 7 * 86400

    r = hd.ctl("info")
    assert r.returncode == 0
    assert re.search(r"^history: +3 series, \d+ bytes of 512 kB", r.stdout, re.M)
    assert re.search(r"^system: +cpu [\d.]+ %", r.stdout, re.M)


def test_max_ram_kb_on_reload_keeps_the_newest(hd):
    wait_points(hd, "fiber", 3)
    before = history(hd, name="fiber", since_s=60, resolution="raw")["points"]
    r = hd.request({"method": "config.set", "params": {"values": {"main.max_ram_kb": 64}}})
    assert r.get("ok"), r
    h = hd.request({"method": "info"})["history"]
    assert h["max_ram_kb"] == 64 and h["used_bytes"] <= 64 * 1024
    assert hd.wait_log("history: 3 series in 64 of 64 KB")
    after = history(hd, name="fiber", since_s=60, resolution="raw")["points"]
    assert after[:len(before)][-h["span_s"]["raw"]:] == before[-h["span_s"]["raw"]:]
    assert len(after) <= h["span_s"]["raw"] + 1

    r = hd.request({"method": "config.set", "params": {"values": {"main.max_ram_kb": 10}}})
    assert r["error"]["code"] == "invalid_argument" and "out of range" in r["error"]["message"]


def test_members_come_and_go(hd):
    wait_points(hd, "lte", 2)
    hd.conf.write_text(config() .replace("config member 'lte'", "config member 'sat'")
                       .replace("\toption metered '1'\n", "\toption class 'starlink'\n"))
    hd.proc.send_signal(signal.SIGHUP)
    assert hd.wait_log("configuration reloaded")
    r = history(hd, name="lte")
    assert r["error"]["code"] == "not_found"
    h = wait_points(hd, "sat", 1)
    assert h["fields"][-3:] == ["obstruction_pct", "pop_latency_ms", "pop_drop_pct"]
    assert h["points"][-1][-3:] == [None, None, None]     # no dish answers
    assert hd.request({"method": "info"})["history"]["series"] == 3


def test_history_file_survives_a_restart(hd):
    first = wait_points(hd, "fiber", 3)["points"]
    assert hd.stop() == 0
    f = hd.dir / "hist.bin"
    assert stat.S_IMODE(os.stat(f).st_mode) == 0o600
    assert re.search(r"history: saved \d+ KB to .*hist.bin", hd.log())
    hd.start()
    assert hd.wait_log("history: loaded 3 series from")
    h = history(hd, name="fiber", since_s=300, resolution="raw")
    assert [p for p in h["points"] if p[0] <= first[-1][0]] == first
    sysh = history(hd, name="system", since_s=300, resolution="raw")
    assert sysh["points"][0][0] <= first[0][0]


@pytest.mark.parametrize("content", [b"garbage", b"AUTOHIST" + b"\0" * 40, None])
def test_bad_history_file_is_ignored(tmp_path, content):
    f = tmp_path / "hist.bin"
    d = Daemon(tmp_path, config(f"\toption history_file '{f}'\n"))
    if content is None:     # a real snapshot cut short
        d.start()
        wait_points(d, "fiber", 2)
        assert d.stop() == 0
        f.write_bytes(f.read_bytes()[:-100])
    else:
        f.write_bytes(content)
    d.start()
    try:
        assert d.wait_log("history: ignoring " + str(f))
        assert wait_points(d, "fiber", 1)["count"] >= 1
        assert len([ln for ln in d.log().splitlines() if "history: ignoring" in ln]) == 1
    finally:
        assert d.stop() == 0
    # the daemon wrote a good one at the stop
    d.start()
    try:
        assert d.wait_log("history: loaded 3 series")
    finally:
        assert d.stop() == 0


def test_relative_history_file_is_refused(tmp_path):
    d = Daemon(tmp_path, config("\toption history_file 'hist.bin'\n")).start()
    try:
        assert d.wait_log("history_file 'hist.bin' is not an absolute path")
    finally:
        assert d.stop() == 0


def test_full_snapshot_is_loaded(tmp_path, histtool):
    f = tmp_path / "hist.bin"
    r = subprocess.run([histtool, "fill", str(f), "fiber", "lte:cellular", "system"],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    filled = json.loads(r.stdout)
    d = Daemon(tmp_path, config(f"\toption history_file '{f}'\n")).start()
    try:
        assert d.wait_log("history: loaded 3 series")
        info = d.request({"method": "info"})
        span = info["history"]["span_s"]
        assert info["history"]["used_bytes"] == filled["used_bytes"]
        for res, step in (("raw", 1), ("10s", 10), ("1m", 60)):
            h = history(d, name="fiber", since_s=8 * 86400, resolution=res)
            # every slot the tier has is filled (the newest ones by the daemon since)
            assert h["count"] >= span[res] // step - 5, (res, h["count"], span[res])
        h = history(d, name="system", since_s=7 * 86400)
        assert h["resolution"] == "1m" and h["count"] >= span["1m"] // 60 - 5
    finally:
        assert d.stop() == 0
    # and dumped by the store's code after the daemon saved it again
    r = subprocess.run([histtool, "dump", str(f), "fiber", "lte:cellular", "system"],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    dumps = [json.loads(ln) for ln in r.stdout.splitlines()]
    assert [x["name"] for x in dumps] == ["fiber"] * 3 + ["lte"] * 3 + ["system"] * 3
    assert all(x["count"] > 0 for x in dumps)
