"""Notifications of the real daemon, delivered to real local servers the test
starts: an HTTP receiver that records every request (standing in for the
webhook, ntfy, Pushover and Telegram APIs at their configurable base URL) and
an SMTP sink (aiosmtpd, with and without STARTTLS).

Tests that need real events (members going down and up, switches) run the
daemon in a private network namespace (unshare -n) where a member on `lo` is
up, as tests/system/test_http.py does; the receiver's listening socket is made
inside that namespace by a thread that joined it (setns). Nothing on the host
changes. Ports are random; everything lives in temporary directories."""
import ctypes
import hashlib
import hmac
import http.server
import json
import os
import random
import shutil
import signal
import socket
import ssl
import subprocess
import threading
import time
import urllib.parse

import pytest

from conftest import Daemon

KEY = "webhook-k3y-0123456789"
CLONE_NEWNET = 0x40000000
NETNS_SETUP = ["ip link set lo up", "ip addr add 10.9.9.9/32 dev lo",
               "ip route add default dev lo"]
LO_MEMBERS = """
config member 'a'
	option device 'lo'
	option weight '200'
	list target '127.0.0.1'

config member 'b'
	option device 'lo'
	list target '127.0.0.1'
"""

needs_netns = pytest.mark.skipif(
    os.geteuid() != 0 or not all(shutil.which(t) for t in ("unshare", "nsenter", "ip")),
    reason="needs root, unshare, nsenter and iproute2")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# Daemons that only get `notify test` listen to no event (with no members
# configured, discovered ones would report going down).
QUIET = "\toption notify_events 'crash'\n"


def main_section(extra=""):
    return ("config autonomy 'main'\n\toption controller 'none'\n\toption http_listen ''\n"
            "\toption min_uptime_s '0'\n\toption restore_min_duration_s '0'\n"
            "\toption cooldown_s '0'\n\toption fail_min_duration_s '0'\n" + extra)


def notifier(name, type_, **opts):
    text = f"\nconfig notifier '{name}'\n\toption type '{type_}'\n"
    for k, v in opts.items():
        text += f"\toption {k} '{v}'\n"
    return text


class Receiver:
    """An HTTP server on 127.0.0.1:port (in the network namespace of process
    netns_pid, if given) that records requests and answers with .status. With
    .hang set, it answers only when .release is set (or after 60 s)."""

    def __init__(self, port=None, netns_pid=None):
        self.port = port or free_port()
        self.netns_pid = netns_pid
        self.requests = []
        self.status = 200
        self.answer = b'{"ok":true}'
        self.hang = False
        self.release = threading.Event()
        self.server = None
        self.lock = threading.Lock()

    def _handler(self):
        rec = self

        class H(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                n = int(self.headers.get("Content-Length", 0))
                body = self.rfile.read(n)
                with rec.lock:
                    rec.requests.append({"method": "POST", "path": self.path,
                                         "headers": {k.lower(): v for k, v in self.headers.items()},
                                         "body": body, "t": time.monotonic()})
                if rec.hang:
                    rec.release.wait(60)
                self.send_response(rec.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(rec.answer)))
                self.end_headers()
                self.wfile.write(rec.answer)

            def log_message(self, *args):
                pass
        return H

    def start(self):
        ready, err = threading.Event(), []

        def run():
            try:
                if self.netns_pid:
                    libc = ctypes.CDLL(None, use_errno=True)
                    fd = os.open(f"/proc/{self.netns_pid}/ns/net", os.O_RDONLY)
                    if libc.setns(fd, CLONE_NEWNET) != 0:
                        raise OSError(ctypes.get_errno(), "setns")
                    os.close(fd)
                http.server.ThreadingHTTPServer.allow_reuse_address = True
                self.server = http.server.ThreadingHTTPServer(("127.0.0.1", self.port),
                                                              self._handler())
                self.server.daemon_threads = True
            except Exception as e:  # reported to the caller
                err.append(e)
                ready.set()
                return
            ready.set()
            self.server.serve_forever(poll_interval=0.05)
        threading.Thread(target=run, daemon=True).start()
        ready.wait(10)
        if err:
            raise err[0]
        return self

    def stop(self):
        if self.server:
            self.release.set()
            self.server.shutdown()
            self.server.server_close()
            self.server = None

    def got(self):
        with self.lock:
            return list(self.requests)

    def wait(self, n, timeout=10.0):
        deadline = time.monotonic() + timeout
        while len(self.got()) < n and time.monotonic() < deadline:
            time.sleep(0.05)
        return self.got()

    def bodies(self):
        return [json.loads(r["body"]) for r in self.got()]


