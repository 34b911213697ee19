"""The HTTP server of the real daemon, driven by real curl: the API over GET and
POST, status codes and JSON errors, tokens, limits, the event stream, /healthz,
/metrics (checked by promtool) and the dashboard's static files.

Every daemon gets its own free port and temporary directory. Tests that need a
member that really comes up (/healthz 200, a switch in /metrics) or a listener
beyond loopback run the daemon in a private network namespace (unshare -n):
its loopback carries a global address and a default route, so a member on `lo`
probing 127.0.0.1 is up. The namespace disappears with the daemon; nothing on
the host changes. curl reaches it through nsenter."""
import json
import os
import select
import shutil
import signal
import socket
import subprocess
import time

import pytest

from conftest import AUTONOMYCTL, Daemon

TOKEN = "s3cret-token-0123456789"
HOST_MEMBERS = """
config member 'fiber'
	option device 'eth1'
	option weight '80'

config member 'lte'
	option device 'wwan0'
	list target '1.1.1.1'
"""
LO_MEMBER = """
config member 'loop'
	option device 'lo'
	list target '127.0.0.1'
"""
NETNS_SETUP = ["ip link set lo up", "ip addr add 10.9.9.9/32 dev lo",
               "ip route add default dev lo"]

needs_netns = pytest.mark.skipif(
    os.geteuid() != 0 or not all(shutil.which(t) for t in ("unshare", "nsenter", "ip")),
    reason="needs root, unshare, nsenter and iproute2")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def make_config(port, extra="", members=HOST_MEMBERS, listen="127.0.0.1"):
    return ("config autonomy 'main'\n\toption controller 'none'\n"
            f"\toption http_listen '{listen}'\n\toption http_port '{port}'\n" + extra + members)


class Resp:
    def __init__(self, rc, status, headers, body):
        self.rc, self.status, self.headers, self.body = rc, status, headers, body

    def json(self):
        return json.loads(self.body)

    def error(self):
        return self.json()["error"]


def curl(url, *args, ns=None, timeout=15):
    """curl -i: returns the last response's status, headers (lower-case) and body."""
    cmd = list(ns or []) + ["curl", "-sS", "-i", "--max-time", str(timeout), url] + list(args)
    r = subprocess.run(cmd, capture_output=True, timeout=timeout + 5)
    out = r.stdout
    status, headers = None, {}
    while out.startswith(b"HTTP/"):
        head, _, out = out.partition(b"\r\n\r\n")
        lines = head.decode().split("\r\n")
        status = int(lines[0].split()[1])
        headers = {k.strip().lower(): v.strip() for k, _, v in (ln.partition(":") for ln in lines[1:])}
        if status != 100:
            break
    return Resp(r.returncode, status, headers, out)


class Http:
    """A daemon with its HTTP listener; ns is set when it runs in its own namespace."""

    def __init__(self, tmp_path, extra="", members=HOST_MEMBERS, listen="127.0.0.1", netns=False,
                 wrapper=(), setup=NETNS_SETUP):
        self.port = free_port()
        self.root = tmp_path / "www"
        extra = f"\toption http_root '{self.root}'\n" + extra
        if netns:
            wrapper = ["unshare", "--net", "sh", "-ec", "; ".join(setup) + '; exec "$@"', "sh"]
        self.d = Daemon(tmp_path, make_config(self.port, extra, members, listen), wrapper=wrapper)
        self.host = listen if ":" not in listen else "[%s]" % listen
        self.netns = netns
        self.ns = None

    def start(self, timeout=10.0):
        self.d.start(timeout)
        if self.netns:
            self.ns = ["nsenter", "--net=/proc/%d/ns/net" % self.d.proc.pid]
        return self

    def url(self, path):
        return "http://%s:%d%s" % (self.host, self.port, path)

    def get(self, path, *args, **kw):
        return curl(self.url(path), *args, ns=self.ns, **kw)

    def post(self, path, body, *args, **kw):
        """body: the text, or "@FILE"."""
        if not body.startswith("@"):
            f = self.d.dir / "body.json"
            f.write_bytes(body.encode())
            body = "@" + str(f)
        return curl(self.url(path), "-X", "POST", "-H", "Content-Type: application/json",
                    "--data-binary", body, *args, ns=self.ns, **kw)

    def info(self):
        return self.d.request({"method": "info"})["http"]

    def stop(self):
        rc = self.d.stop()
        assert rc == 0, self.d.log()


