"""Fixtures that run the real autonomyd on a temporary config and state dir."""
import json
import os
import signal
import socket
import subprocess
import time

import pytest

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BUILD = os.path.join(ROOT, "build")
AUTONOMYD = os.path.join(BUILD, "autonomyd")
AUTONOMYCTL = os.path.join(BUILD, "autonomyctl")

# The devices do not exist on the test host, and the controller only observes:
# these tests must never touch the host's routes. HTTP is off (it would take the
# host's port 8080); tests/system/test_http.py gives each daemon a free port.
BASE_CONFIG = """\
config autonomy 'main'
	option log_level 'info'
	option controller 'none'
	option http_listen ''

config member 'fiber'
	option device 'eth1'
	option weight '80'

config member 'lte'
	option device 'wwan0'
	option metered '1'
	list target '1.1.1.1'
	list target '9.9.9.9'
"""


class Daemon:
    def __init__(self, tmp_path, config=BASE_CONFIG, wrapper=()):
        self.dir = tmp_path
        self.conf = tmp_path / "autonomy.conf"
        self.state = tmp_path / "state"
        self.sock = str(self.state / "autonomy.sock")
        self.logfile = tmp_path / "autonomyd.log"
        self.conf.write_text(config)
        self.wrapper = list(wrapper)
        self.proc = None

    def start(self, timeout=10.0):
        log = open(self.logfile, "ab")
        self.proc = subprocess.Popen(
            self.wrapper + [AUTONOMYD, "-f", "-c", str(self.conf), "-s", str(self.state)],
            stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("autonomyd exited: " + self.log())
            try:
                self.request({"method": "info"})
                return self
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("autonomyd did not answer: " + self.log())

    def stop(self, sig=signal.SIGTERM, timeout=60):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(sig)
            self.proc.wait(timeout)
        return self.proc.returncode

    def log(self):
        return self.logfile.read_text(errors="replace") if self.logfile.exists() else ""

    def connect(self):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(15)
        s.connect(self.sock)
        return s

    def request(self, req):
        with self.connect() as s:
            s.sendall((json.dumps(req) + "\n").encode())
            return json.loads(read_line(s))

    def ctl(self, *args, stdin=None):
        return subprocess.run([AUTONOMYCTL, "--socket", self.sock] + list(args),
                              input=stdin, capture_output=True, text=True, timeout=30)

    def wait_log(self, text, timeout=5.0):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if text in self.log():
                return True
            time.sleep(0.05)
        return False


def read_line(s):
    buf = b""
    while not buf.endswith(b"\n"):
        chunk = s.recv(65536)
        if not chunk:
            break
        buf += chunk
    return buf.decode()


@pytest.fixture
def daemon(tmp_path):
    d = Daemon(tmp_path).start()
    yield d
    rc = d.stop()
    assert rc == 0, d.log()


def pytest_configure(config):
    config.addinivalue_line("markers", "conf(text): extra options for the lab's main section")
    config.addinivalue_line("markers", "members(dict): extra options per lab member section")