def check_signature(req, key=KEY):
    ts = req["headers"]["x-autonomy-timestamp"]
    want = hmac.new(key.encode(), ts.encode() + b"." + req["body"], hashlib.sha256).hexdigest()
    assert req["headers"]["x-autonomy-signature"] == "sha256=" + want
    assert abs(int(ts) - time.time()) < 60


# ---- notify test, one channel of each kind, in the host namespace ----------------------

@pytest.fixture
def recv():
    r = Receiver().start()
    yield r
    r.stop()


def start_daemon(tmp_path, conf, wrapper=()):
    return Daemon(tmp_path, conf, wrapper=wrapper).start()


def stop_daemon(d):
    rc = d.stop()
    assert rc == 0, d.log()
    return d.log()


def test_notify_test_every_http_channel(tmp_path, recv):
    base = f"http://127.0.0.1:{recv.port}"
    conf = (main_section(QUIET) +
            notifier("hook", "webhook", url=base + "/in/hook", token=KEY) +
            notifier("phone", "ntfy", url=base + "/ntfy/", to="router-alerts", token="tk_ntfy") +
            notifier("po", "pushover", url=base, to="uKEY123", token="aTOKEN456") +
            notifier("tg", "telegram", url=base, to="-100123", token="123:BOTSECRET") +
            notifier("off", "webhook", url=base + "/off", enabled="0"))
    d = start_daemon(tmp_path, conf)
    try:
        r = d.ctl("notify", "test")
        assert r.returncode == 0, r.stdout + r.stderr + d.log()
        lines = sorted(r.stdout.splitlines())
        assert [ln.split(":")[0] for ln in lines] == ["hook", "phone", "po", "tg"]
        assert all(": delivered: HTTP 200: {\"ok\":true}" in ln for ln in lines), lines
        reqs = {q["path"].split("/")[1]: q for q in recv.wait(4)}
        assert len(recv.got()) == 4

        hook = reqs["in"]
        assert hook["method"] == "POST" and hook["path"] == "/in/hook"
        assert hook["headers"]["content-type"] == "application/json"
        check_signature(hook)
        body = json.loads(hook["body"])
        assert body["event"] == "test" and body["priority"] == "normal"
        assert "test message" in body["title"] and "'hook'" in body["message"]
        assert body["host"] == socket.gethostname()

        ntfy = reqs["ntfy"]
        assert ntfy["path"] == "/ntfy/"
        assert ntfy["headers"]["authorization"] == "Bearer tk_ntfy"
        body = json.loads(ntfy["body"])
        assert body["topic"] == "router-alerts" and body["priority"] == 3
        assert body["tags"] == ["test"] and "test message" in body["title"]

        po = reqs["1"]
        assert po["path"] == "/1/messages.json"
        assert po["headers"]["content-type"] == "application/x-www-form-urlencoded"
        form = urllib.parse.parse_qs(po["body"].decode())
        assert form["token"] == ["aTOKEN456"] and form["user"] == ["uKEY123"]
        assert form["priority"] == ["0"] and "'po'" in form["message"][0]

        tg = reqs["bot123:BOTSECRET"]
        assert tg["path"] == "/bot123:BOTSECRET/sendMessage"
        body = json.loads(tg["body"])
        assert body["chat_id"] == "-100123" and body["disable_notification"] is False
        assert "test message" in body["text"]

        # one channel by name; a disabled or unknown one is an error
        r = d.ctl("--json", "notify", "test", "phone")
        assert r.returncode == 0 and json.loads(r.stdout)[0]["state"] == "delivered"
        r = d.ctl("notify", "test", "off")
        assert r.returncode == 1 and "disabled" in r.stderr
        r = d.ctl("notify", "test", "nope")
        assert r.returncode == 1 and "no notifier named 'nope'" in r.stderr

        # secrets never in config.get, info or the log
        cfg = json.dumps(d.request({"method": "config.get"}))
        info = json.dumps(d.request({"method": "info"})["notify"])
        log = stop_daemon(d)
        for secret in (KEY, "tk_ntfy", "aTOKEN456", "BOTSECRET"):
            assert secret not in cfg and secret not in info and secret not in log
        assert '"token": "********"' in cfg
    finally:
        d.stop()