@pytest.fixture
def http(tmp_path):
    h = Http(tmp_path).start()
    yield h
    h.stop()


@pytest.fixture
def http_token(tmp_path):
    h = Http(tmp_path, extra=f"\toption http_token '{TOKEN}'\n").start()
    yield h
    h.stop()


AUTH = ["-H", "Authorization: Bearer " + TOKEN]


# ---- the API ------------------------------------------------------------------------------

def test_get_methods_and_query_parameters(http):
    r = http.get("/api/status")
    assert r.status == 200 and r.headers["content-type"] == "application/json"
    assert r.headers["cache-control"] == "no-store"
    st = r.json()
    assert [m["name"] for m in st["members"]] == ["fiber", "lte"]
    assert st["controller"] == "none"

    r = http.get("/api/events?limit=1")
    assert r.status == 200 and len(r.json()) == 1
    assert len(http.get("/api/events?limit=3").json()) == 3
    r = http.get("/api/events?limit=abc")
    assert r.status == 400 and r.error()["code"] == "invalid_argument"
    assert "whole number" in r.error()["message"]
    r = http.get("/api/events?limit=0")
    assert r.status == 400 and "between 1 and" in r.error()["message"]
    r = http.get("/api/events?limit=1&limit=2")
    assert r.status == 400 and "twice" in r.error()["message"]
    r = http.get("/api/status?verbose=1")
    assert r.status == 400 and "takes no parameter 'verbose'" in r.error()["message"]

    members = http.get("/api/members").json()
    assert "probes" in members[0] and "latency_ms" in members[0]
    r = http.get("/api/config.get?schema=true")
    assert r.status == 200 and any(o["option"] == "http_token" and o["secret"]
                                   for o in r.json()["schema"])
    r = http.get("/api/history?name=fiber&since_s=abc")
    assert r.status == 400 and "since_s" in r.error()["message"]
    r = http.get("/api/history?name=fiber&since_s=600")
    assert r.status == 200, r.body
    info = http.get("/api/info").json()
    assert info["http"] == {"listen": "127.0.0.1", "port": http.port, "state": "listening",
                            "auth": "read-only", "streams": 0}
    assert "http" in info["features"]
    # HEAD: the headers of GET, no body
    r = http.get("/api/status", "-I")
    assert r.status == 200 and r.body == b""


def test_post_bodies_and_bad_requests(http):
    r = http.post("/api/events", '{"limit": 2}')
    assert r.status == 200 and len(r.json()) == 2
    r = http.post("/api/status", "")
    assert r.status == 200 and "members" in r.json()
    r = http.post("/api/status", "  \n")
    assert r.status == 200
    for bad in ('{"limit": ', "[1, 2]", '{"limit": 1} trailing', "\x00{}", "nul"):
        r = http.post("/api/events", bad)
        assert r.status == 400, bad
        assert r.error()["code"] == "invalid_request", bad
    r = http.post("/api/events", '{"limit": "5"}')
    assert r.status == 400 and r.error()["code"] == "invalid_argument"

    r = http.get("/api/nosuchmethod")
    assert r.status == 404 and r.error()["code"] == "unknown_method"
    r = http.post("/api/nosuchmethod", "{}")
    assert r.status == 404
    r = http.get("/api")
    assert r.status == 404

    r = http.get("/api/status", "-X", "DELETE")
    assert r.status == 405 and r.headers["allow"] == "GET, HEAD, POST"
    assert r.error()["code"] == "method_not_allowed"
    r = http.get("/api/action?cmd=recheck")
    assert r.status == 405 and r.headers["allow"] == "POST"
    r = http.get("/api/config.set")
    assert r.status == 405
    r = http.get("/healthz", "-X", "PUT")
    assert r.status == 405
    r = http.get("/metrics", "-X", "POST")
    assert r.status == 405