def test_notify_test_reports_the_channels_error(tmp_path, recv):
    recv.status = 401
    recv.answer = b'{"ok":false,"description":"Unauthorized"}'
    conf = (main_section(QUIET + "\toption notify_timeout_s '2'\n\toption notify_deadline_s '5'\n") +
            notifier("tg", "telegram", url=f"http://127.0.0.1:{recv.port}", to="1", token="x") +
            notifier("nobody", "webhook", url=f"http://127.0.0.1:{free_port()}/x") +
            notifier("half", "pushover", to="u") +
            notifier("ftp", "webhook", url="ftp://127.0.0.1/x"))
    d = start_daemon(tmp_path, conf)
    try:
        r = d.ctl("notify", "test", "tg")
        assert r.returncode == 1
        assert r.stdout.startswith("tg: sending (attempt ") or r.stdout.startswith("tg: failed: ")
        assert "HTTP 401: {\"ok\":false,\"description\":\"Unauthorized\"}" in r.stdout
        r = d.ctl("notify", "test", "nobody")
        assert r.returncode == 1 and "Failed to connect to 127.0.0.1" in r.stdout, r.stdout
        r = d.ctl("notify", "test", "half")
        assert r.returncode == 1
        assert "Pushover needs the user key in 'to' and the app token in 'token'" in r.stderr
        info = d.request({"method": "info"})["notify"]
        assert {"name": "half", "type": "pushover", "enabled": True,
                "problem": "Pushover needs the user key in 'to' and the app token in 'token'"} \
            in info["notifiers"]
        assert {"name": "ftp", "type": "webhook", "enabled": True,
                "problem": "url must start with http:// or https://"} in info["notifiers"]
        assert "notify: notifier 'ftp' sends nothing: url must start with http:// or https://" \
            in d.log()
        # the failed messages give up at their deadline, each with one line
        assert d.wait_log("notify: nobody: message", 10)
        deadline = time.monotonic() + 10
        while "dropped after" not in d.log() and time.monotonic() < deadline:
            time.sleep(0.2)
        assert "notify: nobody: message 2 dropped after" in d.log()
        status = d.request({"method": "notify.status", "params": {"id": 2}})
        assert status["state"] == "failed" and "Failed to connect" in status["answer"]
        err = d.request({"method": "notify.status", "params": {"id": 999}})["error"]
        assert err["code"] == "invalid_argument"
    finally:
        stop_daemon(d)


def test_config_errors_and_reload(tmp_path, recv):
    bad = (main_section("\toption notify_events 'failover:loud'\n"
                        "\toption notify_quiet_hours '22-7'\n") +
           notifier("a", "webhook", url="http://127.0.0.1:1/") +
           "\nconfig notifier 'y'\n\toption url 'http://h/'\n")
    p = tmp_path / "bad.conf"
    p.write_text(bad)
    from conftest import AUTONOMYD
    r = subprocess.run([AUTONOMYD, "--check", "-c", str(p)], capture_output=True, text=True)
    assert r.returncode == 1
    assert "notify_events: 'failover': priority 'loud' is not one of low, normal, high, urgent" \
        in r.stderr
    assert "notify_quiet_hours: '22-7' is not a time span like 22:00-07:00" in r.stderr
    assert "notifier 'y': option 'type' is required" in r.stderr

    d = start_daemon(tmp_path, main_section() + notifier("hook", "webhook", url="http://127.0.0.1:1/"))
    try:
        res = d.request({"method": "config.set", "params": {"values": {"main.notify_events": "boot"}}})
        assert "'boot' is not one of failover, failback" in res["error"]["message"]
        res = d.request({"method": "config.set", "params": {"values": {"hook.type": "sms"}}})
        assert res["error"]["field"] == "hook.type"
        res = d.request({"method": "config.set", "params": {"values": {
            "hook.token": "n3w-secret", "main.notify_cooldown_s": 5,
            "hook.url": f"http://127.0.0.1:{recv.port}/new"}}})
        assert res["ok"], res
        assert d.request({"method": "config.get"})["values"]["hook"]["token"] == "********"
        # applied without a restart: the new URL and key
        r = d.ctl("notify", "test", "hook")
        assert r.returncode == 0, r.stdout + r.stderr
        assert recv.got()[0]["path"] == "/new"
        check_signature(recv.got()[0], "n3w-secret")
        # a notifier added by editing the file and SIGHUP
        d.conf.write_text(d.conf.read_text() + notifier("second", "ntfy", to="t",
                                                        url=f"http://127.0.0.1:{recv.port}"))
        d.proc.send_signal(signal.SIGHUP)
        assert d.wait_log("configuration reloaded", 5)
        r = d.ctl("notify", "test", "second")
        assert r.returncode == 0 and len(recv.wait(2)) == 2, r.stdout + r.stderr
    finally:
        log = stop_daemon(d)
    assert "n3w-secret" not in log


# ---- e-mail ----------------------------------------------------------------------------

def smtp_sink(port, tls_context=None):
    from aiosmtpd.controller import Controller

    class Sink:
        def __init__(self):
            self.mails = []

        async def handle_DATA(self, server, session, envelope):
            self.mails.append({"from": envelope.mail_from, "to": envelope.rcpt_tos,
                               "data": envelope.content, "tls": session.ssl is not None,
                               "login": session.authenticated})
            return "250 OK queued as 4711"

    sink = Sink()
    kw = {}
    if tls_context:
        kw = {"tls_context": tls_context, "require_starttls": True,
              "auth_require_tls": True, "auth_required": True,
              "authenticator": lambda server, session, envelope, mechanism, auth_data:
                  __import__("aiosmtpd.smtp").smtp.AuthResult(
                      success=auth_data.login == b"router" and auth_data.password == b"pa55")}
    c = Controller(sink, hostname="127.0.0.1", port=port, **kw)
    c.start()
    return c, sink


def test_email_plain_and_starttls(tmp_path):
    pytest.importorskip("aiosmtpd")
    # a CA-less self-signed certificate for 127.0.0.1
    key, crt = tmp_path / "key.pem", tmp_path / "crt.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                    "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
                    "-keyout", str(key), "-out", str(crt)], check=True, capture_output=True)
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(str(crt), str(key))
    p1, p2 = free_port(), free_port()
    c1, plain = smtp_sink(p1)
    c2, secure = smtp_sink(p2, ctx)
    conf = (main_section(QUIET + "\toption notify_timeout_s '5'\n\toption notify_deadline_s '8'\n") +
            notifier("relay", "email", url=f"smtp://127.0.0.1:{p1}", starttls="0",
                     to="ops@example.net", **{"from": "router@example.net"}) +
            notifier("mail", "email", url=f"smtp://127.0.0.1:{p2}", cafile=str(crt),
                     user="router", token="pa55", to="me@example.net",
                     **{"from": "router@example.net"}) +
            notifier("untrusted", "email", url=f"smtp://127.0.0.1:{p2}",
                     to="me@example.net", **{"from": "router@example.net"}))
    d = start_daemon(tmp_path, conf)
    try:
        r = d.ctl("notify", "test", "relay")
        assert r.returncode == 0, r.stdout + r.stderr
        assert r.stdout == "relay: delivered: SMTP 250: message accepted\n"
        m = plain.mails[0]
        assert m["from"] == "router@example.net" and m["to"] == ["ops@example.net"]
        text = m["data"].decode()
        assert "Subject: [normal] " in text and "test message" in text
        assert "X-Autonomy-Event: test" in text and "\r\n\r\nA test of the notifier 'relay'" in text
        assert not m["tls"]

        r = d.ctl("notify", "test", "mail")
        assert r.returncode == 0, r.stdout + r.stderr
        m = secure.mails[0]
        assert m["tls"] and m["login"] and m["to"] == ["me@example.net"]

        # the server's certificate is not trusted without cafile: not sent
        r = d.ctl("notify", "test", "untrusted")
        assert r.returncode == 1 and len(secure.mails) == 1
        assert "certificate" in r.stdout.lower() or "ssl" in r.stdout.lower(), r.stdout
    finally:
        log = stop_daemon(d)
        c1.stop()
        c2.stop()
    assert "pa55" not in log