def test_body_limit(http, tmp_path):
    body = '{"limit": 1}'
    exact = tmp_path / "exact.json"
    exact.write_text(body + " " * (65536 - len(body)))
    r = http.post("/api/events", "@" + str(exact))
    assert r.status == 200 and len(r.json()) == 1
    big = tmp_path / "big.json"
    big.write_text(body + " " * 70000)
    r = http.post("/api/events", "@" + str(big))
    assert r.status == 413 and r.error()["code"] == "too_large"
    # Chunked: no length up front, so the connection is cut when it passes the limit.
    r = http.post("/api/events", "@" + str(big), "-H", "Transfer-Encoding: chunked")
    assert r.status is None and r.rc != 0
    assert "larger than 65536 bytes: closing" in http.d.log()
    assert http.get("/api/status").status == 200


def test_writes_are_refused_without_a_token(http):
    r = http.post("/api/action", '{"cmd": "recheck"}')
    assert r.status == 403 and r.error()["code"] == "forbidden"
    assert "http_token" in r.error()["message"]
    r = http.post("/api/config.set", '{"values": {"main.log_level": "debug"}}')
    assert r.status == 403
    assert http.d.request({"method": "config.get"})["values"]["main"]["log_level"] == "info"
    # reads need no token, and one sent anyway is not checked
    assert http.get("/api/status", *AUTH).status == 200


def test_tokens_for_writes(http_token):
    h = http_token
    r = h.post("/api/action", '{"cmd": "recheck"}')
    assert r.status == 401 and r.error()["code"] == "unauthorized"
    assert r.headers["www-authenticate"].startswith("Bearer")
    r = h.post("/api/action", '{"cmd": "recheck"}', "-H", "Authorization: Bearer wrong")
    assert r.status == 401 and r.error()["message"] == "wrong token"
    r = h.post("/api/action", '{"cmd": "recheck"}', "-H", "Authorization: Basic Zm9vOmJhcg==")
    assert r.status == 401
    r = h.post("/api/action", '{"cmd": "recheck"}', "-H", "Authorization: Bearer " + TOKEN[:-1])
    assert r.status == 401
    r = h.post("/api/action", '{"cmd": "recheck"}', *AUTH)
    assert r.status == 200 and r.json()["ok"] is True
    r = h.post("/api/action", '{"cmd": "failover", "name": "nope"}', *AUTH)
    assert r.status == 400 and "no member named" in r.error()["message"]
    r = h.post("/api/action", '{"cmd": "failover"}', *AUTH)
    assert r.status == 503 and r.error()["code"] == "unavailable"
    assert "wrong token from 127.0.0.1" in h.d.log()
    assert TOKEN not in h.d.log()
    # reads on loopback need none; a wrong one is refused (a login view can check it)
    assert h.get("/api/status").status == 200
    assert h.get("/metrics").status == 200
    assert h.get("/api/status", "-H", "Authorization: Bearer nope").status == 401
    assert h.info()["auth"] == "writes"
    # the secret is masked over HTTP too
    assert h.get("/api/config.get").json()["values"]["main"]["http_token"] == "********"


def test_config_set_over_http_moves_the_listener(http_token):
    h = http_token
    new = free_port()
    r = h.post("/api/config.set", json.dumps({"values": {"main.http_listen": "banana"}}), *AUTH)
    assert r.status == 400 and r.json()["error"]["field"] == "main.http_listen"
    assert "not an IP address" in r.error()["message"]
    r = h.post("/api/config.set", json.dumps({"values": {"main.http_port": new}}), *AUTH)
    assert r.status == 200 and r.json()["changed"] == ["main.http_port"]
    old = h.port
    h.port = new
    deadline = time.monotonic() + 5
    while h.info()["port"] != new and time.monotonic() < deadline:
        time.sleep(0.05)
    assert h.info() == {"listen": "127.0.0.1", "port": new, "state": "listening", "auth": "writes",
                        "streams": 0}
    assert h.get("/api/status").status == 200
    assert curl("http://127.0.0.1:%d/api/status" % old, timeout=3).rc != 0
    # a reload that changes nothing HTTP keeps the listener (and its connections)
    r = h.post("/api/config.set", json.dumps({"values": {"main.log_level": "debug"}}), *AUTH)
    assert r.status == 200
    assert h.d.log().count("HTTP server on http://") == 2