# ---- rules and delivery on real events (private network namespace) --------------------

class NsDaemon:
    """The daemon in its own network namespace with members a (preferred) and b
    on lo, and a receiver inside that namespace."""

    def __init__(self, tmp_path, extra="", notifiers=None, recv_up=True):
        self.port = random.randint(20000, 60000)
        self.url = f"http://127.0.0.1:{self.port}/hook"
        n = notifiers if notifiers is not None else notifier("hook", "webhook", url=self.url, token=KEY)
        wrapper = ["unshare", "--net", "sh", "-ec", "; ".join(NETNS_SETUP) + '; exec "$@"', "sh"]
        self.d = Daemon(tmp_path, main_section(extra) + LO_MEMBERS + n, wrapper=wrapper).start()
        self.ns = ["nsenter", f"--net=/proc/{self.d.proc.pid}/ns/net"]
        self.recv = Receiver(self.port, self.d.proc.pid)
        if recv_up:
            self.recv.start()

    def ip(self, *args):
        subprocess.run(self.ns + ["ip"] + list(args), check=True)

    def wait_active(self, name, timeout=15):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.d.request({"method": "status"})["active"] == name:
                return
            time.sleep(0.1)
        raise AssertionError(f"{name} never became active: " + self.d.log())

    def events(self):
        return [b["event"] for b in self.recv.bodies()]

    def stop(self):
        rc = self.d.stop()
        self.recv.stop()
        assert rc == 0, self.d.log()
        return self.d.log()


@needs_netns
def test_events_cooldown_digest_and_hmac(tmp_path):
    n = NsDaemon(tmp_path, "\toption notify_events 'failover:urgent failback member_down member_up:low'\n"
                           "\toption notify_cooldown_s '4'\n")
    try:
        n.wait_active("a")
        # the start: both members come up (member_up), the initial choice is no failover
        got = n.recv.wait(1)
        time.sleep(1)
        assert n.events() == ["member_up"], n.recv.bodies()
        up = n.recv.bodies()[0]
        assert up["priority"] == "low" and up["reason"] == "up" and up["from"] in ("a", "b")
        check_signature(n.recv.got()[0])
        # the other member_up was held by the cooldown and comes as a digest
        got = n.recv.wait(2, timeout=8)
        assert n.events() == ["member_up", "member_up"]
        digest = n.recv.bodies()[1]
        assert "digest of member_up events" in digest["title"]
        assert digest["message"].startswith("1 member_up event held back")

        assert n.d.ctl("failover", "b").returncode == 0
        n.wait_active("b")
        got = n.recv.wait(3)
        fo = n.recv.bodies()[2]
        assert (fo["event"], fo["priority"], fo["from"], fo["to"], fo["reason"]) == \
            ("failover", "urgent", "a", "b", "manual")
        assert "failover to b" in fo["title"] and "a -> b (manual)" in fo["message"]
        check_signature(got[2])
        assert n.d.ctl("restore").returncode == 0
        n.wait_active("a")
        got = n.recv.wait(4)
        fb = n.recv.bodies()[3]
        assert (fb["event"], fb["priority"], fb["from"], fb["to"], fb["reason"]) == \
            ("failback", "normal", "b", "a", "failback")
    finally:
        n.stop()