def test_sighup_turns_http_off_and_on(http, tmp_path):
    conf = http.d.conf.read_text()
    http.d.conf.write_text(conf.replace("option http_listen '127.0.0.1'", "option http_listen ''"))
    http.d.proc.send_signal(signal.SIGHUP)
    assert http.d.wait_log("HTTP server off (http_listen is empty)")
    assert http.info()["state"] == "off" and http.info()["listen"] is None
    assert http.get("/api/status", timeout=3).rc != 0
    http.d.conf.write_text(conf)
    http.d.proc.send_signal(signal.SIGHUP)
    deadline = time.monotonic() + 5
    while http.info()["state"] != "listening" and time.monotonic() < deadline:
        time.sleep(0.05)
    assert http.get("/api/status").status == 200


def test_port_in_use_is_reported_not_fatal(tmp_path):
    with socket.socket() as busy:
        busy.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        h = Http(tmp_path)
        h.port = busy.getsockname()[1]
        h.d.conf.write_text(make_config(h.port))
        h.start()
        state = h.info()["state"]
        assert state.startswith("error: cannot listen on 127.0.0.1:%d" % h.port), state
        assert "Address already in use" in state
        assert "trying again every 30 s" in h.d.log()
        assert h.d.request({"method": "status"})["controller"] == "none"
    h.stop()


def test_beyond_loopback_without_token_refuses(tmp_path):
    h = Http(tmp_path, listen="0.0.0.0").start()
    state = h.info()["state"]
    assert state.startswith("error: not listening on 0.0.0.0:%d" % h.port)
    assert "needs http_token" in state
    assert "HTTP: not listening on 0.0.0.0" in h.d.log()
    assert curl("http://127.0.0.1:%d/healthz" % h.port, timeout=3).rc != 0
    h.stop()


@needs_netns
def test_beyond_loopback_every_request_needs_the_token(tmp_path):
    h = Http(tmp_path, extra=f"\toption http_token '{TOKEN}'\n", listen="10.9.9.9",
             netns=True).start()
    assert h.info()["auth"] == "all" and h.info()["state"] == "listening"
    for path in ("/api/status", "/api/events?limit=1", "/metrics"):
        r = h.get(path)
        assert r.status == 401, path
        assert h.get(path, *AUTH).status == 200, path
    r = h.get("/api/events/stream", "--max-time", "1")
    assert r.status == 401
    # EventSource cannot send headers: the stream also takes the token as a parameter
    r = h.get("/api/events/stream?access_token=" + TOKEN, timeout=2)
    assert r.status == 200 and r.headers["content-type"] == "text/event-stream"
    # health checks and the dashboard's files need none
    assert h.get("/healthz").status in (200, 503)
    (h.root).mkdir()
    (h.root / "index.html").write_text("<!doctype html>")
    assert h.get("/").status == 200
    h.stop()


# ---- the event stream -------------------------------------------------------------------