@needs_netns
def test_cap_dedup_and_digest(tmp_path):
    # no cooldown: only the cap and de-duplication hold messages back
    n = NsDaemon(tmp_path, "\toption notify_events 'failover failback member_down member_up'\n"
                           "\toption notify_cooldown_s '0'\n\toption notify_max_per_hour '4'\n"
                           "\toption notify_dedup_s '3600'\n")
    try:
        n.wait_active("a")
        n.recv.wait(2)
        assert sorted(b["from"] for b in n.recv.bodies()) == ["a", "b"]   # both up
        # both go down (messages 3 and 4: the cap is full) and up again
        n.ip("route", "del", "default", "dev", "lo")
        n.recv.wait(3)
        time.sleep(2)
        # two member_down within the cap (3rd and 4th message), then the cap is full
        assert n.events().count("member_down") == 2, n.events()
        n.ip("route", "add", "default", "dev", "lo")
        n.wait_active("a")
        time.sleep(2)
        assert len(n.recv.got()) == 4, n.events()
        # of the two member_up: one repeats the last message of its type (dropped),
        # the other is held by the cap (for a digest once the hour frees a slot)
        info = n.d.request({"method": "info"})["notify"]
        assert (info["sent"], info["held"], info["duplicates"]) == (4, 1, 1), info
        assert "notify: member_up not sent now (hourly cap)" in n.d.log()
        assert "notify: member_up not sent now (duplicate)" in n.d.log()
    finally:
        n.stop()


@needs_netns
def test_retry_after_the_receiver_comes_back_over_the_new_uplink(tmp_path):
    n = NsDaemon(tmp_path, "\toption notify_events 'failover'\n\toption notify_timeout_s '2'\n"
                           "\toption notify_deadline_s '120'\n", recv_up=False)
    try:
        n.wait_active("a")
        assert n.d.ctl("failover", "b").returncode == 0
        assert n.d.wait_log("notify: hook: message 1 attempt 1 failed (Failed to connect", 5), n.d.log()
        # attempts 2 (after 2 s) and 3 (after 4 s more) fail too
        assert n.d.wait_log("attempt 2 failed", 6)
        n.recv.start()
        # the next try would be 8 s later; a switch sends at once (the new uplink)
        t0 = time.monotonic()
        assert n.d.ctl("restore").returncode == 0
        got = n.recv.wait(1, timeout=5)
        assert got and time.monotonic() - t0 < 4, n.d.log()
        assert n.recv.bodies()[0]["to"] == "b"
        assert n.d.wait_log("notify: hook: message 1 delivered (HTTP 200", 5)
    finally:
        n.stop()


@needs_netns
def test_a_receiver_that_hangs_never_blocks(tmp_path):
    n = NsDaemon(tmp_path, "\toption notify_events 'failover failback'\n\toption notify_timeout_s '2'\n"
                           "\toption notify_deadline_s '5'\n")
    n.recv.hang = True
    try:
        n.wait_active("a")
        assert n.d.ctl("failover", "b").returncode == 0
        n.recv.wait(1)
        # while the receiver holds the request, the daemon answers and decides
        worst = 0
        for _ in range(20):
            t = time.monotonic()
            r = n.d.ctl("status")
            worst = max(worst, time.monotonic() - t)
            assert r.returncode == 0
            time.sleep(0.1)
        assert worst < 0.5, worst
        assert n.d.ctl("restore").returncode == 0
        n.wait_active("a")
        # attempts time out after 2 s and are retried until the 5 s deadline
        deadline = time.monotonic() + 15
        while "dropped after" not in n.d.log() and time.monotonic() < deadline:
            time.sleep(0.2)
        log = n.d.log()
        assert "notify: hook: message 1 attempt 1 failed (Operation timed out" in log, log
        assert "notify: hook: message 1 dropped after" in log
        assert len(n.recv.got()) >= 2
    finally:
        n.recv.release.set()
        n.stop()


def test_start_after_a_crash_notifies(tmp_path, recv):
    conf = (main_section("\toption notify_events 'crash:urgent'\n") +
            notifier("hook", "webhook", url=f"http://127.0.0.1:{recv.port}/c", token=KEY))
    d = start_daemon(tmp_path, conf)
    stop_daemon(d)                     # clean: no message at the next start
    state = json.loads((d.state / "state.json").read_text())
    assert state["clean_stop"] is True
    d.start()
    time.sleep(2)
    assert recv.got() == []
    d.proc.send_signal(signal.SIGKILL)
    d.proc.wait()
    d.start()
    got = recv.wait(1, timeout=5)
    stop_daemon(d)
    assert len(got) == 1
    body = json.loads(got[0]["body"])
    assert body["event"] == "crash" and body["priority"] == "urgent"
    assert "did not stop cleanly" in body["message"]


# ---- dish alerts (the lab's dish simulator on 127.0.0.1) -------------------------------

DISHSIM = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "lab", "dishsim.py")


class DishSim:
    def __init__(self, tmp_path):
        self.state = str(tmp_path / "dish.json")
        self.proc = subprocess.Popen(
            ["/usr/bin/python3", DISHSIM, "serve", "--listen", "127.0.0.1:0", "--state", self.state,
             "--log", str(tmp_path / "dishsim.log")], stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        line = self.proc.stdout.readline().decode()
        assert line.startswith("dishsim: listening on 127.0.0.1:"), line
        self.port = int(line.strip().rsplit(":", 1)[1])

    def set(self, *spec):
        subprocess.run(["/usr/bin/python3", DISHSIM, "set", "--state", self.state, *spec],
                       check=True, capture_output=True, timeout=30)

    def stop(self):
        self.proc.terminate()
        self.proc.wait(10)


def test_new_dish_alerts_notify_once(tmp_path, recv):
    pytest.importorskip("grpc", reason="the dish simulator needs python3-grpcio")
    pytest.importorskip("grpc_tools", reason="the dish simulator needs python3-grpc-tools")
    sim = DishSim(tmp_path)
    sim.set("alert", "thermal_throttle")
    conf = (main_section("\toption notify_events 'dish_alert:high'\n\toption notify_cooldown_s '0'\n"
                         "\toption dish_poll_ms '200'\n") +
            f"\nconfig member 'sl'\n\toption device 'lo'\n\toption class 'starlink'\n"
            f"\toption dish '127.0.0.1:{sim.port}'\n\tlist target '127.0.0.1'\n" +
            notifier("hook", "webhook", url=f"http://127.0.0.1:{recv.port}/dish"))
    d = start_daemon(tmp_path, conf)
    try:
        got = recv.wait(1, timeout=10)
        assert len(got) == 1, d.log()
        b = json.loads(got[0]["body"])
        assert (b["event"], b["priority"], b["from"], b["reason"]) == \
            ("dish_alert", "high", "sl", "thermal_throttle")
        assert "dish alert on sl: thermal_throttle" in b["title"]
        assert "X-Autonomy-Signature".lower() not in got[0]["headers"]   # no token: unsigned
        # a second alert appears: only it is new
        sim.set("alert", "thermal_throttle", "alert", "roaming")
        got = recv.wait(2, timeout=10)
        assert [json.loads(g["body"])["reason"] for g in got] == ["thermal_throttle", "roaming"]
        time.sleep(6)
        assert len(recv.got()) == 2
        # roaming clears and comes back: a repeat of the last message, dropped
        sim.set("clear")
        time.sleep(6)
        sim.set("alert", "roaming")
        assert d.wait_log("notify: dish_alert not sent now (duplicate): sl: the Starlink dish "
                          "reports the alert roaming", 10), d.log()
        assert len(recv.got()) == 2
    finally:
        stop_daemon(d)
        sim.stop()


@pytest.mark.skipif(shutil.which("valgrind") is None, reason="valgrind not installed")
def test_no_leaks_under_valgrind(tmp_path, recv):
    conf = (main_section(QUIET + "\toption notify_timeout_s '2'\n\toption notify_deadline_s '5'\n") +
            notifier("hook", "webhook", url=f"http://127.0.0.1:{recv.port}/v", token=KEY) +
            notifier("gone", "ntfy", url=f"http://127.0.0.1:{free_port()}", to="t"))
    d = Daemon(tmp_path, conf, wrapper=["valgrind", "--leak-check=full",
                                        "--show-leak-kinds=definite,indirect",
                                        "--errors-for-leak-kinds=definite,indirect",
                                        "--error-exitcode=99", "-q"]).start(timeout=60)
    r = d.ctl("--timeout", "30", "notify", "test")
    assert "hook: delivered" in r.stdout, r.stdout + r.stderr
    assert "gone: " in r.stdout
    # one still waiting for a retry at stop: dropped, freed
    d.request({"method": "notify.test", "params": {"channel": "gone"}})
    assert d.stop(timeout=120) == 0, d.log()
    assert "undelivered message" in d.log()