class Stream:
    """curl -N on the event stream; messages parsed as they arrive."""

    def __init__(self, h, query="", args=()):
        self.proc = subprocess.Popen(list(h.ns or []) + ["curl", "-sSN", "-i", h.url(
            "/api/events/stream" + query)] + list(args), stdout=subprocess.PIPE)
        self.buf = b""
        self.headers = None

    def _fill(self, deadline):
        left = deadline - time.monotonic()
        if left <= 0 or not select.select([self.proc.stdout], [], [], left)[0]:
            raise TimeoutError
        chunk = os.read(self.proc.stdout.fileno(), 65536)
        if not chunk:
            raise EOFError
        self.buf += chunk

    def next(self, timeout=5.0):
        """The next message: a dict of its fields ("comment" for a comment-only one)."""
        deadline = time.monotonic() + timeout
        while self.headers is None:
            if b"\r\n\r\n" in self.buf:
                head, _, self.buf = self.buf.partition(b"\r\n\r\n")
                lines = head.decode().split("\r\n")
                self.status = int(lines[0].split()[1])
                self.headers = {k.strip().lower(): v.strip()
                                for k, _, v in (ln.partition(":") for ln in lines[1:])}
            else:
                self._fill(deadline)
        while b"\n\n" not in self.buf:
            self._fill(deadline)
        block, _, self.buf = self.buf.partition(b"\n\n")
        msg = {}
        for line in block.decode().split("\n"):
            if line.startswith(":"):
                msg["comment"] = line[1:].strip()
            else:
                k, _, v = line.partition(": ")
                msg[k] = v
        if "data" in msg:
            msg["json"] = json.loads(msg["data"])
        return msg

    def until(self, pred, timeout=5.0):
        deadline = time.monotonic() + timeout
        seen = []
        while True:
            m = self.next(max(0.01, deadline - time.monotonic()))
            seen.append(m)
            if pred(m):
                return m, seen

    def close(self):
        self.proc.kill()
        self.proc.wait()


def test_event_stream(http):
    s = Stream(http)
    try:
        first = s.next()
        assert s.status == 200 and s.headers["content-type"] == "text/event-stream"
        assert s.headers["cache-control"] == "no-store"
        assert first == {"retry": "2000"}
        m = s.next()
        assert m["event"] == "status" and "members" in m["json"]
        ids = [int(m["id"])]
        assert http.info()["streams"] == 1
        # an event as it is written
        assert http.d.ctl("setlog", "debug").returncode == 0
        ev, seen = s.until(lambda m: m.get("event") == "event")
        assert ev["json"]["type"] == "log" and ev["json"]["reason"] == "level"
        ids += [int(m["id"]) for m in seen]
        # a reload through the API is an event too
        r = http.d.request({"method": "config.set", "params": {"values": {"fiber.weight": 81}}})
        assert r["ok"]
        ev, seen = s.until(lambda m: m.get("event") == "event" and m["json"]["type"] == "config")
        assert ev["json"]["reason"] == "set" and "fiber.weight" in ev["json"]["message"]
        ids += [int(m["id"]) for m in seen]
        # periodic status samples, one a second
        t0 = time.monotonic()
        for _ in range(2):
            m, seen = s.until(lambda m: m.get("event") == "status", timeout=2.5)
            ids += [int(m["id"]) for m in seen]
        assert time.monotonic() - t0 < 3.5
        assert m["json"]["members"][0]["name"] == "fiber"
        assert ids == sorted(ids) and len(set(ids)) == len(ids)
    finally:
        s.close()
    deadline = time.monotonic() + 5
    while http.info()["streams"] and time.monotonic() < deadline:
        time.sleep(0.1)
    assert http.info()["streams"] == 0


def test_event_stream_without_samples_and_bad_parameters(http):
    s = Stream(http, "?samples=0")
    try:
        assert s.next() == {"retry": "2000"}
        assert s.next()["event"] == "status"
        with pytest.raises(TimeoutError):
            s.next(timeout=2.5)
        http.d.ctl("setlog", "warn")
        assert s.next()["json"]["reason"] == "level"
    finally:
        s.close()
    r = http.get("/api/events/stream?samples=2", timeout=3)
    assert r.status == 400 and "samples=0|1" in r.error()["message"]
    r = http.get("/api/events/stream?x=1", timeout=3)
    assert r.status == 400
    r = http.get("/api/events/stream", "-X", "POST", timeout=3)
    assert r.status == 405


def test_event_stream_keepalive(http):
    """A quiet stream (no samples, no events) still gets a comment every 15 s, so
    proxies and clients can tell it is alive; it is not timed out like a request."""
    s = Stream(http, "?samples=0")
    try:
        s.next()
        s.next()
        t0 = time.monotonic()
        assert s.next(timeout=20) == {"comment": "keepalive"}
        assert 14.5 < time.monotonic() - t0 < 17.5
    finally:
        s.close()


def test_event_stream_limit(http):
    streams = [Stream(http) for _ in range(8)]
    try:
        for s in streams:
            s.next()
        r = http.get("/api/events/stream", timeout=3)
        assert r.status == 503 and "at most 8" in r.error()["message"]
        assert http.info()["streams"] == 8
        streams.pop().close()
        deadline = time.monotonic() + 5
        while http.info()["streams"] == 8 and time.monotonic() < deadline:
            time.sleep(0.1)
        streams.append(Stream(http))
        assert streams[-1].next() == {"retry": "2000"}
    finally:
        for s in streams:
            s.close()


def test_stream_client_that_does_not_read(http):
    """It neither blocks the daemon nor makes it buffer without bound: once it is
    HTTP_STREAM_BUFFER behind, it is cut off."""
    lazy = socket.socket()
    lazy.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    lazy.connect(("127.0.0.1", http.port))
    lazy.sendall(b"GET /api/events/stream HTTP/1.1\r\nHost: x\r\n\r\n")
    deadline = time.monotonic() + 5
    while http.info()["streams"] != 1 and time.monotonic() < deadline:
        time.sleep(0.05)
    rss0 = rss_kb(http.d.proc.pid)
    req = "".join(json.dumps({"method": "action", "params": {"cmd": "set_level", "level": lvl}}) + "\n"
                  for lvl in ("debug", "info") * 250).encode()
    worst = 0.0
    with http.d.connect() as c:
        f = c.makefile("rb")
        for _ in range(150):        # up to 75000 events, about 11 MB of stream
            c.sendall(req)
            for _ in range(500):
                f.readline()
            t0 = time.monotonic()
            assert http.get("/api/status").status == 200
            worst = max(worst, time.monotonic() - t0)
            if "fell 256 KiB behind" in http.d.log():
                break
    assert "fell 256 KiB behind: disconnecting it" in http.d.log()
    assert worst < 1.0
    assert rss_kb(http.d.proc.pid) - rss0 < 4096
    deadline = time.monotonic() + 5
    while http.info()["streams"] and time.monotonic() < deadline:
        time.sleep(0.1)
    assert http.info()["streams"] == 0
    lazy.close()


def rss_kb(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


# ---- connections ------------------------------------------------------------------------

def test_idle_connections_time_out_and_the_limit_frees_up(http):
    idle = []
    for _ in range(32):
        s = socket.create_connection(("127.0.0.1", http.port))
        idle.append(s)
    time.sleep(0.5)
    t0 = time.monotonic()
    # all 32 slots are taken: the 33rd waits in the backlog
    r = http.get("/api/status", timeout=2)
    assert r.rc == 28, (r.rc, r.status)
    # silent clients are closed after 10 s, and then it is served
    r = http.get("/api/status", timeout=15)
    assert r.status == 200
    waited = time.monotonic() - t0
    assert 8.5 < waited < 14, waited
    for s in idle:
        s.settimeout(5)
        assert s.recv(100) == b""
        s.close()


# ---- /healthz and /metrics --------------------------------------------------------------

def promtool_check(text):
    r = subprocess.run(["promtool", "check", "metrics"], input=text, capture_output=True, text=True)
    assert r.returncode == 0 and not r.stdout.strip() and not r.stderr.strip(), r.stdout + r.stderr


def families(text):
    return {ln.split()[2] for ln in text.splitlines() if ln.startswith("# TYPE ")}


def test_healthz_without_a_usable_member(http):
    r = http.get("/healthz")
    assert r.status == 503 and r.json()["ok"] is False
    assert r.json()["reason"] in ("starting: the members are being measured, nothing is decided yet",
                                  "no member is active yet")
    time.sleep(3.5)
    r = http.get("/healthz")
    assert r.status == 503 and r.json()["reason"] == "no member is active yet"
    assert r.json()["state"] == "all-down"


@pytest.mark.skipif(not shutil.which("promtool"), reason="promtool not installed")
def test_metrics_without_a_usable_member(http):
    r = http.get("/metrics")
    assert r.status == 200
    assert r.headers["content-type"] == "text/plain; version=0.0.4; charset=utf-8"
    text = r.body.decode()
    promtool_check(text)
    assert {"autonomy_build_info", "process_start_time_seconds", "process_resident_memory_bytes",
            "process_cpu_seconds_total", "autonomy_state", "autonomy_member_status",
            "autonomy_member_eligible", "autonomy_member_probes_sent_total"} <= families(text)
    assert 'autonomy_member_status{member="fiber",class="wired",device="eth1",status="down"} 1' in text
    assert "autonomy_member_score" not in text      # never measured: left out, not 0


@needs_netns
@pytest.mark.skipif(not shutil.which("promtool"), reason="promtool not installed")
def test_healthz_transitions_and_metrics_of_a_live_member(tmp_path):
    # no default route yet: the member is down
    h = Http(tmp_path, members=LO_MEMBER, netns=True, setup=NETNS_SETUP[:2]).start()
    try:
        r = h.get("/healthz")
        assert r.status == 503 and r.json()["ok"] is False
        assert r.json()["reason"] in ("starting: the members are being measured, nothing is decided yet",
                                      "no member is active yet")
        subprocess.run(h.ns + ["ip", "route", "add", "default", "dev", "lo"], check=True)
        deadline = time.monotonic() + 15
        while h.get("/healthz").status != 200 and time.monotonic() < deadline:
            time.sleep(0.2)
        r = h.get("/healthz")
        assert r.status == 200, r.body
        assert r.json() == {"ok": True, "active": "loop", "state": "normal",
                            "uptime_s": r.json()["uptime_s"]}
        assert h.get("/healthz", "-I").status == 200

        # jitter needs a few replies
        deadline = time.monotonic() + 10
        text = h.get("/metrics").body.decode()
        while "autonomy_member_jitter_seconds" not in text and time.monotonic() < deadline:
            time.sleep(0.5)
            text = h.get("/metrics").body.decode()
        promtool_check(text)
        assert {"autonomy_member_score", "autonomy_member_latency_seconds",
                "autonomy_member_loss_ratio", "autonomy_member_jitter_seconds",
                "autonomy_member_active", "autonomy_switches_total",
                "autonomy_member_probe_sent_bytes_total"} <= families(text)
        labels = '{member="loop",class="wired",device="lo"}'
        assert "autonomy_member_active%s 1" % labels in text
        assert 'autonomy_switches_total{reason="initial"} 1' in text
        lat = [ln for ln in text.splitlines() if ln.startswith("autonomy_member_latency_seconds")]
        assert 0 <= float(lat[0].split()[1]) < 0.05

        # the member loses its default route: it is down, and so is health
        subprocess.run(h.ns + ["ip", "route", "del", "default", "dev", "lo"], check=True)
        deadline = time.monotonic() + 5
        while h.get("/healthz").status != 503 and time.monotonic() < deadline:
            time.sleep(0.1)
        r = h.get("/healthz")
        assert r.status == 503
        assert r.json()["reason"] == "the active member loop is down (every member is down)"
    finally:
        h.stop()


# ---- static files -----------------------------------------------------------------------

@pytest.fixture
def www(http):
    root = http.root
    (root / "sub").mkdir(parents=True)
    (root / "index.html").write_text("<!doctype html><title>autonomy</title>")
    (root / "app.js").write_text("console.log('plain');")
    subprocess.run(["gzip", "-k", str(root / "app.js")], check=True)
    (root / "manifest.webmanifest").write_text("{}")
    (root / "sub" / "index.html").write_text("sub")
    (root / ".hidden").write_text("secret")
    (root / "inside").symlink_to(root / "app.js")
    secret = http.d.dir / "outside.txt"
    secret.write_text("outside the root")
    (root / "outside").symlink_to(secret)
    (root / "outdir").symlink_to(http.d.dir)
    return http


def test_static_files(www):
    h = www
    r = h.get("/")
    assert r.status == 200 and r.body.startswith(b"<!doctype html>")
    assert r.headers["content-type"] == "text/html; charset=utf-8"
    assert r.headers["cache-control"] == "no-cache"
    assert r.headers["x-content-type-options"] == "nosniff"
    etag = r.headers["etag"]
    r = h.get("/", "-H", "If-None-Match: " + etag)
    assert r.status == 304 and r.body == b"" and r.headers["etag"] == etag
    r = h.get("/app.js")
    assert r.status == 200 and r.body == b"console.log('plain');"
    assert r.headers["content-type"] == "text/javascript; charset=utf-8"
    assert r.headers["vary"] == "Accept-Encoding" and "content-encoding" not in r.headers
    r = h.get("/app.js", "--compressed")
    assert r.status == 200 and r.headers["content-encoding"] == "gzip"
    assert r.body == b"console.log('plain');"
    assert r.headers["etag"] != etag
    assert h.get("/manifest.webmanifest").headers["content-type"] == "application/manifest+json"
    assert h.get("/inside").body == b"console.log('plain');"
    r = h.get("/sub")
    assert r.status == 301 and r.headers["location"] == "/sub/"
    assert h.get("/sub/").body == b"sub"
    assert h.get("/app.js", "-I").status == 200
    r = h.get("/app.js", "-X", "POST")
    assert r.status == 405 and r.headers["allow"] == "GET, HEAD"


def test_static_files_stay_inside_the_root(www):
    h = www
    for path in ("/../outside.txt", "/%2e%2e/outside.txt", "/sub/../../outside.txt",
                 "/.hidden", "/%2ehidden", "/outside", "/outdir/outside.txt", "//etc/passwd",
                 "/nothing.html", "/sub/%00.html", "/..%2foutside.txt", "/sub\\..\\app.js"):
        r = h.get(path, "--path-as-is")
        assert r.status == 404, path
        assert b"outside the root" not in r.body and b"secret" not in r.body, path
        assert r.error()["code"] == "not_found", path


def test_missing_root_is_a_clear_404(http):
    r = http.get("/")
    assert r.status == 404
    assert r.error()["message"] == ("the dashboard is not installed: http_root %s is not a directory"
                                    % http.root)


# ---- the whole server under valgrind ----------------------------------------------------

@pytest.mark.skipif(shutil.which("valgrind") is None, reason="valgrind not installed")
def test_no_leaks_under_valgrind(tmp_path):
    h = Http(tmp_path, extra=f"\toption http_token '{TOKEN}'\n",
             wrapper=["valgrind", "--leak-check=full", "--show-leak-kinds=definite,indirect",
                      "--errors-for-leak-kinds=definite,indirect", "--error-exitcode=99", "-q"])
    h.start(timeout=60)
    (h.root).mkdir()
    (h.root / "index.html").write_text("x")
    for path in ("/api/status", "/api/members", "/api/events?limit=3", "/metrics", "/healthz",
                 "/", "/nothing", "/api/nope", "/api/events?limit=x"):
        assert h.get(path, timeout=30).status is not None, path
    h.post("/api/action", '{"cmd":"recheck"}', *AUTH, timeout=30)
    h.post("/api/action", "{bad", *AUTH, timeout=30)
    h.post("/api/events", "x" * 70000, timeout=30)
    s = Stream(h)
    assert s.next(timeout=30) == {"retry": "2000"}
    h.d.ctl("setlog", "info")
    s.until(lambda m: m.get("event") == "event", timeout=30)
    new = free_port()
    h.post("/api/config.set", json.dumps({"values": {"main.http_port": new}}), *AUTH, timeout=30)
    h.port = new
    deadline = time.monotonic() + 30
    while h.info()["port"] != new and time.monotonic() < deadline:
        time.sleep(0.2)
    s.close()
    s = Stream(h)          # left open: the daemon closes it at stop
    assert s.next(timeout=30) == {"retry": "2000"}
    assert h.d.stop(timeout=120) == 0, h.d.log()
    s.close()
